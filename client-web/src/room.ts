// What this browser knows about one room it is in: the conversation (deduplicated by
// sequence number), its own posts not yet acknowledged, who is here and who is typing.
// Plain data and merge rules, no DOM and no socket.
import type { HistoryPage, Joined, Member, RoomInfo, WireEvent } from "./proto";

export type MessageStatus =
  | "sent"      // stored by the server: has a seq
  | "queued"    // mine, waiting for a connection (or for a rate limit to pass)
  | "sending"   // mine, sent on the current connection, no Ack yet
  | "failed";   // mine, refused by the server for good (e.g. too long): edit or discard

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
  version: number;    // bumped on every change so the view redraws just that message
}

export interface Notice {
  type: "notice";
  key: string;
  epoch: number;
  seq: number;  // shown before the messages of its epoch (0)
  text: string;
  version: number;
}

export type Item = ChatMessage | Notice;

export type JoinOutcome = "fresh" | "recovered" | "gap" | "restarted";

const TYPING_SHOWN_MS = 6_000;
const MAX_ITEMS = 2_000;  // kept in memory per room; the view draws far fewer

export const GAP_NOTICE = "Some earlier messages are no longer available.";
export const RESTART_NOTICE =
  "The room restarted on the server. Messages above were kept on your screen; anything posted while you were away may be missing.";

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
  private bySeq = new Map<number, ChatMessage>();  // current epoch only

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
  applyJoined(joined: Joined, sinceSeq: number, isMine: (authorId: string, clientMsgId: string) => boolean): JoinOutcome {
    if (joined.room) this.info = joined.room;
    this.members.clear();
    for (const member of joined.members ?? []) this.members.set(member.memberId ?? "", member);
    this.typing.clear();
    this.joined = true;
    this.problem = "";
    const events = (joined.events ?? []).filter((e) => e.posted);
    const lastSeq = Number(joined.lastSeq ?? 0);

    let outcome: JoinOutcome;
    if (!this.everJoined || sinceSeq === 0) {
      this.items = [];
      this.bySeq.clear();
      outcome = "fresh";
    } else if (lastSeq < sinceSeq || events.some((e) => this.conflicts(e))) {
      // The room's sequence numbers started again (a restarted server with in-memory
      // history): keep what is on screen as an earlier chapter and start a new one.
      this.epoch += 1;
      this.bySeq.clear();
      this.lastSeq = 0;
      this.insert({ type: "notice", key: `notice-${++noticeCounter}`, epoch: this.epoch, seq: 0, text: RESTART_NOTICE, version: 1 });
      outcome = "restarted";
    } else if (joined.recovered === false) {
      // History no longer reaches back to what we last saw: replace the list.
      this.items = [];
      this.bySeq.clear();
      this.insert({ type: "notice", key: `notice-${++noticeCounter}`, epoch: this.epoch, seq: 0, text: GAP_NOTICE, version: 1 });
      outcome = "gap";
    } else {
      outcome = "recovered";
    }
    this.everJoined = true;
    for (const event of events) this.addPosted(event, isMine);
    this.lastSeq = Math.max(this.lastSeq, lastSeq);
    if (outcome !== "recovered") {
      const first = this.firstSeq;
      this.hasEarlier = first > 1;
    }
    return outcome;
  }

  /** A stored post (live, from Joined or from a history page). Returns it when it is new. */
  addPosted(event: WireEvent, isMine: (authorId: string, clientMsgId: string) => boolean): ChatMessage | null {
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
      Object.assign(mine, { seq, epoch: this.epoch, timeMs: Number(event.timeMs ?? mine.timeMs), authorId, status: "sent", problem: undefined });
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
      mine: isMine(authorId, clientMsgId),
      status: "sent",
      revealed: false,
      version: 1,
    };
    this.insert(message);
    return message;
  }

  /** An older page requested with before_seq. */
  applyHistory(page: HistoryPage, isMine: (authorId: string, clientMsgId: string) => boolean): number {
    let added = 0;
    for (const event of page.events ?? []) if (this.addPosted(event, isMine)) added += 1;
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
