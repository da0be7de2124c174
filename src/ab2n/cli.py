"""The ab2n command line (Typer + Rich). The only module that prints or exits.

ab2n add INPUT... [-o OUT] [--mood M] [--prompt TEXT] [--music FILE_OR_DIR] [--volume 35%] ...
ab2n analyze INPUT [--json] [--plot PNG]
ab2n intent "TEXT" [--json]
ab2n library list | ab2n library analyze DIR [--json]
ab2n serve [--host] [--port] [--data]
ab2n --version
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from ab2n import __version__
from ab2n.errors import Ab2nError, InvalidArgument

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Add fitting background music to videos.")
library_app = typer.Typer(no_args_is_help=True, help="The music catalog.")
app.add_typer(library_app, name="library")

# Markup off: what is printed holds paths, track titles and the person's own words, where "[...]"
# is text (a title "[draft]" vanished from a chat reply, "[/b]" raised MarkupError); the few styled
# pieces are built as rich Text instead.
out = Console(markup=False)
err = Console(stderr=True, markup=False)
_state: dict[str, bool] = {"debug": False}
# Decoder threads for analysing a long video's picture (None: one a core), from --workers.
_analyze_workers: dict[str, int | None] = {"n": None}

IMAGE_OR_AUDIO_OUT = {"audio": ".m4a"}


def _version(value: bool) -> None:
    if value:
        out.print(f"ab2n {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            envvar="AB2N_ANALYZE_WORKERS",
            min=1,
            help="Decoder threads for analysing a long video (default: one a core; 1: one pass).",
        ),
    ] = None,
) -> None:
    """ab2n: background music that fits, hits the cuts, ducks under speech, at platform loudness."""
    _state["debug"] = debug
    _analyze_workers["n"] = workers
    ffmpeg = os.environ.get("AB2N_FFMPEG")
    if ffmpeg:
        from ab2n.media.ffmpeg import set_ffmpeg_exe

        set_ffmpeg_exe(ffmpeg)


def parse_volume(text: str | None) -> float | None:
    """ "35%", "0.35" or "35" -> 0.35."""
    if text is None:
        return None
    t = text.strip().rstrip("%")
    try:
        v = float(t)
    except ValueError:
        raise InvalidArgument(f"volume must look like 35% (got {text!r})") from None
    v = v / 100 if text.strip().endswith("%") or v > 2 else v
    if not 0 <= v <= 2:
        raise InvalidArgument("volume must be between 0% and 200%")
    return v


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ab2n"


def _error_line(code: int, message: str) -> None:
    """One line on stderr, however long: Rich would wrap it at the terminal's width (80 columns
    when stderr is a pipe)."""
    err.print(Text.assemble((f"error {code}:", "red"), f" {message}"), highlight=False, soft_wrap=True)


def _fail(exc: BaseException) -> None:
    if isinstance(exc, Ab2nError):
        _error_line(exc.code, exc.message)
        if _state["debug"]:
            if exc.detail:
                err.print(exc.detail, highlight=False)
            err.print(traceback.format_exc())
        raise typer.Exit(exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        err.print("error 499: cancelled")
        raise typer.Exit(8)
    _error_line(500, f"unexpected {type(exc).__name__}: {exc}")
    if _state["debug"]:
        err.print(traceback.format_exc())
    raise typer.Exit(1)


def _fail_unless_stopped(exc: BaseException) -> None:
    """For long-running servers: Ctrl-C or a normal exit stops them quietly; anything else is _fail."""
    if isinstance(exc, SystemExit | KeyboardInterrupt):
        raise exc
    _fail(exc)


def _progress_ui(enabled: bool) -> tuple[Progress | None, Callable[[str, float], None]]:
    if not enabled:
        return None, lambda stage, f: None
    prog = Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, frac: float) -> None:
        if stage not in tasks:
            tasks[stage] = prog.add_task(stage, total=1.0)
        prog.update(tasks[stage], completed=frac)

    return prog, update


def _default_output(inp: Path, kind: str, folder: Path | None) -> Path:
    suffix = IMAGE_OR_AUDIO_OUT.get(kind, ".mp4")
    return (folder or inp.parent) / f"{inp.stem}-music{suffix}"


def _video_word(copied: bool, render: dict[str, Any]) -> str:
    """How the picture was made, for the one-line summary."""
    if copied:
        return "video copied"
    if render.get("mode") == "smart":
        p = render.get("packets", {})
        return f"smart render ({p.get('encoded', 0)} of {p.get('encoded', 0) + p.get('copied', 0)} frames encoded)"
    return "video encoded"


SoundFontOpt = Annotated[
    str,
    typer.Option(
        envvar="AB2N_SOUNDFONT",
        help="Composed music: a SoundFont to play it on, none (the built-in synthesis) "
        "or auto (the system's General MIDI font when tinysoundfont is installed).",
    ),
]


@app.command()
def add(
    inputs: Annotated[list[Path], typer.Argument(help="Video, audio or image files.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output file (a folder for a batch).")] = None,
    mood: Annotated[str, typer.Option(help="auto, calm, happy, energetic, tender, nostalgic, epic, ...")] = "auto",
    prompt: Annotated[str | None, typer.Option(help="Say what you want: \"lo-fi at 35%, title 'Lisbon'\".")] = None,
    music: Annotated[
        Path | None,
        typer.Option(help='A music file or a folder of music to use, or "compose": music written for the video.'),
    ] = None,
    volume: Annotated[str | None, typer.Option(help="Music level, e.g. 35% (100% = programme level).")] = None,
    preset: Annotated[str, typer.Option(help="source, 1080p, vertical, square, portrait.")] = "source",
    fit: Annotated[str, typer.Option(help="pad (blurred background) or crop.")] = "pad",
    seed: Annotated[int, typer.Option(help="Selection seed (repeatable choices).")] = 0,
    keep_audio: Annotated[bool, typer.Option("--keep-audio/--mute-audio", help="Keep the input's own sound.")] = True,
    duration: Annotated[
        float | None,
        typer.Option(help="Seconds for a still image (default 15); an animated GIF/WebP loops to it (default: once)."),
    ] = None,
    hdr: Annotated[
        str, typer.Option(help="HDR video: sdr (tone-map to SDR BT.709) or keep (10-bit HEVC with its HDR tags).")
    ] = "sdr",
    loudness: Annotated[
        str, typer.Option(help="youtube (-14), apple/podcast (-16), ebu (-23) or a LUFS number.")
    ] = "youtube",
    montage: Annotated[
        bool, typer.Option(help="Join the inputs into one video (cuts on the music's downbeats).")
    ] = False,
    plot: Annotated[Path | None, typer.Option(help="Draw the plan (cuts over the beat grid, mix) to this PNG.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout (a batch: one object per line).")
    ] = False,
    max_mb: Annotated[int, typer.Option(help="Largest input file accepted, in MB.")] = 500,
    smart_render: Annotated[
        bool,
        typer.Option(
            "--smart-render/--full-render",
            help="Encode only the GOPs a title touches (when the stream can be matched), or the whole picture.",
        ),
    ] = True,
    soundfont: SoundFontOpt = "auto",
) -> None:
    """Add music to INPUT(s): one output each, or one montage with --montage."""
    try:
        from ab2n.media.probe import MediaLimits
        from ab2n.mix.loudness import target_for
        from ab2n.music.compose import soundfont as sf
        from ab2n.pipeline import AddOptions, add_music

        opts = AddOptions(  # refuses a bad preset, fit, volume or loudness before any work
            mood=mood,
            prompt=prompt,
            music=music,
            volume=parse_volume(volume),
            preset=preset,
            fit=fit,
            seed=seed,
            keep_audio=keep_audio,
            image_duration_s=15.0 if duration is None else duration,
            animation_s=duration,
            hdr=hdr,  # type: ignore[arg-type]  # checked by AddOptions
            target_lufs=target_for(loudness),
            montage=montage,
            limits=MediaLimits(max_bytes=max_mb * 1024 * 1024),
            cache_dir=_cache_dir(),
            smart_render=smart_render,
            soundfont=sf.resolve(soundfont),
        )
        jobs: list[tuple[list[Path], Path]] = []
        if montage or len(inputs) == 1:
            target = output or _default_output(inputs[0], _kind(inputs[0]), None)
            if target.is_dir():
                target = _default_output(inputs[0], _kind(inputs[0]), target)
            jobs.append((list(inputs), target))
        else:
            folder = output
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
            for i, inp in enumerate(inputs):
                jobs.append(([inp], _default_output(inp, _kind(inp), folder)))
                del i
        show = sys.stderr.isatty() and not as_json
        failures = 0
        for n, (ins, target) in enumerate(jobs):
            prog, update = _progress_ui(show)
            try:
                batch_opts = opts if len(jobs) == 1 else _with_seed(opts, seed + n)
                if prog:
                    with prog:
                        res = add_music(ins, target, batch_opts, progress=update, analyze_workers=_analyze_workers["n"])
                else:
                    res = add_music(ins, target, batch_opts, progress=update, analyze_workers=_analyze_workers["n"])
            except Ab2nError as exc:
                if len(jobs) == 1:
                    raise
                failures += 1
                _error_line(exc.code, f"{ins[0]}: {exc.message}")
                continue
            if plot is not None:
                png = plot if len(jobs) == 1 else plot.with_name(f"{plot.stem}-{n + 1}{plot.suffix}")
                # With --json, stdout carries the JSON alone, so the plot note goes to stderr.
                _plot_result(res, png, err if as_json else out)
            if as_json:
                # A batch prints one compact object per line, so its stdout parses line by line.
                out.print_json(json.dumps(res.to_json()), indent=2 if len(jobs) == 1 else None)
            else:
                lufs = f"{res.integrated_lufs:.1f} LUFS" if res.integrated_lufs is not None else "-"
                out.print(
                    Text.assemble(
                        ("✓", "green"),
                        f" {res.output_path}  ·  {res.track_title or 'no music'} ({res.mood})  ·  "
                        f"{res.cuts_on_beat}/{res.cuts_found} cuts on beats  ·  {lufs}  ·  "
                        f"{_video_word(res.video_copied, res.render)}",
                    ),
                    highlight=False,
                )
                for note in res.notes:
                    out.print(f"  note: {note}", highlight=False)
        if failures:
            raise typer.Exit(1)
    except typer.Exit:
        raise
    except BaseException as exc:
        _fail(exc)


def _with_seed(opts: Any, seed: int) -> Any:
    import dataclasses

    return dataclasses.replace(opts, seed=seed)


def _kind(path: Path) -> str:
    from ab2n.media.sniff import sniff

    try:
        return sniff(path).kind_hint
    except Ab2nError:
        return "video"


def _plot_result(res: Any, png: Path, console: Console) -> None:
    from ab2n.render.plot import plot_add_result

    plot_add_result(res, png)
    console.print(f"plot: {png}", highlight=False)


@app.command()
def analyze(
    input: Annotated[Path, typer.Argument(help="A video, audio or image file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Draw the profile to this PNG.")] = None,
    max_mb: Annotated[int, typer.Option(help="Largest input file accepted, in MB.")] = 500,
) -> None:
    """Show what ab2n understands of a file: cuts, speech, mood, sections."""
    try:
        from ab2n.analyze import analyze as run_analyze
        from ab2n.media.probe import MediaLimits, probe

        info = probe(input, limits=MediaLimits(max_bytes=max_mb * 1024 * 1024))
        prof = run_analyze(info, workers=_analyze_workers["n"])
        if plot is not None:
            from ab2n.analyze.plot import plot_profile

            plot_profile(prof, info, plot)
        if as_json:
            out.print_json(json.dumps({"media": info.to_json(), "profile": prof.to_json()}))
        else:
            out.print(
                f"{input}: {info.kind}, {info.duration_s:.1f} s, mood {prof.mood}, {len(prof.cuts)} cuts, "
                f"{len(prof.speech)} speech intervals ({prof.speech_fraction:.0%} speech)",
                highlight=False,
            )
    except BaseException as exc:
        _fail(exc)


@app.command()
def intent(
    text: Annotated[str, typer.Argument(help="What a person would say.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the parse as JSON.")] = False,
    after: Annotated[
        str | None, typer.Option(help="What the previous turn changed (music or title), as the chat knows it.")
    ] = None,
) -> None:
    """Show how ab2n understands an instruction (English or Chinese), exactly as the chat reads it."""
    try:
        from ab2n.errors import InvalidArgument
        from ab2n.intent.message import read_message
        from ab2n.intent.parse import TOPICS

        if after is not None and after not in TOPICS:
            raise InvalidArgument(f"--after is one of {', '.join(TOPICS)}")
        _address, res = read_message(text, after=after)
        if as_json:
            out.print_json(json.dumps(res.to_json(), ensure_ascii=False))
        else:
            out.print(res.describe(), highlight=False)
    except BaseException as exc:
        _fail(exc)


@library_app.command("list")
def library_list(
    music: Annotated[list[Path] | None, typer.Option(help="Extra music folders or files.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the catalog (bundled tracks plus your folders)."""
    try:
        from ab2n.music.catalog import load_catalog

        tracks = load_catalog(music or [])
        if as_json:
            out.print_json(
                json.dumps(
                    [
                        {
                            "id": t.id,
                            "title": t.title,
                            "mood": t.mood,
                            "tags": list(t.tags),
                            "path": str(t.path),
                            "source": t.source,
                        }
                        for t in tracks
                    ]
                )
            )
        else:
            for t in tracks:
                out.print(f"{t.id:<40} {t.mood or '-':<10} {', '.join(t.tags):<12} {t.title}", highlight=False)
    except BaseException as exc:
        _fail(exc)


@library_app.command("analyze")
def library_analyze(
    folder: Annotated[Path, typer.Argument(help="A folder (or file) of music.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Analyse tracks: tempo, meter, key, ending, mood estimates (cached)."""
    try:
        from dataclasses import asdict

        from ab2n.music.beats import analyze_tracks
        from ab2n.music.catalog import AUDIO_SUFFIXES

        files = (
            [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        )
        rows = []
        for f, an in zip(files, analyze_tracks(files, cache_dir=_cache_dir()), strict=True):
            a = asdict(an)
            a.pop("bar_chroma", None)
            rows.append({"path": str(f), **a})
        if as_json:
            out.print_json(json.dumps(rows))
        else:
            for r in rows:
                out.print(
                    f"{Path(r['path']).name:<40} {r['tempo_bpm']:7.1f} BPM  {r['beats_per_bar']}/4  "
                    f"{r['key']} {r['mode']:<5}  {r['duration_s']:6.1f} s",
                    highlight=False,
                )
    except BaseException as exc:
        _fail(exc)


@app.command()
def chat(
    inputs: Annotated[list[Path] | None, typer.Argument(help="Media to start with (omit to resume).")] = None,
    session: Annotated[Path, typer.Option(help="Session file (saved after every turn).")] = Path("ab2n-chat.json"),
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Where 'export' writes.")] = None,
    soundfont: SoundFontOpt = "auto",
) -> None:
    """A terminal chat over a local session: say what you want, 'export' renders it."""
    try:
        from ab2n.chat_session import ChatSession
        from ab2n.music.compose import soundfont as sf

        sess = ChatSession.open(session, inputs or [], cache_dir=_cache_dir(), soundfont=sf.resolve(soundfont))
        out.print(f"session {session} · {sess.summary()}", highlight=False)
        out.print('Say what you want ("lo-fi at 35%", "title \'Lisbon\'", "export"); Ctrl-D to quit.')
        while True:
            try:
                text = input("you> ")
            except EOFError:
                break
            if not text.strip():
                continue
            try:
                reply = sess.say(text, output=output)
            except Ab2nError as exc:
                reply = f"error {exc.code}: {exc.message}"
            out.print(f"ab2n> {reply}", highlight=False)
    except BaseException as exc:
        _fail(exc)


DataOpt = Annotated[Path | None, typer.Option(help="Data folder (database, uploads, outputs).")]
DbOpt = Annotated[str | None, typer.Option(help="SQLAlchemy URL (default: SQLite in the data folder).")]
BrokerOpt = Annotated[str | None, typer.Option(help="Celery broker (redis://...): renders run on `ab2n worker`s.")]


def _service_settings(data: Path | None, database_url: str | None, broker_url: str | None) -> Any:
    """Settings from ``AB2N_*`` with the command line's options on top."""
    from ab2n.server.settings import Settings

    given: dict[str, Any] = {"data_dir": data, "database_url": database_url, "broker_url": broker_url}
    return Settings(**{k: v for k, v in given.items() if v is not None})


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    data: DataOpt = None,
    database_url: DbOpt = None,
    broker_url: BrokerOpt = None,
) -> None:
    """Run the service (shared/SPEC.md protocol): embedded render workers, or Celery ones with a broker."""
    try:
        import uvicorn

        from ab2n.server.app import create_app

        settings = _service_settings(data, database_url, broker_url)
        if not settings.public_url:  # links name this server, never a client's Host header
            shown = f"[{host}]" if ":" in host else host
            settings.public_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}"
        err.print(f"ab2n serve on http://{host}:{port}  (data: {settings.data_dir}, docs: /docs)", highlight=False)
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    except BaseException as exc:
        _fail_unless_stopped(exc)


class WorkerOnly(StrEnum):
    """What an ``ab2n worker`` takes from the broker."""

    both = "both"
    analysis = "analysis"
    renders = "renders"


@app.command()
def worker(
    data: DataOpt = None,
    database_url: DbOpt = None,
    broker_url: BrokerOpt = None,
    concurrency: Annotated[int, typer.Option(help="Renders at once.", min=1, max=64)] = 1,
    nice: Annotated[
        int | None, typer.Option(help="Lower the worker's CPU priority by this (0-19; default 10).", min=0, max=19)
    ] = None,
    only: Annotated[
        WorkerOnly, typer.Option(help="Take only uploads' analysis or only renders (default: both, analysis first).")
    ] = WorkerOnly.both,
) -> None:
    """Render and analyse for `ab2n serve --broker-url ...` (Celery; the database is the truth)."""
    try:
        from ab2n.worker import run

        settings = _service_settings(data, database_url, broker_url)
        if nice is not None:
            settings.worker_nice = nice
        settings.ensure_dirs()
        err.print(f"ab2n worker: {concurrency} at once (data: {settings.data_dir})", highlight=False)
        run(settings, concurrency=concurrency, only=only.value)
    except BaseException as exc:
        _fail_unless_stopped(exc)


@app.command()
def mcp(
    root: Annotated[
        list[Path] | None, typer.Option(help="A folder the assistant may read and write (repeat; default: here).")
    ] = None,
) -> None:
    """An MCP server over stdio for AI assistants: add_music, analyze_video, list_music, sessions."""
    try:
        from ab2n.mcp import serve_stdio

        serve_stdio(root or [Path.cwd()])
    except BaseException as exc:
        _fail_unless_stopped(exc)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
