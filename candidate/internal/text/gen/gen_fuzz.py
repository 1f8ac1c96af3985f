"""Write a randomised corpus of legacy's answers (cases.json's format) to a file, for
`TEXT_EXTRA_CASES=<file> go test ./internal/text -run TestExtraCases`.

Too large to commit and not needed by CI: it is how the port was checked against sanscript
beyond the curated table. Strings are drawn from each source scheme's own symbols (every
group, alternates included), digits of several scripts, Latin letters, punctuation, joiners
and spaces, for every source/target pair of the core languages; plus random English-like
words for spell_english.

    .venv/bin/python candidate/internal/text/gen/gen_fuzz.py /tmp/fuzz.json [per_pair] [seed]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[3]))

from gen_cases import run_transliterate  # noqa: E402
from indic_transliteration import sanscript  # noqa: E402

from legacy.text.scripts import CORE_LANGUAGES  # noqa: E402
from legacy.text.spelling import spell_english  # noqa: E402

SCHEME = {
    "hi-IN": "devanagari", "mr-IN": "devanagari", "bn-IN": "bengali", "pa-IN": "gurmukhi",
    "gu-IN": "gujarati", "od-IN": "oriya", "ta-IN": "tamil", "te-IN": "telugu",
    "kn-IN": "kannada", "ml-IN": "malayalam", "en-IN": "itrans",
}  # fmt: skip
EXTRA = [*list("0123456789 ,.?!-'\"()|:;\n\t"), "\u200c", "\u200d", "१", "৫", "٣", "ΣΑ", "İ"]


def alphabet(scheme_name: str) -> list[str]:
    scheme = sanscript.SCHEMES[scheme_name]
    symbols: list[str] = []
    for group, entries in scheme.items():
        if group == "alternates":
            for key, synonyms in entries.items():
                symbols += [key, *synonyms]
        else:
            symbols += [v for v in entries.values() if v]
    if scheme_name == "gurmukhi":
        symbols += ["ੱ"] * 5
    if scheme_name == "bengali":
        symbols += ["ৎ"]
    if scheme_name == "telugu":
        symbols += ["ౝ"]
    if scheme_name == "kannada":
        symbols += ["ೝ", "೜"]
    return symbols


def main() -> None:
    out_path = Path(sys.argv[1])
    per_pair = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    cases = []
    for source in [*CORE_LANGUAGES, "auto"]:
        for target in CORE_LANGUAGES:
            if source == target:
                continue
            letters = alphabet(SCHEME[source if source != "auto" else rng.choice(CORE_LANGUAGES)])
            for n in range(per_pair):
                pool = letters + EXTRA
                text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 25)))
                options = {}
                if n % 3 == 1:
                    options["spoken_form"] = True
                    options["spoken_form_numerals_language"] = rng.choice(["english", "native"])
                if n % 4 == 2:
                    options["numerals_format"] = "native"
                case = {"name": f"fuzz-{source}-{target}-{n}", "input": text, "source": source,
                        "target": target, **options}  # fmt: skip
                case["want"] = run_transliterate(case)
                cases.append(case)
    spelling = []
    for _ in range(3000):
        word = "".join(
            rng.choice("abcdefghijklmnopqrstuvwxyzeeaaiioou") for _ in range(rng.randint(1, 9))
        )
        language = rng.choice([c for c in CORE_LANGUAGES if c != "en-IN"])
        spelling.append({"word": word, "language": language, "want": spell_english(word, language)})
    out_path.write_text(
        json.dumps(
            {"transliterate": cases, "lid": [], "spell_english": spelling}, ensure_ascii=False
        )
    )
    print(f"wrote {out_path}: {len(cases)} transliteration, {len(spelling)} spelling cases")


if __name__ == "__main__":
    main()
