"""`ab2n mcp` as an assistant meets it: a subprocess driven by the MCP SDK's stdio client."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from ab2n.media.probe import probe
from mediagen import clip_with_cuts


def _text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def _with_client(root: Path, body: Any) -> Any:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "ab2n.cli", "mcp", "--root", str(root)],
        env={**os.environ, "XDG_CACHE_HOME": str(root.parent / "cache")},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return await body(session)


def test_tools_add_music_progress_and_refusals(tmp_path: Path) -> None:
    root = tmp_path / "videos"
    root.mkdir()
    clip = root / "trip.mp4"
    shutil.copy(clip_with_cuts([2.0, 4.5], duration_s=6, audio="tone")[0], clip)
    (root / "not-a-video.mp4").write_bytes(b"#EXTM3U\n#EXT-X-VERSION:3\nhttp://example.com/a.ts\n")
    outside = tmp_path / "elsewhere.mp4"
    shutil.copy(clip, outside)
    progress: list[float] = []

    async def body(s: ClientSession) -> dict[str, Any]:
        names = {t.name for t in (await s.list_tools()).tools}

        async def on_progress(p: float, total: float | None, message: str | None) -> None:
            progress.append(p)

        done = await s.call_tool(
            "add_music",
            {"inputs": [str(clip)], "output": "trip-music.mp4", "prompt": "calm music at 40%"},
            progress_callback=on_progress,
        )
        again = await s.call_tool("add_music", {"inputs": [str(clip)], "output": "trip-music.mp4"})
        far = await s.call_tool("add_music", {"inputs": [str(outside)], "output": "x.mp4"})
        url = await s.call_tool("add_music", {"inputs": ["https://example.com/v.mp4"], "output": "y.mp4"})
        bad = await s.call_tool("add_music", {"inputs": [str(root / "not-a-video.mp4")], "output": "z.mp4"})
        said = await s.call_tool("explain_instruction", {"text": "lo-fi at 35% and make it vertical"})
        return {"names": names, "done": done, "again": again, "far": far, "url": url, "bad": bad, "said": said}

    r = anyio.run(_with_client, root, body)
    assert {"add_music", "analyze_video", "list_music", "explain_instruction", "start_session", "say"} <= r["names"]
    assert not r["done"].is_error, _text(r["done"])
    out = root / "trip-music.mp4"
    info = probe(out)
    assert info.has_audio and info.duration_s == pytest.approx(6.0, abs=0.1)
    assert progress and progress[-1] == pytest.approx(100.0) and progress == sorted(progress)
    assert r["again"].is_error and "exists" in _text(r["again"])  # never overwritten unasked
    assert r["far"].is_error and "outside" in _text(r["far"])
    assert r["url"].is_error and "local files" in _text(r["url"])
    assert r["bad"].is_error and "4001" in _text(r["bad"]) and "Traceback" not in _text(r["bad"])
    assert "35" in _text(r["said"])
    assert not (root / "z.mp4").exists() and not outside.with_name("x.mp4").exists()


def test_a_cancelled_call_stops_the_render(tmp_path: Path) -> None:
    root = tmp_path / "videos"
    root.mkdir()
    clip = root / "long.mp4"
    shutil.copy(clip_with_cuts([5.0, 11.0, 19.0], duration_s=30, size=(1280, 720), audio="tone")[0], clip)

    async def body(s: ClientSession) -> float:
        with anyio.move_on_after(3):
            await s.call_tool("add_music", {"inputs": [str(clip)], "output": "long-music.mp4", "prompt": "title 'Hi'"})
        t0 = time.monotonic()
        await anyio.sleep(25)  # long enough for the render to have finished, had it gone on
        await s.list_tools()  # the server still answers
        return time.monotonic() - t0

    anyio.run(_with_client, root, body)
    assert not (root / "long-music.mp4").exists(), "the render went on after the call was cancelled"
    assert not [p for p in root.iterdir() if "partial" in p.name]


def test_a_session_iterates_and_exports(tmp_path: Path) -> None:
    root = tmp_path / "videos"
    root.mkdir()
    for name, dur in (("beach.mp4", 4), ("city.mp4", 5)):
        shutil.copy(clip_with_cuts([1.5], duration_s=dur, audio="tone")[0], root / name)

    async def body(s: ClientSession) -> list[str]:
        started = await s.call_tool("start_session", {"inputs": [str(root / "beach.mp4"), str(root / "city.mp4")]})
        sid = started.structured_content["session_id"] if started.structured_content else ""
        answers = []
        for text in ("add calm music to the beach clip", "the city video: happy music at 30%", "export all"):
            r = await s.call_tool("say", {"session_id": sid, "text": text})
            assert not r.is_error, _text(r)
            answers.append(_text(r))
        return answers

    answers = anyio.run(_with_client, root, body)
    assert "beach.mp4" in answers[0] and "city.mp4" in answers[1]
    assert probe(root / "beach-music.mp4").duration_s == pytest.approx(4.0, abs=0.1)
    assert probe(root / "city-music.mp4").duration_s == pytest.approx(5.0, abs=0.1)
