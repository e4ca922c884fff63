//! Command-line interface: each subcommand parses its arguments and calls one library function.

use crate::app::{self, RunRequest};
use crate::simulator::RunOptions;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "ganglion",
    version,
    about = "GPU-accelerated simulator of networks of coupled neurons"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArgs {
    /// The TOML config file.
    pub config: PathBuf,
    /// Override a config value: --set populations.hh.params.i_ext=7 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Backend: cpu, gpu or auto (overrides simulation.backend).
    #[arg(long)]
    pub backend: Option<String>,
    /// Precision on the CPU: f32 or f64 (overrides simulation.precision).
    #[arg(long)]
    pub precision: Option<String>,
    /// GPU adapter to use: a substring of its name (see `ganglion info`).
    #[arg(long)]
    pub adapter: Option<String>,
}

impl ConfigArgs {
    /// The overrides with the dedicated flags folded in as `--set`s, so they are validated alike.
    pub fn all_overrides(&self) -> Vec<String> {
        let mut o = self.overrides.clone();
        if let Some(b) = &self.backend {
            o.push(format!("simulation.backend=\"{b}\""));
        }
        if let Some(p) = &self.precision {
            o.push(format!("simulation.precision=\"{p}\""));
        }
        if let Some(a) = &self.adapter {
            o.push(format!("simulation.adapter=\"{a}\""));
        }
        o
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a simulation and write spikes and traces to HDF5.
    Run {
        #[command(flatten)]
        args: ConfigArgs,
        /// Output file (overrides output.path; default out/<config name>.h5).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Overwrite an existing output file.
        #[arg(long)]
        force: bool,
        /// No progress bar, no summary.
        #[arg(long)]
        quiet: bool,
        /// Steps per chunk (one GPU submit, one HDF5 append).
        #[arg(long)]
        chunk_steps: Option<u32>,
    },
    /// Validate a config and print the network's size and memory needs without running it.
    Check {
        #[command(flatten)]
        args: ConfigArgs,
    },
    /// List the backends and GPU adapters found.
    Info,
    /// Run a config on the GPU and on the CPU reference and compare them (exit 1 on failure).
    Validate {
        #[command(flatten)]
        args: ConfigArgs,
        /// Simulated time to compare (overrides simulation.duration_ms).
        #[arg(long)]
        duration_ms: Option<f64>,
        /// Precision of the CPU side: f32 (the GPU's arithmetic) or f64 (the reference).
        #[arg(long, default_value = "f32")]
        cpu_precision: String,
        /// Largest allowed per-neuron spike-count difference.
        #[arg(long, default_value_t = 1)]
        max_count_diff: u64,
        /// Largest allowed |ΔV| in mV before the first spike-time divergence.
        #[arg(long, default_value_t = 1.0)]
        max_dv_mv: f64,
    },
    /// Spike and trace statistics of an output file: rates, ISI mean and CV, Fano factor,
    /// silent neurons, trace moments and histograms.
    Stats {
        /// The HDF5 output of `ganglion run`.
        output: PathBuf,
        /// Window for the Fano factor, ms.
        #[arg(long, default_value_t = 100.0)]
        window_ms: f64,
        /// Bins of the trace histograms.
        #[arg(long, default_value_t = 20)]
        bins: usize,
    },
    /// Sweep a population's size or the whole network's, time each size on each backend, write
    /// a CSV.
    Scale {
        #[command(flatten)]
        args: ConfigArgs,
        /// The population whose size is swept. Without it the sizes are totals, and every
        /// population keeps its share of the network.
        #[arg(long)]
        population: Option<String>,
        /// Sizes, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        sizes: Vec<u64>,
        /// Backends, comma-separated: cpu, gpu.
        #[arg(long, default_value = "cpu,gpu", value_delimiter = ',')]
        backends: Vec<String>,
        /// Steps per timed repetition.
        #[arg(long, default_value_t = 200)]
        steps: u64,
        /// Timed repetitions (median, min and max are reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// The CSV to write.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an existing CSV.
        #[arg(long)]
        force: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Draw a PNG from an output file or a scale CSV.
    Plot {
        #[command(subcommand)]
        what: PlotCommand,
    },
    /// Time steps of a config's network: µs/step, neuron-steps/s, effective bandwidth.
    Bench {
        #[command(flatten)]
        args: ConfigArgs,
        /// Steps per timed repetition.
        #[arg(long, default_value_t = 1000)]
        steps: u64,
        /// Timed repetitions (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Backends to time, comma-separated: cpu, gpu.
        #[arg(long, default_value = "cpu,gpu", value_delimiter = ',')]
        backends: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum PlotCommand {
    /// Variables of recorded neurons against time, one panel per variable.
    Traces {
        output: PathBuf,
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
        #[arg(long)]
        population: Option<String>,
        #[arg(long, default_value_t = 500)]
        max_neurons: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Histogram of all recorded samples of a variable.
    Hist {
        output: PathBuf,
        #[arg(long)]
        population: String,
        #[arg(long, default_value = "v")]
        variable: String,
        #[arg(long, default_value_t = 50)]
        bins: usize,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Histogram of the inter-spike intervals of a population.
    Isi {
        output: PathBuf,
        #[arg(long)]
        population: String,
        #[arg(long, default_value_t = 50)]
        bins: usize,
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

fn plot(what: PlotCommand) -> anyhow::Result<PathBuf> {
    use crate::plot;
    Ok(match what {
        PlotCommand::Traces {
            output,
            population,
            variables,
            neurons,
            t0,
            t1,
            out,
        } => {
            let png = png_path(out, &output, "traces");
            plot::traces(&output, &population, &variables, &neurons, t0, t1, &png)?;
            png
        }
        PlotCommand::Raster {
            output,
            population,
            max_neurons,
            out,
        } => {
            let png = png_path(out, &output, "raster");
            plot::raster(&output, population.as_deref(), max_neurons, &png)?;
            png
        }
        PlotCommand::Hist {
            output,
            population,
            variable,
            bins,
            out,
        } => {
            let png = png_path(out, &output, &format!("hist_{variable}"));
            plot::hist(&output, &population, &variable, bins, &png)?;
            png
        }
        PlotCommand::Isi {
            output,
            population,
            bins,
            out,
        } => {
            let png = png_path(out, &output, "isi");
            plot::isi(&output, &population, bins, &png)?;
            png
        }
        PlotCommand::Scale { csv, out } => {
            let png = png_path(out, &csv, "scale");
            plot::scale(&csv, &png)?;
            png
        }
    })
}

/// A count of steps or repetitions: zero would time nothing and report infinities.
fn positive_count(flag: &str, n: u64) -> anyhow::Result<()> {
    if n == 0 {
        anyhow::bail!("{flag} must be at least 1");
    }
    Ok(())
}

pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            args,
            output,
            force,
            quiet,
            chunk_steps,
        } => {
            let interrupt = Arc::new(AtomicBool::new(false));
            let flag = interrupt.clone();
            // The first Ctrl-C or SIGTERM stops the run cleanly within about a quarter of a
            // second; a second one exits at once, leaving the partial file as a kill would.
            let _ = ctrlc::set_handler(move || {
                if flag.swap(true, Ordering::SeqCst) {
                    eprintln!("\nsecond interrupt: exiting now; the output so far stays in its .partial file");
                    std::process::exit(130);
                }
                eprintln!("\ninterrupt: stopping after the current steps (again to exit at once)");
            });
            // Held to the same rules as the config key.
            let mut overrides = args.all_overrides();
            if let Some(n) = chunk_steps {
                overrides.push(format!("simulation.chunk_steps={n}"));
            }
            let req = RunRequest {
                config: args.config.clone(),
                overrides,
                output,
                force,
                run: RunOptions {
                    chunk_steps: None,
                    show_progress: !quiet,
                    interrupt: Some(interrupt),
                },
            };
            let (path, summary) = app::run(&req)?;
            if !quiet {
                println!("wrote {}", path.display());
                println!("{}", summary.one_line());
                if let Some((peak, estimated)) = summary.host_memory {
                    println!(
                        "host memory: peak {}, estimated {} before the run",
                        crate::units::human_bytes(peak),
                        crate::units::human_bytes(estimated)
                    );
                }
            }
        }
        Command::Check { args } => print!("{}", app::check(&args.config, &args.all_overrides())?),
        Command::Info => print!("{}", app::info()),
        Command::Validate {
            args,
            duration_ms,
            cpu_precision,
            max_count_diff,
            max_dv_mv,
        } => {
            if !max_dv_mv.is_finite() {
                anyhow::bail!("--max-dv-mv must be a finite number of mV, got {max_dv_mv}");
            }
            let mut overrides = args.all_overrides();
            if let Some(t) = duration_ms {
                overrides.push(format!("simulation.duration_ms={t}"));
            }
            let tol = crate::validate::Tolerances {
                max_count_diff,
                max_dv_mv,
                ..Default::default()
            };
            let (table, pass) = app::validate(&args.config, &overrides, &cpu_precision, &tol)?;
            print!("{table}");
            if !pass {
                anyhow::bail!("GPU and CPU disagree beyond the tolerances");
            }
        }
        Command::Stats {
            output,
            window_ms,
            bins,
        } => {
            print!("{}", crate::stats::from_file(&output, window_ms, bins)?.report());
        }
        Command::Scale {
            args,
            population,
            sizes,
            backends,
            steps,
            repeat,
            out,
            force,
            quiet,
        } => {
            positive_count("--steps", steps)?;
            positive_count("--repeat", repeat as u64)?;
            // Checked before the study: its measurements take long to redo.
            if out.exists() && !force {
                anyhow::bail!(
                    "{} already exists; pass --force to overwrite it or choose another --out",
                    out.display()
                );
            }
            let backends = app::parse_backends(&backends)?;
            let req = crate::scale::ScaleRequest {
                config: args.config.clone(),
                overrides: args.all_overrides(),
                population,
                sizes,
                backends,
                steps,
                repeat,
                show_progress: !quiet,
            };
            let rows = crate::scale::run(&req)?;
            crate::scale::write_csv(&out, &rows)?;
            print!("{}", crate::scale::table(&rows));
            println!("wrote {}", out.display());
        }
        Command::Plot { what } => println!("wrote {}", plot(what)?.display()),
        Command::Bench {
            args,
            steps,
            repeat,
            backends,
        } => {
            positive_count("--steps", steps)?;
            positive_count("--repeat", repeat as u64)?;
            print!(
                "{}",
                app::bench(
                    &args.config,
                    &args.all_overrides(),
                    steps,
                    repeat,
                    &backends
                )?
            );
        }
    }
    Ok(())
}
