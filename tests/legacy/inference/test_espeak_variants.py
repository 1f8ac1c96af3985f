"""Voice variants ("hi+f2", how speakers sound) are deterministic from a process's first call.

A module of its own: the check needs an engine that has synthesized nothing yet, and only one
engine may be open in a process at a time (libespeak-ng is process-global state).
"""

from __future__ import annotations

import numpy as np

from legacy.inference.espeak import EspeakEngine

TEXT = "नमस्ते, आप कैसे हैं? मैं ठीक हूँ।"


def test_a_variant_sounds_the_same_on_the_engines_first_synthesis() -> None:
    engine = EspeakEngine()  # listing its voices selected every one of them
    try:
        first = engine.synthesize(TEXT, voice="hi+f2")
        engine.synthesize(TEXT, voice="hi+m5")
        again = engine.synthesize(TEXT, voice="hi+f2")
        plain = engine.synthesize(TEXT, voice="hi")
    finally:
        engine.close()
    assert first.pcm == again.pcm
    assert first.pcm != plain.pcm
    assert np.frombuffer(first.pcm, dtype="<i2").std() > 500  # speech
