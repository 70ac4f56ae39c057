// The Socket.IO connection: token auth (renewed on the open socket before the token expires),
// automatic reconnection with backoff, and a visible status for the user. Only socket.io-client's
// public API; the server's refusals are told apart by their code.

import { io } from "socket.io-client";
import { accessRenewAt, accessToken, freshAccessToken, goToLogin, refreshAccessToken } from "./api.js";
import { AUTHENTICATE } from "./protocol.js";

// What a refusal by the server (connect_error's data: {code, message}) asks of the page.
// Any other code (database_busy: the server could not check the token in time) is retried.
const LOGIN_CODES = new Set(["token_expired", "invalid_token", "token_revoked", "unauthorized"]); // renew it
const FINAL_CODES = new Set(["forbidden_origin", "totp_required"]); // retrying cannot help: say why and stop

// How the page gets through: WebSocket first, the quick way in. Where it is refused (a proxy that
// does not pass the upgrade), tryAllTransports falls back to HTTP long-polling within the same
// attempt; where it hangs, the attempt gives up after WEBSOCKET_FIRST.timeout. From then on the
// page's attempts start with polling and upgrade to WebSocket once socket.io's probe gets through
// (the polling connection goes on meanwhile), and after such an upgrade WebSocket goes first again.
// A browser without WebSocket polls.
const WEBSOCKET_FIRST = { transports: ["websocket", "polling"], timeout: 4000 };
const POLLING_FIRST = { transports: ["polling", "websocket"], timeout: 10000 };
const POLLING_ONLY = { transports: ["polling"], timeout: 10000 };

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;
const OFFLINE = "this device is offline";

/** socket.io's own error when an attempt outlasts its `timeout` (it has no type of its own). */
function isTimeout(err) {
  return !err.type && !err.data && err.message === "timeout";
}

/** The network failed, not the server: engine.io's TransportError, or an attempt that timed out. */
function isTransportFailure(err) {
  return err.type === "TransportError" || isTimeout(err);
}

function describeConnectError(err) {
  if (isTransportFailure(err)) return navigator.onLine === false ? OFFLINE : "the server cannot be reached";
  return (err.data && err.data.message) || err.message || "connection refused";
}

/** The transports the next attempt tries first, following what got through last. */
function followTheWayThrough(socket, start) {
  let way = start;
  const goFirst = (next) => {
    if (way === POLLING_ONLY || way === next) return;
    way = next;
    socket.io.opts.transports = next.transports; // for the next attempt's engine
    socket.io.timeout(next.timeout);
  };
  socket.io.on("open", () => {
    const engine = socket.io.engine;
    if (engine.transport.name !== "polling") return;
    goFirst(POLLING_FIRST);
    engine.on("upgrade", (transport) => {
      if (transport.name === "websocket") goFirst(WEBSOCKET_FIRST);
    });
  });
  return {
    /** An attempt failed: one that hung on WebSocket makes polling go first. */
    failed(err) {
      if (isTimeout(err) && way === WEBSOCKET_FIRST) goFirst(POLLING_FIRST);
    },
  };
}

/**
 * Open the socket. `onStatus(state, reason)` gets "connecting" | "connected" |
 * "reconnecting" | "disconnected"; `onConnect()` runs after every (re)connect.
 */
export function connect({ onStatus, onConnect }) {
  const start = typeof WebSocket === "function" ? WEBSOCKET_FIRST : POLLING_ONLY;
  const socket = io({
    path: "/socket.io",
    transports: start.transports,
    tryAllTransports: true,
    reconnection: true,
    reconnectionAttempts: Infinity,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
    timeout: start.timeout,
    autoConnect: false,
    auth: (send) => {
      freshAccessToken()
        .then((token) => send({ token: token || "" }))
        .catch(() => send({ token: accessToken() || "" }));
    },
  });
  const way = followTheWayThrough(socket, start);

  // socket.io retries transport failures by itself; a refusal by the server is retried here.
  const retry = { timer: null, delay: RETRY_FIRST_MS, renewedLogin: false };
  function retryLater() {
    if (retry.timer !== null) return;
    const delay = retry.delay * (0.75 + Math.random() * 0.5);
    retry.delay = Math.min(retry.delay * 2, RETRY_MAX_MS);
    retry.timer = setTimeout(() => {
      retry.timer = null;
      if (!socket.connected) socket.connect();
    }, delay);
  }
  function retryNow() {
    clearTimeout(retry.timer);
    retry.timer = null;
    // Whatever socket.io is doing (waiting out its backoff, up to 5 s, or an attempt begun
    // offline), disconnect() ends it and connect() starts a new attempt at once.
    socket.disconnect();
    socket.connect();
  }
  function renewLoginThenConnect() {
    retry.renewedLogin = true;
    onStatus("reconnecting", "renewing login");
    refreshAccessToken()
      .then((ok) => (ok ? socket.connect() : goToLogin()))
      .catch(() => retryLater());
  }

  const renewal = keepTokenFresh(socket);

  socket.on("connect", () => {
    retry.renewedLogin = false;
    retry.delay = RETRY_FIRST_MS;
    renewal.start();
    onStatus("connected", "");
    onConnect();
  });

  socket.on("disconnect", (reason) => {
    renewal.stop();
    if (reason === "io client disconnect") {
      onStatus("disconnected", "closed");
    } else if (reason === "io server disconnect") {
      // The server closed us on purpose (e.g. logged out elsewhere): check the token, then retry.
      onStatus("reconnecting", "closed by the server");
      refreshAccessToken()
        .then((ok) => (ok ? retryLater() : goToLogin()))
        .catch(() => retryLater());
    } else {
      onStatus("reconnecting", humanReason(reason));
    }
  });

  socket.on("connect_error", (err) => {
    way.failed(err);
    const reason = describeConnectError(err);
    if (socket.active) {
      // Transport trouble: socket.io retries with backoff by itself.
      onStatus("reconnecting", reason);
      return;
    }
    const code = err.data && err.data.code;
    if (FINAL_CODES.has(code)) {
      onStatus("disconnected", reason);
    } else if (LOGIN_CODES.has(code) && !retry.renewedLogin) {
      renewLoginThenConnect();
    } else {
      onStatus("reconnecting", reason);
      retryLater();
    }
  });

  socket.io.on("reconnect_attempt", (attempt) => {
    onStatus("reconnecting", navigator.onLine === false ? OFFLINE : attempt > 1 ? `attempt ${attempt}` : "");
  });
  socket.io.on("reconnect_failed", () => onStatus("disconnected", "gave up reconnecting"));

  window.addEventListener("online", () => {
    if (!socket.connected) retryNow();
  });
  window.addEventListener("offline", () => onStatus("disconnected", OFFLINE));

  onStatus("connecting", "");
  socket.connect();
  return socket;
}

const RENEW_RETRY_MS = 5000;

/**
 * An open socket's access token expires like any other: the server cuts off a socket whose token
 * ran out. Before it does (at the token's renewal time), send `authenticate` with a fresh one.
 * A socket that connects again sends a fresh token anyway, so the renewal runs while connected.
 */
function keepTokenFresh(socket) {
  let timer = null;
  const later = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(renew, Math.max(1000, ms));
  };
  async function renew() {
    timer = null;
    if (!socket.connected) return;
    let token;
    try {
      token = await freshAccessToken();
    } catch {
      later(RENEW_RETRY_MS); // the server is out of reach for now
      return;
    }
    if (!token) {
      goToLogin(); // the login ended: the socket will be closed too
      return;
    }
    const answer = await request(socket, AUTHENTICATE, { token });
    if (answer.ok) {
      later(accessRenewAt() - Date.now());
    } else if (socket.connected) {
      later(RENEW_RETRY_MS);
    }
  }
  return {
    start: () => later(accessRenewAt() - Date.now()),
    stop: () => {
      clearTimeout(timer);
      timer = null;
    },
  };
}

function humanReason(reason) {
  return (
    {
      "transport close": "connection lost",
      "transport error": "connection error",
      "ping timeout": "the server stopped answering",
      "parse error": "garbled message",
    }[reason] || reason
  );
}

/** Emit with an ack, resolving with the answer (or a timeout error answer). */
export function request(socket, event, payload, timeoutMs = 15000) {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, answer) => {
      if (err) {
        resolve({ ok: false, error: { code: "timeout", message: "The server did not answer in time." } });
      } else {
        resolve(answer || { ok: false, error: { code: "bad_answer", message: "The server sent an empty answer." } });
      }
    });
  });
}
