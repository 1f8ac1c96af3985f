"""API keys: made with enough entropy to be stored as a plain SHA-256, never stored whole.

A key is ``sk_`` plus 32 random bytes (URL-safe base64). Because keys are random rather than
chosen by people, a fast unsalted hash is the right tool (as for session tokens); a slow
password hash would only slow every request down. The first characters (the *prefix*) are kept
in the clear so a person can tell keys apart in a listing.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["KEY_PREFIX", "key_hash", "key_prefix", "new_api_key"]

KEY_PREFIX = "sk_"


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def key_prefix(key: str) -> str:
    return key[:10]
