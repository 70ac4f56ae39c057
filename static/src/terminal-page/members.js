// The workspace's members below its terminals, for its owner and administrators only.

import { $, el } from "../lib/dom.js";
import { membersPanel } from "../lib/members-panel.js";

export function offerMembers(me, workspace) {
  if (me.role !== "admin" && workspace.owner !== me.username) return;
  const panel = membersPanel(workspace);
  const toggle = el(
    "button",
    {
      type: "button",
      class: "ghost small members-toggle",
      "aria-expanded": "false",
      onclick: () => {
        panel.hidden = !panel.hidden;
        toggle.setAttribute("aria-expanded", String(!panel.hidden));
        if (!panel.hidden) panel.load();
      },
    },
    "Members",
  );
  $("#sidebar").append(toggle, panel);
}
