//! Event-driven synapses and the COBAHH benchmark on the CPU reference and the GPU.


use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::gpu::GpuBackend;
use ganglion::backend::Backend;
use ganglion::config::EventDelivery;
use ganglion::record::{RecordPlan, Spike};
use ganglion::stats;

fn gpu(net: &ganglion::network::Network, plan: &RecordPlan) -> GpuBackend {
    gpu_backend(net, plan)
}

fn pairs(spikes: &[Spike], dt: f64) -> Vec<(f64, u64)> {
    spikes
        .iter()
        .map(|s| ((s.step + 1) as f64 * dt, s.neuron as u64))
        .collect()
}

#[test]
fn cobahh_is_spike_for_spike_identical_on_gpu_and_cpu_for_25_ms_and_statistically_the_same_over_1_s(
) {
    let (_, net) = shipped("cobahh.toml", &[]);
    let plan = RecordPlan::all_spikes(&net);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu(&net, &plan), &plan);
    // Brian2's threshold (V above −20 mV once the refractory period is over, no crossing
    // needed) makes the last-bit differences of exp show sooner: the trains part at about
    // 40 ms on lavapipe.
    let until_25ms = |s: &[Spike]| {
        s.iter()
            .copied()
            .filter(|s| (s.step + 1) as f64 * net.dt_ms <= 25.0)
            .collect::<Vec<_>>()
    };
    for p in 0..2 {
        let (x, y) = (until_25ms(&a.spikes[p]), until_25ms(&b.spikes[p]));
        assert!(x.len() > 100, "population {p} fires in the first 25 ms");
        assert!(x == y, "population {p}: spike trains differ within 25 ms");
    }
    // Over 1 s the chaotic trajectories part ways; the network's statistics must not.
    let total =
        |s: &[Vec<Spike>]| s.iter().map(|p| p.len()).sum::<usize>() as f64 / net.n_neurons() as f64;
    let (rate_cpu, rate_gpu) = (total(&a.spikes), total(&b.spikes));
    assert!(
        (rate_cpu - rate_gpu).abs() <= 0.05 * rate_cpu,
        "mean rate {rate_cpu} Hz on the CPU, {rate_gpu} Hz on the GPU"
    );
    for (p, pop) in net.populations.iter().enumerate() {
        let sa = stats::spike_stats(
            &pop.name,
            pop.size,
            1000.0,
            &pairs(&a.spikes[p], net.dt_ms),
            100.0,
        );
        let sb = stats::spike_stats(
            &pop.name,
            pop.size,
            1000.0,
            &pairs(&b.spikes[p], net.dt_ms),
            100.0,
        );
        assert!(
            sa.mean_rate_hz > 5.0,
            "{}: the benchmark's self-sustained activity ({} Hz)",
            pop.name,
            sa.mean_rate_hz
        );
        assert!(
            (sa.isi_cv - sb.isi_cv).abs() <= 0.10 * sa.isi_cv,
            "{}: ISI CV {} vs {}",
            pop.name,
            sa.isi_cv,
            sb.isi_cv
        );
    }
}

/// One LIF neuron driven to fire, connected to silent LIF targets through one synapse each.
fn delay_network(
    synapse: &str,
    delay_ms: f64,
) -> (ganglion::config::Config, ganglion::network::Network) {
    let text = format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 30.0

[populations.pre]
model = "lif"
size = 1
params = {{ input = {{ constant = 0.3 }}, integrator = "exact" }}

[populations.post]
model = "lif"
size = 2
params = {{ input = {{ constant = 0.0 }}, integrator = "exact" }}

[projections.link]
source = "pre"
target = "post"
synapse = "{synapse}"
params = {{ tau_ms = 2.0, {extra} delay_ms = {delay_ms} }}
connectivity = {{ rule = "explicit", pre = [0, 0], post = [0, 1], weight = [0.05, 0.025] }}

[record]
spikes = ["pre"]
traces = [{{ population = "post", variables = ["v"] }}]
"#,
        extra = if synapse == "exp_cond" {
            "e_rev = 0.0,"
        } else {
            ""
        }
    );
    parsed(&text, &[])
}

#[test]
fn a_spike_arrives_after_its_delay_with_its_weight_on_both_backends() {
    for synapse in ["exp_curr", "exp_cond"] {
        for delay_ms in [0.0, 1.0, 2.5] {
            let (config, net) = delay_network(synapse, delay_ms);
            let plan = RecordPlan::from_config(&config);
            let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
            let b = run_in_memory(&net, &mut gpu(&net, &plan), &plan);
            let spike = a.spikes[config.population_index("pre").unwrap()][0];
            let v = &a.traces[0][0];
            // Samples are [t][neuron]; the spike is stamped t_(k+1) and the weight lands at
            // t_(k+1) + delay, moving V over the step that starts there.
            let arrival = spike.step as usize + 1 + (delay_ms / net.dt_ms).round() as usize;
            assert!(
                v[2 * arrival] == -60.0 && v[2 * (arrival + 1)] > -60.0,
                "{synapse}, delay {delay_ms}: {:?}",
                &v[2 * (arrival - 1)..2 * (arrival + 3)]
            );
            assert_eq!(
                v[2 * (arrival - 1)],
                -60.0,
                "{synapse}, delay {delay_ms}: nothing before the arrival"
            );
            // Twice the weight, twice the deflection.
            let (d0, d1) = (v[2 * (arrival + 1)] + 60.0, v[2 * (arrival + 1) + 1] + 60.0);
            assert!(
                (d0 / d1 - 2.0).abs() < 1e-3,
                "{synapse}: deflections {d0} and {d1}"
            );
            assert_eq!(a.spikes, b.spikes);
            for (x, y) in v.iter().zip(&b.traces[0][0]) {
                assert!(
                    (x - y).abs() < 1e-4,
                    "{synapse}, delay {delay_ms}: cpu {x} gpu {y}"
                );
            }
        }
    }
}

#[test]
fn refractory_targets_keep_taking_arrivals_and_two_projections_add_up_on_both_backends() {
    // Noisy LIF drivers excite and inhibit refractory LIF targets through two projections
    // (delivered in the target's update on the GPU, in config order): the synapses' g must
    // take every arrival and decay through the refractory periods as on the CPU.
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 100.0
seed = 11

[populations.drive]
model = "lif"
size = 40
params = { input = { noise = { mean = 0.25, sigma = 2.0 } }, t_ref = 1.0 }

[populations.target]
model = "lif"
size = 10
params = { input = { constant = 0.12 }, t_ref = 5.0, integrator = "exact" }

[projections.exc]
source = "drive"
target = "target"
synapse = "exp_cond"
params = { tau_ms = 5.0, e_rev = 0.0, delay_ms = 0.5 }
weight = { uniform = [0.0, 0.004] }
connectivity = { rule = "fixed_probability", p = 0.5 }

[projections.inh]
source = "drive"
target = "target"
synapse = "exp_curr"
params = { tau_ms = 10.0, delay_ms = 1.0 }
weight = -0.01
connectivity = { rule = "fixed_probability", p = 0.3 }

[record]
spikes = ["drive", "target"]
traces = [{ population = "target", variables = ["v", "g_exc", "g_inh"], neurons = "all" }]
"#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu(&net, &plan), &plan);
    let target = config.population_index("target").unwrap();
    assert!(
        a.spikes[target].len() >= 20,
        "the targets should fire and be refractory often: {}",
        a.spikes[target].len()
    );
    assert_eq!(a.spikes, b.spikes);
    for (var, name) in ["v", "g_exc", "g_inh"].iter().enumerate() {
        let (x, y) = (&a.traces[0][var], &b.traces[0][var]);
        assert!(x.iter().any(|&g| g != 0.0), "{name} never moves");
        for (k, (x, y)) in x.iter().zip(y).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * x.abs().max(1.0),
                "{name} sample {k}: cpu {x} gpu {y}"
            );
        }
    }
}

#[test]
fn the_k80_variant_scales_with_a_fixed_in_degree() {
    let (_, net) = shipped(
        "cobahh_k80.toml",
        &[
            "populations.exc.size=8000",
            "populations.inh.size=2000",
            "simulation.duration_ms=1",
        ],
    );
    for p in &net.projections {
        let k = if p.name.starts_with('e') { 64 } else { 16 };
        assert!(
            p.csr.row_ptr.windows(2).all(|w| w[1] - w[0] == k),
            "{}: every target has {k} inputs",
            p.name
        );
    }
    assert_eq!(net.n_synapses(), 10_000 * 80);
}

#[test]
fn synaptic_conductances_can_be_recorded_on_both_backends() {
    let text = std::fs::read_to_string(repo_path("configs/cobahh.toml")).unwrap();
    let overrides = [
        "simulation.duration_ms=20",
        "record.traces=[{ population = \"exc\", variables = [\"g_ie\", \"v\", \"g_ee\"], neurons = [0, 5] }]",
    ];
    let (config, net) = parsed(&text, &overrides);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu(&net, &plan), &plan);
    // Sample 0 is the initial g0 drawn for neurons 0 and 5 of ee and ie.
    let ee = net
        .projections
        .iter()
        .find(|p| p.name == "ee")
        .unwrap()
        .event
        .as_ref()
        .unwrap();
    let ie = net
        .projections
        .iter()
        .find(|p| p.name == "ie")
        .unwrap()
        .event
        .as_ref()
        .unwrap();
    assert_eq!(a.traces[0][0][..2], [ie.g0[0] as f32, ie.g0[5] as f32]);
    assert_eq!(a.traces[0][2][..2], [ee.g0[0] as f32, ee.g0[5] as f32]);
    // g to f32 rounding; V through the spike upstrokes, where the GPU's exp moves it most.
    for (var, tolerance) in [(0, 1e-3), (1, 0.1), (2, 1e-3)] {
        for (x, y) in a.traces[0][var].iter().zip(&b.traces[0][var]) {
            assert!(
                (x - y).abs() <= tolerance * x.abs().max(1.0),
                "variable {var}: cpu {x} gpu {y}"
            );
        }
    }
    // Without input g decays by e^(−dt/τ) per step; inputs only ever add.
    let g_ie = &a.traces[0][0];
    let decay = (-0.1f32 / 10.0).exp();
    assert!(g_ie
        .chunks(2)
        .zip(g_ie.chunks(2).skip(1))
        .all(|(p, n)| n[0] >= p[0] * decay - 1e-3));

    // In the output file g has the target model's units.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.h5");
    let req = ganglion::app::RunRequest {
        config: repo_path("configs/cobahh.toml"),
        overrides: overrides
            .iter()
            .map(|s| s.to_string())
            .chain(["simulation.backend=\"cpu\"".to_string()])
            .collect(),
        output: Some(out.clone()),
        ..Default::default()
    };
    ganglion::app::run(&req).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    let ds = f.dataset("report/exc/g_ee/data").unwrap();
    assert_eq!(ds.shape(), vec![200, 2]);
    let units: hdf5::types::VarLenUnicode = ds.attr("units").unwrap().read_scalar().unwrap();
    assert_eq!(units.as_str(), "nS");

    // An unknown g is named.
    let err = ganglion::config::parse(
        &text,
        &["record.traces=[{ population = \"exc\", variables = [\"g_ei\"] }]".into()],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("g_ei") && err.contains("g_ee") && err.contains("g_ie"),
        "{err}"
    );
}

/// Noisy HH neurons coupled by the graded synapse that also take event-driven conductances
/// from LIF drivers: one population with both kinds of input.
pub const GRADED_AND_EVENTS: &str = r#"
[simulation]
dt_ms = 0.01
duration_ms = 20.0
seed = 5

[populations.hh]
model = "hh"
size = 50
params = { i_ext = 5.0, noise_sigma = 2.0 }
init = { v = { uniform = [-70.0, -60.0] } }

[populations.drive]
model = "lif"
size = 30
params = { input = { noise = { mean = 0.3, sigma = 2.0 } }, t_ref = 1.0 }

[projections.hh_hh]
source = "hh"
target = "hh"
synapse = "graded"
params = { v_rev = 20.0, w = 1.0 }
weight = { uniform = [0.0, 0.02] }
connectivity = { rule = "fixed_indegree", k = 10, autapses = false }

[projections.drive_hh]
source = "drive"
target = "hh"
synapse = "exp_cond"
params = { tau_ms = 3.0, e_rev = 0.0, delay_ms = 0.2 }
weight = { uniform = [0.0, 0.05] }
connectivity = { rule = "fixed_probability", p = 0.3 }

[record]
spikes = ["hh", "drive"]
traces = [{ population = "hh", variables = ["v", "g_drive_hh"], neurons = "all" }]
"#;

#[test]
fn delivering_events_in_a_dispatch_of_their_own_changes_nothing_bit_for_bit() {
    let cases = [
        ("cobahh", shipped("cobahh.toml", &["simulation.duration_ms=25"])),
        ("graded and events", parsed(GRADED_AND_EVENTS, &[])),
    ];
    for (name, (config, net)) in cases {
        let plan = RecordPlan::from_config(&config);
        let mut inside = gpu_backend_delivering(&net, &plan, EventDelivery::InUpdate);
        let mut separate = gpu_backend_delivering(&net, &plan, EventDelivery::Separate);
        assert!(!inside.info().device.contains("delivered separately"), "{name}");
        assert!(separate.info().device.contains("events delivered separately"), "{name}");
        let a = run_in_memory(&net, &mut inside, &plan);
        let b = run_in_memory(&net, &mut separate, &plan);
        let c = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
        for (p, trains) in a.spikes.iter().enumerate() {
            assert!(trains.len() > 20, "{name}: population {p} fires ({})", trains.len());
        }
        // The same operations on the same values, the sum stored once in between.
        assert_eq!(a.spikes, b.spikes, "{name}");
        assert_eq!(a.traces, b.traces, "{name}");
        assert_eq!(inside.read_state().unwrap(), separate.read_state().unwrap(), "{name}");
        assert_eq!(b.spikes, c.spikes, "{name}: GPU vs CPU");
    }
}
