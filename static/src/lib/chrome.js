// The page header shared by the signed-in pages: who is logged in, and log out.

import { api, goToLogin, hasTokens, logout } from "./api.js";
import { $ } from "./dom.js";

/** Check we are logged in (else go to the login page) and fill the header. Resolves with /api/me. */
export async function initChrome() {
  if (!hasTokens()) {
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
