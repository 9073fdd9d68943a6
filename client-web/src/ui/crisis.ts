// Crisis resources: when someone's words suggest they may be at risk, the server sends them,
// and only them, an Alert with support lines for their language. Shown here calmly and
// privately: a panel at the top of the page (not a modal that traps anyone), focus moved to
// it, real tel: links, and it stays until the person closes it. It can be opened again from
// the side bar.
import type { CrisisAlert } from "../client";
import type { CrisisResource } from "../proto";
import { h, replaceChildren } from "./dom";

// Used when the server sends no panel text of its own (an older server).
const TITLE = "You don't have to go through this alone";
const PRIVATE_NOTE = "Only you can see this.";
const EMERGENCY = "If you are in immediate danger, please call your local emergency number now.";

function website(url: string): HTMLElement | null {
  if (!/^https?:\/\//i.test(url)) return null;
  const shown = url.replace(/^https?:\/\/(www\.)?/i, "").replace(/\/$/, "");
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, shown);
}

const NUMBER = /\+?\d[\d -]*\d|\d/g;
const tel = (number: string) => `tel:${number.replace(/[^\d+]/g, "")}`;

/**
 * The phone field as written, every number in it a tel: link. One field may hold several
 * ("911 (US & Canada), 999 (UK)"): each gets its own link, never one run-together number.
 */
function phoneLine(phone: string): HTMLElement | null {
  const numbers = phone.match(NUMBER) ?? [];
  if (numbers.length === 0) return phone ? h("p", {}, phone) : null;
  if (numbers.length === 1 && numbers[0] === phone.trim()) {
    return h("p", {}, h("a", { href: tel(phone), class: "resource-call" }, `Call ${phone.trim()}`));
  }
  const line = h("p", { class: "resource-calls" }, "Call ");
  let rest = phone;
  for (const number of numbers) {
    const at = rest.indexOf(number);
    line.append(rest.slice(0, at), h("a", { href: tel(number), class: "resource-call", "aria-label": `Call ${number}` }, number));
    rest = rest.slice(at + number.length);
  }
  line.append(rest);
  return line;
}

function renderResource(resource: CrisisResource): HTMLElement {
  const url = website(resource.url ?? "");
  return h("li", { class: "resource" },
    h("h3", {}, resource.name ?? ""),
    phoneLine(resource.phone ?? ""),
    resource.text ? h("p", {}, resource.text) : null,
    url ? h("p", {}, url) : null,
    resource.hours ? h("p", { class: "resource-hours" }, `Hours: ${resource.hours}`) : null,
  );
}

export class CrisisPanel {
  readonly element = h("div", { class: "crisis-slot" });
  private alert: CrisisAlert | null = null;
  private returnTo: HTMLElement | null = null;

  constructor(private readonly announce: (text: string) => void, private readonly changed: () => void) {}

  /** Resources were received at some point: they can be opened again. */
  get available(): boolean {
    return this.alert !== null;
  }

  get isOpen(): boolean {
    return this.element.firstChild !== null;
  }

  show(alert: CrisisAlert): void {
    this.alert = alert;
    const title = alert.headline || TITLE;
    const active = document.activeElement;
    if (!this.element.contains(active) && active instanceof HTMLElement) this.returnTo = active;
    const close = h("button", { type: "button", class: "quiet", "aria-label": "Close support lines", onclick: () => this.close() }, "Close");
    const panel = h("section", {
      class: "crisis-panel", role: "region", "aria-labelledby": "crisis-title", "aria-describedby": "crisis-message", tabindex: "-1",
    },
      h("div", { class: "crisis-top" },
        h("div", { class: "crisis-head" }, h("h2", { id: "crisis-title" }, title), close),
        // The private note comes from the same list as the resources, in the same language;
        // the emergency line stays in English only when the list has no note of its own.
        h("p", { class: "crisis-private" }, alert.privateNote || `${PRIVATE_NOTE} ${EMERGENCY}`)),
      h("p", { id: "crisis-message" }, alert.message),
      h("ul", { class: "crisis-resources" }, ...alert.resources.map(renderResource)),
      // Whether a moderator on duty was let know, or none is and the lines above are the way to
      // get help now: said plainly, so nobody waits for a reply that will not come.
      ...(alert.humanNote ? [h("p", { class: "crisis-human", "data-on-duty": alert.moderatorOnDuty ? "yes" : "no" }, alert.humanNote)] : []),
    );
    replaceChildren(this.element, panel);
    panel.focus();
    this.announce(`${title}. ${alert.privateNote || PRIVATE_NOTE}${alert.humanNote ? ` ${alert.humanNote}` : ""}`);
    this.changed();
  }

  reopen(): void {
    if (this.alert) this.show(this.alert);
  }

  close(): void {
    replaceChildren(this.element);
    const target = this.returnTo?.isConnected ? this.returnTo : document.getElementById("composer-text");
    target?.focus();
    this.changed();
  }
}
