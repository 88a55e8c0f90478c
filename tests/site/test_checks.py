"""Every build check, made to fail: the build stops with the file, the line and a message."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from portal import policy
from sitegen import model
from sitegen.options import ROOT
from sitegen.problems import BuildFailed

V1_EN = "payment-refund/2026-11-24.en.md"
V1_DE = "payment-refund/2026-11-24.de.md"


def problems_of(site) -> list[str]:
    with pytest.raises(BuildFailed) as failed:
        site.build()
    return [str(p) for p in failed.value.problems]


def assert_problem(site, rel: str, line: int | None, fragment: str) -> None:
    problems = problems_of(site)
    where = f"{site.path(rel)}:{line}:" if line else f"{site.path(rel)}:"
    assert any(p.startswith(where) and fragment in p for p in problems), "\n".join(problems)


def test_the_real_site_passes_every_check(site):
    report = site.build()
    assert report.written > 0


def test_unknown_placeholder(site):
    line = site.edit(V1_EN, "{{ terms.card_refund_days }}", "{{ terms.card_refund_dayz }}")
    site.unlock()
    assert_problem(site, V1_EN, line, "unknown placeholder '{{ terms.card_refund_dayz }}'")


def test_placeholder_that_is_not_a_terms_name(site):
    line = site.edit("pages/contact.en.md", "{{ terms.support_email }}", "{{ config.email }}")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    assert_problem(site, "pages/contact.en.md", line, "unknown placeholder")


@pytest.mark.parametrize("literal, name", [("7", "card_refund_days"), ("48", "support_response_max_hours"),
                                           ("5", "deposit_min")])
def test_literal_number_that_should_be_cited(site, literal, name):
    line = site.edit(V1_EN, f"{{{{ terms.{name} }}}}", literal)
    site.unlock()
    assert_problem(site, V1_EN, line, f"literal {literal} equals a Terms value: cite")


def test_numbers_in_links_and_dates_are_not_citations(site):
    site.edit(V1_EN, "{{ terms.card_refund_days }}", "{{ terms.card_refund_days }} (see 2026-11-24, [x](/en/payment-refund/2026-11-24/))")
    site.set_translated_from(V1_DE, V1_EN)
    site.unlock()
    site.build()


def test_text_version_without_terms(site):
    for lang in ("en", "de"):
        source = site.path(f"payment-refund/2027-01-01.{lang}.md")
        target = site.path(f"payment-refund/2027-06-01.{lang}.md")
        target.write_text(source.read_text().replace('"2027-01-01"', '"2027-06-01"'))
    site.set_translated_from("payment-refund/2027-06-01.de.md", "payment-refund/2027-06-01.en.md")
    site.unlock()
    assert_problem(site, "payment-refund/2027-06-01.en.md", None, "has no Terms in portal/terms.toml")


def test_terms_without_text(site):
    for lang in ("en", "de"):
        site.path(f"payment-refund/2027-01-01.{lang}.md").unlink()
    site.unlock()
    problems = problems_of(site)
    assert any("Terms 2027-01-01 in portal/terms.toml have no text" in p for p in problems), problems


def test_missing_translation(site):
    site.path(V1_DE).unlink()
    site.unlock()
    assert_problem(site, V1_DE, 1, "missing the 'de' translation")


def test_translation_older_than_its_source(site):
    site.edit("pages/contact.en.md", "ticket", "support ticket")
    text = site.path("pages/contact.de.md").read_text()
    line = text[: text.index("translated_from")].count("\n") + 1
    assert_problem(site, "pages/contact.de.md", line, "translation is older than its English source")


@pytest.mark.parametrize("href, message", [
    ("/en/prices/", "broken link '/en/prices/' on /en/contact/: no page en/prices/index.html"),
    ("/en/payment-refund/#no-such-clause", "broken anchor '/en/payment-refund/#no-such-clause' on /en/contact/"),
    ("../payment-refund/2020-01-01/", "broken link '../payment-refund/2020-01-01/' on /en/contact/"),
    ("/en/payment-refund#card-deposit-refunds", "no page en/payment-refund (a page's address ends with '/': "
                                                "/en/payment-refund/)"),
])
def test_broken_internal_link_or_anchor(site, href, message):
    with site.path("pages/contact.en.md").open("a") as f:
        f.write(f"\nSee [this]({href}).\n")
    line = site.path("pages/contact.en.md").read_text().count("\n")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    assert_problem(site, "pages/contact.en.md", line, message)


def test_published_text_never_changes(site):
    site.edit(V1_EN, "Card", "Bank card")
    assert_problem(site, V1_EN, 1, "published text changed")


def test_published_file_never_disappears(site):
    site.path(V1_DE).unlink()
    problems = problems_of(site)
    assert any("published.lock:1: payment-refund/2026-11-24.de.md is published but its file is gone" in p for p in problems)


def test_unlocked_version(site):
    lock = site.options().lock
    lock.write_text("\n".join(l for l in lock.read_text().splitlines() if V1_EN not in l) + "\n")
    assert_problem(site, V1_EN, 1, "published but not in published.lock")


def test_material_change_without_notice(site, monkeypatch):
    hasty = replace(policy.TERMS[1], published_at=policy.TERMS[1].effective_at - timedelta(days=29))
    monkeypatch.setitem(model.TERMS_BY_POLICY, "payment-refund", (policy.TERMS[0], hasty))
    assert_problem(site, "payment-refund/2027-01-01.en.md", None, "a material change needs 30 days' notice, but takes effect 29 days"
                   " after publication (its dates are in its Terms in portal/terms.toml)")


def test_terms_that_take_effect_on_another_day_than_their_version(site, monkeypatch):
    late = replace(policy.TERMS[1], effective_at=policy.TERMS[1].effective_at + timedelta(days=4))
    monkeypatch.setitem(model.TERMS_BY_POLICY, "payment-refund", (policy.TERMS[0], late))
    assert_problem(site, "payment-refund/2027-01-01.en.md", None,
                   "the Terms of version 2027-01-01 in portal/terms.toml take effect on 2027-01-05")


def test_material_change_without_notice_in_front_matter(site):
    """A policy without Terms in code states its dates in front matter; same rule."""
    for lang in ("en", "de"):
        text = site.path(f"pages/home.{lang}.md").read_text().split("\n---\n", 1)[1]
        site.path("privacy").mkdir(exist_ok=True)
        meta = "title: Privacy\nversion: 2026-12-01\nsummary: First version.\npublished: 2026-11-20\neffective: 2026-12-01\nmaterial: true\n"
        meta += "translated_from: x\n" if lang == "de" else ""
        site.path(f"privacy/2026-12-01.{lang}.md").write_text(f"---\n{meta}---\n{text}")
    site.set_translated_from("privacy/2026-12-01.de.md", "privacy/2026-12-01.en.md")
    site.unlock()
    text = site.path("privacy/2026-12-01.en.md").read_text()
    assert_problem(site, "privacy/2026-12-01.en.md", 6, "needs 30 days' notice, but takes effect 11 days after")
    assert "effective" in text.splitlines()[5]


MALFORMED = [
    # (new head of the file, line, message)
    ("title: Payment & Refund Policy\n", 1, "front matter missing"),
    ("---\ntitle: [unclosed\n---\n", 3, "not valid YAML"),  # libyaml: where parsing stopped
    ("---\nversion: \"2026-11-24\"\nsummary: x\n---\n", 1, "front matter is missing 'title'"),
    ("---\ntitle: T\nversion: \"2026-11-24\"\nsummary: x\ncolour: blue\n---\n", 5, "unknown front matter key 'colour'"),
    ("---\ntitle: T\nversion: \"2026-11-25\"\nsummary: x\n---\n", 3, "differs from the file name"),
    ("---\ntitle: T\nversion: \"2026-11-24\"\nsummary: 12\n---\n", 4, "'summary' must be a non-empty str"),
    ("---\n- a list\n---\n", 2, "must be a mapping"),
    ("---\ntitle: T\n", 1, "not closed"),
]


@pytest.mark.parametrize("head, line, message", MALFORMED)
def test_malformed_front_matter(site, head, line, message):
    path = site.path(V1_EN)
    body = path.read_text().split("\n---\n", 1)[1]
    path.write_text(head + body)
    site.unlock()
    assert_problem(site, V1_EN, line, message)
    if message in ("front matter missing", "not valid YAML", "must be a mapping", "not closed"):
        # Nothing could be read: no key is reported missing on top (before the real problem).
        assert not [p for p in problems_of(site) if p.startswith(str(path)) and "is missing" in p]


def test_heading_without_id(site):
    line = site.edit(V1_EN, "## Pricing {#pricing}", "## Pricing")
    site.unlock()
    assert_problem(site, V1_EN, line, "heading 'Pricing' needs an explicit id")


@pytest.mark.parametrize("taken", ["contents", "summary", "redline", "main"])
def test_heading_with_an_id_the_templates_use(site, taken):
    line = site.edit(V1_EN, "{#pricing}", f"{{#{taken}}}")
    site.edit(V1_DE, "{#pricing}", f"{{#{taken}}}")
    site.unlock()
    assert_problem(site, V1_EN, line, f"heading id {taken!r} is used by the page around the text")


def test_front_matter_that_cites_terms(site):
    summary = site.path(V1_DE).read_text().split("summary: ")[1].split("\n")[0]
    line = site.edit(V1_DE, summary, '"Erstattung binnen {{ terms.card_refund_days }} Tagen."')
    site.unlock()
    assert_problem(site, V1_DE, line, "front matter 'summary' cannot cite Terms")


def test_a_summary_left_as_new_version_wrote_it(site):
    from sitegen.read import SUMMARY_TO_WRITE

    summary = site.path(V1_DE).read_text().split("summary: ")[1].split("\n")[0]
    line = site.edit(V1_DE, summary, SUMMARY_TO_WRITE)
    site.unlock()
    assert_problem(site, V1_DE, line, "write the summary of this version")


def _template_line(site, name: str, text: str) -> int:
    template = site.root / "site" / "templates" / name
    return template.read_text().split(text)[0].count("\n") + 1


@pytest.mark.parametrize("jobs", [1, 2])  # 2: a cold build, laid out by forked workers
@pytest.mark.parametrize("name, old, new, message", [
    ("version.html", "doc.meta.summary", "doc.meta.summry", "'dict object' has no attribute 'summry'"),
    ("version.html", "{% endblock %}", "{% endblok %}", "Encountered unknown tag 'endblok'"),
])
def test_a_template_mistake_fails_at_its_line(site, jobs, name, old, new, message):
    site.build()
    before = {p: p.read_bytes() for p in site.out.rglob("*") if p.is_file()}
    template = site.root / "site" / "templates" / name
    line = _template_line(site, name, old)
    template.write_text(template.read_text().replace(old, new, 1))
    if jobs == 2:
        import shutil

        shutil.rmtree(site.cache)
    with pytest.raises(BuildFailed) as failed:
        site.build(jobs=jobs)
    assert any(str(p).startswith(f"{template}:{line}: template error: ") and message in str(p)
               for p in failed.value.problems), failed.value
    assert {p: p.read_bytes() for p in site.out.rglob("*") if p.is_file()} == before


def test_translation_with_different_heading_ids(site):
    line = site.edit(V1_DE, "{#pricing}", "{#preise}")
    site.unlock()
    assert_problem(site, V1_DE, line, "heading id 'preise' is not in the English text")


def test_version_without_a_clause_the_portal_links_to(site):
    site.edit(V1_EN, "{#refund-abuse}", "{#abuse}")
    site.edit(V1_DE, "{#refund-abuse}", "{#abuse}")
    site.unlock()
    assert_problem(site, V1_EN, 1, "the portal links refusals to #refund-abuse")


def test_a_failed_build_leaves_the_previous_site_untouched(site):
    site.build()
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in site.out.rglob("*")}
    site.edit(V1_EN, "Card", "Bank card")
    with pytest.raises(BuildFailed):
        site.build()
    after = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in site.out.rglob("*")}
    assert after == before
    assert [p.name for p in site.out.parent.iterdir() if p.name.startswith(".")] == []


def test_a_failed_link_check_leaves_the_previous_site_untouched(site):
    site.build()
    before = sorted(p.relative_to(site.out) for p in site.out.rglob("*"))
    with site.path("pages/contact.en.md").open("a") as f:
        f.write("\n[x](/en/gone/)\n")
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    with pytest.raises(BuildFailed):
        site.build()
    assert sorted(p.relative_to(site.out) for p in site.out.rglob("*")) == before
    assert "/en/gone/" not in site.page("en/contact/index.html")
    assert [p.name for p in site.out.parent.iterdir() if p.name.startswith(".")] == []


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_cli_check_passes_on_the_real_site(tmp_path):
    result = run_cli("check", "--cache", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    assert "all checks passed" in result.stdout


def test_cli_reports_file_and_line_and_fails(site):
    line = site.edit(V1_EN, "{{ terms.card_refund_days }}", "{{ terms.nope }}")
    result = run_cli("--content", str(site.content), "--out", str(site.out), "--cache", str(site.cache),
                     "--now", "2026-11-25T12:00:00Z")
    assert result.returncode == 1
    assert f"{site.path(V1_EN)}:{line}: unknown placeholder" in result.stderr
    assert "the previous site is unchanged" in result.stderr
    assert not site.out.exists()


def test_problems_of_an_unchanged_file_are_reported_on_every_build(site):
    """Files whose bytes did not change are not parsed again; their problems still count."""
    line = site.edit("pages/contact.en.md", "{#", "{.x #", 1)
    site.edit("pages/contact.en.md", "{.x #", "", 1)
    site.set_translated_from("pages/contact.de.md", "pages/contact.en.md")
    for _ in range(2):
        with pytest.raises(BuildFailed, match=f"contact.en.md:{line}: heading .* needs an explicit id"):
            site.build()


def test_a_draft_may_change_until_it_is_published(site):
    """A version whose publication date is after the build clock is a draft: not locked,
    editable and previewable; from its publication on, its text is locked."""
    site.path("privacy").mkdir()
    for lang in ("en", "de"):
        body = "We keep little.\n\n## Data we keep {#data}\n\nYour e-mail address.\n"
        meta = "title: Privacy\nversion: 2027-02-01\nsummary: First version.\npublished: 2026-12-20\neffective: 2027-02-01\n"
        meta += "material: true\ntranslated_from: x\n" if lang == "de" else "material: true\n"
        site.path(f"privacy/2027-02-01.{lang}.md").write_text(f"---\n{meta}---\n{body}")
    site.set_translated_from("privacy/2027-02-01.de.md", "privacy/2027-02-01.en.md")
    site.build()  # 2026-11-25: a draft, not on the site and not locked
    assert not (site.out / "en/privacy").exists()
    site.edit("privacy/2027-02-01.en.md", "title: Privacy", "title: Privacy policy")
    site.set_translated_from("privacy/2027-02-01.de.md", "privacy/2027-02-01.en.md")
    site.build()
    published = datetime(2026, 12, 21, tzinfo=timezone.utc)
    site.build(now=published, preview=True)  # an editor's preview of publication day
    assert (site.out / "en/privacy/2027-02-01/index.html").exists()
    with pytest.raises(BuildFailed, match="privacy/2027-02-01.en.md:1: published but not in published.lock"):
        site.build(now=published)


def test_check_with_preview_checks_a_draft_as_it_will_be_published(site):
    """Drafts are not built at the real clock: `check --preview --now <publication>` is how
    an editor finds a broken link in one before publication day."""
    from sitegen.pipeline import check
    from sitegen.checks import write_lock

    v2 = policy.TERMS[1]
    site.edit(f"payment-refund/{v2.version}.en.md", "(/en/contact/)", "(/en/contact/#no-such-part)")
    site.set_translated_from(f"payment-refund/{v2.version}.de.md", f"payment-refund/{v2.version}.en.md")
    write_lock(site.options().lock, {})  # as before anything was published: no version locked yet
    with pytest.raises(BuildFailed, match=r"#no-such-part"):
        check(site.options(now=v2.published_at, preview=True))
