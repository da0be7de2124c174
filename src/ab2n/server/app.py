"""The FastAPI app: envelope, error codes, routes, the embedded worker pool."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ab2n import __version__
from ab2n.errors import Ab2nError
from ab2n.server import openapi
from ab2n.server.deps import AppState, PerClientSlots, RateLimiter
from ab2n.server.errors import STATUS_FOR_CODE, ApiError, public_message
from ab2n.server.housekeeping import Housekeeper
from ab2n.server.jobs import WorkerPool
from ab2n.server.migrate import upgrade
from ab2n.server.queue import make_queue
from ab2n.server.routes import auth, chat, credits, render, sessions, studio
from ab2n.server.settings import Settings
from ab2n.server.storage import make_storage
from ab2n.server.store import RequestLog, make_engine, make_sessionmaker
from ab2n.server.work import make_renderer

log = logging.getLogger("ab2n.server")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app (settings from ``AB2N_*`` environment variables unless given)."""
    cfg = settings or Settings()
    cfg.ensure_dirs()
    engine = make_engine(cfg.db_url)
    upgrade(engine)
    maker = make_sessionmaker(engine)
    storage = make_storage(cfg)
    pool = WorkerPool(maker, cfg, make_renderer(maker, cfg, storage), storage)
    keeper = Housekeeper(cfg, maker)
    fetch_pool = ThreadPoolExecutor(cfg.fetch_threads, thread_name_prefix="ab2n-fetch")
    probe_pool = ThreadPoolExecutor(cfg.probe_threads, thread_name_prefix="ab2n-probe")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        keeper.start()  # leftovers of jobs a crash killed, expired outputs
        if not cfg.broker_url:  # with a broker, `ab2n worker`s render
            pool.start()  # also takes up jobs a crash left running (their leases expire)
        yield
        pool.shutdown()
        keeper.stop.set()
        fetch_pool.shutdown(wait=False, cancel_futures=True)
        probe_pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="ab2n",
        version=__version__,
        lifespan=lifespan,
        description="Background music for videos: the protocol of shared/SPEC.md.",
    )
    app.state.ab2n = AppState(
        settings=cfg,
        maker=maker,
        limiter=RateLimiter(maker),
        fetch_pool=fetch_pool,
        probe_pool=probe_pool,
        fetch_slots=PerClientSlots(cfg.url_fetches_per_client, "URL downloads"),
        queue=make_queue(cfg),
        storage=storage,
    )
    for r in (auth.router, sessions.router, chat.router, credits.router, render.router, studio.router):
        app.include_router(r)
    openapi.install(app)

    @app.middleware("http")
    async def attribution(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        src = request.headers.get("x-skill-source")
        if src or request.headers.get("x-skill-platform"):
            try:
                with maker.begin() as db:
                    db.add(
                        RequestLog(
                            path=request.url.path,
                            owner_id=getattr(request.state, "owner_id", None),
                            source=src,
                            version=request.headers.get("x-skill-version"),
                            platform=(request.headers.get("x-skill-platform") or "unknown")[:32],
                        )
                    )
            except Exception:
                log.warning("could not record attribution headers")
        return response

    @app.exception_handler(Ab2nError)
    async def on_ab2n(_: Request, exc: Ab2nError) -> JSONResponse:
        status = exc.status if isinstance(exc, ApiError) else STATUS_FOR_CODE.get(exc.code, 400)
        data = exc.data if isinstance(exc, ApiError) else None
        return JSONResponse(
            {"code": exc.code, "message": public_message(exc.message), "data": data}, status_code=status
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"code": exc.status_code, "message": str(exc.detail), "data": None},
            status_code=exc.status_code,
            headers=exc.headers,  # e.g. Allow on a 405
        )

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"code": 400, "message": "invalid request", "data": None}, status_code=400)

    @app.exception_handler(Exception)
    async def on_error(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")  # the traceback stays in the server's log
        return JSONResponse({"code": 500, "message": "internal error", "data": None}, status_code=500)

    return app
