// The account page: change your password; turn two-factor authentication (TOTP) on with an
// authenticator app (QR code or the secret by hand, confirmed with a first code) and off again.

import { api } from "./lib/api.js";
import { initChrome, mustEnrolTotp } from "./lib/chrome.js";
import { $, showMessage } from "./lib/dom.js";
import { SettingsDialog } from "./lib/settings-dialog.js";
import { SettingsStore } from "./lib/settings.js";

const pageMessage = $("#page-message");
const totpSection = $("#totp-section");
const totpMessage = $("#totp-message");
const passwordForm = $("#password-form");
const passwordMessage = $("#password-message");
let me = null;

/** Show the part of the TOTP section for `state`: "off", "enrol" or "on". */
function showTotp(state) {
  $("#totp-off").hidden = state !== "off";
  $("#totp-enrol").hidden = state !== "enrol";
  $("#totp-on").hidden = state !== "on";
  const text = {
    off: "Off: logging in needs your password only.",
    enrol: "Not on yet: finish the steps below.",
    on: "On: logging in asks for a code from your authenticator app.",
  }[state];
  $("#totp-state").textContent = text;
  // Under REQUIRE_TOTP_FOR_ADMINS the server refuses to turn it off: no form for that.
  $("#totp-off-form").hidden = state === "on" && me.totp_required;
}

/** Six digits, as typed or pasted ("123 456" too); null when it is not that. */
function codeFrom(input) {
  const code = input.value.replace(/\s+/g, "");
  return /^\d{6}$/.test(code) ? code : null;
}

async function startEnrolment() {
  const button = $("#totp-start");
  button.disabled = true;
  showMessage(totpMessage, "");
  try {
    const enrolment = await api("POST", "/api/me/totp");
    $("#totp-qr").src = enrolment.qr_svg;
    $("#totp-secret").textContent = enrolment.secret.replace(/(.{4})(?=.)/g, "$1 ");
    $("#totp-confirm-code").value = "";
    showTotp("enrol");
    $("#totp-confirm-code").focus();
  } catch (err) {
    showMessage(totpMessage, err.message);
  } finally {
    button.disabled = false;
  }
}

/** A form that sends one code from the authenticator app; `done()` runs once the server took it. */
async function submitCode(event, input, send, done) {
  event.preventDefault();
  const code = codeFrom(input);
  if (!code) {
    showMessage(totpMessage, "Enter the 6-digit code your authenticator app shows.");
    return;
  }
  const submit = $("button[type=submit]", event.target);
  submit.disabled = true;
  try {
    await send(code);
    input.value = "";
    done();
  } catch (err) {
    showMessage(totpMessage, err.message);
  } finally {
    submit.disabled = false;
  }
}

function confirmEnrolment(event) {
  submitCode(event, $("#totp-confirm-code"), (otp) => api("POST", "/api/me/totp/confirm", { otp }), () => {
    const wasRequired = mustEnrolTotp(me);
    me.totp = true;
    showTotp("on");
    $("#totp-secret").textContent = "";
    $("#totp-qr").removeAttribute("src");
    if (wasRequired) {
      $("#enrol-first").hidden = true;
      $("#password-section").hidden = false;
    }
    showMessage(totpMessage, "Two-factor authentication is on. From now on, logging in asks for a code.", "success");
  });
}

function turnOff(event) {
  submitCode(event, $("#totp-off-code"), (otp) => api("DELETE", "/api/me/totp", { otp }), () => {
    me.totp = false;
    showTotp("off");
    showMessage(totpMessage, "Two-factor authentication is off.", "success");
  });
}

async function changePassword(event) {
  event.preventDefault();
  const f = passwordForm.elements;
  if (!f.current_password.value || !f.new_password.value) {
    showMessage(passwordMessage, "Enter your current password and the new one.");
    return;
  }
  if (f.new_password.value !== f.repeat_password.value) {
    showMessage(passwordMessage, "The two new passwords differ: type the same one twice.");
    return;
  }
  const submit = $("button[type=submit]", passwordForm);
  submit.disabled = true;
  try {
    await api("POST", "/api/me/password", { current_password: f.current_password.value, new_password: f.new_password.value });
    passwordForm.reset();
    showMessage(passwordMessage, "Password changed. Your other logins have ended.", "success");
  } catch (err) {
    showMessage(passwordMessage, err.message);
  } finally {
    submit.disabled = false;
  }
}

$("#totp-start").addEventListener("click", startEnrolment);
$("#totp-cancel").addEventListener("click", () => {
  showMessage(totpMessage, "");
  showTotp("off");
});
$("#totp-confirm-form").addEventListener("submit", confirmEnrolment);
$("#totp-off-form").addEventListener("submit", turnOff);
passwordForm.addEventListener("submit", changePassword);

/** The page settings (lib/settings.js), summed up in a line, and the dialog that changes them. */
function offerSettings(store) {
  const summary = $("#settings-summary");
  const describe = (s) => {
    summary.textContent = `${s.theme === "system" ? "Theme of the device" : s.theme === "light" ? "Light" : "Dark"} theme · ` +
      `${s.font_family} ${s.font_size} px · ${s.scrollback} lines of scrollback · ${s.cursor_blink ? "blinking" : "steady"} ${s.cursor_style} cursor · ` +
      `predictive echo ${s.local_echo === "auto" ? "on slow links" : s.local_echo}`;
  };
  describe(store.subscribe(describe));
  const dialog = new SettingsDialog(store);
  $("#settings-open").addEventListener("click", () => dialog.open());
  $("#settings-section").hidden = false;
}

const settings = new SettingsStore();
initChrome(settings)
  .then(async (answer) => {
    me = answer;
    const enrolFirst = mustEnrolTotp(me);
    $("#enrol-first").hidden = !enrolFirst;
    $("#password-section").hidden = enrolFirst; // the server allows nothing but enrolling until then
    if (!enrolFirst) {
      await settings.load();
      offerSettings(settings);
    }
    totpSection.hidden = false;
    showTotp(me.totp ? "on" : "off");
  })
  .catch((err) => showMessage(pageMessage, err.message));
