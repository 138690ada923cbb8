"""``python -m gradfit.lecture [--only NAME ...] [--out DIR] [--fast]``: the lecture's figures."""

import sys

from gradfit.lecture import cli_main

if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
