// A modal dialog on the native <dialog> element: focus moves into it, Tab stays inside, the
// page behind is inert, Escape closes it, and focus goes back where it was when it closes.
import { append, h, type Child } from "./dom";

export interface DialogHandle {
  element: HTMLDialogElement;
  close(): void;
}

export interface DialogOptions {
  className?: string;
  /** Where focus goes on closing when the control that opened the dialog is gone. */
  returnFocus?: () => HTMLElement | null | undefined;
}

let counter = 0;

export function openDialog(title: string, build: (dialog: DialogHandle) => Child[], options: DialogOptions = {}): DialogHandle {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = `dialog-title-${++counter}`;
  const element = h("dialog", { class: `dialog ${options.className ?? ""}`.trim(), "aria-labelledby": titleId });
  const handle: DialogHandle = { element, close: () => element.close() };
  append(element, h("h2", { id: titleId, class: "dialog-title" }, title), ...build(handle));
  element.addEventListener("close", () => {
    element.remove();
    const target = opener?.isConnected ? opener : options.returnFocus?.();
    target?.focus();
  });
  document.body.append(element);
  element.showModal();
  return handle;
}

/** A labelled group of radio buttons; returns the fieldset and a reader of the choice. */
export function radioGroup(name: string, legend: string, choices: [string, string][], checked?: string):
  { element: HTMLFieldSetElement; value(): string } {
  const element = h("fieldset", { class: "choices" },
    h("legend", {}, legend),
    ...choices.map(([value, label]) => {
      const id = `${name}-${value}`;
      return h("div", { class: "choice" },
        h("input", { type: "radio", name, id, value, required: true, checked: value === checked }),
        h("label", { for: id }, label));
    }),
  );
  return {
    element,
    value: () => element.querySelector<HTMLInputElement>("input:checked")?.value ?? "",
  };
}
