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
from sitegen import model
from sitegen.options import ROOT
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
    report = site.build()
    assert report.rendered_bodies == len(list(site.content.rglob("*.md")))  # every text, once
    assert report.written == 0 or report.written > 0  # the output may be reused: it still exists
    assert snapshot(site)


def test_parallel_and_serial_builds_are_identical(site, tmp_path):
    site.build(jobs=1)
    serial = site_files(site.out)
    shutil.rmtree(site.cache)
    parallel_out = tmp_path / "parallel"
    from sitegen.builder import build

    build(replace(site.options(jobs=2), out=parallel_out))
    assert site_files(parallel_out) == serial


@pytest.mark.parametrize("emptied", [False, True])  # files replaced in place, or a new output folder
def test_a_small_rebuild_renders_its_text_beside_the_rest(site, monkeypatch, tmp_path, emptied):
    """On two cores, a rebuild with one text to render renders it in a forked process
    while the build loads Jinja2 and links the unchanged files: the site is the same as a
    single process builds."""
    from sitegen import builder, render

    site.build(jobs=2)
    site.edit("pages/contact.en.md", "ticket", "support ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    if emptied:
        shutil.rmtree(site.out)
    render.converter.cache_clear()  # as in a new process (other tests render in this one)
    forked = []
    aside = builder._aside
    monkeypatch.setattr(builder, "_aside", lambda function, items: forked.append(items) or aside(function, items))
    report = site.build(jobs=2)
    assert forked and report.rendered_bodies == 1
    assert report.written - report.placed == 1  # the contact page: the rest is kept or placed
    assert "support ticket" in site.page("en/contact/index.html")
    builder.build(replace(site.options(jobs=1), out=tmp_path / "serial", cache=tmp_path / "serial-cache"))
    assert site_files(site.out) == site_files(tmp_path / "serial")


def test_a_process_that_has_rendered_before_renders_a_text_itself(site, monkeypatch):
    """`serve` makes its converter once: an edit is then rendered sooner in its own process."""
    from sitegen import builder, render

    site.build(jobs=2)
    render.converter()
    monkeypatch.setattr(builder, "_aside", lambda function, items: pytest.fail("forked for one text"))
    site.edit("pages/contact.en.md", "ticket", "support ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    assert site.build(jobs=2).rendered_bodies == 1
    assert "support ticket" in site.page("en/contact/index.html")


@pytest.mark.parametrize("emptied", [False, True])
def test_a_failure_of_the_forked_renderer_fails_the_build_and_keeps_the_site(site, monkeypatch, capfd, emptied):
    from sitegen import builder, render

    site.build(jobs=2)
    render.converter.cache_clear()  # as in a new process (other tests render in this one)
    if emptied:
        shutil.rmtree(site.out)
    before = snapshot(site) if not emptied else None
    site.edit("pages/contact.en.md", "ticket", "support ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")

    def broken(indices):
        raise ZeroDivisionError("the renderer broke")

    monkeypatch.setattr(builder, "_render_body_groups", broken)
    with pytest.raises(RuntimeError, match="rendering Markdown beside the build failed"):
        site.build(jobs=2)
    assert "ZeroDivisionError: the renderer broke" in capfd.readouterr().err  # the forked process's traceback
    assert (not site.out.exists()) if emptied else snapshot(site) == before
    assert not [p for p in site.root.iterdir() if ".tmp-" in p.name]  # no half-written site left beside
    monkeypatch.undo()
    site.build(jobs=2)
    assert "support ticket" in site.page("en/contact/index.html")


def test_work_on_threads_is_done_once_and_raises_the_first_error():
    from sitegen.builder import _on_threads

    done = []
    _on_threads(done.append, list(range(100)), 4)
    assert sorted(done) == list(range(100))

    def link(item):
        if item == 7:
            raise OSError("no space left on device")

    with pytest.raises(OSError, match="no space left"):
        _on_threads(link, list(range(100)), 4)


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


@pytest.mark.parametrize("in_place_up_to", [64, 0])  # files replaced in place, or a new output folder
def test_removed_pages_disappear(site, monkeypatch, in_place_up_to):
    from sitegen import builder

    monkeypatch.setattr(builder, "IN_PLACE_UP_TO", in_place_up_to)
    site.build(now=datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert (site.out / "en/payment-refund/2027-01-01/index.html").exists()
    site.build(now=datetime(2026, 11, 24, 12, tzinfo=timezone.utc))  # before v2 was published
    assert not (site.out / "en/payment-refund/2027-01-01").exists()


# --- editors' commands -------------------------------------------------------------------


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_new_version_copies_every_language_and_names_what_is_left(site):
    result = cli("new-version", "payment-refund", "--effective", "2027-03-01", "--published", "2026-12-01",
                 "--content", str(site.content))
    assert result.returncode == 0, result.stderr
    for lang in ("en", "de"):
        text = site.path(f"payment-refund/2027-03-01.{lang}.md").read_text()
        assert 'version: "2027-03-01"' in text
        assert "Describe what this version changes" in text
    assert 'Terms(version="2027-03-01", published_at=_utc(2026, 12, 1)' in result.stdout
    # Until its Terms exist, the build says exactly that.
    site.unlock()
    from sitegen.problems import BuildFailed

    with pytest.raises(BuildFailed, match="version 2027-03-01 has no Terms"):
        site.build()


@pytest.mark.parametrize("changes", [
    {},  # the numbers of the seed: printed as **_SEED_TERMS
    {"card_refund_window": timedelta(days=14), "support_email": "help@1001sms.com",
     "failed_sms_credit_within": timedelta(hours=36), "business_days": (0, 1, 2, 3)},
])
def test_new_version_prints_terms_with_the_latest_versions_values(site, monkeypatch, changes):
    """The printed Terms keep every number of the latest version: pasted as they are, they
    must not quietly bring back an older value."""
    from sitegen.newversion import new_version

    latest = replace(policy.TERMS[-1], **changes)
    monkeypatch.setitem(model.TERMS_BY_POLICY, "payment-refund", (*policy.TERMS[:-1], latest))
    printed = new_version(site.options(), "payment-refund", date(2027, 6, 1), date(2027, 4, 1))
    entry = next(line.strip() for line in printed.splitlines() if line.strip().startswith("Terms("))
    pasted = eval(entry.removesuffix(","), vars(policy))  # as if pasted into TERMS in portal/policy.py
    assert pasted == replace(latest, version="2027-06-01", published_at=datetime(2027, 4, 1, tzinfo=timezone.utc),
                             effective_at=datetime(2027, 6, 1, tzinfo=timezone.utc), material=True)
    assert entry.endswith("**_SEED_TERMS),") == (not changes)


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
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_restarts_when_the_policy_module_is_saved_by_renaming(site, monkeypatch):
    """Terms are Python: `serve` starts again to read them (a rename is how many editors save)."""
    from watchdog.events import FileMovedEvent

    from sitegen import serve

    restarts = []
    monkeypatch.setattr(serve.os, "execv", lambda *args: restarts.append(args))
    rebuilder = serve.Rebuilder(site.options(), now_fixed=True)
    rebuilder.on_any_event(FileMovedEvent(str(serve.POLICY_MODULE) + ".tmp", str(serve.POLICY_MODULE)))
    assert len(restarts) == 1 and not rebuilder.pending.is_set()
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
    """The text rendered is keyed by what was read, not by what was planned."""
    from sitegen import builder
    from sitegen.problems import BuildFailed

    site.build()
    site.edit("pages/contact.en.md", "ticket", "first ticket")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    planned = builder._render_body_groups

    def save_while_building(indices):
        site.edit("pages/contact.en.md", "first ticket", "second ticket")
        return planned(indices)

    monkeypatch.setattr(builder, "_render_body_groups", save_while_building)
    with pytest.raises(BuildFailed, match="changed while the site was being built"):
        site.build()
    monkeypatch.undo()
    site.edit("pages/contact.en.md", "second ticket", "first ticket")  # the editor undoes
    site.build()
    assert "first ticket" in site.page("en/contact/index.html")


def test_documents_parsed_in_parallel_are_the_same(site, monkeypatch):
    from sitegen import content

    serial, serial_problems, _ = content.load(site.content)
    monkeypatch.setattr(content, "PARALLEL_FROM", 2)
    parallel, parallel_problems, _ = content.load(site.content, jobs=2)
    assert parallel == serial and parallel_problems == serial_problems
    assert [d.headings for d in parallel] == [d.headings for d in serial]


def test_folded_translations_render_what_jinja_renders(site, monkeypatch, tmp_path):
    site.build()
    folded = site_files(site.out)
    from sitegen import templates

    monkeypatch.setattr(templates, "fold_translations", lambda source, gettext: source)
    from sitegen.builder import build

    build(replace(site.options(), out=tmp_path / "plain", cache=tmp_path / "plain-cache"))
    assert {p: (tmp_path / "plain" / p).read_bytes() for p in folded} == folded
    assert "Inhalt" in site.page("de/payment-refund/index.html")


def test_a_record_replaced_by_another_process_is_read_again(tmp_path, monkeypatch):
    import marshal

    from sitegen import records

    monkeypatch.setattr(records, "KEEP_IN_MEMORY", True)

    path = tmp_path / "documents.record"
    records.write_record(path, {"a": 1})
    assert records.read_record(path) == {"a": 1}
    other = tmp_path / "other"
    other.write_bytes(marshal.dumps((records.RECORD_FORMAT, sys.version, {"a": 2})))
    os.replace(other, path)  # as another build would
    assert records.read_record(path) == {"a": 2}
    path.unlink()
    assert records.read_record(path) == {}


def test_a_staged_record_is_read_only_once_written(tmp_path, monkeypatch):
    """A large build writes the documents record before it forks its workers (they
    would each carry its bytes), but puts it in place only once the site is written."""
    from sitegen import records

    path = tmp_path / "documents.record"
    record = records.PendingRecord(path, records.record_bytes({"a": 1}), None)
    record.stage()
    assert not path.exists() and list(tmp_path.iterdir())  # written beside it
    assert records.read_record(path) == {}
    record.write()
    assert records.read_record(path) == {"a": 1}
    assert list(tmp_path.iterdir()) == [path]
