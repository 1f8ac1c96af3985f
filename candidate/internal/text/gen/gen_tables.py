"""Write ../tables_gen.go: the indic-transliteration scheme data and Python's letter ranges.

Run by `go generate ./internal/text` (or directly: `.venv/bin/python
candidate/internal/text/gen/gen_tables.py`). Reads the installed package's schemes exactly as
`sanscript.SCHEMES` holds them after loading (so RomanScheme's derived `vowel_marks` group is
included), in dict order, because SchemeMap's construction depends on that order: later groups
and later keys override earlier ones. The Go side (scheme.go) rebuilds each SchemeMap from this.

Also writes which code points of the script blocks `legacy/text/scripts.py` counts as letters
(`str.isalpha()` of this Python, so Go's Unicode version cannot make the two disagree).
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
sys.path.insert(0, str(REPO))

import unicodedata  # noqa: E402

from indic_transliteration import sanscript  # noqa: E402
from indic_transliteration.sanscript.schemes import roman  # noqa: E402
from num2words import lang_BN  # noqa: E402

from legacy.text import number_words, scripts, spelling  # noqa: E402

# The schemes legacy/text/transliteration.py and legacy/text/spelling.py use for the core
# languages (Latin = ITRANS).
SCHEMES = [
    "devanagari", "bengali", "gurmukhi", "gujarati", "oriya", "tamil", "telugu", "kannada",
    "malayalam", "itrans",
]  # fmt: skip


def go_str(s: str) -> str:
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif cp < 0x20 or cp == 0x7F or (0x80 <= cp < 0xA0) or cp in (0x200C, 0x200D, 0xFEFF):
            out.append(f"\\u{cp:04x}")
        elif 0xD800 <= cp <= 0xDFFF:
            raise ValueError(f"surrogate in scheme data: {s!r}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def max_key_length(scheme: dict) -> int:
    # sanscript.SchemeMap: max(len(x) for g in from_scheme for x in from_scheme[g])
    return max(len(x) for g in scheme for x in scheme[g])


def emit_scheme(name: str) -> list[str]:
    scheme = sanscript.SCHEMES[name]
    assert "shortcuts" not in scheme, name  # apply/unapply_shortcuts are not ported
    assert "accented_vowel_alternates" not in scheme, name
    assert name not in roman.CAPITALIZABLE_SCHEME_IDS, name  # fix_om is not ported
    lines = [f"\t{{name: {go_str(name)}, roman: {str(scheme.is_roman).lower()}, "
             f"maxKeyLen: {max_key_length(scheme)},"]  # fmt: skip
    lines.append("\t\tgroups: []schemeGroup{")
    for group, entries in scheme.items():
        if group == "alternates":
            continue
        assert isinstance(entries, dict), (name, group)
        lines.append(f"\t\t\t{{name: {go_str(group)}, entries: []schemeEntry{{")
        for key, value in entries.items():
            assert isinstance(key, str), (name, group, key)
            assert isinstance(value, str), (name, group, key)
            lines.append(f"\t\t\t\t{{{go_str(key)}, {go_str(value)}}},")
        lines.append("\t\t\t}},")
    lines.append("\t\t},")
    alternates = scheme.get("alternates", {})
    lines.append("\t\talternates: []schemeAlternate{")
    for symbol, synonyms in alternates.items():
        assert isinstance(synonyms, list)
        assert all(isinstance(s, str) for s in synonyms)
        syns = ", ".join(go_str(s) for s in synonyms)
        lines.append(f"\t\t\t{{{go_str(symbol)}, []string{{{syns}}}}},")
    lines.append("\t\t},")
    lines.append("\t},")
    return lines


def letter_ranges() -> list[tuple[int, int, str]]:
    """Runs of code points dominant_script counts, with their script."""
    runs: list[tuple[int, int, str]] = []
    for low, high, script in scripts._BLOCKS:
        start = None
        for cp in range(low, high + 2):
            ch = chr(cp) if cp <= high else ""
            counts = cp <= high and (ch.isalpha() or "\u0900" <= ch <= "\u0d7f")
            if counts and start is None:
                start = cp
            elif not counts and start is not None:
                runs.append((start, cp - 1, script))
                start = None
    return runs


def go_strings(values: list[str] | tuple[str, ...]) -> str:
    return "[]string{" + ", ".join(go_str(v) for v in values) + "}"


def word_tables() -> list[str]:
    """The number words and respellings of legacy/text/number_words.py and spelling.py, and
    num2words' Bengali (lang_BN) tables, verbatim (their quirks included)."""
    irregular = ", ".join(f"{go_str(k)}: {go_str(v)}" for k, v in spelling._IRREGULAR.items())
    scale = ", ".join(f"{go_str(k)}: {go_str(v)}" for k, v in number_words._HINDI_SCALE.items())
    point = ", ".join(f"{go_str(k)}: {go_str(v)}" for k, v in number_words._POINT.items())
    return [
        "// Number words: legacy/text/number_words.py's tables, and num2words' lang_BN (bn-IN).",
        "var (",
        f"\tenglishOnes    = {go_strings(number_words._ONES)}",
        f"\tenglishTens    = {go_strings(number_words._TENS)}",
        f"\thindiBelow100  = {go_strings(number_words._HINDI)}",
        f"\thindiScale     = map[string]string{{{scale}}}",
        f"\tpointWord      = map[string]string{{{point}}}",
        f"\tnativeNumberLanguages = {go_strings(number_words.NATIVE_NUMBER_WORDS)}",
        f"\tbengaliAkok    = {go_strings(lang_BN.AKOK)}",
        f"\tbengaliDosok   = {go_strings(lang_BN.DOSOK)}",
        f"\tbengaliHazar   = {go_str(lang_BN.HAZAR)}",
        f"\tbengaliLakh    = {go_str(lang_BN.LAKH)}",
        f"\tbengaliKoti    = {go_str(lang_BN.KOTI)}",
        f"\tbengaliMaxDigits = {len(str(lang_BN.MAX_NUMBER))}"
        " // num2words' MAX_NUMBER is this many 9s",
        f"\tirregularSounds = map[string]string{{{irregular}}}",
        ")",
        "",
    ]


def normalization_tables() -> list[str]:
    """Canonical decompositions, combining classes and primary composites of U+0900..U+0DFF:
    what NFC needs for the Indic text spelling.py normalises."""
    lines = ["// indicDecomposition, indicCombiningClass and indicComposition: Unicode "
             f"{unicodedata.unidata_version} data", "// of U+0900..U+0DFF, for nfcIndic.",
             "var indicDecomposition = map[rune][2]rune{"]  # fmt: skip
    composites = []
    for cp in range(0x0900, 0x0E00):
        ch = chr(cp)
        dec = unicodedata.decomposition(ch)
        if dec and not dec.startswith("<"):
            a, b = (int(x, 16) for x in dec.split())
            lines.append(f"\t0x{cp:04X}: {{0x{a:04X}, 0x{b:04X}}},")
            if unicodedata.normalize("NFC", ch) == ch:
                composites.append((a, b, cp))
    lines += ["}", "", "var indicCombiningClass = map[rune]uint8{"]
    for cp in range(0x0900, 0x0E00):
        ccc = unicodedata.combining(chr(cp))
        if ccc:
            lines.append(f"\t0x{cp:04X}: {ccc},")
    lines += ["}", "", "var indicComposition = map[[2]rune]rune{"]
    for a, b, cp in composites:
        lines.append(f"\t{{0x{a:04X}, 0x{b:04X}}}: 0x{cp:04X},")
    lines += ["}", ""]
    return lines


def main() -> None:
    out = [
        "// Code generated by gen/gen_tables.py from indic-transliteration "
        f"{version('indic_transliteration')} and Python {sys.version.split()[0]}; DO NOT EDIT.",
        "",
        "package text",
        "",
        "// schemeSpecs are sanscript.SCHEMES[name] for the schemes the core languages use, in",
        "// the dict order SchemeMap's construction depends on.",
        "var schemeSpecs = []schemeSpec{",
    ]
    for name in SCHEMES:
        out += emit_scheme(name)
    out += [
        "}",
        "",
        "// letterRuns are the code points legacy/text/scripts.py's dominant_script counts (a",
        "// letter by Python's str.isalpha, or anything in U+0900..U+0D7F), by script.",
        "var letterRuns = []letterRun{",
    ]
    for low, high, script in letter_ranges():
        out.append(f"\t{{0x{low:04X}, 0x{high:04X}, {go_str(script)}}},")
    out += ["}", ""]
    out += word_tables()
    out += normalization_tables()
    target = HERE.parent / "tables_gen.go"
    target.write_text("\n".join(out), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
