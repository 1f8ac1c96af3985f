"""/speech-to-text and /speech-to-text-translate with the real sarvamai SDK, direct and through
the proxy: real speech (eSpeak NG) with known silences, transcribed by the simulated model.

Both routes are ported to the Go candidate, so their tests run a third time against it
(``ported_base_url``), except for MP3 uploads: the candidate decodes WAV and raw PCM only and
answers 501 for the containers it detects but does not decode (the proxy keeps those on
legacy), which is checked here too."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import httpx
import pytest
import sarvamai

from legacy.speech.decode import decode_audio
from legacy.speech.vad import find_speech
from legacy.text.scripts import CORE_LANGUAGES, dominant_script


def billed_seconds(pcm: bytes) -> Decimal:
    return (Decimal(len(pcm) // 2) / 16000).quantize(Decimal("0.001"), rounding=ROUND_CEILING)


def assert_words_on_speech(timestamps, pcm: bytes) -> None:
    """Every word lies inside one VAD speech segment of ``pcm``; none in a silence."""
    segments = find_speech(pcm)
    assert len(timestamps.words) == len(timestamps.start_time_seconds)
    for word, start, end in zip(timestamps.words, timestamps.start_time_seconds,
                                timestamps.end_time_seconds, strict=True):  # fmt: skip
        assert any(s.start_s <= start < end <= s.end_s for s in segments), (word, start, end)


def check_transcribed_with_words_on_the_speech(sdk, speech, container: str) -> None:
    audio = speech.wav() if container == "wav" else speech.mp3()
    answer = sdk.speech_to_text.transcribe(
        file=(f"speech.{container}", audio, f"audio/{container}"), language_code="hi-IN",
        with_timestamps=True, input_audio_codec=container,
    )  # fmt: skip
    assert answer.language_code == "hi-IN"
    assert answer.language_probability is None  # the language was given
    assert dominant_script(answer.transcript) == "Deva"
    # One sentence per VAD segment: the three utterances, split at the silences.
    assert answer.transcript.count("।") == 3
    assert answer.timestamps is not None
    assert " ".join(answer.timestamps.words) == answer.transcript
    decoded = decode_audio(audio, codec=container, max_seconds=30).pcm
    assert_words_on_speech(answer.timestamps, decoded)
    # ... and inside the utterances' real sound, never in the known silences.
    for start, end in zip(answer.timestamps.start_time_seconds,
                          answer.timestamps.end_time_seconds, strict=True):  # fmt: skip
        assert any(a - 0.1 <= start < end <= b + 0.1 for a, b in speech.utterances)
    assert 2.0 <= len(answer.timestamps.words) / sum(b - a for a, b in speech.utterances) <= 4.0


def test_speech_is_transcribed_with_words_on_the_speech(
    client, ported_base_url: str, platform, speech
) -> None:
    check_transcribed_with_words_on_the_speech(
        client(ported_base_url, platform.make_tenant()), speech, "wav"
    )


def test_mp3_is_transcribed_with_words_on_the_speech(client, base_url: str, platform, speech):
    check_transcribed_with_words_on_the_speech(
        client(base_url, platform.make_tenant()), speech, "mp3"
    )


def test_the_candidate_answers_mp3_501_naming_it(client, platform, speech, candidate_url):
    sdk = client(candidate_url, platform.make_tenant())
    billed = len(platform.ledger_rows("speech-to-text"))
    with pytest.raises(sarvamai.core.api_error.ApiError) as refused:
        sdk.speech_to_text.transcribe(file=("a.mp3", speech.mp3(), "audio/mpeg"))
    assert refused.value.status_code == 501
    assert refused.value.body["error"]["message"] == (
        "MP3 input is not ported to the candidate yet; legacy serves it"
    )
    assert len(platform.ledger_rows("speech-to-text")) == billed
    with pytest.raises(sarvamai.core.api_error.ApiError) as translate:
        sdk.speech_to_text.translate(file=("a.mp3", speech.mp3(), "audio/mpeg"))
    assert translate.value.status_code == 501
    assert "MP3" in translate.value.body["error"]["message"]


def test_identical_audio_gives_identical_transcripts(client, ported_base_url, platform, speech):
    sdk = client(ported_base_url, platform.make_tenant())
    file = ("a.wav", speech.wav(), "audio/wav")
    answers = [sdk.speech_to_text.transcribe(file=file, with_timestamps=True) for _ in range(2)]
    assert answers[0].transcript
    assert answers[0].transcript == answers[1].transcript
    assert answers[0].timestamps == answers[1].timestamps
    assert answers[0].language_code == answers[1].language_code


def test_unknown_language_is_detected_with_a_probability(client, ported_base_url, platform,
                                                          speech) -> None:  # fmt: skip
    sdk = client(ported_base_url, platform.make_tenant())
    answer = sdk.speech_to_text.transcribe(
        file=("a.wav", speech.wav(), "audio/wav"), language_code="unknown"
    )
    assert answer.language_code in CORE_LANGUAGES
    assert 0.7 <= answer.language_probability <= 0.99
    assert answer.timestamps is None  # not asked for


@pytest.mark.parametrize(
    ("mode", "check"),
    [("translate", lambda t: dominant_script(t) == "Latn"), ("translit", str.isascii),
     ("verbatim", lambda t: "।" not in t), ("codemix", lambda t: dominant_script(t) == "Deva")],
)  # fmt: skip
def test_modes(client, ported_base_url, platform, speech, mode, check) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    answer = sdk.speech_to_text.transcribe(
        file=("a.wav", speech.wav(), "audio/wav"), language_code="hi-IN", mode=mode
    )
    assert answer.transcript
    assert check(answer.transcript), answer.transcript


def test_keyterms_on_saaras_v4_and_their_limits(client, ported_base_url, platform, speech):
    sdk = client(ported_base_url, platform.make_tenant())
    file = ("a.wav", speech.wav(), "audio/wav")
    terms = ["Sarvam", "Bengaluru", "Vistaar", "Mumbai"]
    answer = sdk.speech_to_text.transcribe(
        file=file, language_code="en-IN", model="saaras:v4", keyterms=terms
    )
    assert set(terms) & set(answer.transcript.rstrip(".").split())
    with pytest.raises(sarvamai.BadRequestError) as v3:
        sdk.speech_to_text.transcribe(file=file, model="saaras:v3", keyterms=["Sarvam"])
    assert "saaras:v4" in v3.value.body["error"]["message"]
    with pytest.raises(sarvamai.BadRequestError) as many:
        sdk.speech_to_text.transcribe(file=file, model="saaras:v4", keyterms=["x"] * 51)
    assert "keyterms" in many.value.body["error"]["message"]
    with pytest.raises(sarvamai.BadRequestError):
        sdk.speech_to_text.transcribe(file=file, model="saaras:v4", keyterms=["x" * 65])


def test_form_quirks_string_booleans_null_keyterms_and_bare_retries(ported_base_url, platform,
                                                                     speech) -> None:  # fmt: skip
    """What the SDK puts on the wire, sent by hand: "true"/"false", keyterms "null", and a
    retry that carries the file part only (sdk-contract §1.3)."""
    key = platform.make_tenant()
    files = {"file": ("upload", speech.wav(), "application/octet-stream")}
    headers = {"api-subscription-key": key}
    with httpx.Client(base_url=ported_base_url, headers=headers, timeout=60) as h:
        form = {"keyterms": "null", "language_code": "en-IN"}
        timed = h.post("/speech-to-text", files=files, data={**form, "with_timestamps": "true"})
        untimed = h.post("/speech-to-text", files=files, data={**form, "with_timestamps": "false"})
        bare = h.post("/speech-to-text", files=files)
        broken = h.post("/speech-to-text", files=files, data={"keyterms": "[not json"})
    assert timed.status_code == untimed.status_code == 200
    assert timed.json()["timestamps"]["words"]
    assert "timestamps" not in untimed.json()
    assert timed.json()["transcript"] == untimed.json()["transcript"]
    assert bare.status_code == 200, bare.text  # defaults: saaras:v3, transcribe, detect
    assert bare.json()["transcript"]
    assert bare.json()["language_code"] in CORE_LANGUAGES
    assert "language_probability" in bare.json()
    assert broken.status_code == 400
    assert "keyterms" in broken.json()["error"]["message"]


def test_a_bare_translate_retry_answers_in_english(ported_base_url, platform, speech) -> None:
    files = {"file": ("upload", speech.wav(), "application/octet-stream")}
    headers = {"api-subscription-key": platform.make_tenant()}
    with httpx.Client(base_url=ported_base_url, headers=headers, timeout=60) as h:
        bare_translate = h.post("/speech-to-text-translate", files=files)
    assert bare_translate.status_code == 200
    assert dominant_script(bare_translate.json()["transcript"]) == "Latn"


def check_translated_to_english(sdk, audio: bytes, container: str) -> None:
    answer = sdk.speech_to_text.translate(
        file=(f"a.{container}", audio, f"audio/{container}"), model="saaras:v2.5",
        prompt="A greeting.",
    )  # fmt: skip
    assert dominant_script(answer.transcript) == "Latn"
    assert answer.transcript.count(".") == 3  # one sentence per utterance
    assert answer.language_code in CORE_LANGUAGES
    assert 0.7 <= answer.language_probability <= 0.99


def test_translate_answers_in_english_with_the_detected_language(
    client, ported_base_url, platform, speech
) -> None:
    check_translated_to_english(
        client(ported_base_url, platform.make_tenant()), speech.wav(), "wav"
    )


def test_mp3_is_translated_to_english(client, base_url, platform, speech) -> None:
    check_translated_to_english(client(base_url, platform.make_tenant()), speech.mp3(), "mpeg")


def test_audio_seconds_are_metered_exactly(client, ported_base_url, platform, speech) -> None:
    sdk = client(ported_base_url, platform.make_tenant())
    before = len(platform.ledger_rows("speech-to-text"))
    sdk.speech_to_text.transcribe(file=("a.wav", speech.wav(), "audio/wav"))
    assert platform.ledger_rows("speech-to-text")[before:] == [
        ("audio_seconds", billed_seconds(speech.pcm))
    ]


def test_translated_seconds_are_metered_exactly(client, ported_base_url, platform, speech):
    sdk = client(ported_base_url, platform.make_tenant())
    before = len(platform.ledger_rows("speech-to-text-translate"))
    sdk.speech_to_text.translate(file=("a.wav", speech.wav(), "audio/wav"))
    assert platform.ledger_rows("speech-to-text-translate")[before:] == [
        ("audio_seconds", billed_seconds(speech.pcm))
    ]


def test_translated_mp3_seconds_are_metered_exactly(client, base_url, platform, speech) -> None:
    sdk = client(base_url, platform.make_tenant())
    mp3 = speech.mp3()
    before = len(platform.ledger_rows("speech-to-text-translate"))
    sdk.speech_to_text.translate(file=("a.mp3", mp3, "audio/mpeg"))
    assert platform.ledger_rows("speech-to-text-translate")[before:] == [
        ("audio_seconds", billed_seconds(decode_audio(mp3, codec=None, max_seconds=30).pcm))
    ]


def test_refusals_are_clear(client, ported_base_url, platform, speech) -> None:
    base_url = ported_base_url
    file = ("a.wav", speech.wav(), "audio/wav")
    billed = len(platform.ledger_rows("speech-to-text"))
    bad_key = client(base_url, "not-a-key")
    with pytest.raises(sarvamai.ForbiddenError) as forbidden:
        bad_key.speech_to_text.transcribe(file=file)
    assert forbidden.value.body["error"]["code"] == "invalid_api_key_error"
    broke = client(base_url, platform.make_tenant(credits="0"))
    with pytest.raises(sarvamai.core.api_error.ApiError) as unpaid:
        broke.speech_to_text.transcribe(file=file)
    assert unpaid.value.status_code == 402
    sdk = client(base_url, platform.make_tenant())
    with pytest.raises(sarvamai.BadRequestError) as garbage:
        sdk.speech_to_text.transcribe(file=("a.wav", b"RIFF" + b"\x00" * 400, "audio/wav"))
    assert "could not read the file as audio" in garbage.value.body["error"]["message"]
    with pytest.raises(sarvamai.BadRequestError) as empty:
        sdk.speech_to_text.transcribe(file=("a.wav", b"", "audio/wav"))
    assert "empty" in empty.value.body["error"]["message"]
    with pytest.raises(sarvamai.BadRequestError) as long:
        sdk.speech_to_text.transcribe(file=("a.raw", b"\0\1" * 16000 * 31, "audio/wav"),
                                      input_audio_codec="pcm_s16le")  # fmt: skip
    assert "at most 30 s" in long.value.body["error"]["message"]
    with pytest.raises(sarvamai.UnprocessableEntityError) as mode:
        sdk.speech_to_text.transcribe(file=file, mode="sing")
    assert "mode" in mode.value.body["error"]["message"]
    with pytest.raises(sarvamai.UnprocessableEntityError) as language:
        sdk.speech_to_text.transcribe(file=file, language_code="xx-IN")
    assert "language_code" in language.value.body["error"]["message"]
    assert len(platform.ledger_rows("speech-to-text")) == billed  # no refusal is billed
