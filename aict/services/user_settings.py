"""A user's page settings (GET/PUT /api/me/settings): what may be set, checked, stored, answered.

The page applies them to every terminal it shows (static/src/terminal-page/settings.js names the
same keys). Every key has a default, so a user who never saved any gets a complete answer, and a
value this server no longer offers (a font taken off the list) falls back to its default."""

from __future__ import annotations

from aict.errors import AppError, bad_request
from aict.extensions import db
from aict.models import User, UserSettings

THEMES = ("dark", "light", "system")
# A short list of monospace fonts: the page names each in its font stack before fallbacks, so one
# the browser lacks shows in the next. "monospace" is the browser's own choice.
FONT_FAMILIES = ("DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", "Ubuntu Mono", "Fira Code", "monospace")
CURSOR_STYLES = ("block", "underline", "bar")
FONT_SIZES = (8, 32)
# xterm keeps every scrollback row in memory (a 200-column row takes some kilobytes): bounded, so
# that a page with several panes stays usable.
SCROLLBACK_LINES = (0, 50_000)
# Predictive local echo (static/src/session/prediction.js): "auto" predicts once the measured round
# trip reaches 80 ms.
LOCAL_ECHO = ("auto", "always", "off")

DEFAULTS = {"theme": "dark", "font_size": 14, "font_family": "DejaVu Sans Mono", "scrollback": 5000,
            "cursor_style": "block", "cursor_blink": False, "local_echo": "auto"}


def _choice(options: tuple[str, ...]):
    def check(name: str, value: object) -> str:
        if value not in options:
            raise bad_request(f"'{name}' must be one of: {', '.join(options)}.")
        return value
    return check


def _boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"'{name}' must be true or false.")
    return value


def _whole_number(bounds: tuple[int, int]):
    low, high = bounds

    def check(name: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad_request(f"'{name}' must be a whole number from {low} to {high}.")
        return value
    return check


CHECKS = {
    "theme": _choice(THEMES),
    "font_size": _whole_number(FONT_SIZES),
    "font_family": _choice(FONT_FAMILIES),
    "scrollback": _whole_number(SCROLLBACK_LINES),
    "cursor_style": _choice(CURSOR_STYLES),
    # Off by default: a blinking cursor costs every keystroke's echo a frame (docs/performance.md).
    "cursor_blink": _boolean,
    "local_echo": _choice(LOCAL_ECHO),
}


def checked(body: dict) -> dict:
    """The settings `body` asks for, every key checked; keys left out take their defaults. Unknown
    keys and bad values are 400 with a sentence naming the key."""
    unknown = sorted(set(body) - set(CHECKS))
    if unknown:
        raise bad_request(f"Unknown setting(s): {', '.join(unknown)}. Known: {', '.join(CHECKS)}.")
    return {name: check(name, body[name]) if name in body else DEFAULTS[name] for name, check in CHECKS.items()}


def _usable(stored: dict | None) -> dict:
    """Stored values that are still valid, the defaults for the rest."""
    settings = dict(DEFAULTS)
    for name, value in (stored or {}).items():
        check = CHECKS.get(name)
        if check is None:
            continue  # a setting this server no longer has
        try:
            settings[name] = check(name, value)
        except AppError:
            continue  # a value it no longer offers: the default
    return settings


def settings_of(user: User) -> dict:
    row = db.session.get(UserSettings, user.id)
    return _usable(row.settings if row else None)


def replace_settings(user: User, body: dict) -> dict:
    """Store `body` (checked) as the user's settings; answers them."""
    settings = checked(body)
    row = db.session.get(UserSettings, user.id)
    if row is None:
        db.session.add(UserSettings(user_id=user.id, settings=settings))
    else:
        row.settings = settings
    db.session.commit()
    return settings
