//! Networks larger than one binding, cut into parts by whole rows. The cap
//! (`simulation.gpu_max_binding_mib`, or `GpuOptions::max_binding_bytes` here for finer cuts)
//! splits them on any adapter, lavapipe included: step for step they must equal the unsplit
//! network on the GPU, and the CPU reference.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::Backend;
use ganglion::config::GpuCoupling;
use ganglion::network::Network;
use ganglion::record::RecordPlan;
use std::process::Command;

fn ganglion_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ganglion"));
    c.current_dir(repo_path("")).env("XDG_RUNTIME_DIR", "/tmp");
    c
}

/// The 1k ring with 100 synapses per neuron, weights drawn per synapse, from random states so
/// that neurons fire at once.
fn graded_network(duration_ms: f64) -> Network {
    hh_ring_from_random_states(
        &[
            &format!("simulation.duration_ms={duration_ms}"),
            "projections.hh_hh.connectivity.k=100",
            "projections.hh_hh.weight={ uniform = [0.0, 0.002] }",
        ],
        4,
    )
}

#[test]
fn graded_coupling_in_parts_equals_the_whole_matrix_and_the_cpu() {
    // 100k synapses: 400 kB of columns and 400 kB of weights, in bindings of 64 KiB.
    let cap = Some(64 << 10);
    let net = graded_network(3.0);
    let plan = RecordPlan::all_spikes(&net);
    for coupling in ALL_KERNELS {
        let mut whole = gpu_backend_capped(&net, &plan, coupling, None);
        let mut parts = gpu_backend_capped(&net, &plan, coupling, cap);
        // Fused, the update runs once per part.
        assert_eq!(whole.matrix_dispatches().0, 1, "{coupling:?}");
        assert!(parts.matrix_dispatches().0 >= 7, "{coupling:?}: {:?}", parts.matrix_dispatches());
        let a = run_in_memory(&net, &mut whole, &plan);
        let b = run_in_memory(&net, &mut parts, &plan);
        assert!(a.spikes[0].len() > 100, "{coupling:?}: the network fires");
        assert_eq!(a.spikes, b.spikes, "{coupling:?}");
        // Each row is summed in the same order whole or in parts: bit for bit.
        assert_eq!(whole.read_state().unwrap(), parts.read_state().unwrap(), "{coupling:?}");
    }
    // One step against the CPU reference in f32, as the whole matrix is held.
    let net = graded_network(0.01);
    let plan = RecordPlan::none(&net);
    let mut cpu = CpuBackend::<f32>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let a = cpu.read_state().unwrap();
    for coupling in ALL_KERNELS {
        let mut g = gpu_backend_capped(&net, &plan, coupling, cap);
        run_in_memory(&net, &mut g, &plan);
        assert_hh_state_close(&a, &g.read_state().unwrap(), &format!("{coupling:?}"));
    }
}

#[test]
fn event_driven_synapses_in_parts_equal_the_whole_matrices_and_the_cpu() {
    // COBAHH's four projections by source (about 320k synapses, 1.3 MB of columns) in
    // bindings of 64 KiB: parts hold the tail of one projection and the head of the next.
    let (_, net) = shipped("cobahh.toml", &["simulation.duration_ms=25"]);
    let plan = RecordPlan::all_spikes(&net);
    let mut whole = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, None);
    let mut parts = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, Some(64 << 10));
    assert_eq!(whole.matrix_dispatches().1, 2, "one propagation per source population");
    assert!(parts.matrix_dispatches().1 >= 20, "{:?}", parts.matrix_dispatches());
    let a = run_in_memory(&net, &mut whole, &plan);
    let b = run_in_memory(&net, &mut parts, &plan);
    let c = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    for p in 0..2 {
        assert!(a.spikes[p].len() > 100, "population {p} fires");
        assert_eq!(a.spikes[p], b.spikes[p], "population {p}: split vs whole");
        // As the whole matrices are (tests/it/cobahh.rs): the CPU's trains for 25 ms.
        assert_eq!(b.spikes[p], c.spikes[p], "population {p}: split GPU vs CPU");
    }
    // Arrivals are integer sums: the state is the same bit for bit.
    assert_eq!(whole.read_state().unwrap(), parts.read_state().unwrap());
}

#[test]
fn the_config_key_caps_bindings_and_check_reports_the_parts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.h5");
    // 300k synapses, 1.2 MB of columns: two parts of at most 1 MiB.
    let set = [
        "--set",
        "populations.hh.size=3000",
        "--set",
        "simulation.duration_ms=0.5",
        "--set",
        "simulation.gpu_max_binding_mib=1",
    ];
    let check = ganglion_cmd()
        .args(["check", "configs/hh_bench.toml"])
        .args(set)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{text}{}", String::from_utf8_lossy(&check.stderr));
    assert!(text.contains("at most 1.0 MiB each); cut into parts by whole rows: `hh_hh.row_ptr` 2, `hh_hh.col_idx` 2"), "{text}");
    // Fused, the update runs once per part.
    assert!(text.contains("GPU step: 2 dispatches, graded coupling fused_lanes"), "{text}");
    let run = ganglion_cmd()
        .args(["run", "configs/hh_bench.toml", "--output"])
        .arg(&out)
        .args(set)
        .args(["--set", "simulation.backend=\"gpu\""])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let e = ganglion_cmd()
        .args(["check", "configs/hh_bench.toml", "--set", "simulation.gpu_max_binding_mib=0"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&e.stderr).contains("simulation.gpu_max_binding_mib"));
}

#[test]
fn check_accepts_20m_hh_neurons_on_an_h100s_limits_and_refuses_what_exceeds_its_memory() {
    // The H100's 2 GiB storage binding and 80 GB, declared: no adapter needed.
    let h100 = [
        "--set",
        "simulation.gpu_max_binding_mib=2048",
        "--set",
        "simulation.gpu_memory_gib=80",
        "--set",
        "simulation.backend=\"cpu\"",
    ];
    let ok = ganglion_cmd()
        .args(["check", "configs/hh_bench.toml", "--set", "populations.hh.size=20000000"])
        .args(h100)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ok.stdout);
    // 2e9 synapses: 8 GB of columns in four bindings. (The host may be smaller than the
    // network: only the GPU's lines matter here.)
    assert!(text.contains("2000000000 synapses"), "{text}");
    assert!(text.contains("`hh_hh.col_idx` 4"), "{text}");
    assert!(text.contains("GPU memory: 8.2 GiB of 80.0 GiB"), "{text}");
    // 2.5e10 synapses. (`auto` does not fuse here: S's second block would take the state
    // past one binding.)
    let big = ganglion_cmd()
        .args(["check", "configs/hh_bench.toml", "--set", "populations.hh.size=100000000"])
        .args(["--set", "projections.hh_hh.connectivity.k=250"])
        .args(h100)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&big.stderr);
    assert!(!big.status.success());
    assert!(
        err.contains("network too large for the GPU: its buffers need 96.5 GiB")
            && err.contains("80.0 GiB")
            && err.contains("the largest is `hh_hh.col_idx`"),
        "{err}"
    );
}
