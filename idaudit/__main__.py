import sys

from idaudit.cli import main

sys.exit(main())
