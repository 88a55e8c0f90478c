"""The versions of installed libraries, read from their source files without importing them.

A build keys what it keeps between runs by the versions of the libraries that made it
(Markdown for rendered texts, Babel for formatted dates). Importing a library only to ask
its version would cost a small rebuild more than the rest of its work.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path


def version_in_source(package: str, module: str, name: str) -> str:
    """The literal assigned to ``name`` at the top level of ``package``'s file ``module``
    ("unknown" when the package or the assignment is not found)."""
    spec = importlib.util.find_spec(package)  # a top-level package: found, not imported
    try:
        text = (Path(spec.submodule_search_locations[0]) / module).read_text(encoding="utf-8")
    except (AttributeError, TypeError, IndexError, OSError):
        return "unknown"
    found = re.search(rf"^{re.escape(name)}\s*=\s*(.+?)\s*$", text, re.MULTILINE)
    return found.group(1).strip("'\"") if found else "unknown"
