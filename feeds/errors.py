"""seedfeed's exceptions; every one derives from SeedfeedError."""

from __future__ import annotations

from pathlib import Path


class SeedfeedError(Exception):
    """Base of every error seedfeed raises on purpose."""


class RejectedFile(SeedfeedError):
    """A file under `seeds/` that cannot become entries; recorded with its reason."""

    def __init__(self, rel_path: Path, reason: str) -> None:
        super().__init__(f"{rel_path}: {reason}")
        self.rel_path = rel_path
        self.reason = reason


class ConfigError(SeedfeedError):
    """A configuration that cannot be used; the message names the key and the file."""


class CatalogError(SeedfeedError):
    """A catalogue the user must act on: locked, read-only, corrupt or too new."""


class PublishError(SeedfeedError):
    """A document that cannot be written into `public/` (its file system full or read-only,
    a file where a folder belongs): nothing is lost, what is unwritten stays to publish."""
