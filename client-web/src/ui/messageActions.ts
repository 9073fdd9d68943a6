// The small row of actions under a message. Each action decides for itself whether it
// applies to a message, so new ones slot in without touching the message view:
//   - "Flag" (participants tell moderators what worries them) arrives with the moderation
//     issue: add a MessageAction here whose `applies` is `!message.mine && message.seq > 0`.
//   - The moderator view adds "Hide" / "Restore" the same way, when the role allows it.
import type { ChatMessage } from "../room";
import { h } from "./dom";

export interface ActionContext {
  roomId: string;
  retry(clientMsgId: string): void;
  edit(clientMsgId: string): void;     // take a post back into the message box
  discard(clientMsgId: string): void;
}

export interface MessageAction {
  id: string;
  label: string;
  /** Accessible name; starts with the visible label (WCAG 2.5.3). */
  describe(message: ChatMessage): string;
  applies(message: ChatMessage): boolean;
  run(message: ChatMessage, context: ActionContext): void;
}

const unsent = (message: ChatMessage) => message.mine && (message.status === "failed" || message.status === "queued");

export const messageActions: MessageAction[] = [
  {
    id: "retry",
    label: "Send again",
    describe: () => "Send again (this message was not sent)",
    applies: (m) => m.mine && m.status === "failed",
    run: (m, context) => context.retry(m.clientMsgId),
  },
  {
    id: "edit",
    label: "Edit",
    describe: () => "Edit this unsent message in the message box",
    applies: unsent,
    run: (m, context) => context.edit(m.clientMsgId),
  },
  {
    id: "discard",
    label: "Discard",
    describe: () => "Discard this unsent message",
    applies: unsent,
    run: (m, context) => context.discard(m.clientMsgId),
  },
  // FLAG: { id: "flag", label: "Flag", applies: (m) => !m.mine && m.seq > 0, run: (m, c) => c.flag(m) },
];

export function renderMessageActions(message: ChatMessage, context: ActionContext): HTMLElement | null {
  const applicable = messageActions.filter((action) => action.applies(message));
  if (applicable.length === 0) return null;
  return h(
    "div",
    { class: "msg-actions" },
    ...applicable.map((action) =>
      h("button", {
        type: "button",
        class: `link-button action-${action.id}`,
        "aria-label": action.describe(message),
        onclick: () => action.run(message, context),
      }, action.label),
    ),
  );
}
