"""The prior over the circuit's config keys: uniform or log-uniform bounds per key.

``inference.prior`` maps a dotted config key of the circuit (e.g.
``regions.LPFC.controller.cue_overlap``) to ``{low, high, scale}``. The
posterior estimator works in *fit space*, where every prior is uniform: the
value itself for ``scale: linear``, its natural logarithm for ``scale: log``.
"""

from dataclasses import dataclass

import numpy as np

from wmattn.config import ConfigError
from wmattn.sweep import set_key


@dataclass(frozen=True)
class Parameter:
    name: str  # the dotted config key
    low: float
    high: float
    scale: str = "linear"  # or "log"

    def to_fit(self, value):
        return np.log(value) if self.scale == "log" else np.asarray(value, float)

    def from_fit(self, value):
        return np.exp(value) if self.scale == "log" else np.asarray(value, float)

    @property
    def fit_bounds(self):
        return float(self.to_fit(self.low)), float(self.to_fit(self.high))


def parameters(prior, circuit):
    """The :class:`Parameter` of every key of ``prior`` (``inference.prior``), in its order.

    Refuses, naming the key, one that is not a number of the resolved circuit
    config ``circuit``, bounds that are not increasing, and a log scale whose
    lower bound is not positive.
    """
    if not prior:
        raise ConfigError("config key inference.prior: no parameters; give at least one config key with its bounds")
    chosen = []
    for name, bounds in prior.items():
        where = f"config key inference.prior.{name}"
        entry = circuit
        for key in name.split("."):
            if not isinstance(entry, dict) or key not in entry:
                raise ConfigError(f"{where}: the circuit has no such key (its config has no {key!r} there)")
            entry = entry[key]
        if isinstance(entry, bool) or not isinstance(entry, (int, float)):
            raise ConfigError(f"{where}: the circuit's value there is {entry!r}, not a number")
        parameter = Parameter(name, float(bounds["low"]), float(bounds["high"]), bounds.get("scale", "linear"))
        if not parameter.low < parameter.high:
            raise ConfigError(f"{where}: low ({parameter.low}) must be below high ({parameter.high})")
        if parameter.scale == "log" and parameter.low <= 0:
            raise ConfigError(f"{where}: a log scale needs a positive low, got {parameter.low}")
        chosen.append(parameter)
    return chosen


def draw(chosen, n, rng):
    """``n`` draws from the prior, (draw, parameter) in the keys' own units."""
    fit = np.column_stack([rng.uniform(*p.fit_bounds, size=n) for p in chosen])
    return from_fit(chosen, fit)


def to_fit(chosen, values):
    return np.column_stack([p.to_fit(values[:, i]) for i, p in enumerate(chosen)])


def from_fit(chosen, values):
    return np.column_stack([p.from_fit(values[:, i]) for i, p in enumerate(chosen)])


def with_values(circuit, chosen, values):
    """A copy of the circuit config with every parameter set to its value."""
    for parameter, value in zip(chosen, values):
        circuit = set_key(circuit, parameter.name.split("."), float(value))
    return circuit
