"""Import and decoding at the size of real recordings, and at five times that (not a test).

Makes a synthetic recording in NWB at the size of Panichello & Buschman's
(2021) data: 23 sessions of 376 trials (94 per task x cued location), with
LPFC 574, FEF 163, parietal 292 and V4 311 neurons in all, spread over the
sessions; and the same recording five times over (115 sessions, five times the
neurons; a session keeps its size). Every unit fires 5 Hz, plus a burst after
the cue whose timing tells the cued location, so the decoding has something to
find. Then, each stage in a fresh process, as the pipeline runs them:

- check: ``wmattn.nwb.check_recordings`` on every file (one job);
- import: ``wmattn.nwb.import_session`` of every file, one after another,
  each writing its session's rates and spikes (one job per file in the
  pipeline: the peak is one file's, the time the sum);
- decode: ``wmattn.io.region_sessions`` and ``wmattn.analysis.region.decode_region`` of
  the largest region (LPFC), with the paper config's folds and permutations
  per resample (``--resamples`` of them; paper.yaml has 10, each a repeat of
  the same work).

It prints each stage's wall time and peak memory (the process's maximum
resident set) at both sizes, and their ratios: linear growth is a ratio of 5.

    .venv/bin/python benchmarks/scale.py                 # both sizes (about half an hour on 2 cores)
    .venv/bin/python benchmarks/scale.py --scales 1      # paper size only
"""

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PAPER_NEURONS = {"LPFC": 574, "FEF": 163, "parietal": 292, "V4": 311}
PAPER_SESSIONS, TRIALS_PER_CONDITION = 23, 94
RATES = {"bin_ms": 100, "step_ms": 50}
COLUMNS = {"region": "electrode_group", "task": "task", "cued": "cued", "color_upper": "color_upper",
           "color_lower": "color_lower", "events": {}}
N_FOLDS = 5
BACKGROUND_HZ = 5.0
ITI_MS = 1000


def neurons_per_session(n_sessions):
    """Every region's neurons spread over the sessions as evenly as whole neurons allow: {region: counts}."""
    scale = n_sessions // PAPER_SESSIONS
    return {region: np.diff(np.linspace(0, total * scale, n_sessions + 1).round().astype(int))
            for region, total in PAPER_NEURONS.items()}


def write_session(path, session, counts, seed):
    """One synthetic session as an NWB file."""
    from pynwb import NWBHDF5IO, NWBFile

    from wmattn.task import DEFAULT_TIMING, epoch_names, generate_trials

    rng = np.random.default_rng(seed)
    timing = DEFAULT_TIMING
    trials = generate_trials(TRIALS_PER_CONDITION, rng, timing)
    onsets = trials.filter(like="onset_")
    start = np.concatenate([[0], np.cumsum(np.nanmax(onsets.to_numpy(), axis=1)[:-1] + ITI_MS)])
    end = start[-1] + np.nanmax(onsets.to_numpy()[-1]) + ITI_MS
    nwbfile = NWBFile(session_description="synthetic recording for benchmarks/scale.py", identifier=f"scale-{session}",
                      session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    events = epoch_names(timing)
    for name in ("task", "cued", "color_upper", "color_lower", *(f"{epoch}_time" for epoch in events)):
        nwbfile.add_trial_column(name, name)
    for j, trial in trials.iterrows():
        nwbfile.add_trial(start_time=start[j] / 1000, stop_time=(start[j] + trial["onset_response"]) / 1000,
                          task=trial["task"], cued=trial["cued"], color_upper=trial["color_upper"],
                          color_lower=trial["color_lower"],
                          **{f"{epoch}_time": (start[j] + trial[f"onset_{epoch}"]) / 1000 for epoch in events})
    cue = start + trials["onset_cue"].to_numpy()
    upper = (trials["cued"] == "upper").to_numpy()
    device = nwbfile.create_device(name="probe")
    for region, n in counts.items():
        group = nwbfile.create_electrode_group(name=region, description=region, location=region, device=device)
        for _ in range(n):
            background = rng.uniform(0, end, rng.poisson(BACKGROUND_HZ * end / 1000))
            # a burst after the cue, earlier when the upper item is cued: one spike on half the trials
            burst = cue + np.where(upper, 200.0, 400.0) + rng.normal(0, 50, len(cue))
            burst = burst[rng.random(len(cue)) < 0.5]
            nwbfile.add_unit(spike_times=np.sort(np.concatenate([background, burst])) / 1000, electrode_group=group)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


def make_recording(directory, n_sessions):
    counts = neurons_per_session(n_sessions)
    paths = []
    for k in range(n_sessions):
        path = directory / f"session{k}.nwb"
        write_session(path, k, {region: int(n[k]) for region, n in counts.items()}, seed=k)
        paths.append(path)
    return paths


def stage(name, directory, paths, resamples):
    """Run one stage in this process (called in a fresh one by ``measure``)."""
    from threadpoolctl import threadpool_limits

    from wmattn import seeds
    from wmattn.analysis.region import decode_region
    from wmattn.io import region_sessions, write_dataset
    from wmattn.nwb import check_recordings, import_session
    from wmattn.task import DEFAULT_TIMING

    timing, regions = DEFAULT_TIMING, list(PAPER_NEURONS)
    span_path = directory / "span.json"
    config = {"seed": 0}
    with threadpool_limits(2):
        if name == "check":
            span_path.write_text(json.dumps(check_recordings(paths, regions, COLUMNS, timing, N_FOLDS)))
        elif name == "import":
            span = json.loads(span_path.read_text())
            for k, path in enumerate(paths):
                rates, spikes = import_session(path, k, regions, COLUMNS, timing, RATES, N_FOLDS, span)
                write_dataset(rates, directory / f"rates{k}.nc", config)
                write_dataset(spikes, directory / f"spikes{k}.nc", config)
        elif name == "decode":
            sessions = region_sessions([directory / f"rates{k}.nc" for k in range(len(paths))], "LPFC")
            decoding = decode_region(sessions, n_folds=N_FOLDS, n_resamples=resamples, n_permutations=10 * resamples,
                                     seed=seeds.seed_sequence(0, "decoding", "LPFC"))
            print(f"LPFC: {decoding.sizes['neuron']} neurons, peak retro accuracy "
                  f"{float(decoding['accuracy'].sel(train_task='retro', test_task='retro').max()):.2f}", file=sys.stderr)


def measure(name, directory, paths, resamples):
    """Wall time (s) and peak resident memory (GB) of a stage in a fresh process (GNU time's %e and %M)."""
    report = directory / f"{name}.time"
    subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", str(report), sys.executable, __file__, "--stage", name,
                    "--directory", str(directory), "--resamples", str(resamples), *map(str, paths)], check=True)
    seconds, kilobytes = report.read_text().split()[-2:]
    return float(seconds), float(kilobytes) / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--resamples", type=int, default=2)
    parser.add_argument("--stage")
    parser.add_argument("--directory")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    if args.stage:
        return stage(args.stage, Path(args.directory), [Path(path) for path in args.paths], args.resamples)
    rows = {}
    for scale in args.scales:
        with tempfile.TemporaryDirectory() as directory:
            directory = Path(directory)
            n_sessions = scale * PAPER_SESSIONS
            began = time.perf_counter()
            paths = make_recording(directory, n_sessions)
            print(f"{scale}x: {n_sessions} sessions of {4 * TRIALS_PER_CONDITION} trials, "
                  f"{', '.join(f'{r} {scale * n}' for r, n in PAPER_NEURONS.items())} neurons; "
                  f"written in {time.perf_counter() - began:.0f} s", flush=True)
            rows[scale] = {}
            for name in ("check", "import", "decode"):
                rows[scale][name] = seconds, gb = measure(name, directory, paths, args.resamples)
                print(f"  {name:7s} {seconds:8.1f} s  peak {gb:5.2f} GB", flush=True)
    if len(rows) > 1:
        low, high = min(rows), max(rows)
        print(f"ratios {high}x / {low}x (linear: {high // low}):")
        for name in rows[low]:
            (s0, m0), (s1, m1) = rows[low][name], rows[high][name]
            print(f"  {name:7s} time {s1 / s0:5.2f}  peak memory {m1 / m0:5.2f}")


if __name__ == "__main__":
    main()
