"""How a schema field is recognised in a document's text: its label, and its value's type.

A field's **label** is three sets of words: its name's (``invoice_number``, ``invoiceNumber``
→ invoice, number), its description's, and its parents' names (``customer.name`` has the
context word customer). Words are lower-cased, a trailing ``s`` dropped, common abbreviations
spelled out (no, nr, # → number; amt → amount; qty → quantity...) and filler words removed.

A text's **key** (what stands before a value: "Invoice No.:", "Total amount") matches a label
with a score in [0, 1.1]: precision (the key's words that are the label's) times recall (the
name's words the key has, or 0.9 times the description's), plus 10% if a context word is in
the key, so "Customer name" beats "Name" for ``customer.name``. A key with a figure in it
is not a key (the value has begun). Scores of 0.5 and above count.

A **value** is coerced to the field's type, or refused (None): numbers take their first figure
with thousands separators (``1,250.00``, Indian ``1,25,000``) and a currency around it;
integers must be whole; booleans are yes/no/true/false/y/n; enums match case-insensitively
as whole words, the longest option first; strings are the text, or for identifiers (a name
with number, id, code or reference) its first word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Label", "coerce", "key_words", "label_of", "score"]

_WORD: Final = re.compile(r"[a-z0-9]+|#")
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NUMBER: Final = re.compile(r"(?<!\w)[-+]?(?:\d{1,3}(?:,\d{2,3})+|\d+)(?:\.\d+)?(?![\w])")
_LEADING: Final = re.compile(r"^(?:[\s:=#]+|[-.](?=\s))+")  # what separates a key from its value
_SYNONYMS: Final = {
    "no": "number", "nr": "number", "num": "number", "#": "number", "amt": "amount",
    "qty": "quantity", "desc": "description", "dt": "date", "tel": "phone", "mobile": "phone",
    "addr": "address", "inv": "invoice", "ref": "reference", "id": "identifier",
}  # fmt: skip
_FILLER: Final = frozenset(
    {"a", "an", "and", "any", "are", "as", "at", "be", "by", "each", "field", "for", "from", "if",
     "in", "is", "it", "its", "of", "on", "or", "per", "that", "the", "this", "to", "value", "was",
     "what", "whether", "which", "with"}
)  # fmt: skip
_IDENTIFIERS: Final = frozenset({"number", "identifier", "code", "reference"})
_TRUE: Final = frozenset({"yes", "y", "true"})
_FALSE: Final = frozenset({"no", "n", "false"})


@dataclass(frozen=True, slots=True)
class Label:
    name: frozenset[str]
    description: frozenset[str]
    context: frozenset[str]
    identifier: bool  # a string field whose value is one word (an invoice number, a code)


def label_of(name: str, description: str, parents: tuple[str, ...] = ()) -> Label:
    def spelled(text: str) -> frozenset[str]:
        return frozenset(key_words(_CAMEL.sub(" ", text).replace("_", " ").replace("-", " ")))

    context = frozenset().union(*(spelled(p) for p in parents)) if parents else frozenset()
    words = spelled(name)
    return Label(words, spelled(description), context, identifier=bool(words & _IDENTIFIERS))


def key_words(text: str) -> list[str]:
    """The text's words as labels are compared: lower case, abbreviations spelled out, no
    filler, no trailing s."""
    words = (_SYNONYMS.get(w, w) for w in _WORD.findall(text.lower()))
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in _FILLER]


def score(words: frozenset[str], label: Label) -> float:
    """How well a key (its ``key_words``) names the field; 0 when it cannot."""
    if not words or not label.name or any(w.isdigit() for w in words):
        return 0.0
    known = label.name | label.description | label.context
    precision = len(words & known) / len(words)
    recall = max(
        len(words & label.name) / len(label.name),
        0.9 * len(words & label.description) / len(label.description) if label.description else 0,
    )
    bonus = 1.1 if words & label.context else 1.0
    return precision * recall * bonus


def coerce(text: str, spec: dict[str, object], label: Label) -> object | None:
    """``text`` as a value of the field ``spec``, or None if it is not one."""
    text = _LEADING.sub("", text).strip()
    if not text:
        return None
    enum = spec.get("enum")
    if isinstance(enum, list):
        return _option(text, enum)
    kind = spec.get("type")
    if kind in ("number", "integer"):
        return _number(text, whole=kind == "integer")
    if kind == "boolean":
        first = _WORD.findall(text.lower())[:1] or [""]
        return True if first[0] in _TRUE else False if first[0] in _FALSE else None
    if kind == "string":
        return text.split()[0].rstrip(".,;") if label.identifier else text
    return None


def _option(text: str, options: list[object]) -> object | None:
    lowered = f" {' '.join(_WORD.findall(text.lower()))} "
    for option in sorted(options, key=lambda o: (-len(str(o)), str(o))):
        spelled = " ".join(_WORD.findall(str(option).lower()))
        if spelled and f" {spelled} " in lowered:
            return option
    return None


def _number(text: str, *, whole: bool) -> int | float | None:
    found = _NUMBER.search(text)
    if found is None:
        return None
    figure = found.group().replace(",", "")
    if "." not in figure:
        return int(figure)
    value = float(figure)
    if whole:
        return int(value) if value.is_integer() else None
    return value
