"""One user message -> events (tool call, tool result, text), routed as SPEC.md's table.

Runs synchronously in a worker thread; the SSE route only relays what ``emit`` receives, so a
client that disconnects loses nothing: the edit still runs to the end and is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ab2n.errors import Ab2nError
from ab2n.intent.parse import CAPABILITIES, CAPABILITIES_ZH, ParseResult, parse
from ab2n.server import ledger
from ab2n.server.errors import SessionNotFound, public_message
from ab2n.server.jobs import create_job
from ab2n.server.settings import Settings
from ab2n.server.store import DraftRow, EditSession, Message, new_id
from ab2n.server.work import arrange, base_draft, current_draft, media_and_profiles, push_draft
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
    result = parse(text)
    zh = result.lang == "zh"
    emit({"function_call": {"name": "route_message", "args": {"text": text}}})
    emit({"function_response": {"name": "route_message", "response": result.to_json()}})
    try:
        answer = _route(maker, settings, result, owner_id=owner_id, session_id=session_id, emit=emit, base_url=base_url)
    except Ab2nError as exc:
        answer = (
            f"没能完成：{public_message(exc.message)}（错误码 {exc.code}）"
            if zh
            else f"I couldn't do that: {public_message(exc.message)} (code {exc.code})."
        )
    with maker.begin() as db:
        db.add(Message(session_id=session_id, role="assistant", text=answer))
    emit({"text": answer})


def _route(
    maker: sessionmaker[Session],
    settings: Settings,
    result: ParseResult,
    *,
    owner_id: str,
    session_id: str,
    emit: Emit,
    base_url: str,
) -> str:
    cmd = result.command
    zh = result.lang == "zh"
    if cmd == "credits":
        with maker() as db:
            bal = ledger.balance(db, owner_id)
        return (
            f"积分：可用 {bal.available}，冻结 {bal.frozen}，合计 {bal.total}。"
            if zh
            else f"Credits: {bal.available} available, {bal.frozen} frozen, {bal.total} total."
        )
    if cmd == "status":
        with maker() as db:
            sess = db.get(EditSession, session_id)
            draft = current_draft(db, sess) if sess else None
        return (
            summarize(draft)
            if draft
            else ("时间线为空：请先上传视频。" if zh else "The timeline is empty: upload a video first.")
        )
    if cmd == "upload":
        url = f"{base_url}/api/upload-video/nemo_agent/me/{session_id}"
        return (
            f'上传：POST {url}（multipart 字段 file，或 JSON {{"url": ...}}）。'
            if zh
            else f"To upload, POST the file to {url} (multipart field 'file', or JSON {{\"url\": ...}})."
        )
    if cmd == "help":
        return ("我可以：" + CAPABILITIES_ZH) if zh else ("I can " + CAPABILITIES + ".")
    if cmd in ("undo", "redo"):
        with maker.begin() as db:
            sess = db.get(EditSession, session_id)
            assert sess is not None
            last = db.query(DraftRow).filter(DraftRow.session_id == session_id).count() - 1
            if (cmd == "undo" and sess.cursor <= 0) or (cmd == "redo" and sess.cursor >= last):
                return "没有可以撤销/重做的操作。" if zh else f"Nothing to {cmd}."
            sess.cursor += -1 if cmd == "undo" else 1
            draft = current_draft(db, sess)
        return (
            ("已撤销。" if cmd == "undo" else "已重做。") if zh else ("Undone. " if cmd == "undo" else "Redone. ")
        ) + (summarize(draft) if draft else "")
    if cmd == "export":
        job_id = f"render_{new_id('chat').split('_')[1]}"
        with maker.begin() as db:
            sess = db.get(EditSession, session_id)
            draft = current_draft(db, sess) if sess else None
            job, _ = create_job(
                db,
                settings,
                client_ref=job_id,
                owner_id=owner_id,
                session_id=session_id,
                draft=draft.to_json() if draft else None,
            )
        emit({"function_response": {"name": "export", "response": {"id": job.client_ref, "status": job.status}}})
        poll = f"{base_url}/api/render/proxy/lambda/{job.client_ref}"
        return (
            f"已开始导出，任务 {job.client_ref}。用 GET {poll} 查询进度，完成后 output_url 可下载 MP4。"
            if zh
            else f"Export started as job {job.client_ref}. Poll GET {poll}; when it is done, "
            "its output_url downloads the MP4."
        )
    if not result.edits:
        return result.unrecognised or ("I couldn't map that to an edit. I can " + CAPABILITIES + ".")

    media, profiles = media_and_profiles(maker, session_id)
    if not media:
        return (
            "请先上传视频（POST /api/upload-video/nemo_agent/me/<sid>），然后我再添加音乐。"
            if zh
            else "Upload a video first (POST /api/upload-video/nemo_agent/me/<session_id>), then I can add music."
        )
    with maker() as db:
        sess = db.get(EditSession, session_id)
        draft = (current_draft(db, sess) if sess else None) or base_draft(media, profiles)
    lines = []
    for edit in result.edits:
        emit({"function_call": {"name": edit.op, "args": edit.params}})
        draft = apply_said_edit(draft, edit)
        draft = arrange(draft, media, profiles, settings)
        lines.append(describe(edit, draft))
        emit({"function_response": {"name": edit.op, "response": {"ok": True}}})
    if settings.credits_enabled and settings.cost_edit:
        with maker.begin() as db:
            ref = new_id("edit")
            ledger.reserve(db, owner_id, settings.cost_edit, ref=ref, bind_url=settings.bind_url)
            ledger.capture(db, owner_id, ref)
    with maker.begin() as db:
        sess = db.get(EditSession, session_id)
        assert sess is not None
        push_draft(db, sess, draft)
    return (
        " ".join(lines)
        + "\n"
        + summarize(draft)
        + ("\n说“导出”即可生成视频。" if zh else "\nSay 'export' to render it (POST /api/render/proxy/lambda).")
    )


__all__ = ["handle"]
