"""A live audio stream cut into utterances as it arrives (sans-I/O; the WebSocket routes drive it).

Feed 16 kHz mono PCM in any pieces; get the VAD's start/end events and, when an utterance
ends, the utterance itself (its PCM and where it lies in the stream), ready to recognize.
``flush()`` hands over the speech so far without waiting for the silence that would end it.

Memory is bounded whatever the client sends: outside speech only the last ``keep_s`` of audio
is kept (for the VAD's look-back padding), and an utterance that reaches ``max_utterance_s``
(the recognition model's context) is handed over at that point and continues as a new piece.
"""

from __future__ import annotations

from dataclasses import dataclass

from legacy.speech.vad import SpeechEnded, SpeechStarted, VadConfig, VoiceActivity

__all__ = ["StreamEvent", "Utterance", "UtteranceStream"]

_RATE = 16_000


@dataclass(frozen=True, slots=True)
class Utterance:
    pcm: bytes
    start_s: float  # seconds from the start of the stream
    end_s: float


StreamEvent = SpeechStarted | SpeechEnded | Utterance


class UtteranceStream:
    def __init__(
        self, config: VadConfig | None = None, *, max_utterance_s: float = 20.0,
        keep_s: float = 1.0,
    ) -> None:  # fmt: skip
        self._vad = VoiceActivity(config)
        self._max_samples = int(max_utterance_s * _RATE)
        self._keep_samples = int(keep_s * _RATE)
        self._buffer = bytearray()
        self._buffer_start = 0  # stream sample index of _buffer[0]
        self._received = 0  # samples fed so far
        self._speech_from: int | None = None  # sample where the open utterance starts
        self._taken_until = 0  # audio before this sample has been handed over

    @property
    def buffered_bytes(self) -> int:
        return len(self._buffer)

    @property
    def received_s(self) -> float:
        return self._received / _RATE

    def feed(self, pcm: bytes) -> list[StreamEvent]:
        pcm = pcm[: len(pcm) - len(pcm) % 2]
        self._buffer += pcm
        self._received += len(pcm) // 2
        out: list[StreamEvent] = []
        for event in self._vad.feed(pcm):
            out.append(event)
            if isinstance(event, SpeechStarted):
                self._speech_from = max(self._taken_until, round(event.at_s * _RATE))
            else:
                end = round(event.segment.end_s * _RATE)
                out += self._take(self._speech_from, end)
                self._speech_from = None
        while (
            self._speech_from is not None
            and self._received - self._speech_from >= self._max_samples
        ):
            cut = self._speech_from + self._max_samples  # the model's context is full
            out += self._take(self._speech_from, cut)
            self._speech_from = cut
        self._trim()
        return out

    def flush(self) -> list[StreamEvent]:
        """The open utterance so far, if there is one; the utterance goes on as a new piece."""
        if self._speech_from is None:
            return []
        out = self._take(self._speech_from, self._received)
        self._speech_from = self._received
        return out

    def finish(self) -> list[StreamEvent]:
        """End of stream: close the open utterance."""
        out: list[StreamEvent] = []
        for event in self._vad.finish():
            out.append(event)
            if isinstance(event, SpeechEnded) and self._speech_from is not None:
                out += self._take(self._speech_from, self._received)
        self._speech_from = None
        return out

    def _take(self, start: int | None, end: int) -> list[StreamEvent]:
        start = max(start if start is not None else end, self._taken_until, self._buffer_start)
        if end <= start:
            return []
        a, b = (start - self._buffer_start) * 2, (end - self._buffer_start) * 2
        self._taken_until = end
        return [Utterance(bytes(self._buffer[a:b]), start / _RATE, end / _RATE)]

    def _trim(self) -> None:
        keep_from = self._received - self._keep_samples
        if self._speech_from is not None:
            keep_from = min(keep_from, self._speech_from)
        drop = max(0, keep_from - self._buffer_start) * 2
        if drop:
            del self._buffer[:drop]
            self._buffer_start += drop // 2
