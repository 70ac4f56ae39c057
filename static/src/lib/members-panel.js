// A workspace's members, for its owner and administrators: list them, add by username as
// operator (may type) or viewer (may only watch), change their access, remove them.

import { api } from "./api.js";
import { el, showMessage } from "./dom.js";

const ACCESS = [
  ["operator", "Operator (may type)"],
  ["viewer", "Viewer (may only watch)"],
];

function accessSelect(value, label, onchange) {
  return el(
    "select",
    { "aria-label": label, onchange },
    ACCESS.map(([access, text]) => el("option", { value: access, selected: access === value }, text)),
  );
}

/**
 * The panel's element for `workspace`; it loads its list when first shown (`panel.load()`).
 * `admin`: the viewer is an administrator, who also says which account a local workspace's shells run as.
 * `onChanged(workspace)`: the workspace as the server answers it after a change made here (its
 * shell account). `noteShownBeside`: the page already says the workspace's shell note next to the
 * panel (the workspace list's card): the panel does not say it a second time.
 */
export function membersPanel(workspace, { admin = workspace.access === "admin", onChanged = () => {},
  noteShownBeside = false } = {}) {
  const base = "/api/workspaces/" + encodeURIComponent(workspace.id) + "/members";
  const list = el("ul", { class: "member-list", "aria-label": `Members of ${workspace.name}` });
  const message = el("div", { class: "message", role: "alert", hidden: true });
  const username = el("input", {
    name: "member",
    "aria-label": "Username to add",
    placeholder: "username",
    autocapitalize: "none",
    spellcheck: "false",
    maxlength: "64",
  });
  let newAccess = "operator";
  const form = el(
    "form",
    { class: "member-add", novalidate: true, autocomplete: "off", onsubmit: (event) => add(event) },
    username,
    accessSelect(newAccess, "Access of the new member", (event) => {
      newAccess = event.target.value;
    }),
    el("button", { type: "submit", class: "small primary" }, "Add member"),
  );
  const note = el("p", { class: "ws-note small", role: "note", dataset: { note: "members" } });
  const showNote = (ws) => {
    // A local workspace whose shells could read the server's secrets: members are refused, say so first.
    note.textContent = ws.admins_only && ws.shell_note && !noteShownBeside
      ? `Members cannot use this workspace's terminals: ${ws.shell_note}` : "";
    note.hidden = !note.textContent;
  };
  showNote(workspace);
  const panel = el(
    "div",
    { class: "members-panel", hidden: true },
    el("h3", {}, "Members"),
    el("p", { class: "muted small" }, `The owner (${workspace.owner}) and administrators always have full access.`),
    note,
    list,
    form,
    // Administrators say which operating system account a local workspace's shells run as
    workspace.kind === "local" && admin ? shellAccountForm(workspace, message, (changed) => {
      showNote(changed);
      onChanged(changed);
    }) : null,
    message,
  );

  async function grant(name, access, done) {
    try {
      await api("POST", base, { username: name, access });
      showMessage(message, done, "success");
      return true;
    } catch (err) {
      showMessage(message, err.status === 404 ? `There is no user named “${name}”.` : err.message);
      return false;
    } finally {
      await load();
    }
  }

  async function add(event) {
    event.preventDefault();
    const name = username.value.trim();
    if (!name) {
      showMessage(message, "Enter the username of the person to add.");
      return;
    }
    if (await grant(name, newAccess, `${name} is now a member (${newAccess}).`)) username.value = "";
  }

  async function remove(member) {
    if (!confirm(`Remove ${member.username} from ${workspace.name}? Their terminal pages of it stop at once.`)) return;
    try {
      await api("DELETE", base + "/" + encodeURIComponent(member.username));
      showMessage(message, `${member.username} was removed.`, "success");
    } catch (err) {
      showMessage(message, err.message);
    }
    await load();
  }

  function render(members) {
    list.replaceChildren();
    if (!members.length) list.append(el("li", { class: "muted" }, "No members yet: only the owner and administrators."));
    for (const member of members) {
      list.append(
        el(
          "li",
          { class: "member", dataset: { username: member.username } },
          el("span", { class: "member-name" }, member.username),
          accessSelect(member.access, `Access of ${member.username}`, (event) =>
            grant(member.username, event.target.value, `${member.username} is now ${event.target.value === "viewer" ? "a viewer" : "an operator"}.`),
          ),
          el("button", { type: "button", class: "small danger", onclick: () => remove(member) }, "Remove"),
        ),
      );
    }
  }

  async function load() {
    try {
      render(await api("GET", base));
    } catch (err) {
      showMessage(message, err.message);
    }
  }

  panel.load = load;
  return panel;
}


/** "Shells run as": the account a local workspace's shells run as, which an administrator sets
 *  (PATCH shell_account; empty: the server's default, AICT_SHELL_ACCOUNT). */
function shellAccountForm(workspace, message, showNote) {
  const runsAs = el("strong", {}, workspace.runs_as || "the server's default");
  const name = el("input", {
    name: "shell_account",
    "aria-label": "Account the shells run as",
    placeholder: "the server's default",
    value: workspace.shell_account || "",
    autocapitalize: "none",
    spellcheck: "false",
    maxlength: "32",
  });
  async function save(event) {
    event.preventDefault();
    try {
      const changed = await api("PATCH", "/api/workspaces/" + encodeURIComponent(workspace.id),
        { shell_account: name.value.trim() || null });
      runsAs.textContent = changed.runs_as || "the server's default";
      showNote(changed);
      showMessage(message, `Its new terminals run as ${changed.runs_as || "the server's default"}.`, "success");
    } catch (err) {
      showMessage(message, err.message);
    }
  }
  return el(
    "form",
    { class: "shell-account", novalidate: true, autocomplete: "off", onsubmit: save },
    el("p", { class: "small" }, "Its shells run as ", runsAs, ", an account of this server's operating system."),
    name,
    el("button", { type: "submit", class: "small" }, "Save account"),
  );
}
