"""Alembic environment: run programmatically by ab2n.server.migrate (the URL comes from settings)."""

from __future__ import annotations

from alembic import context

from ab2n.server.store import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    """Online migrations on the connection handed in by ab2n.server.migrate."""
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
