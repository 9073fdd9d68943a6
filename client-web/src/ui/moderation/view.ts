// The moderator's view: the live queue and the audit log, as two tabs. Opened from the side
// bar; on a phone it takes the screen like a room does, with a way back to the list.
import type { HavenClient } from "../../client";
import { h } from "../dom";
import { AuditView } from "./audit";
import { refreshPrivateLines, renderQueueItem } from "./queue";
import type { UrgentSignals } from "./urgentSignals";

type Tab = "queue" | "audit";

export class ModerationView {
  readonly element: HTMLElement;
  private tab: Tab = "queue";
  private readonly tabs: Record<Tab, HTMLButtonElement>;
  private readonly panels: Record<Tab, HTMLElement>;
  private readonly queue = h("ol", { class: "queue" });
  private readonly empty = h("p", { class: "queue-empty" }, "Nothing is waiting right now. Thank you for looking after the rooms.");
  private readonly cards = new Map<string, { element: HTMLElement; item: unknown }>();
  private readonly audit: AuditView;
  private readonly duty = h("input", { type: "checkbox", id: "on-duty" }) as HTMLInputElement;
  private readonly roster = h("p", { class: "hint duty-roster", role: "status" });
  readonly heading = h("h2", { id: "moderation-title", tabindex: "-1" }, "Moderation");

  constructor(private readonly client: HavenClient, back: () => void, signals: UrgentSignals) {
    this.audit = new AuditView(client);
    const chime = h("input", { type: "checkbox", id: "urgent-chime" }) as HTMLInputElement;
    chime.checked = signals.soundOn;
    chime.addEventListener("change", () => { signals.soundOn = chime.checked; });
    const notifyStatus = h("span", { class: "hint", role: "status" });
    const notify = signals.canNotify
      ? h("button", {
        type: "button", class: "quiet",
        onclick: async () => {
          const answer = await signals.askToNotify();
          notifyStatus.textContent = answer === "granted" ? "Desktop notifications are on." : "Desktop notifications stay off.";
        },
      }, "Desktop notifications for urgent items")
      : null;
    this.duty.addEventListener("change", async () => {
      const wanted = this.duty.checked;
      const outcome = await client.setDuty(wanted);
      if (!outcome.ok) {
        this.duty.checked = !wanted;
        this.roster.textContent = outcome.text;
      }
    });
    const onDuty = h("div", { class: "urgent-settings" },
      h("label", { for: "on-duty" }, this.duty, " I am on duty"),
      h("p", { class: "hint" }, "While you are on duty, a person whose post raises a crisis alert is told a moderator has been let know."),
      this.roster);
    const alerting = h("div", { class: "urgent-settings" },
      h("label", { for: "urgent-chime" }, chime, " Chime for urgent items"), notify, notifyStatus);
    const tab = (id: Tab, label: string) => h("button", {
      type: "button", role: "tab", id: `tab-${id}`, "aria-controls": `panel-${id}`, class: "tab",
      onclick: () => this.select(id), onkeydown: (event: Event) => this.arrows(event as KeyboardEvent),
    }, label);
    this.tabs = { queue: tab("queue", "Queue"), audit: tab("audit", "Audit log") };
    this.panels = {
      queue: h("section", { id: "panel-queue", role: "tabpanel", "aria-labelledby": "tab-queue", class: "mod-panel" },
        h("p", { class: "hint" }, "Urgent items come first. Claim one to answer it: only one moderator can. Each decision is kept in the audit log."),
        onDuty, alerting, this.empty, this.queue),
      audit: h("section", { id: "panel-audit", role: "tabpanel", "aria-labelledby": "tab-audit", class: "mod-panel" }, this.audit.element),
    };
    this.element = h("section", { class: "moderation", "aria-labelledby": "moderation-title" },
      h("header", { class: "room-header" },
        h("button", { type: "button", class: "quiet back", onclick: back }, h("span", { "aria-hidden": "true" }, "← "), "Rooms"),
        h("div", { class: "room-heading" }, this.heading,
          h("p", { class: "room-topic" }, "Flags, crisis alerts and held posts from the rooms you look after.")),
      ),
      h("div", { class: "mod-body" },
        h("div", { class: "tabs", role: "tablist", "aria-label": "Moderation" }, this.tabs.queue, this.tabs.audit),
        this.panels.queue, this.panels.audit));
    this.select("queue", false);
  }

  update(): void {
    const people = this.client.moderation.onDuty;
    this.duty.checked = this.client.moderation.meOnDuty;
    this.roster.textContent = people.length ? `On duty now: ${people.join(", ")}.` : "Nobody is on duty right now.";
    const entries = this.client.moderation.sorted();
    this.tabs.queue.textContent = entries.length ? `Queue (${entries.length})` : "Queue";
    this.empty.hidden = entries.length > 0 || !this.client.moderation.loaded;
    const wanted = new Set(entries.map((e) => e.item.id ?? ""));
    let focusLost = false;
    for (const [id, card] of this.cards) {
      if (wanted.has(id)) continue;
      focusLost ||= card.element.contains(document.activeElement);
      card.element.remove();
      this.cards.delete(id);
    }
    let cursor: ChildNode | null = this.queue.firstChild;
    for (const entry of entries) {
      const id = entry.item.id ?? "";
      let card = this.cards.get(id);
      if (card && card.item !== entry.item) {
        const fresh = renderQueueItem(entry, this.client);
        if (cursor === card.element) cursor = fresh;
        card.element.replaceWith(fresh);
        card = { element: fresh, item: entry.item };
        this.cards.set(id, card);
      }
      if (!card) {
        card = { element: renderQueueItem(entry, this.client), item: entry.item };
        this.cards.set(id, card);
      }
      refreshPrivateLines(card.element, this.client);
      if (card.element === cursor) cursor = cursor.nextSibling;
      else this.queue.insertBefore(card.element, cursor);
    }
    // The card someone acted on is gone: continue with the next one, or the tab.
    if (focusLost) (this.queue.querySelector<HTMLElement>(".item-actions button") ?? this.tabs.queue).focus();
    if (this.tab === "audit") this.audit.update();
  }

  private select(tab: Tab, focus = true): void {
    this.tab = tab;
    for (const key of ["queue", "audit"] as Tab[]) {
      const on = key === tab;
      this.tabs[key].setAttribute("aria-selected", String(on));
      this.tabs[key].tabIndex = on ? 0 : -1;
      this.panels[key].hidden = !on;
    }
    if (focus) this.tabs[tab].focus();
    // Opening the log reads its newest page again.
    if (focus && tab === "audit") void this.client.loadAudit();
    this.update();
  }

  /** Tabs pattern: the arrow keys (and Home, End) move between the tabs. */
  private arrows(event: KeyboardEvent): void {
    const other: Tab = this.tab === "queue" ? "audit" : "queue";
    const next: Record<string, Tab> = { ArrowLeft: other, ArrowRight: other, Home: "queue", End: "audit" };
    if (!next[event.key]) return;
    event.preventDefault();
    this.select(next[event.key]);
  }
}
