"""Write ../testdata/split_cases.json: legacy's split_text on a corpus, for the Go test to replay.

    .venv/bin/python candidate/internal/chunking/gen/gen_cases.py

Every expected value is computed by legacy/speech/chunking.py; only the corpus is written here:
sentence ends of each kind, whitespace of each kind Python counts (so Go's notion must match
str.isspace), sentences and words longer than the limit, limits down to 1, and the translation
route's own limit (500) on long text.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from legacy.speech.chunking import split_text  # noqa: E402

SENTENCES = " ".join(f"Sentence {n} is good." for n in range(100))
HINDI = "मेरा नाम राहुल है। मैं दिल्ली में रहता हूँ॥ आप कैसे हैं? ठीक है! "
CASES: list[tuple[str, str, int]] = [
    ("empty", "", 10),
    ("spaces-only", "   \n\t ", 10),
    ("fits", "Hello there.", 500),
    ("exact", "abcde", 5),
    ("two-sentences", "Hello there. How are you?", 12),
    ("pack", "A b. C d. E f. G h.", 9),
    ("all-ends", "One. Two! Three? Four। Five॥ Six", 6),
    ("end-no-space", "a.b.c. d", 3),
    ("double-end", "Wait.. what?! Yes", 6),
    ("space-before-end", "a . b", 2),
    ("long-sentence", "the quick brown fox jumps over the lazy dog", 10),
    ("long-word", "supercalifragilisticexpialidocious is long", 10),
    ("limit-1", "ab c. d", 1),
    ("limit-2", "ab cd. ef", 2),
    ("newlines", "Line one.\nLine two.\n\nLine three.", 12),
    ("unicode-space", "One.\u00a0Two.\u2003Three.\u3000Four.\u0085Five.", 6),
    ("separators", "One.\x1cTwo.\x1fThree. x\x1dy", 5),
    ("not-space", "One.\u200bTwo.\u180eThree.", 6),
    ("strip", "  \u2028 Hello. World \x1e ", 6),
    ("hindi", HINDI * 3, 30),
    ("hindi-long", HINDI * 20, 500),
    ("sentences-500", SENTENCES, 500),
    ("sentences-1900", SENTENCES[:1900].rsplit(" ", 1)[0], 500),
    ("emoji", "😀😀😀 😀. 😀😀", 3),
    ("mixed-long", ("word " * 120 + ". ") * 3, 500),
    ("no-ends-long", "a" * 1200, 500),
    ("tabs-between-words", "aaaa\tbbbb\tcccc. dd", 9),
]


def main() -> None:
    out: list[dict[str, Any]] = []
    for name, text, max_chars in CASES:
        out.append({"name": name, "text": text, "max_chars": max_chars,
                    "chunks": split_text(text, max_chars)})  # fmt: skip
    target = HERE.parent / "testdata" / "split_cases.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(out)} cases")


if __name__ == "__main__":
    main()
