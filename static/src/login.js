// The login page: trade username + password (+ one-time code) for tokens.

import { login, refreshAccessToken, safeNextPath } from "./lib/api.js";
import { $, showMessage } from "./lib/dom.js";

const form = $("#login-form");
const message = $("#login-message");
const otpRow = $("#otp-row");
const next = safeNextPath(new URLSearchParams(location.search).get("next") || "/");
// Sent here because the login of an open page ended (a logout in another tab, a password changed
// elsewhere, an administrator): said, rather than a bare form.
if (new URLSearchParams(location.search).get("ended") === "1" && message.hidden) {
  showMessage(message, "You were logged out: this login ended (a logout elsewhere, a password change, " +
    "or an administrator). Log in again to go on; your terminals kept running. (An account an " +
    "administrator disabled logs in again only once they enable it.)", "info");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const submit = $("button[type=submit]", form);
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  const otp = form.elements.otp ? form.elements.otp.value.trim() : "";
  if (!username || !password) {
    showMessage(message, "Enter your username and password.");
    return;
  }
  submit.disabled = true;
  showMessage(message, "Logging in…", "info");
  try {
    await login(username, password, otp);
    location.assign(next);
  } catch (err) {
    let text = err.message;
    let kind; // an error, unless it is only the next step
    if (err.code === "otp_required") {
      // The password was right; this account also needs a code from its authenticator app.
      otpRow.hidden = false;
      form.elements.otp.focus();
      kind = "info";
    } else if (!otpRow.hidden && err.code === "invalid_credentials") {
      form.elements.otp.value = ""; // a code works once: the next try needs the next one
    } else if (err.status === 429 && err.retryAfter && !/try again/i.test(text)) {
      const minutes = Math.ceil(err.retryAfter / 60);
      text += ` Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
    }
    showMessage(message, text, kind);
    submit.disabled = false;
  }
});

form.elements.username.focus();

// Already logged in (a bookmark of this page, the back button after logging in): on to where the
// user was going, not a form asking for a password they already gave. No login cookie: no request.
refreshAccessToken()
  .then((loggedIn) => {
    if (loggedIn) location.replace(next);
  })
  .catch(() => {}); // the server is unreachable: the form is still the way in

