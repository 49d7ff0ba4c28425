"""``python -m fakewatch`` is the ``fakewatch`` command."""

import sys

from fakewatch.cli import main

sys.exit(main())
