//! Command-line interface: routes each subcommand to its file in `commands/`.

use crate::commands;
use clap::{Parser, Subcommand};

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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a simulation and write spikes and traces to HDF5.
    Run(commands::run::Args),
    /// Validate a config and print the network's size and memory needs without running it.
    Check(commands::check::Args),
    /// List the backends and GPU adapters found.
    Info(commands::info::Args),
    /// Run a config on the GPU and on the CPU reference and compare them (exit 1 on failure).
    Validate(commands::validate::Args),
    /// Spike and trace statistics of an output file: rates, ISI mean and CV, Fano factor,
    /// silent neurons, trace moments and histograms.
    Stats(commands::stats::Args),
    /// Sweep a population's size or the whole network's, time each size on each backend, write
    /// a CSV.
    Scale(commands::scale::Args),
    /// Draw a PNG from an output file or a scale CSV.
    Plot {
        #[command(subcommand)]
        what: commands::plot::Args,
    },
    /// Time steps of a config's network: µs/step, neuron-steps/s, effective bandwidth.
    Bench(commands::bench::Args),
    /// Join the files of a sweep's slices (run --slice K/M) into one.
    Merge(commands::merge::Args),
}

pub fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run(a) => commands::run::run(a),
        Command::Check(a) => commands::check::run(a),
        Command::Info(a) => commands::info::run(a),
        Command::Validate(a) => commands::validate::run(a),
        Command::Stats(a) => commands::stats::run(a),
        Command::Scale(a) => commands::scale::run(a),
        Command::Plot { what } => commands::plot::run(what),
        Command::Bench(a) => commands::bench::run(a),
        Command::Merge(a) => commands::merge::run(a),
    }
}
