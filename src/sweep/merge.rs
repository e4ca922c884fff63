//! `ganglion merge`: the files of a sweep's slices joined into the file the whole sweep would
//! have written. The parts must come from the same config (with its `[sweep]`), be complete,
//! and hold every instance once.

use super::spec::Sweep;
use crate::error::{Error, Result};
use crate::io::hdf5::str_attr;
use crate::io::output::OutputTarget;
use std::path::{Path, PathBuf};

/// Joins `parts` into `out`; returns the instances written.
pub fn merge(parts: &[PathBuf], out: &Path, force: bool) -> Result<usize> {
    if parts.is_empty() {
        return Err(Error::config("merge", "name the files of the slices to join"));
    }
    let h5 = |path: &Path| {
        let path = path.to_owned();
        move |source: hdf5::Error| Error::Hdf5 { path: path.clone(), source }
    };
    let bad = |path: &Path, m: String| Error::io(path, m);
    let mut files = Vec::new();
    let mut config_text: Option<String> = None;
    let mut owner: Vec<Option<usize>> = Vec::new();
    // Each part's instances, where they are stacked (its `/sweep/instance` rows).
    let mut stacked_ids: Vec<Vec<u64>> = Vec::new();
    let mut wall = 0.0;
    for (p, path) in parts.iter().enumerate() {
        let file = crate::io::hdf5::open_for_reading(path)?;
        let text = crate::io::sonata::string_attr(&file, "config").ok_or_else(|| bad(path, "not a ganglion output file".into()))?;
        let total: u64 = file
            .attr("instances_total")
            .and_then(|a| a.read_scalar())
            .map_err(|_| bad(path, "not the file of a sweep (no instances_total)".into()))?;
        match &config_text {
            None => {
                config_text = Some(text);
                owner = vec![None; total as usize];
            }
            Some(first) if *first != text => {
                return Err(bad(path, format!("comes from another config than {}", parts[0].display())))
            }
            Some(_) => {}
        }
        let complete: bool = file.attr("complete").and_then(|a| a.read_scalar()).map_err(h5(path))?;
        if !complete {
            let reason = crate::io::sonata::string_attr(&file, "stop_reason").unwrap_or_default();
            return Err(bad(path, format!("is not complete ({reason}): run its slice again")));
        }
        wall += file.attr("wall_time_s").and_then(|a| a.read_scalar::<f64>()).unwrap_or(0.0);
        let ids: Vec<usize> = if super::stacked::is_stacked(&file) {
            let ids = super::stacked::instances_of(&file, path)?;
            let found = ids.iter().map(|&k| k as usize).collect();
            stacked_ids.push(ids);
            found
        } else {
            let names = file.group("instances").and_then(|g| g.member_names()).unwrap_or_default();
            names
                .iter()
                .map(|name| name.parse().map_err(|_| bad(path, format!("/instances/{name} is not an instance number"))))
                .collect::<Result<_>>()?
        };
        for k in ids {
            match owner.get(k) {
                None => return Err(bad(path, format!("instance {k} is beyond the sweep's {}", owner.len()))),
                Some(Some(q)) => {
                    return Err(bad(path, format!("instance {k} is also in {}: give each slice once", parts[*q].display())))
                }
                Some(None) => owner[k] = Some(p),
            }
        }
        files.push(file);
    }
    let missing: Vec<usize> = owner.iter().enumerate().filter(|(_, o)| o.is_none()).map(|(k, _)| k).collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(8).map(|k| k.to_string()).collect();
        return Err(Error::config(
            "merge",
            format!("{} of {} instances are in none of the files (instances {}{}): merge every slice", missing.len(), owner.len(), shown.join(", "), if missing.len() > 8 { ", …" } else { "" }),
        ));
    }
    let config = crate::config::parse(config_text.as_deref().expect("one part at least"), &[])?;
    let sweep = Sweep::from_config(&config)?.ok_or_else(|| Error::config("merge", "the parts' config has no [sweep]"))?;

    let target = OutputTarget::claim(out, force)?;
    let written = (|| -> hdf5::Result<()> {
        let file = hdf5::File::create(target.partial())?;
        let first = &files[0];
        for name in ["ganglion_version", "config", "config_name", "backend"] {
            str_attr(&file, name, &crate::io::sonata::string_attr(first, name).unwrap_or_default())?;
        }
        str_attr(&file, "slice", "1/1")?;
        let total = owner.len() as u64;
        file.new_attr::<u64>().create("instances_total")?.write_scalar(&total)?;
        file.new_attr::<u64>().create("instances_done")?.write_scalar(&total)?;
        file.new_attr::<f64>().create("dt_ms")?.write_scalar(&config.simulation.dt_ms)?;
        file.new_attr::<f64>().create("wall_time_s")?.write_scalar(&wall)?;
        file.new_attr::<bool>().create("complete")?.write_scalar(&true)?;
        str_attr(&file, "stop_reason", "complete")?;
        super::run::write_table(&file, &sweep, 0..owner.len())?;
        if stacked_ids.len() == files.len() {
            let parts: Vec<(hdf5::File, Vec<u64>)> = files.iter().cloned().zip(stacked_ids.iter().cloned()).collect();
            super::stacked::merge(&parts, &file, owner.len())?;
            return file.flush();
        }
        let instances = file.create_group("instances")?;
        for (k, p) in owner.iter().enumerate() {
            let from = files[p.expect("checked")].group(&format!("instances/{k}"))?;
            from.copy_to(&instances, &k.to_string())?;
        }
        file.flush()
    })();
    match written {
        Ok(()) => {
            target.commit()?;
            Ok(owner.len())
        }
        Err(source) => {
            let path = target.target().to_owned();
            target.abandon(false);
            Err(Error::Hdf5 { path, source })
        }
    }
}
