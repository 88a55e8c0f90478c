"""Running one command as a child process: its wall time and the peak memory of its tree.

Wall time is `time.perf_counter()` around the child, ended by a blocking `os.wait4`.
Peak memory (when asked: sampling slows the child, so timed runs are not sampled) is the
largest sum of resident memory over the child and all its descendants (a process pool's
workers too), sampled every SAMPLE_SECONDS from /proc by a thread while the main thread
waits; it is never below the child's own `ru_maxrss` from `os.wait4`, which covers the
moments between samples for the top process. A sum of RSS counts the pages that forked
workers share with their parent once per process: the same samples also sum PSS
(/proc/<pid>/smaps_rollup, shared pages split between their users), which does not.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.02
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
RSS_METHOD = (f"measured in one more cold build (the timed builds are not sampled: reading "
              f"/proc every {int(SAMPLE_SECONDS * 1000)} ms slows them); peak RSS = max over the "
              "samples of the summed RSS of the build process and all its descendants "
              "(/proc/<pid>/stat), and at least its own ru_maxrss (os.wait4); peak PSS = the same "
              "samples summing Pss (/proc/<pid>/smaps_rollup), which counts pages shared by forked "
              "workers once")


@dataclass
class Run:
    """What one command did: exit code, wall seconds, peak tree RSS and PSS (KiB), stderr's end."""

    returncode: int
    seconds: float
    cpu_seconds: float  # user + system time of the process and its waited-for descendants
    peak_rss_kib: int
    peak_pss_kib: int
    stderr_tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run(cmd: list[str], cwd: Path, log: Path, timeout: int = 1800, sample_memory: bool = False) -> Run:
    """Run `cmd` in `cwd` to its end (killed after `timeout` s), its stderr going to `log`.
    Unless `sample_memory`, the peaks are the child's own ru_maxrss and PSS is 0."""
    with open(log, "wb") as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=stderr)
        sampler = _Sampler(child.pid) if sample_memory else _NoSampler()
        sampler.start()
        timer = threading.Timer(timeout, child.kill)
        timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
        sampler.stop()
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting
    tail = log.read_text(errors="replace")[-2000:]
    return Run(child.returncode, seconds, usage.ru_utime + usage.ru_stime,
               max(sampler.peak_rss_kib, usage.ru_maxrss), sampler.peak_pss_kib, tail)


def tree_memory_kib(root: int) -> tuple[int, int]:
    """Summed RSS and PSS (KiB) of process `root` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # the process ended meanwhile
            continue
        fields = stat[stat.rindex(b")") + 2:].split()  # after "pid (comm) "
        pid, ppid = int(name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * PAGE_KIB
    total_rss = total_pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        total_rss += rss.get(pid, 0)
        total_pss += _pss_kib(pid)
        stack.extend(children.get(pid, ()))
    return total_rss, total_pss


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class _NoSampler:
    peak_rss_kib = peak_pss_kib = 0

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class _Sampler(threading.Thread):
    """Samples `tree_memory_kib(pid)` until stopped; keeps the largest values."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_rss_kib = self.peak_pss_kib = 0
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            rss, pss = tree_memory_kib(self.pid)
            self.peak_rss_kib = max(self.peak_rss_kib, rss)
            self.peak_pss_kib = max(self.peak_pss_kib, pss)
            self._stopped.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below `folder`: relative path -> (inode, mtime in ns)."""
    files = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            st = os.stat(path)
            files[os.path.relpath(path, folder)] = (st.st_ino, st.st_mtime_ns)
    return files


def files_written(before: dict, after: dict) -> int:
    """How many files were created, replaced, touched or removed between two snapshots."""
    changed = sum(1 for path, ident in after.items() if before.get(path) != ident)
    return changed + sum(1 for path in before if path not in after)
