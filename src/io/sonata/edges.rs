//! SONATA edges: `/edges/<population>/source_node_id` and `target_node_id`, and the numeric
//! attributes of each edge's group (`/edges/<population>/<edge_group_id>/<name>`, its row
//! there given by `edge_group_index`), with those the edges inherit from their edge types
//! file by `edge_type_id` (where one is given) where their group stores none.

use super::types_csv::TypesTable;
use std::path::Path;

/// One edge population, in the file's edge order.
#[derive(Debug, Clone, PartialEq)]
pub struct Edges {
    pub population: String,
    pub source: Vec<u64>,
    pub target: Vec<u64>,
    /// The numeric attributes of the edges' groups and those inherited from the edge types,
    /// one value per edge, by name (`syn_weight`, `delay`, …); NaN where an edge has none
    /// (its group stores no such column, nor its type): see [`Edges::first_without`].
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

    /// The attributes' names, listed for a message ("none" where there are none).
    pub fn attribute_names(&self) -> String {
        let names: Vec<&str> = self.attributes.iter().map(|(n, _)| n.as_str()).collect();
        if names.is_empty() { "none".to_string() } else { names.join(", ") }
    }

    /// The first edge without a value of attribute `name`, which some edges have: one whose
    /// group stores none and whose type gives none.
    pub fn first_without(&self, name: &str) -> Option<usize> {
        self.attribute(name)?.iter().position(|v| v.is_nan())
    }

    /// Only the edges whose type (`type_ids[e]`) is among `wanted`, in their order. Errors
    /// name a wanted type no edge has.
    pub fn of_types(self, type_ids: &[u64], wanted: &[u64]) -> Result<Edges, String> {
        self.check_type_ids(type_ids)?;
        if wanted.is_empty() {
            return Err("is empty: name the edge types to take".into());
        }
        if let Some(t) = wanted.iter().find(|t| !type_ids.contains(t)) {
            return Err(format!("no edge of `{}` has edge_type_id {t}", self.population));
        }
        let keep: Vec<bool> = type_ids.iter().map(|t| wanted.contains(t)).collect();
        Ok(Edges {
            population: self.population,
            source: kept(self.source, &keep),
            target: kept(self.target, &keep),
            attributes: self.attributes.into_iter().map(|(n, v)| (n, kept(v, &keep))).collect(),
        })
    }

    /// Gives each edge (of type `type_ids[e]`) its type's value of each numeric column of the
    /// edge types `table` where its group stores none: in SONATA an edge inherits its type's
    /// attributes and its own override them. Rows naming another population (where the
    /// table has a `population` column) are not this one's types. Text columns (queries,
    /// templates, JSON file names) are not numbers an edge can take, and are left out.
    pub fn inherit(&mut self, table: &TypesTable, type_ids: &[u64]) -> Result<(), String> {
        self.check_type_ids(type_ids)?;
        super::groups::inherit_types(&mut self.attributes, table, type_ids, "edge", &self.population)
    }

    fn check_type_ids(&self, type_ids: &[u64]) -> Result<(), String> {
        match type_ids.len() {
            n if n == self.len() => Ok(()),
            n => Err(format!("/edges/{}/edge_type_id has {n} entries for {} edges", self.population, self.len())),
        }
    }
}

/// The edge population `population` (or the file's only one). Errors are messages about
/// the file's contents.
pub fn read(path: &Path, population: Option<&str>) -> Result<Edges, String> {
    let file = crate::io::hdf5::open_hdf5(path)?;
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
    let attributes = super::groups::group_attributes(&g, &at, "edge", source.len())?;
    Ok(Edges { population: name, source, target, attributes })
}

/// The `edge_type_id` of each of `edges` (read from `path`): read only where edge types are
/// given or chosen, as the edges need it for nothing else.
pub fn type_ids(path: &Path, edges: &Edges) -> Result<Vec<u64>, String> {
    let file = crate::io::hdf5::open_hdf5(path)?;
    let at = format!("/edges/{}/edge_type_id", edges.population);
    let ds = file.dataset(&at).map_err(|_| format!("{at} is missing: the edges' types are found by it"))?;
    let ids = super::read_ids(&ds).map_err(|e| format!("{at}: {e}"))?;
    edges.check_type_ids(&ids)?;
    Ok(ids)
}

/// The entries of `v` whose `keep` is true, in their order.
fn kept<T>(v: Vec<T>, keep: &[bool]) -> Vec<T> {
    v.into_iter().zip(keep).filter(|(_, &k)| k).map(|(x, _)| x).collect()
}
