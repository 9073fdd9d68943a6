// What a moderator's client knows: the open moderation items (a snapshot on entry, then kept
// live by ModerationItem pushes) and the pages of the audit log read so far. Plain data and
// words for people, no DOM and no socket.
import { FlagReason, ItemKind, type AuditEntry, type ModerationItem } from "./proto";

export interface Report {
  reason: number;  // FlagReason
  note: string;
}

export interface QueueEntry {
  item: ModerationItem;
  reports: Report[];  // every flag reason and note seen for this post, oldest first
}

/** How far an unclaimed urgent item has climbed the escalation ladder. */
export const escalationNames: Record<number, string> = {
  1: "Nobody claimed it in time: global moderators were called",
  2: "Still unclaimed: operators were called",
  3: "Still unclaimed: the operators' outside alert was sent",
};

export const reasonNames: Record<number, string> = {
  [FlagReason.FLAG_CRISIS]: "Someone may be at risk",
  [FlagReason.FLAG_HARASSMENT]: "Harassment or bullying",
  [FlagReason.FLAG_SPAM]: "Spam or advertising",
  [FlagReason.FLAG_PRIVACY]: "Shares someone's private details",
  [FlagReason.FLAG_OTHER]: "Something else",
};

export const kindNames: Record<number, string> = {
  [ItemKind.FLAG]: "Flagged",
  [ItemKind.CRISIS]: "Crisis language",
  [ItemKind.HELD_POST]: "Held for review",
  [ItemKind.AUTO_HIDDEN]: "Hidden after flags",
};

const auditNames: Record<string, string> = {
  flag: "flagged a post",
  hide_post: "hid a post",
  restore_post: "restored a post",
  resolve_flags: "resolved the flags on a post",
  auto_hide: "hid a post after flags",
  crisis_detected: "noticed crisis language",
  author_left: "noticed that the author of a crisis post left and did not come back",
  hold_post: "held a post for review",
  release_post: "released a held post",
  reject_post: "rejected a held post",
  mute: "muted",
  unmute: "lifted a mute on",
  kick: "removed from the room",
  ban: "banned",
  ban_global: "banned from every room",
  unban: "lifted a ban on",
  unban_global: "lifted a server-wide ban on",
  lock_room: "locked the room",
  unlock_room: "unlocked the room",
  slow_mode: "set slow mode",
};

export const auditName = (action: string): string => auditNames[action] ?? action.replace(/_/g, " ");

/** How long a mute or ban lasts, in seconds (0: until a moderator lifts it). */
export const DURATIONS: [string, number][] = [
  ["15 minutes", 15 * 60],
  ["1 hour", 60 * 60],
  ["24 hours", 24 * 60 * 60],
  ["7 days", 7 * 24 * 60 * 60],
  ["Until lifted", 0],
];

export const SLOW_MODES: [string, number][] = [
  ["Off", 0],
  ["10 seconds", 10],
  ["30 seconds", 30],
  ["1 minute", 60],
  ["5 minutes", 300],
];

export class ModerationState {
  enabled = false;  // show the moderator tools
  loaded = false;   // the queue snapshot arrived
  onDuty: string[] = [];  // handles of the people on duty in the whole deployment
  meOnDuty = false;       // this tab has put its moderator on duty
  private entries = new Map<string, QueueEntry>();
  audit = { entries: [] as AuditEntry[], hasMore: false, loading: false, problem: "", scope: "", loaded: false };

  replace(items: ModerationItem[]): void {
    this.entries.clear();
    for (const item of items) this.apply(item);
    this.loaded = true;
  }

  /** A pushed item: new or updated (returns it), or RESOLVED (removes the item it names). */
  apply(item: ModerationItem): QueueEntry | null {
    const id = item.id ?? "";
    if (item.kind === ItemKind.RESOLVED) {
      this.entries.delete(id);
      return null;
    }
    const known = this.entries.get(id);
    // An owner, a step up the ladder, or the author gone, for an item already here: only
    // those fields change.
    if (item.kind === ItemKind.CLAIMED || item.kind === ItemKind.ESCALATED || item.kind === ItemKind.AUTHOR_LEFT) {
      if (!known) return null;
      if (item.kind === ItemKind.CLAIMED) {
        known.item = { ...known.item, claimedBy: item.claimedBy, claimedBySubject: item.claimedBySubject, claimedAtMs: item.claimedAtMs };
      } else if (item.kind === ItemKind.AUTHOR_LEFT) {
        known.item = { ...known.item, leftAtMs: item.leftAtMs };
      } else {
        known.item = { ...known.item, escalation: Math.max(known.item.escalation ?? 0, item.escalation ?? 0) };
      }
      return null;
    }
    const reports = known?.reports ?? [];
    if (item.reason) {
      const report = { reason: item.reason, note: item.note ?? "" };
      if (!reports.some((r) => r.reason === report.reason && r.note === report.note)) reports.push(report);
    }
    // Crisis items arrive without a time (time_ms 0): the moment we heard of it will do.
    const timeMs = Number(item.timeMs ?? 0) || Number(known?.item.timeMs ?? 0) || Date.now();
    const entry = { item: { ...item, timeMs }, reports };
    this.entries.set(id, entry);
    return known ? null : entry;
  }

  /** The item an update names, when it is here. */
  find(id: string): QueueEntry | undefined {
    return this.entries.get(id);
  }

  /** Urgent first, then the longest waiting first. */
  sorted(): QueueEntry[] {
    return [...this.entries.values()].sort((a, b) =>
      Number(Boolean(b.item.urgent)) - Number(Boolean(a.item.urgent)) || Number(a.item.timeMs ?? 0) - Number(b.item.timeMs ?? 0));
  }

  get size(): number {
    return this.entries.size;
  }

  get urgent(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.item.urgent) count += 1;
    return count;
  }

  /** Urgent items nobody has claimed yet: what the tab title counts. */
  get unclaimedUrgent(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.item.urgent && !entry.item.claimedBy) count += 1;
    return count;
  }

  reset(): void {
    this.enabled = false;
    this.loaded = false;
    this.entries.clear();
    this.audit = { entries: [], hasMore: false, loading: false, problem: "", scope: "", loaded: false };
  }
}
