"""`python -m demo`: the same as `python -m demo.server` (serve the demo shop until Ctrl-C)."""

import sys

from demo.server import main

sys.exit(main())
