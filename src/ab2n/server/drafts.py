"""Draft history per file of a session: each upload has its own timeline, undo and redo.

A file key is a media id, ``MONTAGE`` (one timeline over all the files), or ``""`` (sessions
from before files had their own drafts). The session's ``active_key`` is the file that
"make it quieter" and the state's ``draft`` mean; an instruction for another file, or a new
upload, makes that one active.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ab2n.server.store import DraftRow, EditSession
from ab2n.timeline.draft import Draft


def cursor(sess: EditSession, key: str) -> int:
    """The current seq of ``key``'s history (-1: no draft yet)."""
    cursors = sess.cursors or {}
    if key in cursors:
        return int(cursors[key])
    return sess.cursor if key == "" else -1


def _set_cursor(sess: EditSession, key: str, seq: int) -> None:
    # A new dict: SQLAlchemy sees an assignment, not an in-place change of the JSON value.
    sess.cursors = {**(sess.cursors or {}), key: seq}
    if key == "":
        sess.cursor = seq


def file_draft(db: Session, sess: EditSession, key: str, *, back: int = 0) -> Draft | None:
    """The draft of one file at its cursor (``back`` drafts before it), or None before its first edit."""
    seq = cursor(sess, key) - back
    if seq < 0:
        return None
    row = db.execute(
        select(DraftRow).where(DraftRow.session_id == sess.id, DraftRow.file_key == key, DraftRow.seq == seq)
    ).scalar_one_or_none()
    return Draft.from_json(row.draft) if row else None


def active_draft(db: Session, sess: EditSession) -> Draft | None:
    """The active file's draft."""
    return file_draft(db, sess, sess.active_key)


def push_draft(db: Session, sess: EditSession, key: str, draft: Draft) -> None:
    """Record a new state of ``key``'s draft (drops its redo history beyond the cursor)."""
    seq = cursor(sess, key)
    stale = select(DraftRow).where(DraftRow.session_id == sess.id, DraftRow.file_key == key, DraftRow.seq > seq)
    for row in db.execute(stale).scalars():
        db.delete(row)
    _set_cursor(sess, key, seq + 1)
    db.add(DraftRow(session_id=sess.id, file_key=key, seq=seq + 1, draft=draft.to_json()))


def step(db: Session, sess: EditSession, key: str, delta: int) -> Draft | None:
    """Undo (-1) or redo (+1) on one file; returns the draft now current, or None if there is nothing to step to."""
    seq = cursor(sess, key) + delta
    last = db.query(DraftRow).filter(DraftRow.session_id == sess.id, DraftRow.file_key == key).count() - 1
    if not 0 <= seq <= last:
        return None
    _set_cursor(sess, key, seq)
    return file_draft(db, sess, key)
