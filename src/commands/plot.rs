//! `ganglion plot`: PNG figures from an output file or a scale CSV.

use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum Args {
    /// Variables of recorded neurons against time, one panel per variable.
    Traces {
        output: PathBuf,
        /// In a sweep\'s file, the instance to draw.
        #[arg(long)]
        instance: Option<usize>,
        #[arg(long)]
        population: String,
        #[arg(long, value_delimiter = ',', default_value = "v")]
        variables: Vec<String>,
        /// Neuron ids (default: the first eight recorded).
        #[arg(long, value_delimiter = ',')]
        neurons: Vec<u64>,
        #[arg(long)]
        t0: Option<f64>,
        #[arg(long)]
        t1: Option<f64>,
        /// The PNG (default: next to the output file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Spike raster with the population rate below.
    Raster {
        output: PathBuf,
        /// In a sweep\'s file, the instance to draw.
        #[arg(long)]
        instance: Option<usize>,
        #[arg(long)]
        population: Option<String>,
        #[arg(long, default_value_t = 500)]
        max_neurons: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The recorded population rates (record.rates) against time, with their smoothed rate
    /// (record.smooth_rate) where it is recorded.
    Rates {
        output: PathBuf,
        /// In a sweep\'s file, the instance to draw.
        #[arg(long)]
        instance: Option<usize>,
        /// The population (default: every one whose rate is recorded).
        #[arg(long)]
        population: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Histogram of all recorded samples of a variable.
    Hist {
        output: PathBuf,
        /// In a sweep\'s file, the instance to draw.
        #[arg(long)]
        instance: Option<usize>,
        #[arg(long)]
        population: String,
        #[arg(long, default_value = "v")]
        variable: String,
        #[arg(long, default_value_t = 50)]
        bins: usize,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Histogram of a synaptic variable's values at the end of the run (synapses written as
    /// equations).
    Weights {
        output: PathBuf,
        /// In a sweep\'s file, the instance to draw.
        #[arg(long)]
        instance: Option<usize>,
        #[arg(long)]
        projection: String,
        #[arg(long, default_value = "w")]
        variable: String,
        #[arg(long, default_value_t = 20)]
        bins: usize,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Histogram of the inter-spike intervals of a population.
    Isi {
        output: PathBuf,
        /// In a sweep\'s file, the instance to draw.
        #[arg(long)]
        instance: Option<usize>,
        #[arg(long)]
        population: String,
        #[arg(long, default_value_t = 50)]
        bins: usize,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Position, velocity and control of every trial of an ofc_saccade population, with the
    /// noiseless solution and the target (the book's figures 8.1 and 8.2).
    Trials {
        output: PathBuf,
        /// In a sweep\'s file, the instance to draw.
        #[arg(long)]
        instance: Option<usize>,
        #[arg(long)]
        population: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A sweep's metric against a swept key (lines per value of the other keys), or as a
    /// heatmap over two keys.
    Sweep {
        output: PathBuf,
        /// The swept key along x (as in [sweep]).
        #[arg(long)]
        x: String,
        /// A second key: a heatmap over the two.
        #[arg(long)]
        y: Option<String>,
        /// rate, cv, fano, silent or spikes.
        #[arg(long, default_value = "rate")]
        metric: String,
        /// The population (default: the first with spikes).
        #[arg(long)]
        population: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Time per step, throughput and GPU/CPU speedup against N from a scale CSV.
    Scale {
        csv: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `out.h5` → `out_<what>.png` beside it, unless a path was given.
fn png_path(given: Option<PathBuf>, input: &std::path::Path, what: &str) -> PathBuf {
    given.unwrap_or_else(|| {
        let stem = input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plot".into());
        input.with_file_name(format!("{stem}_{what}.png"))
    })
}

fn source(output: &std::path::Path, instance: Option<usize>) -> crate::plot::Source<'_> {
    crate::plot::Source { path: output, instance }
}

/// Draws the figure and says where.
pub fn run(what: Args) -> anyhow::Result<()> {
    println!("wrote {}", draw(what)?.display());
    Ok(())
}

fn draw(what: Args) -> anyhow::Result<PathBuf> {
    use crate::plot;
    Ok(match what {
        Args::Traces {
            output,
            instance,
            population,
            variables,
            neurons,
            t0,
            t1,
            out,
        } => {
            let png = png_path(out, &output, "traces");
            plot::traces(source(&output, instance), &population, &variables, &neurons, t0, t1, &png)?;
            png
        }
        Args::Raster {
            output,
            instance,
            population,
            max_neurons,
            out,
        } => {
            let png = png_path(out, &output, "raster");
            plot::raster(source(&output, instance), population.as_deref(), max_neurons, &png)?;
            png
        }
        Args::Rates {
            output,
            instance,
            population,
            out,
        } => {
            let png = png_path(out, &output, "rates");
            plot::rates(source(&output, instance), population.as_deref(), &png)?;
            png
        }
        Args::Hist {
            output,
            instance,
            population,
            variable,
            bins,
            out,
        } => {
            let png = png_path(out, &output, &format!("hist_{variable}"));
            plot::hist(source(&output, instance), &population, &variable, bins, &png)?;
            png
        }
        Args::Weights {
            output,
            instance,
            projection,
            variable,
            bins,
            out,
        } => {
            let png = png_path(out, &output, &format!("weights_{projection}_{variable}"));
            plot::weights(source(&output, instance), &projection, &variable, bins, &png)?;
            png
        }
        Args::Isi {
            output,
            instance,
            population,
            bins,
            out,
        } => {
            let png = png_path(out, &output, "isi");
            plot::isi(source(&output, instance), &population, bins, &png)?;
            png
        }
        Args::Trials {
            output,
            instance,
            population,
            out,
        } => {
            let png = png_path(out, &output, "trials");
            plot::trials(source(&output, instance), population.as_deref(), &png)?;
            png
        }
        Args::Sweep { output, x, y, metric, population, out } => {
            let png = png_path(out, &output, &format!("sweep_{metric}"));
            plot::sweep(&output, &x, y.as_deref(), &metric, population.as_deref(), &png)?;
            png
        }
        Args::Scale { csv, out } => {
            let png = png_path(out, &csv, "scale");
            plot::scale(&csv, &png)?;
            png
        }
    })
}
