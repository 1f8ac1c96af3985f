"""``python -m banyan`` is the ``banyan`` CLI; the lab starts its services this way."""

from banyan.cli import main

main()
