// Asks the user whether to trust an SSH host's key the first time the host offers it, and an owner
// or admin for the host's new key when the pinned one changed.

import { $, showMessage } from "../lib/dom.js";

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

/**
 * The pinned key changed (`mismatch`: a host_key_mismatch error): show both fingerprints and ask an
 * owner or admin for the new key, pasted from a source they trust (never the key this connection
 * presented: that one may be an attacker's). `pin(line)` pins it and resolves, or throws to say why;
 * resolves true once a key was pinned, false when the user gave up.
 */
export function askNewHostKey(where, mismatch, pin) {
  const dialog = $("#hostkey-changed-dialog");
  const field = $("#hostkey-changed-key");
  const message = $("#hostkey-changed-message");
  $("#hostkey-changed-host").textContent = where.label;
  $("#hostkey-changed-scan").textContent = where.scan;
  $("#hostkey-changed-pinned").textContent = mismatch.pinned_fingerprint || "(unknown)";
  $("#hostkey-changed-presented").textContent = mismatch.fingerprint || "(unknown)";
  field.value = "";
  showMessage(message, "");
  return new Promise((resolve) => {
    const submit = async (event) => {
      if (event.submitter?.value !== "pin") return; // Cancel and Esc close it
      event.preventDefault();
      const line = field.value.trim();
      if (!line) {
        showMessage(message, "Paste the host's public key first.");
        field.focus();
        return;
      }
      try {
        await pin(line);
      } catch (err) {
        showMessage(message, err.message);
        return;
      }
      dialog.close("pinned");
    };
    dialog.addEventListener("submit", submit);
    dialog.addEventListener("close", () => {
      dialog.removeEventListener("submit", submit);
      resolve(dialog.returnValue === "pinned");
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    field.focus();
  });
}
