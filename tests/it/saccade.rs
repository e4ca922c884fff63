//! The optimal-feedback-control saccade (chapter 8 of the seed book): the gains against the
//! equations they solve, the trajectories against the book's loop evaluated independently
//! here, the target jump at the book's step, and CPU against GPU.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::backend::Backend;
use ganglion::model::ofc_saccade::{Saccade, SaccadeParams};
use ganglion::record::RecordPlan;
use nalgebra::{DMatrix, DVector};

fn saccade(config: &ganglion::config::Config) -> Saccade {
    let (name, pop) = config.populations.iter().next().unwrap();
    Saccade::from_params(name, &pop.params, config.clock()).unwrap()
}

/// ‖M‖ as the sum of |entries|.
fn norm(m: &DMatrix<f64>) -> f64 {
    m.abs().sum()
}

#[test]
fn the_gains_solve_equations_8_10_to_8_13_from_any_start() {
    let params = SaccadeParams::default();
    let gains = params.gains().unwrap();
    let lqg = params.lqg();
    // (8.12) and (8.13) for the S and P of the final gains.
    let (s, p) = lqg.s_and_p(&gains.l, &gains.k, 0).unwrap();
    let cl = lqg.closed_loop(&gains.l, &gains.k);
    let (a, y) = (&cl.a_bar, &cl.y_bar);
    let lyapunov_s = a.transpose() * &s + &s * a + y.transpose() * &s * y + &cl.v;
    let ggt = &cl.g_bar * cl.g_bar.transpose();
    let lyapunov_p = a * &p + &p * a.transpose() + y * &p * y.transpose() + &ggt;
    assert!(norm(&lyapunov_s) < 1e-9 * norm(&cl.v), "(8.12): {}", norm(&lyapunov_s));
    assert!(norm(&lyapunov_p) < 1e-9 * norm(&ggt), "(8.13): {}", norm(&lyapunov_p));
    // (8.10) and (8.11): the gains are those S and P call for.
    let (k, l) = lqg.gains_from(&s, &p, 0).unwrap();
    assert!(norm(&(&k - &gains.k)) < 1e-9 * norm(&gains.k), "(8.10)");
    assert!(norm(&(&l - &gains.l)) < 1e-9 * norm(&gains.l), "(8.11)");
    // The fixed point does not depend on where the iteration starts.
    for (l0, k0) in [
        // (L = K = 0 leaves the closed loop's zero eigenvalue: its Lyapunov system is singular.)
        (DMatrix::from_element(1, 4, 0.5), DMatrix::from_element(4, 3, 0.5)),
        (
            DMatrix::from_row_slice(1, 4, &[10.0, 1.0, 0.1, 0.01]),
            DMatrix::from_element(4, 3, 3.0),
        ),
    ] {
        let other = lqg.solve(l0, k0, 1000, 1e-8).unwrap();
        assert!(norm(&(&other.l - &gains.l)) < 1e-6 * norm(&gains.l));
        assert!(norm(&(&other.k - &gains.k)) < 1e-6 * norm(&gains.k));
    }
}

/// The book's noiseless loop (`simulation` with noisy = false, or `target_jump_simulation`),
/// written out with matrices: X[:, t+1] = X[:, t] + (A X[:, t] + B u[t]) dt, u[t] = −L X[:, t],
/// the position shifted at the book's 1-based step `ntj` before its control.
fn book_loop(m: &Saccade, nt: usize, jump: Option<(usize, f64)>) -> Vec<DVector<f64>> {
    let lqg = m.params.lqg();
    let dt = m.dt_s;
    let mut x = vec![DVector::zeros(4); nt];
    x[0][0] = m.params.init_pos;
    for t in 1..nt {
        // t is the book's loop index, x[t - 1] its X[:, t].
        if let Some((ntj, d)) = jump {
            if t == ntj {
                x[t - 1][0] -= d;
            }
        }
        let u = -(&m.gains.l * &x[t - 1])[(0, 0)];
        let next = &x[t - 1] + (&lqg.a * &x[t - 1] + &lqg.b * DVector::from_element(1, u)) * dt;
        x[t] = next;
    }
    x
}

/// A plan recording x (pos, vel, acc, jerk) and u of every unit at every step (a trace entry
/// holds at most 8 variables).
fn every_variable(net: &ganglion::network::Network) -> RecordPlan {
    let variables = [0, 1, 2, 3, 8];
    RecordPlan {
        spikes: vec![false],
        rates: vec![false],
        traces: vec![ganglion::record::TracePlan {
            population: 0,
            when: ganglion::record::Sampled::Start,
            projection: None,
            variables: variables.map(ganglion::record::TraceVar::State).to_vec(),
            names: variables.map(|k| format!("{k}")).to_vec(),
            neurons: (0..net.populations[0].size as u32).collect(),
            every: 1,
            subgroup: None,
        }],
        ..Default::default()
    }
}

/// Per recorded variable (pos, vel, acc, jerk, u), [step][unit] of every unit at every step,
/// on a backend.
fn trajectories(net: &ganglion::network::Network, backend: &mut dyn Backend) -> Vec<Vec<f32>> {
    run_in_memory(net, backend, &every_variable(net)).traces[0].clone()
}

#[test]
fn the_noiseless_trajectory_is_the_books_loop_with_and_without_the_jump() {
    for (jump, overrides) in [
        (None, vec!["populations.saccade.params.noisy=false"]),
        (
            Some((400, 0.1)),
            vec![
                "populations.saccade.params.noisy=false",
                "populations.saccade.params.target_jump={at_ms=400.0,distance=0.1}",
            ],
        ),
    ] {
        let (config, net) = shipped("ofc_saccade.toml", &overrides);
        let model = saccade(&config);
        let nt = net.n_steps as usize;
        let book = book_loop(&model, nt, jump);
        let ours = trajectories(&net, &mut CpuBackend::<f64>::new(&net));
        let mine = model.noiseless_trajectory(nt as u64);
        let width = net.populations[0].size;
        let scale = book.iter().map(|x| x.abs().max()).fold(0.0, f64::max);
        for k in 0..nt {
            for v in 0..4 {
                // The run records f32; the model's own f64 trajectory is compared to 1e-12.
                let recorded = ours[v][k * width] as f64;
                assert!((recorded - book[k][v]).abs() <= 1e-6 * scale, "{jump:?} k {k} v {v}");
                assert!((mine[k][v] - book[k][v]).abs() <= 1e-12 * scale, "{jump:?} k {k} v {v}");
            }
            // u is the control of the sample's own state.
            let u = -(&model.gains.l * &book[k])[(0, 0)];
            assert!((mine[k][8] - u).abs() <= 1e-12 * scale * 100.0, "u at {k}");
        }
        if let Some((ntj, d)) = jump {
            // The book's step ntj shifts its X[:, ntj]: our sample ntj − 1, at T_tj − dt.
            let before = book_loop(&model, nt, None);
            assert!((book[ntj - 1][0] - (before[ntj - 1][0] - d)).abs() < 1e-15);
            assert_eq!(book[ntj - 2], before[ntj - 2]);
            assert!((mine[ntj - 1][0] - (before[ntj - 1][0] - d)).abs() < 1e-12);
        }
    }
}

#[test]
fn cpu_and_gpu_give_the_same_noisy_trials_and_the_same_spread() {
    let (_, net) = shipped(
        "ofc_saccade.toml",
        &["populations.saccade.size=2000", "simulation.precision=\"f32\""],
    );
    let n = net.populations[0].size;
    let cpu = trajectories(&net, &mut CpuBackend::<f32>::new(&net));
    let mut gpu_backend = gpu_backend(&net, &every_variable(&net));
    // The same noise streams: each trial's path agrees to float tolerance.
    let gpu = trajectories(&net, &mut gpu_backend);
    let max_dpos = cpu[0]
        .iter()
        .zip(&gpu[0])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max_dpos < 1e-4, "positions differ by {max_dpos} m");
    // The across-trial spread of position at 100, 200, 400 and 999 ms: the same on both,
    // well within the sampling error of an SD over 2000 trials (about 1.6 %), and non-zero.
    for t in [100usize, 200, 400, 999] {
        let sd = |traces: &[Vec<f32>]| {
            let x: Vec<f64> = (0..n).map(|i| traces[0][t * n + i] as f64).collect();
            let mean = x.iter().sum::<f64>() / n as f64;
            (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        };
        let (a, b) = (sd(&cpu), sd(&gpu));
        assert!(a > 1e-4, "spread at {t} ms: {a}");
        assert!((a - b).abs() < 0.016 * a, "spread at {t} ms: cpu {a}, gpu {b}");
    }
}

#[test]
fn noisy_trials_scatter_around_the_noiseless_solution() {
    let (config, net) = shipped("ofc_saccade.toml", &["populations.saccade.size=2000"]);
    let n = net.populations[0].size;
    let noisy = trajectories(&net, &mut CpuBackend::<f64>::new(&net));
    let reference = saccade(&config).noiseless_trajectory(net.n_steps);
    for t in [100usize, 200, 400, 999] {
        let x: Vec<f64> = (0..n).map(|i| noisy[0][t * n + i] as f64).collect();
        let mean = x.iter().sum::<f64>() / n as f64;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let se = sd / (n as f64).sqrt();
        // The plant is linear: the noises average out, the mean follows the noiseless path.
        assert!((mean - reference[t][0]).abs() < 5.0 * se, "at {t} ms: mean {mean}, noiseless {}", reference[t][0]);
    }
    // Different seeds give different trials.
    let (_, other) = shipped(
        "ofc_saccade.toml",
        &["populations.saccade.size=2000", "simulation.seed=2"],
    );
    let again = trajectories(&other, &mut CpuBackend::<f64>::new(&other));
    assert_ne!(noisy[0][500 * n], again[0][500 * n]);
}

#[test]
fn bad_saccade_parameters_are_refused_by_key() {
    for (set, key) in [
        ("populations.saccade.params.t_a=-0.03", "populations.saccade.params.t_a"),
        ("populations.saccade.params.t_e=0.0", "populations.saccade.params.t_e"),
        ("populations.saccade.params.r=0.0", "populations.saccade.params.r"),
        (
            "populations.saccade.params.target_jump={at_ms=5000.0,distance=0.1}",
            "populations.saccade.params.target_jump.at_ms",
        ),
        ("populations.saccade.params.max_iterations=2", "populations.saccade.params"),
    ] {
        let e = ganglion::config::load(&repo_path("configs/ofc_saccade.toml"), &[set.to_string()])
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("`{key}`")), "{set}: {e}");
    }
    let e = ganglion::config::load(
        &repo_path("configs/ofc_saccade.toml"),
        &["populations.saccade.params.max_iterations=2".to_string()],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("did not converge in 2 iterations"), "{e}");
    // The trials take no synapses.
    let e = ganglion::config::load(
        &repo_path("configs/ofc_saccade.toml"),
        &["projections.p={source=\"saccade\",target=\"saccade\",synapse=\"exp_curr\",params={tau_ms=5.0},connectivity={rule=\"one_to_one\"}}".to_string()],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("projections.p.source") && e.contains("take no synapses"), "{e}");
}

#[test]
fn the_gains_go_to_the_output_file_and_check_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.h5");
    let req = ganglion::app::RunRequest {
        config: repo_path("configs/ofc_target_jump.toml"),
        output: Some(out.clone()),
        ..Default::default()
    };
    ganglion::app::run(&req).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    let l = f.dataset("model/saccade/L").unwrap();
    assert_eq!(l.shape(), vec![1, 4]);
    let k = f.dataset("model/saccade/K").unwrap();
    assert_eq!(k.shape(), vec![4, 3]);
    let config = ganglion::config::load(&repo_path("configs/ofc_target_jump.toml"), &[]).unwrap();
    let gains = saccade(&config).gains;
    let l: Vec<f64> = l.read_raw().unwrap();
    assert_eq!(l, gains.l.iter().copied().collect::<Vec<_>>());
    let iterations: f64 = f.group("model/saccade").unwrap().attr("iterations").unwrap().read_scalar().unwrap();
    assert_eq!(iterations, gains.iterations as f64);
    let units: hdf5::types::VarLenUnicode = f
        .dataset("report/saccade/u/data")
        .unwrap()
        .attr("units")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert_eq!(units.as_str(), "N*m");
    let text = ganglion::app::check(&repo_path("configs/ofc_target_jump.toml"), &[]).unwrap();
    assert!(text.contains("gains after") && text.contains("L = ["), "{text}");
    let png = dir.path().join("trials.png");
    ganglion::plot::trials(&out, None, &png).unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
}
