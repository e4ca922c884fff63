//! Sweeps: each instance equals a single run of its point, grid and zip, seeds, slices and
//! merge, the per-instance table, and bad sweeps.

use crate::common::*;
use ganglion::app::{self, Ran, RunRequest};
use ganglion::sweep::Slice;
use std::path::{Path, PathBuf};

const K80: &str = "configs/cobahh_k80.toml";

/// The seed pair with noise (so that seeds matter), 30 ms, traces of v.
const PAIR: &str = "configs/hh_pair.toml";

fn base_overrides() -> Vec<String> {
    vec![
        "simulation.duration_ms=30".into(),
        "populations.hh.params.noise_sigma=2.0".into(),
        "record.traces=[{population=\"hh\", variables=[\"v\"], neurons=\"all\", every=10}]".into(),
    ]
}

fn request(config: &str, out: &Path, overrides: &[String], slice: Option<Slice>) -> RunRequest {
    RunRequest {
        config: repo_path(config),
        overrides: overrides.to_vec(),
        output: Some(out.to_owned()),
        force: true,
        slice,
        ..Default::default()
    }
}

fn run_sweep(config: &str, out: &Path, overrides: &[String], slice: Option<Slice>) -> PathBuf {
    match app::run_any(&request(config, out, overrides, slice)).expect("the sweep runs") {
        (path, Ran::Sweep(_)) => path,
        (_, Ran::Single(_)) => panic!("a sweep was expected"),
    }
}

fn single_run(config: &str, out: &Path, overrides: &[String]) -> Vec<(String, Vec<f64>)> {
    app::run(&request(config, out, overrides, None)).expect("the single run");
    datasets_under(&hdf5::File::open(out).unwrap(), "/")
        .into_iter()
        .filter(|(p, _)| p.starts_with("/spikes") || p.starts_with("/report") || p.starts_with("/synapses"))
        .collect()
}

/// Every dataset of `instance` is the single run's at the same path (`what` names the case).
fn assert_datasets_in(instance: &[(String, Vec<f64>)], single: &[(String, Vec<f64>)], what: &str) {
    for (path, values) in instance {
        let twin = single.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("{what}: {path} in the single run"));
        assert_eq!(&twin.1, values, "{what}: {path}");
    }
}

/// Instance `k` of a sweep's file equals the single run of its point, dataset for dataset.
fn assert_instance_is_single_run(config: &str, sweep_file: &Path, k: usize, point: &[String], dir: &Path) {
    let mut overrides = base_overrides();
    overrides.extend(point.iter().cloned());
    let single = single_run(config, &dir.join(format!("single_{k}.h5")), &overrides);
    let file = hdf5::File::open(sweep_file).unwrap();
    let instance = datasets_under(&file, &format!("instances/{k}"));
    assert!(single.iter().any(|(p, v)| p.contains("spikes") && !v.is_empty()), "the point fires");
    assert_eq!(instance, single, "instance {k} ({})", point.join(", "));
    let single_file = hdf5::File::open(dir.join(format!("single_{k}.h5"))).unwrap();
    let (own, alone) = (file.group(&format!("instances/{k}")).unwrap(), single_file.group("/").unwrap());
    assert_eq!(outcome(&own), outcome(&alone), "instance {k}: its root attributes");
}

#[test]
fn each_instance_is_exactly_the_single_run_of_its_point_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = base_overrides();
    o.push("sweep.populations.hh.params.i_ext=[7.0, 10.0]".into());
    o.push("sweep.projections.hh_hh.weight=[0.0, 0.2]".into());
    o.push("sweep.simulation.seed=[1, 2]".into());
    let file = run_sweep(PAIR, &dir.path().join("sweep.h5"), &o, None);
    // Grid order: the first key slowest.
    for (k, point) in [
        (0, ["populations.hh.params.i_ext=7.0", "projections.hh_hh.weight=0.0", "simulation.seed=1"]),
        (5, ["populations.hh.params.i_ext=10.0", "projections.hh_hh.weight=0.0", "simulation.seed=2"]),
        (7, ["populations.hh.params.i_ext=10.0", "projections.hh_hh.weight=0.2", "simulation.seed=2"]),
    ] {
        let point: Vec<String> = point.iter().map(|s| s.to_string()).collect();
        assert_instance_is_single_run(PAIR, &file, k, &point, dir.path());
    }
    let f = hdf5::File::open(&file).unwrap();
    let column = |key: &str| f.dataset(&format!("sweep/{key}")).unwrap().read_raw::<f64>().unwrap();
    assert_eq!(column("instance"), (0..8).map(f64::from).collect::<Vec<_>>());
    assert_eq!(column("populations.hh.params.i_ext"), [7.0, 7.0, 7.0, 7.0, 10.0, 10.0, 10.0, 10.0]);
    assert_eq!(column("projections.hh_hh.weight"), [0.0, 0.0, 0.2, 0.2, 0.0, 0.0, 0.2, 0.2]);
    assert_eq!(column("simulation.seed"), [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    let complete: bool = f.attr("complete").unwrap().read_scalar().unwrap();
    assert!(complete);
    // Small instances are kept in memory and written whole: contiguous datasets.
    let layout = |path: &str| f.dataset(path).unwrap().layout();
    assert_eq!(layout("instances/5/report/hh/v/data"), hdf5::plist::dataset_create::Layout::Contiguous);
}

#[test]
fn instances_that_record_or_step_otherwise_keep_mappings_of_their_own() {
    // Written whole one after another, an instance links the first's trace mappings only
    // where they are its own: not for another variable, nor for another step.
    let dir = tempfile::tempdir().unwrap();
    for (name, sweep, points) in [
        (
            "traces",
            "sweep.record.traces=[[{population=\"hh\", variables=[\"v\"], every=10}], [{population=\"hh\", variables=[\"m\"], every=10}]]",
            ["record.traces=[{population=\"hh\", variables=[\"v\"], every=10}]", "record.traces=[{population=\"hh\", variables=[\"m\"], every=10}]"],
        ),
        ("dt", "sweep.simulation.dt_ms=[0.01, 0.02]", ["simulation.dt_ms=0.01", "simulation.dt_ms=0.02"]),
    ] {
        let mut o = base_overrides();
        o.push(sweep.into());
        let file = run_sweep(PAIR, &dir.path().join(format!("{name}.h5")), &o, None);
        for (k, point) in points.iter().enumerate() {
            assert_instance_is_single_run(PAIR, &file, k, &[point.to_string()], dir.path());
        }
    }
}

#[test]
fn an_instance_too_large_to_keep_whole_is_written_chunk_by_chunk_and_equals_its_single_run() {
    // A million spike sources over 25 steps: at 200 Hz their spikes would take 80 MB, more
    // than an instance kept in memory may.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sources.toml");
    std::fs::write(
        &config,
        r#"
[simulation]
dt_ms = 1.0
duration_ms = 25.0

[populations.src]
model = "spike_source"
size = 1000000
params = { indices = [0, 999999, 5, 0], times = [1.0, 2.0, 3.0, 20.0] }

[record]
spikes = ["src"]
"#,
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let o = vec!["sweep.simulation.seed=[1, 2]".to_string()];
    let file = run_sweep(config, &dir.path().join("sweep.h5"), &o, None);
    let single = dir.path().join("single.h5");
    app::run(&request(config, &single, &["simulation.seed=2".into()], None)).unwrap();
    let f = hdf5::File::open(&file).unwrap();
    let instance = datasets_under(&f, "instances/1");
    assert_eq!(instance, datasets_under(&hdf5::File::open(&single).unwrap(), "/"));
    assert_eq!(instance.iter().find(|(p, _)| p == "/spikes/src/node_ids").unwrap().1, [0.0, 999999.0, 5.0, 0.0]);
    let layout = f.dataset("instances/1/spikes/src/node_ids").unwrap().layout();
    assert_eq!(layout, hdf5::plist::dataset_create::Layout::Chunked, "written as it ran");
}

/// Runs a sweep, returning its file and summary.
fn run_sweep_summary(config: &str, out: &Path, overrides: &[String]) -> (PathBuf, ganglion::sweep::run::SweepSummary) {
    match app::run_any(&request(config, out, overrides, None)).expect("the sweep runs") {
        (path, Ran::Sweep(s)) => (path, s),
        (_, Ran::Single(_)) => panic!("a sweep was expected"),
    }
}

#[test]
fn each_instance_of_a_gpu_batch_is_the_single_gpu_run_of_its_point() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = base_overrides();
    o.push("simulation.backend=\"gpu\"".into());
    o.push("sweep.populations.hh.params.i_ext=[8.0, 12.0]".into());
    o.push("sweep.projections.hh_hh.weight=[0.0, 0.2]".into());
    o.push("sweep.simulation.seed=[3, 4]".into());
    let (file, summary) = run_sweep_summary(PAIR, &dir.path().join("sweep.h5"), &o);
    // All eight in one set of buffers: one dispatch per kernel per step.
    assert_eq!((summary.batched, summary.largest_batch), (8, 8), "{}", summary.one_line());
    for (k, point) in [
        (0, ["populations.hh.params.i_ext=8.0", "projections.hh_hh.weight=0.0", "simulation.seed=3"]),
        (3, ["populations.hh.params.i_ext=8.0", "projections.hh_hh.weight=0.2", "simulation.seed=4"]),
        (6, ["populations.hh.params.i_ext=12.0", "projections.hh_hh.weight=0.2", "simulation.seed=3"]),
    ] {
        let mut point: Vec<String> = point.iter().map(|s| s.to_string()).collect();
        point.push("simulation.backend=\"gpu\"".into());
        assert_instance_is_single_run(PAIR, &file, k, &point, dir.path());
    }
}

#[test]
fn event_driven_networks_batch_too_and_equal_their_single_gpu_runs() {
    let dir = tempfile::tempdir().unwrap();
    // COBAHH with a fixed in-degree: every seed's arrivals get the same fixed-point scale, so
    // that the instances share one network; and with its rows drawn procedurally, each seed
    // drawing its own.
    let common = [
        "simulation.backend=\"gpu\"",
        "simulation.duration_ms=20",
        "populations.exc.size=800",
        "populations.inh.size=200",
        "record.spikes=[\"exc\", \"inh\"]",
    ];
    let drawn: Vec<String> = ["ee", "ei", "ie", "ii"]
        .iter()
        .map(|p| format!("projections.{p}.connectivity={{ rule = \"fixed_probability\", p = 0.02, procedural = true }}"))
        .collect();
    for (name, rows) in [("stored", &[][..]), ("procedural", &drawn[..])] {
        let common: Vec<String> = common.iter().map(|s| s.to_string()).chain(rows.iter().cloned()).collect();
        let mut o = common.clone();
        o.push("sweep.simulation.seed=[5, 6, 7]".into());
        let (file, summary) = run_sweep_summary(K80, &dir.path().join(format!("{name}.h5")), &o);
        assert_eq!(summary.batched, 3, "{name}: {}", summary.one_line());
        let f = hdf5::File::open(&file).unwrap();
        let mut point = common.clone();
        point.push("simulation.seed=6".into());
        let single = dir.path().join(format!("{name}_single.h5"));
        app::run(&request(K80, &single, &point, None)).unwrap();
        let single = datasets_under(&hdf5::File::open(&single).unwrap(), "/spikes");
        let instance = datasets_under(&f, "instances/1/spikes");
        assert!(single.iter().any(|(_, v)| v.len() > 100), "{name}: the network fires");
        assert_eq!(instance, single, "{name}");
        assert_ne!(datasets_under(&f, "instances/0/spikes"), instance, "{name}: its own seed, its own network");
    }
}

#[test]
fn a_batch_keeps_what_no_cut_divides_within_one_binding() {
    // COBAHH with 50k excitatory neurons: its excitatory state (1.2 MB) is cut into parts of
    // whole variables and its rings into parts of whole projections, but `ee`'s rings (400 kB
    // per instance) stay whole, so bindings of 1 MiB hold two instances' and three seeds run
    // as batches of two and one.
    let dir = tempfile::tempdir().unwrap();
    let o: Vec<String> = [
        "simulation.backend=\"gpu\"",
        "simulation.duration_ms=2",
        "simulation.gpu_max_binding_mib=1",
        "simulation.gpu_memory_gib=1",
        "populations.exc.size=50000",
        "populations.inh.size=12500",
        "sweep.simulation.seed=[5, 6, 7]",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (_, summary) = run_sweep_summary(K80, &dir.path().join("sweep.h5"), &o);
    assert_eq!((summary.instances, summary.batched, summary.largest_batch), (3, 2, 2), "{}", summary.one_line());
}

#[test]
fn a_batch_with_a_diverging_instance_runs_again_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = base_overrides();
    o.push("simulation.backend=\"gpu\"".into());
    // A current that takes V past f32's range at once.
    o.push("sweep.populations.hh.params.i_ext=[10.0, 3e38]".into());
    let (file, summary) = run_sweep_summary(PAIR, &dir.path().join("sweep.h5"), &o);
    assert_eq!(summary.batched, 0, "{}", summary.one_line());
    let f = hdf5::File::open(&file).unwrap();
    let reason = |k: usize| -> String {
        f.group(&format!("instances/{k}")).unwrap().attr("stop_reason").unwrap().read_scalar::<hdf5::types::VarLenUnicode>().unwrap().to_string()
    };
    assert_eq!((reason(0).as_str(), reason(1).as_str()), ("complete", "diverged"));
    let point = vec!["populations.hh.params.i_ext=10.0".to_string(), "simulation.backend=\"gpu\"".into()];
    assert_instance_is_single_run(PAIR, &file, 0, &point, dir.path());
}

#[test]
fn spike_sources_driving_lif_neurons_batch_and_equal_their_single_gpu_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driven.toml");
    std::fs::write(
        &config,
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 30.0
backend = "gpu"

[populations.src]
model = "spike_source"
size = 5
params = { indices = [0, 1, 2, 3, 4, 0, 2, 4], times = [1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 12.0, 20.0] }

[populations.lif]
model = "lif"
size = 3
params = { input = { constant = 0.2 }, integrator = "exact" }

[projections.drive]
source = "src"
target = "lif"
synapse = "exp_curr"
params = { tau_ms = 2.0, delay_ms = 1.0 }
weight = 0.05
connectivity = { rule = "all_to_all" }

[record]
spikes = ["src", "lif"]
traces = [{ population = "lif", variables = ["v"] }]
"#,
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let o = vec!["sweep.populations.lif.params.input.constant=[0.1, 0.2, 0.3]".to_string()];
    let (file, summary) = run_sweep_summary(config, &dir.path().join("sweep.h5"), &o);
    assert_eq!((summary.batched, summary.largest_batch), (3, 3), "{}", summary.one_line());
    let f = hdf5::File::open(&file).unwrap();
    let single = dir.path().join("single.h5");
    app::run(&request(config, &single, &["populations.lif.params.input.constant=0.3".into()], None)).unwrap();
    let single = datasets_under(&hdf5::File::open(&single).unwrap(), "/");
    let instance = datasets_under(&f, "instances/2");
    assert_datasets_in(&instance, &single, "spike sources driving LIF");
    assert!(instance.iter().any(|(p, v)| p.contains("spikes/src/timestamps") && v.len() == 8));
    assert_ne!(datasets_under(&f, "instances/0"), instance, "another current, another trace");
}

#[test]
fn the_saccade_model_and_models_written_as_equations_batch_on_the_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["simulation.duration_ms=20".to_string(), "simulation.backend=\"gpu\"".into()];
    let mut o = common.to_vec();
    o.push("sweep.simulation.seed=[1, 2]".into());
    let (file, summary) = run_sweep_summary("configs/ofc_saccade.toml", &dir.path().join("ofc.h5"), &o);
    assert_eq!((summary.instances, summary.batched), (2, 2), "{}", summary.one_line());
    let f = hdf5::File::open(&file).unwrap();
    let b = datasets_under(&f, "instances/1");
    assert_ne!(datasets_under(&f, "instances/0"), b);
    let single = dir.path().join("ofc2.h5");
    let mut point = common.to_vec();
    point.push("simulation.seed=2".into());
    app::run(&request("configs/ofc_saccade.toml", &single, &point, None)).unwrap();
    let single = datasets_under(&hdf5::File::open(&single).unwrap(), "/");
    assert_datasets_in(&b, &single, "the saccade model");
    // A model written as equations, noisy and reading its neurons' index and count: three
    // seeds in one batch, each instance its own run's noise, `i` and `N`.
    let config = dir.path().join("noisy.toml");
    std::fs::write(
        &config,
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 50.0
seed = 1
backend = "gpu"

[models.noisy]
equations = '''
dv/dt = (-v + I0*(1 + i/N))/(10*ms) + sigma*xi/sqrt(ms) : 1
'''
threshold = "v > 1"
reset = "v = 0"
method = "euler"
namespace = { I0 = 1.2, sigma = 0.3 }

[populations.cells]
model = "noisy"
size = 10
init = { v = "rand()" }

[record]
spikes = ["cells"]
traces = [{ population = "cells", variables = ["v"], neurons = "all", every = 5 }]
"#,
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let o = vec!["sweep.simulation.seed=[1, 2, 3]".to_string()];
    let (file, summary) = run_sweep_summary(config, &dir.path().join("noisy.h5"), &o);
    assert_eq!((summary.instances, summary.batched), (3, 3), "{}", summary.one_line());
    let f = hdf5::File::open(&file).unwrap();
    for k in [0usize, 2] {
        let single = dir.path().join(format!("noisy{k}.h5"));
        app::run(&request(config, &single, &[format!("simulation.seed={}", k + 1)], None)).unwrap();
        let single = datasets_under(&hdf5::File::open(&single).unwrap(), "/");
        let instance = datasets_under(&f, &format!("instances/{k}"));
        assert!(instance.iter().any(|(p, v)| p.contains("spikes/cells/timestamps") && v.len() > 10), "it fires");
        assert_datasets_in(&instance, &single, &format!("instance {k}"));
    }
    assert_ne!(datasets_under(&f, "instances/0"), datasets_under(&f, "instances/1"), "its own seed, its own noise");
    // A namespace constant is in the model's code: each value its own model, run alone.
    let o = vec![
        "sweep.models.lif_tutorial.namespace.I_mean=[\"25e-11*amp\", \"35e-11*amp\"]".to_string(),
        "simulation.backend=\"gpu\"".into(),
    ];
    let (_, summary) = run_sweep_summary("configs/equations/lif_tutorial.toml", &dir.path().join("lif.h5"), &o);
    assert_eq!((summary.instances, summary.batched), (2, 0), "{}", summary.one_line());
}

#[test]
fn synapses_written_as_equations_batch_and_equal_their_single_gpu_runs() {
    let dir = tempfile::tempdir().unwrap();
    // STDP: per-synapse weights drawn by the seed, learning on both pathways, written at the
    // end; and the HH network of equations with a summed graded synapse, noisy.
    for (config, extra, group) in [
        ("configs/equations/stdp.toml", vec!["simulation.duration_ms=300"], "synapses/S"),
        (
            "configs/equations/hh_bench.toml",
            // (At 300 neurons seed 2's run diverges at 1.09 ms, where a rate's 0/0 is hit.)
            vec!["simulation.duration_ms=5", "populations.hh.size=200", "projections.hh_hh.connectivity.k=20", "record.spikes=[\"hh\"]"],
            "spikes/hh",
        ),
    ] {
        let mut common: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        common.push("simulation.backend=\"gpu\"".into());
        let mut o = common.clone();
        o.push("sweep.simulation.seed=[1, 2, 3]".into());
        let (file, summary) = run_sweep_summary(config, &dir.path().join("sweep.h5"), &o);
        assert_eq!((summary.instances, summary.batched), (3, 3), "{config}: {}", summary.one_line());
        assert_seed_instances_are_single_runs(config, &common, &file, &[0, 2], group, dir.path());
    }
}

/// Instances `ks` of a sweep over `simulation.seed = [1, 2, …]` (in `file`) are the single runs
/// of `config` with `common` and their seeds, dataset for dataset, each holding something
/// non-zero under `holding`; instances 0 and 1 differ.
fn assert_seed_instances_are_single_runs(config: &str, common: &[String], file: &Path, ks: &[usize], holding: &str, dir: &Path) {
    let f = hdf5::File::open(file).unwrap();
    for &k in ks {
        let single = dir.join(format!("single{k}.h5"));
        let mut point = common.to_vec();
        point.push(format!("simulation.seed={}", k + 1));
        app::run(&request(config, &single, &point, None)).unwrap();
        let single = datasets_under(&hdf5::File::open(&single).unwrap(), "/");
        let instance = datasets_under(&f, &format!("instances/{k}"));
        assert!(instance.iter().any(|(p, v)| p.contains(holding) && v.iter().any(|&x| x != 0.0)), "{config}: {holding}");
        assert_eq!(instance.len(), single.len(), "{config}");
        assert_datasets_in(&instance, &single, &format!("{config}, instance {k}"));
    }
    assert_ne!(datasets_under(&f, "instances/0"), datasets_under(&f, "instances/1"), "{config}: its own seed");
}

#[test]
fn synapses_that_draw_sweep_one_network_at_a_time_and_equal_their_single_gpu_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = "configs/equations/unreliable_synapses.toml";
    let common = vec!["simulation.duration_ms=100".to_string(), "simulation.backend=\"gpu\"".to_string()];
    let mut o = common.clone();
    o.push("sweep.simulation.seed=[1, 2]".into());
    let (file, summary) = run_sweep_summary(config, &dir.path().join("sweep.h5"), &o);
    // Their draws are keyed by one network's seed: no batch.
    assert_eq!((summary.instances, summary.batched), (2, 0), "{}", summary.one_line());
    assert_seed_instances_are_single_runs(config, &common, &file, &[0, 1], "synapses/input/released", dir.path());
}

#[test]
fn models_written_as_equations_and_the_saccade_model_sweep_too() {
    let dir = tempfile::tempdir().unwrap();
    let o = vec!["sweep.simulation.seed=[1, 2]".to_string(), "simulation.duration_ms=200".into()];
    let file = run_sweep("configs/ofc_saccade.toml", &dir.path().join("ofc.h5"), &o, None);
    let f = hdf5::File::open(&file).unwrap();
    let (a, b) = (datasets_under(&f, "instances/0"), datasets_under(&f, "instances/1"));
    assert_eq!(a.len(), b.len());
    assert_ne!(a, b, "two seeds, two sets of noisy trials");
    app::run(&request("configs/ofc_saccade.toml", &dir.path().join("ofc2.h5"), &["simulation.duration_ms=200".into(), "simulation.seed=2".into()], None)).unwrap();
    let single = datasets_under(&hdf5::File::open(dir.path().join("ofc2.h5")).unwrap(), "/");
    assert_datasets_in(&b, &single, "the saccade model");
    // A namespace constant of a model written as equations.
    let o = vec!["sweep.models.lif_tutorial.namespace.I_mean=[\"25e-11*amp\", \"35e-11*amp\"]".to_string()];
    let file = run_sweep("configs/equations/lif_tutorial.toml", &dir.path().join("lif.h5"), &o, None);
    let f = hdf5::File::open(&file).unwrap();
    let spikes = |k: usize| f.dataset(&format!("instances/{k}/spikes/lif/timestamps")).unwrap().read_raw::<f64>().unwrap();
    assert!(spikes(1).len() > spikes(0).len(), "more current, more spikes");
}

#[test]
fn slices_merged_equal_the_whole_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = base_overrides();
    o.push("sweep.populations.hh.params.i_ext=[6.0, 8.0, 10.0, 12.0, 14.0]".into());
    o.push("sweep.simulation.seed=[1, 2]".into());
    let whole = run_sweep(PAIR, &dir.path().join("whole.h5"), &o, None);
    let parts: Vec<PathBuf> = (1..=3)
        .map(|k| run_sweep(PAIR, &dir.path().join(format!("part{k}.h5")), &o, Some(Slice { k, m: 3 })))
        .collect();
    let sizes: Vec<usize> = parts
        .iter()
        .map(|p| hdf5::File::open(p).unwrap().group("instances").unwrap().member_names().unwrap().len())
        .collect();
    assert_eq!(sizes, [3, 3, 4]);
    let merged = dir.path().join("merged.h5");
    // In any order.
    let shuffled = vec![parts[2].clone(), parts[0].clone(), parts[1].clone()];
    assert_eq!(ganglion::sweep::merge::merge(&shuffled, &merged, false).unwrap(), 10);
    let (a, b) = (hdf5::File::open(&whole).unwrap(), hdf5::File::open(&merged).unwrap());
    assert_eq!(datasets_under(&a, "sweep"), datasets_under(&b, "sweep"));
    for k in 0..10 {
        assert_eq!(datasets_under(&a, &format!("instances/{k}")), datasets_under(&b, &format!("instances/{k}")), "instance {k}");
    }
    // Missing, repeated, or foreign parts are refused, and nothing is written.
    let refused = dir.path().join("refused.h5");
    let e = ganglion::sweep::merge::merge(&parts[..2], &refused, false).unwrap_err().to_string();
    assert!(e.contains("4 of 10 instances") && e.contains("6, 7, 8, 9"), "{e}");
    let e = ganglion::sweep::merge::merge(&[parts[0].clone(), parts[0].clone()], &refused, false).unwrap_err().to_string();
    assert!(e.contains("instance 0 is also in"), "{e}");
    let mut other = o.clone();
    other[0] = "simulation.duration_ms=20".into();
    let foreign = run_sweep(PAIR, &dir.path().join("foreign.h5"), &other, Some(Slice { k: 3, m: 3 }));
    let e = ganglion::sweep::merge::merge(&[parts[0].clone(), parts[1].clone(), foreign], &refused, false).unwrap_err().to_string();
    assert!(e.contains("another config"), "{e}");
    assert!(!refused.exists());
    // The default name of a slice's file.
    let req = RunRequest { output: None, ..request(PAIR, Path::new("unused"), &o, Some(Slice { k: 2, m: 3 })) };
    let config = ganglion::config::load(&req.config, &req.overrides).unwrap();
    let default = app::output_path(&config, &req.config, None);
    assert_eq!(
        ganglion::sweep::run::slice_path(&default, req.slice).file_name().unwrap().to_string_lossy(),
        "hh_pair_slice_2_of_3.h5"
    );
}

/// Every dataset under `/stacked` but the wall times, which no two runs share (the stop
/// reasons as their lengths).
fn stacked_datasets(path: &Path) -> Vec<(String, Vec<f64>)> {
    let file = hdf5::File::open(path).unwrap();
    let mut out = datasets_under(&file, "stacked/spikes");
    out.extend(datasets_under(&file, "stacked/report"));
    out.extend(datasets_under(&file, "stacked/rates"));
    for name in ["simulated_ms", "seed"] {
        out.push((name.into(), file.dataset(&format!("stacked/status/{name}")).unwrap().read_raw().unwrap()));
    }
    let reasons: Vec<hdf5::types::VarLenUnicode> = file.dataset("stacked/status/stop_reason").unwrap().read_raw().unwrap();
    out.push(("stop_reason".into(), reasons.iter().map(|r| r.len() as f64).collect()));
    out
}

#[test]
fn the_stacked_layout_holds_each_instance_as_its_group_does_and_its_slices_merge() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = base_overrides();
    o.push("sweep.populations.hh.params.i_ext=[8.0, 12.0]".into());
    o.push("sweep.simulation.seed=[1, 2, 3]".into());
    o.push("record.rates=[\"hh\"]".into());
    o.push("record.smooth_rate={ window = \"gaussian\", width = \"0.5*ms\" }".into());
    for backend in ["cpu", "gpu"] {
        let mut o = o.clone();
        o.push(format!("simulation.backend=\"{backend}\""));
        let groups = run_sweep(PAIR, &dir.path().join(format!("groups_{backend}.h5")), &o, None);
        o.push("output.sweep_layout=\"stacked\"".into());
        let stacked = run_sweep(PAIR, &dir.path().join(format!("stacked_{backend}.h5")), &o, None);
        let (g, s) = (hdf5::File::open(&groups).unwrap(), hdf5::File::open(&stacked).unwrap());
        assert!(!s.link_exists("instances"), "{backend}: no group per instance");
        assert_eq!(datasets_under(&g, "sweep"), datasets_under(&s, "sweep"));
        let v: ndarray::Array3<f32> = s.dataset("stacked/report/hh/v/data").unwrap().read().unwrap();
        let spikes = |name: &str| s.dataset(&format!("stacked/spikes/hh/{name}")).unwrap().read_raw::<f64>().unwrap();
        let (instance, ids, times) = (spikes("instance"), spikes("node_ids"), spikes("timestamps"));
        assert!(instance.windows(2).all(|w| w[0] <= w[1]), "{backend}: spikes in instance order");
        let status = |name: &str| s.dataset(&format!("stacked/status/{name}")).unwrap();
        let reasons: Vec<hdf5::types::VarLenUnicode> = status("stop_reason").read_raw().unwrap();
        for k in 0..6 {
            let at = format!("instances/{k}");
            let own = datasets_under(&g, &at);
            let get = |path: &str| own.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("{at}{path}")).1.clone();
            let row: Vec<f64> = v.index_axis(ndarray::Axis(0), k).iter().map(|&x| x as f64).collect();
            assert_eq!(row, get("/report/hh/v/data"), "{backend}, instance {k}: v");
            let mine: Vec<usize> = (0..instance.len()).filter(|&i| instance[i] == k as f64).collect();
            assert!(!mine.is_empty(), "{backend}, instance {k} fires");
            assert_eq!(mine.iter().map(|&i| ids[i]).collect::<Vec<_>>(), get("/spikes/hh/node_ids"), "{backend}, instance {k}");
            assert_eq!(mine.iter().map(|&i| times[i]).collect::<Vec<_>>(), get("/spikes/hh/timestamps"), "{backend}, instance {k}");
            // Its rate, a row of the stacked rates, counted from its own spikes.
            let rate: ndarray::Array2<f64> = s.dataset("stacked/rates/hh/rate").unwrap().read().unwrap();
            assert_eq!(rate.index_axis(ndarray::Axis(0), k).to_vec(), get("/rates/hh/rate"), "{backend}, instance {k}: rate");
            let mut counted = vec![0.0; 3000];
            for &t in &get("/spikes/hh/timestamps") {
                counted[(t / 0.01).round() as usize - 1] += 1e3 / (2.0 * 0.01);
            }
            assert_eq!(get("/rates/hh/rate"), counted, "{backend}, instance {k}: rate from the spikes");
            // And smoothed, as its own rate smooths.
            let smooth: ndarray::Array2<f64> = s.dataset("stacked/rates/hh/smooth_rate").unwrap().read().unwrap();
            let window = ganglion::smooth_rate::Smoothing::new(&ganglion::config::SmoothRateSpec { window: ganglion::config::SmoothWindow::Named("gaussian".into()), width: Some("0.5*ms".into()) }, 0.01, 3000).unwrap();
            assert_eq!(smooth.index_axis(ndarray::Axis(0), k).to_vec(), get("/rates/hh/smooth_rate"), "{backend}, instance {k}: smooth_rate");
            assert_eq!(get("/rates/hh/smooth_rate"), window.apply(&counted), "{backend}, instance {k}: smooth_rate");
            let (simulated, _, reason, seed) = outcome(&g.group(&at).unwrap());
            let simulated_row: Vec<f64> = status("simulated_ms").read_raw().unwrap();
            let seeds: Vec<u64> = status("seed").read_raw().unwrap();
            assert_eq!((simulated_row[k], reasons[k].as_str(), seeds[k]), (simulated, reason.as_str(), seed), "{backend}, instance {k}");
        }
        for name in ["node_ids", "time"] {
            assert_eq!(
                s.dataset(&format!("stacked/report/hh/v/mapping/{name}")).unwrap().read_raw::<f64>().unwrap(),
                g.dataset(&format!("instances/0/report/hh/v/mapping/{name}")).unwrap().read_raw::<f64>().unwrap()
            );
        }
        // The table `stats` prints and `plot sweep` draws, the same from either, and so is an
        // instance's figure, pixel for pixel.
        let table = |p: &Path| ganglion::sweep::table::SweepTable::read(p, 10.0).unwrap().csv();
        assert_eq!(table(&groups), table(&stacked), "{backend}");
        let figure = |p: &Path, what: &str| {
            let png = dir.path().join(format!("{what}.png"));
            let src = ganglion::plot::Source { path: p, instance: Some(4) };
            match what {
                "raster" => ganglion::plot::raster(src, None, 100, &png).unwrap(),
                _ => ganglion::plot::traces(src, "hh", &["v".into()], &[], None, None, &png).unwrap(),
            }
            std::fs::read(png).unwrap()
        };
        for what in ["raster", "traces"] {
            assert!(figure(&groups, what) == figure(&stacked, what), "{backend}: instance 4's {what}");
        }
        // `stats --instance`: the instance's statistics as a single run's, alike from both.
        let stats = |p: &Path| ganglion::stats::from_file(ganglion::plot::Source { path: p, instance: Some(4) }, 10.0, 5).unwrap().report();
        assert_eq!(stats(&groups), stats(&stacked), "{backend}");
        assert!(stats(&stacked).contains("hh.v:"), "{}", stats(&stacked));
        assert!(stats(&stacked).contains("rate of hh per step: 3000 steps"), "{}", stats(&stacked));
        for (instance, expected) in [(None, "name one of its instances with --instance K (it holds 6 instances, 0 to 5)"), (Some(6), "--instance 6: not in")] {
            let src = ganglion::plot::Source { path: &stacked, instance };
            let e = ganglion::plot::raster(src, None, 100, &dir.path().join("x.png")).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        }
    }
    // Slices of a stacked sweep merge into the whole sweep's file.
    let mut o = o.clone();
    o.push("output.sweep_layout=\"stacked\"".into());
    let parts: Vec<PathBuf> = (1..=3)
        .map(|k| run_sweep(PAIR, &dir.path().join(format!("part{k}.h5")), &o, Some(Slice { k, m: 3 })))
        .collect();
    let merged = dir.path().join("merged.h5");
    assert_eq!(ganglion::sweep::merge::merge(&[parts[2].clone(), parts[0].clone(), parts[1].clone()], &merged, false).unwrap(), 6);
    assert_eq!(stacked_datasets(&merged), stacked_datasets(&dir.path().join("stacked_cpu.h5")));
    // What the layout cannot hold is refused before anything runs, naming the key.
    for (config, extra) in [
        (PAIR, "sweep.populations.hh.size=[2, 3]"),
        ("configs/equations/stdp.toml", "sweep.simulation.seed=[1, 2]"),
        ("configs/ofc_saccade.toml", "sweep.simulation.seed=[1, 2]"),
    ] {
        let overrides = vec!["output.sweep_layout=\"stacked\"".to_string(), extra.to_string(), "simulation.duration_ms=1".into()];
        let out = dir.path().join("refused.h5");
        let e = app::run_any(&request(config, &out, &overrides, None)).unwrap_err().to_string();
        assert!(e.contains("output.sweep_layout") && e.contains("use \"instances\""), "{config}: {e}");
        assert!(!out.exists());
    }
    // A slice whose own instances are alike but unlike the sweep's first: refused too, so
    // that every slice merges.
    let overrides = ["output.sweep_layout=\"stacked\"", "sweep.populations.hh.size=[2, 2, 3, 3]", "simulation.duration_ms=1"].map(String::from);
    let e = app::run_any(&request(PAIR, &dir.path().join("refused.h5"), &overrides, Some(Slice { k: 2, m: 2 }))).unwrap_err().to_string();
    assert!(e.contains("instance 2 is not like instance 0"), "{e}");
}

#[test]
fn seeds_give_each_instance_its_own_noise() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = base_overrides();
    o.push("sweep.mode=\"zip\"".into());
    o.push("sweep.simulation.seed=[5, 6, 5]".into());
    let file = run_sweep(PAIR, &dir.path().join("seeds.h5"), &o, None);
    let f = hdf5::File::open(&file).unwrap();
    let v = |k: usize| f.dataset(&format!("instances/{k}/report/hh/v/data")).unwrap().read_raw::<f32>().unwrap();
    assert_ne!(v(0), v(1), "seeds 5 and 6");
    assert_eq!(v(0), v(2), "seed 5 twice");
    // Independent: the noise's imprint on V (the difference from the noiseless run) is
    // uncorrelated between seeds.
    let mut quiet = base_overrides();
    quiet[1] = "populations.hh.params.noise_sigma=0.0".into();
    quiet.push("sweep.simulation.seed=[5]".into());
    let quiet_file = run_sweep(PAIR, &dir.path().join("quiet.h5"), &quiet, None);
    let q = hdf5::File::open(&quiet_file).unwrap().dataset("instances/0/report/hh/v/data").unwrap().read_raw::<f32>().unwrap();
    // Before the first spike (V near rest), where the imprint is the filtered noise.
    let n = 2 * 15;
    let d = |x: &[f32]| -> Vec<f64> { x[..n].iter().zip(&q[..n]).map(|(a, b)| (*a - *b) as f64).collect() };
    let (a, b) = (d(&v(0)), d(&v(1)));
    let corr = {
        let (ma, mb) = (a.iter().sum::<f64>() / n as f64, b.iter().sum::<f64>() / n as f64);
        let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let (va, vb): (f64, f64) = (a.iter().map(|x| (x - ma).powi(2)).sum(), b.iter().map(|y| (y - mb).powi(2)).sum());
        cov / (va * vb).sqrt()
    };
    assert!(a.iter().any(|x| x.abs() > 1e-3), "the noise moves V");
    assert!(corr.abs() < 0.6, "seeds 5 and 6 correlate by {corr}");
}

#[test]
fn the_table_has_one_row_per_instance_and_the_plot_draws_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = base_overrides();
    o.push("sweep.populations.hh.params.i_ext=[3.0, 10.0, 15.0]".into());
    o.push("sweep.projections.hh_hh.weight=[0.0, 0.1]".into());
    let file = run_sweep(PAIR, &dir.path().join("t.h5"), &o, None);
    let table = ganglion::sweep::table::SweepTable::read(&file, 10.0).unwrap();
    assert_eq!(table.rows.len(), 6);
    assert_eq!(table.keys, ["populations.hh.params.i_ext", "projections.hh_hh.weight"]);
    let rate = |k: usize| ganglion::sweep::table::SweepTable::metric(&table.rows[k], "hh", "rate").unwrap();
    assert!(rate(0) < rate(2) && rate(2) <= rate(4), "more current, faster: {} {} {}", rate(0), rate(2), rate(4));
    let csv = table.csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[0], "instance,populations.hh.params.i_ext,projections.hh_hh.weight,hh.spikes,hh.rate_hz,hh.cv,hh.fano,hh.silent");
    assert!(lines[5].starts_with("4,15,0,"), "{}", lines[5]);
    for (y, name) in [(None, "lines.png"), (Some("projections.hh_hh.weight"), "heat.png")] {
        let png = dir.path().join(name);
        ganglion::plot::sweep(&file, "populations.hh.params.i_ext", y, "rate", None, &png).unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    }
    let e = ganglion::plot::sweep(&file, "populations.hh.params.c_m", None, "rate", None, &dir.path().join("x.png")).unwrap_err();
    assert!(e.to_string().contains("is not swept"), "{e}");
}

#[test]
fn bad_sweeps_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["sweep.populations.hh.params.i_exx=[1.0]"], vec!["sweep.\"populations.hh.params.i_exx\"", "unknown field `i_exx`"]),
        (vec!["sweep.populations.hh.params.i_ext=[]"], vec!["sweep.\"populations.hh.params.i_ext\"", "empty list"]),
        (vec!["sweep.mode=\"zip\"", "sweep.simulation.seed=[1, 2]", "sweep.populations.hh.params.i_ext=[1.0]"], vec!["has 1 values", "equal length"]),
        (vec!["sweep.populations.hh.size=[2, 0]"], vec!["instance 1", "populations.hh.size=0"]),
        (vec!["sweep.simulation.seed=3"], vec!["expected a list"]),
    ];
    for (sets, parts) in cases {
        let o: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let out = dir.path().join("bad.h5");
        let e = app::run_any(&request(PAIR, &out, &o, None)).unwrap_err().to_string();
        for p in parts {
            assert!(e.contains(p), "`{p}` not in: {e}");
        }
        assert!(!out.exists());
    }
    let e = app::run_any(&request(PAIR, &dir.path().join("x.h5"), &[], Some(Slice { k: 1, m: 2 }))).unwrap_err().to_string();
    assert!(e.contains("no [sweep]"), "{e}");
}

#[test]
fn an_interrupted_sweep_keeps_what_finished_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = base_overrides();
    o.push("sweep.simulation.seed=[1, 2, 3]".into());
    let out = dir.path().join("int.h5");
    let mut req = request(PAIR, &out, &o, None);
    // Interrupted before it starts: no instance runs, the file says so.
    req.run.interrupt = Some(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)));
    let e = app::run_any(&req).unwrap_err();
    assert!(matches!(e, ganglion::Error::SweepInterrupted { done: 0, total: 3 }), "{e}");
    let f = hdf5::File::open(&out).unwrap();
    let reason: hdf5::types::VarLenUnicode = f.attr("stop_reason").unwrap().read_scalar().unwrap();
    assert_eq!(reason.as_str(), "interrupted");
    assert_eq!(f.attr("instances_done").unwrap().read_scalar::<u64>().unwrap(), 0);
    // A SONATA directory is a single run's.
    o.push(format!("output.sonata_dir=\"{}\"", dir.path().join("s").display()));
    let e = app::run_any(&request(PAIR, &dir.path().join("x.h5"), &o, None)).unwrap_err().to_string();
    assert!(e.contains("output.sonata_dir"), "{e}");
}
