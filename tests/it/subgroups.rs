//! Brian2's subgroups (`P[a:b]`): `[populations.P] subgroups`, named as a projection's source
//! or target, drawn and initialised with `i` and `j` counted within each subgroup.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::Backend;
use ganglion::record::RecordPlan;

/// tests/brian2/subgroups.py's network: six neurons, Pe = P[0:4] onto all of P where i != j,
/// Pi = P[4:6] onto Pe where a condition on the source's I holds, weights and delays of `i`, `j` and the neurons' variables
/// within the subgroups.
const SUBGROUPS: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 40.0
[models.m]
equations = """
dv/dt = (I - v)/(10*ms) : 1
I : 1 (constant)
"""
threshold = "v > 1"
reset = "v = 0"
method = "exact"
[synapse_models.up]
model = "w : 1"
on_pre = "v_post += w"
[synapse_models.down]
model = "w : 1"
on_pre = "v_post -= w"
[populations.P]
model = "m"
size = 6
init = { I = "1.2 + 0.05*i", v = "0.1*i" }
subgroups = { Pe = [0, 4], Pi = [4, 6] }
[projections.se]
source = "Pe"
target = "P"
synapse = "up"
connectivity = { rule = "expression", condition = "i != j" }
init = { w = "0.1 + 0.01*i + 0.001*j" }
[projections.si]
source = "Pi"
target = "Pe"
synapse = "down"
connectivity = { rule = "expression", condition = "I_pre > 1.42 or j > 1" }
init = { w = "0.05*i + 0.1*I_pre + 0.01*v_post" }
delay = "(1 + j)*0.1*ms"
[record]
spikes = ["P"]
"#;

/// Brian2 2.9.0 (numpy target), tests/brian2/subgroups.py: the spikes (neuron of P, step),
/// each synapse's (i, j, w) with i and j within its subgroups, and v at the end.
const BRIAN2_SPIKES: [(u32, u64); 16] = [
    (5, 74),
    (4, 91),
    (3, 167),
    (0, 168),
    (1, 168),
    (2, 168),
    (5, 168),
    (4, 169),
    (5, 286),
    (4, 295),
    (3, 367),
    (0, 368),
    (1, 368),
    (2, 368),
    (4, 369),
    (5, 369),
];
const BRIAN2_SE_W: [(u32, u32, f64); 20] = [
    (0, 1, 0.101),
    (0, 2, 0.10200000000000001),
    (0, 3, 0.10300000000000001),
    (0, 4, 0.10400000000000001),
    (0, 5, 0.10500000000000001),
    (1, 0, 0.11),
    (1, 2, 0.112),
    (1, 3, 0.113),
    (1, 4, 0.114),
    (1, 5, 0.115),
    (2, 0, 0.12000000000000001),
    (2, 1, 0.12100000000000001),
    (2, 3, 0.123),
    (2, 4, 0.124),
    (2, 5, 0.125),
    (3, 0, 0.13),
    (3, 1, 0.131),
    (3, 2, 0.132),
    (3, 4, 0.134),
    (3, 5, 0.135),
];
const BRIAN2_SI_W: [(u32, u32, f64); 6] = [
    (0, 2, 0.142),
    (0, 3, 0.143),
    (1, 0, 0.195),
    (1, 1, 0.196),
    (1, 2, 0.197),
    (1, 3, 0.198),
];
const BRIAN2_V_END: [f64; 6] = [0.17395225685303006, 0.18505769139431272, 0.08773330832822701, 0.35540872735153095, 0.3628544910455904, 0.375813580011505];

#[test]
fn projections_between_subgroups_count_i_and_j_within_them_as_brian2s() {
    let (config, net) = parsed(SUBGROUPS, &[]);
    // Placed in the population's matrix: Pe's sources from neuron 0, Pi's from 4; Pe's
    // targets rows 0..4 of P's 6.
    let (se, si) = (&net.projections[0], &net.projections[1]);
    assert_eq!((se.csr.n_rows, se.csr.n_cols, si.csr.n_rows, si.csr.n_cols), (6, 6, 6, 6));
    assert_eq!((se.n_synapses(), si.n_synapses()), (20, 6));
    assert_eq!(&si.csr.row_ptr[4..], [6, 6, 6]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let mut on_gpu = gpu_backend(&net, &plan);
    let gpu = run_in_memory(&net, &mut on_gpu, &plan);
    let gpu_v = on_gpu.read_state().unwrap()[0][0].clone();
    let mut cpu_backend = CpuBackend::<f64>::new(&net);
    run_in_memory(&net, &mut cpu_backend, &plan);
    let cpu_v = cpu_backend.read_state().unwrap()[0][0].clone();
    for (sink, v, tolerance, on) in [(&cpu, &cpu_v, 1e-9, "CPU"), (&gpu, &gpu_v, 2e-5, "GPU")] {
        let spikes: Vec<(u32, u64)> = sink.spikes[0].iter().map(|s| (s.neuron, s.step)).collect();
        assert_eq!(spikes, BRIAN2_SPIKES, "{on}");
        for (k, (x, b)) in v.iter().zip(BRIAN2_V_END).enumerate() {
            assert!((x - b).abs() < tolerance, "{on}: v of neuron {k}: {x}, Brian2 {b}");
        }
        for (projection, brian2, first) in [(0, &BRIAN2_SE_W[..], 0), (1, &BRIAN2_SI_W[..], 4)] {
            let csr = &net.projections[projection].csr;
            for &(i, j, w) in brian2 {
                let x = sink.synapses[projection].as_ref().unwrap()[0][csr_index(csr, (first + i, j))];
                assert!((x - w).abs() < tolerance, "{on}: projection {projection}: w of ({i}, {j}): {x}, Brian2 {w}");
            }
        }
    }
    // Two instances batched on the GPU: each is its own run.
    let merged = ganglion::sweep::batch::merge(&[&net, &net], &[&plan, &plan]).expect("the instances merge");
    let out = run_in_memory(&merged.net, &mut gpu_backend(&merged.net, &merged.plan), &merged.plan);
    let whole = ganglion::record::ChunkOutput { spikes: out.spikes.clone(), spike_values: out.spike_values.clone(), ..Default::default() };
    for (k, instance) in merged.split(&whole).iter().enumerate() {
        let spikes: Vec<(u32, u64)> = instance.spikes[0].iter().map(|s| (s.neuron, s.step)).collect();
        assert_eq!(spikes, BRIAN2_SPIKES, "batched instance {k}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("subgroups.toml");
    std::fs::write(&path, SUBGROUPS).unwrap();
    let check = ganglion::app::check_report(&path, &[]).unwrap().0;
    assert!(check.contains("20 synapses (expected) Pe (P[0:4]) -> P"), "{check}");
    assert!(check.contains("synapses (expected) Pi (P[4:6]) -> Pe (P[0:4])"), "{check}");
}

/// tests/brian2/subgroups.py's second network: a summed variable into subgroup A = q[1:4] and
/// another into the same variable of B = q[4:6], synapses from B onto A whose `on_pre` reads
/// `i` and `j`, and a run_regularly rewriting A's weights from them.
const SUMMED: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 40.0
[models.m]
equations = """
dv/dt = (I + Igap - v)/(10*ms) : 1
I : 1 (constant)
Igap : 1
"""
threshold = "v > 1"
reset = "v = 0"
method = "euler"
[synapse_models.gap]
model = """
w : 1
Igap_post = w*(v_pre - v_post) : 1 (summed)
"""
[synapse_models.kick]
model = ""
on_pre = "v_post += 0.05*(i + 1) + 0.01*j"
[populations.q]
model = "m"
size = 6
init = { I = "0.9 + 0.05*i", v = "0.15*i", Igap = 0.5 }
subgroups = { A = [1, 4], B = [4, 6] }
[projections.gap]
source = "A"
target = "A"
synapse = "gap"
connectivity = { rule = "expression", condition = "i != j" }
init = { w = "0.1 + 0.02*i" }
[projections.gap.run_regularly.rewrite]
code = "w = 0.2 + 0.05*i + 0.01*j"
dt = "1*ms"
[projections.gap2]
source = "B"
target = "B"
synapse = "gap"
connectivity = { rule = "expression", condition = "i != j" }
init = { w = 0.3 }
[projections.kick]
source = "B"
target = "A"
synapse = "kick"
connectivity = { rule = "all_to_all" }
[record]
spikes = ["q"]
"#;

/// Brian2 2.9.0 (numpy target), tests/brian2/subgroups.py's second network: the spikes, and
/// Igap (0.5 where no sum sets it) and v at the end.
const BRIAN2_SUMMED_SPIKES: [(u32, u64); 8] = [
    (5, 108),
    (0, 124),
    (3, 238),
    (4, 247),
    (2, 248),
    (0, 249),
    (5, 360),
    (0, 374),
];
const BRIAN2_SUMMED_IGAP: [f64; 6] = [0.5, -0.005778408764749292, 0.021585816858174775, -0.014578278334004123, -0.1297224839089299, 0.1297224839089299];
const BRIAN2_SUMMED_V: [f64; 6] = [0.3110500968411945, 0.9443110599523783, 0.9100338188819289, 0.9553633817719119, 0.8558938745801005, 0.4309041273588104];

#[test]
fn a_subgroups_summed_variables_and_indices_read_while_running_are_brian2s() {
    let (config, net) = parsed(SUMMED, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    let mut gpu = gpu_backend(&net, &plan);
    let runs = [(run_in_memory(&net, &mut cpu, &plan), cpu.read_state().unwrap(), 1e-9, "CPU"), (run_in_memory(&net, &mut gpu, &plan), gpu.read_state().unwrap(), 2e-5, "GPU")];
    let slot = |name: &str| net.populations[0].variables().iter().position(|v| v.name == name).unwrap();
    for (out, state, tolerance, on) in &runs {
        let spikes: Vec<(u32, u64)> = out.spikes[0].iter().map(|s| (s.neuron, s.step)).collect();
        assert_eq!(spikes, BRIAN2_SUMMED_SPIKES, "{on}");
        for (name, brian2) in [("Igap", BRIAN2_SUMMED_IGAP), ("v", BRIAN2_SUMMED_V)] {
            for (k, (x, b)) in state[0][slot(name)].iter().zip(brian2).enumerate() {
                assert!((x - b).abs() < *tolerance, "{on}: {name} of neuron {k}: {x}, Brian2 {b}");
            }
        }
    }
    // Two instances batched on the GPU: each sums into its own span.
    let merged = ganglion::sweep::batch::merge(&[&net, &net], &[&plan, &plan]).expect("the instances merge");
    let mut batch = gpu_backend(&merged.net, &merged.plan);
    run_in_memory(&merged.net, &mut batch, &merged.plan);
    let state = batch.read_state().unwrap();
    for (k, (x, b)) in state[0][slot("Igap")].iter().zip(BRIAN2_SUMMED_IGAP.iter().chain(&BRIAN2_SUMMED_IGAP)).enumerate() {
        assert!((x - b).abs() < 2e-5, "batched: Igap of neuron {k}: {x}, Brian2 {b}");
    }
    // Named `Q`, the group updates before the sum in Brian2 (a subgroup's summed variable
    // ties with its group's update, run in the order of their names): refused.
    let e = ganglion::config::parse(&SUMMED.replace("populations.q]", "populations.Q]").replace("[\"q\"]", "[\"Q\"]"), &[]).unwrap_err().to_string();
    assert!(e.contains("projections.gap.synapse") && e.contains("`Q_stateupdater` before `gap_summed_variable_Igap_post`"), "{e}");
    // A subgroup of every neuron is a subgroup all the same in Brian2's order.
    let everyone = SUMMED.replace("populations.q]", "populations.Q]").replace("[\"q\"]", "[\"Q\"]").replace("B = [4, 6] }", "B = [4, 6], all = [0, 6] }").replace("target = \"A\"\nsynapse = \"gap\"", "target = \"all\"\nsynapse = \"gap\"");
    let e = ganglion::config::parse(&everyone, &[]).unwrap_err().to_string();
    assert!(e.contains("projections.gap.synapse") && e.contains("into subgroup `all`"), "{e}");
    // Two sums into one variable of subgroups that overlap: refused, as Brian2 refuses them.
    let overlapping = SUMMED.replace("[projections.gap2]\nsource = \"B\"\ntarget = \"B\"", "[projections.gap2]\nsource = \"B\"\ntarget = \"q\"");
    let e = ganglion::config::parse(&overlapping, &[]).unwrap_err().to_string();
    assert!(e.contains("projections.gap2.synapse") && e.contains("already summed by projection `gap`"), "{e}");
}

/// Brian2 2.9.0 (numpy target), tests/brian2/subgroups.py: monitors of SUBGROUPS' subgroups,
/// their neurons numbered from the subgroup's first: `SpikeMonitor(Pe)` and `SpikeMonitor(Pi)`
/// as (i, step), `PopulationRateMonitor(Pi)` where not 0 as (step, Hz), and
/// `StateMonitor(Pe, "v", record=[1, 3], dt=5*ms)`; the monitors of Pe and Pi recording `I`
/// and `v` with each spike (`variables=[...]`).
const BRIAN2_RECORDED_PE: [(u32, u64); 8] = [(3, 167), (0, 168), (1, 168), (2, 168), (3, 367), (0, 368), (1, 368), (2, 368)];
const BRIAN2_RECORDED_PI: [(u32, u64); 8] = [(1, 74), (0, 91), (1, 168), (0, 169), (1, 286), (0, 295), (0, 369), (1, 369)];
const BRIAN2_RECORDED_PE_I: [f64; 8] = [1.35, 1.2, 1.25, 1.3, 1.35, 1.2, 1.25, 1.3];
const BRIAN2_RECORDED_PI_V: [f64; 8] = [1.001251774896029, 1.0014809589154783, 1.017246366286273, 1.228175249538, 1.0044458290283491, 1.0028843629003121, 1.2019841836358653, 1.2916225483736397];
/// `EventMonitor(Pi, "high", variables=["v"], when="after_thresholds", order=1)` as (i, step,
/// v) and `EventMonitor(P, "high")` as (i, step), of the event `v > 0.995` (Brian2's default
/// slot for a subgroup's monitor, `thresholds`, comes before the event is checked: see
/// tests/brian2/subgroups.py).
const BRIAN2_RECORDED_PI_HIGH: [(u32, u64, f64); 13] = [
    (1, 73, 0.9967417802550105),
    (1, 74, 1.001251774896029),
    (0, 90, 0.9974757759663564),
    (0, 91, 1.0014809589154783),
    (1, 168, 1.017246366286273),
    (0, 169, 1.228175249538),
    (1, 284, 0.9954450377202115),
    (1, 285, 0.9999679351650359),
    (1, 286, 1.0044458290283491),
    (0, 294, 0.9988932843957248),
    (0, 295, 1.0028843629003121),
    (0, 369, 1.2019841836358653),
    (1, 369, 1.2916225483736397),
];
const BRIAN2_RECORDED_P_HIGH: [(u32, u64); 24] = [
    (5, 73), (5, 74), (4, 90), (4, 91), (3, 165), (3, 166), (3, 167), (0, 168), (1, 168), (2, 168), (5, 168), (4, 169),
    (5, 284), (5, 285), (5, 286), (4, 294), (4, 295), (3, 366), (3, 367), (0, 368), (1, 368), (2, 368), (4, 369), (5, 369),
];
const BRIAN2_RECORDED_PI_RATE: [(usize, f64); 7] = [(74, 5000.0), (91, 5000.0), (168, 5000.0), (169, 5000.0), (286, 5000.0), (295, 5000.0), (369, 10000.0)];
const BRIAN2_RECORDED_PE_V: [[f64; 8]; 2] = [
    [0.1, 0.5524897413304675, 0.671210056562183, 0.898946153771621, 0.18653164547423695, 0.6049738373459768, 0.6831883655154243, 0.9062113654032704],
    [0.30000000000000004, 0.7131428073017305, 0.6658380162690982, 0.9350347806573882, 0.3569278014619399, 0.7476712642784296, 0.6607107798752132, 0.9319249545849029],
];

/// SUBGROUPS recording its subgroups (and not its population's spikes) as the monitors of
/// BRIAN2_RECORDED_* do.
fn recording_subgroups() -> Vec<String> {
    vec![
        "record.spikes=[\"Pe\", \"Pi\"]".into(),
        "record.rates=[\"Pi\"]".into(),
        "record.traces=[{ population = \"Pe\", variables = [\"v\"], neurons = [1, 3], every = 50 }]".into(),
        "record.spike_variables={ Pe = [\"I\"], Pi = [\"v\"] }".into(),
        "populations.P.events.high={ condition = \"v > 0.995\" }".into(),
        "record.events={ Pi = [\"high\"], P = [\"high\"] }".into(),
        "record.event_variables={ Pi = { high = [\"v\"] }, P = { high = [\"I\"] } }".into(),
    ]
}

/// A recorded group's values of `var` with its spikes in `f` (under `at`).
fn spike_values(f: &hdf5::File, at: &str, name: &str, var: &str) -> Vec<f64> {
    f.dataset(&format!("{at}spikes/{name}/{var}")).unwrap().read_raw().unwrap()
}

/// A subgroup's recorded spikes in `f` (under `at`) as (i, step): Brian2's step is the one
/// whose end ganglion stamps.
fn subgroup_spikes(f: &hdf5::File, at: &str, name: &str) -> Vec<(u32, u64)> {
    occurrences(f, &format!("{at}spikes/{name}"))
}

/// The (i, step) of the spikes or events in `f`'s group `at`.
fn occurrences(f: &hdf5::File, at: &str) -> Vec<(u32, u64)> {
    let ids: Vec<u64> = f.dataset(&format!("{at}/node_ids")).unwrap().read_raw().unwrap();
    let t: Vec<f64> = f.dataset(&format!("{at}/timestamps")).unwrap().read_raw().unwrap();
    ids.iter().zip(&t).map(|(&i, &t)| (i as u32, (t / 0.1).round() as u64 - 1)).collect()
}

#[test]
fn recorded_subgroups_number_their_neurons_from_their_first_as_brian2s_monitors() {
    use ganglion::app::{self, RunRequest};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("subgroups.toml");
    std::fs::write(&config, SUBGROUPS).unwrap();
    let string = |g: &hdf5::Group, name: &str| g.attr(name).unwrap().read_scalar::<hdf5::types::VarLenUnicode>().unwrap().to_string();
    for (backend, chunk, tolerance) in [("cpu", 1000, 1e-6), ("gpu", 1000, 2e-5), ("gpu", 7, 2e-5)] {
        let out = dir.path().join(format!("{backend}_{chunk}.h5"));
        let sonata = dir.path().join(format!("{backend}_{chunk}"));
        let mut overrides = recording_subgroups();
        overrides.extend([format!("simulation.backend=\"{backend}\""), format!("simulation.chunk_steps={chunk}"), format!("output.sonata_dir=\"{}\"", sonata.display())]);
        app::run(&RunRequest { config: config.clone(), overrides, output: Some(out.clone()), ..Default::default() }).unwrap();
        let f = hdf5::File::open(&out).unwrap();
        let on = format!("{backend}, chunks of {chunk}");
        assert!(f.group("spikes/P").is_err(), "{on}: the population's spikes are not recorded");
        assert_eq!(subgroup_spikes(&f, "", "Pe"), BRIAN2_RECORDED_PE, "{on}");
        assert_eq!(subgroup_spikes(&f, "", "Pi"), BRIAN2_RECORDED_PI, "{on}");
        for ((name, var), brian2) in [(("Pe", "I"), BRIAN2_RECORDED_PE_I), (("Pi", "v"), BRIAN2_RECORDED_PI_V)] {
            let ours = spike_values(&f, "", name, var);
            assert_eq!(ours.len(), 8, "{on}: {name}.{var}");
            for (x, b) in ours.iter().zip(brian2) {
                assert!((x - b).abs() < tolerance, "{on}: {name}.{var} with a spike: {x}, Brian2 {b}");
            }
        }
        assert!(f.dataset("spikes/Pe/v").is_err() && f.dataset("spikes/Pi/I").is_err(), "{on}: each its own variables");
        let pi_high: Vec<(u32, u64)> = BRIAN2_RECORDED_PI_HIGH.iter().map(|&(i, step, _)| (i, step)).collect();
        assert_eq!(occurrences(&f, "events/Pi/high"), pi_high, "{on}");
        assert_eq!(occurrences(&f, "events/P/high"), BRIAN2_RECORDED_P_HIGH, "{on}");
        for (x, (.., b)) in f.dataset("events/Pi/high/v").unwrap().read_raw::<f64>().unwrap().iter().zip(BRIAN2_RECORDED_PI_HIGH) {
            assert!((x - b).abs() < tolerance, "{on}: Pi.v with a `high` event: {x}, Brian2 {b}");
        }
        assert_eq!(f.dataset("events/P/high/I").unwrap().read_raw::<f64>().unwrap().len(), 24, "{on}");
        assert!(f.dataset("events/Pi/high/I").is_err() && f.dataset("events/P/high/v").is_err(), "{on}: each its own variables");
        assert_eq!(f.group("events/Pi/high").unwrap().attr("first").unwrap().read_scalar::<u64>().unwrap(), 4, "{on}");
        let pi = f.group("spikes/Pi").unwrap();
        assert_eq!((string(&pi, "population"), pi.attr("first").unwrap().read_scalar::<u64>().unwrap()), ("P".to_string(), 4), "{on}");
        let rate: Vec<f64> = f.dataset("rates/Pi/rate").unwrap().read_raw().unwrap();
        assert_eq!(rate.len(), 400, "{on}");
        let fired: Vec<(usize, f64)> = rate.iter().enumerate().filter(|(_, &r)| r != 0.0).map(|(k, &r)| (k, r)).collect();
        assert_eq!(fired.len(), BRIAN2_RECORDED_PI_RATE.len(), "{on}: {fired:?}");
        for ((k, r), (bk, br)) in fired.iter().zip(BRIAN2_RECORDED_PI_RATE) {
            assert!(*k == bk && (r - br).abs() < 1e-6 * br, "{on}: rate {r} Hz at step {k}, Brian2 {br} at {bk}");
        }
        let v: Vec<f32> = f.dataset("report/Pe/v/data").unwrap().read_raw().unwrap();
        let ids: Vec<u64> = f.dataset("report/Pe/v/mapping/node_ids").unwrap().read_raw().unwrap();
        assert_eq!(ids, [1, 3], "{on}: a subgroup's trace numbers its neurons from its first");
        assert_eq!(v.len(), 16, "{on}");
        for (k, x) in v.iter().enumerate() {
            let b = BRIAN2_RECORDED_PE_V[k % 2][k / 2];
            assert!((*x as f64 - b).abs() < tolerance, "{on}: v of Pe[{}] at sample {}: {x}, Brian2 {b}", [1, 3][k % 2], k / 2);
        }
        // SONATA names node populations: the subgroups' spikes are P's, by time, and Pe's
        // trace P's nodes 1 and 3.
        let s = hdf5::File::open(sonata.join("spikes.h5")).unwrap();
        assert_eq!(s.member_names().unwrap(), ["spikes"]);
        assert_eq!(s.group("spikes").unwrap().member_names().unwrap(), ["P"], "{on}");
        let ids: Vec<u64> = s.dataset("spikes/P/node_ids").unwrap().read_raw().unwrap();
        let t: Vec<f64> = s.dataset("spikes/P/timestamps").unwrap().read_raw().unwrap();
        let ours: Vec<(u32, u64)> = ids.iter().zip(&t).map(|(&i, &t)| (i as u32, (t / 0.1).round() as u64 - 1)).collect();
        let mut brian2 = BRIAN2_SPIKES.to_vec();
        brian2.sort_by_key(|&(i, step)| (step, i));
        assert_eq!(ours, brian2, "{on}: SONATA's spikes of P");
        let r = hdf5::File::open(sonata.join("v.h5")).unwrap();
        let ids: Vec<u64> = r.dataset("report/P/mapping/node_ids").unwrap().read_raw().unwrap();
        assert_eq!(ids, [1, 3], "{on}: SONATA's report of P");
    }
    let check = app::check_report(&config, &recording_subgroups()).unwrap().0;
    assert!(check.contains("and the spikes of subgroup `Pe` (P[0:4], its neurons numbered from 0), and the spikes and rate of subgroup `Pi` (P[4:6]"), "{check}");
    // With the population recorded too, each keeps its own numbering; SONATA's P once.
    let out = dir.path().join("both.h5");
    let sonata = dir.path().join("both");
    let mut overrides = recording_subgroups();
    overrides[0] = "record.spikes=[\"P\", \"Pe\", \"Pi\"]".into();
    overrides.push("record.spike_variables={ P = [\"v\"], Pe = [\"I\"], Pi = [\"v\"] }".into());
    overrides.push("record.traces=[{ population = \"Pe\", variables = [\"v\"], neurons = [1, 3], every = 50 }, { population = \"P\", variables = [\"v\"], neurons = [0, 3], every = 50 }, { population = \"Pi\", variables = [\"v\"], neurons = [1], every = 50 }]".into());
    overrides.push(format!("output.sonata_dir=\"{}\"", sonata.display()));
    app::run(&RunRequest { config: config.clone(), overrides, output: Some(out.clone()), ..Default::default() }).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    assert_eq!(subgroup_spikes(&f, "", "P"), BRIAN2_SPIKES);
    assert_eq!(subgroup_spikes(&f, "", "Pe"), BRIAN2_RECORDED_PE);
    // P's v with each of its spikes, Pi's its neurons' rows of them; Pe's I beside.
    let (p_v, pi_v) = (spike_values(&f, "", "P", "v"), spike_values(&f, "", "Pi", "v"));
    let of_pi: Vec<f64> = BRIAN2_SPIKES.iter().zip(&p_v).filter(|((i, _), _)| *i >= 4).map(|(_, &v)| v).collect();
    assert_eq!(of_pi, pi_v);
    assert!(f.dataset("spikes/P/I").is_err(), "P records v alone");
    assert_eq!(spike_values(&f, "", "Pe", "I"), BRIAN2_RECORDED_PE_I.map(|x| x as f32 as f64));
    let s = hdf5::File::open(sonata.join("spikes.h5")).unwrap();
    assert_eq!(s.dataset("spikes/P/node_ids").unwrap().read_raw::<u64>().unwrap().len(), BRIAN2_SPIKES.len(), "each spike once");
    let r = hdf5::File::open(sonata.join("v.h5")).unwrap();
    assert_eq!(r.dataset("report/P/mapping/node_ids").unwrap().read_raw::<u64>().unwrap(), [0, 3, 1, 5], "P's nodes, then the subgroups' others as P's");
    let joined: Vec<f32> = r.dataset("report/P/data").unwrap().read_raw().unwrap();
    let p_v: Vec<f32> = f.dataset("report/P/v/data").unwrap().read_raw().unwrap();
    let pe_v: Vec<f32> = f.dataset("report/Pe/v/data").unwrap().read_raw().unwrap();
    let pi_v: Vec<f32> = f.dataset("report/Pi/v/data").unwrap().read_raw().unwrap();
    for k in 0..8 {
        assert_eq!(joined[4 * k..4 * k + 4], [p_v[2 * k], p_v[2 * k + 1], pe_v[2 * k], pi_v[k]], "sample {k}");
    }
    // `stats` counts a subgroup's rate over its own neurons: Pi's 8 spikes of 2 neurons in 40 ms.
    let stats = ganglion::stats::from_file(&out, 10.0, 5).unwrap().report();
    let pi: Vec<&str> = stats.lines().find(|l| l.starts_with("Pi ")).expect("a row of Pi").split_whitespace().collect();
    assert_eq!(pi[..4], ["Pi", "2", "8", "100.000"], "{stats}");
    assert!(stats.contains("Pi.high events: 13, 162.500 per neuron per second"), "{stats}");
    // A sweep's instances batched on the GPU, each its own subgroups' spikes; stacked, and
    // merged from slices, the same rows.
    let sweep = dir.path().join("sweep.h5");
    let mut overrides = recording_subgroups();
    overrides.extend(["simulation.backend=\"gpu\"".into(), "sweep.populations.P.init.v=[\"0.1*i\", \"0.1*i\", \"0\"]".into()]);
    let req = RunRequest { config: config.clone(), overrides, output: Some(sweep.clone()), ..Default::default() };
    app::run_any(&req).unwrap();
    let f = hdf5::File::open(&sweep).unwrap();
    for k in 0..2 {
        assert_eq!(subgroup_spikes(&f, &format!("instances/{k}/"), "Pe"), BRIAN2_RECORDED_PE, "instance {k}");
        assert_eq!(subgroup_spikes(&f, &format!("instances/{k}/"), "Pi"), BRIAN2_RECORDED_PI, "instance {k}");
        assert_eq!(occurrences(&f, &format!("instances/{k}/events/Pi/high")).len(), BRIAN2_RECORDED_PI_HIGH.len(), "instance {k}");
        for (x, b) in spike_values(&f, &format!("instances/{k}/"), "Pi", "v").iter().zip(BRIAN2_RECORDED_PI_V) {
            assert!((x - b).abs() < 2e-5, "instance {k}: Pi.v with a spike: {x}, Brian2 {b}");
        }
    }
    assert_ne!(subgroup_spikes(&f, "instances/2/", "Pe"), BRIAN2_RECORDED_PE, "instance 2 starts elsewhere");
}

#[test]
fn a_sweeps_stacked_layout_holds_its_recorded_subgroups_as_its_instance_groups_do() {
    // (SUBGROUPS' synaptic variables keep it out of the stacked layout: a built-in synapse.)
    use ganglion::app::{self, RunRequest};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("built_in.toml");
    std::fs::write(&config, built_in(true, "synapse = \"graded\"\nweight = 0.2")).unwrap();
    let overrides = vec![
        "record.spikes=[\"a\", \"b\"]".into(),
        "record.rates=[\"b\"]".into(),
        "record.traces=[{ population = \"b\", variables = [\"v\"], neurons = [0, 5], every = 100 }]".into(),
        "sweep.populations.hh.params.i_ext=[9.0, 12.0, 15.0]".into(),
    ];
    let instances = dir.path().join("instances.h5");
    let req = RunRequest { config: config.clone(), overrides, output: Some(instances.clone()), ..Default::default() };
    app::run_any(&req).unwrap();
    let f = hdf5::File::open(&instances).unwrap();
    let [stacked, merged] = stacked_whole_and_merged(&req, dir.path());
    for path in [&stacked, &merged] {
        let s = hdf5::File::open(path).unwrap();
        let column = |name: &str, var: &str| s.dataset(&format!("stacked/spikes/{name}/{var}")).unwrap().read_raw::<f64>().unwrap();
        for (name, size) in [("a", 10), ("b", 20)] {
            let (instance, ids, t) = (column(name, "instance"), column(name, "node_ids"), column(name, "timestamps"));
            assert!(ids.len() > 30 && ids.iter().all(|&i| i < size as f64), "{name}: numbered within the subgroup");
            assert_eq!(s.group(&format!("stacked/spikes/{name}")).unwrap().attr("first").unwrap().read_scalar::<u64>().unwrap(), [3, 20][(name == "b") as usize]);
            for k in 0..3 {
                let rows: Vec<usize> = (0..instance.len()).filter(|&r| instance[r] == k as f64).collect();
                let own = |var: &str| f.dataset(&format!("instances/{k}/spikes/{name}/{var}")).unwrap().read_raw::<f64>().unwrap();
                assert_eq!(rows.iter().map(|&r| ids[r]).collect::<Vec<_>>(), own("node_ids"), "{}: {name} of instance {k}", path.display());
                assert_eq!(rows.iter().map(|&r| t[r]).collect::<Vec<_>>(), own("timestamps"), "{}: {name} of instance {k}", path.display());
            }
        }
        let rate: Vec<f64> = s.dataset("stacked/rates/b/rate").unwrap().read_raw().unwrap();
        let own: Vec<f64> = f.dataset("instances/1/rates/b/rate").unwrap().read_raw().unwrap();
        assert_eq!(rate[2000..4000], own[..], "{}", path.display());
        let v: Vec<f32> = s.dataset("stacked/report/b/v/data").unwrap().read_raw().unwrap();
        let own: Vec<f32> = f.dataset("instances/1/report/b/v/data").unwrap().read_raw().unwrap();
        assert_eq!(v[40..80], own[..], "{}", path.display());
        assert_eq!(s.dataset("stacked/report/b/v/mapping/node_ids").unwrap().read_raw::<u64>().unwrap(), [0, 5]);
        for at in ["stacked/report/b/v", "stacked/rates/b"] {
            assert_eq!(s.group(at).unwrap().attr("first").unwrap().read_scalar::<u64>().unwrap(), 20, "{}: {at}", path.display());
        }
    }
    // A subgroup's events and the values recorded with them and its spikes (SUBGROUPS'
    // neurons, unconnected).
    let unconnected = SUBGROUPS[..SUBGROUPS.find("[projections.se]").unwrap()].to_string() + "[record]\nspikes = [\"P\"]\n";
    let config = dir.path().join("unconnected.toml");
    std::fs::write(&config, unconnected).unwrap();
    let mut overrides = recording_subgroups();
    overrides.push("sweep.populations.P.init.v=[\"0.1*i\", \"0.05*i\", \"0\"]".into());
    let instances = dir.path().join("events.h5");
    let req = RunRequest { config, overrides, output: Some(instances.clone()), ..Default::default() };
    app::run_any(&req).unwrap();
    let f = hdf5::File::open(&instances).unwrap();
    let stacked_dir = dir.path().join("events");
    std::fs::create_dir(&stacked_dir).unwrap();
    for path in stacked_whole_and_merged(&req, &stacked_dir) {
        let s = hdf5::File::open(&path).unwrap();
        for (at, var) in [("events/Pi/high", "v"), ("events/P/high", "I"), ("spikes/Pi", "v"), ("spikes/Pe", "I")] {
            let column = |name: &str| s.dataset(&format!("stacked/{at}/{name}")).unwrap().read_raw::<f64>().unwrap();
            let instance = column("instance");
            assert!(instance.len() > 5, "{}: {at}", path.display());
            for k in 0..3 {
                let rows: Vec<usize> = (0..instance.len()).filter(|&r| instance[r] == k as f64).collect();
                for name in ["node_ids", "timestamps", var] {
                    let own = f.dataset(&format!("instances/{k}/{at}/{name}")).unwrap().read_raw::<f64>().unwrap();
                    assert_eq!(rows.iter().map(|&r| column(name)[r]).collect::<Vec<_>>(), own, "{}: {at}/{name} of instance {k}", path.display());
                }
            }
        }
        assert_eq!(s.group("stacked/events/Pi/high").unwrap().attr("first").unwrap().read_scalar::<u64>().unwrap(), 4, "{}", path.display());
    }
}


/// tests/brian2/subgroups.py's last network: a PoissonInput into subgroup d[2:5] at rate·dt =
/// 1 (every step each of its neurons counts all 3 sources), its weight reading `i` and `N`
/// within the subgroup; v at the end of 1 ms from Brian2 2.9.0 (numpy target).
const POISSON: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 1.0
[models.m]
equations = "dv/dt = -v/(10*ms) : 1"
method = "exact"
[populations.d]
model = "m"
size = 6
init = { v = "0.1*i" }
subgroups = { s = [2, 5] }
[populations.d.poisson_inputs.drive]
variable = "v"
n = 3
rate = "10*kHz"
weight = "0.01*i + 0.001*N"
subgroup = "s"
[record]
spikes = ["d"]
"#;
const BRIAN2_POISSON_V: [f64; 6] = [0.0, 0.09048374180359602, 0.26704275271184186, 0.644444058197604, 1.0218453636833658, 0.45241870901798];

#[test]
fn a_poisson_input_into_a_subgroup_drives_its_neurons_alone_counting_i_and_n_within_it() {
    let (config, net) = parsed(POISSON, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let mut gpu = gpu_backend(&net, &plan);
    run_in_memory(&net, &mut gpu, &plan);
    let merged = ganglion::sweep::batch::merge(&[&net, &net], &[&plan, &plan]).expect("the instances merge");
    let mut batched = gpu_backend(&merged.net, &merged.plan);
    run_in_memory(&merged.net, &mut batched, &merged.plan);
    let batched_v = batched.read_state().unwrap()[0][0].clone();
    for (v, tolerance, on) in [(&cpu.read_state().unwrap()[0][0], 1e-12, "CPU"), (&gpu.read_state().unwrap()[0][0], 2e-6, "GPU"), (&batched_v[..6].to_vec(), 2e-6, "batched 0"), (&batched_v[6..].to_vec(), 2e-6, "batched 1")] {
        for (k, (x, b)) in v.iter().zip(BRIAN2_POISSON_V).enumerate() {
            assert!((x - b).abs() < tolerance, "{on}: v of neuron {k}: {x}, Brian2 {b}");
        }
    }
    let shared = ["models.m.equations=\"dv/dt = -v/(10*ms) : 1\\nx : 1 (shared)\"", "populations.d.poisson_inputs.drive.variable=\"x\"", "populations.d.poisson_inputs.drive.weight=\"0.1\""];
    for (set, message) in [
        (&["populations.d.poisson_inputs.drive.subgroup=\"t\""][..], "`t` is not a subgroup of `d`, whose subgroups are `s`"),
        (&shared[..], "`x` is shared by the whole group: a subgroup's input cannot drive it"),
    ] {
        let e = ganglion::config::parse(POISSON, &set.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap_err().to_string();
        assert!(e.contains("populations.d.poisson_inputs.drive.subgroup") && e.contains(message), "{set:?}: {e}");
    }
}


/// tests/brian2/subgroups.py's linked variables: targets reading `v` of subgroups of a spiking
/// source, neuron for neuron (`b_tgt` of a_src[2:4]) and by an index within the subgroup
/// (`c_tgt` of a_src[3:5], index [1, 0, 1]); `d_tgt` takes that index from a variable. x at the
/// end of 10 ms from Brian2 2.9.0 (numpy target).
const LINKED: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 10.0
[models.src]
equations = "dv/dt = (1.5 - v)/(10*ms) : 1"
threshold = "v > 1"
reset = "v = 0"
method = "exact"
[models.tgt]
equations = """
dx/dt = (I - x)/(5*ms) : 1
I : 1 (linked)
k : 1 (constant)
"""
method = "exact"
[populations.a_src]
model = "src"
size = 5
init = { v = "0.2*i" }
subgroups = { s1 = [2, 4], s2 = [3, 5] }
[populations.b_tgt]
model = "tgt"
size = 2
links = { I = "s1.v" }
[populations.c_tgt]
model = "tgt"
size = 3
links = { I = { population = "s2", variable = "v", index = [1, 0, 1] } }
[populations.d_tgt]
model = "tgt"
size = 3
init = { k = [1, 0, 1] }
links = { I = { population = "s2", variable = "v", index = "k" } }
[record]
spikes = ["a_src"]
"#;
const BRIAN2_LINKED_B: [f64; 2] = [0.48216254376031176, 0.4357928735287696];
const BRIAN2_LINKED_C: [f64; 3] = [0.47523259014183605, 0.4357928735287696, 0.47523259014183605];

#[test]
fn a_variable_linked_to_a_subgroup_reads_its_neurons_as_brian2s() {
    let (config, net) = parsed(LINKED, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let mut gpu = gpu_backend(&net, &plan);
    run_in_memory(&net, &mut gpu, &plan);
    for (state, tolerance, on) in [(cpu.read_state().unwrap(), 1e-9, "CPU"), (gpu.read_state().unwrap(), 2e-6, "GPU")] {
        for (p, brian2) in [(1, &BRIAN2_LINKED_B[..]), (2, &BRIAN2_LINKED_C[..]), (3, &BRIAN2_LINKED_C[..])] {
            for (k, (x, b)) in state[p][0].iter().zip(brian2).enumerate() {
                assert!((x - b).abs() < tolerance, "{on}: x of neuron {k} of population {p}: {x}, Brian2 {b}");
            }
        }
    }
    let reads_i = ["models.src.equations=\"dv/dt = (1.5 - v)/(10*ms) : 1\\nu = v*i : 1\"", "populations.b_tgt.links.I=\"s1.u\""];
    for (set, key, message) in [
        (&["populations.c_tgt.links.I.index=[2, 0, 1]"][..], "populations.c_tgt.links.I.index", "entry 0 is 2, outside `s2`'s neurons 0..2"),
        (&["populations.d_tgt.init.k=[2, 0, 1]"][..], "populations.d_tgt.links.I.index", "neuron 0 reads neuron 2 of the source, which has neurons 0..2"),
        (&reads_i[..], "populations.b_tgt.links.I", "the subexpression `s1.u` reads `i` (counted within a subgroup in Brian2), which a linked variable cannot"),
    ] {
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        let e = match ganglion::config::parse(LINKED, &set) {
            Err(e) => e.to_string(),
            Ok(config) => ganglion::network::Network::build(&config).map(|_| ()).unwrap_err().to_string(),
        };
        assert!(e.contains(key) && e.contains(message), "{set:?}: {e}");
    }
}


/// HH neurons coupled by `synapse` (a built-in, with its keys) from subgroup `a` = hh[3:13]
/// onto `b` = hh[20:40] by fixed pairs, or the same pairs within the whole population shifted
/// by the subgroups' first neurons.
fn built_in(subgroups: bool, synapse: &str) -> String {
    let pairs: Vec<(u32, u32)> = (0..60).map(|k| ((k * 7) % 10, (k * 11) % 20)).collect();
    let (pre, post): (Vec<u32>, Vec<u32>) = match subgroups {
        true => pairs.iter().copied().unzip(),
        false => pairs.iter().map(|&(i, j)| (i + 3, j + 20)).unzip(),
    };
    let list = |v: &[u32]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
    let (source, target) = if subgroups { ("a", "b") } else { ("hh", "hh") };
    format!(
        r#"
[simulation]
dt_ms = 0.01
duration_ms = 20.0
[populations.hh]
model = "hh"
size = 50
params = {{ i_ext = 9.0 }}
init = {{ v = {{ uniform = [-70.0, -50.0] }} }}
subgroups = {{ a = [3, 13], b = [20, 40] }}
[projections.g]
source = "{source}"
target = "{target}"
{synapse}
connectivity = {{ rule = "explicit", pre = [{}], post = [{}] }}
"#,
        list(&pre),
        list(&post)
    )
}

#[test]
fn a_subgroups_built_in_synapses_are_its_populations_on_both_backends_and_every_kernel() {
    // The subgroups' pairs, placed, are the population's matrix: the same run bit for bit,
    // graded under every GPU kernel, event-driven by its ring.
    let graded = "synapse = \"graded\"\nweight = 0.2";
    let event_driven = "synapse = \"exp_cond\"\nparams = { tau_ms = 2.0, e_rev = 0.0, delay_ms = 0.3 }\nweight = 0.5";
    for (synapse, kernels) in [(graded, &ALL_KERNELS[..]), (event_driven, &[ganglion::config::GpuCoupling::Auto][..])] {
        let (_, sub) = parsed(&built_in(true, synapse), &[]);
        let (_, whole) = parsed(&built_in(false, synapse), &[]);
        assert_eq!(sub.projections[0].csr, whole.projections[0].csr);
        let plan = RecordPlan::all_spikes(&sub);
        let mut cpu = CpuBackend::<f32>::new(&sub);
        let a = run_in_memory(&sub, &mut cpu, &plan);
        let mut cpu_whole = CpuBackend::<f32>::new(&whole);
        let b = run_in_memory(&whole, &mut cpu_whole, &plan);
        assert!(a.spikes[0].len() > 50, "the network fires");
        assert_eq!(a.spikes, b.spikes, "{synapse}");
        assert_eq!(cpu.read_state().unwrap(), cpu_whole.read_state().unwrap(), "{synapse}");
        for &coupling in kernels {
            let x = run_in_memory(&sub, &mut gpu_backend_with(&sub, &plan, coupling), &plan);
            let y = run_in_memory(&whole, &mut gpu_backend_with(&whole, &plan, coupling), &plan);
            assert_eq!(x.spikes, y.spikes, "{synapse}: {coupling:?}");
        }
    }
}

#[test]
fn subgroups_that_cannot_be_are_refused_by_key() {
    let at = "populations.P.subgroups";
    for (set, key, message) in [
        ("populations.P.subgroups={ Pe = [4, 4] }", format!("{at}.Pe"), "must be neurons [a, b) of `P` with 0 <= a < b <= 6"),
        ("populations.P.subgroups={ Pe = [0, 7] }", format!("{at}.Pe"), "0 <= a < b <= 6"),
        ("populations.P.subgroups={ P = [0, 2] }", format!("{at}.P"), "is the name of a population"),
        ("populations.P.subgroups={ \"2e\" = [0, 2] }", format!("{at}.2e"), "not a valid subgroup name"),
        ("projections.se.source=\"Px\"", "projections.se.source".to_string(), "no population or subgroup named `Px`"),
        ("record.spikes=[\"Px\"]", "record.spikes[0]".to_string(), "no population or subgroup named `Px`"),
        ("record.events={ Pe = [\"up\"] }", "record.events.Pe[0]".to_string(), "`up` is not an event of `Pe`: `P` defines no events (populations.P.events)"),
        ("record.spike_variables={ Pe = [\"v\"] }", "record.spike_variables.Pe".to_string(), "records variables with `Pe`'s spikes, which record.spikes does not list"),
        ("record.traces=[{ population = \"Pi\", variables = [\"v\"], neurons = [2] }]", "record.traces[0].neurons".to_string(), "neuron 2 is out of range for size 2"),
        ("projections.se.connectivity={ rule = \"fixed_probability\", p = 0.5, procedural = true }", "projections.se.connectivity".to_string(), "procedural"),
    ] {
        let e = ganglion::config::parse(SUBGROUPS, &set.split('\n').map(String::from).collect::<Vec<_>>()).unwrap_err().to_string();
        assert!(e.contains(&key) && e.contains(message), "{set}: {e}");
    }
}
