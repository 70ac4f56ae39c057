// The browser benchmark's probe (bench/browser.py), the same on the aict page and the bare xterm.js
// page: it only watches. A keystroke is timed from its keydown event (the browser's own time stamp,
// so time spent queued behind other work counts) to the xterm render that shows its effect (the
// cursor moved: the character is on screen); a flood from its start to the render that shows its
// last line; meanwhile the longest gap between animation frames and the longest task.
(term) => {
  // pending: keys typed and not yet on screen, oldest first, each with where the cursor is once it
  // is (one cell further than the key before): a key typed before the last one showed is timed too,
  // and a render showing two keys times both (a loaded machine echoes slower than 200 ms apart).
  const probe = { keys: [], pending: [], flood: null, timing: false }; // timing: keys typed now are timed
  const cursor = () => {
    const b = term.buffer.active;
    return (b.baseY + b.cursorY) * term.cols + b.cursorX;
  };
  window.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && probe.flood) probe.flood.start = event.timeStamp; // a command's flood
    if (!probe.timing || event.key.length !== 1 || event.ctrlKey) return; // printable keys only
    const after = probe.pending.length ? probe.pending[probe.pending.length - 1].shownAt : cursor();
    probe.pending.push({ at: event.timeStamp, shownAt: after + 1 });
  }, true);
  const lastLineShown = (text) => {
    const b = term.buffer.active;
    for (let y = b.viewportY; y < b.viewportY + term.rows; y += 1) {
      const line = b.getLine(y);
      if (line && line.translateToString(true) === text) return true;
    }
    return false;
  };
  term.onRender(() => {
    const now = performance.now();
    if (probe.flood) probe.flood.renders += 1;
    const at = cursor();
    while (probe.pending.length && at >= probe.pending[0].shownAt) probe.keys.push(now - probe.pending.shift().at);
    if (probe.flood && lastLineShown(probe.flood.last)) {
      const flood = probe.flood;
      probe.flood = null;
      flood.resolve({ ms: now - flood.start, longestFrame: flood.longestFrame, longestTask: flood.longestTask,
        renders: flood.renders });
    }
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (probe.flood) probe.flood.longestTask = Math.max(probe.flood.longestTask, entry.duration);
    }
  }).observe({ entryTypes: ["longtask"] });
  // Frames are watched only while a flood is: an idle page draws nothing and costs nothing.
  const frames = (last) => requestAnimationFrame((now) => {
    if (!probe.flood) return;
    if (last !== null) probe.flood.longestFrame = Math.max(probe.flood.longestFrame, now - last);
    frames(now);
  });
  /** Watch for `last` on screen; `start`: when the flood began (default: now). Resolves with the timings. */
  probe.watchFlood = (last, start) => new Promise((resolve) => {
    probe.flood = { last, start: start ?? performance.now(), longestFrame: 0, longestTask: 0, renders: 0, resolve };
    frames(null);
  });
  probe.takeKeys = () => {
    const keys = probe.keys;
    probe.timing = false;
    probe.keys = [];
    probe.pending = [];
    return keys;
  };
  window.benchProbe = probe;
}
