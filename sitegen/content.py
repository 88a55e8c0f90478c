"""Reading the content folder: Markdown files with YAML front matter.

Shape of a content folder::

    <policy>/<version>.<lang>.md   one file per published version and language
    pages/<name>.<lang>.md         unversioned pages (home, contact)

Every malformed file becomes a ``Problem`` with its file and line; loading never stops at
the first one, so an editor sees everything to fix at once.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple

from sitegen.problems import Problem

PAGES_DIR = "pages"
SOURCE_LANGUAGE = "en"
FENCE = "---"
VERSION_FILE = re.compile(r"^(?P<version>\d{4}-\d{2}-\d{2})\.(?P<lang>[a-z]{2})\.md$")
PAGE_FILE = re.compile(r"^(?P<name>[a-z0-9-]+)\.(?P<lang>[a-z]{2})\.md$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

VERSION_KEYS = {"title": str, "version": str, "summary": str, "translated_from": str,
                "published": str, "effective": str, "material": bool}
PAGE_KEYS = {"title": str, "summary": str, "translated_from": str}
REQUIRED = {"title", "summary"}
SUMMARY_TO_WRITE = "Describe what this version changes (shown on the changes page and in the feed)."


class Heading(NamedTuple):  # a tuple: thousands are made on every build
    id: str | None  # None: the heading has no explicit id (a problem)
    line: int
    level: int
    title: str


@dataclass(frozen=True)
class Document:
    """One Markdown file: its front matter, its body and where each came from."""

    path: Path
    rel: str
    kind: str  # "version" or "page"
    slug: str  # the policy slug, or the page name
    version: str | None
    lang: str
    meta: dict[str, object]
    meta_lines: dict[str, int]
    body_line: int  # line number of the body's first line in the file
    sha256: str
    body_sha256: str = ""
    cites: bool = False  # whether the body has {{ placeholders }}
    headings: tuple[Heading, ...] = ()
    problems: tuple[Problem, ...] = field(default=(), compare=False)
    # The front matter's text, hashed, and its problems: an edit below the front matter
    # (most edits) reuses what reading it gave, without YAML.
    front_sha256: bytes = b""
    front_problems: tuple[Problem, ...] = field(default=(), compare=False)

    @property
    def body(self) -> str:
        """The Markdown after the front matter, read from the file when asked: a build of
        thousands of pages holds their texts only while it renders them."""
        text = self.path.read_text(encoding="utf-8", errors="replace")
        return text.split("\n", self.body_line - 1)[-1] if self.body_line > 1 else text

    @property
    def heading_ids(self) -> dict[str, int]:
        """id -> line of every heading with an explicit id."""
        return {h.id: h.line for h in self.headings if h.id}

    def line_of(self, key: str) -> int:
        return self.meta_lines.get(key, 1)


def load(root: Path, known: dict[str, dict] | None = None, jobs: int = 1,
         made: dict[Path, tuple[dict, Document]] | None = None
         ) -> tuple[list[Document], list[Problem], dict[str, dict]]:
    """Every document below ``root`` (sorted by path), every problem found reading them,
    and what was read, to pass as ``known`` next time.

    ``known`` (rel path -> what an earlier load read) spares parsing files whose bytes have
    not changed since: a build reads every file, but parses only the edited ones (on
    ``jobs`` processes when there are many). ``made`` (path -> the record entry and the
    Document made from it), kept by a process that builds again and again with the same
    ``known`` entries, spares making those Documents again.
    """
    documents: list[Document] = []
    problems: list[Problem] = []
    read: dict[str, dict] = {}
    known = known or {}
    listed = _markdown_files(root)
    paths = [path for path, _ in listed]
    unknown: list[tuple[Path, dict | None]] = []  # to parse, with what was read before
    found: dict[Path, Document] = {}
    # Like git's index: a file whose size, times and inode are as recorded is not read
    # again, unless it changed so close to the recording that the times cannot tell
    # ("racy"). The change time (ctime) counts: a copy that keeps the old modification
    # time (cp -p, rsync -a, tar) cannot keep it, and nor can anything else that writes.
    trusted_before = known.get(RECORDED_AT, 0) - RACY_NS
    stats: dict[Path, list[int]] = {}
    for path, stat in listed:
        rel = f"{path.parent.name}/{path.name}"
        earlier = known.get(rel)
        stats[path] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        if earlier and earlier.get("stat") == stats[path] and stat.st_ctime_ns < trusted_before:
            before = made.get(path) if made is not None else None
            found[path] = before[1] if before and before[0] is earlier else _from_known(path, rel, earlier["sha256"], earlier)
            if made is not None:
                made[path] = (earlier, found[path])
            read[rel] = earlier
            continue
        if earlier and earlier["sha256"] == (sha := hashlib.sha256(path.read_bytes()).hexdigest()):
            found[path] = _from_known(path, rel, sha, earlier)
        else:
            unknown.append((path, earlier))
    found.update(zip((path for path, _ in unknown), _read_all(root, unknown, jobs)))
    read[RECORDED_AT] = time.time_ns()
    for path in paths:
        document = found[path]
        if document.rel not in read:
            read[document.rel] = {**_as_known(document), "stat": stats[path]}
        problems.extend(document.problems)
        documents.append(document)
    if not documents:
        problems.append(Problem(root, 1, "no content found (expected <policy>/<version>.<lang>.md)"))
    return documents, problems, read


def _markdown_files(root: Path) -> list[tuple[Path, os.stat_result]]:
    """``root/*/*.md`` with their stat, in the order Paths sort (what root.glob would find,
    without its cost: a build lists every file of the site)."""
    found = []
    try:
        folders = sorted((entry for entry in os.scandir(root) if entry.is_dir()), key=lambda entry: entry.name)
    except OSError:  # no such folder: "no content found" is reported
        return []
    for folder in folders:
        base = root / folder.name
        files = sorted((entry for entry in os.scandir(folder.path) if entry.name.endswith(".md") and entry.is_file()),
                       key=lambda entry: entry.name)
        found += [(base / entry.name, entry.stat()) for entry in files]
    return found


PARALLEL_FROM = 200  # parsing fewer files than this is quicker than starting workers
RECORDED_AT = "@recorded_at_ns"
RACY_NS = 2_000_000_000


def _read_all(root: Path, files: list[tuple[Path, dict | None]], jobs: int) -> list[Document]:
    """Parse ``files``: (path, what an earlier load read from it, or None)."""
    if jobs <= 1 or len(files) < PARALLEL_FROM:
        return [read_document(root, path, earlier=earlier) for path, earlier in files]
    import multiprocessing  # imported only when there is much to parse (see builder.Workers)

    import yaml  # noqa: F401 - once, before the workers fork, not once in each

    # The workers send back plain data, which pickles far faster than Documents.
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        read = pool.starmap(_read_as_known, [(root, path, earlier) for path, earlier in files], chunksize=64)
    return [_from_known(path, f"{path.parent.name}/{path.name}", known["sha256"], known)
            for (path, _), known in zip(files, read)]


def _read_as_known(root: Path, path: Path, earlier: dict | None) -> dict:
    return _as_known(read_document(root, path, earlier=earlier))


def _as_known(doc: Document) -> dict:
    return {"sha256": doc.sha256, "body_sha256": doc.body_sha256, "cites": doc.cites, "meta": doc.meta, "meta_lines": doc.meta_lines, "body_line": doc.body_line,
            "headings": [[h.id, h.line, h.level, h.title] for h in doc.headings],
            "problems": [[p.line, p.message] for p in doc.problems],
            "front": [doc.front_sha256, [[p.line, p.message] for p in doc.front_problems]]}


def _from_known(path: Path, rel: str, sha: str, known: dict) -> Document:
    kind, slug, version, lang, _, _ = _name_parts(path)
    return Document(
        path=path, rel=rel, kind=kind, slug=slug, version=version, lang=lang, meta=known["meta"],
        meta_lines=known["meta_lines"], body_line=known["body_line"], sha256=sha,
        body_sha256=known["body_sha256"], cites=known["cites"],
        headings=tuple(map(Heading._make, known["headings"])),
        problems=_problems(path, known["problems"]),
        front_sha256=known["front"][0], front_problems=_problems(path, known["front"][1]),
    )


def _problems(path: Path, recorded: list[list]) -> tuple[Problem, ...]:
    return tuple(Problem(path, line, message) for line, message in recorded)


def _name_parts(path: Path):
    """kind, slug, version, lang, the allowed front matter keys, and whether the file's
    name has the expected shape, from a file's place."""
    folder = path.parent.name
    if folder == PAGES_DIR:
        kind, match, allowed = "page", PAGE_FILE.match(path.name), PAGE_KEYS
    else:
        kind, match, allowed = "version", VERSION_FILE.match(path.name), VERSION_KEYS
    if not match:
        return kind, folder, None, SOURCE_LANGUAGE, allowed, False
    groups = match.groupdict()
    return kind, groups.get("name") or folder, groups.get("version"), groups["lang"], allowed, True


def read_document(root: Path, path: Path, raw: bytes | None = None, earlier: dict | None = None) -> Document:
    """Parse one file. ``earlier``, what an earlier load read from the same path: when its
    front matter is the same text, what it gave is reused instead of parsed again."""
    raw = path.read_bytes() if raw is None else raw
    rel = path.relative_to(root).as_posix()
    problems: list[Problem] = []
    kind, slug, version, lang, allowed, well_named = _name_parts(path)
    if not well_named:
        problems.append(Problem(path, 1, f"file name must look like {'<name>' if kind == 'page' else '<YYYY-MM-DD>'}.<lang>.md"))
    text = raw.decode("utf-8", errors="replace")
    front_problems: list[Problem] = []
    source, body, body_line = _split_front_matter(path, text, front_problems)
    front_sha256 = hashlib.sha256(source.encode()).digest() if source is not None else b""
    if earlier and front_sha256 and earlier["front"][0] == front_sha256:
        meta, meta_lines = earlier["meta"], earlier["meta_lines"]
        front_problems = list(_problems(path, earlier["front"][1]))
    else:
        meta, meta_lines = _parse_front_matter(path, source, front_problems) if source is not None else ({}, {})
        if not front_problems:  # one that could not be read has no keys to check (nor to miss)
            meta = _check_meta(path, meta, meta_lines, allowed, kind, version, lang, front_problems)
    problems += front_problems
    headings = _headings(path, body, body_line, problems)
    return Document(
        path=path, rel=rel, kind=kind, slug=slug, version=version, lang=lang, meta=meta,
        meta_lines=meta_lines, body_line=body_line, sha256=hashlib.sha256(raw).hexdigest(),
        body_sha256=hashlib.sha256(body.encode()).hexdigest(), cites="{{" in body,
        headings=headings, problems=tuple(problems),
        front_sha256=front_sha256, front_problems=tuple(front_problems),
    )


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_EXPLICIT_ID = re.compile(r"\s*\{[^}]*#([A-Za-z][\w-]*)[^}]*\}\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


# _HEADING, line by line, in a text that starts with "\n": a literal first character lets
# the scan jump from line to line (with "^", it tries every position of the text).
_HEADING_IN_TEXT = re.compile(r"\n(#{1,6})[^\S\n]+(.*?)[^\S\n]*$", re.MULTILINE)


def heading_lines(body: str):
    """(line index, match of _HEADING) of every ATX heading line outside fenced code."""
    if "```" not in body and "~~~" not in body:  # no code fences: one scan of the text
        text = "\n" + body
        line, at = 0, 0
        for match in _HEADING_IN_TEXT.finditer(text):
            line += text.count("\n", at, match.start())  # at the newline before the heading
            at = match.start()
            yield line, match
        return
    fenced = False
    for index, text in enumerate(body.split("\n")):
        if _FENCE.match(text):
            fenced = not fenced
        elif not fenced and (match := _HEADING.match(text)):
            yield index, match


def _headings(path: Path, body: str, body_line: int, problems: list[Problem]) -> tuple[Heading, ...]:
    """Every ATX heading outside code, with its explicit id; a problem per missing or
    repeated id (the portal links to clauses by these ids)."""
    found: list[Heading] = []
    seen: set[str] = set()
    for index, match in heading_lines(body):
        number = body_line + index
        explicit = _EXPLICIT_ID.search(match.group(2))
        title = _EXPLICIT_ID.sub("", match.group(2))
        if not explicit:
            problems.append(Problem(path, number, f"heading {match.group(2)!r} needs an explicit id: append {{#some-id}}"))
            found.append(Heading(None, number, len(match.group(1)), title))
            continue
        if explicit.group(1) in seen:
            problems.append(Problem(path, number, f"heading id {explicit.group(1)!r} is used twice"))
        seen.add(explicit.group(1))
        found.append(Heading(explicit.group(1), number, len(match.group(1)), title))
    return tuple(found)


def _split_front_matter(path: Path, text: str, problems: list[Problem]) -> tuple[str | None, str, int]:
    """The front matter's YAML (None when there is none), the body and the body's first line."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        problems.append(Problem(path, 1, "front matter missing: the file must start with a line '---'"))
        return None, text, 1
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() == FENCE)
    except StopIteration:
        problems.append(Problem(path, 1, "front matter is not closed by a line '---'"))
        return None, "", len(lines)
    return "\n".join(lines[1:end]), "\n".join(lines[end + 1:]), end + 2


def _parse_front_matter(path: Path, source: str, problems: list[Problem]) -> tuple[dict, dict]:
    """The front matter's mapping and the line of each key ({} and a problem if it is not one)."""
    import yaml  # only files changed since the last build are parsed: most builds need no YAML

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(source)  # libyaml, in PyYAML's wheels
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = (mark.line + 2) if mark else 1
        problems.append(Problem(path, line, f"front matter is not valid YAML: {getattr(error, 'problem', error)}"))
        return {}, {}
    finally:
        loader.dispose()
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.append(Problem(path, 2, "front matter must be a mapping of 'key: value' lines"))
        return {}, {}
    return data, {key.value: key.start_mark.line + 2 for key, _ in node.value}


def _check_meta(path, meta, meta_lines, allowed, kind, version, lang, problems):
    checked: dict[str, object] = {}
    for key, value in meta.items():
        line = meta_lines.get(key, 2)
        if key not in allowed:
            problems.append(Problem(path, line, f"unknown front matter key {key!r} (allowed: {', '.join(sorted(allowed))})"))
            continue
        if isinstance(value, date):  # YAML reads 2026-11-24 as a date
            value = value.isoformat()
        if not isinstance(value, allowed[key]) or (isinstance(value, str) and not value.strip()):
            problems.append(Problem(path, line, f"front matter {key!r} must be a non-empty {allowed[key].__name__}"))
            continue
        if isinstance(value, str) and "{{" in value:
            problems.append(Problem(path, line, f"front matter {key!r} cannot cite Terms ({{{{ }}}} is shown as typed):"
                                                " write it without"))
            continue
        if key == "summary" and value.strip() == SUMMARY_TO_WRITE:
            problems.append(Problem(path, line, "write the summary of this version (new-version left a placeholder)"))
            continue
        checked[key] = value.strip() if isinstance(value, str) else value
    required = set(REQUIRED) | ({"version"} if kind == "version" else set())
    if lang != SOURCE_LANGUAGE:
        required.add("translated_from")
    for key in sorted(required - set(meta)):
        problems.append(Problem(path, 1, f"front matter is missing {key!r}"))
    if "version" in checked and version and checked["version"] != version:
        problems.append(Problem(path, meta_lines["version"], f"version {checked['version']!r} differs from the file name's {version!r}"))
    for key in ("published", "effective"):
        if key in checked:
            try:
                date.fromisoformat(str(checked[key]))
            except ValueError:
                problems.append(Problem(path, meta_lines[key], f"{key!r} must be an ISO date (YYYY-MM-DD)"))
                del checked[key]
    if "translated_from" in checked and not SHA256.match(str(checked["translated_from"])):
        problems.append(Problem(path, meta_lines["translated_from"], "translated_from must be the sha256 (64 hex digits) of the English file"))
        del checked["translated_from"]
    if lang == SOURCE_LANGUAGE and "translated_from" in checked:
        problems.append(Problem(path, meta_lines["translated_from"], "an English file is the source: it has no translated_from"))
    return checked
