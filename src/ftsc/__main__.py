"""`python -m ftsc` runs the `ftsc` command."""

import sys

from ftsc.cli import main

sys.exit(main())
