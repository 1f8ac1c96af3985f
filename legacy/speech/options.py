"""The rules that tie a TTS request's fields together, shared by the REST, stream and WebSocket
routes (sdk-contract §1.6). Pure: fields in, :class:`SpeechOptions` or a message out.

Field-level ranges (types, enums, the widest pace/pitch/loudness ranges) are the request
models' job and answer 422; what depends on another field answers 400 through
:class:`InvalidSpeechOptions`, whose message says what to change:

* ``model`` omitted: the model the ``speaker`` belongs to (speaker names never overlap between
  models), else the surface's default — bulbul:v3 over HTTP, as the API documents, and
  bulbul:v2 on the WebSocket, whose SDK ``configure()`` always sends the v2 speaker
  ``anushka`` with v2's pitch and loudness. A speaker of another model is refused.
* ``pace``: 0.3-3.0 on bulbul:v2, 0.5-2.0 on v3 and v4-flash.
* ``pitch`` and ``loudness`` are bulbul:v2 controls; the other models ignore them, as the API
  documents ("will be ignored if provided"), so an SDK sending the neutral defaults works.
* ``speech_sample_rate``: 8000, 16000, 22050 (default), 24000; over HTTP v3 and v4-flash also
  32000, 44100, 48000. Opus carries 8/16/24/48 kHz only: an omitted rate becomes 24000 for
  Opus, another explicit rate is refused (``codecs.check_sample_rate``).
* Text: at most 1500 characters per request on bulbul:v2 over REST (2500 on the others; the
  stream route takes 3500 on every model, the WebSocket 2500 per text message).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from legacy.speech.codecs import BITRATES, Bitrate, CodecName, check_sample_rate
from legacy.speech.voices import DEFAULT_SPEAKER, MODELS, SPEAKERS, Model

__all__ = [
    "InvalidSpeechOptions",
    "SpeechOptions",
    "Surface",
    "check_text_length",
    "resolve_options",
]

Surface = Literal["rest", "stream", "ws"]
_BASE_RATES: Final = (8000, 16000, 22050, 24000)
_HIGH_RATES: Final = (32000, 44100, 48000)
_DEFAULT_RATE: Final = 22050
_OPUS_DEFAULT_RATE: Final = 24000
_PACE: Final[dict[Model, tuple[float, float]]] = {
    "bulbul:v2": (0.3, 3.0), "bulbul:v3": (0.5, 2.0), "bulbul:v4-flash": (0.5, 2.0),
}  # fmt: skip
_REST_TEXT_LIMIT: Final[dict[Model, int]] = {
    "bulbul:v2": 1500, "bulbul:v3": 2500, "bulbul:v4-flash": 2500,
}  # fmt: skip


class InvalidSpeechOptions(ValueError):
    """Fields that do not fit together; the message tells the caller what to change (a 400)."""


@dataclass(frozen=True, slots=True)
class SpeechOptions:
    model: Model
    speaker: str
    pace: float
    pitch: float  # -0.75 .. 0.75; 0.0 unless the model honours it
    loudness: float  # gain; 1.0 unless the model honours it
    sample_rate: int
    codec: CodecName
    bitrate: int  # bits per second, for the lossy codecs


def resolve_options(
    *, surface: Surface, model: Model | None = None, speaker: str | None = None,
    pace: float | None = None, pitch: float | None = None, loudness: float | None = None,
    sample_rate: int | None = None, codec: CodecName | None = None, bitrate: Bitrate | None = None,
) -> SpeechOptions:  # fmt: skip
    """Defaults filled in and cross-field rules checked; raises InvalidSpeechOptions."""
    chosen = model or _model_of(speaker) or ("bulbul:v2" if surface == "ws" else "bulbul:v3")
    _check_speaker(chosen, speaker)
    low, high = _PACE[chosen]
    if pace is not None and not low <= pace <= high:
        raise InvalidSpeechOptions(f"pace must be between {low} and {high} on {chosen}")
    out_codec: CodecName = codec or ("mp3" if surface != "rest" else "wav")
    rate = sample_rate or (_OPUS_DEFAULT_RATE if out_codec == "opus" else _DEFAULT_RATE)
    _check_rate(surface, chosen, rate)
    try:
        check_sample_rate(out_codec, rate)
    except ValueError as exc:
        raise InvalidSpeechOptions(str(exc)) from exc
    honours_v2_controls = chosen == "bulbul:v2"
    return SpeechOptions(
        model=chosen,
        speaker=speaker or DEFAULT_SPEAKER[chosen],
        pace=pace if pace is not None else 1.0,
        pitch=pitch if pitch is not None and honours_v2_controls else 0.0,
        loudness=loudness if loudness is not None and honours_v2_controls else 1.0,
        sample_rate=rate,
        codec=out_codec,
        bitrate=BITRATES[bitrate or "128k"],
    )


def check_text_length(model: Model, text: str) -> None:
    """The REST route's per-model limit (the request model already caps every model at 2500)."""
    limit = _REST_TEXT_LIMIT[model]
    if len(text) > limit:
        raise InvalidSpeechOptions(
            f"text is {len(text)} characters; {model} takes at most {limit} per request "
            "(split it, use bulbul:v3, or stream it with /text-to-speech/stream)"
        )


def _model_of(speaker: str | None) -> Model | None:
    return next((m for m in MODELS if speaker in SPEAKERS[m]), None)


def _check_speaker(model: Model, speaker: str | None) -> None:
    if speaker is None or speaker in SPEAKERS[model]:
        return
    owner = _model_of(speaker)
    if owner is not None:
        reason = f"speaker {speaker!r} is a {owner} voice, not a {model} one"
    elif _model_of(speaker.lower()) is not None:
        reason = f"speaker names are lowercase: use {speaker.lower()!r}"
    else:
        reason = f"{model} has no speaker {speaker!r}"
    if model == "bulbul:v4-flash":
        hint = "its speakers are persona IDs <name>_<language>_<style>, e.g. shubh_enhi_ads"
    else:
        hint = f"its speakers are {', '.join(sorted(SPEAKERS[model]))}"
    raise InvalidSpeechOptions(f"{reason}; {hint} (or set model to the speaker's model)")


def _check_rate(surface: Surface, model: Model, rate: int) -> None:
    high = surface != "ws" and model != "bulbul:v2"
    allowed = _BASE_RATES + _HIGH_RATES if high else _BASE_RATES
    if rate in allowed:
        return
    message = f"speech_sample_rate must be one of {', '.join(map(str, allowed))} on {model}"
    if rate in _HIGH_RATES:
        message += (
            " over the WebSocket" if surface == "ws" else "; 32000-48000 need bulbul:v3 or v4-flash"
        )
    raise InvalidSpeechOptions(message)
