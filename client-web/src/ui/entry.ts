// The first screen: enter as a guest under a handle of one's choosing, or with a token.
import type { Identity } from "../storage";
import { h } from "./dom";

const HANDLE = /^[\p{L}\p{N} ._-]{2,32}$/u;

export function renderEntry(problem: string, enter: (identity: Identity) => void): HTMLElement {
  const handle = h("input", {
    id: "handle", name: "handle", type: "text", maxlength: "32", autocomplete: "nickname",
    spellcheck: "false", "aria-describedby": "handle-hint handle-error",
  });
  const error = h("p", { id: "handle-error", class: "form-error", role: "alert" });
  // Why the server turned the last attempt away (a refused token or handle), said plainly.
  const refused = h("p", { class: "form-error entry-problem", role: "alert" }, problem);
  const guestForm = h("form", { class: "stack", "aria-labelledby": "guest-title" },
    h("h2", { id: "guest-title", class: "visually-hidden" }, "Enter as a guest"),
    h("label", { for: "handle" }, "What would you like to be called?"),
    h("p", { class: "hint", id: "handle-hint" },
      "Any name you like, ideally not your real one. Leave it empty and we'll suggest a friendly one."),
    handle,
    error,
    h("button", { type: "submit", class: "primary" }, "Enter as a guest"),
  );
  guestForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = handle.value.trim().replace(/\s+/g, " ");
    if (value && !HANDLE.test(value)) {
      error.textContent = "Please use 2 to 32 letters, digits, spaces, '-', '_' or '.'.";
      handle.setAttribute("aria-invalid", "true");
      handle.focus();
      return;
    }
    enter({ guestHandle: value });
  });

  const token = h("textarea", { id: "token", rows: "3", spellcheck: "false", autocomplete: "off" });
  const tokenForm = h("form", { class: "stack" },
    h("label", { for: "token" }, "Sign-in token"),
    h("p", { class: "hint" }, "If your group's organiser gave you a token, paste it here."),
    token,
    h("button", { type: "submit", class: "secondary" }, "Sign in"),
  );
  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = token.value.trim();
    if (value) enter({ token: value });
  });

  const main = h("main", { class: "entry", id: "main" },
    h("div", { class: "entry-card" },
      h("p", { class: "brand-mark", "aria-hidden": "true" }, "◡"),
      h("h1", {}, "Welcome to Haven"),
      h("p", { class: "lead" }, "A calm place to talk with people who understand. Take your time; there's no rush here."),
      refused,
      guestForm,
      h("details", { class: "token-box" }, h("summary", {}, "I have a sign-in token"), tokenForm),
      h("p", { class: "safety" },
        h("strong", {}, "Haven is peer support, not an emergency service. "),
        "If you are in danger or thinking about ending your life, please call your local emergency number or a crisis line now."),
    ),
  );
  queueMicrotask(() => handle.focus());
  return main;
}
