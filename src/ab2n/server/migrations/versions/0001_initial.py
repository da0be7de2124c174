"""Initial schema: clients, sessions, drafts, media, messages, jobs, ledger, requests.

Revision ID: 0001

Frozen: the tables as they were at this revision, written out (not the current models), so every
later revision is a real change on top of it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id(name: str = "id", n: int = 40) -> sa.Column:
    return sa.Column(name, sa.String(n), primary_key=True)


def _serial() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _created() -> sa.Column:
    return sa.Column("created_at", sa.Float, nullable=False)


def upgrade() -> None:
    """Create the tables of 0001."""
    op.create_table(
        "clients",
        _id(),
        sa.Column("client_id", sa.String(64), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True, index=True),
        _created(),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "sessions",
        _id(),
        sa.Column("owner_id", sa.String(40), sa.ForeignKey("clients.id"), nullable=False, index=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("task_name", sa.String(64), nullable=False),
        sa.Column("cursor", sa.Integer, nullable=False),
        _created(),
    )
    op.create_table(
        "drafts",
        _serial(),
        sa.Column("session_id", sa.String(40), sa.ForeignKey("sessions.id"), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("draft", sa.JSON, nullable=False),
        _created(),
    )
    op.create_table(
        "media",
        _id(),
        sa.Column("session_id", sa.String(40), sa.ForeignKey("sessions.id"), nullable=False, index=True),
        sa.Column("owner_id", sa.String(40), sa.ForeignKey("clients.id"), nullable=False, index=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("info", sa.JSON, nullable=False),
        sa.Column("profile", sa.JSON, nullable=True),
        _created(),
    )
    op.create_table(
        "messages",
        _serial(),
        sa.Column("session_id", sa.String(40), sa.ForeignKey("sessions.id"), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        _created(),
    )
    op.create_table(
        "jobs",
        _id(n=80),
        sa.Column("owner_id", sa.String(40), sa.ForeignKey("clients.id"), nullable=False, index=True),
        sa.Column("session_id", sa.String(40), sa.ForeignKey("sessions.id"), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("draft", sa.JSON, nullable=True),
        sa.Column("output_path", sa.Text, nullable=True),
        sa.Column("error_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("worker", sa.String(80), nullable=True),
        sa.Column("lease_until", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("cost", sa.Integer, nullable=False),
        _created(),
        sa.Column("finished_at", sa.Float, nullable=True),
    )
    op.create_table(
        "ledger",
        _serial(),
        sa.Column("owner_id", sa.String(40), sa.ForeignKey("clients.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("ref", sa.String(80), nullable=False),
        _created(),
    )
    op.create_table(
        "requests",
        _serial(),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("owner_id", sa.String(40), nullable=True),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("platform", sa.String(32), nullable=True),
        _created(),
    )


def downgrade() -> None:
    """Drop everything of 0001."""
    for table in ("requests", "ledger", "jobs", "messages", "media", "drafts", "sessions", "clients"):
        op.drop_table(table)
