//! `ganglion validate`: the same network on the GPU and on the CPU reference, run in lockstep
//! chunk by chunk, compared population by population.

use crate::backend::cpu;
use crate::backend::gpu::GpuBackend;
use crate::backend::Backend;
use crate::config::{Config, Precision};
use crate::error::Result;
use crate::network::Network;
use crate::record::{ChunkOutput, RecordPlan, TracePlan, TraceVar};
use crate::simulator::chunk_steps;

/// Neurons per population whose V is compared at every step.
const TRACED_NEURONS: usize = 256;

#[derive(Clone, Debug)]
pub struct Tolerances {
    /// Largest allowed difference of any neuron's spike count.
    pub max_count_diff: u64,
    /// Largest allowed |ΔV| (mV) before the first spike-time divergence.
    pub max_dv_mv: f64,
    /// For trains that diverged (chaotic networks): largest relative difference of the mean
    /// rate, and of the mean ISI CV, for the runs to count as the same network statistically.
    pub max_rate_rel: f64,
    pub max_cv_rel: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            max_count_diff: 1,
            max_dv_mv: 1.0,
            max_rate_rel: 0.05,
            max_cv_rel: 0.10,
        }
    }
}

/// Which criterion a population met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Spike counts and voltages within the exact tolerances.
    Exact,
    /// The trains diverged, but rate and ISI CV agree within the statistical tolerances.
    Statistical,
    Fail,
}

#[derive(Clone, Debug)]
pub struct Comparison {
    pub population: String,
    pub neurons: usize,
    pub spikes_cpu: usize,
    pub spikes_gpu: usize,
    pub neurons_with_equal_counts: usize,
    pub max_count_diff: u64,
    /// Over spikes paired by rank within each neuron's train.
    pub max_dt_ms: f64,
    pub mean_dt_ms: f64,
    /// The first time the spike trains differ at all, by a step or more (None: never).
    pub first_divergence_ms: Option<f64>,
    /// Max |ΔV| of the traced neurons at samples before the network's first divergence (V:
    /// the model's first variable).
    pub max_dv_mv: f64,
    /// The unit of that first variable (mV for the neuron models).
    pub v_unit: &'static str,
    pub rate_cpu_hz: f64,
    pub rate_gpu_hz: f64,
    pub cv_cpu: f64,
    pub cv_gpu: f64,
    pub verdict: Verdict,
}

impl Comparison {
    pub fn pass(&self) -> bool {
        self.verdict != Verdict::Fail
    }
}

fn trains(n: usize, spikes: &[crate::record::Spike], dt: f64) -> Vec<Vec<f64>> {
    let mut t = vec![Vec::new(); n];
    for s in spikes {
        t[s.neuron as usize].push((s.step + 1) as f64 * dt);
    }
    t
}

fn pairs(spikes: &[crate::record::Spike], dt: f64) -> Vec<(f64, u64)> {
    spikes
        .iter()
        .map(|s| ((s.step + 1) as f64 * dt, s.neuron as u64))
        .collect()
}

/// Compares two runs' spikes and per-sample max |ΔV| of one population. `horizon_ms` limits
/// the |ΔV| to the samples before it (the network's first divergence, which may lie in
/// another population); None uses this population's own.
#[allow(clippy::too_many_arguments)]
pub fn compare(
    name: &str,
    n: usize,
    dt: f64,
    cpu_spikes: &[crate::record::Spike],
    gpu_spikes: &[crate::record::Spike],
    max_dv_per_step: &[f64],
    horizon_ms: Option<f64>,
    tol: &Tolerances,
) -> Comparison {
    let (a, b) = (trains(n, cpu_spikes, dt), trains(n, gpu_spikes, dt));
    let (mut max_dt, mut sum_dt, mut paired, mut equal, mut max_count) =
        (0.0f64, 0.0, 0usize, 0usize, 0u64);
    let mut first_div: Option<f64> = None;
    let mut note = |t: f64| first_div = Some(first_div.map_or(t, |f: f64| f.min(t)));
    for (ta, tb) in a.iter().zip(&b) {
        let diff = ta.len().abs_diff(tb.len()) as u64;
        max_count = max_count.max(diff);
        equal += (diff == 0) as usize;
        for (x, y) in ta.iter().zip(tb) {
            let d = (x - y).abs();
            max_dt = max_dt.max(d);
            sum_dt += d;
            paired += 1;
            if d > dt * 0.5 {
                note(x.min(*y));
            }
        }
        if diff > 0 {
            let extra = if ta.len() > tb.len() {
                ta[tb.len()]
            } else {
                tb[ta.len()]
            };
            note(extra);
        }
    }
    let until = match (horizon_ms, first_div) {
        (Some(h), Some(f)) => Some(h.min(f)),
        (h, f) => h.or(f),
    };
    let horizon = until.map_or(max_dv_per_step.len(), |t| {
        ((t / dt).floor() as usize).min(max_dv_per_step.len())
    });
    let max_dv = max_dv_per_step[..horizon]
        .iter()
        .copied()
        .fold(0.0, f64::max);
    let duration = max_dv_per_step.len().max(1) as f64 * dt;
    let stats_cpu = crate::stats::spike_stats(name, n, duration, &pairs(cpu_spikes, dt), 100.0);
    let stats_gpu = crate::stats::spike_stats(name, n, duration, &pairs(gpu_spikes, dt), 100.0);
    let rel = |a: f64, b: f64| {
        if a == b {
            0.0
        } else {
            (a - b).abs() / a.abs().max(b.abs())
        }
    };
    let exact = max_count <= tol.max_count_diff && max_dv <= tol.max_dv_mv;
    let cv_close = (stats_cpu.isi_cv.is_nan() && stats_gpu.isi_cv.is_nan())
        || rel(stats_cpu.isi_cv, stats_gpu.isi_cv) <= tol.max_cv_rel;
    let statistical = first_div.is_some()
        && rel(stats_cpu.mean_rate_hz, stats_gpu.mean_rate_hz) <= tol.max_rate_rel
        && cv_close;
    Comparison {
        population: name.to_string(),
        neurons: n,
        spikes_cpu: cpu_spikes.len(),
        spikes_gpu: gpu_spikes.len(),
        neurons_with_equal_counts: equal,
        max_count_diff: max_count,
        max_dt_ms: max_dt,
        mean_dt_ms: if paired > 0 {
            sum_dt / paired as f64
        } else {
            0.0
        },
        first_divergence_ms: first_div,
        max_dv_mv: max_dv,
        v_unit: "mV",
        rate_cpu_hz: stats_cpu.mean_rate_hz,
        rate_gpu_hz: stats_gpu.mean_rate_hz,
        cv_cpu: stats_cpu.isi_cv,
        cv_gpu: stats_gpu.isi_cv,
        verdict: if exact {
            Verdict::Exact
        } else if statistical {
            Verdict::Statistical
        } else {
            Verdict::Fail
        },
    }
}

/// Runs `config` on the GPU and on the CPU in `cpu_precision`, and compares them.
pub fn validate(
    config: &Config,
    cpu_precision: Precision,
    tol: &Tolerances,
) -> Result<Vec<Comparison>> {
    let net = Network::build(config)?;
    let plan = RecordPlan {
        spikes: vec![true; net.populations.len()],
        rates: vec![false; net.populations.len()],
        traces: net
            .populations
            .iter()
            .enumerate()
            .map(|(p, pop)| TracePlan {
                population: p,
                when: crate::record::Sampled::Start,
                projection: None,
                variables: vec![TraceVar::State(0)],
                names: vec!["v".into()],
                neurons: (0..pop.size.min(TRACED_NEURONS) as u32).collect(),
                every: 1,
                subgroup: None,
            })
            .collect(),
        ..Default::default()
    };
    let mut gpu = GpuBackend::with_options(
        &net,
        &plan,
        config.simulation.adapter.as_deref(),
        crate::backend::gpu::GpuOptions::of(&config.simulation),
    )?;
    let mut cpu = cpu::create(&net, cpu_precision)?;
    let chunk = chunk_steps(&net, &plan, config.simulation.chunk_steps);
    let mut spikes = vec![(Vec::new(), Vec::new()); net.populations.len()];
    let mut max_dv = vec![Vec::with_capacity(net.n_steps as usize); net.populations.len()];
    let mut step = 0;
    while step < net.n_steps {
        let n = chunk.min(net.n_steps - step);
        let (mut a, mut b) = (
            ChunkOutput::new(&plan, step, n),
            ChunkOutput::new(&plan, step, n),
        );
        cpu.run_chunk(&plan, &mut a)?;
        gpu.run_chunk(&plan, &mut b)?;
        for p in 0..net.populations.len() {
            spikes[p].0.extend_from_slice(&a.spikes[p]);
            spikes[p].1.extend_from_slice(&b.spikes[p]);
            let width = plan.traces[p].neurons.len();
            let (va, vb) = (&a.traces[p].data[0], &b.traces[p].data[0]);
            // A model written as equations keeps V in volt: compared in mV as the others.
            let to_mv = if net.populations[p].variables()[0].unit == "volt" { 1e3 } else { 1.0 };
            for (ra, rb) in va.chunks(width).zip(vb.chunks(width)) {
                let dv = ra
                    .iter()
                    .zip(rb)
                    .map(|(x, y)| (x - y).abs() as f64 * to_mv)
                    .fold(
                        0.0,
                        |m, d| if d.is_nan() { f64::INFINITY } else { m.max(d) },
                    );
                max_dv[p].push(dv);
            }
        }
        if a.diverged.is_some() || b.diverged.is_some() {
            break;
        }
        step += n;
    }
    let compare_all = |horizon: Option<f64>| -> Vec<Comparison> {
        net.populations
            .iter()
            .enumerate()
            .map(|(p, pop)| Comparison {
                v_unit: match pop.variables()[0].unit {
                    "volt" => "mV",
                    unit => unit,
                },
                ..compare(
                    &pop.name,
                    pop.size,
                    net.dt_ms,
                    &spikes[p].0,
                    &spikes[p].1,
                    &max_dv[p],
                    horizon,
                    tol,
                )
            })
            .collect()
    };
    let first = compare_all(None)
        .iter()
        .filter_map(|c| c.first_divergence_ms)
        .reduce(f64::min);
    Ok(compare_all(first))
}

pub fn table(rows: &[Comparison], tol: &Tolerances) -> String {
    let mut s = format!(
        "{:<12} {:>8} {:>10} {:>10} {:>11} {:>8} {:>10} {:>10} {:>13} {:>9}       {:>17} {:>13}  {}\n",
        "population",
        "neurons",
        "spikes cpu",
        "spikes gpu",
        "equal count",
        "max |Δn|",
        "max |Δt|",
        "mean |Δt|",
        "diverges at",
        "max |ΔV|",
        "rate cpu/gpu Hz",
        "CV cpu/gpu",
        "result"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<12} {:>8} {:>10} {:>10} {:>11} {:>8} {:>7.3} ms {:>7.4} ms {:>13} {:>9.3e} {:<5} {:>8.2}/{:<8.2} {:>6.3}/{:<6.3}  {}\n",
            r.population,
            r.neurons,
            r.spikes_cpu,
            r.spikes_gpu,
            r.neurons_with_equal_counts,
            r.max_count_diff,
            r.max_dt_ms,
            r.mean_dt_ms,
            r.first_divergence_ms.map_or("never".to_string(), |t| format!("{t:.2} ms")),
            r.max_dv_mv,
            r.v_unit,
            r.rate_cpu_hz,
            r.rate_gpu_hz,
            r.cv_cpu,
            r.cv_gpu,
            match r.verdict {
                Verdict::Exact => "PASS",
                Verdict::Statistical => "PASS (statistical)",
                Verdict::Fail => "FAIL",
            }
        ));
    }
    s.push_str(&format!(
        "tolerances: per-neuron spike count within {} and |ΔV| (of the first variable) before the network's first spike-time divergence within {} of its unit; \
         or, once the trains diverged, mean rate within {:.0}% and ISI CV within {:.0}%\n",
        tol.max_count_diff,
        tol.max_dv_mv,
        100.0 * tol.max_rate_rel,
        100.0 * tol.max_cv_rel
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Spike;

    #[test]
    fn identical_runs_pass_and_a_missing_spike_fails() {
        let a = vec![
            Spike { step: 9, neuron: 0 },
            Spike {
                step: 19,
                neuron: 1,
            },
        ];
        let tol = Tolerances::default();
        let same = compare("p", 2, 0.1, &a, &a, &[0.0; 30], None, &tol);
        assert!(
            same.verdict == Verdict::Exact
                && same.first_divergence_ms.is_none()
                && same.max_dt_ms == 0.0
        );
        let b = vec![
            Spike { step: 9, neuron: 0 },
            Spike {
                step: 19,
                neuron: 1,
            },
            Spike {
                step: 25,
                neuron: 1,
            },
            Spike {
                step: 28,
                neuron: 1,
            },
        ];
        let shifted = vec![
            Spike {
                step: 10,
                neuron: 0,
            },
            Spike {
                step: 19,
                neuron: 1,
            },
        ];
        let one_step = compare("p", 2, 0.1, &a, &shifted, &[0.0; 30], None, &tol);
        assert_eq!(one_step.first_divergence_ms, Some(1.0));
        assert!(
            one_step.pass(),
            "a one-step shift is within the count tolerance"
        );
        let off = compare("p", 2, 0.1, &a, &b, &[0.0; 30], None, &tol);
        assert_eq!(off.max_count_diff, 2);
        assert_eq!(
            off.verdict,
            Verdict::Fail,
            "twice the spikes is not the same network"
        );
        assert!((off.first_divergence_ms.unwrap() - 2.6).abs() < 1e-9);
    }

    #[test]
    fn voltage_error_counts_only_before_the_divergence() {
        let a = vec![Spike { step: 9, neuron: 0 }];
        let b = vec![Spike {
            step: 14,
            neuron: 0,
        }];
        let mut dv = vec![0.01; 30];
        dv[20] = 50.0; // after the divergence at t = 1.0 ms: ignored
        let c = compare("p", 1, 0.1, &a, &b, &dv, None, &Tolerances::default());
        assert_eq!(c.first_divergence_ms, Some(1.0));
        assert!((c.max_dv_mv - 0.01).abs() < 1e-12);
        dv[5] = 3.0;
        let earlier = compare("p", 1, 0.1, &a, &b, &dv, Some(0.4), &Tolerances::default());
        assert!(
            (earlier.max_dv_mv - 0.01).abs() < 1e-12,
            "a divergence elsewhere in the network ends the comparison"
        );
    }
}
