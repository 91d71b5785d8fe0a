import json

from wmattn.inference.stage import calibrate
from wmattn.io import output_to, write_dataset

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    calibration = calibrate(list(snakemake.input.chunks), snakemake.input.posterior, config["inference"],
                            config["seed"])
    levels = calibration["level"].to_numpy()
    for level in (0.5, 0.9):
        i = abs(levels - level).argmin()
        print(f"expected coverage at {level:.0%}: {float(calibration['coverage'][i]):.3f}", flush=True)
    for name, p in zip(calibration["parameter"].to_numpy(), calibration["ks_p"].to_numpy()):
        print(f"SBC ranks of {name}: KS p = {p:.3f}", flush=True)
    print(f"{calibration.attrs['n_excluded']} held-out draws excluded", flush=True)
    write_dataset(calibration, snakemake.output[0], snakemake.config)
