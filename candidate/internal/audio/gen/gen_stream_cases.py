"""Write ../testdata/stream_cases.json: legacy's AudioEncoder streaming to a pipe, for the
StreamEncoder's Go tests to replay.

    .venv/bin/python candidate/internal/audio/gen/gen_stream_cases.py

For each sample-format codec (wav, linear16, mulaw, alaw) at several rates, real eSpeak
speech (testdata/speech_22050.pcm, 0.6 s) is fed in pieces of uneven sizes (whole samples),
as /text-to-speech/stream feeds chunks; each ``feed`` and the ``finish`` output is recorded as
its SHA-256, length and first bytes. The lossy and compressed codecs (mp3, flac) are other
encoders' bytes in the candidate and are checked by decoding instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from legacy.speech.codecs import AudioEncoder  # noqa: E402

OUT = HERE.parent / "testdata"
PIECES = (4410, 2, 9000, 0, 11050, 1538)  # bytes: one sample alone, one piece empty


def digest(data: bytes) -> dict[str, object]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "length": len(data),
        "head": base64.b64encode(data[:64]).decode(),
    }


def main() -> None:
    speech = (OUT / "speech_22050.pcm").read_bytes()[: sum(PIECES)]
    cases = []
    for codec in ("wav", "linear16", "mulaw", "alaw"):
        for rate in (8000, 22050, 48000):
            encoder = AudioEncoder(codec, rate)
            outputs, at = [], 0
            for size in PIECES:
                outputs.append(digest(encoder.feed(speech[at : at + size])))
                at += size
            outputs.append(digest(encoder.finish()))
            cases.append({"codec": codec, "rate": rate, "outputs": outputs})
    doc = {"pieces": PIECES, "cases": cases}
    (OUT / "stream_cases.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
