"""`git status --porcelain=v2 --branch -z` as the contract's `workspace-status` fields.

Imported by file in the watcher agent (aict/watching/agent.py): the standard library only.
"""

from __future__ import annotations

MAX_FILES = 500  # files listed in one status; `changed` counts them all


def _code(xy: str) -> str:
    """v2's XY ('.M', 'A.') as the two-letter `git status --porcelain` code (' M', 'A ')."""
    return xy.replace(".", " ")


def parse_status(output: bytes, max_files: int = MAX_FILES) -> dict:
    """The fields of a status (without workspaceId): branch, detached, commit, upstream, ahead,
    behind, dirty, changed and files (at most `max_files`, each {"path", "status"} and "from" for a
    rename or copy). Paths are relative to the repository's top, decoded as UTF-8 (bad bytes
    replaced)."""
    records = output.split(b"\0")
    status: dict = {}
    files: list[dict] = []
    changed = 0
    index = 0
    while index < len(records):
        record = records[index].decode("utf-8", "replace")
        index += 1
        if not record:
            continue
        if record.startswith("# "):
            _header(record[2:], status)
            continue
        kind = record[0]
        entry = None
        if kind == "1":  # 1 XY sub mH mI mW hH hI path
            parts = record.split(" ", 8)
            entry = {"path": parts[8], "status": _code(parts[1])}
        elif kind == "2":  # 2 XY sub mH mI mW hH hI Xscore path, then the original path as the next record
            parts = record.split(" ", 9)
            entry = {"path": parts[9], "status": _code(parts[1])}
            if index < len(records):
                entry["from"] = records[index].decode("utf-8", "replace")
                index += 1
        elif kind == "u":  # u XY sub m1 m2 m3 mW h1 h2 h3 path
            parts = record.split(" ", 10)
            entry = {"path": parts[10], "status": _code(parts[1])}
        elif kind == "?":
            entry = {"path": record[2:], "status": "??"}
        if entry is not None:
            changed += 1
            if len(files) < max_files:
                files.append(entry)
    status.update(dirty=changed > 0, changed=changed, files=files)
    return status


def _header(header: str, status: dict) -> None:
    name, _, value = header.partition(" ")
    if name == "branch.oid":
        if value != "(initial)":
            status["commit"] = value[:12]
    elif name == "branch.head":
        if value == "(detached)":
            status["detached"] = True
        else:
            status["branch"] = value
    elif name == "branch.upstream":
        status["upstream"] = value
    elif name == "branch.ab":
        ahead, _, behind = value.partition(" ")
        try:
            status["ahead"], status["behind"] = int(ahead.lstrip("+")), abs(int(behind))
        except ValueError:
            pass
