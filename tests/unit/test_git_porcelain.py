from aict.watching.porcelain import parse_status


def z(*records: str) -> bytes:
    return "\0".join(records).encode() + b"\0"


def test_branch_with_upstream_ahead_behind_and_changed_files():
    out = z("# branch.oid 0123456789abcdef0123456789abcdef01234567", "# branch.head main",
            "# branch.upstream origin/main", "# branch.ab +2 -3",
            "1 .M N... 100644 100644 100644 aaaa bbbb src/app.py",
            "1 A. N... 000000 100644 100644 0000 cccc new file.txt",
            "2 R. N... 100644 100644 100644 dddd dddd R100 renamed.txt", "old.txt",
            "u UU N... 100644 100644 100644 100644 e f g conflict.c",
            "? untracked dir/")
    status = parse_status(out)
    assert status["branch"] == "main" and status["commit"] == "0123456789ab"
    assert (status["ahead"], status["behind"], status["upstream"]) == (2, 3, "origin/main")
    assert status["dirty"] is True and status["changed"] == 5
    assert status["files"] == [
        {"path": "src/app.py", "status": " M"},
        {"path": "new file.txt", "status": "A "},
        {"path": "renamed.txt", "status": "R ", "from": "old.txt"},
        {"path": "conflict.c", "status": "UU"},
        {"path": "untracked dir/", "status": "??"},
    ]


def test_new_repository_without_commits_or_upstream():
    status = parse_status(z("# branch.oid (initial)", "# branch.head master"))
    assert status == {"branch": "master", "dirty": False, "changed": 0, "files": []}


def test_detached_head_has_no_branch():
    status = parse_status(z("# branch.oid 89abcdef89abcdef89abcdef89abcdef89abcdef", "# branch.head (detached)"))
    assert status["detached"] is True and "branch" not in status and status["commit"] == "89abcdef89ab"


def test_file_list_is_bounded_but_counted():
    out = z("# branch.head main", *[f"? f{i}" for i in range(30)])
    status = parse_status(out, max_files=10)
    assert len(status["files"]) == 10 and status["changed"] == 30


def test_undecodable_names_do_not_fail():
    status = parse_status(b"# branch.head main\0? caf\xe9\0")
    assert status["files"] == [{"path": "caf\ufffd", "status": "??"}]
