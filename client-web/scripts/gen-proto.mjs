// Generates the protobuf code for the browser from the server's own wire contract,
// ../proto/haven.proto, so the client and the server can never disagree on the schema.
// Output: src/gen/haven.js (ES module) and src/gen/haven.d.ts (types). Both are git-ignored.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const proto = join(root, "..", "proto", "haven.proto");
const outDir = join(root, "src", "gen");
const js = join(outDir, "haven.js");
const dts = join(outDir, "haven.d.ts");
const bin = (name) => join(root, "node_modules", "protobufjs-cli", "bin", name);

mkdirSync(outDir, { recursive: true });
execFileSync(process.execPath, [
  bin("pbjs"),
  "-t", "static-module",
  "-w", "esm",
  "--force-number",          // 64-bit ids and sequence numbers as plain numbers (< 2^53)
  "--no-verify", "--no-convert", "--no-delimited", "--no-typeurl", "--no-service",
  "-o", js,
  proto,
], { stdio: "inherit" });
execFileSync(process.execPath, [bin("pbts"), "--no-comments", "-o", dts, js], { stdio: "inherit" });
console.log(`proto: generated ${js} and ${dts} from ${proto}`);
