"""The README's deployment, checked where this machine can run it: the nginx configuration it shows
is the one `make cluster` serves, the secrets it makes start a production server, its admin
commands work, and the systemd units it installs are valid."""

from __future__ import annotations

import re
import subprocess

from tests.server import ROOT

README = (ROOT / "README.md").read_text()


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, re.M | re.S)


def test_the_readmes_nginx_configuration_is_the_one_make_cluster_serves():
    nginx_blocks = readme_blocks("nginx")
    assert nginx_blocks == [(ROOT / "deploy" / "nginx" / "aict.conf").read_text()]


def test_the_readmes_nginx_configuration_upgrades_only_websocket_requests_and_keeps_the_port():
    conf = readme_blocks("nginx")[0]
    assert re.search(r"map \$http_upgrade \$connection_upgrade \{\s*default upgrade;\s*''\s*close;\s*\}", conf)
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert 'Connection "upgrade"' not in conf
    assert "proxy_set_header Host $http_host;" in conf


def test_the_readmes_settings_block_makes_secrets_a_production_server_accepts_and_its_admin_commands_work(tmp_path):
    """Step 4 run as written (into a folder of the test's, not /etc/aict), then step 5's commands
    through deploy/aict-flask, with the database and folders of the test."""
    block = next(b for b in readme_blocks("sh") if "/etc/aict/aict.env" in b and "AICT_SECRET_KEY" in b)
    env_file = tmp_path / "etc" / "aict.env"
    script = block.replace("/etc/aict", str(tmp_path / "etc"))
    subprocess.run(["bash", "-euc", f"DB_PASSWORD=not-used\nREDIS_PASSWORD=not-used\n{script}"], check=True,
                   timeout=60)
    assert env_file.stat().st_mode & 0o777 == 0o600
    settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    for name in ("AICT_SECRET_KEY", "AICT_ENCRYPTION_KEY", "AICT_AUDIT_KEY", "AICT_METRICS_TOKEN"):
        assert len(settings[name]) >= 32, name
    # This machine's stand-ins for PostgreSQL and /var/lib/aict; the rest as generated.
    instance = tmp_path / "instance"
    with env_file.open("a") as out:
        out.write(f"AICT_DATABASE_URL=sqlite:///{instance}/aict.db\nAICT_INSTANCE_DIR={instance}\nAICT_WEB_ACCOUNT=\n")
    aict_flask = ROOT / "deploy" / "aict-flask"
    run_env = {"PATH": "/usr/bin:/bin", "AICT_ENV_FILE": str(env_file)}
    migrated = subprocess.run([aict_flask, "db", "upgrade"], env=run_env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    admin = subprocess.run([aict_flask, "aict", "ensure-admin"], env=run_env, capture_output=True, text=True,
                           timeout=120)
    assert admin.returncode == 0, admin.stderr
    assert re.search(r"username: admin\s+password: \S{12,}", admin.stdout), admin.stdout
    again = subprocess.run([aict_flask, "aict", "ensure-admin"], env=run_env, capture_output=True, text=True,
                           timeout=120)
    assert "An admin account exists already" in again.stdout


def test_the_systemd_units_are_valid_and_run_files_that_exist(tmp_path):
    units = {}
    for name, instance_name in (("aict-host.service", "aict-host.service"),
                                ("aict-web@.service", "aict-web@8081.service")):
        text = (ROOT / "deploy" / "systemd" / name).read_text()
        assert "EnvironmentFile=/etc/aict/aict.env" in text
        units[instance_name] = text.replace("/opt/aict", str(ROOT))
        (tmp_path / instance_name).write_text(units[instance_name])
    verified = subprocess.run(["systemd-analyze", "verify", *units], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr
    assert "ExecStart=/opt/aict/.venv/bin/python host.py" in (ROOT / "deploy/systemd/aict-host.service").read_text()
    web = (ROOT / "deploy/systemd/aict-web@.service").read_text()
    assert "ExecStart=/opt/aict/.venv/bin/python wsgi.py" in web
    assert "AICT_PORT=%i" in web and "AICT_TRUSTED_PROXIES=1" in web and "AICT_HOST_CHILD=0" in web
    assert (ROOT / "host.py").is_file() and (ROOT / "wsgi.py").is_file()
