"""A local chat session for ``ab2n chat``: media, draft history, saved to a JSON file after each turn.

The same parser and edits as the service; 'export' renders with the pipeline. Analysis results
are recomputed when a session is resumed (they are cheap next to a render and never stale).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ab2n.analyze.profile import VideoProfile
from ab2n.errors import InvalidArgument
from ab2n.intent.parse import CAPABILITIES, parse
from ab2n.media.probe import MediaInfo
from ab2n.pipeline import initial_draft, load_media, render, resolve_music, understand
from ab2n.timeline.draft import Draft
from ab2n.timeline.edits import apply_said_edit
from ab2n.timeline.history import History
from ab2n.timeline.summary import summarize


@dataclass
class ChatSession:
    """One local session."""

    path: Path
    media_paths: list[Path]
    media: dict[str, MediaInfo]
    profiles: dict[str, VideoProfile]
    history: History = field(default_factory=History)
    cache_dir: Path | None = None

    @classmethod
    def open(cls, path: Path, inputs: Sequence[Path], *, cache_dir: Path | None = None) -> ChatSession:
        """Resume ``path`` (adding ``inputs``) or start a new session with ``inputs``."""
        saved: dict[str, Any] = (
            json.loads(path.read_text()) if path.exists() else {"media": [], "drafts": [], "cursor": -1}
        )
        paths = [Path(p) for p in saved["media"]] + [Path(p) for p in inputs if str(p) not in saved["media"]]
        if not paths:
            raise InvalidArgument("give a video to start a chat (ab2n chat clip.mp4)")
        media = load_media(paths)
        profiles = understand(media)
        hist = History([Draft.from_json(d) for d in saved["drafts"]], int(saved["cursor"]))
        sess = cls(path, paths, media, profiles, hist, cache_dir)
        if hist.current is None or inputs:
            base = initial_draft(media, profiles, montage=len(media) > 1)
            sess.history.push(dataclasses.replace(base, music=None))
        sess.save()
        return sess

    def save(self) -> None:
        """Write the session file (atomically)."""
        data = {
            "media": [str(p) for p in self.media_paths],
            "drafts": [d.to_json() for d in self.history.drafts],
            "cursor": self.history.cursor,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)

    def summary(self) -> str:
        """The timeline in one line."""
        return summarize(self.history.current) if self.history.current else "empty"

    def say(self, text: str, *, output: Path | None = None) -> str:
        """One turn: apply, answer with what changed and the summary; 'export' renders."""
        res = parse(text)
        draft = self.history.current
        assert draft is not None
        if res.command == "undo":
            self.history.undo()
        elif res.command == "redo":
            self.history.redo()
        elif res.command == "export":
            target = output or self.media_paths[0].with_name(self.media_paths[0].stem + "-music.mp4")
            result = render(
                resolve_music(draft, self.media, self.profiles, cache_dir=self.cache_dir),
                self.media,
                self.profiles,
                target,
            )
            lufs = f"{result.loudness.integrated_lufs:.1f} LUFS" if result.loudness else ""
            return f"Exported {result.out_path} ({result.duration_s:.1f} s, {lufs})."
        elif res.command in ("status", "credits", "upload", "help"):
            return self.summary() if res.command == "status" else f"Here I can {CAPABILITIES}."
        elif res.edits:
            for edit in res.edits:
                draft = apply_said_edit(draft, edit)
            draft = resolve_music(draft, self.media, self.profiles, cache_dir=self.cache_dir)
            self.history.push(draft)
        else:
            return res.unrecognised or f"I can {CAPABILITIES}."
        self.save()
        return self.summary()
