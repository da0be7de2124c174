"""The chat: one engine (``engine.answer``) over a ``Workspace``: the service's and the terminal's."""

from ab2n.chat.engine import MONTAGE, Workspace, answer

__all__ = ["MONTAGE", "Workspace", "answer"]
