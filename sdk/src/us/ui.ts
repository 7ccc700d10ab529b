// The US notice bar, the informational notice and the US opt-out panel,
// built on the banner's Ui (its layers, panel, switches and focus rules).
// They live in the US chunk (dist/nexaguard-us.js), which only visitors in
// `us` and `notice_only` regions load.
//
// Invariant: one layer at a time, as for the banner: showing the notice or
// the panel closes whatever was open, and each open and close is reported
// through the Ui's `ui` callback.

import type { Ui, UsOptOut, UsState } from "../ui";

const US_KEYS = ["sale", "targeted"] as const;

/** An opt-out panel switch (on = allowed): off where the visitor opted out, and both off while GPC is honoured. */
export const usAllowed = (o: UsState, k: keyof UsOptOut): boolean => !o.gpc && !o.optedOut[k];

/** "Your browser's Global Privacy Control signal was honoured", while it is. */
function gpcLine(ui: Ui, gpc: boolean): HTMLElement | null {
  return gpc ? ui._h("p", { "data-nexaguard": "gpc" }, ui._s.gpc) : null;
}

/**
 * The US notice or the informational notice: a bar that blocks nothing
 * (a region, not a dialog). `us` adds "Do not sell or share my personal
 * information", which opens the opt-out panel with `o`.
 */
export function showNotice(ui: Ui, o: UsState & { kind: "us" | "notice_only" }): void {
  if (ui._is("notice")) return;
  const s = ui._s;
  const h = ui._h;
  const us = o.kind === "us";
  ui._show(
    "notice",
    h(
      "div",
      { class: "ng bar nt", "data-nexaguard": "notice", "data-kind": o.kind, role: "region", "aria-label": s.noticeTitle, tabindex: -1, lang: ui._lang },
      h(
        "div",
        null,
        h("p", null, s.notice),
        gpcLine(ui, o.gpc),
        ui._policyLink(),
        h(
          "div",
          { class: "act" },
          us && ui._button("opt-out", s.dns, false, () => showOptOut(ui, o)),
          ui._button("close", s.close, us, () => {
            ui._closeAll(us);
            ui._on.noticeClosed();
          }),
        ),
      ),
    ),
    false,
  );
}

/** The US opt-out panel: a switch per opt-out (on = allowed), all off while GPC is honoured. */
export function showOptOut(ui: Ui, o: UsState): void {
  if (ui._is("opt_out")) return;
  const s = ui._s;
  const h = ui._h;
  const boxes = US_KEYS.map((k) => ui._box("us-" + k, "data-opt-out", k, usAllowed(o, k), s.allowed, false, "switch"));
  const off = (i: number) => !(boxes[i].firstChild as HTMLInputElement).checked;
  ui._panel(
    "opt_out",
    s.dns,
    [
      h("div", { id: "ng-pd" }, h("p", null, s.notice), gpcLine(ui, o.gpc)),
      ui._policyLink(),
      US_KEYS.map((k, i) => ui._item("us-" + k, s[k], [], [boxes[i]])),
    ],
    [
      ui._button("cancel", s.cancel, true, () => ui._dismiss()),
      ui._button("save", s.save, false, () => ui._on.usChoice({ sale: off(0), targeted: off(1) }, "preference_center")),
    ],
  );
}
