// The small row of actions under a message. Each action decides for itself whether it
// applies to a message, so new ones slot in without touching the message view: "Flag" for
// participants, "Hide" / "Restore" for the room's moderators.
import type { ChatMessage } from "../room";
import { h } from "./dom";

export interface ActionContext {
  roomId: string;
  retry(clientMsgId: string): void;
  edit(clientMsgId: string): void;     // take a post back into the message box
  discard(clientMsgId: string): void;
  moderator: boolean;                  // I moderate this room
  flag(message: ChatMessage): void;
  hide(message: ChatMessage): void;
  restore(message: ChatMessage): void;
}

export interface MessageAction {
  id: string;
  label: string;
  /** Accessible name; starts with the visible label (WCAG 2.5.3). */
  describe(message: ChatMessage): string;
  applies(message: ChatMessage, context: ActionContext): boolean;
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
  {
    // The server never says when a held post is rejected: let its author put it away.
    id: "forget",
    label: "Remove from my screen",
    describe: () => "Remove from my screen (a message waiting for a moderator)",
    applies: (m) => m.mine && m.status === "held",
    run: (m, context) => context.discard(m.clientMsgId),
  },
  {
    id: "flag",
    label: "Flag",
    describe: (m) => `Flag this message by ${m.author} for a moderator`,
    applies: (m, context) => !context.moderator && !m.mine && m.seq > 0 && !m.hidden && !m.flagged,
    run: (m, context) => context.flag(m),
  },
  {
    id: "hide",
    label: "Hide",
    describe: (m) => `Hide this message by ${m.author} from the room`,
    applies: (m, context) => context.moderator && m.seq > 0 && !m.hidden,
    run: (m, context) => context.hide(m),
  },
  {
    id: "restore",
    label: "Restore",
    describe: (m) => `Restore this hidden message by ${m.author}`,
    applies: (m, context) => context.moderator && m.seq > 0 && m.hidden,
    run: (m, context) => context.restore(m),
  },
];

export function renderMessageActions(message: ChatMessage, context: ActionContext): HTMLElement | null {
  const applicable = messageActions.filter((action) => action.applies(message, context));
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
