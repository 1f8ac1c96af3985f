"""A live stream cut into utterances: the same segments as a whole file, bounded memory."""

from __future__ import annotations

import numpy as np

from legacy.speech.streaming import Utterance, UtteranceStream
from legacy.speech.vad import SpeechEnded, SpeechStarted, find_speech


def utterances(events) -> list[Utterance]:
    return [e for e in events if isinstance(e, Utterance)]


def test_a_stream_yields_each_utterance_when_it_ends(speech) -> None:
    stream = UtteranceStream()
    events, peak = [], 0
    for offset in range(0, len(speech.pcm), 3200):  # 100 ms messages
        events += stream.feed(speech.pcm[offset : offset + 3200])
        peak = max(peak, stream.buffered_bytes)
    events += stream.finish()
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStarted, SpeechEnded, Utterance] * 3
    got = utterances(events)
    assert [(u.start_s, u.end_s) for u in got] == [
        (s.start_s, s.end_s) for s in find_speech(speech.pcm)
    ]
    for u in got:
        assert u.pcm == speech.pcm[round(u.start_s * 16000) * 2 : round(u.end_s * 16000) * 2]
    assert peak < 16000 * 2 * 4  # never more than the longest utterance plus a second


def test_flush_hands_over_the_speech_so_far(speech) -> None:
    start, end = speech.utterances[2]
    cut = int((start + end) / 2 * 16000) * 2
    stream = UtteranceStream()
    events = stream.feed(speech.pcm[:cut])
    assert len(utterances(events)) == 2  # the two that ended before the cut
    (first,) = utterances(stream.flush())
    assert first.end_s == cut / 2 / 16000
    assert stream.flush() == []  # nothing new since
    rest = stream.feed(speech.pcm[cut:]) + stream.finish()
    (second,) = utterances(rest)
    assert second.start_s == first.end_s  # the utterance goes on where the flush cut it


def test_endless_speech_is_handed_over_at_the_models_context() -> None:
    noise = np.random.default_rng(3).normal(0, 4000, 16000 * 2).astype("<i2").tobytes()
    stream = UtteranceStream(max_utterance_s=5.0)
    got: list[Utterance] = []
    peak = 0
    for _ in range(12):  # 24 s of sound without a pause
        for offset in range(0, len(noise), 960):
            got += utterances(stream.feed(noise[offset : offset + 960]))
            peak = max(peak, stream.buffered_bytes)
    assert len(got) >= 4
    assert all(u.end_s - u.start_s <= 5.0 for u in got)
    assert peak <= (5.0 + 1.0) * 16000 * 2
