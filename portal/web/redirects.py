"""Where the portal may send a browser on (after signing in): only a path of this site, as
the browser itself will read it.

A browser reading a URL drops tab, CR and LF wherever they are and control characters and
spaces at either end, and reads a backslash as a slash; Werkzeug strips the same characters
from a header. So ``/<tab>/evil.example`` and ``/\\evil.example`` both lead to evil.example.
A target is taken only when it holds nothing that would be dropped or rewritten (printable
ASCII, no backslash), starts with one slash, and still does once percent-decoded and read
the browser's way (an encoded ``/%2f`` or ``/%09/`` may be decoded by another hop).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_UNTOUCHED = re.compile(r"[!-\[\]-~]+")  # printable ASCII but the backslash: left as it is
_DROPPED = re.compile(r"[\t\n\r]")
_ENDS = "".join(map(chr, range(0x21)))  # C0 control characters and the space


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path of this site however it is read, else ``None``."""
    if target and _UNTOUCHED.fullmatch(target) and _stays_here(target) \
            and _stays_here(unquote(target)):
        return target
    return None


def _stays_here(url: str) -> bool:
    read = _as_browser_reads(url)
    return read.startswith("/") and not read.startswith("//")


def _as_browser_reads(url: str) -> str:
    """``url`` as the WHATWG URL parser sees it before splitting it (for http and https)."""
    return _DROPPED.sub("", url.strip(_ENDS)).replace("\\", "/")
