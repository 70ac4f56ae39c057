// Sentences for the errors a terminal can fail to start or attach with.

/** "build.lab" or "127.0.0.1 port 2222": the host as the messages name it (its port when not SSH's own). */
export function hostLabel(workspace) {
  if (!workspace || !workspace.host) return "the host";
  return workspace.port && workspace.port !== 22 ? `${workspace.host} port ${workspace.port}` : workspace.host;
}

export function describeTerminalError(error, workspace) {
  const host = hostLabel(workspace);
  const code = (error && error.code) || "";
  switch (code) {
    case "ssh_unreachable":
      return `Cannot reach ${host}: the connection was refused or timed out. Check the host, the port and that sshd is running.`;
    case "ssh_dns":
      return `The host name ${host} cannot be resolved. Check the spelling of the host.`;
    case "ssh_auth_failed":
      return `${host} refused the login. Check the SSH username, password or private key of this workspace.`;
    case "host_key_mismatch":
      return `The host key of ${host} has changed since it was trusted. This can mean someone is intercepting the connection; an owner or admin must check the key and pin the new one before anyone can connect.`;
    case "host_key_unknown":
      return `The host key of ${host} is not trusted yet.`;
    case "not_found":
      return "This terminal or workspace no longer exists, or you no longer have access to it.";
    case "forbidden":
      return "You are not allowed to do that here (viewers can only watch).";
    case "throttled":
      return "Too many requests; wait a moment and try again.";
    case "timeout":
      return "The server did not answer in time. Try again.";
    default:
      return (error && error.message) || "Something went wrong.";
  }
}
