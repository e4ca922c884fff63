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
    let parts = key_path(key)?;
    // A TOML literal if it parses as one (numbers, booleans, arrays, inline tables), else a
    // string; but an array or a table that TOML cannot read is an error, not a string.
    let raw = raw.trim();
    let value = match format!("x = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t.remove("x").unwrap_or_else(|| toml::Value::String(raw.to_string())),
        Err(e) if raw.starts_with('[') || raw.starts_with('{') => {
            return Err(Error::config(key, format!("`{raw}` is not a TOML value: {}", e.message())));
        }
        Err(_) => toml::Value::String(raw.to_string()),
    };
    // A swept key is itself dotted: `sweep.populations.hh.params.i_ext=[5, 7]` sets the key
    // "populations.hh.params.i_ext" of [sweep], and so does the file's spelling,
    // `sweep."populations.hh.params.i_ext"`.
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

/// The components of a dotted key as TOML reads one, so that a quoted component
/// (`sweep."simulation.seed"`) is one component, as it is in the file.
fn key_path(key: &str) -> Result<Vec<String>> {
    let unreadable = || Error::config(key, "is not a key path (write it as in the file: a.b.c, quoting a component that holds a dot)");
    if key.is_empty() || key.split('.').any(|p| p.trim().is_empty()) {
        return Err(Error::config(key, "empty component in the key path"));
    }
    let mut table = format!("{key} = 0")
        .parse::<toml::Table>()
        .map_err(|_| unreadable())?;
    let mut parts = Vec::new();
    loop {
        let (name, value) = table.into_iter().next().ok_or_else(unreadable)?;
        parts.push(name);
        match value {
            toml::Value::Table(inner) => table = inner,
            _ => return Ok(parts),
        }
    }
}


#[cfg(test)]
mod tests {
    use super::apply;

    fn applied(assignments: &[&str]) -> crate::error::Result<toml::Table> {
        let mut root = toml::Table::new();
        for a in assignments {
            apply(&mut root, a)?;
        }
        Ok(root)
    }

    #[test]
    fn a_swept_key_is_the_same_dotted_or_quoted() {
        let dotted = applied(&["sweep.populations.hh.params.i_ext=[5, 7]"]).unwrap();
        let quoted = applied(&["sweep.\"populations.hh.params.i_ext\"=[5, 7]"]).unwrap();
        assert_eq!(dotted, quoted);
        let sweep = dotted["sweep"].as_table().unwrap();
        assert_eq!(sweep.keys().collect::<Vec<_>>(), ["populations.hh.params.i_ext"]);
    }

    #[test]
    fn a_key_path_nests_tables_and_refuses_empty_or_broken_components() {
        let root = applied(&["populations.hh.params.i_ext=7", "simulation.backend=gpu"]).unwrap();
        assert_eq!(root["populations"]["hh"]["params"]["i_ext"].as_integer(), Some(7));
        assert_eq!(root["simulation"]["backend"].as_str(), Some("gpu"));
        for bad in ["a..b=1", ".a=1", "=1", "a.\"b=1", "a b.c=1"] {
            let e = applied(&[bad]).unwrap_err().to_string();
            assert!(e.contains("key path"), "{bad}: {e}");
        }
        // An array TOML cannot read (an integer past 2^63 − 1) is said so, not taken as a string.
        let e = applied(&["sweep.simulation.seed=[18446744073709551615, 0]"]).unwrap_err().to_string();
        assert!(e.contains("sweep.simulation.seed") && e.contains("not a TOML value"), "{e}");
        assert_eq!(applied(&["simulation.backend=gpu"]).unwrap()["simulation"]["backend"].as_str(), Some("gpu"));
        let e = applied(&["simulation.seed=1", "simulation.seed.x=2"]).unwrap_err().to_string();
        assert!(e.contains("simulation.seed") && e.contains("is not a table"), "{e}");
    }
}
