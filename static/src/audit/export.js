// Exports of the audit log (JSON lines, CSV) with the page's filters. The API wants the bearer
// token, so the page fetches the file itself: it reads the answer as it streams, saying how much
// has arrived (an export of 100,000 events takes a while, and the page stays usable meanwhile),
// then hands the whole to the browser as a download.

import { fetchWithToken, saveBlob } from "../lib/api.js";
import { formatBytes } from "../lib/dom.js";
import { queryOf } from "./filters.js";

const NEWLINE = 10;
const PROGRESS_EVERY_MS = 150;
const TYPES = { jsonl: "application/x-ndjson", csv: "text/csv" };

function countLines(bytes) {
  let lines = 0;
  for (let i = 0; i < bytes.length; i += 1) if (bytes[i] === NEWLINE) lines += 1;
  return lines;
}

export class AuditExport {
  /**
   * @param {object} opts
   * @param {HTMLElement} opts.box  the status line (hidden when idle)
   * @param {HTMLElement} opts.text  its text
   * @param {HTMLButtonElement} opts.cancel
   * @param {HTMLButtonElement[]} opts.buttons  the export buttons, disabled while one runs
   */
  constructor({ box, text, cancel, buttons }) {
    Object.assign(this, { box, text, cancel, buttons });
    this.controller = null;
    cancel.addEventListener("click", () => this.controller && this.controller.abort());
  }

  say(message, busy) {
    this.text.textContent = message;
    this.box.hidden = !message;
    this.box.dataset.busy = busy ? "true" : "false";
    this.cancel.hidden = !busy;
    for (const button of this.buttons) button.disabled = busy;
  }

  /** Export what `filters` match as `format` ("jsonl" or "csv"); resolves when saved, cancelled or failed. */
  async run(format, filters) {
    this.controller = new AbortController();
    const unit = format === "csv" ? "rows" : "events";
    const started = Date.now();
    this.say("Export starting…", true);
    try {
      const path = "/api/audit/export?" + queryOf(filters, { format });
      const response = await fetchWithToken(path, { signal: this.controller.signal });
      const reader = response.body.getReader();
      const chunks = [];
      let bytes = 0;
      let lines = 0;
      let shown = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        bytes += value.length;
        lines += countLines(value);
        if (Date.now() - shown > PROGRESS_EVERY_MS) {
          shown = Date.now();
          this.say(`Exporting… ${lines.toLocaleString()} ${unit} (${formatBytes(bytes)}) so far`, true);
        }
      }
      const count = format === "csv" ? Math.max(0, lines - 1) : lines; // the CSV's header is no event
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      saveBlob(new Blob(chunks, { type: TYPES[format] }), `aict-audit-${stamp}.${format}`);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      this.say(`Exported ${count.toLocaleString()} events (${formatBytes(bytes)}) in ${seconds} s.`, false);
    } catch (err) {
      this.say(err.name === "AbortError" ? "Export cancelled." : `Export failed: ${err.message}`, false);
      if (err.name !== "AbortError") throw err;
    } finally {
      this.controller = null;
    }
  }
}
