"""Shared helpers of the benchmarks: run a command and measure what its whole process tree costs.

`run_measured` starts a command, samples the resident memory of the process and all of its
descendants (from /proc, every 10-50 ms) and reaps it with `os.wait4`, whose rusage counts the CPU of the
child and of every descendant it waited for. So one call gives wall seconds, client CPU seconds
(user + sys of the tree) and peak RSS (the largest sampled sum over the tree, never below the
kernel's max RSS of the largest single process).

Two traps: a child forked from this (large) Python reports the parent's pages until it execs, and
the kernel carries that pre-exec high-water mark into the child's `ru_maxrss`. So samples are
taken only once the child has exec'd, and the kernel figure comes from `/usr/bin/time` (a small
C program) wrapped around the command when it is installed.
It also reports how much CPU the rest of the machine used meanwhile (`other_cpu_s`): on a shared
machine that says whether a figure was taken on a quiet or a busy box.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

MB = 1024 * 1024


@dataclass(frozen=True)
class Measured:
    """What one command cost: wall and CPU seconds, peak memory of its process tree, exit code."""

    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    peak_single_rss_mb: float
    peak_at_s: float  # seconds after start when the sampled tree RSS peaked
    n_processes: int
    other_cpu_s: float
    stdout: str
    stderr: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def other_load(self) -> float:
        """Share of the machine's cores busy with other processes during the run (0..1)."""
        cores = os.cpu_count() or 1
        return self.other_cpu_s / (self.wall_s * cores) if self.wall_s else 0.0

    def check(self) -> Measured:
        if self.returncode != 0:
            tail = "\n".join((self.stderr or self.stdout).splitlines()[-30:])
            raise RuntimeError(
                f"command failed with exit code {self.returncode}: {' '.join(self.argv)}\n{tail}"
            )
        return self


class _TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants until stopped.

    Reads /proc directly (each thread's `children` list, `statm`): psutil's `children()` scans
    every process on the machine, which cost a tenth of a core at this sampling rate.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_bytes = 0
        self.peak_at = 0.0
        self.started = time.perf_counter()
        self.peak_single_bytes = 0
        self.seen: set[int] = set()
        self._stop_event = threading.Event()
        self._own_cmdline = _read_bytes(f"/proc/{os.getpid()}/cmdline")
        self._execed = False

    def _tree(self) -> list[int]:
        pids, stack = [], [self.pid]
        while stack:
            pid = stack.pop()
            pids.append(pid)
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tids:
                children = _read_bytes(f"/proc/{pid}/task/{tid}/children")
                stack.extend(int(c) for c in children.split())
        return pids

    def _sample(self) -> None:
        if not self._execed:
            # Until exec the child is a copy of this process: its RSS is ours, not the tool's.
            cmdline = _read_bytes(f"/proc/{self.pid}/cmdline")
            if not cmdline or cmdline == self._own_cmdline:
                return
            self._execed = True
        total = 0
        for pid in self._tree():
            statm = _read_bytes(f"/proc/{pid}/statm").split()
            if len(statm) < 2:
                continue
            rss = int(statm[1]) * PAGE_SIZE
            self.seen.add(pid)
            total += rss
            self.peak_single_bytes = max(self.peak_single_bytes, rss)
        if total > self.peak_bytes:
            self.peak_bytes = total
            self.peak_at = time.perf_counter() - self.started

    def run(self) -> None:
        while not self._stop_event.is_set():
            self._sample()
            # Dense sampling while start-up memory moves fast, then every 50 ms.
            elapsed = time.perf_counter() - self.started
            self._stop_event.wait(0.01 if elapsed < 2 else 0.05)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def run_measured(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
    stdout_path: Path | None = None,
    stderr_path: Path | None = None,
) -> Measured:
    """Run `argv` to completion and measure wall, CPU (user+sys) and peak RSS of its process tree.

    Output goes to the given files (or to temporary ones) so a chatty child never blocks on a pipe;
    the text is returned in the result. On timeout the whole process group is killed.
    """
    import tempfile

    argv = tuple(str(a) for a in argv)
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        out_path = stdout_path or Path(tmp) / "stdout"
        err_path = stderr_path or Path(tmp) / "stderr"
        time_path = Path(tmp) / "maxrss"
        launch = argv
        if os.access(GNU_TIME, os.X_OK):
            launch = (GNU_TIME, "-f", "%M", "-o", str(time_path), *argv)
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            busy_before = _machine_busy_s()
            started = time.perf_counter()
            proc = subprocess.Popen(
                launch,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
            sampler = _TreeSampler(proc.pid)
            sampler.start()
            deadline = None if timeout_s is None else started + timeout_s
            status, rusage = _wait4(proc.pid, deadline)
            wall = time.perf_counter() - started
            busy_after = _machine_busy_s()
            sampler.stop()
        # Popen must not wait for a pid we already reaped.
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = Path(out_path).read_text(errors="replace")
        stderr = Path(err_path).read_text(errors="replace")
        # GNU time's %M: max RSS in KiB of the largest single process below it (children reaped).
        kernel_single = _last_int(time_path) * 1024
    tree_cpu = rusage.ru_utime + rusage.ru_stime
    return Measured(
        argv=argv,
        returncode=proc.returncode,
        wall_s=wall,
        user_s=rusage.ru_utime,
        sys_s=rusage.ru_stime,
        peak_rss_mb=max(sampler.peak_bytes, kernel_single) / MB,
        peak_single_rss_mb=max(sampler.peak_single_bytes, kernel_single) / MB,
        peak_at_s=sampler.peak_at,
        n_processes=max(len(sampler.seen) - (1 if launch is not argv else 0), 1),
        other_cpu_s=max(0.0, (busy_after - busy_before) - tree_cpu - sampler_cpu_allowance(wall)),
        stdout=stdout,
        stderr=stderr,
    )


GNU_TIME = "/usr/bin/time"


def _last_int(path: Path) -> int:
    try:
        lines = path.read_text().split()
    except OSError:
        return 0
    for token in reversed(lines):
        if token.isdigit():
            return int(token)
    return 0


def _machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores, idle and iowait excluded)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def sampler_cpu_allowance(wall_s: float) -> float:
    """The RSS sampler's own CPU (a few percent of one core), not counted as someone else's load."""
    return 0.02 * wall_s


def wait_for_quiet_machine(
    max_wait_s: float, busy_share: float = 0.25, window_s: float = 2.0
) -> float:
    """Wait (at most `max_wait_s`) until other processes use less than `busy_share` of the cores.

    Returns the busy share measured last, so callers can note a run taken on a busy machine.
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        share = psutil.cpu_percent(interval=window_s) / 100.0
        if share < busy_share or time.monotonic() >= deadline:
            return share


def _wait4(pid: int, deadline: float | None):
    if deadline is None:
        _, status, rusage = os.wait4(pid, 0)
        return status, rusage
    while True:
        waited, status, rusage = os.wait4(pid, os.WNOHANG)
        if waited == pid:
            return status, rusage
        if time.perf_counter() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _, status, rusage = os.wait4(pid, 0)
            return status, rusage
        time.sleep(0.01)


def run_text(argv: Sequence[str], timeout_s: float = 30) -> str:
    """Run a short command and return its stdout+stderr stripped ('' when it cannot run)."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return (done.stdout + done.stderr).strip()


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return float("nan")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def machine_description() -> dict[str, str]:
    """nproc, CPU model, memory, kernel and Python: printed beside every results table."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = psutil.virtual_memory().total / (1024**3)
    return {
        "nproc": str(os.cpu_count() or "?"),
        "cpu": cpu_model or platform.processor() or "?",
        "memory": f"{mem_gib:.1f} GiB",
        "kernel": platform.release(),
        "os": _os_name(),
        "python": platform.python_version(),
    }


def _os_name() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return platform.system()
    match = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', text, re.M)
    return match.group(1) if match else platform.system()


def debian_package_version(name: str) -> str:
    if not shutil.which("dpkg-query"):
        return "?"
    return run_text(["dpkg-query", "-W", "-f=${Version}", name]) or "?"


def replace_markdown_section(path: Path, heading: str, body: str, title: str) -> None:
    """Replace the `heading` section (up to the next heading of the same level) or append it.

    Other sections of the file are left byte for byte as they are, so several benchmarks can each
    own one section of the same document.
    """
    level = len(heading) - len(heading.lstrip("#"))
    section = f"{heading}\n\n{body.strip()}\n"
    text = path.read_text() if path.exists() else f"{title}\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        new_text = text.rstrip("\n") + "\n\n" + section
    else:
        end = len(lines)
        in_fence = False
        for i in range(start + 1, len(lines)):
            stripped = lines[i].lstrip()
            if stripped.startswith(("```", "~~~")):
                in_fence = not in_fence
            if not in_fence and stripped.startswith("#"):
                hashes = len(stripped) - len(stripped.lstrip("#"))
                if hashes <= level and stripped[hashes : hashes + 1] == " ":
                    end = i
                    break
        before = "".join(lines[:start])
        after = "".join(lines[end:])
        new_text = before + section + ("\n" + after if after else "")
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(new_text)
    tmp.replace(path)
