//! `cargo bench`: the README's scaling table, HH neurons with K = 100 random graded inputs,
//! dt = 0.01 ms, f32, on the CPU reference and (when an adapter exists) the GPU.
//!
//! GANGLION_BENCH_SIZES=1000,10000,100000,1000000 picks the sizes (default up to 100k).

use ganglion::backend::{BackendOptions, gpu::GpuContext};
use ganglion::config::{self, BackendChoice, Precision};
use ganglion::network::Network;

fn main() -> anyhow::Result<()> {
    let sizes: Vec<u64> = std::env::var("GANGLION_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let config_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/hh_bench.toml");
    let gpu = GpuContext::new(None).map(|c| c.info.name).map_err(|e| eprintln!("GPU rows skipped: {e}")).ok();
    let mut rows = Vec::new();
    for &n in &sizes {
        let config = config::load(&config_path, &[format!("populations.hh.size={n}")])?;
        let net = Network::build(&config)?;
        // About a second of CPU work per repetition, at least 10 steps.
        let cpu_steps = (2e8 / (n as f64 * 101.0)).clamp(10.0, 2000.0) as u64;
        let cpu = BackendOptions { choice: BackendChoice::Cpu, precision: Precision::F32, adapter: None };
        rows.push(ganglion::bench::bench(&net, &cpu, cpu_steps, 3)?);
        if gpu.is_some() {
            let g = BackendOptions { choice: BackendChoice::Gpu, precision: Precision::F32, adapter: None };
            rows.push(ganglion::bench::bench(&net, &g, 1000, 3)?);
        }
    }
    print!("{}", ganglion::bench::table(&rows));
    Ok(())
}
