//! Models written as equations (Brian2's language): the integration methods against analytic
//! solutions, refractoriness, summed variables and on_pre deliveries with delays, the shipped
//! equation configs against the built-in models, CPU against GPU, and the errors.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::Backend;
use ganglion::record::{RecordPlan, Spike};

fn config_error(text: &str) -> String {
    ganglion::config::parse(text, &[])
        .expect_err("the config is refused")
        .to_string()
}

/// Where two spike lists first differ, as a short message (None where they are equal).
fn first_difference(a: &[Spike], b: &[Spike]) -> Option<String> {
    if a == b {
        return None;
    }
    let k = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    Some(format!(
        "{} and {} spikes, first difference at #{k}: {:?} vs {:?}",
        a.len(),
        b.len(),
        a.get(k),
        b.get(k)
    ))
}

fn steps(spikes: &[Spike]) -> Vec<u64> {
    spikes.iter().map(|s| s.step).collect()
}

/// One variable x of one neuron after `duration_ms`, integrated by `method` (CPU, f64).
fn final_values(equations: &str, method: &str, namespace: &str, init: &str, dt_ms: f64, duration_ms: f64, size: usize) -> Vec<Vec<f64>> {
    let text = format!(
        r#"
[simulation]
dt_ms = {dt_ms}
duration_ms = {duration_ms}
[models.m]
equations = '''
{equations}
'''
method = "{method}"
namespace = {{ {namespace} }}
[populations.p]
model = "m"
size = {size}
init = {{ {init} }}
"#
    );
    let (config, net) = parsed(&text, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    cpu.read_state().unwrap().remove(0)
}

/// Brian2's CUBA neurons (its CUBA example's equations, v held while refractory), fed by a
/// spike source through ge and straight onto v (which a refractory neuron ignores: Brian2's
/// conditional write), as tests/brian2/coupled_exact.py runs them.
const CUBA: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 50.0
[models.cuba]
equations = '''
dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
'''
threshold = "v > Vt"
reset = "v = Vr"
refractory = "5*ms"
namespace = { taum = "20*ms", taue = "5*ms", taui = "10*ms", Vt = "-50*mV", Vr = "-60*mV", El = "-49*mV" }
[populations.inputs]
model = "spike_source"
size = 1
params = { indices = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], times = [2.0, 4.0, 6.0, 9.0, 12.0, 20.0, 21.0, 22.0, 30.0, 40.0] }
[populations.neurons]
model = "cuba"
size = 3
init = { v = "Vr + 3*mV*i", ge = "(2 + 2*i)*mV", gi = "-2*mV" }
[synapse_models.feed]
on_pre = "ge += 4*mV"
[synapse_models.kick]
on_pre = "v += 1.5*mV"
[projections.feed]
source = "inputs"
target = "neurons"
synapse = "feed"
connectivity = { rule = "all_to_all" }
[projections.kick]
source = "inputs"
target = "neurons"
synapse = "kick"
connectivity = { rule = "all_to_all" }
[record]
spikes = ["neurons"]
"#;

/// Brian2 2.9.0 (numpy target), tests/brian2/coupled_exact.py: the neurons' spikes (neuron,
/// ms of the step that detects them) and their final v, ge, gi (mV), integrated by Brian2's
/// default, `exact`.
const BRIAN2_CUBA_SPIKES: [(u32, f64); 9] =
    [(0, 9.1), (0, 23.5), (0, 48.5), (1, 6.1), (1, 21.4), (1, 43.6), (2, 4.1), (2, 21.1), (2, 43.0)];
const BRIAN2_CUBA_FINAL: [[f64; 3]; 3] = [
    [-60.0, -59.205181132682746, -58.87657313031035],
    [0.6691376102479281, 0.6692284101074533, 0.6693192099669777],
    [-0.013475893998171277, -0.013475893998171277, -0.013475893998171277],
];

#[test]
fn a_coupled_linear_system_is_integrated_exactly_as_brian2_does_on_both_backends() {
    let (config, net) = parsed(CUBA, &[]);
    let neurons = config.population_index("neurons").unwrap();
    let plan = RecordPlan::from_config(&config);
    let expected: Vec<(u32, u64)> = BRIAN2_CUBA_SPIKES.iter().map(|&(i, t)| (i, (t / 0.1).round() as u64)).collect();
    let sorted = |spikes: &[Spike]| {
        let mut v: Vec<(u32, u64)> = spikes.iter().map(|s| (s.neuron, s.step)).collect();
        v.sort_unstable();
        v
    };
    let mut cpu = CpuBackend::<f64>::new(&net);
    let a = run_in_memory(&net, &mut cpu, &plan);
    assert_eq!(sorted(&a.spikes[neurons]), expected, "the CPU's spikes");
    let state = cpu.read_state().unwrap().remove(neurons);
    for (var, brian2) in BRIAN2_CUBA_FINAL.iter().enumerate() {
        for (x, b) in state[var].iter().zip(brian2) {
            assert!((x * 1e3 - b).abs() < 1e-9, "variable {var}: {} mV, Brian2 {b}", x * 1e3);
        }
    }
    let mut gpu = gpu_backend(&net, &plan);
    let b = run_in_memory(&net, &mut gpu, &plan);
    assert_eq!(sorted(&b.spikes[neurons]), expected, "the GPU's spikes");
    let state = gpu.read_state().unwrap().remove(neurons);
    for (var, brian2) in BRIAN2_CUBA_FINAL.iter().enumerate() {
        for (x, b) in state[var].iter().zip(brian2) {
            assert!((x * 1e3 - b).abs() < 1e-4, "GPU variable {var}: {} mV, Brian2 {b}", x * 1e3);
        }
    }
    // A harmonic oscillator, coupled and undamped: exact is a rotation by dt/τ per step.
    let x = final_values("dx/dt = y/tau : 1\ndy/dt = -x/tau : 1", "exact", "tau = \"1*ms\"", "x = 1.0, y = 0.0", 0.1, 10.0, 1);
    assert!((x[0][0] - 10f64.cos()).abs() < 1e-12 && (x[1][0] + 10f64.sin()).abs() < 1e-12, "{x:?}");
}

/// Brian2 2.9.0 (numpy target) running its own examples/CUBA.py at seeds 1–8
/// (tests/brian2/cuba_statistics.py): the mean rate (Hz) and the mean of the neurons' ISI CVs
/// over 200–1000 ms.
const BRIAN2_CUBA_STATS: [(f64, f64); 8] = [
    (5.54, 0.48423592169071344),
    (5.463125, 0.4864764843615035),
    (6.123125, 0.5019013160659423),
    (5.390625, 0.4847598935176475),
    (5.8203125, 0.5113739147583707),
    (5.6771875000000005, 0.49288560594958725),
    (5.4353125, 0.4884913665566898),
    (5.6453125, 0.47065315741768904),
];

#[test]
fn brian2s_cuba_example_fires_as_brian2s_and_alike_on_gpu_and_cpu() {
    let (config, net) = shipped("equations/cuba.toml", &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let (rate, cv) = rate_and_cv(&a, &config, &["exc", "inh"], 2000, 1000.0);
    // Within four standard deviations of Brian2's mean over its eight seeds.
    let (rates, cvs): (Vec<f64>, Vec<f64>) = BRIAN2_CUBA_STATS.iter().copied().unzip();
    let (r, c) = (band(&rates, 4.0), band(&cvs, 4.0));
    assert!(rate > r.0 && rate < r.1, "{rate} Hz, Brian2's band {r:?}");
    assert!(cv > c.0 && cv < c.1, "ISI CV {cv}, Brian2's band {c:?}");
    // The GPU (f32) fires the CPU's (f32) spikes over the first 30 ms.
    let mut short = net.clone();
    short.n_steps = 300;
    let plan = RecordPlan::all_spikes(&short);
    let cpu = run_in_memory(&short, &mut CpuBackend::<f32>::new(&short), &plan);
    let gpu = run_in_memory(&short, &mut gpu_backend(&short, &plan), &plan);
    for p in 0..2 {
        assert!(cpu.spikes[p].len() > 100, "population {p} fires in the first 30 ms");
        assert_eq!(first_difference(&cpu.spikes[p], &gpu.spikes[p]), None, "population {p}");
    }
}

/// `values`' mean ± `sds` sample standard deviations: where a statistic of Brian2's runs at
/// several seeds puts ganglion's.
fn band(values: &[f64], sds: f64) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt();
    (mean - sds * sd, mean + sds * sd)
}

/// The mean rate and mean ISI CV of `populations` (one group, in that order, as Brian2 numbers
/// its subgroups) from step `from` to the end (`duration_ms`), spikes timed at their step's
/// start as Brian2 times them.
fn rate_and_cv(sink: &ganglion::simulator::MemorySink, config: &ganglion::config::Config, populations: &[&str], from: u64, duration_ms: f64) -> (f64, f64) {
    let (mut spikes, mut offset) = (Vec::new(), 0u64);
    for p in populations {
        let index = config.population_index(p).unwrap();
        let late = sink.spikes[index].iter().filter(|s| s.step >= from);
        spikes.extend(late.map(|s| ((s.step - from) as f64 * 0.1, s.neuron as u64 + offset)));
        offset += config.populations[*p].size;
    }
    let window = duration_ms - from as f64 * 0.1;
    let st = ganglion::stats::spike_stats("group", offset as usize, window, &spikes, 50.0);
    (st.mean_rate_hz, st.isi_cv)
}

/// Brian2 2.9.0 (numpy target) running its examples/frompapers/Brunel_2000.py scaled to
/// N_E = 2000 (tests/brian2/brunel2000.py), seeds 1–4: (rate Hz, mean ISI CV) from 100 ms on,
/// in panel C (g = 5, nu_ext = 2 nu_thr, 250 ms) and panel D (g = 4.5, nu_ext = 0.9 nu_thr,
/// 500 ms).
const BRIAN2_BRUNEL_C: [(f64, f64); 4] = [
    (72.50666666666666, 0.16713225111616),
    (71.21333333333334, 0.1725759513871329),
    (74.82933333333334, 0.16718367320223407),
    (72.36, 0.1694111351861342),
];
const BRIAN2_BRUNEL_D: [(f64, f64); 4] = [
    (3.803, 0.28793871645087404),
    (3.1569999999999996, 0.2759511169906558),
    (4.14, 0.2666183363949062),
    (4.092, 0.27209773188281927),
];

#[test]
fn brian2s_brunel_2000_example_fires_as_brian2s_in_its_fast_and_slow_regimes() {
    let scaled = [
        "populations.exc.size=2000",
        "populations.inh.size=500",
        "populations.exc.poisson_inputs.external.n=200",
        "populations.inh.poisson_inputs.external.n=200",
    ];
    for (panel, g, rate, duration, brian2) in [("C", "5.0", "100*Hz", 250.0, &BRIAN2_BRUNEL_C), ("D", "4.5", "45*Hz", 500.0, &BRIAN2_BRUNEL_D)] {
        let mut overrides: Vec<String> = scaled.iter().map(|s| s.to_string()).collect();
        overrides.push(format!("simulation.duration_ms={duration}"));
        overrides.push(format!("synapse_models.inhibitory.namespace.g={g}"));
        for p in ["exc", "inh"] {
            overrides.push(format!("populations.{p}.poisson_inputs.external.rate=\"{rate}\""));
        }
        let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
        let (config, net) = shipped("equations/brunel2000.toml", &overrides);
        let plan = RecordPlan::from_config(&config);
        let sink = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
        let (rate, cv) = rate_and_cv(&sink, &config, &["exc", "inh"], 1000, duration);
        let (rates, cvs): (Vec<f64>, Vec<f64>) = brian2.iter().copied().unzip();
        let (r, c) = (band(&rates, 4.0), band(&cvs, 4.0));
        assert!(rate > r.0 && rate < r.1, "panel {panel}: {rate} Hz, Brian2's band {r:?}");
        assert!(cv > c.0 && cv < c.1, "panel {panel}: ISI CV {cv}, Brian2's band {c:?}");
    }
}

#[test]
fn each_method_converges_at_its_order_on_exponential_decay() {
    let exact = (-1.0f64).exp();
    let error = |method: &str, dt: f64| {
        let x = final_values("dx/dt = -x/tau : 1", method, "tau = \"10*ms\"", "x = 1.0", dt, 10.0, 1);
        (x[0][0] - exact).abs()
    };
    for (method, order) in [("euler", 1), ("rk2", 2), ("rk4", 4)] {
        let (coarse, fine) = (error(method, 0.5), error(method, 0.25));
        let ratio = coarse / fine;
        let expected = 2f64.powi(order);
        assert!(
            (ratio / expected - 1.0).abs() < 0.1,
            "{method}: error {coarse:e} at dt 0.5 ms, {fine:e} at 0.25 ms: ratio {ratio}, expected {expected}"
        );
    }
    // Exact for a linear equation with constant coefficients.
    for method in ["exponential_euler", "exact"] {
        assert!(error(method, 0.5) < 1e-14, "{method}: {}", error(method, 0.5));
    }
    // Brian2's heun is Euler for a deterministic equation.
    assert_eq!(error("heun", 0.5), error("euler", 0.5));
}

#[test]
fn rk4_integrates_the_harmonic_oscillator_at_fourth_order() {
    let equations = "dx/dt = w*y : 1\ndy/dt = -w*x : 1";
    // One period of a 100 Hz oscillator: back to (1, 0).
    let error = |dt: f64| {
        let s = final_values(equations, "rk4", "w = \"2*pi*100*Hz\"", "x = 1.0, y = 0.0", dt, 10.0, 1);
        ((s[0][0] - 1.0).powi(2) + s[1][0].powi(2)).sqrt()
    };
    let (coarse, fine) = (error(0.1), error(0.05));
    assert!(coarse < 1e-5, "{coarse}");
    let ratio = coarse / fine;
    assert!((ratio / 16.0 - 1.0).abs() < 0.1, "rk4 error ratio {ratio}");
}

#[test]
fn euler_maruyama_gives_the_ornstein_uhlenbeck_variance() {
    let eq = "dx/dt = -x/tau + sigma*sqrt(2/tau)*xi : 1";
    let ns = "tau = \"10*ms\", sigma = 0.5";
    let n = 4000;
    for method in ["euler", "heun"] {
        let x = &final_values(eq, method, ns, "x = 0.0", 0.1, 100.0, n)[0];
        let mean = x.iter().sum::<f64>() / n as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        // Stationary variance σ² (1 − e^(−2T/τ)), for Euler–Maruyama σ²/(1 − dt/2τ).
        let expected = 0.25 * (1.0 - (-20.0f64).exp()) / (1.0 - 0.1 / 20.0);
        assert!((var / expected - 1.0).abs() < 0.08, "{method}: variance {var}, expected {expected}");
        assert!(mean.abs() < 4.0 * (expected / n as f64).sqrt(), "{method}: mean {mean}");
    }
}

fn refractory_lif(refractory: &str, unless: bool) -> String {
    format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 50.0
[models.lif]
equations = "dv/dt = (I - v)/tau : 1 {flag}"
threshold = "v > 1"
reset = "v = 0"
refractory = "{refractory}"
namespace = {{ I = 2.0, tau = "10*ms" }}
[populations.p]
model = "lif"
size = 1
[record]
spikes = ["p"]
traces = [{{ population = "p", variables = ["v", "not_refractory"] }}]
"#,
        flag = if unless { "(unless refractory)" } else { "" }
    )
}

#[test]
fn refractoriness_by_time_with_and_without_unless_refractory_on_both_backends() {
    // From v = 0 the neuron crosses 1 after 70 updates (2(1 − e^(−k·dt/τ)) > 1 for k > 69.3).
    // Refractory for 10 ms = 100 steps: frozen, the next crossing is 99 + 70 steps after a
    // spike; integrating through it, v is over 1 when the period ends, 100 steps after.
    for (unless, period) in [(true, 169), (false, 100)] {
        let (config, net) = parsed(&refractory_lif("10*ms", unless), &[]);
        let plan = RecordPlan::from_config(&config);
        let a = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
        let expected: Vec<u64> = (0..).map(|k| 69 + k * period).take_while(|&s| s < 500).collect();
        assert_eq!(steps(&a.spikes[0]), expected, "unless refractory: {unless}");
        let v = &a.traces[0][0];
        let nr = &a.traces[0][1];
        if unless {
            // Held at the reset value for the whole period (samples at the steps' starts).
            assert!(v[70..170].iter().all(|&x| x == 0.0), "{:?}", &v[68..75]);
            assert!(v[170] > 0.0);
            assert_eq!((nr[69], nr[70], nr[169], nr[170]), (1.0, 0.0, 0.0, 1.0));
        }
        let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
        assert_eq!(steps(&b.spikes[0]), expected, "GPU, unless refractory: {unless}");
    }
}

#[test]
fn refractoriness_by_condition_lasts_while_the_condition_holds() {
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
[models.ramp]
equations = "dv/dt = (2 - v)/(2*ms) : 1"
threshold = "v > 1"
refractory = "v > 1"
[populations.p]
model = "ramp"
size = 1
[record]
spikes = ["p"]
"#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    // v stays over 1 once there: one spike, not one per step.
    assert_eq!(a.spikes[0].len(), 1, "{:?}", a.spikes[0]);
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    assert_eq!(a.spikes[0], b.spikes[0]);
}

#[test]
fn the_lif_tutorial_as_equations_spikes_at_the_builtin_models_steps() {
    let (config, net) = shipped("equations/lif_tutorial.toml", &[]);
    let plan = RecordPlan::from_config(&config);
    let eq = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let (config_b, net_b) = shipped("lif_tutorial.toml", &[]);
    let builtin = run_in_memory(&net_b, &mut CpuBackend::<f64>::new(&net_b), &RecordPlan::from_config(&config_b));
    assert_eq!(eq.spikes[0].len(), 9);
    assert_eq!(eq.spikes, builtin.spikes);
    // V in volt against the built-in's mV.
    for (a, b) in eq.traces[0][0].iter().zip(&builtin.traces[0][0]) {
        assert!((a * 1e3 - b).abs() < 1e-3, "{a} V vs {b} mV");
    }
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    assert_eq!(gpu.spikes, eq.spikes);
    // The subexpression I, computed for recording by the GPU's refresh kernel.
    for (a, b) in eq.traces[0][1].iter().zip(&gpu.traces[0][1]) {
        assert!((a - b).abs() <= 1e-5 * 5e-10, "I: {a} A on the CPU, {b} A on the GPU");
    }
}

#[test]
fn the_seed_pair_as_equations_equals_the_builtin_hh_with_euler_and_passes_on_the_gpu() {
    let (config, net) = shipped("equations/hh_pair.toml", &[]);
    let plan = RecordPlan::all_spikes(&net);
    let eq = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let (_, net_b) = shipped("hh_pair.toml", &["populations.hh.params.integrator=\"euler\""]);
    let builtin = run_in_memory(&net_b, &mut CpuBackend::<f64>::new(&net_b), &RecordPlan::all_spikes(&net_b));
    assert_eq!(eq.spikes[0].len(), 138);
    assert_eq!(first_difference(&eq.spikes[0], &builtin.spikes[0]), None, "the summed synapse and the built-in graded one");
    let rows = ganglion::compare::validate(&config, ganglion::config::Precision::F64, &Default::default()).unwrap();
    assert!(rows.iter().all(|r| r.pass()), "{}", ganglion::compare::table(&rows, &Default::default()));
}

/// Brian2's COBAHH as equations with the built-in network's initial state and connectivity.
fn cobahh_from_builtin_state() -> (ganglion::network::Network, ganglion::network::Network) {
    let (_, builtin) = shipped("cobahh.toml", &["simulation.precision=\"f64\"", "simulation.backend=\"cpu\""]);
    let text = std::fs::read_to_string(repo_path("configs/equations/cobahh.toml")).unwrap();
    // The same initial values as lists (SI): V from the populations, g from the projections.
    let list = |xs: &[f64], scale: f64| {
        let v: Vec<String> = xs.iter().map(|x| format!("{:e}", x * scale)).collect();
        format!("[{}]", v.join(", "))
    };
    let g0 = |name: &str| {
        let p = builtin.projections.iter().find(|p| p.name == name).unwrap();
        p.event.as_ref().unwrap().g0.clone()
    };
    let mut text = text;
    for (pop, index, ge, gi) in [("exc", 0, "ee", "ie"), ("inh", 1, "ei", "ii")] {
        let line = format!(
            "init = {{ v = {}, ge = {}, gi = {} }}",
            list(&builtin.populations[index].init[0], 1e-3),
            list(&g0(ge), 1e-9),
            list(&g0(gi), 1e-9)
        );
        let header = format!("[populations.{pop}]\nmodel = \"cobahh\"\nsize = ");
        let at = text.find(&header).unwrap();
        let init_at = at + text[at..].find("init = ").unwrap();
        let end = init_at + text[init_at..].find('\n').unwrap();
        text.replace_range(init_at..end, &line);
    }
    let (_, eq) = parsed(&text, &["simulation.precision=\"f64\"", "simulation.backend=\"cpu\""]);
    (eq, builtin)
}

#[test]
fn brian2s_cobahh_as_equations_spikes_as_the_builtin_network_for_50_ms() {
    let (eq, builtin) = cobahh_from_builtin_state();
    for p in &eq.projections {
        let b = builtin.projections.iter().find(|q| q.name == p.name).unwrap();
        assert_eq!(p.csr.col_idx, b.csr.col_idx, "{}: the same connectivity", p.name);
    }
    let until = |net: &ganglion::network::Network, ms: f64| {
        let mut plan = RecordPlan::all_spikes(net);
        plan.traces.clear();
        let mut net = net.clone();
        net.n_steps = (ms / net.dt_ms) as u64;
        run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan).spikes
    };
    let (a, b) = (until(&eq, 50.0), until(&builtin, 50.0));
    for p in 0..2 {
        assert!(a[p].len() > 100, "population {p} fires in the first 50 ms");
        assert_eq!(first_difference(&a[p], &b[p]), None, "population {p}: the spikes of the first 50 ms");
    }
}

#[test]
fn brian2s_cobahh_as_equations_is_identical_on_gpu_and_cpu_for_25_ms_and_the_same_statistically_over_300_ms() {
    // 300 ms rather than the built-in test's 1 s: lavapipe runs this network's deliveries,
    // which walk every synapse each step, ten times slower than the built-in ones.
    let (_, net) = shipped("equations/cobahh.toml", &["simulation.duration_ms=300"]);
    let plan = RecordPlan::all_spikes(&net);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    // The GPU's exp and the CPU's differ in the last bit; the chaotic network parts them
    // after some tens of ms (40 ms on lavapipe).
    let until_25ms = |s: &[Spike]| s.iter().copied().filter(|s| (s.step as f64) * net.dt_ms < 25.0).collect::<Vec<_>>();
    for p in 0..2 {
        assert_eq!(first_difference(&until_25ms(&a.spikes[p]), &until_25ms(&b.spikes[p])), None, "population {p}");
    }
    for p in 0..2 {
        let n = net.populations[p].size as f64;
        let (ra, rb) = (a.spikes[p].len() as f64 / n, b.spikes[p].len() as f64 / n);
        assert!(ra > 1.5 && (ra - rb).abs() <= 0.10 * ra, "population {p}: {ra} vs {rb} spikes per neuron");
    }
}

fn delivery_network(delay: &str) -> String {
    format!(
        r#"
[simulation]
dt_ms = 0.125
duration_ms = 4.0
[models.clock]
equations = "dv/dt = 1/ms : 1"
threshold = "v > 1"
reset = "v = 0"
[models.counter]
equations = "count : 1"
[synapse_models.tally]
model = "w : 1"
on_pre = "count_post += w"
[populations.src]
model = "clock"
size = 1
[populations.dst]
model = "counter"
size = 3
[projections.link]
source = "src"
target = "dst"
synapse = "tally"
connectivity = {{ rule = "explicit", pre = [0, 0, 0], post = [0, 1, 2] }}
init = {{ w = "1 + j" }}
delay = "{delay}"
[record]
spikes = ["src"]
traces = [{{ population = "dst", variables = ["count"] }}]
"#
    )
}

#[test]
fn on_pre_adds_to_the_post_synaptic_neuron_after_each_synapses_delay_on_both_backends() {
    // v grows by 0.125 per step: over 1 after 9 updates, so the source spikes at steps 8, 17, 26.
    let (config, net) = parsed(&delivery_network("j*0.5*ms"), &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let src = config.population_index("src").unwrap();
    assert_eq!(steps(&a.spikes[src]), vec![8, 17, 26]);
    let count = &a.traces[0][0];
    let at = |sample: usize, neuron: usize| count[3 * sample + neuron];
    // Synapse j has delay j·4 steps and weight 1 + j; a delivery in step k (after the
    // threshold, Brian2's order) shows in the sample at the start of step k + 1.
    for (j, delay) in [(0usize, 0usize), (1, 4), (2, 8)] {
        let w = 1.0 + j as f32;
        assert_eq!(at(8 + delay, j), 0.0, "synapse {j}: nothing before its delay");
        assert_eq!(at(9 + delay, j), w, "synapse {j}: the first spike");
        assert_eq!(at(18 + delay, j), 2.0 * w, "synapse {j}: the second");
    }
    let mut gpu = gpu_backend(&net, &plan);
    let b = run_in_memory(&net, &mut gpu, &plan);
    assert_eq!(a.traces, b.traces, "GPU and CPU");
    // Delays of their own, the longest 8 steps: each spike marks its synapses in the slots of
    // the steps they receive it, nine slots (two passes). `check`, which cannot know drawn
    // delays, counts them walked (one pass).
    let built = ganglion::shape::Shape::from_network(&net);
    assert_eq!((built.projections[0].arrival_slots, built.projections[0].equation_passes, gpu.equation_passes()), (9, Some(2), 2));
    let shape = ganglion::shape::Shape::from_config(&config);
    assert_eq!((shape.projections[0].arrival_slots, shape.projections[0].equation_passes), (0, Some(1)));
    // Past 32 steps of delay the GPU walks the rows.
    let (config, net) = parsed(&delivery_network("j*2.5*ms"), &["simulation.duration_ms=8"]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let mut gpu = gpu_backend(&net, &plan);
    assert_eq!(gpu.equation_passes(), 1);
    assert_eq!(a.traces, run_in_memory(&net, &mut gpu, &plan).traces, "GPU and CPU, walked");
    assert!(a.traces[0][0].contains(&3.0), "synapse 2 received its first spike");
    // One delay for all: the sources whose spikes arrive mark their synapses, in one slot
    // (two passes), and its traces are the CPU's.
    let (config, net) = parsed(&delivery_network("1*ms"), &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    assert_eq!(a.traces[0][0][3 * 16..3 * 18], [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]);
    let shape = ganglion::shape::Shape::from_config(&config);
    assert_eq!(shape.projections[0].arrival_slots, 1);
    assert_eq!(shape, ganglion::shape::Shape::from_network(&net));
    let mut gpu = gpu_backend(&net, &plan);
    assert_eq!((shape.projections[0].equation_passes, gpu.equation_passes()), (Some(2), 2));
    let b = run_in_memory(&net, &mut gpu, &plan);
    assert_eq!(a.traces, b.traces, "GPU and CPU");
}

#[test]
fn many_increments_into_one_neuron_sum_in_the_same_order_on_gpu_and_cpu() {
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
precision = "f32"
[models.driven]
equations = "dv/dt = rate : 1\nrate : hertz"
threshold = "v > 1"
reset = "v = 0"
[models.sink]
equations = "dg/dt = -g/(3*ms) : 1"
[synapse_models.random_weight]
model = "w : 1"
on_pre = "g += w"
[populations.src]
model = "driven"
size = 300
init = { rate = "(200 + 500*rand())*Hz", v = "rand()" }
[populations.dst]
model = "sink"
size = 2
[projections.link]
source = "src"
target = "dst"
synapse = "random_weight"
connectivity = { rule = "all_to_all" }
init = { w = "rand()*0.1" }
[record]
traces = [{ population = "dst", variables = ["g"] }]
"#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    assert!(a.traces[0][0].iter().any(|&g| g > 0.5));
    assert_eq!(a.traces, b.traces, "bit for bit");
    // Drawn delays of up to 2 ms (20 steps): each spike marks its synapses in a ring of 21
    // slots (the rows of 300 meeting within a word of bits).
    let (config, net) = parsed(text, &["projections.link.delay=\"2*ms*rand()\""]);
    assert_eq!(ganglion::shape::Shape::from_network(&net).projections[0].arrival_slots, 21);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    assert!(a.traces[0][0].iter().any(|&g| g > 0.5));
    let mut gpu = gpu_backend(&net, &plan);
    assert_eq!(gpu.equation_passes(), 2);
    assert_eq!(a.traces, run_in_memory(&net, &mut gpu, &plan).traces, "bit for bit");
}

#[test]
fn floor_division_is_brian2s_on_both_backends() {
    // Brian2 2.9's values (tests/brian2/floor_division.py): 3, -4, and c = 1, 2, 2, 3, 3.
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 5.0
[models.m]
equations = '''
dv/dt = (i // 2 - v)/(2*ms) : 1
a : 1
b : 1
c : 1
'''
threshold = "v > 1.5"
reset = "v = 0"
[populations.p]
model = "m"
size = 5
init = { a = "7 // 2", b = "-7 // 2", c = "(i - 2.5) // 2 + 7.5 // 2" }
[synapse_models.s]
model = "w : 1"
on_pre = "v_post += 0.1"
[projections.q]
source = "p"
target = "p"
synapse = "s"
connectivity = { rule = "expression", j = "k for k in sample(N_post, size=i//2)" }
[record]
spikes = ["p"]
traces = [{ population = "p", variables = ["v"] }]
"#;
    let (config, net) = parsed(text, &[]);
    let init = &net.populations[0].init;
    assert_eq!((&init[1][..], &init[2][..], &init[3][..]), (&[3.0; 5][..], &[-4.0; 5][..], &[1.0, 2.0, 2.0, 3.0, 3.0][..]));
    // Brian2's documented generator: i//2 targets per source.
    let csr = &net.projections[0].csr;
    let mut per_source = [0usize; 5];
    csr.col_idx.iter().for_each(|&i| per_source[i as usize] += 1);
    assert_eq!(per_source, [0, 0, 1, 1, 2]);
    // In the equations: v → i // 2 (0, 0, 1, 1, 2), so only neurons 4 fire; alike on both.
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let b = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    assert_eq!((&a.spikes, &a.traces), (&b.spikes, &b.traces));
    assert!(!a.spikes[0].is_empty() && a.spikes[0].iter().all(|s| s.neuron == 4), "{:?}", a.spikes[0]);
    // Of dimensionless values only, as in Brian2.
    let e = config_error(&text.replace("a = \"7 // 2\"", "a = \"7*ms // 2\""));
    assert!(e.contains("populations.p.init.a") && e.contains("`//` (floor division) takes dimensionless values"), "{e}");
}

#[test]
fn compound_statements_are_brian2s() {
    // Brian2's `//=`, `%=` and `**=`: x = x // y and so on, three times (run_regularly each
    // step for 0.3 ms): a 13 → 6 → 3 → 1, b −7 → 2 (Python's modulo) → 2 → 2, c 1.5 → 2.25 →
    // 5.0625 → 25.62890625.
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 0.3
[models.m]
equations = "a : 1\nb : 1\nc : 1\nd : volt"
[populations.p]
model = "m"
size = 2
init = { a = "13", b = "-7", c = "1.5", d = "5*mV" }
[populations.p.run_regularly.fold]
code = "a //= 2\nb %= 3\nc **= 2\nd %= 3*mV"
"#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let mut gpu = gpu_backend(&net, &plan);
    run_in_memory(&net, &mut gpu, &plan);
    for state in [cpu.read_state().unwrap(), gpu.read_state().unwrap()] {
        let got: Vec<f64> = state[0].iter().map(|v| v[1]).collect();
        assert_eq!(got[..3], [1.0, 2.0, 25.62890625], "{got:?}");
        assert!((got[3] - 2e-3).abs() < 1e-9, "5 mV % 3 mV: {got:?}");
    }
    // Dimensions as the expressions': `//` and `**` of a voltage change it.
    for (code, message) in [("d //= 2", "`//` (floor division) takes dimensionless values"), ("d **= 2", "of a variable in volt")] {
        let e = config_error(&text.replace("a //= 2\\nb %= 3\\nc **= 2\\nd %= 3*mV", code));
        assert!(e.contains("populations.p.run_regularly.fold.code") && e.contains(message), "{code}: {e}");
    }
}

#[test]
fn the_generated_shaders_validate_with_naga() {
    use wgpu::naga;
    for name in ["hh_pair", "lif_tutorial", "cobahh"] {
        let (config, _) = shipped(&format!("equations/{name}.toml"), &[]);
        let kind = config.model(0);
        let text = kind.update_wgsl().unwrap();
        let module = naga::front::wgsl::parse_str(&text).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&text)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

#[test]
fn powers_of_a_negative_base_are_the_cpus_on_the_gpu() {
    // Whole exponents past 8 are not expanded into products; WGSL's pow alone is indeterminate
    // for a negative base (NaN on lavapipe), where the CPU's powf gives the signed power.
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 5.0
[models.m]
equations = '''
dx/dt = -(x**9)/ms : 1
dz/dt = (z**-9)/(1e4*ms) : 1
dy/dt = -(y**2.5)/ms : 1
'''
method = "euler"
[populations.p]
model = "m"
size = 1
init = { x = -0.9, z = -1.1, y = -0.5 }
[record]
traces = [{ population = "p", variables = ["x", "z", "y"] }]
"#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    for (var, name) in [(0, "x"), (1, "z")] {
        let (a, b) = (&cpu.traces[0][var], &gpu.traces[0][var]);
        assert!(a[1] != a[0] && a.iter().all(|v| v.is_finite()), "{name}: {a:?}");
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x - y).abs() <= 1e-5 * x.abs(), "{name}: {x} on the CPU, {y} on the GPU");
        }
    }
    // A fractional power of a negative number is NaN on both.
    assert!(cpu.traces[0][2][1].is_nan() && gpu.traces[0][2][1].is_nan());
}

/// A sum of `terms` terms in the derivative, the threshold and the reset: 300 are deeper
/// than naga's WGSL parser reads in one expression.
fn long_sum_model(terms: usize) -> String {
    let sum: String = (1..=terms).map(|k| format!(" + {k}e-5*sin(v - {k}e-3)")).collect();
    format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 30.0
[models.m]
equations = "dv/dt = (1.5 - v{sum})/(5*ms) : 1"
threshold = "v > 1{sum}"
reset = "v = 0{sum}"
method = "euler"
[populations.p]
model = "m"
size = 3
init = {{ v = "0.3*i" }}
[record]
spikes = ["p"]
"#
    )
}

#[test]
fn long_expressions_run_alike_on_gpu_and_cpu_and_too_deep_ones_are_refused() {
    let (config, net) = parsed(&long_sum_model(300), &[]);
    let plan = RecordPlan::from_config(&config);
    let text = config.model(0).update_wgsl().unwrap();
    assert!(text.contains("let deep_update_0 = ") && text.contains("let deep_threshold_0 = "), "no expression was cut");
    let cpu = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    assert!(cpu.spikes[0].len() > 10, "{:?}", cpu.spikes[0]);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    assert_eq!(first_difference(&gpu.spikes[0], &cpu.spikes[0]), None);
    // Past the parser's bounds: an error naming the line, not a stack overflow.
    let e = config_error(&long_sum_model(2000));
    assert!(e.contains("models.m.equations") && e.contains("line 1") && e.contains("operations deep"), "{e}");
    let e = config_error(&long_sum_model(1).replace("(1.5 - v", &format!("{}(1.5 - v", "-".repeat(10_000))));
    assert!(e.contains("models.m.equations") && e.contains("nested"), "{e}");
}

#[test]
fn errors_name_the_key_the_line_and_what_is_wrong() {
    let model = |equations: &str, extra: &str| {
        format!(
            "[simulation]\ndt_ms = 0.1\nduration_ms = 1.0\n[models.m]\nequations = '''\n{equations}\n'''\n{extra}\n[populations.p]\nmodel = \"m\"\nsize = 1\n"
        )
    };
    let cases = [
        (
            model("dv/dt = (El - v)/tau : volt\ndw/dt = -w/tau + v : 1", "namespace = { El = \"-60*mV\", tau = \"10*ms\" }"),
            vec!["models.m.equations", "line 2", "volt", "hertz"],
        ),
        (model("dv/dt = -v/tau : volt", ""), vec!["models.m.equations", "unknown name `tau`"]),
        (
            model("dv/dt = -v**2/(1*ms) : 1", "method = \"exponential_euler\""),
            vec!["models.m.method", "not linear in v"],
        ),
        (
            model("dv/dt = -v/(1*ms) + xi/sqrt(ms) : 1", "method = \"rk4\""),
            vec!["models.m.method", "stochastic"],
        ),
        // Brian2's euler takes additive noise only (heun is its method for the other).
        (
            model("dv/dt = -v/(1*ms) + v*xi/sqrt(ms) : 1", "method = \"euler\""),
            vec!["models.m.method", "multiplicative noise", "use heun"],
        ),
        (model("dv/dt = -v/(1*ms) : 1", "threshold = \"v + 1\""), vec!["models.m.threshold", "condition"]),
        (
            model("dv/dt = -v/(1*ms) : 1", "threshold = \"v > 1\"\nreset = \"u = 0\""),
            vec!["models.m.reset", "unknown variable `u`"],
        ),
        (
            model("dv/dt = -v/(1*ms) : 1", "threshold = \"v > 1\"\nrefractory = \"2*mV\""),
            vec!["models.m.refractory", "duration"],
        ),
        (
            model("dx/dt = y/tau : 1\ndy/dt = -x/tau : 1\ntau : second", ""),
            vec!["models.m.method", "coupled linear system", "not all numbers", "name a method"],
        ),
        (
            model("dv/dt = (w - v)/ms : 1 (unless refractory)\ndw/dt = (v - w)/ms : 1", "threshold = \"v > 1\"\nrefractory = \"2*ms\""),
            vec!["models.m.method", "dw/dt reads v", "held while refractory"],
        ),
        (model("dv/dt = -v/(1*ms) : 1 (summed)", ""), vec!["unknown flag `summed`"]),
        // Names the language has already: taken, they would shadow or be shadowed silently.
        (model("dv/dt = -v/(1*ms) : 1\npi : 1", ""), vec!["models.m.equations", "line 2", "`pi` is a constant"]),
        (model("dv/dt = -v/(1*ms) : 1\nexp : 1", ""), vec!["models.m.equations", "`exp` is a function"]),
        (model("dv/dt = -v/tau : 1", "namespace = { tau = \"1*ms\", t = 2.0 }"), vec!["models.m.namespace.t", "`t` is a reserved name"]),
        // x/0 is inf on the CPU and indeterminate in WGSL: refused where the divisor is a constant.
        (
            model("x : 1\ndv/dt = -v/tau : 1", "namespace = { tau = \"0*ms\" }"),
            vec!["models.m.equations", "line 2, column 11", "`/` divides by zero"],
        ),
        (
            model("dv/dt = -v/tau + (v % (a - a))/tau : 1", "namespace = { tau = \"1*ms\", a = 2.0 }"),
            vec!["models.m.equations", "line 1, column 21", "`%` divides by zero"],
        ),
    ];
    for (text, expected) in cases {
        let e = config_error(&text);
        for part in expected {
            assert!(e.contains(part), "`{part}` not in: {e}");
        }
    }
    // Init: a dimensioned variable needs its unit.
    let text = model("dv/dt = -v/(10*ms) : volt", "").replace("size = 1\n", "size = 1\ninit = { v = -65.0 }\n");
    let e = config_error(&text);
    assert!(e.contains("populations.p.init.v") && e.contains("-65*mV"), "{e}");
    // A summed variable must be a parameter of the target.
    let text = delivery_network("0*ms")
        .replace(r#"equations = "count : 1""#, r#"equations = "dcount/dt = -count/ms : 1""#)
        .replace(
            "model = \"w : 1\"\non_pre = \"count_post += w\"",
            "model = '''\nw : 1\ncount_post = w : 1 (summed)\n'''",
        );
    let e = config_error(&text);
    assert!(e.contains("synapse_models.tally.model") && e.contains("must be a parameter"), "{e}");
    // A misspelt method is refused even where the synapse has nothing to integrate.
    let e = config_error(&delivery_network("0*ms").replace("on_pre = \"count_post += w\"", "on_pre = \"count_post += w\"\nmethod = \"eular\""));
    assert!(e.contains("synapse_models.tally.method") && e.contains("unknown method `eular`"), "{e}");
    // An unknown synapse names what there is.
    let e = config_error(&delivery_network("0*ms").replace("synapse = \"tally\"", "synapse = \"talley\""));
    assert!(e.contains("projections.link.synapse") && e.contains("tally"), "{e}");
}

#[test]
fn initial_values_and_delays_that_cannot_be_are_refused_by_key() {
    // What a constant tells is refused by `check`, before anything is built: NaN, a division
    // by zero, a delay outside 0 … 65000 steps.
    let clock = |init: &str| delivery_network("0*ms").replace("size = 1\n", &format!("size = 1\ninit = {{ v = \"{init}\" }}\n"));
    let cases = [
        (clock("sqrt(-1)"), vec!["populations.src.init.v", "is NaN"]),
        (clock("1/(2 - 2)"), vec!["populations.src.init.v", "divides by zero"]),
        (delivery_network("-1*ms"), vec!["projections.link.delay", "-0.001 s is outside 0 … 65000 steps"]),
        (delivery_network("1e4*second"), vec!["projections.link.delay", "outside 0 … 65000 steps"]),
        (delivery_network("0*ms").replace("w = \"1 + j\"", "w = \"log(-1)\""), vec!["projections.link.init.w", "is NaN"]),
    ];
    for (text, expected) in cases {
        let e = config_error(&text);
        for part in expected {
            assert!(e.contains(part), "`{part}` not in: {e}");
        }
    }
    // What each neuron or synapse computes is refused when the network is built, naming the
    // first that is not finite.
    let built = |text: &str| {
        let config = ganglion::config::parse(text, &[]).expect("check accepts it");
        ganglion::network::Network::build(&config).expect_err("the build refuses it").to_string()
    };
    let e = built(&clock("log(i)"));
    assert!(e.contains("populations.src.init.v") && e.contains("gives -inf for neuron 0"), "{e}");
    let e = built(&delivery_network("0*ms").replace("w = \"1 + j\"", "w = \"1/(j - 1)\""));
    assert!(e.contains("projections.link.init.w") && e.contains("for synapse 1"), "{e}");
    let e = built(&delivery_network("(j - 1)*ms"));
    assert!(e.contains("projections.link.delay") && e.contains("outside"), "{e}");
}

#[test]
fn the_readmes_example_model_runs() {
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    let section = &readme[readme.find("## Writing your own model").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let text = format!("[simulation]\ndt_ms = 0.1\nduration_ms = 20.0\n{example}\n[record]\nspikes = [\"lif\"]\n");
    let (config, net) = parsed(&text, &[]);
    let plan = RecordPlan::from_config(&config);
    let a = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    assert!(!a.spikes[0].is_empty());
}

#[test]
fn brian2s_cobahh_as_equations_has_the_builtin_networks_statistics_over_1_s() {
    // Each with its own initial values (Brian2's expressions; the built-in's draws).
    let (_, eq) = shipped("equations/cobahh.toml", &["simulation.backend=\"cpu\""]);
    let (_, builtin) = shipped("cobahh.toml", &["simulation.backend=\"cpu\""]);
    let stats = |net: &ganglion::network::Network| {
        let plan = RecordPlan::all_spikes(net);
        let sink = run_in_memory(net, &mut CpuBackend::<f32>::new(net), &plan);
        net.populations
            .iter()
            .enumerate()
            .map(|(p, pop)| {
                let pairs: Vec<(f64, u64)> = sink.spikes[p]
                    .iter()
                    .map(|s| ((s.step + 1) as f64 * net.dt_ms, s.neuron as u64))
                    .collect();
                ganglion::stats::spike_stats(&pop.name, pop.size, 1000.0, &pairs, 100.0)
            })
            .collect::<Vec<_>>()
    };
    for (a, b) in stats(&eq).iter().zip(stats(&builtin)) {
        assert!(a.mean_rate_hz > 5.0);
        assert!((a.mean_rate_hz / b.mean_rate_hz - 1.0).abs() <= 0.05, "{}: {} Hz vs {} Hz", a.population, a.mean_rate_hz, b.mean_rate_hz);
        assert!((a.isi_cv / b.isi_cv - 1.0).abs() <= 0.10, "{}: ISI CV {} vs {}", a.population, a.isi_cv, b.isi_cv);
    }
}

#[test]
fn subexpressions_are_recorded_with_their_values_and_every_variable_with_its_si_unit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lif.h5");
    let req = ganglion::app::RunRequest {
        config: repo_path("configs/equations/lif_tutorial.toml"),
        overrides: vec!["simulation.duration_ms=20".into()],
        output: Some(out.clone()),
        ..Default::default()
    };
    ganglion::app::run(&req).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    let unit = |var: &str| -> String {
        let u: hdf5::types::VarLenUnicode = f
            .dataset(&format!("report/lif/{var}/data"))
            .unwrap()
            .attr("units")
            .unwrap()
            .read_scalar()
            .unwrap();
        u.to_string()
    };
    assert_eq!((unit("v"), unit("I")), ("volt".to_string(), "amp".to_string()));
    let current: Vec<f32> = f.dataset("report/lif/I/data").unwrap().read_raw().unwrap();
    // I at the start of step k: I_mean (1 + sin(2π t_k / 10 ms)), t_k = k ms.
    for (k, &i) in current.iter().enumerate() {
        let want = 25e-11 * (1.0 + (2.0 * std::f64::consts::PI * k as f64 / 10.0).sin());
        assert!((i as f64 - want).abs() < 1e-6 * 25e-11, "step {k}: {i} A, expected {want} A");
    }
}

/// Brian2's counts in a synapse's `init` and `delay`, and `N` in a neuron's equations.
const COUNTED_SYNAPSES: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0

[models.drive]
equations = "dv/dt = (0.1*N - v)/(10*ms) : 1"
threshold = "v > 0.5"
reset = "v = 0"
method = "euler"

[models.sink]
equations = "v : 1"

[synapse_models.counted]
model = "w : 1"
on_pre = "v_post += w"

[populations.a]
model = "drive"
size = 7

[populations.b]
model = "sink"
size = 5

[projections.S]
source = "a"
target = "b"
synapse = "counted"
connectivity = { rule = "expression", condition = "(i*i + 2*j) % 5 < 2 or i == j" }
init = { w = "1.0/N_incoming + 10*N_outgoing + 100*N_pre + 1000*N_post + 0.5*N" }
delay = "N_incoming*0.1*ms"

[record]
spikes = ["a"]
"#;

/// Brian2 2.9's (i, j, w) and (i, j, delay in steps) of that projection, and the drive's
/// spike steps (tests/brian2/synapse_counts.py).
const BRIAN2_COUNTED_W: [(u32, u32, f64); 17] = [
    (0, 0, 5728.7),
    (0, 3, 5728.75),
    (1, 0, 5738.7),
    (1, 1, 5738.833333333333),
    (1, 2, 5738.75),
    (2, 1, 5738.833333333333),
    (2, 2, 5738.75),
    (2, 3, 5738.75),
    (3, 1, 5728.833333333333),
    (3, 3, 5728.75),
    (4, 0, 5738.7),
    (4, 2, 5738.75),
    (4, 4, 5739.5),
    (5, 0, 5728.7),
    (5, 3, 5728.75),
    (6, 0, 5728.7),
    (6, 2, 5728.75),
];
const BRIAN2_COUNTED_DELAYS: [(u32, u32, u32); 17] = [(0, 0, 5), (0, 3, 4), (1, 0, 5), (1, 1, 3), (1, 2, 4), (2, 1, 3), (2, 2, 4), (2, 3, 4), (3, 1, 3), (3, 3, 4), (4, 0, 5), (4, 2, 4), (4, 4, 1), (5, 0, 5), (5, 3, 4), (6, 0, 5), (6, 2, 4)];
const BRIAN2_DRIVE_STEPS: [u64; 1] = [124];

#[test]
fn synapse_counts_and_the_population_size_are_brian2s() {
    let (config, net) = parsed(COUNTED_SYNAPSES, &[]);
    let p = &net.projections[0];
    let e = p.equation.as_ref().unwrap();
    let mut ours: Vec<(u32, u32, f64)> = Vec::new();
    let mut delays: Vec<(u32, u32, u32)> = Vec::new();
    for j in 0..p.csr.n_rows {
        for s in p.csr.row_ptr[j] as usize..p.csr.row_ptr[j + 1] as usize {
            ours.push((p.csr.col_idx[s], j as u32, e.state[0][s]));
            delays.push((p.csr.col_idx[s], j as u32, e.delays[s]));
        }
    }
    ours.sort_by(|a, b| a.partial_cmp(b).unwrap());
    delays.sort_unstable();
    assert_eq!(ours.len(), BRIAN2_COUNTED_W.len());
    for (o, b) in ours.iter().zip(&BRIAN2_COUNTED_W) {
        assert!(o.0 == b.0 && o.1 == b.1 && (o.2 - b.2).abs() < 1e-9, "{o:?} here, {b:?} in Brian2");
    }
    assert_eq!(delays, BRIAN2_COUNTED_DELAYS);
    // `N` in a neuron's equations is its population's size on both backends.
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    // Each of the seven drives alike: seven spikes at Brian2's step.
    assert_eq!(steps(&cpu.spikes[0]), [BRIAN2_DRIVE_STEPS[0]; 7]);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let f32 = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    assert_eq!(gpu.spikes, f32.spikes);
    assert_eq!(steps(&gpu.spikes[0]), [BRIAN2_DRIVE_STEPS[0]; 7]);
}

/// Brian2 2.9's b.v and b.I after 20 ms with the counts read by `on_pre`, a clock-driven
/// equation and a summed variable (tests/brian2/synapse_counts.py).
const BRIAN2_COUNTED_V: [f64; 5] = [6.035, 4.101, 5.718, 4.968, 5.367];
const BRIAN2_COUNTED_I: [f64; 5] = [2.441927477700274, 2.6698083085558597, 2.7686460681982306, 2.277619510344007, 2.9631593471253423];

#[test]
fn synapse_counts_read_by_statements_and_equations_are_brian2s() {
    let text = COUNTED_SYNAPSES
        .replace("equations = \"v : 1\"", "equations = \"v : 1\\nI : 1\"")
        .replace(
            "model = \"w : 1\"\non_pre = \"v_post += w\"",
            "model = \"\"\"\nw : 1\ndq/dt = (N_outgoing - q)/(5*ms) : 1 (clock-driven)\nI_post = q/N_incoming + 0.001*N : 1 (summed)\n\"\"\"\n\
             on_pre = \"v_post += w/N_incoming + 0.01*N_pre*N_post + 0.001*N\"\nmethod = \"euler\"",
        )
        .replace("init = { w = \"1.0/N_incoming + 10*N_outgoing + 100*N_pre + 1000*N_post + 0.5*N\" }\ndelay = \"N_incoming*0.1*ms\"", "init = { w = \"1 + i\" }");
    let (config, net) = parsed(&text, &[]);
    // The counts are the synapse's variables, as Brian2's N_incoming is.
    let p = &net.projections[0];
    let program = p.equation.as_ref().unwrap();
    let names: Vec<&str> = config.resolved.synapses[0].as_ref().unwrap().vars.iter().map(|v| v.name.as_str()).collect();
    let incoming = names.iter().position(|&n| n == "N_incoming").expect("N_incoming kept");
    for j in 0..p.csr.n_rows {
        for s in p.csr.row_ptr[j] as usize..p.csr.row_ptr[j + 1] as usize {
            assert_eq!(program.state[incoming][s], (p.csr.row_ptr[j + 1] - p.csr.row_ptr[j]) as f64);
        }
    }
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let mut gpu = gpu_backend(&net, &plan);
    run_in_memory(&net, &mut gpu, &plan);
    for (backend, state, tolerance) in [("CPU", cpu.read_state().unwrap(), 1e-9), ("GPU", gpu.read_state().unwrap(), 1e-4)] {
        for (k, brian2) in [(0, BRIAN2_COUNTED_V), (1, BRIAN2_COUNTED_I)] {
            for (n, (&ours, want)) in state[1][k].iter().zip(brian2).enumerate() {
                assert!((ours - want).abs() < tolerance * want.abs(), "{backend}: variable {k} of b[{n}] is {ours}, Brian2's {want}");
            }
        }
    }
    // Nor may they be set or written.
    let e = config_error(&text.replace("init = { w = \"1 + i\" }", "init = { w = \"1 + i\", N_incoming = \"2\" }"));
    assert!(e.contains("projections.S.init.N_incoming") && e.contains("cannot be set"), "{e}");
    let e = config_error(&text.replace("on_pre = \"v_post += ", "on_pre = \"N_incoming = 2\\nv_post += "));
    assert!(e.contains("synapse_models.counted.on_pre") && e.contains("cannot be assigned"), "{e}");
    let e = config_error(&text.replace("w : 1\ndq/dt", "w : 1\nN_outgoing : 1\ndq/dt"));
    assert!(e.contains("synapse_models.counted.model") && e.contains("Brian2's counts"), "{e}");
}

#[test]
fn init_reads_the_step_and_a_start_at_t_zero() {
    // Brian2 evaluates initial values at t = 0 with the clock's dt (dt read 0 here before).
    let text = "[simulation]\ndt_ms = 0.1\nduration_ms = 1.0\n[models.m]\nequations = \"\"\"\na : second\nb : second\n\"\"\"\n\
                [populations.p]\nmodel = \"m\"\nsize = 2\ninit = { a = \"dt\", b = \"t + (i + 2)*dt\" }\n";
    let (_, net) = parsed(text, &[]);
    let init = &net.populations[0].init;
    assert!(init[0].iter().all(|&a| (a - 1e-4).abs() < 1e-18), "{init:?}");
    assert!((init[1][0] - 2e-4).abs() < 1e-18 && (init[1][1] - 3e-4).abs() < 1e-18, "{init:?}");
}

#[test]
fn summed_terms_read_each_synapses_i_and_its_rows_j_on_both_backends() {
    // x_post = Σ_i (j + w·i) over 100 sources (two batches of the CPU's lanes), w = 1: 100·j +
    // 4950 at target j, not j plus the lane.
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 0.2
[models.still]
equations = "x : 1"
[synapse_models.s]
model = "x_post = j + w*i : 1 (summed)\nw : 1"
[populations.pre]
model = "still"
size = 100
[populations.post]
model = "still"
size = 3
[projections.link]
source = "pre"
target = "post"
synapse = "s"
connectivity = { rule = "all_to_all" }
init = { w = 1.0 }
[record]
traces = [{ population = "post", variables = ["x"] }]
"#;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    for out in [&cpu, &gpu] {
        // The second sample: the sums of the first step.
        assert_eq!(out.traces[0][0][3..], [4950.0, 5050.0, 5150.0]);
    }
}

#[test]
fn traces_sample_where_brian2s_when_says_on_both_backends() {
    // Two LIF neurons that cross threshold: v sampled at the step's start (Brian2's default),
    // after the update and thresholds (over 1 where a neuron spikes, before its reset) and at
    // the end (after the resets: the next step's start).
    let text = |when: &str| {
        format!(
            "[simulation]\ndt_ms = 0.1\nduration_ms = 30.0\n[models.lif]\nequations = \"dv/dt = (1.5 - v)/(10*ms) : 1\"\nthreshold = \"v > 1\"\nreset = \"v = 0\"\n[populations.p]\nmodel = \"lif\"\nsize = 2\ninit = {{ v = \"0.5*i\" }}\n[record]\nspikes = [\"p\"]\ntraces = [{{ population = \"p\", variables = [\"v\"]{when} }}]\n"
        )
    };
    let sampled = |when: &str, gpu: bool| {
        let (config, net) = parsed(&text(when), &[]);
        let plan = RecordPlan::from_config(&config);
        let out = if gpu {
            run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan)
        } else {
            run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan)
        };
        (out.traces[0][0].clone(), out.spikes[0].clone())
    };
    for gpu in [false, true] {
        let (start, spikes) = sampled("", gpu);
        let (thresholds, _) = sampled(", when = \"thresholds\"", gpu);
        let (end, _) = sampled(", when = \"end\"", gpu);
        assert_eq!(sampled(", when = \"after_groups\"", gpu).0, thresholds, "gpu {gpu}: Brian2's names of one slot");
        assert!(spikes.len() >= 4, "gpu {gpu}: {spikes:?}");
        assert_eq!(end[..end.len() - 2], start[2..], "gpu {gpu}: a step's end is the next one's start");
        for k in 0..300 {
            for n in 0..2 {
                let (thr, e) = (thresholds[k * 2 + n], end[k * 2 + n]);
                if spikes.iter().any(|s| s.step == k as u64 && s.neuron == n as u32) {
                    assert!(thr > 1.0 && e == 0.0, "gpu {gpu}: step {k}, neuron {n}: {thr}, then {e}");
                } else {
                    assert_eq!(thr, e, "gpu {gpu}: step {k}, neuron {n}: nothing resets it");
                }
            }
        }
    }
    for (when, expected) in [
        ("synapses", "between the synapses and the resets"),
        ("midday", "unknown slot `midday`"),
    ] {
        let e = config_error(&text(&format!(", when = \"{when}\"")));
        assert!(e.contains("record.traces[0].when") && e.contains(expected), "{e}");
    }
    let builtin = text(", when = \"end\"").replace("model = \"lif\"\nsize = 2\ninit = { v = \"0.5*i\" }", "model = \"hh\"\nsize = 2");
    let e = config_error(&builtin);
    assert!(e.contains("record.traces[0].when") && e.contains("`hh` is built in"), "{e}");
}
