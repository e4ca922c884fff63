//! The HDF5 output: layout, round trip, refusal to overwrite, and files left by failed runs.


use crate::common::*;
use ganglion::app::{self, RunRequest};
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::{Backend, BackendInfo, NetworkState};
use ganglion::io::hdf5::{Hdf5Writer, RunMeta};
use ganglion::record::{ChunkOutput, RecordPlan};
use ganglion::simulator::{self, RunOptions};
use ganglion::Error;
use hdf5::types::VarLenUnicode;

fn meta() -> RunMeta {
    RunMeta {
        config_name: "test".into(),
        config_toml: String::new(),
        backend: "cpu".into(),
        precision: "f64".into(),
        seed: 1,
    }
}

#[test]
fn a_run_reads_back_with_the_documented_layout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pair.h5");
    let req = RunRequest {
        config: repo_path("configs/hh_pair.toml"),
        overrides: vec!["simulation.duration_ms=50".into()],
        output: Some(out.clone()),
        ..Default::default()
    };
    let (path, summary) = app::run(&req).unwrap();
    assert_eq!(path, out);

    // The same run in memory is what the file must hold.
    let (config, net) = shipped("hh_pair.toml", &["simulation.duration_ms=50"]);
    let plan = RecordPlan::from_config(&config);
    let mem = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);

    let f = hdf5::File::open(&out).unwrap();
    let g = f.group("spikes/hh").unwrap();
    let sorting: ganglion::io::sonata::spikes::Sorting = g.attr("sorting").unwrap().read_scalar().unwrap();
    assert_eq!(sorting, ganglion::io::sonata::spikes::Sorting::by_time);
    let ts: Vec<f64> = g.dataset("timestamps").unwrap().read_raw().unwrap();
    let ids: Vec<u64> = g.dataset("node_ids").unwrap().read_raw().unwrap();
    let units: VarLenUnicode = g
        .dataset("timestamps")
        .unwrap()
        .attr("units")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert_eq!(units.as_str(), "ms");
    assert_eq!(ts.len() as u64, summary.populations[0].spikes.unwrap());
    assert!(!ts.is_empty() && ts.windows(2).all(|w| w[0] <= w[1]));
    let expected: Vec<(f64, u64)> = mem.spikes[0]
        .iter()
        .map(|s| ((s.step + 1) as f64 * 0.01, s.neuron as u64))
        .collect();
    let got: Vec<(f64, u64)> = ts.into_iter().zip(ids).collect();
    assert_eq!(got, expected);

    for (k, var) in ["v", "m", "h", "n", "s"].iter().enumerate() {
        let ds = f.dataset(&format!("report/hh/{var}/data")).unwrap();
        assert_eq!(ds.shape(), vec![5000, 2], "{var}");
        let data: Vec<f32> = ds.read_raw().unwrap();
        assert_eq!(data, mem.traces[0][k], "{var}");
        let ids: Vec<u64> = f
            .dataset(&format!("report/hh/{var}/mapping/node_ids"))
            .unwrap()
            .read_raw()
            .unwrap();
        assert_eq!(ids, vec![0, 1]);
        let time: Vec<f64> = f
            .dataset(&format!("report/hh/{var}/mapping/time"))
            .unwrap()
            .read_raw()
            .unwrap();
        assert_eq!(time, vec![0.0, 50.0, 0.01]);
    }
    let units: VarLenUnicode = f
        .dataset("report/hh/v/data")
        .unwrap()
        .attr("units")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert_eq!(units.as_str(), "mV");

    // Root attributes: the resolved config parses back to the run's own config.
    let text: VarLenUnicode = f.attr("config").unwrap().read_scalar().unwrap();
    let again = ganglion::config::parse(text.as_str(), &[]).unwrap();
    assert_eq!(again.simulation.duration_ms, 50.0);
    let complete: bool = f.attr("complete").unwrap().read_scalar().unwrap();
    assert!(complete);
    let seed: u64 = f.attr("seed").unwrap().read_scalar().unwrap();
    assert_eq!(seed, 1);
    for name in ["ganglion_version", "backend", "precision", "config_name"] {
        let v: VarLenUnicode = f.attr(name).unwrap().read_scalar().unwrap();
        assert!(!v.as_str().is_empty(), "{name}");
    }
    let wall: f64 = f.attr("wall_time_s").unwrap().read_scalar().unwrap();
    assert!(wall > 0.0);

    // A trace's HDF5 chunks: about 1 MiB (4096 rows of two neurons) for a long run, the run's
    // own rows (101 samples) for a short one, which a sweep writes thousands of.
    assert_eq!(f.dataset("report/hh/v/data").unwrap().chunk(), Some(vec![4096, 2]));
    let short = dir.path().join("short.h5");
    app::run(&pair_request(&short, &["simulation.duration_ms=1"])).unwrap();
    let f = hdf5::File::open(&short).unwrap();
    let ds = f.dataset("report/hh/v/data").unwrap();
    assert_eq!((ds.chunk(), ds.shape()), (Some(vec![101, 2]), vec![100, 2]));
}

#[test]
fn an_existing_output_is_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep.h5");
    std::fs::write(&out, b"precious").unwrap();
    let mut req = RunRequest {
        config: repo_path("configs/hh_pair.toml"),
        overrides: vec!["simulation.duration_ms=1".into()],
        output: Some(out.clone()),
        ..Default::default()
    };
    let err = app::run(&req).unwrap_err();
    assert!(matches!(err, Error::OutputExists(_)), "{err}");
    assert!(err.to_string().contains("--force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");

    // A bad config never touches the file either, even with --force.
    req.force = true;
    req.overrides.push("populations.hh.size=0".into());
    assert!(app::run(&req).is_err());
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");

    req.overrides.pop();
    app::run(&req).unwrap();
    assert!(hdf5::File::open(&out).is_ok());
}

/// Wraps a backend and fails on a given call, like a device lost mid-run; counts the steps
/// it took before.
struct FailingBackend {
    inner: CpuBackend<f64>,
    calls_left: usize,
    steps_done: u64,
}

impl Backend for FailingBackend {
    fn info(&self) -> BackendInfo {
        self.inner.info()
    }
    fn run_chunk(&mut self, plan: &RecordPlan, out: &mut ChunkOutput) -> ganglion::Result<()> {
        if self.calls_left == 0 {
            return Err(Error::Gpu("injected failure".into()));
        }
        self.calls_left -= 1;
        self.inner.run_chunk(plan, out)?;
        self.steps_done += out.n_steps;
        Ok(())
    }
    fn read_state(&mut self) -> ganglion::Result<NetworkState> {
        self.inner.read_state()
    }
}

#[test]
fn a_run_that_fails_mid_way_leaves_a_readable_file_with_every_step_before() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("partial.h5");
    let (config, net) = shipped("hh_pair.toml", &["simulation.duration_ms=100"]);
    let plan = RecordPlan::from_config(&config);
    let mut writer = Hdf5Writer::create(&out, false, &net, &plan, &meta()).unwrap();
    let mut backend = FailingBackend {
        inner: CpuBackend::new(&net),
        calls_left: 3,
        steps_done: 0,
    };
    // One chunk for the whole run: the failure comes within it.
    let opts = RunOptions {
        chunk_steps: Some(10_000),
        ..Default::default()
    };
    let err = simulator::run(&net, &mut backend, &plan, &mut writer, &opts).unwrap_err();
    assert!(err.to_string().contains("injected failure"));
    writer.finish(0.1, false).unwrap();
    let done = backend.steps_done as usize;
    assert!(done > 0 && done < 10_000, "{done} steps: the test needs a partial chunk");

    let f = hdf5::File::open(&out).unwrap();
    let v = f.dataset("report/hh/v/data").unwrap();
    assert_eq!(v.shape(), vec![done, 2], "every step done before the failure");
    let data: Vec<f32> = v.read_raw().unwrap();
    assert!(data.iter().all(|x| x.is_finite()));
    let ts: Vec<f64> = f
        .dataset("spikes/hh/timestamps")
        .unwrap()
        .read_raw()
        .unwrap();
    assert!(ts.iter().all(|&t| t <= done as f64 * 0.01 + 1e-9));
    let complete: bool = f.attr("complete").unwrap().read_scalar().unwrap();
    assert!(!complete);
    let simulated: f64 = f.attr("simulated_ms").unwrap().read_scalar().unwrap();
    assert!(
        (simulated - done as f64 * 0.01).abs() < 1e-9,
        "the file says how far the run got: {simulated}"
    );
}

#[test]
fn an_interrupt_stops_within_the_chunk_and_keeps_every_step_done() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ctrl_c.h5");
    let (config, net) = shipped("hh_pair.toml", &["simulation.duration_ms=100"]);
    let plan = RecordPlan::from_config(&config);
    let mut writer = Hdf5Writer::create(&out, false, &net, &plan, &meta()).unwrap();
    let flag = Arc::new(AtomicBool::new(false));

    /// Raises the interrupt flag during its second call, as Ctrl-C would, and counts steps.
    struct Interrupting(CpuBackend<f64>, Arc<AtomicBool>, usize, u64);
    impl Backend for Interrupting {
        fn info(&self) -> BackendInfo {
            self.0.info()
        }
        fn run_chunk(&mut self, plan: &RecordPlan, out: &mut ChunkOutput) -> ganglion::Result<()> {
            self.2 += 1;
            if self.2 == 2 {
                self.1.store(true, Ordering::SeqCst);
            }
            self.0.run_chunk(plan, out)?;
            self.3 += out.n_steps;
            Ok(())
        }
        fn read_state(&mut self) -> ganglion::Result<NetworkState> {
            self.0.read_state()
        }
    }
    let mut backend = Interrupting(CpuBackend::new(&net), flag.clone(), 0, 0);
    // One chunk for the whole run: the interrupt must not wait for its end.
    let opts = RunOptions {
        chunk_steps: Some(10_000),
        interrupt: Some(flag),
        ..Default::default()
    };
    let err = simulator::run(&net, &mut backend, &plan, &mut writer, &opts).unwrap_err();
    let done = backend.3;
    assert!(done > 0 && done < 10_000, "stopped after {done} steps");
    assert!(
        matches!(err, Error::Interrupted { time_ms } if (time_ms - done as f64 * 0.01).abs() < 1e-9),
        "{err}"
    );
    assert_eq!(backend.2, 2, "no call into the backend after the interrupt");
    writer.finish_as(0.1, "interrupted").unwrap();
    let f = hdf5::File::open(&out).unwrap();
    assert_eq!(
        f.dataset("report/hh/s/data").unwrap().shape(),
        vec![done as usize, 2]
    );
    let reason: VarLenUnicode = f.attr("stop_reason").unwrap().read_scalar().unwrap();
    assert_eq!(reason.as_str(), "interrupted");
}

fn pair_request(out: &std::path::Path, overrides: &[&str]) -> RunRequest {
    RunRequest {
        config: repo_path("configs/hh_pair.toml"),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        output: Some(out.to_owned()),
        force: true,
        ..Default::default()
    }
}

fn simulated_ms(path: &std::path::Path) -> f64 {
    let f = hdf5::File::open(path).unwrap();
    f.attr("simulated_ms").unwrap().read_scalar().unwrap()
}

#[test]
fn a_forced_run_onto_a_file_another_run_is_writing_is_refused_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shared.h5");
    app::run(&pair_request(&out, &["simulation.duration_ms=5"])).unwrap();
    let before = std::fs::read(&out).unwrap();
    // Another run holds the output, as `run` does for its whole length.
    let other = ganglion::io::output::OutputTarget::claim(&out, true).unwrap();
    let err = app::run(&pair_request(&out, &["simulation.duration_ms=10"])).unwrap_err();
    assert!(matches!(err, Error::OutputBusy(_)), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
    drop(other);
    app::run(&pair_request(&out, &["simulation.duration_ms=10"])).unwrap();
    assert_eq!(simulated_ms(&out), 10.0);
}

#[test]
fn a_reader_holding_the_old_file_keeps_reading_it_while_a_forced_run_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("read.h5");
    app::run(&pair_request(&out, &["simulation.duration_ms=5"])).unwrap();
    let reader = hdf5::File::open(&out).unwrap();
    app::run(&pair_request(&out, &["simulation.duration_ms=20"])).unwrap();
    let old: f64 = reader.attr("simulated_ms").unwrap().read_scalar().unwrap();
    assert_eq!(old, 5.0, "the reader still sees the file it opened");
    assert_eq!(reader.dataset("report/hh/v/data").unwrap().shape()[0], 500);
    drop(reader);
    assert_eq!(simulated_ms(&out), 20.0);
    assert!(!ganglion::io::output::partial_path(&out).exists());
}

#[test]
fn a_run_that_fails_after_starting_leaves_the_output_as_it_was_and_keeps_its_steps_aside() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kept.h5");
    std::fs::write(&out, b"precious").unwrap();
    // A GPU adapter that does not exist fails after the output was claimed.
    let err = app::run(&pair_request(
        &out,
        &["simulation.backend=\"gpu\"", "simulation.adapter=\"no such adapter\""],
    ))
    .unwrap_err();
    assert!(err.to_string().contains("no such adapter"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    assert!(!ganglion::io::output::partial_path(&out).exists());
}

#[test]
fn the_file_records_the_output_path_it_was_written_to() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("named.h5");
    app::run(&pair_request(&out, &["simulation.duration_ms=1", "output.path=\"elsewhere.h5\""])).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    let config: VarLenUnicode = f.attr("config").unwrap().read_scalar().unwrap();
    assert!(config.as_str().contains(&format!("path = {:?}", out.display().to_string())), "{config}");
    assert!(!config.as_str().contains("elsewhere"));
}

#[test]
fn a_diverging_run_is_cut_at_the_step_that_diverged_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for backend in ["cpu", "gpu"] {
        let out = dir.path().join(format!("div_{backend}.h5"));
        let backend_key = format!("simulation.backend=\"{backend}\"");
        let err = app::run(&pair_request(
            &out,
            &["simulation.dt_ms=1", "simulation.duration_ms=200", "simulation.precision=\"f32\"", &backend_key],
        ))
        .unwrap_err();
        let Error::Diverged { time_ms, .. } = err else {
            panic!("{backend}: {err}")
        };
        let f = hdf5::File::open(&out).unwrap();
        let simulated: f64 = f.attr("simulated_ms").unwrap().read_scalar().unwrap();
        assert_eq!(simulated, time_ms, "{backend}: the file says how far the run got");
        let reason: VarLenUnicode = f.attr("stop_reason").unwrap().read_scalar().unwrap();
        assert_eq!(reason.as_str(), "diverged");
        let v: Vec<f32> = f.dataset("report/hh/v/data").unwrap().read_raw().unwrap();
        assert_eq!(v.len(), 2 * time_ms as usize, "{backend}: one row per step simulated");
        let time: Vec<f64> = f.dataset("report/hh/v/mapping/time").unwrap().read_raw().unwrap();
        assert_eq!(time, vec![0.0, time_ms, 1.0], "{backend}: the mapping ends where the data do");
        // The state sampled at the start of the diverging step is still finite.
        assert!(v[..v.len() - 2].iter().all(|x| x.is_finite()), "{backend}: {v:?}");
        let ts: Vec<f64> = f.dataset("spikes/hh/timestamps").unwrap().read_raw().unwrap();
        assert!(ts.iter().all(|&t| t <= time_ms), "{backend}: {ts:?}");
        rows.push(time_ms);
    }
    assert_eq!(rows[0], rows[1], "both backends stop at the same step");
}

/// Keeps a run's output as one chunk: what a batch holds of an instance when it ends.
#[derive(Default)]
struct Whole(Option<ChunkOutput>);

impl simulator::ChunkSink for Whole {
    fn append(&mut self, chunk: &ChunkOutput) -> ganglion::Result<()> {
        match &mut self.0 {
            Some(all) => all.extend(chunk.clone()),
            None => self.0 = Some(chunk.clone()),
        }
        Ok(())
    }
}

#[test]
fn a_batch_writes_each_instance_whole_as_its_single_run_writes_it() {
    use ganglion::io::hdf5::{BatchOutput, FinishedRun};
    let dir = tempfile::tempdir().unwrap();
    let (config, net) = shipped("hh_pair.toml", &["simulation.duration_ms=20", "simulation.chunk_steps=700"]);
    let plan = RecordPlan::from_config(&config);
    let mut whole = Whole::default();
    let opts = RunOptions { chunk_steps: Some(700), ..RunOptions::default() };
    simulator::run(&net, &mut CpuBackend::<f64>::new(&net), &plan, &mut whole, &opts).unwrap();
    let output = whole.0.unwrap();
    assert!(output.spikes[0].len() >= 2, "the pair fires");

    // The single run's file, chunk by chunk.
    let single = dir.path().join("single.h5");
    let mut writer = Hdf5Writer::create(&single, false, &net, &plan, &meta()).unwrap();
    simulator::ChunkSink::append(&mut writer, &output).unwrap();
    writer.finish_as(1.0, "complete").unwrap();

    // A batch of three: two that ran, one stopped before its first chunk.
    let path = dir.path().join("batch.h5");
    let file = hdf5::File::create(&path).unwrap();
    let mut out = BatchOutput::new(&path, &file);
    let empty = ChunkOutput::default();
    for (k, (output, reason)) in [(&output, "complete"), (&empty, "interrupted"), (&output, "complete")].into_iter().enumerate() {
        let run = FinishedRun { output, synapses: None, wall_time_s: 1.0, stop_reason: reason };
        out.write(&format!("instances/{k}"), (&net, &plan, &meta()), &run).unwrap();
    }
    drop(file);

    let (single, batch) = (hdf5::File::open(&single).unwrap(), hdf5::File::open(&path).unwrap());
    let reference: Vec<_> = datasets_under(&single, "/").into_iter().filter(|(p, _)| !p.starts_with("/model")).collect();
    for k in [0, 2] {
        assert_eq!(datasets_under(&batch, &format!("instances/{k}")), reference, "instance {k}");
        assert_eq!(outcome(&batch.group(&format!("instances/{k}")).unwrap()), outcome(&single.group("/").unwrap()));
    }
    assert_eq!(outcome(&batch.group("instances/1").unwrap()), (0.0, false, "interrupted".to_string(), 1));
    let stopped = datasets_under(&batch, "instances/1");
    let time = stopped.iter().find(|(p, _)| p == "/report/hh/v/mapping/time").unwrap();
    assert_eq!(time.1, [0.0, 0.0, 0.01], "its own mapping: nothing simulated");
    assert!(stopped.iter().all(|(p, v)| v.is_empty() || p.contains("mapping")), "{stopped:?}");
    // The third instance's mappings are the first's, linked; the stopped one has its own.
    let links = |k: usize| batch.group(&format!("instances/{k}/report/hh/v/mapping")).unwrap().loc_info().unwrap().num_links;
    assert_eq!((links(0), links(1), links(2)), (2, 1, 2));
}

/// Two neurons driven past a threshold at different phases (tests/brian2/linked_resets.py's
/// `a_src`), 3 ms.
const RATE_SOURCE: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 3.0
[models.source]
equations = "dx/dt = (2 + sin(2*pi*f*t + i) - x)/tau_in : 1"
threshold = "x > 1.5"
reset = "x = 0.2"
namespace = { f = "40*Hz", tau_in = "2*ms" }
[populations.a_src]
model = "source"
size = 2
init = { x = 1.0 }
[record]
rates = ["a_src"]
"#;

/// Brian2 2.9.0's PopulationRateMonitor of the same group (numpy target): 30 samples, at
/// t = k·dt the neurons that spiked in step k over N·dt, nonzero (5000 Hz, one of two
/// neurons) at 0.6, 1.1, 1.9 and 2.8 ms. Produced by
///     G = NeuronGroup(2, ..., threshold="x > 1.5", reset="x = 0.2"); G.x = 1.0
///     R = PopulationRateMonitor(G); run(3*ms); [(t, r) for t, r in zip(R.t/ms, R.rate/Hz) if r > 0]
const BRIAN2_RATE_STEPS: [usize; 4] = [6, 11, 19, 28];

#[test]
fn a_population_rate_is_written_every_step_as_brian2s_monitor_gives_it_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rate.toml");
    std::fs::write(&config, RATE_SOURCE).unwrap();
    let mut written = Vec::new();
    for (backend, chunk) in [("cpu", 1000), ("cpu", 7), ("gpu", 1000), ("gpu", 7)] {
        let out = dir.path().join(format!("{backend}_{chunk}.h5"));
        let req = RunRequest {
            config: config.clone(),
            overrides: vec![format!("simulation.backend=\"{backend}\""), format!("simulation.chunk_steps={chunk}")],
            output: Some(out.clone()),
            ..Default::default()
        };
        app::run(&req).unwrap();
        let f = hdf5::File::open(&out).unwrap();
        assert!(!f.link_exists("spikes"), "{backend}: spikes counted, not written");
        let ds = f.dataset("rates/a_src/rate").unwrap();
        let units: VarLenUnicode = ds.attr("units").unwrap().read_scalar().unwrap();
        assert_eq!(units.as_str(), "Hz");
        let rate: Vec<f64> = ds.read_raw().unwrap();
        let expected: Vec<f64> = (0..30).map(|k| if BRIAN2_RATE_STEPS.contains(&k) { 5000.0 } else { 0.0 }).collect();
        assert_eq!(rate.len(), 30, "{backend}, chunks of {chunk}");
        for (k, (r, e)) in rate.iter().zip(&expected).enumerate() {
            assert!((r - e).abs() < 1e-9, "{backend}, chunks of {chunk}: step {k}: {r} Hz, Brian2 {e}");
        }
        let time: Vec<f64> = f.dataset("rates/a_src/time").unwrap().read_raw().unwrap();
        assert_eq!(time, vec![0.0, 3.0, 0.1]);
        written.push(rate);
    }
    // `stats` reads a file of rates alone: four spikes of 5000 Hz over 30 steps.
    let stats = ganglion::stats::from_file(&dir.path().join("cpu_7.h5"), 10.0, 5).unwrap().report();
    assert!(stats.contains("rate of a_src per step: 30 steps, mean 666.667 Hz"), "{stats}");
    // Recorded with the spikes too: the same rates, and the spikes as without them.
    let out = dir.path().join("both.h5");
    let req = RunRequest {
        config: config.clone(),
        overrides: vec!["record.spikes=[\"a_src\"]".into()],
        output: Some(out.clone()),
        ..Default::default()
    };
    app::run(&req).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    assert_eq!(f.dataset("rates/a_src/rate").unwrap().read_raw::<f64>().unwrap(), written[0]);
    let times: Vec<f64> = f.dataset("spikes/a_src/timestamps").unwrap().read_raw().unwrap();
    // Stamped a step later than Brian2 stamps them (the crossing ends the step).
    let stamped: Vec<f64> = BRIAN2_RATE_STEPS.iter().map(|&k| (k + 1) as f64 * 0.1).collect();
    assert!(times.iter().zip(&stamped).all(|(a, b)| (a - b).abs() < 1e-9) && times.len() == 4, "{times:?}");
    // A sweep's batch on the GPU counts each instance's rate from its own spikes, which it
    // does not write.
    let out = dir.path().join("sweep.h5");
    let req = RunRequest {
        config: config.clone(),
        overrides: vec!["simulation.backend=\"gpu\"".into(), "sweep.populations.a_src.init.x=[1.0, 1.0, 1.0]".into()],
        output: Some(out.clone()),
        ..Default::default()
    };
    app::run_any(&req).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    for k in 0..3 {
        assert!(!f.link_exists(&format!("instances/{k}/spikes")), "instance {k}");
        assert_eq!(f.dataset(&format!("instances/{k}/rates/a_src/rate")).unwrap().read_raw::<f64>().unwrap(), written[0], "instance {k}");
    }
    let check = app::check_report(&config, &[]).unwrap().0;
    assert!(check.contains("and the rate of `a_src` every step (8 B a step each)"), "{check}");
    // Refused by key: a population that is not there, or listed twice.
    for (set, key) in [("record.rates=[\"b\"]", "record.rates[0]"), ("record.rates=[\"a_src\", \"a_src\"]", "record.rates[1]")] {
        let e = ganglion::config::parse(RATE_SOURCE, &[set.to_string()]).unwrap_err().to_string();
        assert!(e.contains(key), "{set}: {e}");
    }
}

/// Brian2 2.9.0's `smooth_rate` of the same monitor (tests/brian2/smooth_rate.py): a Gaussian
/// window of width 0.2 ms (9 steps) and a flat one of 0.45 ms (5 steps, 0.5 ms).
const BRIAN2_SMOOTH_GAUSSIAN: [f64; 30] = [
    0.0,
    0.0,
    138.15275319449415,
    331.4112264318061,
    619.1576840288766,
    900.8691145569045,
    1020.8184435758378,
    1039.0218677513985,
    950.5689104606827,
    950.5689104606827,
    1039.0218677513985,
    1020.8184435758378,
    900.8691145569045,
    619.1576840288766,
    331.4112264318061,
    276.3055063889883,
    331.4112264318061,
    619.1576840288766,
    900.8691145569045,
    1020.8184435758378,
    900.8691145569045,
    619.1576840288766,
    331.4112264318061,
    138.15275319449415,
    138.15275319449415,
    331.4112264318061,
    619.1576840288766,
    900.8691145569045,
    1020.8184435758378,
    900.8691145569045,
];
const BRIAN2_SMOOTH_FLAT: [f64; 30] = [
    0.0,
    0.0,
    0.0,
    0.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
    0.0,
    0.0,
    0.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
    0.0,
    0.0,
    0.0,
    0.0,
    1000.0,
    1000.0,
    1000.0,
    1000.0,
];

/// And with a window of its own values, `smooth_rate(window=np.array([1.0, 3.0, 2.0]))`.
const BRIAN2_SMOOTH_ARRAY: [f64; 30] = {
    let (a, b, c) = (833.3333333333333, 2500.0, 1666.6666666666665);
    [
        0.0, 0.0, 0.0, 0.0, 0.0, a, b, c, 0.0, 0.0, a, b, c, 0.0, 0.0, 0.0, 0.0, 0.0, a, b, c, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, a, b, c,
    ]
};

#[test]
fn rates_are_smoothed_as_brian2s_smooth_rate_on_both_backends_when_the_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rate.toml");
    std::fs::write(&config, RATE_SOURCE).unwrap();
    let windows = [
        ("gaussian", "window = \"gaussian\", width = \"0.2*ms\"", 0.2, BRIAN2_SMOOTH_GAUSSIAN),
        ("flat", "window = \"flat\", width = \"0.45*ms\"", 0.5, BRIAN2_SMOOTH_FLAT),
        ("array", "window = [1, 3, 2]", 0.3, BRIAN2_SMOOTH_ARRAY),
    ];
    for (window, spec, used, brian2) in windows {
        let smooth = format!("record.smooth_rate={{ {spec} }}");
        for (backend, chunk) in [("cpu", 7), ("gpu", 1000)] {
            let out = dir.path().join(format!("{window}_{backend}.h5"));
            let req = RunRequest {
                config: config.clone(),
                overrides: vec![format!("simulation.backend=\"{backend}\""), format!("simulation.chunk_steps={chunk}"), smooth.clone()],
                output: Some(out.clone()),
                ..Default::default()
            };
            app::run(&req).unwrap();
            let f = hdf5::File::open(&out).unwrap();
            let ds = f.dataset("rates/a_src/smooth_rate").unwrap();
            let smoothed: Vec<f64> = ds.read_raw().unwrap();
            assert_eq!(smoothed.len(), 30);
            for (k, (x, b)) in smoothed.iter().zip(&brian2).enumerate() {
                assert!((x - b).abs() <= 1e-9 * b.abs().max(1.0), "{window}, {backend}: step {k}: {x} Hz, Brian2 {b}");
            }
            let attr = |name: &str| ds.attr(name).unwrap().read_scalar::<VarLenUnicode>().unwrap().to_string();
            assert_eq!((attr("units").as_str(), attr("window").as_str()), ("Hz", window));
            assert_eq!(ds.attr("width_ms").unwrap().read_scalar::<f64>().unwrap(), used);
        }
        let check = app::check_report(&config, &[smooth]).unwrap().0;
        assert!(check.contains(&format!("smoothed when the run ends ({window} window")), "{check}");
    }
    // Refused by key: without rates, or a window longer than the run.
    let e = ganglion::config::parse(RATE_SOURCE, &["record.rates=[]".into(), "record.smooth_rate={ window = \"flat\", width = \"1*ms\" }".into()]).unwrap_err().to_string();
    assert!(e.contains("record.smooth_rate") && e.contains("record.rates names no population"), "{e}");
    let e = ganglion::config::parse(RATE_SOURCE, &["record.smooth_rate={ window = \"gaussian\", width = \"1*ms\" }".into()]).unwrap_err().to_string();
    assert!(e.contains("record.smooth_rate.width") && e.contains("41 steps, longer than the run's 30"), "{e}");
    // A window of its own values: an odd number of them, no width (as Brian2 refuses them).
    for (set, key, message) in [
        ("window = [1, 2]", "record.smooth_rate.window", "a window needs an odd number"),
        ("window = [1, 2, 3], width = \"1*ms\"", "record.smooth_rate.width", "takes none"),
        ("window = \"flat\"", "record.smooth_rate.width", "is needed by the `flat` window"),
        ("window = [1, -1, 0]", "record.smooth_rate.window", "sum to 0"),
        ("window = { a = 1 }", "record.smooth_rate.window", "must be \"gaussian\", \"flat\" or a list of numbers, got a table"),
        ("window = [1, \"a\", 1]", "record.smooth_rate.window", "must all be numbers"),
    ] {
        let e = ganglion::config::parse(RATE_SOURCE, &[format!("record.smooth_rate={{ {set} }}")]).unwrap_err().to_string();
        assert!(e.contains(key) && e.contains(message), "{set}: {e}");
    }
}
