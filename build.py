#!/usr/bin/env python3
"""The policy site's command line.

    python build.py [--out DIR] [--content DIR] [--now ISO8601]   build the site
    python build.py check                                          run every check, write nothing
    python build.py serve [--host H] [--port P]                    build, serve, rebuild on change
    python build.py new-version POLICY --effective YYYY-MM-DD      start a new version
    python build.py lock                                           lock the text of published versions
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
from pathlib import Path

# Keep the generator's compiled modules (in __pycache__, ignored by git) even where
# PYTHONDONTWRITEBYTECODE is set, as in many containers: compiling them again took every
# build 15 ms, a one-page rebuild of 1,000 bench pages 5% of its 0.3 s (the target).
sys.dont_write_bytecode = False

from sitegen.options import Options  # noqa: E402
from sitegen.problems import BuildFailed  # noqa: E402

COMMANDS = ("build", "check", "serve", "new-version", "lock")


def parse(argv: list[str]) -> argparse.Namespace:
    command = argv[0] if argv and argv[0] in COMMANDS else "build"
    rest = argv[1:] if argv and argv[0] in COMMANDS else argv
    parser = argparse.ArgumentParser(prog=f"build.py {command}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Options()
    parser.add_argument("--content", type=Path, default=defaults.content, help="content folder (default: site/content)")
    parser.add_argument("--out", type=Path, default=defaults.out, help="output folder (default: build/site)")
    parser.add_argument("--cache", type=Path, default=defaults.cache, help="render cache folder (default: .cache/sitegen)")
    parser.add_argument("--now", type=_instant, default=None, help="the build clock, ISO 8601 (default: now)")
    parser.add_argument("--jobs", type=int, default=defaults.jobs, help="worker processes (default: all cores)")
    parser.add_argument("--site-url", default=defaults.site_url, help="absolute URL of the site, for feeds and sitemaps")
    parser.add_argument("--preview", action="store_true",
                        help="see drafts as published (with --now) without locking them first")
    if command == "serve":
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
    if command == "new-version":
        parser.add_argument("policy")
        parser.add_argument("--effective", type=date.fromisoformat, required=True)
        parser.add_argument("--published", type=date.fromisoformat, default=None,
                            help="publication date (default: tomorrow; until then the version is a draft)")
        parser.add_argument("--terms", type=Path, default=None, help="the Terms file (default: portal/terms.toml)")
    args = parser.parse_args(rest)
    args.command = command
    return args


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def options_from(args: argparse.Namespace) -> Options:
    options = Options(content=args.content, out=args.out, cache=args.cache, jobs=args.jobs, site_url=args.site_url,
                      preview=args.preview)
    if args.now:
        options.now = args.now
    return options


def main(argv: list[str]) -> int:
    args = parse(argv)
    options = options_from(args)
    try:
        if args.command == "build":
            from sitegen.pipeline import build

            print(build(options))
        elif args.command == "check":
            from sitegen.pipeline import check

            check(options)
            print("all checks passed")
        elif args.command == "serve":
            from sitegen.serve import serve

            serve(options, args.host, args.port, now_fixed=args.now is not None)
        elif args.command == "new-version":
            from sitegen.newversion import new_version

            from portal.policy import TERMS_FILE

            print(new_version(options, args.policy, args.effective, args.published, args.terms or TERMS_FILE))
        elif args.command == "lock":
            from sitegen.newversion import lock

            print(lock(options))
    except BuildFailed as failed:
        for problem in failed.problems:
            print(problem, file=sys.stderr)
        print(f"build failed: {len(failed.problems)} problem(s); the previous site is unchanged", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
