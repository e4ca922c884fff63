//! `ganglion stats`: spike and trace statistics of an output file.

use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The HDF5 output of `ganglion run`.
    pub output: PathBuf,
    /// Window for the Fano factor, ms.
    #[arg(long, default_value_t = 100.0)]
    pub window_ms: f64,
    /// Bins of the trace histograms.
    #[arg(long, default_value_t = 20)]
    pub bins: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let stats = crate::stats::from_file(&args.output, args.window_ms, args.bins)?;
    print!("{}", stats.report());
    Ok(())
}
