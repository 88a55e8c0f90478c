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

from sitegen.parallel import in_parallel
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
    body_sha256: str
    cites: bool  # whether the body has {{ placeholders }}
    heading_ids: dict[str, int]  # id -> line of every heading with an explicit id
    problems: tuple[Problem, ...] = field(compare=False)

    @property
    def body(self) -> str:
        """The Markdown after the front matter, read from the file when asked: a build of
        thousands of pages holds their texts only while it renders them."""
        text = self.path.read_text(encoding="utf-8", errors="replace")
        return text.split("\n", self.body_line - 1)[-1] if self.body_line > 1 else text

    def line_of(self, key: str) -> int:
        return self.meta_lines.get(key, 1)


def load(root: Path, known: dict[str, dict] | None = None, jobs: int = 1,
         made: dict[str, tuple[dict, Document]] | None = None) -> tuple[list[Document], list[Problem], dict[str, dict]]:
    """Every document below ``root`` (sorted by path), every problem found reading them,
    and what was read from each file, by its path.

    ``known``, what an earlier load returned: a file whose bytes are as they were then is
    not parsed again (parsing the front matter of every file would cost a one-page rebuild
    of 1,000 pages more than the rest of its work). Like git's index, a file whose size,
    times and inode are as recorded is not even read (reading and hashing every file took
    a one-page rebuild of 1,000 bench pages 25 ms of its 0.3 s, the target); a stat is
    recorded only once two seconds old, so a change within one tick of the file system's
    clock is never missed. ``made`` (kept by ``serve``): each document made, by path, with
    the entry it was made from, used again while that entry is (making the 5,000 documents
    of the bench's largest site took each edit 0.1 s; the target, Hugo's server: 0.49 s)."""
    known = known or {}
    settled = time.time_ns() - SETTLED_NS
    listed = _markdown_files(root)
    read: dict[str, dict] = {}
    to_parse: list[tuple[str, dict | None]] = []
    for rel, stat in listed:
        entry = known.get(rel)
        if entry and entry.get("stat") == _stamp(stat):
            read[rel] = entry
        elif entry and entry["sha256"] == hashlib.sha256((root / rel).read_bytes()).hexdigest():
            read[rel] = {**entry, "stat": None}  # stamped below
        else:
            to_parse.append((rel, entry))
    chunks = [to_parse[start::jobs * 4] for start in range(jobs * 4)]
    for chunk in in_parallel(_parse, [chunk for chunk in chunks if chunk], jobs, len(to_parse), root,
                             worth_from=PARSE_IN_PARALLEL_FROM):
        read.update(chunk)
    documents: list[Document] = []
    problems: list[Problem] = []
    made = {} if made is None else made
    for rel, stat in listed:
        if read[rel].get("stat") is None and stat.st_ctime_ns < settled:
            read[rel] = {**read[rel], "stat": _stamp(stat)}
        if rel not in made or made[rel][0] is not read[rel]:
            made[rel] = (read[rel], _from_known(root / rel, rel, read[rel]))
        documents.append(made[rel][1])
        problems.extend(documents[-1].problems)
    if not documents:
        problems.append(Problem(root, 1, "no content found (expected <policy>/<version>.<lang>.md)"))
    return documents, problems, read


PARSE_IN_PARALLEL_FROM = 200  # files: fewer are parsed here sooner than workers start (more: reading the
# 1,000 bench pages of a cold build took 0.15 s on two workers against 0.21 s here)


def _parse(root: Path, files: list[tuple[str, dict | None]]) -> dict[str, dict]:
    return {rel: read_document(root / rel, known) for rel, known in files}


def _stamp(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


SETTLED_NS = 2_000_000_000


def _markdown_files(root: Path) -> list[tuple[str, os.stat_result]]:
    """("folder/name", stat) of every file ``root/*/*.md``, sorted by folder, then name."""
    found = []
    try:
        with os.scandir(root) as folders:
            for folder in sorted(folders, key=lambda folder: folder.name):
                if folder.is_dir():
                    with os.scandir(folder.path) as files:
                        found += sorted((f"{folder.name}/{file.name}", file.stat()) for file in files
                                        if file.name.endswith(".md") and file.is_file())
    except FileNotFoundError:  # "no content found" is reported
        return []
    return found


def _from_known(path: Path, rel: str, known: dict) -> Document:
    kind, slug, version, lang, _, _ = _name_parts(path.parent.name, path.name)
    return Document(
        path=path, rel=rel, kind=kind, slug=slug, version=version, lang=lang,
        meta=known["meta"], meta_lines=known["meta_lines"], body_line=known["body_line"], sha256=known["sha256"],
        body_sha256=known["body_sha256"], cites=known["cites"], heading_ids=known["heading_ids"],
        problems=tuple(Problem(path, line, message) for line, message in known["problems"]))


def _name_parts(folder: str, name: str):
    """kind, slug, version, lang, the allowed front matter keys, and whether the file's
    name has the expected shape, from a file's place."""
    if folder == PAGES_DIR:
        kind, match, allowed = "page", PAGE_FILE.match(name), PAGE_KEYS
    else:
        kind, match, allowed = "version", VERSION_FILE.match(name), VERSION_KEYS
    if not match:
        return kind, folder, None, SOURCE_LANGUAGE, allowed, False
    groups = match.groupdict()
    return kind, groups.get("name") or folder, groups.get("version"), groups["lang"], allowed, True


def read_document(path: Path, known: dict | None = None) -> dict:
    """What is read from one file, as plain data (a record's entry). Its front matter is
    taken from ``known`` (what was read from it before) when its text is the same: most
    edits are to the text below it, and without YAML to parse the YAML parser is not even
    imported (it took a one-page rebuild of 1,000 bench pages 12 ms of CPU of its 0.3 s, the target)."""
    raw = path.read_bytes()
    problems: list[Problem] = []
    kind, _, version, lang, allowed, well_named = _name_parts(path.parent.name, path.name)
    if not well_named:
        problems.append(Problem(path, 1, f"file name must look like {'<name>' if kind == 'page' else '<YYYY-MM-DD>'}.<lang>.md"))
    source, body, body_line = _split_front_matter(path, raw.decode("utf-8", errors="replace"), problems)
    meta, meta_lines, found, digest = {}, {}, [], ""
    if source is not None:
        digest = hashlib.sha256(source.encode()).hexdigest()
        if known and known.get("front_matter") == digest:
            meta, meta_lines = known["meta"], known["meta_lines"]
            found = [Problem(path, line, message) for line, message in known["meta_problems"]]
        else:
            meta, meta_lines = _parse_front_matter(path, source, found)
            if not found:  # one that could not be read has no keys to check (nor to miss)
                meta = _check_meta(path, meta, meta_lines, allowed, kind, version, lang, found)
        problems += found
    heading_ids = _heading_ids(path, body, body_line, problems)
    return {"sha256": hashlib.sha256(raw).hexdigest(), "body_sha256": hashlib.sha256(body.encode()).hexdigest(),
            "cites": "{{" in body, "meta": meta, "meta_lines": meta_lines, "body_line": body_line,
            "heading_ids": heading_ids, "problems": [[p.line, p.message] for p in problems],
            "front_matter": digest, "meta_problems": [[p.line, p.message] for p in found]}


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_EXPLICIT_ID = re.compile(r"\s*\{[^}]*#([A-Za-z][\w-]*)[^}]*\}\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def heading_lines(body: str):
    """(line index, match of _HEADING) of every ATX heading line outside fenced code."""
    fenced = False
    for index, text in enumerate(body.split("\n")):
        # The plain tests first: most lines are neither (both builds and renders read
        # every line; the cold build of 1,000 bench pages, within 2.5x of Hugo: 0.1 s of CPU).
        if ("```" in text or "~~~" in text) and _FENCE.match(text):
            fenced = not fenced
        elif not fenced and text[:1] == "#" and (match := _HEADING.match(text)):
            yield index, match


def _heading_ids(path: Path, body: str, body_line: int, problems: list[Problem]) -> dict[str, int]:
    """The line of the explicit id of every ATX heading outside code; a problem per missing
    or repeated id (the portal links to clauses by these ids)."""
    ids: dict[str, int] = {}
    for index, match in heading_lines(body):
        number = body_line + index
        explicit = _EXPLICIT_ID.search(match.group(2))
        if explicit is None:
            problems.append(Problem(path, number, f"heading {match.group(2)!r} needs an explicit id: append {{#some-id}}"))
            continue
        if explicit.group(1) in ids:
            problems.append(Problem(path, number, f"heading id {explicit.group(1)!r} is used twice"))
        ids[explicit.group(1)] = number
    return ids


def _split_front_matter(path: Path, text: str, problems: list[Problem]) -> tuple[str | None, str, int]:
    """The front matter's YAML (None when there is none), the body and the body's first line."""
    lines = text.split("\n")
    if lines[0].rstrip() != FENCE:
        problems.append(Problem(path, 1, "front matter missing: the file must start with a line '---'"))
        return None, text, 1
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == FENCE), None)
    if end is None:
        problems.append(Problem(path, 1, "front matter is not closed by a line '---'"))
        return None, "", len(lines)
    return "\n".join(lines[1:end]), "\n".join(lines[end + 1:]), end + 2


def _parse_front_matter(path: Path, source: str, problems: list[Problem]) -> tuple[dict, dict]:
    """The front matter's mapping and the line of each key ({} and a problem if it is not one)."""
    import yaml  # here: see read_document

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
