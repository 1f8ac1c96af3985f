"""The inference server's models: context limits and latency profiles, defaults or from a file.

Load tests need the models to take realistic, *chosen* time, and failure drills need a model
whose context is smaller than the platform expects. Both come from one YAML file
(``banyan inference --config FILE``, env ``BANYAN_INFERENCE_CONFIG``); every key is optional
and unknown keys are refused with their path, so a typo never silently keeps a default::

    latency_scale: 1.0            # multiplies every latency below; 0 = as fast as the machine
    tts:         {max_chars: 500, latency: {fixed_ms: 20, per_unit_ms: 0.2, jitter_ms: 10}}
    translation: {max_chars: 500, latency: {fixed_ms: 15, per_unit_ms: 0.05, jitter_ms: 10}}
    lid:         {max_chars: 10000, latency: {fixed_ms: 0.3, per_unit_ms: 0.002, jitter_ms: 0.2}}
    asr:         {max_seconds: 20, latency: {fixed_ms: 15, per_unit_ms: 20, jitter_ms: 10}}
    llm:         {latency: {first_token_ms: 30, per_prompt_token_ms: 0.01,
                            per_token_ms: 3, jitter_ms: 2}}
    ocr:         {max_pixels: 25000000, latency: {fixed_ms: 0, per_unit_ms: 0, jitter_ms: 0}}

The units of ``per_unit_ms``: TTS, translation and language identification per character, ASR
per second of audio, OCR per megapixel (OCR is a real engine that takes its own time, about a
second a page; its profile is a floor, zero unless set). The platform's chunk sizes are its own
constants: a model limit set below them makes the platform's calls fail (413 from the model,
502 to the client), which is what such a drill should show.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from legacy.inference.lid_route import LidConfig
from legacy.inference.ocr import OcrConfig
from legacy.inference.profiles import LatencyProfile, StreamProfile
from legacy.inference.translation_route import TranslationConfig

__all__ = ["InferenceConfig", "InferenceConfigError", "load_inference_config"]

Profile = TypeVar("Profile", LatencyProfile, StreamProfile)


@dataclass(frozen=True, slots=True)
class InferenceConfig:
    # Characters one TTS call may carry (real TTS models have a context limit; legacy chunks).
    tts_max_chars: int = 500
    tts_latency: LatencyProfile = field(
        default_factory=lambda: LatencyProfile(fixed_ms=20.0, per_unit_ms=0.2, jitter_ms=10.0)
    )
    translation: TranslationConfig = field(default_factory=TranslationConfig)
    lid: LidConfig = field(default_factory=LidConfig)
    # Seconds of audio one recognition call may carry (legacy chunks by VAD segments).
    asr_max_seconds: float = 20.0
    asr_latency: LatencyProfile = field(  # per second of audio: a real-time factor of ~0.02
        default_factory=lambda: LatencyProfile(fixed_ms=15.0, per_unit_ms=20.0, jitter_ms=10.0)
    )
    # The chat model's rhythm: ~40 ms to the first token, ~4 ms a token after it.
    llm_latency: StreamProfile = field(
        default_factory=lambda: StreamProfile(
            first_token_ms=30.0, per_prompt_token_ms=0.01, per_token_ms=3.0, jitter_ms=2.0
        )
    )
    # Pixels one page image may have, and a latency floor per megapixel.
    ocr: OcrConfig = field(default_factory=OcrConfig)


class InferenceConfigError(ValueError):
    """The file is missing, not YAML, or has a bad key or value (the message says which)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Latency(_Strict):
    fixed_ms: float | None = Field(default=None, ge=0)
    per_unit_ms: float | None = Field(default=None, ge=0)
    jitter_ms: float | None = Field(default=None, ge=0)


class _Stream(_Strict):
    first_token_ms: float | None = Field(default=None, ge=0)
    per_prompt_token_ms: float | None = Field(default=None, ge=0)
    per_token_ms: float | None = Field(default=None, ge=0)
    jitter_ms: float | None = Field(default=None, ge=0)


class _Chars(_Strict):
    max_chars: int | None = Field(default=None, ge=1)
    latency: _Latency | None = None


class _Asr(_Strict):
    max_seconds: float | None = Field(default=None, gt=0)
    latency: _Latency | None = None


class _Llm(_Strict):
    latency: _Stream | None = None


class _Ocr(_Strict):
    max_pixels: int | None = Field(default=None, ge=1)
    latency: _Latency | None = None


class _File(_Strict):
    latency_scale: float = Field(default=1.0, ge=0)
    tts: _Chars | None = None
    translation: _Chars | None = None
    lid: _Chars | None = None
    asr: _Asr | None = None
    llm: _Llm | None = None
    ocr: _Ocr | None = None


def load_inference_config(
    path: Path | None = None, *, latency_scale: float | None = None
) -> InferenceConfig:
    """The defaults, overridden by ``path`` (if given), every latency times the scale (the
    argument wins over the file's ``latency_scale``)."""
    given = _parse(path) if path is not None else _File()
    base = InferenceConfig()
    scale = given.latency_scale if latency_scale is None else latency_scale
    if scale < 0:
        raise InferenceConfigError(f"latency scale must be 0 or more, not {scale}")
    tts, translation = given.tts or _Chars(), given.translation or _Chars()
    asr, llm, lid = given.asr or _Asr(), given.llm or _Llm(), given.lid or _Chars()
    ocr = given.ocr or _Ocr()
    return InferenceConfig(
        tts_max_chars=tts.max_chars or base.tts_max_chars,
        tts_latency=_scaled(_latency(base.tts_latency, tts.latency), scale),
        translation=TranslationConfig(
            max_chars=translation.max_chars or base.translation.max_chars,
            latency=_scaled(_latency(base.translation.latency, translation.latency), scale),
        ),
        lid=LidConfig(
            max_chars=lid.max_chars or base.lid.max_chars,
            latency=_scaled(_latency(base.lid.latency, lid.latency), scale),
        ),
        asr_max_seconds=asr.max_seconds or base.asr_max_seconds,
        asr_latency=_scaled(_latency(base.asr_latency, asr.latency), scale),
        llm_latency=_scaled(_latency(base.llm_latency, llm.latency), scale),
        ocr=replace(
            base.ocr,
            max_pixels=ocr.max_pixels or base.ocr.max_pixels,
            latency=_scaled(_latency(base.ocr.latency, ocr.latency), scale),
        ),
    )


def _parse(path: Path) -> _File:
    try:
        text = path.read_text()
    except OSError as exc:
        raise InferenceConfigError(f"{path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InferenceConfigError(f"{path}: not YAML: {exc}") from None
    try:
        return _File.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InferenceConfigError(f"{path}: {problems}") from None


def _latency(base: Profile, given: _Latency | _Stream | None) -> Profile:
    if given is None:
        return base
    return replace(base, **given.model_dump(exclude_none=True))


def _scaled(profile: Profile, scale: float) -> Profile:
    if scale == 1:
        return profile
    if isinstance(profile, LatencyProfile):
        return replace(
            profile, fixed_ms=profile.fixed_ms * scale, per_unit_ms=profile.per_unit_ms * scale,
            jitter_ms=profile.jitter_ms * scale,
        )  # fmt: skip
    return replace(
        profile, first_token_ms=profile.first_token_ms * scale,
        per_prompt_token_ms=profile.per_prompt_token_ms * scale,
        per_token_ms=profile.per_token_ms * scale, jitter_ms=profile.jitter_ms * scale,
    )  # fmt: skip
