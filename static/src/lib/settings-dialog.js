// The settings dialog: theme, font, font size, scrollback, cursor and predictive echo, saved on the server for the
// user (lib/settings.js); whatever shows themed things follows at once (every pane of the terminal
// page). Built here, so the terminal and account pages open the same one.

import { $, el, showMessage } from "./dom.js";
import { CHOICES } from "./settings.js";

function field(label, control, hint) {
  return el("label", { class: "setting" }, el("span", { class: "setting-name" }, label), control, hint ? el("span", { class: "muted small" }, hint) : null);
}

function select(name, options) {
  return el("select", { name }, ...options.map((option) => {
    const [value, text] = Array.isArray(option) ? option : [option, option === "monospace" ? "The browser's monospace" : option];
    return el("option", { value }, text);
  }));
}

function number(name, [min, max], step = 1) {
  return el("input", { type: "number", name, min: String(min), max: String(max), step: String(step), required: true, inputmode: "numeric" });
}

export class SettingsDialog {
  /**
   * @param {import("./settings.js").SettingsStore} store
   * @param {object} [opts]
   * @param {() => void} [opts.closed]  after it closes (the terminal page gives the terminal its keys
   *        back: the browser gave them to the Settings button, and a space typed next opened it again)
   */
  constructor(store, { closed = () => {} } = {}) {
    this.store = store;
    this.message = el("div", { class: "message", role: "alert", hidden: true });
    this.form = el(
      "form",
      { method: "dialog", class: "settings-form" },
      el("h2", { id: "settings-title" }, "Settings"),
      el("p", { class: "muted small" }, "Saved for your account: they follow you to any browser."),
      field("Theme", select("theme", CHOICES.theme)),
      field("Font", select("font_family", CHOICES.font_family), "A font this device lacks shows in the next one it has."),
      field("Font size (px)", number("font_size", CHOICES.font_size)),
      field("Scrollback (lines)", number("scrollback", CHOICES.scrollback, 100), "Lines each terminal keeps above its screen."),
      field("Cursor", select("cursor_style", CHOICES.cursor_style)),
      field("Cursor blink", select("cursor_blink", CHOICES.cursor_blink),
        "A blinking cursor makes each typed key show a frame later (about 16 ms)."),
      field("Predictive echo", select("local_echo", CHOICES.local_echo),
        "Typed keys show at once, underlined, until the server echoes them (on slow links: once a round trip " +
          "takes 80 ms or more); never at password prompts or in full-screen programs."),
      this.message,
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", class: "ghost", value: "cancel", onclick: () => this.dialog.close() }, "Cancel"),
        el("button", { type: "submit", class: "primary", value: "save" }, "Save"),
      ),
    );
    this.dialog = el("dialog", { id: "settings-dialog", class: "dialog", "aria-labelledby": "settings-title" }, this.form);
    document.body.append(this.dialog);
    this.dialog.addEventListener("close", () => closed());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  open() {
    const current = this.store.current;
    for (const [name, value] of Object.entries(current)) {
      const input = this.form.elements.namedItem(name);
      if (input) input.value = String(value);
    }
    showMessage(this.message, "");
    this.dialog.showModal();
    $("select[name=theme]", this.form).focus();
  }

  values() {
    const read = (name) => this.form.elements.namedItem(name).value;
    return {
      theme: read("theme"),
      font_family: read("font_family"),
      font_size: Number(read("font_size")),
      scrollback: Number(read("scrollback")),
      cursor_style: read("cursor_style"),
      cursor_blink: read("cursor_blink") === "true",
      local_echo: read("local_echo"),
    };
  }

  async save() {
    const button = $("button[type=submit]", this.form);
    button.disabled = true;
    try {
      await this.store.save(this.values());
      this.dialog.close();
    } catch (err) {
      showMessage(this.message, err.message); // the server names the value it refused
    } finally {
      button.disabled = false;
    }
  }
}
