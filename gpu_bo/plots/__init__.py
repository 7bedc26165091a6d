"""Plots of a study: convergence, the GP's partial dependence, where the search went, importance.

Needs matplotlib (``pip install gpu-bo[plot]``). Every function returns matplotlib Axes (a
single ``Axes`` or a ``k x k`` numpy array of them) and never calls ``plt.show()``, so the
caller decides the backend and where the figure goes:

```python
import matplotlib; matplotlib.use("Agg")
from gpu_bo import plots
ax = plots.plot_convergence([study_a, study_b], labels=["ei", "ucb"])
ax.figure.savefig("convergence.png")
```

A "study" is a `gpu_bo.study.Study`, a `gpu_bo.optimizer.Optimizer` (its trials and space),
or anything with ``trials`` and ``direction``. The search space is taken
from the object when it has one (``.space``), from the ``space`` argument, or else inferred
from the evaluated values (the observed min/max as bounds).

How the figures read:

- One color meaning: on every colored surface the best values are yellow and the worst dark
  (viridis), whatever the direction; the colorbar is labelled and its top end is "better".
- Integer axes have integer ticks; a categorical axis shows its choices, and a panel with a
  categorical (or a few-valued integer) axis is drawn as cells, one value per cell, never as a
  contour interpolated between categories.
- A study with no completed trial raises a ``ValueError`` that says how many trials failed and
  the first error; :func:`plot_evaluations` still draws the failed trials (marked with crosses).
- With more than ``max_params`` parameters (default 8) only the most important ones are drawn,
  and the figure says so: those with the largest share by ``gb.importance`` (the variance of
  the GP's mean each parameter explains); :func:`plot_importance` draws those shares.
- Multi-objective studies: :func:`plot_pareto_front` draws the trials in objective space (the
  front red, infeasible trials gray crosses); :func:`plot_convergence` draws the hypervolume so
  far; :func:`plot_objective` needs ``objective=i`` (the objective to draw);
  :func:`plot_evaluations` draws no best star unless given ``objective=i``;
  :func:`plot_importance` explains ``objective`` (default 0). Stars and "best" are always the best
  *feasible* trial.
"""

from __future__ import annotations

from gpu_bo.plots.convergence import plot_convergence
from gpu_bo.plots.evaluations import plot_evaluations
from gpu_bo.plots.importance import plot_importance
from gpu_bo.plots.objective import plot_objective
from gpu_bo.plots.pareto import plot_pareto_front

__all__ = ["plot_convergence", "plot_objective", "plot_evaluations", "plot_importance", "plot_pareto_front"]
