"""Comparing two observations of one request: status, headers, then the body by its kind.

The kind is the route's ``compare.kind`` or, when ``auto``, the control's content type: JSON,
an SSE stream, audio, a WebSocket session (an observation with ``messages``) or opaque bytes.
Bodies of different status classes are not compared (a 200 and a 400 differ in ``$status``;
their bodies say nothing more). Base64 audio inside JSON (TTS ``audios[0]``, the TTS socket's
``data.audio``) is decoded and compared as audio rather than as a string, because two encoders
never agree byte for byte while a listener hears no difference.

Raises :class:`~shadow.model.CandidateGarbage` when the candidate's body cannot be read the way
the control's was; the engine records that as a candidate error.
"""

from __future__ import annotations

from shadow.compare.audio import compare_audio, decode_base64_audio
from shadow.compare.config import CompareConfig, CompareKind
from shadow.compare.json_diff import compare_json
from shadow.compare.sse import compare_sse
from shadow.compare.ws import compare_sessions
from shadow.model import Diff, DiffKind, Observation

__all__ = ["compare", "kind_of"]

# Strings shorter than this are never audio worth decoding (1 KB of base64 is ~6 ms of WAV).
_MIN_AUDIO_B64 = 1024


def kind_of(control: Observation, config: CompareConfig) -> CompareKind:
    if config.kind != "auto":
        return config.kind
    if control.messages is not None:
        return "websocket"
    media = (control.header(b"content-type") or b"").split(b";", 1)[0].strip().lower()
    if media == b"application/json" or media.endswith(b"+json"):
        return "json"
    if media == b"text/event-stream":
        return "sse"
    if media.startswith(b"audio/"):
        return "audio"
    return "bytes"


def compare(control: Observation, candidate: Observation, config: CompareConfig) -> list[Diff]:
    """Every difference between the two answers, unclassified (rules and noise come later)."""
    diffs: list[Diff] = []
    if control.status != candidate.status:
        diffs.append(Diff("$status", "changed", control.status, candidate.status))
    for name in config.headers:
        key = name.encode("latin-1")
        ours, theirs = control.header(key), candidate.header(key)
        if _header_value(ours) != _header_value(theirs):
            kind: DiffKind = "added" if ours is None else "removed" if theirs is None else "changed"
            diffs.append(Diff(f"$headers.{name}", kind, _text(ours), _text(theirs)))
    if control.status // 100 != candidate.status // 100:
        return diffs
    diffs += _compare_body(kind_of(control, config), control, candidate, config)
    return diffs


def _compare_body(
    kind: CompareKind, control: Observation, candidate: Observation, config: CompareConfig
) -> list[Diff]:
    if kind == "websocket":
        return compare_sessions(
            control.messages or (), candidate.messages or (), config,
            compare_message=_json_with_audio,
        )  # fmt: skip
    if control.body == candidate.body:
        return []
    if kind == "json":
        return _json_with_audio(control.body, candidate.body, config, "")
    if kind == "sse":
        return compare_sse(control.body, candidate.body, config)
    if kind == "audio":
        return compare_audio(control.body, candidate.body, config.audio)
    return [Diff("$body", "changed", f"{len(control.body)} bytes", f"{len(candidate.body)} bytes")]


def _json_with_audio(
    control: bytes, candidate: bytes, config: CompareConfig, prefix: str
) -> list[Diff]:
    """JSON diffs, with every changed string that both sides hold as base64 audio replaced by
    the audio comparison of the two decoded clips."""
    out: list[Diff] = []
    # The socket comparator passes "$ws[3]."; a JSON root path has no trailing dot.
    for diff in compare_json(control, candidate, config, prefix=prefix.removesuffix(".")):
        audio = _as_audio(diff, config) if diff.kind == "changed" else None
        out.extend([diff] if audio is None else audio)
    return out


def _as_audio(diff: Diff, config: CompareConfig) -> list[Diff] | None:
    ours, theirs = diff.control, diff.candidate
    if not (isinstance(ours, str) and isinstance(theirs, str)):
        return None
    if len(ours) < _MIN_AUDIO_B64 or len(theirs) < _MIN_AUDIO_B64:
        return None
    control_audio, candidate_audio = decode_base64_audio(ours), decode_base64_audio(theirs)
    if control_audio is None or candidate_audio is None:
        return None
    return compare_audio(control_audio, candidate_audio, config.audio, prefix=f"{diff.path}.")


def _header_value(value: bytes | None) -> bytes | None:
    return None if value is None else b" ".join(value.lower().split())


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")
