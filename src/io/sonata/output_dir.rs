//! A SONATA simulation output directory, written from a ganglion file once its run ends:
//!
//! ```text
//! DIR/spikes.h5                /spikes/<pop>/{timestamps, node_ids}, sorting = by_time
//! DIR/<var>.h5                 /report/<pop>/data [n_times, n_nodes] and mapping/{node_ids,
//!                              index_pointers, element_ids, time}: every population (or
//!                              projection) that records <var>, soma-report layout
//! DIR/simulation_config.json   "run", "output" (spikes_file) and "reports" (one per <var>)
//! ```
//!
//! SONATA names node populations: a subgroup's spikes and traces (Brian2's monitors of
//! `P[a:b]`, numbered from a) join their population's, renumbered as its nodes. A subgroup's
//! trace sampled on other times than its population's trace of the variable keeps its own
//! group and numbering, not to lose it.
//!
//! Each file is written beside its name and renamed into place, the config last, so a
//! directory is never left half-replaced.

use super::spikes::{write_sorting, Sorting};
use crate::io::hdf5::str_attr;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SPIKES: &str = "spikes.h5";
const CONFIG: &str = "simulation_config.json";

/// Refuses a file in the directory's place, or a directory that holds a SONATA output
/// already unless `force`: checked before a run starts.
pub fn check_target(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::io(dir, "sonata_dir is a file, not a directory"));
    }
    for name in [CONFIG, SPIKES] {
        if dir.join(name).exists() && !force {
            return Err(Error::OutputExists(dir.join(name)));
        }
    }
    Ok(())
}

/// One population's (or subgroup's, or projection's) trace of one variable, as the ganglion
/// file holds it.
struct Trace {
    group: String,
    /// A subgroup's: its population and first neuron.
    subgroup_of: Option<(String, u64)>,
    data: ndarray::Array2<f32>,
    units: String,
    node_ids: Vec<u64>,
    /// start, step (ms).
    start: f64,
    step: f64,
}

/// Writes the directory from the ganglion file `main`; returns the files written.
pub fn write(main: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e.to_string()))?;
    let h5 = |path: &Path| {
        let path = path.to_owned();
        move |source: hdf5::Error| Error::Hdf5 { path: path.clone(), source }
    };
    let file = hdf5::File::open(main).map_err(h5(main))?;
    let dt_ms: f64 = file.attr("dt_ms").and_then(|a| a.read_scalar()).map_err(h5(main))?;
    let simulated_ms: f64 = file.attr("simulated_ms").and_then(|a| a.read_scalar()).map_err(h5(main))?;
    let seed: u64 = file.attr("seed").and_then(|a| a.read_scalar()).map_err(h5(main))?;

    let mut written = Vec::new();
    let spikes = dir.join(SPIKES);
    replace(&spikes, |tmp| write_spikes(&file, tmp).map_err(h5(tmp)))?;
    written.push(spikes);

    let by_variable: BTreeMap<String, Vec<Trace>> = read_traces(&file).map_err(h5(main))?.into_iter().map(|(var, traces)| (var, into_populations(traces))).collect();
    let mut reports = serde_json::Map::new();
    for (var, traces) in &by_variable {
        let name = format!("{var}.h5");
        if name == SPIKES {
            return Err(Error::io(dir, "a variable named `spikes` would take spikes.h5's place"));
        }
        let path = dir.join(&name);
        replace(&path, |tmp| write_report(traces, tmp).map_err(h5(tmp)))?;
        written.push(path);
        let first = &traces[0];
        let frames = first.data.nrows() as f64;
        reports.insert(
            var.clone(),
            serde_json::json!({
                "cells": traces.iter().map(|t| t.group.as_str()).collect::<Vec<_>>().join(","),
                "variable_name": var,
                "sections": "soma",
                "type": "compartment",
                "file_name": name,
                "start_time": first.start,
                "end_time": first.start + frames * first.step,
                "dt": first.step,
                "unit": first.units,
            }),
        );
    }
    let config = serde_json::json!({
        "run": { "tstop": simulated_ms, "dt": dt_ms, "random_seed": seed },
        "output": { "output_dir": ".", "spikes_file": SPIKES, "spikes_sort_order": "by_time" },
        "reports": reports,
        "ganglion": { "source": main.display().to_string() },
    });
    let path = dir.join(CONFIG);
    let text = serde_json::to_string_pretty(&config).expect("a JSON value");
    replace(&path, |tmp| std::fs::write(tmp, text.as_bytes()).map_err(|e| Error::io(tmp, e.to_string())))?;
    written.push(path);
    Ok(written)
}

/// Writes `path` through a temporary file beside it, renamed into place.
fn replace(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = crate::io::output::partial_path(path);
    write(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e.to_string()))
}

/// A subgroup's group of the ganglion file: its population and first neuron (its attributes
/// `population` and `first`).
fn subgroup_of(g: &hdf5::Group) -> Option<(String, u64)> {
    let population = super::string_attr(g, "population")?;
    Some((population, g.attr("first").and_then(|a| a.read_scalar::<u64>()).ok()?))
}

fn write_spikes(file: &hdf5::File, path: &Path) -> hdf5::Result<()> {
    let out = hdf5::File::create(path)?;
    let top = out.create_group("spikes")?;
    // Per node population: its spikes (time, node id), a subgroup's among its population's.
    let mut by_population: BTreeMap<String, Vec<(f64, u64)>> = BTreeMap::new();
    if let Ok(spikes) = file.group("spikes") {
        for name in spikes.member_names()? {
            let g = spikes.group(&name)?;
            let t: Vec<f64> = g.dataset("timestamps")?.read_raw()?;
            let ids: Vec<u64> = g.dataset("node_ids")?.read_raw()?;
            let (population, first) = subgroup_of(&g).unwrap_or((name, 0));
            by_population.entry(population).or_default().extend(t.into_iter().zip(ids.into_iter().map(|id| id + first)));
        }
    }
    for (population, mut spikes) in by_population {
        // By time, then node; a spike recorded by its population and a subgroup, once.
        spikes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        spikes.dedup();
        let o = top.create_group(&population)?;
        write_sorting(&o, Sorting::by_time)?;
        let (t, ids): (Vec<f64>, Vec<u64>) = spikes.into_iter().unzip();
        let ts = o.new_dataset_builder().with_data(&t).create("timestamps")?;
        str_attr(&ts, "units", "ms")?;
        o.new_dataset_builder().with_data(&ids).create("node_ids")?;
    }
    Ok(())
}

/// One variable's traces with each subgroup's joined to its population's: its columns after
/// theirs (a node the population records already, once), or as the population's own where
/// it records none. One sampled on other times stays apart.
fn into_populations(traces: Vec<Trace>) -> Vec<Trace> {
    let (mut out, subgroups): (Vec<Trace>, Vec<Trace>) = traces.into_iter().partition(|t| t.subgroup_of.is_none());
    for t in subgroups {
        let (population, first) = t.subgroup_of.clone().expect("partitioned");
        let ids: Vec<u64> = t.node_ids.iter().map(|&n| n + first).collect();
        let Some(into) = out.iter_mut().find(|o| o.group == population) else {
            out.push(Trace { group: population, subgroup_of: None, node_ids: ids, ..t });
            continue;
        };
        if (into.start, into.step, into.data.nrows()) != (t.start, t.step, t.data.nrows()) {
            out.push(t);
            continue;
        }
        let new: Vec<usize> = (0..ids.len()).filter(|&c| !into.node_ids.contains(&ids[c])).collect();
        let columns = ndarray::concatenate(ndarray::Axis(1), &[into.data.view(), t.data.select(ndarray::Axis(1), &new).view()]).expect("the same rows");
        into.data = columns.as_standard_layout().into_owned();
        into.node_ids.extend(new.iter().map(|&c| ids[c]));
    }
    out
}

/// The ganglion file's traces, grouped by variable name.
fn read_traces(file: &hdf5::File) -> hdf5::Result<BTreeMap<String, Vec<Trace>>> {
    let mut by_variable: BTreeMap<String, Vec<Trace>> = BTreeMap::new();
    let Ok(report) = file.group("report") else { return Ok(by_variable) };
    for group in report.member_names()? {
        let g = report.group(&group)?;
        for var in g.member_names()? {
            let v = g.group(&var)?;
            let data_set = v.dataset("data")?;
            let data: ndarray::Array2<f32> = data_set.read_2d()?;
            let time: Vec<f64> = v.dataset("mapping/time")?.read_raw()?;
            by_variable.entry(var.clone()).or_default().push(Trace {
                group: group.clone(),
                subgroup_of: subgroup_of(&v),
                data,
                units: super::string_attr(&data_set, "units").unwrap_or_default(),
                node_ids: v.dataset("mapping/node_ids")?.read_raw()?,
                start: time[0],
                step: time[2],
            });
        }
    }
    Ok(by_variable)
}

fn write_report(traces: &[Trace], path: &Path) -> hdf5::Result<()> {
    let out = hdf5::File::create(path)?;
    for t in traces {
        let g = out.create_group(&format!("report/{}", t.group))?;
        let (rows, width) = t.data.dim();
        let data = g
            .new_dataset_builder()
            .chunk(((262_144 / width.max(1)).clamp(1, 4096).min(rows.max(1)), width.max(1)))
            .with_data(&t.data)
            .create("data")?;
        str_attr(&data, "units", &t.units)?;
        let mapping = g.create_group("mapping")?;
        mapping.new_dataset_builder().with_data(&t.node_ids).create("node_ids")?;
        // One value (element) per node: the soma.
        let pointers: Vec<u64> = (0..=width as u64).collect();
        mapping.new_dataset_builder().with_data(&pointers).create("index_pointers")?;
        mapping.new_dataset_builder().with_data(&vec![0u32; width]).create("element_ids")?;
        // The spec's interval is open on the right: stop is the time after the last frame.
        let time = [t.start, t.start + rows as f64 * t.step, t.step];
        let ts = mapping.new_dataset_builder().with_data(&time).create("time")?;
        str_attr(&ts, "units", "ms")?;
    }
    Ok(())
}
