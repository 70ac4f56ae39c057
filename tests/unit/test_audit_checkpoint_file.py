"""The checkpoint file: written by the terminal host, read by web processes that may run as another
account (GET /api/audit/verify answered 500 when they could not read it)."""

from __future__ import annotations

import grp
import os
import stat

import pytest

from aict.audit import checkpoints
from aict.errors import AppError


def test_the_web_processes_group_may_read_the_checkpoints_and_nobody_else(tmp_path):
    path = tmp_path / "audit-checkpoints.log"
    web_gid = grp.getgrnam("nogroup").gr_gid
    checkpoints.append(path, 7, "ab" * 32, reader_gid=web_gid)
    checkpoints.append(path, 9, "cd" * 32, reader_gid=web_gid)
    info = os.stat(path)
    assert (info.st_gid, stat.S_IMODE(info.st_mode)) == (web_gid, 0o640)
    assert checkpoints.read(path) == {7: "ab" * 32, 9: "cd" * 32}


def test_without_a_web_account_the_file_is_private(tmp_path):
    path = tmp_path / "audit-checkpoints.log"
    checkpoints.append(path, 1, "ef" * 32)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_an_unreadable_file_is_a_clear_error_not_a_crash(tmp_path, monkeypatch):
    path = tmp_path / "audit-checkpoints.log"
    checkpoints.append(path, 1, "ef" * 32)

    def refused(self, *args, **kwargs):  # what another account's open() gets (root reads anything)
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "open", refused)
    with pytest.raises(AppError) as raised:
        checkpoints.read(path)
    assert raised.value.code == "checkpoints_unreadable" and str(path) in raised.value.message


def test_each_database_reads_its_own_checkpoints_and_the_lines_from_before_they_named_one(tmp_path):
    path = tmp_path / "audit-checkpoints.log"
    sqlite = checkpoints.database_fingerprint(f"sqlite:///{tmp_path}/aict.db")
    postgres = checkpoints.database_fingerprint("postgresql+psycopg://aict:first@db.internal/aict")
    path.write_text('{"id": 1, "hash": "' + "00" * 32 + '", "at": "2026-01-01T00:00:00Z"}\n')  # an older release's
    checkpoints.append(path, 7, "ab" * 32, database=sqlite)
    checkpoints.append(path, 7, "cd" * 32, database=postgres)
    assert checkpoints.read(path, sqlite) == {1: "00" * 32, 7: "ab" * 32}
    assert checkpoints.read(path, postgres) == {1: "00" * 32, 7: "cd" * 32}
    # A new password is the same database; another host or database name is not
    assert checkpoints.database_fingerprint("postgresql+psycopg://aict:second@db.internal/aict") == postgres
    assert checkpoints.database_fingerprint("postgresql+psycopg://aict:first@db.internal/other") != postgres
    assert "first" not in path.read_text()  # no password in the file
    (tmp_path / "link").symlink_to(tmp_path)
    assert checkpoints.database_fingerprint(f"sqlite:///{tmp_path}/link/aict.db") == sqlite
