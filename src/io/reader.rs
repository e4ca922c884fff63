//! Reading an output file back, for figures and statistics: a single run's file, or one
//! instance of a sweep's file in either layout (an instance's group, or its row of the stacked
//! datasets), behind one set of calls.

use crate::error::{Error, Result};
use crate::io::sonata::string_attr;
use std::path::Path;

/// One recorded variable: sample times, the recorded neurons, row-major samples, and the
/// unit the file gives it.
pub struct Trace {
    pub times: Vec<f64>,
    pub ids: Vec<u64>,
    pub data: Vec<f32>,
    pub width: usize,
    pub units: String,
}

/// What is read: an output file, or one instance of a sweep's file.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub path: &'a Path,
    pub instance: Option<usize>,
}

impl<'a> From<&'a Path> for Source<'a> {
    fn from(path: &'a Path) -> Source<'a> {
        Source { path, instance: None }
    }
}

impl<'a> From<&'a std::path::PathBuf> for Source<'a> {
    fn from(path: &'a std::path::PathBuf) -> Source<'a> {
        Source { path, instance: None }
    }
}

/// Where the datasets are: a single run's layout at the file's root or under an
/// instance's group, or an instance's row of a stacked sweep.
enum View {
    At(String),
    Stacked { row: usize, instance: u64, simulated_ms: f64 },
}

/// An output file with its stored config (an instance's, for an instance of a sweep).
pub struct Output {
    file: hdf5::File,
    view: View,
    pub config_name: String,
    pub config: crate::config::Config,
}

/// Opens `src`: a single run's file, or the instance it names of a sweep's file (a sweep's
/// file without one is refused, listing its instances).
pub fn open(src: Source) -> Result<Output> {
    let path = src.path;
    let (file, config) = crate::io::hdf5::open_output(path)?;
    let mut config_name = string_attr(&file, "config_name").unwrap_or_else(|| path.display().to_string());
    let instances: Option<Vec<u64>> = file.dataset("sweep/instance").and_then(|d| d.read_raw()).ok();
    let (view, config) = match (src.instance, instances) {
        (None, None) => (View::At(String::new()), config),
        (None, Some(ks)) => {
            return Err(Error::Read(format!(
                "{} is a sweep's file: name one of its instances with --instance K ({})",
                path.display(),
                shown_instances(&ks)
            )))
        }
        (Some(_), None) => return Err(Error::Read(format!("--instance: {} is not a sweep's file", path.display()))),
        (Some(k), Some(ks)) => {
            let missing = || Error::Read(format!("--instance {k}: not in {} ({})", path.display(), shown_instances(&ks)));
            let row = ks.iter().position(|&x| x == k as u64).ok_or_else(missing)?;
            config_name = format!("{config_name}, instance {k}");
            let sweep = crate::sweep::Sweep::from_config(&config)?.ok_or_else(missing)?;
            let own = crate::sweep::instances::configs(&config, &sweep, k..k + 1)?.remove(0);
            if crate::sweep::stacked::is_stacked(&file) {
                let simulated: Vec<f64> = file.dataset("stacked/status/simulated_ms").and_then(|d| d.read_raw()).unwrap_or_default();
                let Some(&simulated_ms) = simulated.get(row).filter(|t| !t.is_nan()) else {
                    return Err(Error::Read(format!("--instance {k}: it did not run (the sweep was interrupted)")));
                };
                (View::Stacked { row, instance: k as u64, simulated_ms }, own)
            } else {
                if !file.link_exists(&format!("instances/{k}")) {
                    return Err(Error::Read(format!("--instance {k}: it did not run (the sweep was interrupted)")));
                }
                (View::At(format!("instances/{k}/")), own)
            }
        }
    };
    Ok(Output {
        file,
        view,
        config_name,
        config,
    })
}

/// A sweep's instances as an error lists them: the first and last, and how many.
fn shown_instances(ks: &[u64]) -> String {
    match (ks.first(), ks.last()) {
        (Some(a), Some(b)) => format!("it holds {} instances, {a} to {b}", ks.len()),
        _ => "it holds no instance".into(),
    }
}

impl Output {
    /// `path` in the single run's layout of this view.
    fn at(&self, path: &str) -> String {
        match &self.view {
            View::At(prefix) => format!("{prefix}{path}"),
            View::Stacked { .. } => format!("stacked/{path}"),
        }
    }

    fn h5<T>(&self, r: hdf5::Result<T>) -> Result<T> {
        r.map_err(|source| Error::Hdf5 {
            path: self.file.filename().into(),
            source,
        })
    }

    /// Times (ms) and samples [sample][column] of a recorded variable, with its node ids.
    pub fn trace(&self, population: &str, variable: &str) -> Result<Trace> {
        let at = self.at(&format!("report/{population}/{variable}"));
        let ds = self.file.dataset(&format!("{at}/data")).map_err(|_| {
            Error::Read(format!(
                "no recorded trace `{variable}` of population `{population}` in this file"
            ))
        })?;
        let time: Vec<f64> = self.h5(self
            .file
            .dataset(&format!("{at}/mapping/time"))
            .and_then(|d| d.read_raw()))?;
        let (width, data): (usize, Vec<f32>) = match self.view {
            View::At(_) => (ds.shape().get(1).copied().unwrap_or(0), self.h5(ds.read_raw())?),
            View::Stacked { row, simulated_ms, .. } => {
                // The samples the instance took before it stopped (its row is NaN after).
                let taken = ((simulated_ms - time[0]) / time[2] - 1e-9).ceil().max(0.0) as usize;
                let rows: ndarray::Array2<f32> = self.h5(ds.read_slice(ndarray::s![row, ..taken.min(ds.shape()[1]), ..]))?;
                (rows.ncols(), rows.into_iter().collect())
            }
        };
        let units = string_attr(&ds, "units").unwrap_or_else(|| "1".into());
        let ids: Vec<u64> = self.h5(self
            .file
            .dataset(&format!("{at}/mapping/node_ids"))
            .and_then(|d| d.read_raw()))?;
        let n = data.len().checked_div(width).unwrap_or(0);
        let times = (0..n).map(|k| time[0] + k as f64 * time[2]).collect();
        Ok(Trace {
            times,
            ids,
            data,
            width,
            units,
        })
    }

    /// A synaptic variable's final values (`/synapses/<projection>/<variable>`) and its unit.
    pub fn synapses(&self, projection: &str, variable: &str) -> Result<(Vec<f64>, String)> {
        let ds = self
            .file
            .dataset(&self.at(&format!("synapses/{projection}/{variable}")))
            .map_err(|_| {
                Error::Read(format!(
                    "no synaptic variable `{variable}` of projection `{projection}` in this file (synapses written as equations with variables have them)"
                ))
            })?;
        let values: Vec<f64> = self.h5(ds.read_raw())?;
        let units = string_attr(&ds, "units").unwrap_or_else(|| "1".into());
        Ok((values, units))
    }

    pub fn spikes(&self, population: &str) -> Result<(Vec<f64>, Vec<u64>)> {
        let g = self
            .file
            .group(&self.at(&format!("spikes/{population}")))
            .map_err(|_| {
                Error::Read(format!(
                    "no recorded spikes of population `{population}` in this file"
                ))
            })?;
        self.spike_table(&g)
    }

    /// A custom event's occurrences (`record.events`): times (ms) and neurons, as `spikes`.
    pub fn events(&self, population: &str, event: &str) -> Result<(Vec<f64>, Vec<u64>)> {
        let g = self
            .file
            .group(&self.at(&format!("events/{population}/{event}")))
            .map_err(|_| Error::Read(format!("no recorded event `{event}` of population `{population}` in this file")))?;
        self.spike_table(&g)
    }

    /// The times and neurons of a spike group or an event's (this view's rows).
    fn spike_table(&self, g: &hdf5::Group) -> Result<(Vec<f64>, Vec<u64>)> {
        let times: Vec<f64> = self.h5(g.dataset("timestamps").and_then(|d| d.read_raw()))?;
        let ids: Vec<u64> = self.h5(g.dataset("node_ids").and_then(|d| d.read_raw()))?;
        let View::Stacked { instance, .. } = self.view else { return Ok((times, ids)) };
        let of: Vec<u64> = self.h5(g.dataset("instance").and_then(|d| d.read_raw()))?;
        let mine = |i: &usize| of[*i] == instance;
        let rows: Vec<usize> = (0..of.len()).filter(mine).collect();
        Ok((rows.iter().map(|&i| times[i]).collect(), rows.iter().map(|&i| ids[i]).collect()))
    }

    /// The variables recorded with a population's spikes (`record.spike_variables`): each
    /// name and its value with each spike, in the order of `spikes`.
    pub fn spike_values(&self, population: &str) -> Result<Vec<(String, Vec<f32>)>> {
        let Ok(g) = self.file.group(&self.at(&format!("spikes/{population}"))) else { return Ok(Vec::new()) };
        self.values_beside(&g)
    }

    /// The variables recorded with a custom event (`record.event_variables`), as
    /// `spike_values`.
    pub fn event_values(&self, population: &str, event: &str) -> Result<Vec<(String, Vec<f32>)>> {
        let Ok(g) = self.file.group(&self.at(&format!("events/{population}/{event}"))) else { return Ok(Vec::new()) };
        self.values_beside(&g)
    }

    /// Each dataset of a spike group or an event's besides its own: its name and values (this
    /// view's rows).
    fn values_beside(&self, g: &hdf5::Group) -> Result<Vec<(String, Vec<f32>)>> {
        let names: Vec<String> = self.h5(g.member_names())?.into_iter().filter(|n| !super::hdf5::SPIKE_DATASETS.contains(&n.as_str())).collect();
        let mine: Option<Vec<bool>> = match self.view {
            View::Stacked { instance, .. } => {
                let of: Vec<u64> = self.h5(g.dataset("instance").and_then(|d| d.read_raw()))?;
                Some(of.iter().map(|&k| k == instance).collect())
            }
            View::At(_) => None,
        };
        let mut out = Vec::new();
        for name in names {
            let values: Vec<f32> = self.h5(g.dataset(&name).and_then(|d| d.read_raw()))?;
            let values = match &mine {
                Some(keep) => values.into_iter().zip(keep).filter(|(_, &k)| k).map(|(v, _)| v).collect(),
                None => values,
            };
            out.push((name, values));
        }
        Ok(out)
    }

    /// The populations whose rate is recorded (`/rates`).
    pub fn rate_populations(&self) -> Result<Vec<String>> {
        Ok(match self.file.group(&self.at("rates")) {
            Ok(g) => self.h5(g.member_names())?,
            Err(_) => Vec::new(),
        })
    }

    /// A population's rate in each step the run simulated (Hz).
    pub fn rate(&self, population: &str) -> Result<Vec<f64>> {
        let ds = self
            .file
            .dataset(&self.at(&format!("rates/{population}/rate")))
            .map_err(|_| Error::Read(format!("no recorded rate of population `{population}` in this file")))?;
        self.per_step(&ds)
    }

    /// A population's smoothed rate (`record.smooth_rate`) in each step the run simulated
    /// (Hz), and its window's name and width (ms); None where it is not recorded.
    pub fn smooth_rate(&self, population: &str) -> Result<Option<(Vec<f64>, String, f64)>> {
        let Ok(ds) = self.file.dataset(&self.at(&format!("rates/{population}/smooth_rate"))) else { return Ok(None) };
        let window = string_attr(&ds, "window").unwrap_or_default();
        let width_ms: f64 = self.h5(ds.attr("width_ms").and_then(|a| a.read_scalar()))?;
        Ok(Some((self.per_step(&ds)?, window, width_ms)))
    }

    /// A dataset of one value per step: whole, or the instance's row of the stacked one, up
    /// to its last step.
    fn per_step(&self, ds: &hdf5::Dataset) -> Result<Vec<f64>> {
        match self.view {
            View::At(_) => self.h5(ds.read_raw()),
            View::Stacked { row, simulated_ms, .. } => {
                // The steps the instance took before it stopped (its row is NaN after).
                let dt = self.config.simulation.dt_ms;
                let taken = ((simulated_ms / dt) - 1e-9).ceil().max(0.0) as usize;
                let values: ndarray::Array1<f64> = self.h5(ds.read_slice(ndarray::s![row, ..taken.min(ds.shape()[1])]))?;
                Ok(values.to_vec())
            }
        }
    }

    /// The (population or projection, variable) of every recorded trace.
    pub fn trace_names(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        if let Ok(report) = self.file.group(&self.at("report")) {
            for owner in self.h5(report.member_names())? {
                let g = self.h5(report.group(&owner))?;
                for var in self.h5(g.member_names())? {
                    out.push((owner.clone(), var));
                }
            }
        }
        Ok(out)
    }

    /// The (projection, variable) of every synaptic variable kept at the end of the run.
    pub fn synapse_names(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        if let Ok(group) = self.file.group(&self.at("synapses")) {
            for projection in self.h5(group.member_names())? {
                let g = self.h5(group.group(&projection))?;
                for var in self.h5(g.member_names())? {
                    if !matches!(var.as_str(), "pre" | "post" | "lastupdate_step") {
                        out.push((projection.clone(), var));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The time simulated (ms), and how the run ended: whether it completed, and why not.
    pub fn outcome(&self) -> (f64, bool, Option<String>) {
        let root = match &self.view {
            View::Stacked { row, simulated_ms, .. } => {
                let reasons: Vec<hdf5::types::VarLenUnicode> =
                    self.file.dataset("stacked/status/stop_reason").and_then(|d| d.read_raw()).unwrap_or_default();
                let reason = reasons.get(*row).map(|r| r.as_str().to_string());
                let complete = reason.as_deref() == Some("complete");
                return (*simulated_ms, complete, reason);
            }
            View::At(prefix) => self.file.group(if prefix.is_empty() { "/" } else { prefix.trim_end_matches('/') }),
        };
        let Ok(root) = root else { return (self.config.simulation.duration_ms, false, None) };
        let simulated = root.attr("simulated_ms").and_then(|a| a.read_scalar::<f64>()).unwrap_or(self.config.simulation.duration_ms);
        let complete = root.attr("complete").and_then(|a| a.read_scalar::<bool>()).unwrap_or(false);
        let reason = string_attr(&root, "stop_reason");
        (simulated, complete, reason)
    }

    pub fn spiking_populations(&self) -> Result<Vec<String>> {
        Ok(match self.file.group(&self.at("spikes")) {
            Ok(g) => self.h5(g.member_names())?,
            Err(_) => Vec::new(),
        })
    }

    /// The recorded custom events, as (population, event).
    pub fn event_names(&self) -> Result<Vec<(String, String)>> {
        let Ok(g) = self.file.group(&self.at("events")) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for population in self.h5(g.member_names())? {
            for event in self.h5(g.group(&population).and_then(|p| p.member_names()))? {
                out.push((population.clone(), event));
            }
        }
        Ok(out)
    }
}

