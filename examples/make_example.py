"""Generate a small example clip (no media in git): 20 s, 720p, six shots with hard cuts, a voice-free
ambience track. Usage: python examples/make_example.py [OUT.mp4]"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import mediagen


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "example.mp4")
    clip, _ = mediagen.clip_with_cuts([2.6, 5.9, 8.1, 12.4, 15.0], duration_s=20.0, size=(1280, 720), audio="noise")
    out.write_bytes(clip.read_bytes())
    print(out)


if __name__ == "__main__":
    main()
