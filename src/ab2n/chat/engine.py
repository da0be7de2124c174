"""The chat engine: one message -> what it means -> the edits or command -> the answer.

One engine for every face: the service keeps its files and drafts in the database, the terminal
chat in a JSON file; both hand the engine a ``Workspace`` and get the same drafts for the same
words. A message may address one of several files ("the second video", "the beach clip"), all of
them, or a montage of them (``intent/address.py``); each file has its own draft and history, and
the file a message is about becomes the active one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ab2n.analyze.profile import VideoProfile
from ab2n.errors import Ab2nError
from ab2n.intent.address import Address, parse_address
from ab2n.intent.message import read_message
from ab2n.intent.parse import CAPABILITIES, CAPABILITIES_ZH, ParseResult, detect_lang
from ab2n.media.probe import MediaInfo
from ab2n.mix.aside import aside_note, aside_regions
from ab2n.timeline.draft import Draft
from ab2n.timeline.edits import Edit, apply_said_edit
from ab2n.timeline.profile import timeline_profile
from ab2n.timeline.summary import summarize

#: The file key of a montage of all the files.
MONTAGE = "montage"

Emit = Callable[[dict[str, Any]], None]


class Workspace(Protocol):
    """Where a chat's files and drafts live (the service's database, the terminal's session file)."""

    def files(self) -> dict[str, str]:
        """File key -> the name people know it by, in upload order."""

    def active(self) -> str:
        """The active file's key ("" when there is none yet)."""

    def set_active(self, key: str) -> None:
        """Make ``key`` the active file."""

    def draft(self, key: str) -> Draft | None:
        """The file's current draft, or None before its first edit."""

    def push(self, key: str, draft: Draft) -> None:
        """Record a new state of the file's draft."""

    def step(self, key: str, delta: int) -> Draft | None:
        """Undo (-1) / redo (+1) on one file; None when there is nothing to step to."""

    def previous(self, key: str) -> Draft | None:
        """The file's draft before its current one (None at its first edit or before it)."""

    def load(self, key: str) -> tuple[dict[str, MediaInfo], dict[str, VideoProfile]]:
        """The media and analysis the file shows (every file for ``MONTAGE``)."""

    def base_draft(self, key: str, media: dict[str, MediaInfo], profiles: dict[str, VideoProfile]) -> Draft:
        """The file's draft as uploaded, before any edit."""

    def arrange(self, draft: Draft, media: Mapping[str, MediaInfo], profiles: Mapping[str, VideoProfile]) -> Draft:
        """Choose and arrange the draft's music where needed."""

    def montage(self, draft: Draft, media: Mapping[str, MediaInfo], profiles: Mapping[str, VideoProfile]) -> Draft:
        """Move a montage's joins onto the music's downbeats."""

    def export(self, items: list[tuple[str, str, Draft]], zh: bool) -> str:
        """Render (or queue) each (key, name, draft); the answer says where the results are."""

    def credits(self, zh: bool) -> str:
        """The balance, in words."""

    def upload_hint(self, zh: bool) -> str:
        """How to add a file here."""

    def export_hint(self, zh: bool) -> str:
        """How to render what was just edited."""


@dataclass
class Turn:
    """One message being answered: the workspace, what was said, which files it is about."""

    ws: Workspace
    result: ParseResult
    address: Address
    names: dict[str, str]
    emit: Emit

    @property
    def zh(self) -> bool:
        """Answer in Chinese."""
        return self.result.lang == "zh"

    def say(self, en: str, zh: str) -> str:
        """The answer in the message's language."""
        return zh if self.zh else en

    def keys(self) -> list[str]:
        """The file keys this message is about (the active file when it names none)."""
        return addressed(self.ws, self.address, self.names)

    def label(self, key: str) -> str:
        """How a person calls the file: its uploaded name."""
        if key == MONTAGE:
            return self.say("the montage", "混剪")
        return self.names.get(key) or self.say("the video", "视频")

    def several(self) -> bool:
        """More than one file: answers say which file they are about."""
        return len(self.names) > 1


def addressed(ws: Workspace, address: Address, names: Mapping[str, str]) -> list[str]:
    """The file keys a message is about (the active file when it names none)."""
    ids = list(names)
    if address.kind == "all":
        return ids
    if address.kind == "montage":
        return [MONTAGE]
    if address.kind == "one" and address.index is not None:
        return [ids[address.index]]
    active = ws.active()
    return [active if active in (*ids, MONTAGE) else (ids[-1] if ids else "")]


def topic(previous: Draft | None, current: Draft | None) -> str | None:
    """What the last turn changed on a file, for follow-ups: "title" or "music" (or None)."""
    if current is None:
        return None
    if current.texts != (previous.texts if previous else ()):
        return "title"
    if current.music != (previous.music if previous else None):
        return "music"
    return None


def answer(text: str, ws: Workspace, *, emit: Emit | None = None) -> str:
    """Answer one message in ``ws`` (always with text; an error becomes an honest sentence).

    Args:
        text: What the person said.
        ws: Where the files and drafts are.
        emit: Receives tool-call / tool-result events as the work happens (the service streams them).
    """
    tell: Emit = emit or (lambda _e: None)
    names = ws.files()
    # The file is known before the words are read: a follow-up leans on what its last turn changed.
    address = parse_address(text, list(names.values()), lang=detect_lang(text))
    keys = addressed(ws, address, names)
    after = topic(ws.previous(keys[0]), ws.draft(keys[0])) if len(keys) == 1 else None
    address, result = read_message(text, names=list(names.values()), after=after)
    turn = Turn(ws, result, address, names, tell)
    tell({"function_call": {"name": "route_message", "args": {"text": text}}})
    response = {**result.to_json(), "files": address.kind, "after": after}
    tell({"function_response": {"name": "route_message", "response": response}})
    try:
        return _route(turn)
    except Ab2nError as exc:
        return turn.say(
            f"I couldn't do that: {exc.message} (code {exc.code}).",
            f"没能完成：{_ZH_ERRORS.get(exc.message, exc.message)}（错误码 {exc.code}）",
        )


#: The edits' refusals a Chinese conversation meets most, said in Chinese.
_ZH_ERRORS = {
    "there is no music yet; say 'add background music' first": "还没有音乐，请先说“加点背景音乐”",
    "there is no title yet; say 'add a title that says ...' first": "还没有标题，请先说“加个标题：……”",
    "there is no title to remove": "没有可以去掉的标题",
    "the music span is empty": "音乐的时间段是空的",
    "the trimmed video would be shorter than 0.2 s": "剪完的视频会短于 0.2 秒",
    "a title needs some text": "标题需要文字",
}


def _route(turn: Turn) -> str:
    handler = _COMMANDS.get(turn.result.command or "")
    if handler is not None:
        return handler(turn)
    if turn.address.kind == "montage" and not turn.result.edits:
        return _edit(turn, [Edit("add_music", {})])
    if not turn.result.edits:
        return turn.result.unrecognised or ("I couldn't map that to an edit. I can " + CAPABILITIES + ".")
    return _edit(turn, turn.result.edits)


def _status(turn: Turn) -> str:
    if not turn.names:
        return turn.say("The timeline is empty: add a video first.", "时间线为空：请先上传视频。")
    keys = list(turn.names) if turn.several() and turn.address.kind == "active" else turn.keys()
    active = turn.ws.active()
    lines = []
    for key in keys:
        d = turn.ws.draft(key)
        text = summarize(d, zh=turn.zh) if d else turn.say("no edits yet", "还没有编辑")
        mark = turn.say(" (active)", "（当前）") if key == active and len(keys) > 1 else ""
        lines.append(f"{turn.label(key)}{mark}: {text}" if turn.several() else text)
    return "\n".join(lines)


def _step(turn: Turn) -> str:
    undo = turn.result.command == "undo"
    key = turn.keys()[0]
    draft = turn.ws.step(key, -1 if undo else 1)
    if draft is None:
        return turn.say(f"Nothing to {turn.result.command}.", "没有可以撤销/重做的操作。")
    turn.ws.set_active(key)
    done = turn.say("Undone" if undo else "Redone", "已撤销" if undo else "已重做")
    where = f" ({turn.label(key)})" if turn.several() else ""
    return f"{done}{where}{turn.say('. ', '。')}{summarize(draft, zh=turn.zh)}"


def _export(turn: Turn) -> str:
    if not turn.names:
        return turn.say("Nothing to export yet: add a video first.", "还没有可导出的内容：请先上传视频。")
    keys = turn.keys()
    items = []
    for key in keys:
        draft = turn.ws.draft(key)
        if draft is None:
            media, profiles = turn.ws.load(key)
            draft = turn.ws.base_draft(key, media, profiles)
        items.append((key, turn.label(key), draft))
    if len(keys) == 1:
        turn.ws.set_active(keys[0])
    return turn.ws.export(items, turn.zh)


_COMMANDS: dict[str, Callable[[Turn], str]] = {
    "credits": lambda t: t.ws.credits(t.zh),
    "status": _status,
    "upload": lambda t: t.ws.upload_hint(t.zh),
    "help": lambda t: t.say("I can " + CAPABILITIES + ".", "我可以：" + CAPABILITIES_ZH),
    "undo": _step,
    "redo": _step,
    "export": _export,
}


def _edit(turn: Turn, edits: list[Edit]) -> str:
    """Apply the edits to every file the message addresses; each file keeps its own history."""
    if not turn.names:
        return turn.ws.upload_hint(turn.zh)
    keys = turn.keys()
    lines: list[str] = []
    for key in keys:
        media, profiles = turn.ws.load(key)
        draft = turn.ws.draft(key) or turn.ws.base_draft(key, media, profiles)
        changes = []
        for edit in edits:
            turn.emit({"function_call": {"name": edit.op, "args": edit.params}})
            draft = turn.ws.arrange(apply_said_edit(draft, edit), media, profiles)
            changes.append(describe(edit, draft, zh=turn.zh))
            turn.emit({"function_response": {"name": edit.op, "response": {"ok": True}}})
        if key == MONTAGE:
            draft = turn.ws.montage(draft, media, profiles)
        if note := _music_aside(draft, profiles, edits, turn.zh):
            changes.append(note)
        turn.ws.push(key, draft)
        prefix = f"{turn.label(key)}: " if turn.several() else ""
        lines.append(prefix + " ".join(changes) + "\n" + summarize(draft, zh=turn.zh))
    if len(keys) == 1:
        turn.ws.set_active(keys[0])
    return "\n".join(lines) + "\n" + turn.ws.export_hint(turn.zh)


def _music_aside(draft: Draft, profiles: Mapping[str, VideoProfile], edits: list[Edit], zh: bool) -> str | None:
    """Say so when the added music will step aside for music already in the clip."""
    music_edits = {"add_music", "replace_music", "set_music_volume", "set_original_audio"}
    m = draft.music
    if m is None or draft.settings.original_audio != "keep" or not any(e.op in music_edits for e in edits):
        return None
    classes = timeline_profile(draft, profiles).audio_classes
    regions = aside_regions(classes, start_s=m.start_ms / 1000, end_s=(m.start_ms + m.duration_ms) / 1000)
    note = aside_note(regions, zh=zh)
    return None if note is None else (note if zh else note[0].upper() + note[1:] + ".")


def file_base_draft(key: str, media: Mapping[str, MediaInfo], names: Mapping[str, str]) -> Draft:
    """A file's first draft before any edit: that file on the video track (for ``MONTAGE``: all of
    them one after another), named as people know it, no music yet."""
    from ab2n.pipeline import initial_draft

    if not media:
        return Draft()
    if key == MONTAGE:
        d = initial_draft(media, montage=True)
    else:
        mid = key if key in media else list(media)[-1]
        d = initial_draft({mid: media[mid]})
    video = tuple(dataclasses.replace(s, name=names.get(s.media_id, s.name)) for s in d.video)
    return dataclasses.replace(d, video=video, music=None)


def _said_music(p: dict[str, Any], d: Draft) -> tuple[str, str]:
    m = d.music
    if m is None:
        return "Music removed.", "已去掉音乐。"
    what_en, what_zh = (m.track_title, m.track_title) if m.track_title else ("a track", "一首曲子")
    mood = m.plan.get("mood") if m.plan else m.mood or "auto"
    vol = f", {m.volume * 100:.0f}%" if m.volume is not None else ""
    return f"Background music: {what_en} ({mood}{vol}).", f"背景音乐：{what_zh}（{mood}{vol}）。"


def _said_volume(p: dict[str, Any], d: Draft) -> tuple[str, str]:
    if d.music and d.music.volume is not None:
        v = f"{d.music.volume * 100:.0f}%"
        return f"Music volume now {v}.", f"音乐音量现在是 {v}。"
    return "Music volume changed.", "音乐音量已调整。"


def _said_text_change(p: dict[str, Any], d: Draft) -> tuple[str, str]:
    if not d.texts:
        return "Title changed.", "标题已修改。"
    t = d.texts[-1]
    a, b = t.start_ms / 1000, (t.start_ms + t.duration_ms) / 1000
    return f'Title "{t.text}" now {a:g}-{b:g} s, {t.position}.', f"标题“{t.text}”现在在 {a:g}-{b:g} 秒，{t.position}。"


#: op -> (params, the draft after it) -> (English, Chinese): one line per applied edit.
_SAID: dict[str, Callable[[dict[str, Any], Draft], tuple[str, str]]] = {
    "add_music": _said_music,
    "replace_music": _said_music,
    "set_music_volume": _said_volume,
    "remove_music": lambda p, d: ("Music removed.", "已去掉音乐。"),
    "set_fades": lambda p, d: ("Music fades set.", "已设置音乐淡入淡出。"),
    "add_text": lambda p, d: (f'Title "{p.get("text")}" added.', f"已添加标题“{p.get('text')}”。"),
    "set_text": _said_text_change,
    "remove_text": lambda p, d: ("Title removed.", "已去掉标题。"),
    "set_aspect": lambda p, d: (f"Aspect set to {p.get('preset')}.", f"画幅已改为 {p.get('preset')}。"),
    "set_original_audio": lambda p, d: (
        ("Original audio muted.", "原声已静音。")
        if p.get("mode") == "mute"
        else ("Original audio kept.", "已保留原声。")
    ),
    "trim": lambda p, d: (f"Trimmed to {d.duration_ms / 1000:.1f} s.", f"已剪到 {d.duration_ms / 1000:.1f} 秒。"),
    "set_loudness": lambda p, d: (
        f"Loudness target {p.get('target_lufs')} LUFS.",
        f"响度目标 {p.get('target_lufs')} LUFS。",
    ),
}


def describe(edit: Edit, draft: Draft, *, zh: bool = False) -> str:
    """One human line for an applied edit, in the message's language."""
    said = _SAID.get(edit.op)
    en, cn = said(edit.params, draft) if said else (f"{edit.op} done.", f"{edit.op} 已完成。")
    return cn if zh else en
