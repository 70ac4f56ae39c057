// A workspace's settings, for its owner and administrators: its name; a local workspace's directory;
// an SSH workspace's host, port, username, credential (replaced, never shown) and pinned host key.
// Only what was changed is sent (PATCH), so an unchanged field never overwrites a change made
// meanwhile by someone else.

import { api } from "../lib/api.js";
import { el, showMessage } from "../lib/dom.js";

let fieldIds = 0;

/** A labelled input (or textarea): [label, input]. */
function field(label, attrs, tag = "input") {
  const id = `ws-edit-${++fieldIds}`;
  const input = el(tag, { id, spellcheck: "false", autocapitalize: "none", ...attrs });
  return [el("label", { for: id }, label), input];
}

function radio(name, value, text, checked = false) {
  return el("label", {}, el("input", { type: "radio", name, value, checked }), " ", text);
}

// The API names the fields it refuses as its keys ("'host_key' must start with a key type"): the
// forms say them as their labels do
const FIELD_WORDS = { host_key: "The host key", private_key: "The private key", passphrase: "The passphrase",
  password: "The password", username: "The SSH username", host: "The host", port: "The port", name: "The name",
  path: "The directory", shell_account: "The account" };

/** An API refusal's message, in the forms' words. */
export function inFormWords(text) {
  return String(text).replace(/^'([a-z_]+)'/, (whole, key) => FIELD_WORDS[key] || whole);
}

/** The port typed, as a number; an Error saying what is wrong. Empty: 22. */
export function portFrom(text) {
  if (!text.trim()) return 22;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error("The port must be a number from 1 to 65535.");
  return port;
}

/**
 * The editor's element for `workspace`, hidden until shown. `onSaved(workspace)` is called with
 * the workspace as the server answers it after a save.
 */
export function workspaceEditor(workspace, onSaved) {
  const message = el("div", { class: "message", role: "alert", hidden: true });
  const [nameLabel, name] = field("Name", { name: "name", required: true, maxlength: "100", value: workspace.name });
  const rows = [nameLabel, name];
  const ssh = workspace.kind === "ssh";
  let path, host, port, username, credential, privateKey, passphrase, password, hostKey, forgetKey;

  if (!ssh) {
    const [label, input] = field("Directory", { name: "path", value: workspace.path || "", placeholder: "(a directory of its own)" });
    path = input;
    rows.push(label, input, el("p", { class: "muted small" }, "Empty: a directory of its own on this server. New terminals start there."));
  } else {
    const [hostLabel, hostInput] = field("Host", { name: "host", value: workspace.host || "", required: true });
    const [portLabel, portInput] = field("Port", { name: "port", value: String(workspace.port || 22), inputmode: "numeric" });
    const [userLabel, userInput] = field("SSH username", { name: "username", value: workspace.username || "", required: true });
    [host, port, username] = [hostInput, portInput, userInput];
    rows.push(
      el("div", { class: "row" }, el("div", { class: "grow" }, hostLabel, host), el("div", { class: "port" }, portLabel, port)),
      userLabel,
      username,
    );
    const credentialName = `ws-credential-${workspace.id}`;
    const [keyLabel, keyInput] = field("New private key", { rows: "4", class: "mono",
      placeholder: "-----BEGIN OPENSSH PRIVATE KEY-----" }, "textarea");
    const [phraseLabel, phraseInput] = field("Key passphrase (only if the key is encrypted)", { type: "password", autocomplete: "off" });
    const [passwordLabel, passwordInput] = field("New SSH password", { type: "password", autocomplete: "new-password" });
    [privateKey, passphrase, password] = [keyInput, phraseInput, passwordInput];
    const keyFields = el("div", { hidden: true }, keyLabel, privateKey, phraseLabel, passphrase);
    const passwordFields = el("div", { hidden: true }, passwordLabel, password);
    credential = el(
      "fieldset",
      { class: "choice", onchange: () => {
        const choice = credential.querySelector("input:checked").value;
        keyFields.hidden = choice !== "key";
        passwordFields.hidden = choice !== "password";
      } },
      el("legend", {}, "Credential"),
      radio(credentialName, "keep", "Keep the stored one (never shown)", true),
      radio(credentialName, "key", "Replace it with a private key"),
      radio(credentialName, "password", "Replace it with a password"),
    );
    rows.push(credential, keyFields, passwordFields);

    const [pinLabel, pinInput] = field("Pin a new host key (optional: one line as ssh-keyscan prints it)", {
      name: "host_key", class: "mono", placeholder: "ssh-ed25519 AAAA…" });
    hostKey = pinInput;
    rows.push(pinLabel, hostKey);
    if (workspace.host_key_fingerprint) {
      forgetKey = el("input", { type: "checkbox" });
      rows.push(
        el("p", { class: "muted small" }, "Pinned now: ", el("span", { class: "mono fingerprint" }, workspace.host_key_fingerprint),
          ". Changing the host or port forgets it unless you pin the new host's key here."),
        el("label", { class: "check" }, forgetKey, " Forget the pinned key (its fingerprint is offered to confirm on the next connect)"),
      );
    }
  }

  function changes() {
    const body = {};
    const newName = name.value.trim();
    if (!newName) throw new Error("Give the workspace a name.");
    if (newName !== workspace.name) body.name = newName;
    if (!ssh) {
      const newPath = path.value.trim() || null;
      if (newPath !== (workspace.path || null)) body.path = newPath;
      return body;
    }
    const newHost = host.value.trim();
    const newUser = username.value.trim();
    if (!newHost) throw new Error("Enter the SSH host.");
    if (!newUser) throw new Error("Enter the SSH username.");
    const newPort = portFrom(port.value);
    if (newHost !== workspace.host) body.host = newHost;
    if (newPort !== (workspace.port || 22)) body.port = newPort;
    if (newUser !== workspace.username) body.username = newUser;
    const choice = credential.querySelector("input:checked").value;
    if (choice === "key") {
      if (!privateKey.value.trim()) throw new Error("Paste the new private key, or keep the stored credential.");
      Object.assign(body, { private_key: privateKey.value.trim() + "\n", passphrase: passphrase.value || null, password: null });
    } else if (choice === "password") {
      if (!password.value) throw new Error("Type the new password, or keep the stored credential.");
      Object.assign(body, { password: password.value, private_key: null });
    }
    if (hostKey.value.trim()) body.host_key = hostKey.value.trim();
    else if (forgetKey?.checked) body.host_key = null;
    return body;
  }

  const save = el("button", { type: "submit", class: "small primary" }, "Save");
  const form = el(
    "form",
    { class: "ws-edit", novalidate: true, autocomplete: "off", hidden: true, "aria-label": `Settings of ${workspace.name}`,
      onsubmit: async (event) => {
        event.preventDefault();
        let body;
        try {
          body = changes();
        } catch (err) {
          showMessage(message, err.message);
          return;
        }
        if (!Object.keys(body).length) {
          showMessage(message, "Nothing was changed.", "info");
          return;
        }
        save.disabled = true;
        showMessage(message, "Saving…", "info");
        try {
          const saved = await api("PATCH", "/api/workspaces/" + encodeURIComponent(workspace.id), body);
          showMessage(message, "Saved.", "success");
          onSaved(saved);
        } catch (err) {
          showMessage(message, inFormWords(err.message));
        } finally {
          save.disabled = false;
        }
      } },
    el("h3", {}, "Settings"),
    ...rows,
    message,
    el("div", { class: "actions" }, save),
  );
  return form;
}
