"""File changes of an SSH workspace, found by comparing two bounded listings of its directory.

A listing walks the remote user's home directory (the SSH workspace's root: its Files panel and its
git status start there) breadth first, shallow folders first and in name order, so that the same
folders are listed at every poll: at most `depth` levels below the root, `max_directories`
folders and `max_entries` entries. It does not go into folders whose name starts with a dot (.git,
.cache, .local: a home's noise), into symbolic links, or into folders too big to list cheaply.

Listing a folder over SFTP costs round trips, some 150 bytes an entry and the parsing of each (some
50 µs): a poll lists afresh only the root, the `hot` folders (those a Files panel shows), the folders
not listed before, those whose modification time moved in their parent's fresh listing (a name in
them was made, removed or renamed), and `sweep` more, the longest unlisted first (a file changed in
place moves no folder's time); the others are carried over from the last listing. A folder of more
than BIG_FOLDER entries, even the root, is listed afresh only in its turn.

SFTP's modification times are whole seconds, so a folder listed in the second it changed may change
again within that second unseen: a folder whose time moved (or that appeared) since the listing
before is listed afresh at the next as well (`settling`), as git re-checks a "racily clean" file.

Two listings compare by name, type, size and modification time (SFTP's: whole seconds): each entry
of a folder listed both times that appeared, went or changed is an item; a folder that was not listed
both times but whose modification time changed (something in it was created, removed or renamed) is
one `{"path": folder, "change": "many"}` item.
"""

from __future__ import annotations

import posixpath
import stat
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from aict.watching.changes import summarise

DEPTH = 2  # levels of folders listed below the root
MAX_DIRECTORIES = 50  # folders listed in one poll (each is a few SFTP round trips)
MAX_ENTRIES = 5000  # entries held of one listing, all folders together
MAX_FOLDER_BYTES = 256 * 1024  # a folder whose own size says it holds thousands of names is not entered
BIG_FOLDER = 2000  # a folder listed with more entries than this is listed afresh only in its turn

DIRECTORY, FILE, LINK, OTHER = "d", "f", "l", "o"
Entry = tuple[str, int, int]  # (type, size, mtime)
ROOT = ""


class NotListed(Exception):
    """`list_folder` could not list that folder (gone meanwhile, permission denied): it is skipped."""


@dataclass(frozen=True)
class RemoteEntry:
    """What a directory listing says of one name (paramiko's SFTPAttributes has these fields)."""

    filename: str
    st_mode: int | None
    st_size: int | None
    st_mtime: int | None


@dataclass
class Listing:
    """The folders listed (`ROOT` is the root), each with its entries by name, and the poll at which
    each was last listed afresh."""

    folders: dict[str, dict[str, Entry]] = field(default_factory=dict)
    listed_at: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    fresh: int = 0  # folders listed afresh for this one
    settling: set[str] = field(default_factory=set)  # folders whose time moved: listed afresh next time too


def _type_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return DIRECTORY
    if stat.S_ISREG(mode):
        return FILE
    if stat.S_ISLNK(mode):
        return LINK
    return OTHER


def list_tree(list_folder: Callable[[str], Iterable[RemoteEntry]], old: Listing | None = None, *,
              poll: int = 0, hot: Collection[str] = (), sweep: int = 0, depth: int = DEPTH,
              max_directories: int = MAX_DIRECTORIES, max_entries: int = MAX_ENTRIES) -> Listing:
    """A bounded listing through `list_folder(path)` ("." for the root; NotListed: skipped, such as
    a folder the remote user may not read), listing afresh what the module's doc says and carrying
    the rest over from `old` (None: everything afresh). Other errors (the connection's) pass through."""
    listing = Listing()
    previous = old or Listing()
    hot = [folder for folder in dict.fromkeys(hot) if _plain(folder)][:max(0, max_directories - 1)]
    others = [folder for folder, entries in previous.folders.items()
              if (folder != ROOT and folder not in hot) or len(entries) > BIG_FOLDER]
    due = set(sorted(others, key=lambda folder: previous.listed_at.get(folder, 0))[:sweep])
    queue: list[tuple[str, int, bool]] = [(ROOT, 0, True)]
    while queue and len(listing.folders) < max_directories - len(hot) and listing.entries < max_entries:
        folder, level, moved = queue.pop(0)
        before = previous.folders.get(folder)
        big = before is not None and len(before) > BIG_FOLDER  # the root or a hot one, too
        carry = before is not None and folder not in due and (big or (not moved and folder not in hot))
        entries = _fresh_or_carried(list_folder, folder, previous, listing, poll, carry=carry)
        if entries is None:
            continue
        for name, (kind, size, mtime) in entries.items():
            if kind == DIRECTORY and level < depth and not name.startswith(".") and size <= MAX_FOLDER_BYTES:
                was = before.get(name) if before is not None else None
                path = posixpath.join(folder, name)
                if before is not None and (was is None or was[2] != mtime):  # not at a first sight
                    listing.settling.add(path)
                queue.append((path, level + 1, path in listing.settling or path in previous.settling))
    for folder in hot:  # wherever they are, past the walk's depth too
        if folder not in listing.folders and listing.entries < max_entries:
            before = previous.folders.get(folder)
            carry = before is not None and len(before) > BIG_FOLDER and folder not in due
            _fresh_or_carried(list_folder, folder, previous, listing, poll, carry=carry)
    return listing


def _fresh_or_carried(list_folder, folder: str, previous: Listing, listing: Listing, poll: int,
                      carry: bool) -> dict[str, Entry] | None:
    """Add `folder` to `listing`, listed afresh or carried over from `previous`; None: not listed."""
    if carry:
        entries = previous.folders[folder]
        listing.listed_at[folder] = previous.listed_at.get(folder, 0)
    else:
        try:
            entries = _entries(list_folder(folder or "."))
        except NotListed:
            return None
        listing.listed_at[folder] = poll
        listing.fresh += 1
    listing.folders[folder] = entries
    listing.entries += len(entries)
    return entries


def _plain(folder: str) -> bool:
    """A folder below the root, written plainly (hot folders come from Files panel listings)."""
    return bool(folder) and not folder.startswith("/") and ".." not in folder.split("/")


def _entries(found: Iterable[RemoteEntry]) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for attributes in sorted(found, key=lambda a: a.filename):
        name = attributes.filename
        if name in (".", "..") or "/" in name:
            continue
        entries[name] = (_type_of(attributes.st_mode or 0), int(attributes.st_size or 0),
                         int(attributes.st_mtime or 0))
    return entries


def differences(old: Listing, new: Listing) -> list[dict]:
    """The contract's file-change items from `old` to `new` (summarised past 50 items); nothing of
    .git, whose changes show in the git status."""
    items: list[dict] = []
    for folder, entries in new.folders.items():
        before = old.folders.get(folder)
        if before is None:
            continue  # not listed last time (new, or past the bounds then): nothing to compare with
        for name, now in entries.items():
            if name == ".git":
                continue
            path = posixpath.join(folder, name)
            was = before.get(name)
            if was is None:
                items.append({"path": path, "change": "created"})
            elif now[0] == DIRECTORY and was[0] == DIRECTORY:
                if (path not in old.folders or path not in new.folders) and now[2] != was[2]:
                    items.append({"path": path, "change": "many"})  # something in a folder not compared
            elif now != was:
                items.append({"path": path, "change": "modified"})
        items.extend({"path": posixpath.join(folder, name), "change": "deleted"}
                     for name in sorted(before.keys() - entries.keys()) if name != ".git")
    return summarise(items)


def git_moved(old: Listing, new: Listing) -> bool:
    """Whether the root's .git changed (git writes HEAD and the index by renaming a lock file in it)."""
    return old.folders.get(ROOT, {}).get(".git") != new.folders.get(ROOT, {}).get(".git")
