"""A pool on the test's own fresh database (cloned from the migrated template, so the
``shadow`` schema is there and nothing leaks between tests), and trial builders."""

from __future__ import annotations

from shadow.model import Observation, Trial


def observation(
    status: int = 200, body: bytes = b'{"ok": true}', latency_s: float = 0.01, **kwargs
) -> Observation:
    headers = kwargs.pop("headers", ((b"content-type", b"application/json"),))
    return Observation(status=status, headers=headers, body=body, latency_s=latency_s, **kwargs)


def trial(request_id: str, route: str = "translate", **kwargs) -> Trial:
    return Trial(
        request_id=request_id,
        route=route,
        method=kwargs.pop("method", "POST"),
        target=kwargs.pop("target", "/translate"),
        served_by=kwargs.pop("served_by", "legacy"),
        request_headers=kwargs.pop("request_headers", ((b"content-type", b"application/json"),)),
        request_body=kwargs.pop("request_body", b'{"input": "hello"}'),
        legacy=kwargs.pop("legacy", observation()),
        candidate=kwargs.pop("candidate", observation()),
        **kwargs,
    )
