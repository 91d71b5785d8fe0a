"""Parameter sweeps: one region's config key over the values of a table.

A sweep table is a TSV file with one column, headed by the dotted config key it
sweeps, and one value per row, e.g. ``config/sweeps/parietal_shared_selection.tsv``::

    regions.parietal.shared_selection
    0.0
    0.5
    1.0

Only a region's keys can be swept (``regions.<region>.<key>``): at every point
(row) the config with the row's value, the rest unchanged, is simulated again in
every session. With ``source: circuit`` that is every region (one network, in
which any region may feed back to another); with ``source: planted`` it is the
swept region and every region it drives top-down, directly or not, and a top-down
source it does not simulate again drives them from the main results' rates. Only
the swept region is decoded at a point. The rows are
the points of a Snakemake :class:`~snakemake.utils.Paramspace`, each named like
``shared_selection~0.5`` (the key's last part, ``~``, the value), so every point
has its own directory, ``results/sweeps/<sweep>/<point>/``, where ``<sweep>`` is
the table's file name without ``.tsv``; its session files hold the regions
simulated again.
"""

import copy
import functools
import json
from pathlib import Path

import pandas as pd
from snakemake.utils import Paramspace

from wmattn.config import ConfigError, validate_config

MAIN_RATES = "results/rates/session{session}.nc"
POINT_RATES = "results/sweeps/{sweep}/{point}/rates/session{session}.nc"


def set_key(config, keys, value):
    """A deep copy of ``config`` with the entry at the key path ``keys`` set to ``value``."""
    changed = copy.deepcopy(config)
    entry = changed
    for key in keys[:-1]:
        entry = entry.setdefault(key, {})
    entry[keys[-1]] = value
    return changed


def read_sweeps(paths, config, schema_path):
    """The sweeps of the config key ``sweeps`` (``paths``), by name."""
    sweeps = {}
    for path in paths:
        sweep = Sweep(path, config, schema_path)
        if sweep.name in sweeps:
            raise ConfigError(f"config key sweeps: two tables are named {sweep.name}: {sweeps[sweep.name].path} and {path}")
        sweeps[sweep.name] = sweep
    return sweeps


def no_sweeps_configured(*_):
    """Raise the error of a request for sweeps when the config lists none."""
    raise ConfigError(
        "config key sweeps: no sweeps configured; list sweep tables there, e.g. "
        "--config 'sweeps=[config/sweeps/parietal_shared_selection.tsv]' (a table of config/planted.yaml)"
    )


class Sweep:
    """One sweep table, checked against the config schema, as a Paramspace.

    Raises :class:`~wmattn.config.ConfigError` naming the file and the bad
    column or line; every row's config (``config`` with the row's value) must
    pass :func:`~wmattn.config.validate_config`.
    """

    def __init__(self, path, config, schema_path):
        self.path, self.name, self.config = str(path), Path(path).stem, config
        where = f"sweep table {path}"
        try:
            table = pd.read_csv(path, sep="\t")
        except FileNotFoundError:
            raise ConfigError(f"config key sweeps: {path}: no such file") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise ConfigError(f"{where}: not a table of tab-separated values ({error})") from None
        if table.shape[1] != 1:
            raise ConfigError(
                f"{where}: needs exactly one column, headed by the config key it sweeps "
                f"(e.g. regions.<region>.shared_selection); found {table.shape[1]}: {', '.join(map(str, table.columns))}"
            )
        column = str(table.columns[0])
        self.keys = tuple(column.split("."))
        if len(self.keys) < 3 or self.keys[0] != "regions" or not all(key.isidentifier() for key in self.keys):
            raise ConfigError(
                f"{where}: column {column!r} is not a region's config key: a sweep changes one region, "
                "so its column is headed regions.<region>.<key>, e.g. regions.parietal.shared_selection"
            )
        self.key, self.region = column, self.keys[1]
        if self.region not in config["regions"]:
            raise ConfigError(
                f"{where}: column {column}: {self.region!r} is not a configured region "
                f"(regions: {', '.join(config['regions'])})"
            )
        values = table[column]
        if values.empty or values.isna().any():
            raise ConfigError(f"{where}: column {column} needs a value in every row, and at least one row")
        if values.duplicated().any():
            raise ConfigError(f"{where}: column {column} repeats the value {values[values.duplicated()].iloc[0]}")
        for line, value in enumerate(values.tolist(), start=2):  # line 1 is the header
            try:
                validate_config(set_key(config, self.keys, value), schema_path)
            except ConfigError as error:
                raise ConfigError(f"{where}, line {line}: {error}") from None
        self.paramspace = Paramspace(table.rename(columns={column: self.keys[-1]}), filename_params="*",
                                     single_wildcard="point")

    @property
    def points(self):
        """The points' names, e.g. ``shared_selection~0.5``, in the table's order."""
        return list(self.paramspace.instance_patterns)

    @property
    def values(self):
        """The swept values, in the table's order."""
        return self.paramspace.dataframe.iloc[:, 0].tolist()

    @property
    def configured(self):
        """The swept key's value in the main config (None if it has none)."""
        return functools.reduce(lambda entry, key: (entry or {}).get(key), self.keys, self.config)

    def value(self, point):
        """The swept key's value at ``point``, a plain Python number or string."""
        (value,) = self.paramspace.instance({"point": point}).values()
        return getattr(value, "item", lambda: value)()

    def point_config(self, point):
        """The resolved config at ``point``."""
        return set_key(self.config, self.keys, self.value(point))

    def resimulated(self, point):
        """The regions simulated again at ``point``: with the circuit every region (one network);
        with the planted source the swept one and those it drives top-down, directly or not."""
        config = self.point_config(point)
        regions = config["regions"]
        if config["source"] == "circuit":
            return list(regions)
        changed = [self.region]
        while more := [name for name, region in regions.items()
                       if name not in changed and region.get("top_down", {}).get("source") in changed]:
            changed += more
        return changed

    def sources(self, point, session):
        """Top-down sources of the regions simulated again at ``point`` that are not simulated again,
        and their main rates file of ``session``: {region: path}."""
        regions, again = self.point_config(point)["regions"], self.resimulated(point)
        sources = {regions[name]["top_down"]["source"] for name in again if "top_down" in regions[name]}
        return {source: MAIN_RATES.format(session=session) for source in sorted(sources - set(again))}

    def at_points(self, pattern):
        """``pattern`` (with {sweep}, {point}, {region}: the swept region) at every point."""
        return [pattern.format(sweep=self.name, point=point, region=self.region) for point in self.points]
