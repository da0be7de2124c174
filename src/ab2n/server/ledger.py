"""Credits as a ledger: grant, reserve (frozen), capture (spent), release (back to available).

    available = grants - reserves + releases
    frozen    = reserves - captures - releases
    total     = available + frozen

Reservations are guarded: the balance is read and the reserve written in one transaction that
holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the client row locked FOR UPDATE), so
40 concurrent exports on a balance for 10 start exactly 10.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ab2n.server.errors import NotEnoughCredits
from ab2n.server.store import Client, LedgerEntry


@dataclass(frozen=True)
class Balance:
    """A client's credits."""

    available: int
    frozen: int
    spent: int
    granted: int

    @property
    def total(self) -> int:
        """available + frozen."""
        return self.available + self.frozen

    def to_json(self) -> dict[str, int]:
        """SPEC.md ``/api/credits/balance/simple`` data."""
        return {"available": self.available, "frozen": self.frozen, "total": self.total}


def balance(db: Session, owner_id: str) -> Balance:
    """Sum the ledger for one client."""
    rows = db.execute(
        select(LedgerEntry.kind, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.owner_id == owner_id)
        .group_by(LedgerEntry.kind)
    ).all()
    s = {k: int(v) for k, v in rows}
    g, r, c, rel = s.get("grant", 0), s.get("reserve", 0), s.get("capture", 0), s.get("release", 0)
    return Balance(available=g - r + rel, frozen=r - c - rel, spent=c, granted=g)


def _lock_owner(db: Session, owner_id: str) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(Client.id).where(Client.id == owner_id).with_for_update())


def grant(db: Session, owner_id: str, amount: int, ref: str) -> None:
    """Add credits."""
    db.add(LedgerEntry(owner_id=owner_id, kind="grant", amount=amount, ref=ref))


def reserve(db: Session, owner_id: str, amount: int, ref: str, *, bind_url: str) -> None:
    """Freeze ``amount`` for work ``ref`` or raise 2001 (call inside the transaction that starts the work)."""
    if amount <= 0:
        return
    _lock_owner(db, owner_id)
    bal = balance(db, owner_id)
    if bal.available < amount:
        raise NotEnoughCredits(
            f"not enough credits: {bal.available} available, {amount} needed",
            data={"available": bal.available, "needed": amount, "bind_url": f"{bind_url}?bind={owner_id}"},
        )
    db.add(LedgerEntry(owner_id=owner_id, kind="reserve", amount=amount, ref=ref))


def _settle(db: Session, owner_id: str, ref: str, kind: str) -> None:
    held = db.execute(
        select(LedgerEntry.kind, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.owner_id == owner_id, LedgerEntry.ref == ref)
        .group_by(LedgerEntry.kind)
    ).all()
    s = {k: int(v) for k, v in held}
    open_amount = s.get("reserve", 0) - s.get("capture", 0) - s.get("release", 0)
    if open_amount > 0:  # settle once, whatever retries happen
        db.add(LedgerEntry(owner_id=owner_id, kind=kind, amount=open_amount, ref=ref))


def capture(db: Session, owner_id: str, ref: str) -> None:
    """Spend what ``ref`` reserved (idempotent)."""
    _settle(db, owner_id, ref, "capture")


def release(db: Session, owner_id: str, ref: str) -> None:
    """Give back what ``ref`` reserved (idempotent)."""
    _settle(db, owner_id, ref, "release")
