"""One user message -> events (tool call, tool result, text), routed as SPEC.md's table.

Runs synchronously in a worker thread; the SSE route only relays what ``emit`` receives, so a
client that disconnects loses nothing: the edit still runs to the end and is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ab2n.errors import Ab2nError
from ab2n.intent.address import Address, parse_address
from ab2n.intent.parse import CAPABILITIES, CAPABILITIES_ZH, ParseResult, detect_lang, parse
from ab2n.pipeline import montage_on_downbeats
from ab2n.server import ledger
from ab2n.server.drafts import MONTAGE, file_draft, push_draft, step
from ab2n.server.errors import SessionNotFound, public_message
from ab2n.server.jobs import create_job
from ab2n.server.settings import Settings
from ab2n.server.store import EditSession, Message, new_id
from ab2n.server.work import arrange, base_draft, media_and_profiles, media_names
from ab2n.timeline.draft import Draft
from ab2n.timeline.edits import Edit, apply_said_edit
from ab2n.timeline.summary import summarize

Emit = Callable[[dict[str, Any]], None]


def describe(edit: Edit, draft: Draft) -> str:
    """One human line for an applied edit."""
    p = edit.params
    m = draft.music
    match edit.op:
        case "add_music" | "replace_music":
            if m is None:
                return "Music removed."
            what = m.track_title or "a track"
            vol = f", {m.volume * 100:.0f}%" if m.volume is not None else ""
            return f"Background music: {what} ({m.plan.get('mood') if m.plan else m.mood or 'auto'}{vol})."
        case "set_music_volume":
            return f"Music volume now {m.volume * 100:.0f}%." if m and m.volume is not None else "Music volume changed."
        case "remove_music":
            return "Music removed."
        case "set_fades":
            return "Music fades set."
        case "add_text":
            return f'Title "{p.get("text")}" added.'
        case "remove_text":
            return "Title removed."
        case "set_aspect":
            return f"Aspect set to {p.get('preset')}."
        case "set_original_audio":
            return "Original audio muted." if p.get("mode") == "mute" else "Original audio kept."
        case "trim":
            return f"Trimmed to {draft.duration_ms / 1000:.1f} s."
        case "set_loudness":
            return f"Loudness target {p.get('target_lufs')} LUFS."
    return f"{edit.op} done."


@dataclass
class Turn:
    """One message being answered: who, where, which files it addresses, and how to talk back."""

    maker: sessionmaker[Session]
    settings: Settings
    owner_id: str
    session_id: str
    emit: Emit
    base_url: str
    result: ParseResult
    address: Address
    names: dict[str, str]  # media id -> uploaded name, in upload order

    @property
    def zh(self) -> bool:
        """Answer in Chinese."""
        return self.result.lang == "zh"

    def say(self, en: str, zh: str) -> str:
        """The answer in the message's language."""
        return zh if self.zh else en

    def keys(self, active: str) -> list[str]:
        """The file keys this message is about (the active file when it names none)."""
        ids = list(self.names)
        if self.address.kind == "all":
            return ids
        if self.address.kind == "montage":
            return [MONTAGE]
        if self.address.kind == "one" and self.address.index is not None:
            return [ids[self.address.index]]
        return [active if active in (*ids, MONTAGE) else (ids[-1] if ids else "")]

    def label(self, key: str) -> str:
        """How a person calls the file: its uploaded name."""
        if key == MONTAGE:
            return self.say("the montage", "混剪")
        return self.names.get(key) or self.say("the video", "视频")


def handle(
    maker: sessionmaker[Session],
    settings: Settings,
    *,
    owner_id: str,
    session_id: str,
    text: str,
    emit: Emit,
    base_url: str,
) -> None:
    """Route one message and emit the answer (always with text)."""
    with maker.begin() as db:
        sess = db.get(EditSession, session_id)
        if sess is None or sess.owner_id != owner_id:
            raise SessionNotFound("session not found")
        db.add(Message(session_id=session_id, role="user", text=text))
    names = media_names(maker, session_id)
    address = parse_address(text, list(names.values()), lang=detect_lang(text))
    result = parse(address.text or text)
    turn = Turn(maker, settings, owner_id, session_id, emit, base_url, result, address, names)
    emit({"function_call": {"name": "route_message", "args": {"text": text}}})
    emit({"function_response": {"name": "route_message", "response": {**result.to_json(), "files": address.kind}}})
    try:
        answer = _route(turn)
    except Ab2nError as exc:
        msg = public_message(exc.message)
        answer = turn.say(f"I couldn't do that: {msg} (code {exc.code}).", f"没能完成：{msg}（错误码 {exc.code}）")
    with maker.begin() as db:
        db.add(Message(session_id=session_id, role="assistant", text=answer))
    emit({"text": answer})


def _route(turn: Turn) -> str:
    cmd = turn.result.command
    handler = _COMMANDS.get(cmd or "")
    if handler is not None:
        return handler(turn)
    if turn.address.kind == "montage" and not turn.result.edits:
        return _edit(turn, [Edit("add_music", {})])
    if not turn.result.edits:
        return turn.result.unrecognised or ("I couldn't map that to an edit. I can " + CAPABILITIES + ".")
    return _edit(turn, turn.result.edits)


def _credits(turn: Turn) -> str:
    with turn.maker() as db:
        bal = ledger.balance(db, turn.owner_id)
    return turn.say(
        f"Credits: {bal.available} available, {bal.frozen} frozen, {bal.total} total.",
        f"积分：可用 {bal.available}，冻结 {bal.frozen}，合计 {bal.total}。",
    )


def _status(turn: Turn) -> str:
    with turn.maker() as db:
        sess = _session(db, turn)
        keys = list(turn.names) if len(turn.names) > 1 and turn.address.kind == "active" else turn.keys(sess.active_key)
        drafts = {k: file_draft(db, sess, k) for k in keys}
        active = sess.active_key
    if not turn.names:
        return turn.say("The timeline is empty: upload a video first.", "时间线为空：请先上传视频。")
    lines = []
    for k, d in drafts.items():
        mark = " (active)" if k == active and len(drafts) > 1 else ""
        text = summarize(d) if d else turn.say("no edits yet", "还没有编辑")
        lines.append(f"{turn.label(k)}{mark}: {text}" if len(drafts) > 1 else text)
    return "\n".join(lines)


def _upload(turn: Turn) -> str:
    url = f"{turn.base_url}/api/upload-video/nemo_agent/me/{turn.session_id}"
    return turn.say(
        f"To upload, POST the file to {url} (multipart field 'file', or JSON {{\"url\": ...}}).",
        f'上传：POST {url}（multipart 字段 file，或 JSON {{"url": ...}}）。',
    )


def _help(turn: Turn) -> str:
    return turn.say("I can " + CAPABILITIES + ".", "我可以：" + CAPABILITIES_ZH)


def _step(turn: Turn) -> str:
    undo = turn.result.command == "undo"
    with turn.maker.begin() as db:
        sess = _session(db, turn)
        key = turn.keys(sess.active_key)[0]
        draft = step(db, sess, key, -1 if undo else 1)
        if draft is not None:
            sess.active_key = key
    if draft is None:
        return turn.say(f"Nothing to {turn.result.command}.", "没有可以撤销/重做的操作。")
    done = turn.say("Undone" if undo else "Redone", "已撤销" if undo else "已重做")
    where = f" ({turn.label(key)})" if len(turn.names) > 1 else ""
    return f"{done}{where}. {summarize(draft)}"


def _export(turn: Turn) -> str:
    jobs: list[tuple[str, str]] = []
    with turn.maker.begin() as db:
        sess = _session(db, turn)
        keys = turn.keys(sess.active_key)
        for key in keys:
            draft = file_draft(db, sess, key)
            if draft is None:
                draft = _fresh_draft(turn, key)
            job_id = f"render_{new_id('chat').split('_')[1]}"
            job, _ = create_job(
                db,
                turn.settings,
                client_ref=job_id,
                owner_id=turn.owner_id,
                session_id=turn.session_id,
                draft=draft.to_json(),
            )
            jobs.append((job.client_ref, turn.label(key)))
        if len(keys) == 1:
            sess.active_key = keys[0]
    for ref, _name in jobs:
        turn.emit({"function_response": {"name": "export", "response": {"id": ref, "status": "queued"}}})
    poll = f"{turn.base_url}/api/render/proxy/lambda/"
    if len(jobs) == 1:
        ref = jobs[0][0]
        return turn.say(
            f"Export started as job {ref}. Poll GET {poll}{ref}; when it is done, its output_url downloads the MP4.",
            f"已开始导出，任务 {ref}。用 GET {poll}{ref} 查询进度，完成后 output_url 可下载 MP4。",
        )
    listed = "; ".join(f"{name}: {ref}" for ref, name in jobs)
    return turn.say(
        f"Export started for {len(jobs)} files, one job each ({listed}). Poll GET {poll}<id> for each.",
        f"已开始导出 {len(jobs)} 个文件，每个一个任务（{listed}）。用 GET {poll}<id> 查询进度。",
    )


_COMMANDS: dict[str, Callable[[Turn], str]] = {
    "credits": _credits,
    "status": _status,
    "upload": _upload,
    "help": _help,
    "undo": _step,
    "redo": _step,
    "export": _export,
}


def _session(db: Session, turn: Turn) -> EditSession:
    sess = db.get(EditSession, turn.session_id)
    if sess is None:
        raise SessionNotFound("session not found")
    return sess


def _fresh_draft(turn: Turn, key: str) -> Draft:
    """A file's draft as uploaded (probing/analysing only what it shows)."""
    only = None if key == MONTAGE else {key}
    media, profiles = media_and_profiles(turn.maker, turn.session_id, only=only)
    return base_draft(key, media, profiles, turn.names)


def _edit(turn: Turn, edits: list[Edit]) -> str:
    """Apply the edits to every file the message addresses; each file keeps its own history."""
    if not turn.names:
        return turn.say(
            "Upload a video first (POST /api/upload-video/nemo_agent/me/<session_id>), then I can add music.",
            "请先上传视频（POST /api/upload-video/nemo_agent/me/<sid>），然后我再添加音乐。",
        )
    with turn.maker() as db:
        sess = _session(db, turn)
        keys = turn.keys(sess.active_key)
        drafts = {k: file_draft(db, sess, k) for k in keys}
    lines: list[str] = []
    done: dict[str, Draft] = {}
    for key in keys:
        only = None if key == MONTAGE else {key}
        media, profiles = media_and_profiles(turn.maker, turn.session_id, only=only)
        draft = drafts[key] or base_draft(key, media, profiles, turn.names)
        changes = []
        for edit in edits:
            turn.emit({"function_call": {"name": edit.op, "args": edit.params}})
            draft = arrange(apply_said_edit(draft, edit), media, profiles, turn.settings)
            changes.append(describe(edit, draft))
            turn.emit({"function_response": {"name": edit.op, "response": {"ok": True}}})
        if key == MONTAGE:
            draft = montage_on_downbeats(draft, media, profiles, cache_dir=turn.settings.data_dir / "cache")
        done[key] = draft
        prefix = f"{turn.label(key)}: " if len(turn.names) > 1 else ""
        lines.append(prefix + " ".join(changes) + "\n" + summarize(draft))
    _charge_edit(turn)
    with turn.maker.begin() as db:
        sess = _session(db, turn)
        for key, draft in done.items():
            push_draft(db, sess, key, draft)
        if len(keys) == 1:
            sess.active_key = keys[0]
    return "\n".join(lines) + turn.say(
        "\nSay 'export' to render it (POST /api/render/proxy/lambda).", "\n说“导出”即可生成视频。"
    )


def _charge_edit(turn: Turn) -> None:
    if turn.settings.credits_enabled and turn.settings.cost_edit:
        with turn.maker.begin() as db:
            ref = new_id("edit")
            ledger.reserve(db, turn.owner_id, turn.settings.cost_edit, ref=ref, bind_url=turn.settings.bind_url)
            ledger.capture(db, turn.owner_id, ref)


__all__ = ["handle"]
