"""The speaker table matches the SDK's types, and each speaker has a stable pitch and tempo."""

from __future__ import annotations

import typing

import sarvamai.types

from legacy.speech.voices import DEFAULT_SPEAKER, MODELS, SPEAKERS, SpeakerVoice, voice_of


def sdk_literal(alias: object) -> set[str]:
    """The names of a Fern ``Union[Literal[...], Any]`` type."""
    return set(typing.get_args(typing.get_args(alias)[0]))


def test_the_speakers_are_the_sdks_and_no_name_belongs_to_two_models() -> None:
    union = set().union(*SPEAKERS.values())
    assert union == sdk_literal(sarvamai.types.TextToSpeechSpeaker)
    assert sum(len(names) for names in SPEAKERS.values()) == len(union) == 266
    assert {model: len(SPEAKERS[model]) for model in MODELS} == {
        "bulbul:v2": 7, "bulbul:v3": 37, "bulbul:v4-flash": 222,
    }  # fmt: skip
    assert set(MODELS) == sdk_literal(sarvamai.types.TextToSpeechModel)
    assert all(DEFAULT_SPEAKER[model] in SPEAKERS[model] for model in MODELS)


def test_voices_follow_the_speakers_gender_and_never_change() -> None:
    female = [voice_of(s).pitch for s in ("anushka", "ritu", "simran_hi_news", "vidya")]
    male = [voice_of(s).pitch for s in ("abhilash", "shubh", "shubh_enhi_ads", "karun")]
    assert min(female) > 60 > 45 > max(male)
    # Pinned: a speaker's voice must not change between releases.
    assert voice_of("anushka") == SpeakerVoice(72, 1.04)
    assert voice_of("shubh") == SpeakerVoice(24, 0.96)
    voices = {voice_of(s) for names in SPEAKERS.values() for s in names}
    assert len(voices) == 50  # every pitch with every tempo: speakers mostly differ
