"""Editors' commands: start a new version of a policy, and lock published files."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import fields
from datetime import date, timedelta
from pathlib import Path

from portal.policy import TERMS_FILE, Terms, load_terms
from sitegen import checks
from sitegen.read import SOURCE_LANGUAGE, SUMMARY_TO_WRITE, load
from sitegen.model import DEFAULT_NOTICE_PERIOD, TERMS_BY_POLICY, build_model
from sitegen.options import Options
from sitegen.problems import BuildFailed, Problem


def new_version(options: Options, policy: str, effective: date, published: date | None,
                terms_file: Path = TERMS_FILE) -> str:
    """Copy the latest version of ``policy`` in every language to ``<effective>.<lang>.md`` and
    fill in its front matter; for a policy with Terms, add the new version's Terms to ``terms_file``
    (the latest version's numbers, the new dates); say what the editor does next."""
    published = published or options.now.date() + timedelta(days=1)  # a draft until then
    folder = options.content / policy
    versions = {p.name.split(".")[0] for p in folder.glob("*.md")}
    if not versions:
        raise BuildFailed([Problem(folder, 1, f"no policy {policy!r} to copy")])
    newest = max(versions)
    if effective.isoformat() <= newest:
        raise BuildFailed([Problem(folder, 1, f"the new version must take effect after the latest one ({newest})")])
    sources = sorted(folder.glob(f"{newest}.*.md"), key=lambda p: p.name.split(".")[1] != SOURCE_LANGUAGE)
    backed_by_terms = policy in TERMS_BY_POLICY
    values = {"version": f'"{effective.isoformat()}"', "summary": SUMMARY_TO_WRITE}
    if not backed_by_terms:
        values.update(published=published.isoformat(), effective=effective.isoformat(), material="true")
    lines: list[str] = []
    for source in sources:  # the English file first: the translations name its sha256
        lang = source.name.split(".")[1]
        target = folder / f"{effective.isoformat()}.{lang}.md"
        target.write_text(_set_front_matter(source.read_text(encoding="utf-8"), values), encoding="utf-8")
        if lang == SOURCE_LANGUAGE:
            values["translated_from"] = hashlib.sha256(target.read_bytes()).hexdigest()
        lines.append(f"created {target}")
    notice = DEFAULT_NOTICE_PERIOD.days
    lines.append("next: edit the English text, then each translation (set translated_from to the English file's sha256;"
                 " `python build.py check` tells you the value), then `python build.py lock`.")
    if backed_by_terms:
        add_terms(terms_file, TERMS_BY_POLICY[policy][-1], effective, published)
        lines.append(f"added its Terms to {terms_file} with every number as in {newest}: change the numbers that"
                     " change (and set material = false for a change that is not material)")
    if (effective - published).days < notice:
        lines.append(f"warning: a material change needs {notice} days' notice; this one has {(effective - published).days}")
    return "\n".join(lines)


def add_terms(path: Path, latest: Terms, effective: date, published: date) -> None:
    """Append the Terms of a new version to the Terms file: the values of ``latest``, the
    new dates, material. The file is read back as the portal reads it before it is kept."""
    values = {f.name: getattr(latest, f.name) for f in fields(Terms)}
    values.update(version=effective.isoformat(), published_at=published, effective_at=effective, material=True)
    names = {"published_at": "published", "effective_at": "effective"}
    block = "\n".join(f"{names.get(name, name)} = {_as_toml(value)}" for name, value in values.items())
    before = path.read_text(encoding="utf-8")
    path.write_text(f"{before.rstrip()}\n\n[[terms]]\n{block}\n", encoding="utf-8")
    try:
        load_terms(path)
    except ValueError:
        path.write_text(before, encoding="utf-8")
        raise


def _as_toml(value: object) -> str:
    """``value`` as the Terms file writes it: a date bare, a duration in its largest whole
    unit, the rest as JSON writes it (TOML reads JSON's strings, numbers, booleans and lists)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        for unit, size in (("days", 86_400), ("hours", 3_600), ("minutes", 60)):
            if value.total_seconds() % size == 0:
                return f'"{int(value.total_seconds() // size)} {unit}"'
    return json.dumps(value)


def _set_front_matter(text: str, values: dict[str, str]) -> str:
    """``text`` with each key of ``values`` set in its front matter (the block between the
    first two '---' lines), in place or added at its end."""
    head, sep, rest = text.partition("\n---")
    for key, value in values.items():
        line = re.compile(rf"^{re.escape(key)}:.*$", re.MULTILINE)
        head, found = line.subn(lambda _: f"{key}: {value}", head, count=1)
        if not found:
            head = f"{head}\n{key}: {value}"
    return head + sep + rest


def lock(options: Options) -> str:
    """Record the sha256 of every version published by the build clock that is not in the
    lock yet; never change a recorded one."""
    documents, _, _ = load(options.content)
    site, _ = build_model(options.content, documents, options.now)
    locked = checks.read_lock(options.lock)
    refused = checks.lock_problems(site, documents, options.lock, unlocked_ok=True)
    if refused:
        raise BuildFailed(refused)
    added = {doc.rel: doc.sha256 for doc in checks.published_documents(site) if doc.rel not in locked}
    checks.write_lock(options.lock, {**locked, **added})
    return "\n".join([f"locked {rel}" for rel in added] or ["nothing new to lock"])
