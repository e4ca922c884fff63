//! Synapses with state (clock-driven and event-driven equations, on_pre and on_post) and
//! Poisson inputs, on both backends.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::Backend;
use ganglion::config::GpuCoupling;
use ganglion::record::RecordPlan;

/// Spike sources that each fire once, at their own time, through a synapse model `stdp`
/// (pair-based, additive, no bounds) onto one source firing once at `t_post`.
fn pairing(t_pre_ms: &[f64], t_post_ms: f64, dt_ms: f64) -> String {
    let list = |ts: &[f64]| ts.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
    format!(
        r#"
[simulation]
dt_ms = {dt_ms}
duration_ms = 100.0
[populations.pre]
model = "spike_source"
size = {n}
params = {{ indices = [{indices}], times = [{pre}] }}
[populations.post]
model = "spike_source"
size = 1
params = {{ indices = [0], times = [{post}] }}
[synapse_models.stdp]
model = '''
w : 1
dApre/dt = -Apre/taupre : 1 (event-driven)
dApost/dt = -Apost/taupost : 1 (event-driven)
'''
on_pre = '''
Apre += dApre
w = w + Apost
'''
on_post = '''
Apost += dApost
w = w + Apre
'''
namespace = {{ taupre = "20*ms", taupost = "30*ms", dApre = 0.01, dApost = -0.012 }}
[projections.S]
source = "pre"
target = "post"
synapse = "stdp"
connectivity = {{ rule = "all_to_all" }}
init = {{ w = 0.5 }}
"#,
        n = t_pre_ms.len(),
        indices = (0..t_pre_ms.len()).map(|k| k.to_string()).collect::<Vec<_>>().join(", "),
        pre = list(t_pre_ms),
        post = list(&[t_post_ms]),
    )
}

/// Where a test runs a network.
#[derive(Clone, Copy)]
enum On {
    Gpu,
    Cpu64,
    Cpu32,
}

/// `net`'s first projection's synaptic variables at the end of its run on the CPU (f64).
fn synapses_after_net(config: &ganglion::config::Config, net: &ganglion::network::Network) -> Vec<Vec<f64>> {
    let plan = RecordPlan::from_config(config);
    run_in_memory(net, &mut CpuBackend::<f64>::new(net), &plan).synapses[0].clone().expect("the projection has variables")
}

/// The first projection's synaptic variables at the end of `text`'s run with `overrides`.
fn synapses_after(text: &str, overrides: &[&str], on: On) -> Vec<Vec<f64>> {
    let (config, net) = parsed(text, overrides);
    let plan = RecordPlan::from_config(&config);
    let sink = match on {
        On::Gpu => run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan),
        On::Cpu64 => run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan),
        On::Cpu32 => run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan),
    };
    sink.synapses[0].clone().expect("the projection has variables")
}

/// Each config of `cases` is refused with an error holding every one of its parts (the key,
/// the line, what is wrong).
fn assert_refused<P: AsRef<str>>(cases: impl IntoIterator<Item = (String, Vec<P>)>) {
    for (text, parts) in cases {
        let e = ganglion::config::parse(&text, &[]).expect_err("refused").to_string();
        for p in parts {
            assert!(e.contains(p.as_ref()), "`{}` not in: {e}", p.as_ref());
        }
    }
}

fn final_synapses(text: &str, gpu: bool) -> Vec<Vec<f64>> {
    synapses_after(text, &[], if gpu { On::Gpu } else { On::Cpu64 })
}

#[test]
fn a_pairing_changes_the_weight_by_the_stdp_window_on_both_backends() {
    let t_post = 50.0;
    let t_pre = [10.0, 30.0, 45.0, 49.0, 50.0, 51.0, 55.0, 70.0, 95.0];
    let text = pairing(&t_pre, t_post, 0.1);
    for gpu in [false, true] {
        let s = final_synapses(&text, gpu);
        let w = &s[0];
        for (k, &tp) in t_pre.iter().enumerate() {
            let delta = t_post - tp;
            // Pre before post (or in the same step, where Brian2 runs the pre pathway first):
            // the post spike adds A_pre·e^(−Δt/τ_pre); after: the pre spike adds A_post·e^(Δt/τ_post).
            let expected = if delta >= 0.0 {
                0.01 * (-delta / 20.0).exp()
            } else {
                -0.012 * (delta / 30.0).exp()
            };
            let tolerance = if gpu { 1e-7 } else { 1e-12 };
            assert!(
                ((w[k] - 0.5) - expected).abs() < tolerance,
                "gpu {gpu}, Δt = {delta} ms: Δw = {}, window {expected}",
                w[k] - 0.5
            );
        }
    }
}

#[test]
fn a_plastic_run_with_spike_sources_gives_the_same_weights_on_both_backends() {
    // Many pairings at once, each pre source firing once around the post spike. The spikes are
    // the same; the weights agree to the last bits of `exp`, which WGSL does not round
    // correctly (its accuracy is 3 + 2|x| ULP; lavapipe's differs from Rust's by one ULP on
    // 2 of these 200 decays).
    let t_pre: Vec<f64> = (0..200).map(|k| 5.0 + 0.45 * k as f64).collect();
    let text = pairing(&t_pre, 50.0, 0.1).replace("[simulation]", "[simulation]\nprecision = \"f32\"");
    let (config, net) = parsed(&text, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let (wc, wg) = (&cpu.synapses[0].as_ref().unwrap()[0], &gpu.synapses[0].as_ref().unwrap()[0]);
    assert!(wc.iter().filter(|&&w| w != 0.5).count() > 150, "the weights learn");
    for (k, (a, b)) in wc.iter().zip(wg).enumerate() {
        let ulps = ((*a as f32).to_bits() as i64 - (*b as f32).to_bits() as i64).abs();
        assert!(ulps <= 2, "synapse {k}: CPU {a}, GPU {b} ({ulps} ULP apart)");
    }
}

#[test]
fn event_driven_traces_take_their_exact_values_at_each_spike() {
    // One source firing every 9 steps of 0.125 ms (steps 8, 17, 26, …): at each of its spikes
    // the trace is brought to now, A ← A·e^(−9 dt/τ), then incremented.
    let text = r#"
[simulation]
dt_ms = 0.125
duration_ms = 4.0
[models.clock]
equations = "dv/dt = 1/ms : 1"
threshold = "v > 1"
reset = "v = 0"
[models.sink]
equations = "x : 1"
[synapse_models.trace]
model = '''
dA/dt = -A/tau : 1 (event-driven)
dB/dt = (1 - B)/tau : 1 (event-driven)
'''
on_pre = '''
A += 1
B = B/2
'''
namespace = { tau = "2*ms" }
[populations.src]
model = "clock"
size = 1
[populations.dst]
model = "sink"
size = 1
[projections.link]
source = "src"
target = "dst"
synapse = "trace"
connectivity = { rule = "all_to_all" }
"#;
    // Spikes at steps 8, 17, 26 (4 ms = 32 steps); the variables as of the last one.
    let e = (-9.0 * 0.125 / 2.0f64).exp();
    let a = ((1.0 * e) + 1.0) * e + 1.0;
    // B relaxes to 1: B(Δ) = 1 + (B0 − 1)·e^(−Δ/τ); from 0 over 8 steps, halved at each spike.
    let e8 = (-8.0 * 0.125 / 2.0f64).exp();
    let relax = |b: f64, e: f64| 1.0 + (b - 1.0) * e;
    let b = relax(relax(relax(0.0, e8) / 2.0, e) / 2.0, e) / 2.0;
    for gpu in [false, true] {
        let s = final_synapses(text, gpu);
        let tolerance = if gpu { 1e-6 } else { 1e-12 };
        assert!((s[0][0] - a).abs() < tolerance, "gpu {gpu}: A = {}, expected {a}", s[0][0]);
        assert!((s[1][0] - b).abs() < tolerance, "gpu {gpu}: B = {}, expected {b}", s[1][0]);
        assert_eq!(s[2][0], 26.0, "the last update's step");
    }
}

/// Three sources (x = 0.25·i − 0.1) onto one target (x = 0.4), synapse model `relax` with
/// the equation `model` and the `method` line `method`, y = 0.5·i − 0.3, 10 ms of 0.1 ms.
fn clock_driven(model: &str, method: &str) -> String {
    format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 10.0
[models.still]
equations = "x : 1"
[synapse_models.relax]
model = "{model}"
{method}
namespace = {{ tau = "2*ms" }}
[populations.pre]
model = "still"
size = 3
init = {{ x = "0.25*i - 0.1" }}
[populations.post]
model = "still"
size = 1
init = {{ x = 0.4 }}
[projections.link]
source = "pre"
target = "post"
synapse = "relax"
connectivity = {{ rule = "all_to_all" }}
init = {{ y = "0.5*i - 0.3" }}
"#
    )
}

/// Brian2 2.9.0 (numpy target): the final y of each synapse of `clock_driven`, from
/// `Synapses(pre, post, model, method)` with the same values, connect(), run(10*ms), as
/// tests/brian2/clock_driven_methods.py prints them.
const NONLINEAR: &str = "dy/dt = (x_post + x_pre - y**3)/tau + sin(2*pi*t/(3*ms))/tau : 1 (clock-driven)";
const BRIAN2_EULER: [f64; 3] = [0.7829802025110844, 0.9672058705198523, 1.0888069949739294];
const BRIAN2_RK2: [f64; 3] = [0.7958852279947757, 0.9725985487782093, 1.088472929416899];
const BRIAN2_RK4: [f64; 3] = [0.7958452890873806, 0.9724547371545482, 1.088415372716425];
/// `dy/dt = (x_post - y)/tau`, which Brian2 integrates by `exact` unless told otherwise
/// (x_post is constant over a step): flagged clock-driven or unflagged.
const BRIAN2_LINEAR: [f64; 3] = [0.3952834371006396, 0.3986524106001825, 0.4020213840997252];

#[test]
fn clock_driven_synaptic_variables_integrate_by_brian2s_methods_on_both_backends() {
    let linear = "dy/dt = (x_post - y)/tau : 1";
    let cases = [
        (clock_driven(NONLINEAR, "method = \"euler\""), BRIAN2_EULER),
        // Brian2's default for a non-linear equation is euler.
        (clock_driven(NONLINEAR, ""), BRIAN2_EULER),
        (clock_driven(NONLINEAR, "method = \"rk2\""), BRIAN2_RK2),
        (clock_driven(NONLINEAR, "method = \"rk4\""), BRIAN2_RK4),
        (clock_driven(&format!("{linear} (clock-driven)"), ""), BRIAN2_LINEAR),
        (clock_driven(linear, ""), BRIAN2_LINEAR),
        (clock_driven(linear, "method = \"exact\""), BRIAN2_LINEAR),
    ];
    for (text, expected) in &cases {
        for gpu in [false, true] {
            let s = final_synapses(text, gpu);
            // f32 over 100 steps of a sine of t on the GPU; f64 on the CPU.
            let tolerance = if gpu { 2e-5 } else { 1e-12 };
            for (y, e) in s[0].iter().zip(expected) {
                assert!((y - e).abs() < tolerance, "gpu {gpu}: {y} vs Brian2's {e} for\n{text}");
            }
        }
    }
    // Euler on the linear equation is not exact: the method is what changes the numbers.
    let euler = final_synapses(&clock_driven(linear, "method = \"euler\""), false);
    let y0 = [-0.3, 0.2, 0.7];
    for ((y, e), y0) in euler[0].iter().zip(BRIAN2_LINEAR).zip(y0) {
        let expected = 0.4 + (y0 - 0.4) * (1.0 - 0.1 / 2.0f64).powi(100);
        assert!((y - expected).abs() < 1e-12 && (y - e).abs() > 1e-5, "{y} {expected} {e}");
    }
}

/// Brian2 2.9.0 (numpy target), tests/brian2/coupled_exact.py: g and h of an alpha-function
/// synapse (clock-driven, coupled, `exact` by default) from two sources after 20 ms.
const BRIAN2_ALPHA: [[f64; 2]; 2] = [[0.05107150593057829, 0.22377442318661564], [0.010066051826048946, 0.07880493116678125]];

#[test]
fn a_coupled_clock_driven_synapse_is_integrated_exactly_as_brian2_does() {
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
[models.still]
equations = "x : 1"
[synapse_models.alpha]
model = '''
dg/dt = (h - g)/tau : 1 (clock-driven)
dh/dt = -h/tau : 1 (clock-driven)
'''
on_pre = "h += 1"
namespace = { tau = "3*ms" }
[populations.inputs]
model = "spike_source"
size = 2
params = { indices = [0, 1, 0, 1], times = [1.0, 5.0, 5.5, 12.0] }
[populations.post]
model = "still"
size = 1
[projections.link]
source = "inputs"
target = "post"
synapse = "alpha"
connectivity = { rule = "all_to_all" }
"#;
    for (on, tolerance) in [(On::Cpu64, 1e-13), (On::Gpu, 1e-6)] {
        let s = synapses_after(text, &[], on);
        for (var, brian2) in BRIAN2_ALPHA.iter().enumerate() {
            for (x, b) in s[var].iter().zip(brian2) {
                assert!((x - b).abs() < tolerance, "variable {var}: {x}, Brian2 {b}");
            }
        }
    }
}

#[test]
fn bad_clock_driven_methods_are_refused_with_the_key() {
    let cases = [
        (clock_driven(NONLINEAR, "method = \"exact\""), vec!["synapse_models.relax.method", "not linear in y (exact needs"]),
        (clock_driven(NONLINEAR, "method = \"milstein\""), vec!["synapse_models.relax.method", "unknown method `milstein`"]),
        (
            clock_driven(NONLINEAR, "method = \"exponential_euler\""),
            vec!["synapse_models.relax.method", "not linear in y"],
        ),
        (
            clock_driven("dy/dt = (x_post - y)/tau : 1 (clock-driven, event-driven)", ""),
            vec!["synapse_models.relax.model", "not both"],
        ),
        (
            clock_driven("dy/dt = (z - y)/tau : 1 (clock-driven)\\ndz/dt = -z/tau : 1 (event-driven)", ""),
            vec!["synapse_models.relax.model", "line 1", "clock-driven variable `y`", "event-driven variable `z`"],
        ),
        // Draws as Brian2 takes them: noise in clock-driven equations, rand() there and in
        // summed variables.
        (
            clock_driven("x_post = xi*sqrt(ms) : 1 (summed)", ""),
            vec!["synapse_models.relax.model", "line 1", "`xi` in x_post", "noise and random numbers go in differential equations"],
        ),
        (
            clock_driven("u = rand() : 1\\nx_post = u : 1 (summed)", ""),
            vec!["synapse_models.relax.model", "line 1", "`rand()` in u", "not in a subexpression"],
        ),
        (
            clock_driven("dz/dt = -z/tau + xi/sqrt(tau) : 1 (event-driven)", ""),
            vec!["synapse_models.relax.model", "line 1", "dz/dt is event-driven", "cannot draw `xi`"],
        ),
        (
            clock_driven("dz/dt = (randn() - z)/tau : 1 (event-driven)", ""),
            vec!["synapse_models.relax.model", "cannot draw `randn()`"],
        ),
        (
            clock_driven("dy/dt = -y/tau + xi**2*ms/tau : 1 (clock-driven)", ""),
            vec!["synapse_models.relax.model", "must enter linearly"],
        ),
        (
            clock_driven("dy/dt = -y/tau + xi/sqrt(tau) : 1 (clock-driven)", "method = \"rk4\""),
            vec!["synapse_models.relax.method", "rk4 cannot integrate stochastic equations"],
        ),
        (
            clock_driven("dy/dt = -y/tau + y*xi/sqrt(tau) : 1 (clock-driven)", "method = \"euler\""),
            vec!["synapse_models.relax.method", "multiplicative noise"],
        ),
        (
            clock_driven("y : 1", "on_pre = \"y += xi*sqrt(ms)\""),
            vec!["synapse_models.relax.on_pre", "noise `xi` belongs in a differential equation"],
        ),
        (
            clock_driven("x_post = 2*z : 1 (summed)\\ndz/dt = -z/tau : 1 (event-driven)", ""),
            vec!["synapse_models.relax.model", "line 1", "summed variable `x_post`", "event-driven variable `z`"],
        ),
        (
            clock_driven("dy/dt = (z - y)/tau2 : 1 (clock-driven)\\ndz/dt = (y - z)/tau : 1 (clock-driven)\\ntau2 : second", ""),
            vec!["synapse_models.relax.method", "coupled linear system", "not all numbers"],
        ),
    ];
    assert_refused(cases);
}

/// 100 sources onto 50 targets, all to all: 5000 synapses whose clock-driven equations draw
/// white noise (additive in y, multiplicative in m, so heun for all three, Brian2's choice)
/// and a uniform (z), and a summed variable drawing a uniform per synapse (x), over 50 ms.
const NOISY: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 50.0
[models.still]
equations = "x : 1"
[synapse_models.noisy]
model = '''
dy/dt = -y/tau + sigma*sqrt(2/tau)*xi : 1 (clock-driven)
dm/dt = -m/tau_m + s*m*xi_m/sqrt(tau_m) : 1 (clock-driven)
dz/dt = (rand() - z)/tau : 1 (clock-driven)
x_post = w*rand() : 1 (summed)
w : 1
'''
namespace = { tau = "5*ms", sigma = 0.5, tau_m = "20*ms", s = 0.5 }
[populations.pre]
model = "still"
size = 100
[populations.post]
model = "still"
size = 50
[projections.link]
source = "pre"
target = "post"
synapse = "noisy"
connectivity = { rule = "all_to_all" }
init = { w = 2.0, m = 1.0 }
[record]
traces = [{ population = "post", variables = ["x"], neurons = "all" }]
"#;

/// Brian2 2.9.0 (numpy target), tests/brian2/synapse_noise.py: the mean and sample variance
/// of y, m and z over 20 000 synapses of `NOISY`'s model after 50 ms, and of x over 99 800
/// of its sums.
const BRIAN2_NOISY: [(&str, f64, f64, usize); 4] = [
    ("y", -0.004233711849503952, 0.2530367611079099, 20_000),
    ("m", 0.11146269680028809, 0.010451676001995711, 20_000),
    ("z", 0.5000087094925033, 0.0008392323701130768, 20_000),
    ("x", 100.01025452612767, 33.38131212674497, 99_800),
];

/// Mean, sample variance and the standard errors of both (the variance's from the fourth
/// central moment, for samples far from normal such as m's).
fn moments(v: &[f64]) -> (f64, f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = v.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    (mean, var, (var / n).sqrt(), ((m4 - var * var) / n).sqrt())
}

#[test]
fn synapse_equations_draw_noise_and_random_numbers_as_brian2s_on_both_backends() {
    let (config, net) = parsed(NOISY, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let cpu32 = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    // Each sample of x after the first step's.
    let sums = |sink: &ganglion::simulator::MemorySink| -> Vec<f64> { sink.traces[0][0][50..].iter().map(|&x| x as f64).collect() };
    let values = |sink: &ganglion::simulator::MemorySink, k: usize| -> Vec<f64> {
        if k == 3 {
            sums(sink)
        } else {
            sink.synapses[0].clone().unwrap()[k].clone()
        }
    };
    for (k, (name, mean, var, n)) in BRIAN2_NOISY.iter().enumerate() {
        let ours = values(&cpu, k);
        let (m, v, se_m, se_v) = moments(&ours);
        // Brian2's own sampling error, scaled from ours by the sizes.
        let both = (1.0 + ours.len() as f64 / *n as f64).sqrt();
        assert!((m - mean).abs() < 5.0 * se_m * both, "{name}: mean {m}, Brian2's {mean}");
        assert!((v - var).abs() < 5.0 * se_v * both, "{name}: variance {v}, Brian2's {var}");
        // The uniforms are exact in f32, so what they alone drive is the same number; the
        // normals' logarithm and cosine agree to f32.
        let (a, b) = (values(&cpu32, k), values(&gpu, k));
        if k >= 2 {
            assert_eq!(a, b, "{name}: CPU f32 against the GPU");
        } else {
            let worst = a.iter().zip(&b).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-4, "{name}: CPU f32 and GPU differ by {worst}");
        }
    }
    // Itô's reading of m's equation would decay as e^(−T/τ) = 0.082; Brian2's heun (and so
    // ours) is Stratonovich's, e^(−T/τ (1 − s²/2)) = 0.112.
    let (m, ..) = moments(&values(&cpu, 1));
    assert!((m - (-2.5f64 * 0.875).exp()).abs() < 0.005, "m's mean {m}");
    // Each synapse draws its own numbers: the matrix cut into parts of a few rows draws the
    // same, and another seed draws others.
    let mut parted = gpu_backend_capped(&net, &plan, GpuCoupling::ThreadPerRow, Some(4096));
    let parted = run_in_memory(&net, &mut parted, &plan);
    for (k, (name, ..)) in BRIAN2_NOISY.iter().enumerate() {
        assert_eq!(values(&parted, k), values(&gpu, k), "{name} in parts");
    }
    let (config, other) = parsed(NOISY, &["simulation.seed=2"]);
    let other = run_in_memory(&other, &mut CpuBackend::<f64>::new(&other), &RecordPlan::from_config(&config));
    for (k, (name, ..)) in BRIAN2_NOISY.iter().enumerate() {
        assert_ne!(values(&other, k), values(&cpu, k), "{name} with another seed");
    }
}

/// 50 Poisson sources at 200 Hz onto four targets, all to all: 200 synapses that draw at each
/// spike (release with probability p, two coins, a normal) over 500 ms.
const DRAWING: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 500.0
precision = "f32"
[models.still]
equations = "x : 1"
[synapse_models.unreliable]
model = '''
p : 1
hit : 1
released : 1
sent : 1
both : 1
z : 1
'''
on_pre = '''
hit = 1.0*(rand() < p)
released += hit
sent += 1
both += 1.0*(rand() < 0.5)*(rand() < 0.5)
z += randn()
x_post += hit
'''
[populations.inputs]
model = "poisson"
size = 50
rates = "200*Hz"
[populations.targets]
model = "still"
size = 4
[projections.input]
source = "inputs"
target = "targets"
synapse = "unreliable"
connectivity = { rule = "all_to_all" }
init = { p = 0.25 }
"#;

#[test]
fn statements_draw_per_synapse_and_spike_with_the_same_numbers_on_both_backends() {
    let run = |seed: u64, on: On| synapses_after(DRAWING, &[&format!("simulation.seed={seed}")], on);
    let (cpu, gpu) = (run(1, On::Cpu32), run(1, On::Gpu));
    // p, hit, released, sent, both, z: the releases, their counts and the coins are the same
    // numbers (the uniforms are exact in f32; p = 1/4 is too); the normals agree to f32.
    for k in 0..5 {
        assert_eq!(cpu[k], gpu[k], "variable {k}");
    }
    // The matrix cut into parts of one row (50 synapses) each: every synapse keeps its draws.
    let (config, net) = parsed(DRAWING, &["simulation.seed=1"]);
    let plan = RecordPlan::from_config(&config);
    let mut parted = gpu_backend_capped(&net, &plan, GpuCoupling::ThreadPerRow, Some(1600));
    let parted = run_in_memory(&net, &mut parted, &plan).synapses[0].clone().unwrap();
    assert_eq!(parted, gpu, "in parts");
    let worst = cpu[5].iter().zip(&gpu[5]).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-4, "z differs by {worst}");
    let total = |k: usize| cpu[k].iter().sum::<f64>();
    let sent = total(3);
    assert!((sent / 20_000.0 - 1.0).abs() < 0.05, "{sent} spikes arrived");
    // Released with probability 1/4, and two independent fair coins both heads 1/4 of the time
    // (6 standard deviations).
    for (k, what) in [(2, "released"), (4, "both coins")] {
        let fraction = total(k) / sent;
        assert!((fraction - 0.25).abs() < 6.0 * (0.25 * 0.75 / sent).sqrt(), "{what}: {fraction}");
    }
    // Each synapse's sum of standard normals has the variance of its count.
    let spread = cpu[5].iter().zip(&cpu[3]).map(|(z, n)| z * z / n).sum::<f64>() / 200.0;
    assert!((spread - 1.0).abs() < 0.35, "mean z²/n = {spread}");
    // Another seed, other draws.
    let other = run(2, On::Cpu32);
    assert_ne!(other[2], cpu[2]);
}

#[test]
fn a_sweeps_instances_whose_synapses_draw_batch_and_each_equals_its_own_run() {
    // One seed, the same connections, each instance its own release probability (DRAWING)
    // or its own starting m (NOISY): each synapse draws as in its own run.
    for (text, key) in [(DRAWING, "projections.input.init.p"), (NOISY, "projections.link.init.m")] {
        let nets: Vec<ganglion::network::Network> = ["0.25", "0.5", "0.75"]
            .iter()
            .map(|v| parsed(text, &[&format!("{key}={v}"), "simulation.duration_ms=20"]).1)
            .collect();
        let plans: Vec<RecordPlan> = nets.iter().map(RecordPlan::all_spikes).collect();
        let refs: Vec<&ganglion::network::Network> = nets.iter().collect();
        let merged = ganglion::sweep::batch::merge(&refs, &plans.iter().collect::<Vec<_>>()).expect("the instances merge");
        let all = run_in_memory(&merged.net, &mut gpu_backend(&merged.net, &merged.plan), &merged.plan);
        let merged_synapses = all.synapses[0].clone().unwrap();
        for (k, (net, plan)) in nets.iter().zip(&plans).enumerate() {
            let own = run_in_memory(net, &mut gpu_backend(net, plan), plan);
            let own_synapses = own.synapses[0].clone().unwrap();
            let n = own_synapses[0].len();
            for (var, values) in own_synapses.iter().enumerate() {
                assert_eq!(&merged_synapses[var][k * n..(k + 1) * n], &values[..], "instance {k}, variable {var}");
            }
        }
        // Another seed draws otherwise: no batch.
        let other = parsed(text, &["simulation.seed=9", "simulation.duration_ms=20"]).1;
        let why = ganglion::sweep::batch::merge(&[&nets[0], &other], &[&plans[0], &plans[0]]).err().expect("refused");
        assert!(why.contains("draws random numbers: only instances of one seed and the same connections"), "{why}");
    }
}

/// Brian2 2.9.0 (numpy target), tests/brian2/graupner_brunel.py: rho's mean and sample
/// variance over 10 000 synapses starting DOWN and 10 000 starting UP after 1.2 s.
const BRIAN2_GRAUPNER_BRUNEL: [(f64, f64); 2] = [(0.07183773839878971, 0.0039174088931319155), (0.9419465343514339, 0.0038422456309023883)];

#[test]
fn the_graupner_brunel_example_moves_rho_as_brian2s_does() {
    // Its calcium, thresholds and noise (xi, whose factor reads c: heun) over two pairings,
    // 200 synapses starting DOWN and 200 UP.
    let overrides = [
        "simulation.duration_ms=1200",
        "simulation.backend=\"cpu\"",
        "populations.post.size=400",
        "populations.post.init.tspike=\"110*ms\"",
        "projections.pairing.init.rho=\"1.0*(j >= 200)\"",
    ];
    let (config, net) = shipped("equations/graupner_brunel.toml", &overrides);
    let rho = synapses_after_net(&config, &net)[6].clone();
    for ((m0, v0), half) in BRIAN2_GRAUPNER_BRUNEL.iter().zip(rho.chunks(200)) {
        let (m, v, se_m, se_v) = moments(half);
        let both = (1.0 + 200.0 / 10_000.0f64).sqrt();
        assert!((m - m0).abs() < 5.0 * se_m * both, "mean {m}, Brian2's {m0}");
        assert!((v - v0).abs() < 5.0 * se_v * both, "variance {v}, Brian2's {v0}");
    }
    // It moves: DOWN synapses potentiate, UP ones depress, by more than the noise alone.
    assert!(moments(&rho[..200]).0 > 0.05 && moments(&rho[200..]).0 < 0.96);
}

#[test]
fn the_unreliable_synapses_example_releases_the_same_spikes_on_both_backends() {
    let (config, net) = shipped("equations/unreliable_synapses.toml", &["simulation.duration_ms=300"]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let neurons = config.population_index("neurons").unwrap();
    assert!(!a.spikes[neurons].is_empty(), "the neurons fire");
    assert_eq!(a.spikes, b.spikes);
    let released = |s: &Vec<Vec<f64>>| s[3].iter().sum::<f64>();
    let (ra, rb) = (released(a.synapses[0].as_ref().unwrap()), released(b.synapses[0].as_ref().unwrap()));
    // 1000 inputs at 10 Hz for 0.3 s, two synapses each: about 6000 arrivals, a quarter released.
    assert_eq!(ra, rb);
    assert!((ra / 1500.0 - 1.0).abs() < 0.15, "{ra} releases");
    let report = ganglion::app::check(&repo_path("configs/equations/unreliable_synapses.toml"), &[]).unwrap();
    let said = "synapse `unreliable` written as equations (variables: w [volt], p_release [1], hit [1], released [1]), drawing 1 random stream per synapse and step";
    assert!(report.contains(said), "{report}");
}

/// 2000 counters, each with three PoissonInputs of weight 1: Binomial(1000, 0.002) per step
/// (by inversion), Binomial(1000, 0.006) (Brian2's normal approximation, Np > 5) and
/// Binomial(10, 0.6) (inversion of the complement, p > 1/2), over 1000 steps.
const COUNTED: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 100.0
precision = "f32"
[models.counter]
equations = "few : 1\nmany : 1\nlikely : 1"
[populations.counters]
model = "counter"
size = 2000
[populations.counters.poisson_inputs.few]
variable = "few"
n = 1000
rate = "20*Hz"
weight = "1"
[populations.counters.poisson_inputs.many]
variable = "many"
n = 1000
rate = "60*Hz"
weight = "1"
[populations.counters.poisson_inputs.likely]
variable = "likely"
n = 10
rate = "6*kHz"
weight = "1"
"#;

#[test]
fn poisson_inputs_draw_brian2s_binomial_counts_the_same_on_both_backends() {
    let (config, net) = parsed(COUNTED, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f32>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let mut gpu = gpu_backend(&net, &plan);
    run_in_memory(&net, &mut gpu, &plan);
    let (a, b) = (cpu.read_state().unwrap().remove(0), gpu.read_state().unwrap().remove(0));
    // Counts by inversion are whole numbers, the same on both; the normals agree to f32.
    assert_eq!(a[0], b[0], "few");
    assert_eq!(a[2], b[2], "likely");
    let worst = a[1].iter().zip(&b[1]).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(worst < 0.05, "many differs by {worst}");
    // 1000 steps of Binomial(n, p): mean 1000np, variance 1000np(1 − p).
    for (k, n, p) in [(0, 1000.0, 0.002), (1, 1000.0, 0.006), (2, 10.0, 0.6)] {
        let x = &a[k];
        let mean = x.iter().sum::<f64>() / 2000.0;
        let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 1999.0;
        let (m, v) = (1000.0 * n * p, 1000.0 * n * p * (1.0 - p));
        assert!((mean - m).abs() < 5.0 * (v / 2000.0).sqrt(), "input {k}: mean {mean}, expected {m}");
        assert!((var / v - 1.0).abs() < 0.15, "input {k}: variance {var}, expected {v}");
        if k != 1 {
            assert!(x.iter().all(|c| c.fract() == 0.0), "input {k}: whole counts");
        }
    }
    // The update, and the inputs after the synapses.
    let report = check_text(COUNTED);
    assert!(report.contains("GPU step: 2 dispatches") && report.contains("3 PoissonInputs"), "{report}");
}

#[test]
fn bad_poisson_inputs_are_refused_naming_the_key() {
    let at = "populations.counters.poisson_inputs.few";
    let cases = [
        (COUNTED.replacen("variable = \"few\"", "variable = \"fewer\"", 1), vec![format!("{at}.variable"), "`fewer` is not a variable".into()]),
        (COUNTED.replacen("rate = \"20*Hz\"", "rate = \"20*mV\"", 1), vec![format!("{at}.rate"), "must be in".into()]),
        (COUNTED.replacen("rate = \"20*Hz\"", "rate = \"20*kHz\"", 1), vec![format!("{at}.rate"), "rate·dt is 2".into()]),
        (COUNTED.replacen("rate = \"20*Hz\"", "rate = \"few*Hz\"", 1), vec![format!("{at}.rate"), "must be a constant".into()]),
        (COUNTED.replacen("weight = \"1\"", "weight = \"1*mV\"", 1), vec![format!("{at}.weight"), "dimension".into()]),
        (COUNTED.replacen("n = 1000", "n = 0", 1), vec![format!("{at}.n"), "at least 1".into()]),
        (
            COUNTED.replace("model = \"counter\"\nsize = 2000", "model = \"lif\"\nsize = 2000"),
            vec!["populations.counters.poisson_inputs".into(), "`lif` is built in".into()],
        ),
    ];
    assert_refused(cases);
}

/// Two neurons with two `run_regularly`: `x += 1` every 1 ms and `y = x + i` every 0.5 ms,
/// and a draw every step, recorded every step (tests/brian2/run_regularly.py runs the first two).
const REGULARLY: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 2.1
[models.m]
equations = "x : 1\ny : 1\nnoise : 1"
[populations.p]
model = "m"
size = 2
[populations.p.run_regularly.count]
code = "x += 1"
dt = "1*ms"
[populations.p.run_regularly.copy]
code = "y = x + i"
dt = "0.5*ms"
when = "start"
[populations.p.run_regularly.jitter]
code = "noise = 5*randn()"
[record]
traces = [{ population = "p", variables = ["x", "y", "noise"], neurons = "all" }]
"#;

#[test]
fn run_regularly_runs_at_its_steps_before_the_recording_as_brian2s_on_both_backends() {
    // Brian2 2.9.0 (numpy target), tests/brian2/run_regularly.py: `G.run_regularly("x += 1", dt=1*ms)`, then
    // `G.run_regularly("y = x + i", dt=0.5*ms)` and a StateMonitor recording every step, 21
    // steps: x of neuron 0 and y of neuron 1 (the run_regularly come first in the `start` slot).
    let x0: Vec<f64> = (0..21).map(|k| 1.0 + (k / 10) as f64).collect();
    let y1: Vec<f64> = (0..21).map(|k| 2.0 + (k / 10) as f64).collect();
    let (config, net) = parsed(REGULARLY, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    for sink in [&cpu, &gpu] {
        let trace = &sink.traces[0];
        let at = |var: usize, neuron: usize| -> Vec<f64> { (0..21).map(|k| trace[var][k * 2 + neuron] as f64).collect() };
        assert_eq!(at(0, 0), x0);
        assert_eq!(at(1, 1), y1);
    }
    // A draw every step, the same normals on both backends, of sd 5.
    let (a, b) = (&cpu.traces[0][2], &gpu.traces[0][2]);
    let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "the draws differ by {worst}");
    let sd = (a.iter().map(|x| (x * x) as f64).sum::<f64>() / a.len() as f64).sqrt();
    assert!(sd > 3.0 && sd < 7.0, "sd {sd}");
    // `check` counts the update and the run_regularly due every step (not the others).
    assert!(check_text(REGULARLY).contains("GPU step: 2 dispatches"), "{}", check_text(REGULARLY));
}

/// What `ganglion check` prints for the config `text`.
fn check_text(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    ganglion::app::check(&path, &[]).unwrap()
}

/// A group's run_regularly in three slots and its synapses' at the end, recorded at the end
/// of the step (tests/brian2/run_regularly_slots.py builds the same in Brian2).
const REGULARLY_SLOTS: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 5.0
[models.m]
equations = "dv/dt = (2 - v)/(2*ms) : 1\na : 1\nb : 1\nc : 1"
threshold = "v > 1"
reset = "v = 0"
method = "exact"
[synapse_models.both]
model = "w : 1"
[populations.g]
model = "m"
size = 2
init = { v = "0.4*i" }
[populations.g.run_regularly.after_reset]
code = "a = v"
when = "end"
[populations.g.run_regularly.over_threshold]
code = "b = v"
when = "after_thresholds"
[populations.g.run_regularly.every_half_ms]
code = "c = v"
dt = "0.5*ms"
[projections.s]
source = "g"
target = "g"
synapse = "both"
connectivity = { rule = "all_to_all" }
[projections.s.run_regularly.read]
code = "w = v_post + 10*v_pre"
when = "end"
[record]
traces = [{ population = "g", variables = ["v", "a", "b", "c"], when = "end" }]
"#;

/// Brian2 2.9.0 (numpy target), tests/brian2/run_regularly_slots.py: v, a, b and c at the end
/// of `SLOT_STEPS` (neuron 0 spikes in step 13), and w of synapses (i, j) at the end.
const SLOT_STEPS: [usize; 5] = [0, 7, 13, 20, 49];
const BRIAN2_SLOTS: [&[&[f64]]; 4] = [
    &[
        &[0.09754115099857197, 0.4780329207988576],
        &[0.6593599079287213, 0.9274879263429772],
        &[0.0, 0.36253849384403625],
        &[0.5906238205625731, 0.8461003792390265],
        &[0.6593599079287213, 0.902376727811947],
    ],
    &[
        &[0.09754115099857197, 0.4780329207988576],
        &[0.6593599079287213, 0.9274879263429772],
        &[0.0, 0.36253849384403625],
        &[0.5906238205625731, 0.8461003792390265],
        &[0.6593599079287213, 0.902376727811947],
    ],
    &[
        &[0.09754115099857197, 0.4780329207988576],
        &[0.6593599079287213, 0.9274879263429772],
        &[1.0068293924171807, 0.36253849384403625],
        &[0.5906238205625731, 0.8461003792390265],
        &[0.6593599079287213, 0.902376727811947],
    ],
    &[
        &[0.0, 0.4],
        &[0.44239843385719024, 0.7539187470857522],
        &[0.786938680574733, 0.0],
        &[0.5183635586365642, 0.786938680574733],
        &[0.2785840471498844, 0.5906238205625731],
    ],
];
const BRIAN2_SLOTS_PAIRS: [(u32, u32); 4] = [(0, 0), (0, 1), (1, 0), (1, 1)];
const BRIAN2_SLOTS_W: [f64; 4] = [7.252958987215935, 7.4959758070991604, 9.683127186048191, 9.926144005931416];
#[test]
fn run_regularly_runs_in_the_slot_its_when_names_as_brian2s_on_both_backends() {
    let (config, net) = parsed(REGULARLY_SLOTS, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let csr = &net.projections[0].csr;
    let ours = |pair| csr_index(csr, pair);
    for (sink, tolerance, on) in [(&cpu, 1e-6, "CPU"), (&gpu, 2e-5, "GPU")] {
        for (var, brian2) in BRIAN2_SLOTS.iter().enumerate() {
            for (row, &step) in brian2.iter().zip(&SLOT_STEPS) {
                for (n, b) in row.iter().enumerate() {
                    let x = sink.traces[0][var][step * 2 + n] as f64;
                    assert!((x - b).abs() < tolerance, "{on}: variable {var} of neuron {n} at the end of step {step}: {x}, Brian2 {b}");
                }
            }
        }
        let w = &sink.synapses[0].as_ref().unwrap()[0];
        for (&pair, b) in BRIAN2_SLOTS_PAIRS.iter().zip(BRIAN2_SLOTS_W) {
            assert!((w[ours(pair)] - b).abs() < tolerance * 10.0, "{on}: w of {pair:?}: {}, Brian2 {b}", w[ours(pair)]);
        }
    }
    let check = check_text(REGULARLY_SLOTS);
    assert!(check.contains("run_regularly every step at the end"), "{check}");
}

#[test]
fn bad_run_regularly_is_refused_naming_the_key() {
    let at = "populations.p.run_regularly";
    let cases = [
        (REGULARLY.replace("when = \"start\"", "when = \"thresholds\""), vec![format!("{at}.copy.when"), "\"after_thresholds\"".into()]),
        (REGULARLY.replace("when = \"start\"", "when = \"synapses\""), vec![format!("{at}.copy.when"), "between the synapses and the resets".into()]),
        (REGULARLY.replace("when = \"start\"", "when = \"later\""), vec![format!("{at}.copy.when"), "unknown slot `later`".into()]),
        (REGULARLY.replace("dt = \"0.5*ms\"", "dt = \"0.25*ms\""), vec![format!("{at}.copy.dt"), "whole number".into()]),
        (REGULARLY.replace("dt = \"0.5*ms\"", "dt = \"0.5*mV\""), vec![format!("{at}.copy.dt"), "duration".into()]),
        (REGULARLY.replace("code = \"x += 1\"", "code = \"z += 1\""), vec![format!("{at}.count.code"), "unknown variable `z`".into()]),
        (REGULARLY.replace("code = \"x += 1\"", "code = \"x += xi*sqrt(ms)\""), vec![format!("{at}.count.code"), "noise `xi`".into()]),
        (
            REGULARLY.replace("model = \"m\"\nsize = 2", "model = \"lif\"\nsize = 2"),
            vec![at.to_string(), "`lif` is built in".into()],
        ),
    ];
    assert_refused(cases);
}

/// Brian2's synapse (i, j) among a projection's, in CSR order (by post-synaptic neuron).
/// Three neurons onto two, every pair, with two `run_regularly` on the synapses: the weight
/// rewritten every 1 ms from itself, a counter `on_pre` increments and both neurons'
/// variables, the counter cleared every 2 ms (tests/brian2/synapse_run_regularly.py builds the
/// same in Brian2), and a third that draws; and a population's synapses onto itself reading
/// their pre-synaptic neurons.
const SYNAPSE_REGULARLY: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
[models.driven]
equations = "dv/dt = (1.5 - v)/(4*ms) : 1"
threshold = "v > 1"
reset = "v = 0"
method = "exact"
[models.leaky]
equations = "dv/dt = -v/(10*ms) : 1\nx : 1"
threshold = "v > 1"
reset = "v = 0"
method = "exact"
[synapse_models.counted]
model = "w : 1\nc : 1\nnoise : 1"
on_pre = "v_post += w\nc += 1"
[populations.pre]
model = "driven"
size = 3
init = { v = "0.3*i" }
[populations.post]
model = "leaky"
size = 2
init = { x = "0.5 + i" }
[projections.a_syn]
source = "pre"
target = "post"
synapse = "counted"
connectivity = { rule = "all_to_all" }
init = { w = "0.1*j + 0.05*i" }
[projections.a_syn.run_regularly.scale]
code = "w = clip(w*1.1 + 0.01*c - 0.02*x_post + 0.05*v_pre, 0, 0.6)"
dt = "1*ms"
[projections.a_syn.run_regularly.clear]
code = "c = 0"
dt = "2*ms"
[projections.a_syn.run_regularly.jitter]
code = "noise = rand()"
[synapse_models.copy]
model = "u : 1"
[projections.b_self]
source = "post"
target = "post"
synapse = "copy"
connectivity = { rule = "all_to_all" }
[projections.b_self.run_regularly.read]
code = "u = x_pre + 10*v_pre + 100*j"
[record]
spikes = ["post"]
synapses = [{ projection = "a_syn", variables = ["w", "noise"], synapses = "all" }]
"#;

/// Brian2 2.9.0 (numpy target), tests/brian2/synapse_run_regularly.py: the post-synaptic
/// spikes (neuron, step), and w of synapses (i, j) in Brian2's order at the start of
/// `REGULARLY_STEPS` (after the run_regularly due) and at the end.
const REGULARLY_STEPS: [usize; 5] = [0, 10, 55, 100, 199];
const BRIAN2_REGULARLY_SPIKES: [(u32, u64); 7] = [(0, 80), (1, 80), (0, 124), (1, 124), (0, 156), (1, 168), (0, 176)];
const BRIAN2_REGULARLY_PAIRS: [(u32, u32); 6] = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)];
const BRIAN2_REGULARLY_W: [&[f64]; 5] = [
    &[0.0, 0.08000000000000002, 0.060000000000000005, 0.15000000000000005, 0.13, 0.22],
    &[0.006589941269644668, 0.07458994126964469, 0.08427195301571576, 0.16327195301571581, 0.17295396476178682, 0.2519539647617868],
    &[0.12299599311730298, 0.12973479311730307, 0.22581552247979092, 0.24865942247979103, 0.3690946600286537, 0.3919385600286537],
    &[0.333905398061224, 0.22265630284922425, 0.4691884637149136, 0.383876793103914, 0.6, 0.6],
    &[0.6, 0.577192928790139, 0.6, 0.6, 0.6, 0.6],
];
const BRIAN2_REGULARLY_END_W: [f64; 6] = [0.6, 0.577192928790139, 0.6, 0.6, 0.6, 0.6];
const BRIAN2_REGULARLY_END_C: [f64; 6] = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
#[test]
fn run_regularly_on_synapses_rewrites_them_at_its_steps_as_brian2s_on_both_backends() {
    let (config, net) = parsed(SYNAPSE_REGULARLY, &[]);
    let mut plan = RecordPlan::from_config(&config);
    plan.resolve(&net).unwrap();
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let csr = &net.projections[0].csr;
    let ours = |pair| csr_index(csr, pair);
    for (sink, tolerance, on) in [(&cpu, 1e-6, "CPU"), (&gpu, 2e-5, "GPU")] {
        let spikes: Vec<(u32, u64)> = sink.spikes[config.population_index("post").unwrap()].iter().map(|s| (s.neuron, s.step)).collect();
        assert_eq!(spikes, BRIAN2_REGULARLY_SPIKES, "{on}");
        let w = &sink.traces[0][0];
        for (row, &step) in BRIAN2_REGULARLY_W.iter().zip(&REGULARLY_STEPS) {
            for (&pair, b) in BRIAN2_REGULARLY_PAIRS.iter().zip(row.iter()) {
                let x = w[step * 6 + ours(pair)] as f64;
                assert!((x - b).abs() < tolerance, "{on}: w of {pair:?} at step {step}: {x}, Brian2 {b}");
            }
        }
        let end = sink.synapses[0].as_ref().unwrap();
        for (k, (&pair, (w, c))) in BRIAN2_REGULARLY_PAIRS.iter().zip(BRIAN2_REGULARLY_END_W.iter().zip(BRIAN2_REGULARLY_END_C)).enumerate() {
            assert!((end[0][ours(pair)] - w).abs() < tolerance, "{on}: final w {k}");
            assert_eq!(end[1][ours(pair)], c, "{on}: final c {k}");
        }
    }
    // A draw every step for every synapse, the same uniforms on both backends, new each step.
    let (a, b) = (&cpu.traces[0][1], &gpu.traces[0][1]);
    assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6), "the draws differ");
    assert!(a[..6] != a[6..12] && a.iter().all(|&x| (0.0..1.0).contains(&x)));
    // Synapses within one population read their pre-synaptic neurons as the other side:
    // u = x_pre + 10·v_pre + 100·j at the last step's start.
    let (uc, ug) = (&cpu.synapses[1].as_ref().unwrap()[0], &gpu.synapses[1].as_ref().unwrap()[0]);
    assert!(uc.iter().zip(ug).all(|(a, b)| (a - b).abs() < 1e-5), "{uc:?} {ug:?}");
    let csr = &net.projections[1].csr;
    for j in 0..2 {
        let row = csr.row_ptr[j] as usize..csr.row_ptr[j + 1] as usize;
        for (&i, &u) in csr.col_idx[row.clone()].iter().zip(&uc[row]) {
            let v_part = u - (0.5 + i as f64) - 100.0 * j as f64;
            assert!((0.0..10.0).contains(&v_part), "synapse {i} → {j}: u {u}");
        }
    }
    // Cut into parts of whole rows (a_syn's rows hold 36 bytes, a binding 40), the same.
    let mut parted = gpu_backend_capped(&net, &plan, ganglion::config::GpuCoupling::ThreadPerRow, Some(40));
    assert_eq!(parted.equation_passes(), 6 + 5, "a_syn's five passes once more, for its second part");
    let parted = run_in_memory(&net, &mut parted, &plan);
    assert_eq!(parted.traces, gpu.traces);
    assert_eq!(parted.synapses, gpu.synapses);
    // The marking of arrivals, the delivery and the four, counted as if due every step.
    assert_eq!(gpu_backend(&net, &plan).equation_passes(), 6);
    let check = check_text(SYNAPSE_REGULARLY);
    assert!(check.contains("run_regularly every 10 steps, every 20 steps, every step"), "{check}");
}

#[test]
fn bad_run_regularly_on_synapses_is_refused_naming_the_key() {
    let at = "projections.a_syn.run_regularly";
    let cases = [
        (SYNAPSE_REGULARLY.replace("code = \"c = 0\"", "code = \"v_post = 0\""), vec![format!("{at}.clear.code"), "writes the synapses' own variables".into()]),
        (SYNAPSE_REGULARLY.replace("code = \"c = 0\"", "code = \"v_pre = 0\""), vec![format!("{at}.clear.code"), "writes the synapses' own variables".into()]),
        (SYNAPSE_REGULARLY.replace("code = \"c = 0\"", "code = \"z = 0\""), vec![format!("{at}.clear.code"), "unknown variable `z`".into()]),
        (SYNAPSE_REGULARLY.replace("code = \"c = 0\"", "code = \"c = 1*mV\""), vec![format!("{at}.clear.code"), "line 1".into()]),
        (SYNAPSE_REGULARLY.replace("code = \"c = 0\"", "code = \"c = xi*sqrt(ms)\""), vec![format!("{at}.clear.code"), "noise `xi`".into()]),
        (SYNAPSE_REGULARLY.replace("code = \"c = 0\"", "code = \"\""), vec![format!("{at}.clear.code"), "no statements".into()]),
        (SYNAPSE_REGULARLY.replace("dt = \"2*ms\"", "dt = \"0.25*ms\""), vec![format!("{at}.clear.dt"), "whole number".into()]),
        (SYNAPSE_REGULARLY.replace("dt = \"2*ms\"", "dt = \"0*ms\""), vec![format!("{at}.clear.dt"), "less than one of the simulation's steps".into()]),
        (SYNAPSE_REGULARLY.replace("dt = \"2*ms\"", "dt = \"2*ms\"\nwhen = \"groups\""), vec![format!("{at}.clear.when"), "between a group's update and its threshold".into()]),
        (SYNAPSE_REGULARLY.replace("dt = \"2*ms\"", "dt = \"2*ms\"\nevery = 3"), vec![format!("{at}.clear"), "unknown field".into()]),
    ];
    assert_refused(cases);
}

/// Pair-based STDP whose `on_post` runs 1.3 ms after the post-synaptic spike
/// (tests/brian2/post_delay.py builds the same in Brian2, with `S.post.delay = 1.3*ms`).
const POST_DELAY: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 30.0
[models.pre]
equations = "dv/dt = (1.5 - v)/(4*ms) : 1"
threshold = "v > 1"
reset = "v = 0"
method = "exact"
[models.post]
equations = "dv/dt = (1.2 - v)/(5*ms) : 1"
threshold = "v > 1"
reset = "v = 0"
method = "exact"
[synapse_models.stdp]
model = '''
w : 1
dApre/dt = -Apre/(5*ms) : 1 (event-driven)
dApost/dt = -Apost/(5*ms) : 1 (event-driven)
'''
on_pre = "Apre += 1\nw += Apost"
on_post = "Apost -= 1\nw += Apre"
[populations.pre]
model = "pre"
size = 2
init = { v = "0.5*i" }
[populations.post]
model = "post"
size = 2
init = { v = "0.3*i" }
[projections.a_syn]
source = "pre"
target = "post"
synapse = "stdp"
connectivity = { rule = "all_to_all" }
post_delay = "1.3*ms"
[record]
synapses = [{ projection = "a_syn", variables = ["w"], synapses = "all" }]
"#;

#[test]
fn a_synapse_trace_of_all_counts_its_expected_synapses_in_checks_recording_estimate() {
    let (config, net) = parsed(POST_DELAY, &[]);
    let unresolved = RecordPlan::from_config(&config);
    let shape = ganglion::shape::Shape::from_config(&config);
    let mut plan = unresolved.clone();
    plan.resolve(&net).unwrap();
    // 4 synapses of one variable, every step: 16 bytes a step, before the network is built
    // as after.
    assert_eq!(unresolved.expected_trace_bytes_per_chunk(100, &shape), 1600);
    assert_eq!(plan.trace_bytes_per_chunk(100), 1600);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("post_delay.toml");
    std::fs::write(&path, POST_DELAY).unwrap();
    let check = ganglion::app::check_report(&path, &[]).unwrap().0;
    assert!(check.contains("recording: ") && !check.contains("recording: 0 B"), "{check}");
}

/// Brian2 2.9.0 (numpy target), tests/brian2/post_delay.py (its first run): w of synapses (i, j) in Brian2's
/// order at the start of `POST_DELAY_STEPS` and at the end.
const POST_DELAY_STEPS: [usize; 4] = [50, 120, 200, 299];
const BRIAN2_POST_DELAY_PAIRS: [(u32, u32); 4] = [(0, 0), (0, 1), (1, 0), (1, 1)];
const BRIAN2_POST_DELAY_W: [&[f64]; 4] = [
    &[0.0, 0.0, 0.0, 0.0],
    &[1.0480969592828493, 1.3867683330473546, -0.009976988060462322, 0.4242522373126343],
    &[1.4362120697921927, 2.3497094827290095, 0.5272412109025371, 1.3165097175115161],
    &[1.6380765115392328, 3.1618772250999267, -0.947761794286178, 0.6806956971121049],
];
const BRIAN2_POST_DELAY_END: [f64; 4] = [1.6380765115392328, 3.1618772250999267, -0.947761794286178, 0.6806956971121049];
#[test]
fn a_delayed_post_pathway_runs_on_post_that_many_steps_after_the_spike_as_brian2s() {
    let (config, net) = parsed(POST_DELAY, &[]);
    let mut plan = RecordPlan::from_config(&config);
    plan.resolve(&net).unwrap();
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let csr = &net.projections[0].csr;
    let ours = |pair| csr_index(csr, pair);
    for (sink, tolerance, on) in [(&cpu, 1e-6, "CPU"), (&gpu, 2e-5, "GPU")] {
        for (row, &step) in BRIAN2_POST_DELAY_W.iter().zip(&POST_DELAY_STEPS) {
            for (&pair, b) in BRIAN2_POST_DELAY_PAIRS.iter().zip(row.iter()) {
                let x = sink.traces[0][0][step * 4 + ours(pair)] as f64;
                assert!((x - b).abs() < tolerance, "{on}: w of {pair:?} at step {step}: {x}, Brian2 {b}");
            }
        }
        let end = &sink.synapses[0].as_ref().unwrap()[0];
        for (&pair, b) in BRIAN2_POST_DELAY_PAIRS.iter().zip(BRIAN2_POST_DELAY_END) {
            assert!((end[ours(pair)] - b).abs() < tolerance, "{on}: final w of {pair:?}: {}, Brian2 {b}", end[ours(pair)]);
        }
    }
    // Without the delay, another result; the post population keeps 14 steps of spikes.
    let (_, undelayed) = parsed(&POST_DELAY.replace("post_delay = \"1.3*ms\"\n", ""), &[]);
    let plain = run_in_memory(&undelayed, &mut CpuBackend::<f64>::new(&undelayed), &plan);
    assert_ne!(plain.synapses, cpu.synapses);
    assert_eq!(net.spike_slots(config.population_index("post").unwrap()), 14);
    let check = check_text(POST_DELAY);
    assert!(check.contains("on_post 13 steps after the post-synaptic spike"), "{check}");
    // Refused by key: a delay that is not a time, out of range (a constant, or one synapse's
    // drawn), or for a synapse without on_post.
    let at = "projections.a_syn.post_delay";
    let drawn = POST_DELAY.replace("\"1.3*ms\"", "\"(1.3 - 2*i)*ms\"");
    let e = ganglion::network::Network::build(&ganglion::config::parse(&drawn, &[]).unwrap()).unwrap_err().to_string();
    assert!(e.contains(at) && e.contains("outside 0"), "{e}");
    let cases = [
        (POST_DELAY.replace("\"1.3*ms\"", "\"1.3\""), vec![at.to_string(), "must be a time".into()]),
        (POST_DELAY.replace("\"1.3*ms\"", "\"w_post*ms\""), vec![at.to_string(), "w_post".into()]),
        (POST_DELAY.replace("\"1.3*ms\"", "\"-1*ms\""), vec![at.to_string(), "outside 0".into()]),
        (POST_DELAY.replace("on_post = \"Apost -= 1\\nw += Apre\"\n", ""), vec![at.to_string(), "does not have".into()]),
    ];
    assert_refused(cases);
}

/// `POST_DELAY` with each synapse's own delays on both pathways (tests/brian2/post_delay.py's second run:
/// `S.pre.delay = '(0.2 + 0.3*j)*ms'`, `S.post.delay = '(0.4 + 0.9*i + 0.5*j)*ms'`).
fn per_synapse_post_delays() -> String {
    POST_DELAY.replace("post_delay = \"1.3*ms\"", "delay = \"(0.2 + 0.3*j)*ms\"\npost_delay = \"(0.4 + 0.9*i + 0.5*j)*ms\"")
}

/// Brian2 2.9.0 (numpy target), tests/brian2/post_delay.py's second run: w of synapses (i, j) in
/// `BRIAN2_POST_DELAY_PAIRS`' order at the start of `POST_DELAY_STEPS`, the last row the end's.
const BRIAN2_POST_DELAYS_W: [&[f64]; 4] = [
    &[0.0, 0.0, 0.0, 0.0],
    &[1.3060092323617476, -0.36539153300624, 0.05131642061344277, 1.007000489686624],
    &[2.1409880442102405, -1.0102675377621941, 0.6360512552833109, 1.3165097175115161],
    &[2.818672678597493, -1.7815142190673652, -0.7135598270476544, 0.6806956971121049],
];

#[test]
fn each_synapses_own_post_delay_runs_its_on_post_that_many_steps_after_the_spike_as_brian2s() {
    let text = per_synapse_post_delays();
    let (config, net) = parsed(&text, &[]);
    let csr = &net.projections[0].csr;
    let ours = |pair| csr_index(csr, pair);
    let e = net.projections[0].equation.as_ref().unwrap();
    // 0.4, 0.9, 1.3 and 1.8 ms (Brian2's 1.7999… rounds to 18 steps, as Brian2 rounds it).
    let steps: Vec<u32> = BRIAN2_POST_DELAY_PAIRS.iter().map(|&pair| e.post_delays[ours(pair)]).collect();
    assert_eq!(steps, [4, 9, 13, 18]);
    assert_eq!(net.spike_slots(config.population_index("post").unwrap()), 19);
    let mut plan = RecordPlan::from_config(&config);
    plan.resolve(&net).unwrap();
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    for (sink, tolerance, on) in [(&cpu, 1e-6, "CPU"), (&gpu, 2e-5, "GPU")] {
        for (row, &step) in BRIAN2_POST_DELAYS_W.iter().zip(&POST_DELAY_STEPS) {
            for (&pair, b) in BRIAN2_POST_DELAY_PAIRS.iter().zip(row.iter()) {
                let x = sink.traces[0][0][step * 4 + ours(pair)] as f64;
                assert!((x - b).abs() < tolerance, "{on}: w of {pair:?} at step {step}: {x}, Brian2 {b}");
            }
        }
        let end = &sink.synapses[0].as_ref().unwrap()[0];
        for (&pair, b) in BRIAN2_POST_DELAY_PAIRS.iter().zip(BRIAN2_POST_DELAYS_W[3]) {
            assert!((end[ours(pair)] - b).abs() < tolerance, "{on}: final w of {pair:?}: {}, Brian2 {b}", end[ours(pair)]);
        }
    }
    let check = check_text(&text);
    assert!(check.contains("on_post each synapse's delay after the post-synaptic spike (drawn)"), "{check}");
    assert!(check.contains("`post` keeps its spikes for its synapses' longest delay, which is drawn"), "{check}");
}

#[test]
fn instances_with_their_own_post_delays_run_batched_each_as_brian2s() {
    // One instance with one post delay for all, one with each synapse's own: merged, their
    // post delays are joined per synapse, each instance's read from its own.
    let texts = [POST_DELAY.to_string(), per_synapse_post_delays()];
    let nets: Vec<_> = texts.iter().map(|t| parsed(t, &[]).1).collect();
    // Traces of synapses keep instances apart: spikes alone, the weights at the end.
    let plans: Vec<RecordPlan> = nets.iter().map(RecordPlan::all_spikes).collect();
    let merged = ganglion::sweep::batch::merge(&nets.iter().collect::<Vec<_>>(), &plans.iter().collect::<Vec<_>>()).expect("the instances merge");
    assert_eq!(merged.net.projections[0].equation.as_ref().unwrap().post_delays.len(), 8);
    let out = run_in_memory(&merged.net, &mut gpu_backend(&merged.net, &merged.plan), &merged.plan);
    let end = &out.synapses[0].as_ref().unwrap()[0];
    let ours = |pair| csr_index(&nets[0].projections[0].csr, pair);
    for (k, brian2) in [BRIAN2_POST_DELAY_END, BRIAN2_POST_DELAYS_W[3].try_into().unwrap()].iter().enumerate() {
        for (&pair, b) in BRIAN2_POST_DELAY_PAIRS.iter().zip(brian2) {
            let x = end[k * 4 + ours(pair)];
            assert!((x - b).abs() < 2e-5, "instance {k}: final w of {pair:?}: {x}, Brian2 {b}");
        }
    }
}

#[test]
fn each_synapses_post_delay_runs_alike_on_a_gpu_matrix_cut_into_parts() {
    // 2000 synapses with drawn delays on both pathways, in bindings of 8000 bytes (the
    // target's 12 steps of spikes fit one).
    let overrides = [
        "populations.pre.size=200",
        "populations.post.size=100",
        "populations.pre.init.v=\"0.005*i\"",
        "populations.post.init.v=\"0.009*i\"",
        "projections.a_syn.connectivity={ rule = \"fixed_probability\", p = 0.1 }",
        "projections.a_syn.delay=\"rand()*0.8*ms\"",
        "projections.a_syn.post_delay=\"(0.1 + rand())*ms\"",
    ];
    let (config, net) = parsed(POST_DELAY, &overrides);
    let e = net.projections[0].equation.as_ref().unwrap();
    assert_eq!(e.post_delays.len(), net.projections[0].n_synapses());
    let mut plan = RecordPlan::from_config(&config);
    plan.resolve(&net).unwrap();
    let mut whole = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, None);
    let mut cut = gpu_backend_capped(&net, &plan, GpuCoupling::Auto, Some(8000));
    assert!(cut.equation_passes() > whole.equation_passes(), "the matrix in parts: {} passes, whole {}", cut.equation_passes(), whole.equation_passes());
    let (a, b) = (run_in_memory(&net, &mut whole, &plan), run_in_memory(&net, &mut cut, &plan));
    assert_eq!(a.synapses, b.synapses);
    // And the CPU's, which reads each synapse's delay from the same draws.
    let c = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let (gpu_w, cpu_w) = (&a.synapses[0].as_ref().unwrap()[0], &c.synapses[0].as_ref().unwrap()[0]);
    let worst = gpu_w.iter().zip(cpu_w).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-3, "GPU and CPU weights differ by up to {worst}");
    // Without the post pathway's delays, other weights.
    let (_, undelayed) = parsed(POST_DELAY, &overrides[..6]);
    let plain = run_in_memory(&undelayed, &mut CpuBackend::<f64>::new(&undelayed), &plan);
    let moved = plain.synapses[0].as_ref().unwrap()[0].iter().zip(cpu_w).filter(|(x, y)| (*x - *y).abs() > 1e-3).count();
    assert!(moved > 500, "{moved} of {} weights moved by the delays", cpu_w.len());
}

/// 2000 LIF neurons (v held while refractory) driven by one PoissonInput, as
/// tests/brian2/poisson_input.py runs them.
const DRIVEN: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 1000.0
precision = "f32"
[models.lif]
equations = "dv/dt = (El - v)/tau : volt (unless refractory)"
threshold = "v > vt"
reset = "v = vr"
refractory = "2*ms"
method = "exact"
namespace = { tau = "10*ms", El = "-70*mV", vt = "-50*mV", vr = "-65*mV" }
[populations.neurons]
model = "lif"
size = 2000
init = { v = "-70*mV" }
[populations.neurons.poisson_inputs.drive]
variable = "v"
n = 1000
rate = "20*Hz"
weight = "0.1*mV"
[record]
spikes = ["neurons"]
"#;

/// Brian2 2.9.0 (numpy target), tests/brian2/poisson_input.py: the mean rate (Hz) over
/// 0.1–1 s of `DRIVEN` at seeds 1–4, with 20 Hz × 0.1 mV (inversion) and 60 Hz × 0.035 mV
/// (normal approximation).
const BRIAN2_POISSON_INPUT: [[f64; 4]; 2] = [
    [26.28388888888889, 26.185555555555556, 26.324444444444445, 26.20888888888889],
    [33.599999999999994, 33.60666666666666, 33.57833333333333, 33.525555555555556],
];

#[test]
fn poisson_inputs_drive_lif_neurons_at_brian2s_rates_and_spare_refractory_ones() {
    let cases = [(&["simulation.seed=1"][..], &BRIAN2_POISSON_INPUT[0]), (
        &["simulation.seed=1", "populations.neurons.poisson_inputs.drive.rate=\"60*Hz\"", "populations.neurons.poisson_inputs.drive.weight=\"0.035*mV\""][..],
        &BRIAN2_POISSON_INPUT[1],
    )];
    for (overrides, brian2) in cases {
        let (config, net) = parsed(DRIVEN, overrides);
        let plan = RecordPlan::from_config(&config);
        let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
        let rate = a.spikes[0].iter().filter(|s| s.step >= 1000).count() as f64 / 2000.0 / 0.9;
        let mean = brian2.iter().sum::<f64>() / 4.0;
        // Brian2's seeds spread by 0.3 %; events lost to refractory neurons are 8 % of the
        // rate (a neuron taking them fires at 28.4 Hz instead of 26.2).
        assert!((rate / mean - 1.0).abs() < 0.01, "{overrides:?}: {rate} Hz, Brian2 {brian2:?}");
    }
}

#[test]
fn poisson_inputs_fire_at_their_rates_with_poisson_statistics_the_same_on_both_backends() {
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 2000.0
precision = "f32"
[populations.steady]
model = "poisson"
size = 1000
rates = "20*Hz"
[populations.switched]
model = "poisson"
size = 1000
rates = "40*Hz*(t < 1*second)"
[record]
spikes = ["steady", "switched"]
"#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let steady = config.population_index("steady").unwrap();
    let switched = config.population_index("switched").unwrap();
    let pairs = |p: usize| -> Vec<(f64, u64)> {
        a.spikes[p].iter().map(|s| ((s.step + 1) as f64 * 0.1, s.neuron as u64)).collect()
    };
    let st = ganglion::stats::spike_stats("steady", 1000, 2000.0, &pairs(steady), 100.0);
    assert!((st.mean_rate_hz / 20.0 - 1.0).abs() < 0.03, "{} Hz", st.mean_rate_hz);
    assert!((st.isi_cv - 1.0).abs() < 0.05, "ISI CV {}", st.isi_cv);
    // 40 Hz for the first second, then silence.
    let late = a.spikes[switched].iter().filter(|s| s.step >= 10_000).count();
    let early = a.spikes[switched].len();
    assert_eq!(late, 0);
    assert!((early as f64 / 40_000.0 - 1.0).abs() < 0.03, "{early} spikes");
    // The draws are the same Philox numbers on the GPU.
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    assert_eq!(a.spikes, b.spikes);
}

#[test]
fn stdp_with_poisson_inputs_gives_the_same_weights_on_both_backends() {
    let (config, net) = shipped("equations/stdp.toml", &["simulation.duration_ms=1000", "simulation.precision=\"f32\""]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let (wa, wb) = (&a.synapses[0].as_ref().unwrap()[0], &b.synapses[0].as_ref().unwrap()[0]);
    let moved = wa.iter().zip(&net.projections[0].equation.as_ref().unwrap().state[0]).filter(|(a, b)| a != b).count();
    assert!(moved > 900, "the weights learn ({moved} changed)");
    let worst = wa.iter().zip(wb).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-6 * 0.01, "largest difference {worst}");
}

#[test]
fn bad_plasticity_is_refused_with_the_key_and_line() {
    let base = pairing(&[10.0], 50.0, 0.1);
    let cases = [
        (
            base.replace("dApre/dt = -Apre/taupre : 1 (event-driven)", "dApre/dt = -Apre**2/(taupre) : 1 (event-driven)"),
            vec!["synapse_models.stdp.model", "line 2", "linear"],
        ),
        (
            base.replace("[populations.pre]\nmodel = \"spike_source\"", "[models.timed]\nequations = \"tspike : second\"\n[populations.pre]\nmodel = \"timed\"")
                .replace("params = { indices = [0], times = [10] }\n", "")
                .replace("Apost += dApost\n", "Apost += dApost\ntspike_pre = 0*ms\n"),
            vec!["synapse_models.stdp.on_post", "pre-synaptic"],
        ),
        (
            base.replace("w = w + Apost\n", "w = w + Apost + 0.01*xi*sqrt(dt)\n"),
            vec!["synapse_models.stdp.on_pre", "line 2", "noise `xi`", "rand() or randn()"],
        ),
        (
            base.replace("Apre += dApre\n", "Apre += 1*mV\n"),
            vec!["synapse_models.stdp.on_pre", "line 1", "volt"],
        ),
        (
            base.replace("model = \"spike_source\"\nsize = 1\nparams = { indices = [0], times = [50] }\n", "model = \"poisson\"\nsize = 1\n"),
            vec!["populations.post.rates", "15*Hz"],
        ),
    ];
    assert_refused(cases);
}

fn source_config(params: &str) -> String {
    format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 10.0
[populations.src]
model = "spike_source"
size = 3
params = {{ {params} }}
[models.counter]
equations = "count : 1"
[synapse_models.tally]
on_pre = "count_post += 1"
[populations.dst]
model = "counter"
size = 1
[projections.link]
source = "src"
target = "dst"
synapse = "tally"
connectivity = {{ rule = "all_to_all" }}
[record]
spikes = ["src"]
traces = [{{ population = "dst", variables = ["count"] }}]
"#
    )
}

#[test]
fn spike_sources_replay_their_spikes_exactly_from_lists_and_files_on_both_backends() {
    // Each spike in the step that starts at its time (stamped at that step's end).
    let lists = source_config("indices = [0, 2, 1, 0], times = [1.0, 1.0, 2.5, 4.0], period_ms = 5.0");
    let (config, net) = parsed(&lists, &[]);
    let plan = RecordPlan::from_config(&config);
    let src = config.population_index("src").unwrap();
    let a = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let got: Vec<(u64, u32)> = a.spikes[src].iter().map(|s| (s.step, s.neuron)).collect();
    assert_eq!(got, vec![(10, 0), (10, 2), (25, 1), (40, 0), (60, 0), (60, 2), (75, 1), (90, 0)]);
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    assert_eq!(a.spikes, b.spikes);
    assert_eq!(a.traces, b.traces, "the deliveries they cause");
    // The same spikes from a CSV file and from a ganglion output file.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("spikes.csv");
    std::fs::write(&csv, "time_ms,node_id\n1.0,0\n1.0,2\n2.5,1\n4.0,0\n").unwrap();
    let from_csv = source_config(&format!("file = \"{}\", period_ms = 5.0", csv.display()));
    let (_, net_csv) = parsed(&from_csv, &[]);
    let c = run_in_memory(&net_csv, &mut CpuBackend::<f64>::new(&net_csv), &plan);
    assert_eq!(c.spikes, a.spikes);
    let h5 = dir.path().join("spikes.h5");
    let req = ganglion::app::RunRequest {
        config: repo_path("configs/hh_pair.toml"),
        overrides: vec!["simulation.duration_ms=50".into()],
        output: Some(h5.clone()),
        ..Default::default()
    };
    ganglion::app::run(&req).unwrap();
    let from_h5 = source_config(&format!("file = \"{}\", population = \"hh\"", h5.display()));
    let (config_h5, net_h5) = parsed(&from_h5, &["simulation.duration_ms=60"]);
    let d = run_in_memory(&net_h5, &mut CpuBackend::<f64>::new(&net_h5), &RecordPlan::from_config(&config_h5));
    let (_, pair) = shipped("hh_pair.toml", &["simulation.duration_ms=50"]);
    let original = run_in_memory(&pair, &mut CpuBackend::<f64>::new(&pair), &RecordPlan::all_spikes(&pair));
    // hh_pair's spike at step k is stamped (k + 1)·dt; replayed, it fires in the step starting
    // at that time (dt = 0.1 ms here, 0.01 ms there).
    let replayed: Vec<(u64, u32)> = d.spikes[config_h5.population_index("src").unwrap()]
        .iter()
        .map(|s| (s.step, s.neuron))
        .collect();
    let expected: Vec<(u64, u32)> = original.spikes[0]
        .iter()
        .map(|s| ((((s.step + 1) as f64 * 0.01) / 0.1).round() as u64, s.neuron))
        .collect();
    assert_eq!(replayed, expected);
}

#[test]
fn bad_spike_sources_are_refused() {
    let cases = [
        ("indices = [0, 1], times = [2.0, 1.0]", "must be sorted"),
        ("indices = [0, 5], times = [1.0, 2.0]", "node 5 is out of range"),
        ("indices = [0, 0], times = [1.0, 1.04]", "two spikes in the step"),
        ("indices = [0], times = [1.0, 2.0]", "2 times for 1 indices"),
        ("indices = [0], times = [7.0], period_ms = 5.0", "within the period"),
        ("file = \"/nonexistent/spikes.csv\"", "populations.src.params.file"),
    ];
    for (params, expected) in cases {
        let e = ganglion::config::parse(&source_config(params), &[]).expect_err("refused").to_string();
        assert!(e.contains(expected) && e.contains("populations.src.params"), "{params}: {e}");
    }
}

#[test]
fn bad_poisson_rates_are_refused_at_their_own_columns() {
    let config = |rates: &str| {
        format!("[simulation]\ndt_ms = 0.1\nduration_ms = 1.0\n[populations.poi]\nmodel = \"poisson\"\nsize = 3\nrates = {rates}\n")
    };
    let cases = [
        ("\"  \"", "is empty"),
        ("\"15*mV\"", "column 1: the right-hand side of rates has dimension volt"),
        ("\"i*Hz + 3*mV\"", "column 6: the two sides of `+`"),
        ("\"15*Hz + v*Hz\"", "column 9: unknown name `v`"),
        ("\"15*Hz*(1 + 0.1*randn())\"", "column 16: rates cannot draw random numbers"),
        ("\"15*Hz + (2\"", "expected `)`, found the end of the rates"),
    ];
    for (rates, expected) in cases {
        let e = ganglion::config::parse(&config(rates), &[]).expect_err("refused").to_string();
        assert!(e.contains("populations.poi.rates") && e.contains(expected), "{rates}: {e}");
    }
}

#[test]
fn synapse_models_read_timed_arrays_at_the_right_step_on_both_backends() {
    // A clock-driven variable integrating a 1-D array, a summed variable and an on_pre reading
    // a 2-D one by the pre-synaptic neuron's index (Brian2's `i` in a synapse).
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 8.0
[timed_arrays.drive]
values = [0.0, 1.0, 2.0, 3.0, 4.0]
dt = "1*ms"
[timed_arrays.grid]
values = [[0, 10], [1, 11], [2, 12]]
dt = "2*ms"
[models.still]
equations = "x : 1\ntotal : 1"
[synapse_models.reader]
model = '''
dy/dt = drive(t)/ms : 1 (clock-driven)
w : 1
total_post = grid(t, i) : 1 (summed)
'''
on_pre = "w += grid(t, i)"
[populations.pre]
model = "spike_source"
size = 2
params = { indices = [0, 1, 0, 1], times = [0.5, 1.5, 4.5, 7.5] }
[populations.post]
model = "still"
size = 1
[projections.link]
source = "pre"
target = "post"
synapse = "reader"
connectivity = { rule = "all_to_all" }
[record]
traces = [{ population = "post", variables = ["total"] }]
"#;
    // y: Euler over 80 steps of drive(t) = row k/10 (clamped to 4); w: grid at each spike's
    // step, row k/20, column i; total: Σ_i grid(t, i), recorded at each step's start (Brian2's
    // summed variables are set before the recording of the next step).
    let y: f64 = (0..80).map(|k| (k / 10).min(4) as f64 * 0.1).sum();
    let w = [0.0 + 2.0, 10.0 + 12.0];
    for gpu in [false, true] {
        let (config, net) = parsed(text, &[]);
        let plan = RecordPlan::from_config(&config);
        let sink = if gpu {
            run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan)
        } else {
            run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan)
        };
        let s = sink.synapses[config.projections.keys().position(|k| k == "link").unwrap()].clone().unwrap();
        for j in 0..2 {
            assert!((s[0][j] - y).abs() < 1e-4, "gpu {gpu}: y of synapse {j} = {}, expected {y}", s[0][j]);
            assert_eq!(s[1][j], w[j], "gpu {gpu}: w of synapse {j}");
        }
        for (k, &total) in sink.traces[0][0].iter().enumerate().take(80).skip(1) {
            let row = ((k - 1) / 20).min(2);
            let expected = (row + row + 10) as f32;
            assert_eq!(total, expected, "gpu {gpu}: total at step {k}");
        }
    }
    // With 1000 targets, their state cut into ranges and the matrix into parts (bindings of
    // 4 KiB): the timed arrays' binding comes before the parts'.
    let (config, net) = parsed(text, &["populations.post.size=1000"]);
    let plan = RecordPlan::from_config(&config);
    let whole = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let mut capped = gpu_backend_capped(&net, &plan, GpuCoupling::ThreadPerRow, Some(4096));
    let parted = run_in_memory(&net, &mut capped, &plan);
    assert_eq!(parted.synapses, whole.synapses);
    assert_eq!(parted.traces, whole.traces);
}

#[test]
fn timed_arrays_are_read_at_the_right_step_on_both_backends() {
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 8.0
[timed_arrays.drive]
values = [0.0, 1.0, 2.0, 3.0, 4.0]
dt = "1*ms"
unit = "nA"
[timed_arrays.grid]
values = [[0, 10], [1, 11], [2, 12]]
dt = "2*ms"
[models.reader]
equations = '''
dummy : 1
I = drive(t) : amp
g = grid(t, i) : 1
'''
[populations.p]
model = "reader"
size = 2
[record]
traces = [{ population = "p", variables = ["I", "g"] }]
"#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    for k in 0..80usize {
        // Brian2's index: the row whose interval holds t (clamped to the last row).
        let drive = ((k / 10).min(4) as f64 * 1e-9) as f32;
        for i in 0..2 {
            let grid = ((k / 20).min(2) + 10 * i) as f32;
            for sink in [&a, &b] {
                assert_eq!(sink.traces[0][0][2 * k + i], drive, "drive at step {k}");
                assert_eq!(sink.traces[0][1][2 * k + i], grid, "grid at step {k}, neuron {i}");
            }
        }
    }
    // Read with the wrong arguments, or not defined: errors naming the line.
    for (model, expected) in [
        ("dummy : 1\nI = drive(t, i) : amp", "drive(t)"),
        ("dummy : 1\nI = drive(1) : amp", "at a time"),
        ("dummy : 1\nI = driv(t) : amp", "unknown function `driv`"),
        ("dummy : 1\nI = drive(t) : volt", "volt"),
    ] {
        let bad = text.replace("dummy : 1\nI = drive(t) : amp\ng = grid(t, i) : 1", model).replace(", \"g\"", "");
        let e = ganglion::config::parse(&bad, &[]).expect_err("refused").to_string();
        assert!(e.contains("models.reader.equations") && e.contains(expected), "{model}: {e}");
    }
}

#[test]
fn synaptic_variables_are_recorded_over_time_on_both_backends_and_in_the_report_layout() {
    let overrides = [
        "simulation.duration_ms=300",
        "record.synapses=[{ projection = \"S\", variables = [\"w\", \"Apre\"], synapses = [0, 5, 999], every = 10 }]",
    ];
    let (config, net) = shipped("equations/stdp.toml", &overrides);
    let mut plan = RecordPlan::from_config(&config);
    plan.resolve(&net).unwrap();
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let (wa, wb) = (&a.traces[0][0], &b.traces[0][0]);
    assert_eq!(wa.len(), 300 * 3);
    // The first samples are the initial weights; the weights move.
    let init = &net.projections[0].equation.as_ref().unwrap().state[0];
    assert_eq!(wa[..3], [init[0] as f32, init[5] as f32, init[999] as f32]);
    assert!(wa[wa.len() - 3..] != wa[..3]);
    for (x, y) in wa.iter().zip(wb) {
        assert!((x - y).abs() < 1e-8, "{x} vs {y}");
    }
    // In the file: /report/S/w with the synapses' indices as node ids.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdp.h5");
    let req = ganglion::app::RunRequest {
        config: repo_path("configs/equations/stdp.toml"),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        output: Some(out.clone()),
        ..Default::default()
    };
    ganglion::app::run(&req).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    let ids: Vec<u64> = f.dataset("report/S/w/mapping/node_ids").unwrap().read_raw().unwrap();
    assert_eq!(ids, vec![0, 5, 999]);
    let data: Vec<f32> = f.dataset("report/S/w/data").unwrap().read_raw().unwrap();
    assert_eq!(&data, wa);
    // Bad entries name the key.
    for (bad, expected) in [
        ("record.synapses=[{ projection = \"T\", variables = [\"w\"] }]", "no projection named `T`"),
        ("record.synapses=[{ projection = \"S\", variables = [\"q\"] }]", "unknown synaptic variable `q`"),
        ("record.synapses=[{ projection = \"S\", variables = [\"w\"], synapses = [1000] }]", "out of range"),
    ] {
        let e = match ganglion::config::load(&repo_path("configs/equations/stdp.toml"), &[bad.to_string()]) {
            Err(e) => e.to_string(),
            Ok(config) => {
                let net = ganglion::network::Network::build(&config).unwrap();
                let mut plan = RecordPlan::from_config(&config);
                plan.resolve(&net).expect_err("refused").to_string()
            }
        };
        assert!(e.contains("record.synapses[0]") && e.contains(expected), "{bad}: {e}");
    }
}

/// Brian2's `lastspike`: read by a neuron's equations (an after-spike current decaying from
/// its last spike), by its refractory condition, and by a synapse's on_pre and on_post.
const LASTSPIKE: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 200.0

[models.cell]
equations = """
dv/dt = (I - v)/(10*ms) - 0.8*exp(-(t - lastspike)/(15*ms))/ms : 1 (unless refractory)
I : 1
"""
threshold = "v > 1"
reset = "v = 0"
refractory = "(t - lastspike) < 2.5*ms"
method = "euler"

[models.readout]
equations = "dv/dt = (1.3 + 0.2*i - v)/(10*ms) : 1"
threshold = "v > 1"
reset = "v = 0"
refractory = "1*ms"
method = "euler"

[synapse_models.timing]
model = "w : 1"
on_pre = "w += 0.01*exp(-(t - lastspike_post)/(20*ms))"
on_post = "w -= 0.01*exp(-(t - lastspike_pre)/(20*ms))"

[populations.cells]
model = "cell"
size = 4
init = { I = "1.6 + 0.3*i" }

[populations.out]
model = "readout"
size = 3

[projections.S]
source = "cells"
target = "out"
synapse = "timing"
connectivity = { rule = "all_to_all" }
init = { w = "0.5" }

[record]
spikes = ["cells", "out"]
"#;

/// Brian2 2.9's spike steps of the four cells and three readouts, and the weights (i, j) in
/// its order (pre-synaptic major), over 200 ms (tests/brian2/lastspike.py).
const BRIAN2_CELL_STEPS: [&[u64]; 4] = [
    &[97, 621, 1145, 1669],
    &[74, 530, 985, 1441, 1897],
    &[60, 466, 872, 1278, 1684],
    &[50, 416, 782, 1148, 1514, 1880],
];
const BRIAN2_READOUT_STEPS: [&[u64]; 3] = [
    &[145, 291, 437, 583, 729, 875, 1021, 1167, 1313, 1459, 1605, 1751, 1897],
    &[109, 219, 329, 439, 549, 659, 769, 879, 989, 1099, 1209, 1319, 1429, 1539, 1649, 1759, 1869, 1979],
    &[88, 177, 266, 355, 444, 533, 622, 711, 800, 889, 978, 1067, 1156, 1245, 1334, 1423, 1512, 1601, 1690, 1779, 1868, 1957],
];
const BRIAN2_TIMING_W: [f64; 12] = [
    0.470363882387, 0.456589519104, 0.442092578649, 0.462169764645, 0.452381892227, 0.443968601562,
    0.46468087954, 0.45058157734, 0.43010622772, 0.463034306582, 0.456237227743, 0.434307671128,
];

#[test]
fn lastspike_is_brian2s_in_equations_refractoriness_and_synapses_on_both_backends() {
    let (config, net) = parsed(LASTSPIKE, &[]);
    let plan = RecordPlan::from_config(&config);
    let run = |backend: &mut dyn Backend| run_in_memory(&net, backend, &plan);
    let cpu = run(&mut CpuBackend::<f64>::new(&net));
    let steps = |sink: &ganglion::simulator::MemorySink, pop: usize, k: u32| -> Vec<u64> {
        sink.spikes[pop].iter().filter(|s| s.neuron == k).map(|s| s.step).collect()
    };
    for (k, brian2) in BRIAN2_CELL_STEPS.iter().enumerate() {
        assert_eq!(steps(&cpu, 0, k as u32), *brian2, "cell {k}");
    }
    for (k, brian2) in BRIAN2_READOUT_STEPS.iter().enumerate() {
        assert_eq!(steps(&cpu, 1, k as u32), *brian2, "readout {k}");
    }
    // Synapses in the matrix's order, by target: Brian2's (i, j) is ours j·4 + i.
    let w = &cpu.synapses[0].as_ref().unwrap()[0];
    for (b, brian2) in BRIAN2_TIMING_W.iter().enumerate() {
        let (i, j) = (b / 3, b % 3);
        assert!((w[j * 4 + i] - brian2).abs() < 1e-9, "w({i}, {j}): {} here, {brian2} in Brian2", w[j * 4 + i]);
    }
    // The GPU as the CPU in f32 (whose slow approach to threshold rounds a few spikes a step
    // apart from f64's).
    let gpu = run(&mut gpu_backend(&net, &plan));
    let f32 = run(&mut CpuBackend::<f32>::new(&net));
    assert_eq!(gpu.spikes, f32.spikes);
    let (a, b) = (&gpu.synapses[0].as_ref().unwrap()[0], &f32.synapses[0].as_ref().unwrap()[0]);
    assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6), "{a:?} {b:?}");
}

#[test]
fn lastspike_is_only_where_brian2_has_it() {
    // A model without refractoriness has none; nor a name of the model's own.
    let without = LASTSPIKE.replace("refractory = \"(t - lastspike) < 2.5*ms\"\n", "");
    let with_own = LASTSPIKE.replace("I : 1\n", "I : 1\nlastspike : second\n");
    let readout_without = LASTSPIKE.replace("refractory = \"1*ms\"\n", "");
    assert_refused([
        (without, vec!["models.cell", "unknown name `lastspike`"]),
        (with_own, vec!["models.cell.equations", "`lastspike` is a reserved name"]),
        (readout_without, vec!["synapse_models.timing.on_pre", "lastspike_post"]),
    ]);
}
