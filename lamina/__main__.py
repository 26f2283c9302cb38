"""``python -m lamina``: the ``lamina`` command (see :mod:`lamina.cli`)."""
import sys

from lamina.cli import main

if __name__ == "__main__":  # not when a documentation tool imports every module to read it
    sys.exit(main())
