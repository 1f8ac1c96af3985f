"""/text-to-speech with the real sarvamai SDK: real speech, from legacy direct, through the proxy
and from the Go candidate (``ported_base_url``). The candidate encodes wav, linear16, mulaw, alaw,
flac and mp3; aac and opus are a 501 there (the proxy keeps them on legacy)."""

from __future__ import annotations

import base64
import io
import wave
from decimal import Decimal

import numpy as np
import pytest
import sarvamai
from sarvamai.core.api_error import ApiError

from tests.legacy.audio_checks import decode, fundamental_hz

# The codecs the Go candidate encodes (byte for byte as legacy; flac losslessly and mp3 with
# its own encoder, in other bytes); the others are a 501 there.
PORTED = frozenset({"wav", "linear16", "mulaw", "alaw", "flac", "mp3"})


def decode_wav(audio_b64: str) -> tuple[int, np.ndarray]:
    with wave.open(io.BytesIO(base64.b64decode(audio_b64))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return wav.getframerate(), samples


@pytest.mark.parametrize(("language", "text"), [("hi-IN", "नमस्ते, आप कैसे हैं?"), ("ta-IN", "வணக்கம்")])
def test_speech_decodes_at_the_requested_rate(
    client, ported_base_url: str, platform, language, text
) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    answer = sdk.text_to_speech.convert(text=text, language_code=language, speech_sample_rate=16000)
    rate, samples = decode_wav(answer.audios[0])
    assert rate == 16000
    assert 0.3 < len(samples) / rate < 6
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 100  # speech, not silence


def test_text_longer_than_the_models_context_is_chunked_and_stitched(
    client, ported_base_url: str, platform
) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    sentence = "This is one sentence of a longer story. "
    short = sdk.text_to_speech.convert(text=sentence, language_code="en-IN")
    long = sdk.text_to_speech.convert(text=sentence * 30, language_code="en-IN")  # 1200 chars
    _, one = decode_wav(short.audios[0])
    _, thirty = decode_wav(long.audios[0])
    assert 20 * len(one) < len(thirty) < 40 * len(one)


def test_identical_requests_give_identical_audio_and_linear16_is_raw(
    client, ported_base_url: str, platform
) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    first = sdk.text_to_speech.convert(text="Same every time.", language_code="en-IN")
    second = sdk.text_to_speech.convert(text="Same every time.", language_code="en-IN")
    assert first.audios == second.audios
    raw = sdk.text_to_speech.convert(
        text="Same every time.", language_code="en-IN", output_audio_codec="linear16"
    )
    assert base64.b64decode(raw.audios[0]) == decode_wav(first.audios[0])[1].tobytes()


@pytest.mark.parametrize(
    ("codec", "rate", "decoded_as"),
    [("mp3", 22050, "mp3"), ("opus", 24000, "opus"), ("flac", 44100, "flac"),
     ("aac", 16000, "aac"), ("mulaw", 8000, "pcm_mulaw"), ("alaw", 8000, "pcm_alaw"),
     ("wav", 24000, "pcm_s16le")],
)  # fmt: skip
def test_every_codec_decodes_as_declared(
    client, ported_base_url: str, platform, request, codec: str, rate: int, decoded_as: str
) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    text = "Every codec carries the same words."
    if request.node.callspec.params["ported_base_url"] == "candidate" and codec not in PORTED:
        with pytest.raises(ApiError) as refused:
            sdk.text_to_speech.convert(
                text=text, language_code="en-IN", output_audio_codec=codec, speech_sample_rate=rate
            )
        assert refused.value.status_code == 501
        assert (
            f"output_audio_codec '{codec}' is not ported" in refused.value.body["error"]["message"]
        )
        return
    answer = sdk.text_to_speech.convert(
        text=text, language_code="en-IN", output_audio_codec=codec, speech_sample_rate=rate
    )
    reference = sdk.text_to_speech.convert(
        text=text, language_code="en-IN", output_audio_codec="linear16", speech_sample_rate=rate
    )
    pcm = np.frombuffer(base64.b64decode(reference.audios[0]), dtype="<i2").astype(np.float64)
    decoded = decode(base64.b64decode(answer.audios[0]))
    assert (decoded.codec, decoded.sample_rate, decoded.channels) == (decoded_as, rate, 1)
    assert decoded.duration_s == pytest.approx(len(pcm) / rate, abs=0.01 + 2 * 1152 / rate)
    assert decoded.rms == pytest.approx(np.sqrt(np.mean(pcm**2)), rel=0.35)
    assert decoded.rms > 300  # speech, not silence


def speak(sdk, **fields) -> tuple[np.ndarray, int]:
    answer = sdk.text_to_speech.convert(language_code="hi-IN", **fields)
    rate, samples = decode_wav(answer.audios[0])
    return samples.astype(np.float64), rate


def test_speaker_pitch_pace_and_loudness_change_the_voice(
    client, ported_base_url: str, platform
) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    text = "नमस्ते, आप कैसे हैं? मैं ठीक हूँ।"
    female, rate = speak(sdk, text=text, speaker="anushka")
    male, _ = speak(sdk, text=text, speaker="abhilash")
    assert fundamental_hz(female, rate) > 1.3 * fundamental_hz(male, rate)
    high, _ = speak(sdk, text=text, speaker="anushka", pitch=0.6)
    low, _ = speak(sdk, text=text, speaker="anushka", pitch=-0.6)
    assert fundamental_hz(high, rate) > 1.2 * fundamental_hz(low, rate)
    fast, _ = speak(sdk, text=text, speaker="anushka", pace=2.0)
    slow, _ = speak(sdk, text=text, speaker="anushka", pace=0.5)
    assert 2.5 * len(fast) < len(slow)
    loud, _ = speak(sdk, text=text, speaker="anushka", loudness=2.0)
    assert np.sqrt(np.mean(loud**2)) == pytest.approx(2 * np.sqrt(np.mean(female**2)), rel=0.1)
    # bulbul:v3 has no pitch or loudness controls: they are ignored, as the API documents.
    v3, _ = speak(sdk, text=text, speaker="ritu")
    v3_with_controls, _ = speak(sdk, text=text, speaker="ritu", pitch=0.6, loudness=2.0)
    assert np.array_equal(v3, v3_with_controls)


def test_refusals_say_what_to_fix(client, ported_base_url: str, platform) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    refusals = [
        (sarvamai.BadRequestError, {"speaker": "anushka", "model": "bulbul:v3"},
         "speaker 'anushka' is a bulbul:v2 voice, not a bulbul:v3 one"),
        (sarvamai.BadRequestError, {"output_audio_codec": "opus", "speech_sample_rate": 22050},
         "opus carries only 8000, 12000, 16000, 24000, 48000 Hz"),
        (sarvamai.BadRequestError, {"speech_sample_rate": 12345},
         "speech_sample_rate must be one of 8000, 16000, 22050, 24000, 32000, 44100, 48000"),
        (sarvamai.BadRequestError, {"model": "bulbul:v2", "text": "x" * 1501},
         "bulbul:v2 takes at most 1500"),
        (sarvamai.UnprocessableEntityError, {"text": "x" * 2501},
         "body.text: String should have at most 2500 characters"),
        (sarvamai.UnprocessableEntityError, {"text": "   "}, "text has nothing to speak"),
        (sarvamai.UnprocessableEntityError, {"model": "bulbul:v9"},
         "body.model: Input should be 'bulbul:v2', 'bulbul:v3' or 'bulbul:v4-flash'"),
        (sarvamai.UnprocessableEntityError, {"output_audio_codec": "ogg"},
         "body.output_audio_codec: Input should be 'mp3'"),
    ]  # fmt: skip
    for error, fields, message in refusals:
        with pytest.raises(error) as refused:
            sdk.text_to_speech.convert(**{"text": "hi", "language_code": "en-IN", **fields})
        assert message in refused.value.body["error"]["message"], fields
    with pytest.raises(sarvamai.ForbiddenError):
        client(ported_base_url, "not-a-key").text_to_speech.convert(
            text="hi", language_code="en-IN"
        )


def test_speech_is_metered_in_characters(client, ported_base_url: str, platform) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    before = len(platform.ledger_rows("text-to-speech"))
    sdk.text_to_speech.convert(text="नमस्ते दुनिया", language_code="hi-IN")
    assert platform.ledger_rows("text-to-speech")[before:] == [("characters", Decimal("13.0000"))]
