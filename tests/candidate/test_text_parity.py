"""Parity of the Go candidate's ported text routes with legacy, by the shadow engine's comparators.

Every request of the corpus goes to legacy and to the candidate with the same ``X-Request-ID``
(both bill it: legacy's live ledger, the candidate's shadow ledger via ``X-Banyan-Shadow``), and
the two answers are compared exactly as the shadow process would (status, content type, JSON
field by field). The test prints each route's parity and every divergence found, and fails on
any divergence not in :data:`KNOWN`, the list of divergences decided in rfcs/0006 (Go is right,
or the difference is accepted with a reason). A divergence fixed in Go must leave that list.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from typing import Any

import httpx
import pytest

from shadow.compare.config import CompareConfig
from shadow.compare.dispatch import compare
from shadow.model import Observation

# (route, corpus case name) -> why the answers may differ (rfcs/0006-candidate-decisions.md)
KNOWN: dict[tuple[str, str], str] = {}

LID = [
    "मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ",
    "माझे नाव राहुल आहे आणि मी पुण्यात राहतो",
    "आज मौसम बहुत अच्छा है",
    "मला मराठी बोलायला आवडते",
    "আমি বাংলায় কথা বলি",
    "ਮੈਂ ਪੰਜਾਬੀ ਬੋਲਦਾ ਹਾਂ",
    "હું ગુજરાતી બોલું છું",
    "ମୁଁ ଓଡ଼ିଆ କହେ",
    "வணக்கம், எப்படி இருக்கிறீர்கள்?",
    "నేను తెలుగు మాట్లాడతాను",
    "ನಮಸ್ಕಾರ, ಹೇಗಿದ್ದೀರಿ?",
    "ഞാൻ മലയാളം സംസാരിക്കുന്നു",
    "Good morning, how are you?",
    "میں اردو بولتا ہوں",
    "12345 !!!",
    "नमस्ते hello வணக்கம்",
    # Where a port of lingua (or a heuristic) would disagree with legacy: one ambiguous word,
    # Marathi sentences lingua calls Hindi, Hindi words it calls Marathi (rfcs/0006 §1).
    "नमस्ते",
    "पाऊस",
    "मी कालपासून आजारी आहे",
    "मला माहीत नाही",
    "क्या",
    "करोड़",
    "ꣲꣳ नमस्ते",
]
# Devanagari word salad over both languages' everyday words, seeded: the model's answers are
# whatever they are; the candidate must ask the same question and pass the answer on.
_WORDS = [
    "मेरा",
    "नाम",
    "है",
    "और",
    "मैं",
    "में",
    "रहता",
    "हूँ",
    "आज",
    "मौसम",
    "बहुत",
    "अच्छा",
    "क्या",
    "आप",
    "मदद",
    "माझे",
    "नाव",
    "आहे",
    "आणि",
    "मी",
    "राहतो",
    "मला",
    "मराठी",
    "बोलायला",
    "आवडते",
    "तुम्ही",
    "कसे",
    "खूप",
    "छान",
    "शाळा",
    "उद्या",
    "जाणार",
    "घरी",
    "नाही",
    "पाणी",
    "चांगले",
]
_rng = random.Random(7)
LID += [" ".join(_rng.choice(_WORDS) for _ in range(_rng.randint(1, 6))) for _ in range(40)]
TRANSLITERATE: list[dict[str, Any]] = [
    {"input": "नमस्ते दुनिया 2024", "source_language_code": "auto",
     "target_language_code": "en-IN"},
    {"input": "नमस्ते", "source_language_code": "hi-IN", "target_language_code": "ta-IN"},
    {"input": "नमस्ते", "source_language_code": "hi-IN", "target_language_code": "bn-IN"},
    {"input": "भारत एक विशाल देश है", "source_language_code": "hi-IN",
     "target_language_code": "gu-IN"},
    {"input": "भारत एक विशाल देश है", "source_language_code": "hi-IN",
     "target_language_code": "te-IN"},
    {"input": "कृष्ण ज्ञान", "source_language_code": "hi-IN", "target_language_code": "kn-IN"},
    {"input": "कृष्ण ज्ञान", "source_language_code": "hi-IN", "target_language_code": "ml-IN"},
    {"input": "ਸਤ ਸ੍ਰੀ ਅਕਾਲ", "source_language_code": "pa-IN", "target_language_code": "hi-IN"},
    {"input": "আমার সোনার বাংলা", "source_language_code": "auto",
     "target_language_code": "en-IN"},
    {"input": "namaste duniya", "source_language_code": "en-IN", "target_language_code": "hi-IN"},
    {"input": "mere paas 250 rupaye hain", "source_language_code": "en-IN",
     "target_language_code": "hi-IN", "numerals_format": "native"},
    {"input": "mere paas 250 rupaye hain", "source_language_code": "en-IN",
     "target_language_code": "hi-IN", "spoken_form": True},
    {"input": "mere paas 250 rupaye hain", "source_language_code": "en-IN",
     "target_language_code": "hi-IN", "spoken_form": True,
     "spoken_form_numerals_language": "native"},
    {"input": "250", "source_language_code": "en-IN", "target_language_code": "ta-IN",
     "spoken_form": True, "spoken_form_numerals_language": "native"},
    {"input": "hello", "source_language_code": "en-IN", "target_language_code": "en-IN"},
    {"input": "hi", "source_language_code": "auto", "target_language_code": "fr-FR"},
    {"input": "", "source_language_code": "auto", "target_language_code": "hi-IN"},
    {"input": 5, "source_language_code": "auto", "target_language_code": "hi-IN"},
    {"input": "12345", "source_language_code": "auto", "target_language_code": "hi-IN"},
]  # fmt: skip
CORPUS: list[tuple[str, str, str, object]] = [
    ("text-lid", f"lid-{i}", "/text-lid", {"input": text}) for i, text in enumerate(LID)
] + [("transliterate", f"tl-{i}", "/transliterate", body) for i, body in enumerate(TRANSLITERATE)]
CONFIG = CompareConfig(headers=("content-type",))


def observe(response: httpx.Response) -> Observation:
    headers = tuple((k.encode().lower(), v.encode()) for k, v in response.headers.items())
    elapsed = response.elapsed.total_seconds()
    return Observation(response.status_code, headers, response.content, elapsed, elapsed)


def test_the_ported_text_routes_answer_as_legacy_does(platform, candidate_url: str) -> None:
    key = platform.make_tenant(credits="1000", requests_per_minute=10_000)
    outcomes: dict[str, list[bool]] = defaultdict(list)
    unexplained: list[str] = []
    with httpx.Client(timeout=30) as client:
        for route, name, path, body in CORPUS:
            request_id = f"parity-{name}-{uuid.uuid4().hex[:8]}"
            headers = {"api-subscription-key": key, "X-Request-ID": request_id}
            legacy = client.post(platform.direct_url + path, json=body, headers=headers)
            shadow = {**headers, "X-Banyan-Shadow": "1"}
            candidate = client.post(candidate_url + path, json=body, headers=shadow)
            diffs = compare(observe(legacy), observe(candidate), CONFIG)
            outcomes[route].append(not diffs)
            for diff in diffs:
                line = (f"{route} {name} {diff.path} {diff.kind}: legacy={diff.control!r} "
                        f"candidate={diff.candidate!r} (input {body!r})")  # fmt: skip
                print("DIVERGENCE " + line)
                if (route, name) not in KNOWN:
                    unexplained.append(line)
    for route, matched in outcomes.items():
        print(f"PARITY {route}: {sum(matched)}/{len(matched)} = {sum(matched) / len(matched):.3f}")
    assert not unexplained, "\n".join(unexplained)
    assert all(outcomes[route] for route in ("text-lid", "transliterate"))


@pytest.mark.parametrize(
    "path",
    [
        "/doc-ai/v1/job/upload",
        "/speech-to-text/job/v1/status",
        "/speech-to-text-translate/job/v1/status",
    ],
)
def test_a_route_not_ported_answers_501_with_the_envelope(candidate_url: str, path: str) -> None:
    answer = httpx.post(candidate_url + path, json={}, headers={"X-Request-ID": "np-1"})
    assert answer.status_code == 501
    error = answer.json()["error"]
    assert "not" in error["message"]
    assert error["request_id"] == "np-1"
