"""Signed object URLs: what is signed is exactly what the URL may do (rfcs/0007 §7)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from legacy.storage import SignatureRejected, UrlSigner

NOW = 1_800_000_000.0


def parts(path: str) -> tuple[str, dict[str, str]]:
    url = urlsplit(path)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    return url.path.removeprefix("/storage/v1/objects/"), query


def verify(
    signer: UrlSigner, method: str, key: str, query: dict[str, str], sent: str | None = None
):
    signer.verify(
        method, key, exp=query.get("exp"), sig=query.get("sig"),
        signed_content_type=query.get("ct"), sent_content_type=sent,
    )  # fmt: skip


def _flip_last(sig: str) -> str:
    return sig[:-1] + ("1" if sig[-1] == "0" else "0")


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner("lab secret", clock=lambda: NOW)


def test_a_signed_url_grants_its_method_on_its_object_until_it_expires(signer) -> None:
    url = signer.sign("PUT", "jobs/j1/inputs/f1", ttl_s=60)
    key, query = parts(url.path)
    assert key == "jobs/j1/inputs/f1"
    assert int(query["exp"]) == NOW + 60
    assert url.expires_at.timestamp() == NOW + 60
    verify(signer, "PUT", key, query)
    verify(signer, "put", key, query)  # methods are case-insensitive, as in HTTP


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda k, q, m: ("jobs/j1/inputs/f2", q, m), "does not match"),  # another object
        (lambda k, q, m: (k, q, "GET"), "does not match"),  # another method
        (lambda k, q, m: (k, {**q, "exp": str(int(q["exp"]) + 3600)}, m), "does not match"),
        (lambda k, q, m: (k, {**q, "sig": _flip_last(q["sig"])}, m), "does not match"),
        (lambda k, q, m: (k, {**q, "sig": "zz"}, m), "does not match"),
        (lambda k, q, m: (k, {"exp": q["exp"]}, m), "not signed"),
        (lambda k, q, m: (k, {**q, "exp": "tomorrow"}, m), "not a unix time"),
    ],
    ids=["other-object", "other-method", "later-expiry", "altered-sig", "junk-sig", "no-sig",
         "junk-exp"],
)  # fmt: skip
def test_any_change_to_the_url_is_refused(signer, change, reason) -> None:
    key, query = parts(signer.sign("PUT", "jobs/j1/inputs/f1", ttl_s=60).path)
    key, query, method = change(key, query, "PUT")
    with pytest.raises(SignatureRejected, match=reason):
        verify(signer, method, key, query)


def test_an_expired_url_says_so_only_when_it_is_genuine() -> None:
    clock = [NOW]
    signer = UrlSigner("lab secret", clock=lambda: clock[0])
    key, query = parts(signer.sign("GET", "jobs/j1/outputs/f1.json", ttl_s=60).path)
    clock[0] = NOW + 61
    with pytest.raises(SignatureRejected, match="expired at"):
        verify(signer, "GET", key, query)
    other = UrlSigner("another secret", clock=lambda: clock[0])
    with pytest.raises(SignatureRejected, match="does not match"):
        verify(other, "GET", key, query)


def test_an_upload_url_with_a_content_type_takes_only_that_type(signer) -> None:
    key, query = parts(
        signer.sign("PUT", "uploads/u1", ttl_s=60, content_type="application/pdf").path
    )
    verify(signer, "PUT", key, query, sent="application/pdf")
    verify(signer, "PUT", key, query, sent="Application/PDF; charset=binary")
    with pytest.raises(SignatureRejected, match="takes Content-Type application/pdf"):
        verify(signer, "PUT", key, query, sent="image/png")
    with pytest.raises(SignatureRejected, match="does not match"):  # ct cannot be dropped
        verify(signer, "PUT", key, {k: v for k, v in query.items() if k != "ct"}, sent="image/png")


def test_keys_that_could_leave_the_root_cannot_be_signed(signer) -> None:
    for key in ("../etc/passwd", "jobs/../../x", "/abs", "Jobs/UPPER", "a//b", ""):
        with pytest.raises(ValueError, match="not an object key"):
            signer.sign("GET", key, ttl_s=60)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        UrlSigner("")
