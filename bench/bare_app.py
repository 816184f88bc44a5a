"""The baseline of ``bench_api.py``: a bare FastAPI app whose verify endpoint returns constant JSON.

It takes the same request as ``POST /v1/verify`` (same path, headers and body) and is a coroutine
like the real route, so both are dispatched alike (on the event loop); it reads nothing else.
``/v1/verify-def`` is its plain-``def`` twin, which shows what worker-thread dispatch costs.

    python -m uvicorn bench.bare_app:create_app --factory --port 8001
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ANSWER: dict[str, Any] = {"status": "valid", "valid": True, "step": None, "reason": "constant"}


def create_app() -> FastAPI:
    """Return the bare app."""
    app = FastAPI(title="bare")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.post("/v1/verify")
    async def verify() -> dict[str, Any]:
        """Constant JSON."""
        return ANSWER

    @app.post("/v1/verify-def")
    def verify_def() -> dict[str, Any]:
        """Constant JSON from a plain ``def``, which FastAPI runs in a worker thread."""
        return ANSWER

    return app
