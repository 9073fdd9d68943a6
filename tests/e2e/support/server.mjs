// Starts and stops a real haven-server for the browser tests: its own temporary config, a
// free loopback port, the built web client as static_dir, guests on, and a fixed guest
// secret so guest passes survive a restart. Extra [auth] and [moderation] keys (a JWT secret,
// the crisis phrase lists) come from the `auth` and `moderation` options.
import { spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "..", "..", "..");

export function serverBinary() {
  return resolve(process.env.HAVEN_SERVER ?? join(repoRoot, "build", "haven-server"));
}

export function webDist() {
  return resolve(process.env.HAVEN_WEB_DIST ?? join(repoRoot, "client-web", "dist"));
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function toml(value) {
  return JSON.stringify(value);  // TOML basic strings accept JSON string escapes
}

const entry = ([key, value]) => `${key} = ${typeof value === "string" ? toml(value) : value}`;

/** An HS256 JWT as an operator's identity system would sign it (claims: sub, name, role, exp ...). */
export function mintToken(secret, claims) {
  const part = (object) => Buffer.from(JSON.stringify(object)).toString("base64url");
  const body = { exp: Math.floor(Date.now() / 1000) + 3600, ...claims };
  const input = `${part({ alg: "HS256", typ: "JWT" })}.${part(body)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

export class HavenServer {
  constructor({ port, binary = serverBinary(), staticDir = webDist(), rooms, limits = {}, history = {}, auth = {}, moderation = {}, safety = {} }) {
    this.port = port;
    this.binary = binary;
    this.staticDir = staticDir;
    this.dir = mkdtempSync(join(tmpdir(), "haven-e2e-"));
    this.configPath = join(this.dir, "haven.toml");
    this.rooms = rooms;
    this.limits = limits;
    this.history = history;
    this.auth = auth;
    this.moderation = moderation;
    this.safety = safety;
    this.process = null;
    this.log = "";
    this.writeConfig();
  }

  get url() {
    return `http://127.0.0.1:${this.port}/`;
  }

  writeConfig() {
    const lines = [
      "[server]",
      `address = "127.0.0.1"`,
      `port = ${this.port}`,
      `shards = 2`,
      `static_dir = ${toml(this.staticDir)}`,
      `allowed_origins = []`,
      "[limits]",
      ...Object.entries(this.limits).map(([key, value]) => `${key} = ${value}`),
      "[history]",
      ...Object.entries(this.history).map(([key, value]) => `${key} = ${value}`),
      "[auth]",
      `guest_enabled = true`,
      `guest_secret = "haven-e2e-fixed-guest-secret-0123456789"`,
      ...Object.entries(this.auth).map(entry),
      "[moderation]",
      ...Object.entries(this.moderation).map(entry),
      "[safety]",
      ...Object.entries(this.safety).map(entry),
      "[broker]",
      `kind = "memory"`,
      "[log]",
      `level = "warn"`,
    ];
    for (const room of this.rooms) {
      lines.push("[[rooms]]");
      for (const pair of Object.entries(room)) lines.push(entry(pair));
    }
    writeFileSync(this.configPath, `${lines.join("\n")}\n`);
    // A shorter SIGTERM drain keeps the restart test quick, where this server knows the option.
    const withDrain = lines.slice();
    withDrain.splice(withDrain.indexOf("[limits]"), 0, "drain_grace_ms = 400");
    writeFileSync(`${this.configPath}.try`, `${withDrain.join("\n")}\n`);
    const check = spawnSync(this.binary, ["--check-config", "--config", `${this.configPath}.try`], { encoding: "utf8" });
    if (check.status === 0) writeFileSync(this.configPath, `${withDrain.join("\n")}\n`);
  }

  async start() {
    if (!existsSync(this.binary)) throw new Error(`haven-server not found at ${this.binary} (set HAVEN_SERVER)`);
    if (!existsSync(join(this.staticDir, "index.html"))) {
      throw new Error(`the web client is not built: ${this.staticDir}/index.html is missing (cd client-web && npm ci && npm run build)`);
    }
    const child = spawn(this.binary, ["--config", this.configPath], { stdio: ["ignore", "pipe", "pipe"] });
    this.process = child;
    const keep = (chunk) => {
      this.log = (this.log + chunk.toString()).slice(-20_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    this.exited = new Promise((resolveExit) => child.on("exit", (code, signal) => resolveExit({ code, signal })));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`haven-server exited at start (${child.exitCode}):\n${this.log}`);
      try {
        const response = await fetch(`${this.url}healthz`);
        if (response.ok) return;
      } catch {
        /* not listening yet */
      }
      await sleep(50);
    }
    throw new Error(`haven-server did not become healthy on port ${this.port}:\n${this.log}`);
  }

  /** SIGTERM and wait for the process to exit (SIGKILL after a while). */
  async stop() {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const result = await this.exited;
    clearTimeout(timer);
    this.process = null;
    return result;
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
