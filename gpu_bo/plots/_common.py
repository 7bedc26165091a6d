"""What every plot shares: reading a study and its space, choosing parameters, styling axes."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gpu_bo.space import Categorical, Integer, Real, Space, as_space
from gpu_bo.study import Direction, Study, Trial, TrialState

DEFAULT_MAX_PARAMS = 8
CMAP = "viridis"  # sequential and readable in gray; its top end (yellow) always means "better"


def plt_module() -> Any:
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("gpu_bo.plots needs matplotlib: pip install 'gpu-bo[plot]'") from e
    return plt


def as_study(obj: Any) -> tuple[Study, Space | None]:
    """A Study (and the space when the object knows it) from a Study, an Optimizer or alike."""
    if isinstance(obj, Study):
        return obj, getattr(obj, "space", None)
    trials = getattr(obj, "trials", None)
    direction = getattr(obj, "direction", None)
    if trials is None or not _is_direction(direction):
        raise TypeError(f"study: got {type(obj).__name__}; expected a gpu_bo Study or Optimizer "
                        "(an object with trials and direction)")
    directions = getattr(obj, "directions", None)
    if isinstance(directions, str) or not isinstance(directions, Sequence) or not directions:
        directions = None  # an object with one direction only
    study = Study(direction, list(trials), name=getattr(obj, "name", None), directions=directions)
    return study, getattr(obj, "space", None)


def single_objective(study: Study, objective: int | None, plot: str) -> Study:
    """``study`` itself (one objective), or the view of one objective of a multi-objective study.

    The view is a single-objective Study of the same trials whose values are column ``objective``
    (infeasible trials keep their constraints, so "best" stays the best feasible one).

    Args:
        study: the study.
        objective: 0-based objective index; ``None`` is allowed for a single-objective study only.
        plot: the name of the calling plot (for the error message).

    Raises:
        ValueError: ``objective`` is None for a multi-objective study, or out of range.
    """
    m = len(study.directions)
    if objective is None:
        if m == 1:
            return study
        raise ValueError(f"objective: {plot} draws one objective, and the study has {m} "
                         f"({study.directions}); pass objective=0..{m - 1}, or use plot_pareto_front")
    if isinstance(objective, bool) or not isinstance(objective, numbers.Integral) or not 0 <= objective < m:
        raise ValueError(f"objective: got {objective!r}, expected an int in 0..{m - 1} "
                         f"(the study has {m} objective{'s' if m > 1 else ''})")
    if m == 1:
        return study
    trials = []
    for t in study.trials:
        values = None if t.values is None else [t.values[objective]]
        trials.append(Trial(t.number, t.params, values=values, state=t.state, start_time=t.start_time,
                            end_time=t.end_time, error=t.error, intermediate=t.intermediate,
                            user_attrs=t.user_attrs, attempts=t.attempts, constraints=t.constraints))
    name = f"{study.name or 'study'} (objective {objective})"
    return Study(study.directions[objective], trials, name=name)


def _is_direction(value: Any) -> bool:
    """True when ``value`` is ``"minimize"``/``"maximize"`` (or a Direction)."""
    try:
        Direction.parse(value)
    except (ValueError, TypeError):
        return False
    return True


def nothing_completed(study: Study, needs: str) -> ValueError:
    """The error of a study without enough completed trials: how many failed and the first error."""
    finished = [t for t in study.trials if t.state.finished]
    failed = [t for t in finished if t.state == TrialState.FAILED]
    if not study.trials:
        why = "has no trial yet"
    elif failed and len(failed) == len(study.trials):
        first = next((error_summary(t.error) for t in failed if error_summary(t.error)), "")
        why = f"all {len(failed)} trials failed" + (f" (first error: {first})" if first else "")
    else:
        done = len(study.completed_trials)
        why = (f"has {done} completed trial(s) of {len(study.trials)} ({len(failed)} failed, "
               f"{len(study.trials) - len(finished)} running)")
    return ValueError(f"study: {why}; {needs}")


def _infer_space(study: Study) -> Space:
    """Bounds from the observed values of the finished trials (used when no space is given);
    parameters some trials lack get the conditions their trials show
    (:func:`gpu_bo.learned_space.infer_space`)."""
    from gpu_bo.learned_space import infer_space

    done = [t for t in study.trials if t.state.finished]
    if not done:
        raise nothing_completed(study, "a space cannot be inferred from no trial")
    dims: dict[str, Any] = {}
    for name in dict.fromkeys(n for t in done for n in t.params):
        vals = [t.params[name] for t in done if name in t.params]
        numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in vals)
        if numeric and len(set(vals)) > 1:
            lo, hi = min(vals), max(vals)
            if all(isinstance(v, numbers.Integral) for v in vals):
                dims[name] = Integer(int(lo), int(hi))
            else:
                dims[name] = Real(float(lo), float(hi))
        else:
            dims[name] = Categorical(list(dict.fromkeys(vals)))
    if all(len(t.params) == len(dims) for t in done):
        return Space(dims)
    return infer_space(dims, [list(t.params.items()) for t in done])[0]


def resolve(study: Any, space: Space | Mapping[str, Any] | None) -> tuple[Study, Space]:
    """The study and its space (given, the object's own, or inferred)."""
    st, own = as_study(study)
    if not st.trials:
        raise nothing_completed(st, "nothing to plot")
    sp = as_space(space) if space is not None else own if own is not None else _infer_space(st)
    return st, sp


def inside(space: Space, params: Mapping[str, Any]) -> bool:
    """Whether ``params`` is a valid point of ``space`` (bounds may have been narrowed later)."""
    try:
        space.validate(params)
        return True
    except ValueError:
        return False


def completed_inside(study: Study, space: Space) -> list[Trial]:
    """The completed trials that are points of ``space``."""
    return [t for t in study.completed_trials if inside(space, t.params)]


def active(space: Space, enc: np.ndarray) -> np.ndarray:
    """``n x d`` bool: which encoded values of ``enc`` (``n x d``) are active parameters (on a
    conditional space, an inactive one is a placeholder that a panel must not draw)."""
    import torch

    return space.active_mask(torch.as_tensor(enc, dtype=torch.float64)).numpy()


def check_params(params: Sequence[str] | None, space: Space, max_params: int) -> list[str] | None:
    """Validate ``params`` and ``max_params``; the names asked for (``None``: let the plot choose)."""
    if isinstance(max_params, bool) or not isinstance(max_params, numbers.Integral) or max_params < 1:
        raise ValueError(f"max_params: got {max_params!r}, expected a positive int")
    if params is None:
        return None
    if isinstance(params, str) or not isinstance(params, Sequence):
        raise TypeError(f"params: got {params!r}, expected a list of parameter names")
    names = list(params)
    if not names:
        raise ValueError("params: got an empty list; expected at least one parameter name")
    unknown = [n for n in names if n not in space.dims]
    if unknown:
        raise ValueError(f"params: unknown parameter(s) {unknown}; the space has {space.names}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"params: got {twice} twice; expected each parameter once")
    return names


def cap_note(shown: int, total: int, how: str) -> str:
    """The line a capped figure carries: which share of the parameters it shows and why."""
    return (f"showing {shown} of {total} parameters ({how}); "
            "pass params=[...] or max_params=N for others")


# -- axes ---------------------------------------------------------------------------------------
MAX_CELLS = 20  # an integer with at most this many values is drawn value by value, as cells


def is_cells(dim: Any) -> bool:
    """Whether a dimension is drawn as cells: categorical, or integer with at most MAX_CELLS values."""
    return dim.kind == "categorical" or (dim.kind == "integer" and dim.n_bins <= MAX_CELLS)


def grid(dim: Any, n: int) -> np.ndarray:
    """Encoded grid of one dimension, increasing: every value of a cell dimension, up to ``n``
    distinct whole numbers of a larger integer (evenly spread on its scale), else ``n`` even points."""
    if is_cells(dim):
        values = dim.choices if dim.kind == "categorical" else range(dim.low, dim.high + 1, dim.step)
    elif dim.kind == "integer":  # the grid's values snapped onto the dimension's steps
        values = (np.geomspace if dim.log else np.linspace)(dim.low, dim.high, n)
        values = np.unique(dim.low + np.round((values - dim.low) / dim.step) * dim.step)
        values = [int(v) for v in values if dim.low <= v <= dim.high]
    else:
        return np.linspace(0.0, 1.0, n)
    return np.asarray([dim.encode_value(v, "grid") for v in values], dtype=float)


def axis_values(dim: Any, enc: np.ndarray) -> np.ndarray:
    """Encoded coordinates -> what the axis shows (values; category index for categoricals)."""
    enc = np.asarray(enc, dtype=float)
    if dim.kind == "categorical":
        return np.minimum((enc * dim.n_bins).astype(int), dim.n_bins - 1).astype(float)
    return np.asarray([dim.decode_value(float(x)) for x in enc], dtype=float)


def cell_edges(dim: Any, values: np.ndarray) -> np.ndarray:
    """Edges (axis units) of the cells centred on the sorted axis ``values`` of a cell dimension."""
    if dim.kind == "categorical":
        return np.arange(dim.n_bins + 1) - 0.5
    if dim.log:  # halfway in log space, the end cells as wide as their neighbours' halves
        t = np.log(values)
        if len(t) == 1:
            return np.exp(t[0] + np.asarray([-0.35, 0.35]))
        mids = (t[:-1] + t[1:]) / 2.0
        return np.exp(np.concatenate([[2 * t[0] - mids[0]], mids, [2 * t[-1] - mids[-1]]]))
    h = dim.step / 2.0  # half a step (0.5 for plain integers)
    return np.concatenate([values - h, [values[-1] + h]])


def log_integer_ticks(low: int, high: int) -> list[int]:
    """A few round whole numbers for a log axis: powers of ten, else 1-2-5 steps, else even ones."""
    decades = [10 ** e for e in range(len(str(high)) + 1)]
    ticks = [v for v in decades if low <= v <= high]
    if len(ticks) < 3:
        ticks = sorted(v * m for v in decades for m in (1, 2, 5) if low <= v * m <= high)
    if len(ticks) < 3:
        ticks = sorted({int(round(v)) for v in np.geomspace(low, high, min(5, high - low + 1))})
    step = -(-len(ticks) // 6)  # at most six
    return ticks[::step]


def continuous_edges(values: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around the grid ``values`` of a continuous axis (halfway between points)."""
    t = np.log(values) if log else values
    mids = (t[:-1] + t[1:]) / 2.0
    e = np.concatenate([[t[0]], mids, [t[-1]]])
    return np.exp(e) if log else e


def style_axis(ax: Any, dim: Any, which: str, label: str, pad: bool = False) -> None:
    """Label an axis and give it the dimension's scale, range and ticks (categories, integers, log).

    Args:
        ax: the Axes.
        dim: the dimension shown on that axis.
        which: ``"x"`` or ``"y"``.
        label: the axis label.
        pad: leave a margin beyond the bounds of a continuous axis (points on a bound stay whole).
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    set_lim = ax.set_xlim if which == "x" else ax.set_ylim
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(label)
    if dim.kind == "categorical":
        names = [str(ch) for ch in dim.choices]
        axis.set_ticks(range(dim.n_bins), names)
        set_lim(-0.5, dim.n_bins - 0.5)
        if which == "x" and (sum(len(n) for n in names) > 18 or dim.n_bins > 5):
            many = dim.n_bins > 6  # upright text, smaller: slanted labels would run into each other
            ax.tick_params(axis="x", labelrotation=90 if many else 35, labelsize=8 if many else None)
            for t in axis.get_ticklabels():
                t.set_horizontalalignment("center" if many else "right")
        elif dim.n_bins > 10:
            ax.tick_params(axis=which, labelsize=8)
        return
    log = bool(dim.log)
    if log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        if dim.kind == "integer":  # a few whole numbers spread evenly on the log axis
            axis.set_major_locator(FixedLocator(log_integer_ticks(dim.low, dim.high)))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{round(v):d}"))
            axis.set_minor_formatter(NullFormatter())
    elif dim.kind == "integer":
        axis.set_major_locator(MaxNLocator(nbins=5, integer=True, min_n_ticks=1))
    else:
        axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
    if is_cells(dim):
        edges = cell_edges(dim, np.arange(dim.low, dim.high + 1, dtype=float))
        set_lim(edges[0], edges[-1])
        return
    lo, hi = float(dim.low), float(dim.high)
    if pad:
        m = 0.03 * ((np.log(hi) - np.log(lo)) if log else (hi - lo))
        lo, hi = (lo * np.exp(-m), hi * np.exp(m)) if log else (lo - m, hi + m)
    set_lim(lo, hi)


def style_pair(ax: Any, dims: tuple[Any, Any], labels: tuple[str, str], outer: tuple[bool, bool],
               pad: bool) -> None:
    """Style a pair panel; only the outer panels (bottom row, left column) label their axes.

    Args:
        ax: the Axes.
        dims: the dimensions on x and on y.
        labels: the parameter names on x and on y.
        outer: whether the panel is in the bottom row and whether it is in the left column.
        pad: as in :func:`style_axis`.
    """
    style_axis(ax, dims[0], "x", labels[0] if outer[0] else "", pad=pad)
    style_axis(ax, dims[1], "y", labels[1] if outer[1] else "", pad=pad)
    if not outer[0]:
        ax.tick_params(axis="x", labelbottom=False)
    if not outer[1]:
        ax.tick_params(axis="y", labelleft=False)


def integer_counts(ax: Any) -> None:
    """Whole numbers only on a count (y) axis."""
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, min_n_ticks=1))


def jitter(dim: Any, vals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Spread points that share a category or linear integer across a small part of its cell."""
    if dim.kind == "categorical" or (dim.kind == "integer" and not dim.log and is_cells(dim)):
        return vals + rng.uniform(-0.15, 0.15, size=len(vals))
    return vals


def grid_figure(plt: Any, k: int) -> tuple[Any, np.ndarray]:
    """A ``k x k`` grid of panels sized to stay readable, with room on the right for a colorbar."""
    side = 2.4 if k > 4 else 2.8
    fig, axes = plt.subplots(k, k, figsize=(side * k + 2.0, side * k + 0.8), squeeze=False)
    for r in range(k):
        for c in range(r + 1, k):
            axes[r, c].axis("off")
    return fig, axes


def finish_grid(fig: Any, axes: np.ndarray, mappable: Any, label: str, title: str,
                note: str | None) -> Any:
    """Title, the one colorbar (right of the grid; none without a mappable) and the note."""
    fig.suptitle(title)
    if note:
        fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=9, style="italic")
    fig.tight_layout(rect=(0.0, 0.03 if note else 0.0, 0.9, 0.96))
    k = axes.shape[0]
    top, bottom = axes[0, 0].get_position(), axes[k - 1, 0].get_position()
    height = (top.y1 - bottom.y0) * (0.5 if k > 1 else 1.0)
    if mappable is None:
        return None
    cax = fig.add_axes((0.915, top.y1 - height, 0.018, height))
    cb = fig.colorbar(mappable, cax=cax)
    cb.set_label(label)
    return cb


def legend(axes: np.ndarray, handles: list) -> None:
    """The legend of a grid: centred in its empty top-right panel, or in the corner of a lone one."""
    if axes.shape[0] == 1:
        axes[0, 0].legend(handles=handles, loc="best", fontsize=8)
    else:
        axes[0, -1].legend(handles=handles, loc="center")


def error_summary(text: str | None) -> str:
    """One line of an error text: the exception line of a traceback, else the first line."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    return lines[-1] if lines[0].startswith("Traceback (most recent call last)") else lines[0]
