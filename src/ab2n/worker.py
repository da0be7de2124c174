"""``ab2n worker``: the service's heavy work (renders, upload analysis) on Celery, Redis as the broker.

The job row in the database is the truth; a task carries only an id. Tasks are acknowledged late
and rejected when their worker is lost, so the broker delivers them again; the guarded claim
(``WorkerPool.claim``) lets exactly one delivery render, heartbeats keep its lease, and every
worker runs a reaper that sends again what the broker may have lost (a queued job nobody took for
``requeue_s``, a running one whose lease ran out). Credits are captured in the same transaction
that marks the job done, so exactly once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from celery import Celery

from ab2n.server.jobs import WorkerPool
from ab2n.server.migrate import current_revision
from ab2n.server.queue import ANALYZE_QUEUE, ANALYZE_TASK, RENDER_QUEUE, RENDER_TASK, CeleryQueue
from ab2n.server.settings import Settings
from ab2n.server.storage import make_storage
from ab2n.server.store import make_engine, make_sessionmaker
from ab2n.server.work import analysed, make_renderer

log = logging.getLogger("ab2n.worker")


def make_app(settings: Settings) -> tuple[Celery, threading.Thread]:
    """The Celery app with its two tasks, bound to ``settings``' database and data folder, and the
    reaper thread (not started)."""
    if not settings.broker_url:
        raise ValueError("ab2n worker needs a broker: --broker-url redis://... (or AB2N_BROKER_URL)")
    engine = make_engine(settings.db_url)
    if current_revision(engine) is None:
        raise ValueError("the database has no ab2n schema yet: start `ab2n serve` on it once first")
    maker = make_sessionmaker(engine)
    storage = make_storage(settings)
    pool = WorkerPool(maker, settings, make_renderer(maker, settings, storage), storage)
    name = f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"
    app = Celery("ab2n", broker=settings.broker_url)
    app.conf.update(
        task_acks_late=True,  # a task is done when its render is, not when it starts
        task_reject_on_worker_lost=True,  # a worker killed mid-render gives its task back
        worker_prefetch_multiplier=1,  # a render is long: don't hoard them
        task_default_queue=RENDER_QUEUE,
        # The queues are read in the order given (not round robin): analysis first (see queue.py).
        broker_transport_options={"queue_order_strategy": "priority"},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    @app.task(name=RENDER_TASK)
    def render_job(job_id: str) -> bool:
        return pool.run_one(job_id, f"{name}-{threading.get_ident()}")

    @app.task(name=ANALYZE_TASK)
    def analyze_media(media_id: str) -> None:
        analysed(maker, storage, media_id)

    queue = CeleryQueue(settings.broker_url)

    def reap() -> None:
        while not pool.stop.wait(max(1.0, settings.lease_s)):
            try:
                for job_id in pool.requeue_lost(settings.requeue_s):
                    log.warning("re-sending job %s (lost message or dead worker)", job_id)
                    queue.render(job_id)
            except Exception:
                log.exception("reaper pass failed")

    return app, threading.Thread(target=reap, daemon=True, name="ab2n-reaper")


#: ``ab2n worker --only``: the queues each choice reads, in the order read.
QUEUES = {"both": (ANALYZE_QUEUE, RENDER_QUEUE), "analysis": (ANALYZE_QUEUE,), "renders": (RENDER_QUEUE,)}


def run(settings: Settings, *, concurrency: int, only: str = "both") -> None:
    """Run a worker until it is stopped (tasks on ``concurrency`` threads; ``only`` one kind: see QUEUES)."""
    app, reaper = make_app(settings)
    if settings.worker_nice:
        os.nice(settings.worker_nice)  # inherited by every thread started later and by FFmpeg
    reaper.start()
    app.worker_main(
        [
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--queues",
            ",".join(QUEUES[only]),
            "--loglevel",
            "WARNING",
        ]
    )
