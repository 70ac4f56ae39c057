"""Raw file-system changes of a workspace as the contract's `file-change` items, and whether the
git status may have changed with them.

Imported by file in the watcher agent (aict/watching/agent.py): the standard library only.
"""

from __future__ import annotations

import os

# watchfiles' Change values
ADDED, MODIFIED, DELETED = 1, 2, 3
NAMES = {ADDED: "created", MODIFIED: "modified", DELETED: "deleted"}
MAX_ITEMS = 50  # a batch with more changes than this is summarised by directory
DIR_BURST = 5  # a directory with more changes than this in a summarised batch is one "many" item
ROOT = "."  # the workspace's root as a `path`

# In the repository's own .git, what git status reads (the branch, the index, refs); objects, logs and
# lock files are noise a commit or a fetch makes by the hundred.
GIT_STATE = ("HEAD", "index", "packed-refs", "MERGE_HEAD", "REBASE_HEAD", "CHERRY_PICK_HEAD")


class Classifier:
    """Sorts the changes under one workspace root. `exclude`: absolute folders to say nothing of
    (the shells' homes when the root is the workspace root)."""

    def __init__(self, root: str, exclude: list[str] | tuple[str, ...] = ()):
        self.root = os.path.abspath(root)
        self.real_root = os.path.realpath(root)
        self.exclude = tuple(os.path.abspath(path) for path in exclude)

    def classify(self, raw) -> tuple[bool, list[dict]]:
        """(git state may have changed, file-change items) for a batch of (change, absolute path)."""
        git_changed = False
        items: list[dict] = []
        inside: dict[str, bool] = {}
        for change, path in sorted(raw, key=lambda item: item[1]):
            relative = os.path.relpath(path, self.root)
            if relative == os.curdir or relative.startswith(os.pardir + os.sep) or relative == os.pardir:
                continue
            parts = relative.split(os.sep)
            if parts[0] == ".git":
                git_changed = git_changed or _git_state(parts[1:])
                continue
            if ".git" in parts or self._excluded(path):
                continue  # a nested repository's internals, or the homes
            if not self._really_inside(os.path.dirname(path), inside):
                continue  # reached through a symbolic link that leads out of the workspace
            git_changed = True
            items.append({"path": relative, "change": NAMES.get(change, "modified")})
        return git_changed, summarise(_dedup(items))

    def _excluded(self, path: str) -> bool:
        return any(path == folder or path.startswith(folder + os.sep) for folder in self.exclude)

    def _really_inside(self, folder: str, known: dict[str, bool]) -> bool:
        if folder not in known:
            real = os.path.realpath(folder)
            known[folder] = real == self.real_root or real.startswith(self.real_root + os.sep)
        return known[folder]


def _git_state(parts: list[str]) -> bool:
    if not parts:
        return True  # .git itself: made or removed
    if parts[-1].endswith(".lock"):
        return False
    return (len(parts) == 1 and parts[0] in GIT_STATE) or parts[0] == "refs"


def _dedup(items: list[dict]) -> list[dict]:
    """One item a path: its last change in the batch (created then deleted reads as deleted)."""
    latest: dict[str, dict] = {}
    for item in items:
        latest[item["path"]] = item
    return list(latest.values())


def summarise(items: list[dict], limit: int = MAX_ITEMS, burst: int = DIR_BURST) -> list[dict]:
    """At most `limit` items: directories with more than `burst` changes become {"path": dir,
    "change": "many"}; if that is still too many, each top-level folder; at last the root alone."""
    if len(items) <= limit:
        return items
    summary = _by_folder(items, lambda path: os.path.dirname(path) or ROOT, burst)
    if len(summary) <= limit:
        return summary
    summary = _by_folder(items, lambda path: path.split(os.sep, 1)[0] if os.sep in path else ROOT, 0)
    if len(summary) <= limit:
        return summary
    return [{"path": ROOT, "change": "many"}]


def _by_folder(items: list[dict], folder_of, burst: int) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(folder_of(item["path"]), []).append(item)
    summary: list[dict] = []
    for folder, members in groups.items():
        if len(members) > burst:
            summary.append({"path": folder, "change": "many"})
        else:
            summary.extend(members)
    return summary
