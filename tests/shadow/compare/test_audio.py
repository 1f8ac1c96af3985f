"""Audio answers compared as sound (shadow/compare/audio.py), on real eSpeak speech encoded
by legacy's own codecs: every format TTS emits."""

from __future__ import annotations

import base64
import io
import random
import statistics
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import soxr

from legacy.inference.espeak import EspeakEngine
from legacy.speech.codecs import encode
from shadow.compare.audio import (
    MAX_SECONDS,
    AudioHint,
    compare_audio,
    decode_audio,
    decode_base64_audio,
    looks_like_audio,
    similarity,
)
from shadow.compare.config import AudioOptions
from shadow.model import CandidateGarbage, Diff

OPTIONS = AudioOptions(duration_tolerance_s=0.05, min_similarity=0.9)
RATE = 22_050


@dataclass(frozen=True)
class Speech:
    pcm: bytes  # 22050 Hz mono s16le: what eSpeak and legacy's TTS start from
    other: bytes  # different words, same voice and rate

    def at(self, rate: int) -> bytes:
        """The same speech at another rate, resampled the way legacy's TTS does (soxr)."""
        if rate == RATE:
            return self.pcm
        samples = np.frombuffer(self.pcm, dtype="<i2")
        return np.asarray(soxr.resample(samples, RATE, rate), dtype="<i2").tobytes()


@pytest.fixture(scope="module")
def speech() -> Speech:
    engine = EspeakEngine()  # one per process: closed before any other module needs one
    try:
        said = engine.synthesize("The quick brown fox jumps over the lazy dog, three times.")
        other = engine.synthesize("Something else entirely is said in this second clip.")
    finally:
        engine.close()
    assert said.sample_rate == other.sample_rate == RATE
    return Speech(said.pcm, other.pcm)


def stereo_wav(pcm: bytes, rate: int) -> bytes:
    mono = np.frombuffer(pcm, dtype="<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.repeat(mono, 2).astype("<i2").tobytes())
    return out.getvalue()


def test_the_same_wav_twice_has_no_diff(speech: Speech) -> None:
    assert (
        compare_audio(encode(speech.pcm, RATE, "wav"), encode(speech.pcm, RATE, "wav"), OPTIONS)
        == []
    )


def test_identical_sound_in_two_byte_forms_has_no_diff(speech: Speech) -> None:
    # One extra silent sample: the bytes differ, the sound does not.
    padded = encode(speech.pcm + b"\0\0", RATE, "wav")
    assert compare_audio(encode(speech.pcm, RATE, "wav"), padded, OPTIONS) == []


@pytest.mark.parametrize("rate", [16_000, 24_000, 8_000])
def test_another_sample_rate_of_the_same_speech_is_only_a_sample_rate_diff(
    speech: Speech, rate: int
) -> None:
    control = encode(speech.pcm, RATE, "wav")
    candidate = encode(speech.at(rate), rate, "wav")
    assert compare_audio(control, candidate, OPTIONS) == [
        Diff("$audio.sample_rate", "changed", RATE, rate)
    ]


@pytest.mark.parametrize(
    ("codec", "container", "canonical"),
    [
        ("mp3", "mp3", "mp3"),
        ("flac", "flac", "flac"),
        ("mulaw", "wav", "pcm_mulaw"),
        ("alaw", "wav", "pcm_alaw"),
    ],
)
def test_another_codec_of_the_same_speech_is_a_codec_diff_not_a_signal_one(
    speech: Speech, codec: str, container: str, canonical: str
) -> None:
    control = encode(speech.pcm, RATE, "wav")
    candidate = encode(speech.pcm, RATE, codec)
    expected = [Diff("$audio.codec", "changed", "pcm_s16le", canonical)]
    if container != "wav":
        expected.insert(0, Diff("$audio.container", "changed", "wav", container))
    assert compare_audio(control, candidate, OPTIONS) == expected


def test_aac_carries_its_encoder_priming_as_extra_duration(speech: Speech) -> None:
    # ADTS has no edit list: the decoder plays the encoder's 1024 priming samples and the
    # padded last frame, so an AAC answer is longer than the WAV of the same speech.
    diffs = compare_audio(encode(speech.pcm, RATE, "wav"), encode(speech.pcm, RATE, "aac"), OPTIONS)
    assert [d.path for d in diffs] == ["$audio.container", "$audio.codec", "$audio.duration"]
    assert (diffs[0].candidate, diffs[1].candidate) == ("aac", "aac")
    control_s, candidate_s = diffs[2].control, diffs[2].candidate
    assert isinstance(control_s, float)
    assert isinstance(candidate_s, float)
    assert 0.05 < candidate_s - control_s < 0.2


def test_opus_is_compared_at_the_rate_it_was_made_from_not_the_48k_it_plays_at(
    speech: Speech,
) -> None:
    control = encode(speech.at(24_000), 24_000, "opus")
    assert compare_audio(control, encode(speech.at(24_000), 24_000, "opus"), OPTIONS) == []
    candidate = encode(speech.at(16_000), 16_000, "opus")
    assert compare_audio(control, candidate, OPTIONS) == [
        Diff("$audio.sample_rate", "changed", 24_000, 16_000)
    ]
    as_wav = compare_audio(encode(speech.at(24_000), 24_000, "wav"), control, OPTIONS)
    assert [d.path for d in as_wav] == ["$audio.container", "$audio.codec"]


def test_a_stereo_answer_is_a_channels_diff(speech: Speech) -> None:
    control = encode(speech.pcm, RATE, "wav")
    assert compare_audio(control, stereo_wav(speech.pcm, RATE), OPTIONS) == [
        Diff("$audio.channels", "changed", 1, 2)
    ]


def test_truncated_audio_is_a_duration_diff_in_seconds_to_the_millisecond(speech: Speech) -> None:
    half = speech.pcm[: len(speech.pcm) // 4 * 2]
    control = encode(speech.pcm, RATE, "wav")
    diffs = compare_audio(control, encode(half, RATE, "wav"), OPTIONS)
    full_s, half_s = len(speech.pcm) / 2 / RATE, len(half) / 2 / RATE
    assert diffs == [Diff("$audio.duration", "changed", round(full_s, 3), round(half_s, 3))]


def test_a_duration_within_the_tolerance_is_no_diff(speech: Speech) -> None:
    control = encode(speech.pcm, RATE, "wav")
    shorter = encode(speech.pcm[: len(speech.pcm) - 2 * int(0.04 * RATE)], RATE, "wav")
    assert compare_audio(control, shorter, OPTIONS) == []
    strict = AudioOptions(duration_tolerance_s=0.01, min_similarity=0.9)
    assert [d.path for d in compare_audio(control, shorter, strict)] == ["$audio.duration"]


def test_noise_instead_of_speech_is_a_signal_diff(speech: Speech) -> None:
    samples = len(speech.pcm) // 2
    noise = np.random.default_rng(7).normal(0, 3000, samples).astype("<i2").tobytes()
    diffs = compare_audio(encode(speech.pcm, RATE, "wav"), encode(noise, RATE, "wav"), OPTIONS)
    assert [d.path for d in diffs] == ["$audio.signal"]
    assert diffs[0].control == 1.0
    assert isinstance(diffs[0].candidate, float)
    assert diffs[0].candidate < 0.3


def test_other_words_are_a_signal_diff(speech: Speech) -> None:
    diffs = compare_audio(
        encode(speech.pcm, RATE, "wav"), encode(speech.other, RATE, "wav"), OPTIONS
    )
    assert "$audio.signal" in [d.path for d in diffs]


def test_the_similarity_threshold_is_the_routes(speech: Speech) -> None:
    control, candidate = encode(speech.pcm, RATE, "wav"), encode(speech.pcm, RATE, "mp3")
    heard, other = decode_audio(control), decode_audio(candidate)
    assert heard is not None
    assert other is not None
    score = similarity(heard.signal, other.signal)
    assert 0.9 < score < 1.0
    above = AudioOptions(duration_tolerance_s=0.05, min_similarity=1.0)
    assert compare_audio(control, candidate, above)[-1] == Diff(
        "$audio.signal", "changed", 1.0, round(score, 3)
    )


def test_similarity_finds_the_best_lag_and_ignores_polarity(speech: Speech) -> None:
    signal = decode_audio(encode(speech.pcm, RATE, "wav"))
    assert signal is not None
    late = np.concatenate((np.zeros(8000, dtype=np.float32), signal.signal))  # 0.5 s later
    assert similarity(signal.signal, late) > 0.999
    assert similarity(signal.signal, -signal.signal) > 0.999
    silence = np.zeros(16000, dtype=np.float32)
    assert similarity(silence, silence) == 1.0
    assert similarity(signal.signal, silence) == 0.0


def test_a_candidate_that_is_not_audio_is_garbage(speech: Speech) -> None:
    control = encode(speech.pcm, RATE, "wav")
    for garbage in (b'{"error": "oops"}', b"", np.random.default_rng(1).bytes(5000)):
        with pytest.raises(CandidateGarbage):
            compare_audio(control, garbage, OPTIONS)
    cut = control[:40]  # a WAV header and no samples
    with pytest.raises(CandidateGarbage):
        compare_audio(control, cut, OPTIONS)


@pytest.mark.parametrize("codec", ["wav", "mp3", "opus", "flac", "aac", "mulaw"])
def test_damaged_candidates_give_diffs_or_garbage_never_another_error(
    speech: Speech, codec: str
) -> None:
    rate = 24_000 if codec == "opus" else RATE
    data = encode(speech.at(rate), rate, codec)
    control = encode(speech.pcm, RATE, "wav")
    rng = random.Random(codec)
    for _ in range(6):
        mutated = bytearray(data)
        for _ in range(rng.randrange(1, 20)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        for candidate in (data[: rng.randrange(len(data))], bytes(mutated)):
            try:
                diffs = compare_audio(control, candidate, OPTIONS)
            except CandidateGarbage:
                continue
            assert all(d.path.startswith("$audio.") for d in diffs)


def test_two_bodies_that_are_not_audio_are_compared_as_bytes() -> None:
    assert compare_audio(b"not audio", b"not audio", OPTIONS) == []
    diffs = compare_audio(b"not audio", b"still not", OPTIONS, prefix="audios[0].")
    assert [(d.path, d.kind) for d in diffs] == [("audios[0].$body", "changed")]
    assert str(diffs[0].control).startswith("9 bytes, sha256 ")
    assert diffs[0].control != diffs[0].candidate


def test_paths_carry_the_prefix_of_base64_audio_inside_json(speech: Speech) -> None:
    control = encode(speech.pcm, RATE, "wav")
    candidate = encode(speech.at(16_000), 16_000, "wav")
    assert [d.path for d in compare_audio(control, candidate, OPTIONS, prefix="audios[0].")] == [
        "audios[0].$audio.sample_rate"
    ]


def test_raw_linear16_needs_the_hint_and_is_read_at_its_rate(speech: Speech) -> None:
    hint = AudioHint.for_tts(codec="linear16", sample_rate=RATE)
    assert hint.raw_pcm
    assert AudioHint.for_tts(media_type="audio/pcm; rate=22050").raw_pcm
    assert not AudioHint.for_tts(codec="mp3").raw_pcm
    assert compare_audio(speech.pcm, speech.pcm + b"\0\0", OPTIONS, hint=hint) == []
    half = speech.pcm[: len(speech.pcm) // 4 * 2]
    assert [d.path for d in compare_audio(speech.pcm, half, OPTIONS, hint=hint)] == [
        "$audio.duration"
    ]
    # A candidate answering a WAV where raw PCM was asked for: the container says so.
    assert compare_audio(speech.pcm, encode(speech.pcm, RATE, "wav"), OPTIONS, hint=hint) == [
        Diff("$audio.container", "changed", "raw", "wav")
    ]
    decoded = decode_audio(speech.pcm, AudioHint.for_tts(codec="linear16", sample_rate=16_000))
    assert decoded is not None
    assert decoded.duration_s == pytest.approx(len(speech.pcm) / 2 / 16_000)


def test_decoding_stops_at_the_cap(speech: Speech) -> None:
    rate = 8000
    long_pcm = np.zeros(int((MAX_SECONDS + 10) * rate), dtype="<i2")
    long_pcm[::50] = 1000
    as_wav = decode_audio(encode(long_pcm.tobytes(), rate, "wav"))
    as_raw = decode_audio(long_pcm.tobytes(), AudioHint(raw_pcm=True, sample_rate=rate))
    assert as_wav is not None
    assert as_raw is not None
    assert as_wav.duration_s == as_raw.duration_s == MAX_SECONDS
    assert len(as_wav.signal) == len(as_raw.signal) == int(MAX_SECONDS * 16_000)


@pytest.mark.parametrize("codec", ["wav", "mp3", "opus", "flac", "aac", "mulaw", "alaw"])
def test_every_tts_format_looks_like_audio_and_survives_base64(speech: Speech, codec: str) -> None:
    rate = 24_000 if codec == "opus" else RATE
    data = encode(speech.at(rate), rate, codec)
    assert looks_like_audio(data)
    assert decode_base64_audio(base64.b64encode(data).decode()) == data


@pytest.mark.parametrize(
    "data",
    [b"", b"RIFF", b'{"audios": []}', b"hello world, plain text", b"\xff\x00\x00\x00", b"\0" * 64],
)
def test_other_bytes_do_not_look_like_audio(data: bytes) -> None:
    assert not looks_like_audio(data)


@pytest.mark.parametrize(
    "value",
    [
        "short",
        base64.b64encode(b"plain text that is long enough to be considered at all" * 2).decode(),
        "not base64 at all! " * 10,
        "UklGR" + "!" * 100,  # starts like a WAV, then is not base64
    ],
)
def test_strings_that_are_not_base64_audio_are_left_alone(value: str) -> None:
    assert decode_base64_audio(value) is None


def test_a_three_second_wav_pair_compares_well_under_50_ms() -> None:
    rate = RATE
    t = np.arange(3 * rate) / rate
    rng = np.random.default_rng(3)
    chirp = (np.sin(2 * np.pi * (200 + 300 * t) * t) * 8000 + rng.normal(0, 300, t.size)).astype(
        "<i2"
    )
    control = encode(chirp.tobytes(), rate, "wav")
    candidate = encode(chirp[:-300].tobytes(), rate, "wav")
    run: Callable[[], list[Diff]] = lambda: compare_audio(control, candidate, OPTIONS)  # noqa: E731
    assert run() == []
    times = []
    for _ in range(7):
        # CPU time: what the comparison costs, not how busy the machine is (a loaded CI
        # shares its cores); 16 ms measured on the 2-core lab box at rest.
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    assert min(times) < 0.05, times
    assert statistics.median(times) < 0.1, times


def test_public_surface_is_pinned() -> None:
    import shadow.compare.audio as module

    assert set(module.__all__) == {
        "MAX_SECONDS", "RAW_PCM_CODECS", "AudioHint", "DecodedAudio", "compare_audio",
        "decode_audio", "decode_base64_audio", "decode_base64_pcm", "looks_like_audio",
        "similarity",
    }  # fmt: skip
    assert all(hasattr(module, name) for name in module.__all__)
