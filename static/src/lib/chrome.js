// The page header shared by the signed-in pages: who is logged in, and log out.

import { api, freshAccessToken, goToLogin, logout } from "./api.js";
import { $ } from "./dom.js";

/** Check we are logged in (else go to the login page) and fill the header. Resolves with /api/me. */
export async function initChrome() {
  // A reload or a new tab has no access token yet: the refresh cookie gets one. Without a login
  // (refused: the saved screens are cleared then) off to the login page; with the server out of
  // reach the page goes on and says so where it fails.
  const loggedIn = await freshAccessToken().then(Boolean, () => true);
  if (!loggedIn) {
    goToLogin();
    return new Promise(() => {});
  }
  const logoutButton = $("#logout");
  if (logoutButton) {
    logoutButton.addEventListener("click", async () => {
      logoutButton.disabled = true;
      await logout();
      location.assign("/login");
    });
  }
  const me = await api("GET", "/api/me");
  const who = $("#whoami");
  if (who) {
    who.textContent = me.username + (me.role === "admin" ? " (admin)" : "");
    who.hidden = false;
  }
  return me;
}
