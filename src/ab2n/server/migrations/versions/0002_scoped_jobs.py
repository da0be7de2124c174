"""Job ids scoped to their client, token origins, rate limits in the database.

Revision ID: 0002

``jobs.client_ref`` is the id a client chose (unique per client); ``jobs.id`` becomes the server's.
Rows from 0001 keep their id and get it as their ``client_ref``. Databases created at this
revision already have everything (0001 creates the current models), so each step checks first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ab2n.server.store import RateHit

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns, the per-client unique index and the rate table where missing."""
    bind = op.get_bind()
    insp = sa.inspect(bind)
    job_cols = {c["name"] for c in insp.get_columns("jobs")}
    if "client_ref" not in job_cols:
        with op.batch_alter_table("jobs") as batch:
            batch.add_column(sa.Column("client_ref", sa.String(80), nullable=True))
        op.execute("UPDATE jobs SET client_ref = id WHERE client_ref IS NULL")
        with op.batch_alter_table("jobs") as batch:
            batch.alter_column("client_ref", nullable=False)
            batch.create_unique_constraint("uq_jobs_owner_ref", ["owner_id", "client_ref"])
    if "address" not in {c["name"] for c in insp.get_columns("clients")}:
        with op.batch_alter_table("clients") as batch:
            batch.add_column(sa.Column("address", sa.String(64), nullable=True))
            batch.create_index("ix_clients_address", ["address"])
    if not insp.has_table("rate_hits"):
        RateHit.__table__.create(bind)  # type: ignore[attr-defined]


def downgrade() -> None:
    """Not supported: ids handed to clients can't be taken back."""
    raise NotImplementedError
