// The moderation queue: one card per open item, urgent ones first (marked calmly, not in
// alarm red). Each card shows the post as written, why it is here, and what can be done.
// Cards are kept by item id, so a card that did not change keeps its place and focus.
import type { HavenClient } from "../../client";
import { kindNames, reasonNames, type QueueEntry } from "../../moderation";
import { ItemKind, ModerationAction, type Moderate } from "../../proto";
import { formatTime, h } from "../dom";
import { act, openMemberDialog } from "./actions";

function roomTitle(client: HavenClient, roomId: string): string {
  return client.directory.find((r) => r.id === roomId)?.title || client.rooms.get(roomId)?.info.title || roomId;
}

function renderPost(entry: QueueEntry): HTMLElement {
  const post = entry.item.post ?? {};
  const text = h("p", { class: "item-text" }, post.text ?? "");
  return h("blockquote", { class: "item-post" },
    h("p", { class: "item-author" }, `${post.author?.handle || "Someone"} wrote:`),
    // Moderators read hard things all day: a content warning still folds the text.
    post.contentWarning
      ? h("details", {}, h("summary", {}, `Content warning: ${post.contentWarning}. Show the message`), text)
      : text);
}

function describe(entry: QueueEntry): HTMLElement[] {
  const item = entry.item;
  const lines: HTMLElement[] = [];
  for (const report of entry.reports) {
    lines.push(h("li", {}, h("strong", {}, reasonNames[report.reason] ?? "Flagged"), report.note ? `: "${report.note}"` : ""));
  }
  if (item.matched) lines.push(h("li", {}, "Matched phrase: ", h("strong", {}, `"${item.matched}"`)));
  const count = item.flagCount ?? 0;
  if (count > 1) lines.push(h("li", {}, `Flagged by ${count} people`));
  if (item.kind === ItemKind.AUTO_HIDDEN) lines.push(h("li", {}, "Hidden from the room until a moderator decides."));
  if (item.kind === ItemKind.HELD_POST) lines.push(h("li", {}, "Nobody else has seen it yet."));
  return lines.length ? [h("ul", { class: "item-facts" }, ...lines)] : [];
}

export function renderQueueItem(entry: QueueEntry, client: HavenClient): HTMLElement {
  const item = entry.item;
  const roomId = item.roomId ?? "";
  const seq = Number(item.seq ?? 0);
  const author = item.post?.author?.handle || "someone";
  const subject = item.post?.authorSubject ?? "";
  const titleId = `item-${(item.id ?? "").replace(/[^\w-]/g, "_")}`;
  const card = h("li", { class: `queue-item${item.urgent ? " urgent" : ""}`, "data-item": item.id, "data-kind": kindNames[item.kind ?? 0] ?? "" });

  const buttons: HTMLButtonElement[] = [];
  const button = (label: string, action: Omit<Moderate, "roomId">, done: string, primary = false) => {
    const b = h("button", {
      type: "button", class: primary ? "secondary" : "quiet", "aria-label": `${label}: ${author}'s message`,
      onclick: async () => {
        for (const other of buttons) other.disabled = true;
        const ok = await act(client, { roomId, ...action }, done);
        // On success the RESOLVED item removes the card; otherwise it stays usable.
        if (!ok || card.isConnected) for (const other of buttons) other.disabled = false;
      },
    }, label);
    buttons.push(b);
    return b;
  };
  const person = (label: string, choice: "mute" | "kick" | "ban") => h("button", {
    type: "button", class: "quiet", "aria-label": `${label} ${author}`,
    onclick: () => openMemberDialog(client, { roomId, handle: author, subject }, choice),
  }, label);

  const actions: HTMLElement[] = [];
  switch (item.kind) {
    case ItemKind.HELD_POST:
      actions.push(
        button("Release post", { action: ModerationAction.RELEASE_POST, holdId: item.holdId ?? "" }, `${author}'s message is now in the room.`, true),
        button("Reject post", { action: ModerationAction.REJECT_POST, holdId: item.holdId ?? "" }, `${author}'s message was not published.`));
      break;
    case ItemKind.AUTO_HIDDEN:
      actions.push(
        button("Keep hidden", { action: ModerationAction.RESOLVE_FLAGS, seq }, "The message stays hidden; the flags are closed.", true),
        button("Restore post", { action: ModerationAction.RESTORE_POST, seq }, `${author}'s message is visible again.`));
      break;
    case ItemKind.CRISIS:
      actions.push(
        button("Mark as handled", { action: ModerationAction.RESOLVE_FLAGS, seq }, "Marked as handled.", true),
        button("Hide post", { action: ModerationAction.HIDE_POST, seq }, `${author}'s message is hidden.`));
      break;
    default:
      actions.push(
        button("Hide post", { action: ModerationAction.HIDE_POST, seq }, `${author}'s message is hidden.`, true),
        button("Resolve flags", { action: ModerationAction.RESOLVE_FLAGS, seq }, "Flags resolved; the message stays."));
  }
  const time = Number(item.timeMs ?? 0);
  card.append(
    h("article", { "aria-labelledby": titleId },
      h("header", { class: "item-head" },
        item.urgent ? h("span", { class: "urgent-badge" }, "Urgent") : null,
        h("h3", { id: titleId }, kindNames[item.kind ?? 0] ?? "Needs a look", " · ", roomTitle(client, roomId)),
        time ? h("time", { datetime: new Date(time).toISOString() }, formatTime(time)) : null),
      renderPost(entry),
      ...describe(entry),
      h("div", { class: "item-actions" },
        h("div", { class: "action-group", role: "group", "aria-label": "The message" }, ...actions),
        subject
          ? h("div", { class: "action-group", role: "group", "aria-label": `The author, ${author}` },
            h("span", { class: "group-label", "aria-hidden": "true" }, `${author}:`),
            person("Mute", "mute"), person("Remove", "kick"), person("Ban", "ban"))
          : null)));
  return card;
}
