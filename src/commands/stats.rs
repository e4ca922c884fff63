//! `ganglion stats`: spike and trace statistics of an output file; for a sweep's file, one
//! row per instance (optionally as CSV), or one instance's statistics with `--instance`.

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
    /// A sweep's file: the statistics of this instance alone, as a single run's.
    #[arg(long)]
    pub instance: Option<usize>,
    /// A sweep's file: also write its table (one row per instance) as CSV here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Overwrite an existing --csv file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    use crate::sweep::table::SweepTable;
    if args.instance.is_none() && SweepTable::is_sweep(&args.output) {
        if !(args.window_ms > 0.0 && args.window_ms.is_finite()) {
            anyhow::bail!("--window-ms must be a positive number of ms, got {}", args.window_ms);
        }
        let table = SweepTable::read(&args.output, args.window_ms)?;
        print!("{}", table.report());
        if let Some(csv) = &args.csv {
            crate::io::output::check_target(csv, args.force)?;
            std::fs::write(csv, table.csv()).map_err(|e| crate::Error::io(csv, e.to_string()))?;
            println!("wrote {}", csv.display());
        }
        return Ok(());
    }
    if args.csv.is_some() {
        anyhow::bail!("--csv writes a sweep's table; {} is a single run's file (or --instance names one run)", args.output.display());
    }
    let src = crate::io::reader::Source { path: &args.output, instance: args.instance };
    let stats = crate::stats::from_file(src, args.window_ms, args.bins)?;
    print!("{}", stats.report());
    Ok(())
}
