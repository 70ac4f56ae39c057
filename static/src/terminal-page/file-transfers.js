// Uploads and downloads of a workspace's files, each shown with a progress bar, its speed and a
// Cancel button. The API wants the bearer token, so the browser's own download cannot be used:
// an upload is an XMLHttpRequest (its upload progress events), a download a fetch read as a stream
// into a Blob, handed to the browser as a file once complete.

import { ApiError, freshAccessToken, refreshAccessToken } from "../lib/api.js";
import { el, formatBytes } from "../lib/dom.js";
import { controlSafe } from "../lib/escape.js";

const KEPT_FINISHED = 5; // finished transfers stay listed (with how they ended) until dismissed, this many

/** A rate as people read it: 850 KB/s, 12 MB/s. */
function formatSpeed(bytesPerSecond) {
  return `${formatBytes(Math.max(0, Math.round(bytesPerSecond)))}/s`;
}

function errorOf(status, text) {
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: a proxy's page
  }
  const error = body && body.error ? body.error : {};
  return new ApiError(status, error.code || "http_" + status, error.message || `The server answered ${status}.`, body);
}

/** One transfer's row: name, direction, progress bar, "42% · 3.1 MB of 7.4 MB · 12 MB/s", Cancel. */
class TransferRow {
  constructor(list, { name, direction, onCancel }) {
    this.started = performance.now();
    this.bar = el("progress", { max: "100", value: "0", "aria-label": `${direction} of ${name}` });
    this.text = el("span", { class: "transfer-text muted small" }, "Starting…");
    this.cancel = el("button", { type: "button", class: "ghost small", onclick: onCancel }, "Cancel");
    this.node = el(
      "li",
      { class: "transfer", dataset: { state: "running", direction: direction.toLowerCase(), name } },
      el("span", { class: "transfer-name" }, direction === "Upload" ? "↑ " : "↓ ", controlSafe(name)),
      this.bar,
      el("span", { class: "transfer-line" }, this.text, this.cancel),
    );
    this.list = list;
    list.prepend(this.node);
  }

  progress(loaded, total) {
    const seconds = Math.max(0.001, (performance.now() - this.started) / 1000);
    const percent = total > 0 ? Math.min(100, Math.floor((loaded * 100) / total)) : 0;
    this.bar.value = percent;
    this.node.dataset.percent = String(percent);
    this.text.textContent = `${percent}% · ${formatBytes(loaded)} of ${formatBytes(total)} · ${formatSpeed(loaded / seconds)}`;
  }

  finish(state, text) {
    this.node.dataset.state = state;
    this.text.textContent = text;
    if (state === "done") {
      this.bar.value = 100;
      this.node.dataset.percent = "100";
    }
    this.cancel.textContent = "Dismiss";
    this.cancel.onclick = () => this.node.remove();
    const finished = [...this.list.querySelectorAll(".transfer:not([data-state=running])")];
    for (const old of finished.slice(KEPT_FINISHED)) old.remove();
  }

  elapsed() {
    return Math.max(0.001, (performance.now() - this.started) / 1000);
  }
}

export class FileTransfers {
  /**
   * @param {HTMLElement} list  the <ul> transfers are shown in
   * @param {(path: string, overwrite: boolean) => string} uploadUrl
   * @param {(path: string) => string} downloadUrl
   * @param {(row: HTMLElement) => void} [reveal]  bring a new transfer's row into sight
   */
  constructor(list, { uploadUrl, downloadUrl, reveal = () => {} }) {
    this.list = list;
    this.uploadUrl = uploadUrl;
    this.downloadUrl = downloadUrl;
    this.reveal = reveal;
  }

  row(options) {
    const row = new TransferRow(this.list, options);
    this.reveal(row.node);
    return row;
  }

  /** Upload `file` to `path`; resolves with the server's answer, or null if cancelled. 409 exists: `confirmOverwrite`. */
  async upload(file, path, { confirmOverwrite }) {
    let xhr = null;
    let cancelled = false;
    const row = this.row({
      name: file.name,
      direction: "Upload",
      onCancel: () => {
        cancelled = true;
        if (xhr) xhr.abort();
      },
    });
    let overwrite = false;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const token = await freshAccessToken().catch(() => null);
      const result = await new Promise((resolve) => {
        xhr = new XMLHttpRequest();
        xhr.open("PUT", this.uploadUrl(path, overwrite));
        if (token) xhr.setRequestHeader("Authorization", "Bearer " + token);
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
        xhr.upload.onprogress = (event) => row.progress(event.loaded, event.lengthComputable ? event.total : file.size);
        xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
        xhr.onerror = () => resolve({ status: 0, text: "" });
        xhr.onabort = () => resolve({ status: -1, text: "" });
        xhr.send(file);
      });
      if (cancelled || result.status === -1) {
        row.finish("cancelled", "Cancelled: nothing was kept.");
        return null;
      }
      if (result.status === 201) {
        const answer = JSON.parse(result.text);
        row.finish("done", `Uploaded ${formatBytes(answer.size)} in ${row.elapsed().toFixed(1)} s · sha256 ${answer.sha256.slice(0, 12)}…`);
        row.node.dataset.sha256 = answer.sha256;
        return answer;
      }
      if (result.status === 401 && (await refreshAccessToken().catch(() => false))) continue;
      const error = result.status === 0
        ? new ApiError(0, "network", "The upload was interrupted: the server cannot be reached.")
        : errorOf(result.status, result.text);
      if (error.code === "exists" && !overwrite && confirmOverwrite(file.name)) {
        overwrite = true;
        continue;
      }
      row.finish("failed", error.code === "exists" ? "Not uploaded: a file of that name is there." : error.message);
      throw error;
    }
    row.finish("failed", "Not uploaded.");
    return null;
  }

  /** Download the file at `path` (named `name`) into the browser's downloads. */
  async download(path, name) {
    const controller = new AbortController();
    const row = this.row({ name, direction: "Download", onCancel: () => controller.abort() });
    try {
      let response = await this.fetchFile(path, controller.signal, await freshAccessToken().catch(() => null));
      if (response.status === 401 && (await refreshAccessToken().catch(() => false))) {
        response = await this.fetchFile(path, controller.signal, await freshAccessToken().catch(() => null));
      }
      if (!response.ok) throw errorOf(response.status, await response.text());
      const total = Number(response.headers.get("Content-Length")) || 0;
      const reader = response.body.getReader();
      const chunks = [];
      let loaded = 0;
      row.progress(0, total);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.length;
        row.progress(loaded, total);
      }
      if (total && loaded !== total) throw new ApiError(0, "short", "The download ended early: the file changed while it was read.");
      saveAs(new Blob(chunks, { type: "application/octet-stream" }), name);
      row.finish("done", `Downloaded ${formatBytes(loaded)} in ${row.elapsed().toFixed(1)} s`);
    } catch (err) {
      if (controller.signal.aborted) {
        row.finish("cancelled", "Cancelled.");
        return;
      }
      const error = err instanceof ApiError ? err : new ApiError(0, "network", "The download was interrupted.");
      row.finish("failed", error.message);
      throw error;
    }
  }

  fetchFile(path, signal, token) {
    return fetch(this.downloadUrl(path), { headers: token ? { Authorization: "Bearer " + token } : {}, signal });
  }
}

function saveAs(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
