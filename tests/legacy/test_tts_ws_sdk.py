"""/text-to-speech/ws with sarvamai's sync streaming client: legacy direct, through the proxy,
and the Go candidate (``ported_base_url``, ``side_url``)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from decimal import Decimal

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from legacy.speech.chunking import split_text
from tests.legacy.audio_checks import decode

# sarvamai 0.1.39 uses names websockets 17 deprecated (websockets.legacy, InvalidStatusCode,
# WebSocketClientProtocol) on every connect.
pytestmark = pytest.mark.filterwarnings("ignore:websockets.* is deprecated:DeprecationWarning")

HINDI = "नमस्ते, आप कैसे हैं? मैं ठीक हूँ। आज मौसम बहुत अच्छा है।"


def read_until_final(ws) -> list:
    messages = []
    for message in ws:
        messages.append(message)
        if message.type == "event":
            return messages
    raise AssertionError(f"the session ended before the final event: {messages}")


def test_text_flush_and_final_event_with_the_sdk(client, ported_base_url: str, platform) -> None:
    key = platform.make_tenant()
    sdk = client(ported_base_url, key)
    before = len(platform.ledger_rows("text-to-speech-ws"))
    with sdk.text_to_speech_streaming.connect(send_completion_event=True) as ws:
        ws.configure(target_language_code="hi-IN", speaker="anushka")
        ws.ping()  # no reply: the next message must be audio
        ws.convert(HINDI)
        ws.flush()
        messages = read_until_final(ws)
    audio = [m for m in messages if m.type == "audio"]
    assert audio
    assert [m.type for m in messages] == ["audio"] * len(audio) + ["event"]
    assert messages[-1].data.event_type == "final"
    for message in audio:
        assert message.data.content_type == "audio/mpeg"
        decoded = decode(base64.b64decode(message.data.audio))
        assert (decoded.codec, decoded.sample_rate, decoded.channels) == ("mp3", 22050, 1)
        assert decoded.rms > 300
    rows = wait_for_rows(platform, "text-to-speech-ws", before + 1)[before:]
    assert rows == [("characters", Decimal(len(HINDI.strip())))]


def test_buffering_chunking_and_a_config_change_mid_session(
    client, side_url: str, platform
) -> None:
    sdk = client(side_url, platform.make_tenant())
    sentence = "This sentence is part of a story. "
    with sdk.text_to_speech_streaming.connect(
        model="bulbul:v3", send_completion_event="true"
    ) as ws:
        ws.configure(
            target_language_code="en-IN", speaker="ritu", output_audio_codec="wav",
            speech_sample_rate=16000, min_buffer_size=100, max_chunk_length=80,
        )  # fmt: skip
        ws.convert(sentence)  # 34 characters: below min_buffer_size, stays buffered
        ws.convert(sentence * 3)  # 136 in the buffer: synthesized as two chunks ≤ 80
        first = [ws.recv(), ws.recv()]
        assert [m.type for m in first] == ["audio", "audio"]
        # A new config flushes what is buffered under the old one, then applies.
        ws.convert("Still the old voice.")
        ws.configure(target_language_code="en-IN", speaker="ritu", output_audio_codec="flac",
                     speech_sample_rate=24000)  # fmt: skip
        old = ws.recv()
        ws.convert("Now the new one.")
        ws.flush()
        rest = read_until_final(ws)
    assert [decode(base64.b64decode(m.data.audio)).codec for m in [*first, old]] == [
        "pcm_s16le", "pcm_s16le", "pcm_s16le",
    ]  # fmt: skip
    new = decode(base64.b64decode(rest[0].data.audio))
    assert (new.codec, new.sample_rate) == ("flac", 24000)
    assert rest[0].data.content_type == "audio/flac"


def test_protocol_mistakes_get_error_messages_and_the_session_goes_on(
    client, side_url: str, platform
) -> None:
    sdk = client(side_url, platform.make_tenant())
    with sdk.text_to_speech_streaming.connect(model="bulbul:v2") as ws:
        ws.convert("Too early.")
        early = ws.recv()
        assert early.type == "error"
        assert "the first message must be a config message" in early.data.message
        ws.configure(target_language_code="hi-IN", speaker="shubh")  # a v3 voice on bulbul:v2
        wrong = ws.recv()
        assert wrong.type == "error"
        assert "speaker 'shubh' is a bulbul:v3 voice, not a bulbul:v2 one" in wrong.data.message
        ws._send({"type": "dance"})
        assert "unknown message type 'dance'" in ws.recv().data.message
        ws.configure(target_language_code="hi-IN")
        ws.convert("ठीक है")
        ws.flush()
        assert ws.recv().type == "audio"


def test_a_long_chunk_is_split_so_every_frame_stays_under_1_mib(side_url: str, platform) -> None:
    key = platform.make_tenant()
    text = ("A long sentence without any stop that goes on and on " * 9).strip()  # 485 chars

    async def session() -> list[str]:
        url = side_url.replace("http", "ws") + "/text-to-speech/ws?send_completion_event=true"
        frames = []
        async with connect(url, additional_headers={"api-subscription-key": key},
                           max_size=2**20) as ws:  # fmt: skip
            await ws.send(json.dumps({"type": "config", "data": {
                "language_code": "en-IN", "output_audio_codec": "wav",
                "speech_sample_rate": 24000, "max_chunk_length": 500, "pace": 0.5}}))  # fmt: skip
            await ws.send(json.dumps({"type": "text", "data": {"text": text}}))
            await ws.send(json.dumps({"type": "flush"}))
            while json.loads(frame := await asyncio.wait_for(ws.recv(), 30))["type"] == "audio":
                frames.append(frame)
        return frames

    frames = asyncio.run(session())
    assert len(frames) > 2
    assert all(len(frame) < 2**20 for frame in frames)
    pieces = [decode(base64.b64decode(json.loads(f)["data"]["audio"])) for f in frames]
    assert all(p.codec == "pcm_s16le" and p.duration_s <= 10 for p in pieces)


def test_a_bad_key_is_refused_at_the_handshake(client, ported_base_url: str, platform) -> None:
    # sdk-contract §4.13: the sync client surfaces websockets' InvalidStatus; assert the status.
    bad_key = client(ported_base_url, "not-a-key").text_to_speech_streaming
    with pytest.raises(InvalidStatus) as refused, bad_key.connect():
        pass
    assert refused.value.response.status_code == 401
    error = json.loads(refused.value.response.body)["error"]
    assert error["code"] == "invalid_api_key_error"
    sdk = client(ported_base_url, platform.make_tenant()).text_to_speech_streaming
    with pytest.raises(InvalidStatus) as bad_query, sdk.connect(model="bulbul:v9"):
        pass
    assert bad_query.value.response.status_code == 422
    assert "model" in json.loads(bad_query.value.response.body)["error"]["message"]


def test_a_client_that_stops_reading_stops_synthesis(side_url: str, platform) -> None:
    """Back pressure: a client that reads nothing gets the server to stop synthesizing: the
    session's hold, which grows with the characters sent, stops growing."""
    key = platform.make_tenant()
    sentence = "A sentence that the client will never read back in time. "  # 58 characters

    async def stall() -> tuple[Decimal, Decimal]:
        url = side_url.replace("http", "ws") + "/text-to-speech/ws"
        async with connect(url, additional_headers={"api-subscription-key": key},
                           max_queue=1, max_size=2**22, close_timeout=1) as ws:  # fmt: skip
            await ws.send(json.dumps({"type": "config", "data": {
                "language_code": "en-IN", "output_audio_codec": "wav",
                "speech_sample_rate": 24000, "min_buffer_size": 1000,
                "max_chunk_length": 500}}))  # fmt: skip
            for _ in range(60):  # 60 x 2494 characters: hours of audio if it all ran
                await ws.send(json.dumps({"type": "text", "data": {"text": sentence * 43}}))
            await asyncio.sleep(4)  # read nothing
            first = await held(platform, key)
            await asyncio.sleep(2)
            return first, await held(platform, key)

    first, later = asyncio.run(stall())
    assert later == first  # synthesis has stopped
    # The window and what the socket buffers hold (~10 chunks of 500), not the 149,640 sent:
    # unbounded, eSpeak would have spoken some 40,000 characters in these 6 seconds.
    assert 0 < first <= Decimal("0.003") * 10_000


async def held(platform, key: str) -> Decimal:
    import asyncpg

    from legacy.commerce.keys import key_hash

    conn = await asyncpg.connect(platform.database_url)
    try:
        return await conn.fetchval(
            "SELECT w.reserved FROM legacy.wallets w JOIN legacy.api_keys k"
            " ON k.tenant_id = w.tenant_id WHERE k.key_hash = $1", key_hash(key),
        )  # fmt: skip
    finally:
        await conn.close()


def wait_for_rows(platform, route: str, count: int) -> list[tuple[str, object]]:
    deadline = time.monotonic() + 10
    while len(rows := platform.ledger_rows(route)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return rows


def test_a_wallet_that_runs_out_ends_the_session_with_402(client, side_url: str, platform) -> None:
    sdk = client(side_url, platform.make_tenant(credits="0.9"))  # 300 characters
    before = len(platform.ledger_rows("text-to-speech-ws"))
    text = "Words that cost money, one sentence after another. " * 10
    with sdk.text_to_speech_streaming.connect() as ws:
        ws.configure(target_language_code="en-IN", max_chunk_length=200, min_buffer_size=1000)
        ws.convert(text)
        ws.flush()
        messages: list = []
        with pytest.raises(ConnectionClosedError) as closed:
            messages.extend(ws)
    assert closed.value.rcvd.code == 1008
    assert [m.type for m in messages] == ["audio", "error"]
    assert messages[-1].data.code == 402
    # The first chunk (three sentences) was sent and is billed; the second could not be paid.
    first_chunk = len(split_text(text, 200)[0])
    rows = wait_for_rows(platform, "text-to-speech-ws", before + 1)[before:]
    assert rows == [("characters", Decimal(first_chunk))]
