"""The suggestion of a study with several objectives or with outcome constraints.

:class:`gpu_bo.optimizer.Optimizer` hands its training data here (instead of the
single-objective path) when it has more than one objective or any constraint: one GP per output,
fitted as one batched model, and the multi-objective / constrained acquisitions of
:mod:`gpu_bo.acquisition.multi_objective` and :mod:`gpu_bo.acquisition.constrained`, maximized
through :mod:`gpu_bo.batch` / :mod:`gpu_bo.maximize`.

Glossary: ``n x d`` training inputs, ``n x m`` objectives (larger is better), ``n x k``
constraint values (feasible iff ``<= 0``), ``q x d`` chosen points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from gpu_bo.batch import Search

if TYPE_CHECKING:  # the options module imports nothing of this one; a type only
    from gpu_bo.optimizer_options import OptimizerOptions

__all__ = ["MultiOutputData", "SuggestContext", "MultiOutputSuggester"]


@dataclass(frozen=True)
class MultiOutputData:
    """The training data of a multi-output suggestion.

    Attributes:
        X: ``n x d`` encoded rows: the COMPLETE trials, then (failure policy "worst") the FAILED.
        Y: ``n x m`` objective values, larger is better (minimized objectives sign-flipped).
        C: ``n x k`` constraint values in the user's units (feasible iff ``<= 0``), or None.
        n_complete: the first ``n_complete`` rows are COMPLETE trials; the rest are failed
            trials shown as the worst value per objective and as infeasible.
        ref_point: ``m`` reference point in the larger-is-better units, or None (inferred).
        cat_columns: the encoded columns of categorical dimensions.
    """

    X: torch.Tensor
    Y: torch.Tensor
    C: torch.Tensor | None
    n_complete: int
    ref_point: torch.Tensor | None
    cat_columns: tuple[int, ...]


@dataclass(frozen=True)
class SuggestContext:
    """How a multi-output suggestion is made.

    Attributes:
        acquisition: the optimizer's acquisition name (``"ei"``, ``"qnei"``, ...).
        xi: EI/PI's margin in objective units (None: 1% of the values' standard deviation).
        kappa: UCB's exploration weight.
        options: the optimizer's options.
        search: the space, budgets and region of the acquisition's maximization.
        seed: the suggestion's seed.
        exclude: point keys never to return (evaluated, pending); chosen keys are added.
        X_pending: ``p x d`` pending points, or None.
        device: where the suggestion runs.
        dtype: the dtype of the fit and the search.
    """

    acquisition: str
    xi: float | None
    kappa: float
    options: OptimizerOptions
    search: Search
    seed: int
    exclude: set
    X_pending: torch.Tensor | None
    device: torch.device
    dtype: torch.dtype


class MultiOutputSuggester:
    """Fits the GPs of several outputs and chooses points; keeps the fits' warm start.

    Args:
        options: the optimizer's options.
    """

    def __init__(self, options: OptimizerOptions) -> None:
        self.options = options

    def select(self, data: MultiOutputData, q: int, ctx: SuggestContext) -> tuple[torch.Tensor, dict[str, Any]]:
        """Choose ``q`` points (``q x d``) and return them with an info dict.

        Raises:
            NotImplementedError: not built yet.
        """
        raise NotImplementedError("several objectives / constraints: the suggester is not built yet")

    def state_dict(self) -> dict[str, Any]:
        """A JSON-serializable warm-start state."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output."""
