"""Write ../testdata/output_script_cases.json.gz: legacy's write_in and tokenize, for Go to replay.

    .venv/bin/python candidate/internal/text/gen/gen_output_cases.py

Every expected value is computed by legacy's Python (legacy/text/output_script.py and
tokens.py); only the corpus is written here. It has two parts: what the translation model
(legacy/inference/translation.py) really answers for everyday sentences into each core language,
in each mode, written every way /translate can be asked to; and edge texts the model can pass
through (words in scripts it does not convert, nukta letters, mixed-script words, apostrophes,
numbers with separators, Indic digits, combining marks), plus native digits in all 23
languages.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from legacy.inference.translation import TranslationRequest, translate  # noqa: E402
from legacy.text.output_script import write_in  # noqa: E402
from legacy.text.scripts import CORE_LANGUAGES, LANGUAGES  # noqa: E402
from legacy.text.tokens import tokenize  # noqa: E402

SENTENCES: list[tuple[str, str]] = [
    ("Hello, how are you? My name is Rahul. I have 25 books.", "en-IN"),
    ("Thank you. My phone and my computer are at school.", "en-IN"),
    ("I am going. I am tired! Good morning, 1,23,456.75 rupees.", "en-IN"),
    ("नमस्ते, आप कैसे हैं? मेरा नाम राहुल है। मेरे पास 25 किताबें हैं।", "hi-IN"),
    ("আমার নাম রাহুল। ধন্যবাদ। ৫০ টাকা।", "bn-IN"),
]
# (output_script, numerals_format) as /translate passes them to write_in.
WAYS: list[tuple[str | None, str]] = [
    (None, "native"), ("roman", "international"), ("fully-native", "international"),
    ("spoken-form-in-native", "native"),
]  # fmt: skip
EDGES: list[str] = [
    "मेरा phone और laptop, don't worry.",
    "क़लम ज़रूर फ़िर पढ़ाई ड़",  # precomposed nukta letters (composition exclusions)
    "क़लम ज़रूर",  # nukta letters typed as letter + nukta
    "ব্যাংক বই ৳ ৫০০",
    "ਸੱਤ ਸ੍ਰੀ ਅਕਾਲ। ਪੰਜਾਬ॥",
    "ଓଡ଼ିଆ ଭାଷା",
    "سلام دنیا، آپ کیسے ہیں؟ ۂ ۓ",  # Urdu words the model passes through; decomposable letters
    "ᱥᱟᱱᱛᱟᱲᱤ ᱯᱟᱹᱨᱥᱤ",  # Ol Chiki
    "ꯃꯤꯇꯩ ꯂꯣꯟ",  # Meetei Mayek
    "abcद दab ab'cd राम's x'1 '",  # mixed-script words, apostrophes
    "1,23,456.78 12:30 ०१२३ ১২৩ ૧૨ 3.5.6 ,5 5, ٣٤",  # numbers, Indic digits, Arabic-Indic digits
    "cafe\u0301 café naïve ÅNGSTRÖM İstanbul ΣΊΣΥΦΟΣ",  # combining marks, special casing
    "नमस्ते\u200dजी \u200cक्ष ॐ ऽ ।।",
    "घर घरा कमल कमला भारत",  # final inherent vowel
    "Ελληνικά 中文 한국어 😀 \t\n x_y __",
    "हिंदी-English मिक्स्ड text 2024 में",
    "x\u0301क\u0301\u093c",  # marks in a Latin-led and a Devanagari word, nukta after accent
    "",
]
TOKENIZE: list[str] = [*EDGES, *(text for text, _ in SENTENCES), "a'b'c 12.34.56 ab12cd", "'x"]


def one_case_a_line(out: dict[str, Any]) -> str:
    """JSON with each case on a line of its own: small, and a regenerated file diffs by case."""
    parts = []
    for key, value in out.items():
        if isinstance(value, list):
            cases = ",\n  ".join(json.dumps(case, ensure_ascii=False) for case in value)
            parts.append(f" {json.dumps(key)}: [\n  {cases}\n ]")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> None:
    write: list[dict[str, Any]] = []
    for index, (text, source) in enumerate(SENTENCES):
        for target in CORE_LANGUAGES:
            if target == source:
                continue
            for mode in ("formal", "code-mixed") if source == "en-IN" else ("formal",):
                model = translate(TranslationRequest(text, source, target, mode, "Male"))  # type: ignore[arg-type]
                for script, numerals in WAYS:
                    write.append({
                        "name": f"s{index}-{target}-{mode}-{script or 'none'}-{numerals}",
                        "text": model, "language": target, "output_script": script or "",
                        "numerals": numerals, "want": write_in(model, target, script, numerals),  # type: ignore[arg-type]
                    })  # fmt: skip
    for index, text in enumerate(EDGES):
        for target in ("hi-IN", "bn-IN", "ta-IN", "en-IN"):
            for script, numerals in WAYS:
                write.append({
                    "name": f"edge{index}-{target}-{script or 'none'}-{numerals}", "text": text,
                    "language": target, "output_script": script or "", "numerals": numerals,
                    "want": write_in(text, target, script, numerals),  # type: ignore[arg-type]
                })  # fmt: skip
    for target in LANGUAGES:
        text = "Chapter 1,234 of 56 (2024)"
        write.append({"name": f"digits-{target}", "text": text, "language": target,
                      "output_script": "", "numerals": "native",
                      "want": write_in(text, target, None, "native")})  # fmt: skip
    tokens = [{"text": text, "tokens": [[t.kind, t.text] for t in tokenize(text)]}
              for text in TOKENIZE]  # fmt: skip
    out = {"about": "generated by gen/gen_output_cases.py from legacy's Python; do not edit",
           "write_in": write, "tokenize": tokens}  # fmt: skip
    target_path = HERE.parent / "testdata" / "output_script_cases.json.gz"
    target_path.write_bytes(gzip.compress(one_case_a_line(out).encode("utf-8"), 9, mtime=0))
    print(f"wrote {target_path}: {len(write)} write_in cases, {len(tokens)} tokenize cases")


if __name__ == "__main__":
    main()
