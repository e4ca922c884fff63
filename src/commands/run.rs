//! `ganglion run`: simulate and write the HDF5 file.

use super::ConfigArgs;
use crate::app::{self, RunRequest};
use crate::simulator::RunOptions;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Output file (overrides output.path; default out/<config name>.h5).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Also write a SONATA simulation output directory (overrides output.sonata_dir).
    #[arg(long)]
    pub sonata_dir: Option<PathBuf>,
    /// No progress bar, no summary.
    #[arg(long)]
    pub quiet: bool,
    /// Run only the K-th of M equal parts of a sweep's instances, into its own file (join
    /// the parts with `ganglion merge`).
    #[arg(long, value_name = "K/M")]
    pub slice: Option<crate::sweep::Slice>,
    /// Steps per chunk (one GPU submit, one HDF5 append).
    #[arg(long)]
    pub chunk_steps: Option<u32>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // The first Ctrl-C or SIGTERM stops the run cleanly within about a quarter of a second; a
    // second one exits at once, leaving the partial file as a kill would.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!(
                "\nsecond interrupt: exiting now; the output so far stays in its .partial file"
            );
            std::process::exit(130);
        }
        eprintln!("\ninterrupt: stopping after the current steps (again to exit at once)");
    });
    // Held to the same rules as the config key.
    let mut overrides = args.config.all_overrides();
    if let Some(dir) = &args.sonata_dir {
        overrides.push(format!("output.sonata_dir={}", toml::Value::String(dir.display().to_string())));
    }
    if let Some(n) = args.chunk_steps {
        overrides.push(format!("simulation.chunk_steps={n}"));
    }
    let req = RunRequest {
        config: args.config.config.clone(),
        overrides,
        output: args.output,
        force: args.force,
        run: RunOptions {
            chunk_steps: None,
            show_progress: !args.quiet,
            interrupt: Some(interrupt),
        },
        slice: args.slice,
    };
    let (path, ran) = app::run_any(&req)?;
    let summary = match ran {
        app::Ran::Single(summary) => summary,
        app::Ran::Sweep(summary) => {
            if !args.quiet {
                println!("wrote {}", path.display());
                println!("{}", summary.one_line());
            }
            return Ok(());
        }
    };
    if !args.quiet {
        println!("wrote {}", path.display());
        if let Some(dir) = &args.sonata_dir {
            println!("wrote the SONATA output directory {}", dir.display());
        }
        println!("{}", summary.one_line());
        if let Some((peak, estimated)) = summary.host_memory {
            println!(
                "host memory: peak {}, estimated {} before the run",
                crate::units::human_bytes(peak),
                crate::units::human_bytes(estimated)
            );
        }
    }
    Ok(())
}
