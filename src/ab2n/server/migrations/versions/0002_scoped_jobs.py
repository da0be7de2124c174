"""Job ids scoped to their client, token origins, rate limits in the database.

Revision ID: 0002

``jobs.client_ref`` is the id a client chose (unique per client); ``jobs.id`` becomes the server's.
Rows from 0001 keep their id and get it as their ``client_ref``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add jobs.client_ref (unique per owner), clients.address and the rate_hits table."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("client_ref", sa.String(80), nullable=True))
    op.execute("UPDATE jobs SET client_ref = id WHERE client_ref IS NULL")
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("client_ref", existing_type=sa.String(80), nullable=False)
        batch.create_unique_constraint("uq_jobs_owner_ref", ["owner_id", "client_ref"])
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("address", sa.String(64), nullable=True))
        batch.create_index("ix_clients_address", ["address"])
    op.create_table(
        "rate_hits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_rate_hits_key_action_at", "rate_hits", ["key", "action", "at"])


def downgrade() -> None:
    """Back to 0001 (client job ids are dropped: jobs keep the server's ids)."""
    op.drop_index("ix_rate_hits_key_action_at", "rate_hits")
    op.drop_table("rate_hits")
    with op.batch_alter_table("clients") as batch:
        batch.drop_index("ix_clients_address")
        batch.drop_column("address")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("uq_jobs_owner_ref", type_="unique")
        batch.drop_column("client_ref")
