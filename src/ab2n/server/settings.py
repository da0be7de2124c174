"""Service settings: one place, ``AB2N_`` environment variables, validated at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service can be told. Environment: ``AB2N_<NAME>`` (e.g. ``AB2N_DATA_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="AB2N_", extra="ignore")

    data_dir: Path = Path("ab2n-data")
    database_url: str | None = None  # default: sqlite:///<data_dir>/ab2n.db (WAL)
    # Base of the links handed out (output_url, upload and poll URLs). ``ab2n serve`` sets it to
    # its own http://host:port; behind a proxy set it to the public address. Never the Host header.
    public_url: str = ""

    credits_enabled: bool = True
    anonymous_credits: int = 100
    token_days: float = 7.0
    cost_export: int = 10
    cost_edit: int = 0
    bind_url: str = "https://ab2n.local/register"
    require_attribution: bool = False  # refuse exports without X-Skill-* headers (402)

    max_upload_bytes: int = 500 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024
    url_fetch_timeout_s: float = 60.0
    url_allow: list[str] = Field(default_factory=list)  # "127.0.0.1:8123" entries allowed past the SSRF guard

    # What composed music is played on: a SoundFont path, "none" (built-in synthesis) or "auto"
    # (the system's General MIDI font when tinysoundfont is installed). Set by the operator only.
    soundfont: str = "auto"
    workers: int = 2  # embedded render threads (none when a broker is set: workers render)
    # Scale-out: with a Celery broker (redis://...), renders and analysis run on `ab2n worker`s.
    broker_url: str | None = None
    requeue_s: float = 120.0  # a job waiting this long on the broker is sent again (messages can be lost)
    analysis_wait_s: float = 600.0  # how long the service waits for a worker to analyse an upload
    lease_s: float = 10.0
    # `ab2n worker` lowers its CPU priority (and so its FFmpeg children's) by this much: where it
    # shares a machine with `ab2n serve`, renders take the cores the API is not using.
    worker_nice: int = 10
    heartbeat_s: float = 2.0
    max_attempts: int = 3
    output_days: float = 7.0
    test_render_delay_s: float = 0.0  # tests only: make renders slow enough to kill the server mid-job

    sse_heartbeat_s: float = 15.0
    sse_max_s: float = 15 * 60.0
    rate_chat_per_min: int = 60
    rate_upload_per_min: int = 30
    tokens_per_address_per_day: int = 20  # new anonymous tokens one network address may get
    url_fetches_per_client: int = 2  # concurrent URL downloads per client (429 beyond)
    fetch_threads: int = 8  # the URL-download pool, apart from everything else
    probe_threads: int = 4  # the pool that probes uploads
    sweep_every_s: float = 300.0  # housekeeping: expired outputs, leftovers of dead jobs
    stale_after_s: float = 600.0  # a temporary file untouched this long belongs to nobody

    @field_validator("worker_nice")
    @classmethod
    def _nice(cls, v: int) -> int:
        if not 0 <= v <= 19:
            raise ValueError("worker_nice must be 0..19")
        return v

    @field_validator("workers")
    @classmethod
    def _workers(cls, v: int) -> int:
        if not 0 <= v <= 64:
            raise ValueError("workers must be 0..64")
        return v

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL in use."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'ab2n.db').resolve()}"

    def ensure_dirs(self) -> None:
        """Create the data folders."""
        for sub in ("uploads", "outputs", "work", "cache"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
