"""Where uploads and outputs live: a small storage interface, and the folder that implements it.

Rows name stored files by *key*, never by a machine's path: ``uploads/<random>.<ext>`` for an upload,
``outputs/<owner id>/<job id>.mp4`` for a render. Work happens on local files (FFmpeg and the
analysis read paths), so the interface is about moving a local file in and getting one out:

- an upload is received into ``receiving_path()``, probed there, then ``keep_upload`` stores it;
- a render writes to ``output_file()``, then ``keep_output`` stores it;
- ``local(key)`` is a readable local file for a key (where the analysis, the renderer and the
  download read it).

``FolderStorage`` is a folder every machine mounts (NFS, a cloud file share; docs/deploy.md): a
stored file is the local file, so keeping is a rename and ``local`` is a join. An object store
would implement the same seven methods: keep = upload then delete the local file, ``local`` = fetch
into a cache folder once. Rows written before keys existed hold absolute paths; ``local`` takes
those as they are.
"""

from __future__ import annotations

import secrets
from pathlib import Path, PurePosixPath
from typing import Protocol

from ab2n.server.settings import Settings

#: Marks a file still being received; the housekeeping sweep removes stale ones.
PARTIAL = ".partial"


def random_name(suffix: str = "") -> str:
    """A random file name (the user's name is metadata only)."""
    return secrets.token_hex(16) + suffix


class Storage(Protocol):
    """Uploads and outputs by key (see the module docstring)."""

    def receiving_path(self) -> Path:
        """A fresh local file name for an upload being received (kept once complete and probed)."""

    def keep_upload(self, received: Path, suffix: str) -> str:
        """Store a received upload; returns its key. ``received`` is gone afterwards."""

    def output_file(self, owner_id: str, job_id: str) -> Path:
        """The local file a job's render writes (its folder exists)."""

    def keep_output(self, written: Path, owner_id: str, job_id: str) -> str:
        """Store a finished render written at ``output_file(...)``; returns its key."""

    def local(self, key: str) -> Path:
        """A local file with the stored content of ``key``."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    def delete(self, key: str) -> None:
        """Remove ``key`` (nothing if it is gone already)."""


class FolderStorage:
    """A folder (``<data>/uploads``, ``<data>/outputs``): local, or mounted by every machine."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def receiving_path(self) -> Path:
        """``uploads/.<random>.partial``: on the same file system as the upload's final name."""
        return self.root / "uploads" / ("." + random_name(PARTIAL))

    def keep_upload(self, received: Path, suffix: str) -> str:
        """Rename the received file to a random name under ``uploads/``."""
        key = f"uploads/{random_name(suffix)}"
        received.rename(self.root / key)
        return key

    def output_file(self, owner_id: str, job_id: str) -> Path:
        """``outputs/<owner>/<job>.mp4`` (the renderer writes a temporary name beside it, then renames)."""
        folder = self.root / "outputs" / owner_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{job_id}.mp4"

    def keep_output(self, written: Path, owner_id: str, job_id: str) -> str:
        """The render is already in place: only its key."""
        key = f"outputs/{owner_id}/{job_id}.mp4"
        if written != self.root / key:
            written.replace(self.root / key)
        return key

    def local(self, key: str) -> Path:
        """The file itself. Keys come from rows the server wrote; one that climbs out is refused."""
        path = PurePosixPath(key)
        if path.is_absolute():  # a row from before keys: the path as it was written
            return Path(key)
        if ".." in path.parts:
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / path

    def exists(self, key: str) -> bool:
        """The file is there."""
        return self.local(key).is_file()

    def delete(self, key: str) -> None:
        """Unlink the file."""
        self.local(key).unlink(missing_ok=True)


def make_storage(settings: Settings) -> Storage:
    """The storage the settings name: today the data folder (shared by all machines on N machines)."""
    return FolderStorage(settings.data_dir.resolve())
