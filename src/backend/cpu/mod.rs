//! The reference backend: each model's Rust `step` over every neuron, in f64 (the reference)
//! or f32 (to compare with the GPU), parallel over neurons with rayon for large populations.
//!
//! One step, in the order the GPU backend follows too: record the traces due at t_k; gather
//! every projection's synaptic input from the state at t_k (graded, then event-driven, each in
//! config order); update every
//! population; push the step's spikes into the event-driven synapses' delay rings.

mod equations;

use super::{Backend, BackendInfo, NetworkState};
use equations::{Draws, EquationProjection};
use crate::config::{Precision, SynapseModel};
use crate::connectivity::Weights;
use crate::error::Result;
use crate::model::exp_synapse::{self, ExpKind};
use crate::model::{graded, CpuStep, Noise, SynInput};
use crate::network::{LinkCopy, Network};
use crate::real::Real;
use crate::record::{ChunkOutput, Divergence, RecordPlan, Sampled, Spike, TraceVar};
use crate::procedural;
use crate::rng;
use rayon::prelude::*;

/// Below this many neurons a population is stepped on one thread: rayon's fork–join costs
/// more than the work.
const PARALLEL_MIN_NEURONS: usize = 4096;


struct Population<F> {
    model: Box<dyn CpuStep<F>>,
    n_vars: usize,
    /// Variable k of neuron i at i·n_vars + k: each neuron's state in one slice.
    vars: Vec<F>,
    spiked: Vec<bool>,
    /// The spikes and custom events of the last `spike_slots` steps, step k in slot k mod
    /// spike_slots, a word per neuron (bit 0 the spike, bit 1 + e event e, as on the GPU), for
    /// the synapses written as equations (empty where none leaves the population or reads
    /// its events or delayed spikes).
    ring: Vec<u32>,
    spike_slots: u64,
    /// Neurons per instance (Brian2's `N`: the population's size, or its share of a batch's).
    instance_size: u32,
    /// The flag slot of each custom event of its model (`equations::events`).
    event_flags: Vec<usize>,
    /// Its model's subexpression slots, which the update does not keep current.
    subexpressions: Vec<usize>,
}

impl<F: Real> Population<F> {
    fn var(&self, neuron: usize, k: usize) -> F {
        self.vars[neuron * self.n_vars + k]
    }

    fn neuron(&self, i: usize) -> &[F] {
        &self.vars[i * self.n_vars..(i + 1) * self.n_vars]
    }

    /// Neuron i's values of `slots` now (with a spike or an event), a subexpression among
    /// them computed from the others as the refresh for a trace computes it.
    fn values_of(&self, i: usize, slots: &[usize], noise: &Noise, out: &mut Vec<f32>) {
        if slots.iter().any(|k| self.subexpressions.contains(k)) {
            let mut x = self.neuron(i).to_vec();
            self.model.refresh(&mut x, noise);
            out.extend(slots.iter().map(|&k| x[k].to_f64() as f32));
        } else {
            out.extend(slots.iter().map(|&k| self.var(i, k).to_f64() as f32));
        }
    }
}

struct GradedProjection<F> {
    source: usize,
    /// The source variable summed (its activation S).
    activation: usize,
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

struct EventProjection<F> {
    source: usize,
    target: usize,
    kind: ExpKind,
    e_rev: F,
    decay: F,
    inv_scale: F,
    delay_steps: u64,
    slots: u64,
    /// Outgoing synapses by source neuron.
    row_ptr: Vec<u32>,
    col_idx: Vec<u32>,
    /// One fixed-point weight for all synapses, or one per synapse.
    fixed_weights: Vec<i32>,
    g: Vec<F>,
    /// Arrivals per (slot, target neuron), summed in fixed point.
    pending: Vec<i32>,
}

enum Projection<F> {
    Graded(GradedProjection<F>),
    Event(EventProjection<F>),
    Equation(Box<EquationProjection<F>>),
}

/// A batch of neurons as the update loop sees it: batch index, states, synaptic inputs,
/// spike flags.
type NeuronBatch<'a, F> = (usize, ((&'a mut [F], &'a [SynInput<F>]), &'a mut [bool]));

/// Neurons per call of a model's `step_batch`.
const BATCH: usize = crate::equations::vm::BATCH;

pub struct CpuBackend<F> {
    dt: F,
    seed_key: [u32; 2],
    step: u64,
    populations: Vec<Population<F>>,
    projections: Vec<Projection<F>>,
    /// Synaptic input per population and neuron for the step being taken. Kept beside the
    /// populations so the coupling can read a source's state while writing a target's input,
    /// even within one population.
    syn: Vec<Vec<SynInput<F>>>,
}

/// The CPU reference for `net` in `precision`; refused where a procedural projection holds
/// more synapses than the stored matrix it draws them into can index (32 bits).
pub fn create(net: &Network, precision: Precision) -> crate::error::Result<Box<dyn Backend>> {
    for p in net.projections.iter().filter(|p| p.procedural.is_some()) {
        let rows = p.event.as_ref().map_or(&p.csr, |e| &e.by_source);
        let synapses = crate::procedural::synapses(&rows.row_ptr);
        if synapses > u64::from(u32::MAX) {
            return Err(crate::error::Error::TooLarge(format!(
                "projection `{}`: {synapses} procedural synapses, but the CPU reference draws them into a stored matrix of at most {} (32-bit indices); run it on the GPU, which draws them every step",
                p.name,
                u32::MAX
            )));
        }
    }
    Ok(match precision {
        Precision::F64 => Box::new(CpuBackend::<f64>::new(net)),
        Precision::F32 => Box::new(CpuBackend::<f32>::new(net)),
    })
}

fn par_or_seq<T: Send, I: Fn((usize, &mut T)) + Sync + Send>(items: &mut [T], f: I) {
    if items.len() >= PARALLEL_MIN_NEURONS {
        items.par_iter_mut().enumerate().for_each(f);
    } else {
        items.iter_mut().enumerate().for_each(f);
    }
}

impl<F: Real> CpuBackend<F> {
    pub fn new(net: &Network) -> Self {
        let populations = net
            .populations
            .iter()
            .enumerate()
            .map(|(index, p)| {
                let model = crate::model::cpu_step::<F>(p.model.as_ref());
                let n_vars = p.variables().len();
                let vars = (0..p.size)
                    .flat_map(|i| p.init.iter().map(move |column| F::from_f64(column[i])))
                    .collect();
                let spike_slots = net.spike_slots(index) as u64;
                let keeps_ring = net
                    .projections
                    .iter()
                    .any(|q| (q.source == index && q.equation.is_some() && q.link.is_none()) || (q.target == index && q.equation.as_ref().is_some_and(|e| e.max_post_delay() > 0 || e.post_event > 0)));
                Population {
                    model,
                    n_vars,
                    vars,
                    spiked: vec![false; p.size],
                    ring: if keeps_ring { vec![0; p.size * spike_slots as usize] } else { Vec::new() },
                    spike_slots,
                    instance_size: net.instance_size(index) as u32,
                    event_flags: p.model.kind().equations().map(|m| m.events.iter().map(|e| e.flag).collect()).unwrap_or_default(),
                    subexpressions: p.model.kind().equations().map_or_else(Vec::new, |m| {
                        m.vars.iter().enumerate().filter(|(_, v)| v.kind == crate::equations::neuron::VarKind::Subexpression).map(|(k, _)| k).collect()
                    }),
                }
            })
            .collect();
        let projections = net
            .projections
            .iter()
            .enumerate()
            .map(|(index, p)| match (&p.synapse, p.source_activation, &p.event) {
                (SynapseModel::Equations(program), _, _) => Projection::Equation(Box::new(
                    EquationProjection::new(p, program, net.dt_ms * 1e-3, Draws::of(net, index)),
                )),
                (SynapseModel::Graded(g), Some(activation), _) => {
                    // A procedural projection's rows (and drawn weights), drawn once: the same
                    // sources in the same order, the same weights, as the GPU draws every step.
                    let stored = p.stored();
                    Projection::Graded(GradedProjection {
                        source: p.source,
                        activation,
                        target: p.target,
                        v_rev: F::from_f64(g.v_rev),
                        w: F::from_f64(g.w),
                        row_ptr: stored.row_ptr.clone(),
                        col_idx: stored.col_idx.clone(),
                        weights: match &stored.weights {
                            Weights::Uniform(w) => ProjectionWeights::Uniform(F::from_f64(*w)),
                            Weights::PerSynapse(ws) => ProjectionWeights::PerSynapse(
                                ws.iter().map(|&w| F::from_f64(w)).collect(),
                            ),
                        },
                    })
                }
                (_, _, Some(e)) => {
                    // A procedural projection's rows by source, drawn once as the GPU draws
                    // them on each spike, and their drawn weights in fixed point.
                    let drawn = p.procedural.as_ref().map(|rows| rows.materialize(&e.by_source.row_ptr, 0.0));
                    let fixed_weights = match drawn.as_ref().map(|d| &d.weights) {
                        Some(Weights::PerSynapse(ws)) => {
                            ws.iter().map(|&w| procedural::to_fixed(w as f32, e.fixed_scale)).collect()
                        }
                        _ => e.fixed_weights.clone(),
                    };
                    Projection::Event(EventProjection {
                        source: p.source,
                        target: p.target,
                        kind: e.synapse.kind,
                        e_rev: F::from_f64(e.synapse.e_rev),
                        decay: F::from_f64(e.synapse.decay(net.dt_ms)),
                        inv_scale: F::from_f64(1.0 / e.fixed_scale),
                        delay_steps: e.synapse.delay_steps as u64,
                        slots: e.synapse.ring_slots() as u64,
                        row_ptr: e.by_source.row_ptr.clone(),
                        col_idx: drawn.map_or_else(|| e.by_source.col_idx.clone(), |d| d.col_idx),
                        fixed_weights,
                        g: e.g0.iter().map(|&g| F::from_f64(g)).collect(),
                        pending: vec![0; e.synapse.ring_slots() as usize * p.csr.n_rows],
                    })
                }
                (_, _, None) => unreachable!("graded projections carry their activation, event-driven ones their event data"),
            })
            .collect();
        CpuBackend {
            dt: F::from_f64(net.dt_ms),
            seed_key: rng::seed_key(net.seed),
            step: 0,
            populations,
            projections,
            syn: net
                .populations
                .iter()
                .map(|p| vec![SynInput::zero(); p.size])
                .collect(),
        }
    }

    /// Every neuron's synaptic input from the state at t_k: the graded projections, then the
    /// event-driven ones, each kind in config order, as the GPU adds them (its coupling
    /// kernels run before the updates, which deliver the events). Graded rows are summed in
    /// column order.
    fn gather_synaptic_input(&mut self) {
        for syn in &mut self.syn {
            syn.iter_mut().for_each(|s| *s = SynInput::zero());
        }
        let step = self.step;
        // Two passes over the projections rather than a reordered copy: this runs every step.
        for graded in [true, false] {
            for proj in self
                .projections
                .iter_mut()
                .filter(|p| matches!(p, Projection::Graded(_)) == graded && !matches!(p, Projection::Equation(_)))
            {
                match proj {
                    Projection::Graded(proj) => {
                        let source = &self.populations[proj.source];
                        let proj = &*proj;
                        par_or_seq(&mut self.syn[proj.target], |(i, syn)| {
                            let (start, end) =
                                (proj.row_ptr[i] as usize, proj.row_ptr[i + 1] as usize);
                            let mut sum_es = F::zero();
                            for k in start..end {
                                let e = match &proj.weights {
                                    ProjectionWeights::Uniform(w) => *w,
                                    ProjectionWeights::PerSynapse(ws) => ws[k],
                                };
                                sum_es = sum_es + e * source.var(proj.col_idx[k] as usize, proj.activation);
                            }
                            let g = graded::conductance(proj.w, sum_es);
                            syn.g = syn.g + g;
                            syn.i0 = syn.i0 + g * proj.v_rev;
                        });
                    }
                    Projection::Equation(_) => {}
                    Projection::Event(proj) => {
                        let n = proj.g.len();
                        let slot = (step % proj.slots) as usize;
                        let arrivals = &mut proj.pending[slot * n..(slot + 1) * n];
                        let target = &mut self.syn[proj.target];
                        let (kind, inv_scale, e_rev, decay) =
                            (proj.kind, proj.inv_scale, proj.e_rev, proj.decay);
                        let deliver =
                            |((syn, g), arrived): ((&mut SynInput<F>, &mut F), &mut i32)| {
                                exp_synapse::deliver(
                                    kind, g, *arrived, inv_scale, e_rev, decay, syn,
                                );
                                *arrived = 0;
                            };
                        if n >= PARALLEL_MIN_NEURONS {
                            target
                                .par_iter_mut()
                                .zip(proj.g.par_iter_mut())
                                .zip(arrivals.par_iter_mut())
                                .for_each(deliver);
                        } else {
                            target
                                .iter_mut()
                                .zip(proj.g.iter_mut())
                                .zip(arrivals.iter_mut())
                                .for_each(deliver);
                        }
                    }
                }
            }
        }
    }

    /// Adds this step's spikes to the rings, `delay` steps ahead (wrapping, as GPU atomics).
    fn push_spikes(&mut self) {
        let step = self.step;
        for proj in &mut self.projections {
            let Projection::Event(proj) = proj else {
                continue;
            };
            let n = proj.g.len();
            let slot = ((step + 1 + proj.delay_steps) % proj.slots) as usize;
            let ring = &mut proj.pending[slot * n..(slot + 1) * n];
            for (src, _) in self.populations[proj.source]
                .spiked
                .iter()
                .enumerate()
                .filter(|(_, &s)| s)
            {
                for k in proj.row_ptr[src] as usize..proj.row_ptr[src + 1] as usize {
                    let w = proj.fixed_weights[if proj.fixed_weights.len() == 1 { 0 } else { k }];
                    let post = proj.col_idx[k] as usize;
                    ring[post] = ring[post].wrapping_add(w);
                }
            }
        }
    }

    /// The traces that sample at `when` and are due now.
    fn record_traces(&self, plan: &RecordPlan, out: &mut ChunkOutput, when: Sampled) {
        for (t, chunk) in plan.traces.iter().zip(out.traces.iter_mut()) {
            if t.when != when || !self.step.is_multiple_of(t.every) {
                continue;
            }
            if let Some(p) = t.projection {
                let Projection::Equation(e) = &self.projections[p] else {
                    unreachable!("validated: synapses written as equations")
                };
                for (&var, buf) in t.variables.iter().zip(chunk.data.iter_mut()) {
                    let TraceVar::State(k) = var else {
                        unreachable!("a synapse trace records synaptic variables")
                    };
                    buf.extend(t.neurons.iter().map(|&s| e.value(s as usize, k).to_f64() as f32));
                }
                continue;
            }
            let pop = &self.populations[t.population];
            for (&var, buf) in t.variables.iter().zip(chunk.data.iter_mut()) {
                match var {
                    TraceVar::State(k) => buf.extend(
                        t.neurons
                            .iter()
                            .map(|&i| pop.var(i as usize, k).to_f64() as f32),
                    ),
                    TraceVar::Synapse(p) => {
                        let Projection::Event(proj) = &self.projections[p] else {
                            unreachable!("validated: g of an event projection")
                        };
                        buf.extend(
                            t.neurons
                                .iter()
                                .map(|&i| proj.g[i as usize].to_f64() as f32),
                        );
                    }
                }
            }
        }
    }

    /// The linked variables copied at `at` set to what they read now.
    fn copy_links(&mut self, at: LinkCopy) {
        for proj in &self.projections {
            if let Projection::Equation(e) = proj {
                if e.link.is_some_and(|l| l.copied(at)) {
                    e.sum(&mut self.populations, self.step);
                }
            }
        }
    }

    /// Brian2's `run_regularly` due in slot `when` of this step, before its recording there:
    /// the populations', then the synapses'. At the step's end, a population's linked
    /// variables are copied first (as for a trace there).
    fn run_regularly(&mut self, when: Sampled) {
        let (key, step) = (self.seed_key, self.step);
        for p_idx in 0..self.populations.len() {
            if !self.populations[p_idx].model.runs_regularly(step, when) {
                continue;
            }
            if when == Sampled::End {
                self.copy_links(LinkCopy::Recorded(p_idx));
            }
            let pop = &mut self.populations[p_idx];
            let (n_vars, size) = (pop.n_vars, pop.instance_size);
            for (i, x) in pop.vars.chunks_exact_mut(n_vars).enumerate() {
                let noise = Noise {
                    key,
                    neuron: i as u32,
                    step,
                    population: p_idx as u32,
                    size,
                };
                pop.model.regularly(x, &noise, when);
            }
        }
        // Then the synapses', in config order.
        for proj in &mut self.projections {
            if let Projection::Equation(e) = proj {
                e.run_regularly(&mut self.populations, step, when);
            }
        }
    }

    /// Brings the subexpressions of the populations a trace due now at `when` records up to
    /// date, and records the traces due.
    fn sample(&mut self, plan: &RecordPlan, out: &mut ChunkOutput, when: Sampled) {
        if when == Sampled::End {
            let step = self.step;
            for t in plan.traces.iter().filter(|t| t.projection.is_none() && t.when == when && step.is_multiple_of(t.every)) {
                self.copy_links(LinkCopy::Recorded(t.population));
            }
        }
        self.refresh_for_traces(plan, when);
        self.record_traces(plan, out, when);
    }

    fn refresh_for_traces(&mut self, plan: &RecordPlan, when: Sampled) {
        let (key, step) = (self.seed_key, self.step);
        for t in plan
            .traces
            .iter()
            .filter(|t| t.projection.is_none() && t.when == when && step.is_multiple_of(t.every))
        {
            let pop = &mut self.populations[t.population];
            let (model, n_vars, size) = (pop.model.as_ref(), pop.n_vars, pop.instance_size);
            for &i in &t.neurons {
                let noise = Noise {
                    key,
                    neuron: i,
                    step,
                    population: t.population as u32,
                    size,
                };
                let i = i as usize;
                model.refresh(&mut pop.vars[i * n_vars..(i + 1) * n_vars], &noise);
            }
        }
    }

    /// The synapses written as equations deliver the spikes that arrive now, in config order,
    /// then the populations that act after them run their PoissonInputs and reset their
    /// spiking neurons (Brian2's order: thresholds, synapses, resets).
    fn deliver_and_reset(&mut self) {
        let step = self.step;
        for pop in &mut self.populations {
            if pop.ring.is_empty() {
                continue;
            }
            let n = pop.spiked.len();
            let slot = (step % pop.spike_slots) as usize;
            let (spiked, vars, n_vars, flags) = (&pop.spiked, &pop.vars, pop.n_vars, &pop.event_flags);
            for (i, word) in pop.ring[slot * n..(slot + 1) * n].iter_mut().enumerate() {
                let events = flags.iter().enumerate().filter(|&(_, &k)| vars[i * n_vars + k] != F::zero()).fold(0, |w, (e, _)| w | 2 << e);
                *word = spiked[i] as u32 | events;
            }
        }
        for proj in &mut self.projections {
            if let Projection::Equation(e) = proj {
                e.step(&mut self.populations, step);
            }
        }
        for p_idx in 0..self.populations.len() {
            if !self.populations[p_idx].model.resets_apart() {
                continue;
            }
            self.copy_links(LinkCopy::BeforeReset(p_idx));
            let pop = &mut self.populations[p_idx];
            let (n_vars, size) = (pop.n_vars, pop.instance_size);
            for (i, x) in pop.vars.chunks_exact_mut(n_vars).enumerate() {
                let noise = Noise {
                    key: self.seed_key,
                    neuron: i as u32,
                    step,
                    population: p_idx as u32,
                    size,
                };
                pop.model.after_synapses(x, pop.spiked[i], &noise);
            }
        }
    }

    /// One step of every population; returns the first neuron whose V became non-finite.
    fn advance(&mut self, plan: &RecordPlan, out: &mut ChunkOutput) -> Option<Divergence> {
        self.gather_synaptic_input();
        for proj in &self.projections {
            match proj {
                Projection::Equation(e) if e.link.is_none() => e.sum(&mut self.populations, self.step),
                _ => {}
            }
        }
        let (dt, key, step) = (self.dt, self.seed_key, self.step);
        let t = F::from_f64(step as f64) * dt;
        let mut diverged = None;
        for p_idx in 0..self.populations.len() {
            self.copy_links(LinkCopy::BeforeUpdate(p_idx));
            let (pop, syn) = (&mut self.populations[p_idx], &self.syn[p_idx]);
            let (model, n_vars, size) = (pop.model.as_ref(), pop.n_vars, pop.instance_size);
            // Batches of neurons, so that a model may step many at once (equations do).
            let update = |(b, ((xs, syn), spiked)): NeuronBatch<F>| {
                let noise = Noise {
                    key,
                    neuron: (b * BATCH) as u32,
                    step,
                    population: p_idx as u32,
                    size,
                };
                model.step_batch(xs, n_vars, syn, spiked, &noise, t, dt);
            };
            if pop.spiked.len() >= PARALLEL_MIN_NEURONS {
                pop.vars
                    .par_chunks_mut(n_vars * BATCH)
                    .zip(syn.par_chunks(BATCH))
                    .zip(pop.spiked.par_chunks_mut(BATCH))
                    .enumerate()
                    .for_each(update);
            } else {
                pop.vars
                    .chunks_mut(n_vars * BATCH)
                    .zip(syn.chunks(BATCH))
                    .zip(pop.spiked.chunks_mut(BATCH))
                    .enumerate()
                    .for_each(update);
            }
            if plan.collects_spikes(p_idx) {
                let spikes = &mut out.spikes[p_idx];
                let before = spikes.len();
                spikes.extend(
                    pop.spiked
                        .iter()
                        .enumerate()
                        .filter(|(_, &s)| s)
                        .map(|(i, _)| Spike {
                            step,
                            neuron: i as u32,
                        }),
                );
                // This step's spiking neurons' values now, after the update and before the reset.
                let slots = plan.collected_spike_values(p_idx);
                if !slots.is_empty() {
                    for s in &spikes[before..] {
                        let noise = Noise { key, neuron: s.neuron, step, population: p_idx as u32, size };
                        pop.values_of(s.neuron as usize, &slots, &noise, &mut out.spike_values[p_idx]);
                    }
                }
            }
            // Brian2's EventMonitors: the neurons whose event flag the update set.
            for (r, &(_, e)) in plan.events.iter().enumerate().filter(|(_, &(q, _))| q == p_idx) {
                let flag = pop.event_flags[e];
                for i in (0..pop.spiked.len()).filter(|&i| pop.var(i, flag) != F::zero()) {
                    out.events[r].push(Spike { step, neuron: i as u32 });
                    let noise = Noise { key, neuron: i as u32, step, population: p_idx as u32, size };
                    pop.values_of(i, &plan.event_values[r], &noise, &mut out.event_values[r]);
                }
            }
            if diverged.is_none() {
                if let Some(i) = pop
                    .vars
                    .chunks_exact(pop.n_vars)
                    .position(|x| !x[0].is_finite())
                {
                    diverged = Some(Divergence {
                        population: p_idx,
                        neuron: i as u32,
                        step,
                    });
                }
            }
        }
        self.copy_links(LinkCopy::AfterUpdates);
        self.run_regularly(Sampled::AfterUpdates);
        self.sample(plan, out, Sampled::AfterUpdates);
        self.deliver_and_reset();
        self.run_regularly(Sampled::End);
        self.sample(plan, out, Sampled::End);
        self.push_spikes();
        self.step += 1;
        diverged
    }
}

impl<F: Real> Backend for CpuBackend<F> {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            kind: "cpu",
            device: format!("{} threads", rayon::current_num_threads()),
            precision: if std::mem::size_of::<F>() == 4 {
                Precision::F32
            } else {
                Precision::F64
            },
        }
    }

    fn run_chunk(&mut self, plan: &RecordPlan, out: &mut ChunkOutput) -> Result<()> {
        debug_assert_eq!(out.first_step, self.step);
        for done in 0..out.n_steps {
            self.copy_links(LinkCopy::Start);
            self.run_regularly(Sampled::Start);
            self.sample(plan, out, Sampled::Start);
            if let Some(d) = self.advance(plan, out) {
                out.diverged = Some(d);
                out.n_steps = done + 1;
                for (t, chunk) in plan.traces.iter().zip(out.traces.iter_mut()) {
                    chunk.n_samples =
                        crate::record::samples_in(out.first_step, out.n_steps, t.every) as usize;
                }
                break;
            }
        }
        Ok(())
    }

    fn read_synapses(&mut self) -> Result<crate::simulator::SynapseValues> {
        Ok(self
            .projections
            .iter()
            .map(|p| match p {
                Projection::Equation(e) if e.link.is_none() => Some(e.columns()),
                _ => None,
            })
            .collect())
    }

    fn read_state(&mut self) -> Result<NetworkState> {
        Ok(self
            .populations
            .iter()
            .map(|p| {
                (0..p.n_vars)
                    .map(|k| (0..p.spiked.len()).map(|i| p.var(i, k).to_f64()).collect())
                    .collect()
            })
            .collect())
    }
}
