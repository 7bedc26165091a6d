"""bayes_opt's ``bayes_opt.logger``: ``ScreenLogger``, the table ``maximize`` prints.

``verbose``: 0 prints nothing, 1 the rows that set a new maximum, 2 every probe. A failed probe
shows ``failed`` as its target; with a constraint a column says whether the point is allowed.
The layout is bayes_opt's (iteration, target, one column per parameter); the exact characters
are not promised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ScreenLogger"]


def _cell(v: Any, width: int = 9) -> str:
    """One table cell: floats with 4 significant digits, anything else cut to ``width`` characters."""
    if isinstance(v, float):
        return f"{v:<{width}.4g}"
    return f"{str(v)[:width]:<{width}}"


class ScreenLogger:
    """Prints the header, one row per registered point and the footer of a ``maximize`` call.

    Args:
        verbose: 0 silent, 1 new maxima only, 2 every point.
        is_constrained: whether to print the ``allowed`` column.
    """

    def __init__(self, verbose: int = 2, is_constrained: bool = False) -> None:
        self.verbose = int(verbose)
        self.is_constrained = bool(is_constrained)
        self._iterations = 0
        self._previous_max: float | None = None
        self._header_length: int | None = None

    def _columns(self, keys: Sequence[str]) -> list[str]:
        return ["iter", "target"] + (["allowed"] if self.is_constrained else []) + list(keys)

    def log_optimization_start(self, keys: Sequence[str]) -> None:
        """The column titles.

        Args:
            keys: the parameter names.
        """
        if self.verbose <= 0:
            return
        line = "| " + " | ".join(f"{c[:9]:^9}" for c in self._columns(keys)) + " |"
        self._header_length = len(line)
        print(line)
        print("-" * len(line))

    def log_optimization_step(self, keys: Sequence[str], result: Mapping[str, Any],
                              params_config: Any = None, current_max: Mapping[str, Any] | None = None) -> None:
        """The row of one registered point, starred when it sets a new maximum.

        Args:
            keys: the parameter names.
            result: ``{"target", "params"(, "allowed")}``; a None target is a failed point.
            params_config: the parameter objects (accepted for bayes_opt's signature).
            current_max: the optimizer's ``max`` after this point.
        """
        self._iterations += 1
        target = result.get("target")
        best = None if current_max is None else current_max.get("target")
        new_max = target is not None and best is not None and target == best and (
            self._previous_max is None or best > self._previous_max)
        if best is not None:
            self._previous_max = best if self._previous_max is None else max(best, self._previous_max)
        if self.verbose <= 0 or (self.verbose == 1 and not new_max):
            return
        cells: list[Any] = [str(self._iterations), "failed" if target is None else float(target)]
        if self.is_constrained:
            cells.append(str(result.get("allowed", "")))
        cells += [result["params"][k] for k in keys]
        print("| " + " | ".join(_cell(c) for c in cells) + " |" + (" *" if new_max else ""))

    def log_optimization_end(self) -> None:
        """The closing rule under the table."""
        if self.verbose > 0 and self._header_length:
            print("=" * self._header_length)
