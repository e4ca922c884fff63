//! `cargo bench`: the README's scaling tables, on the CPU reference and (when an adapter
//! exists) the GPU, f32.
//! - HH neurons with K = 100 random graded inputs, dt = 0.01 ms (configs/hh_bench.toml);
//!   sizes from GANGLION_BENCH_SIZES (default 1000,10000,100000).
//! - COBAHH with 80 synapses per neuron, dt = 0.1 ms (configs/cobahh_k80.toml);
//!   sizes from GANGLION_COBAHH_SIZES (default 4000,40000,400000).

use ganglion::backend::gpu::GpuContext;
use ganglion::backend::BackendOptions;
use ganglion::bench::{self, BenchResult};
use ganglion::config::{self, BackendChoice, Precision};
use ganglion::network::Network;

fn sizes(var: &str, default: &str) -> anyhow::Result<Vec<u64>> {
    Ok(std::env::var(var)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?)
}

/// Times one network on the CPU (about a second of work per repetition) and on the GPU.
fn measure(
    config: &str,
    overrides: Vec<String>,
    gpu: bool,
    rows: &mut Vec<BenchResult>,
) -> anyhow::Result<()> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(config);
    let net = Network::build(&config::load(&path, &overrides)?)?;
    let work = (net.n_neurons() + net.n_synapses()) as f64;
    let cpu_steps = (2e8 / work).clamp(5.0, 2000.0) as u64;
    let cpu = BackendOptions {
        choice: BackendChoice::Cpu,
        precision: Precision::F32,
        ..Default::default()
    };
    rows.push(bench::bench(&net, &cpu, cpu_steps, 3, 0.0)?);
    if gpu {
        let g = BackendOptions {
            choice: BackendChoice::Gpu,
            precision: Precision::F32,
            ..Default::default()
        };
        match bench::bench(&net, &g, 1000, 3, 0.0) {
            Ok(r) => rows.push(r),
            Err(e) => eprintln!("GPU row for {} neurons: {e}", net.n_neurons()),
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let gpu = GpuContext::new(None)
        .map_err(|e| eprintln!("GPU rows skipped: {e}"))
        .is_ok();
    let mut rows = Vec::new();
    for n in sizes("GANGLION_BENCH_SIZES", "1000,10000,100000")? {
        measure(
            "hh_bench.toml",
            vec![format!("populations.hh.size={n}")],
            gpu,
            &mut rows,
        )?;
    }
    println!(
        "HH, K = 100 graded inputs, dt = 0.01 ms\n{}",
        bench::table(&rows)
    );
    let mut rows = Vec::new();
    for n in sizes("GANGLION_COBAHH_SIZES", "4000,40000,400000")? {
        let overrides = vec![
            format!("populations.exc.size={}", n * 4 / 5),
            format!("populations.inh.size={}", n / 5),
        ];
        measure("cobahh_k80.toml", overrides, gpu, &mut rows)?;
    }
    println!(
        "COBAHH, 80 synapses per neuron, dt = 0.1 ms\n{}",
        bench::table(&rows)
    );
    Ok(())
}
