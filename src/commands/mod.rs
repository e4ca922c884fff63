//! The subcommands, one file each: its arguments (clap) and what it prints, over the library.
//! `cli` only routes to them.

pub mod bench;
pub mod check;
pub mod info;
pub mod merge;
pub mod plot;
pub mod run;
pub mod scale;
pub mod stats;
pub mod validate;

use std::path::PathBuf;

/// The config and its overrides, as every command that reads a config takes them.
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

/// A count of steps or repetitions: zero would time nothing and report infinities.
pub fn positive_count(flag: &str, n: u64) -> anyhow::Result<()> {
    if n == 0 {
        anyhow::bail!("{flag} must be at least 1");
    }
    Ok(())
}
