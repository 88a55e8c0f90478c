"""One build, stage by stage:

    read -> model -> cite -> check -> plan -> render and write

1. read (read.py): every content file, its front matter and headings (only files changed
   since the last build are parsed again: incremental.py keeps what was read);
2. model (model.py): policies, versions, languages, the Terms of each version;
3. cite (cite.py): every text with its Terms values filled in, once;
4. check (checks.py): every registered check of the content; any problem fails the build
   before anything is written;
5. plan (plan.py): every output with its URL, its key and how to render it;
6. render and write (render.py, write.py), in parallel, one policy and language at a time:
   the texts not in the render cache yet, and the outputs whose key changed, into a new
   folder beside the unchanged ones; every internal link checked, the folder swapped in whole.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field, replace

from sitegen import incremental
from sitegen.checks import Content, content_problems
from sitegen.cite import cite
from sitegen.incremental import RenderCache
from sitegen.model import build_model
from sitegen.options import Options
from sitegen.plan import Planner
from sitegen.problems import BuildFailed
from sitegen.read import load
from sitegen.templates import Templates
from sitegen.write import write_site


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


@dataclass
class Kept:
    """What a process that builds again and again (``serve``) keeps from one build for the
    next: the records (``held``, see ``incremental.read_record``), the documents made (see
    ``read.load``), the planner (see ``Planner``) and the render cache."""

    held: dict | None = None  # None: the records are read from the disk and written back by each build
    # Kept only with the records held: a build of its own makes them again (kept, the records
    # they were made from stayed in memory too: a cold build of 5,000 bench pages took 326 MB
    # against 293, the target 300 MB).
    documents: dict = field(default_factory=dict)
    planner: Planner | None = None
    cache: RenderCache | None = None

    def close(self) -> None:
        """Write back the records held and close the render cache: the next build starts
        from what is on the disk."""
        for path, data in (self.held or {}).items():
            incremental.write_record(path, data)
        if self.cache:
            self.cache.close()
        self.held = None if self.held is None else {}
        self.documents, self.planner, self.cache = {}, None, None


def build(options: Options, kept: Kept | None = None) -> Report:
    started = time.perf_counter()
    once = kept is None
    kept = Kept() if once else kept
    bodies, site = prepare(options, kept)
    report = Report()
    kept.cache = kept.cache or RenderCache(options.cache)
    kept.planner = kept.planner or Planner(options.beside_content("static"), options.site_url)
    try:
        templates = Templates(options.beside_content("templates"), options.cache / "templates")
        dates = {day for policy in site.policies.values() for v in policy.versions for day in (v.published_at, v.effective_at)}
        templates.format_dates(site.languages, dates)
        missing = kept.cache.missing_bodies(body.key for body in bodies.values())
        report.rendered_bodies = len(missing)
        write_site(options, kept.planner.outputs(site, bodies, kept.cache, templates),
                   [b for b in bodies.values() if b.key in missing], kept.cache, templates.folder, kept.held, report)
    finally:
        if once:
            kept.close()
    report.seconds = time.perf_counter() - started
    return report


def prepare(options: Options, kept: Kept):
    """Read, model, cite and check the content: the cited bodies and the site model, or
    BuildFailed with every problem found."""
    record = options.cache / "documents.record"
    known = incremental.read_record(record, kept.held)
    made = None if kept.held is None else kept.documents
    documents, problems, read = load(options.content, known, options.jobs, made)
    if read != known:
        incremental.write_record(record, read, kept.held)
    site, model_problems = build_model(options.content, documents, options.now)
    bodies, cite_problems = cite(site)
    content = Content(documents, site, options.beside_content("templates"), options.lock, options.preview)
    problems += model_problems + cite_problems + content_problems(content)
    if problems:
        raise BuildFailed(problems)
    return bodies, site


def check(options: Options) -> None:
    """Every check of a build, links included, without touching the real output."""
    scratch = options.cache / "check"
    try:
        build(replace(options, out=scratch / "site"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        incremental.manifest_path(options.cache, scratch / "site").unlink(missing_ok=True)
