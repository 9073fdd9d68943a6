// What this browser knows about one room it is in: the conversation (deduplicated by
// sequence number), its own posts not yet acknowledged, who is here and who is typing, and
// the room's moderation state as its events tell it (hidden posts, lock, slow mode, my mute).
// Plain data and merge rules, no DOM and no socket.
import { formatTime } from "./ui/dom";
import { duration } from "./errors";
import type { HistoryPage, Joined, Member, RoomInfo, WireEvent } from "./proto";

export type MessageStatus =
  | "sent"      // stored by the server: has a seq
  | "queued"    // mine, waiting for a connection (or for a rate limit to pass)
  | "sending"   // mine, sent on the current connection, no Ack yet
  | "failed"    // mine, refused by the server for good (e.g. too long): edit or discard
  | "held";     // mine, waiting for a moderator before anyone else sees it

export interface ChatMessage {
  type: "message";
  key: string;
  epoch: number;  // bumps when the server's history restarted (see applyJoined)
  seq: number;    // per-room sequence number; 0 until acknowledged
  clientMsgId: string;
  author: string;
  authorId: string;
  authorRole: number;
  text: string;
  contentWarning: string;
  timeMs: number;
  mine: boolean;
  status: MessageStatus;
  problem?: string;   // shown beside a queued or failed post
  revealed: boolean;  // this reader opened the content warning
  hidden: boolean;    // hidden by a moderator (moderators still see it, marked)
  flagged: boolean;   // this reader flagged it
  redacted: boolean;  // the server removed contact details from the text
  holdId?: string;    // status "held": the post waits for a moderator
  version: number;    // bumped on every change so the view redraws just that message
}

/** Who is looking: decides which posts are mine and which moderation notices to show. */
export interface Viewer {
  isMine(authorId: string, clientMsgId: string): boolean;
  isMe(memberId: string): boolean;
  moderates(): boolean;
}

export interface Notice {
  type: "notice";
  key: string;
  epoch: number;
  seq: number;  // the event's own seq; 0: shown before the messages of its epoch
  text: string;
  version: number;
  fromService?: boolean;  // the people who run Haven said it (a system notice), not a member
}

export type Item = ChatMessage | Notice;

export const HISTORY_CLEARED_NOTICE = "Earlier messages in this room were removed by the people who run it.";

export type JoinOutcome = "fresh" | "recovered" | "gap" | "restarted";

const TYPING_SHOWN_MS = 6_000;
const MAX_ITEMS = 2_000;  // kept in memory per room; the view draws far fewer

export const GAP_NOTICE = "Some earlier messages are no longer available.";
export const RESTART_NOTICE =
  "The room restarted on the server. Messages above were kept on your screen; anything posted while you were away may be missing.";
export const HELD_NOTE = "Waiting for a moderator: they'll look at it soon, and then others can see it.";

let noticeCounter = 0;

function compare(a: { epoch: number; seq: number; type: string }, b: { epoch: number; seq: number; type: string }): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  if (a.seq !== b.seq) return a.seq - b.seq;
  return a.type === b.type ? 0 : a.type === "notice" ? -1 : 1;
}

export class RoomState {
  info: RoomInfo;
  items: Item[] = [];           // stored messages and notices, in order
  outbox: ChatMessage[] = [];   // my posts without an Ack, in the order written
  epoch = 0;
  lastSeq = 0;                  // newest sequence number seen in the current epoch
  hasEarlier = false;           // the server may have older messages (load earlier)
  loadingEarlier = false;
  members = new Map<string, Member>();
  typing = new Map<string, { handle: string; until: number }>();
  joined = false;               // confirmed on the current connection
  everJoined = false;           // false until the first Joined in this tab
  problem = "";                 // why we are not in the room right now, if we should be
  throttled = false;            // rate limited lately: send one post at a time, in order
  unread = 0;
  removed = "";                 // why a moderator took me out of the room (no automatic rejoin)
  locked = false;
  slowModeSeconds = 0;
  mutedUntil: number | null = null;  // my posting paused until then (0: until lifted)
  // A meeting's agreements as I accepted them: the version, for the occurrence starting then
  // (each occurrence asks again).
  accepted: { version: string; occurrence: number } | null = null;
  private bySeq = new Map<number, ChatMessage>();  // current epoch only
  private hidden = new Set<number>();              // seqs of hidden posts
  private stateSeq = new Map<string, number>();    // newest event applied per piece of state
  private seen = new Set<number>();                // moderation events already applied

  constructor(public readonly id: string, info?: RoomInfo) {
    this.info = info ?? { id, title: id };
  }

  /** Which sequence number to recover from when joining again (0 = just the recent tail). */
  get sinceSeq(): number {
    return this.everJoined ? this.lastSeq : 0;
  }

  get firstSeq(): number {
    for (const item of this.items) {
      if (item.type === "message" && item.epoch === this.epoch) return item.seq;
    }
    return 0;
  }

  /** Applies a Joined reply to Join{since_seq: sinceSeq}. */
  applyJoined(joined: Joined, sinceSeq: number, viewer: Viewer): JoinOutcome {
    if (joined.room) this.info = joined.room;
    this.members.clear();
    for (const member of joined.members ?? []) this.members.set(member.memberId ?? "", member);
    this.typing.clear();
    this.joined = true;
    this.problem = "";
    this.removed = "";
    const events = joined.events ?? [];
    const lastSeq = Number(joined.lastSeq ?? 0);

    let outcome: JoinOutcome;
    if (!this.everJoined || sinceSeq === 0) {
      this.items = [];
      this.forgetSeqs();
      outcome = "fresh";
    } else if (lastSeq < sinceSeq || events.some((e) => this.conflicts(e))) {
      // The room's sequence numbers started again (a restarted server with in-memory
      // history): keep what is on screen as an earlier chapter and start a new one.
      this.epoch += 1;
      this.forgetSeqs();
      this.locked = false;
      this.slowModeSeconds = 0;
      this.mutedUntil = null;
      this.lastSeq = 0;
      this.insert({ type: "notice", key: `notice-${++noticeCounter}`, epoch: this.epoch, seq: 0, text: RESTART_NOTICE, version: 1 });
      outcome = "restarted";
    } else if (joined.recovered === false) {
      // History no longer reaches back to what we last saw: replace the list.
      this.items = [];
      this.forgetSeqs();
      this.insert({ type: "notice", key: `notice-${++noticeCounter}`, epoch: this.epoch, seq: 0, text: GAP_NOTICE, version: 1 });
      outcome = "gap";
    } else {
      outcome = "recovered";
    }
    this.everJoined = true;
    for (const event of events) this.applyEvent(event, viewer);
    this.lastSeq = Math.max(this.lastSeq, lastSeq);
    if (outcome !== "recovered") {
      const first = this.firstSeq;
      this.hasEarlier = first > 1;
    }
    return outcome;
  }

  /** A stored post (live, from Joined or from a history page). Returns it when it is new. */
  addPosted(event: WireEvent, viewer: Viewer): ChatMessage | null {
    const posted = event.posted;
    const seq = Number(event.seq ?? 0);
    if (!posted || seq <= 0 || this.bySeq.has(seq)) return null;
    const clientMsgId = posted.clientMsgId ?? "";
    const author = posted.author ?? {};
    const authorId = author.memberId ?? "";
    this.typing.delete(authorId);
    this.lastSeq = Math.max(this.lastSeq, seq);

    const pendingIndex = clientMsgId ? this.outbox.findIndex((m) => m.clientMsgId === clientMsgId) : -1;
    if (pendingIndex >= 0) {
      const [mine] = this.outbox.splice(pendingIndex, 1);
      Object.assign(mine, {
        seq, epoch: this.epoch, timeMs: Number(event.timeMs ?? mine.timeMs), authorId, status: "sent", problem: undefined,
        holdId: undefined, text: posted.text ?? mine.text, redacted: Boolean(posted.redacted), hidden: this.hidden.has(seq),
      });
      mine.key = `${this.epoch}:${seq}`;
      mine.version += 1;
      this.insert(mine);
      return null;
    }
    const message: ChatMessage = {
      type: "message",
      key: `${this.epoch}:${seq}`,
      epoch: this.epoch,
      seq,
      clientMsgId,
      author: author.handle ?? "someone",
      authorId,
      authorRole: author.role ?? 0,
      text: posted.text ?? "",
      contentWarning: posted.contentWarning ?? "",
      timeMs: Number(event.timeMs ?? Date.now()),
      mine: viewer.isMine(authorId, clientMsgId),
      status: "sent",
      revealed: false,
      hidden: this.hidden.has(seq),
      flagged: false,
      redacted: Boolean(posted.redacted),
      version: 1,
    };
    this.insert(message);
    return message;
  }

  /** An older page requested with before_seq. */
  applyHistory(page: HistoryPage, viewer: Viewer): number {
    let added = 0;
    for (const event of page.events ?? []) if (this.applyEvent(event, viewer)) added += 1;
    this.hasEarlier = Boolean(page.hasMore) && (page.events ?? []).length > 0;
    this.loadingEarlier = false;
    return added;
  }

  queue(message: ChatMessage): void {
    this.outbox.push(message);
  }

  /** Ack for one of my posts: it is stored as `seq` (possibly a retry: duplicate). */
  acknowledge(clientMsgId: string, seq: number): void {
    const index = this.outbox.findIndex((m) => m.clientMsgId === clientMsgId);
    if (index < 0) return;  // the Event came first and already placed it
    const [mine] = this.outbox.splice(index, 1);
    if (this.bySeq.has(seq)) return;
    Object.assign(mine, { seq, epoch: this.epoch, status: "sent", problem: undefined, key: `${this.epoch}:${seq}` });
    mine.version += 1;
    this.lastSeq = Math.max(this.lastSeq, seq);
    this.insert(mine);
  }

  /**
   * Ack with a hold_id: the post waits for a moderator (and is never sent again by itself).
   * `note`: what the server said about the wait (whether a moderator is on duty to look soon).
   */
  hold(clientMsgId: string, holdId: string, note = ""): void {
    const mine = this.findOutgoing(clientMsgId);
    if (!mine) return;
    Object.assign(mine, { status: "held", holdId, problem: note || HELD_NOTE });
    mine.version += 1;
  }

  /** A held post will not be shared (a moderator, or nobody in time): it can be edited or discarded. */
  heldRejected(holdId: string, note: string): boolean {
    const mine = this.outbox.find((m) => m.status === "held" && m.holdId === holdId);
    if (!mine) return false;
    Object.assign(mine, { status: "failed", problem: note });
    mine.version += 1;
    return true;
  }

  findOutgoing(clientMsgId: string): ChatMessage | undefined {
    return this.outbox.find((m) => m.clientMsgId === clientMsgId);
  }

  removeOutgoing(clientMsgId: string): ChatMessage | undefined {
    const index = this.outbox.findIndex((m) => m.clientMsgId === clientMsgId);
    return index < 0 ? undefined : this.outbox.splice(index, 1)[0];
  }

  /** The connection ended: nothing is in flight any more, everything unsent waits. */
  disconnected(): void {
    this.joined = false;
    this.typing.clear();
    for (const message of this.outbox) {
      if (message.status === "sending") {
        message.status = "queued";
        message.version += 1;
      }
    }
  }

  memberJoined(member: Member): void {
    this.members.set(member.memberId ?? "", member);
  }

  memberLeft(member: Member): void {
    this.members.delete(member.memberId ?? "");
    this.typing.delete(member.memberId ?? "");
  }

  typingChanged(member: Member, active: boolean, now = Date.now()): void {
    const id = member.memberId ?? "";
    if (active) this.typing.set(id, { handle: member.handle ?? "someone", until: now + TYPING_SHOWN_MS });
    else this.typing.delete(id);
  }

  /** Handles of people typing now (expired indicators are dropped). */
  typingNow(now = Date.now()): string[] {
    for (const [id, entry] of this.typing) if (entry.until <= now) this.typing.delete(id);
    return [...this.typing.values()].map((t) => t.handle);
  }

  /**
   * Any stored event (live, from Joined or from a history page), applied once. Moderation
   * events change state only when newer than what we know: an old page read while scrolling
   * back never undoes a later unlock. Returns a post by someone else when it is new.
   */
  applyEvent(event: WireEvent, viewer: Viewer): ChatMessage | null {
    if (event.posted) return this.addPosted(event, viewer);
    const seq = Number(event.seq ?? 0);
    if (seq <= 0 || this.seen.has(seq)) return null;
    this.seen.add(seq);
    this.lastSeq = Math.max(this.lastSeq, seq);
    const by = (member?: Member | null) => member?.handle || "A moderator";
    const moderator = viewer.moderates();
    let text = "";
    switch (event.kind) {
      case "postHidden": {
        this.setHidden(Number(event.postHidden!.seq ?? 0), true, seq);
        break;
      }
      case "postRestored": {
        const restored = event.postRestored!;
        const postSeq = Number(restored.seq ?? 0);
        this.setHidden(postSeq, false, seq);
        // Never seen it (it was hidden before we came): put it back in its place.
        if (!this.bySeq.has(postSeq) && restored.post) {
          this.addPosted({ roomId: this.id, seq: postSeq, timeMs: event.timeMs, posted: restored.post }, viewer);
        }
        break;
      }
      case "roomLock": {
        const locked = Boolean(event.roomLock!.locked);
        if (this.newer("lock", seq)) this.locked = locked;
        text = locked
          ? "A moderator has locked the room for a little while. Only moderators can post until it opens again."
          : "The room is open again. Everyone can post.";
        break;
      }
      case "slowMode": {
        const seconds = event.slowMode!.seconds ?? 0;
        if (this.newer("slow", seq)) this.slowModeSeconds = seconds;
        text = seconds > 0
          ? `Slow mode is on: one message every ${duration(seconds * 1000)} per person, so everyone can keep up.`
          : "Slow mode is off.";
        break;
      }
      case "memberMuted": {
        const muted = event.memberMuted!;
        const until = Number(muted.untilMs ?? 0);
        const when = until ? `until ${formatTime(until)}` : "for now";
        const reason = muted.reason ? ` The reason given: "${muted.reason}"` : "";
        if (viewer.isMe(muted.member?.memberId ?? "")) {
          if (this.newer("mute", seq)) this.mutedUntil = until;
          text = `A moderator has paused your posting in this room ${when}. You can still read along.${reason}`;
        } else if (moderator) {
          text = `${by(muted.by)} muted ${muted.member?.handle || "someone"} ${when}.${reason}`;
        }
        break;
      }
      case "memberUnmuted": {
        const unmuted = event.memberUnmuted!;
        if (viewer.isMe(unmuted.member?.memberId ?? "")) {
          if (this.newer("mute", seq)) this.mutedUntil = null;
          text = "You can post in this room again.";
        } else if (moderator) {
          text = `${by(unmuted.by)} lifted the mute on ${unmuted.member?.handle || "someone"}.`;
        }
        break;
      }
      case "memberRemoved": {
        // Presence follows memberLeft (and Joined): a replayed removal must not touch it.
        const removed = event.memberRemoved!;
        if (moderator) {
          const what = removed.banned ? `banned ${removed.member?.handle || "someone"}${removed.global ? " from every room" : ""}` : `removed ${removed.member?.handle || "someone"} from the room`;
          text = `${by(removed.by)} ${what}.${removed.reason ? ` The reason given: "${removed.reason}"` : ""}`;
        }
        break;
      }
      case "memberUnbanned":
        if (moderator) text = `${by(event.memberUnbanned!.by)} lifted a ban.`;
        break;
      case "systemNotice": {
        const notice = event.systemNotice!.text ?? "";
        if (notice) this.insert({ type: "notice", key: `n:${this.epoch}:${seq}`, epoch: this.epoch, seq, text: notice, version: 1, fromService: true });
        return null;
      }
      case "historyCleared":
        if (this.newer("cleared", seq)) this.dropBefore(seq);
        text = HISTORY_CLEARED_NOTICE;
        break;
      default:
        return null;
    }
    if (text) this.insert({ type: "notice", key: `n:${this.epoch}:${seq}`, epoch: this.epoch, seq, text, version: 1 });
    return null;
  }

  /** The room's history before `seq` was removed on the server: it goes from this screen too. */
  private dropBefore(seq: number): void {
    this.items = this.items.filter((item) => item.epoch === this.epoch && item.seq >= seq && !(item.seq === 0 && item.type === "notice"));
    for (const key of [...this.bySeq.keys()]) if (key < seq) this.bySeq.delete(key);
    this.hasEarlier = false;
  }

  /** Left{reason: "kicked"}: out of the room until the person chooses to come back. */
  kicked(): void {
    this.joined = false;
    this.removed = "kicked";
    this.problem = "A moderator has asked you to step out of this room for now. You're welcome to join again when you're ready.";
    this.typing.clear();
  }

  /** This reader flagged a post. */
  markFlagged(seq: number): void {
    const message = this.bySeq.get(seq);
    if (!message || message.flagged) return;
    message.flagged = true;
    message.version += 1;
  }

  /** My posting is paused now (the MUTED error says for how long). */
  mutedFor(retryAfterMs: number): void {
    this.mutedUntil = retryAfterMs ? Date.now() + retryAfterMs : 0;
  }

  isMuted(now = Date.now()): boolean {
    return this.mutedUntil !== null && (this.mutedUntil === 0 || this.mutedUntil > now);
  }

  private setHidden(postSeq: number, hidden: boolean, seq: number): void {
    if (!this.newer(`hide:${postSeq}`, seq)) return;
    if (hidden) this.hidden.add(postSeq);
    else this.hidden.delete(postSeq);
    const message = this.bySeq.get(postSeq);
    if (message && message.hidden !== hidden) {
      message.hidden = hidden;
      message.version += 1;
    }
  }

  private newer(key: string, seq: number): boolean {
    if (seq <= (this.stateSeq.get(key) ?? 0)) return false;
    this.stateSeq.set(key, seq);
    return true;
  }

  private forgetSeqs(): void {
    this.bySeq.clear();
    this.hidden.clear();
    this.stateSeq.clear();
    this.seen.clear();
  }

  /** Same sequence number, different post: the numbering restarted. */
  private conflicts(event: WireEvent): boolean {
    const known = this.bySeq.get(Number(event.seq ?? 0));
    if (!known || !event.posted) return false;
    return known.clientMsgId !== (event.posted.clientMsgId ?? "") || known.text !== (event.posted.text ?? "");
  }

  private insert(item: Item): void {
    const items = this.items;
    let index = items.length;
    if (index > 0 && compare(items[index - 1], item) > 0) {
      let low = 0;
      let high = items.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (compare(items[mid], item) <= 0) low = mid + 1;
        else high = mid;
      }
      index = low;
    }
    items.splice(index, 0, item);
    if (item.type === "message" && item.epoch === this.epoch) this.bySeq.set(item.seq, item);
    if (items.length > MAX_ITEMS) {
      const dropped = items.splice(0, items.length - MAX_ITEMS);
      for (const old of dropped) if (old.type === "message" && old.epoch === this.epoch) this.bySeq.delete(old.seq);
      this.hasEarlier = true;
    }
  }
}
