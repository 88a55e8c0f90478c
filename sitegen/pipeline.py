"""One build, stage by stage:

    read -> model -> cite -> check -> render -> plan -> write

1. read (read.py): every content file, its front matter and headings (only files changed
   since the last build are parsed again: incremental.py keeps what was read);
2. model (model.py): policies, versions, languages, the Terms of each version;
3. cite (cite.py): every text with its Terms values filled in, once;
4. check (checks.py): every registered check of the content; any problem fails the build
   before anything is written;
5. render (render.py): the texts not in the render cache yet, in parallel;
6. plan (plan.py): every output with its URL and its key;
7. write (write.py): the outputs whose key changed rendered into a new folder beside the
   unchanged ones, every internal link checked, the folder swapped in whole.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from sitegen import incremental
from sitegen.checks import Content, content_problems
from sitegen.cite import Body, cite
from sitegen.incremental import RenderCache
from sitegen.model import build_model
from sitegen.options import Options
from sitegen.parallel import in_parallel
from sitegen.plan import Planner
from sitegen.problems import BuildFailed, Problem
from sitegen.read import load
from sitegen.render import render_markdown
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


def build(options: Options) -> Report:
    started = time.perf_counter()
    bodies, site = prepare(options)
    report = Report()
    cache = RenderCache(options.cache)
    try:
        templates = Templates(options.beside_content("templates"), options.cache / "templates")
        dates = {day for policy in site.policies.values() for v in policy.versions for day in (v.published_at, v.effective_at)}
        templates.format_dates(site.languages, dates)
        report.rendered_bodies = render_missing(bodies, cache, options.jobs)
        planner = Planner(site, bodies, cache, templates, options.beside_content("static"), options.site_url)
        write_site(options, planner.outputs(), cache, templates.folder, report)
        templates.formats.save()
    finally:
        cache.close()
    report.seconds = time.perf_counter() - started
    return report


def prepare(options: Options):
    """Read, model, cite and check the content: the cited bodies and the site model, or
    BuildFailed with every problem found."""
    record = incremental.documents_path(options.cache)
    known = incremental.read_record(record)
    documents, problems, read = load(options.content, known, options.jobs)
    if read != known:
        incremental.write_record(record, read)
    site, found = build_model(options.content, documents, options.now)
    problems += found
    bodies, found = cite(site)
    problems += found
    problems += content_problems(Content(documents, site, options.beside_content("templates"), options.lock,
                                         options.preview))
    if problems:
        raise BuildFailed(problems)
    return bodies, site


def render_missing(bodies: dict[Path, Body], cache: RenderCache, jobs: int) -> int:
    """Render the texts that are not in the render cache; how many there were. The versions
    of one policy in one language share most sections: they are rendered together."""
    missing = cache.missing_bodies(body.key for body in bodies.values())
    groups: dict[tuple[str, str], dict[str, Body]] = {}
    for body in bodies.values():
        if body.key in missing:
            groups.setdefault((body.doc.slug, body.doc.lang), {})[body.key] = body
    batches = _batches([list(group.values()) for group in groups.values()], jobs)
    in_parallel(_render_batch, [(cache.folder, batch) for batch in batches], jobs, len(missing))
    return len(missing)


BATCHES_PER_JOB = 4  # fewer, and one worker may be left with a long last batch


def _batches(groups: list[list[Body]], jobs: int) -> list[list[list[Body]]]:
    """The groups in a few batches per job: each batch is stored in one transaction."""
    size = max(1, len(groups) // (jobs * BATCHES_PER_JOB))
    return [groups[start:start + size] for start in range(0, len(groups), size)]


def _render_batch(work: tuple[Path, list[list[Body]]]) -> None:
    folder, batch = work
    rendered = []
    for group in batch:
        memo: dict[str, str] = {}  # section -> HTML, shared by the versions of one policy
        for body in group:
            rendered.append((body.key, render_markdown(_text(body), memo)))
    cache = RenderCache(folder)
    try:
        cache.store_bodies(rendered)
    finally:
        cache.close()


def _text(body: Body) -> str:
    """What ``body`` renders: its cited text, or its document's text, unless that was saved
    again since it was read (its HTML would be stored under the key of the earlier text)."""
    if body.text is not None:
        return body.text
    text = body.doc.body
    if incremental.body_key(text) != body.key:
        raise BuildFailed([Problem(body.doc.path, 1, "changed while the site was being built: build again")])
    return text


def check(options: Options) -> None:
    """Every check of a build, links included, without touching the real output."""
    scratch = options.cache / "check"
    try:
        build(replace(options, out=scratch / "site"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        incremental.manifest_path(options.cache, scratch / "site").unlink(missing_ok=True)
