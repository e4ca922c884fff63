//! What a config may say: the types serde reads it into, with their defaults.

use crate::error::{Error, Result};
use crate::model::{Kind, Neuron};
use serde::{Deserialize, Serialize};
use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::deserialize_at;
use super::validation::{check_exp, Resolved};


#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub simulation: Simulation,
    /// Neuron models written as equations, by name (`populations.<p>.model` names them).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub models: IndexMap<String, ModelDef>,
    /// Synapse models written as equations, by name (`projections.<p>.synapse` names them).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub synapse_models: IndexMap<String, SynapseDef>,
    /// Timed arrays (Brian2's TimedArray) that equations read as `name(t)` or `name(t, i)`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub timed_arrays: IndexMap<String, TimedArrayDef>,
    #[serde(default)]
    pub populations: BTreeMap<String, Population>,
    #[serde(default)]
    pub projections: BTreeMap<String, Projection>,
    #[serde(default)]
    pub record: Record,
    #[serde(default)]
    pub output: Output,
    /// `[sweep]`: many instances of this config (`crate::sweep`); validated there, since each
    /// point is a config of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<toml::Table>,
    /// What validation resolved (indices of the names, the traces' variables); filled in by
    /// `config::parse`.
    #[serde(skip)]
    pub resolved: Resolved,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    #[default]
    Cpu,
    Gpu,
    Auto,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    #[default]
    F64,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    pub dt_ms: f64,
    pub duration_ms: f64,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub backend: BackendChoice,
    #[serde(default)]
    pub precision: Precision,
    /// Steps per chunk (one GPU submit, one HDF5 append); chosen from the network size if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_steps: Option<u32>,
    /// Substring of the GPU adapter's name to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// How the GPU sums a graded target's inputs.
    #[serde(default)]
    pub gpu_coupling: GpuCoupling,
    /// Where the GPU delivers a population's event-driven inputs.
    #[serde(default)]
    pub gpu_event_delivery: EventDelivery,
    /// Caps every GPU binding (and buffer) at this many MiB, below the device's own limit:
    /// matrices larger than that are cut into parts by whole rows, as on a device with smaller
    /// bindings (how CI tests the split), and `check` counts against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_max_binding_mib: Option<u64>,
    /// The GPU's memory in GiB, where the adapter does not say (wgpu does not report it):
    /// `check` and `run` refuse a network whose buffers need more, naming the largest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_memory_gib: Option<f64>,
}

/// How the GPU computes graded coupling. Dispatches are expensive on real GPUs, so by default
/// a network whose graded projections allow it gets one fused dispatch per step; the separate
/// kernels differ in how a row is summed, and `ganglion bench --set simulation.gpu_coupling=…`
/// compares them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GpuCoupling {
    /// Where the network allows fusing: `fused_lanes` when the rows hold 32 synapses or more on
    /// average, else `fused`. Elsewhere `thread_per_row`.
    #[default]
    Auto,
    /// Coupling and neuron update in one dispatch, one thread per neuron summing its row in
    /// column order, for networks of HH populations whose only input is one graded projection
    /// from themselves; any other network is an error.
    Fused,
    /// As `Fused`, with several threads summing each row (as `LanesPerRow`), then one thread
    /// per row stepping the neuron.
    FusedLanes,
    /// A coupling dispatch in which one thread sums a whole row, in column order (as the CPU
    /// does), before the neuron update.
    ThreadPerRow,
    /// A coupling dispatch in which several threads share a row and add up their partial sums in
    /// workgroup memory: coalesced loads for long rows, a different summation order.
    LanesPerRow,
    /// A coupling dispatch over a column-blocked copy of the matrix: each workgroup copies S
    /// into workgroup memory a block of source neurons at a time, so that S is read once per
    /// row group rather than once per synapse; deterministic, each run of blocks summed in
    /// column order. Two dispatches. Meant for large networks whose S no longer fits the GPU's
    /// caches.
    Blocked,
}

impl GpuCoupling {
    /// The name in the config.
    pub fn name(self) -> &'static str {
        match self {
            GpuCoupling::Auto => "auto",
            GpuCoupling::Fused => "fused",
            GpuCoupling::FusedLanes => "fused_lanes",
            GpuCoupling::ThreadPerRow => "thread_per_row",
            GpuCoupling::LanesPerRow => "lanes_per_row",
            GpuCoupling::Blocked => "blocked",
        }
    }

    /// The coupling runs inside the HH update, with S double-buffered.
    pub fn is_fused(self) -> bool {
        matches!(self, GpuCoupling::Fused | GpuCoupling::FusedLanes)
    }
}

/// Where the GPU delivers the event-driven synapses' arrivals to their targets (take the
/// step's ring slot, add it to g, sum g into the synaptic input, decay g). The results are the
/// same bit for bit either way; only the speed differs, which `benches/real_gpu.sh` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EventDelivery {
    /// Inside the target population's update: no dispatch of its own.
    #[default]
    InUpdate,
    /// One dispatch per target population before its update, which then reads the delivered
    /// input like a graded one: a lighter update kernel for one more dispatch per step.
    Separate,
}

fn default_seed() -> u64 {
    1
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// The neuron model's name (validation resolves it: `Config::model`).
    pub model: String,
    pub size: u64,
    /// Model parameters; checked against the model's own parameter set.
    #[serde(default)]
    pub params: toml::Table,
    /// Initial values by variable name, applied in the order written.
    #[serde(default)]
    pub init: IndexMap<String, InitValue>,
    /// `model = "poisson"`: the rate of each neuron, an expression of `t` and `i` ("15*Hz").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<String>,
    /// Brian2's PoissonInputs onto the population (its model written as equations), by name,
    /// run in the order written.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub poisson_inputs: IndexMap<String, PoissonInputDef>,
    /// Brian2's `run_regularly` on the population (its model written as equations), by name,
    /// run in the order written.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub run_regularly: IndexMap<String, RunRegularlyDef>,
    /// Brian2's custom events (`NeuronGroup(..., events={...})` and `run_on_event`), by name:
    /// a condition checked after the thresholds and code run for the neurons it holds for
    /// after the resets.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub events: IndexMap<String, EventDef>,
    /// The SONATA nodes the population is (`size = { sonata_nodes = … }` sets it with the
    /// size): their numeric attributes initialise the variables of the same name of a model
    /// written as equations, before `init`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<NodesFile>,
    /// Brian2's linked variables: for each variable its model marks `(linked)`, what it
    /// reads: `"population.variable"`, or `{ population, variable, index }` with Brian2's
    /// index, the source neuron of each neuron (read by `links`, which names what is wrong).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub links: IndexMap<String, toml::Value>,
    /// Brian2's subgroups (`P[a:b]`), by name: neurons [a, b) of the population, which a
    /// projection may name as its source or target.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub subgroups: IndexMap<String, [u64; 2]>,
}

/// A population's SONATA nodes: a nodes file, its node population (default: the file's only
/// one), and the node types file whose numeric columns the nodes inherit by `node_type_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodesFile {
    pub file: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_types: Option<PathBuf>,
}

/// One `run_regularly` (`[populations.<p>.run_regularly.<name>]`): statements run every `dt`
/// (every step when absent) in Brian2's `start` slot.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRegularlyDef {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
}

/// Brian2's `on_event` of a projection: the source's event that triggers `on_pre`, the
/// target's that triggers `on_post` ("spike", a threshold's, or a custom event's name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
}

/// One custom event (`[populations.<p>.events.<name>]`): Brian2's `events={name: condition}`
/// and `run_on_event(name, code)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDef {
    pub condition: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Brian2's `when` of `run_on_event`: "after_resets", its default, alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
}

/// One PoissonInput (`[populations.<p>.poisson_inputs.<name>]`): `n` sources at `rate`, each
/// event adding `weight` to `variable`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoissonInputDef {
    pub variable: String,
    pub n: u64,
    pub rate: String,
    pub weight: String,
    /// A subgroup of the population that the input drives alone (Brian2's
    /// `PoissonInput(P[a:b], ...)`), its `i` and `N` within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subgroup: Option<String>,
}

/// An initial value: one number for all, one per neuron, a random draw per neuron, or (for
/// models written as equations) an expression per neuron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InitValue {
    Constant(f64),
    PerNeuron(Vec<f64>),
    Uniform { uniform: [f64; 2] },
    /// Draws below `min`, where given, are set to it (Brian2's `clip(x, min, inf)`): a
    /// conductance drawn from a normal stays physical.
    Normal {
        normal: [f64; 2],
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
    },
    Expression(String),
}

/// A neuron model written as equations in Brian2's language (`[models.<name>]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDef {
    pub equations: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<String>,
    /// A duration ("3*ms") or a condition ("v > 0"), as Brian2's `refractory`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refractory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Constants: numbers (dimensionless) or expressions with units ("-60*mV").
    #[serde(default)]
    pub namespace: toml::Table,
}

/// A timed array: `values` (a list, one per step, or a list of rows, one per step with a
/// column per neuron) or a CSV `file` of such rows, every `dt`, in `unit`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedArrayDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The step of the array, a time ("1*ms").
    pub dt: String,
    /// The values' unit ("nA"); dimensionless when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A synapse model written as equations (`[synapse_models.<name>]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynapseDef {
    /// Per-synapse parameters and summed variables (Brian2's `model`).
    #[serde(default)]
    pub model: String,
    /// Statements run when a pre-synaptic spike arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_pre: Option<String>,
    /// Statements run at each spike of the post-synaptic neuron.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_post: Option<String>,
    /// How the clock-driven equations are integrated (Brian2's `method`); Brian2's default
    /// choice when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default)]
    pub namespace: toml::Table,
}

/// The built-in synapses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynapseName {
    Graded,
    ExpCond,
    ExpCurr,
}

impl SynapseName {
    pub fn from_name(name: &str) -> Option<SynapseName> {
        Some(match name {
            "graded" => SynapseName::Graded,
            "exp_cond" => SynapseName::ExpCond,
            "exp_curr" => SynapseName::ExpCurr,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Projection {
    pub source: String,
    pub target: String,
    /// A built-in synapse (graded, exp_cond, exp_curr) or one of `[synapse_models]`, which
    /// takes precedence.
    pub synapse: String,
    #[serde(default)]
    pub params: toml::Table,
    /// The weight of the synapses of rule-based connectivities (and of `explicit` ones that
    /// give none): one number for all, or a draw per synapse.
    #[serde(default = "default_weight")]
    pub weight: WeightSpec,
    pub connectivity: Connectivity,
    /// Initial value of the event-driven synapses' g per target neuron (exp_cond, exp_curr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub g0: Option<InitValue>,
    /// Equation-defined synapses: initial values of the synaptic variables, in order written.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub init: IndexMap<String, InitValue>,
    /// Equation-defined synapses: the delay of the `on_pre` pathway, an expression of
    /// dimension time, per synapse ("1*ms + 2*ms*rand()").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// Equation-defined synapses: the delay of the `on_post` pathway (Brian2's
    /// `S.post.delay`), one constant time for every synapse ("2*ms").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_delay: Option<String>,
    /// Equation-defined synapses: the events that trigger each pathway (Brian2's `on_event`),
    /// `spike` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_event: Option<OnEvent>,
    /// Equation-defined synapses: Brian2's `run_regularly` on the Synapses, by name, run in
    /// the order written over every synapse.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub run_regularly: IndexMap<String, RunRegularlyDef>,
}

fn default_weight() -> WeightSpec {
    WeightSpec::Constant(1.0)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WeightSpec {
    Constant(f64),
    Uniform { uniform: [f64; 2] },
    Normal { normal: [f64; 2] },
}

fn default_true() -> bool {
    true
}

fn default_one() -> u64 {
    1
}

/// A connection probability: a number, or an expression of each pair (`"exp(-abs(i - j)/10)"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Probability {
    Number(f64),
    Expression(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Connectivity {
    AllToAll {
        #[serde(default = "default_true")]
        autapses: bool,
    },
    OneToOne,
    FixedProbability {
        p: f64,
        #[serde(default = "default_true")]
        autapses: bool,
        /// Rows drawn again every step instead of stored (`crate::procedural`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        procedural: bool,
    },
    FixedIndegree {
        k: u64,
        #[serde(default = "default_true")]
        autapses: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        procedural: bool,
    },
    /// Target i receives from sources i+1 … i+k (mod N): a directed ring of k neighbours.
    Ring {
        k: u64,
    },
    Explicit {
        pre: Vec<u64>,
        post: Vec<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weight: Option<Vec<f64>>,
    },
    /// Brian2's `Synapses.connect(condition=…, p=…, n=…)`: each pair (i, j) whose
    /// `condition` holds is connected with probability `p` by `n` synapses; both are
    /// expressions of i, j, N_pre, N_post and, between models written as equations, their
    /// variables (`x_pre`, `x_post`) (`connectivity::expression`).
    Expression {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p: Option<Probability>,
        #[serde(default = "default_one")]
        n: u64,
        /// Brian2's generator syntax instead of a condition (`"k for k in range(i-3, i+4) if
        /// k != i"`: `connectivity::generator`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        j: Option<String>,
        /// The same over the post-synaptic j, giving i (`"k for k in range(j-1, j+2)"`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        i: Option<String>,
        /// Pairs whose generated index is outside its population are left out, not refused.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        skip_if_invalid: bool,
    },
    /// The edges of a SONATA edges file (`io::sonata::edges`).
    Sonata {
        edges: PathBuf,
        /// The edge population (default: the file's only one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        population: Option<String>,
        /// Its edge types CSV file, whose numeric columns the edges inherit by `edge_type_id`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        edge_types: Option<PathBuf>,
        /// Only the edges of these types (the others may be another projection's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        edge_type_ids: Option<Vec<u64>>,
        /// An edge attribute each edge's weight is multiplied by (`nsyns`, as BMTK's
        /// point-neuron simulator does), or `none`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weight_scale: Option<String>,
    },
}

impl Connectivity {
    /// Whether the rule's rows are drawn again every step instead of stored.
    pub fn is_procedural(&self) -> bool {
        matches!(
            self,
            Connectivity::FixedProbability { procedural: true, .. }
                | Connectivity::FixedIndegree { procedural: true, .. }
        )
    }

    /// The edge attribute a SONATA file's weights are multiplied by, if any.
    pub fn weight_scale(&self) -> Option<&str> {
        match self {
            Connectivity::Sonata { weight_scale: Some(s), .. } if s != NO_WEIGHT_SCALE => Some(s),
            _ => None,
        }
    }
}

/// `weight_scale`'s value for taking the edges' weights as they are.
pub const NO_WEIGHT_SCALE: &str = "none";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    #[serde(default)]
    pub spikes: Vec<String>,
    /// Populations whose rate is written every step (Brian2's PopulationRateMonitor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rates: Vec<String>,
    #[serde(default)]
    pub traces: Vec<TraceSpec>,
    /// Synaptic variables over time (synapses written as equations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synapses: Vec<SynapseTraceSpec>,
    /// Per population whose spikes are recorded: variables recorded with each spike (Brian2's
    /// `SpikeMonitor(P, variables=[...])`), as they are after the update, before the reset.
    #[serde(default, skip_serializing_if = "indexmap::IndexMap::is_empty")]
    pub spike_variables: indexmap::IndexMap<String, Vec<String>>,
    /// Every recorded rate also smoothed, Brian2's `smooth_rate`, when the run ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smooth_rate: Option<SmoothRateSpec>,
    /// Brian2's EventMonitor: per population, the custom events whose times and neurons are
    /// written.
    #[serde(default, skip_serializing_if = "indexmap::IndexMap::is_empty")]
    pub events: indexmap::IndexMap<String, Vec<String>>,
    /// Per population, per recorded event: variables recorded with each occurrence (Brian2's
    /// `EventMonitor(P, event, variables=[...])`), as they are when the event is checked.
    #[serde(default, skip_serializing_if = "indexmap::IndexMap::is_empty")]
    pub event_variables: indexmap::IndexMap<String, indexmap::IndexMap<String, Vec<String>>>,
}

/// Brian2's `smooth_rate(window, width)`: `window` "gaussian" or "flat" with `width` a time,
/// or the window's own values (Brian2's array window) without one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmoothRateSpec {
    pub window: SmoothWindow,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "toml::Value")]
pub enum SmoothWindow {
    Named(String),
    /// An odd number of values, normalised to a sum of 1.
    Values(Vec<f64>),
}

impl TryFrom<toml::Value> for SmoothWindow {
    type Error = String;

    fn try_from(value: toml::Value) -> std::result::Result<Self, String> {
        let number = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
        match value {
            toml::Value::String(name) => Ok(SmoothWindow::Named(name)),
            toml::Value::Array(values) => values
                .iter()
                .map(number)
                .collect::<Option<Vec<f64>>>()
                .map(SmoothWindow::Values)
                .ok_or_else(|| "a window's own values must all be numbers".into()),
            other => Err(format!("must be \"gaussian\", \"flat\" or a list of numbers, got a {}", other.type_str())),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynapseTraceSpec {
    pub projection: String,
    pub variables: Vec<String>,
    /// Synapse indices (the projection's order, as `/synapses/<projection>/pre` lists them)
    /// or "all".
    #[serde(default)]
    pub synapses: NeuronSelection,
    #[serde(default = "default_every")]
    pub every: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    pub population: String,
    pub variables: Vec<String>,
    #[serde(default)]
    pub neurons: NeuronSelection,
    #[serde(default = "default_every")]
    pub every: u64,
    /// Brian2's StateMonitor `when`: the slot of the step the samples are taken in
    /// (`record::Sampled`); the step's start without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
}

fn default_every() -> u64 {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NeuronSelection {
    /// The word "all".
    Keyword(String),
    List(Vec<u64>),
}

impl Default for NeuronSelection {
    fn default() -> Self {
        NeuronSelection::Keyword("all".into())
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Also a SONATA simulation output directory (`io::sonata::output_dir`), written when
    /// the run completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sonata_dir: Option<PathBuf>,
    /// How a sweep's file holds its instances (`io::stacked`).
    #[serde(default, skip_serializing_if = "SweepLayout::is_default")]
    pub sweep_layout: SweepLayout,
}

/// A sweep's file: a group per instance, each a single run's layout, or every instance's
/// output stacked in one set of datasets (an instance's row in each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SweepLayout {
    #[default]
    Instances,
    Stacked,
}

impl SweepLayout {
    fn is_default(&self) -> bool {
        *self == SweepLayout::Instances
    }
}

/// Variables one trace entry may record (the GPU gather packs their indices in 4-bit fields).
pub const MAX_TRACE_VARIABLES: usize = 8;

impl Config {
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The run's clock (after validation: a whole number of steps).
    pub fn clock(&self) -> crate::model::Clock {
        crate::model::Clock {
            dt_ms: self.simulation.dt_ms,
            n_steps: (self.simulation.duration_ms / self.simulation.dt_ms).round() as u64,
        }
    }

    /// The model of population `index` (config order), as validation resolved it.
    pub fn model(&self, index: usize) -> &Kind {
        &self.resolved.models[index]
    }

    /// The model of population `index` with its parameters, for this config's clock.
    pub fn model_params(&self, index: usize) -> Result<Arc<dyn Neuron>> {
        let (name, pop) = self
            .populations
            .iter()
            .nth(index)
            .ok_or_else(|| Error::config("populations", format!("no population {index}")))?;
        self.model(index).parse(
            &format!("populations.{name}.params"),
            &pop.params,
            self.clock(),
        )
    }

    /// The built-in synapse a projection uses; None where its synapse is one of
    /// `[synapse_models]` (which take precedence over the built-in names).
    pub fn builtin_synapse(&self, p: &Projection) -> Option<SynapseName> {
        if self.synapse_models.contains_key(&p.synapse) {
            None
        } else {
            p.builtin()
        }
    }

    pub fn population_index(&self, name: &str) -> Option<usize> {
        self.populations.keys().position(|k| k == name)
    }

    /// What a projection's `source` or `target` names: a population (all its neurons), or a
    /// subgroup of one (its neurons [a, b), Brian2's `P[a:b]`).
    pub fn group(&self, name: &str) -> Option<Group> {
        if let Some(population) = self.population_index(name) {
            let size = self.populations[name].size;
            return Some(Group { population, first: 0, size, whole: true, subgroup: false });
        }
        self.populations.values().enumerate().find_map(|(population, p)| {
            let [a, b] = *p.subgroups.get(name)?;
            Some(Group { population, first: a, size: b.saturating_sub(a), whole: a == 0 && b == p.size, subgroup: true })
        })
    }
}

/// A projection's end (`Config::group`): its population, and the neurons of it the end spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    pub population: usize,
    pub first: u64,
    pub size: u64,
    /// Every neuron of the population.
    pub whole: bool,
    /// Named by a subgroup, not by its population (a subgroup of every neuron is one all the
    /// same, as Brian2 treats it).
    pub subgroup: bool,
}

impl Group {
    /// A subgroup's first neuron and size, within which its monitors and links count; None
    /// for a population.
    pub fn span(&self) -> Option<(u32, u32)> {
        self.subgroup.then_some((self.first as u32, self.size as u32))
    }
}

#[derive(Clone, Debug)]
pub enum SynapseModel {
    Graded(crate::model::graded::GradedParams),
    ExpCond(crate::model::exp_synapse::ExpCondParams),
    ExpCurr(crate::model::exp_synapse::ExpCurrParams),
    /// Written as equations, compiled for its projection.
    Equations(Arc<crate::equations::synapse::SynapseProgram>),
}

impl SynapseModel {
    /// The delay of a built-in event-driven synapse, ms; None for the graded one and for
    /// equations (whose delays are per synapse).
    pub fn delay_ms(&self) -> Option<f64> {
        match self {
            SynapseModel::Graded(_) | SynapseModel::Equations(_) => None,
            SynapseModel::ExpCond(p) => Some(p.delay_ms),
            SynapseModel::ExpCurr(p) => Some(p.delay_ms),
        }
    }
}



impl Projection {
    /// The built-in synapse it names (None: one of `[synapse_models]`, or unknown).
    pub fn builtin(&self) -> Option<SynapseName> {
        SynapseName::from_name(&self.synapse)
    }

    /// The parameters of its built-in synapse.
    pub fn synapse_params(&self, name: &str) -> Result<SynapseModel> {
        let at = format!("projections.{name}.params");
        let table = toml::Value::Table(self.params.clone());
        let Some(builtin) = self.builtin() else {
            return Err(Error::config(
                format!("projections.{name}.synapse"),
                format!("`{}` is not a built-in synapse (graded, exp_cond, exp_curr)", self.synapse),
            ));
        };
        Ok(match builtin {
            SynapseName::Graded => {
                let p: crate::model::graded::GradedParams = deserialize_at(&at, table)?;
                if p.w == 0.0 || !p.w.is_finite() {
                    return Err(Error::config(
                        format!("{at}.w"),
                        "must be a finite non-zero number (the current is divided by it)",
                    ));
                }
                SynapseModel::Graded(p)
            }
            SynapseName::ExpCond => {
                let p: crate::model::exp_synapse::ExpCondParams = deserialize_at(&at, table)?;
                check_exp(&at, p.tau_ms, p.delay_ms)?;
                SynapseModel::ExpCond(p)
            }
            SynapseName::ExpCurr => {
                let p: crate::model::exp_synapse::ExpCurrParams = deserialize_at(&at, table)?;
                check_exp(&at, p.tau_ms, p.delay_ms)?;
                SynapseModel::ExpCurr(p)
            }
        })
    }
}


/// A recorded variable: one of the neuron model's, or the g that an event-driven projection
/// keeps for each of its target neurons (`g_<projection>` in the config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceVar {
    /// Index into the model's variable list.
    State(usize),
    /// Index of the projection.
    Synapse(usize),
}

