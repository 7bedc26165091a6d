"""The points an optimizer suggests before its GP takes over, and the last points of a small space.

Quasi-random: the Sobol sequence of the optimizer's seed, skipping points already issued; on a
small finite space whose unseen points the sampling misses, they are enumerated
(:meth:`gpu_bo.space.Space.unseen`).
"""

from __future__ import annotations

from typing import Any

import torch

from gpu_bo.exceptions import GpuBoError, SpaceExhausted
from gpu_bo.space import Space, point_key

__all__ = ["initial_points", "unseen_or_raise"]


def initial_points(space: Space, q: int, exclude: set, seed: int, n_issued: int, n_asks: int) -> list[dict[str, Any]]:
    """``q`` quasi-random points whose keys are not in ``exclude`` (their keys are added to it).

    Args:
        space: the search space.
        q: how many points.
        exclude: point keys never to return.
        seed: the optimizer's seed (the Sobol sequence's).
        n_issued: points issued so far (the length of the sequence to skip through).
        n_asks: asks so far (seeds the extra draws once the sequence is used up).

    Raises:
        SpaceExhausted: every point of the space has been issued.
    """
    X = space.sample(max(64, 2 * (n_issued + q)), seed=seed)
    out = []
    for attempt in range(20):
        for x in X:
            k = point_key(x)
            if k not in exclude:
                exclude.add(k)
                out.append(x)
                if len(out) == q:
                    return space.decode(torch.stack(out))
        X = space.sample(256, seed=seed + 104729 * (attempt + 1) + n_asks)
    err = SpaceExhausted("every point of the search space has already been evaluated or is pending")
    found = space.decode(torch.stack(out)) if out else []
    return found + unseen_or_raise(space, q - len(out), exclude, 0, err)


def unseen_or_raise(space: Space, q: int, exclude: set, seed: int, err: GpuBoError) -> list[dict[str, Any]]:
    """The sampled search missed the unseen points of a small finite space: enumerate them.

    Args:
        space: the search space.
        q: how many points.
        exclude: point keys never to return (the returned ones are added).
        seed: the enumeration's seed.
        err: what to raise when the space is not small and finite.

    Raises:
        GpuBoError: ``err``, or SpaceExhausted when nothing unseen is left.
    """
    size = space.n_points
    if size is None or size > 2**16:
        raise err
    X = space.unseen(exclude, q, seed)
    if X.shape[0] == 0:
        raise SpaceExhausted(str(err)) from err
    exclude.update(point_key(x) for x in X)
    return space.decode(X)
