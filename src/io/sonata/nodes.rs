//! SONATA nodes: a population's size, the length of `/nodes/<population>/node_type_id`, and
//! the numeric attributes of each node's group (`/nodes/<population>/<node_group_id>/<name>`:
//! positions, tuning angles, …), with those the nodes inherit from their node types file by
//! `node_type_id` (where one is given) where their group stores none.

use std::path::Path;

/// One node population, in the file's node order.
#[derive(Debug, Clone, PartialEq)]
pub struct Nodes {
    pub population: String,
    pub len: usize,
    pub type_ids: Vec<u64>,
    /// The numeric attributes by name, one value per node; NaN where a node has none.
    pub attributes: Vec<(String, Vec<f64>)>,
}

impl Nodes {
    /// Gives each node its type's value of each numeric column of the node types `table`
    /// where its group stores none (`groups::inherit_types`).
    pub fn inherit(&mut self, table: &super::types_csv::TypesTable) -> Result<(), String> {
        super::groups::inherit_types(&mut self.attributes, table, &self.type_ids, "node", &self.population)
    }
}

/// The number of nodes of `population` (or of the file's only population).
pub fn count(path: &Path, population: Option<&str>) -> Result<u64, String> {
    let file = crate::io::hdf5::open_hdf5(path)?;
    let (name, g) = population_group(&file, population)?;
    let ds = g.dataset("node_type_id").map_err(|_| format!("/nodes/{name}/node_type_id is missing"))?;
    Ok(ds.size() as u64)
}

/// The node population `population` (or the file's only one) with its groups' attributes.
/// Errors are messages about the file's contents.
pub fn read(path: &Path, population: Option<&str>) -> Result<Nodes, String> {
    let file = crate::io::hdf5::open_hdf5(path)?;
    let (name, g) = population_group(&file, population)?;
    let at = |set: &str| format!("/nodes/{name}/{set}");
    let ds = g.dataset("node_type_id").map_err(|_| format!("{} is missing", at("node_type_id")))?;
    let type_ids = super::read_ids(&ds).map_err(|e| format!("{}: {e}", at("node_type_id")))?;
    let attributes = super::groups::group_attributes(&g, &at, "node", type_ids.len())?;
    Ok(Nodes { population: name, len: type_ids.len(), type_ids, attributes })
}

/// `/nodes/<population>`, the one named or the file's only one.
fn population_group(file: &hdf5::File, population: Option<&str>) -> Result<(String, hdf5::Group), String> {
    let nodes = file.group("nodes").map_err(|_| "no /nodes group: not a SONATA nodes file".to_string())?;
    let names = nodes.member_names().map_err(|e| e.to_string())?;
    let name = super::pick_population(&names, population, "node")?;
    let g = nodes.group(&name).map_err(|e| format!("/nodes/{name}: {e}"))?;
    Ok((name, g))
}
