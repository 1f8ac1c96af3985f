"""Voice activity: where the speech is in 16 kHz mono PCM, with webrtcvad (WebRTC's GMM VAD).

The classifier judges 30 ms frames one at a time, and a single frame's verdict is noisy: a
stop consonant or a breath between two words reads as silence. So frames go through a
hysteresis over a sliding window of ``window_frames`` (300 ms by default):

* speech **starts** when at least ``start_ratio`` of the window is voiced; the segment begins
  at the window's first voiced frame, less ``pad_ms`` (never before the previous segment's end);
* speech **ends** when at least ``end_ratio`` of the window is unvoiced, i.e. after roughly
  ``window * end_ratio`` of silence; the segment ends after its last voiced frame, plus
  ``pad_ms``. A dip shorter than that (a pause between words) does not split an utterance.
  webrtcvad itself holds its verdict ~100 ms past the speech, so by default a pause of about
  0.4 s ends an utterance, and 0.3 s with ``high_vad_sensitivity``.

``VoiceActivity`` is sans-I/O and incremental (feed bytes as they arrive, get start/end events),
so the WebSocket routes segment a live stream with the same rules the REST routes apply to a
whole file (``find_speech``). Its memory is bounded: one partial frame and the window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

import webrtcvad

__all__ = [
    "FRAME_BYTES",
    "FRAME_S",
    "Segment",
    "SpeechEnded",
    "SpeechStarted",
    "VadConfig",
    "VadEvent",
    "VoiceActivity",
    "find_speech",
]

_RATE: Final = 16_000
FRAME_S: Final = 0.03
_FRAME_SAMPLES: Final = int(_RATE * FRAME_S)
FRAME_BYTES: Final = _FRAME_SAMPLES * 2


@dataclass(frozen=True, slots=True)
class VadConfig:
    aggressiveness: int = 2  # webrtcvad mode 0..3: how readily a frame is called non-speech
    window_frames: int = 10  # the hysteresis window (10 frames of 30 ms)
    start_ratio: float = 0.6  # voiced share of the window that opens a segment
    end_ratio: float = 0.9  # unvoiced share of the window that closes one
    pad_ms: int = 60  # kept around the voiced frames, so word edges are not clipped

    @classmethod
    def for_sensitivity(cls, high: bool) -> VadConfig:
        """``high_vad_sensitivity``: stricter frames and a shorter window, so an utterance
        ends after ~180 ms of silence instead of ~270 ms."""
        return cls(aggressiveness=3, window_frames=6) if high else cls()


@dataclass(frozen=True, slots=True)
class Segment:
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    at_s: float  # the segment's start (padded), seconds from the stream's beginning


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    segment: Segment


VadEvent = SpeechStarted | SpeechEnded


class VoiceActivity:
    """Incremental segmentation of one stream. Call :meth:`feed` with PCM as it arrives (any
    length, odd byte counts included), then :meth:`finish` once at the end of the stream."""

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._vad = webrtcvad.Vad(self.config.aggressiveness)
        self._pending = b""  # less than one frame
        self._frames = 0  # frames judged so far
        self._window: deque[tuple[int, bool]] = deque(maxlen=self.config.window_frames)
        self._start_frame: int | None = None  # set while in speech
        self._last_voiced = 0  # index of the last voiced frame of the current segment
        self._floor_s = 0.0  # a new segment never starts before the previous one ended

    @property
    def in_speech(self) -> bool:
        return self._start_frame is not None

    @property
    def position_s(self) -> float:
        """Seconds of audio judged so far."""
        return self._frames * FRAME_S

    def feed(self, pcm: bytes) -> list[VadEvent]:
        data = self._pending + pcm
        whole = len(data) - len(data) % FRAME_BYTES
        self._pending = data[whole:]
        events: list[VadEvent] = []
        for offset in range(0, whole, FRAME_BYTES):
            event = self._judge(data[offset : offset + FRAME_BYTES])
            if event is not None:
                events.append(event)
        return events

    def finish(self) -> list[VadEvent]:
        """End of stream: close an open segment at the last voiced frame."""
        self._pending = b""
        if self._start_frame is None:
            return []
        return [self._close()]

    def _judge(self, frame: bytes) -> VadEvent | None:
        index = self._frames
        self._frames += 1
        voiced = self._vad.is_speech(frame, _RATE)
        self._window.append((index, voiced))
        size = self.config.window_frames
        if self._start_frame is None:
            voiced_frames = [i for i, v in self._window if v]
            if len(voiced_frames) >= self.config.start_ratio * size:
                self._start_frame = voiced_frames[0]
                self._last_voiced = index
                return SpeechStarted(round(self._padded_start(), 3))
            return None
        if voiced:
            self._last_voiced = index
        unvoiced = sum(1 for _, v in self._window if not v)
        if len(self._window) == size and unvoiced >= self.config.end_ratio * size:
            return self._close()
        return None

    def _padded_start(self) -> float:
        assert self._start_frame is not None
        return max(self._floor_s, self._start_frame * FRAME_S - self.config.pad_ms / 1000)

    def _close(self) -> SpeechEnded:
        start = self._padded_start()
        end = min(self.position_s, (self._last_voiced + 1) * FRAME_S + self.config.pad_ms / 1000)
        self._start_frame = None
        self._window.clear()
        self._floor_s = end
        return SpeechEnded(Segment(round(start, 3), round(end, 3)))


def find_speech(pcm: bytes, config: VadConfig | None = None) -> list[Segment]:
    """The speech segments of a whole recording (16 kHz mono s16le), in order."""
    activity = VoiceActivity(config)
    events = activity.feed(pcm) + activity.finish()
    return [event.segment for event in events if isinstance(event, SpeechEnded)]
