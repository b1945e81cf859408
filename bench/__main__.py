"""`python -m bench`: run every bench/bench_*.py main() in turn; exit non-zero if any target is missed."""

import importlib
import pkgutil
import sys

import bench


def main() -> int:
    failed = []
    for module in sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")):
        print(f"\n=== {module}", flush=True)
        if importlib.import_module(f"bench.{module}").main() not in (None, 0):
            failed.append(module)
    if failed:
        print(f"\ntargets missed in: {', '.join(failed)}")
    return 1 if failed else 0


sys.exit(main())
