// The browser tests' handle on the page (tests/browser/conftest.py): window.aictTest, installed only
// on a page the server marks with data-test-hooks, which it does under AICT_TEST_HOOKS, a test
// setting that a production server refuses. A production page exposes nothing on window: no
// terminal, no socket, no token. Even here the socket stays inside: tests drop the connection and
// read its transport through the two functions below.

/**
 * @param {object} parts
 * @param {import("@xterm/xterm").Terminal} parts.term
 * @param {import("../session/terminal-session.js").TerminalSession} parts.session
 * @param {import("./connection-status.js").ConnectionStatus} parts.status
 * @param {import("socket.io-client").Socket} parts.socket
 */
export function installTestHooks({ term, session, status, socket }) {
  if (!("testHooks" in document.body.dataset)) return;
  window.aictTest = Object.freeze({
    term,
    get sessionId() {
      return session.sessionId;
    },
    /** "connecting" | "connected" | "reconnecting" | "disconnected", as the header shows it. */
    get status() {
      return status.state;
    },
    get renderedOffset() {
      return session.stream.rendered;
    },
    get droppedBytes() {
      return session.stream.droppedBytes;
    },
    get notKeptBytes() {
      return session.stream.notKeptBytes;
    },
    get inUse() {
      return session.inUse;
    },
    /** "websocket" | "polling" | null (no connection now). */
    get transport() {
      const engine = socket.io.engine;
      return engine && engine.transport ? engine.transport.name : null;
    },
    /** Save this tab's screen, as a hidden or closed tab does. */
    saveResumePoint: () => session.saveResumePoint(),
    /** Close the connection underneath, as a network drop does: the page reconnects by itself. */
    dropConnection: () => socket.io.engine.close(),
  });
}
