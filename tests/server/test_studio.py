"""The studio page in a real Chromium (Debian's, driven by Playwright) against a real ``ab2n serve``.

Every test fails on a JavaScript error or a console error on the page.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from ab2n.media.probe import probe
from mediagen import clip_with_cuts, espeak_available, speech_wav
from server.conftest import auth, token

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("AB2N_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CUTS = [2.1, 3.9, 6.5, 8.0]
EXPORT_TIMEOUT_MS = 300_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Page:
    """A fresh browser context and page that records every JavaScript and console error."""

    def __init__(self, browser, base: str, allowed: tuple[str, ...] = (), phone: bool = False) -> None:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 860}
        self.context = browser.new_context(
            viewport=viewport, accept_downloads=True, locale="zh-CN" if phone else "en-US"
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.allowed = allowed
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)
        self.base = base

    def _console(self, msg) -> None:
        if msg.type == "error" and not any(a in msg.text for a in self.allowed):
            self.errors.append(f"console: {msg.text}")

    def open(self):
        self.page.goto(self.base + "/")
        sync_api.expect(self.page.locator("body[data-ready='1']")).to_be_attached(timeout=30_000)
        return self.page

    def close(self) -> None:
        self.context.close()
        assert self.errors == []


@pytest.fixture
def studio(browser) -> Iterator:
    pages: list[Page] = []

    def factory(base: str, allowed: tuple[str, ...] = (), phone: bool = False) -> Page:
        p = Page(browser, base, allowed, phone)
        pages.append(p)
        return p

    yield factory
    for p in pages:
        p.close()


@pytest.fixture(scope="module")
def talking_clip() -> Path:
    """A 10 s clip with hard cuts at known times and speech (when espeak-ng is there)."""
    if espeak_available():
        wav, _spans = speech_wav(["Welcome to Lisbon.", "The city of seven hills."], pauses_s=[3.0], lead_s=1.5)
        return clip_with_cuts(CUTS, duration_s=10, audio=wav)[0]
    return clip_with_cuts(CUTS, duration_s=10, audio="tone")[0]


def upload(page, path: Path) -> None:
    page.get_by_label("Upload", exact=True).set_input_files(str(path))


def chat(page, text: str) -> None:
    before = page.locator(".msg.assistant").count()
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()
    sync_api.expect(page.locator(".msg.assistant")).to_have_count(before + 1)
    sync_api.expect(page.get_by_role("button", name="Send")).to_be_enabled(timeout=180_000)


def test_whole_flow(make_server, studio, talking_clip: Path, tmp_path: Path) -> None:
    srv = make_server()
    s = studio(srv.url)
    page = s.open()
    expect = sync_api.expect
    expect(page.locator("#credits")).to_contain_text("100 available")

    upload(page, talking_clip)
    expect(page.locator("#uploads li.ok")).to_have_count(1, timeout=60_000)
    expect(page.locator("#uploads li.ok progress")).to_have_attribute("value", "1")
    # The uploaded file is drawn at once: its segment and the cuts the analysis found.
    expect(page.locator("#timeline [data-kind=video]")).to_have_count(1, timeout=60_000)

    # Heartbeats (every 0.2 s here) show the quiet "still working…" while the edit runs.
    page.evaluate(
        """() => {
            const w = document.getElementById("working");
            window.sawWorking = false;
            new MutationObserver(() => { if (!w.hidden) window.sawWorking = true; }).observe(w, { attributes: true });
        }"""
    )
    chat(page, "add calm piano at 40% and a title 'Lisbon'")
    assert page.evaluate("window.sawWorking")
    expect(page.locator("#working")).to_be_hidden()
    log = page.get_by_role("log")
    expect(log).to_contain_text("40%")
    expect(log).to_contain_text("Lisbon")
    expect(page.locator("#summary")).to_contain_text('Title: "Lisbon"')
    tl = page.locator("#timeline")
    expect(tl.locator("[data-kind=title]")).to_contain_text("Lisbon")
    assert tl.locator("[data-kind=beat]").count() >= 8  # a 10 s bed has beats all along
    assert tl.locator("[data-kind=downbeat]").count() >= 2
    assert tl.locator("[data-kind=music-seg]").count() >= 1
    assert tl.locator("[data-kind=duck]").count() == 1
    assert tl.locator("[data-kind=ending]").count() == 1
    assert abs(tl.locator("[data-kind=cut]").count() - len(CUTS)) <= 1
    if espeak_available():
        assert tl.locator("[data-kind=speech]").count() >= 1
    assert "40%" in (tl.locator("svg").get_attribute("aria-label") or "")

    page.get_by_role("button", name="Export").click()
    link = page.get_by_role("link", name=re.compile(r"^Download "))
    expect(link).to_be_visible(timeout=EXPORT_TIMEOUT_MS)
    href = link.get_attribute("href") or ""
    tok = page.evaluate("localStorage.getItem('ab2n.token')")
    assert tok and tok not in href and "/api/render/download/" in href
    with page.expect_download() as dl:
        link.click()
    out = tmp_path / "studio.mp4"
    dl.value.save_as(out)
    info = probe(out)
    assert info.kind == "video" and info.has_audio
    assert abs(info.duration_s - 10.0) < 0.2
    expect(page.locator("#preview")).to_be_visible()
    expect(page.locator("#credits")).to_contain_text("90 available")
    shot = os.environ.get("AB2N_STUDIO_SCREENSHOT")
    if shot:
        page.locator("#preview").evaluate("v => v.pause()")
        page.screenshot(path=shot, full_page=True)


def drop_files(page, files: dict[str, int]) -> None:
    """Drop generated files (name -> size in bytes of filler text) on the drop zone, as a person would."""
    dt = page.evaluate_handle(
        """files => {
            const dt = new DataTransfer();
            for (const [name, size] of Object.entries(files)) dt.items.add(new File(["x".repeat(size)], name));
            return dt;
        }""",
        files,
    )
    page.dispatch_event("#drop", "drop", {"dataTransfer": dt})


def test_refused_files_break_nothing(make_server, studio, tmp_path: Path) -> None:
    srv = make_server(AB2N_MAX_UPLOAD_BYTES=str(400_000))
    # Chromium logs every non-2xx answer as a console error: the refusals' 415 and 413 are expected here.
    s = studio(srv.url, allowed=("status of 415", "status of 413"))
    page = s.open()
    expect = sync_api.expect
    drop_files(page, {"notes.mp4": 5000, "huge.mov": 2_000_000})
    expect(page.locator("#uploads li.refused")).to_have_count(2, timeout=60_000)
    log = page.get_by_role("log")
    expect(log).to_contain_text("code 4001")
    expect(log).to_contain_text("code 4002")
    good = clip_with_cuts([1.5], duration_s=3, audio="tone")[0]
    assert good.stat().st_size < 400_000
    upload(page, good)
    expect(page.locator("#uploads li.ok")).to_have_count(1, timeout=60_000)
    chat(page, "add upbeat music")
    expect(page.locator("#summary")).to_contain_text("BGM")


def test_reload_during_export_finds_the_job(make_server, studio, tmp_path: Path) -> None:
    srv = make_server(AB2N_TEST_RENDER_DELAY_S="4")
    s = studio(srv.url)
    page = s.open()
    upload(page, clip_with_cuts([1.5], duration_s=3, audio="tone")[0])
    expect = sync_api.expect
    expect(page.locator("#uploads li.ok")).to_have_count(1, timeout=60_000)
    page.get_by_role("button", name="Export").click()
    expect(page.locator("#export-text")).to_contain_text("running", timeout=60_000)
    sid = page.evaluate("localStorage.getItem('ab2n.session')")
    page.close()  # the tab closes mid-export

    page = s.context.new_page()
    page.on("pageerror", lambda exc: s.errors.append(f"pageerror: {exc}"))
    page.on("console", s._console)
    page.goto(srv.url + "/")
    expect(page.locator("body[data-ready='1']")).to_be_attached(timeout=30_000)
    assert page.evaluate("localStorage.getItem('ab2n.session')") == sid
    expect(page.locator("#export-status")).to_be_visible()
    link = page.get_by_role("link", name=re.compile(r"^Download "))
    expect(link).to_be_visible(timeout=EXPORT_TIMEOUT_MS)
    with page.expect_download() as dl:
        link.click()
    out = tmp_path / "again.mp4"
    dl.value.save_as(out)
    assert abs(probe(out).duration_s - 3.0) < 0.2


def test_chinese_on_a_phone(make_server, studio) -> None:
    srv = make_server()
    s = studio(srv.url, phone=True)
    page = s.open()
    # Nothing wider than the screen: the timeline scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    upload(page, clip_with_cuts([1.5], duration_s=3, audio="tone")[0])
    expect = sync_api.expect
    expect(page.locator("#uploads li.ok")).to_have_count(1, timeout=60_000)
    chat(page, "配上欢快的音乐，音量30%")
    answer = page.locator(".msg.assistant").last
    assert re.search(r"[\u4e00-\u9fff]", answer.inner_text())
    assert page.locator("#timeline [data-kind=music-seg]").count() >= 1
    expect(page.locator("#summary")).to_contain_text("30%")
    send = page.get_by_role("button", name="Send")
    send.scroll_into_view_if_needed()
    expect(send).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_page_is_small_and_self_contained(make_server) -> None:
    srv = make_server()
    r = httpx.get(srv.url + "/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    refs = re.findall(r'(?:href|src)="(/studio/[^"]+)"', r.text)
    assert len(refs) >= 3
    total = len(r.content)
    for ref in refs:
        a = httpx.get(srv.url + ref)
        assert a.status_code == 200
        total += len(a.content)
        # Every module the page imports is preloaded by the HTML: one round of requests.
        for imp in re.findall(r'from "\./([^"]+)"', a.text):
            assert f"/studio/{imp}" in refs
    assert total < 200 * 1024
    assert not re.search(r"https?://", r.text)
    for bad in ("/studio/../settings.py", "/studio/studio.py", "/studio/%2e%2e%2fapp.py"):
        assert httpx.get(srv.url + bad).status_code == 404


def test_signed_download_and_analysis(make_server, tmp_path: Path) -> None:
    srv = make_server()
    base = srv.url
    tok = token(base)
    sid = httpx.post(base + "/api/tasks/me/with-session/nemo_agent", headers=auth(tok), json={}).json()["data"][
        "session_id"
    ]
    clip = clip_with_cuts([1.5], duration_s=3, audio="tone")[0]
    with clip.open("rb") as fh:
        r = httpx.post(
            f"{base}/api/upload-video/nemo_agent/me/{sid}", headers=auth(tok), files={"file": ("a.mp4", fh)}, timeout=60
        )
    mid = r.json()["data"]["media_id"]
    a = httpx.get(f"{base}/api/media/nemo_agent/me/{sid}/{mid}/analysis", headers=auth(tok), timeout=120).json()
    assert a["code"] == 0 and [round(c["t"], 1) for c in a["data"]["cuts"]] == [1.5]
    assert str(srv.data) not in str(a)
    other = token(base)
    assert httpx.get(f"{base}/api/media/nemo_agent/me/{sid}/{mid}/analysis", headers=auth(other)).status_code == 404

    job = httpx.post(base + "/api/render/proxy/lambda", headers=auth(tok), json={"id": "r1", "sessionId": sid}).json()
    deadline = time.monotonic() + 240
    while job["data"]["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = httpx.get(base + "/api/render/proxy/lambda/r1", headers=auth(tok)).json()
    url = job["data"]["download_url"]
    assert job["data"]["status"] == "done" and url
    r = httpx.get(url, timeout=60)  # no token
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    (tmp_path / "s.mp4").write_bytes(r.content)
    assert abs(probe(tmp_path / "s.mp4").duration_s - 3.0) < 0.2
    assert httpx.get(job["data"]["output_url"], headers=auth(tok)).status_code == 200  # the protocol's link still works
    good = httpx.URL(url)
    sig = good.params["sig"]
    exp = int(good.params["exp"])
    forged = [
        good.copy_set_param("sig", ("0" if sig[0] != "0" else "1") + sig[1:]),
        good.copy_set_param("exp", str(exp + 1)),
        good.copy_set_param("exp", str(int(time.time()) - 10)),
        good.copy_set_param("sig", "é"),
        good.copy_remove_param("sig"),
    ]
    for bad in forged:
        assert httpx.get(bad).status_code in (400, 404), bad
    # Correctly signed with the server's key, but past its expiry: refused like a forgery.
    server_job_id = good.path.rsplit("/", 1)[1]
    engine = sa.create_engine(srv.database_url)
    with engine.connect() as db:
        owner = db.execute(sa.text("SELECT owner_id FROM jobs WHERE id = :id"), {"id": server_job_id}).scalar_one()
    engine.dispose()
    key = (srv.data / "download.key").read_bytes()
    past = int(time.time()) - 5
    stale = hmac.new(key, f"{server_job_id}\n{owner}\n{past}".encode(), hashlib.sha256).hexdigest()
    assert httpx.get(good.copy_merge_params({"exp": str(past), "sig": stale})).status_code == 404
    future = exp + 60
    fresh = hmac.new(key, f"{server_job_id}\n{owner}\n{future}".encode(), hashlib.sha256).hexdigest()
    assert httpx.get(good.copy_merge_params({"exp": str(future), "sig": fresh})).status_code == 200
    assert (srv.data / "download.key").stat().st_mode & 0o077 == 0  # the key is the server's alone
