//! SONATA-style HDF5 output, appended one chunk at a time so memory stays bounded and an
//! interrupted run leaves a valid file holding everything up to its last flushed chunk.
//!
//! ```text
//! /spikes/<pop>/timestamps            f64 [n] ms   (group attribute sorting: SONATA's enum, by_time)
//! /spikes/<pop>/node_ids              u64 [n]
//! /spikes/<pop>/<var>                 f32 [n]      (record.spike_variables: each spike's value)
//! /rates/<pop>/rate                   f64 [steps] Hz   (Brian2's PopulationRateMonitor)
//! /rates/<pop>/time                   f64 [3] ms       [start, stop, step]
//! /rates/<pop>/smooth_rate            f64 [steps] Hz   (record.smooth_rate: Brian2's smooth_rate)
//! /report/<pop>/<var>/data            f32 [n_samples, n_recorded]
//! /report/<pop>/<var>/mapping/node_ids  u64 [n_recorded]
//! /report/<pop>/<var>/mapping/time      f64 [start, stop, step] ms (stop: the time simulated)
//! ```

use crate::config::SynapseModel;
use crate::model::NeuronKind;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::record::{ChunkOutput, RecordPlan, Recorded, TracePlan, TraceVar};
use hdf5::types::VarLenUnicode;
use std::path::{Path, PathBuf};

/// What the root attributes say about the run.
#[derive(Clone, Debug)]
pub struct RunMeta {
    /// The config file the run came from, for figure titles.
    pub config_name: String,
    pub config_toml: String,
    pub backend: String,
    pub precision: String,
    pub seed: u64,
}

impl RunMeta {
    /// The attributes of a run of `config` (from the file `config_name`) on `backend`.
    pub fn of(config_name: &Path, config: &crate::config::Config, backend: &crate::backend::BackendInfo) -> RunMeta {
        RunMeta {
            config_name: config_name.display().to_string(),
            config_toml: config.to_toml(),
            backend: format!("{} ({})", backend.kind, backend.device),
            precision: backend.precision.to_string(),
            seed: config.simulation.seed,
        }
    }
}

/// The `stop_reason` a run's result gives its file.
pub fn stop_reason<T>(result: &Result<T>) -> &'static str {
    match result {
        Ok(_) => "complete",
        Err(Error::Interrupted { .. }) => "interrupted",
        Err(Error::Diverged { .. }) => "diverged",
        Err(_) => "failed",
    }
}

/// The root attributes that change as a run goes: their values while it runs, or the final
/// ones of a run written whole (`BatchOutput`).
struct Progress<'a> {
    wall_time_s: f64,
    stop_reason: &'a str,
    simulated_ms: f64,
}

/// What a writer starts from: the root attributes' values, and the group (an instance of the
/// same batch, written before) whose traces' `mapping` groups are this run's, hard-linked
/// instead of written again.
struct Opening<'a> {
    progress: Progress<'a>,
    mapping_of: Option<&'a str>,
    /// A run written whole: its output, whose sizes its datasets take at once (laid out
    /// contiguous: HDF5 then keeps no index of chunks).
    whole: Option<&'a ChunkOutput>,
}

impl Opening<'_> {
    const RUNNING: Opening<'static> = Opening {
        progress: Progress { wall_time_s: 0.0, stop_reason: "running", simulated_ms: 0.0 },
        mapping_of: None,
        whole: None,
    };
}

/// A run that has ended, all its output at hand: a sweep's instance.
pub struct FinishedRun<'a> {
    /// Its steps, in one chunk.
    pub output: &'a ChunkOutput,
    pub synapses: Option<&'a crate::simulator::SynapseValues>,
    pub wall_time_s: f64,
    pub stop_reason: &'a str,
}

/// Writes a sweep's finished instances (a GPU batch's, or one run alone), each whole under its
/// group of an open file. Its attributes and each trace's time are written once, with their
/// final values, its datasets at their sizes, and its traces' `mapping` groups, where they are
/// the first instance's (the same traces over the same steps: every instance of a batch), are
/// that instance's, hard-linked: a sweep writes thousands of instances, and HDF5's cost is
/// per object and per operation.
pub struct BatchOutput<'a> {
    path: &'a Path,
    file: &'a hdf5::File,
    /// The group of the first instance written, and what its traces' mappings hold.
    first: Option<(String, MappingKey)>,
}

/// What a run's trace mappings hold, and where: the time simulated, the step, and each
/// trace's group, variables, neurons and sampling.
#[derive(PartialEq)]
struct MappingKey {
    simulated_ms: f64,
    dt_ms: f64,
    traces: Vec<(String, Vec<String>, Vec<u32>, u64)>,
}

impl MappingKey {
    fn of(net: &Network, plan: &RecordPlan, simulated_ms: f64) -> MappingKey {
        let traces = plan
            .traces
            .iter()
            .map(|t| (trace_group(net, t).to_string(), t.names.clone(), t.neurons.clone(), t.every))
            .collect();
        MappingKey { simulated_ms, dt_ms: net.dt_ms, traces }
    }
}

/// The units of variable `var` of trace `t`: a synaptic variable's, a state variable's or an
/// event-driven synapse's g.
pub(crate) fn trace_units(net: &Network, t: &TracePlan, var: TraceVar) -> String {
    let pop = &net.populations[t.population];
    match (var, t.projection) {
        (TraceVar::State(k), Some(p)) => match &net.projections[p].synapse {
            SynapseModel::Equations(program) => program.vars[k].dim.to_string(),
            _ => unreachable!("validated: synapses written as equations"),
        },
        (TraceVar::State(k), None) => pop.variables()[k].unit.to_string(),
        (TraceVar::Synapse(p), _) => synapse_units(pop.model.kind(), &net.projections[p].synapse).to_string(),
    }
}

/// The group a trace is written under, in `report`: its projection's name for synapses, else
/// its population's.
pub(crate) fn trace_group<'n>(net: &'n Network, t: &'n TracePlan) -> &'n str {
    match (t.projection, &t.subgroup) {
        (Some(p), _) => &net.projections[p].name,
        (None, Some((name, _))) => name,
        (None, None) => &net.populations[t.population].name,
    }
}

/// A trace's neurons as its output numbers them: a subgroup's from its first.
pub(crate) fn trace_node_ids(t: &TracePlan) -> Vec<u64> {
    let first = t.subgroup.as_ref().map_or(0, |&(_, first)| first);
    t.neurons.iter().map(|&n| (n - first) as u64).collect()
}


impl<'a> BatchOutput<'a> {
    pub fn new(path: &'a Path, file: &'a hdf5::File) -> BatchOutput<'a> {
        BatchOutput { path, file, first: None }
    }

    /// Writes `run`, the run of `net` recording `plan`, under `group` (created).
    pub fn write(&mut self, group: &str, (net, plan, meta): (&Network, &RecordPlan, &RunMeta), run: &FinishedRun) -> Result<()> {
        let h5 = |source| Error::Hdf5 { path: self.path.to_owned(), source };
        let simulated_ms = (run.output.first_step + run.output.n_steps) as f64 * net.dt_ms;
        let key = MappingKey::of(net, plan, simulated_ms);
        // The first instance's mappings, where they are this one's.
        let mapping_of = self.first.as_ref().filter(|(_, first)| *first == key).map(|(group, _)| group.as_str());
        let opening = Opening {
            progress: Progress { wall_time_s: run.wall_time_s, stop_reason: run.stop_reason, simulated_ms },
            mapping_of,
            whole: Some(run.output),
        };
        let mut writer = Hdf5Writer::open_at(self.path, self.file, group, (net, plan, meta), &opening)?;
        writer.append_inner(run.output).map_err(h5)?;
        writer.smooth_rates().map_err(h5)?;
        if let Some(values) = run.synapses {
            writer.synapses_inner(values).map_err(h5)?;
        }
        self.first.get_or_insert_with(|| (group.to_string(), key));
        Ok(())
    }
}

struct TraceSets {
    data: Vec<hdf5::Dataset>,
    /// Each variable's `mapping/time`, whose stop follows the time simulated.
    times: Vec<hdf5::Dataset>,
    width: usize,
    rows: usize,
}

/// A population's or subgroup's rate (`/rates/<name>`): one value per step, and the `time`
/// whose stop follows the time simulated.
struct RateSets {
    recorded: Recorded,
    group: hdf5::Group,
    rate: hdf5::Dataset,
    time: hdf5::Dataset,
    len: usize,
}

struct SpikeSets {
    timestamps: hdf5::Dataset,
    node_ids: hdf5::Dataset,
    /// Each variable recorded with the spikes (`record.spike_variables`): `/spikes/<pop>/<var>`.
    values: Vec<hdf5::Dataset>,
    len: usize,
}

impl SpikeSets {
    /// A spike group's `timestamps` (ms), `node_ids` and a dataset per variable of `slots`
    /// (of `variables`, with its units) in `g`: at their final size where the run is written
    /// whole (`whole` rows), else growing in chunks of `chunk`.
    fn create(g: &hdf5::Group, whole: Option<usize>, chunk: usize, slots: &[usize], variables: &[crate::model::Variable]) -> hdf5::Result<SpikeSets> {
        fn create<T: hdf5::H5Type>(g: &hdf5::Group, name: &str, whole: Option<usize>, chunk: usize) -> hdf5::Result<hdf5::Dataset> {
            match whole {
                Some(n) => g.new_dataset::<T>().shape(n).create(name),
                None => g.new_dataset::<T>().chunk(chunk).shape(0..).create(name),
            }
        }
        let timestamps = create::<f64>(g, "timestamps", whole, chunk)?;
        str_attr(&timestamps, "units", "ms")?;
        let node_ids = create::<u64>(g, "node_ids", whole, chunk)?;
        let mut values = Vec::new();
        for &k in slots {
            let d = create::<f32>(g, variables[k].name, whole, chunk)?;
            str_attr(&d, "units", variables[k].unit)?;
            values.push(d);
        }
        Ok(SpikeSets { timestamps, node_ids, values, len: 0 })
    }

    /// Appends a chunk's spikes (or events) and the values recorded with them; `whole`: the
    /// datasets are at their final sizes already.
    fn append(&mut self, spikes: &[crate::record::Spike], values: &[f32], dt_ms: f64, whole: bool) -> hdf5::Result<()> {
        if spikes.is_empty() {
            return Ok(());
        }
        let n = spikes.len();
        let times: Vec<f64> = spikes.iter().map(|s| (s.step + 1) as f64 * dt_ms).collect();
        let ids: Vec<u64> = spikes.iter().map(|s| s.neuron as u64).collect();
        if !whole {
            self.timestamps.resize(self.len + n)?;
            self.node_ids.resize(self.len + n)?;
            for d in &self.values {
                d.resize(self.len + n)?;
            }
        }
        self.timestamps.write_slice(&times, self.len..self.len + n)?;
        self.node_ids.write_slice(&ids, self.len..self.len + n)?;
        write_spike_values(&self.values, values, self.len)?;
        self.len += n;
        Ok(())
    }
}

/// A projection's name, and its synaptic variables' names and units.
type SynapseNames = (String, Vec<(String, String)>);

pub struct Hdf5Writer {
    path: PathBuf,
    file: hdf5::File,
    /// Where the layout lives: the file's root, or an instance's group in a sweep.
    root: hdf5::Group,
    dt_ms: f64,
    traces: Vec<TraceSets>,
    /// Per spike group of the plan (`RecordPlan::spike_groups`).
    spikes: Vec<(Recorded, SpikeSets)>,
    /// Per EventMonitor of the plan (`RecordPlan::event_outputs`), with its entry of the
    /// plan's `events`.
    events: Vec<(Recorded, usize, SpikeSets)>,
    rates: Vec<RateSets>,
    /// The rates' smoothing, written when the run ends.
    smooth_rate: Option<crate::smooth_rate::Smoothing>,
    /// Per projection written as equations: its name and its variables' names and units.
    synapses: Vec<Option<SynapseNames>>,
    /// Flushed after every chunk (a single run), or only when finished (a sweep's instance,
    /// which is complete or not at all: the sweep's file flushes as instances end).
    flush_chunks: bool,
    /// Steps whose output is flushed.
    steps: u64,
    /// Written whole (`BatchOutput`): the attributes and each trace's time hold their final
    /// values already.
    finished: bool,
}

/// A recorded event's group (`record.events`): `events/<population or subgroup>/<event>`.
pub(crate) fn event_group(net: &Network, name: &str, (population, event): (usize, usize)) -> String {
    let model = net.populations[population].model.kind().equations().expect("validated: events of a model written as equations");
    format!("events/{name}/{}", model.events[event].name)
}

/// Spikes per HDF5 chunk of a population's spike datasets: a chunk is allocated whole, so a
/// small population (a sweep's instances hold thousands) gets small ones.
fn spike_chunk(neurons: usize) -> usize {
    (neurons * 64).clamp(512, 16_384)
}

/// Each rate `plan` records (`RecordPlan::rate_groups`): its group `rates/<name>` under
/// `root`, and its `time` ([start, `stop_ms`, dt] in ms). The caller adds the `rate` dataset
/// its layout takes.
pub(crate) fn rate_groups(root: &hdf5::Group, net: &Network, plan: &RecordPlan, stop_ms: f64) -> hdf5::Result<Vec<(Recorded, hdf5::Group, hdf5::Dataset)>> {
    let mut out = Vec::new();
    for recorded in plan.rate_groups(net) {
        let g = root.create_group(&format!("rates/{}", recorded.name))?;
        subgroup_attrs(&g, net, recorded.population, recorded.first())?;
        let time = g.new_dataset_builder().with_data(&[0.0, stop_ms, net.dt_ms]).create("time")?;
        str_attr(&time, "units", "ms")?;
        out.push((recorded, g, time));
    }
    Ok(out)
}

/// A subgroup's group of spikes, rate or trace says whose neurons it numbers from which:
/// attributes `population` and `first` (none on a population's own: `first` None).
pub(crate) fn subgroup_attrs(g: &hdf5::Group, net: &Network, population: usize, first: Option<u32>) -> hdf5::Result<()> {
    let Some(first) = first else { return Ok(()) };
    str_attr(g, "population", &net.populations[population].name)?;
    g.new_attr::<u64>().create("first")?.write_scalar(&(first as u64))
}

/// A subgroup's attributes (`subgroup_attrs`) of `from`, if it has them, onto `to`.
pub(crate) fn copy_subgroup_attrs(from: &hdf5::Group, to: &hdf5::Group) -> hdf5::Result<()> {
    let Some(population) = crate::io::sonata::string_attr(from, "population") else { return Ok(()) };
    str_attr(to, "population", &population)?;
    to.new_attr::<u64>().create("first")?.write_scalar(&from.attr("first")?.read_scalar::<u64>()?)
}

/// The values recorded with some spikes (`ChunkOutput::spike_values`: a row per spike, the
/// plan's variables in order) into their datasets, one per variable, from row `at` on.
pub(crate) fn write_spike_values(datasets: &[hdf5::Dataset], values: &[f32], at: usize) -> hdf5::Result<()> {
    let width = datasets.len();
    for (j, d) in datasets.iter().enumerate() {
        let column: Vec<f32> = values.iter().skip(j).step_by(width).copied().collect();
        d.write_slice(&column, at..at + column.len())?;
    }
    Ok(())
}

/// The datasets of a spike group besides the variables recorded with the spikes (`instance`
/// in the stacked layout's): a spike variable may not take their names.
pub const SPIKE_DATASETS: [&str; 3] = ["timestamps", "node_ids", "instance"];

/// A run's `smooth_rate` in its rate's group, with its window and the width used (ms) as
/// attributes.
pub(crate) fn write_smooth_rate(group: &hdf5::Group, values: &[f64], smoothing: &crate::smooth_rate::Smoothing) -> hdf5::Result<()> {
    let d = group.new_dataset::<f64>().shape(values.len()).create("smooth_rate")?;
    // A run stopped before its first step has an empty one.
    if !values.is_empty() {
        d.write_raw(values)?;
    }
    smooth_rate_attrs(&d, smoothing.window, smoothing.used_width_ms)
}

/// A `smooth_rate`'s units, `window` and the width used (ms).
pub(crate) fn smooth_rate_attrs(d: &hdf5::Dataset, window: &str, width_ms: f64) -> hdf5::Result<()> {
    str_attr(d, "units", "Hz")?;
    str_attr(d, "window", window)?;
    d.new_attr::<f64>().create("width_ms")?.write_scalar(&width_ms)
}

/// Steps per HDF5 chunk of a rate dataset (32 KiB).
const RATE_CHUNK: usize = 4096;

/// Rows per HDF5 chunk of a trace dataset: about 1 MiB per chunk, at least one row.
fn trace_chunk_rows(width: usize) -> usize {
    (262_144 / width.max(1)).clamp(1, 4096)
}

pub(crate) fn str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e:?}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

impl Hdf5Writer {
    /// Refuses a directory, or an existing file unless `force`: checked before any work.
    pub fn check_target(path: &Path, force: bool) -> Result<()> {
        super::output::check_target(path, force)
    }

    /// Creates the file at `path` (truncating one that is there when `force`). A run goes
    /// through `io::output::OutputTarget` and creates its partial file with this.
    pub fn create(
        path: &Path,
        force: bool,
        net: &Network,
        plan: &RecordPlan,
        meta: &RunMeta,
    ) -> Result<Hdf5Writer> {
        Self::check_target(path, force)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e.to_string()))?;
        }
        Self::create_inner(path, net, plan, meta).map_err(|source| Error::Hdf5 {
            path: path.to_owned(),
            source,
        })
    }

    fn create_inner(
        path: &Path,
        net: &Network,
        plan: &RecordPlan,
        meta: &RunMeta,
    ) -> hdf5::Result<Hdf5Writer> {
        let file = hdf5::File::create(path)?;
        let root = file.group("/")?;
        let writer = Self::layout(path, file, root, net, plan, meta, &Opening::RUNNING)?;
        writer.file.flush()?;
        Ok(writer)
    }

    /// A writer of one run's layout under `group` (created) of an open file: a sweep's
    /// instance. Its root attributes go on the group.
    pub fn create_at(
        path: &Path,
        file: &hdf5::File,
        group: &str,
        net: &Network,
        plan: &RecordPlan,
        meta: &RunMeta,
    ) -> Result<Hdf5Writer> {
        Self::open_at(path, file, group, (net, plan, meta), &Opening::RUNNING)
    }

    /// `create_at` from `opening`: a running run's, or a finished one's.
    fn open_at(
        path: &Path,
        file: &hdf5::File,
        group: &str,
        (net, plan, meta): (&Network, &RecordPlan, &RunMeta),
        opening: &Opening,
    ) -> Result<Hdf5Writer> {
        let h5 = |source| Error::Hdf5 { path: path.to_owned(), source };
        let root = file.create_group(group).map_err(h5)?;
        let mut writer = Self::layout(path, file.clone(), root, net, plan, meta, opening).map_err(h5)?;
        writer.flush_chunks = false;
        Ok(writer)
    }

    fn layout(
        path: &Path,
        file: hdf5::File,
        root: hdf5::Group,
        net: &Network,
        plan: &RecordPlan,
        meta: &RunMeta,
        opening: &Opening,
    ) -> hdf5::Result<Hdf5Writer> {
        let progress = &opening.progress;
        str_attr(&root, "ganglion_version", env!("CARGO_PKG_VERSION"))?;
        str_attr(&root, "config", &meta.config_toml)?;
        str_attr(&root, "config_name", &meta.config_name)?;
        str_attr(&root, "backend", &meta.backend)?;
        str_attr(&root, "precision", &meta.precision)?;
        root.new_attr::<u64>()
            .create("seed")?
            .write_scalar(&meta.seed)?;
        root.new_attr::<f64>()
            .create("dt_ms")?
            .write_scalar(&net.dt_ms)?;
        root.new_attr::<f64>()
            .create("wall_time_s")?
            .write_scalar(&progress.wall_time_s)?;
        root.new_attr::<bool>()
            .create("complete")?
            .write_scalar(&(progress.stop_reason == "complete"))?;
        str_attr(&root, "stop_reason", progress.stop_reason)?;
        root.new_attr::<f64>()
            .create("simulated_ms")?
            .write_scalar(&progress.simulated_ms)?;

        for p in &net.populations {
            let outputs = p.model.outputs();
            if outputs.is_empty() {
                continue;
            }
            let g = root.create_group(&format!("model/{}", p.name))?;
            for o in outputs {
                let data = ndarray::Array2::from_shape_vec((o.shape[0], o.shape[1]), o.data)
                    .map_err(|e| hdf5::Error::from(e.to_string()))?;
                g.new_dataset_builder().with_data(&data).create(o.name)?;
            }
            for (name, value) in p.model.output_attributes() {
                g.new_attr::<f64>().create(name)?.write_scalar(&value)?;
            }
        }

        let mut spikes = Vec::new();
        for recorded in plan.spike_groups(net) {
            let p = &net.populations[recorded.population];
            let g = root.create_group(&format!("spikes/{}", recorded.name))?;
            super::sonata::spikes::write_sorting(&g, super::sonata::spikes::Sorting::by_time)?;
            subgroup_attrs(&g, net, recorded.population, recorded.first())?;
            let whole = opening.whole.map(|out| recorded.spikes_in(out).len());
            let sets = SpikeSets::create(&g, whole, spike_chunk(recorded.size), &recorded.slots, p.variables())?;
            spikes.push((recorded, sets));
        }

        // Brian2's EventMonitors: /events/<pop>/<event>, laid out as spikes.
        let mut events = Vec::new();
        for (recorded, r) in plan.event_outputs(net) {
            let p = &net.populations[recorded.population];
            let g = root.create_group(&event_group(net, &recorded.name, plan.events[r]))?;
            subgroup_attrs(&g, net, recorded.population, recorded.first())?;
            let whole = opening.whole.map(|out| recorded.events_in(out, r).0.len());
            let sets = SpikeSets::create(&g, whole, spike_chunk(recorded.size), &recorded.slots, p.variables())?;
            events.push((recorded, r, sets));
        }

        let mut rates = Vec::new();
        for (recorded, g, time) in rate_groups(&root, net, plan, progress.simulated_ms)? {
            let rate = match opening.whole {
                Some(out) => g.new_dataset::<f64>().shape(out.n_steps as usize).create("rate")?,
                None => g.new_dataset::<f64>().chunk(RATE_CHUNK.min(net.n_steps.max(1) as usize)).shape(0..).create("rate")?,
            };
            str_attr(&rate, "units", "Hz")?;
            rates.push(RateSets { recorded, group: g, rate, time, len: 0 });
        }

        let mut traces = Vec::new();
        for t in &plan.traces {
            let width = t.neurons.len();
            let mut data = Vec::new();
            let mut times = Vec::new();
            // A projection's synapses are recorded as a population's neurons are, under the
            // projection's name (validation keeps it apart from the populations').
            let group = trace_group(net, t);
            // A short run's trace in one chunk of its own size (at most a sample per `every`
            // steps and one more): a sweep writes thousands of them, and a chunk is written
            // whole.
            let rows = (net.n_steps.div_ceil(t.every.max(1)) + 1) as usize;
            for (&var, name) in t.variables.iter().zip(&t.names) {
                let g = root.create_group(&format!("report/{group}/{name}"))?;
                let ds = match opening.whole {
                    Some(out) => {
                        let samples = out.traces.get(traces.len()).map_or(0, |c| c.n_samples);
                        g.new_dataset::<f32>().shape((samples, width)).create("data")?
                    }
                    None => g
                        .new_dataset::<f32>()
                        .chunk((trace_chunk_rows(width).min(rows), width))
                        .shape((0.., width))
                        .create("data")?,
                };
                str_attr(&ds, "units", &trace_units(net, t, var))?;
                data.push(ds);
                subgroup_attrs(&g, net, t.population, t.subgroup.as_ref().map(|s| s.1))?;
                if let Some(other) = opening.mapping_of {
                    g.link_hard(&format!("/{other}/report/{group}/{name}/mapping"), "mapping")?;
                    continue;
                }
                let mapping = g.create_group("mapping")?;
                mapping
                    .new_dataset_builder()
                    .with_data(&trace_node_ids(t))
                    .create("node_ids")?;
                // The stop follows each chunk appended (nothing simulated yet, unless written
                // whole).
                let time = [0.0, progress.simulated_ms, t.every as f64 * net.dt_ms];
                let ts = mapping
                    .new_dataset_builder()
                    .with_data(&time)
                    .create("time")?;
                str_attr(&ts, "units", "ms")?;
                times.push(ts);
            }
            traces.push(TraceSets {
                data,
                times,
                width,
                rows: 0,
            });
        }
        // Synapses written as equations: their neurons now, their variables when the run ends
        // (`/synapses/<projection>/pre`, `post` and one dataset per variable).
        let mut synapses = Vec::new();
        for p in &net.projections {
            let (SynapseModel::Equations(program), Some(_)) = (&p.synapse, &p.equation) else {
                synapses.push(None);
                continue;
            };
            if program.vars.is_empty() {
                synapses.push(None);
                continue;
            }
            let g = root.create_group(&format!("synapses/{}", p.name))?;
            let post: Vec<u64> = (0..p.csr.n_rows)
                .flat_map(|r| {
                    let n = (p.csr.row_ptr[r + 1] - p.csr.row_ptr[r]) as usize;
                    std::iter::repeat_n(r as u64, n)
                })
                .collect();
            let pre: Vec<u64> = p.csr.col_idx.iter().map(|&j| j as u64).collect();
            g.new_dataset_builder().with_data(&pre).create("pre")?;
            g.new_dataset_builder().with_data(&post).create("post")?;
            str_attr(&g, "source", &net.populations[p.source].name)?;
            str_attr(&g, "target", &net.populations[p.target].name)?;
            let vars = program
                .vars
                .iter()
                .map(|v| (v.name.clone(), v.dim.to_string()))
                .collect();
            synapses.push(Some((p.name.clone(), vars)));
        }
        Ok(Hdf5Writer {
            flush_chunks: true,
            path: path.to_owned(),
            file,
            root,
            dt_ms: net.dt_ms,
            traces,
            spikes,
            events,
            rates,
            smooth_rate: plan.smooth_rate.clone(),
            synapses,
            steps: 0,
            finished: opening.whole.is_some(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Steps appended so far.
    pub fn steps_written(&self) -> u64 {
        self.steps
    }

    fn append_inner(&mut self, chunk: &ChunkOutput) -> hdf5::Result<()> {
        for (sets, tc) in self.traces.iter_mut().zip(&chunk.traces) {
            let n = tc.n_samples;
            if n == 0 {
                continue;
            }
            for (ds, buf) in sets.data.iter().zip(&tc.data) {
                if !self.finished {
                    ds.resize((sets.rows + n, sets.width))?;
                }
                let view = ndarray::ArrayView2::from_shape((n, sets.width), &buf[..n * sets.width])
                    .map_err(|e| hdf5::Error::from(e.to_string()))?;
                ds.write_slice(view, ndarray::s![sets.rows..sets.rows + n, ..])?;
            }
            sets.rows += n;
        }
        for (recorded, sets) in &mut self.spikes {
            let (spikes, values) = recorded.spikes_with_values_in(chunk);
            sets.append(&spikes, &values, self.dt_ms, self.finished)?;
        }
        for (recorded, r, sets) in &mut self.events {
            let (occurrences, values) = recorded.events_in(chunk, *r);
            sets.append(&occurrences, &values, self.dt_ms, self.finished)?;
        }
        for sets in &mut self.rates {
            let steps = chunk.first_step..chunk.first_step + chunk.n_steps;
            let spikes = sets.recorded.spikes_in(chunk);
            let rate = crate::record::rates_per_step(&spikes, steps, sets.recorded.size, self.dt_ms);
            let n = rate.len();
            if !self.finished {
                sets.rate.resize(sets.len + n)?;
            }
            sets.rate.write_slice(&rate, sets.len..sets.len + n)?;
            sets.len += n;
        }
        if !self.finished {
            let simulated = (chunk.first_step + chunk.n_steps) as f64 * self.dt_ms;
            self.root.attr("simulated_ms")?.write_scalar(&simulated)?;
            let rate_times = self.rates.iter().map(|r| &r.time);
            for ts in self.traces.iter().flat_map(|t| &t.times).chain(rate_times) {
                ts.write_slice(&[simulated], 1..2)?;
            }
        }
        if self.flush_chunks {
            self.file.flush()?;
        }
        self.steps = chunk.first_step + chunk.n_steps;
        Ok(())
    }

    /// Marks the file complete (or not) and records the wall time; the file closes on drop.
    pub fn finish(self, wall_time_s: f64, complete: bool) -> Result<PathBuf> {
        let reason = if complete { "complete" } else { "failed" };
        self.finish_as(wall_time_s, reason)
    }

    /// As `finish`, saying why the run ended: `complete`, `interrupted`, `diverged` or
    /// `failed` (the root attribute `stop_reason`).
    pub fn finish_as(self, wall_time_s: f64, stop_reason: &str) -> Result<PathBuf> {
        let res: hdf5::Result<()> = (|| {
            self.smooth_rates()?;
            self.root.attr("wall_time_s")?.write_scalar(&wall_time_s)?;
            self.root
                .attr("complete")?
                .write_scalar(&(stop_reason == "complete"))?;
            // A variable-length string attribute cannot be rewritten in place: replace it.
            self.root.delete_attr("stop_reason")?;
            str_attr(&self.root, "stop_reason", stop_reason)?;
            if self.flush_chunks {
                self.file.flush()?;
            }
            Ok(())
        })();
        res.map_err(|source| Error::Hdf5 {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.path)
    }
}

/// The units of an event-driven synapse's g: a conductance or a current in the target
/// model's units.
pub fn synapse_units(target: &dyn NeuronKind, synapse: &SynapseModel) -> &'static str {
    let units = target.synaptic_units();
    match synapse {
        SynapseModel::ExpCond(_) => units.conductance,
        _ => units.current,
    }
}

impl Hdf5Writer {
    /// Each rate smoothed as the plan asks, from what is written of it: when the run ends.
    fn smooth_rates(&self) -> hdf5::Result<()> {
        let Some(smoothing) = &self.smooth_rate else { return Ok(()) };
        for sets in &self.rates {
            let rate: Vec<f64> = sets.rate.read_raw()?;
            let steps = sets.len.min(rate.len());
            write_smooth_rate(&sets.group, &smoothing.apply(&rate[..steps]), smoothing)?;
        }
        Ok(())
    }

    fn synapses_inner(&mut self, values: &crate::simulator::SynapseValues) -> hdf5::Result<()> {
        for (names, columns) in self.synapses.iter().zip(values) {
            let (Some((projection, vars)), Some(columns)) = (names, columns) else {
                continue;
            };
            let g = self.root.group(&format!("synapses/{projection}"))?;
            for ((name, unit), column) in vars.iter().zip(columns) {
                if g.link_exists(name) {
                    g.unlink(name)?;
                }
                let d = g.new_dataset_builder().with_data(column).create(name.as_str())?;
                str_attr(&d, "units", unit)?;
            }
        }
        if self.flush_chunks {
            self.file.flush()?;
        }
        Ok(())
    }
}

impl crate::simulator::ChunkSink for Hdf5Writer {
    /// Writes the synapses' variables (at the end of the run).
    fn synapses(&mut self, values: &crate::simulator::SynapseValues) -> Result<()> {
        self.synapses_inner(values).map_err(|source| Error::Hdf5 {
            path: self.path.clone(),
            source,
        })
    }

    /// Appends one chunk and flushes it to disk.
    fn append(&mut self, chunk: &ChunkOutput) -> Result<()> {
        self.append_inner(chunk).map_err(|source| Error::Hdf5 {
            path: self.path.clone(),
            source,
        })
    }
}

/// An HDF5 file opened for reading, or a line saying why not (a path that is missing, a
/// directory, not HDF5 or cut short is said so, not in HDF5's error stack), without the path.
pub fn open_hdf5(path: &Path) -> std::result::Result<hdf5::File, String> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("no such file".into()),
        Err(e) => return Err(e.to_string()),
        Ok(m) if m.is_dir() => return Err("is a directory, not an HDF5 file".into()),
        Ok(_) => {}
    }
    hdf5::File::open(path).map_err(|source| {
        let text = source.to_string();
        if text.contains("file signature not found") {
            "not an HDF5 file".into()
        } else if text.contains("truncated file") {
            "an HDF5 file cut short (truncated)".into()
        } else {
            text
        }
    })
}

/// An HDF5 file opened for reading, its error naming the path.
pub fn open_for_reading(path: &Path) -> Result<hdf5::File> {
    open_hdf5(path).map_err(|m| Error::io(path, m))
}

/// An output file opened for reading, with the resolved config it stores.
pub fn open_output(path: &Path) -> Result<(hdf5::File, crate::config::Config)> {
    let h5 = |source: hdf5::Error| Error::Hdf5 {
        path: path.to_owned(),
        source,
    };
    let file = open_for_reading(path)?;
    let text: VarLenUnicode = file
        .attr("config")
        .and_then(|a| a.read_scalar())
        .map_err(h5)?;
    let config = crate::config::parse(text.as_str(), &[])?;
    Ok((file, config))
}
