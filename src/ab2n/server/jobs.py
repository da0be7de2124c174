"""Durable render jobs: the job row is the truth; workers claim it with a lease and heartbeat.

- ``create_job`` reserves the credits and inserts the job in one transaction (idempotent on id).
- A worker claims the oldest queued job, or a running one whose lease ran out (its worker died),
  with a guarded UPDATE; while rendering it extends the lease every ``heartbeat_s``.
- Success: the output is renamed into place, then job ``done`` + credit capture commit together.
- A bad input (an Ab2nError with a 4xxx/400 code) fails the job once and releases the credits;
  anything else is retried until ``max_attempts`` (a crash is just a lease that expires).
"""

from __future__ import annotations

import logging
import shutil
import threading
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ab2n.errors import Ab2nError
from ab2n.server import ledger
from ab2n.server.errors import public_message
from ab2n.server.housekeeping import clear_job_leftovers, work_dir
from ab2n.server.settings import Settings
from ab2n.server.storage import Storage
from ab2n.server.store import Job, new_id, now

log = logging.getLogger("ab2n.jobs")

RenderFn = Callable[[Job, Path, Callable[[float], None]], None]


def find_job(db: Session, owner_id: str, client_ref: str) -> Job | None:
    """The caller's job with the id it chose (another client's job of that name is invisible)."""
    return db.execute(select(Job).where(Job.owner_id == owner_id, Job.client_ref == client_ref)).scalar_one_or_none()


def create_job(
    db: Session,
    settings: Settings,
    *,
    client_ref: str,
    owner_id: str,
    session_id: str,
    draft: dict[str, Any] | None,
) -> tuple[Job, bool]:
    """Insert a queued job (reserving its cost), or return the caller's existing one with that id.

    The row's own id is the server's: it names the output file and the credit reservation, so
    nothing a client writes reaches a file name.

    Returns:
        (job, created)
    """
    existing = find_job(db, owner_id, client_ref)
    if existing is not None:
        return existing, False
    job_id = new_id("job")
    cost = settings.cost_export if settings.credits_enabled else 0
    ledger.reserve(db, owner_id, cost, ref=job_id, bind_url=settings.bind_url)
    job = Job(
        id=job_id,
        client_ref=client_ref,
        owner_id=owner_id,
        session_id=session_id,
        status="queued",
        draft=draft,
        cost=cost,
        lease_until=now() + settings.requeue_s,  # on a broker: the reaper re-sends it only if it waits this long
    )
    db.add(job)
    return job, True


class WorkerPool:
    """N worker threads inside ``ab2n serve`` (the embedded default)."""

    def __init__(self, maker: sessionmaker[Session], settings: Settings, render: RenderFn, storage: Storage) -> None:
        self.maker = maker
        self.storage = storage
        self.settings = settings
        self.render = render
        self.boot = uuid.uuid4().hex[:8]
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the workers."""
        for i in range(self.settings.workers):
            t = threading.Thread(target=self._loop, args=(f"{self.boot}-{i}",), daemon=True, name=f"ab2n-worker-{i}")
            t.start()
            self.threads.append(t)

    def shutdown(self) -> None:
        """Ask workers to stop after their current job."""
        self.stop.set()

    def _loop(self, worker: str) -> None:
        while not self.stop.is_set():
            try:
                job = self.claim(worker)
            except Exception:
                log.warning("claim failed: %s", traceback.format_exc(limit=1))
                job = None
            if job is None:
                self.stop.wait(0.3)
                continue
            self.run(job, worker)

    def claim(self, worker: str, job_id: str | None = None) -> Job | None:
        """Take one job (``job_id``, or the oldest): queued, or running with an expired lease (its
        worker died). The guarded UPDATE lets exactly one claimer win, so a task delivered twice
        renders once."""
        with self.maker.begin() as db:
            t = now()
            claimable = or_(Job.status == "queued", (Job.status == "running") & (Job.lease_until < t))
            if job_id is None:
                cand = db.execute(
                    select(Job.id).where(claimable).order_by(Job.created_at).limit(1)
                ).scalar_one_or_none()
            else:
                cand = job_id
            if cand is None:
                return None
            res = db.execute(
                update(Job)
                .where(Job.id == cand, claimable)
                .values(
                    status="running",
                    worker=worker,
                    lease_until=t + self.settings.lease_s,
                    attempts=Job.attempts + 1,
                )
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return db.get(Job, cand)

    def run_one(self, job_id: str, worker: str) -> bool:
        """Claim and render one job by id (a Celery task's body); False if another worker has it."""
        job = self.claim(worker, job_id)
        if job is None:
            return False
        self.run(job, worker)
        return True

    def requeue_lost(self, requeue_s: float) -> list[str]:
        """Jobs whose message may be lost: queued and not re-sent for ``requeue_s``, or running with
        an expired lease (its worker died). Each is marked re-sent (guarded, so one reaper of many
        wins) and returned for the caller to enqueue again."""
        t = now()
        lost = or_(
            (Job.status == "queued") & (Job.lease_until < t),
            (Job.status == "running") & (Job.lease_until < t),
        )
        out = []
        with self.maker.begin() as db:
            for job_id in db.execute(select(Job.id).where(lost).limit(100)).scalars().all():
                res = db.execute(
                    update(Job).where(Job.id == job_id, lost).values(status="queued", lease_until=t + requeue_s)
                )
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    out.append(job_id)
        return out

    def run(self, job: Job, worker: str) -> None:
        """Render one claimed job with heartbeats, then settle it."""
        out = self.storage.output_file(job.owner_id, job.id)  # named by the server's job id
        done = threading.Event()
        progress = [0.0]

        def beat() -> None:
            while not done.wait(self.settings.heartbeat_s):
                with self.maker.begin() as db:
                    db.execute(
                        update(Job)
                        .where(Job.id == job.id, Job.worker == worker)
                        .values(lease_until=now() + self.settings.lease_s, progress=round(progress[0], 3))
                    )

        hb = threading.Thread(target=beat, daemon=True)
        hb.start()
        error: BaseException | None = None
        clear_job_leftovers(self.settings, job)  # an earlier attempt may have died mid-render
        try:
            if job.attempts > self.settings.max_attempts:
                raise RuntimeError(f"gave up after {job.attempts - 1} attempts")
            self.render(job, out, lambda f: progress.__setitem__(0, f))
        except BaseException as exc:
            error = exc
        finally:
            done.set()
            hb.join(timeout=5)
            shutil.rmtree(work_dir(self.settings, job.id), ignore_errors=True)
        with self.maker.begin() as db:
            row = db.get(Job, job.id)
            if row is None or row.worker != worker or row.status != "running":
                return  # lost the lease to another worker: it owns the job now
            if error is None:
                key = self.storage.keep_output(out, row.owner_id, row.id)
                row.status, row.progress, row.output_path, row.finished_at = "done", 1.0, key, now()
                ledger.capture(db, row.owner_id, row.id)  # same transaction as the completion
                return
            bad_input = isinstance(error, Ab2nError) and error.code in (400, 404, 4001, 4002)
            if bad_input or row.attempts >= self.settings.max_attempts:
                row.status, row.finished_at = "failed", now()
                row.error_code = error.code if isinstance(error, Ab2nError) else 500
                row.error = public_message(error.message) if isinstance(error, Ab2nError) else "render failed"
                ledger.release(db, row.owner_id, row.id)
            else:
                row.status, row.lease_until = "queued", 0.0  # retry
            log.warning("job %s: %s", job.id, error)
