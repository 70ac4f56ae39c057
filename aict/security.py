"""HTTP response hardening: a strict Content-Security-Policy and friends on every response.

Scripts, styles and connections come from this origin only: `connect-src 'self'` covers the
page's own websocket (ws: and wss: to the same host and port), and no inline style is allowed.
The one exception is a per-response nonce for <style> elements: xterm.js's DOM renderer writes
its theme and cell sizes into <style> elements it creates, and the page's script gives those
the nonce (static/src/lib/style-nonce.js); markup injected into a page cannot know it.
"""

from __future__ import annotations

import secrets

from flask import Flask, g, request

from aict.config import current_settings

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'nonce-{nonce}'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
# The replay page's player (asciinema-player) emulates the terminal in WebAssembly, which a page may
# compile only under 'wasm-unsafe-eval'. That allows compiling WebAssembly from this origin's
# scripts, never eval() of JavaScript; only that page gets it.
# A page asks for it with `g.csp_allow_wasm = True` (aict/web).
CSP_WASM = CSP + "; script-src 'self' 'wasm-unsafe-eval'"


def style_nonce() -> str:
    """This response's nonce for <style> elements (made on first use)."""
    if "style_nonce" not in g:
        g.style_nonce = secrets.token_urlsafe(18)
    return g.style_nonce


def register(app: Flask) -> None:
    app.context_processor(lambda: {"style_nonce": style_nonce})

    @app.after_request
    def _headers(response):
        policy = CSP_WASM if g.get("csp_allow_wasm") else CSP
        response.headers.setdefault("Content-Security-Policy", policy.format(nonce=style_nonce()))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        hsts = current_settings().HSTS_SECONDS
        if hsts > 0 and request.is_secure:  # TLS here, or forwarded as https by a trusted proxy
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        if response.mimetype == "application/json":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
