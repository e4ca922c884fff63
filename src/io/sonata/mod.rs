//! SONATA interchange (the spec: AllenInstitute/sonata, docs/SONATA_DEVELOPER_GUIDE.md).
//!
//! - `spikes`: the spike group's types, shared by every ganglion output file, and reading
//!   any SONATA spikes file (spike sources).
//! - `output_dir`: a SONATA simulation output directory (spikes, one report file per
//!   variable, `simulation_config.json`) written from a ganglion file.
//! - `edges`, `nodes`: networks read from SONATA files (connectivity; population sizes and
//!   initial values); `groups`: the attributes both store by group and inherit from their
//!   types files (`types_csv`).

pub mod edges;
pub mod groups;
pub mod nodes;
pub mod output_dir;
pub mod spikes;
pub mod types_csv;

pub use edges::Edges;

/// A string attribute, however the writer stored it (variable or fixed length, ASCII or
/// UTF-8: h5py, BMTK and libsonata differ).
pub(crate) fn string_attr(loc: &hdf5::Location, name: &str) -> Option<String> {
    use hdf5::types::{FixedAscii, FixedUnicode, VarLenAscii, VarLenUnicode};
    let attr = loc.attr(name).ok()?;
    attr.read_scalar::<VarLenUnicode>()
        .map(|s| s.to_string())
        .or_else(|_| attr.read_scalar::<VarLenAscii>().map(|s| s.to_string()))
        .or_else(|_| attr.read_scalar::<FixedAscii<64>>().map(|s| s.to_string()))
        .or_else(|_| attr.read_scalar::<FixedUnicode<64>>().map(|s| s.to_string()))
        .ok()
}

/// The population to read from a group of populations: the one named, or the only one.
pub(crate) fn pick_population(names: &[String], wanted: Option<&str>, what: &str) -> Result<String, String> {
    match wanted {
        Some(p) if names.iter().any(|n| n == p) => Ok(p.to_string()),
        Some(p) => Err(format!("no {what} population `{p}`; it has {}", list(names))),
        None if names.len() == 1 => Ok(names[0].clone()),
        None if names.is_empty() => Err(format!("no {what} population")),
        None => Err(format!("holds several {what} populations ({}): name one with `population`", list(names))),
    }
}

/// Node ids, whatever integer type the writer chose (BMTK and h5py users write signed ones).
pub(crate) fn read_ids(ds: &hdf5::Dataset) -> Result<Vec<u64>, String> {
    match ds.dtype().and_then(|t| t.to_descriptor()).map_err(|e| e.to_string())? {
        hdf5::types::TypeDescriptor::Unsigned(_) => ds.read_raw::<u64>().map_err(|e| e.to_string()),
        hdf5::types::TypeDescriptor::Integer(_) => {
            let v = ds.read_raw::<i64>().map_err(|e| e.to_string())?;
            match v.iter().position(|&x| x < 0) {
                Some(k) => Err(format!("entry {k} is negative ({})", v[k])),
                None => Ok(v.into_iter().map(|x| x as u64).collect()),
            }
        }
        other => Err(format!("holds {other:?}, not integer node ids")),
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "none".into() } else { names.join(", ") }
}
