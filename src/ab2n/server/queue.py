"""Where new work goes: the embedded threads (they poll the job table) or Celery workers.

The job row is the truth either way; a Celery message carries only the job's (or media's) id.
"""

from __future__ import annotations

from typing import Protocol

from ab2n.server.settings import Settings

RENDER_TASK = "ab2n.render_job"
ANALYZE_TASK = "ab2n.analyze_media"
RENDER_QUEUE = "ab2n"
#: Analysis has a queue of its own that workers empty first: a chat turn waits for it, a render
#: is polled every 30 s, so an upload's analysis must not queue behind every waiting render.
ANALYZE_QUEUE = "ab2n.analyze"


class WorkQueue(Protocol):
    """Tells workers about new work."""

    def render(self, job_id: str) -> None:
        """A job row was committed."""

    def analyze(self, media_id: str) -> None:
        """An upload was committed."""


class EmbeddedQueue:
    """``ab2n serve`` alone: its worker threads find queued jobs themselves; analysis runs on first use."""

    def render(self, job_id: str) -> None:
        """Nothing to send."""

    def analyze(self, media_id: str) -> None:
        """Nothing to send."""


class CeleryQueue:
    """Sends task messages to ``ab2n worker``s through the broker."""

    def __init__(self, broker_url: str) -> None:
        from celery import Celery

        self.app = Celery("ab2n", broker=broker_url)

    def render(self, job_id: str) -> None:
        """Send the render task."""
        self.app.send_task(RENDER_TASK, args=[job_id], queue=RENDER_QUEUE)

    def analyze(self, media_id: str) -> None:
        """Send the analysis task."""
        self.app.send_task(ANALYZE_TASK, args=[media_id], queue=ANALYZE_QUEUE)


def make_queue(settings: Settings) -> WorkQueue:
    """Celery when a broker is set, else the embedded threads."""
    return CeleryQueue(settings.broker_url) if settings.broker_url else EmbeddedQueue()
