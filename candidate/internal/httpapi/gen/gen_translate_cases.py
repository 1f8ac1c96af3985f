"""Write ../testdata/translate_cases.json: legacy's answers on POST /translate, for replay.

Runs legacy/translate_api.py's router in the app gen_http_cases.py builds (legacy's error
handlers, commerce, request ids, the fake ledger, the language-identification model), with the
inference server's real /v1/translate route in process (legacy/inference/translation_route.py,
no latency), and records per case what gen_http_cases.py records plus every call of the
translation model: its body and what the model answered. The Go test replays each case
against the candidate with a fake inference server that answers those calls the same way.

Texts carrying a marker make the model fail as a broken server would: REFUSE (a 500),
HANG_UP (the connection closed without an answer), GARBAGE (a 200 that is not a
translation). A case's "inference" says how the inference server is configured: "none" (no
URL: 503) or "refused" (nothing listens there); absent, it answers.

    .venv/bin/python candidate/internal/httpapi/gen/gen_translate_cases.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from gen_http_cases import KEY, MODEL_REFUSES, make_app, record, req  # noqa: E402

from legacy.inference.profiles import LatencyProfile  # noqa: E402
from legacy.inference.translation_route import TranslationConfig, translation_router  # noqa: E402
from legacy.translate_api import translate_router  # noqa: E402

REFUSE, HANG_UP, GARBAGE = "REFUSE", "HANG_UP", "GARBAGE"
INFERENCE = "http://inference"


def add_translation(app: FastAPI) -> None:
    """legacy's /translate on app, calling the inference server's route in process."""
    app.include_router(translate_router)
    model = FastAPI()
    model.include_router(translation_router(TranslationConfig(latency=LatencyProfile())))
    server = httpx.AsyncClient(transport=httpx.ASGITransport(app=model), base_url=INFERENCE)
    app.state.translate_calls = []

    async def inference(request: httpx.Request) -> httpx.Response:
        if request.url.host == "refused":
            raise httpx.ConnectError("All connection attempts failed", request=request)
        call = json.loads(request.content)
        calls: list[dict[str, Any]] = app.state.translate_calls
        if HANG_UP in call["text"]:
            calls.append({"call": call, "hang_up": True})
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if REFUSE in call["text"]:
            answer = httpx.Response(500, json={"error": {"message": "the model crashed"}})
        elif GARBAGE in call["text"]:
            answer = httpx.Response(200, json={"characters": len(call["text"])})
        else:
            answer = await server.post(request.url.path, content=request.content,
                                       headers={"content-type": "application/json"})  # fmt: skip
        calls.append({"call": call, "status": answer.status_code, "body": answer.text})
        return httpx.Response(answer.status_code, content=answer.content,
                              headers={"content-type": "application/json"})  # fmt: skip

    app.state.inference = httpx.AsyncClient(transport=httpx.MockTransport(inference))


def tr(name: str, body: Any, *, inference: str = "", **kw: Any) -> dict[str, Any]:
    return {**req(name, "/translate", body, **kw), "inference": inference}


def ask(text: Any = "Hello, how are you?", source: Any = "en-IN", target: Any = "hi-IN",
        **more: Any) -> dict[str, Any]:  # fmt: skip
    return {"input": text, "source_language_code": source, "target_language_code": target, **more}


SARVAM = {"model": "sarvam-translate:v1"}
SENTENCES = " ".join(f"Sentence {n} is good." for n in range(100))
LONG_1900 = SENTENCES[:1900].rsplit(" ", 1)[0]
LONG_990 = SENTENCES[:990].rsplit(" ", 1)[0]
HINDI = "नमस्ते, आप कैसे हैं? मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ। मेरे पास 25 किताबें हैं।"
MARATHI = "माझे नाव राहुल आहे आणि मी पुण्यात राहतो. मला मराठी बोलायला आवडते."
ENGLISH = "Hello, how are you? My name is Rahul. I have 25 books."
# fmt: off
REQUESTS = [
    # Answers: modes, genders, scripts, numerals, every model.
    tr("tr-ok", ask(ENGLISH)),
    tr("tr-tamil", ask(ENGLISH, target="ta-IN")),
    tr("tr-to-english", ask(HINDI, "hi-IN", "en-IN")),
    tr("tr-bengali-gujarati", ask("আমার নাম রাহুল। ধন্যবাদ।", "bn-IN", "gu-IN")),
    tr("tr-classic", ask("Thank you. You are welcome.", mode="classic-colloquial")),
    tr("tr-modern", ask("Thank you for the phone.", mode="modern-colloquial")),
    tr("tr-code-mixed", ask("My phone and my computer.", mode="code-mixed", target="mr-IN")),
    tr("tr-female", ask("I am going. I am tired.", speaker_gender="Female")),
    tr("tr-male", ask("I am going.", speaker_gender="Male", mode="formal")),
    tr("tr-roman", ask("My name is Rahul.", output_script="roman")),
    tr("tr-roman-bengali", ask(ENGLISH, target="bn-IN", output_script="roman")),
    tr("tr-fully-native", ask("My phone.", mode="code-mixed", output_script="fully-native")),
    tr("tr-spoken", ask("I have 25 books and 1,23,456.75 rupees.",
                        output_script="spoken-form-in-native", numerals_format="native")),
    tr("tr-native-digits", ask("I have 25 books.", numerals_format="native", target="te-IN")),
    tr("tr-international", ask("I have 25 books.", numerals_format="international")),
    tr("tr-nulls", ask(speaker_gender=None, mode=None, model=None, output_script=None,
                       numerals_format=None)),
    tr("tr-sarvam", ask(ENGLISH, target="ne-IN", **SARVAM)),
    tr("tr-sarvam-urdu", ask(ENGLISH, target="ur-IN", **SARVAM)),
    tr("tr-sarvam-digits", ask("I have 25 books.", target="as-IN", numerals_format="native",
                               **SARVAM)),
    tr("tr-sarvam-formal", ask(mode="formal", **SARVAM)),
    tr("tr-sarvam-source", ask("नमस्ते", "sa-IN", "en-IN", **SARVAM)),
    tr("tr-newlines", ask("Hello.\n\nThank you.\tYes!  ")),
    tr("tr-emoji", ask("😀 hello 😀")),
    # Chunking: over the model's 500 characters per call.
    tr("tr-chunked-sarvam", ask(LONG_1900, **SARVAM)),
    tr("tr-chunked-mayura", ask(LONG_990, target="kn-IN", output_script="roman")),
    tr("tr-chunked-hindi", ask(HINDI * 8, "hi-IN", "en-IN")),
    tr("tr-chunked-one-word", ask("a" * 1200, **SARVAM)),
    tr("tr-whitespace-short", ask(" \n ")),
    tr("tr-whitespace-long", ask(" " * 600)),
    tr("tr-max-mayura", ask("a " * 500)),
    # Auto: the script decides; Devanagari asks the identification model.
    tr("tr-auto-english", ask(ENGLISH, "auto")),
    tr("tr-auto-tamil", ask("வணக்கம், எப்படி இருக்கிறீர்கள்?", "auto", "en-IN")),
    tr("tr-auto-hindi", ask(HINDI, "auto", "en-IN")),
    tr("tr-auto-marathi", ask(MARATHI, "auto", "en-IN")),
    tr("tr-auto-same-as-target", ask(HINDI, "auto", "hi-IN")),
    tr("tr-auto-no-script", ask("12345 !!!", "auto")),
    tr("tr-auto-olck", ask("ᱥᱟᱱᱛᱟᱲᱤ", "auto", **SARVAM)),
    tr("tr-auto-urdu-mayura", ask("میں اردو بولتا ہوں", "auto", "en-IN")),
    tr("tr-auto-urdu-sarvam", ask("میں اردو بولتا ہوں", "auto", "en-IN", **SARVAM)),
    tr("tr-auto-model-refuses", ask(MODEL_REFUSES, "auto", "en-IN")),
    # Refusals: the model's limits, the same language.
    tr("tr-mayura-too-long", ask("a" * 1001)),
    tr("tr-mayura-target", ask(target="ur-IN")),
    tr("tr-mayura-source", ask(source="sa-IN")),
    tr("tr-mayura-both", ask(source="ne-IN", target="ks-IN")),
    tr("tr-sarvam-mode", ask(mode="code-mixed", **SARVAM)),
    tr("tr-sarvam-mode-and-script", ask(mode="modern-colloquial", output_script="roman",
                                        **SARVAM)),
    tr("tr-sarvam-script", ask(output_script="roman", **SARVAM)),
    tr("tr-same", ask(source="hi-IN", target="hi-IN")),
    tr("tr-same-too-long", ask("a" * 1001, "hi-IN", "hi-IN")),
    # Validation (422).
    tr("tr-missing", {}),
    tr("tr-too-long", ask("a" * 2001, **SARVAM)),
    tr("tr-empty", ask("")),
    tr("tr-bad-source", ask(source="fr-FR")),
    tr("tr-bad-target", ask(target="auto")),
    tr("tr-bad-mode", ask(mode="casual")),
    tr("tr-bad-gender", ask(speaker_gender="male")),
    tr("tr-bad-model", ask(model="mayura:v2")),
    tr("tr-bad-script", ask(output_script="native")),
    tr("tr-bad-numerals", ask(numerals_format="roman")),
    tr("tr-all-wrong", ask(5, None, ["hi-IN"], speaker_gender=1, mode=True, model={},
                           output_script=1.5, numerals_format="x")),
    tr("tr-null-required", ask(None, None, None)),
    tr("tr-extra-field", ask(temperature=0.5)),
    tr("tr-surrogate", None, raw=b'{"input":"\\ud800","source_language_code":"en-IN",'
                                 b'"target_language_code":"hi-IN"}'),
    tr("tr-not-json", None, raw=b"input=hello"),
    # The model failing, and no inference server.
    tr("tr-model-refuses", ask(f"Hello. {REFUSE}.")),
    tr("tr-model-refuses-a-chunk", ask(f"{LONG_1900[:1200]} {REFUSE}.", **SARVAM)),
    tr("tr-model-hangs-up", ask(f"Hello {HANG_UP}")),
    tr("tr-model-garbage", ask(f"Hello {GARBAGE}")),
    tr("tr-model-refused-connection", ask(ENGLISH), inference="refused"),
    tr("tr-no-inference", ask(ENGLISH), inference="none"),
    tr("tr-no-inference-same", ask(source="hi-IN", target="hi-IN"), inference="none"),
    tr("tr-no-inference-invalid", ask(mode="casual"), inference="none"),
    # Billing: keys, refusals, shadow requests.
    tr("tr-no-key", ask(), headers={}),
    tr("tr-bad-key", ask(), headers={"api-subscription-key": "bad"}),
    tr("tr-broke", ask(), headers={"api-subscription-key": "broke"}),
    tr("tr-limited", ask(), headers={"api-subscription-key": "limited"}),
    tr("tr-broke-refused-first", ask(target="ur-IN"), headers={"api-subscription-key": "broke"}),
    tr("tr-shadow", ask(ENGLISH, "auto"), headers={**KEY, "x-banyan-shadow": "1"}),
    tr("tr-bearer", ask(), headers={"authorization": "Bearer ok"}),
    # Routing.
    tr("tr-get", None, method="GET", content_type=None),
    tr("tr-slash", ask(), header_list=[]) | {"path": "/translate/"},
]
# fmt: on


def main() -> None:
    app = make_app()
    add_translation(app)
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    out = []
    for case in REQUESTS:
        app.state.inference_url = {"none": None, "refused": "http://refused"}.get(
            case["inference"], INFERENCE
        )
        recorded = record(app, client, case)
        calls, app.state.translate_calls = app.state.translate_calls, []
        out.append({**recorded, "inference": case["inference"], "translate_calls": calls})
    target = HERE.parent / "testdata" / "translate_cases.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(out)} cases")


if __name__ == "__main__":
    main()
