// The main area of the terminal page: the workspace's terminals as tabs, each tab one pane or
// several split side by side or one above the other. Owns the panes (pane.js) and their layout
// (layout.js, stored by layout-store.js), knows which pane is active (the one the sidebar, the
// banners, the key bar and the search act on), and keeps tabs that are out of sight running:
// their panes stay attached, and a dot on the tab says that one of them printed.

import { $, el } from "../lib/dom.js";
import { endedBadly } from "./banners.js";
import { leaf, leaves, remove, setRatio, split, updateLeaf } from "./layout.js";
import { saveLayout } from "./layout-store.js";
import { Pane } from "./pane.js";
import { renderSplits } from "./splits.js";
import { TabBar } from "./tabs.js";

const newId = (prefix) => prefix + Math.random().toString(36).slice(2, 10);

export class Workbench {
  /**
   * @param {object} opts
   * @param {import("socket.io-client").Socket} opts.socket
   * @param {object} opts.workspace
   * @param {import("../lib/settings.js").SettingsStore} opts.settings
   * @param {import("./banners.js").Banners} opts.banners
   * @param {object} opts.hooks  title(sessionId) (the list's name of a terminal, or null),
   *        listChanged() (fetch the list again), shownChanged() (the list marks what is shown),
   *        paneCreated(pane), activeChanged(pane)
   */
  constructor({ socket, workspace, settings, banners, hooks }) {
    this.socket = socket;
    this.workspace = workspace;
    this.settings = settings;
    this.banners = banners;
    this.hooks = hooks;
    this.area = $("#terminal");
    this.tabs = []; // [{id, root, focus}] as layout-store.js keeps them
    this.active = null; // tab id
    this.panes = new Map(); // pane id -> Pane
    this.panels = new Map(); // tab id -> its element in the area
    this.tabBar = new TabBar({
      box: $("#tabbar"),
      onSelect: (tabId) => this.selectTab(tabId),
      onClose: (tabId) => this.closeTab(tabId),
    });
    settings.subscribe((current) => {
      for (const pane of this.panes.values()) pane.applySettings(current);
    });
  }

  // ---- what is where -------------------------------------------------------------------------

  get activeTab() {
    return this.tabs.find((tab) => tab.id === this.active) || null;
  }

  get activePane() {
    const tab = this.activeTab;
    return tab ? this.panes.get(tab.focus) : null;
  }

  tabOf(pane) {
    return this.tabs.find((tab) => leaves(tab.root).some((node) => node.pane === pane.id)) || null;
  }

  /** The panes of a tab in reading order. */
  panesOf(tab) {
    return leaves(tab.root).map((node) => this.panes.get(node.pane));
  }

  allPanes() {
    return [...this.panes.values()];
  }

  /** The pane showing `sessionId`, if one does (a page attaches to a terminal once). */
  paneShowing(sessionId) {
    return this.allPanes().find((pane) => pane.sessionId === sessionId) || null;
  }

  // ---- building -------------------------------------------------------------------------------

  panel(tabId) {
    let panel = this.panels.get(tabId);
    if (!panel) {
      panel = el("div", { class: "tab-panel", role: "tabpanel", dataset: { tabId } });
      this.area.append(panel);
      this.panels.set(tabId, panel);
    }
    return panel;
  }

  createPane(tabId, id = newId("p")) {
    const pane = new Pane({
      id,
      parent: this.panel(tabId),
      socket: this.socket,
      workspaceId: this.workspace.id,
      settings: this.settings.current,
      events: {
        onSession: (p) => this.sessionShown(p),
        onState: (p) => this.stateChanged(p),
        onLoss: (p, bytes) => {
          if (p === this.activePane) this.banners.showLoss(p.sessionId, bytes);
        },
        onInputHeld: (p) => {
          if (p === this.activePane) this.banners.showHeld(p);
        },
        onError: (p, error, context) => {
          // An inactive pane that cannot show its terminal says so in its header.
          if (p === this.activePane || context !== "attach") this.banners.showSessionError(error, context, this.workspace);
        },
        onListChanged: () => this.hooks.listChanged(),
        onActivity: () => this.render(),
        onFocus: (p) => this.focusPane(p, { focusTerminal: false }),
        onClose: (p) => this.closePane(p),
      },
    });
    this.panes.set(id, pane);
    this.hooks.paneCreated(pane);
    return pane;
  }

  /**
   * Build the tabs and panes of a stored layout (layout-store.js); resolves nothing, attaches
   * nothing: returns [{pane, sessionId}] for the opener to open.
   */
  restore(layout) {
    const opening = [];
    for (const stored of layout.tabs) {
      const tab = { id: stored.id, root: stored.root, focus: stored.focus };
      this.tabs.push(tab);
      for (const node of leaves(tab.root)) opening.push({ pane: this.createPane(tab.id, node.pane), sessionId: node.session });
    }
    this.active = layout.active;
    this.layOut();
    return opening;
  }

  /** A new tab with one pane (no terminal yet), made the active one; returns the pane. */
  addTab() {
    const id = newId("t");
    const pane = this.createPane(id);
    this.tabs.push({ id, root: leaf(pane.id), focus: pane.id });
    this.active = id;
    this.layOut();
    return pane;
  }

  /** Split the active pane: a new pane beside it ("row") or below it ("column"); returns it. */
  split(dir) {
    const tab = this.activeTab;
    if (!tab) return null;
    const pane = this.createPane(tab.id);
    tab.root = split(tab.root, tab.focus, dir, leaf(pane.id));
    tab.focus = pane.id;
    this.layOut();
    return pane;
  }

  /** Close a pane: its terminal keeps running (listed in the sidebar). The last pane stays. */
  closePane(pane) {
    const tab = this.tabOf(pane);
    if (!tab) return;
    const root = remove(tab.root, pane.id);
    if (!root && this.tabs.length === 1) return; // the page always shows a terminal
    const order = this.panesOf(tab);
    this.panes.delete(pane.id);
    pane.dispose();
    if (!root) {
      this.dropTab(tab);
    } else {
      tab.root = root;
      if (tab.focus === pane.id) {
        const left = order.filter((p) => p !== pane);
        tab.focus = left[Math.max(0, order.indexOf(pane) - 1)].id;
      }
    }
    this.layOut();
    this.hooks.shownChanged();
  }

  closeTab(tabId) {
    const tab = this.tabs.find((t) => t.id === tabId);
    if (!tab || this.tabs.length === 1) return;
    for (const pane of this.panesOf(tab)) {
      this.panes.delete(pane.id);
      pane.dispose();
    }
    this.dropTab(tab);
    this.layOut();
    this.hooks.shownChanged();
  }

  dropTab(tab) {
    const at = this.tabs.indexOf(tab);
    this.tabs.splice(at, 1);
    this.panels.get(tab.id)?.remove();
    this.panels.delete(tab.id);
    if (this.active === tab.id) this.active = this.tabs[Math.max(0, at - 1)].id;
  }

  // ---- moving around ----------------------------------------------------------------------------

  selectTab(tabId) {
    if (!this.tabs.some((tab) => tab.id === tabId)) return;
    this.active = tabId;
    this.layOut();
  }

  /** The tab `delta` places after the active one (wrapping), or the tab at `index`. */
  cycleTab(delta) {
    const at = this.tabs.indexOf(this.activeTab);
    this.selectTab(this.tabs[(at + delta + this.tabs.length) % this.tabs.length].id);
  }

  tabAt(index) {
    if (this.tabs[index]) this.selectTab(this.tabs[index].id);
  }

  cyclePane(delta) {
    const tab = this.activeTab;
    const order = this.panesOf(tab);
    const at = order.indexOf(this.activePane);
    this.focusPane(order[(at + delta + order.length) % order.length]);
  }

  /** Make `pane` the active one (its tab shown); `focusTerminal`: keys go to it from now on. */
  focusPane(pane, { focusTerminal = true } = {}) {
    const tab = this.tabOf(pane);
    if (!tab) return;
    const moved = tab.focus !== pane.id || this.active !== tab.id;
    tab.focus = pane.id;
    if (this.active !== tab.id) {
      this.active = tab.id;
      this.layOut({ focus: focusTerminal });
    } else if (moved) {
      this.changed();
      if (focusTerminal) pane.focus();
    } else if (focusTerminal) {
      pane.focus();
    }
  }

  // ---- keeping the page in step ---------------------------------------------------------------

  /** A pane shows another terminal now: the layout remembers it, the list marks it. */
  sessionShown(pane) {
    const tab = this.tabOf(pane);
    if (tab) tab.root = updateLeaf(tab.root, pane.id, (node) => leaf(node.pane, pane.sessionId));
    this.changed();
    this.hooks.shownChanged();
  }

  stateChanged(pane) {
    this.banners.withEnder(pane.sessionId, pane.exitInfo); // before the pane's header says it
    pane.el.classList.toggle("ended-badly", endedBadly(pane.exitInfo));
    if (pane === this.activePane) this.banners.showPane(pane);
    this.render();
  }

  ratioChanged(tab, path, ratio) {
    tab.root = setRatio(tab.root, path, ratio);
    this.save();
  }

  /** Lay every tab out again (after a split, a close, another tab chosen), then show the state. */
  layOut({ focus = true } = {}) {
    for (const tab of this.tabs) {
      const panel = this.panel(tab.id);
      // Rebuilt only when its panes or splits changed: moving an xterm's element costs its focus.
      const shape = JSON.stringify(tab.root, ["dir", "a", "b", "pane"]);
      if (panel.dataset.shape !== shape) {
        panel.dataset.shape = shape;
        renderSplits(panel, tab.root, this.panes, (path, ratio) => this.ratioChanged(tab, path, ratio));
      }
    }
    // Every other tab hidden before the shown one is fitted: fitted while the tab it replaces was
    // still laid out beside it, its panes took a size of that moment (27 columns for a moment, then
    // 56, then 57), each sent to the terminal, and each size change made the shell redraw its line.
    for (const shown of [false, true]) {
      for (const tab of this.tabs) {
        if ((tab.id === this.active) !== shown) continue;
        this.panel(tab.id).hidden = !shown;
        for (const pane of this.panesOf(tab)) pane.setVisible(shown);
      }
    }
    this.changed();
    if (focus) this.activePane?.focus();
  }

  changed() {
    this.save();
    this.render();
    const pane = this.activePane;
    if (pane) this.banners.showPane(pane);
    this.hooks.activeChanged(pane);
  }

  save() {
    if (this.tabs.length) saveLayout(this.workspace.id, { active: this.active, tabs: this.tabs });
  }

  /** Titles, states and the tab bar, as the panes and the list say now. */
  render() {
    const active = this.activePane;
    for (const pane of this.panes.values()) {
      // A pane shown another terminal does not keep the last one's title: a new terminal that ended
      // at once (in neither list yet) was shown under the name of the terminal it replaced
      const named = pane.sessionId && this.hooks.title(pane.sessionId);
      if (named) pane.titleFor = pane.sessionId;
      pane.render(named || (pane.titleFor === pane.sessionId ? pane.title : "Terminal"));
      pane.setActive(pane === active);
    }
    this.tabBar.render(this.tabs.map((tab) => {
      const panes = this.panesOf(tab);
      const focused = this.panes.get(tab.focus);
      return {
        id: tab.id,
        title: focused.title,
        active: tab.id === this.active,
        activity: panes.some((pane) => pane.activity),
        ended: Boolean(focused.exitInfo),
        panes: panes.length,
      };
    }));
  }
}
