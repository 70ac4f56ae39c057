// The pages for administrators only (audit, sessions): anyone else sees a sentence saying so,
// never an empty page, whether the page knows it from /api/me or the server refuses with 403.

import { $ } from "./dom.js";

/** Show the "only administrators" notice instead of the page's content. */
export function showAdminsOnly(message) {
  const notice = $("#admins-only");
  if (message) $("#admins-only-detail", notice).textContent = message;
  notice.hidden = false;
  for (const part of document.querySelectorAll("[data-admin-only]")) part.hidden = true;
}

/** Whether `me` may use the page; shows the notice when not. */
export function admitAdmins(me) {
  if (me.role === "admin") {
    for (const part of document.querySelectorAll("[data-admin-only]")) part.hidden = false;
    return true;
  }
  showAdminsOnly();
  return false;
}

/** An API error: a 403 means the notice (the role changed since the page loaded); true if so. */
export function refusedAsNonAdmin(err) {
  if (err && err.status === 403) {
    showAdminsOnly(err.message);
    return true;
  }
  return false;
}
