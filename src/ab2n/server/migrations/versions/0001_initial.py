"""Initial schema: clients, sessions, drafts, media, messages, jobs, ledger, requests.

Revision ID: 0001
"""

from __future__ import annotations

from alembic import op

from ab2n.server.store import Base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of the models at this revision."""
    Base.metadata.create_all(op.get_bind())


def downgrade() -> None:
    """Drop everything."""
    Base.metadata.drop_all(op.get_bind())
