# make run   the whole pipeline on config/config.yaml (or CONFIG=...), all cores
# make figures  redraw every figure from the existing results (no simulation)
# make report  results/report.html: every figure, its caption and the config, in one file
# make nwb   results/nwb/session{k}.nwb: the simulation as NWB files, one per session, to share
# make test  the test suite
# Both create .venv and install the package on first use, and skip that after.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# quoted where used: the path may hold spaces (but no single quote)
CONFIG ?= config/config.yaml
SNAKEMAKE_ARGS ?=

.PHONY: run figures report nwb test clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU wheel first: any other spelling of torch pulls gigabytes of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: $(INSTALLED)
	$(BIN)/snakemake --workflow-profile workflow/profiles/default --configfile '$(CONFIG)' $(SNAKEMAKE_ARGS)

# Plot code lives in src/wmattn/figures/, which Snakemake does not watch: force the plot rules.
# Not plot_inference: forcing a rule without wildcards adds its job, and with it the whole
# inference, to any target (its figures: snakemake --forcerun plot_inference inference).
figures: $(INSTALLED)
	$(BIN)/snakemake --workflow-profile workflow/profiles/default --configfile '$(CONFIG)' \
		--forcerun $$($(BIN)/snakemake --list-rules --configfile '$(CONFIG)' | grep '^plot_' | grep -vx plot_inference) \
		$(SNAKEMAKE_ARGS) -- figures

report: $(INSTALLED)
	$(BIN)/snakemake --workflow-profile workflow/profiles/default --configfile '$(CONFIG)' --report results/report.html

nwb: $(INSTALLED)
	$(BIN)/snakemake --workflow-profile workflow/profiles/default --configfile '$(CONFIG)' $(SNAKEMAKE_ARGS) -- nwb

test: $(INSTALLED)
	$(BIN)/pytest

clean:
	rm -rf results .snakemake
