"""Comparing two observations of one request: status, headers, then the body by its kind.

The kind is the route's ``compare.kind`` or, when ``auto``, the control's content type: JSON,
an SSE stream, audio, a WebSocket session (an observation with ``messages``) or opaque bytes.
Bodies of different status classes are not compared (a 200 and a 400 differ in ``$status``;
their bodies say nothing more). Base64 audio inside JSON (TTS ``audios[0]``, the TTS socket's
``data.audio``) is decoded and compared as audio rather than as a string, because two encoders
never agree byte for byte while a listener hears no difference.

Raw PCM (``linear16``) has no header to recognise it by: the caller's :class:`AudioHint` (from
the request, :meth:`AudioHint.for_request`) or a socket message's own ``content_type``
(``audio/pcm``) says a base64 string is PCM, and at what rate if known.

Raises :class:`~shadow.model.CandidateGarbage` when the candidate's body cannot be read the way
the control's was; the engine records that as a candidate error.
"""

from __future__ import annotations

import orjson

from shadow.compare.audio import AudioHint, compare_audio, decode_base64_audio, decode_base64_pcm
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


def compare(
    control: Observation,
    candidate: Observation,
    config: CompareConfig,
    *,
    audio_hint: AudioHint | None = None,
) -> list[Diff]:
    """Every difference between the two answers, unclassified (rules and noise come later).
    ``audio_hint`` is what the request says of audio the answers carry (raw PCM, its rate)."""
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
    diffs += _compare_body(kind_of(control, config), control, candidate, config, audio_hint)
    return diffs


def _compare_body(
    kind: CompareKind,
    control: Observation,
    candidate: Observation,
    config: CompareConfig,
    hint: AudioHint | None,
) -> list[Diff]:
    if kind == "websocket":
        return compare_sessions(
            control.messages or (), candidate.messages or (), config,
            compare_message=_socket_message,
        )  # fmt: skip
    if control.body == candidate.body:
        return []
    if kind == "json":
        return _json_with_audio(control.body, candidate.body, config, "", hint)
    if kind == "sse":
        return compare_sse(control.body, candidate.body, config)
    if kind == "audio":
        return compare_audio(control.body, candidate.body, config.audio, hint=hint)
    return [Diff("$body", "changed", f"{len(control.body)} bytes", f"{len(candidate.body)} bytes")]


def _socket_message(
    control: bytes, candidate: bytes, config: CompareConfig, prefix: str
) -> list[Diff]:
    """One socket message pair: JSON with audio, raw PCM known by the control message's
    ``data.content_type`` (the TTS socket's audio messages say it; the rate they do not)."""
    hint = None
    if b'"audio/' in control:  # only audio messages are worth a second parse
        try:
            data = orjson.loads(control).get("data")
        except (orjson.JSONDecodeError, AttributeError):
            data = None
        media = data.get("content_type") if isinstance(data, dict) else None
        if isinstance(media, str):
            hint = AudioHint.for_tts(media_type=media)
    return _json_with_audio(control, candidate, config, prefix, hint)


def _json_with_audio(
    control: bytes, candidate: bytes, config: CompareConfig, prefix: str, hint: AudioHint | None
) -> list[Diff]:
    """JSON diffs, with every changed string that both sides hold as base64 audio replaced by
    the audio comparison of the two decoded clips."""
    out: list[Diff] = []
    # The socket comparator passes "$ws[3]."; a JSON root path has no trailing dot.
    for diff in compare_json(control, candidate, config, prefix=prefix.removesuffix(".")):
        audio = _as_audio(diff, config, hint) if diff.kind == "changed" else None
        out.extend([diff] if audio is None else audio)
    return out


def _as_audio(diff: Diff, config: CompareConfig, hint: AudioHint | None) -> list[Diff] | None:
    ours, theirs = diff.control, diff.candidate
    if not (isinstance(ours, str) and isinstance(theirs, str)):
        return None
    if len(ours) < _MIN_AUDIO_B64 or len(theirs) < _MIN_AUDIO_B64:
        return None
    control_audio, candidate_audio = decode_base64_audio(ours), decode_base64_audio(theirs)
    if (control_audio is None or candidate_audio is None) and hint is not None and hint.raw_pcm:
        control_audio = control_audio or decode_base64_pcm(ours)
        candidate_audio = candidate_audio or decode_base64_pcm(theirs)
    if control_audio is None or candidate_audio is None:
        return None
    return compare_audio(
        control_audio, candidate_audio, config.audio, prefix=f"{diff.path}.", hint=hint
    )


def _header_value(value: bytes | None) -> bytes | None:
    return None if value is None else b" ".join(value.lower().split())


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")
