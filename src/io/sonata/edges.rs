//! SONATA edges: `/edges/<population>/source_node_id` and `target_node_id`, and the numeric
//! attributes of each edge's group (`/edges/<population>/<edge_group_id>/<name>`, its row
//! there given by `edge_group_index`), with those the edges inherit from their edge types
//! file by `edge_type_id` (where one is given) where their group stores none.

use super::types_csv::TypesTable;
use hdf5::types::TypeDescriptor;
use std::collections::HashMap;
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
        let row_of = type_rows(table, &self.population)?;
        let (id_column, population_column) = (table.column("edge_type_id"), table.column("population"));
        let rows = type_ids
            .iter()
            .enumerate()
            .map(|(e, id)| row_of.get(id).copied().ok_or_else(|| format!("edge {e} has edge_type_id {id}, which this file does not define")))
            .collect::<Result<Vec<usize>, String>>()?;
        for (c, column) in table.columns.iter().enumerate() {
            if Some(c) == id_column || Some(c) == population_column {
                continue;
            }
            let numbers = table
                .rows
                .iter()
                .map(|row| row[c].as_deref().map_or(Some(None), |v| v.parse::<f64>().ok().map(Some)))
                .collect::<Option<Vec<Option<f64>>>>();
            let Some(numbers) = numbers.filter(|v| v.iter().any(Option::is_some)) else { continue };
            let n = self.len();
            // An edge's own value (NaN: none) overrides its type's; NULL gives none.
            for (value, &r) in column_of(&mut self.attributes, column, n).iter_mut().zip(&rows) {
                if value.is_nan() {
                    *value = numbers[r].unwrap_or(f64::NAN);
                }
            }
        }
        Ok(())
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
    // Each edge's group (0 where the file names none) and, through edge_group_index, its row
    // there; without an index, group 0's rows are the edges.
    let group_of = group_id.unwrap_or_else(|| vec![0; n]);
    let mut groups = group_of.clone();
    groups.sort_unstable();
    groups.dedup();
    if groups.len() > 1 && group_index.is_none() {
        return Err(format!("{} is missing: edges in several groups are found in them by it", at("edge_group_index")));
    }
    let mut attributes: Vec<(String, Vec<f64>)> = Vec::new();
    for &id in &groups {
        let group_name = id.to_string();
        if !g.link_exists(&group_name) {
            continue;
        }
        let group = g.group(&group_name).map_err(|e| format!("{}: {e}", at(&group_name)))?;
        for attr in group.member_names().map_err(|e| e.to_string())? {
            let here = at(&format!("{group_name}/{attr}"));
            // Subgroups (dynamics_params) and strings are not per-edge numbers.
            let Ok(ds) = group.dataset(&attr) else { continue };
            let Some(values) = read_numbers(&ds).map_err(|e| format!("{here}: {e}"))? else { continue };
            if group_index.is_none() && values.len() != n {
                return Err(format!("{here} has {} rows for {n} edges", values.len()));
            }
            let column = column_of(&mut attributes, &attr, n);
            for e in (0..n).filter(|&e| group_of[e] == id) {
                let row = group_index.as_ref().map_or(e as u64, |index| index[e]);
                column[e] = *values
                    .get(row as usize)
                    .ok_or_else(|| format!("edge {e}: edge_group_index {row} is past the {} rows of {here}", values.len()))?;
            }
        }
    }
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

/// The row of each edge type of `population` in the edge types `table`: rows naming another
/// population (where the table has a `population` column) are not its types.
pub fn type_rows(table: &TypesTable, population: &str) -> Result<HashMap<u64, usize>, String> {
    let id_column = table.column("edge_type_id").ok_or("has no edge_type_id column")?;
    let population_column = table.column("population");
    let mut row_of = HashMap::new();
    for (r, row) in table.rows.iter().enumerate() {
        if population_column.and_then(|c| row[c].as_deref()).is_some_and(|p| p != population) {
            continue;
        }
        let id = row[id_column].as_deref().unwrap_or("NULL");
        let Ok(id) = id.parse::<u64>() else {
            return Err(format!("edge_type_id `{id}` in row {} is not a type id (a whole number)", r + 1));
        };
        if row_of.insert(id, r).is_some() {
            return Err(format!("edge type {id} is defined twice"));
        }
    }
    Ok(row_of)
}

/// Attribute `name`'s values among `attributes`, a new column of NaN (no value) for `n` edges
/// where it is not there yet.
fn column_of<'a>(attributes: &'a mut Vec<(String, Vec<f64>)>, name: &str, n: usize) -> &'a mut Vec<f64> {
    let k = match attributes.iter().position(|(a, _)| a == name) {
        Some(k) => k,
        None => {
            attributes.push((name.to_string(), vec![f64::NAN; n]));
            attributes.len() - 1
        }
    };
    &mut attributes[k].1
}

/// The entries of `v` whose `keep` is true, in their order.
fn kept<T>(v: Vec<T>, keep: &[bool]) -> Vec<T> {
    v.into_iter().zip(keep).filter(|(_, &k)| k).map(|(x, _)| x).collect()
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
