"""`build.py serve`: build the site, serve it on localhost, rebuild when a source changes.

Content, template, static and translation edits are rebuilt in this process (an
incremental build renders only what the edit touched), which keeps what one build leaves
for the next in memory (``pipeline.Kept``) and writes its records back when it stops. An
edit of ``portal/policy.py`` or ``portal/terms.toml`` restarts the process, because the
Terms are Python code.
"""

from __future__ import annotations

import functools
import http.server
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from portal import policy
from translations.catalog import TRANSLATIONS
from sitegen.options import Options
from sitegen.pipeline import Kept, build
from sitegen.problems import BuildFailed

POLICY_MODULE = Path(policy.__file__)
SETTLE_SECONDS = 0.02  # editors write a file in several steps; wait for the last one


def serve(options: Options, host: str, port: int, now_fixed: bool = False) -> None:
    kept = Kept(held={})
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C: the records are written back
    _rebuild(options, now_fixed, kept)
    server = http.server.ThreadingHTTPServer((host, port), functools.partial(SiteHandler, directory=str(options.out)))
    watched = [options.content, options.beside_content("templates"), options.beside_content("static"), TRANSLATIONS]
    rebuilder = Rebuilder(options, now_fixed, kept)
    observer = Observer()
    for folder in watched:
        if folder.exists():
            observer.schedule(rebuilder, str(folder), recursive=True)
    observer.schedule(rebuilder, str(POLICY_MODULE.parent), recursive=False)
    observer.start()
    print(f"serving the policy site on http://{host}:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        server.server_close()
        with rebuilder.building:
            kept.close()


def _rebuild(options: Options, now_fixed: bool, kept: Kept) -> None:
    current = options if now_fixed else replace(options, now=datetime.now(timezone.utc))
    try:
        print(build(current, kept), flush=True)
    except BuildFailed as failed:
        for problem in failed.problems:
            print(problem, file=sys.stderr, flush=True)
        print("build failed; still serving the previous site", file=sys.stderr, flush=True)
    except Exception:  # a bug: said, and the next edit is built again, from what is on the disk
        traceback.print_exc()
        kept.close()
        print("build failed (a bug in the generator); still serving the previous site", file=sys.stderr, flush=True)


class Rebuilder(FileSystemEventHandler):
    """Coalesces bursts of file events into one rebuild."""

    def __init__(self, options: Options, now_fixed: bool, kept: Kept):
        self.options = options
        self.now_fixed = now_fixed
        self.kept = kept
        self.pending = threading.Event()
        self.building = threading.Lock()  # held while a rebuild runs
        threading.Thread(target=self._loop, daemon=True).start()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        # An editor that saves atomically writes a temporary file and renames it over the
        # file: what was saved is then the event's destination.
        paths = [Path(str(path)) for path in (event.src_path, getattr(event, "dest_path", "")) if path]
        if POLICY_MODULE in paths or policy.TERMS_FILE in paths:
            print("the Terms changed: restarting", flush=True)
            with self.building:
                self.kept.close()
                os.execv(sys.executable, [sys.executable, *sys.argv])
        if any(_affects_site(path) for path in paths):
            self.pending.set()

    def _loop(self) -> None:
        while True:
            self.pending.wait()
            time.sleep(SETTLE_SECONDS)
            self.pending.clear()
            with self.building:
                _rebuild(self.options, self.now_fixed, self.kept)


def _affects_site(path: Path) -> bool:
    """Whether a file may change the site: not the portal's other modules, nor an
    editor's temporary or hidden files, nor compiled catalogs (made from the .po)."""
    return path.parent != POLICY_MODULE.parent and not (path.name.startswith(".") or path.suffix in (".tmp", ".mo"))


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the current output folder (it is swapped whole on each rebuild)."""

    def send_head(self):
        if not Path(self.translate_path(self.path)).exists():
            self.send_response(404)
            page = Path(self.translate_path("/404.html"))
            body = page.read_bytes() if page.exists() else b"not found"
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        return super().send_head()

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass
