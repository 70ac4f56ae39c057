// The workspace list: open, delete, and create local or SSH workspaces.

import { api } from "./lib/api.js";
import { initChrome } from "./lib/chrome.js";
import { $, el, formatTime, showMessage } from "./lib/dom.js";
import { membersPanel } from "./lib/members-panel.js";
import { inFormWords, workspaceEditor } from "./workspaces/editor.js";

const list = $("#workspace-list");
const listMessage = $("#list-message");
const form = $("#create-form");
const formMessage = $("#create-message");
let mayCreate = true; // until GET /api/me says otherwise
let me = null; // GET /api/me: who manages which workspace

function describe(ws) {
  if (ws.kind === "ssh") {
    const port = ws.port && Number(ws.port) !== 22 ? ":" + ws.port : "";
    return `SSH ${ws.username ? ws.username + "@" : ""}${ws.host || ""}${port}`;
  }
  return "Local" + (ws.path ? " · " + ws.path : "") + (ws.runs_as ? " · runs as " + ws.runs_as : "");
}

/** Said before anyone tries: this workspace's shells are for administrators only (or start for nobody). */
function shellNote(ws) {
  if (!ws.shell_note) return null;
  return el("p", { class: "ws-note small", role: "note", dataset: { note: "shell" } }, ws.shell_note);
}

/** "SHA256:AbCdEfGh…" of a fingerprint: enough to tell keys apart at a glance (the whole one is its title). */
function shortFingerprint(fingerprint) {
  return fingerprint.length > 15 ? fingerprint.slice(0, 15) + "…" : fingerprint;
}

/** A button that shows and hides `part` (a panel below the workspace), `onOpen` each time it opens. */
function toggleFor(part, text, label, onOpen) {
  return el(
    "button",
    {
      type: "button",
      class: "small",
      "aria-expanded": "false",
      "aria-label": label,
      onclick: (event) => {
        part.hidden = !part.hidden;
        event.currentTarget.setAttribute("aria-expanded", String(!part.hidden));
        if (!part.hidden) onOpen();
      },
    },
    text,
  );
}

function renderWorkspaces(workspaces) {
  list.replaceChildren();
  if (!workspaces.length) {
    const hint = mayCreate ? "Create one below." : "An administrator can add you to one.";
    list.append(el("li", { class: "empty" }, `No workspaces yet. ${hint}`));
    return;
  }
  for (const ws of workspaces) {
    const open = el("a", { class: "ws-open", href: "/workspaces/" + encodeURIComponent(ws.id) }, ws.name);
    // Only its owner and administrators manage a workspace: nobody else sees these controls.
    const manages = me.role === "admin" || ws.owner === me.username;
    const summary = el("span", { class: "muted" }, describe(ws));
    const noteSlot = el("div", {}, shellNote(ws));
    // A new shell account changes what the card says ("runs as", the admins-only note) at once
    const panel = manages ? membersPanel(ws, {
      admin: me.role === "admin",
      noteShownBeside: true,
      onChanged: (changed) => {
        summary.textContent = describe(changed);
        noteSlot.replaceChildren(...[shellNote(changed)].filter(Boolean));
      },
    }) : null;
    const membersButton = manages ? toggleFor(panel, "Members", `Members of ${ws.name}`, () => panel.load()) : null;
    const editor = manages
      ? workspaceEditor(ws, async (saved) => {
          await loadWorkspaces();
          showMessage(listMessage, `Workspace “${saved.name}” saved.`, "success");
        })
      : null;
    const editButton = manages
      ? toggleFor(editor, "Edit", `Settings of ${ws.name}`, () => editor.querySelector("input").focus())
      : null;
    const remove = manages
      ? el(
          "button",
          {
            type: "button",
            class: "danger small",
            "aria-label": `Delete workspace ${ws.name}`,
            onclick: () => deleteWorkspace(ws),
          },
          "Delete",
        )
      : null;
    list.append(
      el(
        "li",
        { class: "ws-item", dataset: { id: ws.id } },
        el(
          "div",
          { class: "ws-row" },
          el("div", { class: "ws-main" }, open, summary,
            // under where it logs in, labelled and short: beside the buttons it squeezed the
            // workspace's own line onto two and the buttons onto a second row
            ws.host_key_fingerprint ? el("span", { class: "muted small", title: `Pinned host key ${ws.host_key_fingerprint}` },
              "host key ", el("span", { class: "mono" }, shortFingerprint(ws.host_key_fingerprint))) : null),
          el(
            "div",
            { class: "ws-side" },
            ws.owner !== me.username ? el("span", { class: "muted" }, "owner " + ws.owner) : null,
            el("span", { class: "muted" }, formatTime(ws.created_at)),
            editButton,
            membersButton,
            remove,
          ),
        ),
        noteSlot,
        editor,
        panel,
      ),
    );
  }
}

async function loadWorkspaces() {
  try {
    renderWorkspaces(await api("GET", "/api/workspaces"));
    showMessage(listMessage, "");
  } catch (err) {
    showMessage(listMessage, err.message);
  }
}

async function deleteWorkspace(ws) {
  if (!confirm(`Delete workspace “${ws.name}”? Its running terminals are ended.`)) return;
  try {
    await api("DELETE", "/api/workspaces/" + encodeURIComponent(ws.id));
    await loadWorkspaces();
  } catch (err) {
    showMessage(listMessage, err.message);
  }
}

function selectedKind() {
  return form.elements.kind.value;
}

function syncKind() {
  const kind = selectedKind();
  for (const section of form.querySelectorAll("[data-kind]")) {
    const active = section.dataset.kind === kind;
    section.hidden = !active;
    for (const input of section.querySelectorAll("input, textarea, select")) input.disabled = !active;
  }
  syncAuth();
}

function syncAuth() {
  const auth = form.elements.auth.value;
  for (const section of form.querySelectorAll("[data-auth]")) {
    const active = section.dataset.auth === auth && selectedKind() === "ssh";
    section.hidden = !active;
    for (const input of section.querySelectorAll("input, textarea")) input.disabled = !active;
  }
}

function payloadFromForm() {
  const f = form.elements;
  const name = f.name.value.trim();
  if (!name) throw new Error("Give the workspace a name.");
  if (selectedKind() === "local") {
    const payload = { name, kind: "local" };
    if (f.path.value.trim()) payload.path = f.path.value.trim();
    return payload;
  }
  const payload = { name, kind: "ssh", host: f.host.value.trim(), username: f.ssh_username.value.trim() };
  if (!payload.host) throw new Error("Enter the SSH host.");
  if (!payload.username) throw new Error("Enter the SSH username.");
  if (f.port.value.trim()) {
    const port = Number(f.port.value);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error("The port must be a number from 1 to 65535.");
    payload.port = port;
  }
  if (f.auth.value === "password") {
    if (f.ssh_password.value) payload.password = f.ssh_password.value;
  } else if (f.private_key.value.trim()) {
    payload.private_key = f.private_key.value.trim() + "\n";
    if (f.passphrase.value) payload.passphrase = f.passphrase.value;
  }
  if (f.host_key.value.trim()) payload.host_key = f.host_key.value.trim();
  return payload;
}

form.addEventListener("change", (event) => {
  if (event.target.name === "kind") syncKind();
  if (event.target.name === "auth") syncAuth();
});

$("#private-key-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  if (file.size > 64 * 1024) {
    showMessage(formMessage, "That file is too big to be a private key.");
    return;
  }
  form.elements.private_key.value = await file.text();
  event.target.value = "";
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  let payload;
  try {
    payload = payloadFromForm();
  } catch (err) {
    showMessage(formMessage, err.message);
    return;
  }
  const submit = $("button[type=submit]", form);
  submit.disabled = true;
  showMessage(formMessage, "Creating…", "info");
  try {
    const ws = await api("POST", "/api/workspaces", payload);
    form.reset();
    syncKind();
    showMessage(formMessage, `Workspace “${ws.name}” created.`, "success");
    await loadWorkspaces();
  } catch (err) {
    showMessage(formMessage, inFormWords(err.message));
  } finally {
    submit.disabled = false;
  }
});

/** Offer only the kinds of workspace this user may create (GET /api/me's `can`), saying why not. */
function offerWhatUserMayCreate(can) {
  const allowed = { local: can.create_local_workspace, ssh: can.create_ssh_workspace };
  mayCreate = allowed.local || allowed.ssh;
  $("#create-note").hidden = mayCreate;
  form.hidden = !mayCreate;
  const radios = [...form.elements.kind];
  for (const radio of radios) {
    radio.disabled = !allowed[radio.value];
    $(`#${radio.value}-note`).hidden = allowed[radio.value];
  }
  const usable = radios.find((radio) => !radio.disabled);
  if (usable && usable.value !== selectedKind()) {
    for (const radio of radios) radio.checked = radio.defaultChecked = radio === usable; // form.reset() keeps it
    syncKind();
  }
}

syncKind();
initChrome()
  .then((answer) => {
    me = answer;
    offerWhatUserMayCreate(me.can);
    return loadWorkspaces();
  })
  .catch((err) => showMessage(listMessage, err.message));
