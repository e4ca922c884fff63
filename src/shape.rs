//! A network's sizes without its arrays: what memory estimates and device limits are checked
//! against before anything large is allocated. Built from a validated config (synapse counts
//! from the rules; `fixed_probability` at its expected count) or from a built network (exact).

use crate::config::{Config, Connectivity, SynapseName, WeightSpec};
use crate::model::{exp_synapse, Kind};
use crate::connectivity::Weights;
use crate::network::Network;

#[derive(Clone, Debug)]
pub struct PopulationShape {
    pub name: String,
    pub model: Kind,
    pub size: u64,
    /// State variables of the model.
    pub n_vars: usize,
}

/// The same population: models compare by name.
impl PartialEq for PopulationShape {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.model.name(), self.size, self.n_vars)
            == (&other.name, other.model.name(), other.size, other.n_vars)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionShape {
    pub name: String,
    pub source: usize,
    pub target: usize,
    pub n_source: u64,
    pub n_target: u64,
    pub synapses: u64,
    /// A weight stored per synapse (else one for the projection).
    pub per_synapse_weights: bool,
    /// Event-driven synapses: slots of the delay ring per target neuron.
    pub ring_slots: Option<u64>,
    /// Synapses written as equations: the values each keeps (its variables, and its delays
    /// where a pathway's delay is per synapse); 0 for the built-in synapses.
    pub values_per_synapse: u64,
    /// Synapses written as equations: their GPU passes per step (summation, marking of
    /// arrivals, delivery).
    pub equation_passes: Option<u64>,
    /// Synapses written as equations whose GPU pre pathway marks the synapses its spikes
    /// reach: the steps of arrivals it keeps (`SynapseProgram::arrival_slots`; 0: walked).
    /// Each synapse then keeps its index in its source's list and a bit per step, each part
    /// of its matrix a pointer per source (`arrival_bytes`), and the pass binds three more
    /// buffers.
    pub arrival_slots: u64,
    /// Synapses written as equations: the longest delay of their `on_pre` pathway in steps,
    /// which sets the spike history their source keeps (`Shape::spike_slots`); 0 for the
    /// built-ins, whose delays live in their rings. None where each synapse's delay is drawn
    /// and the longest is only known once the network is built.
    pub delay_steps: Option<u64>,
    /// The longest delay of the on_post pathway in steps (`EquationSynapses::post_delays`),
    /// which sets the spike history its target keeps; None where it is drawn per synapse.
    pub post_delay_steps: Option<u64>,
    /// Synapses written as equations that read timed arrays (their shader binds one more
    /// buffer).
    pub reads_tables: bool,
    /// Rows drawn every step, no sources stored (`crate::procedural`).
    pub procedural: bool,
    /// The diagonal blocks one stored matrix stands for (`ProjectionData::blocks`): its
    /// synapses and rows divided by this are what its buffers hold.
    pub blocks: u64,
    /// A linked variable's copy (`ProjectionData::link`): one "synapse" per target neuron,
    /// `LinkTiming::per_step` copies per step, no synapse of the network.
    pub link: bool,
}

impl ProjectionShape {
    /// The GPU bytes of the marked arrivals of a matrix part of `synapses` over `n_source`
    /// sources (`arrival_slots`; 0 without): their lists by source, pointers and bits.
    pub fn arrival_bytes(&self, synapses: u64, n_source: u64) -> [(&'static str, u64); 3] {
        let on = (self.arrival_slots > 0) as u64;
        let bits = self.arrival_slots * synapses.div_ceil(32) * 4;
        [("out_syn", on * synapses * 4), ("out_ptr", on * (n_source + 1) * 4), ("arrived", bits)]
    }

    /// The built-in graded synapse (summed every step).
    pub fn is_graded(&self) -> bool {
        self.ring_slots.is_none() && self.equation_passes.is_none()
    }

    /// A built-in event-driven synapse.
    pub fn is_event_driven(&self) -> bool {
        self.ring_slots.is_some()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub populations: Vec<PopulationShape>,
    pub projections: Vec<ProjectionShape>,
    pub n_steps: u64,
    pub dt_ms: f64,
}

impl Shape {
    pub fn from_config(config: &Config) -> Shape {
        let sim = &config.simulation;
        let populations: Vec<PopulationShape> = config
            .populations
            .iter()
            .enumerate()
            .map(|(index, (name, p))| PopulationShape {
                name: name.clone(),
                model: config.model(index).clone(),
                size: p.size,
                n_vars: config.model(index).variables().len(),
            })
            .collect();
        let projections = config
            .projections
            .iter()
            .zip(&config.resolved.projections)
            .zip(&config.resolved.synapses)
            .zip(&config.resolved.edges)
            .enumerate()
            .map(|(index, ((((name, p), ends), program), edges))| {
                let (source, target) = (ends.source, ends.target);
                let (n_source, n_target) = (populations[source].size, populations[target].size);
                // Drawn between its groups (a subgroup's neurons, or all).
                let (n_pre, n_post) = (ends.source_group.size, ends.target_group.size);
                let same = source == target && ends.source_group.first == ends.target_group.first;
                let synapses = match &p.connectivity {
                    Connectivity::AllToAll { autapses } => {
                        n_pre * n_post - if same && !autapses { n_post } else { 0 }
                    }
                    Connectivity::OneToOne => n_post,
                    Connectivity::FixedProbability { p, .. } => {
                        (p * n_pre as f64 * n_post as f64).ceil() as u64
                    }
                    Connectivity::FixedIndegree { k, .. } | Connectivity::Ring { k } => {
                        k * n_post
                    }
                    Connectivity::Explicit { pre, .. } => pre.len() as u64,
                    Connectivity::Sonata { .. } => edges.as_ref().map_or(0, |e| e.len() as u64),
                    Connectivity::Expression { .. } => expected_by_expression(config, index, *ends),
                };
                let per_synapse_weights = !matches!(p.weight, WeightSpec::Constant(_))
                    || matches!(
                        &p.connectivity,
                        Connectivity::Explicit {
                            weight: Some(_),
                            ..
                        }
                    )
                    || edges.as_ref().is_some_and(|e| e.attribute("syn_weight").is_some())
                    || p.connectivity.weight_scale().is_some();
                // Validated: the parameters read.
                let delay_ms = p.synapse_params(name).ok().and_then(|s| s.delay_ms());
                let ring_slots = config.builtin_synapse(p).is_some_and(|b| b != SynapseName::Graded).then(|| {
                    let steps = exp_synapse::delay_steps(delay_ms.unwrap_or(0.0), sim.dt_ms);
                    exp_synapse::ring_slots(steps) as u64
                });
                let (pre, post) = (config.model(source).equations(), config.model(target).equations());
                let edge_delays = edges.as_ref().and_then(|e| e.attribute("delay"));
                let delay_steps = match program {
                    None => Some(0),
                    Some(program) => pre.zip(post).and_then(|(pre, post)| {
                        crate::equations::init::longest_delay_steps(program, pre, post, p.delay.as_deref(), edge_delays, sim.dt_ms * 1e-3)
                    }),
                };
                let uniform_delay = crate::equations::init::uniform_delay(p.delay.as_deref(), edge_delays, delay_steps, sim.dt_ms * 1e-3);
                // A constant, or drawn per synapse (None).
                let post_delay_steps = match (program, pre.zip(post)) {
                    (Some(program), Some((pre, post))) => crate::equations::init::longest_delay_steps(program, pre, post, p.post_delay.as_deref(), None, sim.dt_ms * 1e-3),
                    _ => Some(0),
                };
                // Drawn delays, whose longest is unknown here, are counted as walked.
                let arrival_slots = program.as_ref().map_or(0, |e| e.arrival_slots(uniform_delay, delay_steps));
                ProjectionShape {
                    name: name.clone(),
                    source,
                    target,
                    n_source,
                    n_target,
                    synapses,
                    per_synapse_weights,
                    ring_slots,
                    values_per_synapse: program
                        .as_ref()
                        .map_or(0, |e| e.vars.len() as u64 + !uniform_delay as u64 + post_delay_steps.is_none() as u64),
                    equation_passes: program.as_ref().map(|e| e.gpu_passes(arrival_slots)),
                    arrival_slots,
                    delay_steps,
                    post_delay_steps,
                    reads_tables: program.as_ref().is_some_and(|e| e.reads_tables()),
                    procedural: p.connectivity.is_procedural(),
                    blocks: 1,
                    link: false,
                }
            })
            .chain(config.resolved.links.iter().map(|l| link_shape(l, &populations)))
            .collect();
        Shape {
            populations,
            projections,
            n_steps: (sim.duration_ms / sim.dt_ms).round() as u64,
            dt_ms: sim.dt_ms,
        }
    }

    pub fn from_network(net: &Network) -> Shape {
        Shape {
            populations: net
                .populations
                .iter()
                .map(|p| PopulationShape {
                    name: p.name.clone(),
                    model: crate::model::shared(p.model.kind()),
                    size: p.size as u64,
                    n_vars: p.variables().len(),
                })
                .collect(),
            projections: net
                .projections
                .iter()
                .map(|p| {
                    let program = match &p.synapse {
                        crate::config::SynapseModel::Equations(e) => Some(e),
                        _ => None,
                    };
                    let arrival_slots = program.zip(p.equation.as_ref()).map_or(0, |(program, e)| e.arrival_slots(program));
                    ProjectionShape {
                        name: p.name.clone(),
                        source: p.source,
                        target: p.target,
                        n_source: p.n_source() as u64,
                        n_target: p.n_target() as u64,
                        synapses: p.n_synapses() as u64,
                        per_synapse_weights: matches!(p.csr.weights, Weights::PerSynapse(_)),
                        ring_slots: p.event.as_ref().map(|e| e.synapse.ring_slots() as u64),
                        values_per_synapse: p
                            .equation
                            .as_ref()
                            .map_or(0, |e| e.state.len() as u64 + !e.uniform_delay() as u64 + !e.uniform_post_delay() as u64),
                        equation_passes: program.map(|e| p.link.map_or_else(|| e.gpu_passes(arrival_slots), |l| l.per_step())),
                        arrival_slots,
                        delay_steps: Some(p.equation.as_ref().map_or(0, |e| e.max_delay() as u64)),
                        post_delay_steps: Some(p.equation.as_ref().map_or(0, |e| e.max_post_delay() as u64)),
                        reads_tables: program.is_some_and(|e| e.reads_tables()),
                        procedural: p.procedural.is_some(),
                        blocks: p.blocks as u64,
                        link: p.link.is_some(),
                    }
                })
                .collect(),
            n_steps: net.n_steps,
            dt_ms: net.dt_ms,
        }
    }

    pub fn n_neurons(&self) -> u64 {
        self.populations.iter().map(|p| p.size).sum()
    }

    /// The synapses of its projections (linked variables' copies are none).
    pub fn n_synapses(&self) -> u64 {
        self.projections.iter().filter(|p| !p.link).map(|p| p.synapses).sum()
    }

    /// Steps of spike flags population `index` keeps: one more than the longest delay of the
    /// synapses written as equations that leave it, or of the post pathways of those that
    /// reach it (as `Network::spike_slots`). Where such a
    /// delay is only known once drawn, it counts as none: the figure is then a least one,
    /// which `spike_slots_known` tells.
    pub fn spike_slots(&self, index: usize) -> u64 {
        let pre = self.projections.iter().filter(|p| p.source == index).filter_map(|p| p.delay_steps);
        let post = self.projections.iter().filter(|p| p.target == index).filter_map(|p| p.post_delay_steps);
        1 + pre.chain(post).max().unwrap_or(0)
    }

    /// Whether `spike_slots(index)` is exact (no delay leaving the population, nor of a post
    /// pathway reaching it, is drawn).
    pub fn spike_slots_known(&self, index: usize) -> bool {
        let pre = self.projections.iter().filter(|p| p.source == index).all(|p| p.delay_steps.is_some());
        pre && self.projections.iter().filter(|p| p.target == index).all(|p| p.post_delay_steps.is_some())
    }

    /// Whether event-driven projections leave population `index` (its spikes are propagated).
    pub fn sends_events(&self, index: usize) -> bool {
        self.projections
            .iter()
            .any(|p| p.is_event_driven() && p.source == index)
    }

    /// Whether population `index` is the target of built-in event-driven projections.
    pub fn receives_events(&self, index: usize) -> bool {
        self.projections
            .iter()
            .any(|p| p.is_event_driven() && p.target == index)
    }
}

/// A linked variable's copy as the projection the network builds for it
/// (`network::link_projection`): one synapse per target neuron.
fn link_shape(link: &crate::config::Link, populations: &[PopulationShape]) -> ProjectionShape {
    let n_target = populations[link.target].size;
    ProjectionShape {
        name: link.name.clone(),
        source: link.source,
        target: link.target,
        n_source: populations[link.source].size,
        n_target,
        synapses: n_target,
        per_synapse_weights: false,
        ring_slots: None,
        values_per_synapse: 0,
        equation_passes: Some(crate::network::LinkTiming::of(link).per_step()),
        arrival_slots: 0,
        delay_steps: Some(0),
        post_delay_steps: Some(0),
        reads_tables: false,
        procedural: false,
        blocks: 1,
        link: true,
    }
}

/// The synapses an expression rule is expected to make (`ConnectExpression::expected_synapses`),
/// from its populations' initial variables where it reads them. A config that validated
/// compiles; should drawing its initial values fail, every pair counts.
fn expected_by_expression(config: &Config, index: usize, ends: crate::config::Ends) -> u64 {
    use crate::connectivity::expression::{of_config, States};
    let (pre, post) = (ends.source_group, ends.target_group);
    let all = pre.size * post.size;
    let Ok(Some(rule)) = of_config(config, index) else { return all };
    let states = if rule.reads_neurons() {
        match (crate::network::population_init(config, ends.source), crate::network::population_init(config, ends.target)) {
            (Ok(a), Ok(b)) => (crate::network::within(&a, pre).into_owned(), crate::network::within(&b, post).into_owned()),
            _ => return all,
        }
    } else {
        (Vec::new(), Vec::new())
    };
    rule.expected_synapses(pre.size as usize, post.size as usize, States { pre: &states.0, post: &states.1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_shape_is_the_built_networks_where_the_rules_fix_the_counts() {
        let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 10.0
[populations.a]
model = "hh_traub"
size = 50
[populations.b]
model = "lif"
size = 30
[projections.ab]
source = "a"
target = "b"
synapse = "exp_cond"
params = { tau_ms = 5.0, e_rev = 0.0, delay_ms = 1.0 }
weight = { uniform = [0.0, 1.0] }
connectivity = { rule = "fixed_indegree", k = 7 }
[projections.aa]
source = "a"
target = "a"
synapse = "exp_curr"
params = { tau_ms = 5.0 }
connectivity = { rule = "all_to_all", autapses = false }
"#;
        let config = crate::config::parse(text, &[]).unwrap();
        let net = Network::build(&config).unwrap();
        assert_eq!(Shape::from_config(&config), Shape::from_network(&net));
    }
}
