//! The stacked layout of a sweep's file (`io::stacked` writes it): which sweeps it takes,
//! each instance's spike statistics read back from it, and slices joined into one.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::io::hdf5::str_attr;
use crate::network::Network;
use crate::record::RecordPlan;
use crate::stats::{spike_stats, SpikeStats};
use std::collections::HashMap;
use std::path::Path;

const KEY: &str = "output.sweep_layout";

/// Refuses, naming `output.sweep_layout`, a sweep whose instances the stacked layout cannot
/// hold: instances (`configs`, from instance `from` on) that differ from the sweep's first
/// (`first`) in sizes, duration, step or recording (each dataset has one shape, in every
/// slice, for `merge`), synaptic variables or model outputs (not stacked yet), or an instance
/// recording more than `whole_run_bytes` (an instance is written whole).
pub fn check(first: &Config, configs: &[Config], from: usize, whole_run_bytes: u64) -> Result<()> {
    let shape = |c: &Config| {
        let s = crate::shape::Shape::from_config(c);
        let sizes: Vec<u64> = s.populations.iter().map(|p| p.size).collect();
        (sizes, s.n_steps, s.dt_ms, toml::to_string(&c.record).ok())
    };
    let theirs = shape(first);
    let alike = |c: &Config| shape(c) == theirs;
    if let Some(i) = configs.iter().position(|c| !alike(c)) {
        return Err(Error::config(
            KEY,
            format!("\"stacked\" needs every instance alike in sizes, duration, step and recording, and instance {} is not like instance 0: use \"instances\"", from + i),
        ));
    }
    let net = Network::build(first)?;
    let mut plan = RecordPlan::from_config(first);
    plan.resolve(&net)?;
    if let Some(p) = net.populations.iter().find(|p| !p.model.outputs().is_empty()) {
        return Err(Error::config(KEY, format!("\"stacked\" holds no model outputs, which population `{}` writes: use \"instances\"", p.name)));
    }
    if let Some(p) = net.projections.iter().find(|p| p.equation.as_ref().is_some_and(|e| !e.state.is_empty())) {
        return Err(Error::config(KEY, format!("\"stacked\" holds no synaptic variables, which projection `{}` has: use \"instances\"", p.name)));
    }
    let sizes = net.populations.iter().map(|p| p.size as u64);
    let bytes = super::run::recording_bytes(&plan, sizes, net.n_steps, net.dt_ms);
    if bytes > whole_run_bytes {
        return Err(Error::config(
            KEY,
            format!(
                "\"stacked\" writes each instance whole, and one records about {} (at most {}): use \"instances\"",
                crate::units::human_bytes(bytes),
                crate::units::human_bytes(whole_run_bytes)
            ),
        ));
    }
    Ok(())
}

/// Whether `file` holds its instances stacked.
pub fn is_stacked(file: &hdf5::File) -> bool {
    file.link_exists("stacked")
}

/// A population's spikes (time, node id) of each instance.
type SpikesByInstance = HashMap<u64, Vec<(f64, u64)>>;

/// Per row of `/sweep` (`instances`, in order), the spike statistics of each recorded
/// population of `config` (the sweep's, alike in every instance), or None for an instance that
/// did not run.
pub fn spike_rows(file: &hdf5::File, config: &Config, instances: &[u64], window_ms: f64) -> hdf5::Result<Vec<Option<Vec<SpikeStats>>>> {
    let simulated: Vec<f64> = file.dataset("stacked/status/simulated_ms")?.read_raw()?;
    // Each population's spikes, by instance.
    let mut populations: Vec<(String, SpikesByInstance)> = Vec::new();
    if let Ok(group) = file.group("stacked/spikes") {
        for name in group.member_names()? {
            let g = group.group(&name)?;
            let instance: Vec<u64> = g.dataset("instance")?.read_raw()?;
            let t: Vec<f64> = g.dataset("timestamps")?.read_raw()?;
            let id: Vec<u64> = g.dataset("node_ids")?.read_raw()?;
            let mut by_instance = SpikesByInstance::new();
            for ((k, t), id) in instance.into_iter().zip(t).zip(id) {
                by_instance.entry(k).or_default().push((t, id));
            }
            populations.push((name, by_instance));
        }
    }
    let empty = Vec::new();
    Ok(instances
        .iter()
        .zip(&simulated)
        .map(|(k, &duration)| {
            (!duration.is_nan()).then(|| {
                populations
                    .iter()
                    .map(|(name, by_instance)| {
                        let size = config.group(name).map_or(0, |g| g.size as usize);
                        spike_stats(name, size, duration, by_instance.get(k).unwrap_or(&empty), window_ms)
                    })
                    .collect()
            })
        })
        .collect())
}

/// The parts' spike tables at `stacked/<at>` (spikes or events) one after another, as `at`
/// in `root`, in instance order.
fn merge_spike_table(parts: &[(hdf5::File, Vec<u64>)], at: &str, root: &hdf5::Group) -> hdf5::Result<()> {
    let first = &parts[0].0;
    let g = root.create_group(at)?;
    crate::io::hdf5::copy_subgroup_attrs(&first.group(&format!("stacked/{at}"))?, &g)?;
    let mut instance: Vec<u64> = Vec::new();
    let mut node_ids: Vec<u64> = Vec::new();
    let mut timestamps: Vec<f64> = Vec::new();
    for (file, _) in parts {
        let from = file.group(&format!("stacked/{at}"))?;
        instance.extend(from.dataset("instance")?.read_raw::<u64>()?);
        node_ids.extend(from.dataset("node_ids")?.read_raw::<u64>()?);
        timestamps.extend(from.dataset("timestamps")?.read_raw::<f64>()?);
    }
    let instance = g.new_dataset_builder().with_data(&instance).create("instance")?;
    let node_ids = g.new_dataset_builder().with_data(&node_ids).create("node_ids")?;
    let t = g.new_dataset_builder().with_data(&timestamps).create("timestamps")?;
    str_attr(&t, "units", "ms")?;
    // The variables recorded with the spikes, each part's column after the other's.
    let mut values = Vec::new();
    let like = first.group(&format!("stacked/{at}"))?;
    for var in like.member_names()?.into_iter().filter(|v| !crate::io::hdf5::SPIKE_DATASETS.contains(&v.as_str())) {
        let mut column: Vec<f32> = Vec::new();
        for (file, _) in parts {
            column.extend(file.dataset(&format!("stacked/{at}/{var}"))?.read_raw::<f32>()?);
        }
        let d = g.new_dataset_builder().with_data(&column).create(var.as_str())?;
        let source = like.dataset(&var)?;
        let units = crate::io::sonata::string_attr(&source, "units").unwrap_or_default();
        str_attr(&d, "units", &units)?;
        values.push(d);
    }
    // In instance order, as the whole sweep's file has them.
    crate::io::stacked::sort_by_instance(&crate::io::stacked::SpikeTable { instance, node_ids, timestamps: t, values, len: 0 })
}

/// Joins stacked slices (`parts`, each holding the instances of its `/sweep/instance` rows)
/// into `out`'s `/stacked`, `total` rows in instance order.
pub fn merge(parts: &[(hdf5::File, Vec<u64>)], out: &hdf5::File, total: usize) -> hdf5::Result<()> {
    let first = &parts[0].0;
    let root = out.create_group("stacked")?;
    // Per-instance arrays: each part's rows to their instances' rows.
    let status = root.create_group("status")?;
    let place = |read: &dyn Fn(&hdf5::File) -> hdf5::Result<Vec<f64>>| -> hdf5::Result<Vec<f64>> {
        let mut all = vec![f64::NAN; total];
        for (file, ks) in parts {
            for (&k, v) in ks.iter().zip(read(file)?) {
                all[k as usize] = v;
            }
        }
        Ok(all)
    };
    for name in ["simulated_ms", "wall_time_s"] {
        let all = place(&|f| f.dataset(&format!("stacked/status/{name}"))?.read_raw())?;
        let d = status.new_dataset_builder().with_data(&all).create(name)?;
        if name == "simulated_ms" {
            str_attr(&d, "units", "ms")?;
        }
    }
    let mut seeds = vec![0u64; total];
    let mut reasons = vec![hdf5::types::VarLenUnicode::default(); total];
    for (file, ks) in parts {
        let s: Vec<u64> = file.dataset("stacked/status/seed")?.read_raw()?;
        let r: Vec<hdf5::types::VarLenUnicode> = file.dataset("stacked/status/stop_reason")?.read_raw()?;
        for ((&k, s), r) in ks.iter().zip(s).zip(r) {
            seeds[k as usize] = s;
            reasons[k as usize] = r;
        }
    }
    status.new_dataset_builder().with_data(&seeds).create("seed")?;
    status.new_dataset_builder().with_data(&reasons).create("stop_reason")?;
    // Spikes and events: the parts' tables one after another.
    if let Ok(group) = first.group("stacked/spikes") {
        for name in group.member_names()? {
            merge_spike_table(parts, &format!("spikes/{name}"), &root)?;
        }
    }
    if let Ok(group) = first.group("stacked/events") {
        for population in group.member_names()? {
            for event in group.group(&population)?.member_names()? {
                merge_spike_table(parts, &format!("events/{population}/{event}"), &root)?;
            }
        }
    }
    // Rates: each part's rows to their instances' rows; the time from the first part.
    if let Ok(group) = first.group("stacked/rates") {
        for name in group.member_names()? {
            let at = format!("stacked/rates/{name}");
            let g = root.create_group(&format!("rates/{name}"))?;
            crate::io::hdf5::copy_subgroup_attrs(&first.group(&at)?, &g)?;
            first.dataset(&format!("{at}/time"))?.copy_to(&g, "time")?;
            let steps = first.dataset(&format!("{at}/rate"))?.shape()[1];
            let rate = crate::io::stacked::create_rate_data(&g, total, steps)?;
            let mut merged = vec![("rate", rate)];
            if let Ok(like) = first.dataset(&format!("{at}/smooth_rate")) {
                // The first part's window, which every slice shares.
                let window = crate::io::sonata::string_attr(&like, "window").unwrap_or_default();
                let width_ms: f64 = like.attr("width_ms")?.read_scalar()?;
                merged.push(("smooth_rate", crate::io::stacked::create_smooth_rate_data(&g, total, steps, &window, width_ms)?));
            }
            for (name, into) in &merged {
                for (file, ks) in parts {
                    let from = file.dataset(&format!("{at}/{name}"))?;
                    if from.shape()[1] != steps {
                        return Err(hdf5::Error::from(format!("the slices' {at}/{name} differ in steps: their instances are not alike")));
                    }
                    // A row at a time, as the traces go over in bounded blocks: a slice may
                    // hold many long runs.
                    for (r, &k) in ks.iter().enumerate() {
                        let row: ndarray::Array1<f64> = from.read_slice(ndarray::s![r, ..])?;
                        into.write_slice(&row, ndarray::s![k as usize, ..])?;
                    }
                }
            }
        }
    }
    // Traces: each part's rows to their instances' rows; the mapping from the first part.
    if let Ok(report) = first.group("stacked/report") {
        for group in report.member_names()? {
            for var in report.group(&group)?.member_names()? {
                let at = format!("stacked/report/{group}/{var}");
                let g = root.create_group(&format!("report/{group}/{var}"))?;
                crate::io::hdf5::copy_subgroup_attrs(&first.group(&at)?, &g)?;
                first.group(&format!("{at}/mapping"))?.copy_to(&g, "mapping")?;
                let like = first.dataset(&format!("{at}/data"))?;
                let (rows, width) = (like.shape()[1], like.shape()[2]);
                let data = crate::io::stacked::create_trace_data(&g, total, rows, width)?;
                let units = crate::io::sonata::string_attr(&like, "units").unwrap_or_default();
                str_attr(&data, "units", &units)?;
                for (file, ks) in parts {
                    let from = file.dataset(&format!("{at}/data"))?;
                    if from.shape()[1..] != like.shape()[1..] {
                        return Err(hdf5::Error::from(format!("the slices' {at}/data differ in shape ({:?} and {:?}): their instances are not alike", from.shape(), like.shape())));
                    }
                    // A slice's instances are consecutive: its rows go over in blocks of
                    // about 64 MiB, whatever the sweep's size.
                    let block = ((64usize << 20) / (rows * width * 4).max(1)).max(1);
                    for (start, ks) in ks.chunks(block).enumerate().map(|(b, ks)| (b * block, ks)) {
                        let part: ndarray::Array3<f32> = from.read_slice(ndarray::s![start..start + ks.len(), .., ..])?;
                        if ks.windows(2).all(|w| w[1] == w[0] + 1) {
                            let first = ks[0] as usize;
                            data.write_slice(&part, ndarray::s![first..first + ks.len(), .., ..])?;
                            continue;
                        }
                        for (r, &k) in ks.iter().enumerate() {
                            data.write_slice(part.index_axis(ndarray::Axis(0), r), ndarray::s![k as usize, .., ..])?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// `path`'s instances as the stacked layout lists them: its `/sweep/instance` rows.
pub fn instances_of(file: &hdf5::File, path: &Path) -> Result<Vec<u64>> {
    file.dataset("sweep/instance")
        .and_then(|d| d.read_raw())
        .map_err(|_| Error::io(path, "a stacked sweep's file without /sweep/instance"))
}
