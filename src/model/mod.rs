//! Neuron and synapse models, each defined once: parameters, rate functions and one `step`.
//! The WGSL shaders in `shaders/` mirror these files line for line.
//!
//! A neuron model is one file here and one shader, and the rest of ganglion reaches it only
//! through two traits, as GeNN's backends reach a model only through its definition:
//! - [`NeuronKind`]: the model as a type: its name in configs, its variables and their units,
//!   the units of the synapses onto it, its shader, and how it reads its parameters.
//! - [`Neuron`]: the model with its parameters resolved: the initial state, the CPU step (in
//!   f64 and f32, through [`CpuStep`]) and the bytes of its shader's `Params`.
//!
//! [`KINDS`] lists the models; nothing outside `model/` matches on which one it has.

pub mod exp_synapse;
pub mod graded;
pub mod hh;
pub mod hh_traub;
pub mod lif;
pub mod lqg;
pub mod ofc_saccade;
pub mod rates;
pub mod spike_source;

use crate::error::Result;
use crate::real::Real;
use std::sync::Arc;

/// The synaptic input of one neuron for one step, I_syn(V) = i0 − g·V: conductance-based
/// synapses add g and g·E_rev, current-based ones add to i0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SynInput<F> {
    pub g: F,
    pub i0: F,
}

impl<F: Real> SynInput<F> {
    pub fn zero() -> Self {
        SynInput {
            g: F::zero(),
            i0: F::zero(),
        }
    }

    #[inline]
    pub fn current(&self, v: F) -> F {
        self.i0 - self.g * v
    }
}

/// A state variable: its name in configs and output files, and its unit there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    pub unit: &'static str,
}

/// `var("v", "mV")`: a variable, as the models list them.
pub const fn var(name: &'static str, unit: &'static str) -> Variable {
    Variable { name, unit }
}

/// The units of what an event-driven synapse delivers onto a model, in the model's own units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynapticUnits {
    pub conductance: &'static str,
    pub current: &'static str,
}

/// A `#[repr(C)]` struct that a shader declares too: the shader's name for it, its members'
/// byte offsets and its size, so that a test can hold the two side by side (members whose
/// names start with `_` are padding and are not compared by name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructLayout {
    pub wgsl_name: &'static str,
    pub members: Vec<(&'static str, usize)>,
    pub size: usize,
}

/// `struct_layout!("Params", HhParamsGpu { c_m, g_na, … })`: the layout of a Rust struct, with
/// the name the shader gives it.
#[macro_export]
macro_rules! struct_layout {
    ($wgsl:literal, $ty:ty { $($field:ident),* $(,)? }) => {
        $crate::model::StructLayout {
            wgsl_name: $wgsl,
            members: vec![$((stringify!($field), std::mem::offset_of!($ty, $field))),*],
            size: std::mem::size_of::<$ty>(),
        }
    };
}

/// What a neuron model is, whatever its parameters, as data (GeNN's model definition).
#[derive(Clone, Copy, Debug)]
pub struct ModelInfo {
    /// The name a config gives in `populations.<name>.model`.
    pub name: &'static str,
    /// The state variables, in the order of the state arrays. The first is V (for a model of
    /// units without one, the variable `init` sets first); a non-finite value of it is a
    /// divergence.
    pub variables: &'static [Variable],
    pub synaptic_units: SynapticUnits,
    /// The shader module that steps it (see `shaders`).
    pub shader: &'static str,
    /// The variable a graded synapse reads from a source of this model (its activation S),
    /// where it has one.
    pub graded_activation: Option<usize>,
    /// The shader module with the model's update fused with its own graded coupling
    /// (`update_coupled`, `update_coupled_lanes`), where it has one.
    pub fused_coupling_shader: Option<&'static str>,
    /// Whether projections may join it (a model of independent units takes none).
    pub accepts_synapses: bool,
    /// Whether its shader reads `Params` and the noise key per instance from a table at
    /// binding 0 (`Instance` in its shader), so that a sweep's instances run as one
    /// population; the others read one `Params` as a uniform.
    pub instance_table: bool,
}

/// The run's clock, as a model's parameters may need it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clock {
    pub dt_ms: f64,
    pub n_steps: u64,
}

/// A dataset a model writes to `/model/<population>/<name>` of the output file.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelOutput {
    pub name: &'static str,
    /// Rows, columns; `data` is row-major.
    pub shape: [usize; 2],
    pub data: Vec<f64>,
}

/// A neuron model as a type: its definition, and how it reads its parameters.
pub trait NeuronKind: Send + Sync {
    fn info(&self) -> &'static ModelInfo;
    /// The layout of the struct `Neuron::gpu_params` fills (the shader's `Params`).
    fn gpu_params_layout(&self) -> StructLayout;
    /// Reads and checks `params`, the table at config key `at`, for a run on `clock`.
    fn parse(&self, at: &str, params: &toml::Table, clock: Clock) -> Result<Arc<dyn Neuron>>;

    fn name(&self) -> &'static str {
        self.info().name
    }
    fn variables(&self) -> &'static [Variable] {
        self.info().variables
    }
    fn synaptic_units(&self) -> SynapticUnits {
        self.info().synaptic_units
    }
    fn shader(&self) -> &'static str {
        self.info().shader
    }
    fn graded_activation(&self) -> Option<usize> {
        self.info().graded_activation
    }
    fn fused_coupling_shader(&self) -> Option<&'static str> {
        self.info().fused_coupling_shader
    }
    fn instance_table(&self) -> bool {
        self.info().instance_table
    }
    /// The WGSL of its update (`update_neurons`), composed with what it requires. A model
    /// whose shader is generated (from equations) returns that text here, through
    /// `shaders::compose_text`.
    fn update_wgsl(&self) -> Result<String> {
        crate::shaders::compose(self.shader())
    }
    /// The compiled equations of a model written as equations (None for the built-in ones).
    fn equations(&self) -> Option<&crate::equations::neuron::NeuronModel> {
        None
    }
    /// The shader generated for a model written as equations, before composition.
    fn generated_wgsl(&self) -> Option<&str> {
        None
    }
}

/// A neuron model with its parameters: what the backends step.
pub trait Neuron: std::fmt::Debug + Send + Sync {
    fn kind(&self) -> &'static dyn NeuronKind;
    /// V of a neuron whose `init` does not give one.
    fn default_v(&self) -> f64;
    /// The state of a neuron at rest at membrane potential `v`, in variable order.
    fn rest(&self, v: f64) -> Vec<f64>;
    fn cpu_f64(&self) -> Box<dyn CpuStep<f64>>;
    fn cpu_f32(&self) -> Box<dyn CpuStep<f32>>;
    /// The shader's `Params`, as bytes.
    fn gpu_params(&self) -> Vec<u8>;
    /// Data the shader reads beside its state (`model_data` in neuron_common.wgsl): a spike
    /// source's schedule. Empty for most models.
    fn gpu_data(&self) -> Vec<u32> {
        Vec::new()
    }
    /// Checks what depends on the population's size (a spike source's node ids), and
    /// prepares for it; called before the model steps.
    fn check_size(&self, _size: usize) -> Result<()> {
        Ok(())
    }
    /// What `ganglion check` says of it beyond its size (the saccade model's gains).
    fn describe(&self) -> Option<String> {
        None
    }
    /// Datasets for `/model/<population>/` of the output file, and that group's attributes.
    fn outputs(&self) -> Vec<ModelOutput> {
        Vec::new()
    }
    fn output_attributes(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
    /// The initial state from a population's `init` (key `at`) over `preset` columns (a
    /// SONATA nodes file's attributes, by name), where the model reads `init` itself
    /// (equations: expressions in the order written); None: the common rule (V, then each
    /// variable given or at rest).
    fn initial_state(
        &self,
        _at: &str,
        _size: usize,
        _given: &indexmap::IndexMap<String, crate::config::InitValue>,
        _preset: &[(String, Vec<f64>)],
        _rng: &mut rand_chacha::ChaCha8Rng,
    ) -> Option<Result<Vec<Vec<f64>>>> {
        None
    }
}

/// One neuron over one step on the CPU.
pub trait CpuStep<F: Real>: Send + Sync {
    /// Advances state `x` from time `t` by `dt` with synaptic input `syn`, drawing what noise
    /// it needs from `noise`. True when it spiked.
    fn step(&self, x: &mut [F], syn: SynInput<F>, noise: &Noise, t: F, dt: F) -> bool;
    /// Steps consecutive neurons, their states in `xs` (`n_vars` each), the first being
    /// `noise.neuron`, and sets their spike flags. One by one, unless the model batches.
    #[allow(clippy::too_many_arguments)]
    fn step_batch(
        &self,
        xs: &mut [F],
        n_vars: usize,
        syn: &[SynInput<F>],
        spiked: &mut [bool],
        noise: &Noise,
        t: F,
        dt: F,
    ) {
        for (k, ((x, s), fired)) in xs.chunks_exact_mut(n_vars).zip(syn).zip(spiked).enumerate() {
            let at = Noise {
                neuron: noise.neuron + k as u32,
                ..*noise
            };
            *fired = self.step(x, *s, &at, t, dt);
        }
    }
    /// Whether the model acts after the step's synaptic events (Brian2's order: update,
    /// threshold, synapses, reset): a reset apart from `step`, or inputs of its own.
    fn resets_apart(&self) -> bool {
        false
    }
    /// A neuron after the step's synaptic events (where `resets_apart`): the model's inputs
    /// (Brian2's PoissonInputs), then, where it spiked in this step, its reset.
    fn after_synapses(&self, _x: &mut [F], _spiked: bool, _noise: &Noise) {}
    /// Whether the model runs statements in slot `when` of `step` (Brian2's
    /// `run_regularly`), before they are recorded there.
    fn runs_regularly(&self, _step: u64, _when: crate::record::Sampled) -> bool {
        false
    }
    /// Those due in slot `when` of `noise.step`, for one neuron.
    fn regularly(&self, _x: &mut [F], _noise: &Noise, _when: crate::record::Sampled) {}
    /// Brings the neuron's derived variables (subexpressions) up to date before recording.
    fn refresh(&self, _x: &mut [F], _noise: &Noise) {}
}

/// The standard normals one neuron may draw in one step: Philox streams keyed by the seed,
/// counted by (neuron, step, population, stream), the same on the GPU (`normal_draw` in
/// shaders/common/philox.wgsl). A model draws only the streams it uses.
#[derive(Clone, Copy, Debug)]
pub struct Noise {
    pub key: [u32; 2],
    pub neuron: u32,
    pub step: u64,
    pub population: u32,
    /// The population's size (a sweep instance's), Brian2's `N`: not part of the key.
    pub size: u32,
}

impl Noise {
    /// The draw of `stream` (below `rng::stream::PER_POPULATION`).
    pub fn normal<F: Real>(&self, stream: u32) -> F {
        crate::rng::normal_draw(self.key, self.neuron, self.step, self.population, stream)
    }

    /// A uniform in (0, 1) of `stream` (`uniform_draw` in philox.wgsl).
    pub fn uniform<F: Real>(&self, stream: u32) -> F {
        crate::rng::uniform_draw(self.key, self.neuron, self.step, self.population, stream)
    }
}

impl std::fmt::Debug for dyn NeuronKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq for dyn NeuronKind {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

/// Every neuron model ganglion has.
pub static KINDS: [&dyn NeuronKind; 5] = [
    &hh::Hh,
    &lif::Lif,
    &hh_traub::HhTraub,
    &ofc_saccade::OfcSaccade,
    &spike_source::SpikeSource,
];

/// The model a config names, or None.
pub fn lookup(name: &str) -> Option<&'static dyn NeuronKind> {
    KINDS.iter().copied().find(|k| k.name() == name)
}

/// The models' names, for error messages.
pub fn names() -> String {
    KINDS
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A neuron model as a config resolves it: a built-in one, or (to come) one compiled from
/// the config's equations.
pub type Kind = Arc<dyn NeuronKind>;

/// A built-in model, shared as a `Kind`.
struct Builtin(&'static dyn NeuronKind);

impl NeuronKind for Builtin {
    fn info(&self) -> &'static ModelInfo {
        self.0.info()
    }
    fn gpu_params_layout(&self) -> StructLayout {
        self.0.gpu_params_layout()
    }
    fn parse(&self, at: &str, params: &toml::Table, clock: Clock) -> Result<Arc<dyn Neuron>> {
        self.0.parse(at, params, clock)
    }
    fn update_wgsl(&self) -> Result<String> {
        self.0.update_wgsl()
    }
    fn equations(&self) -> Option<&crate::equations::neuron::NeuronModel> {
        self.0.equations()
    }
    fn generated_wgsl(&self) -> Option<&str> {
        self.0.generated_wgsl()
    }
}

/// The model a config's `model = "<name>"` names.
pub fn resolve(name: &str) -> Option<Kind> {
    lookup(name).map(shared)
}

/// A built-in model as a `Kind`.
pub fn shared(kind: &'static dyn NeuronKind) -> Kind {
    Arc::new(Builtin(kind))
}

/// Reads a model's parameters with serde, naming the key of any error.
pub fn read_params<P: serde::de::DeserializeOwned>(at: &str, params: &toml::Table) -> Result<P> {
    crate::config::deserialize_at(at, toml::Value::Table(params.clone()))
}

/// The CPU step of `model` in the float type `F`.
pub fn cpu_step<F: Real>(model: &dyn Neuron) -> Box<dyn CpuStep<F>> {
    F::cpu_step(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_is_found_by_its_name_and_indexes_its_variables_in_four_bits() {
        for kind in KINDS {
            assert!(kind.variables().len() <= 16, "{}: the trace gathers index variables in 4 bits", kind.name());
            assert_eq!(lookup(kind.name()), Some(kind));
        }
        assert!(lookup("izhikevich").is_none());
    }
}
