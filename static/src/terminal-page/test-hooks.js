// The browser tests' handle on the page (tests/browser/conftest.py): window.aictTest, installed only
// on a page the server marks with data-test-hooks, which it does under AICT_TEST_HOOKS, a test
// setting that a production server refuses. A production page exposes nothing on window: no
// terminal, no socket, no token. Even here the socket stays inside: tests drop the connection and
// read its transport through the two functions below.
//
// `term`, `sessionId` and the stream figures are the active pane's; `panes` lists every pane.

/**
 * @param {object} parts
 * @param {import("./workbench.js").Workbench} parts.workbench
 * @param {import("./connection-status.js").ConnectionStatus} parts.status
 * @param {import("socket.io-client").Socket} parts.socket
 * @param {import("../lib/settings.js").SettingsStore} parts.settings
 */
export function installTestHooks({ workbench, status, socket, settings }) {
  if (!("testHooks" in document.body.dataset)) return;
  const active = () => workbench.activePane;
  const session = () => active()?.session;
  window.aictTest = Object.freeze({
    get term() {
      return active()?.term;
    },
    get sessionId() {
      return session()?.sessionId ?? null;
    },
    /** "connecting" | "connected" | "reconnecting" | "disconnected", as the header shows it. */
    get status() {
      return status.state;
    },
    get renderedOffset() {
      return session()?.stream.rendered;
    },
    get droppedBytes() {
      return session()?.stream.droppedBytes;
    },
    get notKeptBytes() {
      return session()?.stream.notKeptBytes;
    },
    get inUse() {
      return session()?.inUse;
    },
    /** Predictive echo of the active pane: {mode, on, roundTrip (median ms, null before any)}. */
    get localEcho() {
      const echo = active()?.localEcho;
      return echo ? { mode: echo.mode, on: echo.on, roundTrip: echo.trips.median } : null;
    },
    /** Every pane, tab by tab in reading order: {id, tab, sessionId, term, visible, active, activity, exited}. */
    get panes() {
      return workbench.tabs.flatMap((tab) => workbench.panesOf(tab).map((pane) => ({
        id: pane.id,
        tab: tab.id,
        sessionId: pane.sessionId,
        term: pane.term,
        visible: pane.visible,
        active: pane === active(),
        activity: pane.activity,
        exited: Boolean(pane.exitInfo),
      })));
    },
    get settings() {
      return settings.current;
    },
    /** "websocket" | "polling" | null (no connection now). */
    get transport() {
      const engine = socket.io.engine;
      return engine && engine.transport ? engine.transport.name : null;
    },
    /** Save this tab's screens, as a hidden or closed tab does. */
    saveResumePoint: () => workbench.allPanes().forEach((pane) => pane.session.saveResumePoint()),
    /** Close the connection underneath, as a network drop does: the page reconnects by itself. */
    dropConnection: () => socket.io.engine.close(),
  });
}
