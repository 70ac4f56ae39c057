// The terminal page: one xterm bound to a session of the workspace, the list of
// the workspace's running sessions, the connection status and host-key trust.

import { FitAddon } from "@xterm/addon-fit";
import { WebLinksAddon } from "@xterm/addon-web-links";
import { Terminal } from "@xterm/xterm";
import { api, download, hasTokens } from "./lib/api.js";
import { initChrome } from "./lib/chrome.js";
import { connect, request } from "./lib/connection.js";
import { $, el, formatBytes, formatTime, showMessage } from "./lib/dom.js";
import { ERROR } from "./lib/protocol.js";
import { describeTerminalError } from "./lib/ssh-errors.js";
import { TerminalSession } from "./lib/terminal-session.js";

const body = document.body;
const pageMessage = $("#page-message");
const statusBox = $("#conn-status");
const sessionList = $("#session-list");
const sidebar = $("#sidebar");
const sidebarToggle = $("#sessions-toggle");
const viewerBanner = $("#viewer-banner");
const exitBanner = $("#exit-banner");
const exitText = $("#exit-text");
const lossBanner = $("#loss-banner");
const lossText = $("#loss-text");
const terminalBox = $("#terminal");
const hostKeyDialog = $("#hostkey-dialog");

const TAB_SESSION = "aict.tabSession.";
const RESIZE_DEBOUNCE_MS = 120;
const PARK_AFTER_MS = 10_000; // a hidden tab stops holding the process back after this

let workspace = null;
let controller = null;
let socket = null;
let runningSessions = [];

function setStatus(state, reason) {
  const labels = {
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Reconnecting…",
    disconnected: "Disconnected",
  };
  statusBox.dataset.state = state;
  statusBox.textContent = labels[state] + (reason && state !== "connected" ? ` (${reason})` : "");
  statusBox.title = reason || labels[state];
}

function fatal(text) {
  showMessage(pageMessage, text);
  pageMessage.append(" ", el("a", { href: "/" }, "Back to your workspaces"));
  body.classList.add("no-terminal");
}

function rememberTabSession(sessionId) {
  if (sessionId) sessionStorage.setItem(TAB_SESSION + workspace.id, sessionId);
}

// --- the session list -------------------------------------------------------

function sessionLabel(session, index) {
  return session.name || `Terminal ${index + 1}`;
}

function renderSessions() {
  sessionList.replaceChildren();
  if (!runningSessions.length) {
    sessionList.append(el("li", { class: "empty" }, "No running terminals."));
    return;
  }
  runningSessions.forEach((session, index) => {
    const current = controller && session.id === controller.sessionId;
    const open = el(
      "button",
      {
        type: "button",
        class: "session-open",
        "aria-current": current ? "true" : null,
        onclick: () => {
          closeSidebarOnPhone();
          if (!current || controller.exited) switchTo(session.id);
          else controller.term.focus();
        },
      },
      el("span", { class: "session-name" }, sessionLabel(session, index)),
      el(
        "span",
        { class: "muted small" },
        [session.owner, formatTime(session.created_at), `${session.cols}×${session.rows}`].filter(Boolean).join(" · "),
      ),
    );
    const kill = el(
      "button",
      {
        type: "button",
        class: "session-kill danger small",
        title: "End this terminal",
        "aria-label": `End ${sessionLabel(session, index)}`,
        onclick: (event) => killSession(session, index, event.currentTarget),
      },
      "End",
    );
    const record = el(
      "button",
      {
        type: "button",
        class: "session-record ghost small",
        title: "Download the recording (asciicast, plays with asciinema)",
        "aria-label": `Download the recording of ${sessionLabel(session, index)}`,
        onclick: () =>
          download(`/api/sessions/${encodeURIComponent(session.id)}/recording`, `aict-${session.id}.cast`).catch((err) =>
            showMessage(pageMessage, err.message),
          ),
      },
      "⤓",
    );
    sessionList.append(el("li", { class: "session-item", dataset: { id: session.id } }, open, record, kill));
  });
}

let listRequests = 0;

async function loadSessions() {
  const request = ++listRequests;
  try {
    const query = `workspace_id=${encodeURIComponent(workspace.id)}&status=running`;
    const sessions = await api("GET", "/api/sessions?" + query);
    if (request !== listRequests) return runningSessions; // a later request's answer wins, whenever it lands
    runningSessions = sessions;
    runningSessions.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
    renderSessions();
  } catch (err) {
    showMessage(pageMessage, err.message);
  }
  return runningSessions;
}

async function killSession(session, index, button) {
  if (!confirm(`End ${sessionLabel(session, index)}? Its programs are stopped.`)) return;
  // A program that ignores the hangup is killed 3 s later: say that the request is under way.
  button.disabled = true;
  button.textContent = "Ending…";
  try {
    await api("DELETE", "/api/sessions/" + encodeURIComponent(session.id));
  } catch (err) {
    showMessage(pageMessage, err.message);
  }
  await loadSessions(); // DELETE answers once the terminal has ended
}

function closeSidebarOnPhone() {
  if (window.matchMedia("(max-width: 700px)").matches) setSidebarOpen(false);
}

function setSidebarOpen(open) {
  sidebar.classList.toggle("open", open);
  sidebarToggle.setAttribute("aria-expanded", String(open));
}

// --- host keys --------------------------------------------------------------

function confirmHostKey(error) {
  $("#hostkey-host").textContent = workspace.host || "the host";
  $("#hostkey-fingerprint").textContent = error.fingerprint || "(no fingerprint offered)";
  $("#hostkey-key").textContent = error.host_key || "";
  return new Promise((resolve) => {
    hostKeyDialog.addEventListener("close", () => resolve(hostKeyDialog.returnValue === "trust"), { once: true });
    hostKeyDialog.returnValue = ""; // Esc must not reuse an earlier answer
    hostKeyDialog.showModal();
  });
}

// --- creating and switching -------------------------------------------------

function showExit(info) {
  let text;
  if (info && Number.isInteger(info.exitCode)) text = `The process exited with code ${info.exitCode}.`;
  else if (info && info.signal) text = `The process was ended by ${info.signal}.`;
  else if (info && info.text) text = info.text;
  else text = "The session has ended.";
  exitText.textContent = text;
  exitBanner.hidden = false;
}

function hideBanners() {
  exitBanner.hidden = true;
  showMessage(pageMessage, "");
}

// The note in the terminal marks where output is missing, but the replay after it can scroll it
// far out of sight (and out of the scrollback): say it where it stays until dismissed.
let lossShownFor = null;
let lostBytes = 0;

function showLoss(bytes) {
  if (lossShownFor !== controller.sessionId || lossBanner.hidden) lostBytes = 0;
  lossShownFor = controller.sessionId;
  lostBytes += bytes;
  lossText.textContent = `${formatBytes(lostBytes)} of this terminal's output were dropped here: the server ` +
    "keeps only its latest output for replay, and this page was further behind. The terminal marks the gap.";
  lossBanner.hidden = false;
}

function hideLossUnlessFor(sessionId) {
  if (lossShownFor !== sessionId) lossBanner.hidden = true;
}

async function newTerminal() {
  hideBanners();
  setSidebarOpen(false);
  controller.term.focus(); // keys typed while it starts go to it (typed ahead), not to the button
  for (let attempt = 0; attempt < 3; attempt += 1) {
    showMessage(pageMessage, workspace.kind === "ssh" ? `Connecting to ${workspace.host}…` : "", "info");
    const ack = await controller.create();
    if (ack.ok) {
      showMessage(pageMessage, "");
      controller.term.focus();
      return true;
    }
    const error = ack.error || {};
    if (error.code === "host_key_unknown" && (await confirmHostKey(error))) {
      try {
        workspace = await api("POST", `/api/workspaces/${encodeURIComponent(workspace.id)}/trust-host-key`, {
          fingerprint: error.fingerprint,
        });
        continue;
      } catch (err) {
        showMessage(pageMessage, err.message);
        showExit({ text: "No terminal is open." });
        return false;
      }
    }
    showMessage(pageMessage, describeTerminalError(error, workspace));
    showExit({ text: "No terminal is open." });
    return false;
  }
  return false;
}

async function switchTo(sessionId) {
  hideBanners();
  const ok = await controller.open(sessionId);
  if (ok) controller.term.focus();
  return ok;
}

/** The session this page should show first: a deep link, this tab's last one, or the newest running one. */
function initialSession(requested, sessions) {
  if (requested) return requested;
  const mine = sessionStorage.getItem(TAB_SESSION + workspace.id);
  if (mine && sessions.some((s) => s.id === mine)) return mine;
  return sessions.length ? sessions[sessions.length - 1].id : null;
}

// --- extra keys for phones -------------------------------------------------

function setupKeybar(term) {
  const bar = $("#keybar");
  const ctrl = $("[data-key=ctrl]", bar);
  let ctrlLatched = false;
  const latch = (on) => {
    ctrlLatched = on;
    ctrl.setAttribute("aria-pressed", String(on));
  };
  // The next typed character after Ctrl becomes its control code (Ctrl+C is \x03).
  controller.transformInput = (data) => {
    if (!ctrlLatched || data.length !== 1) return data;
    latch(false);
    const code = data.toUpperCase().charCodeAt(0);
    return code >= 64 && code <= 95 ? String.fromCharCode(code - 64) : data;
  };
  const arrows = { up: "A", down: "B", right: "C", left: "D" };
  // Keep the focus (and the phone keyboard) on the terminal.
  bar.addEventListener("pointerdown", (event) => event.preventDefault());
  bar.addEventListener("click", (event) => {
    const key = event.target.closest("button")?.dataset.key;
    if (!key) return;
    if (key === "ctrl") {
      latch(!ctrlLatched);
    } else if (key === "esc") {
      controller.send("\x1b");
    } else if (key === "tab") {
      controller.send("\t");
    } else if (arrows[key]) {
      controller.send((term.modes.applicationCursorKeysMode ? "\x1bO" : "\x1b[") + arrows[key]);
    } else {
      controller.send(key);
    }
    term.focus();
  });
}

// --- the page ---------------------------------------------------------------

function createTerminal() {
  const term = new Terminal({
    allowProposedApi: false,
    cursorBlink: true,
    convertEol: false,
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, ui-monospace, monospace',
    fontSize: window.matchMedia("(max-width: 700px)").matches ? 13 : 14,
    // DejaVu Sans Mono at 14 px is 16.3 px tall, but the browser rounds its ascent and descent
    // (13 + 3 px) and xterm's DOM renderer clips each row to that: the underscore, which reaches
    // the font's full descent, is drawn in the 17th pixel and did not show. 1.1 gives every row
    // that pixel (17 px rows at 14 px, 16 at 13).
    lineHeight: 1.1,
    scrollback: 5000,
    theme: {
      background: "#101418",
      foreground: "#d8dee4",
      cursor: "#f0f3f6",
      selectionBackground: "#3a4a5e",
    },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.loadAddon(new WebLinksAddon((event, uri) => {
    const link = window.open(uri, "_blank", "noopener,noreferrer");
    if (link) link.opener = null;
  }));
  term.open(terminalBox);
  // Ctrl+C and Ctrl+V belong to the shell; copy and paste are Ctrl+Shift+C / Ctrl+Shift+V.
  term.attachCustomKeyEventHandler((event) => {
    if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return true;
    const key = event.key.toLowerCase();
    if (key === "c" && term.hasSelection()) {
      navigator.clipboard?.writeText(term.getSelection()).catch(() => {});
      event.preventDefault();
      return false;
    }
    if (key === "v") {
      // Let the browser's own paste event reach xterm (it handles bracketed paste).
      return false;
    }
    return true;
  });
  return { term, fit };
}

function safeFit(fit, term, viewerSized) {
  if (viewerSized()) return;
  if (!terminalBox.offsetParent) return;
  try {
    fit.fit();
  } catch {
    // not laid out yet
  }
  return term;
}

async function start() {
  const { workspaceId: linkedWorkspace, sessionId: linkedSession } = body.dataset;
  await initChrome();

  let workspaceId = linkedWorkspace;
  if (!workspaceId && linkedSession) {
    try {
      const session = await api("GET", "/api/sessions/" + encodeURIComponent(linkedSession));
      workspaceId = session.workspace_id;
    } catch (err) {
      fatal(err.status === 404 ? "This session does not exist, or you do not have access to it." : err.message);
      return;
    }
  }
  try {
    workspace = await api("GET", "/api/workspaces/" + encodeURIComponent(workspaceId));
  } catch (err) {
    fatal(err.status === 404 ? "This workspace does not exist, or you do not have access to it." : err.message);
    return;
  }
  document.title = `${workspace.name} · aict`;
  $("#ws-name").textContent = workspace.name;

  const { term, fit } = createTerminal();
  const viewerSized = () => controller && controller.access === "viewer";
  const refit = () => safeFit(fit, term, viewerSized);
  refit();
  term.focus();
  window.aictTerminal = term;

  socket = connect({
    onStatus: setStatus,
    onConnect: () => onConnect(),
  });
  controller = new TerminalSession({
    term,
    socket,
    workspaceId: workspace.id,
    ui: {
      fit: refit,
      onSession: (id) => {
        rememberTabSession(id);
        hideLossUnlessFor(id);
        renderSessions();
      },
      onLoss: (bytes) => showLoss(bytes),
      onAccess: (access) => {
        viewerBanner.hidden = access !== "viewer";
        body.classList.toggle("viewer", access === "viewer");
      },
      onExit: (info) => showExit(info),
      onListChanged: () => loadSessions(),
      onError: (error, context) => {
        if (context === "input" && error.code === "forbidden") {
          viewerBanner.hidden = false;
          return;
        }
        showMessage(pageMessage, describeTerminalError(error, workspace));
        if (context === "attach") {
          const ended = error.code === "conflict"; // its record is there, its process is not (a restart)
          showExit({ text: ended ? "This terminal has ended: the server no longer holds it." : "This terminal is not available." });
        }
      },
    },
  });
  window.aict = {
    term,
    socket,
    controller,
    get sessionId() {
      return controller.sessionId;
    },
    get renderedOffset() {
      return controller.stream.rendered;
    },
    get droppedBytes() {
      return controller.stream.droppedBytes;
    },
    get notKeptBytes() {
      return controller.stream.notKeptBytes;
    },
    get inUse() {
      return controller.inUse;
    },
    get status() {
      return statusBox.dataset.state;
    },
    request: (event, payload) => request(socket, event, payload),
  };

  setupKeybar(term);
  socket.on(ERROR, (err) => showMessage(pageMessage, (err && err.message) || "The server reported an error."));

  let firstConnect = true;
  async function onConnect() {
    if (!firstConnect) {
      await controller.reconnected();
      loadSessions();
      return;
    }
    firstConnect = false;
    const sessions = await loadSessions();
    const chosen = initialSession(linkedSession, sessions);
    if (chosen) {
      const ok = await switchTo(chosen);
      if (!ok && !linkedSession) await newTerminal();
    } else {
      await newTerminal();
    }
  }

  let resizeTimer = null;
  const scheduleFit = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(refit, RESIZE_DEBOUNCE_MS);
  };
  window.addEventListener("resize", scheduleFit);
  new ResizeObserver(scheduleFit).observe(terminalBox);
  window.addEventListener("focus", () => controller.claimSize());

  // Save the screen and its offset when the page goes away (reload, tab close, app switch on phones).
  // (Not after logging out: that cleared them on purpose.)
  const saveScreen = () => {
    if (hasTokens()) controller.saveResumePoint();
  };
  window.addEventListener("pagehide", saveScreen);
  let parkTimer = null;
  document.addEventListener("visibilitychange", () => {
    clearTimeout(parkTimer);
    if (document.visibilityState === "hidden") {
      saveScreen();
      parkTimer = setTimeout(() => controller.park(), PARK_AFTER_MS);
    } else {
      controller.unpark();
      loadSessions();
    }
  });

  for (const button of document.querySelectorAll("[data-action=new-terminal]")) {
    button.addEventListener("click", () => newTerminal());
  }
  $("[data-action=dismiss-loss]").addEventListener("click", () => {
    lossBanner.hidden = true;
  });
  sidebarToggle.addEventListener("click", () => setSidebarOpen(!sidebar.classList.contains("open")));
  $("#refresh-sessions").addEventListener("click", () => loadSessions());
  setInterval(() => {
    if (document.visibilityState === "visible") loadSessions();
  }, 15000);
}

start().catch((err) => fatal(err.message || String(err)));
