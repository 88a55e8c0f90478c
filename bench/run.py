"""Entry point of `make bench`: runs the benchmarks and prints their tables.

    .venv/bin/python bench/run.py                       # every benchmark
    .venv/bin/python bench/run.py --only site --sizes 100,1000

Each benchmark is a module with `add_arguments(parser)` and `run(args) -> exit code`;
add one to BENCHMARKS to have it run here.
"""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {"site": "site_bench", "portal": "portal_bench", "rentals": "portal_rentals_bench",
              "jobs": "jobs_bench"}  # name -> module


def main(argv: list[str] | None = None) -> int:
    modules = {name: importlib.import_module(module) for name, module in BENCHMARKS.items()}
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(modules), action="append",
                        help="run only this benchmark (repeatable; default: all)")
    for module in modules.values():
        module.add_arguments(parser)
    args = parser.parse_args(argv)
    status = 0
    for name in args.only or list(modules):
        status = max(status, modules[name].run(args))
    return status


if __name__ == "__main__":
    sys.exit(main())
