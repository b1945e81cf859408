import sys

from hfdash.cli import main

sys.exit(main())
