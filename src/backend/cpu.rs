//! The reference backend: the model's Rust `step` over every neuron, in f64 (the reference)
//! or f32 (to compare with the GPU), parallel over neurons with rayon for large populations.

use super::{Backend, BackendInfo, NetworkState};
use crate::config::{NeuronModel, Precision, SynapseModel};
use crate::connectivity::Weights;
use crate::error::Result;
use crate::model::{graded, hh};
use crate::network::Network;
use crate::real::Real;
use crate::record::{ChunkOutput, Divergence, RecordPlan, Spike};
use crate::rng;
use rayon::prelude::*;

/// Below this many neurons a population is stepped on one thread: rayon's fork–join costs
/// more than the work.
const PARALLEL_MIN_NEURONS: usize = 4096;

struct Population<F> {
    consts: hh::HhConsts<F>,
    vars: Vec<hh::HhVars<F>>,
    spiked: Vec<bool>,
}

struct Projection<F> {
    source: usize,
    target: usize,
    v_rev: F,
    w: F,
    row_ptr: Vec<u32>,
    col_idx: Vec<u32>,
    weights: ProjectionWeights<F>,
}

enum ProjectionWeights<F> {
    Uniform(F),
    PerSynapse(Vec<F>),
}

pub struct CpuBackend<F> {
    dt: F,
    seed_key: [u32; 2],
    step: u64,
    populations: Vec<Population<F>>,
    projections: Vec<Projection<F>>,
    /// Synaptic current per population and neuron for the step being taken.
    i_syn: Vec<Vec<F>>,
}

pub fn create(net: &Network, precision: Precision) -> Box<dyn Backend> {
    match precision {
        Precision::F64 => Box::new(CpuBackend::<f64>::new(net)),
        Precision::F32 => Box::new(CpuBackend::<f32>::new(net)),
    }
}

impl<F: Real> CpuBackend<F> {
    pub fn new(net: &Network) -> Self {
        let populations = net
            .populations
            .iter()
            .map(|p| {
                let NeuronModel::Hh(params) = &p.model;
                let f = |var: usize, i: usize| F::from_f64(p.init[var][i]);
                Population {
                    consts: params.consts(),
                    vars: (0..p.size)
                        .map(|i| hh::HhVars { v: f(0, i), m: f(1, i), h: f(2, i), n: f(3, i), s: f(4, i) })
                        .collect(),
                    spiked: vec![false; p.size],
                }
            })
            .collect();
        let projections = net
            .projections
            .iter()
            .map(|p| {
                let SynapseModel::Graded(g) = &p.synapse;
                Projection {
                    source: p.source,
                    target: p.target,
                    v_rev: F::from_f64(g.v_rev),
                    w: F::from_f64(g.w),
                    row_ptr: p.csr.row_ptr.clone(),
                    col_idx: p.csr.col_idx.clone(),
                    weights: match &p.csr.weights {
                        Weights::Uniform(w) => ProjectionWeights::Uniform(F::from_f64(*w)),
                        Weights::PerSynapse(ws) => ProjectionWeights::PerSynapse(ws.iter().map(|&w| F::from_f64(w)).collect()),
                    },
                }
            })
            .collect();
        CpuBackend {
            dt: F::from_f64(net.dt_ms),
            seed_key: rng::seed_key(net.seed),
            step: 0,
            populations,
            projections,
            i_syn: net.populations.iter().map(|p| vec![F::zero(); p.size]).collect(),
        }
    }

    /// I_syn of every target neuron from the current state, projection by projection in
    /// config order, each row summed in column order (as the coupling shader does).
    fn compute_coupling(&mut self) {
        for i_syn in &mut self.i_syn {
            i_syn.iter_mut().for_each(|x| *x = F::zero());
        }
        for proj in &self.projections {
            let source = &self.populations[proj.source].vars;
            let target = &self.populations[proj.target].vars;
            let row_current = |(i, i_syn): (usize, &mut F)| {
                let (start, end) = (proj.row_ptr[i] as usize, proj.row_ptr[i + 1] as usize);
                let mut sum_es = F::zero();
                for k in start..end {
                    let e = match &proj.weights {
                        ProjectionWeights::Uniform(w) => *w,
                        ProjectionWeights::PerSynapse(ws) => ws[k],
                    };
                    sum_es = sum_es + e * source[proj.col_idx[k] as usize].s;
                }
                *i_syn = *i_syn + graded::current(proj.v_rev, proj.w, target[i].v, sum_es);
            };
            let out = &mut self.i_syn[proj.target];
            if out.len() >= PARALLEL_MIN_NEURONS {
                out.par_iter_mut().enumerate().for_each(row_current);
            } else {
                out.iter_mut().enumerate().for_each(row_current);
            }
        }
    }

    fn record_traces(&self, plan: &RecordPlan, out: &mut ChunkOutput) {
        for (t, chunk) in plan.traces.iter().zip(out.traces.iter_mut()) {
            if self.step % t.every != 0 {
                continue;
            }
            let vars = &self.populations[t.population].vars;
            for (&var, buf) in t.variables.iter().zip(chunk.data.iter_mut()) {
                buf.extend(t.neurons.iter().map(|&i| {
                    let x = &vars[i as usize];
                    [x.v, x.m, x.h, x.n, x.s][var].to_f64() as f32
                }));
            }
        }
    }

    /// One step of every population; returns the first neuron whose V became non-finite.
    fn advance(&mut self, plan: &RecordPlan, out: &mut ChunkOutput) -> Option<Divergence> {
        self.compute_coupling();
        let (dt, key, step) = (self.dt, self.seed_key, self.step);
        let mut diverged = None;
        for (p_idx, (pop, i_syn)) in self.populations.iter_mut().zip(&self.i_syn).enumerate() {
            let consts = pop.consts;
            let noisy = consts.noise_sigma != F::zero();
            let update = |(i, ((x, &i_syn), spiked)): (usize, ((&mut hh::HhVars<F>, &F), &mut bool))| {
                let xi = if noisy {
                    rng::normal_draw(key, i as u32, step, p_idx as u32, rng::stream::VOLTAGE_NOISE)
                } else {
                    F::zero()
                };
                *spiked = hh::step(&consts, x, i_syn, xi, dt);
            };
            if pop.vars.len() >= PARALLEL_MIN_NEURONS {
                pop.vars
                    .par_iter_mut()
                    .zip(i_syn.par_iter())
                    .zip(pop.spiked.par_iter_mut())
                    .enumerate()
                    .for_each(update);
            } else {
                pop.vars.iter_mut().zip(i_syn.iter()).zip(pop.spiked.iter_mut()).enumerate().for_each(update);
            }
            if plan.spikes[p_idx] {
                let spikes = &mut out.spikes[p_idx];
                spikes.extend(pop.spiked.iter().enumerate().filter(|(_, &s)| s).map(|(i, _)| Spike { step, neuron: i as u32 }));
            }
            if diverged.is_none() {
                if let Some(i) = pop.vars.iter().position(|x| !x.v.is_finite()) {
                    diverged = Some(Divergence { population: p_idx, neuron: i as u32, step });
                }
            }
        }
        self.step += 1;
        diverged
    }
}

impl<F: Real> Backend for CpuBackend<F> {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            kind: "cpu",
            device: format!("{} threads", rayon::current_num_threads()),
            precision: if std::mem::size_of::<F>() == 4 { Precision::F32 } else { Precision::F64 },
        }
    }

    fn run_chunk(&mut self, plan: &RecordPlan, out: &mut ChunkOutput) -> Result<()> {
        debug_assert_eq!(out.first_step, self.step);
        for done in 0..out.n_steps {
            self.record_traces(plan, out);
            if let Some(d) = self.advance(plan, out) {
                out.diverged = Some(d);
                out.n_steps = done + 1;
                for (t, chunk) in plan.traces.iter().zip(out.traces.iter_mut()) {
                    chunk.n_samples = crate::record::samples_in(out.first_step, out.n_steps, t.every) as usize;
                }
                break;
            }
        }
        Ok(())
    }

    fn read_state(&mut self) -> Result<NetworkState> {
        Ok(self
            .populations
            .iter()
            .map(|p| {
                let col = |f: fn(&hh::HhVars<F>) -> F| p.vars.iter().map(|x| f(x).to_f64()).collect::<Vec<f64>>();
                vec![col(|x| x.v), col(|x| x.m), col(|x| x.h), col(|x| x.n), col(|x| x.s)]
            })
            .collect())
    }
}
