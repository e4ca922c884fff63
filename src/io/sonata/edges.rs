//! SONATA edges: `/edges/<population>/source_node_id` and `target_node_id`, and the numeric
//! attributes of edge group 0 (`/edges/<population>/0/<name>`, one row per edge of the
//! group, found through `edge_group_index`).

use hdf5::types::TypeDescriptor;
use std::path::Path;

/// One edge population, in the file's edge order.
#[derive(Debug, Clone, PartialEq)]
pub struct Edges {
    pub population: String,
    pub source: Vec<u64>,
    pub target: Vec<u64>,
    /// Group 0's numeric attributes, one value per edge, by name (`syn_weight`, `delay`, …).
    pub attributes: Vec<(String, Vec<f64>)>,
}

impl Edges {
    pub fn len(&self) -> usize {
        self.source.len()
    }

    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    pub fn attribute(&self, name: &str) -> Option<&[f64]> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

/// The edge population `population` (or the file's only one). Errors are messages about
/// the file's contents.
pub fn read(path: &Path, population: Option<&str>) -> Result<Edges, String> {
    let file = hdf5::File::open(path).map_err(|e| e.to_string())?;
    let edges = file.group("edges").map_err(|_| "no /edges group: not a SONATA edges file".to_string())?;
    let names = edges.member_names().map_err(|e| e.to_string())?;
    let name = super::pick_population(&names, population, "edge")?;
    let g = edges.group(&name).map_err(|e| format!("/edges/{name}: {e}"))?;
    let at = |set: &str| format!("/edges/{name}/{set}");
    let ids = |set: &str| -> Result<Vec<u64>, String> {
        let ds = g.dataset(set).map_err(|_| format!("{} is missing", at(set)))?;
        super::read_ids(&ds).map_err(|e| format!("{}: {e}", at(set)))
    };
    let source = ids("source_node_id")?;
    let target = ids("target_node_id")?;
    if source.len() != target.len() {
        return Err(format!("{} source_node_ids but {} target_node_ids", source.len(), target.len()));
    }
    let n = source.len();
    let optional = |set: &str| -> Result<Option<Vec<u64>>, String> {
        if g.link_exists(set) { ids(set).map(Some) } else { Ok(None) }
    };
    let group_id = optional("edge_group_id")?;
    let group_index = optional("edge_group_index")?;
    for (set, v) in [("edge_group_id", &group_id), ("edge_group_index", &group_index)] {
        if let Some(v) = v.as_ref().filter(|v| v.len() != n) {
            return Err(format!("{} has {} entries for {n} edges", at(set), v.len()));
        }
    }
    if let Some(k) = group_id.as_ref().and_then(|ids| ids.iter().position(|&g| g != 0)) {
        return Err(format!(
            "edge {k} is in group {}: ganglion reads group 0 only (one set of attributes for every edge)",
            group_id.as_ref().expect("found")[k]
        ));
    }
    let mut attributes = Vec::new();
    if g.link_exists("0") {
        let group0 = g.group("0").map_err(|e| format!("{}: {e}", at("0")))?;
        for attr in group0.member_names().map_err(|e| e.to_string())? {
            // Subgroups (dynamics_params) and strings are not per-edge numbers.
            let Ok(ds) = group0.dataset(&attr) else { continue };
            let Some(values) = read_numbers(&ds).map_err(|e| format!("{}: {e}", at(&format!("0/{attr}"))))? else {
                continue;
            };
            let per_edge = match &group_index {
                Some(index) => index
                    .iter()
                    .enumerate()
                    .map(|(e, &row)| {
                        values.get(row as usize).copied().ok_or_else(|| {
                            format!("edge {e}: edge_group_index {row} is past the {} rows of {}", values.len(), at(&format!("0/{attr}")))
                        })
                    })
                    .collect::<Result<Vec<f64>, String>>()?,
                None if values.len() == n => values,
                None => return Err(format!("{} has {} rows for {n} edges", at(&format!("0/{attr}")), values.len())),
            };
            attributes.push((attr, per_edge));
        }
    }
    Ok(Edges { population: name, source, target, attributes })
}

/// A numeric dataset's values as f64; None for anything else (strings).
fn read_numbers(ds: &hdf5::Dataset) -> Result<Option<Vec<f64>>, String> {
    let e = |e: hdf5::Error| e.to_string();
    Ok(match ds.dtype().and_then(|t| t.to_descriptor()).map_err(e)? {
        TypeDescriptor::Float(_) => Some(ds.read_raw::<f64>().map_err(e)?),
        TypeDescriptor::Integer(_) => Some(ds.read_raw::<i64>().map_err(e)?.into_iter().map(|x| x as f64).collect()),
        TypeDescriptor::Unsigned(_) => Some(ds.read_raw::<u64>().map_err(e)?.into_iter().map(|x| x as f64).collect()),
        _ => None,
    })
}
