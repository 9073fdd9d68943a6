// A meeting's agreements, asked before joining each occurrence: the room's own words, then
// "I agree" (joins) or "Not now" (stays out, nothing else happens).
import type { HavenClient } from "../client";
import { h } from "./dom";
import { openDialog } from "./dialog";

export function openAgreementsDialog(client: HavenClient, roomId: string, version: string, text: string): void {
  const title = client.directory.find((r) => r.id === roomId)?.title || roomId;
  openDialog(`Before you join ${title}`, (dialog) => {
    const agree = h("button", { type: "button", class: "primary", onclick: () => {
      dialog.close();
      client.acceptAgreements(roomId, version);
    } }, "I agree, join");
    const paragraphs = text.split("\n").filter((line) => line.trim()).map((line) => h("p", {}, line));
    return [
      h("p", { class: "hint" }, "Everyone in this meeting agrees to these. They keep it safe for all of you."),
      h("div", { class: "agreements-text", tabindex: "0", "aria-label": "The meeting's agreements" }, ...paragraphs),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, "Not now"),
        agree),
    ];
  }, { className: "agreements-dialog" });
}
