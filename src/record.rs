//! What to record (the plan) and what one chunk of steps produced (the chunk output).
//!
//! Traces sample the state at the start of step k for every k that is a multiple of
//! `every`, i.e. at t = 0, every·dt, 2·every·dt, … < duration. A spike detected during step k
//! (V crossing the threshold between t_k and t_{k+1}) is stamped t_{k+1}.

use crate::config::{Config, NeuronSelection};
use crate::network::Network;
use std::borrow::Cow;

pub use crate::config::TraceVar;

#[derive(Clone, Debug)]
pub struct TracePlan {
    pub population: usize,
    /// Where in the step it samples.
    pub when: Sampled,
    /// A trace of a projection's synapses (written as equations): its index; `variables` are
    /// then the synaptic variables and `neurons` the synapses (CSR order).
    pub projection: Option<usize>,
    pub variables: Vec<TraceVar>,
    /// The variables' names, as the output file calls them.
    pub names: Vec<String>,
    pub neurons: Vec<u32>,
    pub every: u64,
    /// A trace of a subgroup (Brian2's `StateMonitor(P[a:b], ...)`): its name, under which the
    /// output holds it, and its first neuron `a`, from which the output numbers `neurons`
    /// (the population's indices here, as the backends sample them).
    pub subgroup: Option<(String, u32)>,
}

/// Where in a step a trace samples (or a run_regularly runs), as Brian2's `when` names the
/// slots: at the start (its default, before the update), after the update and thresholds
/// (before the synapses and resets: a spiking neuron's value over its threshold), or at the
/// end (after the resets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sampled {
    #[default]
    Start,
    AfterUpdates,
    End,
}

impl Sampled {
    /// Brian2's slot names (with their `before_`/`after_` forms) as ganglion samples them;
    /// Err names those it cannot: within the synapses' slot, whose order among the synapses
    /// Brian2 sets by name.
    pub fn of_brian2(when: &str) -> std::result::Result<Sampled, String> {
        Ok(match when {
            "start" | "before_start" | "after_start" | "before_groups" => Sampled::Start,
            "groups" | "after_groups" | "before_thresholds" | "thresholds" | "after_thresholds" | "before_synapses" => Sampled::AfterUpdates,
            "resets" | "after_resets" | "before_end" | "end" | "after_end" => Sampled::End,
            "synapses" | "after_synapses" | "before_resets" => {
                return Err(format!("`{when}` (between the synapses and the resets) is not a slot ganglion runs in; use \"after_thresholds\" (before the synapses) or \"end\" (after the resets)"))
            }
            _ => return Err(format!("unknown slot `{when}`; Brian2's are start, groups, thresholds, synapses, resets and end (with before_ and after_)")),
        })
    }

    /// Brian2's slot names as ganglion runs a run_regularly in them: as `of_brian2`, except
    /// that Brian2 runs a group's `<name>_run_regularly` before its `<name>_stateupdater` and
    /// `<name>_thresholder` (by name), so `groups` and `thresholds` come before the group's own
    /// update or threshold, which ganglion computes together, and are refused. (`resets` is
    /// after the group's `<name>_resetter`.)
    pub fn of_brian2_regularly(when: &str) -> std::result::Result<Sampled, String> {
        if matches!(when, "groups" | "after_groups" | "before_thresholds" | "thresholds") {
            return Err(format!("`{when}` comes between a group's update and its threshold, which ganglion computes together; run it at \"start\", \"after_thresholds\" or \"end\""));
        }
        Sampled::of_brian2(when)
    }
}

/// When a run_regularly runs: every `every` steps (steps 0, every, 2·every, …), in slot `when`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub every: u64,
    pub when: Sampled,
}

impl Schedule {
    pub fn due(self, step: u64, when: Sampled) -> bool {
        self.when == when && step.is_multiple_of(self.every)
    }
}

#[derive(Clone, Debug, Default)]
pub struct RecordPlan {
    /// Per population: record its spikes?
    pub spikes: Vec<bool>,
    /// Per population: record its rate every step (Brian2's PopulationRateMonitor), counted
    /// from its spikes?
    pub rates: Vec<bool>,
    pub traces: Vec<TracePlan>,
    /// The recorded rates also smoothed when the run ends (Brian2's `smooth_rate`).
    pub smooth_rate: Option<crate::smooth_rate::Smoothing>,
    /// Per population: the state slots its spike group records with each spike (Brian2's
    /// `SpikeMonitor(P, variables=[...])`), after the update and before the reset. The
    /// backends record these and those of its subgroups (`collected_spike_values`).
    pub spike_values: Vec<Vec<usize>>,
    /// What the backends record for Brian2's EventMonitors: (population, custom event of its
    /// model), sorted, once each; the GPU's spike buffer gives entry r the index
    /// `spikes.len() + r`.
    pub events: Vec<(usize, usize)>,
    /// Per entry of `events`: the state slots recorded with each occurrence (Brian2's
    /// `EventMonitor(P, event, variables=[...])`), those of every group of it.
    pub event_values: Vec<Vec<usize>>,
    /// The EventMonitors the output holds, each of an entry of `events`.
    pub event_groups: Vec<EventGroup>,
    /// Subgroups whose spikes or rate are recorded (Brian2's `SpikeMonitor(P[a:b])`,
    /// `PopulationRateMonitor(P[a:b])`), taken from their population's spikes.
    pub subgroups: Vec<RecordedSubgroup>,
}

/// A subgroup recorded: neurons [first, first + size) of `population`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedSubgroup {
    pub name: String,
    pub population: usize,
    pub first: u32,
    pub size: u32,
    pub spikes: bool,
    pub rate: bool,
    /// The state slots recorded with each of its spikes.
    pub spike_values: Vec<usize>,
}

/// An EventMonitor the output holds (`/events/<name>/<event>`): a population's or a
/// subgroup's occurrences of its population's custom event `event`, with the values of the
/// state slots `slots`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventGroup {
    pub name: String,
    pub population: usize,
    /// A subgroup's first neuron and size; None for the whole population.
    pub subgroup: Option<(u32, u32)>,
    pub event: usize,
    pub slots: Vec<usize>,
}

/// What the backends record for `groups`: each (population, event) once, sorted, with the
/// slots any of its groups records.
pub fn collected_events(groups: &[EventGroup]) -> (Vec<(usize, usize)>, Vec<Vec<usize>>) {
    let mut events: Vec<(usize, usize)> = groups.iter().map(|g| (g.population, g.event)).collect();
    events.sort_unstable();
    events.dedup();
    let mut values = vec![Vec::new(); events.len()];
    for g in groups {
        let r = events.binary_search(&(g.population, g.event)).expect("collected");
        join_slots(&mut values[r], &g.slots);
    }
    (events, values)
}

/// `more`'s slots that `slots` lacks, after them.
fn join_slots(slots: &mut Vec<usize>, more: &[usize]) {
    for &k in more {
        if !slots.contains(&k) {
            slots.push(k);
        }
    }
}

/// A group of spikes (or a rate) the output holds: a population's, or a subgroup's, whose
/// neurons it numbers from the subgroup's first, as Brian2's monitors of `P[a:b]` do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub name: String,
    pub population: usize,
    /// The subgroup's first neuron and size; None for the whole population.
    pub subgroup: Option<(u32, u32)>,
    pub size: usize,
    /// The state slots it records with each spike.
    pub slots: Vec<usize>,
    /// Where those are among the values the backends record with each of the population's
    /// spikes (`RecordPlan::collected_spike_values`), and how many those are.
    pub columns: Vec<usize>,
    pub width: usize,
}

impl Recorded {
    /// A group recording `slots` of the values the backends record (`collected`).
    pub fn new(name: &str, population: usize, subgroup: Option<(u32, u32)>, size: usize, slots: &[usize], collected: &[usize]) -> Recorded {
        let columns = slots.iter().map(|k| collected.iter().position(|c| c == k).expect("collected")).collect();
        Recorded { name: name.to_string(), population, subgroup, size, slots: slots.to_vec(), columns, width: collected.len() }
    }

    /// A subgroup's first neuron (None for a population).
    pub fn first(&self) -> Option<u32> {
        self.subgroup.map(|(first, _)| first)
    }

    /// Its spikes in `out` (its population's, or those of its neurons).
    pub fn spikes_in<'o>(&self, out: &'o ChunkOutput) -> Cow<'o, [Spike]> {
        let spikes = out.spikes_of(self.population);
        match self.subgroup {
            None => Cow::Borrowed(spikes),
            Some(_) => self.rows(spikes).map(|(_, s)| s).collect(),
        }
    }

    /// Its spikes in `out` and the values it records with them.
    pub fn spikes_with_values_in<'o>(&self, out: &'o ChunkOutput) -> (Cow<'o, [Spike]>, Cow<'o, [f32]>) {
        self.select(out.spikes_of(self.population), out.spike_values_of(self.population))
    }

    /// Its occurrences of entry `r` of the plan's events in `out`, and the values it records
    /// with them.
    pub fn events_in<'o>(&self, out: &'o ChunkOutput, r: usize) -> (Cow<'o, [Spike]>, Cow<'o, [f32]>) {
        let (occurrences, values) = out.events_of(r);
        self.select(occurrences, values)
    }

    /// Its spikes of the population's `spikes`, numbered within it, each with its row there.
    fn rows<'s>(&self, spikes: &'s [Spike]) -> impl Iterator<Item = (usize, Spike)> + 's {
        let (first, size) = self.subgroup.unwrap_or((0, u32::MAX));
        let within = move |s: &Spike| s.neuron >= first && s.neuron - first < size;
        spikes.iter().enumerate().filter(move |(_, s)| within(s)).map(move |(r, s)| (r, Spike { step: s.step, neuron: s.neuron - first }))
    }

    /// Its spikes and their values (a row each), of the population's `spikes` and `values`
    /// (a row of `width` each).
    fn select<'s>(&self, spikes: &'s [Spike], values: &'s [f32]) -> (Cow<'s, [Spike]>, Cow<'s, [f32]>) {
        let all_columns = self.columns.len() == self.width && self.columns.iter().enumerate().all(|(k, &c)| k == c);
        if self.subgroup.is_none() && all_columns {
            return (Cow::Borrowed(spikes), Cow::Borrowed(values));
        }
        let (mut kept, mut picked) = (Vec::new(), Vec::new());
        for (r, s) in self.rows(spikes) {
            kept.push(s);
            picked.extend(self.columns.iter().map(|&c| values[r * self.width + c]));
        }
        (Cow::Owned(kept), Cow::Owned(picked))
    }
}

impl RecordPlan {
    /// Population `p`'s recorded events for the GPU: bit e set for its event e, and the
    /// spike-buffer index of the first (each next one's is one more).
    pub fn event_bits(&self, p: usize) -> (u32, u32) {
        let first = self.events.iter().position(|&(q, _)| q == p).unwrap_or(0);
        let mask = self.events.iter().filter(|&&(q, _)| q == p).fold(0u32, |m, &(_, e)| m | 1 << e);
        (mask, (self.spikes.len() + first) as u32)
    }

    /// Population `p`'s events recorded with values, bit e for its event e.
    pub fn event_value_bits(&self, p: usize) -> u32 {
        self.events
            .iter()
            .zip(&self.event_values)
            .filter(|(&(q, _), slots)| q == p && !slots.is_empty())
            .fold(0, |m, (&(_, e), _)| m | 1 << e)
    }

    /// Whether the backend hands population `p`'s spikes back: to be recorded, or counted
    /// into its rate.
    pub fn collects_spikes(&self, p: usize) -> bool {
        self.spikes.get(p).copied().unwrap_or(false) || self.rates.get(p).copied().unwrap_or(false) || self.subgroups.iter().any(|s| s.population == p)
    }

    /// The spike groups the output holds: the populations' recorded, then the subgroups'.
    pub fn spike_groups(&self, net: &Network) -> Vec<Recorded> {
        self.groups(net, &self.spikes, |s| s.spikes)
    }

    /// The rates the output holds: the populations' recorded, then the subgroups'.
    pub fn rate_groups(&self, net: &Network) -> Vec<Recorded> {
        self.groups(net, &self.rates, |s| s.rate)
    }

    /// The EventMonitors the output holds, each with its entry of `events`.
    pub fn event_outputs(&self, net: &Network) -> Vec<(Recorded, usize)> {
        self.event_groups
            .iter()
            .map(|g| {
                let r = self.events.iter().position(|&e| e == (g.population, g.event)).expect("a group's event is recorded");
                let size = g.subgroup.map_or(net.populations[g.population].size, |(_, size)| size as usize);
                (Recorded::new(&g.name, g.population, g.subgroup, size, &g.slots, &self.event_values[r]), r)
            })
            .collect()
    }

    fn groups(&self, net: &Network, whole: &[bool], of_subgroup: impl Fn(&RecordedSubgroup) -> bool) -> Vec<Recorded> {
        let recorded = |name: &str, population: usize, subgroup: Option<(u32, u32)>, size: usize, slots: &[usize]| Recorded::new(name, population, subgroup, size, slots, &self.collected_spike_values(population));
        let populations = net.populations.iter().enumerate().filter(|&(p, _)| whole.get(p).copied().unwrap_or(false));
        let populations = populations.map(|(p, pop)| recorded(&pop.name, p, None, pop.size, self.spike_values.get(p).map_or(&[], Vec::as_slice)));
        let subgroups = self.subgroups.iter().filter(|s| of_subgroup(s)).map(|s| recorded(&s.name, s.population, Some((s.first, s.size)), s.size as usize, &s.spike_values));
        populations.chain(subgroups).collect()
    }

    /// The state slots the backends record with each spike of population `p`: its own
    /// group's (`spike_values`), then those its subgroups record besides (the CPU asks every
    /// step: no copy unless a subgroup adds some).
    pub fn collected_spike_values(&self, p: usize) -> Cow<'_, [usize]> {
        let mut slots = Cow::Borrowed(self.spike_values.get(p).map_or(&[][..], Vec::as_slice));
        for s in self.subgroups.iter().filter(|s| s.population == p) {
            if s.spike_values.iter().any(|k| !slots.contains(k)) {
                join_slots(slots.to_mut(), &s.spike_values);
            }
        }
        slots
    }

    /// The plan a validated config asks for.
    pub fn from_config(config: &Config) -> RecordPlan {
        let listed = |list: &[String]| config.populations.keys().map(|name| list.contains(name)).collect();
        let (spikes, rates) = (listed(&config.record.spikes), listed(&config.record.rates));
        let (record_spikes, record_rates) = (&config.record.spikes, &config.record.rates);
        let subgroup_names = record_spikes.iter().chain(record_rates.iter().filter(|&n| !record_spikes.contains(n)));
        let subgroups = subgroup_names
            .filter_map(|name| Some((name, config.group(name).filter(|g| g.subgroup)?)))
            .map(|(name, g)| RecordedSubgroup {
                name: name.clone(),
                population: g.population,
                first: g.first as u32,
                size: g.size as u32,
                spikes: record_spikes.contains(name),
                rate: record_rates.contains(name),
                spike_values: config.resolved.subgroup_spike_values.get(name).cloned().unwrap_or_default(),
            })
            .collect();
        let traces = config
            .record
            .traces
            .iter()
            .zip(&config.resolved.traces)
            .map(|(t, resolved)| {
                let group = config.group(&t.population).expect("a validated trace's population or subgroup");
                let first = group.first as u32;
                TracePlan {
                    population: resolved.population,
                    when: resolved.when,
                    projection: None,
                    variables: resolved.variables.clone(),
                    names: t.variables.clone(),
                    neurons: match &t.neurons {
                        NeuronSelection::List(l) => l.iter().map(|&n| first + n as u32).collect(),
                        NeuronSelection::Keyword(_) => (first..first + group.size as u32).collect(),
                    },
                    every: t.every,
                    subgroup: group.subgroup.then(|| (t.population.clone(), first)),
                }
            })
            .collect::<Vec<_>>();
        let mut traces = traces;
        for (t, (projection, variables)) in config.record.synapses.iter().zip(&config.resolved.synapse_traces) {
            traces.push(TracePlan {
                population: config.resolved.projections[*projection].target,
                when: Sampled::Start,
                projection: Some(*projection),
                variables: variables.iter().map(|&k| TraceVar::State(k)).collect(),
                names: t.variables.clone(),
                // "all" is resolved against the network (`resolve`).
                neurons: match &t.synapses {
                    NeuronSelection::List(l) => l.iter().map(|&n| n as u32).collect(),
                    NeuronSelection::Keyword(_) => Vec::new(),
                },
                every: t.every,
                subgroup: None,
            });
        }
        RecordPlan {
            spikes,
            rates,
            traces,
            smooth_rate: config.resolved.smooth_rate.clone(),
            spike_values: config.resolved.spike_values.clone(),
            events: config.resolved.events.clone(),
            event_values: config.resolved.event_values.clone(),
            event_groups: config.resolved.event_groups.clone(),
            subgroups,
        }
    }

    /// Resolves the synapse traces against the network: `"all"` (left empty by
    /// `from_config`) becomes every synapse, and a listed synapse must exist.
    pub fn resolve(&mut self, net: &Network) -> crate::error::Result<()> {
        let mut k = 0;
        for t in self.traces.iter_mut() {
            let Some(p) = t.projection else { continue };
            let n = net.projections[p].csr.col_idx.len() as u32;
            let at = format!("record.synapses[{k}].synapses");
            k += 1;
            if t.neurons.is_empty() {
                t.neurons = (0..n).collect();
            } else if let Some(bad) = t.neurons.iter().find(|&&s| s >= n) {
                return Err(crate::error::Error::config(
                    at,
                    format!("synapse {bad} is out of range: projection `{}` has {n}", net.projections[p].name),
                ));
            }
        }
        Ok(())
    }

    /// Nothing recorded: for benchmarks and validation runs that read the state instead.
    pub fn none(net: &Network) -> RecordPlan {
        RecordPlan {
            spikes: vec![false; net.populations.len()],
            rates: vec![false; net.populations.len()],
            traces: Vec::new(),
            ..Default::default()
        }
    }

    /// Spikes of every population, no traces.
    pub fn all_spikes(net: &Network) -> RecordPlan {
        RecordPlan {
            spikes: vec![true; net.populations.len()],
            rates: vec![false; net.populations.len()],
            traces: Vec::new(),
            ..Default::default()
        }
    }

    /// Bytes of trace samples one chunk of `steps` steps holds.
    pub fn trace_bytes_per_chunk(&self, steps: u64) -> u64 {
        self.trace_bytes(steps, |t| t.neurons.len() as u64)
    }

    /// As `trace_bytes_per_chunk`, before the network is built: a synapse trace of "all"
    /// (`resolve`d against the network) counts its projection's expected synapses.
    pub fn expected_trace_bytes_per_chunk(&self, steps: u64, shape: &crate::shape::Shape) -> u64 {
        self.trace_bytes(steps, |t| match t.projection {
            Some(p) if t.neurons.is_empty() => shape.projections[p].synapses,
            _ => t.neurons.len() as u64,
        })
    }

    /// Bytes of `steps` steps of samples, each trace `width` columns wide.
    fn trace_bytes(&self, steps: u64, width: impl Fn(&TracePlan) -> u64) -> u64 {
        self.traces.iter().map(|t| samples_in(0, steps, t.every) * width(t) * t.variables.len() as u64 * 4).sum()
    }
}

/// How many multiples of `every` lie in [first, first + steps).
pub fn samples_in(first: u64, steps: u64, every: u64) -> u64 {
    let end = first + steps;
    end.div_ceil(every) - first.div_ceil(every)
}

/// A population's rate in each step of `steps` (Brian2's PopulationRateMonitor: the neurons
/// that spiked in the step over the population's size and dt, in Hz, stamped at the step's
/// start), from its spikes in those steps.
pub fn rates_per_step(spikes: &[Spike], steps: std::ops::Range<u64>, size: usize, dt_ms: f64) -> Vec<f64> {
    let mut counts = vec![0u32; (steps.end - steps.start) as usize];
    for s in spikes.iter().filter(|s| steps.contains(&s.step)) {
        counts[(s.step - steps.start) as usize] += 1;
    }
    let hz = 1e3 / (size as f64 * dt_ms);
    counts.into_iter().map(|c| c as f64 * hz).collect()
}

/// The samples of one trace plan within one chunk.
#[derive(Clone, Debug, Default)]
pub struct TraceChunk {
    /// One buffer per recorded variable, row-major [sample][recorded neuron].
    pub data: Vec<Vec<f32>>,
    pub n_samples: usize,
}

/// A spike: the step during which V crossed the threshold, and the neuron.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Spike {
    pub step: u64,
    pub neuron: u32,
}

#[derive(Clone, Debug, Default)]
pub struct ChunkOutput {
    pub first_step: u64,
    pub n_steps: u64,
    pub traces: Vec<TraceChunk>,
    /// Per population, in step order (then neuron order within a step).
    pub spikes: Vec<Vec<Spike>>,
    /// Per population whose plan records spike values: each spike's values (f32, as traces
    /// keep them), in the plan's order, one row per spike of `spikes`.
    pub spike_values: Vec<Vec<f32>>,
    /// Per entry of the plan's `events`: its occurrences, in step order (then neuron order).
    pub events: Vec<Vec<Spike>>,
    /// Per entry of the plan's `events`: the values recorded with its occurrences, a row each.
    pub event_values: Vec<Vec<f32>>,
    /// The first non-finite V seen in this chunk, if any.
    pub diverged: Option<Divergence>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub population: usize,
    pub neuron: u32,
    /// The step during which V became non-finite.
    pub step: u64,
}

impl ChunkOutput {
    pub fn new(plan: &RecordPlan, first_step: u64, n_steps: u64) -> ChunkOutput {
        ChunkOutput {
            first_step,
            n_steps,
            traces: plan
                .traces
                .iter()
                .map(|t| {
                    let n_samples = samples_in(first_step, n_steps, t.every) as usize;
                    TraceChunk {
                        data: vec![
                            Vec::with_capacity(n_samples * t.neurons.len());
                            t.variables.len()
                        ],
                        n_samples,
                    }
                })
                .collect(),
            spikes: vec![Vec::new(); plan.spikes.len()],
            spike_values: vec![Vec::new(); plan.spikes.len()],
            events: vec![Vec::new(); plan.events.len()],
            event_values: vec![Vec::new(); plan.events.len()],
            diverged: None,
        }
    }
}

impl ChunkOutput {
    /// Population `p`'s spikes (none where it holds none: an output of nothing run).
    pub fn spikes_of(&self, p: usize) -> &[Spike] {
        self.spikes.get(p).map_or(&[], Vec::as_slice)
    }

    /// Entry `r`'s events of the plan and their values (none where it holds none).
    pub fn events_of(&self, r: usize) -> (&[Spike], &[f32]) {
        (self.events.get(r).map_or(&[], Vec::as_slice), self.event_values.get(r).map_or(&[], Vec::as_slice))
    }

    /// The values recorded with population `p`'s spikes, a row each.
    pub fn spike_values_of(&self, p: usize) -> &[f32] {
        self.spike_values.get(p).map_or(&[], Vec::as_slice)
    }

    /// Appends the output of the steps that directly follow this chunk's.
    pub fn extend(&mut self, next: ChunkOutput) {
        debug_assert_eq!(next.first_step, self.first_step + self.n_steps);
        self.n_steps += next.n_steps;
        for (trace, more) in self.traces.iter_mut().zip(next.traces) {
            for (all, new) in trace.data.iter_mut().zip(more.data) {
                all.extend(new);
            }
            trace.n_samples += more.n_samples;
        }
        for (all, new) in self.spikes.iter_mut().zip(next.spikes) {
            all.extend(new);
        }
        for (all, new) in self.spike_values.iter_mut().zip(next.spike_values) {
            all.extend(new);
        }
        for (all, new) in self.events.iter_mut().zip(next.events) {
            all.extend(new);
        }
        for (all, new) in self.event_values.iter_mut().zip(next.event_values) {
            all.extend(new);
        }
        self.diverged = self.diverged.or(next.diverged);
    }

    /// Keeps only the steps before `end` (absolute): their samples and spikes. A backend may
    /// have stepped past a divergence before it saw it (the GPU notices at the end of a
    /// submit); nothing after the step that diverged belongs in the output.
    pub fn truncate(&mut self, plan: &RecordPlan, end: u64) {
        if end >= self.first_step + self.n_steps {
            return;
        }
        self.n_steps = end.saturating_sub(self.first_step);
        for (t, chunk) in plan.traces.iter().zip(self.traces.iter_mut()) {
            let n = samples_in(self.first_step, self.n_steps, t.every) as usize;
            chunk.n_samples = n;
            for data in &mut chunk.data {
                data.truncate(n * t.neurons.len());
            }
        }
        for (p, (spikes, values)) in self.spikes.iter_mut().zip(&mut self.spike_values).enumerate() {
            keep_before(spikes, values, plan.spike_values.get(p).map_or(0, Vec::len), end);
        }
        for (r, (events, values)) in self.events.iter_mut().zip(&mut self.event_values).enumerate() {
            keep_before(events, values, plan.event_values[r].len(), end);
        }
    }
}

/// The spikes (or events) before step `end` and their rows of `width` values: in step order,
/// those kept are a prefix, and so are their values.
fn keep_before(spikes: &mut Vec<Spike>, values: &mut Vec<f32>, width: usize, end: u64) {
    let kept = spikes.partition_point(|s| s.step < end);
    spikes.truncate(kept);
    values.truncate(kept * width);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_counts_cover_each_multiple_once() {
        assert_eq!(samples_in(0, 10, 1), 10);
        assert_eq!(samples_in(0, 10, 3), 4); // 0 3 6 9
        assert_eq!(samples_in(10, 10, 3), 3); // 12 15 18
        assert_eq!(
            samples_in(0, 20, 3),
            samples_in(0, 10, 3) + samples_in(10, 10, 3)
        );
    }

    fn one_trace_plan() -> RecordPlan {
        RecordPlan {
            spikes: vec![true],
            rates: vec![false],
            traces: vec![TracePlan {
                population: 0,
                when: Sampled::Start,
                projection: None,
                variables: vec![TraceVar::State(0)],
                names: vec!["v".into()],
                neurons: vec![0, 1],
                every: 2,
                subgroup: None,
            }],
            spike_values: vec![vec![0]],
            events: vec![(0, 0)],
            event_values: vec![vec![0, 1]],
            ..Default::default()
        }
    }

    /// A chunk as a backend fills it: sample k holds (k, k), a spike of neuron 0 per step.
    fn filled(plan: &RecordPlan, first: u64, n: u64) -> ChunkOutput {
        let mut out = ChunkOutput::new(plan, first, n);
        for step in first..first + n {
            if step % 2 == 0 {
                out.traces[0].data[0].extend([step as f32, step as f32]);
            }
            out.spikes[0].push(Spike { step, neuron: 0 });
            out.spike_values[0].push(step as f32);
            out.events[0].push(Spike { step, neuron: 0 });
            out.event_values[0].extend([step as f32, -(step as f32)]);
        }
        out
    }

    #[test]
    fn sub_chunks_extend_into_the_chunk_they_split() {
        let plan = one_trace_plan();
        let mut joined = ChunkOutput::new(&plan, 5, 0);
        for (first, n) in [(5, 3), (8, 1), (9, 6)] {
            joined.extend(filled(&plan, first, n));
        }
        let whole = filled(&plan, 5, 10);
        assert_eq!(joined.n_steps, 10);
        assert_eq!(joined.traces[0].n_samples, whole.traces[0].n_samples);
        assert_eq!(joined.traces[0].data, whole.traces[0].data);
        assert_eq!(joined.spikes, whole.spikes);
    }

    #[test]
    fn truncation_drops_the_samples_and_spikes_past_the_end() {
        let plan = one_trace_plan();
        let mut out = filled(&plan, 10, 10);
        out.truncate(&plan, 15);
        assert_eq!(out.n_steps, 5);
        // Samples at steps 10, 12 and 14.
        assert_eq!(out.traces[0].n_samples, 3);
        assert_eq!(out.traces[0].data[0], vec![10.0, 10.0, 12.0, 12.0, 14.0, 14.0]);
        assert!(out.spikes[0].iter().all(|s| s.step < 15));
        assert_eq!(out.spikes[0].len(), 5);
        assert_eq!(out.spike_values[0], (10..15).map(|k| k as f32).collect::<Vec<_>>());
        assert_eq!(out.events[0], out.spikes[0], "events go as spikes do");
        assert_eq!(out.event_values[0], (10..15).flat_map(|k| [k as f32, -(k as f32)]).collect::<Vec<_>>());
        let before = out.clone();
        out.truncate(&plan, 30);
        assert_eq!(out.n_steps, before.n_steps, "an end past the chunk changes nothing");
    }
}
