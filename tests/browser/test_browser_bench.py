"""The browser benchmark (bench/browser.py, `make bench`) at CI's size: it runs against the real
page and bare xterm.js, and what it measures is there and sane. Its speeds are the bench's
business, printed as a table: nothing here is timed."""

from __future__ import annotations

import math

import pytest

from bench import browser as bench_browser
from bench import main as bench_main


@pytest.fixture
def small_bench(monkeypatch):
    monkeypatch.setattr(bench_browser, "KEYS", 4)
    monkeypatch.setattr(bench_browser, "ROUNDS", 2)
    monkeypatch.setattr(bench_browser, "SEQ", 20_000)
    monkeypatch.setattr(bench_browser, "ECHO_SAMPLES", 10)
    monkeypatch.setattr(bench_browser, "RENDERERS", ["dom"])
    monkeypatch.setattr(bench_browser, "BASELINE", None)
    # The aict page drawing from memory; not terminado, whose venv `make bench` installs from the registry.
    monkeypatch.setattr(bench_browser, "EXTRAS", ["memory"])
    procs = bench_main.Processes()
    yield procs
    procs.cleanup()


def test_browser_bench_measures_the_page_and_bare_xterm(small_bench, tmp_path):
    results = bench_browser.measure(bench_main, small_bench, tmp_path, say=lambda _: None)

    aict, memory, bare = results.contenders
    assert (aict.kind, memory.kind, bare.kind) == ("aict", "aict-memory", "bare")
    assert memory.page is aict.page  # the aict page itself, its bytes written from memory
    assert aict.active_renderer == memory.active_renderer == bare.active_renderer == "dom"  # headless, no GPU
    cols, rows = (int(n) for n in results.size.split("×"))  # the aict page's terminal, given to bare xterm.js
    assert cols >= 80 and rows >= 20, results.size
    assert memory.keys_ms == []  # the aict page's keys go to its server: timed as aict's
    for c in (aict, memory, bare):
        assert len(c.keys_ms) == (0 if c is memory else 4), c  # every key typed showed on screen, and was timed
        assert all(0 < ms < 10_000 for ms in c.keys_ms), c.keys_ms
        assert len(c.mb_per_s) == 2 and all(rate > 0 and math.isfinite(rate) for rate in c.mb_per_s), c.mb_per_s
        assert all(cpu > 0 for cpu in c.cpu_ms_per_mb), c.cpu_ms_per_mb  # Chromium's processes were found
        assert all(frame >= 0 for frame in c.longest_frame_ms), c.longest_frame_ms
        assert all(draws > 0 for draws in c.renders_per_mb), c.renders_per_mb  # the flood was drawn, and counted
    assert results.echo_ms and all(ms > 0 for ms in results.echo_ms)
    # the same flood read from the server without a page, once a round
    alone = results.server_mb_per_s
    assert len(alone) == 2 and all(rate > 0 and math.isfinite(rate) for rate in alone), alone

    table = bench_browser.table(results)
    assert "| Keystroke → character on screen" in table and "bare xterm.js" in table
    assert "nan" not in table
    assert "| aict page, bytes from memory |" in table.splitlines()[0]
    assert "The aict page's own drawing (dom), bare xterm.js's bytes written into its xterm from memory" in table
    assert "The same flood from the same server to a Python client" in table and "(the server alone:" in table
