//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ganglion::backend::gpu::{GpuBackend, GpuContext, GpuOptions};
use ganglion::backend::Backend;
use ganglion::config::{EventDelivery, GpuCoupling};
use ganglion::config::{self, Config};
use ganglion::network::Network;
use ganglion::record::RecordPlan;
use ganglion::simulator::{self, MemorySink, RunOptions};
use std::path::PathBuf;

/// Where no adapter is found, the GPU tests fail with this (never skip silently): CI has
/// lavapipe, which `make test` installs.
fn no_adapter(e: ganglion::Error) -> ! {
    panic!("the GPU tests need an adapter (install mesa-vulkan-drivers, as `make test` does): {e}")
}

/// The GPU device the tests run on.
pub fn gpu_context() -> GpuContext {
    GpuContext::new(None).unwrap_or_else(|e| no_adapter(e))
}

/// A GPU backend for `net` recording `plan`, with the graded coupling `coupling`.
pub fn gpu_backend_with(net: &Network, plan: &RecordPlan, coupling: GpuCoupling) -> GpuBackend {
    GpuBackend::with_options(net, plan, None, coupling).unwrap_or_else(|e| match e {
        ganglion::Error::Gpu(_) => no_adapter(e),
        e => panic!("the GPU backend refused the network: {e}"),
    })
}

/// A GPU backend for `net` recording `plan` with bindings capped at `cap` bytes (None: the
/// device's own), so that matrices larger than that are cut into parts.
/// Every graded coupling kernel.
pub const ALL_KERNELS: [GpuCoupling; 5] = [
    GpuCoupling::Fused,
    GpuCoupling::FusedLanes,
    GpuCoupling::ThreadPerRow,
    GpuCoupling::LanesPerRow,
    GpuCoupling::Blocked,
];

pub fn gpu_backend_capped(
    net: &Network,
    plan: &RecordPlan,
    coupling: GpuCoupling,
    cap: Option<u64>,
) -> GpuBackend {
    gpu_backend_of(net, plan, GpuOptions { coupling, max_binding_bytes: cap, ..Default::default() })
}

/// A GPU backend for `net` delivering the event-driven inputs as `delivery` says.
pub fn gpu_backend_delivering(net: &Network, plan: &RecordPlan, delivery: EventDelivery) -> GpuBackend {
    gpu_backend_of(net, plan, GpuOptions { event_delivery: delivery, ..Default::default() })
}

fn gpu_backend_of(net: &Network, plan: &RecordPlan, options: GpuOptions) -> GpuBackend {
    GpuBackend::with_options(net, plan, None, options).unwrap_or_else(|e| panic!("{options:?}: {e}"))
}

/// `configs/hh_ring_1k.toml` with `overrides`, every neuron starting from a random state drawn
/// with `seed` (V in [−80, 20] mV, gates in [0, 1]), so that many fire at once.
pub fn hh_ring_from_random_states(overrides: &[&str], seed: u64) -> Network {
    use rand::{Rng, SeedableRng};
    let text = std::fs::read_to_string(repo_path("configs/hh_ring_1k.toml")).unwrap();
    let (_, mut net) = parsed(&text, overrides);
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = net.populations[0].size;
    net.populations[0].init[0] = (0..n).map(|_| r.random_range(-80.0..20.0)).collect();
    for var in 1..5 {
        net.populations[0].init[var] = (0..n).map(|_| r.random_range(0.0..1.0)).collect();
    }
    net
}

/// A GPU backend for `net` recording `plan`.
pub fn gpu_backend(net: &Network, plan: &RecordPlan) -> GpuBackend {
    gpu_backend_with(net, plan, GpuCoupling::default())
}

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A shipped config with overrides applied.
pub fn shipped(name: &str, overrides: &[&str]) -> (Config, Network) {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let config =
        config::load(&repo_path(&format!("configs/{name}")), &o).expect("shipped config is valid");
    let net = Network::build(&config).expect("network builds");
    (config, net)
}

pub fn parsed(text: &str, overrides: &[&str]) -> (Config, Network) {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let config = config::parse(text, &o).expect("config is valid");
    let net = Network::build(&config).expect("network builds");
    (config, net)
}

/// Where Brian2's synapse (i, j) is in `csr` (rows are targets, columns sources).
pub fn csr_index(csr: &ganglion::connectivity::Csr, (i, j): (u32, u32)) -> usize {
    (csr.row_ptr[j as usize]..csr.row_ptr[j as usize + 1]).find(|&s| csr.col_idx[s as usize] == i).expect("Brian2's synapse is one of ours") as usize
}

/// Runs the whole network on `backend`, keeping everything the plan records in memory.
pub fn run_in_memory(net: &Network, backend: &mut dyn Backend, plan: &RecordPlan) -> MemorySink {
    let mut sink = MemorySink::default();
    simulator::run(net, backend, plan, &mut sink, &RunOptions::default()).expect("run succeeds");
    sink
}

/// Asserts that every variable of the HH population 0 in `gpu` is `cpu`'s to 1e-5 (relative,
/// absolute below 1): the GPU against the CPU reference in f32, `what` naming the case.
pub fn assert_hh_state_close(cpu: &ganglion::backend::NetworkState, gpu: &ganglion::backend::NetworkState, what: &str) {
    for var in 0..5 {
        for (i, (x, y)) in cpu[0][var].iter().zip(&gpu[0][var]).enumerate() {
            assert!(
                (x - y).abs() <= 1e-5 * x.abs().max(1.0),
                "{what}: variable {var} of neuron {i}: cpu {x}, gpu {y}"
            );
        }
    }
}

/// Firing rate (Hz) from the mean inter-spike interval of the spikes after `t_from` ms.
pub fn rate_from_isi(times: &[f64], t_from: f64) -> f64 {
    let late: Vec<f64> = times.iter().copied().filter(|&t| t >= t_from).collect();
    assert!(
        late.len() >= 3,
        "too few spikes after {t_from} ms: {times:?}"
    );
    let mean_isi = (late[late.len() - 1] - late[0]) / (late.len() - 1) as f64;
    1000.0 / mean_isi
}

/// Every dataset under `group`, by path within it, as f64.
pub fn datasets_under(file: &hdf5::File, group: &str) -> Vec<(String, Vec<f64>)> {
    fn walk(g: &hdf5::Group, at: String, out: &mut Vec<(String, Vec<f64>)>) {
        for name in g.member_names().unwrap() {
            let path = format!("{at}/{name}");
            if let Ok(d) = g.dataset(&name) {
                out.push((path, d.read_raw::<f64>().unwrap()));
            } else if let Ok(sub) = g.group(&name) {
                walk(&sub, path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&file.group(group).unwrap(), String::new(), &mut out);
    out
}

/// A run's root attributes that say how it ended: simulated_ms, complete, stop_reason, seed.
pub fn outcome(g: &hdf5::Group) -> (f64, bool, String, u64) {
    (
        g.attr("simulated_ms").unwrap().read_scalar().unwrap(),
        g.attr("complete").unwrap().read_scalar().unwrap(),
        g.attr("stop_reason").unwrap().read_scalar::<hdf5::types::VarLenUnicode>().unwrap().to_string(),
        g.attr("seed").unwrap().read_scalar().unwrap(),
    )
}

/// `req`'s sweep in the stacked layout, run whole and as two slices merged (the second slice
/// first, so the merge must order them), into `dir`: the whole file and the merged one.
pub fn stacked_whole_and_merged(req: &ganglion::app::RunRequest, dir: &std::path::Path) -> [PathBuf; 2] {
    let mut overrides = req.overrides.clone();
    overrides.push("output.sweep_layout=\"stacked\"".into());
    let whole = dir.join("stacked.h5");
    ganglion::app::run_any(&ganglion::app::RunRequest { output: Some(whole.clone()), overrides: overrides.clone(), ..req.clone() }).unwrap();
    let mut parts = Vec::new();
    for k in 1..=2 {
        let part = dir.join(format!("part{k}.h5"));
        let slice = Some(ganglion::sweep::Slice { k, m: 2 });
        ganglion::app::run_any(&ganglion::app::RunRequest { output: Some(part.clone()), overrides: overrides.clone(), slice, ..req.clone() }).unwrap();
        parts.push(part);
    }
    let merged = dir.join("merged.h5");
    ganglion::sweep::merge::merge(&[parts[1].clone(), parts[0].clone()], &merged, false).unwrap();
    [whole, merged]
}
