// The moderation queue: one card per open item, urgent ones first (marked calmly, not in
// alarm red). Each card shows the post as written, why it is here, and what can be done.
// Cards are kept by item id, so a card that did not change keeps its place and focus.
import type { HavenClient } from "../../client";
import { escalationNames, kindNames, reasonNames, type QueueEntry } from "../../moderation";
import { AlertOutcome, ItemKind, ModerationAction, type Moderate } from "../../proto";
import { formatTime, h, replaceChildren } from "../dom";
import { privateForm, renderPrivateLine } from "../privateChat";
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

// What each crisis concept of the shipped lists means, in a moderator's words.
const conceptNames: Record<string, string> = {
  suicide: "talk of suicide", self_harm: "self-harm", overdose: "overdose", intent: "intent to die",
  plan: "a plan or method", means: "means at hand", time: "a time set", preparation: "preparations",
  goodbye: "a goodbye", self_harm_now: "self-harm now", thoughts: "thoughts of suicide",
  wish_dead: "a wish to be dead", hopelessness: "hopelessness", burden: "feeling a burden",
  urge: "an urge to self-harm",
};

const OUTCOMES: [string, number][] = [
  ["Reached out to them", AlertOutcome.REACHED_OUT],
  ["Gave them the crisis lines", AlertOutcome.RESOURCES_GIVEN],
  ["Escalated outside (emergency services, another service)", AlertOutcome.ESCALATED_OUTSIDE],
  ["False alarm: nobody at risk", AlertOutcome.FALSE_ALARM],
];

/**
 * Claim and close a crisis alert: one moderator owns it (the server makes sure of that across
 * every instance), and closing it says how it ended.
 */
function claimControls(client: HavenClient, entry: QueueEntry, author: string): HTMLElement {
  const item = entry.item;
  const roomId = item.roomId ?? "";
  const itemId = item.id ?? "";
  const mine = Boolean(item.claimedBy) && item.claimedBy === client.me?.handle;
  const group = h("div", { class: "action-group claim-group", role: "group", "aria-label": `Who answers ${author}` });
  if (!item.claimedBy) {
    group.append(h("button", {
      type: "button", class: "secondary claim", "aria-label": `Claim: I will answer ${author}`,
      onclick: async (event: Event) => {
        (event.currentTarget as HTMLButtonElement).disabled = true;
        if (!await act(client, { roomId, action: ModerationAction.CLAIM_ITEM, itemId }, `You have claimed this: ${author} is yours to answer.`)) {
          (event.currentTarget as HTMLButtonElement).disabled = false;
        }
      },
    }, "Claim"));
  }
  if (!item.claimedBy || mine) {
    const select = h("select", { "aria-label": "How it ended" },
      ...OUTCOMES.map(([label, value]) => h("option", { value: String(value) }, label))) as HTMLSelectElement;
    group.append(select, h("button", {
      type: "button", class: "quiet resolve", "aria-label": `Close: ${author}'s alert is dealt with`,
      onclick: () => void act(client, { roomId, action: ModerationAction.RESOLVE_ITEM, itemId, outcome: Number(select.value) }, "Closed."),
    }, "Close"));
  }
  return group;
}

/** The private conversation with an alert's author, as far as this tab has seen it. */
export function refreshPrivateLines(card: HTMLElement, client: HavenClient): void {
  const list = card.querySelector<HTMLOListElement>(".item-private-lines");
  if (!list) return;
  const thread = client.privateThreads.get(list.dataset.thread ?? "");
  const version = String(thread?.version ?? 0);
  if (list.dataset.version === version) return;
  list.dataset.version = version;
  replaceChildren(list, ...(thread?.lines ?? []).map(renderPrivateLine));
}

/**
 * Reach out: the alert's owner writes privately to its author, who can answer. The form keeps
 * its draft while answers arrive (only the list of lines is redrawn).
 */
function reachOut(client: HavenClient, entry: QueueEntry, author: string): HTMLElement {
  const item = entry.item;
  const itemId = item.id ?? "";
  const boxId = `reach-${itemId.replace(/[^\w-]/g, "_")}`;
  const lines = h("ol", { class: "item-private-lines", "data-thread": itemId, "aria-label": `Private messages with ${author}` });
  const section = h("div", { class: "reach-out" }, lines,
    privateForm(boxId, `Reach out to ${author} privately`,
      (words) => client.checkIn(itemId, item.roomId ?? "", author, words),
      (outcome) => (outcome.ok ? `Sent to ${author}, privately.` : outcome.text)));
  refreshPrivateLines(section, client);
  return section;
}

function describe(entry: QueueEntry): HTMLElement[] {
  const item = entry.item;
  const lines: HTMLElement[] = [];
  for (const report of entry.reports) {
    lines.push(h("li", {}, h("strong", {}, reasonNames[report.reason] ?? "Flagged"), report.note ? `: "${report.note}"` : ""));
  }
  if (item.riskConcept) {
    const why = `${conceptNames[item.riskConcept] ?? item.riskConcept.replace(/_/g, " ")}${item.severity === "concern" ? " (concern)" : ""}`;
    lines.push(h("li", { class: "crisis-why" }, "Why: ", h("strong", {}, why), item.rule ? ` - rule ${item.rule}` : ""));
  }
  if (item.matched) lines.push(h("li", {}, "Matched words: ", h("strong", {}, `"${item.matched}"`)));
  const count = item.flagCount ?? 0;
  if (count > 1) lines.push(h("li", {}, `Flagged by ${count} people`));
  if (item.kind === ItemKind.AUTO_HIDDEN) lines.push(h("li", {}, "Hidden from the room until a moderator decides."));
  if (item.kind === ItemKind.HELD_POST) lines.push(h("li", {}, "Nobody else has seen it yet."));
  const leftAt = Number(item.leftAtMs ?? 0);
  if (leftAt) {
    const after = Math.max(0, Math.round((leftAt - Number(item.timeMs ?? leftAt)) / 60000));
    lines.push(h("li", { class: "author-left" }, h("strong", {}, "Left the room"),
      ` ${after ? `${after} min` : "moments"} after posting, and has not come back.`));
  }
  if (item.claimedBy) lines.push(h("li", { class: "claimed-by" }, "Claimed by ", h("strong", {}, item.claimedBy)));
  else if (item.escalation) lines.push(h("li", { class: "escalation" }, escalationNames[item.escalation] ?? "Escalated"));
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
      if (seq) actions.push(button("Hide post", { action: ModerationAction.HIDE_POST, seq }, `${author}'s message is hidden.`));
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
      // The owner of an alert may write to its author privately.
      item.kind === ItemKind.CRISIS && subject && item.claimedBy && item.claimedBy === client.me?.handle
        ? reachOut(client, entry, author) : null,
      h("div", { class: "item-actions" },
        item.kind === ItemKind.CRISIS ? claimControls(client, entry, author) : null,
        actions.length ? h("div", { class: "action-group", role: "group", "aria-label": "The message" }, ...actions) : null,
        subject
          ? h("div", { class: "action-group", role: "group", "aria-label": `The author, ${author}` },
            h("span", { class: "group-label", "aria-hidden": "true" }, `${author}:`),
            person("Mute", "mute"), person("Remove", "kick"), person("Ban", "ban"))
          : null)));
  return card;
}
