"""``scope`` with the two pyll conversions a ``gb.Space`` can hold: ``scope.int(e)`` and
``scope.float(e)`` (hyperopt scripts write ``scope.int(hp.quniform(...))``). Every other pyll
function raises a ``TypeError`` saying why.
"""

from __future__ import annotations

from typing import Any

from gpu_bo.integrations.hyperopt.hp import Cast

__all__ = ["scope"]


class _Scope:
    """``scope.int`` and ``scope.float``; any other name raises when it is called."""

    def int(self, expr: Any) -> Cast:
        """The value of ``expr`` as an int.

        Args:
            expr: an hp expression.
        """
        return Cast("int", expr)

    def float(self, expr: Any) -> Cast:
        """The value of ``expr`` as a float.

        Args:
            expr: an hp expression.
        """
        return Cast("float", expr)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        def refused(*args: Any, **kwargs: Any) -> Cast:
            return Cast(name, None)  # raises the TypeError naming scope.<name>

        return refused


scope = _Scope()
