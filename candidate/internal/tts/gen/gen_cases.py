"""Write ../testdata/cases.json.gz: legacy's own answers for the tts package's Go tests.

    .venv/bin/python candidate/internal/tts/gen/gen_cases.py

* ``voices``: voice_of for every speaker of every model;
* ``engine``: SpeechRequest's rate_wpm, engine_pitch and voice over speakers, paces, pitches
  and languages (the values sent to the model);
* ``options``: resolve_options on every surface for combinations of model, speaker, pace,
  pitch, loudness, sample rate and codec, valid and not (the message of each refusal);
* ``text_length``: check_text_length at and past each model's limit;
* ``pause``: pause_pcm's length at every rate.
"""

from __future__ import annotations

import gzip
import itertools
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from legacy.speech.options import (  # noqa: E402
    InvalidSpeechOptions,
    check_text_length,
    resolve_options,
)
from legacy.speech.tts import VOICE_OF_LANGUAGE, SpeechRequest, pause_pcm  # noqa: E402
from legacy.speech.voices import MODELS, SPEAKERS, voice_of  # noqa: E402

SURFACES = ("rest", "stream", "ws")
SPEAKER_SAMPLES = (None, "anushka", "karun", "shubh", "ritu", "shubh_enhi_ads",
                   "ritu_hi_kids", "", "Anushka", "SHUBH", "\u212aavya", "nobody",
                   "it's \"x\"", "tab\there", "\u200b", "\U0001f600", "an\u0130shka")  # fmt: skip
RATES = (None, 0, 8000, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 11025, -1, 10**20)
CODECS = (None, "wav", "mp3", "opus", "linear16", "flac")


def _resolve(**kw: Any) -> dict[str, Any]:
    try:
        return {"options": asdict(resolve_options(**kw))}
    except InvalidSpeechOptions as exc:
        return {"error": str(exc)}


def main() -> None:
    voices = [{"speaker": s, **asdict(voice_of(s))} for m in MODELS for s in sorted(SPEAKERS[m])]
    engine: list[dict[str, Any]] = []
    for speaker, pace, pitch, lang in itertools.product(
        (None, "anushka", "abhilash", "shubh", "kavitha", "aditi_en_stories", "ratan_hi_sports"),
        (0.3, 0.5, 0.77, 1.0, 1.25, 2.0, 2.5, 3.0),
        (-0.75, -0.3, 0.0, 0.1, 0.5, 0.75),
        ("hi-IN", "od-IN"),
    ):
        req = SpeechRequest("x", lang, pace, pitch, speaker)
        engine.append({"speaker": speaker or "", "pace": pace, "pitch": pitch, "language": lang,
                       "rate_wpm": req.rate_wpm, "engine_pitch": req.engine_pitch,
                       "voice": req.voice})  # fmt: skip
    options: list[dict[str, Any]] = []
    for surface, model, speaker in itertools.product(SURFACES, (None, *MODELS), SPEAKER_SAMPLES):
        fields: dict[str, Any] = {"surface": surface, "model": model, "speaker": speaker}
        options.append({"fields": fields, **_resolve(**fields)})
    for surface, model, rate, codec in itertools.product(SURFACES, (None, *MODELS), RATES, CODECS):
        fields = {"surface": surface, "model": model, "sample_rate": rate, "codec": codec}
        options.append({"fields": fields, **_resolve(**fields)})
    for surface, model, pace_, pitch_, loudness in itertools.product(
        ("rest", "ws"),
        (None, *MODELS),
        (None, 0.3, 0.49, 0.5, 2.0, 2.01, 3.0),
        (None, -0.75, 0.5),
        (None, 0.3, 3.0),
    ):
        fields = {"surface": surface, "model": model, "pace": pace_, "pitch": pitch_,
                  "loudness": loudness}  # fmt: skip
        options.append({"fields": fields, **_resolve(**fields)})
    for bitrate in ("32k", "192k"):
        fields = {"surface": "stream", "codec": "mp3", "bitrate": bitrate}
        options.append({"fields": fields, **_resolve(**fields)})
    text_length: list[dict[str, Any]] = []
    for model in MODELS:
        for n in (1, 1500, 1501, 2500, 2501):
            try:
                check_text_length(model, "a" * n)
                text_length.append({"model": model, "n": n, "error": None})
            except InvalidSpeechOptions as exc:
                text_length.append({"model": model, "n": n, "error": str(exc)})
    pause = {str(r): len(pause_pcm(r)) for r in (8000, 11025, 16000, 22050, 24000, 44100, 48000)}
    out = {"voices": voices, "engine": engine, "options": options,
           "text_length": text_length, "pause": pause,
           "languages": sorted(VOICE_OF_LANGUAGE)}  # fmt: skip
    target = HERE.parent / "testdata" / "cases.json.gz"
    compact = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
    target.write_bytes(gzip.compress((compact + "\n").encode("utf-8"), 9, mtime=0))
    print(f"wrote {target}: {len(voices)} voices, {len(engine)} engine values, "
          f"{len(options)} option sets")  # fmt: skip


if __name__ == "__main__":
    main()
