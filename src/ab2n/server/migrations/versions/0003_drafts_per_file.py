"""Each file of a session has its own draft history; the session remembers the active one.

Revision ID: 0003

Rows from before keep file key "" with the session's old ``cursor``; databases created at this
revision already have the columns (0001 creates the current models), so each step checks first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add drafts.file_key, sessions.active_key and sessions.cursors where missing."""
    insp = sa.inspect(op.get_bind())
    if "file_key" not in {c["name"] for c in insp.get_columns("drafts")}:
        with op.batch_alter_table("drafts") as batch:
            batch.add_column(sa.Column("file_key", sa.String(40), nullable=False, server_default=""))
    cols = {c["name"] for c in insp.get_columns("sessions")}
    with op.batch_alter_table("sessions") as batch:
        if "active_key" not in cols:
            batch.add_column(sa.Column("active_key", sa.String(40), nullable=False, server_default=""))
        if "cursors" not in cols:
            batch.add_column(sa.Column("cursors", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Not supported."""
    raise NotImplementedError
