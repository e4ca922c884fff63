//! `ganglion validate`: the same network on the GPU and on the CPU reference, run in lockstep
//! chunk by chunk, compared population by population.

use crate::backend::cpu;
use crate::backend::gpu::GpuBackend;
use crate::backend::Backend;
use crate::config::{Config, Precision};
use crate::error::Result;
use crate::network::Network;
use crate::record::{ChunkOutput, RecordPlan, TracePlan};
use crate::simulator::chunk_steps;

/// Neurons per population whose V is compared at every step.
const TRACED_NEURONS: usize = 256;

#[derive(Clone, Debug)]
pub struct Tolerances {
    /// Largest allowed difference of any neuron's spike count.
    pub max_count_diff: u64,
    /// Largest allowed |ΔV| (mV) before the first spike-time divergence.
    pub max_dv_mv: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances { max_count_diff: 1, max_dv_mv: 1.0 }
    }
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
    /// Max |ΔV| of the traced neurons at samples before the first divergence.
    pub max_dv_mv: f64,
    pub pass: bool,
}

fn trains(n: usize, spikes: &[crate::record::Spike], dt: f64) -> Vec<Vec<f64>> {
    let mut t = vec![Vec::new(); n];
    for s in spikes {
        t[s.neuron as usize].push((s.step + 1) as f64 * dt);
    }
    t
}

/// Compares two runs' spikes and per-sample max |ΔV| of one population.
pub fn compare(
    name: &str,
    n: usize,
    dt: f64,
    cpu_spikes: &[crate::record::Spike],
    gpu_spikes: &[crate::record::Spike],
    max_dv_per_step: &[f64],
    tol: &Tolerances,
) -> Comparison {
    let (a, b) = (trains(n, cpu_spikes, dt), trains(n, gpu_spikes, dt));
    let (mut max_dt, mut sum_dt, mut paired, mut equal, mut max_count) = (0.0f64, 0.0, 0usize, 0usize, 0u64);
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
            let extra = if ta.len() > tb.len() { ta[tb.len()] } else { tb[ta.len()] };
            note(extra);
        }
    }
    let horizon = first_div.map_or(max_dv_per_step.len(), |t| ((t / dt).floor() as usize).min(max_dv_per_step.len()));
    let max_dv = max_dv_per_step[..horizon].iter().copied().fold(0.0, f64::max);
    Comparison {
        population: name.to_string(),
        neurons: n,
        spikes_cpu: cpu_spikes.len(),
        spikes_gpu: gpu_spikes.len(),
        neurons_with_equal_counts: equal,
        max_count_diff: max_count,
        max_dt_ms: max_dt,
        mean_dt_ms: if paired > 0 { sum_dt / paired as f64 } else { 0.0 },
        first_divergence_ms: first_div,
        max_dv_mv: max_dv,
        pass: max_count <= tol.max_count_diff && max_dv <= tol.max_dv_mv,
    }
}

/// Runs `config` on the GPU and on the CPU in `cpu_precision`, and compares them.
pub fn validate(config: &Config, cpu_precision: Precision, tol: &Tolerances) -> Result<Vec<Comparison>> {
    let net = Network::build(config)?;
    let plan = RecordPlan {
        spikes: vec![true; net.populations.len()],
        traces: net
            .populations
            .iter()
            .enumerate()
            .map(|(p, pop)| TracePlan {
                population: p,
                variables: vec![0],
                neurons: (0..pop.size.min(TRACED_NEURONS) as u32).collect(),
                every: 1,
            })
            .collect(),
    };
    let mut gpu = GpuBackend::with_plan(&net, &plan, config.simulation.adapter.as_deref())?;
    let mut cpu = cpu::create(&net, cpu_precision);
    let chunk = chunk_steps(&net, &plan, config.simulation.chunk_steps);
    let mut spikes = vec![(Vec::new(), Vec::new()); net.populations.len()];
    let mut max_dv = vec![Vec::with_capacity(net.n_steps as usize); net.populations.len()];
    let mut step = 0;
    while step < net.n_steps {
        let n = chunk.min(net.n_steps - step);
        let (mut a, mut b) = (ChunkOutput::new(&plan, step, n), ChunkOutput::new(&plan, step, n));
        cpu.run_chunk(&plan, &mut a)?;
        gpu.run_chunk(&plan, &mut b)?;
        for p in 0..net.populations.len() {
            spikes[p].0.extend_from_slice(&a.spikes[p]);
            spikes[p].1.extend_from_slice(&b.spikes[p]);
            let width = plan.traces[p].neurons.len();
            let (va, vb) = (&a.traces[p].data[0], &b.traces[p].data[0]);
            for (ra, rb) in va.chunks(width).zip(vb.chunks(width)) {
                let dv = ra.iter().zip(rb).map(|(x, y)| (x - y).abs() as f64).fold(0.0, |m, d| if d.is_nan() { f64::INFINITY } else { m.max(d) });
                max_dv[p].push(dv);
            }
        }
        if a.diverged.is_some() || b.diverged.is_some() {
            break;
        }
        step += n;
    }
    Ok(net
        .populations
        .iter()
        .enumerate()
        .map(|(p, pop)| compare(&pop.name, pop.size, net.dt_ms, &spikes[p].0, &spikes[p].1, &max_dv[p], tol))
        .collect())
}

pub fn table(rows: &[Comparison], tol: &Tolerances) -> String {
    let mut s = format!(
        "{:<12} {:>8} {:>10} {:>10} {:>11} {:>8} {:>10} {:>10} {:>13} {:>10}  {}\n",
        "population", "neurons", "spikes cpu", "spikes gpu", "equal count", "max |Δn|", "max |Δt|", "mean |Δt|", "diverges at", "max |ΔV|", "result"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<12} {:>8} {:>10} {:>10} {:>11} {:>8} {:>7.3} ms {:>7.4} ms {:>13} {:>7.4} mV  {}\n",
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
            if r.pass { "PASS" } else { "FAIL" }
        ));
    }
    s.push_str(&format!(
        "tolerances: per-neuron spike count within {}, |ΔV| before the first spike-time divergence within {} mV\n",
        tol.max_count_diff, tol.max_dv_mv
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Spike;

    #[test]
    fn identical_runs_pass_and_a_missing_spike_fails() {
        let a = vec![Spike { step: 9, neuron: 0 }, Spike { step: 19, neuron: 1 }];
        let tol = Tolerances::default();
        let same = compare("p", 2, 0.1, &a, &a, &[0.0; 30], &tol);
        assert!(same.pass && same.first_divergence_ms.is_none() && same.max_dt_ms == 0.0);
        let b = vec![Spike { step: 9, neuron: 0 }, Spike { step: 19, neuron: 1 }, Spike { step: 25, neuron: 1 }, Spike { step: 28, neuron: 1 }];
        let shifted = vec![Spike { step: 10, neuron: 0 }, Spike { step: 19, neuron: 1 }];
        let one_step = compare("p", 2, 0.1, &a, &shifted, &[0.0; 30], &tol);
        assert_eq!(one_step.first_divergence_ms, Some(1.0));
        assert!(one_step.pass, "a one-step shift is within the count tolerance");
        let off = compare("p", 2, 0.1, &a, &b, &[0.0; 30], &tol);
        assert_eq!(off.max_count_diff, 2);
        assert!(!off.pass);
        assert!((off.first_divergence_ms.unwrap() - 2.6).abs() < 1e-9);
    }

    #[test]
    fn voltage_error_counts_only_before_the_divergence() {
        let a = vec![Spike { step: 9, neuron: 0 }];
        let b = vec![Spike { step: 14, neuron: 0 }];
        let mut dv = vec![0.01; 30];
        dv[20] = 50.0; // after the divergence at t = 1.0 ms: ignored
        let c = compare("p", 1, 0.1, &a, &b, &dv, &Tolerances::default());
        assert_eq!(c.first_divergence_ms, Some(1.0));
        assert!((c.max_dv_mv - 0.01).abs() < 1e-12);
    }
}
