"""`python -m ember ...`: the same as the `ember` command."""

import sys

from .cli.main import main

sys.exit(main())
