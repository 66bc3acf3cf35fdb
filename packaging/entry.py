"""The bundle's one executable: ``riskmap`` (no argument: the desktop window) and every subcommand."""

import sys

from riskmap.cli import main

if __name__ == "__main__":
    sys.exit(main())
