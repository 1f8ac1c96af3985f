"""VAD segmentation of real speech with known silences; the incremental form agrees."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from legacy.speech.vad import SpeechEnded, SpeechStarted, VadConfig, VoiceActivity, find_speech


def test_speech_with_silences_splits_into_one_segment_per_utterance(speech) -> None:
    segments = find_speech(speech.pcm)
    assert len(segments) == len(speech.utterances) == 3
    for segment, (start, end) in zip(segments, speech.utterances, strict=True):
        # Each segment covers its utterance's sound (commas inside do not split it) and ends
        # well inside the 1 s of silence after it.
        assert segment.start_s <= start < segment.start_s + 0.15
        assert segment.end_s - 0.35 < end <= segment.end_s
    for before, after in itertools.pairwise(segments):
        assert after.start_s - before.end_s > 0.5


def test_silence_and_quiet_noise_have_no_speech() -> None:
    assert find_speech(b"\0\0" * 48000) == []
    noise = (np.random.default_rng(7).normal(0, 30, 48000)).astype("<i2").tobytes()
    assert find_speech(noise) == []


def test_a_short_pause_does_not_split_but_a_long_one_does(speech) -> None:
    start, end = speech.utterances[1]
    words = speech.pcm[int(start * 16000) * 2 : int(end * 16000) * 2]
    for gap_s, expected in ((0.15, 1), (0.6, 2)):
        pcm = words + b"\0\0" * int(16000 * gap_s) + words
        assert len(find_speech(pcm)) == expected, gap_s
    high = VadConfig.for_sensitivity(high=True)  # ends an utterance sooner
    pcm = words + b"\0\0" * int(16000 * 0.3) + words
    assert (len(find_speech(pcm)), len(find_speech(pcm, high))) == (1, 2)


@pytest.mark.parametrize("piece", [1, 333, 960, 4001])
def test_feeding_in_pieces_gives_the_same_segments_as_a_whole_file(speech, piece: int) -> None:
    activity = VoiceActivity()
    events = []
    for offset in range(0, len(speech.pcm), piece * 2 + 1):  # odd sizes split samples too
        events += activity.feed(speech.pcm[offset : offset + piece * 2 + 1])
    events += activity.finish()
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded] * 3
    ended = [e.segment for e in events if isinstance(e, SpeechEnded)]
    assert ended == find_speech(speech.pcm)
    started = [e.at_s for e in events if isinstance(e, SpeechStarted)]
    assert started == [s.start_s for s in ended]


def test_a_stream_cut_mid_speech_closes_its_segment_at_finish(speech) -> None:
    start, end = speech.utterances[0]
    activity = VoiceActivity()
    cut = int((start + end) / 2 * 16000) * 2
    events = activity.feed(speech.pcm[:cut])
    assert [type(e) for e in events] == [SpeechStarted]
    assert activity.in_speech
    (closed,) = activity.finish()
    assert isinstance(closed, SpeechEnded)
    assert closed.segment.end_s <= cut / 2 / 16000 + 1e-9
