"""Each file of a session has its own draft history; the session remembers the active one.

Revision ID: 0003

Rows from before keep file key "" with the session's old ``cursor``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add drafts.file_key, sessions.active_key and sessions.cursors."""
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("file_key", sa.String(40), nullable=False, server_default=""))
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("active_key", sa.String(40), nullable=False, server_default=""))
        batch.add_column(sa.Column("cursors", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Back to 0002 (files' own histories are dropped)."""
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("cursors")
        batch.drop_column("active_key")
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("file_key")
