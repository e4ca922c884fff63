//! The TOML configuration: the schema (`schema`), `--set` overrides (`overrides`) and the
//! checks that resolve a config into what the rest of ganglion reads (`validation`, with
//! networks given as SONATA files in `sonata`). Knows
//! nothing about numerics; `network` turns a validated `Config` into arrays.

mod links;
mod overrides;
mod schema;
mod sonata;
mod validation;

pub use links::{Link, LinkIndex};
pub use schema::*;
pub use validation::{is_identifier, positive, whole_steps, Ends, Resolved, ResolvedTrace};

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use std::path::Path;

/// Reads a config file and applies `key.path=value` overrides before anything is checked,
/// so that an override is held to the same rules as the file.
pub fn load(path: &Path, overrides: &[String]) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadConfig {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, overrides)
}

/// Parses, overrides and validates a config text.
pub fn parse(text: &str, overrides: &[String]) -> Result<Config> {
    let value: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Error::config("<file>", e.to_string().trim_end().to_string())
    })?;
    from_table(value, overrides)
}

/// As `parse`, from a TOML document already read.
pub fn from_table(mut value: toml::Table, overrides: &[String]) -> Result<Config> {
    for o in overrides {
        overrides::apply(&mut value, o)?;
    }
    sonata::resolve_node_sizes(&mut value)?;
    validation::reject_non_finite("", &toml::Value::Table(value.clone()))?;
    let mut config: Config = deserialize_at("", toml::Value::Table(value))?;
    if let Some(sweep) = &config.sweep {
        crate::sweep::Sweep::from_table(sweep)?;
    }
    config.resolved = config.validate()?;
    Ok(config)
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

#[cfg(test)]
mod tests;
