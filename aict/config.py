"""Settings: defaults here, overridden by an optional Python file and by AICT_* environment variables.

Every setting is documented in config.example.py. Environment variables win over the file,
so a container or systemd unit can adjust anything without editing files.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
from dataclasses import MISSING, dataclass, field, fields
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


class ConfigError(RuntimeError):
    """The configuration cannot be used (e.g. a missing secret in production)."""


@dataclass(frozen=True)
class Settings:
    """Every setting, typed, built once by create_app (app.config["AICT"], state.settings).
    The names are the AICT_* environment names and the names in a config file."""

    ENV: str = "development"  # "production" refuses to start without real secrets
    INSTANCE_DIR: str = str(ROOT / "instance")
    SECRET_KEY: str | None = None  # Flask's key; generated and kept in instance/ in development
    JWT_SECRET_KEY: str | None = None  # defaults to SECRET_KEY
    ENCRYPTION_KEY: str | None = None  # for stored SSH credentials; generated in development
    DATABASE_URL: str | None = None  # defaults to sqlite:///<instance>/aict.db
    DB_POOL_SIZE: int = 10  # connections kept open; none is held across a wait (aict/db_pool.py)
    DB_POOL_OVERFLOW: int = 20  # extra connections opened in a burst, closed when returned
    DB_POOL_TIMEOUT_SECONDS: int = 3  # then 503 database_busy instead of waiting on
    DB_HOLD_WARN_SECONDS: float = 1.0  # a connection held longer is logged with where its holder waits
    HOST: str = "127.0.0.1"
    NODE: str | None = None  # this node's name (its terminal host's); defaults to the machine's hostname
    TERMINAL_HOST: str | None = None  # the terminal host's Unix socket; defaults to <instance>/host.sock
    HOST_CHILD: bool = True  # `python wsgi.py` starts the terminal host as its child (make run); 0: connect to one
    NODE_LEASE_SECONDS: int = 30  # with REDIS_URL: a dead node's terminals are recorded ended this long after
    WEB_ACCOUNT: str | None = None  # the OS account web processes run as, if not the host's own (may connect to it)
    PORT: int = 8080
    ACCESS_TOKEN_MINUTES: int = 15
    ACCESS_TOKEN_SECONDS: int = 0  # when above 0, the access token lifetime in seconds (overrides the minutes)
    REFRESH_TOKEN_DAYS: int = 7
    TRUSTED_PROXIES: int = 0  # how many proxies' X-Forwarded-* headers to trust
    HSTS_SECONDS: int = 31536000  # Strict-Transport-Security max-age on responses to HTTPS requests; 0: none
    ALLOWED_ORIGINS: list[str] = field(default_factory=list)  # extra browser origins allowed to open sockets
    # Redis shared by every web process (and node): the Socket.IO message queue, request limits,
    # login throttling, host-key offers. None: one process, everything in its memory.
    REDIS_URL: str | None = None  # e.g. redis://127.0.0.1:6379/0
    REDIS_PREFIX: str = "aict"  # of every key and channel aict uses in Redis: one per deployment sharing it
    RATELIMIT_STORAGE_URI: str = "memory://"  # REDIS_URL when that is set and this is left at memory://
    LOGIN_RATE: str = "30 per minute"  # requests to /api/auth/login per IP, any outcome
    LOGIN_USER_FAILURES: int = 5
    LOGIN_IP_FAILURES: int = 20
    LOGIN_WINDOW_SECONDS: int = 900
    LOGIN_LOCK_SECONDS: int = 900
    API_RATE_PER_IP: str = "3600 per minute"  # /api/* requests per client IP, all endpoints together; "": no limit
    API_RATE_PER_USER: str = "1800 per minute"  # /api/* requests per logged-in user; "": no limit
    TRUSTED_DEVICE_DAYS: int = 90  # a browser that logged in is not held by its user's username lock this long
    REQUIRE_TOTP_FOR_ADMINS: bool = False  # admins must turn on TOTP before they may do anything else
    SOCKET_EVENT_RATE: str = "300 per second"  # per connection, all events but terminal-ack
    SHELL: str = "/bin/bash"
    SHELL_ARGS: list[str] = field(default_factory=lambda: ["-l"])
    # The OS account local shells run as unless a workspace has its own (an existing account; nothing
    # creates it). Unset: the server's own account, and local workspaces are then for admins only.
    SHELL_ACCOUNT: str | None = None
    USER_LOCAL_WORKSPACES: bool = False  # may non-admins create local workspaces?
    WORKSPACE_ROOT: str | None = None  # defaults to <instance>/workspaces
    # The Python that runs watcher agents (aict/watching/agent.py) as shell accounts: they must be able
    # to run it and import watchfiles with it. Unset: the server's own interpreter.
    WATCH_PYTHON: str | None = None
    RING_BYTES: int = 4 * MiB  # output kept per session for replay
    FLOW_WINDOW_BYTES: int = 2 * MiB  # unacknowledged output in flight per socket
    COALESCE_MS: int = 8  # how long output gathers into one frame while it keeps coming
    STREAM_COALESCE_MS: int = 16  # the same while a stream runs (the last frame carried 64 KiB or more)
    MAX_INPUT_BYTES: int = 1 * MiB
    MAX_MESSAGE_BYTES: int = 8 * MiB  # transport limit for one socket message
    MAX_UPLOAD_BYTES: int = 1024 * MiB  # one file uploaded to a workspace; above it: 413, nothing kept
    FILES_PYTHON: str | None = None  # the interpreter of files workers; default /usr/bin/python3 (aict/files)
    IDLE_TIMEOUT_SECONDS: int = 24 * 3600  # a detached session is ended after this
    EXITED_RETENTION_SECONDS: int = 1800  # an exited session's ring stays attachable this long
    MAX_SESSIONS_PER_USER: int = 50
    PROCESS_SAMPLE_SECONDS: float = 1.0  # how often terminals someone looks at are sampled (terminal-process); 0: never
    # Output a terminal's recording keeps whole (stored compressed). Past it, the first part and the most
    # recent RECORDING_TAIL_BYTES are kept, with a note between saying how much was left out.
    RECORDING_MAX_BYTES: int = 1024 * MiB
    RECORDING_TAIL_BYTES: int = 256 * MiB  # the most recent output kept of a terminal past RECORDING_MAX_BYTES
    RECORDING_RETENTION_DAYS: float = 365.0  # recordings of terminals ended this long ago are purged; 0: kept forever
    RECORDING_PURGE_SECONDS: int = 24 * 3600  # how often the terminal host purges them
    RECORDING_BACKLOG_BYTES: int = 2 * MiB  # recorded, not yet stored: past it the terminal waits (two rows)
    SSH_CONNECT_TIMEOUT: int = 10
    SSH_KEEPALIVE_SECONDS: int = 15
    SSH_ALLOWED_HOSTS: list[str] = field(default_factory=list)  # patterns non-admins may target: ["*.lab.example"]
    # Watched SSH workspaces (watch-workspace): their home directory is listed over SFTP this often, at
    # most this many folders a poll (0: no file-change events, git status alone).
    SSH_WATCH_POLL_SECONDS: float = 2.0
    SSH_WATCH_MAX_DIRECTORIES: int = 50
    METRICS_TOKEN: str | None = None  # /metrics needs "Authorization: Bearer <token>"; required in production
    AUDIT_KEY: str | None = None  # keys the audit chain's MACs; derived from SECRET_KEY when unset
    AUDIT_CHECKPOINT_FILE: str | None = None  # where the chain's head is appended; <instance>/audit-checkpoints.log
    AUDIT_CHECKPOINT_SECONDS: int = 10  # how often the head is checkpointed (and logged) when it moved
    FAST_PATHS: bool = True  # the transport's speed patches to engineio/python-socketio (aict/realtime/transport/)
    ADMIN_USER: str | None = None
    ADMIN_PASSWORD: str | None = None
    TEST_HOOKS: bool = False  # the terminal page exposes window.aictTest to browser tests; refused in production
    TEST_CHEAP_PASSWORD_HASHES: bool = False  # test servers: hashes cost ~1 ms, not ~160; refused in production

    @property
    def audit_key(self) -> bytes:
        """AUDIT_KEY, or a key derived from SECRET_KEY: never stored in the database."""
        if self.AUDIT_KEY:
            return str(self.AUDIT_KEY).encode()
        return hmac.new(str(self.SECRET_KEY).encode(), b"aict audit chain", hashlib.sha256).digest()

    @property
    def node(self) -> str:
        return self.NODE or socket.gethostname()

    @property
    def terminal_host_socket(self) -> str:
        return self.TERMINAL_HOST or str(Path(self.INSTANCE_DIR) / "host.sock")

    @property
    def audit_checkpoint_file(self) -> Path:
        return Path(self.AUDIT_CHECKPOINT_FILE or Path(self.INSTANCE_DIR) / "audit-checkpoints.log")

    @classmethod
    def from_mapping(cls, values: dict) -> Settings:
        return cls(**{f.name: values[f.name] for f in fields(cls)})


DEFAULTS: dict[str, object] = {f.name: f.default_factory() if f.default is MISSING else f.default
                               for f in fields(Settings)}

_SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY", "ENCRYPTION_KEY", "DATABASE_URL", "ADMIN_PASSWORD",
                 "METRICS_TOKEN", "AUDIT_KEY")


def _coerce(raw: str, default: object) -> object:
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list):
        raw = raw.strip()
        return json.loads(raw) if raw.startswith("[") else [p.strip() for p in raw.split(",") if p.strip()]
    return raw


def current_settings() -> Settings:
    """The running app's settings (inside an app context)."""
    from flask import current_app

    return current_app.config["AICT"]


def load_settings(overrides: dict | None = None, environ: dict | None = None) -> dict:
    """Merge defaults, the config file (AICT_CONFIG or <instance>/config.py), AICT_* env, overrides."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    config_file = environ.get("AICT_CONFIG")
    instance = Path((overrides or {}).get("INSTANCE_DIR") or environ.get("AICT_INSTANCE_DIR")
                    or settings["INSTANCE_DIR"])
    candidate = Path(config_file) if config_file else instance / "config.py"
    if candidate.is_file():
        namespace: dict = {}
        exec(compile(candidate.read_text(), str(candidate), "exec"), namespace)
        settings.update({k: v for k, v in namespace.items() if k in DEFAULTS})
    for key, default in DEFAULTS.items():
        raw = environ.get(f"AICT_{key}")
        if raw is not None:
            settings[key] = _coerce(raw, default if default is not None else "")
    settings.update(overrides or {})
    settings["INSTANCE_DIR"] = str(instance if not (overrides or {}).get("INSTANCE_DIR")
                                   else overrides["INSTANCE_DIR"])
    return settings


def _persistent_secret(instance: Path, name: str, generate) -> str:
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    value = generate()
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:  # never readable by others
        out.write(value + "\n")
    return value


def flask_config(settings: dict) -> dict:
    """Translate aict settings into the Flask / extension configuration keys."""
    instance = Path(settings["INSTANCE_DIR"])
    instance.mkdir(parents=True, exist_ok=True)
    production = settings["ENV"] == "production"
    for name in ("SECRET_KEY", "ENCRYPTION_KEY"):
        if not settings[name]:
            if production:
                raise ConfigError(f"AICT_{name} must be set in production")
            generator = (lambda: secrets.token_urlsafe(48)) if name == "SECRET_KEY" else _fernet_key
            settings[name] = _persistent_secret(instance, name.lower(), generator)
    if production and settings["TEST_HOOKS"]:
        raise ConfigError("AICT_TEST_HOOKS is for browser tests: it hands the page's terminal to any script on it")
    if production and settings["TEST_CHEAP_PASSWORD_HASHES"]:
        raise ConfigError("AICT_TEST_CHEAP_PASSWORD_HASHES is for test servers: its hashes are cheap to guess")
    if production:
        _check_shell_account(settings)
    if production and len(str(settings["SECRET_KEY"])) < 32:
        raise ConfigError("AICT_SECRET_KEY is too short: use at least 32 random characters")
    # The reader may run one read (64 KiB) past a full window; the ring must still hold it all,
    # or a lone slow viewer would be skipped.
    if settings["RING_BYTES"] < max(settings["FLOW_WINDOW_BYTES"] * 2, settings["FLOW_WINDOW_BYTES"] + 64 * 1024):
        raise ConfigError("RING_BYTES must be at least twice FLOW_WINDOW_BYTES and 64 KiB more than it")
    if not 4 * 256 * 1024 <= settings["RECORDING_TAIL_BYTES"] < settings["RECORDING_MAX_BYTES"]:
        raise ConfigError("RECORDING_TAIL_BYTES must be at least 1 MiB and less than RECORDING_MAX_BYTES")
    if settings["RECORDING_RETENTION_DAYS"] < 0 or settings["RECORDING_PURGE_SECONDS"] <= 0:
        raise ConfigError("RECORDING_RETENTION_DAYS must be 0 (keep) or more, RECORDING_PURGE_SECONDS above 0")
    if settings["SSH_WATCH_POLL_SECONDS"] < 0.5 or settings["SSH_WATCH_MAX_DIRECTORIES"] < 0:
        raise ConfigError("SSH_WATCH_POLL_SECONDS must be at least 0.5, SSH_WATCH_MAX_DIRECTORIES 0 or more")
    database_url = settings["DATABASE_URL"] or f"sqlite:///{instance / 'aict.db'}"
    if settings["REDIS_URL"] and settings["RATELIMIT_STORAGE_URI"] == "memory://":
        settings["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"]
    return {
        "AICT": Settings.from_mapping(settings),
        "SECRET_KEY": settings["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url, settings),
        "JWT_SECRET_KEY": settings["JWT_SECRET_KEY"] or settings["SECRET_KEY"],
        "JWT_ALGORITHM": "HS256",
        "JWT_DECODE_ALGORITHMS": ["HS256"],
        "JWT_ACCESS_TOKEN_EXPIRES": (timedelta(seconds=settings["ACCESS_TOKEN_SECONDS"])
                                     if settings["ACCESS_TOKEN_SECONDS"] > 0
                                     else timedelta(minutes=settings["ACCESS_TOKEN_MINUTES"])),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=settings["REFRESH_TOKEN_DAYS"]),
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_ERROR_MESSAGE_KEY": "message",
        "RATELIMIT_STORAGE_URI": settings["RATELIMIT_STORAGE_URI"],
        "RATELIMIT_STORAGE_OPTIONS": _limit_storage_options(settings),
        # Off: Flask-Limiter would overwrite a login lock's Retry-After with the max of it and
        # the LOGIN_RATE window; api/errors.py sets Retry-After itself on every 429.
        "RATELIMIT_HEADERS_ENABLED": False,
        "MAX_CONTENT_LENGTH": 1 * MiB,
        "JSON_SORT_KEYS": False,
    }


def _limit_storage_options(settings: dict) -> dict:
    """Request limits and login throttling keep their counters under REDIS_PREFIX in Redis."""
    if settings["RATELIMIT_STORAGE_URI"].split(":", 1)[0].startswith(("redis", "valkey")):
        return {"key_prefix": f"{settings['REDIS_PREFIX']}:limits"}
    return {}


def _check_shell_account(settings: dict) -> None:
    """Production starts no shell as root or as the server's own account: a SHELL_ACCOUNT naming one
    of them, or no account at all, is refused at start (workspaces' own accounts when a shell starts)."""
    import pwd

    name = (settings["SHELL_ACCOUNT"] or "").strip()
    if not name:
        return  # no local shells at all until an account is assigned (SSH workspaces work)
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        raise ConfigError(f"AICT_SHELL_ACCOUNT names no account on this machine: {name!r} (create it with useradd)") \
            from None
    if uid == 0:
        raise ConfigError("AICT_SHELL_ACCOUNT is root: production starts no shell as root; name an account of "
                          "its own (useradd --system --create-home aict-shell)")
    if uid in (os.getuid(), os.geteuid()) or name == settings.get("WEB_ACCOUNT"):
        raise ConfigError(f"AICT_SHELL_ACCOUNT is {name}, the server's own account: its shells could read the "
                          f"server's secrets; name an account of its own")


def _engine_options(url: str, settings: dict) -> dict:
    """One pool shape for SQLite and PostgreSQL, sized for many greenlets (see aict/db_pool.py)."""
    pool = {"pool_size": settings["DB_POOL_SIZE"], "max_overflow": settings["DB_POOL_OVERFLOW"],
            "pool_timeout": settings["DB_POOL_TIMEOUT_SECONDS"]}
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            return {}  # one in-memory database per connection: SQLAlchemy's own single-connection pool
        return {"connect_args": {"timeout": 15}, **pool}
    return {"pool_pre_ping": True, "pool_recycle": 1800, **pool}


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def secret_environment_names() -> tuple[str, ...]:
    """Names whose values must never reach a child process's environment."""
    return tuple(f"AICT_{n}" for n in _SECRET_NAMES)
