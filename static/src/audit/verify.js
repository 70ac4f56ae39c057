// The audit page's integrity box: the chain checked (GET /api/audit/verify) when the page opens
// and on "Verify now", with how long the check has been running while it runs.

import { api } from "../lib/api.js";

const REASONS = {
  altered: "was altered after it was written",
  missing: "is missing: an event before it was deleted",
  inserted: "was inserted: it is not part of the chain",
  truncated: "is the last one kept: the newest events were cut off",
};

export class VerifyBox {
  constructor({ state, progress, button, onBadId, onRefused }) {
    Object.assign(this, { state, progress, button, onBadId, onRefused });
    button.addEventListener("click", () => this.run());
  }

  show(kind, parts) {
    this.state.dataset.state = kind;
    this.state.replaceChildren(...parts);
  }

  async run() {
    this.button.disabled = true;
    this.progress.hidden = false;
    const started = Date.now();
    const tick = setInterval(() => {
      this.show("checking", [`Checking the chain… ${Math.round((Date.now() - started) / 1000)} s`]);
    }, 500);
    this.show("checking", ["Checking the chain…"]);
    try {
      const verdict = await api("GET", "/api/audit/verify");
      clearInterval(tick);
      if (verdict.ok) {
        this.show("ok", [`Intact: ${Number(verdict.checked).toLocaleString()} events checked, `,
          `none altered, missing, inserted or cut off (${new Date().toLocaleTimeString()}).`]);
      } else {
        const bad = String(verdict.first_bad_id ?? "?");
        const reason = REASONS[verdict.reason] || (verdict.reason ? `failed the check (${verdict.reason})` : "failed the check");
        const link = document.createElement("button");
        link.type = "button";
        link.className = "linklike";
        link.textContent = `#${bad}`;
        link.addEventListener("click", () => this.onBadId(bad));
        this.show("bad", [`Broken: event `, link, ` ${reason}. `,
          `${Number(verdict.checked).toLocaleString()} events checked.`]);
      }
    } catch (err) {
      clearInterval(tick);
      if (!this.onRefused(err)) this.show("error", [`The check could not run: ${err.message}`]);
    } finally {
      this.progress.hidden = true;
      this.button.disabled = false;
    }
  }
}
