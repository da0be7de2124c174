"""Shared pytest setup.

Tests import the generated-media helpers from tests/mediagen.py. ``AB2N_FFMPEG`` picks the FFmpeg
binary for the whole run, as it does for the CLI: the core never reads the environment, so the
test session passes it in the way the CLI does, and fixtures are generated with the same binary
the tool under test resolves (``.ci/run`` runs the suite once with the bundled build and once with
Debian's FFmpeg 5.1).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ab2n.media.ffmpeg import ffmpeg_exe, set_ffmpeg_exe

sys.path.insert(0, str(Path(__file__).resolve().parent))

if os.environ.get("AB2N_FFMPEG"):
    set_ffmpeg_exe(os.environ["AB2N_FFMPEG"])


def pytest_report_header() -> str:
    """Name the FFmpeg this run uses, so a failure log says which binary made the fixtures."""
    return f"ffmpeg: {ffmpeg_exe()}"
