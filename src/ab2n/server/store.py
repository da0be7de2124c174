"""The database: SQLAlchemy 2 models and engine (SQLite with WAL by default, PostgreSQL by URL).

On SQLite every transaction starts with ``BEGIN IMMEDIATE``: writers are serialised, so guarded
updates (credit reservations, job claims) are correct across threads and processes.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


def now() -> float:
    """Wall-clock seconds (UNIX time) for rows."""
    return time.time()


def new_id(prefix: str) -> str:
    """A random id like ``ses_3f2a...``."""
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class Base(DeclarativeBase):
    """Declarative base."""


class Client(Base):
    """An anonymous client (one token per client id per token lifetime)."""

    __tablename__ = "clients"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    expires_at: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # who asked for it


class EditSession(Base):
    """An editing session: its draft history lives in ``drafts``."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    task_name: Mapped[str] = mapped_column(String(64), default="project")
    cursor: Mapped[int] = mapped_column(Integer, default=-1)  # the current draft of file key "" (one-file sessions)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    # Several files: each has its own draft history (DraftRow.file_key); the active one is what
    # "make it quieter" and the state's draft mean. cursors maps file key -> current seq.
    active_key: Mapped[str] = mapped_column(String(40), default="")
    cursors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DraftRow(Base):
    """One state of a session's draft (history for undo/redo)."""

    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    file_key: Mapped[str] = mapped_column(String(40), default="")  # a media id, "montage", or "" (older rows)
    seq: Mapped[int] = mapped_column(Integer)
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class MediaRow(Base):
    """An uploaded (or fetched) file."""

    __tablename__ = "media"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    info: Mapped[dict[str, Any]] = mapped_column(JSON)
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class Message(Base):
    """A chat message (user or assistant)."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class Job(Base):
    """A render job. The row is the truth: workers claim it with a lease and heartbeat.

    ``id`` is the server's (it names the output file); ``client_ref`` is the id the client chose,
    unique per client only, so two clients may both use ``render_1`` and nobody can claim ids of others.
    """

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("owner_id", "client_ref", name="uq_jobs_owner_ref"),)
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    client_ref: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    output_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lease_until: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class LedgerEntry(Base):
    """A credit movement: grant, reserve, capture or release (the balance is derived from these)."""

    __tablename__ = "ledger"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    ref: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[float] = mapped_column(Float, default=now)


class RequestLog(Base):
    """Attribution headers recorded per request (X-Skill-Source/Version/Platform)."""

    __tablename__ = "requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    platform: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class RateHit(Base):
    """One rate-limited action by one client, kept in the database so a restart resets nothing."""

    __tablename__ = "rate_hits"
    __table_args__ = (Index("ix_rate_hits_key_action_at", "key", "action", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[float] = mapped_column(Float, default=now)


def make_engine(url: str) -> Engine:
    """Engine with the SQLite settings ab2n relies on (WAL, BEGIN IMMEDIATE, busy timeout)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_sessionmaker(engine: Engine) -> sessionmaker[Any]:
    """Session factory (expire_on_commit off: rows are read after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def iso(ts: float | None) -> str | None:
    """UNIX time -> ISO 8601 UTC."""
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts else None
