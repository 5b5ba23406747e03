"""Liveness and the machine-readable contract."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalice import Response

from chalicelib.platform.http import ApiBlueprint, json_response
from chalicelib.settings import get_settings

health = ApiBlueprint(__name__)

@cache
def openapi_document() -> dict[str, Any]:
    from chalicelib.health.openapi import document

    return document()


@health.route("/v1/health", methods=["GET"])
def get_health() -> Response:
    settings = get_settings()
    return json_response({"status": "ok", "version": settings.version, "stage": settings.stage})


@health.route("/v1/openapi.json", methods=["GET"])
def get_openapi() -> Response:
    return json_response(openapi_document(), headers={"Cache-Control": "public, max-age=300"})
