"""One build: check the content, render what changed, and swap the new site in whole.

1. Read the content, check it (front matter, citations, headings, translations, lock).
2. Render every Markdown text not yet in the render cache, in parallel on all cores.
   Versions of one policy share most sections, so one worker renders all of them.
3. Plan every output with its dependency key; keep outputs whose key is unchanged.
   With nothing changed, nothing is written at all.
4. Check every internal link and anchor, then write. A large build goes to a temporary
   folder (unchanged outputs as hard links) swapped in whole; a small one renders its few
   files in memory, checks, then replaces each file atomically. Either way a failed build
   leaves the previous site exactly as it was.
5. Every file written is also kept in the cache's output store (store.py): a build into an
   emptied output folder links unchanged files back instead of rendering them again.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sitegen import checks, records
from sitegen.content import RECORDED_AT, Document, load
from sitegen.model import Site, build_model
from sitegen.options import Options
from sitegen.pages import Body, Output, Planner
from sitegen.placeholders import literal_number_problems, substitute
from sitegen.problems import BuildFailed, Problem
from sitegen.render import RenderCache, body_key, body_key_of, converter_made, page_ids_and_links, render_markdown
from sitegen.store import OutputStore
from sitegen.templates import Templates

PARALLEL_FROM = 16  # below this many renderings, forking workers costs more than it saves
IN_PLACE_UP_TO = 64  # a rebuild of at most this many files replaces them one by one


@dataclass
class Report:
    written: int = 0
    placed: int = 0  # of the written: linked from the output store, not rendered
    kept: int = 0
    removed: int = 0
    rendered_bodies: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)

    def __str__(self) -> str:
        if not self.changed:
            return f"nothing changed ({self.kept} files up to date) in {self.seconds:.2f}s"
        return (f"wrote {self.written} files ({self.placed} from the cache), kept {self.kept}, removed {self.removed}; "
                f"rendered {self.rendered_bodies} Markdown texts in {self.seconds:.2f}s")


def build(options: Options) -> Report:
    started = time.perf_counter()
    report = Report()
    site, documents, bodies, documents_record = prepare(options)
    cache = RenderCache(options.cache)
    try:
        _render_and_write(options, site, bodies, cache, report, documents_record)
    finally:
        cache.close()
        documents_record.write()  # after the site is written: `serve` shows an edit sooner
    report.seconds = time.perf_counter() - started
    return report


def _render_and_write(options: Options, site: Site, bodies: dict[Path, Body], cache: RenderCache,
                      report: Report, documents_record: records.PendingRecord) -> None:
    templates = Templates(options.beside_content("templates"), site.languages, options.cache / "templates")
    planner = Planner(site, bodies, cache, templates, options.beside_content("static"), options.site_url)
    outputs = planner.outputs()

    manifest_path = records.manifest_path(options.cache, options.out)
    recorded = records.read_record(manifest_path)  # what the last build wrote there, and stored
    previous = recorded if options.out.exists() else {}
    out = str(options.out)
    stale = [o for o in outputs
             if previous.get(o.path, {}).get("key") != o.key or not os.path.exists(f"{out}/{o.path}")]
    removed = sorted(set(previous) - {o.path for o in outputs})
    missing = _missing_bodies(site, bodies, cache)
    report.removed, report.kept = len(removed), len(outputs) - len(stale)
    report.rendered_bodies = sum(len(group) for group in missing)
    if not stale and not removed and not missing:
        return

    store = OutputStore(options.cache / "outputs")
    stored = {o.path: recorded[o.path] for o in stale
              if recorded.get(o.path, {}).get("key") == o.key and store.has(o.key, recorded[o.path].get("stamp"))}
    in_place = len(stale) + len(removed) <= IN_PLACE_UP_TO and report.kept
    tmp = options.out.with_name(f".{options.out.name}.tmp-{os.getpid()}")
    to_render = [o for o in stale if o.path not in stored]
    _share_with_workers(missing, cache, to_render, tmp, store, templates)
    work = report.rendered_bodies + (0 if in_place else len(to_render))
    if Workers.would_fork(options.jobs, work):
        documents_record.stage()
    whole = bool(stale or removed) and not in_place  # a new output folder, swapped in
    try:
        with Workers(options.jobs, work) as workers:
            _render_bodies(workers, options.jobs, missing, to_render, templates,
                           lambda: _link_unchanged(options.out, tmp, outputs, stale, stored) if whole else None)
            unrendered = cache.missing_bodies([b.key for b in bodies.values()])
            if unrendered:  # a file was saved while it was being rendered
                raise BuildFailed([Problem(b.doc.path, 1, "changed while the site was being built: build again")
                                   for b in bodies.values() if b.key in unrendered])
            if whole:
                manifest = _replace_whole(options, outputs, previous, recorded, stored, tmp, workers)
            elif stale or removed:
                manifest = _replace_in_place(options, outputs, stale, removed, previous, recorded, stored)
            else:
                manifest = None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a new site not swapped in: never will be
        raise
    templates.formats.save()
    if manifest is not None:
        records.write_record(manifest_path, manifest)
        store.drop({entry["key"] for entry in recorded.values()} - {entry["key"] for entry in manifest.values()})
    report.written, report.placed = len(stale), len(stored)


def _render_bodies(workers: "Workers", jobs: int, missing: list[list[Body]], to_render: list[Output],
                   templates: Templates, link_unchanged: Callable[[], None]) -> None:
    """Render the texts missing from the cache, and meanwhile make this process ready to
    render the outputs: Jinja2 loaded or the templates compiled, unchanged files linked."""
    batches = _batches(len(missing), jobs)
    if workers.pool is None and jobs > 1 and missing and to_render and not converter_made():
        # Too little work for a pool, but two kinds of it: the other core imports Markdown
        # and renders the texts while this one loads Jinja2 and links the unchanged files.
        # (A process that has rendered before, as `serve`, renders a text sooner itself.)
        rendering = _aside(_render_body_groups, batches)
        try:
            templates.load()
            link_unchanged()
        finally:
            rendering()
        return
    rendering = workers.start(_render_body_groups, batches)
    if workers.pool is not None:
        # While the workers render Markdown: compiled once here into the bytecode cache,
        # where the workers find them, instead of once in each worker.
        templates.compile_all()
    link_unchanged()
    rendering()


def _replace_whole(options: Options, outputs: list[Output], previous: dict, recorded: dict, stored: dict, tmp: Path,
                   workers: "Workers") -> dict:
    """Render the rest of the new site into the temporary folder that holds its unchanged
    files already, check it, and swap it in: readers see the old site or the new one,
    never a mix."""
    fresh, stamps = _write_outputs(tmp, stored, workers)
    workers.close()
    manifest = _checked_manifest(options, outputs, fresh, stamps, previous, recorded)
    _swap(tmp, options.out)
    return manifest


def _replace_in_place(options: Options, outputs: list[Output], stale: list[Output], removed: list[str],
                      previous: dict, recorded: dict, stored: dict) -> dict:
    """A small rebuild: render the few changed files in memory, check the site, then replace
    each file atomically. Nothing is written unless every check passed."""
    rendered = {o.path: o.render() for o in stale if o.path not in stored}
    _CACHE.flush()
    fresh = {path: page_ids_and_links(data.decode("utf-8")) for path, data in rendered.items() if path.endswith(".html")}
    fresh.update(_pages_of(stored))
    stamps = {o.path: stored[o.path]["stamp"] if o.path in stored else None for o in stale}
    manifest = _checked_manifest(options, outputs, fresh, stamps, previous, recorded)
    for output in stale:
        target = options.out / output.path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        if output.path in stored:
            _STORE.place(output.key, tmp)
        else:
            tmp.write_bytes(rendered[output.path])
            manifest[output.path]["stamp"] = _STORE.keep(output.key, tmp)
        os.replace(tmp, target)
    for path in removed:
        (options.out / path).unlink(missing_ok=True)
        _remove_empty_folders(options.out, (options.out / path).parent)
    return manifest


def _checked_manifest(options: Options, outputs: list[Output], fresh: dict, stamps: dict, previous: dict,
                      recorded: dict) -> dict:
    """Check every internal link of the new site; the manifest to record if all is well.

    ``fresh``: (ids, links) of each HTML file written now; ``stamps``: the store stamp of
    each file written now (the other files are kept as the previous build left them).
    ``recorded``, the last manifest of this output folder, passed the same check: when no
    page of it lost or changed its ids, only links new since then need checking."""
    pages = {o.path: (previous[o.path].get("ids", ""), previous[o.path].get("links", ""))
             for o in outputs if o.path not in stamps and o.path.endswith(".html")}
    pages.update(fresh)
    files = {o.path for o in outputs}
    targets_moved = (any(recorded.get(path, {}).get("ids") != ids for path, (ids, _) in fresh.items())
                     or any(path not in files for path in recorded))
    changed_links = {path for path, (_, links) in fresh.items() if recorded.get(path, {}).get("links") != links}
    problems = checks.link_problems(pages, files, {o.path: o.sources for o in outputs},
                                    options.beside_content("templates"),
                                    only=None if targets_moved or not recorded else changed_links)
    if problems:
        raise BuildFailed(problems)
    empty = ("", "")
    return {o.path: {"key": o.key, "ids": pages.get(o.path, empty)[0], "links": pages.get(o.path, empty)[1],
                     "stamp": stamps[o.path] if o.path in stamps else previous[o.path].get("stamp")}
            for o in outputs}


def _pages_of(recorded: dict) -> dict:
    """(ids, links) of the HTML pages among recorded manifest entries."""
    return {path: (entry["ids"], entry["links"]) for path, entry in recorded.items() if path.endswith(".html")}


def _remove_empty_folders(root: Path, folder: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def prepare(options: Options) -> tuple[Site, list[Document], dict[Path, Body], records.PendingRecord]:
    """Read and check the content; raise BuildFailed with every problem found. Also
    returns the record of what was read, to write for the next build to parse only what
    changed since."""
    known_path = options.cache / "documents.record"
    earlier = records.read_record(known_path)
    documents, problems, known = load(options.content, earlier, options.jobs,
                                      _DOCUMENTS_MADE if records.KEEP_IN_MEMORY else None)
    changed = ({k: v for k, v in known.items() if k != RECORDED_AT}
               != {k: v for k, v in earlier.items() if k != RECORDED_AT})
    record = records.PendingRecord(known_path, records.record_bytes(known) if changed else None,
                                   known if changed and records.KEEP_IN_MEMORY else None)
    site, found = build_model(options.content, documents, options.now)
    problems += found
    bodies, found = _bodies(site)
    problems += found
    problems += checks.heading_problems(site)
    problems += checks.reserved_id_problems(documents, checks.template_ids(options.beside_content("templates")))
    problems += checks.translation_problems(documents)
    problems += [p for p in checks.lock_problems(site, documents, options.lock)
                 if not (options.preview and checks.UNLOCKED in p.message)]
    if problems:
        record.write()
        raise BuildFailed(problems)
    return site, documents, bodies, record


def _bodies(site: Site) -> tuple[dict[Path, Body], list[Problem]]:
    """Every document's Markdown with its citations filled in, and the citation problems."""
    bodies: dict[Path, Body] = {}
    problems: list[Problem] = []
    cited = [(doc, version.terms) for policy in site.policies.values() for version in policy.versions
             for doc in version.docs.values()]
    page_terms = site.terms_for_pages()
    cited += [(doc, page_terms) for docs in site.pages.values() for doc in docs.values()]
    for doc, terms in cited:
        if not doc.cites and not terms:  # nothing to fill in or check: no need to read it
            bodies[doc.path] = Body(doc, terms, body_key_of(doc.body_sha256))
            continue
        body = doc.body
        text, found = substitute(doc, terms, doc.lang, body)
        problems += found
        if terms:
            problems += literal_number_problems(doc, terms, body)
        bodies[doc.path] = Body(doc, terms, body_key(text))
    return bodies, problems


# The Documents made from the documents record, when records.KEEP_IN_MEMORY (see
# content.load's `made`).
_DOCUMENTS_MADE: dict[Path, tuple[dict, Document]] = {}


# --- parallel work -----------------------------------------------------------------------
# Workers are forked after the work is laid out in these globals, so they inherit it
# instead of receiving it through pipes.

_GROUPS: list[list[Body]] = []
_CACHE: RenderCache | None = None
_OUTPUTS: list[Output] = []  # the outputs to render
_TMP: Path | None = None
_STORE: OutputStore | None = None
_TEMPLATES: Templates | None = None


def _share_with_workers(groups: list[list[Body]], cache: RenderCache, to_render: list[Output], tmp: Path,
                        store: OutputStore, templates: Templates) -> None:
    global _GROUPS, _CACHE, _OUTPUTS, _TMP, _STORE, _TEMPLATES
    _GROUPS, _CACHE, _OUTPUTS, _TMP, _STORE, _TEMPLATES = groups, cache, to_render, tmp, store, templates


class Workers:
    """One pool of forked workers for a build's phases (or none, for small work)."""

    def __init__(self, jobs: int, work: int):
        self.pool = None
        if self.would_fork(jobs, work):
            import multiprocessing  # here: most rebuilds fork nothing, and it is slow to import

            self.pool = multiprocessing.get_context("fork").Pool(jobs)

    @staticmethod
    def would_fork(jobs: int, work: int) -> bool:
        return jobs > 1 and work >= PARALLEL_FROM

    def map(self, function, items: list) -> list:
        return self.start(function, items)()

    def start(self, function, items: list):
        """Start ``function`` on every item; returns the call that waits for the results."""
        if self.pool is None or len(items) < 2:
            results = [function(item) for item in items]
            return lambda: results
        started = self.pool.map_async(function, items, chunksize=1)
        return started.get

    def close(self) -> None:
        """End the workers (their memory is the build's peak otherwise)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _aside(function, items: list) -> Callable[[], None]:
    """Run ``function`` on every item in one forked process while this one goes on; the
    call returned waits for it. The function leaves its results in the render cache.
    (Not a pool of one: importing multiprocessing costs more than such small work.)"""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            for item in items:
                function(item)
            status = 0
        except BaseException:
            import traceback

            # Straight to the file: `serve`'s threads may have held sys.stderr's lock
            # when this process was forked, and it would never be released here.
            os.write(2, traceback.format_exc().encode())
        finally:
            os._exit(status)

    def wait() -> None:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"the process rendering Markdown beside the build failed "
                               f"(exit status {os.waitstatus_to_exitcode(status)}): its traceback is above")

    return wait


def _missing_bodies(site: Site, bodies: dict[Path, Body], cache: RenderCache) -> list[list[Body]]:
    """The texts not rendered yet, grouped by policy and language: the versions of one
    policy share most sections, so one worker renders them together."""
    groups: dict[tuple[str, str], dict[str, Body]] = {}
    for policy in site.policies.values():
        for version in policy.versions:
            for lang, doc in version.docs.items():
                groups.setdefault((policy.slug, lang), {})[bodies[doc.path].key] = bodies[doc.path]
    for docs in site.pages.values():
        for doc in docs.values():
            groups.setdefault(("pages", doc.lang), {})[bodies[doc.path].key] = bodies[doc.path]
    absent = cache.missing_bodies([k for group in groups.values() for k in group])
    missing = [[body for key, body in group.items() if key in absent] for group in groups.values()]
    return [group for group in missing if group]


BATCHES_PER_JOB = 8  # fewer, and one worker may be left with a long last batch


def _batches(count: int, jobs: int) -> list[range]:
    """``range(count)`` cut into a few batches per job: each batch of texts is stored in one
    transaction (one per group had the workers queue for the database's write lock)."""
    size = max(1, count // (jobs * BATCHES_PER_JOB))
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def _render_body_groups(indices: range) -> None:
    rendered = []
    for index in indices:
        memo: dict[str, str] = {}  # section -> HTML, shared by the versions of one policy
        for body in _GROUPS[index]:
            text = body.text  # read again: key it by what was read, in case the file was just saved
            rendered.append((body_key(text), render_markdown(text, memo)))
    _CACHE.store_bodies(rendered)


def _link_unchanged(out: Path, tmp: Path, outputs: list[Output], stale: list[Output], stored: dict) -> None:
    """Make the new site's folder ``tmp`` with its files that need no rendering: unchanged
    ones linked from the current site, stored ones from the output store."""
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    stale_paths = {o.path for o in stale}
    _link_all(str(out), str(tmp), [o for o in outputs if o.path not in stale_paths or o.path in stored], stored)


def _write_outputs(tmp: Path, stored: dict, workers: Workers) -> tuple[dict, dict]:
    """Render the outputs to render (the workers' share) into ``tmp``; the (ids, links)
    and the stamp of each file not kept (the stored ones too)."""
    fresh = _pages_of(stored)
    stamps = {path: entry["stamp"] for path, entry in stored.items()}
    chunks = [list(range(i, min(i + 64, len(_OUTPUTS)))) for i in range(0, len(_OUTPUTS), 64)]
    for found, stamped in workers.map(_write_chunk, chunks):
        fresh.update(found)
        stamps.update(stamped)
    return fresh, stamps


def _link_all(source: str, into: str, linked: list[Output], stored: dict) -> None:
    """Link every output of ``linked`` into the folder ``into``: from the store, or from
    the current site in ``source``. Folders and links are many small system calls that
    wait on the file system: threads (which release the GIL for them) make them side by
    side, one subtree at a time each."""
    subtrees: dict[str, list[Output]] = {}
    for output in linked:
        subtrees.setdefault("/".join(output.path.split("/")[:2]), []).append(output)

    def link(outputs: list[Output]) -> None:
        for folder in sorted({os.path.dirname(o.path) for o in outputs} - {""}):  # parents first
            os.makedirs(f"{into}/{folder}", exist_ok=True)
        for output in outputs:
            if output.path in stored:
                _STORE.place(output.key, f"{into}/{output.path}")
            else:
                os.link(f"{source}/{output.path}", f"{into}/{output.path}")

    for folder in sorted({path.split("/")[0] for path in subtrees if "/" in path}):  # /en, /de...
        os.makedirs(f"{into}/{folder}", exist_ok=True)
    _on_threads(link, list(subtrees.values()), LINKING_THREADS)


LINKING_THREADS = 4


def _on_threads(function, items: list, count: int) -> None:
    """Call ``function`` on every item from ``count`` threads; raise the first error.
    (concurrent.futures would take longer to import than a small build takes to link.)"""
    import threading

    todo = list(reversed(items))
    errors: list[BaseException] = []

    def work() -> None:
        while not errors:
            try:
                item = todo.pop()  # atomic: each item is taken by one thread
            except IndexError:
                return
            try:
                function(item)
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(min(count, len(items)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _write_chunk(indices: list[int]) -> tuple[dict, dict]:
    found, stamps = {}, {}
    rendered = []
    with _CACHE.reading():  # one read transaction for the chunk, not one per cached body
        for index in indices:
            rendered.append((_OUTPUTS[index], _OUTPUTS[index].render()))
    for output, data in rendered:
        target = _TMP / output.path
        target.parent.mkdir(parents=True, exist_ok=True)  # here, so the workers share the work
        target.write_bytes(data)
        if output.path.endswith(".html"):
            found[output.path] = page_ids_and_links(data.decode("utf-8"))
        stamps[output.path] = _STORE.keep(output.key, target)
    _CACHE.flush()
    _TEMPLATES.formats.save()
    return found, stamps


# --- the output folder ------------------------------------------------------------------


def _swap(tmp: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old)
    else:
        os.rename(tmp, out)


def check(options: Options) -> None:
    """Every check of a build, including links, without touching the real output."""
    scratch = options.cache / "check"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        build(Options(content=options.content, out=scratch / "site", cache=options.cache, now=options.now,
                      jobs=options.jobs, site_url=options.site_url, preview=options.preview))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        records.manifest_path(options.cache, scratch / "site").unlink(missing_ok=True)
