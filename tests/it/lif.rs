//! The leaky integrate-and-fire model: the Neuromatch tutorial's numbers, the analytic rate,
//! refractoriness, and GPU against CPU.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::gpu::GpuBackend;
use ganglion::config::Config;
use ganglion::model::lif;
use ganglion::record::RecordPlan;

/// `x` as Python's f"{x:.4e}" prints it (at least two exponent digits).
fn printed(x: f64) -> String {
    let s = format!("{x:.4e}");
    let (mantissa, exp) = s.split_once('e').unwrap();
    let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// The LIF parameters of the config's first population, as the model reads them.
fn lif_params(config: &Config) -> lif::LifParams {
    let (name, pop) = config.populations.iter().next().unwrap();
    ganglion::model::read_params(name, &pop.params).unwrap()
}

fn tutorial_params() -> lif::LifParams {
    lif_params(&shipped("lif_tutorial.toml", &[]).0)
}

#[test]
fn the_tutorial_sinusoid_is_reproduced_to_the_printed_digits() {
    // The tutorial prints i_mean * (1 + sin(2π t / 0.01)) in amperes for its first ten steps.
    let tutorial = [
        "2.5000e-10",
        "3.9695e-10",
        "4.8776e-10",
        "4.8776e-10",
        "3.9695e-10",
        "2.5000e-10",
        "1.0305e-10",
        "1.2236e-11",
        "1.2236e-11",
        "1.0305e-10",
    ];
    let c = tutorial_params().consts::<f64>(1.0);
    for (k, want) in tutorial.iter().enumerate() {
        let i_na = lif::input_current(&c, k as f64, 0.0);
        assert_eq!(printed(i_na * 1e-9), *want, "step {k}");
    }
}

#[test]
fn the_tutorial_euler_voltages_are_reproduced_until_threshold() {
    // v = v + dt/tau (el − v + r i), printed in volts; the fifth step reaches −50 mV and spikes.
    let tutorial = [
        "-5.8750e-02",
        "-5.6828e-02",
        "-5.4548e-02",
        "-5.2381e-02",
        "-5.0778e-02",
    ];
    let (config, net) = shipped("lif_tutorial.toml", &[]);
    let plan = RecordPlan::from_config(&config);
    let rec = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let v = &rec.traces[0][0];
    // Sample k is the state at t_k: sample k+1 is the voltage after step k.
    for (k, want) in tutorial.iter().enumerate() {
        assert_eq!(printed(v[k + 1] as f64 * 1e-3), *want, "after step {k}");
    }
    assert_eq!(
        rec.spikes[0][0].step, 5,
        "the sixth step crosses −50 mV (−49.989 mV)"
    );
    assert_eq!(v[6], -70.0, "and resets");
}

#[test]
fn the_firing_rate_for_constant_input_matches_the_analytic_rate() {
    for (i, t_ref, integrator) in [
        (0.3, 2.0, "exact"),
        (0.25, 0.0, "exact"),
        (0.5, 5.0, "exact"),
        (0.3, 2.0, "euler"),
    ] {
        let dt = 0.05;
        let overrides = [
            "populations.lif.params.input={ constant = 0.0 }".to_string(),
            format!("populations.lif.params.input.constant={i}"),
            format!("populations.lif.params.t_ref={t_ref}"),
            format!("populations.lif.params.integrator=\"{integrator}\""),
            format!("simulation.dt_ms={dt}"),
            "simulation.duration_ms=2000".to_string(),
        ];
        let o: Vec<&str> = overrides.iter().map(|s| s.as_str()).collect();
        let (config, net) = shipped("lif_tutorial.toml", &o);
        let plan = RecordPlan::all_spikes(&net);
        let rec = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
        let times = rec.spike_times(0, 0, dt);
        let isi = (times[times.len() - 1] - times[0]) / (times.len() - 1) as f64;
        let theory = 1000.0 / lif::analytic_rate(&lif_params(&config), i);
        // The exact scheme resolves the crossing to one step; forward Euler adds its O(dt) error.
        let tolerance = if integrator == "exact" { dt } else { 3.0 * dt };
        assert!(
            (isi - theory).abs() <= tolerance,
            "I = {i} nA, t_ref = {t_ref}, {integrator}: ISI {isi} ms vs {theory} ms"
        );
    }
}

#[test]
fn refractoriness_holds_v_at_reset() {
    let (config, net) = shipped(
        "lif_tutorial.toml",
        &[
            "populations.lif.params.t_ref=5",
            "populations.lif.params.input={ constant = 0.5 }",
            "simulation.duration_ms=60",
        ],
    );
    let plan = RecordPlan::from_config(&config);
    let rec = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let first = rec.spikes[0][0].step as usize;
    let v = &rec.traces[0][0];
    // Reset at t_(k+1), then held for five more steps.
    assert!(
        v[first + 1..=first + 6].iter().all(|&x| x == -70.0),
        "{:?}",
        &v[first..first + 8]
    );
    assert!(v[first + 7] > -70.0);
}

#[test]
fn the_gpu_reproduces_the_tutorial_neuron_and_the_noisy_ensemble() {
    let (config, net) = shipped("lif_tutorial.toml", &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let mut g = gpu_backend(&net, &plan);
    let b = run_in_memory(&net, &mut g, &plan);
    assert_eq!(a.spikes, b.spikes);
    for (x, y) in a.traces[0][0].iter().zip(&b.traces[0][0]) {
        assert!((x - y).abs() < 1e-3, "{x} vs {y}");
    }

    let (config, net) = shipped("lif_noisy_1k.toml", &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let mut g = GpuBackend::with_plan(&net, &plan, None).unwrap();
    let b = run_in_memory(&net, &mut g, &plan);
    let counts = |s: &[ganglion::record::Spike]| {
        let mut c = vec![0i64; 1000];
        s.iter().for_each(|x| c[x.neuron as usize] += 1);
        c
    };
    let (ca, cb) = (counts(&a.spikes[0]), counts(&b.spikes[0]));
    assert!(ca.iter().sum::<i64>() > 1000, "the noisy ensemble fires");
    assert!(ca.iter().zip(&cb).all(|(x, y)| (x - y).abs() <= 1));
    let same = ca.iter().zip(&cb).filter(|(x, y)| x == y).count();
    assert!(same >= 990, "{same} of 1000 neurons with identical counts");
}
