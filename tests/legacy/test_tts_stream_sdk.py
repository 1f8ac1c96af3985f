"""/text-to-speech/stream with the real sarvamai SDK: legacy direct, through the proxy, and the Go
candidate (``ported_base_url``, ``side_url``). The candidate streams wav, linear16, mulaw, alaw,
flac and mp3; aac and opus are a 501 there (the proxy keeps them on legacy)."""

from __future__ import annotations

import base64
import time
from decimal import Decimal
from itertools import accumulate

import httpx
import pytest
import sarvamai

from legacy.speech.chunking import split_text
from tests.legacy.audio_checks import decode

NOT_PORTED = frozenset({"opus", "aac"})  # the candidate answers these 501
STORY = "This is one sentence of a longer story, told in parts. " * 20  # 1120 characters


def test_a_long_text_streams_in_pieces_that_make_one_mp3_of_speech(
    client, ported_base_url: str, platform
) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    pieces = list(sdk.text_to_speech.convert_stream(text=STORY, language_code="en-IN"))
    assert len(pieces) > 1
    decoded = decode(b"".join(pieces))
    assert (decoded.codec, decoded.sample_rate, decoded.channels) == ("mp3", 22050, 1)
    assert decoded.rms > 300
    # The same speech as the REST route says, give or take the encoder's frames and pauses.
    rest = sdk.text_to_speech.convert(
        text=STORY, language_code="en-IN", output_audio_codec="linear16"
    )
    seconds = len(base64.b64decode(rest.audios[0])) / 2 / 22050
    assert decoded.duration_s == pytest.approx(seconds, rel=0.05)


@pytest.mark.parametrize(
    ("codec", "rate", "decoded_as"),
    [("opus", 16000, "opus"), ("flac", 24000, "flac"), ("aac", 22050, "aac"),
     ("alaw", 8000, "pcm_alaw"), ("wav", 16000, "pcm_s16le")],
)  # fmt: skip
def test_other_codecs_stream_as_declared(
    client, side_url: str, platform, request, codec: str, rate: int, decoded_as: str
) -> None:
    sdk = client(side_url, platform.make_tenant())
    if request.node.callspec.params["side_url"] == "candidate" and codec in NOT_PORTED:
        with pytest.raises(sarvamai.core.api_error.ApiError) as refused:
            list(sdk.text_to_speech.convert_stream(
                text=STORY[:400], language_code="en-IN", output_audio_codec=codec,
                speech_sample_rate=rate,
            ))  # fmt: skip
        assert refused.value.status_code == 501
        return
    data = b"".join(
        sdk.text_to_speech.convert_stream(
            text=STORY[:400], language_code="en-IN", output_audio_codec=codec,
            speech_sample_rate=rate, output_audio_bitrate="64k",
        )
    )  # fmt: skip
    decoded = decode(data)
    assert (decoded.codec, decoded.sample_rate, decoded.channels) == (decoded_as, rate, 1)
    assert decoded.rms > 300


def test_the_language_is_detected_when_omitted_and_the_stream_is_billed(
    client, side_url: str, platform
) -> None:
    sdk = client(side_url, platform.make_tenant())
    before = len(platform.ledger_rows("text-to-speech-stream"))
    text = "नमस्ते, आप कैसे हैं? मैं ठीक हूँ।"
    data = b"".join(sdk.text_to_speech.convert_stream(text=text))
    assert decode(data).rms > 300
    rows = platform.ledger_rows("text-to-speech-stream")[before:]
    assert rows == [("characters", Decimal(len(text)))]


def test_refusals_say_what_to_fix(client, ported_base_url: str, platform) -> None:
    base_url = ported_base_url
    sdk = client(base_url, platform.make_tenant())
    refusals = [
        (sarvamai.BadRequestError, {"text": "12345 678"},
         "could not tell which language the text is in"),
        (sarvamai.BadRequestError, {"speaker": "shubh", "model": "bulbul:v2"},
         "speaker 'shubh' is a bulbul:v3 voice, not a bulbul:v2 one"),
        (sarvamai.UnprocessableEntityError, {"output_audio_bitrate": "100k"},
         "body.output_audio_bitrate: Input should be '32k', '64k', '96k', '128k' or '192k'"),
        (sarvamai.UnprocessableEntityError, {"text": "x" * 3501},
         "body.text: String should have at most 3500 characters"),
    ]  # fmt: skip
    for error, fields, message in refusals:
        with pytest.raises(error) as refused:
            list(sdk.text_to_speech.convert_stream(**{"text": "hello", **fields}))
        assert message in refused.value.body["error"]["message"], fields
    with pytest.raises(sarvamai.ForbiddenError):
        list(client(base_url, "not-a-key").text_to_speech.convert_stream(text="hello"))
    broke = client(base_url, platform.make_tenant(credits="0"))
    with pytest.raises(sarvamai.core.api_error.ApiError) as empty:
        list(broke.text_to_speech.convert_stream(text="hello", language_code="en-IN"))
    assert empty.value.status_code == 402


def wait_for_rows(platform, route: str, count: int) -> list[tuple[str, object]]:
    deadline = time.monotonic() + 10
    while len(rows := platform.ledger_rows(route)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return rows


def test_a_client_that_hangs_up_stops_synthesis_and_pays_for_what_it_was_sent(
    ported_base_url: str, platform
) -> None:
    base_url = ported_base_url
    key = platform.make_tenant()
    text = "A sentence that takes a while to say, one of very many. " * 60  # 3360 characters
    before = len(platform.ledger_rows("text-to-speech-stream"))
    with httpx.Client(timeout=30) as http:
        request = http.build_request(
            "POST", f"{base_url}/text-to-speech/stream",
            json={"text": text, "language_code": "en-IN"},
            headers={"api-subscription-key": key},
        )  # fmt: skip
        response = http.send(request, stream=True)
        assert response.headers["content-type"] == "audio/mpeg"
        first = next(response.iter_raw())
        assert first
        response.close()
    rows = wait_for_rows(platform, "text-to-speech-stream", before + 1)[before:]
    assert len(rows) == 1
    unit, quantity = rows[0]
    assert unit == "characters"
    # Charged for whole chunks sent before the hang-up was seen, not the 3360 characters held.
    sent_after_each_chunk = list(accumulate(len(chunk) for chunk in split_text(text, 250)))
    assert quantity in sent_after_each_chunk[:6]
