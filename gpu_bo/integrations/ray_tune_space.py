"""A Ray Tune ``param_space`` as a gpu_bo :class:`~gpu_bo.space.Space`, conditional entries included.

Tune users write "which model, then its own parameters" as a ``tune.choice`` of dicts::

    {"model": tune.choice([{"type": "svc", "C": tune.loguniform(1e-3, 1e3)},
                           {"type": "rf", "n": tune.randint(10, 500)}]),
     "epochs": 3}

:func:`convert` turns it into a conditional Space: the choice becomes a ``Categorical`` over the
options' ``"type"``-like constant key (a key every option holds with distinct constant values;
``type``, ``name`` or ``kind`` first) or, without one, over the options' indices; each option's
search domains become children named ``model/<value>/<key>`` with ``when={"model": <value>}``
(options nest: a choice inside an option is a child that is itself a parent). A
:class:`TuneSpace` renders a suggestion (the active parameters) back into the nested config Tune
hands the trainable, the option's constants included. What has no well-defined GP encoding is
refused with an error naming the key: ``tune.sample_from``, lambdas, ``grid_search``, ``randn``,
quantized floats.

Glossary:
    path      a key path into the nested config, e.g. ``("model", "C")``
    template  the config with each search domain replaced by the parameter that fills it
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ray.tune.search import sample as tune_sample

from gpu_bo.space import Categorical, Integer, Real, Space

__all__ = ["TuneSpace", "convert", "convert_tune_space", "has_tune_domains", "path_name"]

Path = tuple
_TYPE_KEYS = ("type", "name", "kind")  # preferred keys naming a choice's options


def path_name(path: Path) -> str:
    """A key path as a parameter name: its keys joined with ``"/"`` (Ray's other searchers' names)."""
    return "/".join(str(p) for p in path)


def has_tune_domains(spec: Any) -> bool:
    """True if ``spec`` (a possibly nested dict or list) holds a Tune ``Domain`` or a grid search."""
    if isinstance(spec, tune_sample.Domain):
        return True
    if isinstance(spec, Mapping):
        return set(spec) == {"grid_search"} or any(has_tune_domains(v) for v in spec.values())
    if isinstance(spec, (list, tuple)):
        return any(has_tune_domains(v) for v in spec)
    return False


# -- the template: what renders a flat suggestion into a nested config --------------------------
@dataclass(frozen=True)
class _Param:
    """A leaf filled by the parameter ``name``."""

    name: str


@dataclass(frozen=True)
class _Choice:
    """A conditional choice: the parameter ``name`` takes one of ``values``; ``options[i]`` is
    the template of the option chosen by ``values[i]``."""

    name: str
    values: tuple
    options: tuple


def _render(node: Any, flat: Mapping[str, Any]) -> Any:
    if isinstance(node, _Param):
        return flat[node.name]
    if isinstance(node, _Choice):
        v = flat[node.name]
        i = next(i for i, w in enumerate(node.values) if w == v and type(w) is type(v))
        return _render(node.options[i], flat)
    if isinstance(node, dict):
        return {k: _render(v, flat) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(_render(v, flat) for v in node)
    return node


@dataclass(frozen=True)
class TuneSpace:
    """A converted ``param_space``: the Space and the template of the nested config.

    Attributes:
        space: the (possibly conditional) Space.
        template: the config with each search domain replaced by the parameter filling it.
        paths: each parameter's key path in the config.
    """

    space: Space
    template: dict
    paths: dict

    def config(self, params: Mapping[str, Any]) -> dict:
        """The nested Tune config of a suggestion (its active parameters, by name)."""
        return _render(self.template, params)

    @classmethod
    def flat(cls, space: Space) -> TuneSpace:
        """A Space given directly: the config is the suggestion itself."""
        return cls(space, {n: _Param(n) for n in space.names}, {n: (n,) for n in space.names})

    @classmethod
    def from_paths(cls, space: Space, paths: Mapping[str, Path], constants: Mapping[Path, Any]) -> TuneSpace:
        """The template of a flat (unconditional) conversion from its paths and constants (how
        states saved before conditional spaces stored it)."""
        template: dict = {}
        items = list(constants.items()) + [(tuple(paths.get(n, (n,))), _Param(n)) for n in space.names]
        for path, leaf in items:
            node = template
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = leaf
        return cls(space, template, {n: tuple(paths.get(n, (n,))) for n in space.names})


# -- conversion --------------------------------------------------------------------------------
def _refuse(name: str, what: str) -> ValueError:
    return ValueError(f"param_space[{name!r}]: {what} is not supported by GpuBoSearch; expected "
                      "tune.uniform, tune.loguniform, tune.randint, tune.lograndint, tune.qrandint(q=1), "
                      "tune.choice (of values, or of dicts of these for a conditional space) or a constant")


def _domain(name: str, domain: Any, when: dict | None) -> Real | Integer | Categorical:
    """One Tune ``Domain`` -> one gpu_bo dimension (bounds adjusted to Tune's conventions)."""
    sampler = domain.get_sampler()
    q = None
    if isinstance(sampler, tune_sample.Quantized):
        q, sampler = sampler.q, sampler.get_sampler()
    if isinstance(domain, tune_sample.Float):
        if q is None and isinstance(sampler, tune_sample.LogUniform):
            return Real(domain.lower, domain.upper, log=True, name=name, when=when)
        if q is None and isinstance(sampler, tune_sample.Uniform):
            return Real(domain.lower, domain.upper, name=name, when=when)
    elif isinstance(domain, tune_sample.Integer):
        # tune.randint / lograndint: upper is exclusive; qrandint(q=1): upper is inclusive
        log = isinstance(sampler, tune_sample.LogUniform)
        if q in (None, 1) and isinstance(sampler, (tune_sample.Uniform, tune_sample.LogUniform)):
            return Integer(domain.lower, domain.upper - (q is None), log=log, name=name, when=when)
    elif isinstance(domain, tune_sample.Categorical):
        if isinstance(sampler, tune_sample.Grid):
            raise _refuse(name, "tune.grid_search")
        return Categorical(domain.categories, name=name, when=when)
    elif isinstance(domain, tune_sample.Function):
        raise _refuse(name, "tune.sample_from (a function of the config)")
    raise _refuse(name, f"{type(domain).__name__} sampled by {sampler} (quantization q={q!r})")


def _labels(options: Sequence[Any]) -> tuple:
    """The values a conditional choice's Categorical takes: each option's ``"type"``-like
    constant, or its index when no key names every option with distinct constants."""
    if options and all(isinstance(o, Mapping) for o in options):
        keys = [k for k in options[0] if all(k in o for o in options)]
        keys.sort(key=lambda k: _TYPE_KEYS.index(k) if k in _TYPE_KEYS else len(_TYPE_KEYS))
        for k in keys:
            vals = [o[k] for o in options]
            if all(isinstance(v, (str, int)) and not has_tune_domains(v) for v in vals) and \
                    len({(type(v), v) for v in vals}) == len(vals):
                return tuple(vals)
    return tuple(range(len(options)))


class _Walker:
    """Walks a param_space, collecting dimensions by name and building the template."""

    def __init__(self) -> None:
        self.dims: dict[str, Any] = {}
        self.paths: dict[str, Path] = {}

    def add(self, name: str, dim: Any, path: Path) -> None:
        if name in self.dims:
            raise ValueError(f"param_space: two parameters map to the same name {name!r}")
        self.dims[name], self.paths[name] = dim, path

    def walk(self, spec: Any, path: Path, prefix: Path, when: dict | None) -> Any:
        """The template of ``spec`` at ``path``; parameters are named from ``prefix``."""
        name = path_name(prefix)
        if isinstance(spec, Mapping):
            if set(spec) == {"grid_search"}:
                raise _refuse(name, "tune.grid_search")
            if set(spec) == {"eval"}:
                raise _refuse(name, "an {'eval': ...} expression")
            return {k: self.walk(v, path + (k,), prefix + (k,), when) for k, v in spec.items()}
        if isinstance(spec, (list, tuple)):
            return type(spec)(self.walk(v, path + (i,), prefix + (i,), when) for i, v in enumerate(spec))
        if callable(spec) and getattr(spec, "__name__", "") == "<lambda>":
            raise _refuse(name, "a lambda (Tune's tune.sample_from)")
        if not isinstance(spec, tune_sample.Domain):
            return spec
        cats = getattr(spec, "categories", None)
        if isinstance(spec, tune_sample.Categorical) and any(
                isinstance(c, Mapping) or isinstance(c, (list, tuple)) and has_tune_domains(c) for c in cats):
            if isinstance(spec.get_sampler(), tune_sample.Grid):
                raise _refuse(name, "tune.grid_search over sub-spaces")
            values = _labels(cats)
            self.add(name, Categorical(list(values), name=name, when=when), path)
            options = tuple(self.walk(opt, path, prefix + (v,), {name: v}) for v, opt in zip(values, cats))
            return _Choice(name, values, options)
        self.add(name, _domain(name, spec, when), path)
        return _Param(name)


def convert(param_space: Mapping[str, Any]) -> TuneSpace:
    """Convert a Ray Tune ``param_space`` (nested dicts, conditional choices) into a Space.

    Supported: ``tune.uniform``, ``tune.loguniform``, ``tune.randint``, ``tune.lograndint``
    (upper bound exclusive, as in Tune), ``tune.qrandint(q=1)``, ``tune.choice`` of values, and
    ``tune.choice`` of dicts (or lists) holding these: a conditional choice (module docstring).
    Nested keys are joined with ``"/"`` to name a parameter (``{"model": {"lr": ...}}`` ->
    ``"model/lr"``).

    Args:
        param_space: the dict given to ``tune.Tuner(param_space=...)``.

    Returns:
        The :class:`TuneSpace` (the Space and the template of the nested config).

    Raises:
        TypeError: ``param_space`` is not a dict.
        ValueError: no search domain, or an unsupported one (grid search, ``sample_from``, a
            lambda, ``randn``, quantized floats), each naming its key; two parameters with one name.
    """
    if not isinstance(param_space, Mapping):
        raise TypeError(f"param_space: got {type(param_space).__name__}; expected a dict of Tune search domains")
    walker = _Walker()
    template = walker.walk(dict(param_space), (), (), None)
    if not walker.dims:
        raise ValueError(f"param_space: got {dict(param_space)!r} with no Tune search domains; expected at "
                         "least one tune.uniform / loguniform / randint / choice")
    return TuneSpace(Space(walker.dims), template, walker.paths)


def convert_tune_space(param_space: Mapping[str, Any]) -> tuple[Space, dict[str, Path], dict[Path, Any]]:
    """:func:`convert`, as ``(space, paths, constants)``: the Space, each parameter's key path in
    the config and the top-level constant entries by key path (an option's constants live in
    :attr:`TuneSpace.template`).

    Args:
        param_space: the dict given to ``tune.Tuner(param_space=...)``.
    """
    converted = convert(param_space)
    constants: dict[Path, Any] = {}

    def leaves(node: Any, path: Path) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                leaves(v, path + (k,))
        elif not isinstance(node, (_Param, _Choice)):
            constants[path] = node

    leaves(converted.template, ())
    return converted.space, dict(converted.paths), constants
