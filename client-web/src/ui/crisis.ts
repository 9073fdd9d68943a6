// CRISIS RESOURCES — the place for the future `Alert` server message.
//
// When someone's post matches the server's crisis phrase lists, the server will send that
// person (and only them) an `Alert` with resources for their locale, e.g. national lifelines
// (see DESIGN.md, "Safety features"). The message type does not exist in proto/haven.proto
// yet. When it does:
//   1. client.ts `receive()`: handle `case "alert"` (marked there) and emit it to the view;
//   2. main.ts: call showCrisisResources() with the alert's fields;
//   3. the e2e tests: post a configured phrase and check the panel appears for the author only.
//
// The panel must be calm, private and easy to find again: not a modal that traps focus, not
// alarming red, with the resources as real links/phone numbers, and a way to close it. It
// never shows anything to other people in the room.
import { h } from "./dom";

export interface CrisisResource {
  name: string;      // e.g. a national lifeline's name
  contact: string;   // phone number, text number or URL, as configured by the operator
  note?: string;     // opening hours, languages ...
}

export function showCrisisResources(container: HTMLElement, message: string, resources: CrisisResource[]): HTMLElement {
  const close = h("button", { type: "button", class: "quiet", onclick: () => panel.remove() }, "Close");
  const panel = h("aside", { class: "crisis-panel", role: "region", "aria-labelledby": "crisis-title", tabindex: "-1" },
    h("h2", { id: "crisis-title" }, "You don't have to go through this alone"),
    h("p", {}, message),
    h("ul", {}, ...resources.map((r) => h("li", {}, h("strong", {}, r.name), " ", r.contact, r.note ? ` (${r.note})` : ""))),
    close,
  );
  container.prepend(panel);
  panel.focus();
  return panel;
}
