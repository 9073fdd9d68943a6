// Haven's web client, participant view. The page has two screens: the entry (choose a
// handle or paste a token) and the space itself (rooms on one side, the open room on the
// other; one column on a phone). Drawing is batched to one pass per animation frame.
import "./styles.css";
import { HavenClient, type Change } from "./client";
import { h, replaceChildren } from "./ui/dom";
import { ConversationView } from "./ui/conversation";
import { renderEntry } from "./ui/entry";
import { renderRoomList } from "./ui/roomList";
import { Announcer, ConnectionBanner, Toasts } from "./ui/status";

const ANNOUNCE_CHARS = 160;

class App {
  private readonly client = new HavenClient();
  private readonly root: HTMLElement;
  private readonly banner = new ConnectionBanner(() => this.client.reconnectNow());
  private readonly toasts = new Toasts();
  private readonly announcer = new Announcer();
  private readonly drafts = new Map<string, string>();
  private shell: { layout: HTMLElement; roomList: HTMLElement; main: HTMLElement; handle: HTMLElement } | null = null;
  private conversation: ConversationView | null = null;
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

  private openRoom(roomId: string): void {
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
    const layout = h("div", { class: "layout", "data-view": "rooms" },
      h("nav", { class: "sidebar", "aria-labelledby": "rooms-title" },
        h("h2", { id: "rooms-title", tabindex: "-1" }, "Rooms"),
        roomList,
        h("p", { class: "safety small" },
          "Haven is peer support, not an emergency service. If you are in danger, please call your local emergency number."),
      ),
      main,
    );
    const top = h("header", { class: "topbar" },
      h("a", { class: "skip-link", href: "#main" }, "Skip to main content"),
      h("p", { class: "brand" }, h("span", { class: "brand-dot", "aria-hidden": "true" }), "Haven"),
      h("p", { class: "me" }, "You are ", handle),
      h("button", { type: "button", class: "quiet", onclick: () => this.client.leaveHaven() }, "Leave Haven"),
    );
    replaceChildren(this.root, top, this.banner.element, layout, this.toasts.element, this.announcer.element);
    this.banner.show(this.client.connection);
    this.shell = { layout, roomList, main, handle };
  }
}

const root = document.getElementById("app");
if (root) new App(root);
