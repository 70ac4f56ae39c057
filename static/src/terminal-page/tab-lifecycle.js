// What the page does as its browser tab is used, hidden, shown again or closed: a focused tab takes
// its terminals over, a hidden one saves their screens and soon stops holding them back, a shown
// one catches up.

import { loginActive } from "../lib/api.js";

const PARK_AFTER_MS = 10_000; // a hidden tab stops holding the processes back after this
const LIST_EVERY_MS = 15_000; // the list of running terminals, refreshed while the tab is seen

/**
 * @param {() => import("./pane.js").Pane[]} panes  every pane of the page
 * @param {() => void} refreshList
 */
export function followTabLifecycle(panes, refreshList) {
  // Focusing the browser tab claims the terminals on screen (their sizes are this tab's again).
  window.addEventListener("focus", () => {
    for (const pane of panes()) if (pane.visible) pane.session.claimSize();
  });

  // Save the screens and their offsets when the page goes away (reload, tab close, app switch on
  // phones). (Not once the login ended, by logging out or refused by the server: that cleared them on purpose.)
  const saveScreens = () => {
    if (loginActive()) for (const pane of panes()) pane.session.saveResumePoint();
  };
  window.addEventListener("pagehide", saveScreens);

  const park = { timer: null };
  document.addEventListener("visibilitychange", () => {
    clearTimeout(park.timer);
    if (document.visibilityState === "hidden") {
      saveScreens();
      park.timer = setTimeout(() => {
        for (const pane of panes()) pane.session.park();
      }, PARK_AFTER_MS);
    } else {
      for (const pane of panes()) pane.session.unpark();
      refreshList();
    }
  });

  setInterval(() => {
    if (document.visibilityState === "visible") refreshList();
  }, LIST_EVERY_MS);
}
