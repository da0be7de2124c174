"""Run the Alembic migrations at start (no alembic.ini needed), and refuse a database from the future."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from ab2n.errors import InvalidArgument


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The database's Alembic revision (None: an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the latest by default).

    Raises:
        InvalidArgument: The database is at a revision this version of ab2n doesn't know (a newer
            ab2n wrote it): starting would run old code on a schema it doesn't understand.
    """
    cfg = _config()
    have = current_revision(engine)
    if have is not None and have not in {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}:
        raise InvalidArgument(
            f"the database is at schema revision {have!r}, which this ab2n doesn't know; "
            "upgrade ab2n (or point AB2N_DATABASE_URL at another database)"
        )
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to ``revision`` ("base": empty)."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
