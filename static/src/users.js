// The users page (administrators): every user with role, status, two-factor and last login;
// create users, change roles, disable and re-enable, reset passwords and two-factor.

import { api } from "./lib/api.js";
import { initChrome } from "./lib/chrome.js";
import { $, el, formatTime, showMessage } from "./lib/dom.js";

const rows = $("#user-rows");
const message = $("#users-message");
const createForm = $("#create-user-form");
const createMessage = $("#create-user-message");
let me = null;

/** PATCH one user; says what happened (or the server's refusal, e.g. last_admin) and reloads. */
async function change(user, body, done) {
  showMessage(message, "");
  try {
    await api("PATCH", "/api/users/" + encodeURIComponent(user.id), body);
    showMessage(message, done, "success");
  } catch (err) {
    showMessage(message, err.message);
  }
  await loadUsers();
}

// The server refuses to demote or disable the last enabled administrator (409 last_admin): the
// page says so on the controls instead of offering what would only fail.
const LAST_ADMIN = "The last enabled administrator: make another user an administrator first.";

function roleCell(user, lastAdmin) {
  const select = el(
    "select",
    {
      "aria-label": `Role of ${user.username}`,
      disabled: lastAdmin,
      title: lastAdmin ? LAST_ADMIN : undefined,
      onchange: (event) => {
        const role = event.target.value;
        if (role === "user" && user.id === me.id && !confirm("Remove your own administrator rights? You are logged out.")) {
          event.target.value = user.role;
          return;
        }
        change(user, { role }, `${user.username} is now ${role === "admin" ? "an administrator" : "a user"}.`);
      },
    },
    el("option", { value: "user", selected: user.role === "user" }, "User"),
    el("option", { value: "admin", selected: user.role === "admin" }, "Administrator"),
  );
  return el("td", {}, select);
}

function passwordForm(user) {
  const input = el("input", {
    type: "password",
    autocomplete: "new-password",
    "aria-label": `New password for ${user.username}`,
    placeholder: "New password",
  });
  const form = el(
    "form",
    {
      class: "inline-form",
      hidden: true,
      onsubmit: async (event) => {
        event.preventDefault();
        if (input.value.length < 8) {
          showMessage(message, "A password needs at least 8 characters.");
          return;
        }
        if (user.id === me.id && !confirm("Set a new password for yourself here? Your logins end, this page's too: you log in again with it.")) return;
        await change(user, { password: input.value }, `${user.username} has a new password; their logins have ended.`);
      },
    },
    input,
    el("button", { type: "submit", class: "small primary" }, "Set password"),
  );
  return form;
}

/** "12 minutes", "45 seconds": how long a lock lasts, as a person says it. */
function waitText(seconds) {
  return seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} second${seconds === 1 ? "" : "s"}`;
}

function actionsCell(user, lastAdmin) {
  const resetForm = passwordForm(user);
  const buttons = [
    el(
      "button",
      {
        type: "button",
        class: user.disabled ? "small" : "small danger",
        disabled: lastAdmin,
        title: lastAdmin ? LAST_ADMIN : undefined,
        onclick: () => {
          if (!user.disabled && !confirm(`Disable ${user.username}? Their logins and terminal pages end now.`)) return;
          change(
            user,
            { disabled: !user.disabled },
            user.disabled ? `${user.username} may log in again.` : `${user.username} is disabled and logged out.`,
          );
        },
      },
      user.disabled ? "Enable" : "Disable",
    ),
    el(
      "button",
      {
        type: "button",
        class: "small",
        "aria-expanded": "false",
        onclick: (event) => {
          resetForm.hidden = !resetForm.hidden;
          event.target.setAttribute("aria-expanded", String(!resetForm.hidden));
          if (!resetForm.hidden) resetForm.querySelector("input").focus();
        },
      },
      "Reset password",
    ),
    user.login_locked_seconds
      ? el(
          "button",
          {
            type: "button",
            class: "small",
            onclick: () => change(user, { unlock: true }, `${user.username} may log in again now.`),
          },
          "Unlock login",
        )
      : null,
    user.totp
      ? el(
          "button",
          {
            type: "button",
            class: "small",
            onclick: () => {
              if (!confirm(`Reset two-factor authentication of ${user.username}? They log in with their password alone until they set it up again.`)) return;
              change(user, { totp: false }, `Two-factor authentication of ${user.username} is reset.`);
            },
          },
          "Reset two-factor",
        )
      : null,
  ];
  return el("td", { class: "actions" }, el("div", { class: "action-buttons" }, buttons), resetForm);
}

function renderUsers(users) {
  rows.replaceChildren();
  const admins = users.filter((user) => user.role === "admin" && !user.disabled);
  for (const user of users) {
    const lastAdmin = admins.length === 1 && admins[0].id === user.id;
    rows.append(
      el(
        "tr",
        { dataset: { username: user.username }, class: user.disabled ? "disabled-user" : undefined },
        el("th", { scope: "row" }, user.username, user.id === me.id ? el("span", { class: "muted" }, " (you)") : null),
        roleCell(user, lastAdmin),
        el("td", {}, user.disabled ? "Disabled" : "Active",
          // failed logins lock the username for a while (its own browsers still get in)
          user.login_locked_seconds ? el("div", { class: "muted small" }, `Login locked for ${waitText(user.login_locked_seconds)}`) : null),
        el("td", {}, user.totp ? "On" : "Off"),
        el("td", { class: "muted" }, user.last_login_at ? formatTime(user.last_login_at) : "Never"),
        actionsCell(user, lastAdmin),
      ),
    );
  }
}

async function loadUsers() {
  try {
    renderUsers(await api("GET", "/api/users"));
  } catch (err) {
    showMessage(message, err.message);
  }
}

createForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = createForm.elements;
  const payload = { username: f.username.value.trim(), password: f.password.value, role: f.role.value };
  if (!payload.username || !payload.password) {
    showMessage(createMessage, "Enter a username and a password.");
    return;
  }
  const submit = $("button[type=submit]", createForm);
  submit.disabled = true;
  try {
    const user = await api("POST", "/api/users", payload);
    createForm.reset();
    showMessage(createMessage, `User “${user.username}” created.`, "success");
    await loadUsers();
  } catch (err) {
    showMessage(createMessage, err.message);
  } finally {
    submit.disabled = false;
  }
});

initChrome()
  .then((answer) => {
    me = answer;
    const admin = me.role === "admin";
    $("#admins-only").hidden = admin;
    $("#users-section").hidden = !admin;
    $("#create-section").hidden = !admin;
    if (admin) return loadUsers();
    return null;
  })
  .catch((err) => showMessage(message, err.message));
