"""Rebuilds touch only what changed; the render cache survives new processes; the editors'
commands (new-version, lock, serve) do what the README says."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from portal import policy
from sitegen import incremental, model
from sitegen.options import ROOT
from sitegen.pipeline import Kept, build
from sitegen.plan import Planner
from sitegen.problems import BuildFailed

V1 = "2026-11-24"


def snapshot(site) -> dict[str, tuple[int, int]]:
    return {p.relative_to(site.out).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in site.out.rglob("*") if p.is_file()}


def site_files(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def rewritten(before, after) -> set[str]:
    return {path for path in after if before.get(path) != after[path]}


def test_nothing_changed_writes_nothing(site):
    site.build()
    before = snapshot(site)
    report = site.build()
    assert not report.changed and report.written == 0 and report.rendered_bodies == 0
    assert snapshot(site) == before


def test_a_page_edit_rewrites_only_that_page(site):
    site.build()
    before = snapshot(site)
    site.edit("pages/contact.en.md", "ticket", "support ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    report = site.build()
    # The English page shows the new text; the German one is unchanged in what it shows,
    # but its front matter (translated_from) is not shown, so it is not rewritten either.
    assert rewritten(before, snapshot(site)) == {"en/contact/index.html"}
    assert report.rendered_bodies == 1  # the German text is unchanged: only its front matter moved
    assert "support ticket" in site.page("en/contact/index.html")


def test_a_front_matter_edit_rewrites_the_page_that_shows_it(site):
    site.build()
    before = snapshot(site)
    site.edit("pages/contact.de.md", "Ihr Ticket enthalten", "Ihre Anfrage enthalten")  # the summary
    report = site.build()
    assert rewritten(before, snapshot(site)) == {"de/contact/index.html"}
    assert report.rendered_bodies == 0  # the text below the front matter is unchanged
    assert '<meta name="description" content="Wie Sie unser Support-Team erreichen, wie schnell wir antworten ' \
           'und welche Angaben Ihre Anfrage enthalten sollte.">' in site.page("de/contact/index.html")


def test_a_version_summary_edit_rewrites_the_pages_that_show_it(site):
    site.build()
    before = snapshot(site)
    summary = site.path(f"payment-refund/{V1}.de.md").read_text().split("summary: ")[1].split("\n")[0]
    site.edit(f"payment-refund/{V1}.de.md", summary, '"Eine neue Zusammenfassung."')
    site.unlock()
    report = site.build()
    changed = rewritten(before, snapshot(site))
    assert report.rendered_bodies == 0
    assert {f"de/payment-refund/{V1}/index.html", "de/payment-refund/history/index.html", "de/feed.xml"} <= changed
    assert not any(path.startswith("en/") for path in changed)
    assert '<meta name="description" content="Eine neue Zusammenfassung.">' in site.page(f"de/payment-refund/{V1}/index.html")


def test_a_template_edit_rewrites_the_pages_that_use_it(site):
    site.build()
    before = snapshot(site)
    banners = site.root / "site/templates/_banners.html"
    banners.write_text(banners.read_text() + "\n<!-- edited -->\n")
    report = site.build()
    changed = rewritten(before, snapshot(site))
    assert report.rendered_bodies == 0
    expected = {f"{lang}/payment-refund/{rest}" for lang in ("en", "de") for rest in (
        "index.html", f"{V1}/index.html", "2027-01-01/index.html", "2027-01-01/changes/index.html")}
    assert changed == expected


def test_a_terms_change_rewrites_the_pages_that_cite_it(site, monkeypatch):
    site.build()
    before = snapshot(site)
    richer = tuple(replace(t, deposit_max_cents=200_000) for t in policy.TERMS)
    monkeypatch.setitem(model.TERMS_BY_POLICY, "payment-refund", richer)
    monkeypatch.setattr(policy, "TERMS", richer)
    report = site.build()
    changed = rewritten(before, snapshot(site))
    assert report.rendered_bodies == 2 * len(richer)  # every version in both languages cites deposit_max
    assert "$2,000.00" in site.page(f"en/payment-refund/{V1}/index.html")
    assert "en/contact/index.html" not in changed  # the contact page does not cite it
    assert {"en/payment-refund/index.html", "versions.json", "de/payment-refund/2027-01-01/changes/index.html"} <= changed


def test_the_build_clock_changes_only_what_depends_on_it(site):
    site.build()
    before = snapshot(site)
    site.build(now=datetime(2026, 12, 1, tzinfo=timezone.utc))  # same versions in force, upcoming and published
    assert rewritten(before, snapshot(site)) == set()


def test_a_new_process_with_an_emptied_output_renders_nothing(site):
    site.build()
    first = site_files(site.out)
    shutil.rmtree(site.out)
    report = site.build()
    assert report.rendered_bodies == 0 and report.written == report.placed == len(first)
    assert site_files(site.out) == first


def test_an_emptied_output_renders_only_what_changed_since(site):
    site.build()
    shutil.rmtree(site.out)
    site.edit("pages/contact.en.md", "ticket", "support ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    report = site.build()
    assert report.written - report.placed == 1 and "support ticket" in site.page("en/contact/index.html")


def test_a_file_edited_in_place_in_the_output_is_never_placed_again(site):
    site.build()
    page = site.out / "en/contact/index.html"
    original = page.read_bytes()
    with page.open("r+b") as changed:  # in place: the stored twin shares this file
        changed.write(b"<!-- tampered -->")
    os.utime(page, ns=(1, 1))
    shutil.rmtree(site.out)
    report = site.build()
    assert report.written - report.placed == 1 and site.page("en/contact/index.html").encode() == original


def test_the_store_forgets_files_that_were_replaced(site):
    site.build()
    stored = {p.name for p in (site.cache / "outputs").rglob("*") if p.is_file()}
    site.edit("pages/contact.en.md", "ticket", "support ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    site.build()
    now = {p.name for p in (site.cache / "outputs").rglob("*") if p.is_file()}
    assert len(now) == len(stored) and len(now - stored) == 1


def test_an_emptied_cache_renders_everything_again(site):
    site.build()
    shutil.rmtree(site.cache)
    before = site_files(site.out)
    report = site.build()
    assert report.rendered_bodies == len(list(site.content.rglob("*.md")))  # every text, once
    assert site_files(site.out) == before


def test_parallel_and_serial_builds_are_identical(site, tmp_path):
    site.build(jobs=1)
    serial = site_files(site.out)
    shutil.rmtree(site.cache)
    parallel_out = tmp_path / "parallel"

    build(replace(site.options(jobs=2), out=parallel_out))
    assert site_files(parallel_out) == serial


def test_a_rebuild_checks_the_links_it_adds(site):
    site.build()
    with site.path("pages/contact.en.md").open("a") as f:
        f.write("\nSee [prices](/en/prices/).\n")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    with pytest.raises(BuildFailed, match="broken link '/en/prices/'"):
        site.build()


def test_a_rebuild_that_drops_an_anchor_fails_on_the_pages_that_link_to_it(site):
    for lang in ("en", "de"):
        with site.path(f"pages/contact.{lang}.md").open("a") as f:
            f.write("\n## Extra {#extra}\n\nMore.\n")
    with site.path("pages/home.en.md").open("a") as f:
        f.write("\nSee [extra](/en/contact/#extra).\n")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    site.set_translated_from("pages/home.de.md", "pages/home.en.md")
    site.build()
    for lang in ("en", "de"):
        site.edit(f"pages/contact.{lang}.md", "## Extra {#extra}", "## Extra {#more}")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    with pytest.raises(BuildFailed) as failed:
        site.build()  # home is unchanged, but the anchor it links to is gone
    assert any("home.en.md" in str(p) and "#extra" in p.message for p in failed.value.problems)


def test_removed_pages_disappear(site):
    site.build(now=datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert (site.out / "en/payment-refund/2027-01-01/index.html").exists()
    site.build(now=datetime(2026, 11, 24, 12, tzinfo=timezone.utc))  # before v2 was published
    assert not (site.out / "en/payment-refund/2027-01-01").exists()


# --- a process that builds again and again (serve) ---------------------------------------


def _edit_a_version(site):
    site.edit(f"payment-refund/{V1}.en.md", "Card", "Bank card")
    site.set_translated_from(f"payment-refund/{V1}.de.md", f"payment-refund/{V1}.en.md")
    site.unlock()


def _add_a_policy(site):
    site.path("privacy").mkdir()
    meta = "title: Privacy\nversion: 2026-11-01\nsummary: First version.\npublished: 2026-10-20\neffective: 2026-11-01\n"
    for lang, more in (("en", ""), ("de", "translated_from: to be set\n")):
        site.path(f"privacy/2026-11-01.{lang}.md").write_text(f"---\n{meta}{more}---\n## Data {{#data}}\n\nWe keep little.\n")
    site.set_translated_from("privacy/2026-11-01.de.md", "privacy/2026-11-01.en.md")
    site.unlock()


def _edit_a_summary(site):
    summary = site.path(f"payment-refund/{V1}.de.md").read_text().split("summary: ")[1].split("\n")[0]
    site.edit(f"payment-refund/{V1}.de.md", summary, '"Eine neue Zusammenfassung."')
    site.unlock()


def _append(site, rel: str, text: str):
    path = site.root / "site" / rel
    path.write_text(path.read_text() + text)


SERVED_EDITS = {
    "a version's text": _edit_a_version,
    "a page's text": lambda site: (site.edit("pages/contact.en.md", "ticket", "support ticket"),
                                   site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")),
    "a version's summary": _edit_a_summary,
    "a template": lambda site: _append(site, "templates/_banners.html", "\n<!-- edited -->\n"),
    "a stylesheet": lambda site: _append(site, "static/site.css", "\n/* edited */\n"),
    "a new policy": _add_a_policy,
    "the clock": lambda site: datetime(2027, 1, 1, 12, tzinfo=timezone.utc),  # the second version takes effect
    "the cache emptied": lambda site: (shutil.rmtree(site.cache), _edit_a_summary(site)),
}


@pytest.mark.parametrize("edit", SERVED_EDITS)
def test_a_serving_process_builds_what_a_process_per_build_builds(site, tmp_path, edit):
    kept = Kept(held={})
    build(site.options(), kept)
    assert not incremental.manifest_path(site.cache, site.out).exists()  # held, not on the disk
    now = SERVED_EDITS[edit](site)
    now = now if isinstance(now, datetime) else site.options().now
    build(site.options(now), kept)
    kept.close()
    fresh = replace(site.options(now), out=tmp_path / "fresh", cache=tmp_path / "fresh-cache")
    build(fresh)
    assert site_files(site.out) == site_files(fresh.out)
    assert not site.build(now).changed  # the records written back say what is there


def test_a_serving_process_plans_again_only_the_pages_whose_policy_changed(site, monkeypatch):
    kept = Kept(held={})
    build(site.options(), kept)
    planned = []
    original = Planner._version_page
    monkeypatch.setattr(Planner, "_version_page", lambda self, path, *args, **kw: (
        planned.append(path), original(self, path, *args, **kw))[1])
    site.edit("pages/contact.en.md", "ticket", "support ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    build(site.options(), kept)
    assert planned == []  # no policy page shows the contact page
    _edit_a_summary(site)
    build(site.options(), kept)
    assert planned and all(path.startswith("de/payment-refund/") for path in planned)
    kept.close()


# --- editors' commands -------------------------------------------------------------------


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_new_version_copies_every_language_and_adds_its_terms(site, tmp_path):
    terms = tmp_path / "terms.toml"
    shutil.copy(policy.TERMS_FILE, terms)
    result = cli("new-version", "payment-refund", "--effective", "2027-03-01", "--published", "2026-12-01",
                 "--content", str(site.content), "--terms", str(terms))
    assert result.returncode == 0, result.stderr
    for lang in ("en", "de"):
        text = site.path(f"payment-refund/2027-03-01.{lang}.md").read_text()
        assert 'version: "2027-03-01"' in text
        assert "Describe what this version changes" in text
    added = policy.load_terms(terms)[-1]
    assert added == replace(policy.TERMS[-1], version="2027-03-01", published_at=datetime(2026, 12, 1, tzinfo=timezone.utc),
                            effective_at=datetime(2027, 3, 1, tzinfo=timezone.utc), material=True)
    assert terms.read_text().startswith(policy.TERMS_FILE.read_text())  # the file's comments are kept


@pytest.mark.parametrize("changes", [
    {},
    {"card_refund_window": timedelta(days=14), "support_email": "help@1001sms.com",
     "failed_sms_credit_within": timedelta(hours=36), "business_days": (0, 1, 2, 3)},
])
def test_new_terms_keep_the_latest_versions_values(site, monkeypatch, tmp_path, changes):
    """The Terms added keep every number of the latest version: they must not quietly bring
    back an older value."""
    from sitegen.newversion import new_version

    terms = tmp_path / "terms.toml"
    shutil.copy(policy.TERMS_FILE, terms)
    latest = replace(policy.TERMS[-1], **changes)
    monkeypatch.setitem(model.TERMS_BY_POLICY, "payment-refund", (*policy.TERMS[:-1], latest))
    new_version(site.options(), "payment-refund", date(2027, 6, 1), date(2027, 4, 1), terms)
    assert policy.load_terms(terms)[-1] == replace(
        latest, version="2027-06-01", published_at=datetime(2027, 4, 1, tzinfo=timezone.utc),
        effective_at=datetime(2027, 6, 1, tzinfo=timezone.utc), material=True)


@pytest.mark.parametrize("mistake, message", [
    ('card_refund_window = "7 days"', 'card_refund_window = "a week"'),
    ("deposit_min_cents = 500", 'deposit_min_cents = "500"'),
    ("deposit_min_cents = 500", ""),
    ("currency = \"USD\"", 'currency = "USD"\ncolour = "red"'),
])
def test_a_mistake_in_the_terms_file_is_refused_on_loading(tmp_path, mistake, message):
    text = policy.TERMS_FILE.read_text()
    assert mistake in text
    (tmp_path / "terms.toml").write_text(text.replace(mistake, message, 1))
    with pytest.raises(ValueError):
        policy.load_terms(tmp_path / "terms.toml")


def test_new_version_refuses_an_earlier_date(site):
    result = cli("new-version", "payment-refund", "--effective", "2026-12-01", "--content", str(site.content))
    assert result.returncode == 1
    assert "must take effect after the latest one" in result.stderr


def test_lock_adds_new_files_and_refuses_changed_ones(site):
    lock = site.options().lock
    original = lock.read_text()
    assert "nothing new to lock" in cli("lock", "--content", str(site.content)).stdout
    site.edit("payment-refund/2026-11-24.en.md", "Card", "Bank card")
    result = cli("lock", "--content", str(site.content))
    assert result.returncode == 1 and "published text changed" in result.stderr
    assert lock.read_text() == original


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_serve_rebuilds_on_change(site):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "serve", "--content", str(site.content), "--out", str(site.out),
         "--cache", str(site.cache), "--port", str(port), "--now", "2026-11-25T12:00:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert "serving the policy site" in _line_with(process, "serving")
        url = f"http://127.0.0.1:{port}/en/contact/"
        status, page = fetch(url)
        assert status == 200 and "Lighthouse" not in page
        site.edit("pages/contact.en.md", "ticket", "Lighthouse ticket")
        site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
        assert _eventually(lambda: "Lighthouse" in fetch(url)[1])
        assert fetch(f"http://127.0.0.1:{port}/en/no-such-page/")[0] == 404
        # Saved as many editors save: a temporary file renamed over the page.
        german = site.path("pages/contact.de.md")
        saved = german.with_name("contact.de.md.tmp")
        saved.write_text(german.read_text(encoding="utf-8").replace("Ticket", "Leuchtturm-Ticket", 1), encoding="utf-8")
        os.replace(saved, german)
        assert _eventually(lambda: "Leuchtturm" in fetch(f"http://127.0.0.1:{port}/de/contact/")[1])
        assert not incremental.manifest_path(site.cache, site.out).exists()  # held while serving
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert incremental.manifest_path(site.cache, site.out).exists()  # written back when it stopped
    assert not site.build().changed


def test_serve_restarts_when_the_policy_module_is_saved_by_renaming(site, monkeypatch):
    """Terms are Python: `serve` starts again to read them (a rename is how many editors save),
    once it has written back what it held."""
    from watchdog.events import FileMovedEvent

    from sitegen import serve

    restarts = []
    monkeypatch.setattr(serve.os, "execv", lambda *args: restarts.append(args))
    kept = serve.Kept(held={})
    serve.build(site.options(), kept)
    manifest = incremental.manifest_path(site.cache, site.out)
    assert not manifest.exists()  # held in memory while serving
    rebuilder = serve.Rebuilder(site.options(), now_fixed=True, kept=kept)
    rebuilder.on_any_event(FileMovedEvent(str(serve.POLICY_MODULE) + ".tmp", str(serve.POLICY_MODULE)))
    assert len(restarts) == 1 and not rebuilder.pending.is_set() and manifest.exists()
    rebuilder.on_any_event(FileMovedEvent(str(serve.POLICY_MODULE.with_name("db.py.tmp")),
                                          str(serve.POLICY_MODULE.with_name("db.py"))))
    assert len(restarts) == 1 and not rebuilder.pending.is_set()  # another portal module: nothing


def _line_with(process, text: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r}")


def _eventually(condition, seconds: float = 15) -> bool:
    """Polls a condition; the bound is a safety net, not a speed goal (see bench/)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_file_saved_during_a_build_never_poisons_the_cache(site, monkeypatch):
    """The text rendered is keyed by what was read, not by what is in the file by then."""
    from sitegen import write

    site.build()
    site.edit("pages/contact.en.md", "ticket", "first ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    render = write.render_markdown

    def save_while_rendering(text, memo):
        site.edit("pages/contact.en.md", "first ticket", "second ticket")
        return render(text, memo)

    monkeypatch.setattr(write, "render_markdown", save_while_rendering)
    site.build()
    assert "first ticket" in site.page("en/contact/index.html")
    monkeypatch.undo()
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    assert site.build().rendered_bodies == 1
    assert "second ticket" in site.page("en/contact/index.html")


def test_a_text_saved_after_it_was_read_fails_the_build(tmp_path):
    """A text read only to be rendered (it cites nothing) is rendered as it was read, or not
    at all: its HTML would be kept under the key of the text read first."""
    from sitegen.cite import Body
    from sitegen.incremental import body_key
    from sitegen.read import load

    path = tmp_path / "content" / "pages" / "home.en.md"
    path.parent.mkdir(parents=True)
    path.write_text("---\ntitle: Home\nsummary: Start\n---\nOld text.\n", encoding="utf-8")
    (doc,), _, _ = load(tmp_path / "content")
    path.write_text("---\ntitle: Home\nsummary: Start\n---\nNew text.\n", encoding="utf-8")
    with pytest.raises(BuildFailed, match="changed while the site was being built"):
        Body(doc, body_key("Old text.\n"), None).markdown()


def test_a_failed_render_fails_the_build_and_keeps_the_site(site, monkeypatch):
    from sitegen import write

    site.build()
    before = snapshot(site)
    site.edit("pages/contact.en.md", "ticket", "support ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    monkeypatch.setattr(write, "render_markdown", lambda text, memo: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        site.build()
    assert snapshot(site) == before
    assert not [p for p in site.root.iterdir() if ".tmp-" in p.name]  # no half-written site left beside
    monkeypatch.undo()
    site.build()
    assert "support ticket" in site.page("en/contact/index.html")
