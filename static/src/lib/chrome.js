// The page header shared by the signed-in pages: who is logged in, and log out.

import { ACCOUNT_PAGE, api, goToLogin, hasTokens, logout } from "./api.js";
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
  if (mustEnrolTotp(me) && location.pathname !== ACCOUNT_PAGE) {
    location.assign(ACCOUNT_PAGE); // the server refuses everything else until then
    return new Promise(() => {});
  }
  const who = $("#whoami");
  if (who) {
    who.textContent = me.username + (me.role === "admin" ? " (admin)" : "");
    who.hidden = false;
  }
  const usersLink = $("#nav-users");
  if (usersLink) usersLink.hidden = me.role !== "admin";
  return me;
}

/** This server wants two-factor authentication of this user (REQUIRE_TOTP_FOR_ADMINS), and it is not on yet. */
export function mustEnrolTotp(me) {
  return Boolean(me.totp_required && !me.totp);
}
