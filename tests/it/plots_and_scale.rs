//! `ganglion plot` figures and `ganglion scale` studies.


use crate::common::*;
use ganglion::app::{self, RunRequest};
use ganglion::config::BackendChoice;
use ganglion::plot;
use ganglion::scale::{self, ScaleRequest};
use std::path::Path;

/// The PNG has the expected size and is not blank: enough pixels are neither white nor one
/// single colour.
fn assert_drawn(png: &Path, width: u32, height: u32) {
    let img = image::open(png)
        .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
        .to_rgb8();
    assert_eq!(
        (img.width(), img.height()),
        (width, height),
        "{}",
        png.display()
    );
    let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(
        ink > (width * height / 100) as usize,
        "{} is nearly blank ({ink} drawn pixels)",
        png.display()
    );
    let coloured = img
        .pixels()
        .filter(|p| p.0[0] > 150 && p.0[1] < 100 && p.0[2] < 100 || p.0[2] > 150 && p.0[0] < 100)
        .count();
    assert!(coloured > 200, "{}: no data drawn in colour", png.display());
}

fn run_to(dir: &Path, config: &str, overrides: &[&str]) -> std::path::PathBuf {
    let out = dir.join(format!("{}.h5", config.trim_end_matches(".toml")));
    let req = RunRequest {
        config: repo_path(&format!("configs/{config}")),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        output: Some(out.clone()),
        ..Default::default()
    };
    app::run(&req).unwrap();
    out
}

#[test]
fn traces_raster_histograms_render() {
    let dir = tempfile::tempdir().unwrap();
    let pair = run_to(dir.path(), "hh_pair.toml", &["simulation.duration_ms=60"]);
    let png = dir.path().join("traces.png");
    plot::traces(
        &pair,
        "hh",
        &["v".into(), "m".into(), "h".into(), "n".into()],
        &[0, 1],
        Some(0.0),
        Some(50.0),
        &png,
    )
    .unwrap();
    assert_drawn(&png, 1200, 260 * 4 + 60);

    let net = run_to(
        dir.path(),
        "cobahh.toml",
        &[
            "simulation.duration_ms=100",
            "simulation.backend=\"cpu\"",
            "record.rates=[\"exc\", \"inh\"]",
            "record.smooth_rate={ window = \"flat\", width = \"2*ms\" }",
        ],
    );
    let png = dir.path().join("raster.png");
    plot::raster(&net, None, 500, &png).unwrap();
    assert_drawn(&png, 1200, 900);
    let png = dir.path().join("rates.png");
    plot::rates(&net, None, &png).unwrap();
    assert_drawn(&png, 1200, 300 + 250 * 2);
    plot::rates(&net, Some("inh"), &png).unwrap();
    assert_drawn(&png, 1200, 300 + 250);
    let err = plot::rates(&net, Some("nope"), &png).unwrap_err().to_string();
    assert!(err.contains("no recorded rate of population `nope`") && err.contains("record.rates lists exc, inh"), "{err}");
    let png = dir.path().join("isi.png");
    plot::isi(&net, "exc", 40, &png).unwrap();
    assert_drawn(&png, 1000, 650);

    let lif = run_to(
        dir.path(),
        "lif_noisy_1k.toml",
        &["simulation.backend=\"cpu\""],
    );
    let png = dir.path().join("hist.png");
    plot::hist(&lif, "lif", "v", 30, &png).unwrap();
    assert_drawn(&png, 1000, 650);

    // Asking for what was not recorded names it.
    let err = plot::traces(&pair, "hh", &["q".into()], &[], None, None, &png)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`q`"), "{err}");
    let err = plot::traces(&pair, "hh", &["v".into()], &[7], None, None, &png)
        .unwrap_err()
        .to_string();
    assert!(err.contains("neuron 7"), "{err}");
    let err = plot::rates(&pair, None, &png).unwrap_err().to_string();
    assert!(err.contains("this file holds no rates"), "{err}");
}

#[test]
fn without_a_population_a_scale_study_scales_the_whole_network_in_proportion() {
    // COBAHH with 64 + 16 inputs per neuron: 4/5 excitatory, 1/5 inhibitory at every size.
    let req = ScaleRequest {
        config: repo_path("configs/cobahh_k80.toml"),
        overrides: vec![],
        population: None,
        sizes: vec![500, 1001, 1],
        backends: vec![BackendChoice::Cpu],
        steps: 2,
        repeat: 1,
        show_progress: false,
    };
    let rows = scale::run(&req).unwrap();
    for r in &rows[..2] {
        assert_eq!(r.status, "ok", "{r:?}");
        assert_eq!(r.neurons, r.size as usize);
        assert_eq!(r.synapses, r.size as usize * 80);
    }
    // One neuron cannot be shared between two populations.
    assert!(
        rows[2].status.starts_with("invalid at this size") && rows[2].status.contains("size"),
        "{:?}",
        rows[2].status
    );
}

#[test]
fn a_scale_study_writes_its_csv_and_its_plot() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("scale.csv");
    let req = ScaleRequest {
        config: repo_path("configs/hh_bench.toml"),
        overrides: vec![],
        population: Some("hh".into()),
        sizes: vec![200, 800],
        backends: vec![BackendChoice::Cpu, BackendChoice::Gpu],
        steps: 5,
        repeat: 2,
        show_progress: false,
    };
    let rows = scale::run(&req).unwrap();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(r.status, "ok", "{r:?}");
        assert_eq!(r.synapses, r.size as usize * 100);
        assert!(r.us_min <= r.us_median && r.us_median <= r.us_max && r.us_median > 0.0);
        assert!(r.neuron_steps_per_s > 0.0 && r.effective_gb_per_s > 0.0 && r.peak_host_bytes > 0);
        assert_eq!(r.gpu_bytes.is_some(), r.backend == "gpu");
    }
    scale::write_csv(&csv, &rows).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert_eq!(text.lines().next().unwrap(), scale::CSV_HEADER);
    let columns = scale::CSV_HEADER.split(',').count();
    let png = dir.path().join("scale.png");
    plot::scale(&csv, &png).unwrap();
    assert_drawn(&png, 1200, 1300);
    assert!(text.lines().nth(1).unwrap().matches(',').count() + 1 >= columns);
    // Read back for the plot: one line per backend and device, the device named.
    let (config, measured) = scale::read_csv(&csv).unwrap();
    assert_eq!(
        config,
        repo_path("configs/hh_bench.toml").display().to_string()
    );
    assert_eq!(measured.len(), 4);
    for (m, r) in measured.iter().zip(&rows) {
        assert_eq!(m.series(), format!("{}: {}", r.backend, r.device));
        assert_eq!(m.size, r.size as f64);
        // Written with three decimals.
        assert!((m.us_per_step - r.us_median).abs() <= 6e-4, "{m:?} {r:?}");
    }
}

#[test]
fn sizes_that_do_not_fit_are_reported_not_crashed_on() {
    // 263k HH neurons (8.4 MB of GPU buffers) on a GPU declared to have 1 MiB.
    let too_big_for_gpu = (1 << 20) / 4 + 1024;
    let req = ScaleRequest {
        config: repo_path("configs/hh_pair.toml"),
        overrides: vec!["projections={}".into(), "record={}".into(), "simulation.gpu_memory_gib=0.001".into()],
        population: Some("hh".into()),
        sizes: vec![too_big_for_gpu],
        backends: vec![BackendChoice::Gpu],
        steps: 1,
        repeat: 1,
        show_progress: false,
    };
    let rows = scale::run(&req).unwrap();
    assert!(
        rows[0].status.starts_with("does not fit") && rows[0].status.contains("simulation.gpu_memory_gib"),
        "{:?}",
        rows[0].status
    );
    // Four billion neurons with 100 inputs each do not fit this host.
    let req = ScaleRequest {
        config: repo_path("configs/hh_bench.toml"),
        overrides: vec![],
        sizes: vec![4_000_000_000],
        backends: vec![BackendChoice::Cpu],
        ..req
    };
    let rows = scale::run(&req).unwrap();
    assert!(
        rows[0].status.contains("host memory"),
        "{:?}",
        rows[0].status
    );
}

#[test]
fn a_plot_that_fails_leaves_no_figure_and_keeps_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let pair = run_to(dir.path(), "hh_pair.toml", &["simulation.duration_ms=20"]);
    let png = dir.path().join("fig.png");
    let v = ["v".to_string()];
    plot::traces(&pair, "hh", &v, &[], None, None, &png).unwrap();
    let good = std::fs::read(&png).unwrap();
    let files = || std::fs::read_dir(dir.path()).unwrap().count();
    let before = files();
    for (variables, t0, t1, wanted) in [
        (vec!["q".to_string()], None, None, "no recorded trace `q`"),
        (v.to_vec(), Some(40.0), Some(10.0), "--t0 40 must be before --t1 10"),
        (v.to_vec(), Some(30.0), Some(40.0), "no samples of `v` of `hh` between 30 and 40 ms"),
    ] {
        let e = plot::traces(&pair, "hh", &variables, &[], t0, t1, &png).unwrap_err();
        assert!(e.to_string().contains(wanted), "{e}");
        assert_eq!(std::fs::read(&png).unwrap(), good, "the good figure is kept");
        assert_eq!(files(), before, "no partial figure left");
    }
    let e = plot::hist(&pair, "hh", "v", 0, &png).unwrap_err();
    assert!(e.to_string().contains("--bins"), "{e}");
    let e = plot::raster(&pair, None, 100, &dir.path().join("missing/fig.png")).unwrap_err();
    assert!(e.to_string().contains("missing") && e.to_string().contains("does not exist"), "{e}");
}

#[test]
fn check_on_the_gpu_applies_the_limits_run_applies() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "[simulation]\ndt_ms = 0.1\nduration_ms = 1.0\nbackend = \"gpu\"\n\
         [populations.a]\nmodel = \"hh_traub\"\nsize = 10\n",
    );
    for k in 0..9 {
        text.push_str(&format!(
            "[projections.p{k}]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"exp_curr\"\n\
             params = {{ tau_ms = 5.0 }}\nconnectivity = {{ rule = \"one_to_one\" }}\n"
        ));
    }
    let config = dir.path().join("nine.toml");
    std::fs::write(&config, &text).unwrap();
    let e = app::check(&config, &[]).unwrap_err();
    assert!(
        matches!(&e, ganglion::Error::TooManyEventProjections { population, count: 9, .. } if population == "a"),
        "{e:?}"
    );
    let req = RunRequest {
        config: config.clone(),
        output: Some(dir.path().join("nine.h5")),
        ..Default::default()
    };
    let run_error = app::run(&req).unwrap_err();
    assert_eq!(run_error.root().to_string(), e.to_string(), "the same refusal");
    // On the CPU, the same network is fine.
    assert!(app::check(&config, &["simulation.backend=\"cpu\"".into()]).is_ok());
}

#[test]
fn the_weights_of_a_plastic_run_render_and_stats_summarise_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("equations")).unwrap();
    let stdp = run_to(dir.path(), "equations/stdp.toml", &["simulation.duration_ms=200"]);
    let png = dir.path().join("weights.png");
    plot::weights(&stdp, "S", "w", 20, &png).unwrap();
    assert_drawn(&png, 1000, 650);
    let e = plot::weights(&stdp, "S", "q", 20, &png).unwrap_err().to_string();
    assert!(e.contains("no synaptic variable `q`"), "{e}");
    let stats = ganglion::stats::from_file(&stdp, 100.0, 10).unwrap().report();
    assert!(stats.contains("synapses S.w at the end: 1000 synapses"), "{stats}");
}

#[test]
fn a_benchmark_of_a_diverging_network_is_an_error_not_a_time() {
    // dt = 0.5 ms is far too coarse for HH's explicit step: V leaves the reals at once.
    let e = app::bench(
        &repo_path("configs/hh_ring_1k.toml"),
        &["simulation.dt_ms=0.5".into(), "simulation.duration_ms=100".into()],
        50,
        1,
        &["cpu".into()],
    )
    .unwrap_err();
    assert!(matches!(e, ganglion::Error::Diverged { .. }), "{e}");
}

#[test]
fn a_normal_draw_with_a_min_is_clipped() {
    let (_, net) = shipped(
        "cobahh.toml",
        &["projections.ie.g0={ normal = [0.0, 1.0], min = 0.0 }"],
    );
    let g0 = &net.projections[2].event.as_ref().unwrap().g0;
    assert!(g0.iter().all(|&g| g >= 0.0));
    let zeros = g0.iter().filter(|&&g| g == 0.0).count() as f64 / g0.len() as f64;
    assert!((zeros - 0.5).abs() < 0.05, "{zeros}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, std::fs::read_to_string(repo_path("configs/cobahh.toml")).unwrap()).unwrap();
    let e = ganglion::config::load(&path, &["populations.exc.init.v={ normal = [0.0, 1.0], min = nan }".into()]);
    assert!(e.is_err_and(|e| e.to_string().contains("populations.exc.init.v.min")));
}
