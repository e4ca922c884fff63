//! The Hodgkin–Huxley network on the CPU reference backend.


use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::record::RecordPlan;
use ganglion::Error;

#[test]
fn single_neuron_fires_at_the_classic_rate_for_10_ua() {
    // One uncoupled neuron, I_ext = 10 µA/cm², dt = 0.01 ms: the textbook tonic rate is ~68 Hz.
    let (_, net) = shipped(
        "hh_pair.toml",
        &[
            "populations.hh.size=1",
            "projections={}",
            "simulation.duration_ms=500",
        ],
    );
    let plan = RecordPlan::all_spikes(&net);
    let rec = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let rate = rate_from_isi(&rec.spike_times(0, 0, net.dt_ms), 100.0);
    assert!((rate - 68.0).abs() < 0.03 * 68.0, "rate {rate:.2} Hz");
}

#[test]
fn the_seed_pair_fires_regularly_with_gates_in_the_unit_interval() {
    let (config, net) = shipped("hh_pair.toml", &[]);
    let plan = RecordPlan::from_config(&config);
    let rec = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    for neuron in 0..2 {
        let times = rec.spike_times(0, neuron, net.dt_ms);
        assert!(
            (60..=80).contains(&times.len()),
            "neuron {neuron}: {} spikes in 1 s",
            times.len()
        );
        let isis: Vec<f64> = times.windows(2).skip(5).map(|w| w[1] - w[0]).collect();
        let mean = isis.iter().sum::<f64>() / isis.len() as f64;
        let sd = (isis.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / isis.len() as f64).sqrt();
        assert!(
            sd / mean < 0.02,
            "neuron {neuron}: irregular firing, CV {}",
            sd / mean
        );
    }
    // Variables in recorded order v, m, h, n, s.
    let v = &rec.traces[0][0];
    assert!(
        v.iter().all(|&x| (-90.0..=60.0).contains(&x)),
        "V left the physiological range"
    );
    for (name, samples) in ["m", "h", "n", "s"].iter().zip(&rec.traces[0][1..]) {
        assert_eq!(samples.len(), 2 * net.n_steps as usize);
        assert!(
            samples.iter().all(|&x| (0.0..=1.0).contains(&x)),
            "{name} left [0, 1]"
        );
    }
}

#[test]
fn f32_and_f64_spike_times_agree_over_200_ms() {
    let (_, net) = shipped("hh_pair.toml", &["simulation.duration_ms=200"]);
    let plan = RecordPlan::all_spikes(&net);
    let a = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let b = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    for neuron in 0..2 {
        let (ta, tb) = (
            a.spike_times(0, neuron, net.dt_ms),
            b.spike_times(0, neuron, net.dt_ms),
        );
        assert_eq!(ta.len(), tb.len(), "neuron {neuron}: spike counts differ");
        for (x, y) in ta.iter().zip(&tb) {
            assert!(
                (x - y).abs() <= 2.0 * net.dt_ms + 1e-9,
                "neuron {neuron}: {x} ms vs {y} ms"
            );
        }
    }
}

#[test]
fn gates_stay_in_the_unit_interval_with_plain_euler_and_a_coarse_step() {
    let (config, net) = shipped(
        "hh_pair.toml",
        &[
            "populations.hh.params.integrator=\"euler\"",
            "simulation.dt_ms=0.05",
            "simulation.duration_ms=100",
        ],
    );
    let plan = RecordPlan::from_config(&config);
    let rec = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    for samples in &rec.traces[0][1..] {
        assert!(samples.iter().all(|&x| (0.0..=1.0).contains(&x)));
    }
}

#[test]
fn noise_is_identical_whatever_the_thread_count() {
    // 5000 neurons: above the size at which the CPU backend goes parallel.
    let (_, net) = shipped(
        "hh_ring_1k.toml",
        &[
            "populations.hh.size=5000",
            "simulation.duration_ms=20",
            "simulation.precision=\"f64\"",
        ],
    );
    let plan = RecordPlan::all_spikes(&net);
    let run_with = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut b = CpuBackend::<f64>::new(&net);
            let rec = run_in_memory(&net, &mut b, &plan);
            (
                rec.spikes,
                ganglion::backend::Backend::read_state(&mut b).unwrap(),
            )
        })
    };
    let (one, two) = (run_with(1), run_with(2));
    assert!(
        !one.0[0].is_empty(),
        "the noisy network should spike within 20 ms"
    );
    assert_eq!(one, two);
}

#[test]
fn noise_changes_with_the_seed_and_moves_the_voltage() {
    let text = std::fs::read_to_string(repo_path("configs/hh_ring_1k.toml")).unwrap();
    let state = |overrides: &[&str]| {
        let (_, net) = parsed(&text, overrides);
        let mut b = CpuBackend::<f64>::new(&net);
        run_in_memory(&net, &mut b, &RecordPlan::none(&net));
        ganglion::backend::Backend::read_state(&mut b).unwrap()[0][0].clone()
    };
    let base = ["simulation.duration_ms=1", "populations.hh.init.v=-65.0"];
    let quiet = state(&[base[0], base[1], "populations.hh.params.noise_sigma=0"]);
    let seed1 = state(&base);
    let seed2 = state(&[base[0], base[1], "simulation.seed=2"]);
    assert!(
        quiet.windows(2).all(|w| w[0] == w[1]),
        "without noise identical neurons stay identical"
    );
    assert!(
        seed1.windows(2).any(|w| w[0] != w[1]),
        "noise must differ between neurons"
    );
    assert_ne!(seed1, seed2);
}

#[test]
fn a_diverging_network_stops_with_an_error_naming_population_and_neuron() {
    let (_, net) = shipped(
        "hh_pair.toml",
        &["simulation.dt_ms=2.0", "populations.hh.params.i_ext=1e6"],
    );
    let mut b = CpuBackend::<f32>::new(&net);
    let mut sink = ganglion::simulator::NullSink;
    let err = ganglion::simulator::run(
        &net,
        &mut b,
        &RecordPlan::none(&net),
        &mut sink,
        &Default::default(),
    )
    .unwrap_err();
    match &err {
        Error::Diverged { population, .. } => assert_eq!(population, "hh"),
        other => panic!("expected divergence, got {other}"),
    }
    assert!(err.to_string().contains("neuron"), "{err}");
}
