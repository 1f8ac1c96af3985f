"""Turn one comparison's diffs into a :class:`~shadow.model.Verdict` (rfcs/0005 §4-§5).

Order of precedence, per diff: the route's ignore rules in their order (the first rule that
covers the path names it), then learned noise (reported as the rule ``"noise"``), else the diff
counts and the request is ``mismatched``. Called once per compared request, so it does no I/O,
compiles nothing and asks the noise learner once per distinct field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shadow.compare.config import IgnoreRule
from shadow.model import CandidateErrorKind, Diff, Verdict

__all__ = ["NOISE_RULE", "classify", "error_verdict"]

# The name under which learned noise appears among a verdict's ignored diffs and in reports.
NOISE_RULE = "noise"

_MATCHED = Verdict("matched")


def classify(
    diffs: Sequence[Diff], rules: Sequence[IgnoreRule], noise: Callable[[str], bool]
) -> Verdict:
    """The verdict of one comparison; ``noise(field)`` says whether a field is learned noise."""
    if not diffs:
        return _MATCHED
    counted: list[Diff] = []
    ignored: dict[str, list[Diff]] = {}
    noisy: dict[str, bool] = {}
    for diff in diffs:
        for rule in rules:
            if rule.covers(diff.path):
                ignored.setdefault(rule.name, []).append(diff)
                break
        else:
            name = diff.field
            is_noisy = noisy.get(name)
            if is_noisy is None:
                is_noisy = noisy[name] = noise(name)
            if is_noisy:
                ignored.setdefault(NOISE_RULE, []).append(diff)
            else:
                counted.append(diff)
    covered = tuple((name, tuple(items)) for name, items in ignored.items())
    if counted:
        return Verdict("mismatched", mismatched=tuple(counted), ignored=covered)
    return Verdict("ignored", ignored=covered)


def error_verdict(kind: CandidateErrorKind) -> Verdict:
    """The verdict of a request the candidate gave no comparable answer to."""
    return Verdict("candidate_error", error=kind)
