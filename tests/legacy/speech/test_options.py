"""Cross-field rules of TTS requests: defaults, speaker/model, per-model ranges, Opus rates."""

from __future__ import annotations

import pytest

from legacy.speech.options import InvalidSpeechOptions, check_text_length, resolve_options


def test_defaults_per_surface() -> None:
    rest = resolve_options(surface="rest")
    assert (rest.model, rest.speaker, rest.codec, rest.sample_rate) == (
        "bulbul:v3", "shubh", "wav", 22050,
    )  # fmt: skip
    stream = resolve_options(surface="stream")
    assert (stream.codec, stream.bitrate) == ("mp3", 128_000)
    # The WebSocket SDK's configure() always sends speaker="anushka" and no model.
    ws = resolve_options(surface="ws", speaker="anushka", pitch=0.0, loudness=1.0)
    assert ws.model == "bulbul:v2"
    assert resolve_options(surface="ws").model == "bulbul:v2"


def test_an_omitted_model_is_the_speakers() -> None:
    assert resolve_options(surface="rest", speaker="anushka").model == "bulbul:v2"
    assert resolve_options(surface="rest", speaker="ritu").model == "bulbul:v3"
    assert resolve_options(surface="rest", speaker="simran_en_customer").model == "bulbul:v4-flash"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model": "bulbul:v3", "speaker": "anushka"},
         "speaker 'anushka' is a bulbul:v2 voice, not a bulbul:v3 one; its speakers are aayan,"),
        ({"model": "bulbul:v4-flash", "speaker": "shubh"}, "persona IDs"),
        ({"speaker": "Ritu"}, "speaker names are lowercase: use 'ritu'"),
        ({"speaker": "nobody"}, "bulbul:v3 has no speaker 'nobody'"),
        ({"model": "bulbul:v3", "pace": 2.5}, "pace must be between 0.5 and 2.0 on bulbul:v3"),
        ({"model": "bulbul:v2", "sample_rate": 48000},
         "speech_sample_rate must be one of 8000, 16000, 22050, 24000 on bulbul:v2; 32000-48000"),
        ({"sample_rate": 12345}, "speech_sample_rate must be one of 8000, 16000, 22050, 24000, "
         "32000, 44100, 48000 on bulbul:v3"),
        ({"codec": "opus", "sample_rate": 22050}, "opus carries only 8000, 12000, 16000, 24000"),
    ],
)  # fmt: skip
def test_refusals_say_what_to_change(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSpeechOptions) as refused:
        resolve_options(surface="rest", **fields)  # type: ignore[arg-type]
    assert message in str(refused.value)


def test_the_websocket_takes_the_base_rates_only() -> None:
    with pytest.raises(InvalidSpeechOptions, match="over the WebSocket"):
        resolve_options(surface="ws", model="bulbul:v3", sample_rate=48000)
    assert resolve_options(surface="stream", model="bulbul:v3", sample_rate=48000).sample_rate


def test_pitch_and_loudness_are_v2_controls_others_ignore() -> None:
    v2 = resolve_options(surface="rest", model="bulbul:v2", pitch=0.5, loudness=2.0, pace=2.5)
    assert (v2.pitch, v2.loudness, v2.pace) == (0.5, 2.0, 2.5)
    v3 = resolve_options(surface="rest", model="bulbul:v3", pitch=0.5, loudness=2.0)
    assert (v3.pitch, v3.loudness) == (0.0, 1.0)


def test_opus_defaults_to_a_rate_it_carries() -> None:
    assert resolve_options(surface="rest", codec="opus").sample_rate == 24000
    assert resolve_options(surface="rest", codec="opus", sample_rate=8000).sample_rate == 8000


def test_v2_takes_fewer_characters_per_request() -> None:
    check_text_length("bulbul:v3", "x" * 2500)
    with pytest.raises(InvalidSpeechOptions, match="bulbul:v2 takes at most 1500"):
        check_text_length("bulbul:v2", "x" * 1501)
