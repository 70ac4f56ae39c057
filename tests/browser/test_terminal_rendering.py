"""What the terminal page looks like, judged on screenshots' pixels: glyphs drawn whole, no strip
of another colour below the last row, and session details that fit their box."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.browser.conftest import DESKTOP, PHONE, login_with_tokens, open_terminal, poll, run, screen

BACKGROUND = (0x10, 0x14, 0x18)  # the terminal's background (theme and --term-bg)
SIZES = [DESKTOP, {"width": 1366, "height": 768}, {"width": 1440, "height": 900}, PHONE]

BOX_JS = """(selector) => {
  const r = document.querySelector(selector).getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height};
}"""


def _shot(page, clip: dict) -> Image.Image:
    return Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB")


def _is_ink(pixel, background=BACKGROUND) -> bool:
    return max(abs(a - b) for a, b in zip(pixel, background, strict=True)) > 40


def _ink_rows(image: Image.Image, x0: int, x1: int) -> list[int]:
    """The pixel rows of `image` with ink between columns x0 and x1."""
    return [y for y in range(image.height) if any(_is_ink(image.getpixel((x, y))) for x in range(x0, x1))]


def _glyph_columns(left: float, cell_width: float, index: int) -> tuple[int, int]:
    """Whole pixel columns inside the cell `index` (a neighbour's anti-aliased edge stays out)."""
    return int(left + index * cell_width) + 1, int(left + (index + 1) * cell_width)


def _row_of(page, text: str) -> int:
    """The visible row showing exactly `text` (the command's output, not the command line)."""
    def found():
        visible = [row.rstrip() for row in screen(page)["visible"]]
        assert text in visible, visible
        return visible.index(text)

    return poll(found)


def _reference_ink(page, text: str) -> dict[int, int]:
    """How many pixel rows of ink each character of `text` has when the terminal's font draws it
    with room to spare (no cell to clip it): {index: rows}."""
    box = page.evaluate("""(text) => {
      const term = window.aictTest.term;
      const span = document.createElement("span");
      span.id = "glyph-reference";
      Object.assign(span.style, {position: "fixed", left: "0", top: "0", zIndex: "1000", padding: "0 4px",
        lineHeight: "3", whiteSpace: "pre", fontKerning: "none", fontFamily: term.options.fontFamily,
        fontSize: term.options.fontSize + "px", color: "#d8dee4", background: "#101418"});
      span.textContent = text;
      document.body.append(span);
      const r = span.getBoundingClientRect();
      return {x: r.x, y: r.y, width: r.width, height: r.height};
    }""", text)
    image = _shot(page, box)
    page.evaluate("() => document.getElementById('glyph-reference').remove()")
    cell = (box["width"] - 8) / len(text)
    return {i: len(_ink_rows(image, *_glyph_columns(4, cell, i))) for i, ch in enumerate(text) if ch != " "}


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["14px", "13px"])  # the font size follows the width
def test_underscores_and_descenders_are_drawn_whole(page, server, workspace, size):
    page.set_viewport_size(size)
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    text = "under_score g j y | _"
    run(page, f"clear; echo '{text}'")
    row = _row_of(page, text)
    rows = page.evaluate("() => document.querySelectorAll('.xterm-rows > div').length")
    screen_box = page.evaluate(BOX_JS, ".xterm-screen")
    cell_width = screen_box["width"] / screen(page)["termCols"]
    cell_height = screen_box["height"] / rows
    image = _shot(page, {"x": screen_box["x"], "y": screen_box["y"] + row * cell_height,
                         "width": screen_box["width"], "height": cell_height})

    # The cell between "under" and "score" holds the underscore's ink: a line across most of it.
    x0, x1 = _glyph_columns(0, cell_width, text.index("_"))
    lines = [y for y in range(image.height) if all(_is_ink(image.getpixel((x, y))) for x in range(x0, x1))]
    assert lines, f"no underscore between 'under' and 'score' in the {image.height}-pixel row"

    # Every glyph shows as much ink as the font draws it with (g, j, y and | reach lowest).
    reference = _reference_ink(page, text)
    drawn = {index: len(_ink_rows(image, *_glyph_columns(0, cell_width, index))) for index in reference}
    assert drawn == reference, f"rows of ink per character of {text!r}, drawn against unclipped"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s['width']}x{s['height']}")
def test_no_strip_of_another_colour_below_or_beside_the_last_row(page, server, workspace, size):
    page.set_viewport_size(size)
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    box = page.evaluate(BOX_JS, "#terminal")
    screen_box = page.evaluate(BOX_JS, ".xterm-screen")
    assert screen_box["y"] + screen_box["height"] <= box["y"] + box["height"] + 0.5

    # Everything of the terminal's box that no row covers is the terminal's background.
    image = _shot(page, box)
    below = int(screen_box["y"] + screen_box["height"] - box["y"]) + 1
    right = int(screen_box["x"] + screen_box["width"] - box["x"]) + 1
    strays = {(x, y): image.getpixel((x, y)) for y in range(image.height) for x in range(image.width)
              if (y >= below or x >= right) and image.getpixel((x, y)) != BACKGROUND}
    assert not strays, f"{len(strays)} pixels unlike the background, e.g. {sorted(strays.items())[:3]}"


def test_session_details_show_whole_in_the_list(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    item = page.locator("#session-list .session-item").first
    item.wait_for()
    fit = page.evaluate("""() => {
      const button = document.querySelector("#session-list .session-open");
      const details = button.querySelector(".muted");
      const range = document.createRange();
      range.selectNodeContents(details);
      const text = range.getBoundingClientRect(), box = button.getBoundingClientRect();
      const lines = Array.from(details.children, (part) => part.getClientRects().length);
      return {text: details.textContent, lines, inside: text.left >= box.left && text.right <= box.right &&
                text.top >= box.top && text.bottom <= box.bottom,
              clipped: details.scrollWidth > details.clientWidth || details.scrollHeight > details.clientHeight};
    }""")
    assert fit["inside"] and not fit["clipped"], fit
    assert fit["lines"] == [1, 1, 1], fit  # owner, time, size: each whole on one line (a date never split)
    assert fit["text"].endswith("×" + str(screen(page)["termRows"])), fit["text"]
