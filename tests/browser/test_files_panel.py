"""The terminal page's files panel in Chromium: files dropped on the panel or the terminal are
uploaded with a progress bar that reaches 100%, and come back byte-identical when downloaded; on a
local workspace and on an SSH one (the real sshd); a slow upload can be cancelled and leaves nothing;
files made and removed on the SSH host from outside show in the panel by themselves."""

from __future__ import annotations

import base64
import hashlib
import os
import pwd
import secrets
import shutil
import time
from pathlib import Path

import pytest

from tests.browser.conftest import login_with_tokens, poll, wait_for_terminal
from tests.ssh.conftest import TEST_USER

SHOTS = Path(os.environ.get("AICT_SCREENSHOTS", "/tmp/aict-screenshots"))


def drop_files(page, selector: str, files: dict[str, bytes]) -> None:
    """Drag files from the desktop and drop them on `selector`, as a user does."""
    payload = {name: base64.b64encode(data).decode() for name, data in files.items()}
    transfer = page.evaluate_handle("""(files) => {
        const dt = new DataTransfer();
        for (const [name, b64] of Object.entries(files)) {
            const raw = atob(b64);
            const bytes = new Uint8Array(raw.length);
            for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
            dt.items.add(new File([bytes], name, {type: "application/octet-stream"}));
        }
        return dt;
    }""", payload)
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event(selector, event, {"dataTransfer": transfer})


def transfer_row(page, direction: str, name: str):
    return page.locator(f".transfer[data-direction={direction}][data-name='{name}']")


def assert_done(page, direction: str, name: str) -> None:
    row = transfer_row(page, direction, name)
    assert row.get_attribute("data-state") == "done", row.inner_text()
    assert row.locator("progress").evaluate("p => p.value") == 100
    assert row.get_attribute("data-percent") == "100"


def download_through_panel(page, name: str) -> bytes:
    entry = page.locator(f"#files-panel .file-entry[data-name='{name}']")
    with page.expect_download() as info:
        entry.locator(".file-download").click()
    poll(lambda: assert_done(page, "download", name))
    return Path(info.value.path()).read_bytes()


def open_page(page, server, workspace: dict) -> None:
    login_with_tokens(page, server)
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    wait_for_terminal(page)
    page.locator("#files-panel .file-list").wait_for()


def round_trip(page, workspace: dict, where_on_disk: Path, shot: str) -> None:
    big = f"dropped-{secrets.token_hex(3)}.bin"
    on_terminal = f"on-terminal-{secrets.token_hex(3)}.txt"
    data = os.urandom(3 * 1024 * 1024 + 5)
    drop_files(page, "#files-panel", {big: data})
    poll(lambda: assert_done(page, "upload", big), timeout=60)
    row = transfer_row(page, "upload", big)
    assert row.get_attribute("data-sha256") == hashlib.sha256(data).hexdigest()
    assert "sha256" in row.inner_text()
    page.locator(f"#files-panel .file-entry[data-name='{big}']").wait_for()  # listed after the upload
    assert (where_on_disk / big).read_bytes() == data

    drop_files(page, "#terminal", {on_terminal: b"dropped on the terminal\n"})
    poll(lambda: assert_done(page, "upload", on_terminal))
    assert (where_on_disk / on_terminal).read_bytes() == b"dropped on the terminal\n"

    got = download_through_panel(page, big)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest() and got == data
    assert "/s" in transfer_row(page, "download", big).inner_text() or "Downloaded" in \
        transfer_row(page, "download", big).inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / shot))
    for name in (big, on_terminal):
        (where_on_disk / name).unlink()


def test_drop_upload_and_download_on_a_local_workspace(page, server):
    workspace = server.create_local_workspace()
    open_page(page, server, workspace)
    root = Path(workspace["path"])
    round_trip(page, workspace, root, "files-local.png")

    # A directory made in the workspace: browse into it, upload there, and back up.
    (root / "docs").mkdir()
    os.chown(root / "docs", pwd.getpwnam("aict-shell").pw_uid, -1)
    page.locator("#files-panel [aria-label='Refresh the files']").click()
    page.locator("#files-panel .file-entry[data-name=docs] .file-open").click()
    poll(lambda: _assert_equal(page.locator("#files-panel").get_attribute("data-path"), "docs"))
    drop_files(page, "#files-panel", {"inside.txt": b"in docs\n"})
    poll(lambda: assert_done(page, "upload", "inside.txt"))
    assert (root / "docs" / "inside.txt").read_bytes() == b"in docs\n"


def test_a_click_begun_as_the_list_refreshes_still_downloads(page, server):
    """A press on a file's download button, a file made beside it (the panel lists the directory
    again), then the release: still the user's click on that button, and the file downloads. The
    panel rebuilt every row on each refresh, and a click pressed on one row and released on its
    replacement was no click at all (CI: a download never started while another test's files came)."""
    workspace = server.create_local_workspace()
    root = Path(workspace["path"])
    (root / "keep.txt").write_bytes(b"kept\n")
    open_page(page, server, workspace)
    # The sidebar above the files settled first: the ended list loading later moved the files down
    # between the hover and the press (a loaded full run)
    poll(lambda: _assert_equal("Loading" in page.locator("#ended-list").inner_text(), False))
    button = page.locator("#files-panel .file-entry[data-name='keep.txt'] .file-download")
    button.hover()
    page.mouse.down()
    assert button.evaluate("b => b.matches(':active')"), "the press landed elsewhere"
    (root / "later.txt").write_bytes(b"later\n")  # listed after keep.txt: its row stays where it is
    page.locator("#files-panel .file-entry[data-name='later.txt']").wait_for()
    with page.expect_download(timeout=10_000) as info:
        page.mouse.up()
    assert Path(info.value.path()).read_bytes() == b"kept\n"
    poll(lambda: assert_done(page, "download", "keep.txt"))


def test_an_existing_name_asks_before_it_is_replaced(page, server):
    workspace = server.create_local_workspace()
    root = Path(workspace["path"])
    open_page(page, server, workspace)
    drop_files(page, "#files-panel", {"same.txt": b"first\n"})
    poll(lambda: assert_done(page, "upload", "same.txt"))
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss() if len(asked) == 1 else dialog.accept()

    page.on("dialog", answer)
    drop_files(page, "#files-panel", {"same.txt": b"second\n"})  # refused: kept as it was
    poll(lambda: _assert_in("a file of that name is there", page.locator("#files-panel [role=alert]").inner_text()))
    assert (root / "same.txt").read_bytes() == b"first\n"
    drop_files(page, "#files-panel", {"same.txt": b"third\n"})  # accepted: replaced
    # (each check asks the page something: Playwright handles the dialog while it talks to the page)
    poll(lambda: _assert_equal(transfer_row(page, "upload", "same.txt").first.get_attribute("data-state"), "done"))
    assert (root / "same.txt").read_bytes() == b"third\n"
    assert len(asked) == 2 and "same.txt exists" in asked[0]


def test_a_slow_upload_shows_its_progress_and_can_be_cancelled(page, server):
    workspace = server.create_local_workspace()
    root = Path(workspace["path"])
    open_page(page, server, workspace)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": 256 * 1024})
    drop_files(page, "#files-panel", {"slow.bin": os.urandom(4 * 1024 * 1024)})
    row = transfer_row(page, "upload", "slow.bin")
    poll(lambda: _assert_between(int(row.get_attribute("data-percent") or 0), 5, 95), timeout=30)
    assert "/s" in row.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "files-progress.png"))
    row.get_by_role("button", name="Cancel").click()
    poll(lambda: _assert_equal(row.get_attribute("data-state"), "cancelled"))
    poll(lambda: _assert_equal([p.name for p in root.iterdir() if "slow" in p.name], []))


def test_viewers_get_no_files_panel(page, server, client):
    workspace = server.create_local_workspace()
    username, _ = server.create_user(password="password-123")
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "viewer"})
    assert granted.status_code == 201, granted.text
    client().create(workspace["id"])  # something to watch
    login_with_tokens(page, server, username, "password-123")
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    wait_for_terminal(page)
    assert page.locator("#files-panel").is_hidden()


@pytest.mark.ssh
def test_drop_upload_and_download_on_an_ssh_workspace(page, server, sshd):
    response = server.api("POST", "/api/workspaces", server.admin_token, json=sshd.workspace_body())
    assert response.status_code == 201, response.text
    workspace = response.json()
    open_page(page, server, workspace)
    round_trip(page, workspace, Path(pwd.getpwnam(TEST_USER).pw_dir), "files-ssh.png")


SSH_POLL = 2.0  # SSH_WATCH_POLL_SECONDS (the default)


def _entry_count(page, name: str) -> int:
    return page.locator(f"#files-panel .file-entry[data-name='{name}']").count()


def _as_remote_user(path: Path, text: str = "x") -> None:
    path.write_text(text)
    account = pwd.getpwnam(TEST_USER)
    os.chown(path, account.pw_uid, account.pw_gid)


def _wait_until_followed(page, folder: Path) -> None:
    """Until the panel lists by itself a file made in `folder` (the folder it shows): the page watches
    the workspace, and its poll has listed the folder once, so what the test makes next is a change."""
    deadline, made = time.monotonic() + 30, []
    try:
        while not any(_entry_count(page, probe.name) for probe in made):
            assert time.monotonic() < deadline, "the panel never followed a change"
            made.append(folder / f"probe-{secrets.token_hex(3)}")
            _as_remote_user(made[-1])
            page.wait_for_timeout(300)
    finally:
        for probe in made:
            probe.unlink(missing_ok=True)


@pytest.mark.ssh
def test_files_made_and_removed_on_the_ssh_host_show_in_the_panel_by_themselves(page, server, sshd):
    response = server.api("POST", "/api/workspaces", server.admin_token, json=sshd.workspace_body())
    assert response.status_code == 201, response.text
    workspace = response.json()
    home = Path(pwd.getpwnam(TEST_USER).pw_dir)
    top = home / f"deep-{secrets.token_hex(3)}"
    (top / "one" / "two" / "three").mkdir(parents=True)
    try:
        open_page(page, server, workspace)
        page.locator(f"#files-panel .file-entry[data-name='{top.name}']").wait_for()  # the first listing
        _wait_until_followed(page, home)

        touched = home / f"outside-{secrets.token_hex(3)}.txt"
        made = time.monotonic()
        _as_remote_user(touched, "made on the host\n")
        poll(lambda: _assert_equal(_entry_count(page, touched.name), 1), timeout=15, interval=0.05)
        shown_after = time.monotonic() - made
        assert shown_after < 2 + SSH_POLL, f"shown after {shown_after:.1f} s"
        touched.unlink()
        poll(lambda: _assert_equal(_entry_count(page, touched.name), 0), timeout=15)

        # Four levels down, past what the poll walks by itself: the folder the panel shows is followed.
        for part in (top.name, "one", "two", "three"):
            page.locator(f"#files-panel .file-entry[data-name='{part}'] .file-open").click()
            page.locator(f"#files-panel .file-entry[data-name='{part}']").wait_for(state="detached")
        assert page.locator("#files-panel").get_attribute("data-path") == f"{top.name}/one/two/three"
        _wait_until_followed(page, top / "one" / "two" / "three")
        deep = top / "one" / "two" / "three" / "deep.txt"
        made = time.monotonic()
        _as_remote_user(deep)
        poll(lambda: _assert_equal(_entry_count(page, "deep.txt"), 1), timeout=15, interval=0.05)
        assert time.monotonic() - made < 2 + SSH_POLL, f"shown after {time.monotonic() - made:.1f} s"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "files-ssh-followed.png"))
    finally:
        shutil.rmtree(top)


def _assert_equal(got, want) -> None:
    assert got == want, got


def _assert_in(needle: str, text: str) -> None:
    assert needle in text, text


def _assert_between(value: int, low: int, high: int) -> None:
    assert low <= value <= high, value
