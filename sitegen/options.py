"""What one build is asked to do: where the content is, where the site goes, the clock.

Kept apart from the builder, which imports every library of a build: the commands that
only read or write content (new-version, lock) need the options, not the builder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Options:
    content: Path = ROOT / "site" / "content"
    out: Path = ROOT / "build" / "site"
    cache: Path = ROOT / ".cache" / "sitegen"
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    jobs: int = os.cpu_count() or 1
    site_url: str = "https://1001sms.com"
    preview: bool = False  # a draft seen as published need not be locked yet

    def beside_content(self, name: str) -> Path:
        """templates/ and static/ sit beside the content folder; a content folder without
        its own uses the site's."""
        own = self.content.parent / name
        return own if own.exists() else ROOT / "site" / name

    @property
    def lock(self) -> Path:
        return self.content.parent / "published.lock"
