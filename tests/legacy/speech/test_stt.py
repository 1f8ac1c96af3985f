"""Fitting VAD segments to the recognition model's context."""

from __future__ import annotations

import numpy as np

from legacy.speech.stt import fit_to_context
from legacy.speech.vad import Segment


def test_short_segments_pass_unchanged() -> None:
    segments = [Segment(0.5, 3.0), Segment(4.0, 9.5)]
    assert fit_to_context(b"\0\0" * 16000 * 10, segments, 20.0) == segments


def test_a_long_segment_is_cut_at_its_quietest_point_within_the_limit() -> None:
    rng = np.random.default_rng(1)
    loud = rng.normal(0, 3000, 16000 * 25)
    loud[int(16000 * 7.2) : int(16000 * 7.5)] = 0  # the one quiet spot, 7.2 s in
    pcm = loud.astype("<i2").tobytes()
    pieces = fit_to_context(pcm, [Segment(0.0, 25.0)], 10.0)
    assert pieces[0] == Segment(0.0, pieces[0].end_s)
    assert 7.2 <= pieces[0].end_s <= 7.5
    assert all(p.duration_s <= 10.0 for p in pieces)
    assert [p.end_s for p in pieces[:-1]] == [p.start_s for p in pieces[1:]]  # contiguous
    assert pieces[-1].end_s == 25.0
