"""The terminal page's sidebar at a laptop's size (1366×800), as a newcomer found it: terminal cards
squeezed by their buttons, the Members button cut off below three terminals, the members panel and
upload progress opening out of sight. What the user sees: each thing whole, within the sidebar's
visible part."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tests.browser.conftest import login_with_tokens, open_terminal, poll
from tests.browser.test_files_panel import assert_done, drop_files, transfer_row

SHOTS = Path(os.environ.get("AICT_SCREENSHOTS", "/tmp/aict-screenshots"))
LAPTOP = {"width": 1366, "height": 800}

# Each card of the running list: how many lines its name's own text and its details take, and whether
# its buttons lie inside the card and clear of the name.
CARDS_JS = """() => [...document.querySelectorAll('#session-list .session-item')].map((item) => {
  const rect = (node) => node.getBoundingClientRect();
  const lines = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  };
  const name = item.querySelector('.session-name');
  const nameText = document.createRange();
  nameText.selectNode(name.firstChild);
  const card = rect(item.querySelector('.session-open'));
  const actions = rect(item.querySelector('.session-actions'));
  return {
    name: name.firstChild.textContent,
    nameLines: new Set([...nameText.getClientRects()].map((r) => Math.round(r.top))).size,
    detailLines: lines(item.querySelector('.session-details')),
    actionsInside: actions.left >= card.left && actions.right <= card.right && actions.top >= card.top,
    clearOfName: nameText.getBoundingClientRect().right <= actions.left,
  };
})"""

# Is `selector` whole within the sidebar's visible part (and the window)?
IN_SIGHT_JS = """(selector) => {
  const sidebar = document.querySelector('#sidebar').getBoundingClientRect();
  const node = document.querySelector(selector).getBoundingClientRect();
  return {top: node.top, bottom: node.bottom, sidebarTop: sidebar.top, sidebarBottom: sidebar.bottom,
          inSight: node.top >= sidebar.top - 0.5 && node.bottom <= Math.min(sidebar.bottom, innerHeight) + 0.5};
}"""


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def assert_in_sight(page, selector: str) -> None:
    where = page.evaluate(IN_SIGHT_JS, selector)
    assert where["inSight"], (selector, where)


def three_terminals(page, server, workspace) -> None:
    """The workspace's page with three terminals in panes: one, one beside it, one below that."""
    page.set_viewport_size(LAPTOP)
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    for split, count in (("split-right", 2), ("split-down", 3)):
        page.click(f"[data-action={split}]")
        poll(lambda count=count: _assert_equal(page.locator("#session-list .session-item").count(), count))


def test_three_terminal_cards_read_whole_and_members_stays_in_sight(page, server):
    name = f"newcomer-{secrets.token_hex(3)[:5]}"  # as long as "newcomer-local", the newcomer's
    workspace = server.create_local_workspace(name=name)
    three_terminals(page, server, workspace)
    poll(lambda: _assert_equal(page.locator("#session-list .session-proc:not([hidden]):not(.pending)").count(), 3))

    def cards_read_whole() -> None:  # polled: the cards settle once the fonts and badges are in
        cards = page.evaluate(CARDS_JS)
        assert [card["name"] for card in cards] == [f"{name} #{n}" for n in (1, 2, 3)], cards
        for card in cards:
            assert card["nameLines"] == 1, card  # "newcomer-local / #1" wrapped beside the buttons
            assert card["detailLines"] == 1, card  # owner · time · size took three lines
            assert card["actionsInside"] and card["clearOfName"], card

    poll(cards_read_whole)
    assert_in_sight(page, "#sidebar .members-toggle")  # was cut in half at the sidebar's foot
    shoot(page, "sidebar-three-terminals")

    page.click("#sidebar .members-toggle")
    page.locator("#members-panel .member-list li").first.wait_for()
    poll(lambda: assert_in_sight(page, "#members-panel form.member-add"))  # opened below the fold before
    assert_in_sight(page, "#members-panel h3")
    shoot(page, "sidebar-members-open")


def test_an_upload_shows_its_progress_where_the_user_looks(page, server):
    workspace = server.create_local_workspace()
    root = Path(workspace["path"])
    for n in range(30):  # a list of files longer than the sidebar
        (root / f"file-{n:02}.txt").write_text("x\n")
    page.set_viewport_size(LAPTOP)
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.locator("#files-panel .file-entry[data-name='file-29.txt']").wait_for()
    page.eval_on_selector("#sidebar", "s => { s.scrollTop = 0; }")  # the user looks at the terminals

    name = f"dropped-{secrets.token_hex(3)}.bin"
    drop_files(page, "#terminal", {name: os.urandom(300_000)})
    poll(lambda: assert_done(page, "upload", name))
    row = f".transfer[data-direction=upload][data-name='{name}']"
    assert_in_sight(page, row)
    assert "sha256" in transfer_row(page, "upload", name).inner_text()
    shoot(page, "sidebar-upload-in-sight")


def _assert_equal(got, want) -> None:
    assert got == want, got
