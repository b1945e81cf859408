"""Human units for parameter counts and byte sizes, both ways."""

from __future__ import annotations

import math
import re

_SUFFIXES = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*([KMBT]?)\s*$", re.IGNORECASE)


def parse_count(text: str | int | float) -> int:
    """'135M', '1.5B', '7e9', '2T' or a plain number -> an integer count."""
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = _COUNT.match(text)
        if not match:
            raise ValueError(f"not a parameter count: {text!r} (try 135M, 1.5B or 7e9)")
        value = float(match.group(1)) * _SUFFIXES[match.group(2).upper()]
    if not math.isfinite(value):
        raise ValueError(f"not a parameter count: {text!r} is too large")
    if value < 0:
        raise ValueError(f"a count cannot be negative: {text!r}")
    return int(round(value))


def human_count(n: int | float | None) -> str:
    """135_000_000 -> '135M', 1_500_000_000 -> '1.5B'; None -> '?'."""
    if n is None:
        return "?"
    for suffix in ("T", "B", "M", "K"):
        scale = _SUFFIXES[suffix]
        if abs(n) >= scale:
            value = n / scale
            digits = 0 if value >= 100 else 1 if value >= 10 else 2
            text = f"{value:.{digits}f}"
            # Trim trailing zeros of decimals only: 100 stays 100, 1.50 becomes 1.5.
            return (text.rstrip("0").rstrip(".") if "." in text else text) + suffix
    return str(int(n))


def human_bytes(n: int | float | None) -> str:
    """Binary units, as memory is sold: 1536 -> '1.5 KiB'; None -> '?'."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
