"""Undo/redo over a session's drafts: a list of snapshots and a cursor."""

from __future__ import annotations

from dataclasses import dataclass, field

from ab2n.errors import InvalidArgument
from ab2n.timeline.draft import Draft


@dataclass
class History:
    """Drafts in the order they were made; ``cursor`` points at the current one."""

    drafts: list[Draft] = field(default_factory=list)
    cursor: int = -1

    @property
    def current(self) -> Draft | None:
        """The draft in force."""
        return self.drafts[self.cursor] if self.drafts else None

    def push(self, draft: Draft) -> Draft:
        """Record a new draft (drops anything that was undone)."""
        del self.drafts[self.cursor + 1 :]
        self.drafts.append(draft)
        self.cursor = len(self.drafts) - 1
        return draft

    def undo(self) -> Draft:
        """Step back one draft."""
        if self.cursor <= 0:
            raise InvalidArgument("nothing to undo")
        self.cursor -= 1
        return self.drafts[self.cursor]

    def redo(self) -> Draft:
        """Step forward again."""
        if self.cursor >= len(self.drafts) - 1:
            raise InvalidArgument("nothing to redo")
        self.cursor += 1
        return self.drafts[self.cursor]
