"""Shadow engine: mirroring off the live path, comparators, noise learning, deltas, reports.

Built in issue 6. Consumes the proxy's bounded mirror queue; speaks HTTP only, never imports
``legacy`` (rfcs/0001 §2).
"""

from __future__ import annotations

__all__: list[str] = []
