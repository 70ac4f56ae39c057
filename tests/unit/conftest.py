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
