# aict configuration example.
#
# Copy to instance/config.py (or point AICT_CONFIG at it) and change what you need.
# Every setting can also come from the environment as AICT_<NAME> (e.g. AICT_PORT=9000);
# the environment wins over this file. Lists in the environment are comma-separated or JSON.

# --- running ------------------------------------------------------------------------------
ENV = "production"            # "development" generates missing secrets into instance/;
                              # "production" refuses to start without them
HOST = "127.0.0.1"            # listen address (make run / python wsgi.py / gunicorn.conf.py)
PORT = 8080
NODE = None                   # this node's name (its terminal host's, in session records); the hostname
TERMINAL_HOST = None          # the terminal host's Unix socket; <instance>/host.sock
HOST_CHILD = True             # `python wsgi.py` / gunicorn start the terminal host as a child unless one
                              # already answers on TERMINAL_HOST; False: connect to one started apart
                              # (`python host.py`, deploy/systemd/aict-host.service)
WEB_ACCOUNT = None            # the OS account web processes run as, when not the host's: it may connect
NODE_LEASE_SECONDS = 30       # with REDIS_URL (several nodes): a dead node's terminals are recorded as
                              # ended this long after its host stopped renewing its lease
INSTANCE_DIR = "instance"     # SQLite database, generated secrets, workspaces (env: AICT_INSTANCE_DIR)
TRUSTED_PROXIES = 0           # number of reverse proxies whose X-Forwarded-For/Proto/Host are trusted
                              # (1 behind nginx); the socket Origin check uses the forwarded host, and a
                              # request the proxy says came over HTTPS gets HSTS (below). 0: none trusted
HSTS_SECONDS = 31536000       # Strict-Transport-Security max-age sent on responses to HTTPS requests (served
                              # over TLS, or forwarded as https by a trusted proxy); 0 sends none

# --- secrets (set all three in production; never commit them) -------------------------------
# Flask key; make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"
SECRET_KEY = "change-me-to-48-random-characters"
JWT_SECRET_KEY = None         # signs access/refresh tokens (HS256); defaults to SECRET_KEY
# Encrypts stored SSH credentials: Fernet keys, comma-separated, newest first (rotation). Make one with:
# python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
ENCRYPTION_KEY = None

# --- database -------------------------------------------------------------------------------
DATABASE_URL = None           # default sqlite:///<instance>/aict.db;
                              # production: "postgresql+psycopg://aict:password@db.example.com/aict"
# Connections are held only while queries run, never across a wait (a process ending, an SSH
# login, a password hash), so a few serve thousands of greenlets.
DB_POOL_SIZE = 10             # connections kept open per process
DB_POOL_OVERFLOW = 20         # extra connections opened in a burst, closed once returned
DB_POOL_TIMEOUT_SECONDS = 3   # with every connection in use, wait this long, then answer 503 database_busy
DB_HOLD_WARN_SECONDS = 1.0    # log (with where it waits) any connection held longer than this

# --- several web processes ------------------------------------------------------------------
REDIS_URL = None              # "redis://:PASSWORD@127.0.0.1:6379/0": shared by every web process (Socket.IO
                              # message queue, logouts reaching every socket at once, request limits, login
                              # throttling, host-key offers, other nodes' hosts); None: one process, all of
                              # it in memory. With a password: production refuses a Redis that answers anyone
                              # (every account of the machine reaches it, workspaces' shells too)
REDIS_PREFIX = "aict"         # every key and channel aict uses in Redis starts with it: one per deployment

# --- first admin (make run) ------------------------------------------------------------------
ADMIN_USER = None             # default "admin"
ADMIN_PASSWORD = None         # default: a generated password, printed once

# --- tokens and logins -----------------------------------------------------------------------
ACCESS_TOKEN_MINUTES = 15           # the page renews its token (and its sockets') before it ends
ACCESS_TOKEN_SECONDS = 0            # above 0: the access token lifetime in seconds instead (for testing clients)
REFRESH_TOKEN_DAYS = 7              # a login lasts this long from the password; its refresh token rotates on each use
RATELIMIT_STORAGE_URI = "memory://"   # REDIS_URL when that is set; another "redis://..." to keep limits apart
LOGIN_RATE = "30 per minute"          # login requests per IP, whatever their outcome
LOGIN_USER_FAILURES = 5               # failures of one username within the window lock it...
LOGIN_IP_FAILURES = 20                # ...failures from one IP within the window block the IP...
LOGIN_WINDOW_SECONDS = 900
LOGIN_LOCK_SECONDS = 900              # ...for this long (refused attempts do not extend it)
API_RATE_PER_IP = "3600 per minute"    # requests to /api/* per client IP, all endpoints together ("" for none);
                                      # past it: 429 throttled with Retry-After, and a (rate-limited) audit event
API_RATE_PER_USER = "1800 per minute"  # the same per logged-in user, from whatever address ("" for none)
TRUSTED_DEVICE_DAYS = 90              # a browser that logged in before gets past its user's username lock
REQUIRE_TOTP_FOR_ADMINS = False       # True: an admin without TOTP may only enrol it (account page), see
                                      # /api/me and log out; every other request is 403 totp_required
                                      # and their sockets are refused until they have confirmed a code
SOCKET_EVENT_RATE = "300 per second"  # events per connection, counted in its own process (terminal-ack is not counted)
ALLOWED_ORIGINS = []                  # extra browser origins allowed to open sockets, e.g. ["https://ops.example.com"]

# --- local workspaces ------------------------------------------------------------------------
SHELL = "/bin/bash"                   # login shell for local terminals
SHELL_ARGS = ["-l"]
# The OS account local shells run as (an existing account: useradd; aict creates none). Unset: the
# server's own account, and local workspaces are then for admins only (their shells could read the
# server's secrets); production starts no shell as root or as the server's account. An admin may
# give a workspace its own account (shell_account in the workspace API).
SHELL_ACCOUNT = None
USER_LOCAL_WORKSPACES = False         # let non-admins create local workspaces (under WORKSPACE_ROOT only)
WORKSPACE_ROOT = None                 # default <instance>/workspaces
WATCH_PYTHON = None                   # the Python watching workspaces (live git status), run as the shell
                                      # accounts: they must be able to run it; default the server's own

# --- files (upload and download in a workspace) ---------------------------------------------------
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # largest file uploaded; above it: 413, nothing is kept
# The interpreter the terminal host runs a local workspace's files worker on, as its shell account
# (the worker needs Python 3.8+ and its standard library only). None: /usr/bin/python3 when the account
# differs from the host's (the server's own interpreter may sit where the account cannot go), else the
# host's own.
FILES_PYTHON = None

# --- sessions and the output stream ----------------------------------------------------------
RING_BYTES = 4 * 1024 * 1024          # output kept per session for replay (at least 2x the window)
FLOW_WINDOW_BYTES = 2 * 1024 * 1024   # unacknowledged output in flight per socket
COALESCE_MS = 8                       # output that keeps coming gathers this long into one frame
STREAM_COALESCE_MS = 16               # the same while a stream runs (its last frame carried 64 KiB or more)
MAX_INPUT_BYTES = 1024 * 1024         # largest terminal-input event (pages split bigger pastes)
MAX_MESSAGE_BYTES = 8 * 1024 * 1024   # transport limit for one socket message
FAST_PATHS = True                     # the transport's patches to engineio and python-socketio internals
                                      # (aict/realtime/transport/): faster keystrokes and output. They are
                                      # checked at start-up against the library versions they were written
                                      # for, and the server refuses to start on any other; False runs the
                                      # libraries' own code: the same socket contract, slower (an echo
                                      # ~0.9 ms), and no version check
IDLE_TIMEOUT_SECONDS = 24 * 3600      # a session with no socket attached is ended after this (0: never)
EXITED_RETENTION_SECONDS = 1800       # an exited session's output stays attachable this long
MAX_SESSIONS_PER_USER = 50            # running terminals per user
PROCESS_SAMPLE_SECONDS = 1.0          # how often the terminals someone looks at are sampled for their
                                      # foreground program, CPU and memory (terminal-process); 0: never
RECORDING_MAX_BYTES = 1024 * 1024 * 1024  # output a terminal's recording keeps whole (compressed in the
                                      # database, served as asciicast); past it, its first
                                      # RECORDING_MAX_BYTES - RECORDING_TAIL_BYTES and its most recent
                                      # RECORDING_TAIL_BYTES, with a note between saying how much is missing
RECORDING_TAIL_BYTES = 256 * 1024 * 1024  # the most recent output kept past RECORDING_MAX_BYTES (1 MiB or more,
                                      # less than RECORDING_MAX_BYTES)
RECORDING_RETENTION_DAYS = 365        # recordings of terminals that ended this many days ago are deleted
                                      # (by the terminal host, and `flask aict purge-recordings`); 0: kept forever
RECORDING_PURGE_SECONDS = 24 * 3600   # how often the terminal host purges old recordings (first: a minute
                                      # after it starts)
RECORDING_BACKLOG_BYTES = 2 * 1024 * 1024  # output recorded but not yet stored, per session: past it the
                                      # terminal is not read (its program waits) until the database
                                      # has caught up; bounds memory when many terminals flood at once

# --- SSH workspaces --------------------------------------------------------------------------
SSH_CONNECT_TIMEOUT = 10              # seconds for TCP connect + key exchange + authentication
SSH_KEEPALIVE_SECONDS = 15            # keepalive interval; dead links are detected and reported
SSH_ALLOWED_HOSTS = []                # fnmatch patterns non-admins may target, e.g. ["*.lab.example.com"];
                                      # never this server, loopback, link-local or cloud metadata addresses
                                      # (aict/ssh/targets.py), whatever the patterns say
SSH_WATCH_POLL_SECONDS = 2.0          # a watched SSH workspace (a page open on it) lists its home directory
                                      # over SFTP this often for file-change events (one connection per
                                      # workspace, whoever watches); git status runs when the listing changed
SSH_WATCH_MAX_DIRECTORIES = 50        # folders listed per poll, breadth first, two levels deep, dot-folders
                                      # not entered; 0: no file-change events for SSH, git status alone

# --- monitoring ------------------------------------------------------------------------------
METRICS_TOKEN = None                  # when set, /metrics needs "Authorization: Bearer <token>"; with
                                      # ENV = "production" it must be set: /metrics is never served open there

# --- Audit log -------------------------------------------------------------------------------
AUDIT_KEY = None                      # the key of the audit chain's MACs (keep it with the other
                                      # secrets, never in the database): `python -c "import secrets;
                                      # print(secrets.token_urlsafe(48))"`. Unset: derived from
                                      # SECRET_KEY (then rotating SECRET_KEY breaks verification of
                                      # the events before it: set AUDIT_KEY in production)
AUDIT_CHECKPOINT_FILE = None          # the chain's head is appended here (and logged) so that events
                                      # cut off the end are found; default <instance>/audit-checkpoints.log.
                                      # Put it where the database's writers cannot rewrite it
                                      # (chattr +a, another host's syslog)
AUDIT_CHECKPOINT_SECONDS = 10         # how often the head is checkpointed when it has moved

# --- tests -----------------------------------------------------------------------------------
TEST_HOOKS = False                    # the terminal page hands its terminal to browser tests (window.aictTest);
                                      # for test servers only: refused when ENV is "production"
TEST_CHEAP_PASSWORD_HASHES = False    # new password hashes cost ~1 ms of CPU instead of ~160 (scrypt n=128, not
                                      # 32768): a test run's thousands of logins; refused when ENV is "production"
