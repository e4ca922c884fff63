//! Procedural connectivity: rows drawn every step from (seed, projection, row) instead of
//! stored. On the GPU they must be the rows the CPU reference draws once, in the same order:
//! a procedural run equals the run of the same rows stored, bit for bit, under every kernel
//! that can draw them, and agrees with the CPU.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::Backend;
use ganglion::config::GpuCoupling;
use ganglion::network::Network;
use ganglion::record::{RecordPlan, Spike};

/// The 1k HH ring with K = 100 drawn procedurally by `rule`, from random states so that the
/// neurons fire at once.
fn network(rule: &str, duration_ms: f64) -> Network {
    weighted(rule, "0.002", duration_ms)
}

/// The same with `weight` (one, or drawn per synapse).
fn weighted(rule: &str, weight: &str, duration_ms: f64) -> Network {
    hh_ring_from_random_states(
        &[
            &format!("simulation.duration_ms={duration_ms}"),
            &format!("projections.hh_hh.connectivity={rule}"),
            &format!("projections.hh_hh.weight={weight}"),
        ],
        11,
    )
}

const DRAWN: [&str; 2] = ["{ uniform = [0.0, 0.004] }", "{ normal = [0.002, 0.001] }"];

/// The same network with its drawn rows stored.
fn stored(net: &Network) -> Network {
    let mut s = net.clone();
    for p in &mut s.projections {
        p.csr = p.stored().into_owned();
        p.procedural = None;
    }
    s
}

const RULES: [&str; 2] = [
    "{ rule = \"fixed_indegree\", k = 100, autapses = false, procedural = true }",
    "{ rule = \"fixed_probability\", p = 0.1, procedural = true }",
];

#[test]
fn drawn_rows_equal_the_same_rows_stored_on_the_gpu_under_every_kernel() {
    for rule in RULES {
        let net = network(rule, 3.0);
        assert!(net.projections[0].procedural.is_some() && net.projections[0].csr.col_idx.is_empty());
        let kept = stored(&net);
        assert!(kept.projections[0].csr.col_idx.len() > 90_000, "{rule}");
        assert_drawn_is_stored(&net, &kept, rule);
    }
}

/// Under every kernel that draws rows, `net` (drawn) fires and equals `kept` (its rows
/// stored), spikes and state bit for bit.
fn assert_drawn_is_stored(net: &Network, kept: &Network, what: &str) {
    let plan = RecordPlan::all_spikes(net);
    for coupling in [GpuCoupling::Fused, GpuCoupling::FusedLanes, GpuCoupling::ThreadPerRow, GpuCoupling::LanesPerRow] {
        let mut drawn = gpu_backend_with(net, &plan, coupling);
        let mut held = gpu_backend_with(kept, &plan, coupling);
        let a = run_in_memory(net, &mut drawn, &plan);
        let b = run_in_memory(kept, &mut held, &plan);
        assert!(a.spikes[0].len() > 100, "{what}, {coupling:?}: the network fires");
        assert_eq!(a.spikes, b.spikes, "{what}, {coupling:?}");
        assert_eq!(drawn.read_state().unwrap(), held.read_state().unwrap(), "{what}, {coupling:?}");
    }
}

#[test]
fn drawn_rows_agree_with_the_cpu_reference() {
    for rule in RULES {
        // One step from random states, where every variable is compared.
        let net = network(rule, 0.01);
        let plan = RecordPlan::none(&net);
        let mut cpu = CpuBackend::<f32>::new(&net);
        run_in_memory(&net, &mut cpu, &plan);
        let a = cpu.read_state().unwrap();
        for coupling in [GpuCoupling::Fused, GpuCoupling::ThreadPerRow, GpuCoupling::LanesPerRow] {
            let mut g = gpu_backend_with(&net, &plan, coupling);
            run_in_memory(&net, &mut g, &plan);
            assert_hh_state_close(&a, &g.read_state().unwrap(), &format!("{rule}, {coupling:?}"));
        }
        // And the first millisecond's spikes, neuron for neuron, to one step (the HH
        // update's exp differs in the last bit between the CPU and the GPU).
        let net = network(rule, 1.0);
        let plan = RecordPlan::all_spikes(&net);
        let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
        let b = run_in_memory(&net, &mut gpu_backend_with(&net, &plan, GpuCoupling::ThreadPerRow), &plan);
        assert!(a.spikes[0].len() > 50, "{rule}");
        for neuron in 0..net.populations[0].size {
            let steps = |m: &ganglion::simulator::MemorySink| -> Vec<u64> {
                m.spikes[0].iter().filter(|s| s.neuron as usize == neuron).map(|s| s.step).collect()
            };
            let (x, y) = (steps(&a), steps(&b));
            assert!(
                x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| p.abs_diff(*q) <= 1),
                "{rule}: neuron {neuron} spikes at steps {x:?} on the CPU, {y:?} on the GPU"
            );
        }
    }
}

#[test]
fn drawn_weights_equal_them_stored_on_the_gpu_and_agree_with_the_cpu() {
    // Uniform weights are drawn in integers: the GPU draws the f32 the CPU stored.
    let net = weighted(RULES[0], DRAWN[0], 3.0);
    let kept = stored(&net);
    assert!(matches!(kept.projections[0].csr.weights, ganglion::connectivity::Weights::PerSynapse(_)));
    assert_drawn_is_stored(&net, &kept, DRAWN[0]);
    // Uniform and normal against the CPU reference, every variable after one step (a normal
    // weight's ln and cos may differ in the last bit).
    for (rule, weight) in [(RULES[0], DRAWN[0]), (RULES[1], DRAWN[1])] {
        let net = weighted(rule, weight, 0.01);
        let plan = RecordPlan::none(&net);
        let mut cpu = CpuBackend::<f32>::new(&net);
        run_in_memory(&net, &mut cpu, &plan);
        let a = cpu.read_state().unwrap();
        for coupling in [GpuCoupling::Fused, GpuCoupling::LanesPerRow] {
            let mut g = gpu_backend_with(&net, &plan, coupling);
            run_in_memory(&net, &mut g, &plan);
            assert_hh_state_close(&a, &g.read_state().unwrap(), &format!("{weight}, {coupling:?}"));
        }
    }
    // The weights are drawn, not one: the same rows with the mean weight sum otherwise.
    let one = network(RULES[0], 0.01);
    let drawn = weighted(RULES[0], DRAWN[0], 0.01);
    let plan = RecordPlan::none(&one);
    let mut a = gpu_backend_with(&one, &plan, GpuCoupling::ThreadPerRow);
    let mut b = gpu_backend_with(&drawn, &plan, GpuCoupling::ThreadPerRow);
    run_in_memory(&one, &mut a, &plan);
    run_in_memory(&drawn, &mut b, &plan);
    assert_ne!(a.read_state().unwrap(), b.read_state().unwrap());
}

#[test]
fn procedural_rows_are_checked_and_cost_no_gpu_memory_per_synapse() {
    let dir = tempfile::tempdir().unwrap();
    let bench = std::fs::read_to_string(repo_path("configs/hh_bench.toml")).unwrap();
    let path = dir.path().join("bench.toml");
    std::fs::write(&path, &bench).unwrap();
    let check = |extra: &[&str]| {
        let mut o: Vec<String> = vec!["populations.hh.size=1000000".into()];
        o.extend(extra.iter().map(|s| s.to_string()));
        ganglion::app::check(&path, &o)
    };
    let stored = check(&[]).unwrap();
    let drawn = check(&["projections.hh_hh.connectivity.procedural=true"]).unwrap();
    // 1e8 synapses: 400 MB of indices stored, none drawn (4 bytes per row either way).
    assert!(stored.contains("GPU buffers: 4"), "{stored}");
    assert!(drawn.contains("GPU buffers: 3") && drawn.contains("MiB"), "{drawn}");
    // Weights drawn per synapse are drawn with it: still nothing stored per synapse.
    let uniform = check(&[
        "projections.hh_hh.connectivity.procedural=true",
        "projections.hh_hh.weight={ uniform = [0.0, 0.002] }",
    ])
    .unwrap();
    assert!(uniform.contains("GPU buffers: 3") && uniform.contains("MiB"), "{uniform}");
    let e = check(&[
        "projections.hh_hh.connectivity.procedural=true",
        "projections.hh_hh.weight={ normal = [0.002, -1.0] }",
    ])
    .unwrap_err();
    assert!(e.to_string().contains("projections.hh_hh.weight"), "{e}");
    let e = check(&[
        "projections.hh_hh.connectivity.procedural=true",
        "simulation.gpu_coupling=\"blocked\"",
    ])
    .unwrap_err();
    assert!(e.to_string().contains("simulation.gpu_coupling") && e.to_string().contains("procedural"), "{e}");
    // Event-driven rows are drawn by source: a fixed in-degree is refused.
    let e = ganglion::config::load(
        &repo_path("configs/cobahh_k80.toml"),
        &["projections.ee.connectivity.procedural=true".into()],
    )
    .unwrap_err();
    assert!(e.to_string().contains("projections.ee.connectivity.procedural"), "{e}");
    let e = ganglion::config::load(
        &repo_path("configs/hh_pair.toml"),
        &["projections.hh_hh.connectivity.procedural=true".into()],
    )
    .unwrap_err();
    assert!(e.to_string().contains("projections.hh_hh.connectivity"), "{e}");
}

/// COBAHH with its four projections drawn procedurally (rows by source), and `extra`.
fn cobahh_with(duration_ms: f64, extra: &[&str]) -> Network {
    let over: Vec<String> = ["ee", "ei", "ie", "ii"]
        .iter()
        .map(|p| format!("projections.{p}.connectivity.procedural=true"))
        .chain([format!("simulation.duration_ms={duration_ms}")])
        .chain(extra.iter().map(|s| s.to_string()))
        .collect();
    let over: Vec<&str> = over.iter().map(|s| s.as_str()).collect();
    shipped("cobahh.toml", &over).1
}

fn cobahh(duration_ms: f64) -> Network {
    cobahh_with(duration_ms, &[])
}

/// The same network with its drawn rows by source, and their drawn weights in fixed point,
/// stored.
fn events_stored(net: &Network) -> Network {
    let mut kept = net.clone();
    for p in &mut kept.projections {
        let rows = p.procedural.take().unwrap();
        let e = p.event.as_mut().unwrap();
        e.by_source = rows.materialize(&e.by_source.row_ptr, e.by_source.weight(0));
        if rows.weight.is_some() {
            let scale = e.fixed_scale;
            e.fixed_weights = (0..e.by_source.n_synapses())
                .map(|k| ganglion::procedural::to_fixed(e.by_source.weight(k) as f32, scale))
                .collect();
        }
        p.csr = e.by_source.transpose();
    }
    kept
}

#[test]
fn event_driven_rows_drawn_by_source_equal_them_stored_and_the_cpu() {
    let net = cobahh(25.0);
    assert!(net.projections.iter().all(|p| p.procedural.is_some()));
    // About p · 3200 · 4000 = 256k synapses from the excitatory population.
    let from_exc = net.projections[0].n_synapses() + net.projections[1].n_synapses();
    assert!((240_000..272_000).contains(&from_exc), "{from_exc}");
    assert_drawn_events_are_stored_and_cpu(&net);
}

/// Runs COBAHH `net` (its rows drawn by source) on the GPU, with the same rows stored on the
/// GPU, and on the CPU: both populations fire, and their spikes (and the two GPU runs' final
/// states) are the same; returns the drawn run's spikes. Arrivals are integer sums: as for the
/// stored network (tests/it/cobahh.rs), the CPU's trains are the GPU's for 25 ms.
fn assert_drawn_events_are_stored_and_cpu(net: &Network) -> Vec<Vec<Spike>> {
    let kept = events_stored(net);
    let plan = RecordPlan::all_spikes(net);
    let mut drawn = gpu_backend(net, &plan);
    let mut held = gpu_backend(&kept, &plan);
    let a = run_in_memory(net, &mut drawn, &plan);
    let b = run_in_memory(&kept, &mut held, &plan);
    let c = run_in_memory(net, &mut CpuBackend::<f32>::new(net), &plan);
    for p in 0..2 {
        assert!(a.spikes[p].len() > 100, "population {p} fires");
        assert!(a.spikes[p] == b.spikes[p], "population {p}: drawn vs stored on the GPU");
        assert!(a.spikes[p] == c.spikes[p], "population {p}: GPU vs CPU");
    }
    assert_eq!(drawn.read_state().unwrap(), held.read_state().unwrap());
    a.spikes
}

#[test]
fn event_driven_drawn_weights_equal_them_stored_and_the_cpu() {
    // COBAHH's weights drawn uniformly around its own (6 and 67 nS): in integers, then the
    // fixed point, the same on both backends.
    let net = cobahh_with(
        25.0,
        &[
            "projections.ee.weight={ uniform = [0.0, 12.0] }",
            "projections.ei.weight={ uniform = [0.0, 12.0] }",
            "projections.ie.weight={ uniform = [0.0, 134.0] }",
            "projections.ii.weight={ uniform = [0.0, 134.0] }",
        ],
    );
    assert!(net.projections.iter().all(|p| p.procedural.as_ref().unwrap().weight.is_some()));
    let spikes = assert_drawn_events_are_stored_and_cpu(&net);
    let plan = RecordPlan::all_spikes(&net);
    let one = run_in_memory(&cobahh(25.0), &mut CpuBackend::<f32>::new(&cobahh(25.0)), &plan);
    for (p, (drawn, one)) in spikes.iter().zip(&one.spikes).enumerate() {
        assert!(drawn != one, "population {p}: drawn weights are not the one weight");
    }
}

#[test]
fn drawn_rows_under_capped_bindings_equal_them_uncapped() {
    // COBAHH with its excitatory projections drawn and its inhibitory ones stored (about
    // 64k synapses, 256 kB of columns), in bindings of 64 KiB: parts hold drawn rows'
    // pointers next to stored rows.
    let over: Vec<String> = ["ee", "ei"]
        .iter()
        .map(|p| format!("projections.{p}.connectivity.procedural=true"))
        .chain(["simulation.duration_ms=25".to_string()])
        .collect();
    let over: Vec<&str> = over.iter().map(|s| s.as_str()).collect();
    let (_, net) = shipped("cobahh.toml", &over);
    let plan = RecordPlan::all_spikes(&net);
    let mut whole = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, None);
    let mut parts = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, Some(64 << 10));
    assert!(parts.matrix_dispatches().1 >= 5, "{:?}", parts.matrix_dispatches());
    let a = run_in_memory(&net, &mut whole, &plan);
    let b = run_in_memory(&net, &mut parts, &plan);
    // (Against the CPU: the drawn rows are in event_driven_rows_drawn_by_source_…; this
    // network's trains part from the CPU's at about 9 ms, by the last bits of exp.)
    for p in 0..2 {
        assert!(a.spikes[p].len() > 100, "population {p} fires");
        assert!(a.spikes[p] == b.spikes[p], "population {p}: capped vs whole");
    }
    // The graded ring drawn, next to a binding cap its row pointers fit: one dispatch, and
    // nothing changes under any kernel that draws them (cut past it: tests/it/split.rs).
    let net = network(RULES[0], 2.0);
    let plan = RecordPlan::all_spikes(&net);
    for coupling in [GpuCoupling::FusedLanes, GpuCoupling::ThreadPerRow] {
        let mut whole = gpu_backend_capped(&net, &plan, coupling, None);
        let mut cut = gpu_backend_capped(&net, &plan, coupling, Some(64 << 10));
        assert_eq!(cut.matrix_dispatches().0, 1);
        let a = run_in_memory(&net, &mut whole, &plan);
        let b = run_in_memory(&net, &mut cut, &plan);
        assert_eq!(a.spikes, b.spikes, "{coupling:?}");
    }
}

#[test]
fn more_drawn_synapses_than_32_bits_index_are_refused_by_the_cpu_reference_only() {
    // 66000 LIF neurons each reaching 99 % of them: 4.3e9 synapses, past 2^32. Their row
    // pointers are kept modulo 2^32 (the GPU draws every row from them alone), but the CPU
    // reference stores the rows it draws: it refuses them, naming the projection.
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 1.0

[populations.a]
model = "lif"
size = 66000

[projections.aa]
source = "a"
target = "a"
synapse = "exp_curr"
params = { tau_ms = 2.0 }
connectivity = { rule = "fixed_probability", p = 0.99, procedural = true }
"#;
    let (_, net) = parsed(text, &[]);
    let synapses = net.projections[0].n_synapses() as u64;
    assert!(synapses > u64::from(u32::MAX) && synapses < 4_400_000_000, "{synapses}");
    let e = ganglion::backend::cpu::create(&net, ganglion::config::Precision::F32).err().expect("refused");
    assert!(e.to_string().contains("projection `aa`") && e.to_string().contains("32-bit"), "{e}");
}
