//! Brian2's custom events (`events`, `run_on_event`, EventMonitor): `[populations.P.events]`
//! and `record.events`, against Brian2 on both backends, in runs, sweeps and their layouts.

use crate::common::*;
use ganglion::app::{self, RunRequest};
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::Backend;
use ganglion::record::{RecordPlan, Spike};

/// tests/brian2/custom_events.py's network: four neurons driven towards their own inputs,
/// refractory for 2 ms after a spike, with an event `up` whose code counts it, copies `a` (the
/// step's arrivals of the synapses onto the neuron) and pulls v back, and events `low` and
/// `fresh` that read `not_refractory` as the threshold left it (`fresh` holds at the spikes).
const EVENTS: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 30.0
[models.m]
equations = """
dv/dt = (I - v)/(3*ms) : 1 (unless refractory)
I : 1 (constant)
a : 1
b : 1
c : 1
"""
threshold = "v > 1"
reset = "v = 0"
refractory = "2*ms"
method = "exact"
[synapse_models.add]
on_pre = "a_post += 1"
[populations.g]
model = "m"
size = 4
init = { I = "1.2 + 0.3*i", v = "0.25*i" }
[populations.g.events.up]
condition = "v > 0.9"
code = "c += 1; b = a; v -= 0.01"
[populations.g.events.low]
condition = "v < 0.1 and not_refractory"
[populations.g.events.fresh]
condition = "v > 1 and not not_refractory"
[projections.s]
source = "g"
target = "g"
synapse = "add"
connectivity = { rule = "expression", condition = "i != j" }
[record]
spikes = ["g"]
events = { g = ["up", "low", "fresh"] }
event_variables = { g = { low = ["v", "c"] } }
"#;

// Brian2 2.9.0 (numpy target), tests/brian2/custom_events.py: the spikes (neuron, step), each
// event's occurrences as runs of consecutive steps (neuron, first, last) and how many there
// are, and the state at the end.
const BRIAN2_SPIKES: [(u32, u64); 20] = [
    (3, 6), (2, 15), (1, 32), (3, 46), (2, 61), (3, 86), (1, 91), (2, 107), (3, 126), (1, 150),
    (2, 153), (3, 166), (2, 199), (3, 206), (1, 209), (2, 245), (3, 246), (1, 268), (3, 286), (2, 291),
];
const BRIAN2_UP: [(u32, u64, u64); 21] = [
    (0, 41, 299), (1, 22, 32), (1, 79, 91), (1, 138, 150), (1, 197, 209), (1, 256, 268), (2, 11, 15),
    (2, 55, 61), (2, 101, 107), (2, 147, 153), (2, 193, 199), (2, 239, 245), (2, 285, 291), (3, 3, 6),
    (3, 42, 46), (3, 82, 86), (3, 122, 126), (3, 162, 166), (3, 202, 206), (3, 242, 246), (3, 282, 286),
];
const BRIAN2_UP_COUNT: usize = 408;
const BRIAN2_LOW: [(u32, u64, u64); 19] = [
    (0, 0, 1), (1, 52, 53), (1, 111, 112), (1, 170, 171), (1, 229, 230), (1, 288, 289), (2, 35, 35),
    (2, 81, 81), (2, 127, 127), (2, 173, 173), (2, 219, 219), (2, 265, 265), (3, 26, 26), (3, 66, 66),
    (3, 106, 106), (3, 146, 146), (3, 186, 186), (3, 226, 226), (3, 266, 266),
];
const BRIAN2_LOW_COUNT: usize = 25;
/// Brian2's `EventMonitor(g, "low", variables=["v", "c"])`: (neuron, step, v, c).
const BRIAN2_LOW_VALUES: [(u32, u64, f64, f64); 25] = [
    (0, 0, 0.03934067942159292, 0.0),
    (0, 1, 0.07739161796205862, 0.0),
    (3, 26, 0.059174027982967115, 4.0),
    (2, 35, 0.04933885812756933, 5.0),
    (1, 52, 0.0395036882721711, 11.0),
    (1, 53, 0.08738445260225713, 11.0),
    (3, 66, 0.059174027982967115, 9.0),
    (2, 81, 0.04933885812756933, 12.0),
    (3, 106, 0.059174027982967115, 14.0),
    (1, 111, 0.0395036882721711, 24.0),
    (1, 112, 0.08738445260225713, 24.0),
    (2, 127, 0.04933885812756933, 19.0),
    (3, 146, 0.059174027982967115, 19.0),
    (1, 170, 0.0395036882721711, 37.0),
    (1, 171, 0.08738445260225713, 37.0),
    (2, 173, 0.04933885812756933, 26.0),
    (3, 186, 0.059174027982967115, 24.0),
    (2, 219, 0.04933885812756933, 33.0),
    (3, 226, 0.059174027982967115, 29.0),
    (1, 229, 0.0395036882721711, 50.0),
    (1, 230, 0.08738445260225713, 50.0),
    (2, 265, 0.04933885812756933, 40.0),
    (3, 266, 0.059174027982967115, 34.0),
    (1, 288, 0.0395036882721711, 63.0),
    (1, 289, 0.08738445260225713, 63.0),
];
const BRIAN2_V: [f64; 4] = [0.8949720591439827, 0.48781673048618424, -0.01, -0.01];
const BRIAN2_A: [f64; 4] = [20.0, 15.0, 13.0, 12.0];
const BRIAN2_B: [f64; 4] = [20.0, 13.0, 13.0, 11.0];
const BRIAN2_C: [f64; 4] = [259.0, 63.0, 47.0, 39.0];

/// Brian2's runs as the (neuron, step) pairs of ganglion's monitor, in its order (by step,
/// then neuron).
fn occurrences(runs: &[(u32, u64, u64)]) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = runs.iter().flat_map(|&(n, first, last)| (first..=last).map(move |k| (n, k))).collect();
    out.sort_by_key(|&(n, k)| (k, n));
    out
}

fn pairs(events: &[Spike]) -> Vec<(u32, u64)> {
    events.iter().map(|s| (s.neuron, s.step)).collect()
}

#[test]
fn custom_events_fire_and_run_their_code_as_brian2s_on_both_backends() {
    let (config, net) = parsed(EVENTS, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    let mut gpu = gpu_backend(&net, &plan);
    for (backend, tolerance, on) in [(&mut cpu as &mut dyn Backend, 1e-9, "CPU"), (&mut gpu, 2e-5, "GPU")] {
        let sink = run_in_memory(&net, backend, &plan);
        assert_eq!(pairs(&sink.spikes[0]), BRIAN2_SPIKES.to_vec(), "{on}: spikes");
        // record.events in the plan's order, as the events are defined: (g, up), (g, low),
        // (g, fresh).
        assert_eq!(plan.events, vec![(0, 0), (0, 1), (0, 2)]);
        assert_eq!(sink.events[0].len(), BRIAN2_UP_COUNT, "{on}: up");
        assert_eq!(pairs(&sink.events[0]), occurrences(&BRIAN2_UP), "{on}: up");
        assert_eq!(sink.events[1].len(), BRIAN2_LOW_COUNT, "{on}: low");
        assert_eq!(pairs(&sink.events[1]), occurrences(&BRIAN2_LOW), "{on}: low");
        // `low`'s values as Brian2's monitor has them, a row per occurrence.
        assert_eq!(sink.event_values[1].len(), 2 * BRIAN2_LOW_VALUES.len(), "{on}");
        for (row, b) in sink.event_values[1].chunks(2).zip(&BRIAN2_LOW_VALUES) {
            assert!((row[0] as f64 - b.2).abs() < 1e-6 && row[1] as f64 == b.3, "{on}: neuron {} at step {}: {row:?}, Brian2 {:?}", b.0, b.1, (b.2, b.3));
        }
        assert!(sink.event_values[0].is_empty() && sink.event_values[2].is_empty(), "{on}: no values with `up` and `fresh`");
        // Brian2's `fresh`: the spikes' steps (tests/brian2/custom_events.py prints them).
        assert_eq!(pairs(&sink.events[2]), BRIAN2_SPIKES.to_vec(), "{on}: fresh");
        let state = backend.read_state().unwrap();
        let model = config.resolved.models[0].equations().unwrap();
        for (var, brian2) in [("v", BRIAN2_V), ("a", BRIAN2_A), ("b", BRIAN2_B), ("c", BRIAN2_C)] {
            let ours = &state[0][model.slot(var).unwrap()];
            for (x, b) in ours.iter().zip(brian2) {
                assert!((x - b).abs() < tolerance, "{on}: {var} {ours:?}, Brian2 {brian2:?}");
            }
        }
    }
}

#[test]
fn an_events_code_reads_what_the_synapses_wrote_in_its_step_and_a_condition_draws_alike_on_both_backends() {
    // `b = a` after the synapses: without their arrivals before the code, b would lag a.
    let (config, net) = parsed(EVENTS, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let model = config.resolved.models[0].equations().unwrap();
    let state = cpu.read_state().unwrap();
    assert_eq!(state[0][model.slot("b").unwrap()][0], state[0][model.slot("a").unwrap()][0], "neuron 0 is up at the end: b is this step's a");
    // A condition that draws: the same events on the CPU (f32) and the GPU, about half of the
    // neuron-steps, and no code.
    let text = EVENTS.replace("condition = \"v > 0.9\"", "condition = \"rand() < 0.5\"");
    let (config, net) = parsed(&text, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    assert_eq!(pairs(&cpu.events[0]), pairs(&gpu.events[0]));
    let n = cpu.events[0].len() as f64;
    assert!((n - 600.0).abs() < 6.0 * 300f64.sqrt(), "{n} of 1200 neuron-steps");
}

#[test]
fn events_are_written_in_runs_and_sweeps_in_both_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("events.toml");
    std::fs::write(&config, EVENTS).unwrap();
    let read = |f: &hdf5::File, at: &str| -> Vec<(u32, u64)> {
        let ids: Vec<u64> = f.dataset(&format!("{at}/node_ids")).unwrap().read_raw().unwrap();
        let t: Vec<f64> = f.dataset(&format!("{at}/timestamps")).unwrap().read_raw().unwrap();
        // Stamped at the step's end, as ganglion's spikes.
        ids.iter().zip(&t).map(|(&i, &t)| (i as u32, (t / 0.1).round() as u64 - 1)).collect()
    };
    for (backend, chunk) in [("cpu", 7), ("gpu", 1000), ("gpu", 7)] {
        let out = dir.path().join(format!("{backend}_{chunk}.h5"));
        let req = RunRequest {
            config: config.clone(),
            overrides: vec![format!("simulation.backend=\"{backend}\""), format!("simulation.chunk_steps={chunk}")],
            output: Some(out.clone()),
            ..Default::default()
        };
        app::run(&req).unwrap();
        let f = hdf5::File::open(&out).unwrap();
        assert_eq!(read(&f, "events/g/up"), occurrences(&BRIAN2_UP), "{backend}, chunks of {chunk}");
        assert_eq!(read(&f, "events/g/low"), occurrences(&BRIAN2_LOW), "{backend}, chunks of {chunk}");
        let units: hdf5::types::VarLenUnicode = f.dataset("events/g/up/timestamps").unwrap().attr("units").unwrap().read_scalar().unwrap();
        assert_eq!(units.as_str(), "ms");
        let c: Vec<f64> = f.dataset("events/g/low/c").unwrap().read_raw().unwrap();
        assert_eq!(c, BRIAN2_LOW_VALUES.map(|b| b.3), "{backend}, chunks of {chunk}: c with each `low`");
        assert!(!f.link_exists("events/g/up/v"), "no values with `up`");
        // `stats` counts each event and summarises the values recorded with it.
        let stats = ganglion::stats::from_file(&out, 10.0, 5).unwrap().report();
        let per_neuron = BRIAN2_UP_COUNT as f64 / 4.0 / 0.03;
        assert!(stats.contains(&format!("g.up events: {BRIAN2_UP_COUNT}, {per_neuron:.3} per neuron per second")), "{stats}");
        let mean_c = BRIAN2_LOW_VALUES.iter().map(|b| b.3).sum::<f64>() / BRIAN2_LOW_VALUES.len() as f64;
        assert!(stats.contains(&format!("g.c at its `low` events: mean {mean_c:.4e}")), "{stats}");
    }
    // A sweep batched on the GPU: instances 0 and 1 are the single run, instance 2 starts
    // elsewhere; then stacked, whole and as merged slices.
    let sweep = vec!["simulation.backend=\"gpu\"".to_string(), "sweep.populations.g.init.v=[\"0.25*i\", \"0.25*i\", \"0.0\"]".into()];
    let out = dir.path().join("sweep.h5");
    let req = RunRequest { config: config.clone(), overrides: sweep.clone(), output: Some(out.clone()), ..Default::default() };
    app::run_any(&req).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    for k in 0..2 {
        assert_eq!(read(&f, &format!("instances/{k}/events/g/up")), occurrences(&BRIAN2_UP), "instance {k}");
        let c: Vec<f64> = f.dataset(&format!("instances/{k}/events/g/low/c")).unwrap().read_raw().unwrap();
        assert_eq!(c, BRIAN2_LOW_VALUES.map(|b| b.3), "instance {k}: c with each `low`");
    }
    assert_ne!(read(&f, "instances/2/events/g/up"), occurrences(&BRIAN2_UP), "instance 2 starts elsewhere");
    let [whole, merged] = stacked_whole_and_merged(&req, dir.path());
    for path in [&whole, &merged] {
        let s = hdf5::File::open(path).unwrap();
        for event in ["up", "low"] {
            let at = format!("stacked/events/g/{event}");
            let instance: Vec<u64> = s.dataset(&format!("{at}/instance")).unwrap().read_raw().unwrap();
            let rows = read(&s, &at);
            for k in 0..3u64 {
                let own: Vec<_> = rows.iter().zip(&instance).filter(|(_, &i)| i == k).map(|(r, _)| *r).collect();
                assert_eq!(own, read(&f, &format!("instances/{k}/events/g/{event}")), "{}: instance {k}: {event}", path.display());
                if event == "low" {
                    for var in ["v", "c"] {
                        let column: Vec<f64> = s.dataset(&format!("{at}/{var}")).unwrap().read_raw().unwrap();
                        let mine: Vec<f64> = column.iter().zip(&instance).filter(|(_, &i)| i == k).map(|(x, _)| *x).collect();
                        let group: Vec<f64> = f.dataset(&format!("instances/{k}/events/g/low/{var}")).unwrap().read_raw().unwrap();
                        assert_eq!(mine, group, "{}: instance {k}: low's {var}", path.display());
                    }
                }
            }
        }
    }
    // `stats --instance` reads an instance's events alike from either layout.
    let stats = |p: &std::path::Path| ganglion::stats::from_file(ganglion::plot::Source { path: p, instance: Some(2) }, 10.0, 5).unwrap().report();
    assert_eq!(stats(&whole), stats(&out));
    assert!(stats(&whole).contains("g.low events"), "{}", stats(&whole));
    let check = app::check_report(&config, &[]).unwrap().0;
    assert!(check.contains("event `up` (its code after the resets), event `low`, event `fresh`"), "{check}");
    assert!(check.contains("and the events `up`, `low` (with v, c), `fresh` of `g`"), "{check}");
}

#[test]
fn events_that_cannot_be_defined_or_recorded_are_refused_by_key() {
    let at = "populations.g.events";
    for (set, key, message) in [
        ("record.events={ h = [\"up\"] }", "record.events.h".to_string(), "no population or subgroup named `h`"),
        ("record.events={ g = [] }", "record.events.g".into(), "name at least one event"),
        ("record.events={ g = [\"down\"] }", "record.events.g[0]".into(), "`down` is not an event of `g`: `g` defines up, low, fresh"),
        ("record.events={ g = [\"spike\"] }", "record.events.g[0]".into(), "its spikes are record.spikes"),
        ("record.events={ g = [\"up\", \"up\"] }", "record.events.g[1]".into(), "listed twice"),
        ("record.event_variables={ g = { down = [\"v\"] } }", "record.event_variables.g.down".into(), "with `g`'s event `down`, which record.events does not list"),
        ("record.event_variables={ h = { low = [\"v\"] } }", "record.event_variables.h".into(), "no population or subgroup named `h`"),
        ("record.event_variables={ g = { low = [] } }", "record.event_variables.g.low".into(), "name at least one variable"),
        ("record.event_variables={ g = { low = [\"w\"] } }", "record.event_variables.g.low[0]".into(), "`w` is not a variable of `g`'s model; it has v, I, a, b, c"),
        ("record.event_variables={ g = { low = [\"not_refractory\"] } }", "record.event_variables.g.low[0]".into(), "is not a differential variable, parameter or subexpression"),
        ("record.event_variables={ g = { low = [\"v\", \"v\"] } }", "record.event_variables.g.low[1]".into(), "listed twice"),
        ("populations.g.events.up.when=\"resets\"", format!("{at}.up.when"), "`after_resets` slot"),
        ("populations.g.events.up.condition=\"v + 1\"", format!("{at}.up.condition"), "must be a condition"),
        ("populations.g.events.up.condition=\"w > 1\"", format!("{at}.up.condition"), "`w`"),
        ("populations.g.events.up.condition=\"v > 1 + 0.1*xi*sqrt(ms)\"", format!("{at}.up.condition"), "noise"),
        ("populations.g.events.up.code=\"w = 1\"", format!("{at}.up.code"), "unknown variable `w`"),
        ("populations.g.events.up.code=\"not_refractory = 1\"", format!("{at}.up.code"), "kept by ganglion"),
        ("populations.g.events.up.code=\"v = 1*mV\"", format!("{at}.up.code"), "volt"),
        ("populations.g.events.spike={ condition = \"v > 0.5\" }", format!("{at}.spike"), "the event of the model's threshold"),
        ("populations.g.events.\"2up\"={ condition = \"v > 0.5\" }", format!("{at}.\"2up\""), "not a valid event name"),
    ] {
        let e = ganglion::config::parse(EVENTS, &[set.to_string()]).unwrap_err().to_string();
        assert!(e.contains(&key) && e.contains(message), "{set}: {e}");
    }
    // A shared variable is one value for the group: an event's code for some neurons cannot
    // write it, as in Brian2.
    let shared = EVENTS.replace("c : 1\n", "c : 1\nz : 1 (shared)\n").replace("v -= 0.01", "z = 1");
    let e = ganglion::config::parse(&shared, &[]).unwrap_err().to_string();
    assert!(e.contains(&format!("{at}.up.code")) && e.contains("shared"), "{e}");
    // A step's events share a 32-bit word with the spike: at most 31 a population.
    let many: String = (0..30).map(|k| format!("[populations.g.events.e{k}]\ncondition = \"v > 0.{k}\"\n")).collect();
    let e = ganglion::config::parse(&format!("{EVENTS}{many}"), &[]).unwrap_err().to_string();
    assert!(e.contains(at) && e.contains("33 events: a population has at most 31"), "{e}");
    let fewer: String = (0..28).map(|k| format!("[populations.g.events.e{k}]\ncondition = \"v > 0.{k}\"\n")).collect();
    ganglion::config::parse(&format!("{EVENTS}{fewer}"), &[]).expect("31 events");
    // Events act on models written as equations.
    let builtin = "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n[populations.g]\nmodel = \"hh\"\nsize = 2\n[populations.g.events.up]\ncondition = \"v > 0\"\n";
    let e = ganglion::config::parse(builtin, &[]).unwrap_err().to_string();
    assert!(e.contains(at) && e.contains("is built in"), "{e}");
    // Nothing already written is touched by a refused run.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("events.toml");
    std::fs::write(&config, EVENTS).unwrap();
    let out = dir.path().join("out.h5");
    std::fs::write(&out, b"earlier results").unwrap();
    let req = RunRequest { config, overrides: vec!["record.events={ g = [\"down\"] }".into()], output: Some(out.clone()), force: true, ..Default::default() };
    assert!(app::run_any(&req).is_err());
    assert_eq!(std::fs::read(&out).unwrap(), b"earlier results");
}

/// tests/brian2/on_event.py's network: three oscillating sources whose event `up` (not their
/// spikes) drives `on_pre` into two leaky targets through 0.3 ms, whose event `busy` drives
/// `on_post`; a second projection carries the sources' spikes.
const ON_EVENT: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
[models.osc]
equations = """
v = sin(2*pi*t/(f*ms) + phase) : 1
f : 1 (constant)
phase : 1 (constant)
"""
threshold = "v > 0.95"
[models.leak]
equations = """
dx/dt = -x/(2*ms) : 1
y : 1
"""
method = "exact"
[synapse_models.depress]
model = "w : 1"
on_pre = "x_post += w"
on_post = "w = w*0.97"
[synapse_models.count]
on_pre = "y_post += 1"
[populations.src]
model = "osc"
size = 3
init = { f = "3 + i", phase = "0.7*i" }
[populations.src.events.up]
condition = "v > 0.5"
[populations.tgt]
model = "leak"
size = 2
[populations.tgt.events.busy]
condition = "x > 0.5"
[projections.s]
source = "src"
target = "tgt"
synapse = "depress"
connectivity = { rule = "all_to_all" }
init = { w = "0.1 + 0.05*i + 0.02*j" }
delay = "0.3*ms"
on_event = { pre = "up", post = "busy" }
[projections.k]
source = "src"
target = "tgt"
synapse = "count"
connectivity = { rule = "all_to_all" }
"#;

// Brian2 2.9.0 (numpy target), tests/brian2/on_event.py: the targets' x and y and the
// synapses' w (by Brian2's (i, j)) at the end.
const BRIAN2_ON_EVENT_X: [f64; 2] = [0.2125856971599088, 0.20908624676031937];
const BRIAN2_ON_EVENT_Y: [f64; 2] = [68.0, 68.0];
const BRIAN2_ON_EVENT_W: [(u32, u32, f64); 6] = [
    (0, 0, 0.009015026486477026),
    (0, 1, 0.009289811983829449),
    (1, 0, 0.013522539729715531),
    (1, 1, 0.013160566977091724),
    (2, 0, 0.018030052972954052),
    (2, 1, 0.017031321970354),
];

#[test]
fn synapses_triggered_by_custom_events_act_as_brian2s_on_both_backends() {
    let (config, net) = parsed(ON_EVENT, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    let mut gpu = gpu_backend(&net, &plan);
    for (backend, tolerance, on) in [(&mut cpu as &mut dyn Backend, 1e-9, "CPU"), (&mut gpu, 2e-5, "GPU")] {
        run_in_memory(&net, backend, &plan);
        let state = backend.read_state().unwrap();
        for (k, brian2) in [(0, BRIAN2_ON_EVENT_X), (1, BRIAN2_ON_EVENT_Y)] {
            for (x, b) in state[1][k].iter().zip(brian2) {
                assert!((x - b).abs() < tolerance * b.abs().max(1.0), "{on}: {:?}, Brian2 {brian2:?}", state[1][k]);
            }
        }
        // Projections in name order: k, s.
        let synapses = backend.read_synapses().unwrap();
        let w = &synapses[1].as_ref().unwrap()[0];
        for &(i, j, b) in &BRIAN2_ON_EVENT_W {
            let ours = w[csr_index(&net.projections[1].csr, (i, j))];
            assert!((ours - b).abs() < tolerance, "{on}: w of ({i}, {j}) {ours}, Brian2 {b}");
        }
    }
    // The GPU's other deliveries of a pre pathway (a ring of arrivals ahead for delays of their
    // own under 32 steps, rows walked past them) read the event's bit as the CPU (f32) does.
    for delay in ["0.3*ms + 0.1*ms*i", "3*ms + 1*ms*i"] {
        let (config, net) = parsed(ON_EVENT, &[&format!("projections.s.delay=\"{delay}\"")]);
        let plan = RecordPlan::from_config(&config);
        let mut cpu = CpuBackend::<f32>::new(&net);
        let mut gpu = gpu_backend(&net, &plan);
        run_in_memory(&net, &mut cpu, &plan);
        run_in_memory(&net, &mut gpu, &plan);
        let (c, g) = (cpu.read_synapses().unwrap(), gpu.read_synapses().unwrap());
        let (cw, gw) = (&c[1].as_ref().unwrap()[0], &g[1].as_ref().unwrap()[0]);
        assert!(cw.iter().zip(gw).all(|(a, b)| (a - b).abs() < 1e-6), "delay {delay}: {cw:?} on the CPU, {gw:?} on the GPU");
        assert!(cw.iter().any(|&w| w < 0.05), "delay {delay}: busy targets depress w: {cw:?}");
        let (cs, gs) = (cpu.read_state().unwrap(), gpu.read_state().unwrap());
        assert!((cs[1][0][0] - gs[1][0][0]).abs() < 1e-5, "delay {delay}: x {:?} on the CPU, {:?} on the GPU", cs[1][0], gs[1][0]);
    }
}

#[test]
fn on_event_is_refused_by_key_where_brian2_refuses_it() {
    let at = "projections.s.on_event";
    for (set, key, message) in [
        ("projections.s.on_event={ pre = \"down\" }", format!("{at}.pre"), "`down` is not an event of the source's model `osc`; it has spike, up"),
        ("projections.s.on_event={ post = \"up\" }", format!("{at}.post"), "`up` is not an event of the target's model `leak`; it has spike, busy"),
        ("projections.k.on_event={ post = \"busy\" }", "projections.k.on_event.post".into(), "triggers `on_post`, which synapse model `count` does not have"),
        ("projections.s.on_event={ pathway = \"up\" }", at.to_string(), "pathway"),
    ] {
        let e = ganglion::config::parse(ON_EVENT, &[set.to_string()]).unwrap_err().to_string();
        assert!(e.contains(&key) && e.contains(message), "{set}: {e}");
    }
    // Built-in synapses have no pathways of Brian2's.
    let builtin = "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n[populations.a]\nmodel = \"hh\"\nsize = 2\n[projections.p]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"graded\"\nconnectivity = { rule = \"all_to_all\" }\non_event = { pre = \"spike\" }\n";
    let e = ganglion::config::parse(builtin, &[]).unwrap_err().to_string();
    assert!(e.contains("projections.p.on_event") && e.contains("only synapses written as equations"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("on_event.toml");
    std::fs::write(&config, ON_EVENT).unwrap();
    let check = app::check_report(&config, &[]).unwrap().0;
    assert!(check.contains("on_pre on the source's event `up`; on_post on the target's event `busy`"), "{check}");
}

#[test]
fn events_and_their_synapses_run_alike_on_a_gpu_state_and_matrix_cut_into_parts() {
    // 600 neurons in bindings of 8000 bytes: the state in four parts of whole variables (the
    // events' flags apart from v), the synapses triggered by `up` in parts of the matrix,
    // each reading its bit of the spike ring.
    let overrides = [
        "populations.g.size=600",
        "populations.g.init.I=\"1.2 + 0.001*i\"",
        "projections.s.connectivity={ rule = \"fixed_probability\", p = 0.02 }",
        "projections.s.on_event={ pre = \"up\" }",
        "projections.s.delay=\"0.2*ms\"",
    ];
    let (config, net) = parsed(EVENTS, &overrides);
    let plan = RecordPlan::from_config(&config);
    let mut whole = gpu_backend_capped(&net, &plan, ganglion::config::GpuCoupling::Auto, None);
    let mut cut = gpu_backend_capped(&net, &plan, ganglion::config::GpuCoupling::Auto, Some(8000));
    assert_eq!(cut.state_parts(), [4]);
    assert!(cut.equation_passes() > whole.equation_passes(), "the matrix in parts: {} passes, whole {}", cut.equation_passes(), whole.equation_passes());
    let (a, b) = (run_in_memory(&net, &mut whole, &plan), run_in_memory(&net, &mut cut, &plan));
    assert!(a.events[0].len() > 1000 && a.events[1].len() > 100, "up {}, low {}", a.events[0].len(), a.events[1].len());
    assert_eq!(a.spikes, b.spikes);
    assert_eq!(a.events, b.events);
    assert_eq!(a.event_values, b.event_values);
    assert_eq!(whole.read_state().unwrap(), cut.read_state().unwrap());
    // And the CPU's (f32) events.
    let c = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    assert_eq!(c.events, a.events);
}
