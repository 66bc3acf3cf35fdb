import sys

from riskmap.cli import main

sys.exit(main())
