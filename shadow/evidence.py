"""The shadow side of the admin API's ``Evidence`` seam: judge a promotion on the route's report.

The report callable is injected (the composition root binds ``shadow.report.build_report`` to
a pool); this class only picks the route's entry, runs the gates and packs what it saw, so the
audit row of a forced promotion shows the very numbers that were overridden.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from proxy.evidence import Judgement
from shadow.gates import GateFailure, GateSettings, check_gates, describe_window

__all__ = ["ReportEvidence", "route_entry"]

ReportFn = Callable[[str, float], Awaitable[Mapping[str, Any]]]


def route_entry(report: Mapping[str, Any], route: str) -> Mapping[str, Any] | None:
    """The route's entry of a report (a whole report or already one entry), or None."""
    if "routes" not in report:
        return report if report.get("route") == route else None
    for entry in report.get("routes") or ():
        if isinstance(entry, Mapping) and entry.get("route") == route:
            return entry
    return None


class ReportEvidence:
    def __init__(self, report: ReportFn, settings: GateSettings) -> None:
        self.report = report
        self.settings = settings

    async def judge(self, route: str, target_mode: str) -> Judgement:
        window = describe_window(self.settings.window_s)
        entry = route_entry(await self.report(route, self.settings.window_s), route)
        if entry is None:
            failures = [GateFailure("compared", f"no shadow comparisons for {route} over {window}")]
        else:
            failures = check_gates(entry, self.settings)
        return Judgement(
            passed=not failures,
            failures=tuple(f.message for f in failures),
            evidence={
                "target_mode": target_mode,
                "window": window,
                "settings": self.settings.view(),
                "report": dict(entry) if entry is not None else None,
                "failures": [{"gate": f.gate, "message": f.message} for f in failures],
            },
        )
