"""/text-to-speech with the real sarvamai SDK, direct and through the proxy: real speech."""

from __future__ import annotations

import base64
import io
import wave
from decimal import Decimal

import numpy as np
import pytest
import sarvamai


def decode_wav(audio_b64: str) -> tuple[int, np.ndarray]:
    with wave.open(io.BytesIO(base64.b64decode(audio_b64))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return wav.getframerate(), samples


@pytest.mark.parametrize(("language", "text"), [("hi-IN", "नमस्ते, आप कैसे हैं?"), ("ta-IN", "வணக்கம்")])
def test_speech_decodes_at_the_requested_rate(
    client, base_url: str, platform, language, text
) -> None:
    sdk = client(base_url, platform.make_tenant())
    answer = sdk.text_to_speech.convert(text=text, language_code=language, speech_sample_rate=16000)
    rate, samples = decode_wav(answer.audios[0])
    assert rate == 16000
    assert 0.3 < len(samples) / rate < 6
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 100  # speech, not silence


def test_text_longer_than_the_models_context_is_chunked_and_stitched(client, platform) -> None:
    sdk = client(platform.direct_url, platform.make_tenant())
    sentence = "This is one sentence of a longer story. "
    short = sdk.text_to_speech.convert(text=sentence, language_code="en-IN")
    long = sdk.text_to_speech.convert(text=sentence * 30, language_code="en-IN")  # 1200 chars
    _, one = decode_wav(short.audios[0])
    _, thirty = decode_wav(long.audios[0])
    assert 20 * len(one) < len(thirty) < 40 * len(one)


def test_identical_requests_give_identical_audio_and_linear16_is_raw(client, platform) -> None:
    sdk = client(platform.direct_url, platform.make_tenant())
    first = sdk.text_to_speech.convert(text="Same every time.", language_code="en-IN")
    second = sdk.text_to_speech.convert(text="Same every time.", language_code="en-IN")
    assert first.audios == second.audios
    raw = sdk.text_to_speech.convert(
        text="Same every time.", language_code="en-IN", output_audio_codec="linear16"
    )
    assert base64.b64decode(raw.audios[0]) == decode_wav(first.audios[0])[1].tobytes()


def test_refusals_are_clear(client, base_url: str, platform) -> None:
    sdk = client(base_url, platform.make_tenant())
    with pytest.raises(sarvamai.BadRequestError) as codec:
        sdk.text_to_speech.convert(text="hi", language_code="en-IN", output_audio_codec="mp3")
    assert "wav or linear16" in codec.value.body["error"]["message"]
    with pytest.raises(sarvamai.BadRequestError):
        sdk.text_to_speech.convert(text="hi", language_code="en-IN", speech_sample_rate=12345)
    with pytest.raises(sarvamai.UnprocessableEntityError):
        sdk.text_to_speech.convert(text="x" * 2501, language_code="en-IN")


def test_speech_is_metered_in_characters(client, platform) -> None:
    sdk = client(platform.direct_url, platform.make_tenant())
    before = len(platform.ledger_rows("text-to-speech"))
    sdk.text_to_speech.convert(text="नमस्ते दुनिया", language_code="hi-IN")
    assert platform.ledger_rows("text-to-speech")[before:] == [("characters", Decimal("13.0000"))]
