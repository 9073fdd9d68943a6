// The connection banner, short notes (toasts) and the polite screen-reader announcer.
import type { ConnectionState } from "../connection";
import { h, replaceChildren } from "./dom";

export class ConnectionBanner {
  readonly element = h("div", { class: "connection", role: "status", "aria-live": "polite", "data-connection": "stopped" });
  private countdown: number | undefined;
  private backTimer: number | undefined;
  private everOpen = false;
  private lost = false;

  constructor(private readonly reconnectNow: () => void) {}

  show(state: ConnectionState): void {
    window.clearInterval(this.countdown);
    this.element.dataset.connection = state.kind === "stopped" && state.banned ? "banned" : state.kind;
    const retry = h("button", { type: "button", class: "quiet", onclick: () => this.reconnectNow() }, "Reconnect now");
    switch (state.kind) {
      case "open":
        if (this.lost) {
          this.lost = false;
          this.element.dataset.connection = "restored";
          this.set("ok", "You're connected again. Anything you wrote while away is being sent.");
          window.clearTimeout(this.backTimer);
          this.backTimer = window.setTimeout(() => {
            this.element.dataset.connection = "open";
            this.set("", "");
          }, 4000);
        } else {
          this.set("", "");
        }
        this.everOpen = true;
        return;
      case "connecting":
        window.clearTimeout(this.backTimer);
        if (!this.everOpen && state.attempt === 0) return this.set("info", "Connecting…");
        this.lost = true;
        return this.set("warn", "Connection lost. Reconnecting…");
      case "waiting": {
        window.clearTimeout(this.backTimer);
        this.lost = true;
        const text = h("span", {});
        const tick = () => {
          const seconds = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
          text.textContent = `Connection lost. Your messages are safe here; trying again in ${seconds} s.`;
        };
        tick();
        this.countdown = window.setInterval(tick, 1000);
        return this.setNodes("warn", text, retry);
      }
      case "offline":
        window.clearTimeout(this.backTimer);
        this.lost = true;
        return this.set("warn", "You're offline. We'll reconnect as soon as your connection is back; anything you write will be sent then.");
      case "stopped":
        // A fresh start (signed out, or a refused sign-in): the next connection is not a "re"connection.
        this.everOpen = false;
        this.lost = false;
        window.clearTimeout(this.backTimer);
        return this.set(state.reason ? "error" : "", state.reason ?? "");
    }
  }

  private set(tone: string, text: string): void {
    this.setNodes(tone, text ? h("span", {}, text) : null);
  }

  private setNodes(tone: string, ...nodes: (Node | null)[]): void {
    this.element.className = `connection${tone ? ` tone-${tone}` : ""}`;
    this.element.hidden = nodes.every((n) => n === null);
    replaceChildren(this.element, ...nodes);
  }
}

export class Toasts {
  readonly element = h("div", { class: "toasts", role: "status", "aria-live": "polite" });

  show(text: string, tone: "info" | "error"): void {
    const toast = h("div", { class: `toast tone-${tone}` },
      h("p", {}, text),
      h("button", { type: "button", class: "quiet", "aria-label": "Dismiss this note", onclick: () => toast.remove() }, "×"));
    // One short note at a time (a moderator at work gets many); problems stay longer, stacked.
    if (tone === "info") this.element.querySelectorAll(".tone-info").forEach((old) => old.remove());
    this.element.append(toast);
    while (this.element.childElementCount > 3) this.element.firstElementChild?.remove();
    window.setTimeout(() => toast.remove(), tone === "info" ? 6_000 : 10_000);
  }
}

/** Reads new messages out to screen-reader users without moving their focus. */
export class Announcer {
  readonly element: HTMLElement;

  constructor(politeness: "polite" | "assertive" = "polite") {
    this.element = h("div", { class: "visually-hidden", "aria-live": politeness, "aria-atomic": "false" });
  }

  say(text: string): void {
    this.element.append(h("p", {}, text));
    while (this.element.childElementCount > 3) this.element.firstElementChild?.remove();
  }
}
