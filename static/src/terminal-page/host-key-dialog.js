// Asks the user whether to trust an SSH host's key the first time the host offers it.

import { $ } from "../lib/dom.js";

/** Show the offered key (`offer`: a host_key_unknown error); resolves true when the user trusts it. */
export function confirmHostKey(host, offer) {
  const dialog = $("#hostkey-dialog");
  $("#hostkey-host").textContent = host || "the host";
  $("#hostkey-fingerprint").textContent = offer.fingerprint || "(no fingerprint offered)";
  $("#hostkey-key").textContent = offer.host_key || "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "trust"), { once: true });
    dialog.returnValue = ""; // Esc must not reuse an earlier answer
    dialog.showModal();
  });
}
