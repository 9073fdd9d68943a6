// Haven's web client. The page has two screens: the entry (choose a handle or paste a
// token) and the space itself (rooms on one side, the open room, or for moderators the
// moderation view, on the other; one column on a phone). Crisis resources, when the server
// sends them, sit above both until closed. Drawing is batched to one pass per animation frame.
import "./styles.css";
import { HavenClient, type Change } from "./client";
import { kindNames } from "./moderation";
import { openAgreementsDialog } from "./ui/agreementsDialog";
import { h, replaceChildren } from "./ui/dom";
import { ConversationView } from "./ui/conversation";
import { CrisisPanel } from "./ui/crisis";
import { PrivateChat } from "./ui/privateChat";
import { renderEntry } from "./ui/entry";
import { ModerationView } from "./ui/moderation/view";
import { UrgentSignals } from "./ui/moderation/urgentSignals";
import { renderRoomList } from "./ui/roomList";
import { Announcer, ConnectionBanner, Toasts } from "./ui/status";

const ANNOUNCE_CHARS = 160;

class App {
  private readonly client = new HavenClient();
  private readonly root: HTMLElement;
  private readonly banner = new ConnectionBanner(() => this.client.reconnectNow());
  private readonly toasts = new Toasts();
  private readonly announcer = new Announcer();
  private readonly urgentAnnouncer = new Announcer("assertive");
  private readonly urgentSignals = new UrgentSignals();
  private readonly crisis = new CrisisPanel((text) => this.urgentAnnouncer.say(text), () => this.schedule());
  private readonly privateChat = new PrivateChat(this.client, (text) => this.urgentAnnouncer.say(text));
  private readonly drafts = new Map<string, string>();
  private shell: {
    layout: HTMLElement; roomList: HTMLElement; main: HTMLElement; handle: HTMLElement;
    modNav: HTMLElement; modCount: HTMLElement; supportLines: HTMLElement; banned: HTMLElement;
  } | null = null;
  private conversation: ConversationView | null = null;
  private moderationView: ModerationView | null = null;
  private showModeration = false;
  private screen: "entry" | "space" | null = null;
  private frame = 0;
  private focusOnJoin: string | null = null;

  constructor(root: HTMLElement) {
    this.root = root;
    this.client.on((change) => this.changed(change));
    if (!this.client.restore()) this.render();
  }

  private changed(change: Change): void {
    switch (change.type) {
      case "toast":
        return this.toasts.show(change.text, change.tone);
      case "announce":
        return this.announcer.say(change.text);
      case "crisis":
        if (this.client.crisis) this.crisis.show(this.client.crisis);
        break;
      case "agreements":
        return openAgreementsDialog(this.client, change.roomId, change.version, change.text);
      case "private": {
        // To the person: the moderator's words open the panel. To the moderator: the answer
        // shows in the alert's card, and is said aloud.
        if (change.fromModerator) this.privateChat.open(change.threadId);
        else {
          const thread = this.client.privateThreads.get(change.threadId);
          this.urgentAnnouncer.say(`${thread?.withHandle ?? "Someone"} answered you privately.`);
          this.toasts.show(`${thread?.withHandle ?? "Someone"} answered you privately (in the moderation queue).`, "info");
        }
        break;
      }
      case "moderation":
        if (change.item) {
          const room = this.client.directory.find((r) => r.id === change.item!.roomId)?.title ?? change.item.roomId ?? "";
          const what = `${kindNames[change.item.kind ?? 0] ?? "New item"} in ${room}, in the moderation queue.`;
          // Urgent items interrupt (assertive); the rest wait their turn.
          if (change.item.urgent) {
            this.urgentAnnouncer.say(`Urgent: ${what}`);
            this.urgentSignals.raise(room);
          } else {
            this.announcer.say(what);
          }
        }
        break;
      case "connection":
        this.banner.show(this.client.connection);
        break;
      case "incoming":
        if (change.roomId === this.client.activeRoom) {
          const m = change.message;
          const text = m.contentWarning
            ? `${m.author} posted a message with a content warning: ${m.contentWarning}.`
            : `${m.author}: ${m.text.length > ANNOUNCE_CHARS ? `${m.text.slice(0, ANNOUNCE_CHARS)}…` : m.text}`;
          this.announcer.say(text);
          this.conversation?.noteIncoming();
        }
        break;
      case "joined":
        if (this.focusOnJoin === change.roomId && change.roomId === this.client.activeRoom) {
          this.focusOnJoin = null;
          this.schedule(() => this.conversation?.focusComposer());
        }
        break;
    }
    this.schedule();
  }

  private afterFrame: (() => void)[] = [];

  private schedule(after?: () => void): void {
    if (after) this.afterFrame.push(after);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
      const tasks = this.afterFrame.splice(0);
      for (const task of tasks) task();
    });
  }

  private render(): void {
    if (!this.client.identity) {
      this.conversation?.destroy();
      this.conversation = null;
      this.moderationView = null;
      this.showModeration = false;
      this.shell = null;
      if (this.screen !== "entry") {
        this.screen = "entry";
        replaceChildren(this.root, renderEntry(this.client.signInProblem, (identity) => this.client.enter(identity)), this.toasts.element);
      }
      return;
    }
    if (this.screen !== "space" || !this.shell) this.buildShell();
    const shell = this.shell!;
    const client = this.client;
    shell.handle.textContent = client.me?.handle ?? "…";
    renderRoomList(shell.roomList, client, (roomId) => this.openRoom(roomId));
    shell.supportLines.hidden = !this.crisis.available || this.crisis.isOpen;
    this.privateChat.refresh();
    if (client.banned !== !shell.banned.hidden) {
      shell.layout.hidden = client.banned;
      shell.banned.hidden = !client.banned;
      if (client.banned) shell.banned.querySelector<HTMLElement>("h2")?.focus();
    }

    const moderation = client.moderation;
    shell.modNav.hidden = !moderation.enabled;
    shell.modCount.textContent = moderation.size
      ? `${moderation.size} waiting${moderation.urgent ? `, ${moderation.urgent} urgent` : ""}` : "nothing waiting";
    shell.modNav.classList.toggle("has-urgent", moderation.urgent > 0);
    this.urgentSignals.showCount(moderation.enabled ? moderation.unclaimedUrgent : 0);
    if (this.showModeration && moderation.enabled) {
      shell.layout.dataset.view = "room";
      shell.modNav.querySelector("button")?.setAttribute("aria-current", "true");
      if (!this.moderationView || !shell.main.contains(this.moderationView.element)) {
        this.conversation?.destroy();
        this.conversation = null;
        this.moderationView ??= new ModerationView(client, () => this.closeModeration(), this.urgentSignals);
        replaceChildren(shell.main, this.moderationView.element);
        this.moderationView.heading.focus();
      }
      this.moderationView.update();
      return;
    }
    shell.modNav.querySelector("button")?.removeAttribute("aria-current");
    if (this.moderationView && shell.main.contains(this.moderationView.element)) replaceChildren(shell.main);

    const active = client.activeRoom ? client.rooms.get(client.activeRoom) : undefined;
    shell.layout.dataset.view = active ? "room" : "rooms";
    if (!active) {
      if (this.conversation) {
        this.conversation.destroy();
        this.conversation = null;
        replaceChildren(shell.main, this.placeholder());
        // Focus would otherwise be lost with the room that just closed.
        shell.roomList.closest("nav")?.querySelector<HTMLElement>("h2")?.focus();
      } else if (!shell.main.firstChild) {
        replaceChildren(shell.main, this.placeholder());
      }
      return;
    }
    if (!this.conversation || this.conversation.element.dataset.room !== active.id) {
      this.conversation?.destroy();
      this.conversation = new ConversationView(client, active, {
        drafts: this.drafts,
        back: () => client.open(null),
      });
      replaceChildren(shell.main, this.conversation.element);
      this.conversation.attached();
    } else {
      this.conversation.update();
    }
  }

  private openModeration(): void {
    this.showModeration = true;
    this.schedule();
  }

  private closeModeration(): void {
    this.showModeration = false;
    this.client.open(null);
    this.schedule(() => this.shell?.modNav.querySelector("button")?.focus());
  }

  private openRoom(roomId: string): void {
    this.showModeration = false;
    const inside = this.client.rooms.get(roomId);
    if (inside?.joined) {
      this.client.open(roomId);
      this.schedule(() => this.conversation?.focusComposer());
    } else {
      this.focusOnJoin = roomId;
      this.client.join(roomId);
    }
  }

  private placeholder(): HTMLElement {
    return h("div", { class: "placeholder" },
      h("h2", {}, "Choose a room"),
      h("p", {}, "Pick a room from the list to join the conversation. You can read for a while before you say anything, and leave whenever you like."));
  }

  private buildShell(): void {
    this.screen = "space";
    const handle = h("strong", { class: "my-handle" });
    const roomList = h("ul", { class: "room-list" });
    const main = h("main", { id: "main", class: "main", tabindex: "-1" });
    const modCount = h("span", { class: "mod-count" });
    const modNav = h("div", { class: "mod-nav", hidden: true },
      h("button", { type: "button", class: "secondary mod-open", onclick: () => this.openModeration() },
        "Moderation", h("span", { class: "visually-hidden" }, ": "), modCount));
    const supportLines = h("button", { type: "button", class: "link-button", hidden: true, onclick: () => this.crisis.reopen() },
      "Show support lines again");
    const layout = h("div", { class: "layout", "data-view": "rooms" },
      h("nav", { class: "sidebar", "aria-labelledby": "rooms-title" },
        modNav,
        h("h2", { id: "rooms-title", tabindex: "-1" }, "Rooms"),
        roomList,
        h("div", { class: "safety small" },
          h("p", {}, "Haven is peer support, not an emergency service. If you are in danger, please call your local emergency number."),
          supportLines),
      ),
      main,
    );
    const banned = h("section", { class: "banned", hidden: true, "aria-labelledby": "banned-title" },
      h("div", { class: "entry-card" },
        h("h2", { id: "banned-title", tabindex: "-1" }, "A moderator has closed your session"),
        h("p", {}, "You've been removed by a moderator, so Haven has disconnected you and won't reconnect by itself."),
        h("p", {}, "We know this can feel hard. If you think it was a mistake, you can get in touch with the people who run this Haven."),
        h("p", { class: "safety" },
          "If you're struggling right now, please reach out to someone you trust, a crisis line, or your local emergency number."),
        h("button", { type: "button", class: "quiet", onclick: () => this.client.leaveHaven() }, "Leave Haven")));
    const top = h("header", { class: "topbar" },
      h("a", { class: "skip-link", href: "#main" }, "Skip to main content"),
      h("p", { class: "brand" }, h("span", { class: "brand-dot", "aria-hidden": "true" }), "Haven"),
      h("p", { class: "me" }, "You are ", handle),
      h("button", { type: "button", class: "quiet", onclick: () => this.client.leaveHaven() }, "Leave Haven"),
    );
    replaceChildren(this.root, top, this.banner.element, this.crisis.element, this.privateChat.element, layout, banned,
      this.toasts.element, this.announcer.element, this.urgentAnnouncer.element);
    this.banner.show(this.client.connection);
    this.shell = { layout, roomList, main, handle, modNav, modCount, supportLines, banned };
  }
}

const root = document.getElementById("app");
if (root) new App(root);
