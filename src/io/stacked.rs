//! A sweep's instances stacked (`output.sweep_layout = "stacked"`): every instance's output in
//! one set of datasets, row r of each being the instance in row r of `/sweep`.
//!
//! ```text
//! /stacked/status/{simulated_ms, stop_reason, seed, wall_time_s}   [instances]
//! /stacked/spikes/<pop>/{instance, node_ids, timestamps}           one row per spike
//! /stacked/spikes/<pop>/<var>                                       f32, its value with each spike (record.spike_variables)
//! /stacked/events/<pop>/<event>/{instance, node_ids, timestamps}   one row per event (record.events)
//! /stacked/events/<pop>/<event>/<var>                               f32, its value with each (record.event_variables)
//! /stacked/rates/<pop>/rate                                        f64 [instances, steps] Hz
//! /stacked/rates/<pop>/smooth_rate                                 f64 [instances, steps] Hz (record.smooth_rate)
//! /stacked/rates/<pop>/time                                        [start, stop, step] ms
//! /stacked/report/<group>/<var>/data                               f32 [instances, samples, neurons]
//! /stacked/report/<group>/<var>/mapping/{node_ids, time}           once, as a single run's
//! ```
//!
//! A file of a few datasets instead of about 30 HDF5 objects per instance (their creation is
//! what a sweep of small networks spends its time on), read by numpy as arrays. It needs every
//! instance alike in what it records: the same sizes, duration and recording.

use super::hdf5::{str_attr, subgroup_attrs, trace_group, trace_node_ids, trace_units, FinishedRun, RunMeta};
use crate::error::{Error, Result};
use crate::network::Network;
use crate::record::{RecordPlan, Recorded};
use hdf5::types::VarLenUnicode;
use std::ops::Range;
use std::path::Path;

/// Writes finished instances into their rows of the stacked datasets, created with the first.
pub struct StackedOutput<'a> {
    path: &'a Path,
    file: &'a hdf5::File,
    /// The instances of this file, row r holding instance `rows.start + r`.
    rows: Range<usize>,
    sets: Option<Sets>,
}

struct Sets {
    simulated_ms: hdf5::Dataset,
    stop_reason: hdf5::Dataset,
    seed: hdf5::Dataset,
    wall_time_s: hdf5::Dataset,
    /// Per spike group of the plan (`RecordPlan::spike_groups`): its table.
    spikes: Vec<(Recorded, SpikeTable)>,
    /// Per EventMonitor of the plan (`RecordPlan::event_outputs`): its entry of the plan's
    /// `events`, and its table.
    events: Vec<(Recorded, usize, SpikeTable)>,
    /// Per rate of the plan (`RecordPlan::rate_groups`): `rate` [instances, steps], and
    /// `smooth_rate` where the plan smooths it.
    rates: Vec<(Recorded, hdf5::Dataset, Option<hdf5::Dataset>)>,
    smooth_rate: Option<crate::smooth_rate::Smoothing>,
    /// Per trace entry, one dataset per variable, and its samples in a complete run.
    traces: Vec<(Vec<hdf5::Dataset>, usize)>,
}

/// A population's spikes, one row per spike: its instance, neuron and time, the values of the
/// variables recorded with it (`record.spike_variables`), and the rows written.
pub struct SpikeTable {
    pub instance: hdf5::Dataset,
    pub node_ids: hdf5::Dataset,
    pub timestamps: hdf5::Dataset,
    pub values: Vec<hdf5::Dataset>,
    pub len: usize,
}

/// Samples of a trace taken every `every` steps over `n_steps`: at steps 0, every, … < n_steps.
pub fn samples(n_steps: u64, every: u64) -> usize {
    n_steps.div_ceil(every.max(1)) as usize
}

/// A trace's `data` [instances, rows, width] under `g`: one chunk per instance, so that its row
/// is written in one piece; samples past an instance's end (it diverged, or never ran) stay NaN.
pub fn create_trace_data(g: &hdf5::Group, instances: usize, rows: usize, width: usize) -> hdf5::Result<hdf5::Dataset> {
    g.new_dataset::<f32>()
        .chunk((1, rows.max(1), width.max(1)))
        .fill_value(f32::NAN)
        .shape((instances, rows, width))
        .create("data")
}

/// A rate's `rate` [instances, steps] under `g`, in Hz: one chunk per instance, so that its row
/// is written in one piece; steps past an instance's end (it diverged, or never ran) stay NaN.
pub fn create_rate_data(g: &hdf5::Group, instances: usize, steps: usize) -> hdf5::Result<hdf5::Dataset> {
    let rate = g.new_dataset::<f64>().chunk((1, steps.max(1))).fill_value(f64::NAN).shape((instances, steps.max(1))).create("rate")?;
    str_attr(&rate, "units", "Hz")?;
    Ok(rate)
}

/// A rate's `smooth_rate` [instances, steps] under `g`, as `create_rate_data`, with its
/// window and the width used (ms) as attributes.
pub fn create_smooth_rate_data(g: &hdf5::Group, instances: usize, steps: usize, window: &str, width_ms: f64) -> hdf5::Result<hdf5::Dataset> {
    let d = g.new_dataset::<f64>().chunk((1, steps.max(1))).fill_value(f64::NAN).shape((instances, steps.max(1))).create("smooth_rate")?;
    super::hdf5::smooth_rate_attrs(&d, window, width_ms)?;
    Ok(d)
}

/// A variable's column `name` of a spike table under `g` (`record.spike_variables`), in `unit`.
fn create_spike_values(g: &hdf5::Group, name: &str, unit: &str) -> hdf5::Result<hdf5::Dataset> {
    let d = g.new_dataset::<f32>().chunk(SPIKE_CHUNK).shape(0..).create(name)?;
    str_attr(&d, "units", unit)?;
    Ok(d)
}

/// Spikes per HDF5 chunk of the spike table.
const SPIKE_CHUNK: usize = 1 << 16;

impl SpikeTable {
    /// An empty table in `g`, growing as instances end, with a column per variable of
    /// `slots` (of `variables`).
    fn create(g: &hdf5::Group, slots: &[usize], variables: &[crate::model::Variable]) -> hdf5::Result<SpikeTable> {
        let table = |name: &str| g.new_dataset::<u64>().chunk(SPIKE_CHUNK).shape(0..).create(name);
        let (instance, node_ids) = (table("instance")?, table("node_ids")?);
        let timestamps = g.new_dataset::<f64>().chunk(SPIKE_CHUNK).shape(0..).create("timestamps")?;
        str_attr(&timestamps, "units", "ms")?;
        let values = slots.iter().map(|&k| create_spike_values(g, variables[k].name, variables[k].unit)).collect::<hdf5::Result<_>>()?;
        Ok(SpikeTable { instance, node_ids, timestamps, values, len: 0 })
    }

    /// Appends instance `k`'s spikes (or events) and the values recorded with them.
    fn append(&mut self, k: usize, spikes: &[crate::record::Spike], values: &[f32], dt_ms: f64) -> hdf5::Result<()> {
        let n = spikes.len();
        if n == 0 {
            return Ok(());
        }
        let times: Vec<f64> = spikes.iter().map(|s| (s.step + 1) as f64 * dt_ms).collect();
        let ids: Vec<u64> = spikes.iter().map(|s| s.neuron as u64).collect();
        let len = self.len;
        for ds in [&self.instance, &self.node_ids, &self.timestamps].into_iter().chain(&self.values) {
            ds.resize(len + n)?;
        }
        self.instance.write_slice(&vec![k as u64; n], len..len + n)?;
        self.node_ids.write_slice(&ids, len..len + n)?;
        self.timestamps.write_slice(&times, len..len + n)?;
        super::hdf5::write_spike_values(&self.values, values, len)?;
        self.len += n;
        Ok(())
    }
}

impl<'a> StackedOutput<'a> {
    pub fn new(path: &'a Path, file: &'a hdf5::File, rows: Range<usize>) -> StackedOutput<'a> {
        StackedOutput { path, file, rows, sets: None }
    }

    /// Writes instance `k`'s `run` (of `net` recording `plan`) into its rows.
    pub fn write(&mut self, k: usize, (net, plan, meta): (&Network, &RecordPlan, &RunMeta), run: &FinishedRun) -> Result<()> {
        let h5 = |source| Error::Hdf5 { path: self.path.to_owned(), source };
        if run.synapses.is_some() {
            return Err(Error::config("output.sweep_layout", "the stacked layout holds no synaptic variables: use \"instances\""));
        }
        if self.sets.is_none() {
            self.sets = Some(Sets::create(self.file, self.rows.len(), net, plan).map_err(h5)?);
        }
        let sets = self.sets.as_mut().expect("created above");
        sets.write(k, k - self.rows.start, net, meta, run).map_err(h5)
    }

    /// Orders each spike table by instance (within one, as it was written: by time), so that a
    /// sweep's file is the same whatever order its instances ended in.
    pub fn finish(&mut self) -> Result<()> {
        let Some(sets) = &self.sets else { return Ok(()) };
        sets.spikes.iter().map(|(_, table)| table).chain(sets.events.iter().map(|(_, _, table)| table)).try_for_each(sort_by_instance).map_err(|source| Error::Hdf5 { path: self.path.to_owned(), source })
    }
}

/// A spike table's rows reordered by instance, stably.
pub fn sort_by_instance(table: &SpikeTable) -> hdf5::Result<()> {
    let k: Vec<u64> = table.instance.read_raw()?;
    if k.windows(2).all(|w| w[0] <= w[1]) {
        return Ok(());
    }
    let mut order: Vec<usize> = (0..k.len()).collect();
    order.sort_by_key(|&i| k[i]);
    fn reorder<T: hdf5::H5Type + Copy>(d: &hdf5::Dataset, order: &[usize]) -> hdf5::Result<()> {
        let x: Vec<T> = d.read_raw()?;
        d.write_raw(&order.iter().map(|&i| x[i]).collect::<Vec<_>>())
    }
    reorder::<u64>(&table.instance, &order)?;
    reorder::<u64>(&table.node_ids, &order)?;
    reorder::<f64>(&table.timestamps, &order)?;
    table.values.iter().try_for_each(|d| reorder::<f32>(d, &order))
}

impl Sets {
    fn create(file: &hdf5::File, instances: usize, net: &Network, plan: &RecordPlan) -> hdf5::Result<Sets> {
        let root = file.create_group("stacked")?;
        let status = root.create_group("status")?;
        let simulated_ms = status.new_dataset::<f64>().fill_value(f64::NAN).shape(instances).create("simulated_ms")?;
        str_attr(&simulated_ms, "units", "ms")?;
        // Instances that did not run keep "" and NaN.
        let stop_reason = status.new_dataset::<VarLenUnicode>().shape(instances).create("stop_reason")?;
        let seed = status.new_dataset::<u64>().shape(instances).create("seed")?;
        let wall_time_s = status.new_dataset::<f64>().fill_value(f64::NAN).shape(instances).create("wall_time_s")?;
        let mut spikes = Vec::new();
        for recorded in plan.spike_groups(net) {
            let g = root.create_group(&format!("spikes/{}", recorded.name))?;
            subgroup_attrs(&g, net, recorded.population, recorded.first())?;
            let table = SpikeTable::create(&g, &recorded.slots, net.populations[recorded.population].variables())?;
            spikes.push((recorded, table));
        }
        let mut events = Vec::new();
        for (recorded, r) in plan.event_outputs(net) {
            let g = root.create_group(&super::hdf5::event_group(net, &recorded.name, plan.events[r]))?;
            subgroup_attrs(&g, net, recorded.population, recorded.first())?;
            let table = SpikeTable::create(&g, &recorded.slots, net.populations[recorded.population].variables())?;
            events.push((recorded, r, table));
        }
        let mut rates = Vec::new();
        for (recorded, g, _) in super::hdf5::rate_groups(&root, net, plan, net.n_steps as f64 * net.dt_ms)? {
            let rate = create_rate_data(&g, instances, net.n_steps as usize)?;
            let smooth = match &plan.smooth_rate {
                Some(sm) => Some(create_smooth_rate_data(&g, instances, net.n_steps as usize, sm.window, sm.used_width_ms)?),
                None => None,
            };
            rates.push((recorded, rate, smooth));
        }
        let mut traces = Vec::new();
        for t in &plan.traces {
            let rows = samples(net.n_steps, t.every);
            let width = t.neurons.len();
            let group = trace_group(net, t);
            let mut data = Vec::new();
            for (&var, name) in t.variables.iter().zip(&t.names) {
                let g = root.create_group(&format!("report/{group}/{name}"))?;
                let ds = create_trace_data(&g, instances, rows, width)?;
                str_attr(&ds, "units", &trace_units(net, t, var))?;
                data.push(ds);
                subgroup_attrs(&g, net, t.population, t.subgroup.as_ref().map(|s| s.1))?;
                let mapping = g.create_group("mapping")?;
                mapping.new_dataset_builder().with_data(&trace_node_ids(t)).create("node_ids")?;
                let time = [0.0, net.n_steps as f64 * net.dt_ms, t.every as f64 * net.dt_ms];
                let ts = mapping.new_dataset_builder().with_data(&time).create("time")?;
                str_attr(&ts, "units", "ms")?;
            }
            traces.push((data, rows));
        }
        Ok(Sets { simulated_ms, stop_reason, seed, wall_time_s, spikes, events, rates, smooth_rate: plan.smooth_rate.clone(), traces })
    }

    fn write(&mut self, k: usize, row: usize, net: &Network, meta: &RunMeta, run: &FinishedRun) -> hdf5::Result<()> {
        let out = run.output;
        let simulated_ms = (out.first_step + out.n_steps) as f64 * net.dt_ms;
        self.simulated_ms.write_slice(&[simulated_ms], row..row + 1)?;
        let reason: VarLenUnicode = run.stop_reason.parse().map_err(|e| hdf5::Error::from(format!("{e:?}")))?;
        self.stop_reason.write_slice(&[reason], row..row + 1)?;
        self.seed.write_slice(&[meta.seed], row..row + 1)?;
        self.wall_time_s.write_slice(&[run.wall_time_s], row..row + 1)?;
        for (recorded, table) in &mut self.spikes {
            let (spikes, values) = recorded.spikes_with_values_in(out);
            table.append(k, &spikes, &values, net.dt_ms)?;
        }
        for (recorded, r, table) in &mut self.events {
            let (occurrences, values) = recorded.events_in(out, *r);
            table.append(k, &occurrences, &values, net.dt_ms)?;
        }
        for (recorded, rate, smooth) in &self.rates {
            let steps = out.first_step..out.first_step + out.n_steps.min(net.n_steps);
            let spikes = recorded.spikes_in(out);
            let values = crate::record::rates_per_step(&spikes, steps, recorded.size, net.dt_ms);
            let first = out.first_step as usize;
            rate.write_slice(&values, ndarray::s![row, first..first + values.len()])?;
            // The instance's steps are all here (one chunk from its start).
            if let (Some(smooth), Some(smoothing)) = (smooth, &self.smooth_rate) {
                smooth.write_slice(&smoothing.apply(&values), ndarray::s![row, 0..values.len()])?;
            }
        }
        for ((data, rows), tc) in self.traces.iter().zip(&out.traces) {
            let n = tc.n_samples.min(*rows);
            if n == 0 {
                continue;
            }
            for (ds, buf) in data.iter().zip(&tc.data) {
                let width = ds.shape()[2];
                let view = ndarray::ArrayView2::from_shape((n, width), &buf[..n * width]).map_err(|e| hdf5::Error::from(e.to_string()))?;
                ds.write_slice(view, ndarray::s![row, 0..n, ..])?;
            }
        }
        Ok(())
    }
}
