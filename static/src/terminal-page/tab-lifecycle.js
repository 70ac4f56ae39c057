// What the page does as its tab is used, hidden, shown again or closed: a focused tab takes the
// terminal over, a hidden one saves its screen and soon stops holding the terminal back, a shown
// one catches up.

import { loginActive } from "../lib/api.js";

const PARK_AFTER_MS = 10_000; // a hidden tab stops holding the process back after this
const LIST_EVERY_MS = 15_000; // the list of running terminals, refreshed while the tab is seen

/**
 * @param {import("../session/terminal-session.js").TerminalSession} session
 * @param {() => void} refreshList
 */
export function followTabLifecycle(session, refreshList) {
  window.addEventListener("focus", () => session.claimSize());

  // Save the screen and its offset when the page goes away (reload, tab close, app switch on phones).
  // (Not once the login ended, by logging out or refused by the server: that cleared them on purpose.)
  const saveScreen = () => {
    if (loginActive()) session.saveResumePoint();
  };
  window.addEventListener("pagehide", saveScreen);

  const park = { timer: null };
  document.addEventListener("visibilitychange", () => {
    clearTimeout(park.timer);
    if (document.visibilityState === "hidden") {
      saveScreen();
      park.timer = setTimeout(() => session.park(), PARK_AFTER_MS);
    } else {
      session.unpark();
      refreshList();
    }
  });

  setInterval(() => {
    if (document.visibilityState === "visible") refreshList();
  }, LIST_EVERY_MS);
}
