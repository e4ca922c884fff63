//! A validated config turned into arrays: sizes, model constants, CSR projections and initial
//! state. Both backends receive the same `Network`, built once from the seed.

use crate::config::{Config, Connectivity, InitValue, SynapseModel, SynapseName, WeightSpec};
use crate::procedural::{DrawnWeight, ProceduralRows};
use crate::connectivity::{self, Csr, PairWeights, WeightDraw, Weights};
use crate::error::Result;
use crate::model::exp_synapse;
use crate::model::exp_synapse::{ExpKind, ExpSynapse};
use crate::model::{Neuron, Variable};
use std::sync::Arc;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

#[derive(Clone, Debug)]
pub struct PopulationData {
    pub name: String,
    pub size: usize,
    pub model: Arc<dyn Neuron>,
    /// Initial values, one vector per model variable, in the model's variable order.
    pub init: Vec<Vec<f64>>,
}

impl PopulationData {
    pub fn variables(&self) -> &'static [Variable] {
        self.model.kind().variables()
    }
}

#[derive(Clone, Debug)]
pub struct ProjectionData {
    pub name: String,
    pub source: usize,
    pub target: usize,
    pub synapse: SynapseModel,
    /// Rows are targets: the graded synapse pulls each target's inputs.
    pub csr: Csr,
    /// Graded synapses only: the source variable they read (its activation S).
    pub source_activation: Option<usize>,
    /// Event-driven synapses only: the same synapses with rows by source, pushed on a spike,
    /// the initial g per target neuron, and the synapse resolved for dt.
    pub event: Option<EventProjection>,
    /// Synapses written as equations: their variables and delays.
    pub equation: Option<EquationSynapses>,
    /// Procedural connectivity: what draws the rows, whose sources `csr` then does not hold
    /// (only its row pointers and the one weight); `sources` draws them where they are needed.
    pub procedural: Option<ProceduralRows>,
    /// The diagonal blocks that `csr` (and `event.by_source`) stand for: 1, except in a batch
    /// whose instances all have this same matrix, which is then stored once, one instance's
    /// block, for all of them (`sweep::batch`; the GPU backend alone runs batches).
    pub blocks: usize,
    /// Per instance of a batch, its one weight, where the instances have the same
    /// connections (per block of a shared matrix) or draw procedural rows of seeds of their
    /// own (`ProceduralRows::instance_keys`), but each its own weight (a swept `weight`):
    /// `csr`'s weight is then the first instance's, and an event-driven projection's
    /// `fixed_weights` hold one per instance.
    pub block_weights: Option<Vec<f64>>,
    /// A linked variable's copy (`config::Link`, after the config's projections), not a
    /// projection of the config: the backends run its summation where its timing says, so
    /// that it holds what Brian2's reference reads, and nothing writes it out.
    pub link: Option<LinkTiming>,
}

impl ProjectionData {
    /// Its synapses: an event-driven projection's counted by source (a procedural one has
    /// rows by source only); a shared matrix's block counted once per instance.
    pub fn n_synapses(&self) -> usize {
        let rows = self.event.as_ref().map_or(&self.csr, |e| &e.by_source);
        // A procedural matrix's pointers are kept modulo 2^32.
        let stored = match self.procedural {
            Some(_) => crate::procedural::synapses(&rows.row_ptr) as usize,
            None => rows.n_synapses(),
        };
        stored * self.blocks
    }

    /// Its target population's neurons (rows of the whole matrix by target).
    pub fn n_target(&self) -> usize {
        self.csr.n_rows * self.blocks
    }

    /// Its source population's neurons.
    pub fn n_source(&self) -> usize {
        self.csr.n_cols * self.blocks
    }

    /// The instances a GPU kernel maps the rows of this projection to: the blocks of a shared
    /// matrix, or the instances whose procedural rows, side by side in the matrix, are drawn
    /// with seeds of their own; 1 for one network.
    pub fn kernel_instances(&self) -> usize {
        match &self.procedural {
            Some(rows) if !rows.instance_keys.is_empty() => rows.instance_keys.len(),
            _ => self.blocks,
        }
    }

    /// Whether a batch's instances draw this projection's rows with seeds of their own.
    pub fn own_seeds(&self) -> bool {
        self.procedural.as_ref().is_some_and(|r| !r.instance_keys.is_empty())
    }

    /// The matrix with every source in place: `csr` itself, or for a procedural projection
    /// its rows drawn (what the CPU reference sums over).
    pub fn stored(&self) -> std::borrow::Cow<'_, Csr> {
        match &self.procedural {
            None => std::borrow::Cow::Borrowed(&self.csr),
            Some(rows) => std::borrow::Cow::Owned(rows.materialize(&self.csr.row_ptr, self.csr.weight(0))),
        }
    }
}

/// A population's initial columns of group `g`'s neurons.
pub(crate) fn within(columns: &[Vec<f64>], g: crate::config::Group) -> std::borrow::Cow<'_, [Vec<f64>]> {
    match g.whole {
        true => std::borrow::Cow::Borrowed(columns),
        false => std::borrow::Cow::Owned(columns.iter().map(|c| c[g.first as usize..(g.first + g.size) as usize].to_vec()).collect()),
    }
}

/// The per-synapse data of a projection whose synapse is written as equations, in the CSR's
/// synapse order.
#[derive(Clone, Debug)]
pub struct EquationSynapses {
    /// Column per synaptic variable.
    pub state: Vec<Vec<f64>>,
    /// Steps of delay of the on_pre pathway: one per synapse, or one for all.
    pub delays: Vec<u32>,
    /// Steps of delay of the on_post pathway (Brian2's `S.post.delay`): one per synapse, or
    /// one for all.
    pub post_delays: Vec<u32>,
    /// The bits of the source's and the target's spike-ring words that trigger `on_pre` and
    /// `on_post` (Brian2's `on_event`: 0 the spike, 1 + e custom event e).
    pub pre_event: u32,
    pub post_event: u32,
    /// The neurons of the source and target its ends span (Brian2's subgroups), each as its
    /// first and how many, within an instance: `i` and `j` count from the first, and the
    /// summed variables set the target's span alone.
    pub spans: [(u32, u32); 2],
}

impl EquationSynapses {
    pub fn max_delay(&self) -> u32 {
        self.delays.iter().copied().max().unwrap_or(0)
    }

    /// Whether one delay serves every synapse (kept once).
    pub fn uniform_delay(&self) -> bool {
        self.delays.len() <= 1
    }

    pub fn max_post_delay(&self) -> u32 {
        self.post_delays.iter().copied().max().unwrap_or(0)
    }

    /// Whether one delay of the on_post pathway serves every synapse (kept once).
    pub fn uniform_post_delay(&self) -> bool {
        self.post_delays.len() <= 1
    }

    /// The steps of marked arrivals the GPU keeps for them (`SynapseProgram::arrival_slots`).
    pub fn arrival_slots(&self, program: &crate::equations::synapse::SynapseProgram) -> u64 {
        program.arrival_slots(self.uniform_delay(), Some(self.max_delay() as u64))
    }
}

#[derive(Clone, Debug)]
pub struct EventProjection {
    pub synapse: ExpSynapse,
    pub by_source: Csr,
    pub g0: Vec<f64>,
    /// Power-of-two scale of the fixed-point arrival sums (see `model::exp_synapse`).
    pub fixed_scale: f64,
    /// Per synapse of `by_source` (or one for all): the weight in fixed point.
    pub fixed_weights: Vec<i32>,
}

#[derive(Clone, Debug)]
pub struct Network {
    pub dt_ms: f64,
    pub n_steps: u64,
    pub seed: u64,
    pub populations: Vec<PopulationData>,
    pub projections: Vec<ProjectionData>,
    /// A sweep's instances merged into this one network (`sweep::batch`): each population
    /// holds every instance's neurons, instance-major. None for a single network.
    pub batch: Option<BatchLayout>,
}

/// What a network of merged instances keeps of each: its seed (its noise key) and, per
/// population, its model's GPU `Params`.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchLayout {
    pub seeds: Vec<u64>,
    /// Per population, per instance.
    pub params: Vec<Vec<Vec<u8>>>,
}

impl BatchLayout {
    pub fn instances(&self) -> usize {
        self.seeds.len()
    }
}

impl Network {
    pub fn build(config: &Config) -> Result<Network> {
        let sim = &config.simulation;
        let populations = config
            .populations
            .iter()
            .enumerate()
            .map(|(index, (name, pop))| {
                let model = config.model_params(index)?;
                let size = pop.size as usize;
                model.check_size(size)?;
                let init = initial_state(config, model.as_ref(), index)?;
                Ok(PopulationData {
                    name: name.clone(),
                    size,
                    model,
                    init,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut projections = config
            .projections
            .iter()
            .enumerate()
            .zip(&config.resolved.projections)
            .map(|((index, (name, proj)), ends)| {
                let (source, target) = (ends.source, ends.target);
                // A subgroup's synapses are drawn within it (Brian2's `i` and `j` count within
                // it), then placed in its populations' matrix. Index i of the source group and
                // i of the target are one neuron (an autapse) where both start at the same
                // neuron of one population.
                let groups = (ends.source_group, ends.target_group);
                let same = source == target && groups.0.first == groups.1.first;
                let (n_src, n_tgt) = (groups.0.size as usize, groups.1.size as usize);
                let (pre_init, post_init) = (within(&populations[source].init, groups.0), within(&populations[target].init, groups.1));
                let (n_sources, n_targets) = (populations[source].size, populations[target].size);
                let place = |csr: Csr| match ends.is_partial() {
                    true => csr.placed(groups.1.first as usize, n_targets, groups.0.first as usize, n_sources),
                    false => csr,
                };
                let weight = WeightDraw::new(&format!("projections.{name}.weight"), &proj.weight)?;
                let edges = config.resolved.edges[index].as_deref();
                let mut procedural = None;
                // A SONATA file's edges in the matrix's order, with the order that takes their
                // attributes there.
                let (csr, edge_order) = match edges {
                    Some(e) => {
                        let (mut csr, order) = connectivity::from_pairs(
                            populations[source].size,
                            populations[target].size,
                            &e.source,
                            &e.target,
                            match e.attribute("syn_weight") {
                                Some(w) => PairWeights::Given(w),
                                // Edges without weights take the projection's `weight`.
                                None => PairWeights::Drawn { draw: &weight, seed: sim.seed, projection: index },
                            },
                        )?;
                        // Validated: the attribute exists (config::sonata). An edge without it
                        // is not scaled, as BMTK counts an edge without nsyns as one synapse.
                        if let Some(scale) = proj.connectivity.weight_scale().and_then(|a| e.attribute(a)) {
                            let factor = |s: usize| if scale[s].is_nan() { 1.0 } else { scale[s] };
                            csr.scale_weights(&order.iter().map(|&s| factor(s)).collect::<Vec<f64>>());
                        }
                        (csr, Some(order))
                    }
                    None if proj.connectivity.is_procedural() => {
                        // Event-driven synapses walk a spiking source's row: drawn by source.
                        let by_source = config.builtin_synapse(proj) != Some(SynapseName::Graded);
                        let (csr, rows) = procedural_rows(
                            &proj.connectivity,
                            populations[source].size,
                            populations[target].size,
                            &proj.weight,
                            same,
                            sim.seed,
                            index,
                            by_source,
                        );
                        procedural = Some(rows);
                        (csr, None)
                    }
                    None if matches!(proj.connectivity, crate::config::Connectivity::Expression { .. }) => {
                        let rule = connectivity::expression::of_config(config, index)?.expect("an expression rule");
                        let states = connectivity::expression::States { pre: &pre_init, post: &post_init };
                        (rule.build(n_src, n_tgt, states, &weight, sim.seed, index)?, None)
                    }
                    None => (connectivity::build(&proj.connectivity, n_src, n_tgt, &weight, same, sim.seed, index)?, None),
                };
                let edge_columns: Vec<(String, Vec<f64>)> = match (edges, &edge_order) {
                    (Some(e), Some(order)) => e
                        .attributes
                        .iter()
                        .map(|(n, v)| (n.clone(), order.iter().map(|&s| v[s]).collect()))
                        .collect(),
                    _ => Vec::new(),
                };
                if let Some(program) = &config.resolved.synapses[index] {
                    let (pre, post) = (
                        populations[source].model.kind().equations().expect("validated"),
                        populations[target].model.kind().equations().expect("validated"),
                    );
                    let mut post_of = Vec::with_capacity(csr.col_idx.len());
                    for row in 0..csr.n_rows {
                        let n = (csr.row_ptr[row + 1] - csr.row_ptr[row]) as usize;
                        post_of.extend(std::iter::repeat_n(row as u32, n));
                    }
                    let mut rng = ChaCha8Rng::seed_from_u64(sim.seed ^ 0x510e_527f_ade6_82d1);
                    rng.set_stream(index as u64);
                    let crate::equations::init::DrawnSynapses { state, delays, post_delays } = crate::equations::init::synapse_state(
                        program,
                        pre,
                        post,
                        &format!("projections.{name}"),
                        &proj.init,
                        proj.delay.as_deref(),
                        proj.post_delay.as_deref(),
                        &edge_columns,
                        &csr.col_idx,
                        &post_of,
                        &pre_init,
                        &post_init,
                        sim.dt_ms * 1e-3,
                        &mut rng,
                    )?;
                    let (pre_event, post_event) = crate::equations::events::pathway_bits(program, pre, post, &format!("projections.{name}"), proj.on_event.as_ref())?;
                    return Ok(ProjectionData {
                        name: name.clone(),
                        source,
                        target,
                        synapse: SynapseModel::Equations(program.clone()),
                        csr: place(csr),
                        source_activation: None,
                        event: None,
                        equation: Some(EquationSynapses {
                            state,
                            delays,
                            post_delays,
                            pre_event,
                            post_event,
                            spans: [groups.0, groups.1].map(|g| (g.first as u32, g.size as u32)),
                        }),
                        procedural: None,
                        blocks: 1,
                        block_weights: None,
                        link: None,
                    });
                }
                let synapse = proj.synapse_params(name)?;
                let csr = place(csr);
                let source_activation = match synapse {
                    SynapseModel::Graded(_) => {
                        let kind = populations[source].model.kind();
                        Some(kind.graded_activation().ok_or_else(|| {
                            crate::Error::config(
                                format!("projections.{name}.synapse"),
                                format!("the graded synapse needs a source model with an activation; `{}` has none", kind.name()),
                            )
                        })?)
                    }
                    _ => None,
                };
                let g0 = (proj.g0.as_ref(), format!("projections.{name}.g0"));
                let (csr, event) = match (&procedural, &proj.connectivity) {
                    // `csr` holds the rows by source; by target the projection is not drawn
                    // (nothing walks it that way), so its rows there are left empty.
                    (Some(rows), Connectivity::FixedProbability { p, .. }) if !matches!(synapse, SynapseModel::Graded(_)) => {
                        let n = csr.n_rows as f64;
                        // The largest in-degree any target will see, to 12 standard deviations
                        // of its binomial (or every source): the fixed point's headroom.
                        let bound = (n * p + 12.0 * (n * p * (1.0 - p)).sqrt() + 12.0).min(n);
                        let by_target = Csr {
                            n_rows: csr.n_cols,
                            n_cols: csr.n_rows,
                            row_ptr: vec![0; csr.n_cols + 1],
                            col_idx: Vec::new(),
                            weights: csr.weights.clone(),
                        };
                        let event = event_projection(&synapse, csr, bound as usize, rows.weight, g0, sim.dt_ms, sim.seed, index)?;
                        (by_target, event)
                    }
                    _ if matches!(synapse, SynapseModel::Graded(_) | SynapseModel::Equations(_)) => (csr, None),
                    _ => {
                        let max_indegree = csr
                            .row_ptr
                            .windows(2)
                            .map(|w| (w[1] - w[0]) as usize)
                            .max()
                            .unwrap_or(0);
                        let event = event_projection(&synapse, csr.transpose(), max_indegree, None, g0, sim.dt_ms, sim.seed, index)?;
                        (csr, event)
                    }
                };
                Ok(ProjectionData {
                    name: name.clone(),
                    source,
                    target,
                    synapse,
                    csr,
                    source_activation,
                    event,
                    equation: None,
                    procedural,
                    blocks: 1,
                    block_weights: None,
                    link: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for link in &config.resolved.links {
            let index = link.index_of(&populations[link.target].init, populations[link.source].size)?;
            projections.push(link_projection(link, index, populations[link.source].size));
        }
        if projections.iter().map(|p: &ProjectionData| p.n_synapses()).sum::<usize>() > 1 << 20 {
            release_freed_memory();
        }
        Ok(Network {
            dt_ms: sim.dt_ms,
            n_steps: (sim.duration_ms / sim.dt_ms).round() as u64,
            seed: sim.seed,
            populations,
            projections,
            batch: None,
        })
    }

    /// Neurons per instance of population `index`: its size, or its share of a batch's.
    pub fn instance_size(&self, index: usize) -> usize {
        let size = self.populations[index].size;
        self.batch.as_ref().map_or(size, |b| size / b.instances())
    }

    pub fn n_neurons(&self) -> usize {
        self.populations.iter().map(|p| p.size).sum()
    }

    /// Its synapses (linked variables' copies are none).
    pub fn n_synapses(&self) -> usize {
        self.projections.iter().filter(|p| p.link.is_none()).map(|p| p.n_synapses()).sum()
    }

    pub fn time_of_step(&self, step: u64) -> f64 {
        step as f64 * self.dt_ms
    }

    /// Steps of spike history population `index` keeps for the synapses written as equations
    /// that leave it or whose post pathway is delayed: one more than their longest delay.
    pub fn spike_slots(&self, index: usize) -> u32 {
        let delays = self.projections.iter().filter_map(|p| {
            let e = p.equation.as_ref()?;
            let pre = (p.source == index).then(|| e.max_delay());
            let post = (p.target == index).then(|| e.max_post_delay());
            Some(pre.into_iter().chain(post).max().unwrap_or(0))
        });
        1 + delays.max().unwrap_or(0)
    }
}

/// Where in a step linked variables are copied (`ProjectionData::link`), so that each holds
/// what Brian2's reference reads there (its groups update, then threshold, then the
/// synapses act, then the groups reset, each slot in the order of the groups' names): at the
/// step's start, for `run_regularly`, the recording and the update; once more after the
/// source's update: just before the target's update where the source updates first
/// (populations update in order), else after the updates, for the threshold-time recording
/// and the synapses; just before the target's reset where the reset reads it (after the
/// synapses, and after the source's own reset where the source comes first); and before a
/// trace at the step's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkCopy {
    Start,
    BeforeUpdate(usize),
    AfterUpdates,
    BeforeReset(usize),
    /// Before the traces of this population sampled at the step's end (Brian2's `end`).
    Recorded(usize),
}

/// When one link's copy runs: from population `source` into `target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkTiming {
    pub source: usize,
    pub target: usize,
    /// The target's reset reads the linked variable.
    pub before_reset: bool,
}

impl LinkTiming {
    pub fn of(link: &crate::config::Link) -> LinkTiming {
        LinkTiming {
            source: link.source,
            target: link.target,
            before_reset: link.reset_reads,
        }
    }

    /// Whether the copy runs at `at`.
    pub fn copied(self, at: LinkCopy) -> bool {
        match at {
            LinkCopy::Start => true,
            LinkCopy::BeforeUpdate(t) => t == self.target && self.source < self.target,
            LinkCopy::AfterUpdates => self.source >= self.target,
            LinkCopy::BeforeReset(t) => t == self.target && self.before_reset,
            LinkCopy::Recorded(t) => t == self.target,
        }
    }

    /// Its copies in every step (those before a trace at the step's end come on top, in the
    /// steps it samples).
    pub fn per_step(self) -> u64 {
        2 + self.before_reset as u64
    }
}

/// A linked variable as one synapse per target neuron from the source neuron it reads.
fn link_projection(link: &crate::config::Link, index: Vec<u32>, n_source: usize) -> ProjectionData {
    let n = index.len();
    let program = crate::equations::synapse::SynapseProgram::link(&link.name, link.slot, link.read.clone());
    ProjectionData {
        name: link.name.clone(),
        source: link.source,
        target: link.target,
        synapse: SynapseModel::Equations(std::sync::Arc::new(program)),
        csr: Csr {
            n_rows: n,
            n_cols: n_source,
            row_ptr: (0..=n as u32).collect(),
            col_idx: index,
            weights: crate::connectivity::Weights::Uniform(1.0),
        },
        source_activation: None,
        event: None,
        equation: Some(EquationSynapses {
            state: Vec::new(),
            delays: vec![0],
            post_delays: vec![0],
            pre_event: 0,
            post_event: 0,
            spans: [(0, n_source as u32), (0, n as u32)],
        }),
        procedural: None,
        blocks: 1,
        block_weights: None,
        link: Some(LinkTiming::of(link)),
    }
}

/// The connectivity is drawn one small `Vec` per row; once copied into the CSR they are freed,
/// but glibc keeps freed small blocks resident in its per-thread arenas, so the backend's
/// copy would come on top of them. Handing them back keeps the peak what `memory` estimates.
/// (Only past a million synapses: the trim walks the whole heap, which a sweep building
/// thousands of small networks beside its open output would pay for each.)
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator to the OS.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A procedural projection's row pointers (its lengths drawn for `fixed_probability`) with
/// its one weight, and what draws its rows and their weights (`crate::procedural`): rows by
/// target, or by source where `by_source` (validated: `fixed_probability` only, which is the same either way).
#[allow(clippy::too_many_arguments)]
fn procedural_rows(
    rule: &Connectivity,
    n_src: usize,
    n_tgt: usize,
    weight: &WeightSpec,
    same_population: bool,
    seed: u64,
    projection: usize,
    by_source: bool,
) -> (Csr, ProceduralRows) {
    let (n_src, n_tgt) = if by_source { (n_tgt, n_src) } else { (n_src, n_tgt) };
    let (autapses, row_ptr) = match rule {
        Connectivity::FixedIndegree { k, autapses, .. } => {
            (*autapses, ProceduralRows::fixed_lengths(n_tgt, *k as u32))
        }
        Connectivity::FixedProbability { autapses, .. } => (*autapses, Vec::new()),
        _ => unreachable!("validated: only fixed_indegree and fixed_probability are procedural"),
    };
    let rows = ProceduralRows {
        seed_key: crate::rng::seed_key(seed),
        projection: projection as u32,
        n_cols: n_src as u32,
        skip_diagonal: same_population && !autapses,
        weight: match *weight {
            WeightSpec::Constant(_) => None,
            WeightSpec::Uniform { uniform: [lo, hi] } => Some(DrawnWeight::uniform(lo, hi)),
            WeightSpec::Normal { normal: [mean, sd] } => Some(DrawnWeight::normal(mean, sd)),
        },
        instance_keys: Vec::new(),
    };
    let row_ptr = match rule {
        Connectivity::FixedProbability { p, .. } => rows.drawn_lengths(n_tgt, *p, seed),
        _ => row_ptr,
    };
    // A drawn weight has no one value: the matrix's is then unused.
    let w = match weight {
        WeightSpec::Constant(w) => *w,
        _ => 0.0,
    };
    let csr = Csr {
        n_rows: n_tgt,
        n_cols: n_src,
        row_ptr,
        col_idx: Vec::new(),
        weights: Weights::Uniform(w),
    };
    (csr, rows)
}

/// The event-driven data of a projection with `by_source` rows, no target of which takes more
/// than `max_indegree` synapses (the fixed point's headroom), their weights `by_source`'s or
/// `drawn` with each synapse (`procedural::to_fixed`, none stored); None for other synapses.
#[allow(clippy::too_many_arguments)]
fn event_projection(
    synapse: &SynapseModel,
    by_source: Csr,
    max_indegree: usize,
    drawn: Option<DrawnWeight>,
    g0: (Option<&InitValue>, String),
    dt: f64,
    seed: u64,
    index: usize,
) -> Result<Option<EventProjection>> {
    let (kind, tau_ms, e_rev, delay_ms) = match synapse {
        SynapseModel::Graded(_) | SynapseModel::Equations(_) => return Ok(None),
        SynapseModel::ExpCond(p) => (ExpKind::Conductance, p.tau_ms, p.e_rev, p.delay_ms),
        SynapseModel::ExpCurr(p) => (ExpKind::Current, p.tau_ms, 0.0, p.delay_ms),
    };
    let synapse = ExpSynapse {
        kind,
        tau_ms,
        e_rev,
        delay_steps: exp_synapse::delay_steps(delay_ms, dt),
    };
    let max_weight = match (&by_source.weights, drawn) {
        (_, Some(w)) => w.max_abs(),
        (Weights::Uniform(w), None) => w.abs(),
        (Weights::PerSynapse(ws), None) => ws.iter().fold(0.0f64, |m, w| m.max(w.abs())),
    };
    let fixed_scale = exp_synapse::fixed_point_scale(max_weight, max_indegree);
    let fixed_weights = match (&by_source.weights, drawn) {
        (_, Some(_)) => vec![0],
        (Weights::Uniform(w), None) => vec![exp_synapse::to_fixed(*w, fixed_scale)],
        (Weights::PerSynapse(ws), None) => ws
            .iter()
            .map(|&w| exp_synapse::to_fixed(w, fixed_scale))
            .collect(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x3c6e_f372_fe94_f82b);
    rng.set_stream(index as u64);
    let g0 = draw_values(g0.0, &g0.1, by_source.n_cols, 0.0, &mut rng)?;
    Ok(Some(EventProjection {
        synapse,
        by_source,
        g0,
        fixed_scale,
        fixed_weights,
    }))
}

/// Values for `size` neurons from an init spec (or `default` for all); `at` is its key.
fn draw_values(
    spec: Option<&InitValue>,
    at: &str,
    size: usize,
    default: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<f64>> {
    let bad = |e: &dyn std::fmt::Display| crate::Error::config(at, e.to_string());
    Ok(match spec {
        None => vec![default; size],
        Some(InitValue::Constant(x)) => vec![*x; size],
        Some(InitValue::PerNeuron(list)) => list.clone(),
        Some(InitValue::Uniform { uniform: [a, b] }) => {
            let d = Uniform::new_inclusive(*a, *b).map_err(|e| bad(&e))?;
            (0..size).map(|_| d.sample(rng)).collect()
        }
        Some(InitValue::Normal { normal: [mean, sd], min }) => {
            let d = Normal::new(*mean, *sd).map_err(|e| bad(&e))?;
            let floor = min.unwrap_or(f64::NEG_INFINITY);
            (0..size).map(|_| d.sample(rng).max(floor)).collect()
        }
        Some(InitValue::Expression(_)) => {
            return Err(crate::Error::config(at, "expressions are for models and synapses written as equations"))
        }
    })
}

/// Population `index`'s initial state as `Network::build` draws it (what an expression rule
/// reads of it before the network is built).
pub fn population_init(config: &Config, index: usize) -> Result<Vec<Vec<f64>>> {
    initial_state(config, config.model_params(index)?.as_ref(), index)
}

/// Population `population`'s initial state for its `model` (its parameters parsed).
fn initial_state(config: &Config, model: &dyn Neuron, population: usize) -> Result<Vec<Vec<f64>>> {
    let (name, pop) = config.populations.iter().nth(population).expect("a population of the config");
    let (size, given) = (pop.size as usize, &pop.init);
    let at = |var: &str| format!("populations.{name}.init.{var}");
    let mut rng = ChaCha8Rng::seed_from_u64(config.simulation.seed ^ 0xbb67_ae85_84ca_a73b);
    rng.set_stream(population as u64);
    let preset = config.resolved.nodes[population].as_ref().map_or(&[][..], |n| n.attributes.as_slice());
    if let Some(state) = model.initial_state(&format!("populations.{name}.init"), size, given, preset, &mut rng) {
        return state;
    }
    let first = model.kind().variables()[0].name;
    let v = draw_values(given.get(first), &at(first), size, model.default_v(), &mut rng)?;
    // Variables not given start at the model's rest for each neuron's own V.
    let rest: Vec<Vec<f64>> = v.iter().map(|&v| model.rest(v)).collect();
    let mut state = vec![v];
    for (k, var) in model.kind().variables().iter().enumerate().skip(1) {
        state.push(match given.get(var.name) {
            Some(spec) => draw_values(Some(spec), &at(var.name), size, 0.0, &mut rng)?,
            None => rest.iter().map(|r| r[k]).collect(),
        });
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::hh;

    #[test]
    fn gates_start_at_steady_state_and_draws_are_reproducible() {
        let text = r#"
[simulation]
dt_ms = 0.01
duration_ms = 1.0
[populations.a]
model = "hh"
size = 100
init = { v = { uniform = [-70.0, -60.0] } }
"#;
        let c = crate::config::parse(text, &[]).unwrap();
        let a = Network::build(&c).unwrap();
        let b = Network::build(&c).unwrap();
        assert_eq!(a.populations[0].init, b.populations[0].init);
        let v = &a.populations[0].init[0];
        assert!(v.iter().all(|&x| (-70.0..=-60.0).contains(&x)));
        let m0 = hh::steady_state(hh::alpha_m(v[0]), hh::beta_m(v[0]));
        assert_eq!(a.populations[0].init[1][0], m0);
        assert_eq!(a.n_steps, 100);
    }
}
