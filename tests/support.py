"""Shared test helpers (import as tests.support; pytest runs from the project root)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

PASSWORD = "Blue-Harbour-Tea-42"
NEW_PASSWORD = "Quiet-Desert-Lamp-77"


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code")


class Api:
    def __init__(self, client) -> None:
        self.client = client

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None,
             lang: str | None = None) -> Answer:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if lang:
            headers["Accept-Language"] = lang
        raw = json.dumps(body) if body is not None else None
        response = getattr(self.client.http, method.lower())(path, headers=headers, body=raw)
        text = response.body.decode() if response.body else ""
        try:
            parsed = json.loads(text) if text else {}
        except ValueError:
            parsed = {"raw": text}
        return Answer(response.status_code, parsed, dict(response.headers))

    def post(self, path: str, body: dict | None = None, **kw) -> Answer:
        return self.call("POST", path, body or {}, **kw)

    def get(self, path: str, **kw) -> Answer:
        return self.call("GET", path, **kw)

    def delete(self, path: str, **kw) -> Answer:
        return self.call("DELETE", path, **kw)

    def login(self, username: str, password: str, device: str = "phone-1", **kw) -> Answer:
        return self.post("/v1/auth/login", {"username": username, "password": password, "device_id": device,
                                            "device_name": f"{device} name"}, **kw)

    def signed_in(self, username: str, password: str = NEW_PASSWORD, temporary: str | None = None,
                  device: str = "phone-1") -> dict:
        """Log in (answering the first-login challenge when given a temporary password): the tokens."""
        answer = self.login(username, temporary or password, device)
        assert answer.status == 200, answer.body
        if answer.body.get("challenge"):
            answer = self.post("/v1/auth/challenge", {"challenge_token": answer.body["challenge_token"],
                                                      "new_password": password, "device_id": device})
            assert answer.status == 200, answer.body
        return answer.body


def token_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["token"][0]


