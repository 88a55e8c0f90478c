"""Does this checkout's build.py write the same site, byte for byte, as an earlier commit's?

    .venv/bin/python bench/same_output.py [--rev REV] [--pages N]

Builds the real content (at a few build clocks) and a generated bench corpus of N pages
with the generator of REV (extracted with `git archive` into a temporary folder) and with
this checkout's, then compares every output file. Prints each difference; exits 1 if any.
tests/site/test_same_output.py runs it while the generator is being replaced.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import corpus  # noqa: E402

CORPUS_NOW = "2030-01-01T00:00:00+00:00"  # after every version of the corpus, as in site_bench
SITE_CLOCKS = ("2026-11-24T12:00:00Z", "2026-11-25T12:00:00Z", "2027-02-01T00:00:00Z")


def extract(rev: str, into: Path) -> Path:
    """The tree of commit ``rev``, written to ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def build(checkout: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, str(checkout / "build.py"), *args], cwd=checkout, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(checkout)})
    if done.returncode:
        raise RuntimeError(f"{checkout / 'build.py'} {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def differences(old: Path, new: Path) -> list[str]:
    """Every output file that only one site has or that differs between them."""
    old_files = {p.relative_to(old).as_posix() for p in old.rglob("*") if p.is_file()}
    new_files = {p.relative_to(new).as_posix() for p in new.rglob("*") if p.is_file()}
    found = [f"only in the old site: {rel}" for rel in sorted(old_files - new_files)]
    found += [f"only in the new site: {rel}" for rel in sorted(new_files - old_files)]
    found += [f"differs: {rel}" for rel in sorted(old_files & new_files)
              if not filecmp.cmp(old / rel, new / rel, shallow=False)]
    return found


def compare(rev: str, pages: int, work: Path) -> list[str]:
    """Build the real content and a corpus of ``pages`` pages with both generators."""
    old = extract(rev, work / "old")
    generated = corpus.generate(work / "corpus", pages)
    content = generated.root / "ours" / "content"
    build(old, "lock", "--content", str(content), "--now", CORPUS_NOW)
    cases = [(f"site at {now}", ["--now", now]) for now in SITE_CLOCKS]
    cases.append(("site previewed", ["--now", "2026-11-24T12:00:00Z", "--preview"]))
    cases.append((f"corpus of {pages} pages", ["--content", str(content), "--now", CORPUS_NOW]))
    found = []
    for index, (name, args) in enumerate(cases):
        sites = {}
        for label, checkout in (("old", old), ("new", REPO)):
            sites[label] = work / f"{label}-{index}"
            build(checkout, *args, "--out", str(sites[label]), "--cache", str(work / f"cache-{label}-{index}"))
        found += [f"{name}: {line}" for line in differences(sites["old"], sites["new"])]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", default="eaf68e7278b534a640ccf9839a4b3543bfb89187",
                        help="the commit whose generator is the reference (default: the last one before issue 19)")
    parser.add_argument("--pages", type=int, default=100, help="pages of the bench corpus (a multiple of 10)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="same-output-"))
    try:
        found = compare(args.rev, args.pages, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(found) or "the same site, byte for byte")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
