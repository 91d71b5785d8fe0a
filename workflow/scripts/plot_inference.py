import xarray as xr

from wmattn.figures.inference import calibration, posterior, predictive
from wmattn.figures.style import save
from wmattn.io import output_to

with output_to(snakemake.log[0], snakemake.threads):
    observed = xr.load_dataset(snakemake.input.observed)
    save(posterior(xr.load_dataset(snakemake.input.samples), observed), snakemake.output.posterior)
    save(calibration(xr.load_dataset(snakemake.input.calibration)), snakemake.output.calibration)
    draws = xr.concat([xr.load_dataset(path) for path in snakemake.input.predictive], dim="draw")
    save(predictive(observed, draws), snakemake.output.predictive)
