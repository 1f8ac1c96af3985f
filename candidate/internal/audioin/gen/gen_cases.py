"""Write ../testdata/decode_cases.json.gz: legacy's decode_audio (FFmpeg through PyAV) on WAV
files of every sample format, rate and channel count the candidate decodes, on headers FFmpeg
reads leniently, on the raw PCM codecs and the length limit, and on the containers the
candidate only detects; for the Go port to replay.

Each case's file is built from a short 16-bit source signal (stored once per rate) by a rule
that uses only integer and exactly representable float arithmetic, so the Go test builds the
identical bytes (``build`` here, ``buildWAV`` in decode_test.go). Containers the candidate
does not decode are made by PyAV and stored as bytes.

    .venv/bin/python candidate/internal/audioin/gen/gen_cases.py
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import struct
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "vad" / "gen"))
sys.path.insert(0, str(HERE.parents[3]))

import av  # noqa: E402
import numpy as np  # noqa: E402
from av.audio.stream import AudioStream  # noqa: E402
from speech import speak  # noqa: E402

from legacy.speech.audio import resample  # noqa: E402
from legacy.speech.decode import AudioRejected, decode_audio  # noqa: E402

GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")
FORMATS = {  # name -> (format tag, bits)
    "u8": (1, 8), "s16": (1, 16), "s24": (1, 24), "s32": (1, 32), "f32": (3, 32),
    "f64": (3, 64), "alaw": (6, 8), "mulaw": (7, 8),
}  # fmt: skip


def channel(src: np.ndarray, c: int) -> np.ndarray:
    """Channel c of a case: the source delayed by 3c samples (circularly), scaled by (8-c)/8."""
    shifted = np.roll(src.astype(np.int64), 3 * c)
    return (shifted * (8 - c)) >> 3


def encode(v: np.ndarray, fmt: str, c: int) -> list[bytes]:
    """One channel's samples (int16 values) in a WAV sample format, per the shared rule."""
    i = np.arange(len(v), dtype=np.int64)
    if fmt == "u8":
        return [bytes([x]) for x in ((v >> 8) + 128).tolist()]
    if fmt == "s16":
        return [struct.pack("<h", x) for x in v.tolist()]
    if fmt == "s24":
        vals = ((v << 8) | ((i * 7 + c) & 0xFF)) & 0xFFFFFF
        return [struct.pack("<I", x)[:3] for x in vals.tolist()]
    if fmt == "s32":
        vals = ((v << 16) | ((i * 13 + c) & 0xFFFF)) & 0xFFFFFFFF
        return [struct.pack("<I", x) for x in vals.tolist()]
    if fmt == "f32":
        return [struct.pack("<f", float(x) * 1.25 / 32768) for x in v.tolist()]
    if fmt == "f64":
        return [struct.pack("<d", float(x) / 32768 + (k % 3) * 2.0**-20)
                for k, x in zip(i.tolist(), v.tolist(), strict=True)]  # fmt: skip
    # alaw / mulaw: the high byte, scrambled by the position (every code gets exercised).
    return [bytes([((x >> 8) ^ k) & 0xFF]) for k, x in zip(i.tolist(), v.tolist(), strict=True)]


def build(src: np.ndarray, rate: int, channels: int, fmt: str, header: str = "plain",
          mask: int = 0, extra: int = 0) -> bytes:  # fmt: skip
    """The WAV file of a case (header: plain, extensible, size0, oversize, chunks, partial)."""
    tag, bits = FORMATS[fmt]
    cols = [encode(channel(src, c), fmt, c) for c in range(channels)]
    data = b"".join(b"".join(col[k] for col in cols) for k in range(len(src)))
    if header == "partial":
        data += b"\x01" * extra
    block = channels * bits // 8
    if header == "extensible":
        fmt_chunk = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits,
                                22, bits, mask) + struct.pack("<H", tag) + GUID_TAIL  # fmt: skip
    else:
        fmt_chunk = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    size = len(data)
    if header == "size0":
        size = 0
    elif header == "oversize":
        size = len(data) + 1000
    chunks = b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    if header == "chunks":
        chunks = b"LIST" + struct.pack("<I", 5) + b"INFOx\0" + chunks + b"fact\4\0\0\0\1\2\3\4"
    body = b"WAVE" + chunks + b"data" + struct.pack("<I", size) + data
    if header == "chunks":
        body += b"junk" + struct.pack("<I", 3) + b"abc\0"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def silent_wav(rate: int, channels: int, samples: int, fmt: str = "s16") -> bytes:
    return build(np.zeros(samples, dtype=np.int64), rate, channels, fmt)


# name -> (encoder, container, rate, container options)
ENCODED: dict[str, tuple[str, str, int, dict[str, str]]] = {
    "mp3": ("libmp3lame", "mp3", 16000, {}),
    "flac": ("flac", "flac", 16000, {}),
    "ogg": ("libopus", "ogg", 48000, {}),
    "webm": ("libopus", "webm", 48000, {}),
    "mp4": ("aac", "mp4", 16000, {}),
    "adts": ("aac", "adts", 16000, {}),
    "aiff": ("pcm_s16be", "aiff", 16000, {}),
    "wav-adpcm": ("adpcm_ima_wav", "wav", 16000, {}),
    "ac3": ("ac3", "ac3", 48000, {}),
    "wavpack": ("wavpack", "wv", 16000, {}),
    "tta": ("tta", "tta", 16000, {}),
    "caf": ("pcm_s16le", "caf", 16000, {}),
    "w64": ("pcm_s16le", "w64", 16000, {}),
    "rf64": ("pcm_s16le", "wav", 16000, {"rf64": "always"}),
    "voc": ("pcm_u8", "voc", 16000, {}),
    "alac-m4a": ("alac", "ipod", 16000, {}),
    "au": ("pcm_s16be", "au", 16000, {}),
}


def encoded(name: str, pcm: bytes) -> bytes:
    """PCM (16 kHz mono) in a container FFmpeg (PyAV) writes."""
    codec, container, rate, options = ENCODED[name]
    if rate != 16000:
        pcm = resample(pcm, 16000, rate)
    frame = av.AudioFrame.from_ndarray(
        np.frombuffer(pcm, dtype="<i2").reshape(1, -1), format="s16", layout="mono"
    )
    frame.sample_rate = rate
    out = io.BytesIO()
    with av.open(out, "w", format=container, options={"fflags": "+bitexact", **options}) as c:
        stream = c.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, AudioStream)
        wanted = stream.codec_context.format
        resampler = av.AudioResampler(format=wanted.name if wanted else "s16", layout="mono")
        for converted in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(converted):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return out.getvalue()


def riff(*chunks: tuple[bytes, bytes]) -> bytes:
    """A RIFF/WAVE file of the chunks as given (odd sizes padded, as the spec has it)."""
    body = b"WAVE"
    for tag, payload in chunks:
        body += tag + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) % 2)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_chunk(tag: int, channels: int, rate: int, bits: int, block: int | None = None) -> bytes:
    block = channels * ((bits + 7) // 8) if block is None else block
    return struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)


def odd_headers(pcm: bytes) -> dict[str, bytes]:
    """WAV headers FFmpeg reads leniently (or not): what legacy makes of each."""
    f16 = fmt_chunk(1, 1, 16000, 16)
    return {
        "fmt-14-bytes": riff((b"fmt ", f16[:14]), (b"data", pcm)),
        "bits-12": riff((b"fmt ", fmt_chunk(1, 1, 16000, 12)), (b"data", pcm)),
        "bits-20": riff((b"fmt ", fmt_chunk(1, 1, 16000, 20)), (b"data", pcm + pcm[:300])),
        "odd-list-first": riff((b"LIST", b"INFOabc"), (b"fmt ", f16), (b"data", pcm)),
        "two-fmt": riff((b"fmt ", f16), (b"fmt ", fmt_chunk(1, 1, 8000, 16)), (b"data", pcm)),
        "float-16": riff((b"fmt ", fmt_chunk(3, 1, 16000, 16)), (b"data", pcm)),
        "zero-channels": riff((b"fmt ", fmt_chunk(1, 0, 16000, 16, 2)), (b"data", pcm)),
        "zero-rate": riff((b"fmt ", fmt_chunk(1, 1, 0, 16)), (b"data", pcm)),
        "no-data": riff((b"fmt ", f16)),
        "data-before-fmt": riff((b"data", pcm), (b"fmt ", f16)),
        "empty-data": riff((b"fmt ", f16), (b"data", b"")),
        "block-align-odd": riff((b"fmt ", fmt_chunk(1, 2, 16000, 16, 6)), (b"data", pcm)),
    }


def answer(data: bytes, codec: str | None) -> dict[str, Any]:
    try:
        pcm = decode_audio(data, codec=codec, max_seconds=30).pcm
    except AudioRejected as exc:
        return {"error": str(exc)}
    return {"samples": len(pcm) // 2, "pcm": base64.b64encode(pcm).decode()}


def main() -> None:
    (speech,) = speak([("en", "Hello there, how are you today? Fine, thank you.")])
    at16 = np.frombuffer(speech, dtype="<i2").astype(np.int64)
    loud = np.flatnonzero(np.abs(at16) > 200)
    clip = at16[loud[0] : loud[0] + 16000 * 15 // 100]  # 0.15 s of speech
    clip_pcm = clip.astype("<i2").tobytes()
    rates = [16000, 8000, 11025, 22050, 24000, 32000, 44100, 48000, 44101]
    sources = {
        str(rate): clip if rate == 16000
        else np.frombuffer(resample(clip_pcm, 16000, rate), dtype="<i2").astype(np.int64)
        for rate in rates
    }  # fmt: skip
    cases: list[dict[str, Any]] = []

    def wav_case(name: str, rate: int, channels: int, fmt: str, **kw: Any) -> None:
        src = sources[str(rate)]
        data = build(src, rate, channels, fmt, **kw)
        cases.append({"name": name, "kind": "wav", "rate": rate, "channels": channels,
                      "format": fmt, "header": kw.get("header", "plain"),
                      "mask": kw.get("mask", 0), "extra": kw.get("extra", 0),
                      **answer(data, None)})  # fmt: skip

    for fmt in FORMATS:
        for channels in (1, 2, 6):
            wav_case(f"{fmt}-16k-{channels}ch", 16000, channels, fmt)
    for rate in rates[1:]:
        for fmt in ("s16", "f32", "u8"):
            wav_case(f"{fmt}-{rate}-1ch", rate, 1, fmt)
        wav_case(f"s16-{rate}-2ch", rate, 2, "s16")
    for fmt in ("s24", "f64", "mulaw"):
        wav_case(f"{fmt}-44100-2ch", 44100, 2, fmt)
        wav_case(f"{fmt}-8000-3ch", 8000, 3, fmt)
    for channels in (3, 4, 5, 7, 8):
        wav_case(f"s16-16k-{channels}ch", 16000, channels, "s16")
        wav_case(f"f32-48k-{channels}ch", 48000, channels, "f32")
    for mask, channels in ((0x3, 2), (0x4, 1), (0x3F, 6), (0x60F, 6), (0x107, 4), (0x33, 4),
                           (0xC7, 5), (0x7, 3)):  # fmt: skip
        wav_case(f"extensible-{mask:x}", 16000, channels, "s16", header="extensible", mask=mask)
        wav_case(f"extensible-{mask:x}-f32-22k", 22050, channels, "f32", header="extensible",
                 mask=mask)  # fmt: skip
    for header in ("size0", "oversize", "chunks"):
        wav_case(f"header-{header}", 16000, 2, "s16", header=header)
        wav_case(f"header-{header}-44k", 44100, 1, "s24", header=header)
    wav_case("partial-frame", 16000, 2, "s16", header="partial", extra=3)
    wav_case("partial-frame-24", 48000, 3, "s24", header="partial", extra=8)

    # The length limit: silence of a given length, as WAV or as raw PCM.
    limits: list[dict[str, Any]] = []
    for rate, channels, samples, fmt in (
        (16000, 1, 480000, "s16"), (16000, 1, 480001, "s16"), (16000, 1, 482000, "s16"),
        (16000, 2, 480001, "s16"), (44100, 1, 1323000, "s16"), (44100, 1, 1323003, "s16"),
        (44100, 1, 1325000, "s16"), (8000, 1, 240000, "u8"), (8000, 1, 240001, "u8"),
        (48000, 2, 1441000, "f32"), (22050, 1, 661500, "s16"), (22050, 1, 661501, "s16"),
        (16000, 1, 0, "s16"), (44100, 1, 1, "s16"), (44100, 1, 40, "s16"),
        (44100, 1, 61, "s16"), (44100, 1, 62, "s16"), (44100, 1, 91, "s16"),
        (44100, 1, 93, "s16"), (44100, 1, 130, "s16"), (8000, 1, 22, "u8"), (8000, 1, 23, "u8"),
        (48000, 1, 99, "s16"), (48000, 1, 100, "s16"),
    ):  # fmt: skip
        result = answer(silent_wav(rate, channels, samples, fmt), None)
        result.pop("pcm", None)
        limits.append({"rate": rate, "channels": channels, "input_samples": samples,
                       "format": fmt, **result})  # fmt: skip
    raw: list[dict[str, Any]] = []
    for size, codec in ((960000, "pcm_s16le"), (960001, "pcm_l16"), (960002, "pcm_raw"),
                        (3, "pcm_s16le"), (1, "pcm_raw"), (0, "pcm_raw")):  # fmt: skip
        data = bytes((k * 7) & 0xFF for k in range(size))
        result = answer(data, codec)
        raw.append({"size": size, "codec": codec, **result})

    # Containers the candidate detects but does not decode, and bytes FFmpeg refuses.
    others: list[dict[str, Any]] = []
    short = clip_pcm
    for fmt in ENCODED:
        data = encoded(fmt, short)
        others.append({"name": fmt, "data": base64.b64encode(data).decode(),
                       **{k: v for k, v in answer(data, "wav").items() if k != "pcm"}})  # fmt: skip
    refused = {
        "riff-zeros": b"RIFF" + b"\0" * 400,
        "text": b"hello world " * 20,
        "wav-no-data": build(sources["16000"][:0], 16000, 1, "s16")[:36],
    }
    refused.update(odd_headers(sources["16000"][:300].astype("<i2").tobytes()))
    for name, data in refused.items():
        others.append({"name": name, "data": base64.b64encode(data).decode(),
                       **answer(data, None)})  # fmt: skip

    out = {"sources": {k: base64.b64encode(v.astype("<i2").tobytes()).decode()
                       for k, v in sources.items()},
           "wav": cases, "limits": limits, "raw": raw, "others": others}  # fmt: skip
    target = HERE.parent / "testdata" / "decode_cases.json.gz"
    target.write_bytes(gzip.compress(json.dumps(out).encode(), mtime=0))
    print(
        f"wrote {target}: {len(cases)} WAV cases, {len(limits)} limits, {len(raw)} raw,"
        f" {len(others)} other containers"
    )


if __name__ == "__main__":
    main()
