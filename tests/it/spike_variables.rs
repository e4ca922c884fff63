//! Brian2's `SpikeMonitor(P, variables=[...])`: `record.spike_variables`, each spike's values
//! after the update and before the reset, on both backends and in the output file.

use crate::common::*;
use ganglion::app::{self, RunRequest};
use ganglion::backend::cpu::CpuBackend;
use ganglion::record::RecordPlan;

/// tests/brian2/spike_variables.py's network: three adapting neurons, each driven by its own
/// constant input, with a counter their reset increments.
const ADAPTING: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
[models.m]
equations = """
dv/dt = (I - v - a)/(2*ms) : 1
da/dt = -a/(10*ms) : 1
I : 1 (constant)
c : 1
"""
threshold = "v > 1"
reset = "v = 0; a += 0.3; c += 1"
method = "exact"
[populations.g]
model = "m"
size = 3
init = { I = "1.5 + 0.5*i", v = "0.2*i" }
[record]
spikes = ["g"]
spike_variables = { g = ["v", "a", "c"] }
"#;

/// Brian2 2.9.0 (numpy target), tests/brian2/spike_variables.py: each spike's neuron, step,
/// and v, a and c as the monitor recorded them.
const BRIAN2_SPIKES: [(u32, u64, f64, f64, f64); 21] = [
    (2, 6, 1.0201550115907008, 0.0, 0.0),
    (1, 11, 1.0121390550307527, 0.0, 0.0),
    (2, 18, 1.0011801095312585, 0.2660761310151475, 1.0),
    (0, 21, 1.0006933744528816, 0.0, 0.0),
    (1, 29, 1.026097973642298, 0.250581063423382, 1.0),
    (2, 33, 1.0442951048574889, 0.48722624122857383, 2.0),
    (2, 50, 1.0218591299994264, 0.6641550824259659, 3.0),
    (1, 51, 1.0110339101612724, 0.44185165319943615, 2.0),
    (0, 53, 1.000560528353379, 0.21784471112210776, 1.0),
    (2, 69, 1.0025992806090036, 0.7973168519500685, 4.0),
    (1, 78, 1.0140238237627939, 0.5663143398923449, 3.0),
    (2, 91, 1.0236318515771012, 0.880617401010941, 5.0),
    (0, 99, 1.0058762530675773, 0.3269068970436458, 2.0),
    (1, 109, 1.0111013618611464, 0.6353956157274955, 4.0),
    (2, 114, 1.0031414302091766, 0.9380401968033474, 6.0),
    (2, 139, 1.0218852332814805, 0.9641866747443246, 7.0),
    (1, 143, 1.0160011120788854, 0.6657868393170905, 5.0),
    (0, 154, 1.0020869603501668, 0.36169381537555173, 3.0),
    (2, 164, 1.0057954756016012, 0.9845495722393166, 8.0),
    (1, 178, 1.0115147440076533, 0.6805784828738357, 6.0),
    (2, 190, 1.0182037842212597, 0.9904539847184192, 9.0),
];

#[test]
fn each_spike_records_its_neurons_values_before_the_reset_as_brian2s_monitor_on_both_backends() {
    let (config, net) = parsed(ADAPTING, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    for (sink, tolerance, on) in [(&cpu, 1e-6, "CPU"), (&gpu, 2e-5, "GPU")] {
        let ours: Vec<(u32, u64)> = sink.spikes[0].iter().map(|s| (s.neuron, s.step)).collect();
        let brian2: Vec<(u32, u64)> = BRIAN2_SPIKES.iter().map(|s| (s.0, s.1)).collect();
        assert_eq!(ours, brian2, "{on}: spikes");
        let values = &sink.spike_values[0];
        assert_eq!(values.len(), 3 * BRIAN2_SPIKES.len(), "{on}");
        for (row, s) in values.chunks(3).zip(&BRIAN2_SPIKES) {
            for (x, b) in row.iter().zip([s.2, s.3, s.4]) {
                assert!((*x as f64 - b).abs() < tolerance, "{on}: neuron {} at step {}: {row:?}, Brian2 {:?}", s.0, s.1, (s.2, s.3, s.4));
            }
        }
    }
}

#[test]
fn spike_variables_are_written_beside_the_spikes_in_runs_and_sweeps() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("adapting.toml");
    std::fs::write(&config, ADAPTING).unwrap();
    let read = |f: &hdf5::File, at: &str, var: &str| f.dataset(&format!("{at}spikes/g/{var}")).unwrap().read_raw::<f64>().unwrap();
    let mut single = Vec::new();
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
        assert_eq!(read(&f, "", "node_ids"), BRIAN2_SPIKES.map(|s| s.0 as f64), "{backend}, chunks of {chunk}");
        let c = read(&f, "", "c");
        assert_eq!(c, BRIAN2_SPIKES.map(|s| s.4), "{backend}, chunks of {chunk}: c, the count before the spike's reset");
        let v = f.dataset("spikes/g/v").unwrap();
        let units: hdf5::types::VarLenUnicode = v.attr("units").unwrap().read_scalar().unwrap();
        assert_eq!(units.as_str(), "1");
        single.push([read(&f, "", "v"), read(&f, "", "a"), c]);
    }
    // `stats` summarises them: the counts before each spike's reset, as Brian2's.
    let stats = ganglion::stats::from_file(&dir.path().join("cpu_7.h5"), 10.0, 5).unwrap().report();
    let mean_c = BRIAN2_SPIKES.iter().map(|s| s.4).sum::<f64>() / BRIAN2_SPIKES.len() as f64;
    assert!(stats.contains(&format!("g.c at its spikes: 21 spikes, mean {mean_c:.4e}")), "{stats}");
    // A sweep's instances, batched on the GPU: each its own spikes' values, the second's
    // neurons driven as the single run's.
    let out = dir.path().join("sweep.h5");
    let req = RunRequest {
        config: config.clone(),
        overrides: vec!["simulation.backend=\"gpu\"".into(), "sweep.populations.g.init.v=[\"0.2*i\", \"0.2*i\", \"0.1\"]".into()],
        output: Some(out.clone()),
        ..Default::default()
    };
    app::run_any(&req).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    for k in 0..2 {
        let at = format!("instances/{k}/");
        assert_eq!([read(&f, &at, "v"), read(&f, &at, "a"), read(&f, &at, "c")], single[1], "instance {k}");
    }
    assert_ne!(read(&f, "instances/2/", "v"), single[1][0], "instance 2 starts elsewhere");
    // Stacked: each instance's rows of the spike table carry its values, also once its
    // slices are merged.
    let [stacked, merged] = stacked_whole_and_merged(&req, dir.path());
    // `stats --instance` reads an instance's values alike from either layout.
    let stats = |p: &std::path::Path| ganglion::stats::from_file(ganglion::plot::Source { path: p, instance: Some(2) }, 10.0, 5).unwrap().report();
    assert_eq!(stats(&stacked), stats(&out));
    assert!(stats(&stacked).contains("g.v at its spikes"), "{}", stats(&stacked));
    for path in [&stacked, &merged] {
        let s = hdf5::File::open(path).unwrap();
        let instance = read(&s, "stacked/", "instance");
        for k in 0..3 {
            let rows: Vec<usize> = (0..instance.len()).filter(|&r| instance[r] == k as f64).collect();
            for var in ["v", "a", "c", "node_ids"] {
                let column = read(&s, "stacked/", var);
                let own = read(&f, &format!("instances/{k}/"), var);
                assert_eq!(rows.iter().map(|&r| column[r]).collect::<Vec<_>>(), own, "{}: instance {k}: {var}", path.display());
            }
        }
    }
    let check = app::check_report(&config, &[]).unwrap().0;
    assert!(check.contains("with each spike of `g`: v, a, c"), "{check}");
}

/// `ADAPTING` with three subexpressions (one of the others, one of t and i) recorded with each
/// spike, and a custom event recording one (tests/brian2/spike_variables.py's second part).
fn with_subexpressions() -> String {
    ADAPTING
        .replace("c : 1\n", "c : 1\ndrive = I - a : 1\ntwice = 2*drive + c : 1\nvt = v + t/(10*ms) + 0.01*i : 1\n")
        .replace("{ g = [\"v\", \"a\", \"c\"] }", "{ g = [\"v\", \"drive\", \"twice\", \"vt\"] }\nevents = { g = [\"low\"] }\nevent_variables = { g = { low = [\"twice\", \"vt\"] } }")
        .replace("[populations.g]\n", "[populations.g.events.low]\ncondition = \"v < 0.05\"\n[populations.g]\n")
}

/// Brian2 2.9.0 (numpy target), tests/brian2/spike_variables.py: each spike's neuron,
/// step, and v, drive, twice and vt as SpikeMonitor recorded them; each `low` occurrence's
/// neuron, step, twice and vt as EventMonitor recorded them.
const BRIAN2_SUBEXPRESSIONS: [(u32, u64, [f64; 4]); 21] = [
    (2, 6, [1.0201550115907008, 2.5, 5.0, 1.1001550115907008]),
    (1, 11, [1.0121390550307527, 2.0, 4.0, 1.1321390550307528]),
    (2, 18, [1.0011801095312585, 2.2339238689848524, 5.467847737969705, 1.2011801095312584]),
    (0, 21, [1.0006933744528816, 1.5, 3.0, 1.2106933744528816]),
    (1, 29, [1.0260979736422997, 1.749418936576618, 4.498837873153236, 1.3260979736422998]),
    (2, 33, [1.0442951048574907, 2.0127737587714263, 6.025547517542853, 1.3942951048574908]),
    (2, 50, [1.0218591299994295, 1.8358449175740341, 6.671689835148069, 1.5418591299994295]),
    (1, 51, [1.0110339101612742, 1.558148346800564, 5.116296693601128, 1.5310339101612742]),
    (0, 53, [1.0005605283533803, 1.2821552888778922, 3.5643105777557844, 1.53056052835338]),
    (2, 69, [1.002599280609008, 1.7026831480499314, 7.405366296099863, 1.712599280609008]),
    (1, 78, [1.0140238237627965, 1.433685660107655, 5.867371320215311, 1.8040238237627966]),
    (2, 91, [1.0236318515771057, 1.6193825989890591, 8.238765197978118, 1.9536318515771058]),
    (0, 99, [1.00587625306758, 1.1730931029563543, 4.3461862059127085, 1.9958762530675802]),
    (1, 109, [1.0111013618611486, 1.3646043842725044, 6.729208768545009, 2.1111013618611487]),
    (2, 114, [1.0031414302091797, 1.5619598031966526, 9.123919606393304, 2.16314143020918]),
    (2, 139, [1.021885233281485, 1.5358133252556754, 10.071626650511352, 2.431885233281485]),
    (1, 143, [1.0160011120788899, 1.3342131606829095, 7.6684263213658195, 2.45600111207889]),
    (0, 154, [1.0020869603501699, 1.1383061846244482, 5.276612369248896, 2.54208696035017]),
    (2, 164, [1.005795475601606, 1.5154504277606833, 11.030900855521367, 2.6657954756016062]),
    (1, 178, [1.0115147440076564, 1.3194215171261643, 8.638843034252329, 2.8015147440076564]),
    (2, 190, [1.0182037842212641, 1.5095460152815807, 12.019092030563161, 2.938203784221264]),
];
const BRIAN2_LOW: [(u32, u64, [f64; 2]); 4] = [
    (0, 54, [3.9746158596913426, 0.5880271837327946]),
    (0, 100, [4.758661861611463, 1.0427348853690381]),
    (0, 155, [5.689780296189165, 1.5910468323613667]),
    (1, 179, [9.058356872105495, 1.8499580784918337]),
];

#[test]
fn subexpressions_recorded_with_spikes_and_events_are_computed_there_as_brian2s_monitors_do() {
    let text = with_subexpressions();
    let (config, net) = parsed(&text, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    // Two instances batched on the GPU: each computes `i` as its own run's.
    let merged = ganglion::sweep::batch::merge(&[&net, &net], &[&plan, &plan]).expect("the instances merge");
    let out = run_in_memory(&merged.net, &mut gpu_backend(&merged.net, &merged.plan), &merged.plan);
    let whole = ganglion::record::ChunkOutput { spikes: out.spikes.clone(), spike_values: out.spike_values.clone(), events: out.events.clone(), event_values: out.event_values.clone(), ..Default::default() };
    let batched = merged.split(&whole);
    let mut runs = vec![(cpu.spikes.clone(), cpu.spike_values.clone(), cpu.events.clone(), cpu.event_values.clone(), 1e-6, "CPU".to_string())];
    runs.push((gpu.spikes.clone(), gpu.spike_values.clone(), gpu.events.clone(), gpu.event_values.clone(), 2e-5, "GPU".into()));
    for (k, b) in batched.into_iter().enumerate() {
        runs.push((b.spikes, b.spike_values, b.events, b.event_values, 2e-5, format!("GPU batch, instance {k}")));
    }
    for (spikes, values, events, event_values, tolerance, on) in runs {
        let ours: Vec<(u32, u64)> = spikes[0].iter().map(|s| (s.neuron, s.step)).collect();
        let brian2: Vec<(u32, u64)> = BRIAN2_SUBEXPRESSIONS.iter().map(|s| (s.0, s.1)).collect();
        assert_eq!(ours, brian2, "{on}: spikes");
        assert_eq!(values[0].len(), 4 * BRIAN2_SUBEXPRESSIONS.len(), "{on}");
        for (row, s) in values[0].chunks(4).zip(&BRIAN2_SUBEXPRESSIONS) {
            for (x, b) in row.iter().zip(s.2) {
                assert!((*x as f64 - b).abs() < tolerance, "{on}: neuron {} at step {}: {row:?}, Brian2 {:?}", s.0, s.1, s.2);
            }
        }
        let occurrences: Vec<(u32, u64)> = events[0].iter().map(|s| (s.neuron, s.step)).collect();
        assert_eq!(occurrences, BRIAN2_LOW.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(), "{on}: low");
        assert_eq!(event_values[0].len(), 2 * BRIAN2_LOW.len(), "{on}");
        for (row, b) in event_values[0].chunks(2).zip(&BRIAN2_LOW) {
            for (x, want) in row.iter().zip(b.2) {
                assert!((*x as f64 - want).abs() < tolerance, "{on}: low of neuron {} at step {}: {row:?}, Brian2 {:?}", b.0, b.1, b.2);
            }
        }
    }
}

#[test]
fn spike_variables_that_cannot_be_recorded_are_refused_by_key() {
    let at = "record.spike_variables.g";
    for (set, key, message) in [
        ("record.spikes=[]", at.to_string(), "which record.spikes does not list"),
        ("record.spike_variables={ h = [\"v\"] }", "record.spike_variables.h".into(), "no population or subgroup named `h`"),
        ("record.spike_variables={ g = [] }", at.into(), "name at least one variable"),
        ("record.spike_variables={ g = [\"w\"] }", format!("{at}[0]"), "`w` is not a variable of `g`'s model; it has v, a, I, c"),
        ("record.spike_variables={ g = [\"v\", \"v\"] }", format!("{at}[1]"), "listed twice"),
    ] {
        let overrides = vec![set.to_string()];
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("adapting.toml");
        std::fs::write(&config, ADAPTING).unwrap();
        let req = RunRequest { config, overrides, output: Some(dir.path().join("out.h5")), ..Default::default() };
        let e = app::run_any(&req).unwrap_err().to_string();
        assert!(e.contains(&key) && e.contains(message), "{set}: {e}");
    }
    // A variable that refractoriness keeps is not recorded; a built-in model has none.
    let text = ADAPTING.replace("reset = ", "refractory = \"1*ms\"\nreset = ").replace("[\"v\", \"a\", \"c\"]", "[\"not_refractory\"]");
    let e = ganglion::config::parse(&text, &[]).unwrap_err().to_string();
    assert!(e.contains(&format!("{at}[0]")) && e.contains("`not_refractory` is not a differential variable, parameter or subexpression"), "{e}");
    let builtin = "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n[populations.g]\nmodel = \"hh\"\nsize = 2\n[record]\nspikes = [\"g\"]\nspike_variables = { g = [\"v\"] }\n";
    let e = ganglion::config::parse(builtin, &[]).unwrap_err().to_string();
    assert!(e.contains(at) && e.contains("is built in"), "{e}");
}
