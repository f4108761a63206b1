/**
 * A confirmation asked in a modal `<dialog>`: keyboard-operable (Esc cancels, focus stays
 * inside), announced as a dialog to screen readers.
 *
 * @module
 */
import { h } from "./dom.ts";

/** Options of {@linkcode confirmAction}. */
export interface ConfirmOptions {
  title: string;
  message: string;
  /** Label of the button that goes ahead ("Restart agent"). */
  confirmLabel: string;
}

/** Asks the user; resolves true when they confirm. */
export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  const titleId = "confirm-title";
  const confirm = h(
    "button",
    { type: "button", class: "danger", id: "confirm-yes" },
    options.confirmLabel,
  );
  const cancel = h("button", { type: "button", class: "ghost", id: "confirm-no" }, "Cancel");
  const dialog = h(
    "dialog",
    { id: "confirm-dialog", class: "card", attrs: { "aria-labelledby": titleId } },
    h("h2", { id: titleId }, options.title),
    h("p", null, options.message),
    h("div", { class: "dialog-actions" }, cancel, confirm),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answered = false;
    const finish = (yes: boolean) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(yes);
    };
    confirm.addEventListener("click", () => finish(true));
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("close", () => finish(false));
    dialog.showModal();
    cancel.focus();
  });
}
