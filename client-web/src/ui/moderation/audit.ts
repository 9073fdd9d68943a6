// The audit log: every moderator action and automatic decision, newest first, a page at a
// time ("Load more" asks for the entries before the last one shown).
import type { HavenClient } from "../../client";
import { auditName, reasonNames } from "../../moderation";
import { FlagReason, type AuditEntry } from "../../proto";
import { h, replaceChildren } from "../dom";

const stamp = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

/** A flag's reason is recorded by its enum name ("FLAG_SPAM"): said in words here. */
function reasonText(reason: string): string {
  const flag = (FlagReason as unknown as Record<string, number>)[reason];
  return (flag !== undefined && reasonNames[flag]) || reason;
}

function renderEntry(entry: AuditEntry, client: HavenClient): HTMLElement {
  const time = Number(entry.timeMs ?? 0);
  const room = client.directory.find((r) => r.id === entry.roomId)?.title || entry.roomId || "";
  return h("li", { class: "audit-entry", "data-action": entry.action },
    h("p", { class: "audit-what" }, h("strong", {}, entry.actor || "haven"), " ", auditName(entry.action ?? "")),
    h("p", { class: "audit-meta" },
      h("time", { datetime: new Date(time).toISOString() }, stamp.format(time)),
      room ? ` · ${room}` : "", entry.target ? ` · ${entry.target}` : ""),
    entry.reason ? h("p", { class: "audit-reason" }, `Reason: ${reasonText(entry.reason)}`) : null);
}

export class AuditView {
  readonly element: HTMLElement;
  private readonly list = h("ol", { class: "audit-list" });
  private readonly scope: HTMLSelectElement;
  private readonly more: HTMLButtonElement;
  private readonly status = h("p", { class: "audit-status", role: "status" });

  constructor(private readonly client: HavenClient) {
    this.scope = h("select", { id: "audit-scope" });
    this.scope.addEventListener("change", () => {
      client.moderation.audit.scope = this.scope.value;
      void client.loadAudit();
    });
    this.more = h("button", { type: "button", class: "quiet", onclick: () => void client.loadAudit(true) }, "Load more");
    this.element = h("div", { class: "audit" },
      h("div", { class: "audit-tools" },
        h("label", { for: "audit-scope" }, "Room"), this.scope,
        h("button", { type: "button", class: "quiet", onclick: () => void client.loadAudit() }, "Refresh")),
      this.status, this.list, h("div", { class: "audit-more" }, this.more));
  }

  update(): void {
    const client = this.client;
    const audit = client.moderation.audit;
    if (!audit.loaded && !audit.loading) void client.loadAudit();
    const rooms = client.directory.filter((r) => client.globalModerator || client.moderates(r.id ?? ""));
    const options: [string, string][] = [...(client.globalModerator ? [["", "All rooms"] as [string, string]] : []),
      ...rooms.map((r) => [r.id ?? "", r.title || r.id || ""] as [string, string])];
    if (this.scope.options.length !== options.length) {
      replaceChildren(this.scope, ...options.map(([value, label]) => h("option", { value }, label)));
    }
    this.scope.value = audit.scope;
    replaceChildren(this.list, ...audit.entries.map((entry) => renderEntry(entry, client)));
    this.status.textContent = audit.problem
      || (audit.loading ? "Loading…" : audit.loaded && audit.entries.length === 0 ? "Nothing has been recorded yet." : "");
    this.status.classList.toggle("form-error", audit.problem !== "");
    this.more.hidden = !audit.hasMore;
    this.more.disabled = audit.loading;
  }
}
