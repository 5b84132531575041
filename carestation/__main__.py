"""Allows `python -m carestation`."""

from carestation.cli import main

raise SystemExit(main())
