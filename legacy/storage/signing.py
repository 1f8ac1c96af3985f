"""Self-authenticating object URLs: ``/storage/v1/objects/<key>?exp=<unix>&sig=<hex>``.

``sig = HMAC-SHA256(secret, method "\\n" key "\\n" exp ["\\n" content type])``. What is signed
is what the URL may do: one method on one object until one instant, and for an upload that
named its content type, only with that ``Content-Type``. Changing any part of the URL (another
key, a later expiry, GET on an upload URL) breaks the signature; the secret never appears in
a URL and is compared in constant time. rfcs/0007 §7.

The order of checks is chosen so the answer helps without leaking: a URL missing its
parameters, then a bad signature, then expiry (only a genuine URL learns that it expired).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from legacy.storage.objects import check_key

__all__ = ["OBJECTS_PATH", "SignatureRejected", "SignedUrl", "UrlSigner"]

OBJECTS_PATH = "/storage/v1/objects/"


class SignatureRejected(Exception):
    """The URL does not grant this request; the message says why (never what would)."""


@dataclass(frozen=True, slots=True)
class SignedUrl:
    path: str  # path and query, to put after the base URL the client reached us on
    expires_at: datetime

    def absolute(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path


class UrlSigner:
    def __init__(self, secret: str | bytes, *, clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("an object URL secret must not be empty")
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self._clock = clock

    def _mac(self, method: str, key: str, exp: str, content_type: str | None) -> str:
        parts = [method.upper(), key, exp] + ([content_type] if content_type else [])
        return hmac.new(self._secret, "\n".join(parts).encode(), hashlib.sha256).hexdigest()

    def sign(
        self, method: str, key: str, *, ttl_s: float, content_type: str | None = None
    ) -> SignedUrl:
        exp = str(int(self._clock() + ttl_s))
        query = {"exp": exp, "sig": self._mac(method, check_key(key), exp, content_type)}
        if content_type:
            query["ct"] = content_type
        return SignedUrl(
            f"{OBJECTS_PATH}{quote(key)}?{urlencode(query)}",
            datetime.fromtimestamp(int(exp), UTC),
        )

    def verify(
        self, method: str, key: str, *, exp: str | None, sig: str | None,
        signed_content_type: str | None, sent_content_type: str | None,
    ) -> None:  # fmt: skip
        """Return if the URL grants ``method`` on ``key`` now; SignatureRejected otherwise."""
        if not exp or not sig:
            raise SignatureRejected(
                "this object URL is not signed (exp and sig are missing); ask the job API"
                " for a new upload or download link"
            )
        if not exp.isdigit() or len(exp) > 12:
            raise SignatureRejected("this object URL's exp is not a unix time")
        expected = self._mac(method, key, exp, signed_content_type)
        if not hmac.compare_digest(expected, sig.lower()):
            raise SignatureRejected(
                f"the signature does not match this URL for {method.upper()}: it was changed,"
                " or it is for another object or method"
            )
        if int(exp) < self._clock():
            when = datetime.fromtimestamp(int(exp), UTC).isoformat()
            raise SignatureRejected(f"this object URL expired at {when}; ask for a new link")
        if signed_content_type and _media_type(sent_content_type) != _media_type(
            signed_content_type
        ):
            raise SignatureRejected(
                f"this upload URL takes Content-Type {signed_content_type}, not"
                f" {sent_content_type or 'none'}"
            )


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()
