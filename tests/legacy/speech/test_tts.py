"""Chunked synthesis against a fake inference server (an injected httpx transport)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from legacy.speech.tts import InferenceFailed, SpeechRequest, speak_chunks, synthesize


class FakeModel:
    """Answers /v1/tts with one sample per character after a delay that shrinks along the
    text, so later chunks finish first; records the calls in flight."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.started: list[str] = []
        self.voices: set[tuple[str, int, int]] = set()
        self.fail_on: str | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.started.append(body["text"])
        self.voices.add((body["voice"], body["pitch"], body["rate_wpm"]))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.02 / len(self.started))
        finally:
            self.in_flight -= 1
        if body["text"] == self.fail_on:
            return httpx.Response(500)
        pcm = b"".join(ord(c).to_bytes(2, "little") for c in body["text"])
        return httpx.Response(200, content=pcm, headers={"x-sample-rate": "1000"})


def client_for(model: FakeModel) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(model))


TEXT = "One. Two. Three. Four. Five. Six."


@pytest.mark.anyio
async def test_chunks_come_in_text_order_with_the_window_bounded() -> None:
    model = FakeModel()
    async with client_for(model) as client:
        spoken = speak_chunks(
            client, "http://model", SpeechRequest(TEXT, "en-IN"), max_chars=6, concurrency=2
        )
        texts = []
        async for chunk in spoken:
            texts.append(chunk.text)
            await asyncio.sleep(0.01)  # a slow consumer
            assert len(model.started) <= len(texts) + 2  # never more than the window ahead
    assert texts == ["One.", "Two.", "Three.", "Four.", "Five.", "Six."]
    assert model.most_in_flight == 2


@pytest.mark.anyio
async def test_closing_early_cancels_what_is_in_flight() -> None:
    model = FakeModel()
    async with client_for(model) as client:
        spoken = speak_chunks(
            client, "http://model", SpeechRequest(TEXT, "en-IN"), max_chars=6, concurrency=3
        )
        assert (await anext(spoken)).text == "One."
        await spoken.aclose()
        await asyncio.sleep(0.05)
    # At most the first and the three-chunk window ever started; none is left running.
    assert model.started[:3] == ["One.", "Two.", "Three."]
    assert "Five." not in model.started
    assert "Six." not in model.started
    assert model.in_flight == 0


@pytest.mark.anyio
async def test_whole_text_is_joined_with_pauses_and_the_speaker_sets_pitch_and_rate() -> None:
    model = FakeModel()
    async with client_for(model) as client:
        request = SpeechRequest("Ab. Cd.", "hi-IN", pace=2.0, pitch=-0.75, speaker="anushka")
        pcm, rate = await synthesize(client, "http://model", request, max_chars=3)
    assert rate == 1000
    pause = b"\x00\x00" * 120
    assert pcm == "Ab.".encode("utf-16-le") + pause + "Cd.".encode("utf-16-le")
    # anushka: pitch 72, tempo 1.04; pitch -0.75 shifts by -25; pace 2 doubles 175 * 1.04.
    assert model.voices == {("hi", 47, 364)}


@pytest.mark.anyio
async def test_a_refused_chunk_is_an_inference_failure() -> None:
    model = FakeModel()
    model.fail_on = "Three."
    async with client_for(model) as client:
        with pytest.raises(InferenceFailed, match="refused a chunk"):
            await synthesize(client, "http://model", SpeechRequest(TEXT, "en-IN"), max_chars=6)
