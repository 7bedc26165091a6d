"""Plots of a study: convergence, the GP's partial dependence, and where the search went.

Needs matplotlib (``pip install gpu-bo[plot]``). Every function returns matplotlib Axes (a
single ``Axes`` or a ``d x d`` numpy array of them) and never calls ``plt.show()``, so the
caller decides the backend and where the figure goes::

    import matplotlib; matplotlib.use("Agg")
    from gpu_bo import plots
    ax = plots.plot_convergence([study_a, study_b], labels=["ei", "ucb"])
    ax.figure.savefig("convergence.png")

A "study" is a :class:`~gpu_bo.study.Study`, an :class:`~gpu_bo.optimizer.Optimizer` (its
trials and space), or anything with ``trials`` and ``direction``. The search space is taken
from the object when it has one (``.space``), from the ``space`` argument, or else inferred
from the evaluated values (the observed min/max as bounds).

The partial dependence of parameter ``i`` at value ``v`` is the GP's posterior mean averaged
over points whose other coordinates are drawn from the space (skopt's definition), computed as
one batched posterior call per panel; the GP is fitted with :func:`gpu_bo.surrogate.fit_gp`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from gpu_bo.space import Categorical, Integer, Real, Space, as_space
from gpu_bo.study import Direction, Study, TrialState

__all__ = ["plot_convergence", "plot_objective", "plot_evaluations"]


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("gpu_bo.plots needs matplotlib: pip install 'gpu-bo[plot]'") from e
    return plt


def _as_study(obj: Any) -> tuple[Study, Space | None]:
    """A Study (and the space when the object knows it) from a Study, an Optimizer or alike."""
    if isinstance(obj, Study):
        return obj, getattr(obj, "space", None)
    trials = getattr(obj, "trials", None)
    direction = getattr(obj, "direction", None)
    if trials is None or not _is_direction(direction):
        raise TypeError(f"study: got {type(obj).__name__}; expected a gpu_bo Study or Optimizer "
                        "(an object with trials and direction)")
    return Study(direction, list(trials), name=getattr(obj, "name", None)), getattr(obj, "space", None)


def _is_direction(value: Any) -> bool:
    """True when ``value`` is ``"minimize"``/``"maximize"`` (or a Direction)."""
    try:
        Direction.parse(value)
    except (ValueError, TypeError):
        return False
    return True


def _infer_space(study: Study) -> Space:
    """Bounds from the observed values (used when no space is given)."""
    done = study.completed_trials
    if not done:
        raise ValueError("study: has no completed trial; nothing to plot")
    dims: dict[str, Any] = {}
    for name in done[0].params:
        vals = [t.params[name] for t in done]
        numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in vals)
        if numeric and len(set(vals)) > 1:
            lo, hi = min(vals), max(vals)
            if all(isinstance(v, numbers.Integral) for v in vals):
                dims[name] = Integer(int(lo), int(hi))
            else:
                dims[name] = Real(float(lo), float(hi))
        else:
            uniq = list(dict.fromkeys(vals))
            dims[name] = Categorical(uniq if len(uniq) > 0 else [vals[0]])
    return Space(dims)


def _resolve(study: Any, space: Space | Mapping[str, Any] | None) -> tuple[Study, Space]:
    st, own = _as_study(study)
    sp = as_space(space) if space is not None else own if own is not None else _infer_space(st)
    return st, sp


def _valid_completed(study: Study, space: Space) -> list:
    out = []
    for t in study.completed_trials:
        try:
            space.validate(t.params)
        except ValueError:
            continue  # e.g. a point outside bounds that were narrowed later
        out.append(t)
    return out


def _axis_values(dim: Any, enc: np.ndarray) -> np.ndarray:
    """Encoded coordinates -> what the axis shows (values; category index for categoricals)."""
    if dim.kind == "categorical":
        return np.minimum((enc * dim.n_bins).astype(int), dim.n_bins - 1).astype(float)
    return np.asarray([dim.decode_value(float(x)) for x in enc], dtype=float)


def _style_axis(ax: Any, dim: Any, which: str, label: str) -> None:
    set_label = ax.set_xlabel if which == "x" else ax.set_ylabel
    set_label(label)
    if dim.kind == "categorical":
        ticks = list(range(dim.n_bins))
        (ax.set_xticks if which == "x" else ax.set_yticks)(ticks)
        (ax.set_xticklabels if which == "x" else ax.set_yticklabels)([str(c) for c in dim.choices])
    elif getattr(dim, "log", False):
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")


def _grid(dim: Any, n: int) -> np.ndarray:
    """Encoded grid of one dimension: bin centres for discrete ones (all of them, up to n)."""
    k = getattr(dim, "n_bins", 0) if dim.kind != "real" else 0
    if k and k <= n:
        return (np.arange(k) + 0.5) / k
    return np.linspace(0.0, 1.0, n)


def plot_convergence(studies: Any, labels: Sequence[str] | None = None, ax: Any = None,
                     show_points: bool = True) -> Any:
    """Best value so far against the trial number, one line per study.

    Args:
        studies: a study or a list of studies (Study, Optimizer, ...).
        labels: legend labels (default: each study's name, else "study i").
        ax: draw into these Axes (default: a new figure).
        show_points: also scatter every completed trial's value.

    Returns:
        The matplotlib Axes.
    """
    plt = _plt()
    items = list(studies) if isinstance(studies, (list, tuple)) else [studies]
    if not items:
        raise ValueError("studies: got an empty list; expected at least one study")
    if labels is not None and len(labels) != len(items):
        raise ValueError(f"labels: got {len(labels)} labels for {len(items)} studies; expected one per study")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    directions = set()
    for i, obj in enumerate(items):
        st, _ = _as_study(obj)
        directions.add(Direction.parse(st.direction))
        label = labels[i] if labels is not None else (st.name or f"study {i}")
        best = np.asarray(st.best_so_far(), dtype=float)
        x = np.arange(1, len(best) + 1)
        line, = ax.plot(x, best, drawstyle="steps-post", lw=2, label=label)
        if show_points:
            done = [(t.number + 1, t.value) for t in st.trials if t.state == TrialState.COMPLETE]
            if done:
                px, py = zip(*done)
                ax.scatter(px, py, s=12, alpha=0.35, color=line.get_color())
    ax.set_xlabel("trial")
    word = "best" if len(directions) > 1 else "max" if Direction.MAXIMIZE in directions else "min"
    ax.set_ylabel(f"{word} objective so far")
    ax.set_title("Convergence")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return ax


def _fit(study: Study, space: Space, trials: list, seed: int, device: str):
    from gpu_bo.device import resolve_device
    from gpu_bo.surrogate import fit_gp

    dev = resolve_device(device)
    X = space.encode([t.params for t in trials], device=dev, dtype=torch.float64)
    sign = Direction.parse(study.direction).sign
    y = torch.tensor([sign * t.value for t in trials], device=dev, dtype=torch.float64)
    gp = fit_gp(X, y, tuple(space.cat_columns), seed=seed)
    return gp, sign, X


def _mean(gp: Any, sign: float, Xc: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Posterior mean in objective units at ``N x d`` points, in chunks (bounded memory)."""
    outs = []
    with torch.no_grad():
        for s in range(0, Xc.shape[0], chunk):
            m, _ = gp.mean_var(Xc[s:s + chunk])
            outs.append(sign * gp.from_std(m))
    return torch.cat(outs)


def plot_objective(study: Any, space: Space | Mapping[str, Any] | None = None, *, n_points: int = 40,
                   n_samples: int = 64, params: Sequence[str] | None = None, seed: int = 0,
                   device: str = "cpu") -> np.ndarray:
    """The GP's partial dependence on each parameter (diagonal) and each pair (below it).

    Args:
        study: a Study or Optimizer with at least two completed trials.
        space: its search space (default: the object's, else inferred from the trials).
        n_points: grid points per axis.
        n_samples: points of the space the other coordinates are averaged over.
        params: plot only these parameters (default: all).
        seed: seeds the GP fit and the averaging sample.
        device: where the GP is fitted and evaluated.

    Returns:
        A ``k x k`` array of Axes (``k`` parameters); the evaluated points are scattered on the
        pair panels and the best one is marked with a red star.
    """
    plt = _plt()
    st, sp = _resolve(study, space)
    trials = _valid_completed(st, sp)
    if len(trials) < 2:
        raise ValueError(f"study: has {len(trials)} completed trial(s) inside the space; plot_objective "
                         "needs at least 2 to fit a GP")
    names = list(params) if params is not None else sp.names
    unknown = [n for n in names if n not in sp.dims]
    if unknown:
        raise ValueError(f"params: unknown parameter(s) {unknown}; the space has {sp.names}")
    gp, sign, X = _fit(st, sp, trials, seed, device)
    dev = X.device
    base = sp.sample(n_samples, seed=seed, device=dev, dtype=torch.float64)  # M x d
    idx = {n: i for i, n in enumerate(sp.names)}
    direction = Direction.parse(st.direction)
    best = st.best_trial if st.best_trial in trials else direction.best(trials, key=lambda t: t.value)
    best_enc = sp.encode(best.params).cpu().numpy()
    X_np = X.cpu().numpy()
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.6 * k + 1.5, 2.6 * k + 0.5), squeeze=False)
    for r in range(k):
        for c in range(k):
            ax = axes[r, c]
            if c > r:
                ax.axis("off")
                continue
            i, j = idx[names[r]], idx[names[c]]
            di, dj = sp.dims[names[r]], sp.dims[names[c]]
            if r == c:
                g = _grid(di, n_points)
                Xc = base.unsqueeze(0).repeat(len(g), 1, 1)  # G x M x d
                Xc[..., i] = torch.as_tensor(g, device=dev, dtype=torch.float64).unsqueeze(-1)
                pd = _mean(gp, sign, Xc.reshape(-1, sp.d)).reshape(len(g), -1).mean(-1).cpu().numpy()
                xs = _axis_values(di, g)
                # categories have no order: markers only; integers: markers joined by a line
                ax.plot(xs, pd, {"real": "-", "integer": "-o"}.get(di.kind, "o"), ms=4)
                ax.axvline(_axis_values(di, best_enc[i:i + 1])[0], color="r", ls="--", lw=1)
                _style_axis(ax, di, "x", names[r])
                ax.set_ylabel("partial dependence" if c == 0 else "")
            else:
                gi, gj = _grid(di, n_points // 2), _grid(dj, n_points // 2)
                A, B = np.meshgrid(gj, gi)  # columns: parameter j (x), rows: parameter i (y)
                Xc = base.unsqueeze(0).repeat(A.size, 1, 1)
                Xc[..., j] = torch.as_tensor(A.ravel(), device=dev, dtype=torch.float64).unsqueeze(-1)
                Xc[..., i] = torch.as_tensor(B.ravel(), device=dev, dtype=torch.float64).unsqueeze(-1)
                pd = _mean(gp, sign, Xc.reshape(-1, sp.d)).reshape(A.size, -1).mean(-1).cpu().numpy()
                xs, ys = _axis_values(dj, gj), _axis_values(di, gi)
                ax.contourf(xs, ys, pd.reshape(A.shape), levels=12, cmap="viridis_r"
                            if direction is Direction.MINIMIZE else "viridis")
                ax.scatter(_axis_values(dj, X_np[:, j]), _axis_values(di, X_np[:, i]), s=8, c="k", alpha=0.6)
                ax.scatter(_axis_values(dj, best_enc[j:j + 1]), _axis_values(di, best_enc[i:i + 1]),
                           s=80, c="r", marker="*")
                _style_axis(ax, dj, "x", names[c] if r == k - 1 else "")
                _style_axis(ax, di, "y", names[r] if c == 0 else "")
    fig.suptitle(f"Partial dependence ({st.direction}; {len(trials)} trials)")
    fig.tight_layout()
    return axes


def plot_evaluations(study: Any, space: Space | Mapping[str, Any] | None = None, *, bins: int = 20,
                     params: Sequence[str] | None = None) -> np.ndarray:
    """Where the search went: a histogram per parameter (diagonal) and the order in which pairs
    of values were tried (below it, colored from first to last trial, best as a red star).

    Returns:
        A ``k x k`` array of Axes.
    """
    plt = _plt()
    st, sp = _resolve(study, space)
    trials = [t for t in st.trials if t.state != TrialState.RUNNING]
    trials = [t for t in trials if _inside(sp, t.params)]
    if not trials:
        raise ValueError("study: has no finished trial inside the space; nothing to plot")
    names = list(params) if params is not None else sp.names
    unknown = [n for n in names if n not in sp.dims]
    if unknown:
        raise ValueError(f"params: unknown parameter(s) {unknown}; the space has {sp.names}")
    enc = sp.encode([t.params for t in trials]).numpy()
    idx = {n: i for i, n in enumerate(sp.names)}
    order = np.arange(len(trials))
    best = st.best_trial
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.6 * k + 1.5, 2.6 * k + 0.5), squeeze=False)
    for r in range(k):
        for c in range(k):
            ax = axes[r, c]
            if c > r:
                ax.axis("off")
                continue
            di, dj = sp.dims[names[r]], sp.dims[names[c]]
            vi = _axis_values(di, enc[:, idx[names[r]]])
            if r == c:
                if di.kind == "categorical":
                    ax.bar(range(di.n_bins), np.bincount(vi.astype(int), minlength=di.n_bins), color="C0")
                elif getattr(di, "log", False):
                    ax.hist(vi, bins=np.geomspace(di.low, di.high, bins + 1), color="C0")
                else:
                    ax.hist(vi, bins=bins, color="C0")
                _style_axis(ax, di, "x", names[r])
                ax.set_ylabel("trials" if c == 0 else "")
            else:
                vj = _axis_values(dj, enc[:, idx[names[c]]])
                ax.scatter(vj, vi, c=order, cmap="viridis", s=12)
                if best is not None and _inside(sp, best.params):
                    b = sp.encode(best.params).numpy()
                    ax.scatter(_axis_values(dj, b[idx[names[c]]:idx[names[c]] + 1]),
                               _axis_values(di, b[idx[names[r]]:idx[names[r]] + 1]), s=80, c="r", marker="*")
                _style_axis(ax, dj, "x", names[c] if r == k - 1 else "")
                _style_axis(ax, di, "y", names[r] if c == 0 else "")
    fig.suptitle(f"Evaluations ({len(trials)} trials; color: trial order)")
    fig.tight_layout()
    return axes


def _inside(space: Space, params: Mapping[str, Any]) -> bool:
    try:
        space.validate(params)
        return True
    except ValueError:
        return False

