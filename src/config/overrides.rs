//! `--set key.path=value`: an override applied to the TOML document before it is read, so that
//! it is held to the same checks as the file.

use crate::error::{Error, Result};

/// Applies one `key.path=value` to `root`. The value is a TOML literal where it parses as one
/// (numbers, booleans, arrays, inline tables), else a string.
pub fn apply(root: &mut toml::Table, assignment: &str) -> Result<()> {
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
    // A swept key is itself dotted: `sweep.populations.hh.params.i_ext=[5, 7]` sets the key
    // "populations.hh.params.i_ext" of [sweep].
    if parts[0] == "sweep" && parts.len() > 1 {
        let sweep = root
            .entry("sweep")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| Error::config("sweep", "is not a table"))?;
        sweep.insert(parts[1..].join("."), value);
        return Ok(());
    }
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

