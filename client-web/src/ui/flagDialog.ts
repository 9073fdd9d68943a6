// "Flag": anyone can tell the moderators, privately, what worries them about a post.
import type { HavenClient } from "../client";
import { ErrorCode, FlagReason } from "../proto";
import { reasonNames } from "../moderation";
import type { ChatMessage } from "../room";
import { h, replaceChildren } from "./dom";
import { openDialog, radioGroup } from "./dialog";

const REASONS = [FlagReason.FLAG_CRISIS, FlagReason.FLAG_HARASSMENT, FlagReason.FLAG_SPAM, FlagReason.FLAG_PRIVACY, FlagReason.FLAG_OTHER];
export const FLAG_THANKS = "Thanks — a moderator will take a look.";

function excerpt(message: ChatMessage): string {
  // Never show text someone chose not to open.
  if (message.contentWarning && !message.revealed) return `A message with a content warning: ${message.contentWarning}`;
  return message.text.length > 200 ? `${message.text.slice(0, 200)}…` : message.text;
}

export function openFlagDialog(client: HavenClient, roomId: string, message: ChatMessage): void {
  openDialog("Flag this message for a moderator", (dialog) => {
    const reasons = radioGroup("flag-reason", "What worries you about it?", REASONS.map((r) => [String(r), reasonNames[r]]));
    const note = h("textarea", { id: "flag-note", rows: "3", maxlength: "500", "aria-describedby": "flag-note-hint" });
    const status = h("p", { class: "form-error", role: "alert" });
    const send = h("button", { type: "submit", class: "primary" }, "Send to moderators");
    const form = h("form", { class: "stack" },
      h("blockquote", { class: "quote" }, h("p", { class: "quote-author" }, `${message.author} wrote:`), h("p", {}, excerpt(message))),
      reasons.element,
      h("label", { for: "flag-note" }, "Anything a moderator should know? (optional)"),
      h("p", { class: "hint", id: "flag-note-hint" }, "Only moderators see this. The person who wrote the message isn't told who flagged it."),
      note,
      status,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, "Cancel"),
        send),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const reason = Number(reasons.value());
      if (!reason) return;
      send.disabled = true;
      status.textContent = "";
      const outcome = await client.flag(roomId, message.seq, reason, note.value);
      if (!outcome.ok && outcome.code !== ErrorCode.ALREADY_FLAGGED) {
        send.disabled = false;
        status.textContent = outcome.text;
        return;
      }
      const close = h("button", { type: "button", class: "primary", onclick: () => dialog.close() }, "Close");
      replaceChildren(form,
        h("p", { class: "dialog-thanks", role: "status" },
          outcome.ok ? FLAG_THANKS : "You've already flagged this message. Thank you — a moderator will take a look."),
        reason === FlagReason.FLAG_CRISIS
          ? h("p", { class: "hint" }, "If someone is in immediate danger, please also contact your local emergency number.")
          : null,
        h("div", { class: "dialog-actions" }, close));
      close.focus();
    });
    return [form];
  }, {
    className: "flag-dialog",
    returnFocus: () => document.querySelector<HTMLElement>(`.msg[data-key="${message.key}"] button`) ?? document.getElementById("composer-text"),
  });
}
