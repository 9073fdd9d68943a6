// The protocol side of the web client: Hello, joining and rejoining rooms with since_seq,
// posting with client message ids (resent unchanged after a reconnect), typing, history
// paging and errors; flags, private alerts (crisis resources, held posts) and, for
// moderators, the moderation queue, their actions and the audit log. The view listens for
// changes and draws; it never touches the socket.
import { Connection, defaultSocketUrl, type ConnectionState } from "./connection";
import { kindMessage } from "./errors";
import { ModerationState } from "./moderation";
import {
  AlertKind, ErrorCode, ItemKind, Role,
  type ClientMessageProps, type CrisisResource, type Limits, type Moderate, type ModerationItem, type RoomInfo,
  type ServerMessage, type WireError, type WireEvent,
} from "./proto";
import { RoomState, type ChatMessage, type JoinOutcome, type Viewer } from "./room";
import * as storage from "./storage";
import type { Identity } from "./storage";

export type Change =
  | { type: "connection" }
  | { type: "identity" }                          // signed in, signed out, or sign-in refused
  | { type: "directory" }                         // the list of rooms and their counts
  | { type: "room"; roomId: string }              // anything inside one room
  | { type: "joined"; roomId: string; outcome: JoinOutcome }
  | { type: "incoming"; roomId: string; message: ChatMessage }  // a live post by someone else
  | { type: "toast"; text: string; tone: "info" | "error" }
  | { type: "announce"; text: string }             // for screen readers only
  | { type: "crisis" }                             // crisis resources arrived for me
  | { type: "agreements"; roomId: string; version: string; text: string }  // asked before joining
  | { type: "private"; threadId: string; fromModerator: boolean }  // a private message for me
  | { type: "moderation"; item?: ModerationItem }; // the queue or audit log changed (item: a new one)

const DUTY_KEY = "haven.onDuty";  // sessionStorage: this tab's moderator is on duty

export interface CrisisAlert {
  roomId: string;
  headline: string;     // in the language of the list that matched
  message: string;
  privateNote: string;  // that only this person sees the panel
  humanNote: string;    // whether a moderator on duty was let know (empty: not said)
  moderatorOnDuty: boolean;
  resources: CrisisResource[];
}

/** The reply to a flag or a moderator's action. */
export type Outcome = { ok: true } | { ok: false; code: number; text: string };

/** One line of a private conversation between a moderator and the person an alert is about. */
export interface PrivateLine {
  from: string;
  text: string;
  timeMs: number;
  mine: boolean;
}

/** A private conversation (reach out), by the alert's id. Kept for this tab only. */
export interface PrivateThread {
  threadId: string;
  roomId: string;
  withHandle: string;  // the other person
  lines: PrivateLine[];
  version: number;     // bumped on every line, so views redraw only what changed
}

const MAX_PRIVATE_LINES = 200;  // per conversation, oldest dropped first

type Request =
  | { kind: "hello" }
  | { kind: "join"; roomId: string; sinceSeq: number }
  | { kind: "leave"; roomId: string }
  | { kind: "post"; roomId: string; clientMsgId: string }
  | { kind: "history"; roomId: string }
  | { kind: "ping" };

const TYPING_REFRESH_MS = 3_000;  // while typing, say so at most this often
const TYPING_IDLE_MS = 4_000;     // no keystroke for this long: not typing any more
const DIRECTORY_REFRESH_MS = 20_000;
const HISTORY_PAGE = 50;
const AUDIT_PAGE = 10;  // about one screenful; "Load more" reads the next

export function newClientMsgId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class HavenClient {
  identity: Identity | null = null;
  me: { handle: string; sessionId: string; role: number } | null = null;
  limits: Limits = {};
  directory: RoomInfo[] = [];
  rooms = new Map<string, RoomState>();  // rooms I am in (or rejoining), in joining order
  activeRoom: string | null = null;
  signInProblem = "";
  connection: ConnectionState = { kind: "stopped" };
  banned = false;                         // closed by the server with 4003: no reconnecting
  crisis: CrisisAlert | null = null;      // the latest crisis resources, private to me
  privateThreads = new Map<string, PrivateThread>();  // reach out, by alert id
  private heldNotes = new Map<string, string>();  // POST_HELD words, by hold id, until the Ack
  readonly moderation = new ModerationState();

  private conn: Connection | null = null;
  private ready = false;                  // Welcome received on the current connection
  private joining = new Set<string>();    // Join sent, Joined or Error not yet back
  private requests = new Map<number, Request>();
  private calls = new Map<number, (reply: ServerMessage | null) => void>();  // awaited replies
  private nextRequestId = 1;
  private sessionIds: string[] = [];
  private sentIds = new Set<string>();
  private listeners = new Set<(change: Change) => void>();
  private typingState = new Map<string, { active: boolean; lastSent: number; idle: number | undefined }>();
  private retryTimers = new Map<string, number>();
  private directoryTimer: number | undefined;
  private saveTimer: number | undefined;

  constructor(private readonly url = defaultSocketUrl()) {}

  on(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Picks up a session from before a reload of this tab, if there was one. */
  restore(): boolean {
    const saved = storage.load();
    if (!saved.identity) return false;
    this.sessionIds = saved.sessionIds;
    for (const roomId of saved.rooms) {
      const room = new RoomState(roomId);
      for (const post of saved.outbox[roomId] ?? []) {
        room.queue(this.outgoing(post.clientMsgId, post.text, post.contentWarning));
        if (post.holdId) room.hold(post.clientMsgId, post.holdId);
      }
      this.rooms.set(roomId, room);
    }
    this.activeRoom = saved.active && this.rooms.has(saved.active) ? saved.active : null;
    this.enter(saved.identity);
    return true;
  }

  enter(identity: Identity): void {
    this.identity = identity;
    this.signInProblem = "";
    this.conn?.stop();
    this.conn = new Connection(this.url, {
      open: () => this.sayHello(),
      message: (message) => this.receive(message),
      state: (state) => this.connectionChanged(state),
    });
    this.conn.start();
    this.persist();
    this.emit({ type: "identity" });
  }

  /** Leaves every room and forgets this session in this tab. */
  leaveHaven(): void {
    for (const roomId of this.rooms.keys()) this.send({ leave: { roomId } });
    this.conn?.stop();
    this.conn = null;
    this.reset();
    storage.clear();
    this.emit({ type: "identity" });
  }

  reconnectNow(): void {
    this.conn?.reconnectNow();
  }

  // ---- rooms ------------------------------------------------------------------------------

  join(roomId: string): void {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = new RoomState(roomId, this.directory.find((r) => r.id === roomId));
      this.rooms.set(roomId, room);
    }
    this.activeRoom = roomId;
    room.unread = 0;
    room.removed = "";
    if (!room.joined) this.sendJoin(room);
    this.persist();
    this.emit({ type: "room", roomId });
  }

  leave(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.setTyping(roomId, false);
    if (room.joined) this.request({ kind: "leave", roomId }, { leave: { roomId } });
    this.rooms.delete(roomId);
    window.clearTimeout(this.retryTimers.get(roomId));
    this.retryTimers.delete(roomId);
    if (this.activeRoom === roomId) this.activeRoom = null;
    this.persist();
    this.emit({ type: "room", roomId });
    this.refreshDirectory();
  }

  open(roomId: string | null): void {
    this.activeRoom = roomId;
    const room = roomId ? this.rooms.get(roomId) : undefined;
    if (room) room.unread = 0;
    this.persist();
    this.emit({ type: "room", roomId: roomId ?? "" });
  }

  post(roomId: string, text: string, contentWarning: string): void {
    const room = this.rooms.get(roomId);
    if (!room || !text.trim()) return;
    this.setTyping(roomId, false);
    const message = this.outgoing(newClientMsgId(), text, contentWarning.trim());
    room.queue(message);
    this.persist();
    this.flush(room);
    this.emit({ type: "room", roomId });
  }

  /** A failed post: send it again as it is (same client_msg_id). */
  retry(roomId: string, clientMsgId: string): void {
    const room = this.rooms.get(roomId);
    const message = room?.findOutgoing(clientMsgId);
    if (!room || !message) return;
    message.status = "queued";
    message.problem = undefined;
    message.version += 1;
    this.flush(room);
    this.emit({ type: "room", roomId });
  }

  /** Takes a failed or waiting post back (to edit it, or to drop it). */
  discard(roomId: string, clientMsgId: string): ChatMessage | undefined {
    const room = this.rooms.get(roomId);
    const message = room?.removeOutgoing(clientMsgId);
    if (message) {
      this.persist();
      this.emit({ type: "room", roomId });
    }
    return message;
  }

  loadEarlier(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room || !room.joined || room.loadingEarlier || !room.hasEarlier) return;
    const beforeSeq = room.firstSeq;
    if (beforeSeq <= 1) {
      room.hasEarlier = false;
      return this.emit({ type: "room", roomId });
    }
    room.loadingEarlier = true;
    this.request({ kind: "history", roomId }, { history: { roomId, beforeSeq, limit: HISTORY_PAGE } });
    this.emit({ type: "room", roomId });
  }

  /** Called on every edit of the message box; says "typing" at a gentle rate. */
  typingInput(roomId: string, hasText: boolean): void {
    if (!hasText) return this.setTyping(roomId, false);
    const state = this.typingState.get(roomId) ?? { active: false, lastSent: 0, idle: undefined };
    this.typingState.set(roomId, state);
    const now = Date.now();
    if (!state.active || now - state.lastSent >= TYPING_REFRESH_MS) {
      if (this.send({ typing: { roomId, active: true } })) {
        state.active = true;
        state.lastSent = now;
      }
    }
    window.clearTimeout(state.idle);
    state.idle = window.setTimeout(() => this.setTyping(roomId, false), TYPING_IDLE_MS);
  }

  setTyping(roomId: string, active: boolean): void {
    const state = this.typingState.get(roomId);
    if (!state) return;
    window.clearTimeout(state.idle);
    if (state.active && !active && this.rooms.get(roomId)?.joined) this.send({ typing: { roomId, active: false } });
    state.active = active;
  }

  isMine = (authorId: string, clientMsgId: string): boolean =>
    (clientMsgId !== "" && this.sentIds.has(clientMsgId)) || this.sessionIds.includes(authorId);

  /** Moderator in this room: a global role, or a room grant (my own member entry shows it). */
  moderates(roomId: string): boolean {
    if ((this.me?.role ?? 0) >= Role.ROLE_MODERATOR) return true;
    const mine = [...(this.rooms.get(roomId)?.members.values() ?? [])].find((m) => m.memberId === this.me?.sessionId);
    return (mine?.role ?? 0) >= Role.ROLE_MODERATOR;
  }

  get globalModerator(): boolean {
    return (this.me?.role ?? 0) >= Role.ROLE_MODERATOR;
  }

  // ---- flags and moderation -----------------------------------------------------------------

  /** Tells the moderators what worries me about a post. */
  async flag(roomId: string, seq: number, reason: number, note: string): Promise<Outcome> {
    const outcome = this.outcome(await this.call({ flag: { roomId, seq, reason, note: note.trim() } }));
    if (outcome.ok || outcome.code === ErrorCode.ALREADY_FLAGGED) {
      this.rooms.get(roomId)?.markFlagged(seq);
      this.emit({ type: "room", roomId });
    }
    return outcome;
  }

  async moderate(action: Moderate): Promise<Outcome> {
    return this.outcome(await this.call({ moderate: action }));
  }

  /** Reach out: the moderator who owns an alert writes privately to the person it is about. */
  async checkIn(itemId: string, roomId: string, authorHandle: string, text: string): Promise<Outcome> {
    const outcome = this.outcome(await this.call({ checkIn: { itemId, text } }));
    if (outcome.ok) this.addPrivateLine(itemId, roomId, authorHandle, { from: this.me?.handle ?? "", text, timeMs: Date.now(), mine: true });
    return outcome;
  }

  /** The person's private answer to a moderator who wrote to them. */
  async answerPrivately(threadId: string, text: string): Promise<Outcome> {
    const thread = this.privateThreads.get(threadId);
    const outcome = this.outcome(await this.call({ checkInReply: { threadId, text } }));
    if (outcome.ok && thread) this.addPrivateLine(threadId, thread.roomId, thread.withHandle, { from: this.me?.handle ?? "", text, timeMs: Date.now(), mine: true });
    return outcome;
  }

  private addPrivateLine(threadId: string, roomId: string, withHandle: string, line: PrivateLine): void {
    let thread = this.privateThreads.get(threadId);
    if (!thread) {
      thread = { threadId, roomId, withHandle, lines: [], version: 0 };
      this.privateThreads.set(threadId, thread);
    }
    if (!line.mine) thread.withHandle = line.from || thread.withHandle;
    thread.lines.push(line);
    if (thread.lines.length > MAX_PRIVATE_LINES) thread.lines.shift();
    thread.version += 1;
    this.emit({ type: "moderation" });
  }

  /**
   * On or off duty for every room this moderator serves. Remembered for this tab, so a
   * reconnect (or a reload) puts them back on duty without asking.
   */
  async setDuty(onDuty: boolean): Promise<Outcome> {
    const reply = await this.call({ setDuty: { onDuty } });
    if (reply?.body === "dutyRoster") {
      this.moderation.meOnDuty = onDuty;
      if (onDuty) sessionStorage.setItem(DUTY_KEY, "on");
      else sessionStorage.removeItem(DUTY_KEY);
      this.rosterChanged(reply.dutyRoster!);
      return { ok: true };
    }
    return this.outcome(reply);
  }

  private rosterChanged(roster: { onDuty?: { handle?: string | null }[] | null }): void {
    this.moderation.onDuty = (roster.onDuty ?? []).map((person) => person.handle ?? "");
    this.emit({ type: "moderation" });
  }

  async loadQueue(): Promise<void> {
    const reply = await this.call({ moderationQueue: {} });
    if (reply?.body === "moderationQueue") {
      this.moderation.enabled = true;
      this.moderation.replace(reply.moderationQueue!.items ?? []);
      // Back on duty after a reconnect, as this tab was.
      if (sessionStorage.getItem(DUTY_KEY) === "on") void this.setDuty(true);
    } else if (reply?.error?.code === ErrorCode.FORBIDDEN) {
      this.moderation.enabled = this.globalModerator;
    }
    this.emit({ type: "moderation" });
  }

  /** The audit log, newest first: the first page, or (more) the page before the last entry. */
  async loadAudit(more = false): Promise<void> {
    const audit = this.moderation.audit;
    if (audit.loading) return;
    if (!audit.scope && !this.globalModerator) {
      // Room moderators read one room's log at a time.
      audit.scope = [...this.rooms.keys()].find((id) => this.moderates(id)) ?? this.directory[0]?.id ?? "";
    }
    audit.loading = true;
    this.emit({ type: "moderation" });
    const beforeId = more ? audit.entries[audit.entries.length - 1]?.id ?? "" : "";
    const reply = await this.call({ audit: { roomId: audit.scope, beforeId, limit: AUDIT_PAGE } });
    audit.loading = false;
    audit.loaded = true;
    if (reply?.body === "audit") {
      const page = reply.audit!;
      audit.entries = more ? [...audit.entries, ...(page.entries ?? [])] : page.entries ?? [];
      audit.hasMore = Boolean(page.hasMore);
      audit.problem = "";
    } else {
      audit.problem = reply?.error ? kindMessage(reply.error) : "We couldn't reach the server just now. Please try again.";
    }
    this.emit({ type: "moderation" });
  }

  notify(text: string, tone: "info" | "error" = "info"): void {
    this.emit({ type: "toast", text, tone });
  }

  // ---- connection ---------------------------------------------------------------------------

  private sayHello(): void {
    const identity = this.identity;
    if (!identity) return;
    // Reconnecting with the room list already here: the Welcome can leave it out (member
    // counts are refreshed from api/rooms anyway), which keeps a reconnect storm cheap.
    const omitRooms = this.directory.length > 0;
    const hello = identity.token
      ? { token: identity.token, client: "haven-web/0.1", omitRooms }
      : { guest: true, guestHandle: identity.guestHandle ?? "", guestToken: identity.guestToken ?? "", client: "haven-web/0.1", omitRooms };
    this.request({ kind: "hello" }, { hello });
  }

  private connectionChanged(state: ConnectionState): void {
    const wasOpen = this.connection.kind === "open";
    this.connection = state;
    if (wasOpen && state.kind !== "open") {
      this.ready = false;
      this.joining.clear();
      this.requests.clear();
      const calls = [...this.calls.values()];
      this.calls.clear();
      for (const call of calls) call(null);
      for (const room of this.rooms.values()) room.disconnected();
      for (const roomId of this.rooms.keys()) this.emit({ type: "room", roomId });
    }
    if (state.kind === "stopped" && state.banned) this.banned = true;
    if (state.kind === "stopped" && state.reason) this.emit({ type: "toast", text: state.reason, tone: "error" });
    this.emit({ type: "connection" });
  }

  private receive(message: ServerMessage): void {
    const call = this.calls.get(message.requestId);
    if (call) {
      this.calls.delete(message.requestId);
      return call(message);
    }
    const request = this.requests.get(message.requestId);
    if (message.requestId) this.requests.delete(message.requestId);
    switch (message.body) {
      case "welcome": return this.welcomed(message);
      case "joined": return this.joined(message, request);
      case "ack": {
        const ack = message.ack!;
        const room = this.rooms.get(ack.roomId ?? "");
        if (!room) return;
        if (ack.holdId) {
          room.hold(ack.clientMsgId ?? "", ack.holdId, this.heldNotes.get(ack.holdId) ?? "");
          this.heldNotes.delete(ack.holdId);
        }
        else room.acknowledge(ack.clientMsgId ?? "", Number(ack.seq ?? 0));
        if (!room.outbox.some((m) => m.status === "queued" || m.status === "sending")) room.throttled = false;
        this.flush(room);
        this.persist();
        return this.emit({ type: "room", roomId: room.id });
      }
      case "event": return this.event(message.event!);
      case "history": {
        const page = message.history!;
        const room = this.rooms.get(page.roomId ?? "");
        if (!room) return;
        room.applyHistory(page, this.viewer(room));
        return this.emit({ type: "room", roomId: room.id });
      }
      case "left": return this.removedFromRoom(message.left?.roomId ?? "", message.left?.reason ?? "");
      case "error": return this.failed(message.error!, request);
      case "reconnect": return this.conn?.reconnectAfter(message.reconnect?.afterMs ?? 1000);
      case "pong": return;
      case "alert": return this.alerted(message);
      case "dutyRoster": return this.rosterChanged(message.dutyRoster!);
      case "privateMessage": {
        const note = message.privateMessage!;
        const from = note.from?.handle ?? "";
        const threadId = note.threadId ?? "";
        this.addPrivateLine(threadId, note.roomId ?? "", from, { from, text: note.text ?? "", timeMs: Number(note.timeMs ?? 0) || Date.now(), mine: false });
        return this.emit({ type: "private", threadId, fromModerator: Boolean(note.fromModerator) });
      }
      case "moderationItem": {
        if (!this.moderation.enabled) return;
        const item = message.moderationItem!;
        const added = this.moderation.apply(item);
        if (item.kind === ItemKind.AUTHOR_LEFT) {
          // Sent to this moderator alone (the alert's owner, or on duty): worth saying aloud.
          const author = this.moderation.find(item.id ?? "")?.item.post?.author?.handle || "Someone";
          this.notify(`${author} left soon after a crisis post and has not come back.`, "error");
        }
        return this.emit({ type: "moderation", item: added?.item });
      }
      default:
        return;  // a newer server may send messages this client does not know yet
    }
  }

  private welcomed(message: ServerMessage): void {
    const welcome = message.welcome!;
    this.conn?.markHealthy();
    this.ready = true;
    this.me = { handle: welcome.handle ?? "", sessionId: welcome.sessionId ?? "", role: welcome.role ?? Role.ROLE_PARTICIPANT };
    this.sessionIds = [...this.sessionIds.filter((id) => id !== this.me!.sessionId), this.me.sessionId].slice(-20);
    this.limits = welcome.limits ?? {};
    if (welcome.rooms?.length) this.directory = welcome.rooms;
    this.banned = false;
    this.moderation.enabled ||= this.globalModerator;
    if (welcome.duty) this.rosterChanged(welcome.duty);
    if (this.identity && !this.identity.token && welcome.guestToken) {
      this.identity = { ...this.identity, guestToken: welcome.guestToken, guestHandle: welcome.handle ?? this.identity.guestHandle };
    }
    for (const room of this.rooms.values()) {
      const info = this.directory.find((r) => r.id === room.id);
      if (info && !room.everJoined) room.info = info;
      if (!room.removed) this.sendJoin(room);
    }
    // Moderators (and, with a token, perhaps a room moderator): the queue, kept live after.
    if (this.globalModerator || this.identity?.token) void this.loadQueue();
    this.persist();
    this.startDirectoryRefresh();
    this.emit({ type: "identity" });
    this.emit({ type: "directory" });
  }

  private sendJoin(room: RoomState): void {
    if (!this.ready || room.joined || this.joining.has(room.id)) return;
    const sinceSeq = room.sinceSeq;
    this.joining.add(room.id);
    const occurrence = Number(room.info.nextMeeting?.startMs ?? 0);
    const acceptAgreements = room.accepted && room.accepted.occurrence === occurrence ? room.accepted.version : "";
    this.request({ kind: "join", roomId: room.id, sinceSeq }, { join: { roomId: room.id, sinceSeq, acceptAgreements } });
  }

  /** The person read the meeting's agreements and agreed: join with them accepted. */
  acceptAgreements(roomId: string, version: string): void {
    const room = this.rooms.get(roomId) ?? new RoomState(roomId, this.directory.find((r) => r.id === roomId));
    this.rooms.set(roomId, room);
    room.accepted = { version, occurrence: Number(room.info.nextMeeting?.startMs ?? 0) };
    this.join(roomId);
  }

  private joined(message: ServerMessage, request: Request | undefined): void {
    const joined = message.joined!;
    const roomId = joined.room?.id ?? (request?.kind === "join" ? request.roomId : "");
    this.joining.delete(roomId);
    const room = this.rooms.get(roomId);
    if (!room) {
      // Left while the join was on its way.
      this.send({ leave: { roomId } });
      return;
    }
    const sinceSeq = request?.kind === "join" ? request.sinceSeq : room.sinceSeq;
    const outcome = room.applyJoined(joined, sinceSeq, this.viewer(room));
    this.flush(room);
    this.refreshDirectory();
    this.emit({ type: "joined", roomId, outcome });
    this.emit({ type: "room", roomId });
  }

  private event(event: WireEvent): void {
    const room = this.rooms.get(event.roomId ?? "");
    if (!room) return;
    switch (event.kind) {
      case "memberJoined":
        room.memberJoined(event.memberJoined!.member ?? {});
        break;
      case "memberLeft":
        room.memberLeft(event.memberLeft!.member ?? {});
        break;
      case "typing": {
        const member = event.typing!.member ?? {};
        if (member.memberId === this.me?.sessionId) return;
        room.typingChanged(member, Boolean(event.typing!.active));
        break;
      }
      default: {
        // Posts and moderation events: stored, sequenced, applied once.
        const added = room.applyEvent(event, this.viewer(room));
        if (added && !added.mine) {
          if (this.activeRoom !== room.id) room.unread += 1;
          this.emit({ type: "incoming", roomId: room.id, message: added });
        }
        // Slow mode ended or was shortened: posts waiting for it need not wait any more.
        if (event.kind === "slowMode") this.flushNow(room);
      }
    }
    this.emit({ type: "room", roomId: room.id });
  }

  private failed(error: WireError, request: Request | undefined): void {
    const code = error.code ?? 0;
    const text = kindMessage(error, this.limits.maxPostChars ?? undefined);
    switch (request?.kind) {
      case "hello":
        // Refused for good: back to the entry screen with a kind explanation.
        this.conn?.stop();
        this.conn = null;
        this.reset();
        this.signInProblem =
          code === ErrorCode.BAD_REQUEST
            ? "That handle can't be used. Please choose 2 to 32 letters, digits, spaces, '-', '_' or '.'."
            : text;
        storage.clear();
        return this.emit({ type: "identity" });
      case "join": {
        this.joining.delete(request.roomId);
        const room = this.rooms.get(request.roomId);
        if (!room) return;
        if (code === ErrorCode.ALREADY_JOINED) return;
        if (code === ErrorCode.UNAVAILABLE) return this.later(room, error.retryAfterMs || 1000, () => this.sendJoin(room));
        if (code === ErrorCode.AGREEMENTS_REQUIRED && error.agreements) {
          // Not joined until the person agrees: the dialog asks, and acceptAgreements joins.
          room.accepted = null;
          if (!room.everJoined) {
            this.rooms.delete(room.id);
            if (this.activeRoom === room.id) this.activeRoom = null;
          }
          this.emit({ type: "agreements", roomId: room.id, version: error.agreements.version ?? "", text: error.agreements.text ?? "" });
          return this.emit({ type: "room", roomId: room.id });
        }
        if (!room.everJoined) {
          this.rooms.delete(room.id);
          if (this.activeRoom === room.id) this.activeRoom = null;
          this.persist();
        } else {
          room.problem = text;
        }
        this.emit({ type: "toast", text, tone: "error" });
        return this.emit({ type: "room", roomId: room.id });
      }
      case "post": {
        const room = this.rooms.get(request.roomId);
        const message = room?.findOutgoing(request.clientMsgId);
        if (!room || !message) return;
        message.version += 1;
        if (code === ErrorCode.MUTED) room.mutedFor(error.retryAfterMs ?? 0);
        if (code === ErrorCode.ROOM_LOCKED) room.locked = true;
        const waits = code === ErrorCode.RATE_LIMITED || code === ErrorCode.SLOW_MODE_WAIT;
        if (waits || code === ErrorCode.UNAVAILABLE || code === ErrorCode.NOT_JOINED) {
          message.status = "queued";
          message.problem = text;
          if (waits) room.throttled = true;
          if (code === ErrorCode.NOT_JOINED) {
            room.joined = false;
            this.later(room, 500, () => this.sendJoin(room));
          } else {
            this.later(room, error.retryAfterMs || 1000, () => this.flush(room));
          }
        } else {
          message.status = "failed";
          message.problem = text;
        }
        return this.emit({ type: "room", roomId: room.id });
      }
      case "history": {
        const room = this.rooms.get(request.roomId);
        if (room) room.loadingEarlier = false;
        this.emit({ type: "toast", text, tone: "error" });
        return room ? this.emit({ type: "room", roomId: room.id }) : undefined;
      }
      case "leave":
        return;  // not in the room any more either way
      default:
        if (code !== ErrorCode.BAD_FRAME) this.emit({ type: "toast", text, tone: "error" });
    }
  }

  private alerted(message: ServerMessage): void {
    const alert = message.alert!;
    switch (alert.kind) {
      case AlertKind.CRISIS_RESOURCES:
        this.crisis = {
          roomId: alert.roomId ?? "", headline: alert.headline ?? "", message: alert.message ?? "",
          privateNote: alert.privateNote ?? "", resources: alert.resources ?? [],
          humanNote: alert.humanNote ?? "", moderatorOnDuty: alert.moderatorOnDuty ?? false,
        };
        return this.emit({ type: "crisis" });
      case AlertKind.POST_HELD:
        // The Ack with its hold_id (right after this) marks the post with these words; this
        // says them aloud.
        if (alert.holdId && alert.message) {
          this.heldNotes.set(alert.holdId, alert.message);
          if (this.heldNotes.size > 50) this.heldNotes.delete(this.heldNotes.keys().next().value!);
        }
        return this.emit({ type: "announce", text: alert.message || "Your post is waiting for a moderator." });
      case AlertKind.POST_REJECTED: {
        const room = this.rooms.get(alert.roomId ?? "");
        if (room && alert.holdId && room.heldRejected(alert.holdId, alert.message ?? "")) {
          this.persist();
          this.emit({ type: "room", roomId: room.id });
        }
        if (alert.message) this.emit({ type: "toast", text: alert.message, tone: "info" });
        return;
      }
      default:
        if (alert.message) this.emit({ type: "toast", text: alert.message, tone: "info" });
    }
  }

  /** Left without asking: a moderator removed me ("kicked"; "banned" for a room ban), or the room closed. */
  private removedFromRoom(roomId: string, reason: string): void {
    const room = this.rooms.get(roomId);
    if (!room || !reason) return;  // an ordinary Leave: already forgotten in leave()
    room.kicked();
    this.setTyping(roomId, false);
    if (reason === "closed") {
      room.removed = "closed";
      room.problem = "This room has closed. Thank you for being here.";
      this.emit({ type: "toast", text: `${room.info.title || roomId} has closed.`, tone: "info" });
      this.emit({ type: "room", roomId });
      return;
    }
    if (reason === "banned") {
      room.removed = "banned";
      room.problem = kindMessage({ code: ErrorCode.BANNED });
    }
    const title = room.info.title || roomId;
    this.emit({ type: "toast", text: `A moderator has taken you out of ${title} for now.`, tone: "info" });
    this.emit({ type: "room", roomId });
  }

  private viewer(room: RoomState): Viewer {
    return {
      isMine: this.isMine,
      isMe: (memberId) => memberId !== "" && this.sessionIds.includes(memberId),
      moderates: () => this.moderates(room.id),
    };
  }

  /** A request whose reply the caller awaits (null: the connection ended first). */
  private call(body: Omit<ClientMessageProps, "requestId">): Promise<ServerMessage | null> {
    return new Promise((resolve) => {
      const requestId = this.nextRequestId++;
      if (!this.ready || !this.conn?.send({ requestId, ...body })) return resolve(null);
      this.calls.set(requestId, resolve);
    });
  }

  private outcome(reply: ServerMessage | null): Outcome {
    if (reply?.body === "ack" || reply?.body === "moderationQueue" || reply?.body === "audit") return { ok: true };
    if (reply?.body === "error") return { ok: false, code: reply.error!.code ?? 0, text: kindMessage(reply.error!) };
    return { ok: false, code: 0, text: "We couldn't reach the server just now. Please try again in a moment." };
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** Sends every queued post of the room, oldest first, once we are in the room. */
  private flush(room: RoomState): void {
    if (!room.joined || this.connection.kind !== "open" || this.retryTimers.has(room.id)) return;
    if (room.throttled && room.outbox.some((m) => m.status === "sending")) return;
    for (const message of room.outbox) {
      if (message.status !== "queued") continue;
      const post = { roomId: room.id, text: message.text, clientMsgId: message.clientMsgId, contentWarning: message.contentWarning };
      if (!this.request({ kind: "post", roomId: room.id, clientMsgId: message.clientMsgId }, { post })) return;
      message.status = "sending";
      message.problem = undefined;
      message.version += 1;
      // After a rate limit, one at a time (the next after this one's Ack) keeps the order.
      if (room.throttled) return;
    }
  }

  private flushNow(room: RoomState): void {
    window.clearTimeout(this.retryTimers.get(room.id));
    this.retryTimers.delete(room.id);
    this.flush(room);
  }

  /** One timer per room for "try again in N ms" (rate limits, busy server). */
  private later(room: RoomState, delayMs: number, task: () => void): void {
    if (this.retryTimers.has(room.id)) return;
    this.retryTimers.set(room.id, window.setTimeout(() => {
      this.retryTimers.delete(room.id);
      if (this.rooms.get(room.id) === room) task();
    }, delayMs));
  }

  private outgoing(clientMsgId: string, text: string, contentWarning: string): ChatMessage {
    this.sentIds.add(clientMsgId);
    return {
      type: "message", key: `out:${clientMsgId}`, epoch: 0, seq: 0, clientMsgId,
      author: this.me?.handle ?? "", authorId: this.me?.sessionId ?? "", authorRole: this.me?.role ?? 0,
      text, contentWarning, timeMs: Date.now(), mine: true, status: "queued", revealed: true,
      hidden: false, flagged: false, redacted: false, version: 1,
    };
  }

  private request(request: Request, body: Omit<Parameters<Connection["send"]>[0], "requestId">): boolean {
    const requestId = this.nextRequestId++;
    if (!this.conn?.send({ requestId, ...body })) return false;
    this.requests.set(requestId, request);
    return true;
  }

  private send(body: Omit<Parameters<Connection["send"]>[0], "requestId">): boolean {
    return this.conn?.send({ requestId: this.nextRequestId++, ...body }) ?? false;
  }

  refreshDirectory(): void {
    fetch("api/rooms", { cache: "no-store" })
      .then((response) => (response.ok ? response.json() : null))
      .then((body: { rooms?: RoomInfo[] } | null) => {
        if (!body?.rooms) return;
        this.directory = body.rooms;
        this.emit({ type: "directory" });
      })
      .catch(() => { /* the WebSocket status already tells people when the server is away */ });
  }

  private startDirectoryRefresh(): void {
    window.clearInterval(this.directoryTimer);
    this.directoryTimer = window.setInterval(() => {
      if (document.visibilityState === "visible" && this.connection.kind === "open") this.refreshDirectory();
    }, DIRECTORY_REFRESH_MS);
  }

  private reset(): void {
    window.clearInterval(this.directoryTimer);
    for (const timer of this.retryTimers.values()) window.clearTimeout(timer);
    this.retryTimers.clear();
    this.identity = null;
    this.me = null;
    this.rooms.clear();
    this.requests.clear();
    this.joining.clear();
    this.ready = false;
    this.activeRoom = null;
    this.connection = { kind: "stopped" };
    this.banned = false;
    this.crisis = null;
    this.privateThreads.clear();
    this.moderation.reset();
  }

  private persist(): void {
    window.clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => {
      if (!this.identity) return;
      const outbox: storage.Saved["outbox"] = {};
      for (const room of this.rooms.values()) {
        outbox[room.id] = room.outbox.map((m) => ({ clientMsgId: m.clientMsgId, text: m.text, contentWarning: m.contentWarning, holdId: m.holdId }));
      }
      storage.save({ identity: this.identity, rooms: [...this.rooms.keys()], active: this.activeRoom, outbox, sessionIds: this.sessionIds });
    }, 50);
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }
}
