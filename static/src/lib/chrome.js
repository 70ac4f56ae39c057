// The page header shared by the signed-in pages: who is logged in, and log out.

import { ACCOUNT_PAGE, api, freshAccessToken, goToLogin, logout } from "./api.js";
import { $ } from "./dom.js";
import { SettingsStore } from "./settings.js";

/**
 * Check we are logged in (else go to the login page) and fill the header. Resolves with /api/me.
 * The page takes the user's theme (`settings`: a page that uses the settings passes its own store
 * and loads it itself; otherwise one is made and loaded here).
 */
export async function initChrome(settings = null) {
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
  if (!settings) new SettingsStore().load();
  if (mustEnrolTotp(me) && location.pathname !== ACCOUNT_PAGE) {
    location.assign(ACCOUNT_PAGE); // the server refuses everything else until then
    return new Promise(() => {});
  }
  const who = $("#whoami");
  if (who) {
    who.textContent = me.username + (me.role === "admin" ? " (admin)" : "");
    who.hidden = false;
  }
  for (const adminLink of ["#nav-users", "#nav-sessions", "#nav-audit"]) {
    const link = $(adminLink);
    if (link) link.hidden = me.role !== "admin" || mustEnrolTotp(me); // refused until two-factor is on
  }
  followLogin(me);
  return me;
}

// How often an open page asks whether its login still holds (the terminal page hears it on its
// socket at once; the other pages have none).
const LOGIN_CHECK_MS = 10_000;

/**
 * Within seconds of the login ending (a logout in another tab, a disabled account, a password
 * changed elsewhere) the page goes to the login form, which says why (api.js); when the user's
 * role changed, it is loaded again, offering what the user may do now.
 */
function followLogin(me) {
  const check = async () => {
    if (document.hidden) return; // asked again when shown
    let now;
    try {
      now = await api("GET", "/api/me"); // a login that ended: api() goes to the login page
    } catch {
      return; // the server out of reach: the page says so where it fails
    }
    if (now.role !== me.role) location.reload();
  };
  setInterval(check, LOGIN_CHECK_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) check();
  });
}

/** This server wants two-factor authentication of this user (REQUIRE_TOTP_FOR_ADMINS), and it is not on yet. */
export function mustEnrolTotp(me) {
  return Boolean(me.totp_required && !me.totp);
}
