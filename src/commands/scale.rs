//! `ganglion scale`: sweep a size, time each on each backend, write a CSV.

use super::{positive_count, ConfigArgs};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The population whose size is swept. Without it the sizes are totals, and every
    /// population keeps its share of the network.
    #[arg(long)]
    pub population: Option<String>,
    /// Sizes, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub sizes: Vec<u64>,
    /// Backends, comma-separated: cpu, gpu.
    #[arg(long, default_value = "cpu,gpu", value_delimiter = ',')]
    pub backends: Vec<String>,
    /// Steps per timed repetition.
    #[arg(long, default_value_t = 200)]
    pub steps: u64,
    /// Timed repetitions (median, min and max are reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// The CSV to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite an existing CSV.
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    positive_count("--steps", args.steps)?;
    positive_count("--repeat", args.repeat as u64)?;
    let backends = crate::app::parse_backends(&args.backends)?;
    // Checked before the study: its measurements take long to redo.
    if args.out.is_dir() {
        anyhow::bail!("--out {} is a directory; give the CSV's path, e.g. {}/scale.csv", args.out.display(), args.out.display());
    }
    if args.out.exists() && !args.force {
        anyhow::bail!(
            "{} already exists; pass --force to overwrite it or choose another --out",
            args.out.display()
        );
    }
    let req = crate::scale::ScaleRequest {
        config: args.config.config.clone(),
        overrides: args.config.all_overrides(),
        population: args.population,
        sizes: args.sizes,
        backends,
        steps: args.steps,
        repeat: args.repeat,
        show_progress: !args.quiet,
    };
    let rows = crate::scale::run(&req)?;
    crate::scale::write_csv(&args.out, &rows)?;
    print!("{}", crate::scale::table(&rows));
    println!("wrote {}", args.out.display());
    Ok(())
}
