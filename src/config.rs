//! The TOML configuration: parsing, `--set` overrides and validation. Knows nothing about
//! numerics; `network` turns a validated `Config` into arrays.

use crate::error::{Error, Result};
use crate::model::Neuron;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub simulation: Simulation,
    #[serde(default)]
    pub populations: BTreeMap<String, Population>,
    #[serde(default)]
    pub projections: BTreeMap<String, Projection>,
    #[serde(default)]
    pub record: Record,
    #[serde(default)]
    pub output: Output,
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

fn default_seed() -> u64 {
    1
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// The neuron model, resolved by name when the config is read.
    #[serde(with = "crate::model::kind_serde")]
    pub model: &'static dyn crate::model::NeuronKind,
    pub size: u64,
    /// Model parameters; checked against the model's own parameter set.
    #[serde(default)]
    pub params: toml::Table,
    /// Initial values by variable name.
    #[serde(default)]
    pub init: BTreeMap<String, InitValue>,
}

/// An initial value: one number for all, one per neuron, or a random draw per neuron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InitValue {
    Constant(f64),
    PerNeuron(Vec<f64>),
    Uniform { uniform: [f64; 2] },
    Normal { normal: [f64; 2] },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SynapseName {
    Graded,
    ExpCond,
    ExpCurr,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Projection {
    pub source: String,
    pub target: String,
    pub synapse: SynapseName,
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
    },
    FixedIndegree {
        k: u64,
        #[serde(default = "default_true")]
        autapses: bool,
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
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    #[serde(default)]
    pub spikes: Vec<String>,
    #[serde(default)]
    pub traces: Vec<TraceSpec>,
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
}

/// Variables one trace entry may record (the GPU gather packs their indices in 4-bit fields).
pub const MAX_TRACE_VARIABLES: usize = 8;

/// Reads a config file and applies `key.path=value` overrides before anything is checked,
/// so that an override is held to the same rules as the file.
pub fn load(path: &Path, overrides: &[String]) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadConfig {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, overrides)
}

pub fn parse(text: &str, overrides: &[String]) -> Result<Config> {
    let mut value: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Error::config("<file>", e.to_string().trim_end().to_string())
    })?;
    for o in overrides {
        apply_override(&mut value, o)?;
    }
    reject_non_finite("", &toml::Value::Table(value.clone()))?;
    let config: Config = deserialize_at("", toml::Value::Table(value))?;
    config.validate()?;
    Ok(config)
}

/// No model, weight or duration is meaningful as NaN or ±inf, and TOML accepts `nan` and
/// `inf`: one walk over the whole document rejects them all, naming the key, before any
/// field is read.
fn reject_non_finite(at: &str, value: &toml::Value) -> Result<()> {
    match value {
        toml::Value::Float(x) if !x.is_finite() => Err(Error::config(
            at,
            format!("must be a finite number, got {x}"),
        )),
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| reject_non_finite(&format!("{at}[{i}]"), v)),
        toml::Value::Table(t) => t.iter().try_for_each(|(k, v)| {
            let key = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            reject_non_finite(&key, v)
        }),
        _ => Ok(()),
    }
}

/// Population and projection names become HDF5 group names and parts of trace variable
/// names (`g_<projection>`), so they are kept to identifiers: a letter or `_`, then letters,
/// digits or `_`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_name(kind: &str, name: &str) -> Result<()> {
    if is_identifier(name) {
        Ok(())
    } else {
        Err(Error::config(
            format!("{kind}.\"{name}\""),
            format!(
                "`{name}` is not a valid {} name: use a letter or `_` followed by letters, digits or `_`",
                &kind[..kind.len() - 1]
            ),
        ))
    }
}

/// The number of steps a duration takes: a whole number of at least one, or an error naming
/// the key. A duration within a millionth of a step of a whole number counts as whole, so
/// that decimal values such as 0.1 ms steps over 1000 ms pass.
pub fn whole_steps(key: &str, duration_ms: f64, dt_ms: f64) -> Result<u64> {
    let exact = duration_ms / dt_ms;
    let steps = exact.round();
    if exact < 1.0 - 1e-6 {
        return Err(Error::config(
            key,
            format!("{duration_ms} ms is shorter than one step of dt = {dt_ms} ms"),
        ));
    }
    if (exact - steps).abs() > 1e-6 {
        let below = exact.floor() * dt_ms;
        let above = exact.ceil() * dt_ms;
        return Err(Error::config(
            key,
            format!(
                "{duration_ms} ms is not a whole number of steps of dt = {dt_ms} ms ({exact:.4} steps); use {} or {} ms",
                trim_float(below),
                trim_float(above)
            ),
        ));
    }
    Ok(steps as u64)
}

/// A float printed without the noise of binary rounding (0.30000000000000004 → 0.3).
fn trim_float(x: f64) -> String {
    let s = format!("{x:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Deserializes `value`, reporting errors with the dotted path from the root (`prefix` is the
/// path of `value` itself).
pub fn deserialize_at<T: DeserializeOwned>(prefix: &str, value: toml::Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix.is_empty(), inner == ".") {
            (true, _) => inner,
            (false, true) => prefix.to_string(),
            (false, false) => format!("{prefix}.{inner}"),
        };
        // toml repeats the path on a second line; the first line is the message.
        let message = e.into_inner().to_string();
        Error::config(path, message.lines().next().unwrap_or_default().to_string())
    })
}

fn apply_override(root: &mut toml::Table, assignment: &str) -> Result<()> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| Error::config(assignment, "an override must look like key.path=value"))?;
    let key = key.trim();
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(Error::config(key, "empty component in the key path"));
    }
    // A TOML literal if it parses as one (numbers, booleans, arrays, inline tables), else a string.
    let value = format!("x = {}", raw.trim())
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("x"))
        .unwrap_or_else(|| toml::Value::String(raw.trim().to_string()));
    let mut table = root;
    for (i, part) in parts[..parts.len() - 1].iter().enumerate() {
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry.as_table_mut().ok_or_else(|| {
            Error::config(
                parts[..=i].join("."),
                "is not a table, cannot set a key below it",
            )
        })?;
    }
    table.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

impl Config {
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    pub fn population_index(&self, name: &str) -> Option<usize> {
        self.populations.keys().position(|k| k == name)
    }

    /// Checks everything the types alone cannot: sizes, ranges, names that refer to others.
    pub fn validate(&self) -> Result<()> {
        let sim = &self.simulation;
        if !(sim.dt_ms.is_finite() && sim.dt_ms > 0.0) {
            return Err(Error::config(
                "simulation.dt_ms",
                format!("must be a positive number of ms, got {}", sim.dt_ms),
            ));
        }
        if !(sim.duration_ms.is_finite() && sim.duration_ms > 0.0) {
            return Err(Error::config(
                "simulation.duration_ms",
                format!("must be a positive number of ms, got {}", sim.duration_ms),
            ));
        }
        if sim.duration_ms / sim.dt_ms > u32::MAX as f64 * 4.0 {
            return Err(Error::config(
                "simulation.duration_ms",
                "more steps than a run can count",
            ));
        }
        whole_steps("simulation.duration_ms", sim.duration_ms, sim.dt_ms)?;
        if sim.chunk_steps == Some(0) {
            return Err(Error::config(
                "simulation.chunk_steps",
                "must be at least 1",
            ));
        }
        if self.populations.is_empty() {
            return Err(Error::config(
                "populations",
                "at least one population is needed",
            ));
        }
        for name in self.populations.keys() {
            check_name("populations", name)?;
        }
        for name in self.projections.keys() {
            check_name("projections", name)?;
        }
        for (name, pop) in &self.populations {
            let at = format!("populations.{name}");
            if pop.size == 0 {
                return Err(Error::config(format!("{at}.size"), "must be at least 1"));
            }
            if pop.size > u32::MAX as u64 {
                return Err(Error::config(
                    format!("{at}.size"),
                    "must fit in 32 bits (at most 4294967295)",
                ));
            }
            pop.model_params(name, sim.dt_ms)?;
            let vars: Vec<&str> = pop.variable_names().collect();
            for (var, init) in &pop.init {
                let key = format!("{at}.init.{var}");
                if !vars.contains(&var.as_str()) {
                    return Err(Error::config(
                        key,
                        format!(
                            "unknown variable; the {} model has {}",
                            pop.model.name(),
                            vars.join(", ")
                        ),
                    ));
                }
                match init {
                    InitValue::PerNeuron(list) if list.len() as u64 != pop.size => {
                        return Err(Error::config(
                            key,
                            format!("has {} values for {} neurons", list.len(), pop.size),
                        ));
                    }
                    InitValue::Uniform { uniform: [a, b] } if !(a <= b) => {
                        return Err(Error::config(
                            key,
                            "uniform = [low, high] needs low <= high",
                        ));
                    }
                    InitValue::Normal { normal: [_, sd] } if !(*sd >= 0.0) => {
                        return Err(Error::config(key, "normal = [mean, sd] needs sd >= 0"));
                    }
                    _ => {}
                }
            }
        }
        for (name, proj) in &self.projections {
            self.validate_projection(name, proj)?;
            proj.synapse_params(name)?;
        }
        for (i, pop) in self.record.spikes.iter().enumerate() {
            if !self.populations.contains_key(pop) {
                return Err(Error::config(
                    format!("record.spikes[{i}]"),
                    format!("no population named `{pop}`"),
                ));
            }
            if self.record.spikes[..i].contains(pop) {
                return Err(Error::config(
                    format!("record.spikes[{i}]"),
                    format!("`{pop}` is listed twice"),
                ));
            }
        }
        // Each (population, variable) is one dataset in the output: recorded once.
        let mut traced: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for (i, t) in self.record.traces.iter().enumerate() {
            let at = format!("record.traces[{i}]");
            let Some(pop) = self.populations.get(&t.population) else {
                return Err(Error::config(
                    format!("{at}.population"),
                    format!("no population named `{}`", t.population),
                ));
            };
            if t.variables.is_empty() {
                return Err(Error::config(
                    format!("{at}.variables"),
                    "name at least one variable",
                ));
            }
            // The model's variables, and the g of each event-driven projection into it.
            let mut vars: Vec<String> = pop.variable_names().map(String::from).collect();
            vars.extend(
                self.projections
                    .iter()
                    .filter(|(_, p)| p.target == t.population && p.synapse != SynapseName::Graded)
                    .map(|(name, _)| format!("g_{name}")),
            );
            for v in &t.variables {
                if let Some(first) = traced.insert((t.population.as_str(), v.as_str()), i) {
                    let whose = if first == i {
                        "twice in this list".to_string()
                    } else {
                        format!("already by record.traces[{first}]")
                    };
                    return Err(Error::config(
                        format!("{at}.variables"),
                        format!("`{v}` of `{}` is recorded {whose}; record each variable once", t.population),
                    ));
                }
                if !vars.contains(v) {
                    return Err(Error::config(
                        format!("{at}.variables"),
                        format!(
                            "unknown variable `{v}`; `{}` has {}",
                            t.population,
                            vars.join(", ")
                        ),
                    ));
                }
            }
            if t.variables.len() > MAX_TRACE_VARIABLES {
                return Err(Error::config(
                    format!("{at}.variables"),
                    format!("at most {MAX_TRACE_VARIABLES} variables per trace"),
                ));
            }
            if t.every == 0 {
                return Err(Error::config(format!("{at}.every"), "must be at least 1"));
            }
            match &t.neurons {
                NeuronSelection::Keyword(k) if k != "all" => {
                    return Err(Error::config(
                        format!("{at}.neurons"),
                        format!("expected \"all\" or a list of indices, got \"{k}\""),
                    ));
                }
                NeuronSelection::List(l) if l.is_empty() => {
                    return Err(Error::config(
                        format!("{at}.neurons"),
                        "is empty: list at least one neuron, or \"all\"",
                    ));
                }
                NeuronSelection::List(l) => {
                    if let Some(bad) = l.iter().find(|&&n| n >= pop.size) {
                        return Err(Error::config(
                            format!("{at}.neurons"),
                            format!("neuron {bad} is out of range for size {}", pop.size),
                        ));
                    }
                    let mut seen = std::collections::BTreeSet::new();
                    if let Some(twice) = l.iter().find(|&&n| !seen.insert(n)) {
                        return Err(Error::config(
                            format!("{at}.neurons"),
                            format!("neuron {twice} is listed twice"),
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn validate_projection(&self, name: &str, proj: &Projection) -> Result<()> {
        let at = format!("projections.{name}");
        let size_of = |key: &str, pop: &str| {
            self.populations.get(pop).map(|p| p.size).ok_or_else(|| {
                Error::config(
                    format!("{at}.{key}"),
                    format!("no population named `{pop}`"),
                )
            })
        };
        let n_src = size_of("source", &proj.source)?;
        let n_tgt = size_of("target", &proj.target)?;
        let finite_pair = |[a, b]: [f64; 2]| a.is_finite() && b.is_finite();
        match proj.weight {
            WeightSpec::Constant(w) if !w.is_finite() => {
                return Err(Error::config(
                    format!("{at}.weight"),
                    "must be a finite number",
                ))
            }
            WeightSpec::Uniform { uniform }
                if !(finite_pair(uniform) && uniform[0] <= uniform[1]) =>
            {
                return Err(Error::config(
                    format!("{at}.weight"),
                    "uniform = [low, high] needs finite low <= high",
                ));
            }
            WeightSpec::Normal { normal } if !(finite_pair(normal) && normal[1] >= 0.0) => {
                return Err(Error::config(
                    format!("{at}.weight"),
                    "normal = [mean, sd] needs a finite mean and sd >= 0",
                ));
            }
            _ => {}
        }
        let same = proj.source == proj.target;
        let c = format!("{at}.connectivity");
        if proj.synapse == SynapseName::Graded
            && self.populations[&proj.source]
                .model
                .graded_activation()
                .is_none()
        {
            return Err(Error::config(
                format!("{at}.synapse"),
                format!(
                    "the graded synapse needs the activation S of an `hh` source; `{}` is `{}`",
                    proj.source,
                    self.populations[&proj.source].model.name()
                ),
            ));
        }
        if let Ok(
            SynapseModel::ExpCond(crate::model::exp_synapse::ExpCondParams { delay_ms, .. })
            | SynapseModel::ExpCurr(crate::model::exp_synapse::ExpCurrParams { delay_ms, .. }),
        ) = proj.synapse_params(name)
        {
            if delay_ms / self.simulation.dt_ms > 65_000.0 {
                return Err(Error::config(
                    format!("{at}.params.delay_ms"),
                    "at most 65000 steps of delay",
                ));
            }
        }
        if let Some(g0) = &proj.g0 {
            if proj.synapse == SynapseName::Graded {
                return Err(Error::config(
                    format!("{at}.g0"),
                    "only event-driven synapses (exp_cond, exp_curr) have a g",
                ));
            }
            if let InitValue::PerNeuron(list) = g0 {
                if list.len() as u64 != n_tgt {
                    return Err(Error::config(
                        format!("{at}.g0"),
                        format!("has {} values for {} target neurons", list.len(), n_tgt),
                    ));
                }
            }
        }
        match &proj.connectivity {
            Connectivity::OneToOne if n_src != n_tgt => Err(Error::config(
                c,
                format!("one_to_one needs equal sizes, got source {n_src} and target {n_tgt}"),
            )),
            Connectivity::FixedProbability { p, .. } if !(0.0..=1.0).contains(p) => Err(
                Error::config(format!("{c}.p"), format!("must be in [0, 1], got {p}")),
            ),
            Connectivity::FixedIndegree { k, autapses } => {
                let available = if same && !autapses { n_src - 1 } else { n_src };
                if *k > available {
                    Err(Error::config(
                        format!("{c}.k"),
                        format!("{k} inputs asked for but only {available} sources available"),
                    ))
                } else {
                    Ok(())
                }
            }
            Connectivity::Ring { k } if *k >= n_src.max(1) && same || *k > n_src => {
                Err(Error::config(
                    format!("{c}.k"),
                    format!("{k} neighbours do not fit a ring of {n_src}"),
                ))
            }
            Connectivity::Ring { .. } if n_src != n_tgt => Err(Error::config(
                c,
                format!("ring needs equal sizes, got source {n_src} and target {n_tgt}"),
            )),
            Connectivity::Explicit { pre, post, weight } => {
                if pre.len() != post.len() {
                    return Err(Error::config(
                        c,
                        format!("pre has {} entries but post has {}", pre.len(), post.len()),
                    ));
                }
                if let Some(w) = weight {
                    if w.len() != pre.len() {
                        return Err(Error::config(
                            format!("{c}.weight"),
                            format!("has {} entries for {} synapses", w.len(), pre.len()),
                        ));
                    }
                }
                if let Some(bad) = pre.iter().find(|&&i| i >= n_src) {
                    return Err(Error::config(
                        format!("{c}.pre"),
                        format!("index {bad} is out of range for source size {n_src}"),
                    ));
                }
                if let Some(bad) = post.iter().find(|&&i| i >= n_tgt) {
                    return Err(Error::config(
                        format!("{c}.post"),
                        format!("index {bad} is out of range for target size {n_tgt}"),
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum SynapseModel {
    Graded(crate::model::graded::GradedParams),
    ExpCond(crate::model::exp_synapse::ExpCondParams),
    ExpCurr(crate::model::exp_synapse::ExpCurrParams),
}

fn check_exp(at: &str, tau_ms: f64, delay_ms: f64) -> Result<()> {
    positive(at, "tau_ms", tau_ms)?;
    if !(delay_ms >= 0.0 && delay_ms.is_finite()) {
        return Err(Error::config(
            format!("{at}.delay_ms"),
            format!("must be a finite number >= 0, got {delay_ms}"),
        ));
    }
    Ok(())
}

/// `key` of the table at `at` must be a positive, finite number.
pub fn positive(at: &str, key: &str, x: f64) -> Result<()> {
    if x > 0.0 && x.is_finite() {
        Ok(())
    } else {
        Err(Error::config(
            format!("{at}.{key}"),
            format!("must be a positive number, got {x}"),
        ))
    }
}

impl Population {
    /// The model with this population's parameters, for steps of `dt_ms`.
    pub fn model_params(&self, name: &str, dt_ms: f64) -> Result<Arc<dyn Neuron>> {
        self.model
            .parse(&format!("populations.{name}.params"), &self.params, dt_ms)
    }

    /// The model's variable names, in state order.
    pub fn variable_names(&self) -> impl Iterator<Item = &'static str> {
        self.model.variables().iter().map(|v| v.name)
    }
}

impl Projection {
    pub fn synapse_params(&self, name: &str) -> Result<SynapseModel> {
        let at = format!("projections.{name}.params");
        let table = toml::Value::Table(self.params.clone());
        Ok(match self.synapse {
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

#[cfg(test)]
mod tests {
    use super::*;

    pub const PAIR: &str = r#"
[simulation]
dt_ms = 0.01
duration_ms = 10.0

[populations.hh]
model = "hh"
size = 2
params = { i_ext = 10.0 }
init = { v = -65.0 }

[projections.hh_hh]
source = "hh"
target = "hh"
synapse = "graded"
weight = 0.1
connectivity = { rule = "all_to_all", autapses = false }

[record]
spikes = ["hh"]
traces = [{ population = "hh", variables = ["v", "s"] }]
"#;

    fn err(text: &str, overrides: &[&str]) -> String {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        parse(text, &o)
            .expect_err("config should be rejected")
            .to_string()
    }

    #[test]
    fn the_pair_parses() {
        let c = parse(PAIR, &[]).unwrap();
        assert_eq!(c.populations["hh"].size, 2);
        assert_eq!(c.simulation.seed, 1);
    }

    #[test]
    fn overrides_replace_values_and_reach_nested_tables() {
        let o = [
            "populations.hh.params.i_ext=7".to_string(),
            "simulation.duration_ms=200".to_string(),
        ];
        let c = parse(PAIR, &o).unwrap();
        assert_eq!(c.populations["hh"].params["i_ext"].as_integer(), Some(7));
        assert_eq!(c.simulation.duration_ms, 200.0);
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err(PAIR, &["simulation.dtt_ms=0.1"]);
        assert!(e.contains("simulation") && e.contains("dtt_ms"), "{e}");
        let e = err(&PAIR.replace("size = 2", "size = 2\nsizee = 3"), &[]);
        assert!(e.contains("populations.hh") && e.contains("sizee"), "{e}");
    }

    #[test]
    fn wrong_types_and_negative_sizes_are_named() {
        let e = err(PAIR, &["populations.hh.size=-5"]);
        assert!(e.contains("populations.hh.size"), "{e}");
        let e = err(PAIR, &["simulation.dt_ms=\"fast\""]);
        assert!(e.contains("simulation.dt_ms"), "{e}");
    }

    #[test]
    fn zero_sizes_and_nonpositive_dt_are_rejected() {
        assert!(err(PAIR, &["populations.hh.size=0"]).contains("populations.hh.size"));
        assert!(err(PAIR, &["simulation.dt_ms=-0.01"]).contains("simulation.dt_ms"));
        assert!(err(PAIR, &["simulation.duration_ms=0"]).contains("simulation.duration_ms"));
    }

    #[test]
    fn references_to_missing_populations_are_named() {
        assert!(err(PAIR, &["projections.hh_hh.source=ghost"]).contains("projections.hh_hh.source"));
        assert!(err(PAIR, &["record.spikes=[\"ghost\"]"]).contains("record.spikes[0]"));
        let e = err(
            PAIR,
            &["record.traces=[{population=\"hh\",variables=[\"q\"]}]"],
        );
        assert!(
            e.contains("record.traces[0].variables") && e.contains("`q`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_models_and_rules_are_named() {
        let e = err(PAIR, &["populations.hh.model=izhikevich"]);
        assert!(
            e.contains("populations.hh.model") && e.contains("izhikevich"),
            "{e}"
        );
        let e = err(
            PAIR,
            &["projections.hh_hh.connectivity={rule=\"small_world\"}"],
        );
        assert!(e.contains("projections.hh_hh.connectivity"), "{e}");
    }

    #[test]
    fn connectivity_ranges_are_checked() {
        let e = err(
            PAIR,
            &["projections.hh_hh.connectivity={rule=\"fixed_indegree\",k=2,autapses=false}"],
        );
        assert!(e.contains("connectivity.k"), "{e}");
        let e = err(
            PAIR,
            &["projections.hh_hh.connectivity={rule=\"fixed_probability\",p=1.5}"],
        );
        assert!(e.contains("connectivity.p"), "{e}");
        let e = err(
            PAIR,
            &["projections.hh_hh.connectivity={rule=\"explicit\",pre=[0,5],post=[1,0]}"],
        );
        assert!(e.contains("connectivity.pre"), "{e}");
    }

    #[test]
    fn init_lists_must_match_the_size() {
        let e = err(PAIR, &["populations.hh.init.v=[-65.0]"]);
        assert!(e.contains("populations.hh.init.v"), "{e}");
        let e = err(PAIR, &["populations.hh.init.q=1.0"]);
        assert!(e.contains("populations.hh.init.q"), "{e}");
    }

    #[test]
    fn model_parameters_are_checked_by_name() {
        let e = err(PAIR, &["populations.hh.params.i_extt=1"]);
        assert!(
            e.contains("populations.hh.params") && e.contains("i_extt"),
            "{e}"
        );
        let e = err(PAIR, &["projections.hh_hh.params.w=0"]);
        assert!(e.contains("projections.hh_hh.params.w"), "{e}");
    }

    #[test]
    fn synapses_must_fit_their_populations() {
        let lif = ["populations.hh.model=\"lif\"", "populations.hh.params={}"];
        let e = err(PAIR, &lif);
        assert!(
            e.contains("projections.hh_hh.synapse") && e.contains("`lif`"),
            "{e}"
        );
        let e = err(PAIR, &["projections.hh_hh.g0=1.0"]);
        assert!(e.contains("projections.hh_hh.g0"), "{e}");
        let exp = [
            "projections.hh_hh.synapse=\"exp_cond\"",
            "projections.hh_hh.params={ tau_ms = 5.0, e_rev = 0.0 }",
        ];
        assert!(parse(PAIR, &exp.map(String::from)).is_ok());
        let e = err(
            PAIR,
            &[
                exp[0],
                "projections.hh_hh.params={ tau_ms = -5.0, e_rev = 0.0 }",
            ],
        );
        assert!(e.contains("projections.hh_hh.params.tau_ms"), "{e}");
        let e = err(PAIR, &[exp[0], "projections.hh_hh.params={ tau_ms = 5.0 }"]);
        assert!(
            e.contains("projections.hh_hh.params") && e.contains("e_rev"),
            "{e}"
        );
    }

    #[test]
    fn weights_are_a_number_or_a_distribution() {
        for ok in [
            "0.5",
            "{ uniform = [0.0, 0.2] }",
            "{ normal = [0.1, 0.02] }",
        ] {
            assert!(
                parse(PAIR, &[format!("projections.hh_hh.weight={ok}")]).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "{ uniform = [0.2, 0.0] }",
            "{ normal = [0.1, -1.0] }",
            "{ poisson = 3 }",
            "\"heavy\"",
        ] {
            let e = err(PAIR, &[&format!("projections.hh_hh.weight={bad}")]);
            assert!(e.contains("projections.hh_hh.weight"), "{bad}: {e}");
        }
    }

    #[test]
    fn every_non_finite_number_is_rejected_with_its_key() {
        for (set, key) in [
            ("populations.hh.params.i_ext=inf", "populations.hh.params.i_ext"),
            ("populations.hh.params.g_na=nan", "populations.hh.params.g_na"),
            ("populations.hh.init.v=nan", "populations.hh.init.v"),
            ("populations.hh.init.v=[-65.0, -inf]", "populations.hh.init.v[1]"),
            ("projections.hh_hh.weight=nan", "projections.hh_hh.weight"),
            (
                "projections.hh_hh.connectivity={rule=\"explicit\",pre=[0,1],post=[1,0],weight=[0.1,nan]}",
                "projections.hh_hh.connectivity.weight[1]",
            ),
            ("simulation.dt_ms=inf", "simulation.dt_ms"),
        ] {
            let e = err(PAIR, &[set]);
            assert!(e.contains(&format!("`{key}`")) && e.contains("finite"), "{set}: {e}");
        }
        let lif = [
            "populations.hh.model=\"lif\"",
            "populations.hh.params={ v_th = nan }",
            "projections={}",
        ];
        let e = err(PAIR, &lif);
        assert!(e.contains("populations.hh.params.v_th"), "{e}");
    }

    #[test]
    fn a_duration_must_be_a_whole_number_of_steps_and_at_least_one() {
        let e = err(PAIR, &["simulation.duration_ms=5.005"]);
        assert!(e.contains("simulation.duration_ms") && e.contains("5 or 5.01 ms"), "{e}");
        let e = err(PAIR, &["simulation.duration_ms=1.0", "simulation.dt_ms=0.3"]);
        assert!(e.contains("0.9 or 1.2 ms"), "{e}");
        let e = err(PAIR, &["simulation.duration_ms=0.001"]);
        assert!(e.contains("shorter than one step"), "{e}");
        // Decimal steps that are whole up to rounding pass.
        for (dt, t) in [("0.1", "1000.0"), ("0.01", "0.07"), ("0.3", "0.9")] {
            let o = [format!("simulation.dt_ms={dt}"), format!("simulation.duration_ms={t}")];
            assert!(parse(PAIR, &o).is_ok(), "{dt} {t}");
        }
    }

    #[test]
    fn population_and_projection_names_are_identifiers() {
        for bad in ["a/b", "", "..", ".", "1st", "with space"] {
            let o = format!("populations={{\"{bad}\"={{model=\"hh\",size=2}}}}");
            let e = err(PAIR, &[&o, "projections={}", "record={}"]);
            assert!(e.contains("populations.") && e.contains("not a valid population name"), "{bad}: {e}");
        }
        let o = "projections={\"x.y\"={source=\"hh\",target=\"hh\",synapse=\"graded\",connectivity={rule=\"one_to_one\"}}}";
        let e = err(PAIR, &[o]);
        assert!(e.contains("not a valid projection name"), "{e}");
        assert!(is_identifier("exc_2") && is_identifier("_x") && !is_identifier("2x"));
    }

    #[test]
    fn what_the_output_would_hold_twice_or_empty_is_rejected_before_any_file() {
        let e = err(PAIR, &["record.traces=[{population=\"hh\",variables=[\"v\",\"v\"]}]"]);
        assert!(e.contains("record.traces[0].variables") && e.contains("twice"), "{e}");
        let e = err(
            PAIR,
            &["record.traces=[{population=\"hh\",variables=[\"v\"]},{population=\"hh\",variables=[\"m\",\"v\"]}]"],
        );
        assert!(e.contains("record.traces[1].variables") && e.contains("record.traces[0]"), "{e}");
        let e = err(PAIR, &["record.traces=[{population=\"hh\",variables=[\"v\"],neurons=[]}]"]);
        assert!(e.contains("record.traces[0].neurons") && e.contains("empty"), "{e}");
        let e = err(PAIR, &["record.traces=[{population=\"hh\",variables=[\"v\"],neurons=[1,1]}]"]);
        assert!(e.contains("record.traces[0].neurons") && e.contains("twice"), "{e}");
        let e = err(PAIR, &["record.spikes=[\"hh\",\"hh\"]"]);
        assert!(e.contains("record.spikes[1]"), "{e}");
    }

    #[test]
    fn malformed_overrides_are_reported() {
        assert!(err(PAIR, &["simulation.dt_ms"]).contains("key.path=value"));
        assert!(err(PAIR, &["simulation.dt_ms.x=1"]).contains("simulation.dt_ms"));
    }
}
