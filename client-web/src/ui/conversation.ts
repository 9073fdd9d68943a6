// The room someone is in: the conversation (at most MAX_RENDERED messages in the page, with
// "load earlier" paging), who is here, who is typing, the room's moderation state (locked,
// slow mode, my posting paused) and the message box. Moderators also get the room settings
// and actions on posts and people.
import type { HavenClient } from "../client";
import { ModerationAction, Role } from "../proto";
import { duration } from "../errors";
import type { Item, RoomState } from "../room";
import { characterCount, formatTime, h, replaceChildren } from "./dom";
import { openFlagDialog } from "./flagDialog";
import { renderItem } from "./message";
import type { ActionContext } from "./messageActions";
import { act, openMemberDialog, openRoomSettings } from "./moderation/actions";

export const MAX_RENDERED = 300;  // messages in the DOM at once, so long rooms stay smooth
const STEP_BACK = 100;            // how far "load earlier" moves through messages we already have
const NEAR_BOTTOM_PX = 48;
const OFFLINE_NOTE = "You're offline for the moment. Your message will be sent as soon as we reconnect.";

export interface ConversationHost {
  drafts: Map<string, string>;
  back(): void;  // phone layout: return to the room list
}

export class ConversationView {
  readonly element: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly earlier: HTMLButtonElement;
  private readonly empty: HTMLElement;
  private readonly newest: HTMLButtonElement;
  private readonly typingLine: HTMLElement;
  private readonly peopleList: HTMLUListElement;
  private readonly peopleToggle: HTMLButtonElement;
  private readonly people: HTMLElement;
  private readonly memberCount: HTMLElement;
  private readonly title: HTMLElement;
  private readonly topic: HTMLElement;
  private readonly problem: HTMLElement;
  private readonly textarea: HTMLTextAreaElement;
  private readonly cwRow: HTMLElement;
  private readonly cwInput: HTMLInputElement;
  private readonly cwButton: HTMLButtonElement;
  private readonly counter: HTMLElement;
  private readonly composerNote: HTMLElement;
  private readonly roomStatus: HTMLElement;
  private readonly settings: HTMLButtonElement;
  private readonly rendered = new Map<string, { element: HTMLElement; version: number }>();
  private following = true;       // showing the newest messages, and staying there
  private windowStart: string | null = null;  // first shown item's key when not following
  private unseen = 0;             // arrived while scrolled up
  private typingTimer: number | undefined;
  private readonly actions: ActionContext;

  constructor(private readonly client: HavenClient, private readonly room: RoomState, private readonly host: ConversationHost) {
    const roomId = room.id;
    this.actions = {
      roomId,
      retry: (id) => client.retry(roomId, id),
      discard: (id) => client.discard(roomId, id),
      edit: (id) => {
        const message = client.discard(roomId, id);
        if (!message) return;
        this.textarea.value = message.text;
        if (message.contentWarning) this.openWarning(message.contentWarning);
        this.textarea.focus();
      },
      moderator: client.moderates(roomId),
      flag: (message) => openFlagDialog(client, roomId, message),
      hide: (message) => void act(client, { roomId, action: ModerationAction.HIDE_POST, seq: message.seq },
        `${message.author}'s message is hidden from the room.`),
      restore: (message) => void act(client, { roomId, action: ModerationAction.RESTORE_POST, seq: message.seq },
        `${message.author}'s message is visible again.`),
    };

    this.title = h("h2", { id: "room-title", class: "room-title" });
    this.topic = h("p", { class: "room-topic" });
    this.memberCount = h("span", { class: "count-pill" });
    this.peopleToggle = h("button", {
      type: "button", class: "quiet people-toggle", "aria-expanded": "false", "aria-controls": "people",
      onclick: () => this.togglePeople(),
    }, "People ", this.memberCount);
    const header = h("header", { class: "room-header" },
      h("button", { type: "button", class: "quiet back", onclick: () => host.back() }, h("span", { "aria-hidden": "true" }, "← "), "Rooms"),
      h("div", { class: "room-heading" }, this.title, this.topic),
      h("div", { class: "room-tools" },
        this.settings = h("button", { type: "button", class: "quiet", hidden: true, onclick: () => openRoomSettings(client, roomId) }, "Room settings"),
        this.peopleToggle,
        h("button", { type: "button", class: "quiet leave", onclick: () => client.leave(roomId) }, "Leave room"),
      ),
    );

    this.earlier = h("button", { type: "button", class: "quiet earlier", onclick: () => this.loadEarlier() }, "Load earlier messages");
    this.list = h("ol", { class: "messages", "aria-label": "Messages" });
    this.empty = h("p", { class: "empty-room", hidden: true },
      "It's quiet here right now. You're welcome to say hello, or just sit with us for a while.");
    this.scroller = h("div", { class: "scroller", tabindex: "0", role: "region", "aria-label": "Conversation" },
      h("div", { class: "earlier-row" }, this.earlier), this.empty, this.list);
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.newest = h("button", { type: "button", class: "newest", hidden: true, onclick: () => this.showNewest() }, "Show newest messages");
    this.typingLine = h("p", { class: "typing" });

    this.problem = h("div", { class: "room-problem", hidden: true });
    this.cwInput = h("input", {
      id: "cw-input", type: "text", maxlength: "100", autocomplete: "off",
      placeholder: "for example: self-harm, loss, abuse",
    });
    this.cwRow = h("div", { class: "cw-row", id: "cw-row", hidden: true },
      h("label", { for: "cw-input" }, "Content warning"),
      this.cwInput,
      h("p", { class: "hint" }, "Others see this label first and choose whether to open your message."),
    );
    this.cwButton = h("button", {
      type: "button", class: "quiet cw-add", "aria-expanded": "false", "aria-controls": "cw-row",
      onclick: () => (this.cwRow.hidden ? this.openWarning("") : this.closeWarning()),
    }, "Add content warning");
    this.textarea = h("textarea", {
      id: "composer-text", rows: "2", placeholder: "Write a message…", "aria-describedby": "composer-hint",
    });
    this.textarea.value = host.drafts.get(roomId) ?? "";
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.textarea.addEventListener("input", () => {
      host.drafts.set(roomId, this.textarea.value);
      client.typingInput(roomId, this.textarea.value.trim() !== "");
      this.updateCounter();
    });
    this.counter = h("span", { class: "char-count", "aria-live": "polite" });
    this.composerNote = h("p", { class: "composer-note", "aria-live": "polite" });
    this.roomStatus = h("p", { class: "room-status", role: "status" });
    const form = h("form", { class: "composer", "aria-label": "Write to the room" },
      this.problem,
      this.roomStatus,
      this.cwRow,
      h("label", { for: "composer-text", class: "visually-hidden", id: "composer-label" }, "Message"),
      this.textarea,
      h("div", { class: "composer-row" },
        this.cwButton,
        h("span", { class: "hint", id: "composer-hint" }, "Enter to send, Shift+Enter for a new line"),
        this.counter,
        h("button", { type: "submit", class: "primary send" }, "Send"),
      ),
      this.composerNote,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });

    this.peopleList = h("ul", { class: "people-list" });
    this.people = h("aside", { id: "people", class: "people", "aria-labelledby": "people-title" },
      h("h3", { id: "people-title" }, "People here"), this.peopleList);

    this.element = h("section", { class: "room", "aria-labelledby": "room-title", "data-room": roomId },
      header,
      h("div", { class: "room-body" },
        h("div", { class: "conversation" }, this.scroller, this.newest, this.typingLine, form),
        this.people,
      ),
    );
    this.update();
  }

  /** Now in the page: start at the newest messages. */
  attached(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  focusComposer(): void {
    this.textarea.focus();
  }

  destroy(): void {
    window.clearTimeout(this.typingTimer);
    this.client.setTyping(this.room.id, false);
  }

  /** Redraws what changed. Called at most once per animation frame. */
  update(): void {
    const room = this.room;
    const info = room.info;
    this.title.textContent = info.title || room.id;
    this.topic.textContent = info.topic ?? "";
    this.memberCount.textContent = `(${room.members.size})`;
    this.element.dataset.joined = String(room.joined);
    if (this.client.connection.kind === "open" && this.composerNote.textContent === OFFLINE_NOTE) this.composerNote.textContent = "";
    const moderator = this.client.moderates(room.id);
    if (moderator !== this.actions.moderator) {
      this.actions.moderator = moderator;
      for (const entry of this.rendered.values()) entry.version = -1;  // redraw with the right actions
    }
    this.settings.hidden = !moderator;
    this.updateProblem();
    this.updateRoomStatus();
    this.updatePeople();
    this.updateTyping();
    this.updateMessages();
    this.updateCounter();
  }

  /** A live post by someone else arrived in this room. */
  noteIncoming(): void {
    if (!this.isNearBottom() || !this.following) this.unseen += 1;
  }

  private updateMessages(): void {
    const room = this.room;
    const all = room.items;
    let start: number;
    let end: number;
    if (this.following) {
      end = all.length;
      start = Math.max(0, end - MAX_RENDERED);
    } else {
      const index = this.windowStart === null ? 0 : all.findIndex((item) => item.key === this.windowStart);
      start = Math.max(0, index);
      end = Math.min(all.length, start + MAX_RENDERED);
      if (end === all.length) this.following = true;
    }
    const visible: Item[] = all.slice(start, end);
    if (end === all.length) visible.push(...room.outbox);

    // Keep what the reader is looking at in place while items come and go above it.
    const wasAtBottom = this.isNearBottom();
    const anchor = wasAtBottom ? null : this.topVisible();

    const wanted = new Set(visible.map((item) => item.key));
    for (const [key, entry] of this.rendered) {
      if (!wanted.has(key)) {
        entry.element.remove();
        this.rendered.delete(key);
      }
    }
    let cursor: ChildNode | null = this.list.firstChild;
    for (const item of visible) {
      let entry = this.rendered.get(item.key);
      if (entry && entry.version !== item.version) {
        const fresh = renderItem(item, this.actions);
        const hadFocus = entry.element.contains(document.activeElement);
        entry.element.replaceWith(fresh);
        if (cursor === entry.element) cursor = fresh;
        entry = { element: fresh, version: item.version };
        this.rendered.set(item.key, entry);
        if (hadFocus) (fresh.querySelector("button") ?? this.textarea).focus();
      }
      if (!entry) {
        entry = { element: renderItem(item, this.actions), version: item.version };
        this.rendered.set(item.key, entry);
      }
      if (entry.element === cursor) {
        cursor = cursor.nextSibling;
      } else {
        this.list.insertBefore(entry.element, cursor);
      }
    }

    this.empty.hidden = !(room.joined && visible.length === 0);
    const canGoBack = start > 0 || room.hasEarlier;
    this.earlier.hidden = !canGoBack;
    this.earlier.disabled = room.loadingEarlier;
    this.earlier.textContent = room.loadingEarlier ? "Loading earlier messages…" : "Load earlier messages";
    const behind = end < all.length;
    this.newest.hidden = !behind && this.unseen === 0;
    this.newest.textContent = this.unseen > 0 ? `${this.unseen} new ${this.unseen === 1 ? "message" : "messages"} below` : "Show newest messages";

    if (this.following && wasAtBottom) {
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.unseen = 0;
      this.newest.hidden = true;
    } else if (anchor) {
      const element = this.rendered.get(anchor.key)?.element;
      if (element) this.scroller.scrollTop = element.offsetTop - anchor.offset;
    }
  }

  private loadEarlier(): void {
    const all = this.room.items;
    const first = this.list.firstElementChild as HTMLElement | null;
    const startIndex = first ? all.findIndex((item) => item.key === first.dataset.key) : 0;
    if (startIndex > 0) {
      this.following = false;
      this.windowStart = all[Math.max(0, startIndex - STEP_BACK)].key;
      this.update();
    } else {
      // Everything we have is shown: ask the server for the page before it.
      this.following = all.length + 50 <= MAX_RENDERED;
      this.windowStart = null;
      this.client.loadEarlier(this.room.id);
    }
  }

  private showNewest(): void {
    this.following = true;
    this.windowStart = null;
    this.unseen = 0;
    this.update();
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.textarea.focus();
  }

  private onScroll(): void {
    if (this.isNearBottom() && this.unseen > 0) {
      this.unseen = 0;
      this.newest.hidden = this.following;
    }
  }

  private isNearBottom(): boolean {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  private topVisible(): { key: string; offset: number } | null {
    const top = this.scroller.scrollTop;
    for (const child of this.list.children) {
      const element = child as HTMLElement;
      if (element.offsetTop + element.offsetHeight > top) {
        return { key: element.dataset.key ?? "", offset: element.offsetTop - top };
      }
    }
    return null;
  }

  private updateTyping(): void {
    window.clearTimeout(this.typingTimer);
    const names = this.room.typingNow();
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = "Several people are typing…";
    this.typingLine.textContent = text;
    // Indicators fade by themselves if the "stopped typing" never arrives.
    if (names.length > 0) this.typingTimer = window.setTimeout(() => this.updateTyping(), 1000);
  }

  private updatePeople(): void {
    const me = this.client.me?.sessionId;
    const moderator = this.actions.moderator;
    const members = [...this.room.members.values()].sort((a, b) =>
      a.memberId === me ? -1 : b.memberId === me ? 1 : (a.handle ?? "").localeCompare(b.handle ?? ""));
    replaceChildren(this.peopleList, ...members.map((member) => {
      const role = member.role === Role.ROLE_PEER_SUPPORTER ? "Peer supporter"
        : member.role === Role.ROLE_MODERATOR ? "Moderator" : member.role === Role.ROLE_OPERATOR ? "Host" : "";
      return h("li", { "data-member": member.memberId },
        h("span", { class: "avatar", "aria-hidden": "true" }, (member.handle ?? "?").slice(0, 1).toUpperCase()),
        h("span", { class: "member-name" }, member.handle ?? "", member.memberId === me ? " (you)" : ""),
        role ? h("span", { class: "badge" }, role) : null,
        moderator && member.memberId !== me
          ? h("button", {
            type: "button", class: "link-button member-action", "aria-label": `Moderate ${member.handle ?? ""}`,
            onclick: () => openMemberDialog(this.client, { roomId: this.room.id, handle: member.handle ?? "someone", memberId: member.memberId ?? "" }),
          }, "Moderate")
          : null,
      );
    }));
  }

  private updateProblem(): void {
    const room = this.room;
    const show = room.problem !== "" && !room.joined;
    this.problem.hidden = !show;
    if (show) {
      replaceChildren(this.problem,
        h("p", {}, room.problem),
        room.removed === "banned" ? null
          : h("button", { type: "button", class: "quiet", onclick: () => this.client.join(room.id) },
            room.removed ? "Join again" : "Try joining again"));
    }
  }

  /** Why posting may not work here right now, said before anyone tries. */
  private updateRoomStatus(): void {
    const room = this.room;
    const lines: string[] = [];
    if (room.isMuted()) {
      const until = room.mutedUntil ? ` until ${formatTime(room.mutedUntil)}` : " for now";
      lines.push(`A moderator has paused your posting here${until}. You can still read along.`);
    }
    if (room.locked) lines.push("The room is locked for the moment: only moderators can post.");
    if (room.slowModeSeconds > 0) lines.push(`Slow mode: one message every ${duration(room.slowModeSeconds * 1000)}.`);
    const text = lines.join(" ");
    // Always in the page (a live region must exist before it changes); empty when all is well.
    if (this.roomStatus.textContent !== text) this.roomStatus.textContent = text;
  }

  private updateCounter(): void {
    const max = this.client.limits.maxPostChars ?? 0;
    const count = characterCount(this.textarea.value);
    const showAt = max * 0.8;
    this.counter.textContent = max && count >= showAt ? `${count} / ${max}` : "";
    this.counter.classList.toggle("over", max > 0 && count > max);
  }

  private submit(): void {
    const text = this.textarea.value;
    if (!text.trim()) return;
    const max = this.client.limits.maxPostChars ?? 0;
    if (max && characterCount(text) > max) {
      this.composerNote.textContent = `This message is longer than ${max} characters. You could split it into a few messages.`;
      return;
    }
    this.composerNote.textContent = this.client.connection.kind === "open" ? "" : OFFLINE_NOTE;
    const warning = this.cwRow.hidden ? "" : this.cwInput.value;
    this.client.post(this.room.id, text, warning);
    this.textarea.value = "";
    this.host.drafts.delete(this.room.id);
    this.closeWarning();
    this.following = true;
    this.windowStart = null;
    this.textarea.focus();
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private openWarning(value: string): void {
    this.cwRow.hidden = false;
    this.cwInput.value = value;
    this.cwButton.setAttribute("aria-expanded", "true");
    this.cwButton.textContent = "Remove content warning";
    this.cwInput.focus();
  }

  private closeWarning(): void {
    const hadFocus = this.cwRow.contains(document.activeElement);
    this.cwRow.hidden = true;
    this.cwInput.value = "";
    this.cwButton.setAttribute("aria-expanded", "false");
    this.cwButton.textContent = "Add content warning";
    if (hadFocus) this.cwButton.focus();
  }

  private togglePeople(): void {
    const open = this.peopleToggle.getAttribute("aria-expanded") !== "true";
    this.peopleToggle.setAttribute("aria-expanded", String(open));
    this.people.classList.toggle("open", open);
  }
}
