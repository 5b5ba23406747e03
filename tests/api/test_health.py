from __future__ import annotations

import json

from chalicelib.settings import VERSION


def test_health_answers_with_the_version(client):
    response = client.http.get("/v1/health")

    assert response.status_code == 200
    body = json.loads(response.body)
    assert body == {"status": "ok", "version": VERSION, "stage": "dev"}


def test_every_response_carries_a_request_id(client):
    response = client.http.get("/v1/health")

    assert len(response.headers["X-Request-Id"]) >= 16
