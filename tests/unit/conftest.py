from pathlib import Path

import pytest
from flask_migrate import upgrade

from aict import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@pytest.fixture
def app(tmp_path):
    """An app on a migrated SQLite database of its own (no server: tests call it in process)."""
    app = create_app({"INSTANCE_DIR": str(tmp_path)})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
    return app


@pytest.fixture
def host_app(tmp_path):
    """The same, as the terminal host builds it (its sessions service records and writes recordings)."""
    app = create_app({"INSTANCE_DIR": str(tmp_path)}, role="host")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
    return app
