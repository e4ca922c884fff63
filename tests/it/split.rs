//! Networks larger than one binding, cut into parts by whole rows. The cap
//! (`simulation.gpu_max_binding_mib`, or `GpuOptions::max_binding_bytes` here for finer cuts)
//! splits them on any adapter, lavapipe included: step for step they must equal the unsplit
//! network on the GPU, and the CPU reference.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::Backend;
use ganglion::backend::gpu::{GpuBackend, GpuOptions};
use ganglion::config::{EventDelivery, GpuCoupling};
use ganglion::network::Network;
use ganglion::record::{RecordPlan, TraceVar};
use ganglion::simulator::{MemorySink, SynapseValues};
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
    // Procedural, 200M neurons: the state (3.7 GiB) in three parts of whole variables; at
    // 600M one variable (2.2 GiB) no longer fits a binding, and every per-neuron array is cut
    // into ranges of neurons (the row pointers by whole rows); at 2e9 neurons (2e11 synapses)
    // 67 GiB; at 2.5e9 the buffers exceed the memory.
    let procedural = |n: &str| {
        ganglion_cmd()
            .args(["check", "configs/hh_bench.toml", "--set", &format!("populations.hh.size={n}")])
            .args(["--set", "projections.hh_hh.connectivity.procedural=true"])
            .args(h100)
            .output()
            .unwrap()
    };
    let cut = procedural("200000000");
    let text = String::from_utf8_lossy(&cut.stdout);
    assert!(text.contains("states cut into parts of whole variables: `hh.state` 3"), "{text}");
    let ranges = procedural("600000000");
    let text = String::from_utf8_lossy(&ranges.stdout);
    assert!(text.contains("cut into parts by whole rows: `hh_hh.row_ptr` 2"), "{text}");
    assert!(
        text.contains("per-neuron arrays cut into ranges of neurons: `hh.state` 10, `hh.syn_g` 2, `hh.syn_i0` 2, `hh.spiked` 2"),
        "{text}"
    );
    let largest = procedural("2000000000");
    let text = String::from_utf8_lossy(&largest.stdout);
    assert!(text.contains("GPU memory: 67.1 GiB of 80.0 GiB"), "{text}");
    let refused = procedural("2500000000");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("its buffers need 83.8 GiB") && err.contains("the largest is `hh.state`"), "{err}");
    // COBAHH with 80 synapses per neuron at 150M neurons: the rings (4.5 GiB) in two parts of
    // whole projections; at 375M (300M excitatory) its stored synapses exceed the memory.
    // Drawn procedurally (fixed_probability, 0 bytes per synapse), 750M neurons fit in 45 GiB:
    // the excitatory arrays in ranges of neurons, the g and rings of the projections onto
    // them in ranges of targets.
    let cobahh = |exc: u64, procedural: bool| {
        let mut c = ganglion_cmd();
        c.args(["check", "configs/cobahh_k80.toml"])
            .args(["--set", &format!("populations.exc.size={exc}")])
            .args(["--set", &format!("populations.inh.size={}", exc / 4)])
            .args(h100);
        if procedural {
            for p in ["ee", "ei", "ie", "ii"] {
                c.args(["--set", &format!("projections.{p}.connectivity={{ rule = \"fixed_probability\", p = 1e-7, procedural = true }}")]);
            }
        }
        c.output().unwrap()
    };
    let cut = cobahh(120_000_000, false);
    let text = String::from_utf8_lossy(&cut.stdout);
    assert!(text.contains("event-driven g and rings cut into parts of whole projections: `events.rings` 2"), "{text}");
    assert!(text.contains("states cut into parts of whole variables: `exc.state` 2"), "{text}");
    let refused = cobahh(300_000_000, false);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("its buffers need 134.4 GiB") && err.contains("the largest is `events.cols`"), "{err}");
    let drawn = cobahh(600_000_000, true);
    let text = String::from_utf8_lossy(&drawn.stdout);
    assert!(text.contains("`exc.state` 10, `exc.syn_g` 2, `exc.syn_i0` 2, `exc.spiked` 2"), "{text}");
    assert!(text.contains("ranges of targets: `events.g` 4, `events.rings` 6"), "{text}");
    assert!(text.contains("GPU memory: 45.0 GiB of 80.0 GiB"), "{text}");
}

/// Spikes, and every variable (at most eight) of the first 40 neurons of population 0 at every
/// step: a cut state's gathers read each part.
fn every_variable(net: &Network) -> RecordPlan {
    let n_vars = net.populations[0].init.len();
    let vars: Vec<usize> = if n_vars <= 8 { (0..n_vars).collect() } else { (0..7).chain([n_vars - 1]).collect() };
    let n = net.populations[0].size.min(40) as u32;
    RecordPlan {
        spikes: vec![true; net.populations.len()],
        rates: vec![false; net.populations.len()],
        traces: vec![ganglion::record::TracePlan {
            population: 0,
            when: ganglion::record::Sampled::Start,
            projection: None,
            variables: vars.iter().map(|&k| ganglion::record::TraceVar::State(k)).collect(),
            names: vars.iter().map(|k| format!("{k}")).collect(),
            neurons: (0..n).collect(),
            every: 1,
            subgroup: None,
        }],
        ..Default::default()
    }
}

/// Runs `net` recording `plan` on the `whole` backend and on the `cut` one, and asserts that
/// spikes, traces, the final state and the synapses' variables are the same bit for bit;
/// returns the whole run's output and synaptic variables.
fn assert_same_runs(what: &str, net: &Network, plan: &RecordPlan, whole: &mut GpuBackend, cut: &mut GpuBackend) -> (MemorySink, SynapseValues) {
    let a = run_in_memory(net, whole, plan);
    let b = run_in_memory(net, cut, plan);
    assert_eq!(a.spikes, b.spikes, "{what}");
    assert_eq!(a.traces, b.traces, "{what}");
    assert_eq!(whole.read_state().unwrap(), cut.read_state().unwrap(), "{what}");
    let synapses = whole.read_synapses().unwrap();
    assert_eq!(synapses, cut.read_synapses().unwrap(), "{what}");
    (a, synapses)
}

/// Runs `net` with its state whole and in the bindings of `cap` bytes (which must cut it into
/// `parts`), and asserts that spikes, traces and the final state are the same bit for bit.
fn assert_cut_state_changes_nothing(what: &str, net: &Network, coupling: GpuCoupling, cap: u64, parts: &[usize]) {
    let plan = every_variable(net);
    let mut whole = gpu_backend_capped(net, &plan, coupling, None);
    let mut cut = gpu_backend_capped(net, &plan, coupling, Some(cap));
    assert_eq!(whole.state_parts(), vec![1; parts.len()], "{what}");
    assert_eq!(cut.state_parts(), parts, "{what}");
    let (a, _) = assert_same_runs(what, net, &plan, &mut whole, &mut cut);
    // The traces move: the comparison is not of constants.
    let v = &a.traces[0][0];
    assert!(v.iter().any(|&x| x != v[0]), "{what}: the traces move");
}

#[test]
fn states_cut_into_parts_of_whole_variables_equal_the_whole_state() {
    // The HH ring (five variables of 4 kB) in bindings of two variables, under each kernel
    // that sums S from another population's binding (the source's S sits in the last part).
    let ring = hh_ring_from_random_states(&["simulation.duration_ms=2"], 4);
    for coupling in [GpuCoupling::ThreadPerRow, GpuCoupling::LanesPerRow, GpuCoupling::Blocked] {
        assert_cut_state_changes_nothing(&format!("hh ring, {coupling:?}"), &ring, coupling, 8000, &[3]);
    }
    // One variable per binding: the noisy LIF (V and the refractory count), and the LIF
    // written as equations (its reset a kernel of its own, on the same bindings).
    let (_, lif) = shipped("lif_noisy_1k.toml", &["simulation.duration_ms=20"]);
    assert_cut_state_changes_nothing("lif", &lif, GpuCoupling::Auto, 4000, &[2]);
    let (_, equations) = shipped(
        "equations/lif_tutorial.toml",
        &["populations.lif.size=1000", "simulation.duration_ms=30", "simulation.precision=\"f32\""],
    );
    let n_vars = equations.populations[0].init.len();
    assert_cut_state_changes_nothing("lif as equations", &equations, GpuCoupling::Auto, 4000, &[n_vars]);
    // The saccade model's nine variables of 10 trials, two per binding.
    let (_, saccade) = shipped("ofc_saccade.toml", &[]);
    assert_cut_state_changes_nothing("saccade", &saccade, GpuCoupling::Auto, 80, &[5]);
}

#[test]
fn arrays_cut_within_a_variable_equal_the_whole_network() {
    // The HH ring (1000 neurons, K = 10) in bindings of 1600 bytes: every variable, the
    // input words and the spike flags in ranges of 400, 400 and 200 neurons (the state in
    // 15 parts), S read from each range by the coupling, the row pointers and columns in
    // parts of whole rows; under each kernel that is not fused.
    let ring = hh_ring_from_random_states(&["simulation.duration_ms=2", "projections.hh_hh.connectivity.k=10"], 4);
    for coupling in [GpuCoupling::ThreadPerRow, GpuCoupling::LanesPerRow, GpuCoupling::Blocked] {
        assert_cut_state_changes_nothing(&format!("hh ring in ranges, {coupling:?}"), &ring, coupling, 1600, &[15]);
    }
    // Procedural rows, their row pointers in parts of whole rows.
    let procedural = hh_ring_from_random_states(
        &["simulation.duration_ms=2", "projections.hh_hh.connectivity.k=10", "projections.hh_hh.connectivity.procedural=true"],
        4,
    );
    assert_cut_state_changes_nothing("procedural hh ring in ranges", &procedural, GpuCoupling::ThreadPerRow, 1600, &[15]);
    let cut = gpu_backend_capped(&procedural, &RecordPlan::none(&procedural), GpuCoupling::ThreadPerRow, Some(1600));
    assert_eq!(cut.matrix_dispatches().0, 3, "1001 row pointers in parts of 399 rows");
    // The noisy LIF (V and the refractory count) in four ranges of 250, and the LIF written
    // as equations (its reset reads the spike flags of its range).
    let (_, lif) = shipped("lif_noisy_1k.toml", &["simulation.duration_ms=20"]);
    assert_cut_state_changes_nothing("lif in ranges", &lif, GpuCoupling::Auto, 1000, &[8]);
    let (_, equations) = shipped(
        "equations/lif_tutorial.toml",
        &["populations.lif.size=1000", "simulation.duration_ms=30", "simulation.precision=\"f32\""],
    );
    let n_vars = equations.populations[0].init.len();
    assert_cut_state_changes_nothing("lif as equations in ranges", &equations, GpuCoupling::Auto, 1000, &[4 * n_vars]);
}

#[test]
fn event_driven_synapses_from_and_onto_populations_cut_within_a_variable_equal_the_whole_network() {
    // 1000 LIF drivers (in ranges of 500 in bindings of 2000 bytes) onto 10 targets: the
    // propagation reads the drivers' spike flags range by range.
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
seed = 3

[populations.drive]
model = "lif"
size = 1000
params = { input = { noise = { mean = 0.25, sigma = 2.0 } } }

[populations.target]
model = "lif"
size = 10
params = { input = { constant = 0.12 } }

[projections.link]
source = "drive"
target = "target"
synapse = "exp_curr"
params = { tau_ms = 2.0, delay_ms = 0.3 }
weight = 0.02
connectivity = { rule = "fixed_indegree", k = 50 }
"#;
    let (_, net) = parsed(text, &[]);
    let mut plan = every_variable(&net);
    plan.traces[0].population = 1;
    plan.traces[0].neurons = (0..10).collect();
    let mut whole = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, None);
    let mut cut = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, Some(2000));
    assert_eq!(cut.state_parts(), vec![4, 1]);
    let (a, _) = assert_same_runs("drivers in ranges", &net, &plan, &mut whole, &mut cut);
    assert!(a.spikes[0].len() > 50 && a.spikes[1].len() > 5, "both fire: {:?}", a.spikes.iter().map(Vec::len).collect::<Vec<_>>());
    // COBAHH with 1600 excitatory neurons in bindings of 4800 bytes: the excitatory state,
    // input words and spike flags in ranges of 1200, and the g (6.4 kB) and rings of the
    // projections onto them in ranges of 1200 and 600 targets, with the events delivered in
    // the update and apart; g of `ee` traced across its ranges.
    let (_, net) = shipped(
        "cobahh.toml",
        &["populations.exc.size=1600", "populations.inh.size=100", "simulation.duration_ms=25"],
    );
    let mut plan = every_variable(&net);
    plan.traces[0].neurons = (0..1600).step_by(37).collect();
    plan.traces[0].variables.extend([TraceVar::Synapse(0), TraceVar::Synapse(2)]);
    plan.traces[0].names.extend(["g_ee".to_string(), "g_ie".to_string()]);
    for delivery in [EventDelivery::InUpdate, EventDelivery::Separate] {
        let what = format!("cobahh in ranges, {delivery:?}");
        let options = |cap| GpuOptions {
            max_binding_bytes: cap,
            event_delivery: delivery,
            ..Default::default()
        };
        let mut whole = GpuBackend::with_options(&net, &plan, None, options(None)).unwrap();
        let mut cut = GpuBackend::with_options(&net, &plan, None, options(Some(4800))).unwrap();
        let (states, (g, rings)) = (cut.state_parts(), cut.event_parts());
        assert!(states[0] >= 8 && g >= 4 && rings >= 6, "{what}: {states:?} {g} {rings}");
        let (a, _) = assert_same_runs(&what, &net, &plan, &mut whole, &mut cut);
        assert!(a.spikes[0].len() > 20, "{what}: the network fires");
        let g_ee = &a.traces[0][5];
        assert!(g_ee.iter().any(|&x| x != g_ee[0]), "{what}: g moves");
    }
}

/// 1000 cells and ten readouts written as equations, coupled by a summed input and an `on_pre`.
const CELLS: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
seed = 5
precision = "f32"

[models.unit]
equations = '''
dv/dt = (1.2 + I - v) / tau : 1
I : 1
'''
threshold = "v > 1"
reset = "v = 0"
method = "euler"
namespace = { tau = "10*ms" }

[populations.cells]
model = "unit"
size = 1000
init = { v = "rand()" }

[populations.readouts]
model = "unit"
size = 10

[synapse_models.link]
model = '''
w : 1
I_post = w * v_pre : 1 (summed)
'''
on_pre = "v_post += 0.05 * w"

[projections.within]
source = "cells"
target = "cells"
synapse = "link"
connectivity = { rule = "fixed_indegree", k = 10 }
init = { w = "rand() * 0.1" }

[projections.out]
source = "cells"
target = "readouts"
synapse = "link"
connectivity = { rule = "fixed_indegree", k = 50 }
init = { w = "rand() * 0.05" }
"#;

#[test]
fn synapses_written_as_equations_from_and_onto_populations_cut_within_a_variable_equal_the_whole_network() {
    // Brian2's STDP example with its 1000 Poisson inputs in ranges of 500 (bindings of 2000
    // bytes), 100 at 50 Hz onto each of ten neurons: the synapses read the inputs' spike flags
    // range by range; w traced. And 1000 cells written as equations (two variables, in ranges of
    // 500) with a summed input and an `on_pre` within the population and onto ten readouts:
    // the synapses read and write the cells' state and read their flags range by range.
    // (Larger models written as equations take more storage bindings cut so than lavapipe's
    // 32.)
    let cases: [(&str, &[&str], u64); 2] = [
        (
            "equations/stdp.toml",
            &[
                "populations.neurons.size=10",
                "populations.poisson_input.rates=\"50*Hz\"",
                "projections.S.connectivity={ rule = \"fixed_indegree\", k = 100 }",
                "simulation.duration_ms=300",
                "simulation.precision=\"f32\"",
            ],
            2000,
        ),
        ("cells as equations", &[], 2000),
    ];
    for (config, overrides, cap) in cases {
        let (_, net) = equation_network(config, overrides);
        let plan = equation_plan(config, &net);
        let mut whole = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, None);
        let mut cut = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, Some(cap));
        // The populations in name order: the ten neurons whole and the inputs in two ranges;
        // the cells' two variables in two ranges each and the readouts whole.
        let parts = if config == "cells as equations" { [4, 1] } else { [1, 2] };
        assert_eq!(cut.state_parts(), parts, "{config}");
        let (a, synapses) = assert_same_runs(config, &net, &plan, &mut whole, &mut cut);
        assert!(a.spikes.iter().map(Vec::len).sum::<usize>() > 5, "{config}: the network fires");
        assert!(synapses.iter().flatten().next().is_some(), "{config}: synaptic variables compared");
    }
}

#[test]
fn delayed_synapses_written_as_equations_read_every_step_of_their_cut_spike_flags() {
    // The cells' synapses within their population delayed by 0.3 ms: four steps of spike
    // flags, each in two ranges of 500 neurons, read as pre- and as post-synaptic flags (the
    // update binds 10 + 12 storage buffers, the synapses 11 + 17, three for the arrivals
    // they mark).
    let delayed = |delay: &str| parsed(CELLS, &[&format!("projections.within.delay=\"{delay}\"")]).1;
    let net = delayed("0.3*ms");
    let plan = equation_plan("cells as equations", &net);
    let mut whole = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, None);
    let mut cut = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, Some(2000));
    assert_eq!(cut.state_parts(), [4, 1]);
    let (a, _) = assert_same_runs("delayed cells", &net, &plan, &mut whole, &mut cut);
    assert!(a.spikes[0].len() > 5, "the cells fire");
    // Drawn delays of up to 0.3 ms: a ring of four steps of marked arrivals in each part.
    let net = delayed("0.3*ms*rand()");
    let mut whole = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, None);
    let mut cut = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, Some(2000));
    let shape = ganglion::shape::Shape::from_network(&net);
    let slots: Vec<(&str, u64)> = shape.projections.iter().map(|p| (p.name.as_str(), p.arrival_slots)).collect();
    assert_eq!(slots, [("out", 1), ("within", 4)], "`out` keeps one delay for all");
    let (a, _) = assert_same_runs("cells with drawn delays", &net, &plan, &mut whole, &mut cut);
    assert!(a.spikes[0].len() > 5, "the cells fire");
    // 0.7 ms: eight steps, 30 bindings for the update and 44 for the synapses. A device with
    // fewer (lavapipe has 32) refuses it before making any buffer, naming the projection;
    // one with more runs it as the whole network.
    let net = delayed("0.7*ms");
    let max = cut.context().limits.max_storage_buffers_per_shader_stage;
    let options = GpuOptions { max_binding_bytes: Some(2000), ..Default::default() };
    match GpuBackend::with_options(&net, &plan, None, options) {
        Err(e) => {
            assert!(max < 44, "{max} bindings: {e}");
            assert!(e.to_string().contains("projection `within`: its synapses would bind 44 storage buffers"), "{e}");
        }
        Ok(mut cut) => {
            assert!(max >= 44, "{max} bindings, yet built");
            let mut whole = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, None);
            assert_same_runs("cells delayed 0.7 ms", &net, &plan, &mut whole, &mut cut);
        }
    }
}

#[test]
fn event_driven_networks_with_cut_states_g_and_rings_equal_the_whole_network() {
    // COBAHH with 1600 excitatory neurons (five variables of 6.4 kB) and 100 inhibitory:
    // g 6.4, 0.4, 6.4 and 0.4 kB per projection, the rings twice that. In bindings of 28 KiB
    // only the excitatory state is cut (in two); in bindings of 12.8 kB also g (in two) and
    // the rings (in four), with the events delivered in the update and apart. The traces
    // include the excitatory population's g of `ee` and of `ie`, in different parts of g.
    let (_, net) = shipped(
        "cobahh.toml",
        &["populations.exc.size=1600", "populations.inh.size=100", "simulation.duration_ms=25"],
    );
    let mut plan = every_variable(&net);
    plan.traces[0].variables.extend([TraceVar::Synapse(0), TraceVar::Synapse(2)]);
    plan.traces[0].names.extend(["g_ee".to_string(), "g_ie".to_string()]);
    for (cap, state, events) in [(28 << 10, vec![2, 1], (1, 1)), (12_800, vec![3, 1], (2, 4))] {
        for delivery in [EventDelivery::InUpdate, EventDelivery::Separate] {
            let what = format!("{cap} bytes, {delivery:?}");
            let options = |cap| GpuOptions {
                max_binding_bytes: cap,
                event_delivery: delivery,
                ..Default::default()
            };
            let mut whole = GpuBackend::with_options(&net, &plan, None, options(None)).unwrap();
            let mut cut = GpuBackend::with_options(&net, &plan, None, options(Some(cap))).unwrap();
            assert_eq!((cut.state_parts(), cut.event_parts()), (state.clone(), events), "{what}");
            assert_eq!((whole.state_parts(), whole.event_parts()), (vec![1, 1], (1, 1)), "{what}");
            let (a, _) = assert_same_runs(&what, &net, &plan, &mut whole, &mut cut);
            assert!(a.spikes[0].len() > 20, "{what}: the network fires");
            let g_ie = &a.traces[0][6];
            assert!(g_ie.iter().any(|&x| x != g_ie[0]), "{what}: g moves");
        }
    }
}

#[test]
fn a_state_that_must_stay_whole_is_refused_by_name() {
    // Fused coupling reads S across the population: past one binding its state is refused
    // by name.
    let ring = hh_ring_from_random_states(&[], 4);
    let plan = RecordPlan::none(&ring);
    let options = ganglion::backend::gpu::GpuOptions {
        coupling: GpuCoupling::Fused,
        max_binding_bytes: Some(8000),
        ..Default::default()
    };
    let e = GpuBackend::with_options(&ring, &plan, None, options).err().expect("refused");
    assert!(e.to_string().contains("`hh.state`"), "{e}");
    // Auto does not fuse a state it would have to cut.
    let auto = gpu_backend_capped(&ring, &plan, GpuCoupling::Auto, Some(8000));
    assert_eq!(auto.state_parts(), vec![3]);
    assert!(auto.info().device.contains("thread_per_row"), "{}", auto.info().device);
}

/// A network run whole and under a binding cap: the passes per step of its synapses written
/// as equations at least, and the parts of each population's state, once cut.
struct CutCase {
    config: &'static str,
    overrides: &'static [&'static str],
    cap: u64,
    least_passes: usize,
    state_parts: &'static [usize],
}

#[test]
fn synapses_written_as_equations_and_their_neurons_in_parts_equal_the_whole_network() {
    // Brian2's STDP example onto ten neurons (rows of 1000 synapses, three variables each: a
    // part per row), with a trace of w from three parts; the HH network with a summed input
    // at 1000 neurons (100k synapses), its state in eight parts; COBAHH's four projections
    // with on_pre alone (no synaptic variables), its states in seven and two parts; the HH
    // network's summed input read from another population's S, that state in eight parts.
    let cases = [
        CutCase {
            config: "equations/stdp.toml",
            overrides: &["populations.neurons.size=10", "simulation.duration_ms=300", "simulation.precision=\"f32\""],
            cap: 16 << 10,
            least_passes: 10,
            state_parts: &[1, 1],
        },
        CutCase {
            config: "equations/hh_bench.toml",
            overrides: &["populations.hh.size=1000", "simulation.duration_ms=2"],
            cap: 8000,
            least_passes: 7,
            state_parts: &[8],
        },
        CutCase {
            config: "equations/cobahh.toml",
            overrides: &["simulation.duration_ms=10"],
            cap: 25_600,
            least_passes: 8,
            state_parts: &[7, 2],
        },
        CutCase {
            config: "hh_bench as two populations",
            overrides: &["populations.hh.size=1000", "simulation.duration_ms=2"],
            cap: 8000,
            least_passes: 7,
            state_parts: &[8, 8],
        },
    ];
    for CutCase { config, overrides, cap, least_passes: least, state_parts: states } in cases {
        let (_, net) = equation_network(config, overrides);
        let plan = equation_plan(config, &net);
        let mut whole = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, None);
        let mut cut = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, Some(cap));
        let passes = (whole.equation_passes(), cut.equation_passes());
        assert!(passes.1 >= least && passes.1 > passes.0, "{config}: {passes:?}");
        assert_eq!(cut.state_parts(), states, "{config}");
        let (a, synapses) = assert_same_runs(config, &net, &plan, &mut whole, &mut cut);
        assert!(a.spikes.iter().map(Vec::len).sum::<usize>() > 5, "{config}: the network fires");
        if config.ends_with("stdp.toml") {
            // The weights moved, and the trace follows them in every part.
            let w = synapses[0].as_ref().unwrap()[0].clone();
            assert_eq!(w.len(), 10_000);
            let trace = &a.traces[0][0];
            assert!(trace.chunks(3).any(|row| row != &trace[..3]), "{config}: w moves");
        }
    }
}

/// A shipped config with overrides, `configs/equations/hh_bench.toml` with its projection
/// from its population onto a second one of 1000 neurons ("hh_bench as two populations"), or
/// `CELLS` ("cells as equations").
fn equation_network(config: &str, overrides: &[&str]) -> (ganglion::config::Config, Network) {
    if config == "cells as equations" {
        return parsed(CELLS, overrides);
    }
    if config != "hh_bench as two populations" {
        return shipped(config, overrides);
    }
    let text = std::fs::read_to_string(repo_path("configs/equations/hh_bench.toml")).unwrap();
    let second = "[populations.b]\nmodel = \"hh_noisy\"\nsize = 1000\n\
                  init = { v = \"-70 + 10*rand()\", m = \"am/(am + bm)\", h = \"ah/(ah + bh)\", n = \"an/(an + bn)\", s = 0.0 }\n";
    let text = text.replace("target = \"hh\"", "target = \"b\"") + second;
    parsed(&text, overrides)
}

/// Every population's spikes and, for Brian2's STDP example, w of three synapses from three
/// parts of its matrix (every tenth step).
fn equation_plan(config: &str, net: &Network) -> RecordPlan {
    let mut plan = RecordPlan::all_spikes(net);
    if config.ends_with("stdp.toml") {
        plan.traces.push(ganglion::record::TracePlan {
            population: 1,
            when: ganglion::record::Sampled::Start,
            projection: Some(0),
            variables: vec![TraceVar::State(0)],
            names: vec!["w".into()],
            neurons: vec![0, 4500, 9999],
            every: 10,
            subgroup: None,
        });
    }
    plan
}
