"""How a conditional space's inactive columns enter the GP's distance (issue 17, item 2).

:class:`Columns` is the column spec every kernel function takes as its ``cat`` argument: the
categorical column indices (it *is* that tuple, so flat spaces keep passing plain tuples and
run the unchanged code), plus, for a conditional space, the function that says which columns of
a point are active, which columns are conditional, and the rule (``mode``) by which activity
enters the distance. With ``A``, ``A'`` the activity of a conditional column in the two points
(1 active, 0 inactive; inactive columns hold conditions.INACTIVE), ``t`` its usual term
(``(x - x')^2``, or ``[c != c']`` for a categorical) and ``th = ARC_ANGLE``, column ``k``
contributes to ``r^2`` (before its lengthscale):

    impute   t                                      the encoding as it is
    flag     t + [A != A']                          imputation plus an activity indicator
    arc      A A' 2 (1 - cos(th (x - x'))) / th^2 + [A != A'] / th^2        (real, integer)
             A A' [c != c'] + [A != A'] / 2                                   (categorical)

``arc`` is the arc kernel's embedding (Swersky et al. 2013, "Raiders of the lost architecture"):
an active value sits on an arc of radius ``1 / th`` around the inactive point, so an inactive
column is equally far from every active value (it carries no information about it), two
inactive ones coincide, and ``~ (x - x')^2`` for close values. Every rule is a Euclidean
embedding, so the Matern kernel of it stays positive definite; simply dropping the column where
either point has it inactive is not (a Cholesky of it failed at every jitter in the A/B).
Which rule gpu_bo uses is chosen by measurement (gpu_bo.surrogate.conditional,
benchmarks/results/conditional_model_ab.md).

Glossary: ``n1 x d``, ``n2 x d`` the two sets of points; ``w2`` the squared inverse lengthscales.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

__all__ = ["ARC_ANGLE", "MODES", "Columns", "is_conditional", "arc_sq_dist", "xor_term", "masked_pair_diffs",
           "masked_dist_grad", "as_cat"]

ARC_ANGLE = math.pi / 2  # the unit interval spans a quarter circle: an inactive column is ~0.4 away
MODES = ("impute", "flag", "arc")
_CACHE = 4  # point sets whose activity / embedding is kept (the GP's X, its believed extensions, starts)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


class Columns(tuple):
    """Categorical column indices (a tuple) plus how a conditional space's activity enters
    (built by ``Columns(cat, active, cond, parents, bins, mode)``, see ``__new__``)."""

    def __new__(cls, cat: Sequence[int], active: Callable[[torch.Tensor], torch.Tensor], cond: Sequence[int],
                parents: Sequence[int], bins: Sequence[int], mode: str = "arc") -> Columns:
        """A column spec.

        Args:
            cat: the categorical columns.
            active: ``... x d`` points -> ``... x d`` bool activity (``Space.active_mask``).
            cond: the conditional columns (those of dimensions with a ``when``).
            parents: the columns activity depends on (every parent's).
            bins: the number of choices of each column (used for the conditional categoricals).
            mode: one of ``MODES`` (module docstring).

        Raises:
            ValueError: ``mode`` is not one of ``MODES``.
        """
        if mode not in MODES:
            raise ValueError(f"mode: got {mode!r}, expected one of {MODES}")
        self = super().__new__(cls, (int(c) for c in cat))
        self.active, self.mode, self.bins = active, mode, tuple(int(b) for b in bins)
        self.cond, self.parents = tuple(int(c) for c in cond), tuple(int(c) for c in parents)
        self.cond_cat = tuple(c for c in self.cond if c in self)
        self.cond_cont = tuple(c for c in self.cond if c not in self)
        self.plain_cat = tuple(c for c in self if c not in self.cond)
        plain_cont = tuple(c for c in range(len(self.bins)) if c not in self.cond and c not in self)
        # the arc embedding's columns (Columns.embed): each unconditional real/integer as it is,
        # the cos and sin of each conditional one, a one-hot (padded to the most choices) of each
        # conditional categorical; emb_col says whose lengthscale scales each
        self.k_max = max((self.bins[c] for c in self.cond_cat), default=0)
        self.emb_col = plain_cont + self.cond_cont * 2 + tuple(c for c in self.cond_cat for _ in range(self.k_max))
        self._plain, self._n_cont = list(plain_cont), len(self.cond_cont)
        self._seen: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._emb: list[tuple[torch.Tensor, int, torch.Tensor]] = []
        self._consts: dict = {}
        return self

    def __reduce__(self):
        return (Columns, (tuple(self), self.active, self.cond, self.parents, self.bins, self.mode))

    def __repr__(self) -> str:
        return f"Columns({tuple(self)!r}, cond={self.cond!r}, mode={self.mode!r})"

    def activity(self, X: torch.Tensor) -> torch.Tensor:
        """``... x d`` activity of ``X`` as 0/1 in X's dtype.

        Activity depends on the parents' columns only, so it is cached by their values: the
        training sets and the refinement's starts (whose parents stay put) are computed once.
        """
        P = X[..., list(self.parents)]
        for Ps, A in self._seen:
            if Ps.shape == P.shape and Ps.dtype == P.dtype and Ps.device == P.device and torch.equal(Ps, P):
                return A
        A = self.active(X).to(X.dtype)
        self._seen = [(P, A)] + self._seen[: _CACHE - 1]
        return A

    def _const(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The conditional categoricals' choice counts and the one-hot slots, on X's device."""
        key = (X.device, X.dtype)
        if key not in self._consts:
            bins = torch.tensor([self.bins[c] for c in self.cond_cat], dtype=X.dtype, device=X.device)
            self._consts[key] = bins, torch.arange(self.k_max, dtype=X.dtype, device=X.device)
        return self._consts[key]

    def embed(self, X: torch.Tensor) -> torch.Tensor:
        """``... x m``: the ``arc`` embedding of ``X`` before the lengthscales (see ``emb_col``);
        ``|e - e'|^2`` plus the unconditional categoricals' mismatches is the rule's ``r^2``.
        Cached for the point sets last seen (held by reference: identity and version)."""
        for Xs, version, E in self._emb:
            if Xs is X and X._version == version:
                return E
        A = self.activity(X)
        th = ARC_ANGLE
        parts = [X[..., self._plain]]
        if self.cond_cont:
            c = list(self.cond_cont)
            x, a = th * X[..., c], A[..., c] / th
            parts += [a * x.cos(), a * x.sin()]
        if self.cond_cat:
            c = list(self.cond_cat)
            bins, slots = self._const(X)
            code = torch.minimum(torch.floor(X[..., c] * bins), bins - 1.0)  # ... x c, as conditions reads it
            hot = (code.unsqueeze(-1) == slots).to(X.dtype) * (A[..., c] * _INV_SQRT2).unsqueeze(-1)
            parts.append(hot.flatten(-2))
        E = torch.cat(parts, -1)
        self._emb = [(X, X._version, E)] + self._emb[: _CACHE - 1]
        return E


def is_conditional(cat: Sequence[int]) -> bool:
    """Whether ``cat`` is a :class:`Columns` of a conditional space (not a plain tuple)."""
    return isinstance(cat, Columns)


def arc_sq_dist(X1: torch.Tensor, X2: torch.Tensor, inv_ls: torch.Tensor, cat: Columns) -> torch.Tensor:
    """``... x n1 x n2``: the ``arc`` rule's scaled squared distance: ``|e - e'|^2`` of the
    lengthscale-scaled embedding (:meth:`Columns.embed`) as one GEMM, plus the mismatches of the
    unconditional categoricals."""
    w = inv_ls[..., list(cat.emb_col)].unsqueeze(-2)  # ... x 1 x m
    E1, E2 = cat.embed(X1) * w, cat.embed(X2) * w
    d2 = (E1 * E1).sum(-1, keepdim=True) + (E2 * E2).sum(-1).unsqueeze(-2) - 2.0 * E1 @ E2.transpose(-1, -2)
    d2 = d2.clamp_min(0.0)
    for c in cat.plain_cat:
        w_c = inv_ls[..., c].unsqueeze(-1).unsqueeze(-1) ** 2
        d2 = d2 + ((X1[..., :, c].unsqueeze(-1) - X2[..., :, c].unsqueeze(-2)).abs() > 1e-9).to(d2.dtype) * w_c
    return d2


def xor_term(X1: torch.Tensor, X2: torch.Tensor, inv_ls: torch.Tensor, cat: Columns) -> torch.Tensor:
    """``... x n1 x n2``: ``sum_k w_k^2 [A_k != A'_k]`` (``flag``), as two GEMMs
    (``[A != A'] = A (1 - A') + (1 - A) A'``; always-active columns add nothing)."""
    w2 = (inv_ls * inv_ls).unsqueeze(-2)
    A1, A2 = cat.activity(X1), cat.activity(X2)
    T2 = A2.transpose(-1, -2)
    return (A1 * w2) @ (1.0 - T2) + ((1.0 - A1) * w2) @ T2


def masked_pair_diffs(D: torch.Tensor, X: torch.Tensor, cat: Columns) -> torch.Tensor:
    """The ``n x n x d`` per-column terms of ``cat``'s rule (``D``: the plain squared
    differences and categorical mismatches of the ``n x d`` points ``X``, changed in place)."""
    if cat.mode == "impute":
        return D
    A = cat.activity(X)
    both = A.unsqueeze(1) * A.unsqueeze(0)
    xor = A.unsqueeze(1) + A.unsqueeze(0) - 2.0 * both
    if cat.mode == "flag":
        return D.add_(xor)
    th = ARC_ANGLE
    c = list(cat.cond_cont)
    if c:
        diff = X[:, c].unsqueeze(1) - X[:, c].unsqueeze(0)
        D[..., c] = (both[..., c] * 2.0 * (1.0 - torch.cos(th * diff)) + xor[..., c]) / (th * th)
    c = list(cat.cond_cat)
    if c:
        D[..., c] = both[..., c] * D[..., c] + 0.5 * xor[..., c]
    return D


def masked_dist_grad(X: torch.Tensor, Xt: torch.Tensor, P: torch.Tensor, w2: torch.Tensor,
                     cat: Columns) -> torch.Tensor:
    """``N x d``: ``sum_i P_i d s_i / d x`` for ``N x d`` points ``X`` against the ``n x d``
    training points ``Xt`` (``P``: ``N x n``; ``w2``: ``d`` squared inverse lengthscales, zero on
    categorical columns). Under ``arc`` a conditional column's term is
    ``2 A A_i (1 - cos(th (x - X_i))) / th^2``, whose derivative ``2 A A_i sin(th (x - X_i)) / th``
    is ``2 th (s c_i - c s_i)`` in the embedding's parts ``c = A cos(th x) / th``, ``s = A sin(th x) / th``;
    the indicator and categorical terms have no gradient."""
    g = 2.0 * w2 * (X * P.sum(-1, keepdim=True) - P @ Xt)
    if cat.mode != "arc" or not cat.cond_cont:
        return g
    c, k, m = list(cat.cond_cont), len(cat._plain), cat._n_cont
    E, Et = cat.embed(X), cat.embed(Xt)
    cos, sin = E[:, k:k + m], E[:, k + m:k + 2 * m]
    g[:, c] = (2.0 * ARC_ANGLE) * w2[c] * (sin * (P @ Et[:, k:k + m]) - cos * (P @ Et[:, k + m:k + 2 * m]))
    return g


def as_cat(cat: Sequence[int]) -> tuple[int, ...]:
    """``cat`` as the kernels take it: a :class:`Columns` as it is, any other sequence as a tuple."""
    return cat if isinstance(cat, Columns) else tuple(cat)
