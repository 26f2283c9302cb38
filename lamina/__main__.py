"""``python -m lamina``: the ``lamina`` command (see :mod:`lamina.cli`)."""
import sys

from lamina.cli import main

sys.exit(main())
