//! A sweep's instances merged into one GPU network (`sweep::batch`) store a matrix that every
//! instance has alike once, for all of them: each instance must still compute what its own
//! run computes, with every coupling kernel, whole or cut into parts, graded or event-driven.

use crate::common::*;
use ganglion::backend::Backend;
use ganglion::config::{EventDelivery, GpuCoupling};
use ganglion::network::Network;
use ganglion::record::{RecordPlan, Spike};
use ganglion::sweep::batch;

/// Instance `k`'s spikes of population `p` in the merged run's, with its own indices.
fn instance_spikes(spikes: &[Spike], k: usize, size: usize) -> Vec<Spike> {
    spikes
        .iter()
        .filter(|s| s.neuron as usize / size == k)
        .map(|s| Spike { step: s.step, neuron: s.neuron - (k * size) as u32 })
        .collect()
}

/// Runs each of `nets` alone on the GPU under `coupling`, then merged with its bindings
/// capped at each of `caps`, and asserts that each instance's spikes and final state are its
/// own run's, and that a capped matrix came in parts.
fn assert_batch_is_single_runs(nets: &[Network], coupling: GpuCoupling, caps: &[Option<u64>]) {
    let plans: Vec<RecordPlan> = nets.iter().map(RecordPlan::all_spikes).collect();
    let merged = merge_all(nets);
    let singles: Vec<_> = nets
        .iter()
        .zip(&plans)
        .map(|(net, plan)| {
            let mut alone = gpu_backend_capped(net, plan, coupling, None);
            let out = run_in_memory(net, &mut alone, plan);
            (out.spikes, alone.read_state().unwrap())
        })
        .collect();
    for &cap in caps {
        let mut gpu = gpu_backend_capped(&merged.net, &merged.plan, coupling, cap);
        let (graded, events) = gpu.matrix_dispatches();
        if cap.is_some() {
            assert!(graded.max(events) > 3, "{coupling:?}: parts {:?}", (graded, events));
        }
        let out = run_in_memory(&merged.net, &mut gpu, &merged.plan);
        let state = gpu.read_state().unwrap();
        for (k, (net, (spikes, own_state))) in nets.iter().zip(&singles).enumerate() {
            for (p, pop) in net.populations.iter().enumerate() {
                let n = pop.size;
                assert!(spikes[p].len() > 20, "{coupling:?}: instance {k} population {p} fires");
                assert_eq!(instance_spikes(&out.spikes[p], k, n), spikes[p], "{coupling:?}, cap {cap:?}: instance {k}, population {p}");
                for (var, values) in own_state[p].iter().enumerate() {
                    assert_eq!(&state[p][var][k * n..(k + 1) * n], &values[..], "{coupling:?}, cap {cap:?}: instance {k}, variable {var}");
                }
            }
        }
    }
}

/// Three instances of the 1k HH ring under `common` (one seed), each with its own current and
/// starting states.
fn rings(common: &[&str]) -> Vec<Network> {
    [(8.0, 4), (10.0, 5), (12.0, 6)]
        .iter()
        .map(|&(i_ext, states)| {
            let current = format!("populations.hh.params.i_ext={i_ext}");
            let mut overrides = common.to_vec();
            overrides.push(&current);
            hh_ring_from_random_states(&overrides, states)
        })
        .collect()
}

/// `nets` merged, recording all spikes.
fn merge_all(nets: &[Network]) -> batch::Batched {
    let refs: Vec<&Network> = nets.iter().collect();
    let plans: Vec<RecordPlan> = nets.iter().map(RecordPlan::all_spikes).collect();
    batch::merge(&refs, &plans.iter().collect::<Vec<_>>()).expect("the instances merge")
}

#[test]
fn instances_with_the_same_graded_matrix_store_it_once_and_each_equals_its_own_run() {
    // One seed, one matrix: the instances differ in their current and starting states.
    let nets = rings(&["simulation.duration_ms=2", "projections.hh_hh.connectivity.k=100", "projections.hh_hh.weight={ uniform = [0.0, 0.002] }"]);
    let merged = merge_all(&nets);
    let p = &merged.net.projections[0];
    assert_eq!((p.blocks, p.csr.n_rows, p.n_target(), p.n_synapses()), (3, 1000, 3000, 300_000));
    for coupling in ALL_KERNELS {
        // 100k synapses of one block (400 kB of columns) in bindings of 128 KiB: parts of
        // whole rows, each dispatched over every instance.
        assert_batch_is_single_runs(&nets, coupling, &[None, Some(128 << 10)]);
    }
}

#[test]
fn instances_with_the_same_graded_connections_and_their_own_weight_store_them_once() {
    // A swept coupling strength: one seed, one set of connections, a weight each.
    let nets: Vec<Network> = [0.005, 0.01, 0.02]
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let weight = format!("projections.hh_hh.weight={w}");
            hh_ring_from_random_states(&["simulation.duration_ms=2", "projections.hh_hh.connectivity.k=100", &weight], 4 + k as u64)
        })
        .collect();
    let merged = merge_all(&nets);
    let p = &merged.net.projections[0];
    assert_eq!((p.blocks, p.block_weights.as_deref()), (3, Some(&[0.005, 0.01, 0.02][..])));
    for coupling in ALL_KERNELS {
        assert_batch_is_single_runs(&nets, coupling, &[None]);
    }
    assert_batch_is_single_runs(&nets, GpuCoupling::LanesPerRow, &[Some(128 << 10)]);
}

#[test]
fn instances_with_the_same_event_driven_matrices_store_them_once_and_each_equals_its_own_run() {
    use rand::{Rng, SeedableRng};
    let nets: Vec<Network> = (0..3u64)
        .map(|k| {
            let (_, mut net) = shipped(
                "cobahh_k80.toml",
                &["simulation.duration_ms=20", "populations.exc.size=800", "populations.inh.size=200"],
            );
            // Each instance its own starting voltages.
            let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(k + 10);
            for p in &mut net.populations {
                p.init[0] = (0..p.size).map(|_| r.random_range(-70.0..-50.0)).collect();
            }
            net
        })
        .collect();
    let plans: Vec<RecordPlan> = nets.iter().map(RecordPlan::all_spikes).collect();
    let merged = merge_all(&nets);
    for p in &merged.net.projections {
        let e = p.event.as_ref().unwrap();
        assert_eq!(p.blocks, 3, "{}", p.name);
        assert_eq!(e.by_source.n_synapses(), nets[0].projections.iter().find(|q| q.name == p.name).unwrap().n_synapses());
        assert_eq!(e.g0.len(), p.n_target(), "{}: g starts per target neuron of every instance", p.name);
    }
    // Whole, and in bindings of 64 KiB: one block's 80k synapses by source in parts.
    assert_batch_is_single_runs(&nets, GpuCoupling::Auto, &[None, Some(64 << 10)]);

    // A swept excitatory weight (one fixed-point scale for all three): the connections once,
    // a weight per instance.
    let weighted: Vec<Network> = ["6.0", "5.5", "5.0"]
        .iter()
        .map(|w| {
            let weight = format!("projections.ee.weight={w}");
            shipped(
                "cobahh_k80.toml",
                &["simulation.duration_ms=20", "populations.exc.size=800", "populations.inh.size=200", &weight],
            )
            .1
        })
        .collect();
    let merged = merge_all(&weighted);
    for p in &merged.net.projections {
        assert_eq!(p.blocks, 3, "{}", p.name);
        assert_eq!(p.block_weights.is_some(), p.name == "ee", "{}", p.name);
    }
    assert_batch_is_single_runs(&weighted, GpuCoupling::Auto, &[None, Some(64 << 10)]);

    // Another seed draws another matrix: kept per instance, side by side.
    let (_, other) = shipped(
        "cobahh_k80.toml",
        &["simulation.duration_ms=20", "populations.exc.size=800", "populations.inh.size=200", "simulation.seed=2"],
    );
    let mixed = batch::merge(&[&nets[0], &other], &[&plans[0], &plans[0]]).unwrap();
    for p in &mixed.net.projections {
        assert_eq!((p.blocks, p.csr.n_rows), (1, p.n_target()), "{}", p.name);
    }
}

#[test]
fn check_says_whether_a_sweeps_instances_share_their_matrices() {
    let dir = tempfile::tempdir().unwrap();
    let ring = std::fs::read_to_string(repo_path("configs/hh_ring_1k.toml")).unwrap();
    let check = |sweep: &str| -> String {
        let path = dir.path().join("sweep.toml");
        std::fs::write(&path, format!("{ring}\n[sweep]\n{sweep}\n")).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ganglion"))
            .args(["check", path.to_str().unwrap()])
            .env("XDG_RUNTIME_DIR", "/tmp")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        text
    };
    // 10k synapses of one weight: 40 kB of columns and 4 kB of row pointers, held once.
    let text = check("\"populations.hh.params.i_ext\" = [8.0, 10.0, 12.0]");
    assert!(text.contains("one copy of the matrices (the swept keys leave the connections alone): 43.0 KiB once"), "{text}");
    let text = check("\"populations.hh.params.i_ext\" = [8.0, 10.0]\n\"simulation.seed\" = [1, 2]");
    assert!(text.contains("matrices counted per instance: a swept key may change the connectivity"), "{text}");
    // Drawn rows are keyed by the seed.
    let drawn = |sweep: &str| {
        ganglion::app::check(
            &repo_path("configs/hh_ring_1k.toml"),
            &["projections.hh_hh.connectivity.procedural=true".into(), sweep.into()],
        )
        .unwrap()
    };
    let text = drawn("sweep.simulation.seed=[1, 2]");
    assert!(text.contains("instances in batches sharing one set of buffers"), "{text}");
    let text = drawn("sweep.projections.hh_hh.weight=[0.001, 0.002]");
    assert!(text.contains("one copy of the matrices"), "{text}");
    let text = drawn("sweep.populations.hh.params.i_ext=[8.0, 10.0]");
    assert!(text.contains("one copy of the matrices"), "{text}");
    let text = drawn("sweep.projections.hh_hh.connectivity.k=[50, 100]");
    assert!(text.contains("instances in batches sharing one set of buffers"), "{text}");
    let text = drawn("sweep.projections.hh_hh.weight=[{ uniform = [0.0, 0.002] }, { uniform = [0.0, 0.004] }]");
    assert!(text.contains("procedural projections with swept autapses or weight distribution: only instances that draw their rows alike share a batch"), "{text}");
    // A namespace constant is in the code of a model written as equations.
    let text = ganglion::app::check(
        &repo_path("configs/equations/lif_tutorial.toml"),
        &["sweep.models.lif_tutorial.namespace.I_mean=[\"25e-11*amp\", \"35e-11*amp\"]".into()],
    )
    .unwrap();
    assert!(
        text.contains("models.lif_tutorial.namespace.I_mean swept: a model written as equations (with its PoissonInputs) has its constants in its code, so on the GPU only instances with the same values share a batch"),
        "{text}"
    );
    // So are a synapse model's constants and a PoissonInput's rate.
    let text = ganglion::app::check(
        &repo_path("configs/equations/brunel2000.toml"),
        &[
            "sweep.synapse_models.inhibitory.namespace.g=[4.0, 5.0]".into(),
            "sweep.populations.exc.poisson_inputs.external.rate=[\"10*Hz\", \"20*Hz\"]".into(),
        ],
    )
    .unwrap();
    assert!(text.contains("synapse_models.inhibitory.namespace.g, populations.exc.poisson_inputs.external.rate swept"), "{text}");
}

/// COBAHH-k80 at 1,000 neurons for 20 ms, its four projections drawn by source, the
/// excitatory ones with drawn weights.
fn drawn_cobahh() -> Vec<String> {
    ["ee", "ei", "ie", "ii"]
        .iter()
        .map(|p| format!("projections.{p}.connectivity={{ rule = \"fixed_probability\", p = 0.02, procedural = true }}"))
        .chain(["simulation.duration_ms=20".to_string(), "populations.exc.size=800".into(), "populations.inh.size=200".into()])
        .chain(["ee", "ei"].iter().map(|p| format!("projections.{p}.weight={{ uniform = [0.0, 12.0] }}")))
        .collect()
}

#[test]
fn procedural_rows_of_one_seed_are_drawn_once_for_a_batch_and_each_instance_equals_its_own_run() {
    // The ring drawn procedurally with weights drawn per synapse; one seed, so one set of
    // rows, the instances differing in their current and starting states.
    let nets = rings(&[
        "simulation.duration_ms=1",
        "projections.hh_hh.connectivity={ rule = \"fixed_indegree\", k = 100, autapses = false, procedural = true }",
        "projections.hh_hh.weight={ uniform = [0.0, 0.004] }",
    ]);
    let merged = merge_all(&nets);
    let p = &merged.net.projections[0];
    assert!(p.procedural.is_some() && p.csr.col_idx.is_empty());
    assert_eq!((p.blocks, p.csr.n_rows), (3, 1000));
    // A thread per row and lanes per row (`row_sum` and `sum_lanes`).
    for coupling in [GpuCoupling::Fused, GpuCoupling::LanesPerRow] {
        assert_batch_is_single_runs(&nets, coupling, &[None]);
    }

    // COBAHH's four projections drawn by source, with drawn weights: the instances differ in
    // their starting voltages.
    use rand::{Rng, SeedableRng};
    let drawn = drawn_cobahh();
    let drawn: Vec<&str> = drawn.iter().map(|s| s.as_str()).collect();
    let nets: Vec<Network> = (0..3u64)
        .map(|k| {
            let (_, mut net) = shipped("cobahh_k80.toml", &drawn);
            let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(k + 20);
            for p in &mut net.populations {
                p.init[0] = (0..p.size).map(|_| r.random_range(-70.0..-50.0)).collect();
            }
            net
        })
        .collect();
    assert_batch_is_single_runs(&nets, GpuCoupling::Auto, &[None]);

    // Another weight distribution draws other weights: no batch.
    let (_, other) = shipped("cobahh_k80.toml", &[&drawn[..], &["projections.ee.weight={ uniform = [0.0, 10.0] }"]].concat());
    let plans: Vec<RecordPlan> = [&nets[0], &other].iter().map(|n| RecordPlan::all_spikes(n)).collect();
    let why = batch::merge(&[&nets[0], &other], &plans.iter().collect::<Vec<_>>()).err().unwrap();
    assert!(why.contains("projection `ee` is drawn procedurally with other autapses or another weight distribution"), "{why}");
}

#[test]
fn procedural_rows_of_several_seeds_are_drawn_side_by_side_in_one_batch_and_each_instance_equals_its_own_run() {
    // The ring drawn procedurally, three seeds each with its own weight: fixed in-degree
    // (rows of one length) and fixed probability (each seed its own lengths); and one seed
    // with three in-degrees (one key, rows of three lengths).
    let indegree = |k: u32| format!("projections.hh_hh.connectivity={{ rule = \"fixed_indegree\", k = {k}, autapses = false, procedural = true }}");
    let probability = "projections.hh_hh.connectivity={ rule = \"fixed_probability\", p = 0.1, procedural = true }".to_string();
    let seeds = |connectivity: &str| [(1, 0.0015, connectivity.to_string()), (2, 0.002, connectivity.to_string()), (3, 0.0025, connectivity.to_string())];
    let one_seed = [(1, 0.0015, indegree(60)), (1, 0.002, indegree(80)), (1, 0.0025, indegree(100))];
    for instances in [seeds(&indegree(100)), seeds(&probability), one_seed] {
        let nets: Vec<Network> = instances
            .iter()
            .zip([8.0, 10.0, 12.0])
            .enumerate()
            .map(|(k, ((seed, weight, connectivity), i_ext))| {
                let own = [format!("simulation.seed={seed}"), format!("projections.hh_hh.weight={weight}"), format!("populations.hh.params.i_ext={i_ext}")];
                let mut overrides = vec!["simulation.duration_ms=1", connectivity.as_str()];
                overrides.extend(own.iter().map(|s| s.as_str()));
                hh_ring_from_random_states(&overrides, k as u64 + 3)
            })
            .collect();
        let merged = merge_all(&nets);
        let p = &merged.net.projections[0];
        let keys: Vec<[u32; 2]> = nets.iter().map(|n| n.projections[0].procedural.as_ref().unwrap().seed_key).collect();
        assert_eq!(p.procedural.as_ref().unwrap().instance_keys, keys);
        assert_eq!((p.blocks, p.csr.n_rows, p.kernel_instances()), (1, 3000, 3));
        assert_eq!(p.block_weights.as_deref(), Some(&[0.0015, 0.002, 0.0025][..]));
        for coupling in [GpuCoupling::Fused, GpuCoupling::LanesPerRow] {
            assert_batch_is_single_runs(&nets, coupling, &[None]);
        }
    }

    // COBAHH's four projections drawn by source, with drawn weights, three seeds.
    let drawn = drawn_cobahh();
    let nets: Vec<Network> = (1..=3u64)
        .map(|seed| {
            let own = format!("simulation.seed={seed}");
            let overrides: Vec<&str> = drawn.iter().map(|s| s.as_str()).chain([own.as_str()]).collect();
            shipped("cobahh_k80.toml", &overrides).1
        })
        .collect();
    let merged = merge_all(&nets);
    assert!(merged.net.projections.iter().all(|p| p.own_seeds() && p.block_weights.is_none()));
    assert_batch_is_single_runs(&nets, GpuCoupling::Auto, &[None]);
}

#[test]
fn a_batch_delivering_its_events_apart_equals_each_instances_own_run() {
    // HH neurons taking graded and event-driven inputs, each instance of its own seed (its own
    // matrices, noise and starting states), the deliveries in dispatches of their own.
    let nets: Vec<Network> = [5, 6, 7]
        .iter()
        .map(|s| parsed(crate::cobahh::GRADED_AND_EVENTS, &[&format!("simulation.seed={s}")]).1)
        .collect();
    let merged = merge_all(&nets);
    let mut gpu = gpu_backend_delivering(&merged.net, &merged.plan, EventDelivery::Separate);
    let out = run_in_memory(&merged.net, &mut gpu, &merged.plan);
    let state = gpu.read_state().unwrap();
    for (k, net) in nets.iter().enumerate() {
        let plan = RecordPlan::all_spikes(net);
        let mut alone = gpu_backend_delivering(net, &plan, EventDelivery::InUpdate);
        let own = run_in_memory(net, &mut alone, &plan);
        let own_state = alone.read_state().unwrap();
        for (p, pop) in net.populations.iter().enumerate() {
            let n = pop.size;
            assert!(own.spikes[p].len() > 20, "instance {k} population {p} fires");
            assert_eq!(instance_spikes(&out.spikes[p], k, n), own.spikes[p], "instance {k}, population {p}");
            for (var, values) in own_state[p].iter().enumerate() {
                assert_eq!(&state[p][var][k * n..(k + 1) * n], &values[..], "instance {k}, variable {var}");
            }
        }
    }
}
