"""`python -m user2smart.smartrecruiters.emulator --host 127.0.0.1 --port 8900 [--state FILE]`."""

from __future__ import annotations

import sys

from user2smart.smartrecruiters.emulator.cli import main

sys.exit(main())
