//! The binary: exit codes and messages a user sees.


use std::process::Command;

fn ganglion(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ganglion"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn check_prints_the_network_size() {
    let (ok, stdout, stderr) = ganglion(&["check", "configs/hh_ring_1k.toml"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("1000 neurons") && stdout.contains("10000 synapses"),
        "{stdout}"
    );
    assert!(stdout.contains("memory"), "{stdout}");
    // K = 10: one thread per row, fused into the update.
    assert!(
        stdout.contains("GPU step: 1 dispatch, graded coupling fused\n"),
        "{stdout}"
    );
    // The blocked coupling: its sums, their parts added, the update.
    let (ok, stdout, stderr) = ganglion(&[
        "check",
        "configs/hh_ring_1k.toml",
        "--set",
        "simulation.gpu_coupling=\"blocked\"",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("GPU step: 3 dispatches, graded coupling blocked\n"),
        "{stdout}"
    );
    let (ok, stdout, stderr) = ganglion(&["check", "configs/cobahh.toml"]);
    assert!(ok, "{stderr}");
    // Two updates (each delivering its event-driven inputs) and two propagations.
    assert!(
        stdout.contains("GPU step: 4 dispatches, no graded coupling\n"),
        "{stdout}"
    );
    // The deliveries apart: one more dispatch per target population.
    let (ok, stdout, stderr) = ganglion(&[
        "check",
        "configs/cobahh.toml",
        "--set",
        "simulation.gpu_event_delivery=\"separate\"",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("GPU step: 6 dispatches, no graded coupling, events delivered separately\n"),
        "{stdout}"
    );
    let (ok, _, stderr) = ganglion(&[
        "check",
        "configs/cobahh.toml",
        "--set",
        "simulation.gpu_event_delivery=\"apart\"",
    ]);
    assert!(!ok);
    assert!(stderr.contains("gpu_event_delivery") && stderr.contains("separate"), "{stderr}");
    let (ok, _, stderr) = ganglion(&[
        "check",
        "configs/cobahh.toml",
        "--set",
        "simulation.gpu_coupling=\"fused\"",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("simulation.gpu_coupling") && stderr.contains("not an hh population"),
        "{stderr}"
    );
}

#[test]
fn check_says_how_the_gpu_delivers_synapses_written_as_equations() {
    // Brunel's 1.5 ms delay, one for all: the sources whose spikes arrive mark one slot. Four
    // projections of a marking and a delivery, two updates, two PoissonInput resets.
    let brunel = ["check", "configs/equations/brunel2000.toml"];
    let (ok, stdout, stderr) = ganglion(&brunel);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("(variables: none); on_pre on the GPU: the arriving synapses marked, one bit each\n"), "{stdout}");
    assert!(stdout.contains("GPU step: 12 dispatches"), "{stdout}");
    // Delays of their own, drawn: `check` cannot know the longest, so it counts them walked
    // (11 dispatches) and says so.
    let drawn = [&brunel[..], &["--set", "projections.ee.delay=\"(0.5 + rand())*ms\""]].concat();
    let (ok, stdout, stderr) = ganglion(&drawn);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("on_pre on the GPU: its delays are drawn (see below)"), "{stdout}");
    assert!(stdout.contains("`ee`: its delays are drawn, so its `on_pre` arrivals are counted here as walked"), "{stdout}");
    assert!(stdout.contains("GPU step: 11 dispatches"), "{stdout}");
}

#[test]
fn bad_values_fail_with_the_key_named() {
    let (ok, _, stderr) = ganglion(&[
        "check",
        "configs/hh_pair.toml",
        "--set",
        "populations.hh.size=-3",
    ]);
    assert!(!ok);
    assert!(stderr.contains("populations.hh.size"), "{stderr}");
    let (ok, _, stderr) = ganglion(&[
        "run",
        "configs/hh_pair.toml",
        "--set",
        "populations.hh.model=\"lif2\"",
        "--quiet",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("populations.hh.model") && stderr.contains("lif2"),
        "{stderr}"
    );
    let (ok, _, stderr) = ganglion(&["check", "configs/does_not_exist.toml"]);
    assert!(!ok);
    assert!(stderr.contains("does_not_exist.toml"), "{stderr}");
}

#[test]
fn run_writes_the_file_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.h5");
    let out_s = out.to_str().unwrap();
    let args = [
        "run",
        "configs/hh_pair.toml",
        "--set",
        "simulation.duration_ms=100",
        "--output",
        out_s,
    ];
    let (ok, stdout, stderr) = ganglion(&args);
    assert!(ok, "{stderr}");
    assert!(stdout.contains(out_s) && stdout.contains("Hz"), "{stdout}");
    let (ok, _, stderr) = ganglion(&args);
    assert!(!ok && stderr.contains("--force"), "{stderr}");
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(ganglion(&forced).0);
}

#[test]
fn validate_passes_on_the_pair_and_fails_on_impossible_tolerances() {
    let (ok, stdout, stderr) =
        ganglion(&["validate", "configs/hh_pair.toml", "--duration-ms", "50"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("PASS") && stdout.contains("spikes cpu"),
        "{stdout}"
    );
    let (ok, stdout, stderr) = ganglion(&[
        "validate",
        "configs/hh_pair.toml",
        "--duration-ms",
        "20",
        "--max-dv-mv=-1",
    ]);
    assert!(!ok, "{stdout}");
    assert!(
        stdout.contains("FAIL") && stderr.contains("tolerances"),
        "{stdout}{stderr}"
    );
}

#[test]
fn bench_reports_both_backends() {
    let (ok, stdout, stderr) = ganglion(&[
        "bench",
        "configs/hh_bench.toml",
        "--set",
        "populations.hh.size=500",
        "--steps",
        "20",
        "--repeat",
        "1",
    ]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[1].starts_with("cpu f32") && lines[2].starts_with("gpu f32"),
        "{stdout}"
    );
    assert!(
        lines[0].contains("µs/step") && lines[0].contains("GB/s"),
        "{stdout}"
    );
    let (ok, _, stderr) = ganglion(&["bench", "configs/hh_bench.toml", "--backends", "tpu"]);
    assert!(!ok && stderr.contains("tpu"), "{stderr}");
}

#[test]
fn info_lists_the_backends_and_adapters_with_their_limits() {
    let (ok, stdout, stderr) = ganglion(&["info"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("cpu: reference backend"), "{stdout}");
    assert!(
        stdout.contains("gpu: ") && stdout.contains("max_storage_buffer_binding_size"),
        "an adapter with its limits: {stdout}"
    );
    assert!(
        !stderr.contains("XDG_RUNTIME_DIR"),
        "no loader noise: {stderr}"
    );
}

#[test]
fn stats_reads_an_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lif.h5");
    let out_s = out.to_str().unwrap();
    assert!(
        ganglion(&[
            "run",
            "configs/lif_tutorial.toml",
            "--output",
            out_s,
            "--quiet"
        ])
        .0
    );
    let (ok, stdout, stderr) = ganglion(&["stats", out_s, "--window-ms", "50", "--bins", "5"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("lif")
            && stdout.contains("ISI CV")
            && stdout.contains("lif.v: 150 samples"),
        "{stdout}"
    );
    let (ok, _, stderr) = ganglion(&["stats", "/nonexistent.h5"]);
    assert!(!ok && stderr.contains("/nonexistent.h5"), "{stderr}");
}

#[test]
fn scale_writes_its_csv_and_never_overwrites_one_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("s.csv");
    let csv_s = csv.to_str().unwrap();
    let args = [
        "scale",
        "configs/hh_bench.toml",
        "--population",
        "hh",
        "--sizes",
        "100,200",
        "--backends",
        "cpu",
        "--steps",
        "3",
        "--repeat",
        "1",
        "--out",
        csv_s,
        "--quiet",
    ];
    let (ok, stdout, stderr) = ganglion(&args);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("wrote") && stdout.lines().count() == 4,
        "{stdout}"
    );
    let before = std::fs::read(&csv).unwrap();
    let (ok, _, stderr) = ganglion(&args);
    assert!(!ok && stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read(&csv).unwrap(), before);
    let ghost = [
        "scale",
        "configs/hh_bench.toml",
        "--population",
        "ghost",
        "--sizes",
        "100",
        "--out",
        "/tmp/never.csv",
    ];
    let (ok, _, stderr) = ganglion(&ghost);
    assert!(!ok && stderr.contains("ghost"), "{stderr}");
    // Every argument is checked before the study, whatever the CSV: a bad backend is named as
    // such, not as an existing CSV, and a directory is refused before anything is timed.
    let mut bad_backend = args;
    bad_backend[7] = "tpu";
    let (ok, _, stderr) = ganglion(&bad_backend);
    assert!(!ok && stderr.contains("unknown backend `tpu`"), "{stderr}");
    let mut into_dir = args.to_vec();
    into_dir[13] = dir.path().to_str().unwrap();
    into_dir.push("--force");
    let (ok, _, stderr) = ganglion(&into_dir);
    assert!(!ok && stderr.contains("is a directory; give the CSV's path"), "{stderr}");
}

/// The binary under `sh -c` with a resource limit set first (`ulimit -f` or `-v`).
fn ganglion_limited(limit: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let line = format!("ulimit {limit} && exec \"$0\" \"$@\"");
    let out = Command::new("sh")
        .arg("-c")
        .arg(line)
        .arg(env!("CARGO_BIN_EXE_ganglion"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sh runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn a_full_disk_removes_the_partial_file_and_keeps_the_old_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("full.h5");
    std::fs::write(&out, b"precious").unwrap();
    let out_s = out.to_str().unwrap();
    // 100 KiB of file at most: the traces of 1000 ms do not fit.
    let (code, _, stderr) = ganglion_limited(
        "-f 200",
        &["run", "configs/hh_pair.toml", "--output", out_s, "--force", "--quiet", "--chunk-steps", "1000"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("File too large") && stderr.contains("was left as it was"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("full.h5")], "no partial or lock file left");
}

#[test]
fn networks_beyond_the_memory_limit_are_refused_up_front_not_aborted() {
    let big = ["configs/hh_bench.toml", "--set", "populations.hh.size=10000000", "--backend", "cpu"];
    for command in ["check", "run"] {
        let mut args = vec![command];
        args.extend(big);
        let (code, _, stderr) = ganglion_limited("-v 2000000", &args);
        assert_eq!(code, Some(1), "{command}: {stderr}");
        assert!(
            stderr.contains("host memory") && stderr.contains("ulimit -v"),
            "{command}: {stderr}"
        );
    }
}

/// `512 B`, `1.5 MiB`, ... back to bytes.
fn parse_bytes(text: &str) -> f64 {
    let (x, unit) = text.trim().split_once(' ').unwrap();
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        u => panic!("unit {u}"),
    };
    x.parse::<f64>().unwrap() * scale
}

#[test]
fn the_memory_estimate_matches_the_measured_peak_within_a_quarter() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.h5");
    let (ok, stdout, stderr) = ganglion(&[
        "run",
        "configs/hh_bench.toml",
        "--backend",
        "cpu",
        "--set",
        "populations.hh.size=400000",
        "--set",
        "simulation.duration_ms=0.01",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let line = stdout.lines().find(|l| l.starts_with("host memory: peak")).expect(&stdout);
    let rest = line.trim_start_matches("host memory: peak ");
    let (peak, estimated) = rest.split_once(", estimated ").unwrap();
    let (peak, estimated) = (
        parse_bytes(peak),
        parse_bytes(estimated.trim_end_matches(" before the run")),
    );
    assert!(peak > 200e6, "400k neurons with 40M synapses: {line}");
    assert!(
        (estimated - peak).abs() <= 0.25 * peak,
        "estimate {estimated} against measured {peak}"
    );
}

#[test]
fn every_flag_is_checked_as_its_config_key_is() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.h5");
    let out = out.to_str().unwrap();
    // Once, this hung at 100% CPU.
    let (ok, _, stderr) = ganglion(&["run", "configs/hh_pair.toml", "--chunk-steps", "0", "--output", out]);
    assert!(!ok && stderr.contains("simulation.chunk_steps"), "{stderr}");
    let (ok, _, stderr) = ganglion(&["scale", "configs/hh_pair.toml", "--sizes", "2", "--steps", "0", "--out", out]);
    assert!(!ok && stderr.contains("--steps must be at least 1"), "{stderr}");
    let (ok, _, stderr) = ganglion(&["scale", "configs/hh_pair.toml", "--sizes", "2", "--repeat", "0", "--out", out]);
    assert!(!ok && stderr.contains("--repeat must be at least 1"), "{stderr}");
    let (ok, _, stderr) = ganglion(&["bench", "configs/hh_pair.toml", "--steps", "0"]);
    assert!(!ok && stderr.contains("--steps"), "{stderr}");
    let (ok, _, stderr) = ganglion(&["validate", "configs/hh_pair.toml", "--max-dv-mv", "nan"]);
    assert!(!ok && stderr.contains("--max-dv-mv"), "{stderr}");
    let (ok, _, stderr) = ganglion(&["validate", "configs/hh_pair.toml", "--duration-ms", "inf"]);
    assert!(!ok && stderr.contains("simulation.duration_ms"), "{stderr}");
}

#[test]
fn an_output_that_is_a_directory_is_called_one_and_errors_are_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, _, stderr) = ganglion(&["run", "configs/hh_pair.toml", "--output", d, "--force"]);
    assert!(!ok && stderr.contains("is a directory"), "{stderr}");
    let bad = dir.path().join("bad.h5");
    std::fs::write(&bad, b"not hdf5").unwrap();
    let (ok, _, stderr) = ganglion(&["stats", bad.to_str().unwrap()]);
    assert!(!ok, "{stderr}");
    assert_eq!(stderr.matches("not an HDF5 file").count(), 1, "{stderr}");
}

#[test]
fn stats_refuses_what_it_cannot_summarise_and_flags_incomplete_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.h5");
    let out_s = out.to_str().unwrap();
    let (ok, _, stderr) = ganglion(&[
        "run", "configs/hh_pair.toml", "--set", "simulation.duration_ms=10", "--set", "record={}",
        "--output", out_s, "--quiet",
    ]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = ganglion(&["stats", out_s]);
    assert!(!ok && stderr.contains("holds no spikes, events, rates or traces"), "{stderr}");
    let (ok, _, stderr) = ganglion(&[
        "run", "configs/hh_pair.toml", "--set", "simulation.duration_ms=200", "--set",
        "simulation.dt_ms=1", "--set", "simulation.precision=\"f32\"", "--output", out_s, "--force",
        "--quiet",
    ]);
    assert!(!ok && stderr.contains("diverged"), "{stderr}");
    let (ok, stdout, stderr) = ganglion(&["stats", out_s]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("warning: the run did not complete (diverged)"),
        "{stdout}"
    );
    let (ok, _, stderr) = ganglion(&["stats", out_s, "--bins", "0"]);
    assert!(!ok && stderr.contains("--bins"), "{stderr}");
    // What is not an output file is said in one line naming it, not in HDF5's error stack.
    let cut = dir.path().join("cut.h5");
    std::fs::write(&cut, &std::fs::read(&out).unwrap()[..2000]).unwrap();
    let text = dir.path().join("text.h5");
    std::fs::write(&text, "spikes\n").unwrap();
    let missing = dir.path().join("missing.h5");
    let folder = dir.path().to_str().unwrap();
    for (path, why) in [
        (cut.to_str().unwrap(), "an HDF5 file cut short (truncated)"),
        (text.to_str().unwrap(), "not an HDF5 file"),
        (missing.to_str().unwrap(), "no such file"),
        (folder, "is a directory, not an HDF5 file"),
    ] {
        for command in [&["stats", path][..], &["plot", "raster", path], &["merge", "--output", "m.h5", path]] {
            let (ok, _, stderr) = ganglion(command);
            assert!(!ok && stderr == format!("error: {path}: {why}\n"), "{command:?}: {stderr}");
        }
    }
    let edges = format!("projections.hh_hh.connectivity={{ rule = \"sonata\", edges = \"{}\" }}", text.display());
    let (ok, _, stderr) = ganglion(&["check", "configs/hh_pair.toml", "--set", &edges]);
    assert!(!ok && stderr.contains("connectivity.edges") && stderr.contains("not an HDF5 file"), "{stderr}");
}

fn signal(child: &std::process::Child, sig: i32) {
    // SAFETY: kill sends a signal to our own child.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

/// A run that takes minutes, with chunks of 100000 steps: one append at the very end.
fn long_run(out: &std::path::Path) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_ganglion"))
        .args([
            "run", "configs/hh_bench.toml", "--backend", "cpu", "--set",
            "populations.hh.size=2000", "--set", "simulation.duration_ms=5000", "--chunk-steps",
            "100000", "--quiet", "--output",
        ])
        .arg(out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let partial = ganglion::io::output::partial_path(out);
    let started = std::time::Instant::now();
    while !partial.exists() {
        assert!(started.elapsed().as_secs() < 60, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    child
}

#[test]
fn sigterm_stops_within_the_chunk_keeping_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("term.h5");
    let child = long_run(&out);
    let sent = std::time::Instant::now();
    signal(&child, libc::SIGTERM);
    let result = child.wait_with_output().unwrap();
    // A chunk of 100000 steps takes minutes here; the stop comes after one call of about a
    // quarter of a second. The bound is loose so that a loaded machine does not fail it.
    assert!(sent.elapsed().as_secs_f64() < 10.0, "took {:?}", sent.elapsed());
    assert_eq!(result.status.code(), Some(1));
    let f = hdf5::File::open(&out).unwrap();
    let reason: hdf5::types::VarLenUnicode = f.attr("stop_reason").unwrap().read_scalar().unwrap();
    assert_eq!(reason.as_str(), "interrupted");
    let simulated: f64 = f.attr("simulated_ms").unwrap().read_scalar().unwrap();
    assert!(
        simulated > 0.0 && simulated < 1000.0,
        "the steps done within the first chunk are kept: {simulated} ms"
    );
}

#[test]
fn a_second_signal_exits_at_once_replacing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("twice.h5");
    std::fs::write(&out, b"precious").unwrap();
    // Building 400k neurons with 40M synapses takes seconds: both signals arrive during it,
    // where the first one alone would only be seen once stepping starts.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ganglion"))
        .args([
            "run", "configs/hh_bench.toml", "--backend", "cpu", "--set",
            "populations.hh.size=400000", "--force", "--quiet", "--output",
        ])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The handler is set once the lock beside the output exists.
    let lock = dir.path().join(".twice.h5.lock");
    let started = std::time::Instant::now();
    while !lock.exists() {
        assert!(started.elapsed().as_secs() < 60, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    signal(&child, libc::SIGINT);
    std::thread::sleep(std::time::Duration::from_millis(100));
    signal(&child, libc::SIGINT);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("second interrupt"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), b"precious", "an exit at once replaces nothing");
}

#[test]
fn every_shipped_config_is_valid() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    let mut configs = Vec::new();
    walk(&crate::common::repo_path("configs"), &mut configs);
    assert!(configs.len() > 15);
    for path in &configs {
        let config = ganglion::config::load(path, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Some(sweep) = ganglion::sweep::Sweep::from_config(&config).unwrap() {
            ganglion::sweep::instances::configs(&config, &sweep, 0..sweep.len())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    // The peers' benchmark: 1000 synapses per neuron.
    let config = ganglion::config::load(&crate::common::repo_path("configs/cobahh_1000.toml"), &[]).unwrap();
    let shape = ganglion::shape::Shape::from_config(&config);
    assert_eq!(shape.n_synapses(), 1000 * shape.n_neurons());
}

#[test]
fn a_sweep_runs_sliced_merges_and_tabulates_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::common::repo_path("configs/hh_pair_sweep.toml");
    let config = config.to_str().unwrap();
    let sets = ["--set", "simulation.duration_ms=20", "--set", "sweep.populations.hh.params.i_ext=[6.0, 10.0, 14.0]", "--set", "sweep.projections.hh_hh.weight=[0.1]"];
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    for k in 1..=2 {
        let slice = format!("{k}/2");
        let out = path(&format!("part{k}.h5"));
        let mut args = vec!["run", config, "--quiet", "--slice", &slice, "--output", &out];
        args.extend(sets);
        let (ok, _, err) = ganglion(&args);
        assert!(ok, "{err}");
    }
    let merged = path("merged.h5");
    let (ok, stdout, err) = ganglion(&["merge", "--output", &merged, &path("part2.h5"), &path("part1.h5")]);
    assert!(ok && stdout.contains("3 instances"), "{stdout}{err}");
    let csv = path("table.csv");
    std::fs::write(&csv, "keep me").unwrap();
    let (ok, _, err) = ganglion(&["stats", &merged, "--csv", &csv]);
    assert!(!ok && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "keep me");
    let (ok, stdout, err) = ganglion(&["stats", &merged, "--csv", &csv, "--force"]);
    assert!(ok, "{err}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with(char::is_numeric)).count(), 3, "{stdout}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 4);
    let (ok, _, err) = ganglion(&["run", config, "--slice", "3/2"]);
    assert!(!ok && err.contains("3/2"), "{err}");
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    // As `ganglion info | head -0`: the reader is gone before anything is printed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ganglion"))
        .args(["check", crate::common::repo_path("configs/cobahh.toml").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
