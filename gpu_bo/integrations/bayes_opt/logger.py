"""bayes_opt's ``bayes_opt.logger``: the table ``maximize`` prints, in ``ScreenLogger``'s layout.

``verbose``: 0 prints nothing, 1 the rows that set a new maximum, 2 every probe. A failed probe
shows ``failed`` as its target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__: list[str] = []


def _cell(v: Any) -> str:
    """One table cell: floats with 4 significant digits, anything else cut to 9 characters."""
    if isinstance(v, float):
        return f"{v:<9.4g}"
    return f"{str(v)[:9]:<9}"


class _ScreenLogger:
    """Prints the header, one row per registered point, and the footer of a ``maximize`` call."""

    def __init__(self, verbose: int) -> None:
        self.verbose = int(verbose)
        self.printed_header = False

    def header(self, names: Sequence[str]) -> None:
        """The column titles: iteration, target, then one column per parameter."""
        if self.verbose <= 0:
            return
        cells = ["iter", "target"] + list(names)
        line = "| " + " | ".join(f"{c[:9]:^9}" for c in cells) + " |"
        print(line)
        print("-" * len(line))
        self.printed_header = True

    def footer(self, names: Sequence[str]) -> None:
        """The closing rule under the table."""
        if self.verbose > 0:
            cells = 2 + len(names)
            print("=" * (cells * 12 + 1))

    def log(self, records: Sequence[Mapping[str, Any]], names: Sequence[str]) -> None:
        """The row of the last record (``records[-1]``), starred when it sets a new maximum."""
        if self.verbose <= 0:
            return
        rec = records[-1]
        done = [r["target"] for r in records[:-1] if r["target"] is not None]
        new_max = rec["target"] is not None and (not done or rec["target"] > max(done))
        if self.verbose == 1 and not new_max:
            return
        cells = [str(len(records)), "failed" if rec["target"] is None else rec["target"]]
        cells += [rec["params"][k] for k in names]
        print("| " + " | ".join(_cell(c) for c in cells) + " |" + (" *" if new_max else ""))
