"""Parity of the Go candidate's /translate with legacy's, by the shadow engine's comparators.

Every request of the corpus goes to legacy and to the candidate with the same ``X-Request-ID``
(both bill it: legacy's live ledger, the candidate's shadow ledger via ``X-Banyan-Shadow``) and
both call the same inference server, and the two answers are compared exactly as the shadow
process would (status, content type, JSON field by field). The test prints the route's parity
and every divergence found, and fails on any divergence not in :data:`KNOWN` (Go is right, or
the difference is accepted with a reason). A divergence fixed in Go must leave that list.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from shadow.compare.config import CompareConfig
from shadow.compare.dispatch import compare
from shadow.model import Observation

# corpus case name -> why the answers may differ
KNOWN: dict[str, str] = {}

ENGLISH = "Hello, how are you? My name is Rahul. I have 25 books. Thank you!"
HINDI = "नमस्ते, आप कैसे हैं? मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ। मेरे पास 25 किताबें हैं।"
MARATHI = "माझे नाव राहुल आहे आणि मी पुण्यात राहतो. मला मराठी बोलायला आवडते."
SENTENCES = " ".join(f"Sentence {n} is good, my friend." for n in range(80))
SARVAM = {"model": "sarvam-translate:v1"}


def ask(text: Any = ENGLISH, source: Any = "en-IN", target: Any = "hi-IN", **more: Any) -> Any:
    return {"input": text, "source_language_code": source, "target_language_code": target, **more}


CORPUS: dict[str, Any] = {
    # Explicit sources, into several scripts and back to English.
    "en-hi": ask(),
    "en-ta": ask(target="ta-IN"),
    "en-bn-sarvam": ask(target="bn-IN", **SARVAM),
    "hi-en": ask(HINDI, "hi-IN", "en-IN"),
    "bn-gu": ask("আমার নাম রাহুল। ধন্যবাদ।", "bn-IN", "gu-IN"),
    "mr-pa": ask(MARATHI, "mr-IN", "pa-IN"),
    # Auto: the script decides; Devanagari asks the identification model (clear sentences).
    "auto-en": ask(source="auto", target="kn-IN"),
    "auto-ta": ask("வணக்கம், எப்படி இருக்கிறீர்கள்?", "auto", "en-IN"),
    "auto-hi": ask(HINDI, "auto", "en-IN"),
    "auto-mr": ask(MARATHI, "auto", "en-IN"),
    "auto-ur-sarvam": ask("میں اردو بولتا ہوں", "auto", "en-IN", **SARVAM),
    "auto-same-as-target": ask(HINDI, "auto", "hi-IN"),
    # The four modes, both genders.
    "formal": ask("Thank you. You are welcome.", mode="formal"),
    "classic-colloquial": ask("Thank you. How are you?", mode="classic-colloquial"),
    "modern-colloquial": ask("Thank you for the phone and the computer.", mode="modern-colloquial"),
    "code-mixed": ask("My phone and my computer are at school.", mode="code-mixed", target="mr-IN"),
    "female": ask("I am going. I am tired.", speaker_gender="Female"),
    "male": ask("I am going. I am tired.", speaker_gender="Male", target="gu-IN"),
    # How the answer is written.
    "roman": ask(output_script="roman"),
    "roman-bengali": ask(target="bn-IN", output_script="roman"),
    "fully-native": ask("My phone.", mode="code-mixed", output_script="fully-native"),
    "spoken": ask("I have 25 books and 1,23,456.75 rupees.", output_script="spoken-form-in-native"),
    "spoken-native-digits": ask("Call me at 10:30 on 5 June 2024.", target="ta-IN",
                                output_script="spoken-form-in-native", numerals_format="native"),
    "native-digits": ask(target="te-IN", numerals_format="native"),
    "native-digits-sarvam": ask(target="ne-IN", numerals_format="native", **SARVAM),
    "international": ask(numerals_format="international", output_script=None, mode=None),
    # Longer than the model's 500 characters per call: chunked, in order.
    "long-sarvam": ask(SENTENCES[:1900], **SARVAM),
    "long-mayura": ask(SENTENCES[:990], target="ml-IN", mode="code-mixed"),
    "long-hindi": ask((HINDI + " ") * 6, "hi-IN", "en-IN", output_script="roman"),
    "long-one-word": ask("a" * 1200, **SARVAM),
    # Refusals (400) and no language to detect.
    "too-long-mayura": ask("a" * 1001),
    "mayura-new-language": ask(target="ur-IN"),
    "sarvam-mode": ask(mode="code-mixed", **SARVAM),
    "sarvam-output-script": ask(output_script="roman", **SARVAM),
    "same-language": ask(source="hi-IN", target="hi-IN"),
    "auto-no-language": ask("12345 !!!", "auto"),
    "auto-ur-mayura": ask("میں اردو بولتا ہوں", "auto", "en-IN"),
    # Validation (422).
    "missing": {},
    "too-long": ask("a" * 2001, **SARVAM),
    "empty": ask(""),
    "bad-mode": ask(mode="casual"),
    "bad-target": ask(target="fr-FR"),
    "bad-source": ask(source="xx"),
    "all-wrong": ask(5, None, ["hi-IN"], speaker_gender="male", model="x", numerals_format=1),
}  # fmt: skip
CONFIG = CompareConfig(headers=("content-type",))


def observe(response: httpx.Response) -> Observation:
    headers = tuple((k.encode().lower(), v.encode()) for k, v in response.headers.items())
    elapsed = response.elapsed.total_seconds()
    return Observation(response.status_code, headers, response.content, elapsed, elapsed)


def test_translate_answers_as_legacy_does(platform, candidate_url: str) -> None:
    key = platform.make_tenant(credits="100000", requests_per_minute=10_000)
    matched: list[bool] = []
    unexplained: list[str] = []
    translated = 0
    with httpx.Client(timeout=60) as client:
        for name, body in CORPUS.items():
            request_id = f"parity-tr-{name}-{uuid.uuid4().hex[:8]}"
            headers = {"api-subscription-key": key, "X-Request-ID": request_id}
            legacy = client.post(platform.direct_url + "/translate", json=body, headers=headers)
            shadow = {**headers, "X-Banyan-Shadow": "1"}
            candidate = client.post(candidate_url + "/translate", json=body, headers=shadow)
            diffs = compare(observe(legacy), observe(candidate), CONFIG)
            matched.append(not diffs)
            translated += legacy.status_code == 200
            for diff in diffs:
                line = (f"translate {name} {diff.path} {diff.kind}: legacy={diff.control!r} "
                        f"candidate={diff.candidate!r}")  # fmt: skip
                print("DIVERGENCE " + line)
                if name not in KNOWN:
                    unexplained.append(line)
    print(f"PARITY translate: {sum(matched)}/{len(matched)} = {sum(matched) / len(matched):.3f}")
    assert not unexplained, "\n".join(unexplained)
    # A corpus of refusals would prove little: most of it is translated.
    assert len(CORPUS) >= 25
    assert translated >= len(CORPUS) // 2
