"""Finished output files kept in the cache, by the key of what they were made from.

Every output has a key (the hash of everything it is made from, see pages.py). A build
hard-links each file it writes into this store, so a later build whose output folder was
emptied (or lost a file) links the file back instead of rendering it again: placing a
page costs a link, not a template run. Links share the file's data, so the store takes
almost no extra disk space.

A file edited in place under the output folder would change its stored twin too, so the
size and modification time of each stored file are recorded (in the build's manifest) and
a file that no longer matches is rendered again, never placed. Without hard links (the
cache on another filesystem) the store simply stays empty.
"""

from __future__ import annotations

import os
from pathlib import Path

Stamp = tuple[int, int]  # (size, mtime_ns) of a stored file


class OutputStore:
    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, key: str) -> str:
        return f"{self.folder}/{key}"  # one folder: making folders is slow on some disks

    def has(self, key: str, stamp: Stamp | None) -> bool:
        """Whether the file of ``key`` is stored and unchanged since ``stamp`` was taken."""
        if not stamp:
            return False
        try:
            found = os.stat(self.path(key))
        except OSError:
            return False
        return (found.st_size, found.st_mtime_ns) == tuple(stamp)

    def place(self, key: str, target: Path | str) -> None:
        """Link the stored file of ``key`` at ``target`` (whose folder exists)."""
        os.link(self.path(key), target)

    def keep(self, key: str, written: Path) -> Stamp:
        """Store the file just written at ``written`` under ``key``; its stamp."""
        found = os.stat(written)
        stored = self.path(key)
        try:
            os.link(written, stored)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(stored), exist_ok=True)
            os.link(written, stored)
        except FileExistsError:
            os.replace(_linked_beside(written, stored), stored)
        except OSError:  # no hard links here (another filesystem): nothing is stored
            return (-1, -1)
        return found.st_size, found.st_mtime_ns

    def drop(self, keys) -> None:
        """Forget the files of ``keys`` (outputs that no longer exist in that form)."""
        for key in keys:
            try:
                os.unlink(self.path(key))
            except OSError:
                pass


def _linked_beside(written: Path, stored: str) -> str:
    """A new link to ``written`` next to ``stored``, to replace it atomically."""
    fresh = f"{stored}.{os.getpid()}.tmp"
    try:
        os.unlink(fresh)
    except FileNotFoundError:
        pass
    os.link(written, fresh)
    return fresh
