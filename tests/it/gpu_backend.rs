//! The GPU backend against the CPU reference. In CI these run on lavapipe (Mesa's software
//! Vulkan device, installed by `make test`); without any adapter they fail with install help.


use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::gpu::{kernels, GpuBackend, GpuOptions};
use ganglion::backend::Backend;
use ganglion::config::GpuCoupling;
use ganglion::record::RecordPlan;
use ganglion::network::Network;
use ganglion::shape::Shape;
use ganglion::rng;
use ganglion::Error;
use rand::{Rng, SeedableRng};

fn gpu(net: &ganglion::network::Network, plan: &RecordPlan) -> GpuBackend {
    gpu_backend(net, plan)
}

#[test]
fn gpu_philox_draws_equal_the_cpu_draws() {
    let ctx =
        gpu_context();
    let key = rng::seed_key(0x1234_5678_9abc_def0);
    let mut counters = vec![
        [0u32; 4],
        [u32::MAX; 4],
        [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    ];
    for neuron in [0u32, 1, 999, 1 << 20] {
        for step in [0u64, 1, 123_456, 5_000_000_000] {
            for pop in [0u32, 3] {
                counters.push(rng::counter(neuron, step, pop, rng::stream::VOLTAGE_NOISE));
            }
        }
    }
    let (blocks, normals) = kernels::philox_on_gpu(&ctx, key, &counters).unwrap();
    for (i, ctr) in counters.iter().enumerate() {
        let cpu_block = rng::philox4x32_10(*ctr, key);
        assert_eq!(blocks[i], cpu_block, "raw words for counter {ctr:08x?}");
        let cpu_normal: f32 = rng::standard_normal(cpu_block);
        assert!(
            (normals[i] - cpu_normal).abs() <= 1e-5 * cpu_normal.abs().max(1.0),
            "normal {} vs {cpu_normal}",
            normals[i]
        );
    }
    // The published known answer, computed by the shader.
    let (kat, _) = kernels::philox_on_gpu(
        &ctx,
        [0xa4093822, 0x299f31d0],
        &[[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344]],
    )
    .unwrap();
    assert_eq!(kat[0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
}

#[test]
fn one_step_from_random_states_agrees_with_the_cpu_in_f32() {
    let text = std::fs::read_to_string(repo_path("configs/hh_ring_1k.toml")).unwrap();
    // Weights drawn per synapse: the coupling kernels' per-synapse path.
    let (_, mut net) = parsed(
        &text,
        &[
            "simulation.duration_ms=0.01",
            "projections.hh_hh.connectivity.k=100",
            "projections.hh_hh.weight={ uniform = [0.0, 0.002] }",
        ],
    );
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let n = net.populations[0].size;
    // V over the whole physiological range (the singular points included), gates anywhere in [0, 1].
    let mut v: Vec<f64> = (0..n).map(|_| r.random_range(-100.0..60.0)).collect();
    v[0] = -40.0;
    v[1] = -55.0;
    net.populations[0].init[0] = v;
    for var in 1..5 {
        net.populations[0].init[var] = (0..n).map(|_| r.random_range(0.0..1.0)).collect();
    }
    let plan = RecordPlan::none(&net);
    let mut cpu = CpuBackend::<f32>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let a = cpu.read_state().unwrap();
    // Both coupling kernels: the lanes-per-row one sums in a different order.
    for coupling in [
        GpuCoupling::Fused,
        GpuCoupling::FusedLanes,
        GpuCoupling::ThreadPerRow,
        GpuCoupling::LanesPerRow,
    ] {
        let mut g = GpuBackend::with_options(&net, &plan, None, coupling).unwrap();
        run_in_memory(&net, &mut g, &plan);
        let b = g.read_state().unwrap();
        for (var, name) in ["v", "m", "h", "n", "s"].iter().enumerate() {
            for i in 0..n {
                let (x, y) = (a[0][var][i], b[0][var][i]);
                assert!(y.is_finite(), "{coupling:?}: {name}[{i}] is {y} on the GPU");
                assert!(
                    (x - y).abs() <= 1e-5 * x.abs().max(1.0),
                    "{coupling:?}: {name}[{i}]: cpu {x} gpu {y}"
                );
            }
        }
    }
}

#[test]
fn the_seed_pair_gives_the_same_spike_times_on_gpu_and_cpu_over_200_ms() {
    let (config, net) = shipped("hh_pair.toml", &["simulation.duration_ms=200"]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu(&net, &plan), &plan);
    for neuron in 0..2 {
        let (ta, tb) = (
            a.spike_times(0, neuron, net.dt_ms),
            b.spike_times(0, neuron, net.dt_ms),
        );
        assert!(ta.len() >= 12, "neuron {neuron} should fire regularly");
        assert_eq!(ta.len(), tb.len(), "neuron {neuron}: {ta:?} vs {tb:?}");
        for (x, y) in ta.iter().zip(&tb) {
            assert!(
                (x - y).abs() <= net.dt_ms + 1e-9,
                "neuron {neuron}: cpu {x} ms, gpu {y} ms"
            );
        }
    }
    // The traces the GPU gathered are the CPU's to within f32 rounding until the first spike.
    let first_spike_sample = (a.spike_times(0, 0, net.dt_ms)[0] / net.dt_ms) as usize - 5;
    for var in 0..5 {
        let (x, y) = (&a.traces[0][var], &b.traces[0][var]);
        assert_eq!(x.len(), y.len());
        for k in 0..first_spike_sample * 2 {
            assert!(
                (x[k] - y[k]).abs() <= 1e-3 * x[k].abs().max(1.0),
                "var {var} sample {k}: {} vs {}",
                x[k],
                y[k]
            );
        }
    }
}

#[test]
fn a_noisy_random_network_gives_the_same_spike_counts_within_one() {
    let text = std::fs::read_to_string(repo_path("configs/hh_ring_1k.toml")).unwrap();
    let (_, net) = parsed(
        &text,
        &["populations.hh.size=200", "simulation.duration_ms=100"],
    );
    let plan = RecordPlan::all_spikes(&net);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu(&net, &plan), &plan);
    let counts = |spikes: &[ganglion::record::Spike]| {
        let mut c = vec![0i64; 200];
        spikes.iter().for_each(|s| c[s.neuron as usize] += 1);
        c
    };
    let (ca, cb) = (counts(&a.spikes[0]), counts(&b.spikes[0]));
    assert!(ca.iter().sum::<i64>() > 200, "the network should fire");
    for i in 0..200 {
        assert!(
            (ca[i] - cb[i]).abs() <= 1,
            "neuron {i}: cpu {} gpu {}",
            ca[i],
            cb[i]
        );
    }
    let sorted = b.spikes[0]
        .windows(2)
        .all(|w| (w[0].step, w[0].neuron) < (w[1].step, w[1].neuron));
    assert!(sorted, "GPU spikes come back in (time, neuron) order");
}

/// One run's recorded traces (per trace, per variable, [sample][neuron]) and final state.
type Run = (Vec<Vec<Vec<f32>>>, ganglion::backend::NetworkState);

/// Asserts that `run` matches `reference` to `tolerance` relative (|x| floored at `floor`): the
/// first trace's `names` at every sample of `n` neurons, and every final state variable.
fn assert_runs_agree(
    what: &str,
    reference: &Run,
    run: &Run,
    names: &[&str],
    n: usize,
    tolerance: f64,
    floor: f64,
) {
    let close = |x: f64, y: f64| (x - y).abs() <= tolerance * x.abs().max(floor);
    for (var, name) in names.iter().enumerate() {
        let (x, y) = (&reference.0[0][var], &run.0[0][var]);
        assert_eq!(x.len(), y.len());
        for k in 0..x.len() {
            assert!(
                close(x[k].into(), y[k].into()),
                "{what}: {name} of neuron {} at sample {}: {} vs {}",
                k % n,
                k / n,
                x[k],
                y[k]
            );
        }
    }
    for (pop, (xs, ys)) in reference.1.iter().zip(&run.1).enumerate() {
        for (var, (x, y)) in xs.iter().zip(ys).enumerate() {
            for (i, (&x, &y)) in x.iter().zip(y).enumerate() {
                assert!(
                    close(x, y),
                    "{what}: population {pop} var {var} neuron {i}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn fused_coupling_equals_the_separate_coupling_kernel_step_for_step() {
    let text = std::fs::read_to_string(repo_path("configs/hh_ring_1k.toml")).unwrap();
    // Strong coupling from random S, so that a sum reading S of the wrong step shows in V at
    // once; an odd number of steps, so that the final S sits in the second block; S recorded at
    // every step, so that each gather must read the block of its step's parity. 101 steps end
    // before the first spike, whose upstroke would amplify rounding differences (the kernels
    // may contract a·b + c differently). Rows of about 90 synapses, of varying length, take
    // the lanes' unrolled loop and its remainder.
    let (config, net) = parsed(
        &text,
        &[
            "populations.hh.size=300",
            "simulation.duration_ms=1.01",
            "populations.hh.init.s={ uniform = [0.0, 1.0] }",
            r#"projections.hh_hh.connectivity={ rule = "fixed_probability", p = 0.3 }"#,
            "projections.hh_hh.weight={ uniform = [0.0, 0.006] }",
            r#"record.traces=[{ population = "hh", variables = ["v", "s"], neurons = "all", every = 1 }]"#,
        ],
    );
    assert_eq!(net.n_steps % 2, 1);
    let plan = RecordPlan::from_config(&config);
    let run = |coupling| {
        let mut g = GpuBackend::with_options(&net, &plan, None, coupling).unwrap();
        let out = run_in_memory(&net, &mut g, &plan);
        (out.traces, g.read_state().unwrap())
    };
    let separate: Run = run(GpuCoupling::ThreadPerRow);
    assert_eq!(separate.0[0][0].len(), 101 * 300);
    // The lanes sum in another order: a little more rounding.
    for (coupling, tolerance) in [
        (GpuCoupling::Fused, 1e-5),
        (GpuCoupling::FusedLanes, 3e-5),
        (GpuCoupling::LanesPerRow, 3e-5),
        (GpuCoupling::Blocked, 1e-5),
    ] {
        let what = format!("{coupling:?}");
        assert_runs_agree(
            &what,
            &separate,
            &run(coupling),
            &["v", "s"],
            300,
            tolerance,
            1.0,
        );
    }
}

#[test]
fn blocked_coupling_equals_the_thread_per_row_kernel_across_row_groups_and_column_blocks() {
    use ganglion::backend::gpu::blocked::BlockGeometry;
    // Sizes that cut into several row groups and column blocks, the last of each partial, and
    // share each group's blocks among several workgroups, for any workgroup memory up to
    // 48 KiB (6144 rows and columns). Two projections into b: the
    // second adds to the first's input; from a, with per-synapse weights and fewer columns
    // than rows. Random S, so that every block's values matter from the first step: a sum
    // missing a block or adding one twice moves V by far more than the tolerance at once.
    let text = r#"
        [simulation]
        dt_ms = 0.01
        duration_ms = 0.2
        [populations.a]
        model = "hh"
        size = 7000
        init = { s = { uniform = [0.0, 1.0] } }
        [populations.b]
        model = "hh"
        size = 13000
        init = { s = { uniform = [0.0, 1.0] } }
        [projections.ab]
        source = "a"
        target = "b"
        synapse = "graded"
        weight = { uniform = [0.0, 0.01] }
        connectivity = { rule = "fixed_indegree", k = 12 }
        [projections.bb]
        source = "b"
        target = "b"
        synapse = "graded"
        weight = 0.004
        connectivity = { rule = "fixed_indegree", k = 9, autapses = false }
        [record]
        traces = [{ population = "b", variables = ["v", "s"], neurons = "all", every = 1 }]
    "#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let run = |coupling| {
        let mut g = gpu_backend_with(&net, &plan, coupling);
        let geo = BlockGeometry::for_workgroup_storage(
            g.context().limits.max_compute_workgroup_storage_size,
        )
        .unwrap();
        let out = run_in_memory(&net, &mut g, &plan);
        ((out.traces, g.read_state().unwrap()), geo)
    };
    let (reference, _) = run(GpuCoupling::ThreadPerRow);
    let (blocked, geo) = run(GpuCoupling::Blocked);
    assert!(
        geo.n_groups(13000) >= 2 && geo.n_blocks(7000) >= 2 && geo.n_parts(13000, 7000) >= 2,
        "{geo:?}"
    );
    assert_eq!(reference.0[0][0].len(), net.n_steps as usize * 13000);
    assert_runs_agree(
        "blocked",
        &reference,
        &blocked,
        &["v", "s"],
        13000,
        1e-5,
        1e-3,
    );
}

#[test]
fn auto_coupling_fuses_exactly_the_networks_the_fused_kernel_fits() {
    use ganglion::backend::gpu::{fused_lanes, fuses, resolved};
    let two_populations = "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n\
        [populations.a]\nmodel = \"hh\"\nsize = 10\n[populations.b]\nmodel = \"hh\"\nsize = 10\n\
        [projections.ab]\nsource = \"a\"\ntarget = \"b\"\nsynapse = \"graded\"\nweight = 0.1\n\
        connectivity = { rule = \"all_to_all\" }\n";
    let unconnected = "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n\
        [populations.a]\nmodel = \"hh\"\nsize = 10\n";
    let shape = |net: Network| Shape::from_network(&net);
    let cases = [
        (shape(shipped("hh_pair.toml", &[]).1), None),
        (
            shape(shipped("hh_bench.toml", &["populations.hh.size=200"]).1),
            None,
        ),
        (shape(shipped("cobahh.toml", &[]).1), Some("not an hh population")),
        (
            shape(parsed(two_populations, &[]).1),
            Some("joins two populations"),
        ),
    ];
    for (net, unfit) in &cases {
        assert_eq!(fuses(net, GpuCoupling::Auto).unwrap(), unfit.is_none());
        assert!(!fuses(net, GpuCoupling::ThreadPerRow).unwrap());
        assert!(!fuses(net, GpuCoupling::Blocked).unwrap());
        assert_eq!(
            resolved(net, GpuCoupling::Blocked, u64::MAX).unwrap(),
            GpuCoupling::Blocked
        );
        for fused in [GpuCoupling::Fused, GpuCoupling::FusedLanes] {
            match (fuses(net, fused), unfit) {
                (Ok(true), None) => {}
                (Err(e), Some(why)) => {
                    let e = e.to_string();
                    assert!(
                        e.contains("simulation.gpu_coupling") && e.contains(why),
                        "{e}"
                    );
                }
                (other, _) => panic!("{unfit:?}: {other:?}"),
            }
        }
    }
    // Rows of 100 synapses take the lanes; the pair's single synapse, one thread.
    assert!(fused_lanes(&cases[1].0, GpuCoupling::Auto));
    assert!(!fused_lanes(&cases[0].0, GpuCoupling::Auto));
    assert!(fused_lanes(&cases[0].0, GpuCoupling::FusedLanes));
    assert!(!fused_lanes(&cases[1].0, GpuCoupling::Fused));
    // Nothing to fuse: no second S block.
    assert!(!fuses(&shape(parsed(unconnected, &[]).1), GpuCoupling::Auto).unwrap());
}

#[test]
fn fused_coupling_on_a_network_it_does_not_fit_is_refused_by_the_backend() {
    let (_, net) = shipped("cobahh.toml", &["simulation.duration_ms=1"]);
    let err = GpuBackend::with_options(&net, &RecordPlan::none(&net), None, GpuCoupling::Fused)
        .err()
        .expect("COBAHH cannot fuse")
        .to_string();
    assert!(
        err.contains("simulation.gpu_coupling") && err.contains("not an hh population"),
        "{err}"
    );
}

#[test]
fn graded_and_event_driven_inputs_into_one_population_agree_with_the_cpu() {
    // On the GPU the graded input comes from the coupling dispatch and the event-driven one is
    // delivered inside the HH update; the two must add up as on the CPU.
    let text = r#"
[simulation]
dt_ms = 0.01
duration_ms = 30.0
seed = 5

[populations.drive]
model = "lif"
size = 20
params = { input = { constant = 0.5 }, integrator = "exact" }

[populations.hh]
model = "hh"
size = 30
params = { i_ext = 6.0, noise_sigma = 0.5 }
init = { v = { uniform = [-70.0, -60.0] } }

[projections.a_kick]
source = "drive"
target = "hh"
synapse = "exp_cond"
params = { tau_ms = 2.0, e_rev = 0.0, delay_ms = 0.5 }
weight = 0.05
connectivity = { rule = "fixed_probability", p = 0.5 }

[projections.b_ring]
source = "hh"
target = "hh"
synapse = "graded"
weight = 0.02
connectivity = { rule = "fixed_indegree", k = 5 }

[record]
spikes = ["drive", "hh"]
traces = [{ population = "hh", variables = ["v"], neurons = "all" }]
"#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu(&net, &plan), &plan);
    let hh = config.population_index("hh").unwrap();
    assert!(a.spikes[hh].len() >= 30, "the HH neurons should fire");
    assert_eq!(a.spikes, b.spikes);
    // V to within f32 rounding until the first upstroke, which amplifies it.
    let (x, y) = (&a.traces[0][0], &b.traces[0][0]);
    let first_spike = a.spikes[hh][0].step as usize;
    assert!(first_spike > 100);
    for k in 0..(first_spike - 50) * 30 {
        assert!(
            (x[k] - y[k]).abs() <= 1e-3 * x[k].abs().max(1.0),
            "v sample {k}: cpu {} gpu {}",
            x[k],
            y[k]
        );
    }
}

#[test]
fn more_event_driven_projections_into_a_population_than_the_gpu_takes_are_refused() {
    let mut text = String::from(
        "[simulation]\ndt_ms = 0.1\nduration_ms = 1.0\n\
         [populations.pre]\nmodel = \"lif\"\nsize = 2\n\
         [populations.post]\nmodel = \"lif\"\nsize = 2\n",
    );
    for k in 0..9 {
        text += &format!(
            "[projections.p{k}]\nsource = \"pre\"\ntarget = \"post\"\nsynapse = \"exp_curr\"\n\
             params = {{ tau_ms = 5.0 }}\nweight = 0.01\nconnectivity = {{ rule = \"all_to_all\" }}\n"
        );
    }
    let (_, net) = parsed(&text, &[]);
    let err = GpuBackend::with_plan(&net, &RecordPlan::none(&net), None)
        .err()
        .expect("nine projections into one population")
        .to_string();
    assert!(
        err.contains("`post`")
            && err.contains("9 event-driven projections")
            && err.contains("at most 8"),
        "{err}"
    );
}

#[test]
fn chunks_and_submits_do_not_change_the_result() {
    let text = std::fs::read_to_string(repo_path("configs/hh_ring_1k.toml")).unwrap();
    let (config, net) = parsed(
        &text,
        &["populations.hh.size=300", "simulation.duration_ms=30"],
    );
    let plan = RecordPlan::from_config(&config);
    let run = |chunk: u32| {
        let mut g = gpu(&net, &plan);
        let mut sink = ganglion::simulator::MemorySink::default();
        let opts = ganglion::simulator::RunOptions {
            chunk_steps: Some(chunk),
            ..Default::default()
        };
        ganglion::simulator::run(&net, &mut g, &plan, &mut sink, &opts).unwrap();
        (sink.spikes, sink.traces, g.read_state().unwrap())
    };
    assert_eq!(run(3000), run(777));
}

#[test]
fn a_diverging_network_is_stopped_on_the_gpu_too() {
    let (_, net) = shipped(
        "hh_pair.toml",
        &["simulation.dt_ms=2.0", "populations.hh.params.i_ext=1e6"],
    );
    let plan = RecordPlan::none(&net);
    let mut g = gpu(&net, &plan);
    let err = ganglion::simulator::run(
        &net,
        &mut g,
        &plan,
        &mut ganglion::simulator::NullSink,
        &Default::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Diverged { population, .. } if population == "hh"),
        "{err}"
    );
}

#[test]
fn buffers_beyond_the_binding_limit_are_refused_with_size_and_limit() {
    let ctx =
        gpu_context();
    let err = ctx
        .check_binding_size("hh.col_idx", 1 << 40)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hh.col_idx") && err.contains("1.0 TiB") && err.contains(&ctx.info.name),
        "{err}"
    );
}

#[test]
fn a_network_that_does_not_fit_the_device_is_refused_before_running() {
    // Every per-neuron array is cut to fit a binding, except a state that fused coupling
    // reads across the population: bindings capped at 1 MiB, as a device with that limit
    // would have, and a graded ring of 263k neurons fused.
    let limit = 1 << 20;
    let size = limit / 4 + 1024;
    let text = format!(
        "[simulation]\ndt_ms = 0.01\nduration_ms = 0.01\n[populations.big]\nmodel = \"hh\"\nsize = {size}\n\
         [projections.ring]\nsource = \"big\"\ntarget = \"big\"\nsynapse = \"graded\"\n\
         connectivity = {{ rule = \"fixed_indegree\", k = 1 }}\n"
    );
    let (_, net) = parsed(&text, &[]);
    let options = |coupling| GpuOptions { coupling, max_binding_bytes: Some(limit), ..Default::default() };
    let err = GpuBackend::with_options(&net, &RecordPlan::none(&net), None, options(GpuCoupling::Fused))
        .err()
        .expect("must be refused");
    assert!(
        matches!(&err, Error::BufferTooLarge { label, bytes, limit: l, .. }
            if label == "big.state" && *l == limit && *bytes == size * 6 * 4),
        "{err:?}"
    );
    assert!(err.to_string().contains("fused coupling takes it whole"), "{err}");
    // Not fused, it runs, its arrays in ranges of neurons.
    let mut gpu = GpuBackend::with_options(&net, &RecordPlan::none(&net), None, options(GpuCoupling::ThreadPerRow)).unwrap();
    assert_eq!(gpu.state_parts(), vec![10]);
    run_in_memory(&net, &mut gpu, &RecordPlan::none(&net));
}

#[test]
fn a_blocked_layout_whose_pointers_do_not_fit_is_refused_by_name() {
    use ganglion::backend::gpu::blocked::BlockGeometry;
    let ctx =
        gpu_context();
    let limit = ctx
        .limits
        .max_storage_buffer_binding_size
        .min(ctx.limits.max_buffer_size);
    let geo = BlockGeometry::for_workgroup_storage(ctx.limits.max_compute_workgroup_storage_size)
        .unwrap();
    drop(ctx);
    // Its pointers grow with rows × columns: just enough row groups and column blocks for one
    // pointer too many, with a single synapse per row.
    let side = ((limit / 4 / 256) as f64).sqrt() as u64 + 1;
    let size = side * geo.rows_per_group().max(geo.block_cols) as u64;
    assert!(geo.seg_ptr_len(size as usize, size as usize) * 4 > limit);
    let text = format!(
        "[simulation]\ndt_ms = 0.01\nduration_ms = 0.01\n[populations.big]\nmodel = \"hh\"\nsize = {size}\n\
         [projections.loop]\nsource = \"big\"\ntarget = \"big\"\nsynapse = \"graded\"\nweight = 0.1\n\
         connectivity = {{ rule = \"fixed_indegree\", k = 1 }}\n"
    );
    let (_, net) = parsed(&text, &[]);
    let err = GpuBackend::with_options(&net, &RecordPlan::none(&net), None, GpuCoupling::Blocked)
        .err()
        .expect("must be refused");
    assert!(
        matches!(&err, Error::BufferTooLarge { label, .. } if label == "loop.seg_ptr"),
        "{err:?}"
    );
    assert!(err.to_string().contains("simulation.gpu_coupling"), "{err}");
}

#[test]
fn a_spike_buffer_overflow_is_an_error_not_a_silent_loss() {
    // LIF neurons driven to fire at every 0.1 ms step: ten times the rate the buffer is sized
    // for, as they are too many (5000) for one that holds them all firing at every step.
    let text = "[simulation]\ndt_ms = 0.1\nduration_ms = 300.0\n[populations.lif]\nmodel = \"lif\"\nsize = 5000\n\
                params = { input = { constant = 100.0 } }\n[record]\nspikes = [\"lif\"]\n";
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut g = gpu(&net, &plan);
    // One call of the whole run, so that each submit is as long as the backend makes it: the
    // simulator's calls shrink to what 0.25 s of a loaded machine steps, which can be too
    // few steps to overflow.
    let mut all = ganglion::record::ChunkOutput::new(&plan, 0, net.n_steps);
    let err = g.run_chunk(&plan, &mut all).unwrap_err().to_string();
    assert!(
        err.contains("spike buffer overflow") && err.contains("chunk_steps"),
        "{err}"
    );
    // 300 of them: a buffer that holds them all firing at every step is small, and is taken.
    let (config, net) = parsed(&text.replace("size = 5000", "size = 300"), &[]);
    let plan = RecordPlan::from_config(&config);
    let on_gpu = run_in_memory(&net, &mut gpu(&net, &plan), &plan);
    let on_cpu = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let count = |sink: &ganglion::simulator::MemorySink| sink.spikes.iter().map(Vec::len).sum::<usize>();
    assert!(count(&on_gpu) > 300 * 3000 / 2, "{} spikes: far past the 1 kHz bound", count(&on_gpu));
    assert_eq!(count(&on_gpu), count(&on_cpu));
}
