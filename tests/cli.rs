//! The binary: exit codes and messages a user sees.

mod common;

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
        stdout.contains("GPU step: 4 dispatches, no graded coupling"),
        "{stdout}"
    );
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
}
