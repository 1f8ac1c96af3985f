"""Write ../testdata/: legacy's own answers for the audio package's Go tests to replay.

    .venv/bin/python candidate/internal/audio/gen/gen_cases.py

* ``encode_cases.json``: legacy/speech/codecs.py's ``encode`` on the ported codecs (wav,
  linear16, mulaw, alaw) at every rate the API takes, for inputs that cover every one of
  the 65536 sample values (G.711's tables), odd and tiny lengths and no samples at all.
* ``scale_cases.json``: legacy/speech/audio.py's ``scale`` (numpy: float64 multiply, clip,
  truncate) on every sample value at gains across the API's range and past it.
* ``speech_22050.pcm`` and ``soxr_<rate>.pcm``: real eSpeak NG speech (the inference
  server's engine, at its native 22050 Hz) and legacy's ``resample`` (soxr HQ) of it to every
  rate the API takes, for resample_test.go to measure the Go resampler against.

Outputs longer than 4 KiB are recorded as their SHA-256 and length (with the first bytes),
the others whole (base64). The soxr files change by up to 2 in a sample from one run to the
next (soxr dithers its 16-bit output with a seed that is not fixed); the test's thresholds
leave room for that.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from legacy.inference.espeak import EspeakEngine  # noqa: E402
from legacy.speech.audio import resample, scale  # noqa: E402
from legacy.speech.codecs import encode  # noqa: E402

OUT = HERE.parent / "testdata"
RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
CODECS = ("wav", "linear16", "mulaw", "alaw")
EVERY_SAMPLE = np.arange(-32768, 32768, dtype="<i2").tobytes()
INPUTS: dict[str, bytes] = {
    "every-sample": EVERY_SAMPLE,
    "empty": b"",
    "one": np.array([-12345], dtype="<i2").tobytes(),
    "three": np.array([0, 32767, -32768], dtype="<i2").tobytes(),
    "odd-ramp": (np.arange(-2000, 2001, 7, dtype="<i2") * 11).tobytes(),
}
GAINS = (0.3, 0.5, 0.77, 1.0, 1.3333333333333333, 1.5, 2.0, 2.9999, 3.0, 0.30000000000000004)


def _expect(data: bytes) -> dict[str, Any]:
    if len(data) <= 4096:
        return {"base64": base64.b64encode(data).decode()}
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "length": len(data),
        "head": base64.b64encode(data[:96]).decode(),
    }


def _speech() -> bytes:
    engine = EspeakEngine()
    try:
        said = engine.synthesize(
            "She sells sixty-six fresh fish; chai is hot.", voice="en", rate_wpm=175, pitch=50
        )
    finally:
        engine.close()
    assert said.sample_rate == 22050, said.sample_rate
    samples = np.frombuffer(said.pcm, dtype="<i2")
    return samples[:13000].tobytes()  # about 0.6 s: fricatives and vowels


def main() -> None:
    encode_cases = [
        {"name": f"{name}-{codec}-{rate}", "input": name, "codec": codec, "rate": rate,
         **_expect(encode(pcm, rate, codec))}
        for name, pcm in INPUTS.items() for codec in CODECS for rate in RATES
        if name == "every-sample" or rate in (8000, 22050)
    ]  # fmt: skip
    scale_cases = [{"gain": gain, **_expect(scale(EVERY_SAMPLE, gain))} for gain in GAINS]
    inputs = {name: base64.b64encode(pcm).decode() for name, pcm in INPUTS.items()
              if name != "every-sample"}  # fmt: skip
    (OUT / "encode_cases.json").write_text(
        json.dumps({"inputs": inputs, "cases": encode_cases}, indent=1) + "\n"
    )
    (OUT / "scale_cases.json").write_text(json.dumps(scale_cases, indent=1) + "\n")
    speech = _speech()
    (OUT / "speech_22050.pcm").write_bytes(speech)
    for rate in RATES:
        if rate != 22050:
            (OUT / f"soxr_{rate}.pcm").write_bytes(resample(speech, 22050, rate))
    print(f"wrote {OUT}: {len(encode_cases)} encode cases, {len(scale_cases)} scale cases, "
          f"{len(speech) // 2} samples of speech resampled to {len(RATES) - 1} rates")  # fmt: skip


if __name__ == "__main__":
    main()
