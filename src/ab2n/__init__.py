"""ab2n: add fitting background music to videos, locally, on one machine.

    import ab2n

    result = ab2n.add_music(["trip.mp4"], "trip-music.mp4", ab2n.AddOptions(mood="calm"))
    print(result.track_title, result.integrated_lufs, result.timings_s)

The pipeline is six stages, each usable alone (docs/api.md):

    probe(path) -> MediaInfo -> analyze(info) -> VideoProfile
      -> choose -> arrange (MusicPlan) -> mix (MixPlan) -> render (the file)

``add_music`` runs all six; ``AddResult`` says what it did. ``AddOptions(music=ab2n.COMPOSE)``
composes music for the video instead of choosing a recording (``AddResult.to_json()["score"]``
reports its tempo map, sections and seed; ``ScorePlan`` is the score's plan). The modules under ``ab2n`` are
private by convention: what is here is the public API, kept stable across minor versions.

Every error is an :class:`Ab2nError` with a protocol ``code``:

    Ab2nError                      code
    ├── InvalidArgument            400   a bad option or instruction
    ├── NotFound                   404   a path or track that does not exist
    ├── UnsupportedMedia           4001  not a format ab2n accepts (decided from content)
    ├── MediaTooLarge              4002  over a size, duration or pixel limit
    ├── ProcessingError            500   FFmpeg or a stage failed on valid-looking input
    │   └── ProcessTimeout         500   a process exceeded its wall clock or stalled
    └── Cancelled                  499   the caller set the cancel event
"""

# The subpackage ``ab2n.analyze`` and the function ``analyze`` share a name: importing the
# function here, after the package, is what keeps ``ab2n.analyze`` the function. So its modules
# are reached with ``from ab2n.analyze.scenes import ...``; ``import ab2n.analyze.scenes as s``
# (which looks ``analyze`` up on this package) fails.
from ab2n.analyze import analyze
from ab2n.analyze.profile import VideoProfile
from ab2n.errors import (
    Ab2nError,
    Cancelled,
    InvalidArgument,
    MediaTooLarge,
    NotFound,
    ProcessingError,
    ProcessTimeout,
    UnsupportedMedia,
)
from ab2n.media.probe import MediaInfo, MediaLimits, probe
from ab2n.mix.mixdown import MixPlan
from ab2n.music.arrange import MusicPlan
from ab2n.music.compose import COMPOSE
from ab2n.music.compose.plan import ScorePlan
from ab2n.pipeline import STAGES, AddOptions, AddResult, add_music
from ab2n.render.export import RenderResult
from ab2n.timeline.draft import Draft

__version__ = "0.1.0"

__all__ = [
    "COMPOSE",
    "STAGES",
    "Ab2nError",
    "AddOptions",
    "AddResult",
    "Cancelled",
    "Draft",
    "InvalidArgument",
    "MediaInfo",
    "MediaLimits",
    "MediaTooLarge",
    "MixPlan",
    "MusicPlan",
    "NotFound",
    "ProcessTimeout",
    "ProcessingError",
    "RenderResult",
    "ScorePlan",
    "UnsupportedMedia",
    "VideoProfile",
    "__version__",
    "add_music",
    "analyze",
    "probe",
]
