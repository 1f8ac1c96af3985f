"""Every codec round-trips through FFmpeg: declared codec, rate, channels, duration, speech."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from legacy.inference.espeak import EspeakEngine
from legacy.speech.audio import resample
from legacy.speech.codecs import CODECS, AudioEncoder, check_sample_rate, encode
from tests.legacy.audio_checks import decode

# What FFmpeg reports when it decodes each codec (its canonical codec names).
DECODED_AS = {
    "mp3": "mp3", "wav": "pcm_s16le", "mulaw": "pcm_mulaw", "alaw": "pcm_alaw",
    "opus": "opus", "flac": "flac", "aac": "aac",
}  # fmt: skip
CONTAINER = {"mp3": "mp3", "wav": "wav", "mulaw": "wav", "alaw": "wav", "opus": "ogg",
             "flac": "flac", "aac": "aac"}  # fmt: skip


def duration_tolerance_s(codec: str, rate: int) -> float:
    """Encoder delay and padding that a streamed MP3 or an ADTS file cannot declare: up to
    two frames (1152 samples for MP3, 1024 for AAC). Other codecs declare or have none."""
    return 0.01 + (2 * 1152 / rate if codec in ("mp3", "aac") else 0.0)


@pytest.fixture(scope="module")
def speech() -> tuple[bytes, int]:
    engine = EspeakEngine()
    try:
        spoken = engine.synthesize("Speech in every codec, decoded by FFmpeg.", voice="en")
    finally:
        engine.close()
    return spoken.pcm, spoken.sample_rate


def rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(pcm, dtype="<i2").astype(np.float64) ** 2)))


def at(speech: tuple[bytes, int], rate: int) -> bytes:
    pcm, model_rate = speech
    return resample(pcm, model_rate, rate)


@pytest.mark.parametrize("codec", sorted(DECODED_AS))
@pytest.mark.parametrize("rate", [8000, 16000, 24000, 48000])
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_every_codec_decodes_as_declared_with_the_speech_in_it(
    speech: tuple[bytes, int], codec: str, rate: int, streamed: bool
) -> None:
    pcm = at(speech, rate)
    if streamed:
        encoder = AudioEncoder(codec, rate, bitrate=64_000)
        third = len(pcm) // 3 // 2 * 2
        parts = [encoder.feed(pcm[:third]), encoder.feed(pcm[third:]), encoder.finish()]
        data = b"".join(parts)
    else:
        data = encode(pcm, rate, codec, bitrate=64_000)
    decoded = decode(data)
    assert (decoded.codec, decoded.sample_rate, decoded.channels) == (DECODED_AS[codec], rate, 1)
    assert decoded.container.split(",")[0] == CONTAINER[codec]
    duration = len(pcm) / 2 / rate
    assert decoded.duration_s == pytest.approx(duration, abs=duration_tolerance_s(codec, rate))
    assert decoded.rms == pytest.approx(rms(pcm), rel=0.35)  # speech, at its loudness


@pytest.mark.parametrize("codec", ["wav", "flac", "mulaw", "alaw"])
def test_lossless_and_g711_keep_the_samples(speech: tuple[bytes, int], codec: str) -> None:
    pcm = at(speech, 16000)
    original = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    decoded = decode(encode(pcm, 16000, codec)).samples
    assert len(decoded) == len(original)
    # G.711 keeps 8 bits of a logarithmic scale: error within a few percent of full scale.
    tolerance = 0 if codec in ("wav", "flac") else 0.03 * 32768
    assert np.max(np.abs(decoded - original)) <= tolerance


def test_whole_mp3_declares_the_encoder_delay_so_it_decodes_to_the_exact_length(
    speech: tuple[bytes, int],
) -> None:
    pcm = at(speech, 22050)
    assert len(decode(encode(pcm, 22050, "mp3")).samples) == len(pcm) // 2


def test_linear16_is_the_samples_and_wav_has_the_plain_header(speech: tuple[bytes, int]) -> None:
    pcm = at(speech, 16000)
    assert encode(pcm, 16000, "linear16") == pcm
    encoder = AudioEncoder("linear16", 16000)
    assert encoder.feed(pcm[:100]) + encoder.feed(pcm[100:]) + encoder.finish() == pcm
    wav = encode(pcm, 16000, "wav")
    assert len(wav) == 44 + len(pcm)
    assert wav[44:] == pcm


def test_identical_input_gives_identical_bytes(speech: tuple[bytes, int]) -> None:
    pcm = at(speech, 24000)
    for codec in CODECS:
        assert encode(pcm, 24000, codec) == encode(pcm, 24000, codec), codec


def test_a_stream_yields_bytes_before_it_is_finished(speech: tuple[bytes, int]) -> None:
    pcm = at(speech, 22050)
    for codec in ("mp3", "opus", "flac", "aac", "mulaw", "wav"):
        encoder = AudioEncoder(codec, 22050 if codec != "opus" else 24000)
        try:
            assert len(encoder.feed(pcm if codec != "opus" else at(speech, 24000))) > 1000, codec
        finally:
            encoder.close()


def test_bitrate_is_honoured_up_to_what_the_encoder_allows(speech: tuple[bytes, int]) -> None:
    pcm = at(speech, 22050)
    sizes = {bps: len(encode(pcm, 22050, "mp3", bitrate=bps)) for bps in (32_000, 128_000)}
    assert sizes[32_000] * 3 < sizes[128_000]
    with av.open(io.BytesIO(encode(pcm, 22050, "mp3", bitrate=192_000))) as capped:
        assert capped.streams.audio[0].codec_context.bit_rate == 160_000  # MPEG-2 layer III max
    assert encode(pcm, 22050, "flac", bitrate=32_000) == encode(pcm, 22050, "flac")


def test_opus_refuses_rates_it_cannot_carry_and_names_the_ones_it_can() -> None:
    with pytest.raises(ValueError, match="8000, 12000, 16000, 24000, 48000"):
        check_sample_rate("opus", 22050)
    with pytest.raises(ValueError, match="22050"):
        AudioEncoder("opus", 22050)
    check_sample_rate("mp3", 22050)
    with pytest.raises(ValueError, match="unknown codec 'ogg'"):
        encode(b"", 8000, "ogg")
