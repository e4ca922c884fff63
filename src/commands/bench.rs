//! `ganglion bench`: time a config's steps on each backend.

use super::{positive_count, ConfigArgs};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Steps per timed repetition.
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,
    /// Timed repetitions (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Backends to time, comma-separated: cpu, gpu.
    #[arg(long, default_value = "cpu,gpu", value_delimiter = ',')]
    pub backends: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    positive_count("--steps", args.steps)?;
    positive_count("--repeat", args.repeat as u64)?;
    print!(
        "{}",
        crate::app::bench(
            &args.config.config,
            &args.config.all_overrides(),
            args.steps,
            args.repeat,
            &args.backends
        )?
    );
    Ok(())
}
