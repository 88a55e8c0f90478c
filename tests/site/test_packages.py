"""Library versions read from their source files match what the libraries say once imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sitegen.options import ROOT
from sitegen.packages import version_in_source


def test_versions_read_from_source_are_the_libraries_own():
    import babel
    import markdown

    assert version_in_source("babel", "__init__.py", "__version__") == babel.__version__
    assert version_in_source("markdown", "__meta__.py", "__version_info__") == repr(markdown.__version_info__)


@pytest.mark.parametrize("package, module, name", [
    ("no_such_package_here", "__init__.py", "__version__"),  # not installed
    ("markdown", "no_such_file.py", "__version__"),  # no such file
    ("markdown", "__meta__.py", "__no_such_name__"),  # no such assignment
    ("markdown", "__meta__.py", "_get_version"),  # a def, not an assignment
])
def test_what_cannot_be_read_is_unknown(package, module, name):
    assert version_in_source(package, module, name) == "unknown"


def test_loading_the_builder_imports_neither_markdown_nor_jinja():
    """Most rebuilds render no Markdown and no template: they do not pay for importing them."""
    code = "import sys, sitegen.builder; print(sorted({'markdown', 'jinja2', 'yaml', 'babel'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
