"""Write ../testdata/decode_cases.json: what json.loads makes of many bodies, well-formed or not.

Each case is a body (base64) and legacy's outcome as FastAPI sees it: "object"/"array"/...
(the top-level kind), "syntax <pos>" (json.JSONDecodeError: FastAPI's 422
"body.<pos>: JSON decode error") or "undecodable" (any other exception: FastAPI's 400).
Hand-picked bodies plus seeded random mutations of valid ones (truncations, insertions,
deletions), so the Go decoder's error positions are checked against CPython's own scanner.

    .venv/bin/python candidate/internal/pyjson/gen/gen_cases.py
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

SEEDS = [
    '{"input": "नमस्ते दुनिया", "source_language_code": "auto", "target_language_code": "en-IN"}',
    '{"input":"a","spoken_form":true,"numerals_format":null,"x":[1,2.5e3,-0,{"y":false}]}',
    '[1, -2.5E+10, 3e-2, "\\u0041\\ud83d\\ude00\\n\\t\\"\\\\\\/", null, true, false, {}, []]',
    '  {"a" : {"b" : [ NaN , Infinity , -Infinity ] } }  ',
    '"just a string"',
    "123",
]
HAND = [
    b"",
    b" ",
    b"not json",
    b'{"input": "a",}',
    b'{"input": "a"} x',
    b"null",
    b"\xff\xfe",
    b'{"input": "\xff"}',
    b'{"input":NaN}',
    b'  {"input":"\\ud800"}',
    b'{"a":1,"a":2}',
    b'{"a" 1}',
    b'{"a":}',
    b"{,}",
    b"[1,]",
    b"[1 2]",
    b"[",
    b"{",
    b'{"a',
    b'"abc',
    b'"\\x"',
    b'"\\u12"',
    b'"\\u12345"',
    b'"\\u123"',
    b'"\\ud800\\u12"',
    b'"\\ud800\\udc00"',
    b'"\\ud800\\u0041"',
    b'"a\x01b"',
    b'"a\tb"',
    b"01",
    b"-",
    b"-a",
    b"1.",
    b"1.e5",
    b"1e",
    b"1e+",
    b"1e+5",
    b".5",
    b"+1",
    b"tru",
    b"nul",
    b"Infinit",
    b"-Infinity",
    b"NaNx",
    b"\xef\xbb\xbf{}",
    b"\xef\xbb\xbf",
    '{"a":"é"}'.encode("utf-16"),
    '{"a":"é"}'.encode("utf-16-le"),
    '{"a":"é"}'.encode("utf-16-be"),
    '{"a":"é"}'.encode("utf-32"),
    "[1]".encode("utf-32-le"),
    b"{\x00",
    b"\x00{",
    b"\xed\xa0\x80",
    b'"\xed\xa0\x80"',
    b'"\xed\xa0\x80\xed\xb0\x80"',
    b'"\xc0\xaf"',
    b'"\xf4\x90\x80\x80"',
    b"1" * 4300,
    b"1" * 4301,
    b"-" + b"1" * 4301,
    b"1" * 5000 + b".5",
    b"[" * 50 + b"]" * 50,
    b'{"a":[{"b":[{"c":[1,2,{"d":"e"}]}]}]}',
    b"\t\n\r {}\r\n",
    b"\x0b{}",
    b"{}\x0c",
    '{"a":"x\u2028y"}'.encode(),
    b'"\\/"',
    b'{"\\ud800":1}',
    b"[1e400, -1e400, 1E-400]",
    b"\xff\xfe\x00\x00[\x00\x00\x00]\x00\x00\x00",
    b"\xfe\xff\x00[\x00]",
    b"\xff\xfe[\x00]\x00\x00",
    b"\xfe\xff\x00",
]


def outcome(body: bytes) -> str:
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        return f"syntax {exc.pos}"
    except Exception:
        return "undecodable"
    return {dict: "object", list: "array", str: "string", bool: "bool", type(None): "null"}.get(
        type(value), "number"
    )


def mutations(rng: random.Random, text: str, n: int) -> list[bytes]:
    alphabet = [*list('{}[]":,\\ tfn0123456789.-eEuIN\n"ऀ'), "\\u", "\\ud83d", "null", "true"]
    out = []
    for _ in range(n):
        s = list(text)
        for _ in range(rng.randint(1, 3)):
            op = rng.random()
            pos = rng.randint(0, len(s))
            if op < 0.35 and s:
                del s[min(pos, len(s) - 1)]
            elif op < 0.7:
                s.insert(pos, rng.choice(alphabet))
            else:
                s = s[:pos]
        out.append("".join(s).encode("utf-8"))
    return out


def main() -> None:
    rng = random.Random(20240607)
    bodies = list(HAND) + [s.encode() for s in SEEDS]
    for seed in SEEDS:
        bodies += mutations(rng, seed, 120)
    cases = [{"body": base64.b64encode(b).decode(), "want": outcome(b)} for b in bodies]
    target = HERE.parent / "testdata" / "decode_cases.json"
    target.write_text(json.dumps(cases, indent=0) + "\n")
    print(f"wrote {target}: {len(cases)} cases")


if __name__ == "__main__":
    main()
