"""Values the core reads from command-line options: one parser for `NAME=NUMBER` lists."""

from __future__ import annotations

import math


def name_and_number(spec: str) -> tuple[str, str, float]:
    """`NAME=NUMBER` read: (name, the number as written, its value, NaN unless a finite number).

    ValueError when there is no `=`, or nothing on one side of it.
    """
    name, equals, number = (piece.strip() for piece in spec.partition("="))
    if not equals or not name or not number:
        raise ValueError(f"{spec.strip()!r} is not NAME=NUMBER")
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    return name, number, value if math.isfinite(value) else math.nan
