//! What to record (the plan) and what one chunk of steps produced (the chunk output).
//!
//! Traces sample the state at the start of step k for every k that is a multiple of
//! `every`, i.e. at t = 0, every·dt, 2·every·dt, … < duration. A spike detected during step k
//! (V crossing the threshold between t_k and t_{k+1}) is stamped t_{k+1}.

use crate::config::{Config, NeuronSelection};
use crate::network::Network;

/// A recorded variable: one of the neuron model's, or the g that an event-driven projection
/// keeps for each of its target neurons (`g_<projection>` in the config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceVar {
    /// Index into the model's variable list.
    State(usize),
    /// Index of the projection.
    Synapse(usize),
}

#[derive(Clone, Debug)]
pub struct TracePlan {
    pub population: usize,
    pub variables: Vec<TraceVar>,
    /// The variables' names, as the output file calls them.
    pub names: Vec<String>,
    pub neurons: Vec<u32>,
    pub every: u64,
}

#[derive(Clone, Debug, Default)]
pub struct RecordPlan {
    /// Per population: record its spikes?
    pub spikes: Vec<bool>,
    pub traces: Vec<TracePlan>,
}

impl RecordPlan {
    pub fn from_config(config: &Config, net: &Network) -> RecordPlan {
        let spikes = net
            .populations
            .iter()
            .map(|p| config.record.spikes.contains(&p.name))
            .collect();
        let traces = config
            .record
            .traces
            .iter()
            .map(|t| {
                let population = config.population_index(&t.population).expect("validated");
                let vars = net.populations[population].variables();
                let resolve = |v: &String| match vars.iter().position(|x| x == v) {
                    Some(k) => TraceVar::State(k),
                    None => TraceVar::Synapse(
                        net.projections
                            .iter()
                            .position(|p| v.strip_prefix("g_") == Some(p.name.as_str()))
                            .expect("validated"),
                    ),
                };
                TracePlan {
                    population,
                    variables: t.variables.iter().map(resolve).collect(),
                    names: t.variables.clone(),
                    neurons: match &t.neurons {
                        NeuronSelection::List(l) => l.iter().map(|&n| n as u32).collect(),
                        NeuronSelection::Keyword(_) => {
                            (0..net.populations[population].size as u32).collect()
                        }
                    },
                    every: t.every,
                }
            })
            .collect();
        RecordPlan { spikes, traces }
    }

    /// Nothing recorded: for benchmarks and validation runs that read the state instead.
    pub fn none(net: &Network) -> RecordPlan {
        RecordPlan {
            spikes: vec![false; net.populations.len()],
            traces: Vec::new(),
        }
    }

    /// Spikes of every population, no traces.
    pub fn all_spikes(net: &Network) -> RecordPlan {
        RecordPlan {
            spikes: vec![true; net.populations.len()],
            traces: Vec::new(),
        }
    }

    /// Bytes of trace samples one chunk of `steps` steps holds.
    pub fn trace_bytes_per_chunk(&self, steps: u64) -> u64 {
        self.traces
            .iter()
            .map(|t| {
                samples_in(0, steps, t.every)
                    * t.neurons.len() as u64
                    * t.variables.len() as u64
                    * 4
            })
            .sum()
    }
}

/// How many multiples of `every` lie in [first, first + steps).
pub fn samples_in(first: u64, steps: u64, every: u64) -> u64 {
    let end = first + steps;
    end.div_ceil(every) - first.div_ceil(every)
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
            diverged: None,
        }
    }
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
}
