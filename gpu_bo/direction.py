"""Direction: which way an objective is optimized (the one place where signs are flipped).

Its own module, below :mod:`gpu_bo.study` and :mod:`gpu_bo.pareto`, which both use it;
``gpu_bo.study`` re-exports it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["Direction", "parse_directions"]


class Direction(str, enum.Enum):
    """Which way an objective is optimized: the one place where signs are flipped.

    Internally every objective is maximized: ``direction.sign * value`` is the value the GP and
    the acquisition see, and ``direction.sign * internal`` turns it back (the sign is its own
    inverse). Multiplying by +-1.0 is exact, so no rounding comes from it.
    """

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"

    @classmethod
    def parse(cls, value: Any, label: str = "direction") -> Direction:
        """``"minimize"``/``"maximize"`` (or a Direction) -> Direction; else a ValueError naming ``label``."""
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"{label}: got {value!r}, expected 'minimize' or 'maximize'") from None

    @property
    def sign(self) -> float:
        """+1.0 for maximize, -1.0 for minimize: ``sign * value`` is to be maximized."""
        return 1.0 if self is Direction.MAXIMIZE else -1.0

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b`` in this direction."""
        return a > b if self is Direction.MAXIMIZE else a < b

    def best(self, items: Iterable[Any], key: Any = None) -> Any:
        """The best of ``items`` (by ``key(item)`` when given): ``max`` or ``min``."""
        pick = max if self is Direction.MAXIMIZE else min
        return pick(items, key=key) if key is not None else pick(items)

    def __str__(self) -> str:
        return self.value


def parse_directions(direction: str | Sequence[str], label: str = "direction",
                     max_n: int | None = None) -> tuple[str, ...]:
    """``"minimize"`` or ``["maximize", "minimize"]`` -> a tuple of checked direction names.

    Args:
        direction: one direction, or a sequence of them (one per objective).
        label: the parameter's name in error messages.
        max_n: the most entries allowed (None: no limit).

    Raises:
        ValueError: an empty or too long sequence, or an entry that is not
            ``"minimize"``/``"maximize"``.
    """
    if isinstance(direction, (str, Direction)):
        return (Direction.parse(direction, label).value,)
    if not isinstance(direction, Sequence) or not direction or (max_n is not None and len(direction) > max_n):
        most = f"at most {max_n} " if max_n is not None else ""
        raise ValueError(f"{label}: got {direction!r}, expected 'minimize', 'maximize' or a non-empty "
                         f"list of {most}of them (one per objective)")
    return tuple(Direction.parse(d, f"{label}[{i}]").value for i, d in enumerate(direction))
