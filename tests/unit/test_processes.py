"""aict.terminals.processes against real processes on a real PTY."""

from __future__ import annotations

import os
import pty
import subprocess
import time

import psutil

from aict.terminals import processes


def _shell_on_a_pty(script: str) -> tuple[subprocess.Popen, int]:
    """sh running `script` as the session leader of a new PTY (as the backend starts shells)."""
    master, slave = pty.openpty()
    name = os.ttyname(slave)
    # setsid, then opening the PTY by name makes it the controlling terminal; `exec sh` keeps the pid
    proc = subprocess.Popen(["setsid", "sh", "-c", f'exec sh -c "$0" < {name} > {name} 2>&1', script],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(slave)
    return proc, master


def _wait(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("not met in time")


def test_a_shells_tree_and_its_foreground_job():
    # sh -i has job control: `sleep 7 | cat` runs in a foreground group of its own
    proc, master = _shell_on_a_pty("set -m; sleep 7 | cat; sleep 8")
    try:
        sampler = processes.TreeSampler(proc.pid, lambda: master)
        def job_started():  # both forked and both exec'd (a child not yet exec'd still shows as the shell)
            sample = sampler.sample()
            commands = sorted(processes.command_of(p.pid) for p in sample.processes[1:])
            return sample if commands == ["cat", "sleep 7"] else None

        sample = _wait(job_started)
        assert sample.processes[0].pid == proc.pid and len(sample.processes) == 3
        assert sample.foreground_command in ("sleep 7", "cat")  # the job's group; its leader is the first member
        assert sample.foreground_pid != proc.pid
        assert sample.rss_bytes == sum(p.rss_bytes for p in sample.processes) > 0
        assert all(value == 0.0 for value in sample.cpu.values())  # the first sample has nothing to compare
    finally:
        proc.kill()
        os.close(master)


def test_cpu_is_the_time_used_since_the_previous_sample():
    proc, master = _shell_on_a_pty("i=0; while [ $i -lt 100000000 ]; do i=$((i+1)); done")
    try:
        sampler = processes.TreeSampler(proc.pid, lambda: master)
        reference = psutil.Process(proc.pid)
        sampler.sample()
        reference.cpu_percent()
        time.sleep(1)
        busy = sampler.sample()
        # one process spinning: up to one CPU, less on a machine busy with other work; as psutil measures it
        assert 5 < busy.cpu_percent <= 110, busy.cpu
        assert abs(busy.cpu_percent - reference.cpu_percent()) < 15, busy.cpu
    finally:
        proc.kill()
        os.close(master)


def test_a_gone_process_and_a_closed_terminal_give_nothing():
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert processes.read_proc(proc.pid) is None
    assert processes.tree(proc.pid) == []
    assert processes.command_of(proc.pid) is None
    assert processes.foreground_group(-1) is None
    sample = processes.TreeSampler(proc.pid, lambda: -1).sample()
    assert sample.processes == [] and sample.foreground_pid is None and sample.cpu_percent == 0


def test_a_command_name_with_spaces_and_parentheses_is_parsed():
    script = 'exec -a "x) (y" sleep 5'
    proc = subprocess.Popen(["bash", "-c", script])
    try:
        _wait(lambda: processes.command_of(proc.pid) == "x) (y 5")
        info = processes.read_proc(proc.pid)
        assert info is not None and info.ppid == os.getpid()
        assert processes.started_at(info).endswith("Z")
    finally:
        proc.kill()
        proc.wait()
