//! Each instance's config: the config without its `[sweep]`, with its point's assignments
//! applied as `--set`s are, and validated as a config of its own.

use super::spec::{key_path, Sweep};
use crate::config::{self, Config};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::ops::Range;

/// The document every instance starts from: the config as resolved, without `[sweep]`.
pub fn base_table(config: &Config) -> Result<toml::Table> {
    let mut base: toml::Table = config
        .to_toml()
        .parse()
        .map_err(|e: toml::de::Error| Error::config("<config>", e.to_string()))?;
    base.remove("sweep");
    Ok(base)
}

/// The configs of instances `range`. A key the config does not take is named by its sweep
/// key (each key is first tried alone with its first value); a point whose values are
/// refused together is named by its instance and values.
pub fn configs(config: &Config, sweep: &Sweep, range: Range<usize>) -> Result<Vec<Config>> {
    let base = base_table(config)?;
    for (key, list) in sweep.keys.iter().zip(&sweep.lists) {
        config::from_table(base.clone(), &[format!("{key}={}", list[0])])
            .map_err(|e| Error::config(key_path(key), format!("{} = {}: {e}", key, list[0])))?;
    }
    range
        .into_par_iter()
        .map(|k| {
            let assignments = sweep.assignments(k);
            config::from_table(base.clone(), &assignments)
                .map_err(|e| Error::config("sweep", format!("instance {k} ({}): {e}", assignments.join(", "))))
        })
        .collect()
}
