"""Liveness and the machine-readable contract."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from chalicelib.api import ApiBlueprint, json_response
from chalicelib.settings import get_settings

health = ApiBlueprint(__name__)

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.json"


@cache
def openapi_document() -> dict:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


@health.route("/v1/health", methods=["GET"])
def get_health():
    settings = get_settings()
    return json_response({"status": "ok", "version": settings.version, "stage": settings.stage})


@health.route("/v1/openapi.json", methods=["GET"])
def get_openapi():
    return json_response(openapi_document(), headers={"Cache-Control": "public, max-age=300"})
