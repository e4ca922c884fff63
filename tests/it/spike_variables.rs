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

#[test]
fn spike_variables_that_cannot_be_recorded_are_refused_by_key() {
    let at = "record.spike_variables.g";
    for (set, key, message) in [
        ("record.spikes=[]", at.to_string(), "which record.spikes does not list"),
        ("record.spike_variables={ h = [\"v\"] }", "record.spike_variables.h".into(), "no population named `h`"),
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
    // A subexpression's slot is not kept current by the update; a built-in model has none.
    let text = ADAPTING.replace("c : 1\n", "c : 1\nd = 2*v : 1\n").replace("[\"v\", \"a\", \"c\"]", "[\"d\"]");
    let e = ganglion::config::parse(&text, &[]).unwrap_err().to_string();
    assert!(e.contains(&format!("{at}[0]")) && e.contains("`d` is not a differential variable or parameter"), "{e}");
    let builtin = "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n[populations.g]\nmodel = \"hh\"\nsize = 2\n[record]\nspikes = [\"g\"]\nspike_variables = { g = [\"v\"] }\n";
    let e = ganglion::config::parse(builtin, &[]).unwrap_err().to_string();
    assert!(e.contains(at) && e.contains("is built in"), "{e}");
}
