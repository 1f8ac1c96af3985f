"""The candidate's pure-Go MP3 and FLAC encoders (candidate/internal/mp3enc, flacenc) against
FFmpeg's decoders and against legacy's own encoders (LAME and FFmpeg's FLAC, through
legacy/speech/codecs.py), on real eSpeak NG speech and on synthetic signals at every sample
rate the platform uses.

The Go side runs through ``cmd/audioenc`` (PCM on stdin, the encoded file on stdout; with
``-pieces`` through the streaming API). Every output is decoded with PyAV. Numbers worth
reading (SNR and spectral similarity of Go and of LAME, bitrates, compression, speed) are
printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
import soxr

from banyan.gobuild import CANDIDATE_DIR, go_binary, go_env
from legacy.inference.espeak import EspeakEngine
from legacy.speech.codecs import BITRATES, AudioEncoder, encode
from shadow.compare.audio import similarity

RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
ESPEAK_RATE = 22_050
# mp3enc.codecDelay: where input sample 0 lands when a decoder trims nothing (no Info tag).
GO_MP3_DELAY = 576 + 481
ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10)  # FFmpeg's bitexact ID3v2.4 (padding)

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her Wednesday.",
)


@dataclass(frozen=True)
class Decoded:
    container: str
    codec: str
    rate: int
    channels: int
    samples: np.ndarray  # int16
    packet_sizes: list[int]


@pytest.fixture(scope="module")
def audioenc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    binary = tmp_path_factory.mktemp("audioenc") / "audioenc"
    done = subprocess.run(
        [str(go_binary()), "build", "-o", str(binary), "./cmd/audioenc"],
        cwd=CANDIDATE_DIR,
        env=go_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return binary


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """About 20 s of eSpeak NG speech at 22050 Hz, as the inference server produces it."""
    engine = EspeakEngine()  # one per process: closed before any other module needs one
    try:
        parts = [engine.synthesize(text) for text in SENTENCES]
    finally:
        engine.close()
    assert all(part.sample_rate == ESPEAK_RATE for part in parts)
    return np.frombuffer(b"".join(part.pcm for part in parts), dtype="<i2")


def at_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Resampled the way legacy's TTS does (legacy/speech/audio.py: soxr HQ)."""
    if rate == ESPEAK_RATE:
        return samples
    resampled: np.ndarray = np.asarray(
        soxr.resample(samples, ESPEAK_RATE, rate, quality="HQ"), dtype=np.int16
    )
    return resampled


def synthetic(name: str, rate: int, seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(7)
    if name == "sines":
        x = 9000 * np.sin(2 * np.pi * 440 * t) + 4000 * np.sin(2 * np.pi * 1250 * t)
    elif name == "silence":
        x = np.zeros_like(t)
    elif name == "noise":
        x = rng.normal(0, 3000, len(t))
    elif name == "sweep":  # 100 Hz up to 0.45 of the rate, exponentially
        f0, f1 = 100.0, 0.45 * rate
        k = np.log(f1 / f0) / seconds
        x = 10000 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)
    else:
        raise ValueError(name)
    samples: np.ndarray = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    return samples


def go(
    audioenc: Path,
    codec: str,
    rate: int,
    samples: np.ndarray,
    *,
    bitrate: int = 0,
    pieces: int = 0,
) -> bytes:
    args = [str(audioenc), "-codec", codec, "-rate", str(rate), "-bitrate", str(bitrate)]
    if pieces:
        args += ["-pieces", str(pieces)]
    done = subprocess.run(
        args, input=samples.astype("<i2").tobytes(), capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def decode(data: bytes) -> Decoded:
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        sizes: list[int] = []
        chunks: list[np.ndarray] = []
        for packet in container.demux(stream):
            if packet.size:
                sizes.append(packet.size)
            for frame in packet.decode():
                array = frame.to_ndarray()
                if array.dtype.kind == "f":
                    array = np.clip(np.round(array * 32768), -32768, 32767)
                chunks.append(array.reshape(-1).astype(np.int16))
        return Decoded(
            container=container.format.name,
            codec=stream.codec_context.name,
            rate=stream.rate,
            channels=stream.codec_context.channels,
            samples=np.concatenate(chunks) if chunks else np.zeros(0, np.int16),
            packet_sizes=sizes,
        )


def snr_db(reference: np.ndarray, decoded: np.ndarray) -> float:
    ref = reference.astype(np.float64)
    err = decoded[: len(ref)].astype(np.float64) - ref
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum(err**2), 1e-9)))


def spectral_similarity(reference: np.ndarray, decoded: np.ndarray, rate: int) -> float:
    """Cosine similarity of the magnitude spectrograms (32 ms Hann frames, half overlap):
    1.0 when the decoded sound has the reference's spectrum frame by frame."""
    size = 1 << int(np.ceil(np.log2(0.032 * rate)))
    hop = size // 2
    window = np.hanning(size)

    def spectrogram(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        count = max(1, 1 + (len(x) - size) // hop)
        frames = np.stack([x[i * hop : i * hop + size] * window for i in range(count)])
        return np.abs(np.fft.rfft(frames, axis=1))

    a, b = spectrogram(reference), spectrogram(decoded[: len(reference)])
    return float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)))


# --- MP3 frame parsing -----------------------------------------------------------------

_MPEG1_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES_BY_VERSION = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class Mp3Frame:
    header: bytes
    kbps: int
    rate: int
    size: int
    is_info: bool


def mp3_frames(data: bytes) -> list[Mp3Frame]:
    pos = 0
    if data[:3] == b"ID3":
        pos = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    frames = []
    while pos + 4 <= len(data):
        h = data[pos : pos + 4]
        assert h[0] == 0xFF, f"lost sync at byte {pos}"
        assert h[1] & 0xE0 == 0xE0, f"lost sync at byte {pos}"
        version, layer = (h[1] >> 3) & 3, (h[1] >> 1) & 3
        assert layer == 1, "not Layer III"
        kbps = (_MPEG1_KBPS if version == 3 else _MPEG2_KBPS)[h[2] >> 4]
        rate = _RATES_BY_VERSION[version][(h[2] >> 2) & 3]
        size = (144 if version == 3 else 72) * kbps * 1000 // rate + ((h[2] >> 1) & 1)
        side = (17 if version == 3 else 9) + 4
        body = data[pos + side : pos + side + 4]
        frames.append(Mp3Frame(h, kbps, rate, size, body in (b"Info", b"Xing")))
        pos += size
    assert pos == len(data), "trailing bytes after the last frame"
    return frames


def samples_per_frame(rate: int) -> int:
    return 1152 if rate >= 32000 else 576


# --- MP3 -------------------------------------------------------------------------------


def test_mp3_bitrate_and_headers_match_legacy(audioenc: Path) -> None:
    """Per rate and requested bitrate, the frames carry the bitrate legacy's LAME settles on,
    the same header flags, and the same ID3 tag and Info frame header."""
    for rate in RATES:
        pcm = synthetic("sines", rate, 0.3)
        for requested in (*BITRATES.values(), None):
            ours = go(audioenc, "mp3", rate, pcm, bitrate=requested or 0)
            theirs = encode(pcm.tobytes(), rate, "mp3", bitrate=requested)
            assert ours[:20] == theirs[:20] == ID3
            mine, lame = mp3_frames(ours), mp3_frames(theirs)
            assert mine[0].is_info
            assert lame[0].is_info
            assert mine[0].header == lame[0].header, (rate, requested)
            audio_mine, audio_lame = mine[1:], lame[1:]
            assert {f.kbps for f in audio_mine} == {f.kbps for f in audio_lame}, (rate, requested)
            # Same version, rate, no-CRC, mono and flags; padding bits may differ.
            assert {f.header[1] for f in audio_mine} == {f.header[1] for f in audio_lame}
            assert {f.header[3] for f in audio_mine} == {f.header[3] for f in audio_lame}
            assert all(f.rate == rate for f in audio_mine)


SIGNALS = ("speech", "sines", "noise", "sweep", "silence")


@pytest.mark.parametrize("rate", RATES)
def test_mp3_decodes_to_the_input(audioenc: Path, speech: np.ndarray, rate: int) -> None:
    """Whole files at the default bitrate: MP3, mono, the rate, exactly the input's length
    (the Info frame's delay and padding), and a signal as close to the input as LAME's."""
    for name in SIGNALS:
        pcm = at_rate(speech, rate) if name == "speech" else synthetic(name, rate)
        ours = decode(go(audioenc, "mp3", rate, pcm))
        assert (ours.container, ours.codec, ours.rate, ours.channels) == (
            "mp3",
            "mp3float",
            rate,
            1,
        )
        assert len(ours.samples) == len(pcm)
        if name == "silence":
            assert np.max(np.abs(ours.samples)) <= 1
            continue
        lame = decode(encode(pcm.tobytes(), rate, "mp3"))
        # LAME's own file is only trimmed to within a frame (its padding field is off by a
        # few samples at some lengths), so compare over the input's length.
        assert abs(len(lame.samples) - len(pcm)) < samples_per_frame(rate)
        go_snr, lame_snr = snr_db(pcm, ours.samples), snr_db(pcm, lame.samples)
        go_sim = spectral_similarity(pcm, ours.samples, rate)
        lame_sim = spectral_similarity(pcm, lame.samples, rate)
        shadow = similarity(ours.samples.astype(np.float32), lame.samples.astype(np.float32))
        print(
            f"mp3 {rate:5d} Hz {name:7s} SNR go {go_snr:5.1f} lame {lame_snr:5.1f} dB, "
            f"spectral go {go_sim:.4f} lame {lame_sim:.4f}, shadow go~lame {shadow:.4f}"
        )
        # Same quality class: never more than 6 dB below LAME (it usually beats it, having
        # no psychoacoustic noise shaping to trade SNR for), spectra as close.
        assert go_snr >= min(lame_snr - 6, 20), (name, go_snr, lame_snr)
        assert go_sim >= lame_sim - 0.02, (name, go_sim, lame_sim)
        assert shadow >= 0.9


@pytest.mark.parametrize("rate", RATES)
def test_mp3_bitrates_are_constant_and_as_requested(
    audioenc: Path, speech: np.ndarray, rate: int
) -> None:
    pcm = at_rate(speech, rate)[: rate * 4]
    for requested in BITRATES.values():
        data = go(audioenc, "mp3", rate, pcm, bitrate=requested)
        frames = [f for f in mp3_frames(data) if not f.is_info]
        expected = {
            f.kbps
            for f in mp3_frames(encode(pcm[:rate].tobytes(), rate, "mp3", bitrate=requested))[1:]
        }
        assert {f.kbps for f in frames} == expected
        seconds = len(frames) * samples_per_frame(rate) / rate
        measured = sum(f.size for f in frames) * 8 / seconds / 1000
        nominal = frames[0].kbps
        print(f"mp3 {rate:5d} Hz asked {requested // 1000:3d} kb/s: {measured:7.2f} kb/s")
        assert abs(measured - nominal) / nominal < 0.01
        assert len(decode(data).samples) == len(pcm)


@pytest.mark.parametrize("rate", RATES)
def test_mp3_pieces_concatenate_into_one_stream(
    audioenc: Path, speech: np.ndarray, rate: int
) -> None:
    """Streamed in pieces, the bytes are the ID3 tag and the whole file's audio frames (no
    Info frame, as legacy's stream has none), and decode as one stream holding the input
    after the codec delay, no longer than legacy's stream plus one frame."""
    pcm = at_rate(speech, rate)[: rate * 3]
    whole = go(audioenc, "mp3", rate, pcm, bitrate=64_000)
    streamed = go(audioenc, "mp3", rate, pcm, bitrate=64_000, pieces=7)
    info = mp3_frames(whole)[0]
    assert streamed == ID3 + whole[20 + info.size :]
    decoded = decode(streamed)
    spf = samples_per_frame(rate)
    assert len(decoded.samples) % spf == 0
    assert len(pcm) + GO_MP3_DELAY <= len(decoded.samples) < len(pcm) + GO_MP3_DELAY + spf
    aligned = decoded.samples[GO_MP3_DELAY : GO_MP3_DELAY + len(pcm)]
    assert snr_db(pcm, aligned) >= snr_db(pcm, decode(whole).samples) - 0.01

    legacy = AudioEncoder("mp3", rate, bitrate=64_000)
    raw = pcm.tobytes()
    cut = len(raw) // 7 // 2 * 2
    pieces = [legacy.feed(raw[i : i + cut]) for i in range(0, len(raw), cut)]
    legacy_stream = b"".join([*pieces, legacy.finish()])
    assert not any(f.is_info for f in mp3_frames(legacy_stream))
    legacy_len = len(decode(legacy_stream).samples)
    print(f"mp3 {rate:5d} Hz stream: go {len(decoded.samples)} legacy {legacy_len} samples")
    assert len(decoded.samples) <= legacy_len + spf


@pytest.mark.parametrize("count", [0, 1, 2, 575, 577, 1153])
def test_mp3_tiny_inputs(audioenc: Path, count: int) -> None:
    pcm = synthetic("sines", 16000, 1.0)[:count]
    data = go(audioenc, "mp3", 16000, pcm)
    if count == 0:  # legacy's file and stream are empty too
        assert data == encode(b"", 16000, "mp3") == b""
        assert go(audioenc, "mp3", 16000, pcm, pieces=3) == b""
        return
    # Within a frame, as legacy: FFmpeg trims a file this short only partly (LAME's too).
    assert abs(len(decode(data).samples) - count) < 576
    streamed = go(audioenc, "mp3", 16000, pcm, pieces=3)
    assert len(decode(streamed).samples) >= count + GO_MP3_DELAY


# --- FLAC ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamInfo:
    min_block: int
    max_block: int
    min_frame: int
    max_frame: int
    rate: int
    channels: int
    bits: int
    total: int
    md5: bytes


def stream_info(data: bytes) -> tuple[StreamInfo, int]:
    """STREAMINFO and the offset of the first frame."""
    assert data[:4] == b"fLaC"
    pos, info = 4, None
    while True:
        last, kind = data[pos] >> 7, data[pos] & 0x7F
        length = int.from_bytes(data[pos + 1 : pos + 4], "big")
        body = data[pos + 4 : pos + 4 + length]
        if kind == 0:
            v = int.from_bytes(body[10:18], "big")
            info = StreamInfo(
                int.from_bytes(body[0:2], "big"),
                int.from_bytes(body[2:4], "big"),
                int.from_bytes(body[4:7], "big"),
                int.from_bytes(body[7:10], "big"),
                v >> 44,
                ((v >> 41) & 7) + 1,
                ((v >> 36) & 31) + 1,
                v & ((1 << 36) - 1),
                body[18:34],
            )
        pos += 4 + length
        if last:
            assert info is not None
            return info, pos


@pytest.mark.parametrize("rate", RATES)
def test_flac_is_lossless_with_a_complete_streaminfo(
    audioenc: Path, speech: np.ndarray, rate: int
) -> None:
    for name in SIGNALS:
        pcm = at_rate(speech, rate) if name == "speech" else synthetic(name, rate)
        data = go(audioenc, "flac", rate, pcm)
        decoded = decode(data)
        assert (decoded.container, decoded.codec, decoded.rate, decoded.channels) == (
            "flac",
            "flac",
            rate,
            1,
        )
        assert np.array_equal(decoded.samples, pcm)
        info, first = stream_info(data)
        theirs = encode(pcm.tobytes(), rate, "flac")
        their_info, their_first = stream_info(theirs)
        assert (info.min_block, info.max_block) == (their_info.min_block, their_info.max_block)
        assert (info.rate, info.channels, info.bits, info.total) == (rate, 1, 16, len(pcm))
        assert info.md5 == their_info.md5 == hashlib.md5(pcm.astype("<i2").tobytes()).digest()
        assert (info.min_frame, info.max_frame) == (
            min(decoded.packet_sizes),
            max(decoded.packet_sizes),
        )
        go_bytes, ffmpeg_bytes = len(data) - first, len(theirs) - their_first
        print(
            f"flac {rate:5d} Hz {name:7s} frames go {go_bytes} ffmpeg {ffmpeg_bytes} "
            f"({go_bytes / ffmpeg_bytes:.3f}), ratio to PCM go {go_bytes / (2 * len(pcm)):.3f}"
        )
        # Speech at least as small as FFmpeg's (LPC up to order 8, as its default); pure
        # tones may be a little larger (a two-tone signal at 44.1 kHz: about 7%).
        assert go_bytes <= (1.01 if name == "speech" else 1.10) * ffmpeg_bytes + 64


@pytest.mark.parametrize("rate", RATES)
def test_flac_pieces_concatenate_into_one_stream(
    audioenc: Path, speech: np.ndarray, rate: int
) -> None:
    """Streamed, the frames are the whole file's; STREAMINFO is that of a stream of unknown
    length (total 0, no MD5), as FFmpeg writes it to a pipe."""
    pcm = at_rate(speech, rate)[: rate * 3]
    whole = go(audioenc, "flac", rate, pcm)
    streamed = go(audioenc, "flac", rate, pcm, pieces=5)
    info, first = stream_info(streamed)
    assert streamed[first:] == whole[stream_info(whole)[1] :]
    assert (info.total, info.md5, info.min_frame) == (0, bytes(16), 0)
    legacy = AudioEncoder("flac", rate)
    legacy_stream = legacy.feed(pcm.tobytes()) + legacy.finish()
    assert info == stream_info(legacy_stream)[0]
    assert np.array_equal(decode(streamed).samples, pcm)


@pytest.mark.parametrize("count", [1, 2, 17, 575, 577])
def test_flac_tiny_inputs(audioenc: Path, count: int) -> None:
    pcm = synthetic("noise", 8000, 1.0)[:count]
    for pieces in (0, 3):
        decoded = decode(go(audioenc, "flac", 8000, pcm, pieces=pieces))
        assert np.array_equal(decoded.samples, pcm)


def test_flac_empty_input(audioenc: Path) -> None:
    info, _ = stream_info(go(audioenc, "flac", 16000, np.zeros(0, np.int16)))
    assert (info.total, info.md5) == (0, hashlib.md5(b"").digest())


# --- speed -----------------------------------------------------------------------------


def test_encode_speed(audioenc: Path, speech: np.ndarray) -> None:
    """Real-time factor (encode time / audio duration) on 30 s of speech; printed, not gated.
    The Go figure has the process start (timed on an empty input) taken out."""
    for rate in (22050, 48000):
        pcm = np.resize(at_rate(speech, rate), rate * 30)
        for codec in ("mp3", "flac"):
            start = time.perf_counter()
            go(audioenc, codec, rate, pcm[:0])
            startup_s = time.perf_counter() - start
            start = time.perf_counter()
            ours = go(audioenc, codec, rate, pcm)
            go_s = time.perf_counter() - start - startup_s
            start = time.perf_counter()
            theirs = encode(pcm.tobytes(), rate, codec)
            legacy_s = time.perf_counter() - start
            print(
                f"{codec} {rate} Hz, 30 s: RTF go {go_s / 30:.4f} legacy {legacy_s / 30:.4f} "
                f"({len(ours)} vs {len(theirs)} bytes)"
            )
            assert len(decode(ours).samples) == len(pcm)
