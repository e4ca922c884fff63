//! Spikes given in advance (Brian2's SpikeGeneratorGroup): `indices` and `times` lists, or a
//! file (a ganglion/SONATA spikes HDF5, or a CSV of `time_ms,node_id`), optionally repeated
//! every `period_ms`. A spike at time t is emitted in the step that starts at t (the step
//! round(t/dt)); ganglion stamps a spike at the end of its step, so the output says t + dt.
//!
//! The schedule is one sorted row of steps per neuron (CSR), kept by the CPU step and handed
//! to the shader as the population's model data; each neuron's one variable is the position
//! of its next spike in its row. `shaders/neurons/spike_source.wgsl` mirrors this file.

use super::{CpuStep, ModelInfo, Neuron, NeuronKind, Noise, SynInput, SynapticUnits, Variable};
use crate::error::{Error, Result};
use crate::real::Real;
use bytemuck::{Pod, Zeroable};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub const VARIABLES: [Variable; 1] = [super::var("next", "1")];

pub const INFO: ModelInfo = ModelInfo {
    name: "spike_source",
    variables: &VARIABLES,
    synaptic_units: SynapticUnits {
        conductance: "-",
        current: "-",
    },
    shader: "neurons/spike_source",
    graded_activation: None,
    fused_coupling_shader: None,
    accepts_synapses: true,
    instance_table: true,
};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpikeSourceParams {
    #[serde(default)]
    indices: Option<Vec<u64>>,
    /// ms.
    #[serde(default)]
    times: Option<Vec<f64>>,
    #[serde(default)]
    file: Option<PathBuf>,
    /// The population to read from an HDF5 file (default: its only one).
    #[serde(default)]
    population: Option<String>,
    #[serde(default)]
    period_ms: Option<f64>,
}

/// The model as configs name it.
pub struct SpikeSource;

/// `Params` in shaders/neurons/spike_source.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct SpikeSourceParamsGpu {
    /// Steps of the period; 0: no repetition.
    pub period_steps: u32,
    pub _pad: [u32; 3],
}

impl NeuronKind for SpikeSource {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }

    fn gpu_params_layout(&self) -> super::StructLayout {
        crate::struct_layout!("Params", SpikeSourceParamsGpu { period_steps })
    }

    /// Its variable as equations declare it, so that synapses written as equations can leave
    /// a spike source (their `_pre` names resolve against it).
    fn equations(&self) -> Option<&crate::equations::neuron::NeuronModel> {
        static MODEL: OnceLock<Option<crate::equations::neuron::NeuronModel>> = OnceLock::new();
        MODEL
            .get_or_init(|| {
                let text = crate::equations::neuron::ModelText {
                    equations: "next : 1",
                    threshold: None,
                    reset: None,
                    refractory: None,
                    method: None,
                    namespace: &toml::Table::new(),
                    tables: &[],
                };
                // dt plays no part: the model has no equations to integrate.
                crate::equations::neuron::NeuronModel::compile("spike_source", "spike_source", &text, 1e-4).ok()
            })
            .as_ref()
    }

    fn parse(&self, at: &str, params: &toml::Table, clock: super::Clock) -> Result<Arc<dyn Neuron>> {
        let p: SpikeSourceParams = super::read_params(at, params)?;
        let spikes = match (&p.indices, &p.times, &p.file) {
            (Some(i), Some(t), None) => {
                if i.len() != t.len() {
                    return Err(Error::config(
                        format!("{at}.times"),
                        format!("{} times for {} indices", t.len(), i.len()),
                    ));
                }
                i.iter().copied().zip(t.iter().copied()).collect()
            }
            (None, None, Some(file)) => read_file(&format!("{at}.file"), file, p.population.as_deref())?,
            _ => {
                return Err(Error::config(
                    at,
                    "give `indices` and `times` (ms), or a `file`",
                ))
            }
        };
        let key = if p.file.is_some() { format!("{at}.file") } else { format!("{at}.times") };
        if let Some(k) = spikes.windows(2).position(|w| w[1].1 < w[0].1) {
            return Err(Error::config(
                key,
                format!("the times must be sorted: spike {} at {} ms comes after one at {} ms", k + 1, spikes[k + 1].1, spikes[k].1),
            ));
        }
        if let Some((_, t)) = spikes.iter().find(|(_, t)| !(t.is_finite() && *t >= 0.0)) {
            return Err(Error::config(key, format!("a spike time must be a finite number of ms >= 0, got {t}")));
        }
        let period_steps = match p.period_ms {
            None => 0,
            Some(ms) => {
                crate::config::whole_steps(&format!("{at}.period_ms"), ms, clock.dt_ms)? as u32
            }
        };
        let step_of = |t: f64| (t / clock.dt_ms).round() as u64;
        if period_steps > 0 {
            if let Some((_, t)) = spikes.iter().find(|(_, t)| step_of(*t) >= period_steps as u64) {
                return Err(Error::config(key, format!("a spike at {t} ms is not within the period of {} ms", p.period_ms.unwrap_or(0.0))));
            }
        }
        Ok(Arc::new(SpikeSourceNeuron {
            spikes: spikes.into_iter().map(|(i, t)| (i, step_of(t))).collect(),
            period_steps,
            key,
            schedule: OnceLock::new(),
        }))
    }
}

/// (node id, time ms) of every spike in a file: a ganglion or SONATA spikes HDF5 (BMTK's
/// included: `io::sonata::spikes`), or a CSV of `time_ms,node_id` lines (a
/// header line may name them).
fn read_file(key: &str, path: &std::path::Path, population: Option<&str>) -> Result<Vec<(u64, f64)>> {
    let bad = |m: String| Error::config(key, format!("{}: {m}", path.display()));
    let is_hdf5 = std::fs::read(path)
        .map(|b| b.starts_with(b"\x89HDF\r\n\x1a\n"))
        .map_err(|e| bad(e.to_string()))?;
    let mut spikes = Vec::new();
    if is_hdf5 {
        let file = crate::io::hdf5::open_hdf5(path).map_err(bad)?;
        spikes = crate::io::sonata::spikes::read(&file, population).map_err(bad)?;
        // Sorted by time, as a spike source needs (a SONATA file may be sorted by id).
        spikes.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    } else {
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split(',').map(str::trim);
            let (Some(t), Some(id), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad(format!("line {}: expected `time_ms,node_id`", n + 1)));
            };
            match (t.parse::<f64>(), id.parse::<u64>()) {
                (Ok(t), Ok(id)) => spikes.push((id, t)),
                _ if n == 0 => continue,
                _ => return Err(bad(format!("line {}: `{line}` is not `time_ms,node_id`", n + 1))),
            }
        }
    }
    Ok(spikes)
}

/// The spike source with its spikes, as (neuron, step) in time order.
#[derive(Debug)]
pub struct SpikeSourceNeuron {
    spikes: Vec<(u64, u64)>,
    period_steps: u32,
    /// The config key that gave the spikes (errors name it).
    key: String,
    /// Per neuron, its steps in order (CSR), built for the population's size.
    schedule: OnceLock<Arc<Schedule>>,
}

/// Each neuron's spike steps, in order: `steps[row[i]..row[i + 1]]`.
#[derive(Debug, Default)]
pub struct Schedule {
    pub row: Vec<u32>,
    pub steps: Vec<u32>,
}

impl SpikeSourceNeuron {
    fn schedule(&self) -> Arc<Schedule> {
        self.schedule.get().cloned().unwrap_or_default()
    }

    fn build(&self, size: usize) -> Result<Schedule> {
        let mut rows: Vec<Vec<u32>> = vec![Vec::new(); size];
        for &(i, step) in &self.spikes {
            let row = rows.get_mut(i as usize).ok_or_else(|| {
                Error::config(&self.key, format!("node {i} is out of range for a population of {size}"))
            })?;
            if row.last() == Some(&(step as u32)) {
                return Err(Error::config(
                    &self.key,
                    format!("node {i} has two spikes in the step at {} (one per step and neuron, as in Brian2)", step),
                ));
            }
            if step > u32::MAX as u64 {
                return Err(Error::config(&self.key, "a spike beyond 2^32 steps"));
            }
            row.push(step as u32);
        }
        let mut schedule = Schedule {
            row: vec![0],
            steps: Vec::with_capacity(self.spikes.len()),
        };
        for r in rows {
            schedule.steps.extend(r);
            schedule.row.push(schedule.steps.len() as u32);
        }
        Ok(schedule)
    }
}

impl Neuron for SpikeSourceNeuron {
    fn kind(&self) -> &'static dyn NeuronKind {
        &SpikeSource
    }

    fn default_v(&self) -> f64 {
        0.0
    }

    fn rest(&self, _v: f64) -> Vec<f64> {
        vec![0.0]
    }

    fn check_size(&self, size: usize) -> Result<()> {
        let schedule = self.build(size)?;
        let _ = self.schedule.set(Arc::new(schedule));
        Ok(())
    }

    fn cpu_f64(&self) -> Box<dyn CpuStep<f64>> {
        Box::new(Replay {
            schedule: self.schedule(),
            period_steps: self.period_steps as u64,
        })
    }

    fn cpu_f32(&self) -> Box<dyn CpuStep<f32>> {
        Box::new(Replay {
            schedule: self.schedule(),
            period_steps: self.period_steps as u64,
        })
    }

    fn gpu_params(&self) -> Vec<u8> {
        bytemuck::bytes_of(&SpikeSourceParamsGpu {
            period_steps: self.period_steps,
            _pad: [0; 3],
        })
        .to_vec()
    }

    fn gpu_data(&self) -> Vec<u32> {
        let s = self.schedule();
        s.row.iter().chain(&s.steps).copied().collect()
    }

    fn describe(&self) -> Option<String> {
        Some(format!(
            "{} spikes given{}",
            self.spikes.len(),
            if self.period_steps > 0 {
                format!(", repeated every {} steps", self.period_steps)
            } else {
                String::new()
            }
        ))
    }
}

/// One neuron's replay on the CPU.
struct Replay {
    schedule: Arc<Schedule>,
    period_steps: u64,
}

impl<F: Real> CpuStep<F> for Replay {
    fn step(&self, x: &mut [F], _syn: SynInput<F>, noise: &Noise, _t: F, _dt: F) -> bool {
        let i = noise.neuron as usize;
        let local = if self.period_steps > 0 {
            let local = noise.step % self.period_steps;
            if local == 0 {
                x[0] = F::zero();
            }
            local
        } else {
            noise.step
        };
        let (start, end) = (self.schedule.row[i] as usize, self.schedule.row[i + 1] as usize);
        let next = start + x[0].to_f64() as usize;
        if next < end && self.schedule.steps[next] as u64 == local {
            x[0] = x[0] + F::one();
            return true;
        }
        false
    }
}
