"""`python -m hfdash COMMAND`: the same services the pages use.

Each service package adds its commands through `register(subparsers)` in its own `cli` module.
Usage errors and HfdashError print one line on stderr and exit with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from hfdash.errors import HfdashError

COMMAND_MODULES = ("hfdash.catalog.cli", "hfdash.hardware.cli", "hfdash.inference.cli")
USAGE_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage too; one clear line is enough
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m hfdash", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except HfdashError as err:
        print(f"error: {err.user_message()}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
