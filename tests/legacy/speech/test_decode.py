"""Uploaded audio of any container → 16 kHz mono PCM, and clear refusals."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from legacy.speech.codecs import encode
from legacy.speech.decode import AudioRejected, decode_audio


def encoded(pcm: bytes, container: str, codec: str, rate: int = 16000, channels: int = 1) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2")
    layout = "mono" if channels == 1 else "stereo"
    out = io.BytesIO()
    with av.open(out, "w", format=container) as file:
        stream = file.add_stream(codec, rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(samples.reshape(1, -1), channels, axis=0).T.reshape(1, -1).copy()
            if channels == 2 else samples.reshape(1, -1),
            format="s16", layout=layout,
        )  # fmt: skip
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            file.mux(packet)
    return out.getvalue()


def tone(seconds: float, rate: int = 16000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2").tobytes()


@pytest.mark.parametrize(
    ("container", "codec"),
    [("wav", "pcm_s16le"), ("mp3", "libmp3lame"), ("flac", "flac"), ("ogg", "libopus"),
     ("webm", "libopus"), ("ipod", "aac"), ("aiff", "pcm_s16be")],
)  # fmt: skip
def test_containers_decode_to_16k_mono_of_the_same_length(container: str, codec: str) -> None:
    rate = 48000 if "opus" in codec else 16000
    audio = decode_audio(
        encoded(tone(1.0, rate), container, codec, rate), codec=None, max_seconds=30
    )
    assert audio.duration_s == pytest.approx(1.0, abs=0.1)  # AAC adds its priming frames
    samples = np.frombuffer(audio.pcm, dtype="<i2").astype(np.float64)
    assert np.sqrt(np.mean(samples**2)) > 3000  # the tone survived, not silence


def test_stereo_44k_wav_is_downmixed_and_resampled() -> None:
    audio = decode_audio(encoded(tone(2.0, 44100), "wav", "pcm_s16le", 44100, 2), codec="wav",
                         max_seconds=30)  # fmt: skip
    assert audio.samples == pytest.approx(32000, abs=40)
    spectrum = np.abs(np.fft.rfft(np.frombuffer(audio.pcm, dtype="<i2").astype(np.float64)))
    assert np.argmax(spectrum) * 16000 / audio.samples == pytest.approx(300, abs=2)


def test_raw_pcm_codecs_are_taken_as_16k_samples_and_a_label_does_not_matter() -> None:
    pcm = tone(0.5)
    assert decode_audio(pcm, codec="pcm_s16le", max_seconds=30).pcm == pcm
    assert decode_audio(pcm + b"\x01", codec="pcm_raw", max_seconds=30).pcm == pcm
    wav = encoded(pcm, "wav", "pcm_s16le")
    assert decode_audio(wav, codec="mp3", max_seconds=30).pcm == pcm  # detected from the bytes


@pytest.mark.parametrize(
    ("data", "codec", "message"),
    [(b"", None, "empty"), (b"not audio at all" * 20, None, "could not read the file as audio"),
     (b"RIFF\x10\x00\x00\x00WAVEfmt ", "wav", "could not read"),
     (encode(b"", 16000, "wav"), None, "no audio samples")],
)  # fmt: skip
def test_undecodable_and_empty_files_are_refused_with_the_reason(data, codec, message) -> None:
    with pytest.raises(AudioRejected, match=message):
        decode_audio(data, codec=codec, max_seconds=30)


def test_long_audio_is_refused_without_decoding_all_of_it() -> None:
    with pytest.raises(AudioRejected, match="more than 2 s"):
        decode_audio(encoded(tone(5.0), "mp3", "libmp3lame"), codec=None, max_seconds=2)
    with pytest.raises(AudioRejected, match=r"5\.0 s; this endpoint takes at most 2 s"):
        decode_audio(tone(5.0), codec="pcm_s16le", max_seconds=2)
