"""Categorical dimensions and the values they can hold and store: plain choices, their
identity, their JSON form.

A point is stored as JSON (``Optimizer.state_dict``, the storages), which tells ``1`` from
``1.0`` but has no tuple. So the choices that storage gives back equal and of the same type are
str, int, float, bool and None, and tuples of them (nested too): a tuple comes back as a list,
which :func:`from_json` (and :meth:`Categorical.index`) turn back into the tuple. A value JSON
would store but give back as another type (a str or int subclass such as a str Enum or an
IntEnum, a namedtuple) is refused by :func:`plain_choice` when the space is built; numpy
scalars become plain values. Other hashable values (an estimator, a frozenset) work in memory,
and a storage refuses them loudly (JSON cannot hold them) rather than changing them.

Glossary: a *choice key* is ``(type, value)``, applied inside tuples too, so that ``1``,
``1.0`` and ``True`` (equal in Python) stay three choices, and ``(1,)``, ``(1.0,)``, ``(True,)``
three more.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from gpu_bo.conditions import as_when
from gpu_bo.exceptions import SpaceError

__all__ = ["STORABLE", "Categorical", "choice_key", "from_json", "plain_choice"]

STORABLE = "str, int, float, bool, None or a tuple of them"
_SCALARS = (str, int, float, bool, type(None))


def _numpy_scalar(v: Any) -> bool:
    return type(v).__module__ == "numpy" and hasattr(v, "item") and getattr(v, "ndim", None) == 0


def plain_choice(c: Any, where: str) -> Any:
    """``c`` as a plain choice (numpy scalars become Python ones), or a SpaceError.

    Args:
        c: a choice as given by the user.
        where: the dimension, for the error message (``"Categorical 'opt'"``).

    Raises:
        SpaceError: ``c`` is not hashable, is or holds NaN (never equal to itself), or is or
            holds a value that storage would give back as another type (a subclass of str,
            int, float or tuple).
    """
    def plain(v: Any) -> Any:
        if _numpy_scalar(v):
            v = v.item()
        if type(v) is tuple:
            return tuple(plain(x) for x in v)
        inner = "" if v is c else f" holds {v!r}, which"
        base = next((b for b in (str, int, float, tuple) if isinstance(v, b)), None)
        if base is not None and type(v) not in _SCALARS:
            raise SpaceError(f"{where}: choice {c!r}{inner} is a {type(v).__name__}, which storage gives "
                             f"back as a plain {base.__name__}; expected {STORABLE} "
                             "(for an Enum member, its .value)")
        if type(v) is float and math.isnan(v):
            raise SpaceError(f"{where}: choice {c!r}{inner} is nan, which equals nothing; expected a "
                             "value equal to itself")
        try:
            hash(v)
        except TypeError:
            raise SpaceError(f"{where}: choice {c!r}{inner} is not hashable ({type(v).__name__}); "
                             f"expected {STORABLE}") from None
        return v

    return plain(c)


def choice_key(v: Any) -> tuple:
    """The identity of a choice: ``(type, value)``, recursively inside tuples."""
    if type(v) is tuple:
        return (tuple, tuple(choice_key(x) for x in v))
    return (type(v), v)


def from_json(v: Any) -> Any:
    """A value read back from JSON with its lists turned back into tuples (recursively)."""
    if isinstance(v, (list, tuple)):
        return tuple(from_json(x) for x in v)
    return v


def _named_str(name: str | None) -> str:
    return f" {name!r}" if name else ""


class Categorical:
    """A parameter that takes one of ``choices``: str, int, float, bool, None, tuples of them, or
    another hashable value (kept in memory only).

    Choices are matched by type and value (inside tuples too), so ``[1, True]`` are two
    distinct choices. A value JSON storage would give back as another type (an Enum member
    that is a str or int, a namedtuple) is refused; tuples come back as tuples, and numpy
    scalars become plain Python values (see the module docstring).
    """

    kind = "categorical"

    def __init__(self, choices: Sequence[Hashable], name: str | None = None, when: Any = None) -> None:
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Iterable):
            raise SpaceError(
                f"Categorical{_named_str(name)}: choices={choices!r}; expected a list of values"
            )
        given = list(choices)
        if not given:
            raise SpaceError(f"Categorical{_named_str(name)}: choices=[] is empty; expected at least one value")
        choices = [plain_choice(c, f"Categorical{_named_str(name)}") for c in given]
        keys = []
        for c in choices:
            key = choice_key(c)
            if key in keys:
                raise SpaceError(
                    f"Categorical{_named_str(name)}: choice {c!r} appears more than once in "
                    f"{given!r}; expected distinct choices"
                )
            keys.append(key)
        self.choices: tuple = tuple(choices)
        self.name = name
        self._index = {k: i for i, k in enumerate(keys)}
        # a condition (gpu_bo.conditions): active only when its parents take the given values
        self.when = as_when(when, f"Categorical{_named_str(name)}")

    def __repr__(self) -> str:
        cond = f", when={self.when!r}" if self.when is not None else ""
        return f"Categorical({list(self.choices)!r}{cond})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Categorical) and list(self._index) == list(other._index)
                and self.when == other.when)

    def __hash__(self) -> int:
        return hash((tuple(self._index), self.when))

    @property
    def n_bins(self) -> int:
        return len(self.choices)

    def index(self, v: Any, pname: str) -> int:
        """The position of ``v`` among the choices (a list read back from JSON matches a tuple)."""
        try:
            i = self._index.get(choice_key(from_json(v) if isinstance(v, list) else v))
        except TypeError:  # unhashable value
            i = None
        if i is None:
            # numpy scalars and the like: fall back to equality, never mixing bools and numbers
            for j, c in enumerate(self.choices):
                if isinstance(c, bool) != isinstance(v, bool) or isinstance(c, tuple):
                    continue
                try:
                    if c == v:
                        i = j
                        break
                except Exception:  # noqa: BLE001 - exotic __eq__
                    continue
        if i is None:
            raise SpaceError(
                f"parameter {pname!r}: got {v!r}, expected one of {list(self.choices)!r}"
            )
        return i

    def encode_value(self, v: Any, pname: str) -> float:
        return (self.index(v, pname) + 0.5) / self.n_bins

    def decode_value(self, x: float) -> Any:
        i = min(int(min(max(x, 0.0), 1.0) * self.n_bins), self.n_bins - 1)
        return self.choices[i]

    def plain(self, v: Any) -> Any:
        """The choice ``v`` stands for, itself (a tuple, not the list JSON gave back)."""
        return self.choices[self.index(v, self.name or "")]

    def snap_column(self, x: Any) -> Any:
        """The encoded column ``x`` (a tensor ``...``) moved to its choice's bin centre."""
        import torch

        k = self.n_bins
        return (torch.clamp(torch.floor(x * k), 0, k - 1) + 0.5) / k

    def to_dict(self) -> dict:
        d = {"type": "categorical", "choices": list(self.choices)}
        if self.when is not None:
            d["when"] = self.when.to_dict()
        return d
