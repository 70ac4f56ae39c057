// The workspace's files in the sidebar, for operators, owners and admins: browse its directories,
// download a file, upload by the button or by dropping files on the panel or on the terminal (into
// the directory shown). Transfers show their progress (file-transfers.js). The server does every
// file operation as the workspace's shell account (local) or its remote user (SSH).
//
// When the page's connection carries file-change events for this workspace (watch-workspace), the
// directory shown is listed again as soon as something in it changes.

import { api } from "../lib/api.js";
import { $, el, formatBytes, formatTime, KeyedRows, revealWithin, showMessage } from "../lib/dom.js";
import { controlSafe, escapeControls } from "../lib/escape.js";
import * as protocol from "../lib/protocol.js";
import { FileTransfers } from "./file-transfers.js";

const REFRESH_DELAY_MS = 150; // a burst of changes is one listing

function joinPath(dir, name) {
  return dir ? `${dir}/${name}` : name;
}

function parentOf(path) {
  const cut = path.lastIndexOf("/");
  return cut < 0 ? "" : path.slice(0, cut);
}

/** Whether a file-change touches the listing of `dir`. */
function touches(change, dir) {
  const paths = [change.path, change.to].filter((p) => typeof p === "string");
  if (change.change === "many") return paths.some((p) => p === dir || parentOf(p) === dir || dir.startsWith(p + "/") || p === "");
  return paths.some((p) => parentOf(p) === dir);
}

function hasFiles(event) {
  return event.dataTransfer && [...event.dataTransfer.types].includes("Files");
}

export class FilesPanel {
  /**
   * @param {object} workspace  the workspace (with `access`)
   * @param {import("socket.io-client").Socket} socket  the page's connection (file-change events)
   * @param {HTMLElement[]} dropTargets  where dropped files are uploaded too (the terminal)
   */
  constructor(workspace, socket, dropTargets = []) {
    this.workspace = workspace;
    this.path = "";
    this.maxUpload = null;
    this.loads = 0;
    const base = `/api/workspaces/${encodeURIComponent(workspace.id)}/files`;
    this.base = base;
    this.box = $("#files-panel");
    this.crumbs = el("nav", { class: "files-path", "aria-label": "Directory shown" });
    this.list = el("ul", { class: "file-list", "aria-label": "Files" });
    this.rows = new KeyedRows(this.list);
    this.message = el("div", { class: "message", role: "alert", hidden: true });
    this.picker = el("input", { type: "file", multiple: true, hidden: true, onchange: () => this.pickerChosen() });
    this.transfersList = el("ul", { class: "transfers", "aria-label": "File transfers" });
    this.transfers = new FileTransfers(this.transfersList, {
      uploadUrl: (path, overwrite) => `${base}/content?path=${encodeURIComponent(path)}&overwrite=${overwrite ? 1 : 0}`,
      downloadUrl: (path) => `${base}/content?path=${encodeURIComponent(path)}`,
      // A drop on the terminal, or an Upload… with the sidebar scrolled: the new row shows anyway.
      reveal: (row) => revealWithin(this.box.closest(".sidebar"), row),
    });
    this.box.replaceChildren(
      el(
        "div",
        { class: "sidebar-head" },
        el("h3", { id: "files-heading" }, "Files"),
        el(
          "span",
          { class: "files-actions" },
          el("button", { type: "button", class: "small", "data-action": "upload", onclick: () => this.picker.click() }, "Upload…"),
          el("button", { type: "button", class: "ghost small", "aria-label": "Refresh the files", onclick: () => this.load() }, "↻"),
        ),
      ),
      // Transfers under the buttons that start them, not below a long list of files.
      this.transfersList,
      this.message,
      this.crumbs,
      this.list,
      el("p", { class: "muted small files-hint" }, "Drop files here or on the terminal to upload them to this directory."),
      this.picker,
    );
    this.box.hidden = false;
    for (const target of [this.box, ...dropTargets]) this.acceptDrops(target);
    this.followChanges(socket);
  }

  // ---- listing -------------------------------------------------------------------------------
  async load(path = this.target ?? this.path) {
    // A refresh (a file change, a finished upload) reloads where the user is going, not where the
    // panel was: a refresh begun while a directory was opening answered last and took the user back.
    this.target = path;
    const request = ++this.loads;
    let listing;
    try {
      listing = await api("GET", `${this.base}?path=${encodeURIComponent(path)}`);
    } catch (err) {
      if (request !== this.loads) return;
      this.failed = true;
      this.say(err.code === "host_key_unknown"
        ? "The SSH host's key is not trusted yet: confirm it when opening a terminal, then refresh the files."
        : err.message);
      if (path !== this.path) {
        this.target = this.path; // the directory shown stays as it was
        return;
      }
      this.rows.render([]);
      this.renderPath();
      return;
    }
    if (request !== this.loads) return;
    this.failed = false;
    this.path = listing.path;
    this.maxUpload = listing.max_upload_bytes ?? null;
    this.box.dataset.path = this.path;
    this.say("");
    this.renderPath();
    this.render(listing);
  }

  renderPath() {
    const parts = this.path ? this.path.split("/") : [];
    const root = this.workspace.kind === "ssh" ? "the remote user's home directory" : "the workspace's directory";
    const crumbs = [el("button", { type: "button", class: "crumb", title: root, "aria-label": root, onclick: () => this.load("") }, "~")];
    parts.forEach((part, i) => {
      const target = parts.slice(0, i + 1).join("/");
      crumbs.push(el("span", { class: "muted" }, "/"), el("button", { type: "button", class: "crumb", onclick: () => this.load(target) }, controlSafe(part)));
    });
    this.crumbs.replaceChildren(...crumbs);
  }

  render(listing) {
    const items = [];
    const row = (key, signature, build) => items.push({ key, signature, build });
    if (this.path) {
      row("..", this.path, () => el("li", { class: "file-entry" }, el("button", { type: "button", class: "file-open", onclick: () => this.load(parentOf(this.path)) }, "⬑ ..")));
    }
    const order = { dir: 0, link: 1, file: 2, other: 3 };
    const entries = [...listing.entries].sort((a, b) => order[a.type] - order[b.type] || a.name.localeCompare(b.name));
    for (const entry of entries) {
      row(`entry:${entry.name}`, JSON.stringify([this.path, entry]), () => this.entryItem(entry));
    }
    if (!entries.length) row("empty", "", () => el("li", { class: "empty muted small" }, "Empty directory."));
    if (listing.truncated) {
      row("truncated", String(entries.length), () => el("li", { class: "muted small" }, `Only the first ${entries.length} entries are shown.`));
    }
    this.rows.render(items);
  }

  entryItem(entry) {
    const path = joinPath(this.path, entry.name);
    const title = `${escapeControls(entry.name)} · ${formatBytes(entry.size)} · ${formatTime(entry.mtime)}`;
    // As `ls -F` marks them: docs/ is a directory, latest@ a symbolic link.
    const mark = { dir: "/", link: "@" }[entry.type] || "";
    const name = [el("span", { class: "file-name" }, controlSafe(entry.name), el("span", { class: "file-mark", "aria-hidden": "true" }, mark))];
    const open = entry.type === "dir" || entry.type === "link"
      ? el("button", { type: "button", class: "file-open", title, onclick: () => this.load(path) }, ...name)
      : el("span", { class: "file-open", title }, ...name, el("span", { class: "muted small file-size" }, formatBytes(entry.size)));
    const download = entry.type === "file" || entry.type === "link"
      ? el("button", { type: "button", class: "ghost small file-download", "aria-label": `Download ${escapeControls(entry.name)}`, onclick: () => this.download(path, entry.name) }, "⤓")
      : null;
    return el("li", { class: "file-entry", dataset: { name: entry.name, type: entry.type } }, open, download);
  }

  say(text, kind = "error") {
    showMessage(this.message, text, kind);
  }

  // ---- transfers -----------------------------------------------------------------------------
  async download(path, name) {
    try {
      await this.transfers.download(path, name);
    } catch (err) {
      this.say(`${escapeControls(name)}: ${err.message}`);
    }
  }

  async uploadFiles(files, dir = this.path) {
    for (const file of files) {
      if (this.maxUpload !== null && file.size > this.maxUpload) {
        this.say(`${escapeControls(file.name)} is ${formatBytes(file.size)}: this server accepts files up to ${formatBytes(this.maxUpload)}.`);
        continue;
      }
      try {
        await this.transfers.upload(file, joinPath(dir, file.name), {
          confirmOverwrite: (name) => confirm(`${name} exists in ${dir || "the workspace's root"}. Replace it?`),
        });
      } catch (err) {
        this.say(err.code === "exists"
          ? `${escapeControls(file.name)} was not uploaded: a file of that name is there already.`
          : `${escapeControls(file.name)}: ${err.message}`);
      }
    }
    if (dir === this.path) this.load();
  }

  pickerChosen() {
    const files = [...this.picker.files];
    this.picker.value = "";
    if (files.length) this.uploadFiles(files);
  }

  acceptDrops(target) {
    target.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault(); // allow the drop (the page would otherwise open the file)
      event.dataTransfer.dropEffect = "copy";
      target.classList.add("drop-target");
    });
    target.addEventListener("dragleave", (event) => {
      if (!target.contains(event.relatedTarget)) target.classList.remove("drop-target");
    });
    target.addEventListener("drop", (event) => {
      target.classList.remove("drop-target");
      if (!hasFiles(event)) return;
      event.preventDefault();
      const files = [...event.dataTransfer.files];
      if (files.length) this.uploadFiles(files);
    });
  }

  // ---- changes pushed by the server ------------------------------------------------------------
  followChanges(socket) {
    // protocol.FILE_CHANGE: the file-change event of watch-workspace, when the page watches the workspace.
    if (!socket || !protocol.FILE_CHANGE) return;
    // The watch reached the workspace again (an SSH host back up): a listing that failed is tried again
    socket.on(protocol.WORKSPACE_STATUS, (status) => {
      if (this.failed && status && status.workspaceId === this.workspace.id && !status.error) this.load();
    });
    socket.on(protocol.FILE_CHANGE, (payload) => {
      if (!payload || payload.workspaceId !== this.workspace.id || !Array.isArray(payload.changes)) return;
      if (!payload.changes.some((change) => change && touches(change, this.path))) return;
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => this.load(), REFRESH_DELAY_MS);
    });
  }
}

/** The panel for those who may read and write the workspace's files (not viewers). */
export function offerFiles(workspace, socket, dropTargets) {
  if (workspace.access === "viewer" || !$("#files-panel")) return null;
  const panel = new FilesPanel(workspace, socket, dropTargets);
  panel.load();
  return panel;
}
