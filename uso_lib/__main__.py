import sys

from uso_lib.cli import main

sys.exit(main())
