"""The seam through which the admin API gets shadow evidence without importing ``shadow/``.

The composition root builds shadow-side implementations (``shadow.evidence.ReportEvidence``
over the report of ``shadow.report``) and passes them to ``create_admin_app``; the proxy only
knows these Protocols, so it keeps serving with no shadow store at all (rfcs/0005 §8).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Evidence",
    "EvidenceFactory",
    "EvidenceStore",
    "Judgement",
    "ReportSource",
    "gate_failures",
]


@dataclass(frozen=True, slots=True)
class Judgement:
    """Whether a route may move to ``target_mode``. ``failures`` are one sentence each, with
    numbers; ``evidence`` is what the verdict was based on (stored in the audit row) and carries
    ``"failures": [{"gate", "message"}]`` for callers that show gates one by one."""

    passed: bool
    failures: tuple[str, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)


class Evidence(Protocol):
    async def judge(self, route: str, target_mode: str) -> Judgement: ...


class ReportSource(Protocol):
    async def report(self, since_s: float) -> Mapping[str, Any]:
        """The report JSON (``shadow/report.py``) over the last ``since_s`` seconds."""
        ...

    async def example(self, route: str, field: str) -> Mapping[str, Any] | None:
        """One stored example of a diff at ``field``: ``{request_id, diff, legacy,
        candidate}`` (``shadow.examples``), or None when none is kept."""
        ...


class EvidenceStore(Evidence, ReportSource, Protocol):
    """Both seams from one store (``shadow.store_reader.StoreReader``), closed with the proxy."""

    async def aclose(self) -> None: ...


# Built by the composition root, called by the proxy with a view of its live route modes.
EvidenceFactory = Callable[[Callable[[], Mapping[str, str]]], EvidenceStore]


def gate_failures(judgement: Judgement) -> list[dict[str, str]]:
    """The failed gates as ``[{"gate", "message"}]``, from the structured list in the evidence
    when the implementation gave one, else one entry per failure sentence."""
    listed = judgement.evidence.get("failures")
    if isinstance(listed, list | tuple) and all(
        isinstance(f, Mapping) and "gate" in f and "message" in f for f in listed
    ):
        return [{"gate": str(f["gate"]), "message": str(f["message"])} for f in listed]
    return [{"gate": "evidence", "message": m} for m in judgement.failures]
