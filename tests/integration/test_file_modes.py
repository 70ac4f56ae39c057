"""The database and the secret files under instance/ are the server account's alone: created 0600,
and tightened (with a log line) when a start finds them looser."""

from __future__ import annotations

import stat

from tests.server import RunningServer

PRIVATE_FILES = ("aict.db", "aict.db-wal", "aict.db-shm", "secret_key", "encryption_key")


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_and_secrets_are_created_private_and_tightened_at_start(tmp_path):
    instance = tmp_path / "instance"
    first = RunningServer(instance).start()
    try:
        first.login()  # a write: the database and its WAL exist
    finally:
        first.stop()
    for name in PRIVATE_FILES:
        if (instance / name).exists() or name == "aict.db":
            assert _mode(instance / name) == 0o600, (name, oct(_mode(instance / name)))

    for name in ("aict.db", "secret_key", "encryption_key"):
        (instance / name).chmod(0o644)  # as a copy or a restore might leave them
    (instance / "config.py").write_text("SSH_CONNECT_TIMEOUT = 5\n")
    (instance / "config.py").chmod(0o664)
    second = RunningServer(instance)
    second.admin_password = first.admin_password  # the same admin, already in the database
    second.env["AICT_ADMIN_PASSWORD"] = first.admin_password
    second.start()
    try:
        second.login()
    finally:
        second.stop()
    for name in ("aict.db", "secret_key", "encryption_key", "config.py"):
        assert _mode(instance / name) == 0o600, (name, oct(_mode(instance / name)))
    log = second.log_path.read_text()
    for name in ("aict.db", "secret_key", "encryption_key", "config.py"):
        assert f"{instance / name} was readable by other accounts (mode 6" in log, log[-2000:]
