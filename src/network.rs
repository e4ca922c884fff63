//! A validated config turned into arrays: sizes, model constants, CSR projections and initial
//! state. Both backends receive the same `Network`, built once from the seed.

use crate::config::{Config, InitValue, NeuronModel, SynapseModel};
use crate::connectivity::{self, Csr};
use crate::error::Result;
use crate::model::hh;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

#[derive(Clone, Debug)]
pub struct PopulationData {
    pub name: String,
    pub size: usize,
    pub model: NeuronModel,
    /// Initial values, one vector per model variable, in the model's variable order.
    pub init: Vec<Vec<f64>>,
}

impl PopulationData {
    pub fn variables(&self) -> &'static [&'static str] {
        match self.model {
            NeuronModel::Hh(_) => &hh::VARIABLES,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ProjectionData {
    pub name: String,
    pub source: usize,
    pub target: usize,
    pub synapse: SynapseModel,
    pub csr: Csr,
}

#[derive(Clone, Debug)]
pub struct Network {
    pub dt_ms: f64,
    pub n_steps: u64,
    pub seed: u64,
    pub populations: Vec<PopulationData>,
    pub projections: Vec<ProjectionData>,
}

impl Network {
    pub fn build(config: &Config) -> Result<Network> {
        let sim = &config.simulation;
        let populations = config
            .populations
            .iter()
            .enumerate()
            .map(|(index, (name, pop))| {
                let model = pop.model_params(name)?;
                let size = pop.size as usize;
                let init = initial_state(&model, size, &pop.init, sim.seed, index);
                Ok(PopulationData { name: name.clone(), size, model, init })
            })
            .collect::<Result<Vec<_>>>()?;
        let projections = config
            .projections
            .iter()
            .enumerate()
            .map(|(index, (name, proj))| {
                let source = config.population_index(&proj.source).expect("validated");
                let target = config.population_index(&proj.target).expect("validated");
                let csr = connectivity::build(
                    &proj.connectivity,
                    populations[source].size,
                    populations[target].size,
                    proj.weight,
                    source == target,
                    sim.seed,
                    index,
                )?;
                Ok(ProjectionData { name: name.clone(), source, target, synapse: proj.synapse_params(name)?, csr })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Network {
            dt_ms: sim.dt_ms,
            n_steps: (sim.duration_ms / sim.dt_ms).round() as u64,
            seed: sim.seed,
            populations,
            projections,
        })
    }

    pub fn n_neurons(&self) -> usize {
        self.populations.iter().map(|p| p.size).sum()
    }

    pub fn n_synapses(&self) -> usize {
        self.projections.iter().map(|p| p.csr.n_synapses()).sum()
    }

    /// Bytes the network's state and connectivity occupy in the given float width.
    pub fn memory_bytes(&self, float_bytes: usize) -> usize {
        let state: usize = self.populations.iter().map(|p| p.size * (p.variables().len() + 1) * float_bytes).sum();
        let synapses: usize = self
            .projections
            .iter()
            .map(|p| {
                let w = match &p.csr.weights {
                    connectivity::Weights::Uniform(_) => 0,
                    connectivity::Weights::PerSynapse(_) => float_bytes,
                };
                (p.csr.n_rows + 1) * 4 + p.csr.n_synapses() * (4 + w)
            })
            .sum();
        state + synapses
    }

    pub fn time_of_step(&self, step: u64) -> f64 {
        step as f64 * self.dt_ms
    }
}

fn initial_state(
    model: &NeuronModel,
    size: usize,
    given: &std::collections::BTreeMap<String, InitValue>,
    seed: u64,
    population: usize,
) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xbb67_ae85_84ca_a73b);
    rng.set_stream(population as u64);
    let mut draw = |name: &str, default: f64| -> Vec<f64> {
        match given.get(name) {
            None => vec![default; size],
            Some(InitValue::Constant(x)) => vec![*x; size],
            Some(InitValue::PerNeuron(list)) => list.clone(),
            Some(InitValue::Uniform { uniform: [a, b] }) => {
                let d = Uniform::new_inclusive(*a, *b).expect("validated bounds");
                (0..size).map(|_| d.sample(&mut rng)).collect()
            }
            Some(InitValue::Normal { normal: [mean, sd] }) => {
                let d = Normal::new(*mean, *sd).expect("validated sd");
                (0..size).map(|_| d.sample(&mut rng)).collect()
            }
        }
    };
    match model {
        NeuronModel::Hh(_) => {
            let v = draw("v", -65.0);
            let rest: Vec<hh::HhVars<f64>> = v.iter().map(|&v| hh::HhVars::resting_at(v)).collect();
            // Gates not given start at their steady state for each neuron's own V.
            let gate = |name: &str, pick: fn(&hh::HhVars<f64>) -> f64, draw: &mut dyn FnMut(&str, f64) -> Vec<f64>| {
                if given.contains_key(name) {
                    draw(name, 0.0)
                } else {
                    rest.iter().map(pick).collect()
                }
            };
            let m = gate("m", |x| x.m, &mut draw);
            let h = gate("h", |x| x.h, &mut draw);
            let n = gate("n", |x| x.n, &mut draw);
            let s = gate("s", |x| x.s, &mut draw);
            vec![v, m, h, n, s]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
