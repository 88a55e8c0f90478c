"""Rendering and writing the site: a new folder, checked, swapped in whole.

The texts not in the render cache yet are rendered with the outputs that show them, one
policy and language at a time, on every core; the outputs whose key changed are written
into a new folder beside the output folder, and every internal link of the new site is
checked; a failed build leaves the previous site exactly as it was. Then the unchanged
files are hard-linked into the new folder from the current site (or from the output
store, for a file the output folder lost), and the new folder takes the old one's place:
readers see the old site or the new one, never a mix. A rebuild of a few files moves them
into place one by one instead (each atomically). With nothing changed, nothing is written.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from sitegen import checks, incremental
from sitegen.cite import Body
from sitegen.incremental import OutputStore, RenderCache
from sitegen.options import Options
from sitegen.parallel import in_parallel
from sitegen.plan import SITE, Output
from sitegen.problems import BuildFailed
from sitegen.render import page_ids_and_links, render_markdown

# A rebuild of at most this many files moves them into the current site: making a whole
# new folder and deleting the old one took a one-page rebuild of 1,000 bench pages (2,213
# files) from 0.16 to 0.52 s, beyond its target of 0.3 s (and `serve` as much per edit).
IN_PLACE_UP_TO = 64
BATCHES_PER_JOB = 16  # fewer, and one worker may be left with a long last batch


def write_site(options: Options, outputs: list[Output], missing: list[Body], cache: RenderCache, templates: Path,
               held: dict | None, report) -> None:
    """Render the texts ``missing`` from the render cache and write the outputs whose key
    changed (or whose file is missing); fill in ``report``."""
    manifest_path = incremental.manifest_path(options.cache, options.out)
    recorded = incremental.read_record(manifest_path, held)  # what the last build wrote there, and stored
    previous = recorded if options.out.exists() else {}
    stale = [o for o in outputs if previous.get(o.path, {}).get("key") != o.key or not os.path.exists(f"{options.out}/{o.path}")]
    removed = set(previous) - {o.path for o in outputs}
    report.kept, report.removed = len(outputs) - len(stale), len(removed)
    if not stale and not removed and not missing:
        return
    store = OutputStore(options.cache / "outputs")
    stored = {o.path: recorded[o.path] for o in stale
              if recorded.get(o.path, {}).get("key") == o.key and store.has(o.key, recorded[o.path]["stamp"])}
    to_render = [o for o in stale if o.path not in stored]
    # The outputs that show no text first: the sitemap and feeds take longest, and last they
    # would leave one worker to finish them alone.
    groups: dict[tuple[str, str] | None, tuple[dict[str, Body], list[Output]]] = {SITE: ({}, [])}
    for body in missing:  # a group renders its own texts (each once): its pages show no other
        groups.setdefault((body.doc.slug, body.doc.lang), ({}, []))[0][body.key] = body
    for output in to_render:
        groups.setdefault(output.group, ({}, []))[1].append(output)
    last = groups.pop(None, ({}, []))  # rendered once every text is
    tmp = options.out.with_name(f".{options.out.name}.tmp-{os.getpid()}")
    in_place = previous and len(stale) + len(removed) <= IN_PLACE_UP_TO
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        _link(tmp, [o for o in stale if o.path in stored], lambda output: store.path(output.key))
        fresh = {path: (entry["ids"], entry["links"]) for path, entry in stored.items() if path.endswith(".html")}
        stamps = {path: entry["stamp"] for path, entry in stored.items()}
        writing = ([*groups.values(), last], cache, tmp, store)
        written = in_parallel(_write_batch, _batches(len(groups), options.jobs), options.jobs, len(missing) + len(to_render),
                              writing)
        for found, stamped in [*written, _write_batch(writing, range(len(groups), len(groups) + 1))]:
            fresh.update(found)
            stamps.update(stamped)
        manifest = _checked_manifest(outputs, fresh, stamps, previous, recorded, templates)
        if in_place:
            _move_into(tmp, options.out, stale, removed)
        else:
            stale_paths = {o.path for o in stale}
            _link(tmp, [o for o in outputs if o.path not in stale_paths], lambda output: f"{options.out}/{output.path}")
            _swap(tmp, options.out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    incremental.write_record(manifest_path, manifest, held)
    store.drop({entry["key"] for entry in recorded.values()} - {entry["key"] for entry in manifest.values()})
    report.written, report.placed = len(stale), len(stored)


def _batches(count: int, jobs: int) -> list[range]:
    """``range(count)`` in a few batches per job: each batch's texts are stored in one transaction."""
    size = max(1, count // (jobs * BATCHES_PER_JOB))
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def _link(into: Path, linked: list[Output], source: Callable[[Output], str]) -> None:
    """Hard-link outputs into the folder ``into``, each from its ``source`` (the current site or the output store)."""
    _make_folders(into, linked)
    for output in linked:
        os.link(source(output), f"{into}/{output.path}")


def _make_folders(into: Path, outputs: list[Output]) -> None:
    for folder in sorted({os.path.dirname(o.path) for o in outputs}):
        os.makedirs(f"{into}/{folder}", exist_ok=True)


def _move_into(tmp: Path, out: Path, stale: list[Output], removed: set[str]) -> None:
    """Move the files written to ``tmp`` into the current site, each replacing its old
    version atomically, and delete the removed ones."""
    for output in stale:
        (out / output.path).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / output.path, out / output.path)
    for path in removed:
        (out / path).unlink(missing_ok=True)
        folder = (out / path).parent
        while folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


Writing = tuple[list[tuple[dict[str, Body], list[Output]]], RenderCache, Path, OutputStore]  # groups, cache, folder, store


def _write_batch(writing: Writing, indices: range) -> tuple[dict, dict]:
    """Render the texts of the groups ``indices`` and the outputs that show them into the
    new folder; the (ids, links) of each page and the store stamp of each file."""
    groups, cache, tmp, store = writing
    memo: dict[str, str] = {}  # section -> HTML: the versions of a policy share most sections
    rendered = [(key, render_markdown(body.markdown(), memo))
                for index in indices for key, body in groups[index][0].items()]
    if rendered:
        cache.store_bodies(rendered)
    outputs = [output for index in indices for output in groups[index][1]]
    _make_folders(tmp, outputs)
    found, stamps = {}, {}
    for output in outputs:
        data = output.render()
        target = f"{tmp}/{output.path}"
        with open(target, "wb") as file:
            file.write(data)
        if output.path.endswith(".html"):
            found[output.path] = page_ids_and_links(data.decode("utf-8"))
        stamps[output.path] = store.keep(output.key, target)
    return found, stamps


def _checked_manifest(outputs: list[Output], fresh: dict, stamps: dict, previous: dict, recorded: dict,
                      templates: Path) -> dict:
    """Check every internal link of the new site; the manifest to record if all is well.

    ``fresh``: (ids, links) of each page written now; ``stamps``: the store stamp of each
    file written now (the other files are kept as the previous build left them).
    ``recorded``, the last manifest of this output folder, passed the same check: when no
    page of it lost or changed its ids, only links new since then need checking."""
    pages = {o.path: (previous[o.path]["ids"], previous[o.path]["links"])
             for o in outputs if o.path not in stamps and o.path.endswith(".html")}
    pages.update(fresh)
    files = {o.path for o in outputs}
    targets_moved = (any(recorded.get(path, {}).get("ids") != ids for path, (ids, _) in fresh.items())
                     or any(path not in files for path in recorded))
    changed_links = {path for path, (_, links) in fresh.items() if recorded.get(path, {}).get("links") != links}
    problems = checks.link_problems(pages, files, {o.path: o.sources for o in outputs}, templates,
                                    only=None if targets_moved or not recorded else changed_links)
    if problems:
        raise BuildFailed(problems)
    empty = ("", "")
    return {o.path: {"key": o.key, "ids": pages.get(o.path, empty)[0], "links": pages.get(o.path, empty)[1],
                     "stamp": stamps[o.path] if o.path in stamps else previous[o.path]["stamp"]}
            for o in outputs}


def _swap(tmp: Path, out: Path) -> None:
    """Put the folder ``tmp``, made beside ``out``, in its place."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old)
    else:
        os.rename(tmp, out)
