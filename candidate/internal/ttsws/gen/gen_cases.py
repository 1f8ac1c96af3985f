"""Write ../testdata/*_cases.json (config_cases gzipped): legacy/tts_ws_api.py's answers,
for the Go tests to replay.

    .venv/bin/python candidate/internal/ttsws/gen/gen_cases.py

Every expected value comes from running legacy's own code on a corpus written here:

* ``config_cases.json``: the ``data`` of a config message (as the JSON text a client sends)
  through ``TtsConfig.model_validate`` and ``_describe``: the validated fields, or the error
  message the session sends (``config message: …``). Each field meets values of every JSON
  kind and the strings pydantic coerces (numbers, booleans), so Go's coercions match.
* ``text_cases.json``: the ``data`` of a text message through ``_Text``.
* ``frame_cases.json``: whole client frames through ``_Conversation._handle``, before and
  after a config: the error message and code, or none (accepted).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from pydantic import ValidationError  # noqa: E402

from legacy.speech.options import resolve_options  # noqa: E402
from legacy.tts_ws_api import (  # noqa: E402
    TtsConfig,
    TtsWsQuery,
    _Conversation,
    _describe,
    _ProtocolError,
    _Text,
    _Voice,
)

OUT = HERE.parent / "testdata"
GZIPPED = frozenset({"config_cases.json"})

# Values of every JSON kind and the strings pydantic coerces, tried in every config field.
VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2, 50, 1000, 1001, 20, 19, 500, 501, 22050, 50.0, 50.5, 0.5,
    -0.75, -0.76, 0.75, 0.751, 0.3, 0.29, 3.0, 3.01, 0.01, 0.009, 1.0, 0.0, -0.0, 1e-7, 1e300,
    10**30, -(10**30), "", " ", "50", " 50 ", "\t50\n", "50.0", "50.", "50.00", "-0.0", "+5",
    "1_000", "1__000", "_1", "1_", "5e1", "0x10", "0.5", " 0.5", ".5", "5.", "1e-1", "1E2", "inf",
    "-inf", "Infinity", "nan", "NaN", "infinity", "+inf", "abc", "true", "True", "yes", "on", "1",
    "0", "off", "f", "y", "no", "  true  ", "mp3", "MP3", "wav", "opus", "128k", "32k", "hi-IN",
    "bulbul:v2", "bulbul:v4-flash", "anushka", "x" * 64, "x" * 65, "x" * 128, "x" * 129,
    "अ" * 64, "अ" * 65, "😀" * 64, "😀" * 65, "\u0665\u0660", "\uff15\uff10", "1\u00a0", [], [1],
    {}, {"a": 1},
]  # fmt: skip
FIELDS = list(TtsConfig.model_fields)
RAW_VALUES = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", '"\\ud800"', '"a\\udfffb"',
              "123456789012345678901234567890.0", "1" * 25, "-0"]  # fmt: skip


def config_texts() -> list[str]:
    texts = ["{}", '{"language_code": "hi-IN"}', "null"]
    for field in FIELDS:
        for value in VALUES:
            data = {"language_code": "hi-IN", field: value}
            texts.append(json.dumps(data, ensure_ascii=False))
        for raw in RAW_VALUES:
            texts.append(f'{{"language_code": "hi-IN", "{field}": {raw}}}')
    texts += [
        '{"language_code": "xx", "pitch": 9, "pace": "fast", "speaker": 1, "min_buffer_size": 0,'
        ' "max_chunk_length": 1000, "model": "v9", "temperature": 0, "dict_id": []}',
        '{"pitch": 1, "language_code": "hi-IN", "pitch": 0.5}',
        '{"language_code": "hi-IN", "extra": "ignored", "Speaker": 5}',
        '{"language_code": "en-IN", "speaker": null, "pitch": null, "pace": null, '
        '"loudness": null, "speech_sample_rate": null, "enable_preprocessing": null, '
        '"output_audio_codec": null, "output_audio_bitrate": null, "dict_id": null, '
        '"model": null, "temperature": null}',
        '{"language_code": "en-IN", "min_buffer_size": null, "max_chunk_length": null}',
    ]
    return texts


def config_case(text: str) -> dict[str, Any]:
    data = json.loads(text)
    try:
        config = TtsConfig.model_validate(data or {})
    except ValidationError as exc:
        return {"data": text, "error": f"config message: {_describe(exc)}"}
    return {"data": text, "config": config.model_dump(mode="json")}


TEXTS: list[str] = [
    "{}", "null", '{"text": "hello"}', '{"text": ""}', '{"text": " "}', '{"text": 5}',
    '{"text": null}', '{"text": ["a"]}', '{"text": true}', '{"text": "\\ud800"}',
    json.dumps({"text": "a" * 2500}), json.dumps({"text": "a" * 2501}),
    json.dumps({"text": "अ" * 2500}, ensure_ascii=False), json.dumps({"text": "😀" * 2501}),
    '{"Text": "x"}', '{"text": "x", "extra": 1}',
]  # fmt: skip


def text_case(text: str) -> dict[str, Any]:
    try:
        return {"data": text, "text": _Text.model_validate(json.loads(text) or {}).text}
    except ValidationError as exc:
        return {"data": text, "error": f"text message: {_describe(exc)}"}


FRAMES: list[str | bytes] = [
    b"\x00\x01", b"", "", " ", "not json", "[]", '"config"', "5", "null", "{}", '{"type": 5}',
    '{"type": null}', '{"type": "ping"}', '{"type": "ping", "data": 5}',
    '{"type": "ping", "data": []}', '{"type": "ping", "data": null}', '{"type": "dance"}',
    '{"type": "Ping"}', '{"type": ""}', '{"type": "it\'s"}', '{"type": "say \\"hi\\""}',
    '{"type": "both\'\\""}', '{"type": "tab\\there"}', '{"type": "नमस्ते"}',
    '{"type": "\\u0000\\u007f\\u0085\\u00a0\\u00ad\\u2028"}', '{"type": "\\ud800"}',
    '{"type": "emoji 😀"}', '{"type": "back\\\\slash"}', '{"type": "text"}', '{"type": "flush"}',
    '{"type": "text", "data": {"text": "hi"}}', '{"type": "text", "data": {"text": ""}}',
    '{"type": "text", "data": {}}', '{"type": "text", "data": null}',
    '{"type": "text", "data": "hi"}', '{"type": "flush", "data": {"x": 1}}',
    '{"type": "config", "data": {}}', '{"type": "config", "data": {"language_code": "xx-IN"}}',
    '{"type": "config", "data": 5}', '{"type": "config"}', '{"data": {}}',
    '{"type": "text", "data": {"text": "hi"}, "extra": 1}',
    '\ufeff{"type": "ping"}', '{"type": "ping"} ', ' {"type": "ping"}', '{"type": "ping"}x',
    '{"type": "ping", "type": "dance"}', '{"type": "ping",}', "{'type': 'ping'}", "NaN",
    '{"type": "ping", "data": {"a": NaN}}', '{"type": "text", "data": {"text": "hi"}}\n',
    "[" * 50 + "]" * 50, '{"type": "config", "data": {"language_code": "hi-IN", "pitch": "x"}}',
]  # fmt: skip


async def frame_case(frame: str | bytes, configured: bool) -> dict[str, Any]:
    sent: list[str] = []

    async def send_text(text: str) -> None:
        sent.append(text)

    websocket = SimpleNamespace(send_text=send_text)
    session = SimpleNamespace(request_id="rid-frame")
    conversation = _Conversation(websocket, session, TtsWsQuery(), None, "")  # type: ignore[arg-type]
    if configured:
        options = resolve_options(surface="ws")
        conversation.voice = _Voice("hi-IN", options, 1000, 150)
    case: dict[str, Any] = {"configured": configured}
    if isinstance(frame, bytes):
        case["binary"] = frame.hex()
    else:
        case["text"] = frame
    try:
        await conversation._handle(None if isinstance(frame, bytes) else frame)
    except _ProtocolError as exc:
        case["error"], case["code"] = str(exc), exc.code
    case["queued"] = conversation.jobs.qsize()
    case["buffer"] = conversation.buffer
    return case


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    tables: dict[str, list[Any]] = {
        "config_cases.json": [config_case(t) for t in config_texts()],
        "text_cases.json": [text_case(t) for t in TEXTS],
        "frame_cases.json": [await frame_case(f, c) for c in (False, True) for f in FRAMES],
    }
    for name, cases in tables.items():
        text = json.dumps(cases, ensure_ascii=False, indent=1)
        data = (text + "\n").encode("utf-8", errors="surrogatepass")
        if name in GZIPPED:  # the big tables: committed gzipped (casefile.Read)
            (OUT / (name + ".gz")).write_bytes(gzip.compress(data, 9, mtime=0))
        else:
            (OUT / name).write_bytes(data)
        print(f"{name}: {len(cases)} cases")


if __name__ == "__main__":
    asyncio.run(main())
