//! SONATA nodes: a population's size, the length of `/nodes/<population>/node_type_id`.

use std::path::Path;

/// The number of nodes of `population` (or of the file's only population).
pub fn count(path: &Path, population: Option<&str>) -> Result<u64, String> {
    let file = crate::io::hdf5::open_hdf5(path)?;
    let nodes = file.group("nodes").map_err(|_| "no /nodes group: not a SONATA nodes file".to_string())?;
    let names = nodes.member_names().map_err(|e| e.to_string())?;
    let name = super::pick_population(&names, population, "node")?;
    let ds = nodes
        .dataset(&format!("{name}/node_type_id"))
        .map_err(|_| format!("/nodes/{name}/node_type_id is missing"))?;
    Ok(ds.size() as u64)
}
