"""Language identification: the script decides, the inference server's model splits shared scripts.

Most Indian languages own a script (Tamil, Telugu, Gujarati …), so the script alone names the
language exactly. Where a script is shared — Devanagari by Hindi and Marathi — the
language-identification model on the inference server (``POST /v1/lid``, lingua's n-gram
detector) chooses; when it cannot tell, the answer is Hindi. Languages the model does not know
are not guessed: Bengali script is reported as bn-IN (Assamese shares it), and text in no
known script gets no language.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from legacy.text.scripts import dominant_script

__all__ = ["Identification", "LanguageIdentifier", "LidUnavailable"]

_SINGLE: dict[str, str] = {
    "Beng": "bn-IN", "Guru": "pa-IN", "Gujr": "gu-IN", "Orya": "od-IN", "Taml": "ta-IN",
    "Telu": "te-IN", "Knda": "kn-IN", "Mlym": "ml-IN", "Latn": "en-IN", "Arab": "ur-IN",
}  # fmt: skip
# A shared script and the languages the model chooses between for it.
_SHARED: dict[str, list[str]] = {"Deva": ["hi-IN", "mr-IN"]}
_UNDECIDED = "hi-IN"  # what the model's "cannot tell" becomes


@dataclass(frozen=True, slots=True)
class Identification:
    language_code: str | None
    script_code: str | None


class LidUnavailable(RuntimeError):
    """The model could not be asked (``status``: 503 not configured, 502 it failed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LanguageIdentifier:
    """Built once per process and passed down; asks the model only for a shared script."""

    def __init__(self, client: httpx.AsyncClient, inference_url: str | None) -> None:
        self._client = client
        self._url = f"{inference_url}/v1/lid" if inference_url else None

    async def identify(self, text: str) -> Identification:
        script = dominant_script(text)
        if script is None:
            return Identification(None, None)
        candidates = _SHARED.get(script)
        if candidates is None:
            return Identification(_SINGLE.get(script), script)
        return Identification(await self._ask_model(text, candidates) or _UNDECIDED, script)

    async def _ask_model(self, text: str, candidates: list[str]) -> str | None:
        if self._url is None:
            raise LidUnavailable(
                503, "language identification is not configured (BANYAN_INFERENCE_URL)"
            )
        try:
            response = await self._client.post(
                self._url, json={"text": text, "candidates": candidates}
            )
        except httpx.HTTPError as exc:
            raise LidUnavailable(
                502, f"the language-identification model is unreachable: {exc}"
            ) from exc
        if response.status_code != 200:
            raise LidUnavailable(
                502, f"the language-identification model refused the text ({response.status_code})"
            )
        found = response.json().get("language_code")
        return found if isinstance(found, str) else None
