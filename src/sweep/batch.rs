//! A sweep's instances as one network for the GPU: each population holds every instance's
//! neurons, instance-major (instance k's neuron i at k·N + i); the matrices are
//! block-diagonal, one block per instance, stored once where every instance connects the
//! same neurons (`ProjectionData::blocks`; each instance with its own weight where only the
//! projection's one weight differs, `block_weights`) and side by side otherwise (always for
//! synapses written as equations, whose state is per synapse); each instance keeps its
//! model's `Params` and its seed in the network's `BatchLayout`, which the models' instance
//! tables hold per neuron. One set of buffers and one dispatch per kernel per step then
//! serves the whole batch, and each instance computes what its own run computes: its noise is
//! drawn by its seed and its neurons' indices within it, its sums run over its own block in
//! its own order.
//! `split` hands each instance its share of every chunk the merged run records.

use crate::connectivity::{Csr, Weights};
use crate::procedural::ProceduralRows;
use crate::network::{BatchLayout, EquationSynapses, EventProjection, Network, PopulationData, ProjectionData};
use crate::record::{ChunkOutput, RecordPlan, TraceChunk, TracePlan};
use crate::simulator::SynapseValues;

/// The merged network of a batch of instances, its recording plan, and what splits its output.
pub struct Batched {
    pub net: Network,
    pub plan: RecordPlan,
    /// Per population, its neurons in one instance.
    pub sizes: Vec<usize>,
    /// Per trace, its neurons in one instance.
    pub traced: Vec<usize>,
    /// Per projection, each instance's synapses (in the merged matrix's order).
    pub synapses: Vec<Vec<usize>>,
    pub instances: usize,
}

/// Why `other` cannot share one network with `first`, if it cannot: anything but their
/// models' parameters, seeds, initial values and matrices (of the same shape) must be the
/// same, and every model must read an instance table.
pub fn unfit(first: (&Network, &RecordPlan), other: (&Network, &RecordPlan)) -> Option<String> {
    let ((a, a_plan), (net, plan)) = (first, other);
    if net.dt_ms != a.dt_ms || net.n_steps != a.n_steps {
        return Some("another clock".into());
    }
    if net.populations.len() != a.populations.len() || net.projections.len() != a.projections.len() {
        return Some("another shape".into());
    }
    for (p, q) in net.populations.iter().zip(&a.populations) {
        let kind = p.model.kind();
        if !kind.instance_table() {
            return Some(format!("the {} model reads one set of parameters", kind.name()));
        }
        // A model written as equations has its constants in its code.
        let same_code = kind.generated_wgsl() == q.model.kind().generated_wgsl();
        if p.size != q.size || kind.name() != q.model.kind().name() || !same_code || p.model.gpu_data() != q.model.gpu_data() {
            return Some(format!("population `{}` differs in size or model", p.name));
        }
    }
    for (p, q) in net.projections.iter().zip(&a.projections) {
        // A synapse's draws are keyed by the network's seed and its index in its instance
        // (`SynapseInfoGpu::instance_synapses`): alike only with one seed and the same
        // connections.
        if let crate::config::SynapseModel::Equations(program) = &p.synapse {
            if program.streams > 0 && (net.seed != a.seed || !same_connections(p, q)) {
                return Some(format!("projection `{}` draws random numbers: only instances of one seed and the same connections share a batch", p.name));
            }
        }
        // Drawn rows: drawn alike with any seed (and rows of any lengths), weighed alike or
        // each with its one weight.
        let drawn = p.procedural.is_some() || q.procedural.is_some();
        if drawn && !(same_rule(p, q) && (same_weights(p, q) || (one_weight(p).is_some() && one_weight(q).is_some()))) {
            return Some(format!("projection `{}` is drawn procedurally with other autapses or another weight distribution", p.name));
        }
        // The synapses' parameters, and the event-driven arrivals' fixed-point scale, are
        // one per projection for the whole batch.
        let same_synapse = format!("{:?}", p.synapse) == format!("{:?}", q.synapse);
        let same_events = match (&p.event, &q.event) {
            (None, None) => true,
            (Some(x), Some(y)) => x.synapse == y.synapse && x.fixed_scale == y.fixed_scale,
            _ => false,
        };
        if !same_synapse
            || !same_events
            || p.source != q.source
            || p.target != q.target
            || p.source_activation != q.source_activation
            || p.equation.as_ref().map(|e| (e.pre_event, e.post_event, e.spans)) != q.equation.as_ref().map(|e| (e.pre_event, e.post_event, e.spans))
            || (p.csr.n_rows, p.csr.n_cols) != (q.csr.n_rows, q.csr.n_cols)
        {
            return Some(format!("projection `{}` differs in its synapse", p.name));
        }
    }
    let same_traces = plan.traces.len() == a_plan.traces.len()
        && plan.traces.iter().zip(&a_plan.traces).all(|(t, u)| {
            t.projection.is_none()
                && t.population == u.population
                && t.variables == u.variables
                && t.every == u.every
                && t.when == u.when
                && t.neurons == u.neurons
                && t.subgroup == u.subgroup
        });
    if plan.spikes != a_plan.spikes || plan.rates != a_plan.rates || plan.smooth_rate != a_plan.smooth_rate || plan.spike_values != a_plan.spike_values || plan.events != a_plan.events || plan.event_values != a_plan.event_values || plan.event_groups != a_plan.event_groups || plan.subgroups != a_plan.subgroups || !same_traces {
        return Some("it records otherwise".into());
    }
    None
}

fn projection(net: &Network, index: usize) -> &ProjectionData {
    &net.projections[index]
}

/// Whether `a` and `b` connect the same neurons (by target, and by source where the synapses
/// are event-driven).
fn same_connections(a: &ProjectionData, b: &ProjectionData) -> bool {
    let rows_eq = |x: &Csr, y: &Csr| x.n_rows == y.n_rows && x.n_cols == y.n_cols && x.row_ptr == y.row_ptr && x.col_idx == y.col_idx;
    rows_eq(&a.csr, &b.csr)
        && match (&a.event, &b.event) {
            (None, None) => true,
            (Some(x), Some(y)) => rows_eq(&x.by_source, &y.by_source),
            _ => false,
        }
}

/// Whether `a` and `b` are procedural projections drawn alike but for their seeds (their
/// rows' lengths are the matrices').
fn same_rule(a: &ProjectionData, b: &ProjectionData) -> bool {
    match (&a.procedural, &b.procedural) {
        (Some(x), Some(y)) => ProceduralRows { seed_key: y.seed_key, ..x.clone() } == *y,
        _ => false,
    }
}

/// Whether every one of `all` (procedural) draws with the first's seed.
fn one_seed(all: &[&ProjectionData]) -> bool {
    all.iter().all(|q| q.procedural == all[0].procedural)
}

/// Whether `a` and `b` weigh their synapses alike.
fn same_weights(a: &ProjectionData, b: &ProjectionData) -> bool {
    a.csr.weights == b.csr.weights
        && match (&a.event, &b.event) {
            (Some(x), Some(y)) => x.by_source.weights == y.by_source.weights && x.fixed_weights == y.fixed_weights,
            _ => true,
        }
}

/// The one weight of all of `p`'s synapses, if they have one.
fn one_weight(p: &ProjectionData) -> Option<f64> {
    let Weights::Uniform(w) = p.csr.weights else { return None };
    let event_one = p.event.as_ref().is_none_or(|e| e.fixed_weights.len() == 1 && matches!(e.by_source.weights, Weights::Uniform(_)));
    event_one.then_some(w)
}

/// How a batch stores the instances' matrices of one projection: once for all, with every
/// instance's own weight where only that differs (`Some(Some(weights))`), or side by side
/// (None).
fn stored_once(all: &[&ProjectionData]) -> Option<Option<Vec<f64>>> {
    let first = all[0];
    if !all.iter().all(|q| same_connections(q, first)) {
        return None;
    }
    if all.iter().all(|q| same_weights(q, first)) {
        return Some(None);
    }
    all.iter().map(|q| one_weight(q)).collect::<Option<Vec<f64>>>().map(Some)
}

/// The instances' synapses written as equations, in the merged matrix's order (instance after
/// instance): each variable's column joined, each pathway's delays one for all where every
/// instance has the same one, else one per synapse.
fn equation_synapses(all: &[&ProjectionData]) -> EquationSynapses {
    let each: Vec<&EquationSynapses> = all.iter().map(|q| q.equation.as_ref().expect("checked alike")).collect();
    let state = (0..each[0].state.len())
        .map(|var| each.iter().flat_map(|e| e.state[var].iter().copied()).collect())
        .collect();
    let joined = |delays_of: fn(&EquationSynapses) -> &Vec<u32>| -> Vec<u32> {
        let first = delays_of(each[0]);
        if each.iter().all(|e| delays_of(e).len() == 1 && delays_of(e) == first) {
            return first.clone();
        }
        all.iter()
            .zip(&each)
            .flat_map(|(q, e)| {
                let delays = delays_of(e);
                (0..q.csr.n_synapses()).map(move |s| delays[if delays.len() == 1 { 0 } else { s }])
            })
            .collect()
    };
    EquationSynapses {
        state,
        delays: joined(|e| &e.delays),
        post_delays: joined(|e| &e.post_delays),
        pre_event: each[0].pre_event,
        post_event: each[0].post_event,
        spans: each[0].spans,
    }
}

/// `nets` (with their plans) as one network, or why they cannot be.
pub fn merge(nets: &[&Network], plans: &[&RecordPlan]) -> Result<Batched, String> {
    let first = *nets.first().ok_or("no instances")?;
    for (k, (net, plan)) in nets.iter().zip(plans).enumerate() {
        if let Some(why) = unfit((first, plans[0]), (net, plan)) {
            return Err(format!("instance {k}: {why}"));
        }
    }
    let k = nets.len();
    let populations = first
        .populations
        .iter()
        .enumerate()
        .map(|(index, p)| PopulationData {
            name: p.name.clone(),
            size: p.size * k,
            model: p.model.clone(),
            init: (0..p.init.len())
                .map(|var| nets.iter().flat_map(|n| n.populations[index].init[var].iter().copied()).collect())
                .collect(),
        })
        .collect();
    let projections = first
        .projections
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let all: Vec<&ProjectionData> = nets.iter().map(|n| projection(n, index)).collect();
            // One stored block serves every instance when they connect the same neurons and
            // weigh them alike, or each with one weight of its own. Synapses written as
            // equations keep their state per synapse: theirs stay side by side. Procedural
            // rows of several seeds (or lengths) lie side by side too, each instance with its
            // key (and its one weight where they differ).
            let once = if p.equation.is_some() { None } else { stored_once(&all) };
            let once = once.filter(|_| p.procedural.is_none() || one_seed(&all));
            let own_seeds = p.procedural.is_some() && once.is_none();
            let shared = once.is_some();
            let block_weights = match once {
                Some(weights) => weights,
                None if own_seeds && !all.iter().all(|q| same_weights(q, p)) => all.iter().map(|q| one_weight(q)).collect(),
                None => None,
            };
            let event = p.event.as_ref().map(|e| {
                let events: Vec<&EventProjection> = all.iter().map(|q| q.event.as_ref().expect("checked alike")).collect();
                let g0 = events.iter().flat_map(|x| x.g0.iter().copied()).collect();
                if shared || own_seeds {
                    let by_source = match shared {
                        true => e.by_source.clone(),
                        false => Csr { weights: e.by_source.weights.clone(), ..Csr::block_diagonal(events.iter().map(|e| &e.by_source)) },
                    };
                    return EventProjection {
                        by_source,
                        g0,
                        fixed_weights: match block_weights {
                            Some(_) => events.iter().map(|x| x.fixed_weights[0]).collect(),
                            None => e.fixed_weights.clone(),
                        },
                        ..e.clone()
                    };
                }
                let by_source = Csr::block_diagonal(events.iter().map(|e| &e.by_source));
                let same_weight = events.iter().all(|x| x.fixed_weights.len() == 1 && x.fixed_weights == e.fixed_weights);
                EventProjection {
                    synapse: e.synapse,
                    g0,
                    fixed_scale: e.fixed_scale,
                    fixed_weights: if same_weight {
                        e.fixed_weights.clone()
                    } else {
                        events
                            .iter()
                            .flat_map(|x| {
                                let n = x.by_source.n_synapses();
                                (0..n).map(move |s| x.fixed_weights[if x.fixed_weights.len() == 1 { 0 } else { s }])
                            })
                            .collect()
                    },
                    by_source,
                }
            });
            ProjectionData {
                name: p.name.clone(),
                source: p.source,
                target: p.target,
                synapse: p.synapse.clone(),
                csr: match (shared, own_seeds) {
                    (true, _) => p.csr.clone(),
                    // No weight per synapse: the one weight, or each instance's.
                    (false, true) => Csr { weights: p.csr.weights.clone(), ..Csr::block_diagonal(all.iter().map(|q| &q.csr)) },
                    (false, false) => Csr::block_diagonal(all.iter().map(|q| &q.csr)),
                },
                source_activation: p.source_activation,
                event,
                equation: p.equation.as_ref().map(|_| equation_synapses(&all)),
                // Alike in every instance but for the seed (`unfit`).
                procedural: p.procedural.as_ref().map(|rows| ProceduralRows {
                    instance_keys: if own_seeds { all.iter().map(|q| q.procedural.as_ref().expect("checked alike").seed_key).collect() } else { Vec::new() },
                    ..rows.clone()
                }),
                blocks: if shared { k } else { 1 },
                block_weights,
                link: p.link,
            }
        })
        .collect();
    let sizes: Vec<usize> = first.populations.iter().map(|p| p.size).collect();
    let plan = RecordPlan {
        spikes: plans[0].spikes.clone(),
        rates: plans[0].rates.clone(),
        smooth_rate: plans[0].smooth_rate.clone(),
        spike_values: plans[0].spike_values.clone(),
        events: plans[0].events.clone(),
        event_values: plans[0].event_values.clone(),
        event_groups: plans[0].event_groups.clone(),
        subgroups: plans[0].subgroups.clone(),
        traces: plans[0]
            .traces
            .iter()
            .map(|t| TracePlan {
                neurons: (0..k)
                    .flat_map(|i| {
                        let base = (i * sizes[t.population]) as u32;
                        t.neurons.iter().map(move |&n| n + base)
                    })
                    .collect(),
                ..t.clone()
            })
            .collect(),
    };
    Ok(Batched {
        net: Network {
            dt_ms: first.dt_ms,
            n_steps: first.n_steps,
            seed: first.seed,
            populations,
            projections,
            batch: Some(BatchLayout {
                seeds: nets.iter().map(|n| n.seed).collect(),
                params: (0..first.populations.len())
                    .map(|p| nets.iter().map(|n| n.populations[p].model.gpu_params()).collect())
                    .collect(),
            }),
        },
        traced: plans[0].traces.iter().map(|t| t.neurons.len()).collect(),
        synapses: (0..first.projections.len())
            .map(|p| nets.iter().map(|n| n.projections[p].csr.n_synapses()).collect())
            .collect(),
        plan,
        sizes,
        instances: k,
    })
}

impl Batched {
    /// The merged run's synapse variables as each instance's own: each projection's columns
    /// cut at the instances' synapse counts.
    pub fn split_synapses(&self, values: &SynapseValues) -> Vec<SynapseValues> {
        let mut out: Vec<SynapseValues> = vec![Vec::with_capacity(values.len()); self.instances];
        for (columns, counts) in values.iter().zip(&self.synapses) {
            let mut start = 0;
            for (own, &n) in out.iter_mut().zip(counts) {
                own.push(columns.as_ref().map(|cs| cs.iter().map(|c| c[start..start + n].to_vec()).collect()));
                start += n;
            }
        }
        out
    }

    /// The merged run's `chunk` as each instance's own chunk: its spikes with its neurons'
    /// indices, its traced neurons' samples. One pass over the spikes, in their order.
    pub fn split(&self, chunk: &ChunkOutput) -> Vec<ChunkOutput> {
        let mut out: Vec<ChunkOutput> = (0..self.instances)
            .map(|_| ChunkOutput {
                first_step: chunk.first_step,
                n_steps: chunk.n_steps,
                spikes: vec![Vec::new(); chunk.spikes.len()],
                spike_values: vec![Vec::new(); chunk.spikes.len()],
                events: vec![Vec::new(); chunk.events.len()],
                event_values: vec![Vec::new(); chunk.events.len()],
                traces: Vec::with_capacity(chunk.traces.len()),
                diverged: None,
            })
            .collect();
        for (population, (spikes, &n)) in chunk.spikes.iter().zip(&self.sizes).enumerate() {
            // Each spike's row of values, where the plan records them, goes with it.
            let values = &chunk.spike_values[population];
            let width = if spikes.is_empty() { 0 } else { values.len() / spikes.len() };
            for (s, row) in spikes.iter().zip((0..).map(|r| r * width)) {
                let k = s.neuron as usize / n;
                out[k].spikes[population].push(crate::record::Spike { step: s.step, neuron: s.neuron - (k * n) as u32 });
                out[k].spike_values[population].extend_from_slice(&values[row..row + width]);
            }
        }
        for (r, events) in chunk.events.iter().enumerate() {
            let n = self.sizes[self.plan.events[r].0];
            let width = self.plan.event_values[r].len();
            for (s, row) in events.iter().zip((0..).map(|r| r * width)) {
                let k = s.neuron as usize / n;
                out[k].events[r].push(crate::record::Spike { step: s.step, neuron: s.neuron - (k * n) as u32 });
                out[k].event_values[r].extend_from_slice(&chunk.event_values[r][row..row + width]);
            }
        }
        for (t, &m) in chunk.traces.iter().zip(&self.traced) {
            for (k, o) in out.iter_mut().enumerate() {
                o.traces.push(TraceChunk {
                    n_samples: t.n_samples,
                    data: t
                        .data
                        .iter()
                        .map(|rows| {
                            (0..t.n_samples)
                                .flat_map(|row| {
                                    let at = row * m * self.instances + k * m;
                                    rows[at..at + m].iter().copied()
                                })
                                .collect()
                        })
                        .collect(),
                });
            }
        }
        out
    }
}
