"""``ab2n mcp``: the core's actions as MCP tools over stdio, for AI assistants on the user's machine.

Tools: ``add_music`` (the one-shot), ``analyze_video``, ``list_music``, ``explain_instruction``,
and a chat session to iterate in (``start_session``, ``say``, ``session_state``) over the same
chat engine as the service and the terminal. Long work reports MCP progress; a cancelled call
stops the work (the core removes what it had started writing).

An assistant is driving, so every path is checked: inputs and outputs only under the ``--root``
folders, URLs refused, an existing output never overwritten unless the call says so. Every
refusal and every ab2n error is a tool error carrying the protocol code and one line.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from ab2n.errors import Ab2nError, InvalidArgument
from ab2n.music.compose.soundfont import resolve as resolve_soundfont

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Roots:
    """The folders an assistant may read from and write to."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = [Path(r).resolve() for r in roots]

    def check(self, raw: str, *, output: bool = False, overwrite: bool = False) -> Path:
        """The resolved path, if it is inside a root (and, for an output, free or allowed to be replaced).

        Raises:
            InvalidArgument: A URL, a path outside every root, or an output that exists.
        """
        if "://" in raw:
            raise InvalidArgument("only local files: download the video first, then give its path")
        path = Path(raw).expanduser()
        path = (path if path.is_absolute() else self.roots[0] / path).resolve()
        if not any(path == r or r in path.parents for r in self.roots):
            shown = ", ".join(str(r) for r in self.roots)
            raise InvalidArgument(f"{raw} is outside the folders this server may use ({shown})")
        if output and path.exists() and not overwrite:
            raise InvalidArgument(f"{path.name} exists; pass overwrite=true to replace it")
        return path


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ab2n"


async def _in_thread(work: Callable[[threading.Event], T]) -> T:
    """Run blocking core work on a thread; a cancelled call sets the event the core watches."""
    cancel = threading.Event()
    try:
        return await anyio.to_thread.run_sync(work, cancel, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        cancel.set()
        raise
    except Ab2nError as exc:
        raise ToolError(f"error {exc.code}: {exc.message}") from None


def _tool_errors(fn: F) -> F:
    """An ab2n error in a tool is a tool error carrying its code and one line, never a traceback."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except Ab2nError as exc:
            raise ToolError(f"error {exc.code}: {exc.message}") from None

    return wrapper  # type: ignore[return-value]


def _progress(ctx: Context | None) -> Callable[[float, str], None]:
    """A thread-side progress callback that reports to the client, at most every 2 %."""
    last = [-1.0]

    def tell(fraction: float, message: str) -> None:
        if ctx is None or (fraction - last[0] < 0.02 and fraction < 1.0):
            return
        last[0] = fraction
        with contextlib.suppress(Exception):  # a client that went away mustn't stop the work
            anyio.from_thread.run(ctx.report_progress, round(fraction * 100, 1), 100.0, message)

    return tell


def build(roots: Sequence[Path]) -> MCPServer:
    """The MCP server with ab2n's tools, limited to ``roots``."""
    from ab2n.chat_session import ChatSession
    from ab2n.intent.message import read_message
    from ab2n.music.compose import COMPOSE
    from ab2n.pipeline import STAGES, AddOptions, add_music

    allowed = Roots(roots)
    server = MCPServer("ab2n", instructions="Adds fitting background music to local videos (no network, no GPU).")
    sessions: dict[str, ChatSession] = {}
    session_dir = _cache_dir() / "mcp-sessions"

    @server.tool(
        name="add_music", description="Add background music to a local video: mood, volume, title, shape from words."
    )
    @_tool_errors
    async def add_music_tool(
        inputs: list[str],
        output: str,
        prompt: str | None = None,
        mood: str | None = None,
        volume_percent: float | None = None,
        music: str | None = None,
        preset: str = "source",
        overwrite: bool = False,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        """inputs: video paths (several: a montage); output: the MP4 to write; prompt: "calm piano at 35%";
        music: a music file or folder, or "compose" for music composed for the video."""
        paths = [allowed.check(p) for p in inputs]
        out = allowed.check(output, output=True, overwrite=overwrite)
        options = AddOptions(
            mood=mood,
            prompt=prompt,
            # "compose": music written for the video (no file); anything else is a path under a root.
            music=COMPOSE if music == COMPOSE else allowed.check(music) if music else None,
            volume=None if volume_percent is None else volume_percent / 100,
            preset=preset,
            montage=len(paths) > 1,
            cache_dir=_cache_dir(),
            # The user's own machine: their SoundFont setting, else the system's General MIDI font.
            soundfont=resolve_soundfont(os.environ.get("AB2N_SOUNDFONT", "auto")),
        )
        tell = _progress(ctx)

        def work(cancel: threading.Event) -> dict[str, Any]:
            def staged(stage: str, f: float) -> None:
                i = STAGES.index(stage) if stage in STAGES else 0
                tell((i + f) / len(STAGES), stage)

            return add_music(paths, out, options, progress=staged, cancel=cancel).to_json()

        return await _in_thread(work)

    @server.tool(description="What ab2n sees in a video: duration, cuts, speech, mood.")
    @_tool_errors
    async def analyze_video(input: str, ctx: Context | None = None) -> dict[str, Any]:
        """input: a local video path."""
        from ab2n.analyze import analyze
        from ab2n.media.probe import probe

        path = allowed.check(input)
        tell = _progress(ctx)

        def work(cancel: threading.Event) -> dict[str, Any]:
            profile = analyze(probe(path), progress=lambda f: tell(f, "analyze"))
            return {
                "duration_s": round(profile.duration_s, 3),
                "mood": profile.mood,
                "cuts_s": [round(c.time_s, 3) for c in profile.cuts],
                "speech_s": [[round(i.start_s, 2), round(i.end_s, 2)] for i in profile.speech],
            }

        return await _in_thread(work)

    @server.tool(description="The music library: id, title, mood and tempo of every bundled track.")
    @_tool_errors
    async def list_music() -> list[dict[str, Any]]:
        """The bundled tracks (tempo from ab2n's own analysis, cached)."""
        from ab2n.music.beats import analyze_tracks
        from ab2n.music.catalog import load_catalog

        def work(_cancel: threading.Event) -> list[dict[str, Any]]:
            tracks = load_catalog()
            tempi = analyze_tracks([t.path for t in tracks], cache_dir=_cache_dir())
            return [
                {"id": t.id, "title": t.title, "mood": t.mood, "tags": list(t.tags), "tempo_bpm": round(a.tempo_bpm, 1)}
                for t, a in zip(tracks, tempi, strict=True)
            ]

        return await _in_thread(work)

    @server.tool(description="How ab2n reads an instruction (English or Chinese), without doing it.")
    @_tool_errors
    async def explain_instruction(text: str) -> dict[str, Any]:
        """text: e.g. "lo-fi at 35% and make it vertical"."""
        _address, res = read_message(text)  # the reading ab2n intent and the chat give
        return {"text": text, **res.to_json(), "reading": res.describe()}

    @server.tool(description="Start a chat session over local videos, to refine the music step by step.")
    @_tool_errors
    async def start_session(inputs: list[str]) -> dict[str, Any]:
        """inputs: local video paths. Returns the session id for say/session_state."""
        paths = [allowed.check(p) for p in inputs]
        sid = uuid.uuid4().hex[:12]
        session_dir.mkdir(parents=True, exist_ok=True)

        def work(_cancel: threading.Event) -> ChatSession:
            return ChatSession.open(session_dir / f"{sid}.json", paths, cache_dir=_cache_dir())

        sessions[sid] = await _in_thread(work)
        return {"session_id": sid, "files": list(sessions[sid].files().values()), "summary": sessions[sid].summary()}

    @server.tool(description="Say something in a session: 'calm piano at 40%', 'the second video: vertical', 'export'.")
    @_tool_errors
    async def say(session_id: str, text: str, output: str | None = None, overwrite: bool = False) -> dict[str, Any]:
        """output: where 'export' writes (default: beside the input, as <name>-music.mp4)."""
        sess = _session(sessions, session_id)
        out = allowed.check(output, output=True, overwrite=overwrite) if output else None
        if out is None and read_message(text, names=list(sess.files().values()))[1].command == "export":
            for p in sess.media_paths:
                default = p.with_name(p.stem + "-music.mp4")
                if default.exists() and not overwrite:
                    raise ToolError(f"error 400: {default.name} exists; pass overwrite=true or an output path")
        reply = await _in_thread(lambda _c: sess.say(text, output=out))
        return {"answer": reply}

    @server.tool(description="A session's files and each one's timeline.")
    @_tool_errors
    async def session_state(session_id: str) -> dict[str, Any]:
        """The files, the active one, and each file's summary."""
        from ab2n.timeline.summary import summarize

        sess = _session(sessions, session_id)
        return {
            "active": sess.files().get(sess.active_key, sess.active_key),
            "files": {name: (summarize(d) if (d := sess.draft(k)) else None) for k, name in sess.files().items()},
        }

    return server


def _session(sessions: dict[str, Any], sid: str) -> Any:
    if sid not in sessions:
        raise ToolError("error 404: no such session; start one with start_session")
    return sessions[sid]


def serve_stdio(roots: Sequence[Path]) -> None:
    """Run the MCP server on stdin/stdout until the client closes it."""
    anyio.run(build(roots).run_stdio_async)
