// What the review pages say about a terminal session: how long it ran, how it ended, where.

/** 12 s, 3 min 05 s, 2 h 04 min, from its start to its end (or now, while it runs). */
export function durationText(session, now = Date.now()) {
  const start = Date.parse(session.created_at);
  const end = session.ended_at ? Date.parse(session.ended_at) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return "";
  const seconds = Math.max(0, Math.round((end - start) / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${pad(seconds % 60)} s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${pad(Math.floor((seconds % 3600) / 60))} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
}

/**
 * "running", "exit 0", "signal SIGHUP", or, with neither, what that means where it ran: an SSH
 * connection closed without a status, or a local shell whose terminal host stopped (`workspace`,
 * when known, says which).
 */
export function exitText(session, workspace = null) {
  if (session.status === "running") return "running";
  if (Number.isInteger(session.exit_code)) return `exit ${session.exit_code}`;
  if (session.signal) return `signal ${session.signal}`;
  if (workspace?.kind === "ssh") return "closed by the remote end";
  if (workspace?.kind === "local") return "no exit status (its terminal host stopped)";
  return "no exit status";
}

/** The workspace as a reviewer names it: its name, and for SSH where it logs in. */
export function workspaceLabel(workspace, fallbackId) {
  if (!workspace) return fallbackId ? `${fallbackId} (deleted)` : "";
  if (workspace.deleted) return `${workspace.name} (deleted)`;
  if (workspace.kind !== "ssh") return workspace.name;
  const port = workspace.port && workspace.port !== 22 ? `:${workspace.port}` : "";
  return `${workspace.name} · ${workspace.username ? workspace.username + "@" : ""}${workspace.host}${port}`;
}

/** Where a session's recording is replayed (and a running one watched). */
export function replayPath(sessionId) {
  return `/sessions/${encodeURIComponent(sessionId)}/replay`;
}
