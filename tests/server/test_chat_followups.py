"""One script of turns, said to the service and to the terminal chat, gives the same drafts: follow-ups
that lean on the last turn ("louder", "longer", "move it to the top", "去掉它"), titles without quotes,
platform words, Chinese; the answers are in the language of each message and name no buttons."""

from __future__ import annotations

import re
from pathlib import Path

from mediagen import clip_with_cuts
from server.conftest import sse_events, texts, token
from server.test_files import _by_name, _essence, _state
from server.test_security import _session, _upload

SCRIPT = [
    "add calm music",
    "louder",
    "another one",
    "put a title that says Paris 2026",
    "longer",
    "move it to the top",
    "undo that",
    "make it portrait for youtube shorts",
    "turn off the original sound",
    "字幕写着生日快乐",
    "标题再长一点",
    "去掉它",
    "make the title spin",
]
_CJK = re.compile(r"[\u4e00-\u9fff]")
_GUI = re.compile(r"\b(?:click|button|tap)\b|点击|按钮", re.IGNORECASE)


def test_the_same_turns_give_the_same_drafts_in_the_service_and_the_terminal(make_server, tmp_path: Path) -> None:
    from ab2n.chat_session import ChatSession

    clip = tmp_path / "walk.mp4"
    clip.write_bytes(clip_with_cuts([1.5], duration_s=4, audio="tone")[0].read_bytes())
    srv = make_server()
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    _upload(srv.url, tok, sid, clip, name="walk.mp4")
    # The same track-analysis cache as the service: each track is analysed once, not once per face.
    local = ChatSession.open(tmp_path / "chat.json", [clip], cache_dir=srv.data / "cache")
    for line in SCRIPT:
        served = texts(sse_events(srv.url, tok, sid, line))
        mine = local.say(line)
        for reply in (served, mine):
            assert bool(_CJK.search(line)) == bool(_CJK.search(reply)), (line, reply)
            assert not _GUI.search(reply), reply
        here = local.draft(local.active())
        there = _by_name(_state(srv.url, tok, sid))["walk.mp4"]["draft"]
        assert _essence(here.to_json() if here else None) == _essence(there), line
    from ab2n.timeline.draft import Draft

    final = Draft.from_json(there)
    assert [(t.text, t.duration_ms, t.position) for t in final.texts] == [("Paris 2026", 4000, "center")]
    assert (final.settings.aspect, final.settings.original_audio) == ("vertical", "mute")
    assert final.music is not None and final.music.mood == "calm" and final.music.volume is not None
