//! Synapses written as equations on the CPU: the summed variables (before the populations'
//! updates), then the clock-driven equations, `on_pre` and `on_post` (after them, before the
//! resets), each target neuron's synapses in CSR order, as the generated WGSL
//! (`SynapseProgram::wgsl`) runs them.

use crate::equations::var_type::VarType;
use super::Population;
use rayon::prelude::*;
use crate::equations::cpu::{compile, CpuProgram, EnvParts, Eval};
use crate::equations::ir::Ref;
use crate::equations::synapse::SynapseProgram;
use crate::equations::vm::{BatchProgram, SynapseBatch, BATCH};
use crate::model::Noise;
use crate::network::{LinkTiming, ProjectionData};
use crate::real::Real;

/// A summed variable on the CPU: its slot, the factor outside the sum, the term summed (over
/// batches of a row's synapses), and how the slot stores the total.
struct SummedCpu<F> {
    slot: usize,
    factor: Option<Eval<F>>,
    term: BatchProgram<F>,
    stored: VarType,
}

pub(super) struct EquationProjection<F> {
    pub source: usize,
    pub target: usize,
    /// A linked variable's copy (`network::ProjectionData::link`).
    pub link: Option<LinkTiming>,
    row_ptr: Vec<u32>,
    col_idx: Vec<u32>,
    /// Variable k of synapse s at s·n_vars + k.
    syn: Vec<F>,
    n_vars: usize,
    /// Per synapse, or one for all.
    delays: Vec<u32>,
    /// Steps of delay of the on_post pathway, per synapse or one for all: the post-synaptic
    /// spikes it reads are those of that many steps ago, from the target's spike ring.
    post_delays: Vec<u32>,
    /// The ring bits that trigger `on_pre` (the source's) and `on_post` (the target's):
    /// Brian2's `on_event`, 0 the spike.
    pre_event: u32,
    post_event: u32,
    /// The neurons of the source and the target its ends span, (first, how many): `i` and
    /// `j` count from the firsts, the summed variables set the target's span alone.
    spans: [(u32, u32); 2],
    summed: Vec<SummedCpu<F>>,
    on_pre: CpuProgram<F>,
    on_post: CpuProgram<F>,
    /// The clock-driven equations, over batches of synapses (None: the model has none).
    clock: Option<Box<BatchProgram<F>>>,
    /// Brian2's `run_regularly` on the synapses, each when its schedule says, over batches of
    /// synapses.
    regularly: Vec<(crate::record::Schedule, BatchProgram<F>)>,
    /// Whether a run_regularly reads pre-synaptic variables (within one population they are
    /// then copied for it).
    regularly_reads_pre: bool,
    /// Whether `on_pre` reads pre-synaptic variables (then, within one population, it reads
    /// them as they were before the step's deliveries).
    reads_pre: bool,
    /// The synapses by pre-synaptic neuron (synapse ids, ascending), where each target's
    /// synapses come in ascending pre-synaptic order: then walking the spiking sources in
    /// order applies each target's arrivals in its CSR order, as the GPU's thread per target
    /// does, at the cost of the spikes rather than of every synapse. None: walk by target.
    by_source: Option<(Vec<u32>, Vec<u32>)>,
    dt: F,
    /// Where the model's equations, `on_pre` or `on_post` draw random numbers.
    draws: Option<Draws>,
}

/// The draws of a projection's synapses: Philox counters of (synapse, step, stream) under the
/// network's seed, in the projection's own counter word, as the generated WGSL's
/// `draw_uniform` (src/equations/synapse.rs).
#[derive(Clone, Copy)]
pub(super) struct Draws {
    key: [u32; 2],
    projection: u32,
}

impl Draws {
    pub fn of(net: &crate::network::Network, projection: usize) -> Draws {
        Draws {
            key: crate::rng::seed_key(net.seed),
            projection: projection as u32,
        }
    }

    fn at(self, synapse: usize, step: u64) -> Noise {
        Noise {
            key: self.key,
            neuron: synapse as u32,
            step,
            population: crate::rng::stream::SYNAPSES + self.projection,
            // Synapses read no `N` (`SynapseProgram::compile` refuses it).
            size: 0,
        }
    }
}

impl<F: Real> EquationProjection<F> {
    fn deliver_by_source(&mut self, pre: &PreSide<F>, target: &mut [F], n_vars: usize, step: u64) {
        let (start, ids) = self.by_source.as_ref().expect("walked by source");
        let slot_of = |d: u64| ring_slot(step, d, pre.slots);
        let uniform = (self.delays.len() == 1).then(|| slot_of(self.delays[0] as u64));
        for j in 0..pre.n {
            // A source that spiked in none of the steps a delay reaches sends nothing now.
            let recent = match uniform {
                Some(slot) => pre.fired(slot, j),
                None => (0..pre.slots as usize).any(|slot| pre.fired(slot, j)),
            };
            if !recent {
                continue;
            }
            for &s in &ids[start[j] as usize..start[j + 1] as usize] {
                let s = s as usize;
                let slot = uniform.unwrap_or_else(|| slot_of(self.delays[s] as u64));
                if !pre.fired(slot, j) {
                    continue;
                }
                // The post-synaptic neuron of synapse s: its row.
                let i = self.row_ptr.partition_point(|&r| r as usize <= s) - 1;
                let noise = self.noise(s, step);
                let parts = self.parts(&pre.vars[j * pre.n_vars..(j + 1) * pre.n_vars], step, j, i, noise.as_ref());
                let syn = &mut self.syn[s * self.n_vars..(s + 1) * self.n_vars];
                self.on_pre.run(&mut target[i * n_vars..(i + 1) * n_vars], syn, parts);
            }
        }
    }
}

/// The slot of a population's spike ring (`slots` steps, written at `step % slots`) that
/// holds the spikes of `delay` steps before `step`.
fn ring_slot(step: u64, delay: u64, slots: u64) -> usize {
    ((step + slots - delay % slots) % slots) as usize
}

/// What delivery reads of the pre-synaptic population: its spike ring, the bits of its words
/// that trigger `on_pre` (`mask`), and its variables.
struct PreSide<'a, F> {
    ring: &'a [u32],
    mask: u32,
    slots: u64,
    vars: &'a [F],
    n_vars: usize,
    n: usize,
}

/// The post-synaptic spikes the post pathway reads at a step: this step's, or those of each
/// synapse's delay ago from the target's ring words, with the bit that triggers `on_post`.
enum PostSide<'a> {
    Spiked(&'a [bool]),
    Ring { ring: &'a [u32], n: usize, slots: u64, step: u64, mask: u32 },
}

impl<'a> PostSide<'a> {
    /// Where spikes of some steps ago (`delayed`) or a custom event (`mask` other than the
    /// spike's bit) trigger the pathway, the ring's; else this step's spikes.
    fn at(ring: &'a [u32], spiked: &'a [bool], slots: u64, step: u64, delayed: bool, mask: u32) -> Self {
        match delayed || mask != 1 {
            true => PostSide::Ring { ring, n: spiked.len(), slots, step, mask },
            false => PostSide::Spiked(spiked),
        }
    }

    /// Whether neuron i triggers the pathway for a synapse of `delay` steps.
    fn fired(&self, i: usize, delay: u32) -> bool {
        match *self {
            PostSide::Spiked(spiked) => spiked[i],
            PostSide::Ring { ring, n, slots, step, mask } => ring[ring_slot(step, delay as u64, slots) * n + i] & mask != 0,
        }
    }
}

impl<F> PreSide<'_, F> {
    /// Whether neuron j's word in `slot` has a bit that triggers `on_pre`.
    fn fired(&self, slot: usize, j: usize) -> bool {
        self.ring[slot * self.n + j] & self.mask != 0
    }
}

impl<F: Real> EquationProjection<F> {
    pub fn new(p: &ProjectionData, program: &SynapseProgram, dt_s: f64, draws: Draws) -> Self {
        let e = p.equation.as_ref().expect("equation synapses carry their state");
        let n_syn = p.csr.col_idx.len();
        let n_vars = program.vars.len();
        let mut syn = vec![F::zero(); n_syn * n_vars];
        for (k, column) in e.state.iter().enumerate() {
            for (s, &x) in column.iter().enumerate() {
                syn[s * n_vars + k] = F::from_f64(x);
            }
        }
        let reads_pre_in = |p: &crate::equations::ir::Program| p.body.iter().any(|s| {
            let mut found = false;
            s.value.visit(&mut |n| found |= matches!(n, crate::equations::ir::Node::Load(Ref::Pre(_))));
            found
        });
        let reads_pre = [&program.on_pre, &program.on_post, &program.clock].into_iter().any(reads_pre_in);
        let rows_sorted = (0..p.csr.n_rows).all(|i| {
            p.csr.col_idx[p.csr.row_ptr[i] as usize..p.csr.row_ptr[i + 1] as usize]
                .windows(2)
                .all(|w| w[0] <= w[1])
        });
        let by_source = rows_sorted.then(|| crate::connectivity::synapses_by_source(&p.csr.col_idx, p.csr.n_cols));
        EquationProjection {
            by_source,
            source: p.source,
            target: p.target,
            link: p.link,
            row_ptr: p.csr.row_ptr.clone(),
            col_idx: p.csr.col_idx.clone(),
            syn,
            n_vars,
            delays: e.delays.clone(),
            post_delays: e.post_delays.clone(),
            pre_event: e.pre_event,
            post_event: e.post_event,
            spans: e.spans,
            summed: program
                .summed
                .iter()
                .map(|s| {
                    SummedCpu {
                        slot: s.slot,
                        factor: s.factor.as_ref().map(compile::<F>),
                        term: BatchProgram::summing(&s.term, dt_s),
                        stored: s.stored,
                    }
                })
                .collect(),
            on_pre: CpuProgram::new(&program.on_pre),
            on_post: CpuProgram::new(&program.on_post),
            clock: (!program.clock.body.is_empty()).then(|| Box::new(BatchProgram::synapse_step(&program.clock, dt_s))),
            regularly: program.regularly.iter().map(|(every, p)| (*every, BatchProgram::synapse_step(p, dt_s))).collect(),
            regularly_reads_pre: program.regularly.iter().any(|(_, p)| reads_pre_in(p)),
            reads_pre,
            dt: F::from_f64(dt_s),
            draws: (program.streams > 0).then_some(draws),
        }
    }

    /// Synapse s's draws at `step`, where the model draws.
    fn noise(&self, s: usize, step: u64) -> Option<Noise> {
        self.draws.map(|d| d.at(s, step))
    }

    fn parts<'a>(&self, pre: &'a [F], step: u64, ipre: usize, ipost: usize, noise: Option<&'a Noise>) -> EnvParts<'a, F> {
        EnvParts {
            pre,
            t: F::from_f64(step as f64) * self.dt,
            step: F::from_f64(step as f64),
            dt: self.dt,
            i: F::from_f64(ipre.saturating_sub(self.spans[0].0 as usize) as f64),
            j: F::from_f64(ipost.saturating_sub(self.spans[1].0 as usize) as f64),
            n: F::zero(),
            noise,
        }
    }

    /// Brian2's summed-variable update: each target's variables set to the sums over its
    /// synapses, from the state at the step's start.
    pub fn sum(&self, populations: &mut [Population<F>], step: u64) {
        if self.summed.is_empty() {
            return;
        }
        let n_target = self.row_ptr.len() - 1;
        let n_summed = self.summed.len();
        let mut sums = vec![F::zero(); n_target * n_summed];
        {
            let source = &populations[self.source];
            let target = &populations[self.target];
            // The pre-synaptic variables the terms read, each as one column.
            let mut columns: Vec<Vec<F>> = vec![Vec::new(); source.n_vars];
            for SummedCpu { term, .. } in &self.summed {
                for k in term.pre_variables() {
                    if columns[k].is_empty() {
                        columns[k] = source.vars.iter().skip(k).step_by(source.n_vars).copied().collect();
                    }
                }
            }
            let rows_per_task = 256;
            let sum_rows = |(c, chunk): (usize, &mut [F])| {
                let mut regs = Vec::new();
                for (r, acc) in chunk.chunks_mut(n_summed).enumerate() {
                    let i = c * rows_per_task + r;
                    let x = target.neuron(i);
                    let (start, end) = (self.row_ptr[i] as usize, self.row_ptr[i + 1] as usize);
                    let draws = self.noise(start, step);
                    for (a, SummedCpu { factor, term, .. }) in acc.iter_mut().zip(&self.summed) {
                        let sum = term.sum_row(
                            &columns,
                            &self.col_idx[start..end],
                            &self.syn[start * self.n_vars..],
                            self.n_vars,
                            x,
                            i,
                            step,
                            draws.as_ref(),
                            &mut regs,
                        );
                        *a = match factor {
                            Some(f) => f(&self.parts(&[], step, 0, i, None).env(x, &[], &[])) * sum,
                            None => sum,
                        };
                    }
                }
            };
            if n_target >= super::PARALLEL_MIN_NEURONS {
                sums.par_chunks_mut(rows_per_task * n_summed).enumerate().for_each(sum_rows);
            } else {
                sums.chunks_mut(rows_per_task * n_summed).enumerate().for_each(sum_rows);
            }
        }
        let target = &mut populations[self.target];
        // The target's span alone (a subgroup's): its other neurons are no part of the sum.
        let (first, span) = (self.spans[1].0 as usize, self.spans[1].1 as usize);
        for (i, acc) in sums.chunks(n_summed).enumerate().skip(first).take(span) {
            for (&value, SummedCpu { slot, stored, .. }) in acc.iter().zip(&self.summed) {
                target.vars[i * target.n_vars + slot] = match stored {
                    VarType::Float => value,
                    t => F::from_f64(t.stored_value(value.to_f64())),
                };
            }
        }
    }

    /// The synapses' step after the populations' updates, in Brian2's order: the
    /// clock-driven equations of every synapse, then `on_pre` for every synapse whose
    /// pre-synaptic spike of `delay` steps ago arrives now, then `on_post` for every synapse
    /// whose post-synaptic neuron spiked in this step.
    pub fn step(&mut self, populations: &mut [Population<F>], step: u64) {
        if self.on_pre.is_empty() && self.on_post.is_empty() && self.clock.is_none() {
            return;
        }
        // Pre-synaptic values as they were before this step's deliveries, as the GPU's
        // threads, which cannot see each other's writes, read them.
        let snapshot = self.reads_pre;
        self.with_sides(populations, snapshot, step, |me, pre, target, n_vars, spiked| me.step_into(pre, target, n_vars, spiked, step));
    }

    /// Brian2's `run_regularly` on the synapses due in slot `when` of `step`, in the order
    /// given: each over every synapse, as the clock-driven equations run.
    pub fn run_regularly(&mut self, populations: &mut [Population<F>], step: u64, when: crate::record::Sampled) {
        if !self.regularly.iter().any(|(s, _)| s.due(step, when)) {
            return;
        }
        let snapshot = self.regularly_reads_pre;
        self.with_sides(populations, snapshot, step, |me, pre, target, n_vars, _| {
            let mut syn = std::mem::take(&mut me.syn);
            for (_, program) in me.regularly.iter().filter(|(s, _)| s.due(step, when)) {
                me.each_synapse(program, &mut syn, pre, target, n_vars, step);
            }
            me.syn = syn;
        });
    }

    /// `f` over the pre-synaptic side, the target's variables and the post-synaptic spikes
    /// the post pathway reads at `step` (those of its delays ago), with `snapshot`,
    /// within one population, the pre-synaptic values as they were before `f`.
    fn with_sides(&mut self, populations: &mut [Population<F>], snapshot: bool, step: u64, f: impl FnOnce(&mut Self, &PreSide<F>, &mut [F], usize, &PostSide)) {
        // Delays per synapse differ, so some is not 0.
        let delayed = self.post_delays.len() > 1 || self.post_delays.first().is_some_and(|&d| d > 0);
        let mask = 1u32 << self.post_event;
        if self.source != self.target {
            let (source, target) = if self.source < self.target {
                let (a, b) = populations.split_at_mut(self.target);
                (&a[self.source], &mut b[0])
            } else {
                let (a, b) = populations.split_at_mut(self.source);
                (&b[0], &mut a[self.target])
            };
            let pre = PreSide {
                ring: &source.ring,
                mask: 1 << self.pre_event,
                slots: source.spike_slots,
                vars: &source.vars,
                n_vars: source.n_vars,
                n: source.spiked.len(),
            };
            let post = PostSide::at(&target.ring, &target.spiked, target.spike_slots, step, delayed, mask);
            f(self, &pre, &mut target.vars, target.n_vars, &post);
        } else {
            let pop = &mut populations[self.target];
            let copy = if snapshot { pop.vars.clone() } else { Vec::new() };
            let pre = PreSide {
                ring: &pop.ring,
                mask: 1 << self.pre_event,
                slots: pop.spike_slots,
                vars: if snapshot { &copy } else { &[] },
                n_vars: if snapshot { pop.n_vars } else { 0 },
                n: pop.spiked.len(),
            };
            let post = PostSide::at(&pop.ring, &pop.spiked, pop.spike_slots, step, delayed, mask);
            f(self, &pre, &mut pop.vars, pop.n_vars, &post);
        }
    }

    fn step_into(&mut self, pre: &PreSide<F>, target: &mut [F], n_vars: usize, post: &PostSide, step: u64) {
        let n_target = self.row_ptr.len() - 1;
        let pre_of = |j: usize| &pre.vars[j * pre.n_vars..(j + 1) * pre.n_vars];
        if let Some(clock) = &self.clock {
            let mut syn = std::mem::take(&mut self.syn);
            self.each_synapse(clock, &mut syn, pre, target, n_vars, step);
            self.syn = syn;
        }
        if !self.on_pre.is_empty() {
            self.deliver_into(pre, target, n_vars, step);
        }
        if !self.on_post.is_empty() {
            // One delay for all: a neuron's synapses all trigger, or none.
            let uniform = (self.post_delays.len() == 1).then(|| self.post_delays[0]);
            for i in (0..n_target).filter(|&i| uniform.is_none_or(|d| post.fired(i, d))) {
                for s in self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize {
                    if uniform.is_none() && !post.fired(i, self.post_delays[s]) {
                        continue;
                    }
                    let j = self.col_idx[s] as usize;
                    let noise = self.noise(s, step);
                    let parts = self.parts(pre_of(j), step, j, i, noise.as_ref());
                    let syn = &mut self.syn[s * self.n_vars..(s + 1) * self.n_vars];
                    self.on_post.run(&mut target[i * n_vars..(i + 1) * n_vars], syn, parts);
                }
            }
        }
    }

    /// `program` (the clock-driven equations, a run_regularly) over every synapse (their
    /// variables `syn`), in batches of synapses. Each writes its own variables alone (it
    /// reads the neurons'), so runs of synapses go in parallel with the serial results.
    fn each_synapse(&self, program: &BatchProgram<F>, syn: &mut [F], pre: &PreSide<F>, target: &[F], n_vars: usize, step: u64) {
        const RUN: usize = 4 * BATCH;
        let per_synapse = self.n_vars;
        syn.par_chunks_mut(RUN * per_synapse).enumerate().for_each(|(c, run)| {
            let first = c * RUN;
            let n = run.len() / per_synapse;
            // Each synapse's post-synaptic neuron: its row.
            let mut rows = Vec::with_capacity(n);
            let mut i = self.row_ptr.partition_point(|&r| r as usize <= first) - 1;
            for s in first..first + n {
                while self.row_ptr[i + 1] as usize <= s {
                    i += 1;
                }
                rows.push(i as u32);
            }
            let mut regs = Vec::new();
            for (b, (syn, rows)) in run.chunks_mut(BATCH * per_synapse).zip(rows.chunks(BATCH)).enumerate() {
                let s0 = first + b * BATCH;
                let draws = self.noise(s0, step);
                let batch = SynapseBatch {
                    syn,
                    syn_vars: per_synapse,
                    cols: &self.col_idx[s0..s0 + rows.len()],
                    rows,
                    pre: pre.vars,
                    pre_vars: pre.n_vars,
                    post: target,
                    post_vars: n_vars,
                    step,
                    draws: draws.as_ref(),
                    firsts: [self.spans[0].0, self.spans[1].0],
                };
                program.run_synapses(batch, &mut regs);
            }
        });
    }

    fn deliver_into(&mut self, pre: &PreSide<F>, target: &mut [F], n_vars: usize, step: u64) {
        if self.by_source.is_some() {
            return self.deliver_by_source(pre, target, n_vars, step);
        }
        let n_target = self.row_ptr.len() - 1;
        for i in 0..n_target {
            for s in self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize {
                let j = self.col_idx[s] as usize;
                let d = self.delays[if self.delays.len() == 1 { 0 } else { s }] as u64;
                let slot = ring_slot(step, d, pre.slots);
                if !pre.fired(slot, j) {
                    continue;
                }
                let noise = self.noise(s, step);
                let parts = self.parts(&pre.vars[j * pre.n_vars..(j + 1) * pre.n_vars], step, j, i, noise.as_ref());
                let syn = &mut self.syn[s * self.n_vars..(s + 1) * self.n_vars];
                self.on_pre.run(&mut target[i * n_vars..(i + 1) * n_vars], syn, parts);
            }
        }
    }

    /// Each synaptic variable as a column, in f64.
    pub fn columns(&self) -> Vec<Vec<f64>> {
        (0..self.n_vars)
            .map(|k| self.syn.iter().skip(k).step_by(self.n_vars).map(|&x| Real::to_f64(x)).collect())
            .collect()
    }

    /// Variable k of synapse s.
    pub fn value(&self, s: usize, k: usize) -> F {
        self.syn[s * self.n_vars + k]
    }
}
