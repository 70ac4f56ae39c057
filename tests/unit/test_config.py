import ast
from pathlib import Path

import pytest

from aict.config import DEFAULTS, ConfigError, flask_config, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_config_example_documents_every_setting():
    tree = ast.parse((ROOT / "config.example.py").read_text())
    documented = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert set(DEFAULTS) - documented == set()


def test_environment_overrides_defaults_with_types(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={
        "AICT_PORT": "9000", "AICT_USER_LOCAL_WORKSPACES": "yes",
        "AICT_ALLOWED_ORIGINS": "https://a.example, https://b.example", "AICT_SHELL_ARGS": '["-i"]'})
    assert settings["PORT"] == 9000
    assert settings["USER_LOCAL_WORKSPACES"] is True
    assert settings["ALLOWED_ORIGINS"] == ["https://a.example", "https://b.example"]
    assert settings["SHELL_ARGS"] == ["-i"]


def test_production_refuses_to_start_without_secrets(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path), "ENV": "production"}, environ={})
    with pytest.raises(ConfigError, match="AICT_SECRET_KEY"):
        flask_config(settings)


def test_development_generates_and_keeps_secrets(tmp_path):
    first = flask_config(load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={}))
    second = flask_config(load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={}))
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_ring_must_hold_at_least_two_windows(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path), "RING_BYTES": 1000, "FLOW_WINDOW_BYTES": 800},
                             environ={})
    with pytest.raises(ConfigError, match="RING_BYTES"):
        flask_config(settings)


def test_production_refuses_the_browser_tests_hook(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path), "ENV": "production", "SECRET_KEY": "k" * 40,
                              "ENCRYPTION_KEY": "e", "TEST_HOOKS": True}, environ={})
    with pytest.raises(ConfigError, match="AICT_TEST_HOOKS"):
        flask_config(settings)


def test_production_refuses_cheap_password_hashes(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path), "ENV": "production", "SECRET_KEY": "k" * 40,
                              "ENCRYPTION_KEY": "e", "TEST_CHEAP_PASSWORD_HASHES": True}, environ={})
    with pytest.raises(ConfigError, match="AICT_TEST_CHEAP_PASSWORD_HASHES"):
        flask_config(settings)
