"""Banyan's lab core: settings, logging, migrations, the server launcher and the ``banyan`` CLI.

The parts of the system (``legacy/``, ``proxy/``, ``shadow/``, ``parity/``) each live in their own
top-level package; this package is what they share and what wires them into one lab. It knows
how to *start* every part but never reaches into their internals (rfcs/0001 §2).
"""

from __future__ import annotations

__all__: list[str] = []
