// One message in the conversation, or one quiet notice between messages. A post hidden by a
// moderator becomes a quiet placeholder; moderators still see it, marked as hidden.
import { Role } from "../proto";
import type { ChatMessage, Item, Notice } from "../room";
import { formatTime, h } from "./dom";
import { renderMessageActions, type ActionContext } from "./messageActions";

const roleNames: Record<number, string> = {
  [Role.ROLE_PEER_SUPPORTER]: "Peer supporter",
  [Role.ROLE_MODERATOR]: "Moderator",
  [Role.ROLE_OPERATOR]: "Host",
};

const statusText: Record<ChatMessage["status"], string> = {
  sent: "",
  queued: "Waiting to send",
  sending: "Sending…",
  failed: "Not sent",
  held: "Waiting for a moderator",
};

let bodyCounter = 0;

export function renderItem(item: Item, context: ActionContext): HTMLElement {
  return item.type === "notice" ? renderNotice(item) : renderMessage(item, context);
}

function renderNotice(notice: Notice): HTMLElement {
  if (notice.fromService) {
    // Labelled as the service's own words, so nobody can mistake it for a member's post.
    return h("li", { class: "notice notice-service", "data-key": notice.key, "data-service": "true" },
      h("p", {}, h("strong", {}, "From the Haven team: "), notice.text));
  }
  return h("li", { class: "notice", "data-key": notice.key }, h("p", {}, notice.text));
}

function renderPlaceholder(message: ChatMessage): HTMLElement {
  return h("li", { class: "msg msg-hidden", "data-key": message.key, "data-seq": message.seq, "data-hidden": "true" },
    h("p", {}, message.mine ? "A moderator hid your message, so others can't see it any more." : "This message was hidden by a moderator."));
}

function renderMessage(message: ChatMessage, context: ActionContext): HTMLElement {
  if (message.hidden && !context.moderator) return renderPlaceholder(message);
  const classes = ["msg"];
  if (message.hidden) classes.push("is-hidden");
  if (message.mine) classes.push("mine");
  if (message.status !== "sent") classes.push(`status-${message.status}`);
  const role = roleNames[message.authorRole];
  const bodyId = `msg-body-${++bodyCounter}`;
  const hasWarning = message.contentWarning !== "";
  // A content warning keeps the text folded for everyone but its author until they open it.
  const folded = hasWarning && !message.mine && !message.revealed;

  const text = h("p", { class: "msg-text", id: bodyId, hidden: folded }, message.text);
  let warning: HTMLElement | null = null;
  if (hasWarning) {
    const toggle = h("button", {
      type: "button",
      class: "cw-toggle",
      "aria-expanded": String(!folded),
      "aria-controls": bodyId,
    }, folded ? "Show message" : "Hide message");
    toggle.addEventListener("click", () => {
      // Toggled in place (no redraw) so keyboard focus stays on the button.
      message.revealed = text.hidden;
      text.hidden = !message.revealed;
      toggle.setAttribute("aria-expanded", String(message.revealed));
      toggle.textContent = message.revealed ? "Hide message" : "Show message";
    });
    warning = h("div", { class: "cw" },
      h("span", { class: "cw-label" }, "Content warning: ", h("strong", {}, message.contentWarning)),
      message.mine ? null : toggle,
    );
  }

  return h("li", {
    class: classes.join(" "),
    "data-key": message.key,
    "data-seq": message.seq || undefined,
    "data-cw": hasWarning ? "true" : undefined,
    "data-hidden": message.hidden ? "true" : undefined,
  },
    h("div", { class: "msg-meta" },
      h("span", { class: "msg-author" }, message.mine ? `${message.author || "You"} (you)` : message.author),
      role ? h("span", { class: "badge" }, role) : null,
      h("time", { datetime: new Date(message.timeMs).toISOString() }, formatTime(message.timeMs)),
      statusText[message.status] ? h("span", { class: "msg-status" }, statusText[message.status]) : null,
    ),
    message.hidden ? h("p", { class: "hidden-mark" }, "Hidden by a moderator: only moderators can see it.") : null,
    warning,
    text,
    message.problem ? h("p", { class: "msg-problem" }, message.problem) : null,
    message.redacted ? h("p", { class: "msg-note" }, "Contact details were removed from this message to keep everyone safe.") : null,
    message.flagged ? h("p", { class: "msg-note" }, "You flagged this message for the moderators.") : null,
    renderMessageActions(message, context),
  );
}
