"""A local chat session for ``ab2n chat``: the chat engine over files on this machine.

Each input has its own draft and undo history, the same as in the service (``chat.engine``);
the session is saved to a JSON file after each turn. 'export' renders with the pipeline. Analysis
results are recomputed when a session is resumed (they are cheap next to a render and never stale).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ab2n.analyze.profile import VideoProfile
from ab2n.chat.engine import MONTAGE, answer, file_base_draft
from ab2n.errors import InvalidArgument
from ab2n.media.probe import MediaInfo
from ab2n.pipeline import load_media, montage_on_downbeats, render, resolve_music, understand
from ab2n.timeline.draft import Draft
from ab2n.timeline.history import History
from ab2n.timeline.summary import summarize


@dataclass
class ChatSession:
    """One local session: the inputs (keys m1, m2, ... in order), a history per file, the active file."""

    path: Path
    media_paths: list[Path]
    media: dict[str, MediaInfo]
    profiles: dict[str, VideoProfile]
    histories: dict[str, History] = field(default_factory=dict)
    active_key: str = ""
    cache_dir: Path | None = None
    soundfont: Path | None = None  # what composed music is played on (None: the built-in synthesis)
    _output: Path | None = field(default=None, repr=False)  # where this turn's export goes

    @classmethod
    def open(
        cls, path: Path, inputs: Sequence[Path], *, cache_dir: Path | None = None, soundfont: Path | None = None
    ) -> ChatSession:
        """Resume ``path`` (adding ``inputs``) or start a new session with ``inputs``."""
        saved: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"media": []}
        paths = [Path(p) for p in saved["media"]] + [Path(p) for p in inputs if str(p) not in saved["media"]]
        if not paths:
            raise InvalidArgument("give a video to start a chat (ab2n chat clip.mp4)")
        media = load_media(paths, work_dir=cache_dir / "converted" if cache_dir else None)
        sess = cls(path, paths, media, understand(media), cache_dir=cache_dir, soundfont=soundfont)
        for key, h in saved.get("files", {}).items():
            sess.histories[key] = History([Draft.from_json(d) for d in h["drafts"]], int(h["cursor"]))
        if saved.get("drafts"):  # a session file from before files had their own drafts
            legacy = MONTAGE if len(saved["media"]) > 1 else "m1"
            sess.histories[legacy] = History([Draft.from_json(d) for d in saved["drafts"]], int(saved["cursor"]))
            sess.active_key = legacy
        sess.active_key = saved.get("active", sess.active_key)
        if inputs or sess.active_key not in (*media, MONTAGE):
            sess.active_key = list(media)[-1]  # the latest input is the one "add music" means
        sess.save()
        return sess

    def save(self) -> None:
        """Write the session file (atomically)."""
        data = {
            "media": [str(p) for p in self.media_paths],
            "files": {
                k: {"drafts": [d.to_json() for d in h.drafts], "cursor": h.cursor} for k, h in self.histories.items()
            },
            "active": self.active_key,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)

    def summary(self) -> str:
        """The active file's timeline in one line."""
        d = self.draft(self.active_key)
        return summarize(d) if d else summarize(self.base_draft(self.active_key, self.media, self.profiles))

    def say(self, text: str, *, output: Path | None = None) -> str:
        """One turn: the engine's answer; 'export' renders (to ``output`` when one file is exported)."""
        self._output = output
        reply = answer(text, self)
        self.save()
        return reply

    # The chat engine's Workspace.

    def files(self) -> dict[str, str]:
        """Key -> file name."""
        return {k: p.name for k, p in zip(self.media, self.media_paths, strict=True)}

    def active(self) -> str:
        """The active file key."""
        return self.active_key

    def set_active(self, key: str) -> None:
        """Make ``key`` active."""
        self.active_key = key

    def draft(self, key: str) -> Draft | None:
        """The file's current draft."""
        h = self.histories.get(key)
        return h.current if h else None

    def push(self, key: str, draft: Draft) -> None:
        """Record a new draft of one file."""
        self.histories.setdefault(key, History()).push(draft)

    def step(self, key: str, delta: int) -> Draft | None:
        """Undo/redo on one file."""
        h = self.histories.get(key)
        if h is None or not 0 <= h.cursor + delta < len(h.drafts):
            return None
        return h.undo() if delta < 0 else h.redo()

    def previous(self, key: str) -> Draft | None:
        """The file's draft before the current one."""
        h = self.histories.get(key)
        return h.drafts[h.cursor - 1] if h and h.cursor >= 1 else None

    def load(self, key: str) -> tuple[dict[str, MediaInfo], dict[str, VideoProfile]]:
        """Media and analysis (already loaded: all of them)."""
        return self.media, self.profiles

    def base_draft(self, key: str, media: dict[str, MediaInfo], profiles: dict[str, VideoProfile]) -> Draft:
        """The file as given."""
        return file_base_draft(key, media, self.files())

    def arrange(self, draft: Draft, media: Mapping[str, MediaInfo], profiles: Mapping[str, VideoProfile]) -> Draft:
        """Music chosen and arranged."""
        return resolve_music(draft, media, profiles, cache_dir=self.cache_dir)

    def montage(self, draft: Draft, media: Mapping[str, MediaInfo], profiles: Mapping[str, VideoProfile]) -> Draft:
        """Montage joins on the music's downbeats."""
        return montage_on_downbeats(draft, media, profiles, cache_dir=self.cache_dir)

    def export(self, items: list[tuple[str, str, Draft]], zh: bool) -> str:
        """Render each file beside its source (``-o`` names the file when one is exported)."""
        lines = []
        for key, _name, draft in items:
            src = self.media_paths[list(self.media).index(key)] if key in self.media else self.media_paths[0]
            suffix = "-montage-music.mp4" if key == MONTAGE else "-music.mp4"
            target = self._output if (self._output and len(items) == 1) else src.with_name(src.stem + suffix)
            arranged = self.arrange(draft, self.media, self.profiles)
            result = render(arranged, self.media, self.profiles, target, soundfont=self.soundfont)
            lufs = f", {result.loudness.integrated_lufs:.1f} LUFS" if result.loudness else ""
            lines.append(f"Exported {result.out_path} ({result.duration_s:.1f} s{lufs}).")
        return "\n".join(lines)

    def credits(self, zh: bool) -> str:
        """No credits on the user's own machine."""
        return "本地会话不需要积分。" if zh else "No credits here: this chat runs on your machine."

    def upload_hint(self, zh: bool) -> str:
        """Files come from the command line."""
        return (
            "用 ab2n chat 文件… 加入文件。" if zh else "Add files by starting the chat with them: ab2n chat a.mp4 b.mp4"
        )

    def export_hint(self, zh: bool) -> str:
        """What renders it."""
        return "说“导出”即可生成视频。" if zh else "Say 'export' to render it."
