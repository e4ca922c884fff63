//! `ganglion validate`: a config on the GPU and on the CPU reference, compared.

use super::ConfigArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Simulated time to compare (overrides simulation.duration_ms).
    #[arg(long)]
    pub duration_ms: Option<f64>,
    /// Precision of the CPU side: f32 (the GPU's arithmetic) or f64 (the reference).
    #[arg(long, default_value = "f32")]
    pub cpu_precision: String,
    /// Largest allowed per-neuron spike-count difference.
    #[arg(long, default_value_t = 1)]
    pub max_count_diff: u64,
    /// Largest allowed |ΔV| in mV before the first spike-time divergence.
    #[arg(long, default_value_t = 1.0)]
    pub max_dv_mv: f64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if !args.max_dv_mv.is_finite() {
        anyhow::bail!(
            "--max-dv-mv must be a finite number of mV, got {}",
            args.max_dv_mv
        );
    }
    let mut overrides = args.config.all_overrides();
    if let Some(t) = args.duration_ms {
        overrides.push(format!("simulation.duration_ms={t}"));
    }
    let tol = crate::compare::Tolerances {
        max_count_diff: args.max_count_diff,
        max_dv_mv: args.max_dv_mv,
        ..Default::default()
    };
    let (table, pass) =
        crate::app::validate(&args.config.config, &overrides, &args.cpu_precision, &tol)?;
    print!("{table}");
    if !pass {
        anyhow::bail!("GPU and CPU disagree beyond the tolerances");
    }
    Ok(())
}
