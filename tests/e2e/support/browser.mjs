// Headless Debian Chromium driven by playwright-core (no browser download), and a
// Participant: one person in their own browser context, seen through the page only.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import $protobuf from "../../../client-web/node_modules/protobufjs/minimal.js";
import { haven } from "../../../client-web/src/gen/haven.js";
import { repoRoot } from "./server.mjs";

// Same decoding as the client: 64-bit fields as numbers.
$protobuf.util.Long = null;
$protobuf.configure();

export const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.HAVEN_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

export const screenshotDir = resolve(process.env.HAVEN_E2E_SCREENSHOTS ?? join(repoRoot, "build", "e2e-screenshots"));
mkdirSync(screenshotDir, { recursive: true });

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export class Participant {
  /** Opens Haven in a fresh browser context and enters as a guest named `handle`. */
  static async enter(browser, url, handle, { viewport = DESKTOP, screenshot } = {}) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const participant = new Participant(context, page, handle);
    await page.goto(url);
    await page.locator("#handle").waitFor();
    if (screenshot) await participant.shot(screenshot);
    await page.locator("#handle").fill(handle);
    await page.getByRole("button", { name: "Enter as a guest" }).click();
    await participant.waitForHandle(handle);
    return participant;
  }

  /** Opens Haven in a fresh browser context and signs in with a token (e.g. a moderator's). */
  static async signIn(browser, url, token, handle, { viewport = DESKTOP } = {}) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const participant = new Participant(context, page, handle);
    await page.goto(url);
    await page.getByText("I have a sign-in token").click();
    await page.getByLabel("Sign-in token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await participant.waitForHandle(handle);
    return participant;
  }

  constructor(context, page, handle) {
    this.context = context;
    this.page = page;
    this.handle = handle;
    this.sent = [];      // decoded ClientMessages this page sent, in order
    this.errors = [];
    this.sockets = 0;    // WebSockets this page opened
    page.on("pageerror", (error) => this.errors.push(String(error)));
    // The server's Content-Security-Policy: anything it blocks is a bug in the client.
    page.on("console", (message) => {
      if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
        this.errors.push(message.text());
      }
    });
    page.on("websocket", (ws) => {
      this.sockets += 1;
      ws.on("framesent", ({ payload }) => {
        if (typeof payload === "string") return;
        try {
          this.sent.push(haven.v1.ClientMessage.decode(new Uint8Array(payload)));
        } catch {
          /* not ours */
        }
      });
    });
  }

  async waitForHandle(handle) {
    await this.page.locator(".my-handle", { hasText: handle }).waitFor();
  }

  async join(title, roomId) {
    await this.page.getByRole("button", { name: `Join ${title}` }).click();
    await this.waitJoined(roomId);
  }

  /** In the room: its view is open and I appear in its member list. */
  async waitJoined(roomId) {
    await this.page.locator(`.room[data-room="${roomId}"]`).waitFor();
    await this.memberLocator(`${this.handle} (you)`).waitFor({ state: "attached" });
  }

  memberLocator(text) {
    return this.page.locator(".people-list li", { hasText: text });
  }

  async post(text) {
    const box = this.page.locator("#composer-text");
    await box.fill(text);
    await box.press("Enter");
  }

  /** The message whose text is exactly `text`. */
  message(text) {
    return this.page.locator(".msg").filter({ has: this.page.locator(".msg-text", { hasText: new RegExp(`^${escape(text)}$`) }) });
  }

  async waitForMessage(text, { stored = true } = {}) {
    const locator = this.message(text);
    await locator.first().waitFor({ state: "attached" });
    if (stored) await this.page.locator(".msg[data-seq]").filter({ has: this.page.locator(".msg-text", { hasText: new RegExp(`^${escape(text)}$`) }) }).first().waitFor({ state: "attached" });
    return locator;
  }

  async count(text) {
    return this.message(text).count();
  }

  async connection() {
    return this.page.locator(".connection").getAttribute("data-connection");
  }

  async waitForConnection(states, timeout = 20_000) {
    const wanted = Array.isArray(states) ? states : [states];
    await this.page.waitForFunction(
      (list) => list.includes(document.querySelector(".connection")?.getAttribute("data-connection")),
      wanted,
      { timeout },
    );
  }

  /** The Join requests this page sent for a room, in order. */
  joinsSent(roomId) {
    return this.sent.filter((m) => m.body === "join" && m.join.roomId === roomId).map((m) => m.join);
  }

  postsSent() {
    return this.sent.filter((m) => m.body === "post").map((m) => m.post);
  }

  async hasHorizontalScroll() {
    return this.page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth
      || document.body.scrollWidth > document.documentElement.clientWidth);
  }

  /** Visible text whose colour contrast is below WCAG AA (4.5:1, 3:1 for large text). */
  async contrastProblems() {
    return this.page.evaluate(() => {
      const parse = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
      const lum = ([r, g, b]) => {
        const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const background = (el) => {
        for (let e = el; e; e = e.parentElement) {
          const c = parse(getComputedStyle(e).backgroundColor);
          if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
        }
        return [255, 255, 255];
      };
      const problems = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!node.textContent.trim() || !el || !el.checkVisibility?.() || el.closest(".visually-hidden")) continue;
        const style = getComputedStyle(el);
        const fg = lum(parse(style.color));
        const bg = lum(background(el));
        const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        const size = parseFloat(style.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
        if (ratio < (large ? 3 : 4.5)) problems.push(`${ratio.toFixed(2)} "${node.textContent.trim().slice(0, 40)}"`);
      }
      return problems;
    });
  }

  async shot(name) {
    await this.page.screenshot({ path: join(screenshotDir, `${name}.png`) });
  }

  async close() {
    await this.context.close();
  }
}
