"""Housekeeping: what a crash or time leaves on disk is removed, at start and every few minutes.

- Leftovers of jobs that are not running: temporary outputs (``.*.partial*``) and work folders
  (``work/<job id>``). A job reclaimed after a crash clears its own leftovers before it renders
  again (``clear_job_leftovers``), so a kill -9 never leaves files behind for good.
- Uploads still being received are ``.*.partial`` files; one untouched for ``stale_after_s`` belongs
  to a connection that died with its server.
- Outputs past ``output_days`` are deleted and their jobs forget the path (the download says expired).
- Rate-limit hits older than an hour are dropped.

Several server processes may share the data folder, so a file is removed only when its job is
not running, or when nobody has written it for ``stale_after_s``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ab2n.server.settings import Settings
from ab2n.server.storage import make_storage
from ab2n.server.store import Job, RateHit, now

log = logging.getLogger("ab2n.housekeeping")


def work_dir(settings: Settings, job_id: str) -> Path:
    """A job's own folder for intermediates."""
    return settings.data_dir / "work" / job_id


def clear_job_leftovers(settings: Settings, job: Job) -> None:
    """Remove what an earlier attempt of ``job`` left (its work folder, its temporary outputs)."""
    shutil.rmtree(work_dir(settings, job.id), ignore_errors=True)
    folder = settings.data_dir / "outputs" / job.owner_id
    for p in folder.glob(f".{job.id}.*partial*"):
        p.unlink(missing_ok=True)


def sweep(settings: Settings, maker: sessionmaker[Session]) -> int:
    """One pass of housekeeping; returns how many files or folders it removed."""
    t = now()
    with maker() as db:
        running = set(
            db.execute(select(Job.id).where(Job.status == "running", Job.lease_until >= t - settings.lease_s)).scalars()
        )
        expired = list(
            db.execute(
                select(Job).where(
                    Job.status == "done",
                    Job.output_path.is_not(None),
                    Job.finished_at < t - settings.output_days * 86400,
                )
            ).scalars()
        )
    removed = 0
    for entry in (settings.data_dir / "work").iterdir():
        if entry.name not in running or _stale(entry, settings):
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            removed += 1
    for p in (settings.data_dir / "outputs").rglob(".*partial*"):
        job_id = p.name[1:].split(".", 1)[0]
        if job_id not in running or _stale(p, settings):
            p.unlink(missing_ok=True)
            removed += 1
    for p in (settings.data_dir / "uploads").glob(".*.partial"):
        if _stale(p, settings):
            p.unlink(missing_ok=True)
            removed += 1
    with maker.begin() as db:  # hits of clients that went quiet (active ones trim their own)
        db.execute(delete(RateHit).where(RateHit.at < t - 3600))
    storage = make_storage(settings)
    for job in expired:
        if job.output_path:
            storage.delete(job.output_path)
        with maker.begin() as db:
            row = db.get(Job, job.id)
            if row is not None:
                row.output_path = None
        removed += 1
    return removed


def _stale(path: Path, settings: Settings) -> bool:
    try:
        times = [path.stat().st_mtime]
        if path.is_dir():
            times += [p.stat().st_mtime for p in path.rglob("*")]
    except FileNotFoundError:
        return False
    newest = max(times)
    return time.time() - newest > settings.stale_after_s


class Housekeeper:
    """Runs ``sweep`` at start and every ``sweep_every_s`` on a daemon thread."""

    def __init__(self, settings: Settings, maker: sessionmaker[Session]) -> None:
        self.settings = settings
        self.maker = maker
        self.stop = threading.Event()

    def start(self) -> None:
        """Sweep once now (before workers start), then periodically."""
        self._pass()
        threading.Thread(target=self._loop, daemon=True, name="ab2n-housekeeping").start()

    def _loop(self) -> None:
        while not self.stop.wait(self.settings.sweep_every_s):
            self._pass()

    def _pass(self) -> None:
        try:
            n = sweep(self.settings, self.maker)
            if n:
                log.info("housekeeping removed %d leftovers", n)
        except Exception:
            log.exception("housekeeping failed")
