// Saves what the terminal shows (screen, scrollback, cursor, modes) as escape
// sequences, together with the stream offset it corresponds to, so a reloaded page
// redraws the same screen and then resumes the stream from that offset.

const MAX_LINES = 2000;
const KEEP_STORED = 8;
const PREFIX = "aict.resume.";

function colorParams(mode, color, isFg) {
  // mode: "default" | "palette" | "rgb"
  if (mode === "palette") {
    if (color < 8) return [(isFg ? 30 : 40) + color];
    if (color < 16) return [(isFg ? 90 : 100) + color - 8];
    return [isFg ? 38 : 48, 5, color];
  }
  if (mode === "rgb") {
    return [isFg ? 38 : 48, 2, (color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff];
  }
  return [];
}

function cellStyle(cell) {
  const params = [0];
  if (cell.isBold()) params.push(1);
  if (cell.isDim()) params.push(2);
  if (cell.isItalic()) params.push(3);
  if (cell.isUnderline()) params.push(4);
  if (cell.isBlink()) params.push(5);
  if (cell.isInverse()) params.push(7);
  if (cell.isInvisible()) params.push(8);
  if (cell.isStrikethrough()) params.push(9);
  const fgMode = cell.isFgRGB() ? "rgb" : cell.isFgPalette() ? "palette" : "default";
  const bgMode = cell.isBgRGB() ? "rgb" : cell.isBgPalette() ? "palette" : "default";
  params.push(...colorParams(fgMode, cell.getFgColor(), true));
  params.push(...colorParams(bgMode, cell.getBgColor(), false));
  return params.join(";");
}

function isBlank(cell) {
  return cell.getChars() === "" && cell.isBgDefault() && !cell.isInverse();
}

/** One buffer line as text with SGR sequences; `full` keeps trailing blanks (a wrapped line). */
function serializeLine(line, cols, cell, full) {
  let last = full ? cols - 1 : -1;
  if (!full) {
    for (let x = cols - 1; x >= 0; x -= 1) {
      if (!isBlank(line.getCell(x, cell))) {
        last = x;
        break;
      }
    }
  }
  let out = "";
  let style = "0";
  for (let x = 0; x <= last; x += 1) {
    line.getCell(x, cell);
    const width = cell.getWidth();
    if (width === 0) continue; // right half of a wide character
    const next = cellStyle(cell);
    if (next !== style) {
      out += `\x1b[${next}m`;
      style = next;
    }
    out += cell.getChars() || " ";
  }
  if (style !== "0") out += "\x1b[0m";
  return out;
}

/** The last line worth redrawing: the cursor's, or a later one that is not blank. */
function lastLine(buffer, cols) {
  const cell = buffer.getNullCell();
  const cursorLine = buffer.baseY + buffer.cursorY;
  for (let y = buffer.length - 1; y > cursorLine; y -= 1) {
    const line = buffer.getLine(y);
    if (!line) continue;
    for (let x = 0; x < cols; x += 1) {
      if (!isBlank(line.getCell(x, cell))) return y;
    }
  }
  return cursorLine;
}

function serializeNormal(buffer, cols, end, fullLast) {
  const cell = buffer.getNullCell();
  const start = Math.max(0, end + 1 - MAX_LINES);
  let out = "";
  for (let y = start; y <= end; y += 1) {
    const line = buffer.getLine(y);
    if (!line) break;
    const nextLine = y < end ? buffer.getLine(y + 1) : null;
    const nextWraps = Boolean(nextLine && nextLine.isWrapped);
    out += serializeLine(line, cols, cell, nextWraps || (y === end && fullLast));
    if (y < end && !nextWraps) out += "\r\n";
  }
  return out;
}

function serializeScreen(buffer, rows, cols) {
  const cell = buffer.getNullCell();
  let out = "";
  for (let r = 0; r < rows; r += 1) {
    const line = buffer.getLine(buffer.viewportY + r);
    if (!line) break;
    const text = serializeLine(line, cols, cell, false);
    if (text) out += `\x1b[${r + 1};1H${text}`;
  }
  return out;
}

function cursorTo(buffer) {
  return `\x1b[${buffer.cursorY + 1};${buffer.cursorX + 1}H`;
}

/**
 * The normal buffer's cursor, relative to the last line written. The page that restores the screen
 * may have more or fewer rows than this one (another window size, the phone layout's smaller font):
 * an absolute row would put the cursor above the end of the restored lines, and the resumed output
 * would overwrite them.
 */
function cursorFrom(end, buffer) {
  const up = end - (buffer.baseY + buffer.cursorY);
  return (up > 0 ? `\x1b[${up}A` : "") + `\x1b[${buffer.cursorX + 1}G`;
}

function modeSequences(modes) {
  let out = "";
  if (modes.applicationCursorKeysMode) out += "\x1b[?1h";
  if (modes.applicationKeypadMode) out += "\x1b=";
  if (modes.bracketedPasteMode) out += "\x1b[?2004h";
  if (modes.insertMode) out += "\x1b[4h";
  if (modes.reverseWraparoundMode) out += "\x1b[?45h";
  if (modes.sendFocusMode) out += "\x1b[?1004h";
  if (modes.wraparoundMode === false) out += "\x1b[?7l";
  const mouse = { x10: "9", vt200: "1000", drag: "1002", any: "1003" }[modes.mouseTrackingMode];
  if (mouse) out += `\x1b[?${mouse}h\x1b[?1006h`; // SGR encoding: what current programs ask for
  return out;
}

/** Escape sequences that redraw `term` as it is now, on a fresh terminal of any size. */
export function serializeTerminal(term) {
  const normal = term.buffer.normal;
  const end = lastLine(normal, term.cols);
  // Past the last column, the cursor waits to wrap: writing the whole line leaves it there again
  // (moving it to the last column would let the next character overwrite the line's last one).
  const pendingWrap = normal.cursorX >= term.cols && end === normal.baseY + normal.cursorY;
  let out = serializeNormal(normal, term.cols, end, pendingWrap) + (pendingWrap ? "" : cursorFrom(end, normal));
  if (term.buffer.active.type === "alternate") {
    const alt = term.buffer.alternate;
    out += "\x1b[?1049h\x1b[H\x1b[2J" + serializeScreen(alt, term.rows, term.cols) + cursorTo(alt);
  }
  return out + modeSequences(term.modes);
}

function prune() {
  const entries = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith(PREFIX)) continue;
    let savedAt = 0;
    try {
      savedAt = JSON.parse(localStorage.getItem(key)).savedAt || 0;
    } catch {
      // unreadable: oldest
    }
    entries.push([savedAt, key]);
  }
  entries.sort((a, b) => b[0] - a[0]);
  for (const [, key] of entries.slice(KEEP_STORED)) localStorage.removeItem(key);
}

function put(storage, key, value) {
  try {
    storage.setItem(key, value);
    return true;
  } catch {
    return false; // quota: the page will replay from the server instead
  }
}

/** Remember the screen and the offset it shows, per tab and as the latest for the session. */
export function saveResumePoint(sessionId, offset, term) {
  const record = JSON.stringify({
    offset,
    screen: serializeTerminal(term),
    cols: term.cols,
    rows: term.rows,
    savedAt: Date.now(),
  });
  const key = PREFIX + sessionId;
  put(sessionStorage, key, record);
  if (!put(localStorage, key, record)) {
    prune();
    put(localStorage, key, record);
  }
  prune();
}

/**
 * This tab's resume point for the session (`own`: true), else the latest of any tab (`own`: false,
 * what another tab saw); null when none.
 */
export function loadResumePoint(sessionId) {
  const key = PREFIX + sessionId;
  for (const storage of [sessionStorage, localStorage]) {
    try {
      const raw = storage.getItem(key);
      if (!raw) continue;
      const record = JSON.parse(raw);
      if (Number.isInteger(record.offset) && record.offset >= 0 && typeof record.screen === "string") {
        return { ...record, own: storage === sessionStorage };
      }
    } catch {
      // ignore a damaged record
    }
  }
  return null;
}

export function forgetResumePoint(sessionId) {
  sessionStorage.removeItem(PREFIX + sessionId);
  localStorage.removeItem(PREFIX + sessionId);
}
