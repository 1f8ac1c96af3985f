"""Write ../testdata/cases.json: legacy's own answers for a corpus, which the Go tests replay.

Run from anywhere: `.venv/bin/python candidate/internal/text/gen/gen_cases.py`. Every expected
value here is computed by legacy's Python (legacy.text.*, in the same order as
legacy/text_api.py applies them), never written by hand; only the corpus and the
`DIVERGENCES` notes are. A case the Go port answers differently, for a reason decided and
written down, carries `"divergence": reason`; the Go test then checks that it still differs
(so a fixed divergence must leave this list) instead of failing.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from num2words.lang_BN import NumberTooLargeError  # noqa: E402

from legacy.inference.lid_route import detect  # noqa: E402
from legacy.text.lid import LanguageIdentifier  # noqa: E402
from legacy.text.number_words import NumberWordsUnavailable, spoken_numbers  # noqa: E402
from legacy.text.output_script import native_digits  # noqa: E402
from legacy.text.scripts import dominant_script  # noqa: E402
from legacy.text.spelling import spell_english  # noqa: E402
from legacy.text.transliteration import TransliterationError, transliterate  # noqa: E402

DIVERGENCES: dict[str, str] = {}

T = dict[str, Any]


def tl(name: str, text: str, source: str, target: str, **options: Any) -> T:
    return {"name": name, "input": text, "source": source, "target": target, **options}


TRANSLITERATE: list[T] = [
    # Devanagari to every other script, and to roman.
    tl("hi-en-auto", "नमस्ते दुनिया 2024", "auto", "en-IN"),
    tl("hi-ta", "नमस्ते", "hi-IN", "ta-IN"),
    tl("hi-bn", "नमस्ते", "hi-IN", "bn-IN"),
    tl("hi-gu", "भारत एक विशाल देश है", "hi-IN", "gu-IN"),
    tl("hi-te", "भारत एक विशाल देश है", "hi-IN", "te-IN"),
    tl("hi-kn", "कृष्ण ज्ञान", "hi-IN", "kn-IN"),
    tl("hi-ml", "कृष्ण ज्ञान", "hi-IN", "ml-IN"),
    tl("hi-pa", "नमस्ते दुनिया", "hi-IN", "pa-IN"),
    tl("hi-od", "नमस्ते दुनिया", "hi-IN", "od-IN"),
    tl("hi-en-conjuncts", "कृष्ण ज्ञान क्षत्रिय", "hi-IN", "en-IN"),
    tl("hi-bn-ksha", "क्षत्रिय", "hi-IN", "bn-IN"),
    tl("hi-en-nukta", "ज़िंदगी फ़िल्म ड़", "hi-IN", "en-IN"),
    tl("hi-pa-nukta", "ज़िंदगी फ़िल्म", "hi-IN", "pa-IN"),
    tl("hi-ta-nukta", "ज़िंदगी फ़िल्म", "hi-IN", "ta-IN"),
    tl("hi-en-candra", "ऑफ़िस बॅट", "hi-IN", "en-IN"),
    tl("hi-gu-candra", "ऑफ़िस", "hi-IN", "gu-IN"),
    tl("hi-en-visarga", "दुःख संस्कृतम् अंतः", "hi-IN", "en-IN"),
    tl("hi-en-om", "ॐ नमः शिवाय।", "hi-IN", "en-IN"),
    tl("hi-ta-om", "ॐ नमः शिवाय॥", "hi-IN", "ta-IN"),
    tl("hi-en-mixed", "मेरा phone नंबर 98765 है", "hi-IN", "en-IN"),
    tl("hi-ta-mixed", "मेरा phone नंबर 98765 है", "hi-IN", "ta-IN"),
    tl("hi-mr-same-script", "नमस्ते दुनिया", "hi-IN", "mr-IN"),
    tl("auto-hi-same-scheme", "नमस्ते", "auto", "hi-IN"),
    tl("hi-en-digits", "हिंदी में २०२४ तक", "hi-IN", "en-IN"),
    tl("hi-gu-native-digits", "मेरे पास 250 रुपये हैं", "hi-IN", "gu-IN", numerals_format="native"),
    tl("hi-en-native-digits", "२५० रुपये", "hi-IN", "en-IN", numerals_format="native"),
    tl("hi-en-sigma", "नमस्ते ΣΑΣ İstanbul", "hi-IN", "en-IN"),
    tl("hi-en-zwj", "क्‍ष र्‍य", "hi-IN", "en-IN"),
    # Bengali.
    tl("bn-en-auto", "আমার সোনার বাংলা", "auto", "en-IN"),
    tl("bn-hi", "আমার সোনার বাংলা", "bn-IN", "hi-IN"),
    tl("bn-hi-khanda", "উৎসব", "bn-IN", "hi-IN"),
    tl("bn-en", "রবীন্দ্রনাথ ঠাকুর", "bn-IN", "en-IN"),
    tl("bn-hi-digits", "৩৫ টাকা", "bn-IN", "hi-IN"),
    # Gurmukhi, the addak and tippi included.
    tl("pa-hi", "ਸਤ ਸ੍ਰੀ ਅਕਾਲ", "pa-IN", "hi-IN"),
    tl("pa-hi-addak", "ਪੱਕਾ ਅੱਜ ਸੱਭ ਗੱਲ", "pa-IN", "hi-IN"),
    tl("pa-en-addak", "ਪੱਕਾ ਅੱਜ ਸੱਭ ਗੱਲ", "pa-IN", "en-IN"),
    tl("pa-hi-tippi", "ਪੰਜਾਬ ਸਿੰਘ", "pa-IN", "hi-IN"),
    # Gujarati, Odia.
    tl("gu-hi", "નમસ્તે ગુજરાત", "gu-IN", "hi-IN"),
    tl("gu-en", "નમસ્તે ગુજરાત", "gu-IN", "en-IN"),
    tl("od-hi", "ଓଡ଼ିଆ ଭାଷା", "od-IN", "hi-IN"),
    tl("od-en-auto", "ଓଡ଼ିଆ ଭାଷା", "auto", "en-IN"),
    # Dravidian scripts.
    tl("ta-hi", "வணக்கம் தமிழ்நாடு", "ta-IN", "hi-IN"),
    tl("ta-en", "வணக்கம்", "ta-IN", "en-IN"),
    tl("ta-te", "தமிழ்நாடு", "ta-IN", "te-IN"),
    tl("te-hi", "తెలుగు భాష", "te-IN", "hi-IN"),
    tl("te-kn", "తెలుగు భాష", "te-IN", "kn-IN"),
    tl("te-hi-nakaara", "ౝ", "te-IN", "hi-IN"),
    tl("kn-hi", "ಕನ್ನಡ ನಾಡು", "kn-IN", "hi-IN"),
    tl("kn-ml", "ಕನ್ನಡ ನಾಡು", "kn-IN", "ml-IN"),
    tl("ml-hi", "മലയാളം", "ml-IN", "hi-IN"),
    tl("ml-en-auto", "മലയാളം ഭാഷ", "auto", "en-IN"),
    tl("ml-hi-chillu", "അവൻ", "ml-IN", "hi-IN"),
    # Roman (ITRANS) input.
    tl("en-hi", "namaste duniya", "en-IN", "hi-IN"),
    tl("en-hi-itrans", "kRRiShNa j~nAna shrI rAma", "en-IN", "hi-IN"),
    tl("en-kn-itrans", "kRRiShNa j~nAna", "en-IN", "kn-IN"),
    tl("en-ta-itrans", "shrI rAma", "en-IN", "ta-IN"),
    tl("en-hi-capitals", "Hello World", "en-IN", "hi-IN"),
    tl("en-hi-om", "OM namaH shivAya", "en-IN", "hi-IN"),
    tl("en-bn-aspirates", "bhArata kI khoja", "en-IN", "bn-IN"),
    tl("en-hi-nukta", "zindagI fillma", "en-IN", "hi-IN"),
    tl("en-hi-punct", "kyA? hA.N! (ThIka) .. |", "en-IN", "hi-IN"),
    tl("auto-en-lower", "Hello World", "auto", "en-IN"),
    tl("auto-en-to-hi", "Good morning", "auto", "hi-IN"),
    # Numerals and spoken form.
    tl("en-hi-native", "mere paas 250 rupaye hain", "en-IN", "hi-IN", numerals_format="native"),
    tl("en-hi-spoken", "mere paas 250 rupaye hain", "en-IN", "hi-IN", spoken_form=True),
    tl(
        "en-hi-spoken-native",
        "mere paas 250 rupaye hain",
        "en-IN",
        "hi-IN",
        spoken_form=True,
        spoken_form_numerals_language="native",
    ),
    tl("hi-mr-spoken", "माझ्याकडे 2024 रुपये आहेत", "hi-IN", "mr-IN", spoken_form=True),
    tl(
        "en-bn-spoken-native",
        "2024 sAla",
        "en-IN",
        "bn-IN",
        spoken_form=True,
        spoken_form_numerals_language="native",
    ),
    tl(
        "en-bn-spoken-native-decimal",
        "3.25 1,00,071",
        "en-IN",
        "bn-IN",
        spoken_form=True,
        spoken_form_numerals_language="native",
    ),
    tl("en-hi-spoken-decimal", "3.25 kilo", "en-IN", "hi-IN", spoken_form=True),
    tl("en-ta-spoken-grouping", "12,34,567 and 1,234,5678", "en-IN", "ta-IN", spoken_form=True),
    tl("en-gu-spoken-crore", "150000 2500000000", "en-IN", "gu-IN", spoken_form=True),
    tl("en-pa-spoken", "1 2 3.5.6 7a 8", "en-IN", "pa-IN", spoken_form=True),
    tl(
        "en-te-spoken-native-digits",
        "100 rUpAyi",
        "en-IN",
        "te-IN",
        spoken_form=True,
        numerals_format="native",
    ),
    tl("hi-ml-spoken", "२० किलो", "hi-IN", "ml-IN", spoken_form=True),
    tl("hi-od-spoken", "कि1 क1 999", "hi-IN", "od-IN", spoken_form=True),
    tl("en-hi-spoken-unicode-digits", "٢٥ rupaye", "en-IN", "hi-IN", spoken_form=True),
    tl(
        "en-hi-spoken-native-big",
        "1" + "0" * 40,
        "en-IN",
        "hi-IN",
        spoken_form=True,
        spoken_form_numerals_language="native",
    ),
    tl("auto-en-spoken-no-effect", "नमस्ते 42", "auto", "en-IN", spoken_form=True),
    # Refusals (400) and legacy's unhandled failure (500).
    tl("auto-no-script", "12345 !!!", "auto", "hi-IN"),
    tl("auto-arabic", "میں اردو بولتا ہوں", "auto", "hi-IN"),
    tl(
        "en-ta-spoken-native",
        "250",
        "en-IN",
        "ta-IN",
        spoken_form=True,
        spoken_form_numerals_language="native",
    ),
    tl(
        "en-bn-spoken-native-too-large",
        "9" * 308,
        "en-IN",
        "bn-IN",
        spoken_form=True,
        spoken_form_numerals_language="native",
    ),
]

LID: list[tuple[str, str]] = [
    ("lid-hi-1", "मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ"),
    ("lid-hi-2", "आज मौसम बहुत अच्छा है"),
    ("lid-hi-3", "क्या आप मेरी मदद कर सकते हैं?"),
    ("lid-hi-4", "यह किताब बहुत पुरानी है"),
    ("lid-hi-5", "हम कल बाज़ार जाएंगे"),
    ("lid-hi-6", "भारत एक विशाल देश है"),
    ("lid-hi-7", "मुझे हिंदी बोलना पसंद है"),
    ("lid-hi-8", "वह स्कूल जा रहा है"),
    ("lid-hi-namaste", "नमस्ते"),
    ("lid-mr-1", "माझे नाव राहुल आहे आणि मी पुण्यात राहतो"),
    ("lid-mr-2", "मला मराठी बोलायला आवडते"),
    ("lid-mr-3", "तुम्ही कसे आहात?"),
    ("lid-mr-4", "आज हवामान खूप छान आहे"),
    ("lid-mr-5", "ही माझी शाळा आहे"),
    ("lid-mr-6", "आम्ही उद्या मुंबईला जाणार आहोत"),
    ("lid-mr-7", "महाराष्ट्र हे भारतातील एक राज्य आहे"),
    ("lid-mr-8", "त्याच्या घरी कोणी नाही"),
    ("lid-mr-9", "पाणी पिणे आरोग्यासाठी चांगले असते"),
    ("lid-mr-10", "तुमचा दिवस शुभ जावो"),
    ("lid-mr-no-evidence", "पाऊस"),
    ("lid-mr-lingua-hindi", "मी कालपासून आजारी आहे"),
    ("lid-mr-lingua-hindi-2", "मला माहीत नाही"),
    ("lid-bn", "আমি বাংলায় কথা বলি"),
    ("lid-pa", "ਮੈਂ ਪੰਜਾਬੀ ਬੋਲਦਾ ਹਾਂ"),
    ("lid-gu", "હું ગુજરાતી બોલું છું"),
    ("lid-od", "ମୁଁ ଓଡ଼ିଆ କହେ"),
    ("lid-ta", "வணக்கம், எப்படி இருக்கிறீர்கள்?"),
    ("lid-te", "నేను తెలుగు మాట్లాడతాను"),
    ("lid-kn", "ನಮಸ್ಕಾರ, ಹೇಗಿದ್ದೀರಿ?"),
    ("lid-ml", "ഞാൻ മലയാളം സംസാരിക്കുന്നു"),
    ("lid-en", "Good morning, how are you?"),
    ("lid-en-accents", "Café crème à la française"),
    ("lid-ur", "میں اردو بولتا ہوں"),
    ("lid-olck", "ᱥᱟᱱᱛᱟᱲᱤ"),
    ("lid-mtei", "ꯃꯅꯤꯄꯨꯔ"),
    ("lid-none", "12345 !!!"),
    ("lid-mixed-tie", "नमस्ते hello வணக்கம்"),
    ("lid-mixed-first-wins", "ab கக"),
    ("lid-deva-extended", "ꣲꣳ नमस्ते"),
]

SPELL_WORDS = [
    "computer", "phone", "nation", "school", "quick", "fly", "cake", "bike", "home", "tube",
    "city", "cycle", "happy", "mother", "water", "doctor", "teacher", "zebra", "fish", "point",
    "thank", "light", "box", "queen", "sixty", "Two", "cappuccino",
]  # fmt: skip
SPELL_LANGUAGES = ["hi-IN", "bn-IN", "ta-IN", "pa-IN", "ml-IN", "od-IN"]


def run_transliterate(case: T) -> dict[str, Any]:
    """legacy/text_api.py's transliterate_text, minus billing."""
    target = case["target"]
    try:
        text, source = transliterate(case["input"], case["source"], target)
        if case.get("spoken_form") and target != "en-IN":
            numerals = case.get("spoken_form_numerals_language") or "english"
            text = spoken_numbers(text, target, numerals)
    except (TransliterationError, NumberWordsUnavailable) as exc:
        return {"error": str(exc)}
    except NumberTooLargeError:
        return {"internal_error": "NumberTooLargeError"}
    if case.get("numerals_format") == "native":
        text = native_digits(text, target)
    return {"text": text, "source": source}


def main() -> None:
    asked: list[dict[str, Any]] = []

    def model(request: httpx.Request) -> httpx.Response:
        """The inference server's /v1/lid, answered by its own model function."""
        call = json.loads(request.content)
        answer = detect(call["text"], call["candidates"])
        asked.append({**call, "answer": answer})
        return httpx.Response(200, json={"language_code": answer})

    client = httpx.AsyncClient(transport=httpx.MockTransport(model))
    lid = LanguageIdentifier(client, "http://inference")
    out: dict[str, Any] = {
        "about": "generated by gen/gen_cases.py from legacy's Python; do not edit by hand",
        "transliterate": [],
        "lid": [],
        "spell_english": [],
    }
    names = set()
    for case in TRANSLITERATE:
        assert case["name"] not in names, case["name"]
        names.add(case["name"])
        entry = {**case, "want": run_transliterate(case)}
        if case["name"] in DIVERGENCES:
            entry["divergence"] = DIVERGENCES[case["name"]]
        out["transliterate"].append(entry)
    for name, text in LID:
        assert name not in names, name
        names.add(name)
        asked.clear()
        found = asyncio.run(lid.identify(text))
        entry = {
            "name": name, "input": text, "language_code": found.language_code,
            "script_code": found.script_code, "dominant_script": dominant_script(text),
            # What legacy asked the inference server's model, and its answer.
            "model_calls": list(asked),
        }  # fmt: skip
        if name in DIVERGENCES:
            entry["divergence"] = DIVERGENCES[name]
        out["lid"].append(entry)
    for language in SPELL_LANGUAGES:
        for word in SPELL_WORDS:
            out["spell_english"].append(
                {"word": word, "language": language, "want": spell_english(word, language)}
            )
    unused = set(DIVERGENCES) - names
    assert not unused, f"DIVERGENCES names no case: {unused}"
    target = HERE.parent / "testdata" / "cases.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(out['transliterate'])} transliteration, {len(out['lid'])} LID, "
          f"{len(out['spell_english'])} spelling cases")  # fmt: skip


if __name__ == "__main__":
    main()
