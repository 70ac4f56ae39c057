// The workspace's members below its terminals, for its owner and administrators only.

// The button stays in sight at the sidebar's foot however long the list above it (app.css), and the
// panel it opens is scrolled into view: it opens below everything else in the sidebar.

import { $, el, revealWithin } from "../lib/dom.js";
import { membersPanel } from "../lib/members-panel.js";

export function offerMembers(me, workspace) {
  if (me.role !== "admin" && workspace.owner !== me.username) return;
  const sidebar = $("#sidebar");
  const panel = membersPanel(workspace);
  const toggle = el(
    "button",
    {
      type: "button",
      class: "ghost small members-toggle",
      "aria-expanded": "false",
      "aria-controls": "members-panel",
      onclick: async () => {
        panel.hidden = !panel.hidden;
        toggle.setAttribute("aria-expanded", String(!panel.hidden));
        if (panel.hidden) return;
        revealWithin(sidebar, panel);
        await panel.load();
        revealWithin(sidebar, panel); // taller now, with its list
      },
    },
    "Members",
  );
  panel.id = "members-panel";
  sidebar.append(el("div", { class: "sidebar-foot" }, toggle), panel);
}
