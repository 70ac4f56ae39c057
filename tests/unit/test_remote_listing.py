"""aict.watching.remote_listing: bounded listings of an SSH workspace and the file-change items
between two of them, on a real directory listed the way SFTP lists (lstat, whole seconds)."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from aict.watching.remote_listing import NotListed, RemoteEntry, differences, git_moved, list_tree


def lister(root: Path, listed: list[str] | None = None):
    def list_folder(path: str) -> list[RemoteEntry]:
        if listed is not None:
            listed.append(path)
        folder = root / path
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, PermissionError) as error:
            raise NotListed(str(error)) from None
        found = []
        for name in names:
            info = os.lstat(folder / name)
            found.append(RemoteEntry(name, info.st_mode, info.st_size, int(info.st_mtime)))
        return found
    return list_folder


def touch_later(path: Path, text: str = "x") -> None:
    """Write `path` with a modification time in another second than before (SFTP's resolution)."""
    existed = path.exists()
    path.write_text(text)
    if existed:
        later = int(path.stat().st_mtime) + 5
        os.utime(path, (later, later))


_later = itertools.count(10, 10)


def bump(folder: Path) -> None:
    """Move a folder's modification time to a second it never had (as the kernel moves it when a
    name in it is made or removed, but never within the second it last moved)."""
    later = int(time.time()) + next(_later)
    os.utime(folder, (later, later))


def test_created_modified_and_deleted_files_at_the_root_and_below(tmp_path):
    (tmp_path / "src").mkdir()
    touch_later(tmp_path / "kept.txt")
    touch_later(tmp_path / "src" / "a.py")
    touch_later(tmp_path / "gone.txt")
    list_folder = lister(tmp_path)
    before = list_tree(list_folder)
    touch_later(tmp_path / "new.txt")
    touch_later(tmp_path / "src" / "a.py", "longer")
    (tmp_path / "gone.txt").unlink()
    bump(tmp_path / "src")
    bump(tmp_path)
    assert differences(before, list_tree(list_folder)) == [
        {"path": "new.txt", "change": "created"}, {"path": "gone.txt", "change": "deleted"},
        {"path": "src/a.py", "change": "modified"}]


def test_nothing_changed_is_no_item(tmp_path):
    (tmp_path / "a").mkdir()
    touch_later(tmp_path / "a" / "b.txt")
    list_folder = lister(tmp_path)
    assert differences(list_tree(list_folder), list_tree(list_folder)) == []


def test_dot_folders_and_links_are_not_entered_but_their_own_entries_change(tmp_path):
    (tmp_path / ".cache").mkdir()
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    listed: list[str] = []
    before = list_tree(lister(tmp_path, listed))
    assert listed == [".", "real"]
    touch_later(tmp_path / ".cache" / "x")
    bump(tmp_path / ".cache")
    touch_later(tmp_path / ".profile")
    after = list_tree(lister(tmp_path))
    assert differences(before, after) == [{"path": ".cache", "change": "many"},
                                          {"path": ".profile", "change": "created"}]


def test_the_root_git_is_no_file_change_but_says_the_status_may_have(tmp_path):
    (tmp_path / ".git").mkdir()
    list_folder = lister(tmp_path)
    before = list_tree(list_folder)
    touch_later(tmp_path / ".git" / "HEAD")
    bump(tmp_path / ".git")
    after = list_tree(list_folder)
    assert differences(before, after) == [] and git_moved(before, after)
    assert not git_moved(after, list_tree(list_folder))


def test_the_walk_is_bounded_in_depth_and_folders_and_a_folder_past_the_bound_says_many(tmp_path):
    deep = tmp_path / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    for i in range(5):
        (tmp_path / f"w{i}").mkdir()
    listed: list[str] = []
    before = list_tree(lister(tmp_path, listed), depth=2, max_directories=4)
    assert listed == [".", "a", "w0", "w1"]  # breadth first, in name order
    touch_later(tmp_path / "a" / "b" / "c" / "new.txt")  # three levels down: not listed...
    bump(tmp_path / "a" / "b" / "c")  # ...but its folder's time moved (the kernel does this)
    touch_later(tmp_path / "w3" / "new.txt")  # past the folder bound
    bump(tmp_path / "w3")
    after = list_tree(lister(tmp_path), depth=2, max_directories=4)
    assert differences(before, after) == [{"path": "w3", "change": "many"}]  # a/b itself was not listed
    listed.clear()
    wide = list_tree(lister(tmp_path, listed), depth=2, max_directories=50)
    assert listed == [".", "a", "w0", "w1", "w2", "w3", "w4", "a/b"]
    touch_later(tmp_path / "a" / "b" / "c" / "other.txt")
    bump(tmp_path / "a" / "b" / "c")
    assert differences(wide, list_tree(lister(tmp_path), depth=2)) == [{"path": "a/b/c", "change": "many"}]


def test_a_folder_listed_once_and_not_again_is_no_deletion(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        touch_later(tmp_path / name / "f.txt")
    wide = list_tree(lister(tmp_path), max_directories=3)
    narrow = list_tree(lister(tmp_path), max_directories=2)
    assert "b" in wide.folders and "b" not in narrow.folders
    assert differences(wide, narrow) == [] and differences(narrow, wide) == []


def test_an_unreadable_or_vanished_folder_is_skipped(tmp_path):
    (tmp_path / "a").mkdir()
    calls: list[str] = []

    def list_folder(path: str):
        calls.append(path)
        if path == "a":
            raise NotListed("permission denied")
        return lister(tmp_path)(path)

    listing = list_tree(list_folder)
    assert calls == [".", "a"] and list(listing.folders) == [""]


def test_a_burst_is_summarised(tmp_path):
    (tmp_path / "burst").mkdir()
    list_folder = lister(tmp_path)
    before = list_tree(list_folder)
    for i in range(300):
        (tmp_path / "burst" / f"f{i}").write_text("x")
    bump(tmp_path / "burst")
    assert differences(before, list_tree(list_folder)) == [{"path": "burst", "change": "many"}]


def test_a_poll_lists_afresh_the_root_and_the_folders_whose_time_moved_and_carries_the_rest(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        touch_later(tmp_path / name / "f.txt")
    first = list_tree(lister(tmp_path))
    listed: list[str] = []
    touch_later(tmp_path / "b" / "new.txt")
    bump(tmp_path / "b")
    second = list_tree(lister(tmp_path, listed), first, poll=1)
    assert listed == [".", "b"] and second.fresh == 2 and list(second.folders) == ["", "a", "b", "c"]
    assert differences(first, second) == [{"path": "b/new.txt", "change": "created"}]


def test_a_folder_whose_time_moved_is_listed_again_at_the_next_poll_for_what_the_same_second_hid(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first = list_tree(lister(tmp_path))
    touch_later(tmp_path / "b" / "one.txt")
    bump(tmp_path / "b")
    second = list_tree(lister(tmp_path), first, poll=1)
    seen_at = os.stat(tmp_path / "b").st_mtime
    (tmp_path / "b" / "two.txt").write_text("x")  # in the second the poll saw: b's time does not move
    os.utime(tmp_path / "b", (seen_at, seen_at))
    listed: list[str] = []
    third = list_tree(lister(tmp_path, listed), second, poll=2)
    assert listed == [".", "b"]  # b once more; a stays carried
    assert differences(second, third) == [{"path": "b/two.txt", "change": "created"}]
    listed.clear()
    list_tree(lister(tmp_path, listed), third, poll=3)
    assert listed == ["."]  # settled: carried again


def test_a_file_changed_in_place_in_a_folder_carried_over_is_found_by_the_sweep(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        touch_later(tmp_path / name / "f.txt")
    listing = list_tree(lister(tmp_path))
    touch_later(tmp_path / "c" / "f.txt", "rewritten in place")  # no folder's time moves
    found, polls = [], 0
    while not found:
        polls += 1
        assert polls <= 3, "the sweep never reached c"
        listed: list[str] = []
        nxt = list_tree(lister(tmp_path, listed), listing, poll=polls, sweep=1)
        assert len(listed) == 2  # the root and one folder swept
        found, listing = differences(listing, nxt), nxt
    assert found == [{"path": "c/f.txt", "change": "modified"}]


def test_hot_folders_are_listed_at_every_poll_even_past_the_depth(tmp_path):
    deep = tmp_path / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    first = list_tree(lister(tmp_path), hot=["a/b/c/d", "/etc", "../x"])
    assert "a/b/c/d" in first.folders and "/etc" not in first.folders
    touch_later(deep / "shown.txt")
    listed: list[str] = []
    second = list_tree(lister(tmp_path, listed), first, poll=1, hot=["a/b/c/d"])
    assert listed == [".", "a/b/c/d"]
    assert differences(first, second) == [{"path": "a/b/c/d/shown.txt", "change": "created"}]


def test_a_big_root_is_listed_afresh_only_in_its_turn(tmp_path, monkeypatch):
    monkeypatch.setattr("aict.watching.remote_listing.BIG_FOLDER", 10)
    (tmp_path / "small").mkdir()
    for i in range(20):
        (tmp_path / f"f{i}").write_text("x")
    first = list_tree(lister(tmp_path))
    listed: list[str] = []
    list_tree(lister(tmp_path, listed), first, poll=1, sweep=0)
    assert listed == []  # neither its time nor its turn: carried over
    second = list_tree(lister(tmp_path, listed), first, poll=1, sweep=1)
    third = list_tree(lister(tmp_path, listed), second, poll=2, sweep=1)
    assert listed == [".", "small"] and third.listed_at == {"": 1, "small": 2}  # in turns
