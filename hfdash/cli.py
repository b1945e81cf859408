"""`hfdash COMMAND` (or `python -m hfdash COMMAND`): the same services the pages use.

Each service package adds its commands through `register(subparsers)` in its own `cli` module.
Usage errors, HfdashError and a closed output pipe print one line on stderr and exit with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from hfdash.errors import HfdashError

COMMAND_MODULES = ("hfdash.catalog.cli", "hfdash.hardware.cli", "hfdash.inference.cli")
USAGE_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage too; one clear line is enough
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    # `pip install .` gives an `hfdash` command; from a checkout it runs as `python -m hfdash`.
    prog = "hfdash" if os.path.basename(sys.argv[0]) == "hfdash" else "python -m hfdash"
    parser = OneLineParser(prog=prog, description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args) or 0
        sys.stdout.flush()  # a closed pipe shows up here rather than at exit
        return code
    except HfdashError as err:
        print(f"error: {err.user_message()}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # The reader (e.g. `head`) stopped early; stdout goes nowhere now so exiting cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("error: the output was closed before all of it was written.", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
