// The Socket.IO connection: token auth (refreshed when it expires), automatic
// reconnection with backoff, and a visible status for the user.

import { io } from "socket.io-client";
import { freshAccessToken, goToLogin, refreshAccessToken } from "./api.js";

const AUTH_FAILURE = /token|auth|expired|revoked|unauthori[sz]ed|not.?authenticated|401/i;

// How the page gets through: WebSocket first, the quick way in. Where it is refused (a proxy that
// does not pass the upgrade), tryAllTransports falls back to HTTP long-polling within the same
// attempt; where it hangs, the attempt gives up after WEBSOCKET_TIMEOUT_MS. From then on the
// page's attempts start with polling and upgrade to WebSocket once socket.io's probe gets through
// (the polling connection goes on meanwhile), and after such an upgrade WebSocket goes first again.
// A browser without WebSocket polls.
const WEBSOCKET_FIRST = { transports: ["websocket", "polling"], timeout: 4000 };
const POLLING_FIRST = { transports: ["polling", "websocket"], timeout: 10000 };
const POLLING_ONLY = { transports: ["polling"], timeout: 10000 };

function describeConnectError(err) {
  const data = err && err.data;
  const message = (data && (data.message || (data.error && data.error.message))) || (err && err.message) || "";
  if (message === "xhr poll error" || message === "websocket error" || message === "timeout") {
    return "the server cannot be reached";
  }
  return message || "connection refused";
}

function isAuthFailure(err) {
  const data = err && err.data;
  const code = (data && (data.code || (data.error && data.error.code))) || "";
  return AUTH_FAILURE.test(code) || AUTH_FAILURE.test((err && err.message) || "");
}

/**
 * Open the socket. `onStatus(state, reason)` gets "connecting" | "connected" |
 * "reconnecting" | "disconnected"; `onConnect()` runs after every (re)connect.
 */
export function connect({ onStatus, onConnect }) {
  let refreshedSinceConnect = false;
  let retryTimer = null;
  let retryDelay = 500;

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
        .catch(() => send({ token: localStorage.getItem("aict.access") || "" }));
    },
  });

  // A refusal by the server (bad token) is not retried by socket.io itself.
  function retryLater() {
    if (retryTimer !== null) return;
    const delay = retryDelay * (0.75 + Math.random() * 0.5);
    retryDelay = Math.min(retryDelay * 2, 10000);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (!socket.connected) socket.connect();
    }, delay);
  }

  let way = start;
  function goFirst(next) {
    if (way === POLLING_ONLY || way === next) return;
    way = next;
    socket.io.opts.transports = next.transports; // for the next attempt's engine
    socket.io.timeout(next.timeout);
  }

  socket.io.on("open", () => {
    const engine = socket.io.engine;
    if (engine.transport.name !== "polling") return;
    goFirst(POLLING_FIRST);
    engine.on("upgrade", (transport) => {
      if (transport.name === "websocket") goFirst(WEBSOCKET_FIRST);
    });
  });

  socket.on("connect", () => {
    refreshedSinceConnect = false;
    retryDelay = 500;
    onStatus("connected", "");
    onConnect();
  });

  socket.on("disconnect", (reason) => {
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
    const reason = describeConnectError(err);
    if (err && err.message === "timeout" && way === WEBSOCKET_FIRST) goFirst(POLLING_FIRST); // WebSocket hung
    if (socket.active) {
      // Transport trouble: socket.io retries with backoff by itself.
      onStatus("reconnecting", reason);
      return;
    }
    if (isAuthFailure(err) && !refreshedSinceConnect) {
      refreshedSinceConnect = true;
      onStatus("reconnecting", "renewing login");
      refreshAccessToken()
        .then((ok) => (ok ? socket.connect() : goToLogin()))
        .catch(() => retryLater());
      return;
    }
    onStatus("reconnecting", reason);
    retryLater();
  });

  socket.io.on("reconnect_attempt", (attempt) => {
    onStatus("reconnecting", attempt > 1 ? `attempt ${attempt}` : "");
  });
  socket.io.on("reconnect_failed", () => onStatus("disconnected", "gave up reconnecting"));

  window.addEventListener("online", () => {
    if (socket.connected) return;
    // socket.io may be waiting out its backoff (up to 5 s) and connect() would not cut it short:
    // drop that wait and try now that the network is back.
    if (socket.io._reconnecting) socket.disconnect();
    socket.connect();
  });
  window.addEventListener("offline", () => onStatus("disconnected", "this device is offline"));

  onStatus("connecting", "");
  socket.connect();
  return socket;
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
