"""Scale-out with the real parts: PostgreSQL as the truth, Redis as the broker, `ab2n worker` processes.

Uses the PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379) of the machine: a
database and a Redis db number of its own per test. Skipped when they are not reachable, unless
``AB2N_REQUIRE_SCALE=1`` (set by .ci/run), where that is a failure.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ab2n.media.probe import probe
from mediagen import clip_with_cuts
from server.conftest import auth, sse_events, texts, token
from server.test_security import _render, _session, _upload, _wait

pytestmark = pytest.mark.scale

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not _reachable(5432):
        if os.environ.get("AB2N_REQUIRE_SCALE") == "1":
            pytest.fail("PostgreSQL is not running on 127.0.0.1:5432")
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    import psycopg

    name = f"ab2n_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG.format(db=name)
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def redis_url() -> Iterator[str]:
    if not _reachable(6379):
        if os.environ.get("AB2N_REQUIRE_SCALE") == "1":
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")
    import redis

    db = random.randint(1, 15)
    client = redis.Redis(host="127.0.0.1", port=6379, db=db)
    client.flushdb()
    yield f"redis://127.0.0.1:6379/{db}"
    client.flushdb()


class Worker:
    """A running `ab2n worker`."""

    def __init__(self, data: Path, env: dict[str, str], *args: str) -> None:
        log = (data / f"worker-{uuid.uuid4().hex[:6]}.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ab2n.cli", "worker", "--data", str(data), "--concurrency", "1", *args],
            env={**os.environ, **env},
            stdout=log,
            stderr=log,
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def test_two_workers_five_renders_one_killed(make_server, pg_url: str, redis_url: str, tmp_path: Path) -> None:
    env = {
        "AB2N_DATABASE_URL": pg_url,
        "AB2N_BROKER_URL": redis_url,
        "AB2N_LEASE_S": "3",
        "AB2N_HEARTBEAT_S": "0.5",
        "AB2N_REQUEUE_S": "5",
        "AB2N_TEST_RENDER_DELAY_S": "2",
        "XDG_CACHE_HOME": str(tmp_path),
    }
    srv = make_server(**env)
    workers = [Worker(srv.data, env) for _ in range(2)]
    try:
        tok = token(srv.url)
        sid = _session(srv.url, tok)
        lengths = [3, 4, 3, 5, 4]
        for i, dur in enumerate(lengths):
            clip, _ = clip_with_cuts([1.0 + 0.3 * i], duration_s=dur, audio="tone")
            assert _upload(srv.url, tok, sid, clip, name=f"clip{i}.mp4")["code"] == 0
        ids = [
            m["media_id"]
            for m in httpx.get(f"{srv.url}/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()["data"][
                "video_infos"
            ]
        ]
        for i, mid in enumerate(ids):
            draft = {"v": 1, "t": [{"tt": 0, "sg": [{"mid": mid, "s": 0, "d": lengths[i] * 1000}]}]}
            r = _render(srv.url, tok, {"id": f"render_{i}", "sessionId": sid, "draft": draft})
            assert r.json()["code"] == 0, r.text
        deadline = time.monotonic() + 120
        while True:  # both workers busy: kill one of them mid-render
            running = [
                httpx.get(f"{srv.url}/api/render/proxy/lambda/render_{i}", headers=auth(tok)).json()["data"]["status"]
                for i in range(5)
            ].count("running")
            if running >= 2:
                break
            assert time.monotonic() < deadline, "the workers never took two jobs at once"
            time.sleep(0.2)
        workers[0].kill()
        for i, dur in enumerate(lengths):
            job = _wait(srv.url, tok, f"render_{i}", timeout_s=300)
            assert job["status"] == "done", job
            out = tmp_path / f"out{i}.mp4"
            out.write_bytes(httpx.get(job["output_url"], headers=auth(tok), timeout=60).content)
            assert probe(out).duration_s == pytest.approx(dur, abs=0.1)
        bal = httpx.get(srv.url + "/api/credits/balance/simple", headers=auth(tok)).json()["data"]
        assert bal == {"available": 50, "frozen": 0, "total": 50}  # five captures, nothing frozen
        import psycopg

        with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql")) as conn:
            captures = conn.execute("SELECT count(*) FROM ledger WHERE kind = 'capture'").fetchone()
        assert captures is not None and captures[0] == 5
    finally:
        for w in workers:
            w.stop()


def test_forty_concurrent_exports_on_postgresql(make_server, pg_url: str) -> None:
    srv = make_server(AB2N_DATABASE_URL=pg_url, AB2N_WORKERS="0", AB2N_COST_EXPORT="10")
    tok = token(srv.url)
    sid = _session(srv.url, tok)

    def export(i: int) -> int:
        r = httpx.post(
            srv.url + "/api/render/proxy/lambda", headers=auth(tok), json={"id": f"c{i}", "sessionId": sid}, timeout=60
        )
        return int(r.json()["code"])

    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(export, range(40)))
    assert codes.count(0) == 10 and codes.count(2001) == 30, codes
    bal = httpx.get(srv.url + "/api/credits/balance/simple", headers=auth(tok)).json()["data"]
    assert bal == {"available": 0, "frozen": 100, "total": 100}


def test_migrations_up_and_down_on_postgresql(pg_url: str) -> None:
    import sqlalchemy as sa

    from ab2n.errors import InvalidArgument
    from ab2n.server.migrate import current_revision, downgrade, upgrade

    engine = sa.create_engine(pg_url)
    upgrade(engine)
    assert current_revision(engine) == "0003"
    tables = set(sa.inspect(engine).get_table_names())
    assert {"clients", "sessions", "drafts", "media", "jobs", "ledger", "rate_hits"} <= tables
    downgrade(engine, "0001")
    assert "rate_hits" not in sa.inspect(engine).get_table_names()
    assert "client_ref" not in {c["name"] for c in sa.inspect(engine).get_columns("jobs")}
    downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == "0003"
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(InvalidArgument, match="9999"):
        upgrade(engine)
    engine.dispose()


def test_chat_over_sse_while_a_worker_does_the_work(make_server, pg_url: str, redis_url: str, tmp_path: Path) -> None:
    env = {
        "AB2N_DATABASE_URL": pg_url,
        "AB2N_BROKER_URL": redis_url,
        "AB2N_SSE_HEARTBEAT_S": "0.2",
        "AB2N_TEST_RENDER_DELAY_S": "2",
        "XDG_CACHE_HOME": str(tmp_path),
    }
    srv = make_server(**env)
    worker = Worker(srv.data, env)
    try:
        tok = token(srv.url)
        busy = _session(srv.url, tok)  # three renders queued on the one worker before the chat's upload
        clip, _ = clip_with_cuts([1.5, 3.0], duration_s=5, audio="tone")
        assert _upload(srv.url, tok, busy, clip, name="other.mp4")["code"] == 0
        for i in range(3):
            assert _render(srv.url, tok, {"id": f"busy_{i}", "sessionId": busy}).json()["code"] == 0
        sid = _session(srv.url, tok)
        assert _upload(srv.url, tok, sid, clip, name="trip.mp4")["code"] == 0
        import psycopg

        dsn = pg_url.replace("postgresql+psycopg", "postgresql")
        deadline = time.monotonic() + 120
        while True:  # the analysis queue is read first: the upload is not analysed after every render
            with psycopg.connect(dsn) as conn:
                row = conn.execute("SELECT profile IS NOT NULL FROM media WHERE name = 'trip.mp4'").fetchone()
            if row and row[0]:
                break
            assert time.monotonic() < deadline, "the upload was never analysed"
            time.sleep(0.2)
        waiting = [
            httpx.get(f"{srv.url}/api/render/proxy/lambda/busy_{i}", headers=auth(tok)).json()["data"]["status"]
            for i in range(3)
        ]
        assert waiting.count("done") < 3, "the upload's analysis waited behind every queued render"
        # A client that hangs up on the first frame loses nothing: the turn (waiting for the
        # worker's analysis of the upload) runs to the end and its edit is saved.
        with httpx.stream(
            "POST",
            srv.url + "/run_sse",
            headers={**auth(tok), "Accept": "text/event-stream"},
            json={"session_id": sid, "new_message": {"role": "user", "parts": [{"text": "add calm music"}]}},
            timeout=60,
        ) as r:
            assert r.status_code == 200
            next(r.iter_lines())
        deadline = time.monotonic() + 120
        while True:
            draft = httpx.get(f"{srv.url}/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()["data"]
            if draft["draft"] and any(t["tt"] == 1 for t in draft["draft"]["t"]):
                break
            assert time.monotonic() < deadline, "the turn whose client hung up was not saved"
            time.sleep(0.3)
        ev = sse_events(srv.url, tok, sid, "make it 35%")
        assert any("function_call" in p for e in ev for p in e.get("content", {}).get("parts", [])), ev
        assert "35%" in texts(ev) and ev[-1].get("_event") == "end"
        answer = texts(sse_events(srv.url, tok, sid, "export"))
        job_id = re.findall(r"render_[0-9a-f]{20}", answer)[0]
        job = _wait(srv.url, tok, job_id, timeout_s=240)
        assert job["status"] == "done", job
        out = tmp_path / "out.mp4"
        out.write_bytes(httpx.get(job["output_url"], headers=auth(tok), timeout=60).content)
        assert probe(out).duration_s == pytest.approx(5.0, abs=0.1)
        with psycopg.connect(dsn) as conn:
            names = [str(w) for (w,) in conn.execute("SELECT worker FROM jobs").fetchall()]
            profiled = conn.execute("SELECT count(*) FROM media WHERE profile IS NOT NULL").fetchone()
        assert len(names) == 4 and all(w.startswith(socket.gethostname() + "-") for w in names)  # `ab2n worker`s
        assert profiled is not None and profiled[0] == 2
        for i in range(3):
            assert _wait(srv.url, tok, f"busy_{i}", timeout_s=240)["status"] == "done"
    finally:
        worker.stop()


def test_analysis_and_render_workers_apart(make_server, pg_url: str, redis_url: str, tmp_path: Path) -> None:
    env = {"AB2N_DATABASE_URL": pg_url, "AB2N_BROKER_URL": redis_url, "XDG_CACHE_HOME": str(tmp_path)}
    srv = make_server(**env)
    workers = [Worker(srv.data, env, "--only", "analysis")]
    try:
        tok = token(srv.url)
        sid = _session(srv.url, tok)
        clip, _ = clip_with_cuts([1.5], duration_s=3, audio="tone")
        assert _upload(srv.url, tok, sid, clip, name="a.mp4")["code"] == 0
        import psycopg

        dsn = pg_url.replace("postgresql+psycopg", "postgresql")
        deadline = time.monotonic() + 120
        while True:  # the analysis-only worker analyses the upload
            with psycopg.connect(dsn) as conn:
                row = conn.execute("SELECT profile IS NOT NULL FROM media").fetchone()
            if row and row[0]:
                break
            assert time.monotonic() < deadline, "the analysis worker never analysed the upload"
            time.sleep(0.2)
        assert _render(srv.url, tok, {"id": "r", "sessionId": sid}).json()["code"] == 0
        time.sleep(3)  # ... and takes no render
        job = httpx.get(f"{srv.url}/api/render/proxy/lambda/r", headers=auth(tok)).json()["data"]
        assert job["status"] == "queued", job
        workers.append(Worker(srv.data, env, "--only", "renders"))
        assert _wait(srv.url, tok, "r", timeout_s=240)["status"] == "done"
    finally:
        for w in workers:
            w.stop()
