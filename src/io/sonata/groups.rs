//! What nodes and edges share in SONATA: their numeric attributes stored by group
//! (`/<nodes|edges>/<population>/<group_id>/<name>`, an element's row there given by
//! `<kind>_group_index`), and those they inherit from their types file by `<kind>_type_id`
//! where their group stores none.

use super::types_csv::TypesTable;
use hdf5::types::TypeDescriptor;
use std::collections::HashMap;

/// The attributes of the `n` elements (`kind`: "node" or "edge") of population group `g`, one
/// column per name, NaN where an element's group stores no such column. `at` names a member
/// of the population for messages.
pub fn group_attributes(g: &hdf5::Group, at: &dyn Fn(&str) -> String, kind: &str, n: usize) -> Result<Vec<(String, Vec<f64>)>, String> {
    let (id_set, index_set) = (format!("{kind}_group_id"), format!("{kind}_group_index"));
    let optional = |set: &str| -> Result<Option<Vec<u64>>, String> {
        if !g.link_exists(set) {
            return Ok(None);
        }
        let ds = g.dataset(set).map_err(|e| format!("{}: {e}", at(set)))?;
        let v = super::read_ids(&ds).map_err(|e| format!("{}: {e}", at(set)))?;
        match v.len() {
            len if len == n => Ok(Some(v)),
            len => Err(format!("{} has {len} entries for {n} {kind}s", at(set))),
        }
    };
    let group_id = optional(&id_set)?;
    let group_index = optional(&index_set)?;
    // Each element's group (0 where the file names none) and, through the group index, its
    // row there; without an index, group 0's rows are the elements.
    let group_of = group_id.unwrap_or_else(|| vec![0; n]);
    let mut groups = group_of.clone();
    groups.sort_unstable();
    groups.dedup();
    if groups.len() > 1 && group_index.is_none() {
        return Err(format!("{} is missing: {kind}s in several groups are found in them by it", at(&index_set)));
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
            // Subgroups (dynamics_params) and strings are not per-element numbers.
            let Ok(ds) = group.dataset(&attr) else { continue };
            let Some(values) = read_numbers(&ds).map_err(|e| format!("{here}: {e}"))? else { continue };
            if group_index.is_none() && values.len() != n {
                return Err(format!("{here} has {} rows for {n} {kind}s", values.len()));
            }
            let column = column_of(&mut attributes, &attr, n);
            for e in (0..n).filter(|&e| group_of[e] == id) {
                let row = group_index.as_ref().map_or(e as u64, |index| index[e]);
                column[e] = *values.get(row as usize).ok_or_else(|| {
                    format!("{kind} {e}: {index_set} {row} is past the {} rows of {here}", values.len())
                })?;
            }
        }
    }
    Ok(attributes)
}

/// Gives each element (of type `type_ids[e]`) its type's value of each numeric column of the
/// types `table` where its group stores none: in SONATA an element inherits its type's
/// attributes and its own override them. Text columns (queries, templates, JSON file names)
/// are not numbers an element can take, and are left out.
pub fn inherit_types(
    attributes: &mut Vec<(String, Vec<f64>)>,
    table: &TypesTable,
    type_ids: &[u64],
    kind: &str,
    population: &str,
) -> Result<(), String> {
    let row_of = type_rows(table, kind, population)?;
    let (id_column, population_column) = (table.column(&format!("{kind}_type_id")), table.column("population"));
    let rows = type_ids
        .iter()
        .enumerate()
        .map(|(e, id)| row_of.get(id).copied().ok_or_else(|| format!("{kind} {e} has {kind}_type_id {id}, which this file does not define")))
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
        // An element's own value (NaN: none) overrides its type's; NULL gives none.
        for (value, &r) in column_of(attributes, column, type_ids.len()).iter_mut().zip(&rows) {
            if value.is_nan() {
                *value = numbers[r].unwrap_or(f64::NAN);
            }
        }
    }
    Ok(())
}

/// The row of each type of `population` in the types `table` (by its `<kind>_type_id`
/// column): rows naming another population (where the table has a `population` column) are
/// not its types.
pub fn type_rows(table: &TypesTable, kind: &str, population: &str) -> Result<HashMap<u64, usize>, String> {
    let id_name = format!("{kind}_type_id");
    let id_column = table.column(&id_name).ok_or_else(|| format!("has no {id_name} column"))?;
    let population_column = table.column("population");
    let mut row_of = HashMap::new();
    for (r, row) in table.rows.iter().enumerate() {
        if population_column.and_then(|c| row[c].as_deref()).is_some_and(|p| p != population) {
            continue;
        }
        let id = row[id_column].as_deref().unwrap_or("NULL");
        let Ok(id) = id.parse::<u64>() else {
            return Err(format!("{id_name} `{id}` in row {} is not a type id (a whole number)", r + 1));
        };
        if row_of.insert(id, r).is_some() {
            return Err(format!("{kind} type {id} is defined twice"));
        }
    }
    Ok(row_of)
}

/// Attribute `name`'s values among `attributes`, a new column of NaN (no value) for `n`
/// elements where it is not there yet.
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
