// Reach out, seen by the person an alert is about: a moderator's private message and their
// answer, in a calm panel under the top bar (not a modal), with "only you and they can see
// this" always in view. The reply box keeps what is being written while new lines arrive.
import type { HavenClient, Outcome, PrivateLine, PrivateThread } from "../client";
import { formatTime, h, replaceChildren } from "./dom";

/** One line of a private conversation, for the person and for the moderator alike. */
export function renderPrivateLine(line: PrivateLine): HTMLElement {
  return h("li", { class: `private-line${line.mine ? " mine" : ""}` },
    h("p", { class: "private-from" }, line.mine ? "You" : line.from, " · ",
      h("time", { datetime: new Date(line.timeMs).toISOString() }, formatTime(line.timeMs))),
    h("p", { class: "private-text" }, line.text));
}

/**
 * A box for one private message and its Send button. What was written stays in the box until
 * it is sent; `said` turns the outcome into the words of the status line.
 */
export function privateForm(id: string, label: string, send: (words: string) => Promise<Outcome>,
  said: (outcome: Outcome) => string): HTMLFormElement {
  const text = h("textarea", { id, rows: 2, maxlength: 2000 }) as HTMLTextAreaElement;
  const status = h("p", { class: "hint", role: "status" });
  const button = h("button", { type: "submit", class: "secondary" }, "Send privately");
  return h("form", {
    class: "private-reply",
    onsubmit: async (event: Event) => {
      event.preventDefault();
      const words = text.value.trim();
      if (!words) return;
      button.disabled = true;
      const outcome = await send(words);
      button.disabled = false;
      if (outcome.ok) text.value = "";
      status.textContent = said(outcome);
      text.focus();
    },
  }, h("label", { for: id }, label), text, h("div", { class: "inline-row" }, button, status));
}

export class PrivateChat {
  readonly element = h("div", { class: "private-slot" });
  private threadId = "";
  private shown = -1;
  private lines: HTMLOListElement | null = null;

  constructor(private readonly client: HavenClient, private readonly announce: (text: string) => void) {}

  /** A moderator wrote: their conversation opens (or comes up to date) and is announced. */
  open(threadId: string): void {
    const thread = this.client.privateThreads.get(threadId);
    if (!thread) return;
    if (threadId !== this.threadId || !this.lines) this.build(thread);
    this.refresh();
    const last = thread.lines[thread.lines.length - 1];
    if (last && !last.mine) this.announce(`${last.from}, a moderator, wrote to you privately: ${last.text}`);
  }

  /** New lines (mine or theirs) since the last look. */
  refresh(): void {
    const thread = this.client.privateThreads.get(this.threadId);
    if (!thread || !this.lines || thread.version === this.shown) return;
    this.shown = thread.version;
    replaceChildren(this.lines, ...thread.lines.map(renderPrivateLine));
    this.lines.lastElementChild?.scrollIntoView({ block: "nearest" });
  }

  private build(thread: PrivateThread): void {
    this.threadId = thread.threadId;
    this.shown = -1;
    const who = thread.withHandle || "A moderator";
    this.lines = h("ol", { class: "private-lines", "aria-label": `Messages with ${who}` });
    const form = privateForm("private-reply", `Answer ${who} privately`,
      (words) => this.client.answerPrivately(this.threadId, words),
      (outcome) => {
        if (outcome.ok) this.refresh();
        return outcome.ok ? `Sent. Only ${who} can read it.` : outcome.text;
      });
    const close = h("button", {
      type: "button", class: "quiet", "aria-label": "Close the private conversation",
      onclick: () => {
        replaceChildren(this.element);
        this.lines = null;
        document.getElementById("composer-text")?.focus();
      },
    }, "Close");
    replaceChildren(this.element, h("section", { class: "private-panel", role: "region", "aria-labelledby": "private-title" },
      h("div", { class: "crisis-head" }, h("h2", { id: "private-title" }, `${who}, a moderator, wrote to you`), close),
      h("p", { class: "crisis-private" }, `Only you and ${who} can see this conversation. Nothing of it is kept once it ends.`),
      this.lines, form));
  }
}
