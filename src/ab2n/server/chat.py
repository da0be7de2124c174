"""The service's chat: the chat engine over the session's database rows.

Runs synchronously in a worker thread; the SSE route only relays what ``emit`` receives, so a
client that disconnects loses nothing: the edit still runs to the end and is saved.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from ab2n.analyze.profile import VideoProfile
from ab2n.chat.engine import MONTAGE, Emit, answer, file_base_draft
from ab2n.media.probe import MediaInfo
from ab2n.pipeline import montage_on_downbeats
from ab2n.server import ledger
from ab2n.server.drafts import file_draft, push_draft, step
from ab2n.server.errors import SessionNotFound, public_message
from ab2n.server.jobs import create_job
from ab2n.server.queue import WorkQueue
from ab2n.server.settings import Settings
from ab2n.server.storage import make_storage
from ab2n.server.store import EditSession, Message, new_id
from ab2n.server.work import arrange, media_and_profiles, media_names
from ab2n.timeline.draft import Draft


class DbWorkspace:
    """A session's files and per-file drafts in the database (see ``chat.engine.Workspace``)."""

    def __init__(
        self,
        maker: sessionmaker[Session],
        settings: Settings,
        *,
        owner_id: str,
        session_id: str,
        base_url: str,
        queue: WorkQueue,
    ) -> None:
        self.maker = maker
        self.queue = queue
        self.storage = make_storage(settings)
        self.settings = settings
        self.owner_id = owner_id
        self.session_id = session_id
        self.base_url = base_url
        self._names = media_names(maker, session_id)
        # On a broker the workers analyse uploads: the service waits for their result, never computes it.
        self.wait_s = settings.analysis_wait_s if settings.broker_url else None
        self.edits = 0  # drafts pushed in this turn (an edit may cost credits)

    def _sess(self, db: Session) -> EditSession:
        sess = db.get(EditSession, self.session_id)
        if sess is None or sess.owner_id != self.owner_id:
            raise SessionNotFound("session not found")
        return sess

    def files(self) -> dict[str, str]:
        """Media id -> uploaded name."""
        return dict(self._names)

    def active(self) -> str:
        """The active file key."""
        with self.maker() as db:
            return self._sess(db).active_key

    def set_active(self, key: str) -> None:
        """Make ``key`` active."""
        with self.maker.begin() as db:
            self._sess(db).active_key = key

    def draft(self, key: str) -> Draft | None:
        """The file's current draft."""
        with self.maker() as db:
            return file_draft(db, self._sess(db), key)

    def push(self, key: str, draft: Draft) -> None:
        """Record a new draft state of one file."""
        with self.maker.begin() as db:
            push_draft(db, self._sess(db), key, draft)
        self.edits += 1

    def step(self, key: str, delta: int) -> Draft | None:
        """Undo/redo on one file."""
        with self.maker.begin() as db:
            return step(db, self._sess(db), key, delta)

    def previous(self, key: str) -> Draft | None:
        """The file's draft before the current one."""
        with self.maker() as db:
            return file_draft(db, self._sess(db), key, back=1)

    def load(self, key: str) -> tuple[dict[str, MediaInfo], dict[str, VideoProfile]]:
        """Probe and analyse only what the file shows."""
        only = None if key == MONTAGE else {key}
        return media_and_profiles(self.maker, self.storage, self.session_id, only=only, wait_s=self.wait_s)

    def base_draft(self, key: str, media: dict[str, MediaInfo], profiles: dict[str, VideoProfile]) -> Draft:
        """The file as uploaded."""
        return file_base_draft(key, media, self._names)

    def arrange(self, draft: Draft, media: Mapping[str, MediaInfo], profiles: Mapping[str, VideoProfile]) -> Draft:
        """Music chosen and arranged (track analysis cached under the data folder)."""
        return arrange(draft, dict(media), dict(profiles), self.settings)

    def montage(self, draft: Draft, media: Mapping[str, MediaInfo], profiles: Mapping[str, VideoProfile]) -> Draft:
        """Montage joins on the music's downbeats."""
        return montage_on_downbeats(draft, media, profiles, cache_dir=self.settings.data_dir / "cache")

    def export(self, items: list[tuple[str, str, Draft]], zh: bool) -> str:
        """One render job per file; the answer lists the job ids to poll."""
        refs: list[tuple[str, str]] = []
        ids: list[str] = []
        with self.maker.begin() as db:
            for _key, name, draft in items:
                ref = f"render_{new_id('chat').split('_')[1]}"
                job, _ = create_job(
                    db,
                    self.settings,
                    client_ref=ref,
                    owner_id=self.owner_id,
                    session_id=self.session_id,
                    draft=draft.to_json(),
                )
                refs.append((job.client_ref, name))
                ids.append(job.id)
        for job_id in ids:  # after the commit: a worker must find the row
            self.queue.render(job_id)
        poll = f"{self.base_url}/api/render/proxy/lambda/"
        if len(refs) == 1:
            ref = refs[0][0]
            if zh:
                return f"已开始导出，任务 {ref}。用 GET {poll}{ref} 查询进度，完成后 output_url 可下载 MP4。"
            return (
                f"Export started as job {ref}. Poll GET {poll}{ref}; when it is done, its output_url downloads the MP4."
            )
        listed = "; ".join(f"{name}: {ref}" for ref, name in refs)
        if zh:
            return f"已开始导出 {len(refs)} 个文件，每个一个任务（{listed}）。用 GET {poll}<id> 查询进度。"
        return f"Export started for {len(refs)} files, one job each ({listed}). Poll GET {poll}<id> for each."

    def credits(self, zh: bool) -> str:
        """The ledger's balance."""
        with self.maker() as db:
            bal = ledger.balance(db, self.owner_id)
        if zh:
            return f"积分：可用 {bal.available}，冻结 {bal.frozen}，合计 {bal.total}。"
        return f"Credits: {bal.available} available, {bal.frozen} frozen, {bal.total} total."

    def upload_hint(self, zh: bool) -> str:
        """The upload endpoint of this session."""
        url = f"{self.base_url}/api/upload-video/nemo_agent/me/{self.session_id}"
        if zh:
            return f'请先上传视频：POST {url}（multipart 字段 file，或 JSON {{"url": ...}}）。'
        return f"Upload a video first: POST the file to {url} (multipart field 'file', or JSON {{\"url\": ...}})."

    def export_hint(self, zh: bool) -> str:
        """No GUI on the other end: name the API action."""
        return (
            "说“导出”即可生成视频（POST /api/render/proxy/lambda）。"
            if zh
            else "Say 'export' to render it (POST /api/render/proxy/lambda)."
        )


def handle(
    maker: sessionmaker[Session],
    settings: Settings,
    *,
    owner_id: str,
    session_id: str,
    text: str,
    emit: Emit,
    base_url: str,
    queue: WorkQueue,
) -> None:
    """Route one message and emit the answer (always with text, never a server path)."""
    with maker.begin() as db:
        sess = db.get(EditSession, session_id)
        if sess is None or sess.owner_id != owner_id:
            raise SessionNotFound("session not found")
        db.add(Message(session_id=session_id, role="user", text=text))
    ws = DbWorkspace(maker, settings, owner_id=owner_id, session_id=session_id, base_url=base_url, queue=queue)
    reply = public_message(answer(text, ws, emit=emit))
    if ws.edits and settings.credits_enabled and settings.cost_edit:
        with maker.begin() as db:
            ref = new_id("edit")
            ledger.reserve(db, owner_id, settings.cost_edit, ref=ref, bind_url=settings.bind_url)
            ledger.capture(db, owner_id, ref)
    with maker.begin() as db:
        db.add(Message(session_id=session_id, role="assistant", text=reply))
    emit({"text": reply})


__all__ = ["DbWorkspace", "handle"]
