"""scikit-optimize's initial point generators (``skopt.sampler``) on ``scipy.stats.qmc``.

Each generator draws ``n`` points of the unit cube and maps them to the space through gpu_bo's
encoding (log-uniform reals and integers on their log scale, categoricals and integers by equal
bins), as skopt maps them through its ``"normalize"`` transform.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from scipy.spatial.distance import pdist
from scipy.stats import qmc
from sklearn.utils import check_random_state

__all__ = ["InitialPointGenerator", "Lhs", "Halton", "Hammersly", "Grid", "Sobol", "cook_initial_point_generator"]


class InitialPointGenerator:
    """A generator of space-filling initial points (subclasses implement ``unit``)."""

    def unit(self, n_dim: int, n_samples: int, rng: np.random.RandomState) -> np.ndarray:
        """``n_samples x n_dim`` points in the unit cube.

        Args:
            n_dim: the space's number of dimensions.
            n_samples: how many points.
            rng: the random state to draw from.
        """
        raise NotImplementedError

    def generate(self, dimensions: Any, n_samples: int, random_state: Any = None) -> list:
        """``n_samples`` points of the space (lists), as skopt's ``generate``.

        Args:
            dimensions: a list of dimensions or a ``Space``.
            n_samples: how many points.
            random_state: int, ``numpy.random.RandomState`` or None.

        Raises:
            ValueError: ``n_samples`` is not an int >= 0.
        """
        from gpu_bo.integrations.skopt.space.space import Space

        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 0:
            raise ValueError(f"n_samples: got {n_samples!r}; expected an int >= 0")
        space = dimensions if isinstance(dimensions, Space) else Space(dimensions)
        if n_samples == 0:
            return []
        import torch

        U = np.clip(self.unit(space.n_dims, int(n_samples), check_random_state(random_state)), 0.0, 1.0 - 1e-12)
        return [space.from_params(p) for p in space.to_gpu_bo().decode(torch.as_tensor(U, dtype=torch.float64))]


def _seed(rng: np.random.RandomState) -> int:
    return int(rng.randint(0, np.iinfo(np.int32).max))


class Lhs(InitialPointGenerator):
    """Latin hypercube sampling (scipy's ``LatinHypercube``), as skopt's ``Lhs``.

    Args:
        lhs_type: ``"classic"`` (a random point in each cell) or ``"centered"`` (cell centres).
        criterion: None, or ``"maximin"``, ``"correlation"``, ``"ratio"``: keep the best of
            ``iterations`` designs (largest smallest distance, smallest largest correlation,
            largest smallest/largest distance ratio).
        iterations: designs drawn for a criterion.

    Raises:
        ValueError: an unknown ``lhs_type`` or ``criterion``.
    """

    def __init__(self, lhs_type: str = "classic", criterion: str | None = "maximin", iterations: int = 1000) -> None:
        if lhs_type not in ("classic", "centered"):
            raise ValueError(f"lhs_type: got {lhs_type!r}; expected 'classic' or 'centered'")
        if criterion not in (None, "maximin", "correlation", "ratio"):
            raise ValueError(f"criterion: got {criterion!r}; expected None, 'maximin', 'correlation' or 'ratio'")
        self.lhs_type, self.criterion, self.iterations = lhs_type, criterion, int(iterations)

    def unit(self, n_dim: int, n_samples: int, rng: np.random.RandomState) -> np.ndarray:
        """``n_samples x n_dim`` Latin hypercube points (see the class).

        Args:
            n_dim: the space's number of dimensions.
            n_samples: how many points.
            rng: the random state to draw from.
        """
        sampler = qmc.LatinHypercube(n_dim, scramble=self.lhs_type == "classic", seed=_seed(rng))
        if self.criterion is None or n_samples < 2:
            return sampler.random(n_samples)
        # scipy's LatinHypercube has no maximin/correlation/ratio criterion: best of `iterations` designs
        best, best_score = None, -np.inf
        for _ in range(max(self.iterations, 1)):
            h = sampler.random(n_samples)
            if self.criterion == "correlation":
                c = np.corrcoef(h.T) if n_dim > 1 else np.zeros((1, 1))
                score = -np.max(np.abs(c[np.triu_indices(n_dim, 1)])) if n_dim > 1 else 0.0
            else:
                d = pdist(h)
                score = d.min() if self.criterion == "maximin" else d.min() / d.max()
            if score > best_score:
                best, best_score = h, score
        return best


class Halton(InitialPointGenerator):
    """Scrambled Halton points (scipy's ``Halton``), as skopt's ``Halton``.

    Args:
        min_skip: fewest leading points skipped.
        max_skip: most leading points skipped (a number in between is drawn).
        primes: not supported (scipy chooses the first primes); must be None.

    Raises:
        ValueError: ``primes`` given, or the skips are not ints with 0 <= min_skip <= max_skip.
    """

    def __init__(self, min_skip: int = 0, max_skip: int = 0, primes: Any = None) -> None:
        if primes is not None:
            raise ValueError(f"primes: got {primes!r}; expected None (scipy's Halton uses the first primes)")
        if not (0 <= int(min_skip) <= int(max_skip)):
            raise ValueError(f"min_skip, max_skip: got {min_skip!r}, {max_skip!r}; expected 0 <= min_skip <= max_skip")
        self.min_skip, self.max_skip = int(min_skip), int(max_skip)

    def _halton(self, n_dim: int, n_samples: int, rng: np.random.RandomState) -> np.ndarray:
        skip = int(rng.randint(self.min_skip, self.max_skip + 1))
        sampler = qmc.Halton(n_dim, scramble=True, seed=_seed(rng))
        if skip:
            sampler.fast_forward(skip)
        return sampler.random(n_samples)

    def unit(self, n_dim: int, n_samples: int, rng: np.random.RandomState) -> np.ndarray:
        """``n_samples x n_dim`` Halton points.

        Args:
            n_dim: the space's number of dimensions.
            n_samples: how many points.
            rng: the random state to draw from.
        """
        return self._halton(n_dim, n_samples, rng)


class Hammersly(Halton):
    """Hammersley points: Halton points with the first dimension replaced by ``i / n``.

    scipy.stats.qmc has no Hammersley sampler; this is its definition on scipy's Halton.

    Args:
        min_skip: fewest leading Halton points skipped.
        max_skip: most leading Halton points skipped.
        primes: must be None.
    """

    def unit(self, n_dim: int, n_samples: int, rng: np.random.RandomState) -> np.ndarray:
        """``n_samples x n_dim`` Hammersley points.

        Args:
            n_dim: the space's number of dimensions.
            n_samples: how many points.
            rng: the random state to draw from.
        """
        first = (np.arange(n_samples) / n_samples)[:, None]
        if n_dim == 1:
            return first
        return np.hstack([first, self._halton(n_dim - 1, n_samples, rng)])


class Grid(InitialPointGenerator):
    """A full grid, ``ceil(n ** (1 / d))`` levels per dimension; ``n`` of its points drawn.

    scipy.stats.qmc has no grid sampler: written here as skopt's ``Grid``'s full layout.

    Args:
        border: ``"exclude"`` (levels ``(i + 0.5) / k``) or ``"include"`` (``i / (k - 1)``,
            the bounds included).
        use_full_layout: True (skopt's other layout is not supported).

    Raises:
        ValueError: another ``border`` or ``use_full_layout``.
    """

    def __init__(self, border: str = "exclude", use_full_layout: bool = True) -> None:
        if border not in ("exclude", "include"):
            raise ValueError(f"border: got {border!r}; expected 'exclude' or 'include'")
        if use_full_layout is not True:
            raise ValueError(f"use_full_layout: got {use_full_layout!r}; expected True (only the full layout)")
        self.border, self.use_full_layout = border, use_full_layout

    def unit(self, n_dim: int, n_samples: int, rng: np.random.RandomState) -> np.ndarray:
        """``n_samples`` distinct grid points in a random order.

        Args:
            n_dim: the space's number of dimensions.
            n_samples: how many points.
            rng: the random state to draw from.
        """
        k = max(int(np.ceil(n_samples ** (1.0 / n_dim) - 1e-9)), 1)
        levels = (np.arange(k) + 0.5) / k if self.border == "exclude" or k == 1 else np.arange(k) / (k - 1)
        grid = np.stack(np.meshgrid(*[levels] * n_dim, indexing="ij"), -1).reshape(-1, n_dim)
        return grid[rng.permutation(len(grid))[:n_samples]]


class Sobol(InitialPointGenerator):
    """Scrambled Sobol points (scipy's ``Sobol``), as skopt's ``Sobol``.

    Args:
        skip: leading points skipped.
        randomize: True (scrambled, seeded by ``random_state``) or False.
    """

    def __init__(self, skip: int = 0, randomize: bool = True) -> None:
        self.skip, self.randomize = int(skip), bool(randomize)

    def unit(self, n_dim: int, n_samples: int, rng: np.random.RandomState) -> np.ndarray:
        """``n_samples x n_dim`` Sobol points.

        Args:
            n_dim: the space's number of dimensions.
            n_samples: how many points.
            rng: the random state to draw from.
        """
        sampler = qmc.Sobol(n_dim, scramble=self.randomize, seed=_seed(rng))
        if self.skip:
            sampler.fast_forward(self.skip)
        with warnings.catch_warnings():  # skopt's Sobol takes any n; scipy warns off powers of 2
            warnings.simplefilter("ignore", UserWarning)
            return sampler.random(n_samples)


_GENERATORS = {"lhs": Lhs, "halton": Halton, "hammersly": Hammersly, "grid": Grid}


def cook_initial_point_generator(generator: Any, **kwargs: Any) -> InitialPointGenerator | None:
    """A generator from its skopt name or object; None for ``"random"``/``"sobol"`` (gpu_bo's own).

    Args:
        generator: ``"random"``, ``"sobol"``, ``"lhs"``, ``"halton"``, ``"hammersly"``,
            ``"grid"`` or an :class:`InitialPointGenerator`.
        **kwargs: the named generator's arguments.

    Raises:
        ValueError: an unknown name or object.
    """
    if isinstance(generator, InitialPointGenerator):
        return generator
    if isinstance(generator, str) and generator.lower() in ("random", "sobol") and not kwargs:
        return None  # gpu_bo's scrambled Sobol design, chosen by the engine
    if isinstance(generator, str) and generator.lower() in _GENERATORS:
        return _GENERATORS[generator.lower()](**kwargs)
    if isinstance(generator, str) and generator.lower() == "sobol":
        return Sobol(**kwargs)
    raise ValueError(f"initial_point_generator: got {generator!r}; expected 'random', 'sobol', 'lhs', "
                     "'halton', 'hammersly', 'grid' or an InitialPointGenerator of "
                     "gpu_bo.integrations.skopt.sampler")
