"""Speech synthesis with eSpeak NG, loaded through ctypes (the classic ``speak_lib.h`` API).

The platform's text-to-speech model is a real engine, not a fixture: formant synthesis of
any language eSpeak NG has a voice for, deterministic for identical input (text, voice, rate,
pitch). Determinism needs care, because libespeak-ng keeps state that ``espeak_Terminate``
and ``espeak_Initialize`` never reset (the pitch-flutter phase is a function-local static in
``wavegen.c``'s ``AdvanceParameters``), so the same text sounds slightly different depending
on what was spoken before. Each synthesis therefore runs on a freshly loaded library: after
a synthesis the library is terminated and unloaded (``dlclose``), and the next one loads it
again, which costs about 3 ms. That only works while this engine is the library's sole user
in the process, hence one engine per process.

Deliberately not here: audio encoding (WAV, MP3 …) and resampling, done by other modules on
the returned PCM; threads of its own (synchronous output mode, so the callback runs on the
caller's thread); SSML and phoneme input.

Errors: ``ValueError`` for bad arguments (empty text, out-of-range rate or pitch);
``EspeakError`` for everything the library refuses (missing library or data, unknown voice,
a failed synthesis, a closed engine).
"""

from __future__ import annotations

import _ctypes
import ctypes
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import espeakng_loader  # type: ignore[import-untyped]

__all__ = ["EspeakEngine", "EspeakError", "Synthesis"]

# speak_lib.h (ESPEAK_API_REVISION 12) — espeak_AUDIO_OUTPUT: PLAYBACK=0, RETRIEVAL=1,
# SYNCHRONOUS=2, SYNCH_PLAYBACK=3. Synchronous: espeak_Synth returns once every sample has
# gone through the callback, on the calling thread.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
# Without it a missing data directory makes espeak_Initialize call exit(1).
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1  # espeak_POSITION_TYPE
_CHARS_UTF8 = 1  # espeak_Synth flags
_ESPEAK_RATE = 1  # espeak_PARAMETER
_ESPEAK_PITCH = 3
_EE_OK = 0  # espeak_ERROR: EE_INTERNAL_ERROR=-1, EE_BUFFER_FULL=1, EE_NOT_FOUND=2
_RATE_WPM_RANGE = range(80, 451)  # espeakRATE_MINIMUM .. espeakRATE_MAXIMUM
_PITCH_RANGE = range(0, 101)

# int (*t_espeak_callback)(short *wav, int numsamples, espeak_EVENT *events); 0 = continue.
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class EspeakError(Exception):
    """libespeak-ng could not be loaded, or refused a voice or a synthesis."""


@dataclass(frozen=True, slots=True)
class Synthesis:
    pcm: bytes  # signed 16-bit little-endian mono samples
    sample_rate: int  # as eSpeak NG produces it: 22050 Hz

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


class _Voice(ctypes.Structure):
    # espeak_VOICE; `languages` is (priority byte, NUL-terminated name)*, then a NUL.
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class _Library:
    """One dlopen of libespeak-ng, initialised for synchronous retrieval into `callback`."""

    def __init__(self, library_path: str, espeak_home: str, callback: Callable[..., int]) -> None:
        try:
            self.cdll = ctypes.CDLL(library_path)
        except OSError as exc:
            raise EspeakError(f"cannot load libespeak-ng from {library_path}: {exc}") from exc
        lib = self.cdll
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        # Returns the sample rate; 0 or -1 (EE_INTERNAL_ERROR) when the data is unusable.
        self.sample_rate: int = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeak_home.encode(), _INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            self.unload()
            raise EspeakError(f"espeak_Initialize failed with data under {espeak_home}")
        lib.espeak_SetSynthCallback(callback)

    def languages(self) -> set[str]:
        """The languages of the installed voices that espeak_SetVoiceByName accepts."""
        found: set[str] = set()
        voices = self.cdll.espeak_ListVoices(None)
        for i in range(10_000):  # NULL-terminated; the bound only guards a corrupt list
            if not voices[i]:
                break
            address: int | None = voices[i].contents.languages
            while address and ctypes.string_at(address, 1) != b"\0":  # priority byte
                name = ctypes.string_at(address + 1)
                found.add(name.decode())
                address += 2 + len(name)
        # Some secondary languages of a voice ("en-gb", "zh") are not names it answers to.
        return {name for name in found if self.cdll.espeak_SetVoiceByName(name.encode()) == _EE_OK}

    def unload(self) -> None:
        """Terminate and dlclose, so the next load starts from the library's initial state."""
        self.cdll.espeak_Terminate()
        _ctypes.dlclose(self.cdll._handle)


class EspeakEngine:
    """One loaded libespeak-ng. The library keeps global state and is not thread-safe: one
    engine per process, every call serialised by a lock (the inference server runs
    synthesis in a worker thread through this lock).

    The owner calls :meth:`close` (idempotent) at shutdown; a closed engine raises
    ``EspeakError``. Paths default to the ``espeakng-loader`` package's library and data.
    """

    def __init__(self, library_path: str | None = None, data_path: str | None = None) -> None:
        self._library_path = library_path or str(espeakng_loader.get_library_path())
        data = Path(data_path or espeakng_loader.get_data_path())
        if not (data / "phontab").is_file():
            raise EspeakError(f"no eSpeak NG data at {data} (expected an espeak-ng-data dir)")
        # espeak_Initialize wants the directory that contains espeak-ng-data.
        self._espeak_home = str(data.parent)
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        # Kept for the engine's lifetime: the library holds a raw pointer to it.
        self._callback = _SynthCallback(self._receive)
        self._library: _Library | None = self._load()
        self._voices = sorted(self._library.languages())
        # Listing the voices selected each of them, which leaves state behind (a voice
        # variant then sounds different on its first synthesis): reload before that one.
        self._is_fresh = False  # True when nothing was done since the library was loaded

    def voices(self) -> list[str]:
        """Language identifiers ``synthesize`` accepts as ``voice``, e.g. "en", "hi", "ta"."""
        return list(self._voices)

    def synthesize(
        self, text: str, *, voice: str = "en", rate_wpm: int = 175, pitch: int = 50
    ) -> Synthesis:
        """Speak `text` (UTF-8, plain text) with `voice`; blocks until all audio is produced.

        Identical arguments give identical bytes. A voice may be a language from
        :meth:`voices` or any name eSpeak NG resolves (e.g. "en-us", "en+f3").
        """
        if not text.strip() or "\0" in text:
            raise ValueError("text must be non-empty and contain no NUL characters")
        if rate_wpm not in _RATE_WPM_RANGE or pitch not in _PITCH_RANGE:
            raise ValueError(
                f"rate_wpm must be in 80..450 and pitch in 0..100, got {rate_wpm}, {pitch}"
            )
        if not voice or "\0" in voice:
            raise EspeakError(f"unknown eSpeak voice {voice!r}")
        with self._lock:
            lib = self._fresh_library().cdll
            if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
                raise EspeakError(f"unknown eSpeak voice {voice!r}")
            lib.espeak_SetParameter(_ESPEAK_RATE, rate_wpm, 0)
            lib.espeak_SetParameter(_ESPEAK_PITCH, pitch, 0)
            encoded = text.encode() + b"\0"
            self._chunks.clear()
            self._is_fresh = False
            try:
                status = lib.espeak_Synth(
                    encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
                )
                if status == _EE_OK:
                    status = lib.espeak_Synchronize()
                if status != _EE_OK:
                    raise EspeakError(f"espeak_Synth failed with espeak_ERROR {status}")
                pcm = b"".join(self._chunks)
            finally:
                self._chunks.clear()
            return Synthesis(pcm=pcm, sample_rate=self._sample_rate)

    def close(self) -> None:
        """espeak_Terminate and unload the library; idempotent."""
        with self._lock:
            if self._library is not None:
                self._library.unload()
                self._library = None

    def _load(self) -> _Library:
        library = _Library(self._library_path, self._espeak_home, self._callback)
        self._sample_rate = library.sample_rate
        return library

    def _fresh_library(self) -> _Library:
        # Called under the lock.
        if self._library is None:
            raise EspeakError("the eSpeak engine is closed")
        if not self._is_fresh:
            self._library.unload()
            self._library = None  # stays closed if the reload fails
            self._library = self._load()
            self._is_fresh = True
        return self._library

    def _receive(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int | None
    ) -> int:
        # Runs on the synthesising thread, inside espeak_Synth. NULL wav marks the end.
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0
