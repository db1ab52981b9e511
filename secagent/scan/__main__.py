"""`python -m secagent.scan ARGS...`: the same as `secagent scan ARGS...`."""

import sys

from secagent.scan.cli import cli_main

sys.exit(cli_main(sys.argv[1:]))
