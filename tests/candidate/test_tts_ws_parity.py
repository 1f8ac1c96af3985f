"""Parity of the Go candidate's /text-to-speech/ws with legacy's, by the shadow engine's session
comparator.

Every session of the corpus is played against legacy and against the candidate with the same
``X-Request-ID`` (the candidate's with ``X-Banyan-Shadow``, so it bills the shadow ledger): the
same client frames, step by step, each step read until what it must produce has come (a number
of messages, the final event, or the close), so the two transcripts do not depend on timing.
The server messages are then compared as the shadow process compares a mirrored session
(:func:`shadow.compare.dispatch.compare`: messages aligned by type, JSON field by field, audio
decoded and compared as sound), the close codes are compared, and the ledger lines each side
wrote for the session must be the same. A refused handshake is compared as an HTTP answer.

It prints the route's parity and every divergence found, and fails on any divergence not in
:data:`KNOWN`.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from shadow.compare.config import CompareConfig
from shadow.compare.dispatch import compare
from shadow.model import Diff, Observation, WsMessage
from tests.candidate.ledger import ledger_differences, ledgers, settled
from tests.candidate.sessions import open_session

# corpus session name -> why the answers may differ (rfcs/0006-candidate-decisions.md)
KNOWN: dict[str, str] = {
    "opus": "the candidate has no Opus encoder: an error message with code 501, legacy speaks",
    "aac": "the candidate has no AAC encoder: an error message with code 501, legacy speaks",
}

SHADOW = "X-Banyan-Shadow"
HINDI = "नमस्ते, आप कैसे हैं? मैं ठीक हूँ। आज मौसम बहुत अच्छा है।"
STORY = " ".join(f"This is sentence {n} of a longer story, read aloud." for n in range(12))
CONFIG = CompareConfig(headers=("content-type",))

FINAL = "final"  # read until the final event
CLOSE = "close"  # read until the server closes


@dataclass(frozen=True)
class Step:
    """Frames the client sends, then what the server must have answered before the next step:
    a number of messages, the final event, or its close."""

    frames: tuple[str | bytes, ...]
    until: int | str = 0


def config(**data: Any) -> str:
    return json.dumps({"type": "config", "data": {"language_code": "en-IN", **data}})


def text(words: str) -> str:
    return json.dumps({"type": "text", "data": {"text": words}})


FLUSH = json.dumps({"type": "flush"})


def speak(words: str, **voice: Any) -> list[Step]:
    return [Step((config(**voice), text(words), FLUSH), FINAL)]


@dataclass(frozen=True)
class Session:
    """``live``: the candidate's session runs live, under a request id of its own, because
    what it tests is the wallet, and a shadow session holds nothing of a wallet, so it never
    runs out (legacy/commerce/billing.py). The request ids in the messages then differ by
    design and are not compared; the two sides' live ledger lines are."""

    steps: list[Step]
    query: str = "send_completion_event=true"
    credits: str = "1000"
    live: bool = False


CORPUS: dict[str, Session] = {
    # Voices and languages, mp3 (the socket's default: compared as sound).
    "hindi-default": Session(speak(HINDI, language_code="hi-IN", speaker="anushka")),
    "v3-ritu": Session(speak("Good morning, Jaipur.", speaker="ritu", model="bulbul:v3")),
    "query-model-v3": Session(speak("Hello there.", speaker="shubh"),
                              "model=bulbul:v3&send_completion_event=true"),
    "v2-controls": Session(speak("Pitch, pace and loudness.", speaker="karun", pitch=0.4,
                                 pace=1.4, loudness=1.8)),
    "mp3-16000-32k": Session(speak("A small file.", speech_sample_rate=16000,
                                   output_audio_bitrate="32k")),
    "mp3-24000-192k": Session(speak("A big file.", speech_sample_rate=24000,
                                    output_audio_bitrate="192k")),
    # Every other codec the candidate encodes, at the model's rate and resampled.
    "wav": Session(speak("Every codec.", output_audio_codec="wav")),
    "linear16-24000": Session(speak("Every codec.", output_audio_codec="linear16",
                                    speech_sample_rate=24000)),
    "mulaw-8000": Session(speak("Every codec.", output_audio_codec="mulaw",
                                speech_sample_rate=8000)),
    "alaw": Session(speak("Every codec.", output_audio_codec="alaw")),
    "flac-16000": Session(speak("Every codec.", output_audio_codec="flac",
                                speech_sample_rate=16000)),
    # Not encoded by the candidate: its answer to the config is an error (501), so only the
    # first message is read (the session then has no voice, and no final event comes).
    "opus": Session([Step((config(output_audio_codec="opus", speech_sample_rate=24000),
                           text("Every codec."), FLUSH), 1)]),
    "aac": Session([Step((config(output_audio_codec="aac"), text("Every codec."), FLUSH), 1)]),
    # Buffering: below min_buffer_size nothing is spoken until a flush; above, in chunks.
    "buffering-and-chunks": Session([
        Step((config(output_audio_codec="wav", min_buffer_size=100, max_chunk_length=80),
              text("This sentence is part of a story. ")), 0),
        Step((text("This sentence is part of a story. " * 3),), 2),
        Step((FLUSH,), FINAL),
    ]),
    # A new config sends the buffer off with the old voice first.
    "config-change": Session([
        Step((config(output_audio_codec="wav", speech_sample_rate=16000, min_buffer_size=500),
              text("Still the old voice."), config(output_audio_codec="linear16")), 1),
        Step((text("Now the new one."), FLUSH), FINAL),
    ]),
    # Longer than 10 s of audio: several audio messages for one chunk.
    "long-chunk": Session(speak(STORY[:480], output_audio_codec="wav", max_chunk_length=500,
                                pace=0.5)),
    "long-story-chunks": Session(speak(STORY, max_chunk_length=150)),
    # Protocol mistakes, each answered, and the session goes on.
    "mistakes": Session([
        Step((text("Too early."),), 1),
        Step((b"\x01\x02",), 1),
        Step((config(speaker="shubh", model="bulbul:v2"),), 1),
        Step((json.dumps({"type": "dance"}),), 1),
        Step(("not json",), 1),
        Step((config(pitch=2),), 1),
        Step((config(speech_sample_rate=12345),), 1),
        Step((json.dumps({"type": "text", "data": {"text": ""}}),), 1),
        Step((json.dumps({"type": "config"}),), 1),
        Step((json.dumps([1, 2]),), 1),
        Step((config(), text("x" * 2501)), 1),
        Step((text("Now it works."), json.dumps({"type": "ping"}), FLUSH), FINAL),
    ], query="model=bulbul:v2&send_completion_event=true"),
    "flush-with-nothing": Session([Step((config(), FLUSH), FINAL)]),
    "no-completion-event": Session([
        Step((config(output_audio_codec="wav"), text("No event after this."), FLUSH), 1),
    ], query=""),
    # The wallet runs out: the first chunk is spoken and billed, then 402 and close 1008.
    "wallet-runs-out": Session([
        Step((config(max_chunk_length=200, min_buffer_size=1000),
              text("Words that cost money, one sentence after another. " * 10), FLUSH), CLOSE),
    ], credits="0.9", live=True),
    # Refused handshakes.
    "bad-query-model": Session([], query="model=bulbul:v9"),
    "bad-query-flag": Session([], query="send_completion_event=maybe"),
}  # fmt: skip


@dataclass
class Transcript:
    observation: Observation
    close_code: int | None


def play(base_url: str, session: Session, key: str, headers: dict[str, str]) -> Transcript:
    """One side's session: the client's steps, the server's messages as the shadow records
    them, and how the server closed."""
    url = base_url.replace("http", "ws", 1) + "/text-to-speech/ws"
    if session.query:
        url += "?" + session.query
    started = time.monotonic()
    messages: list[WsMessage] = []
    ws = open_session(url, {"api-subscription-key": key, **headers})
    if isinstance(ws, Observation):  # a refused handshake
        return Transcript(ws, None)
    with ws, contextlib.suppress(ConnectionClosed):
        for step in session.steps:
            for frame in step.frames:
                ws.send(frame)
            try:
                _read(ws, step.until, messages, started)
            except TimeoutError:
                raise AssertionError(f"{base_url}: no answer to {step} after {messages}") from None
    # The server's close: its own (1008 when the wallet runs out), or its answer to ours.
    rcvd = ws.protocol.close_rcvd
    close_code = None if rcvd is None else rcvd.code
    observation = Observation(101, (), b"", time.monotonic() - started, messages=tuple(messages))
    return Transcript(observation, close_code)


def _read(ws: Any, until: int | str, messages: list[WsMessage], started: float) -> None:
    count = 0
    while until in (FINAL, CLOSE) or count < int(until):
        raw = ws.recv(timeout=60)
        count += 1
        at = time.monotonic() - started
        messages.append(
            WsMessage(at, text=raw) if isinstance(raw, str) else WsMessage(at, data=raw)
        )
        if until == FINAL and isinstance(raw, str) and json.loads(raw).get("type") == "event":
            return


def test_tts_sessions_answer_as_legacy_does(platform, candidate_url: str) -> None:
    matched: list[bool] = []
    unexplained: list[str] = []
    request_ids: dict[str, str] = {}
    spoken = 0

    def divergence(name: str, line: str) -> None:
        print("DIVERGENCE text-to-speech-ws " + name + " " + line)
        if name not in KNOWN:
            unexplained.append(f"{name} {line}")

    live_ids: dict[str, str] = {}  # the live candidate sessions' own request ids
    for name, session in CORPUS.items():
        request_id = request_ids[name] = f"parity-ttsws-{name}-{uuid.uuid4().hex[:8]}"
        # A wallet of its own per side: the candidate's shadow session holds nothing of it,
        # but legacy's spends it, and a shared one would refuse the second side earlier.
        legacy = play(platform.direct_url, session, platform.make_tenant(session.credits),
                      {"X-Request-ID": request_id})  # fmt: skip
        theirs = {"X-Request-ID": request_id, SHADOW: "1"}
        if session.live:
            theirs = {"X-Request-ID": live_ids.setdefault(name, request_id + "-live")}
        candidate = play(candidate_url, session, platform.make_tenant(session.credits), theirs)
        diffs = compare(legacy.observation, candidate.observation, CONFIG)
        if session.live:
            diffs = [d for d in diffs if not d.path.endswith(".data.request_id")]
        if legacy.close_code != candidate.close_code:
            diffs.append(Diff("$close", "changed", legacy.close_code, candidate.close_code))
        matched.append(not diffs)
        messages = legacy.observation.messages or ()
        spoken += any(m.text and json.loads(m.text).get("type") == "audio" for m in messages)
        for diff in diffs:
            divergence(name, f"{diff.path} {diff.kind}: legacy={diff.control!r} "
                             f"candidate={diff.candidate!r}")  # fmt: skip
    # Both sides settle when the session ends: give the ledger a moment.
    with httpx.Client(timeout=30) as client:
        shadowed = [rid for name, rid in request_ids.items() if name not in live_ids]
        billed = settled(platform, client, shadowed)
        live = ledgers(platform, client, [*live_ids.values(), *map(request_ids.get, live_ids)])
        billed |= {rid: live[rid] for name, rid in request_ids.items() if name in live_ids}
    for name, live_id in live_ids.items():  # the candidate's live lines stand in for shadow
        shadow = live.get(live_id, {"live": []})["live"]
        billed[request_ids[name]] = {
            **billed.get(request_ids[name], {"live": []}),
            "shadow": shadow,
        }
    for name, difference in ledger_differences(billed, request_ids).items():
        divergence(name, difference)
        matched[list(request_ids).index(name)] = False
    print(f"PARITY text-to-speech-ws: {sum(matched)}/{len(matched)} = "
          f"{sum(matched) / len(matched):.3f}")  # fmt: skip
    assert not unexplained, "\n".join(unexplained)
    assert spoken >= 15  # most sessions speak, and a session that speaks is billed
    assert sum(bool(billed.get(rid, {}).get("live")) for rid in request_ids.values()) >= 15
