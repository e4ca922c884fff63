//! Networks given as SONATA files: population sizes from nodes files, read before the
//! config is deserialised, and edges (with their types, as BMTK writes and weighs them) read
//! and checked against the config when it is validated (so `check` and `run` refuse a bad
//! file before any work).

use super::{Config, Connectivity, Projection};
use crate::equations::synapse::SynapseProgram;
use crate::error::{Error, Result};
use crate::io::sonata::nodes::{self, Nodes};
use crate::io::sonata::{edges, types_csv, Edges};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Replaces every `size = { sonata_nodes = "PATH", population = "NAME", node_types = "CSV" }`
/// by the number of nodes of that population, and sets the population's `nodes` to them (whose
/// attributes validation reads).
pub(super) fn resolve_node_sizes(value: &mut toml::Table) -> Result<()> {
    let Some(toml::Value::Table(pops)) = value.get_mut("populations") else { return Ok(()) };
    for (name, pop) in pops.iter_mut() {
        let Some(toml::Value::Table(size)) = pop.get_mut("size") else { continue };
        let key = format!("populations.{name}.size");
        let mut nodes = toml::Table::new();
        for (k, v) in size.iter() {
            match (k.as_str(), v) {
                ("sonata_nodes", toml::Value::String(p)) => nodes.insert("file".into(), toml::Value::String(p.clone())),
                ("population" | "node_types", toml::Value::String(p)) => nodes.insert(k.clone(), toml::Value::String(p.clone())),
                (k, _) => {
                    return Err(Error::config(
                        &key,
                        format!("`{k}`: a size is a number or {{ sonata_nodes = \"PATH\", population = \"NAME\", node_types = \"CSV\" }}"),
                    ))
                }
            };
        }
        let Some(toml::Value::String(path)) = nodes.get("file") else {
            return Err(Error::config(&key, "a size given as a table needs sonata_nodes = \"PATH\""));
        };
        let path = PathBuf::from(path);
        let population = nodes.get("population").and_then(|p| p.as_str());
        let n = nodes::count(&path, population).map_err(|m| Error::config(&key, format!("{}: {m}", path.display())))?;
        let pop = pop.as_table_mut().expect("a population is a table");
        if pop.contains_key("nodes") {
            return Err(Error::config(format!("populations.{name}.nodes"), "is given twice: size's sonata_nodes names the nodes file already"));
        }
        pop.insert("size".into(), toml::Value::Integer(n as i64));
        pop.insert("nodes".into(), toml::Value::Table(nodes));
    }
    Ok(())
}

/// A population's SONATA nodes, checked against it: as many as its size, and, for a model
/// written as equations (`model`), a finite value for every node of each attribute that
/// names one of its settable variables (which it initialises).
pub(super) fn population_nodes(name: &str, pop: &super::Population, model: Option<&crate::equations::neuron::NeuronModel>) -> Result<Option<Arc<Nodes>>> {
    let Some(spec) = &pop.nodes else { return Ok(None) };
    let at = format!("populations.{name}.nodes");
    let path = &spec.file;
    let nodes = read_nodes_shared(path, spec.population.as_deref(), spec.node_types.as_deref())
        .map_err(|(key, m)| Error::config(format!("{at}{key}"), m))?;
    let bad = |m: String| Error::config(&at, format!("{}: {m}", path.display()));
    if nodes.len as u64 != pop.size {
        return Err(bad(format!("`{}` has {} nodes but the population's size is {}", nodes.population, nodes.len, pop.size)));
    }
    for (attribute, values) in &nodes.attributes {
        if model.and_then(|m| m.settable_slot(attribute)).is_none() {
            continue;
        }
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            return Err(bad(if values[k].is_nan() {
                format!("node {k} has no `{attribute}`, which other nodes have: its node group stores none and no node type gives one")
            } else {
                format!("node {k}: its `{attribute}` ({}) is not a finite number", values[k])
            }));
        }
    }
    Ok(Some(nodes))
}

/// A projection's SONATA edges, checked against its populations and its synapse: node ids
/// in range; every edge with a value of each attribute the synapse uses; `delay` only where
/// the synapse can take it (per synapse when written as equations; one value equal to the
/// built-in event-driven synapse's `delay_ms`); the `weight_scale` (`weight_scale_of`).
pub(super) fn projection_edges(
    config: &Config,
    name: &str,
    proj: &Projection,
    program: Option<&SynapseProgram>,
) -> Result<Option<Arc<Edges>>> {
    let Connectivity::Sonata { edges: path, population, edge_types, edge_type_ids, weight_scale } = &proj.connectivity else {
        return Ok(None);
    };
    let at = format!("projections.{name}.connectivity");
    let bad = |key: &str, m: String| Error::config(format!("{at}{key}"), format!("{}: {m}", path.display()));
    let e = read_shared(path, population.as_deref(), edge_types.as_deref(), edge_type_ids.as_deref())
        .map_err(|(key, m)| Error::config(format!("{at}{key}"), m))?;
    for (ids, pop, what) in [(&e.source, &proj.source, "source"), (&e.target, &proj.target, "target")] {
        let size = config.populations[pop].size;
        if let Some(k) = ids.iter().position(|&i| i >= size) {
            return Err(bad(
                "",
                format!("edge {k} of `{}`: {what}_node_id {} is out of range for `{pop}` of {size}", e.population, ids[k]),
            ));
        }
    }
    // Every edge needs its value of each attribute the synapse takes from them.
    let mut used = vec!["syn_weight", "delay"];
    if let Some(p) = program {
        used.extend(p.vars.iter().map(|v| v.name.as_str()));
        if proj.delay.is_some() {
            used.retain(|&a| a != "delay");
        }
    }
    for name in used {
        if let Some(k) = e.first_without(name) {
            return Err(bad("", format!("edge {k} has no `{name}`, which other edges have: its edge group stores none and no edge type gives one")));
        }
    }
    if let Some(delay) = e.attribute("delay") {
        if let Some(k) = delay.iter().position(|d| !(d.is_finite() && *d >= 0.0)) {
            return Err(bad("", format!("edge {k}: delay {} is not a duration in ms", delay[k])));
        }
        if program.is_none() {
            let one = proj.synapse_params(name)?.delay_ms();
            let (lo, hi) = delay.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &d| (lo.min(d), hi.max(d)));
            match one {
                _ if delay.is_empty() => {}
                Some(d) if lo == hi && (d - lo).abs() <= 1e-9 * d.abs().max(1.0) => {}
                Some(d) if lo == hi => {
                    return Err(bad(
                        "",
                        format!("every edge has a delay of {lo} ms but the synapse's delay_ms is {d}: set params.delay_ms = {lo}"),
                    ))
                }
                Some(_) => {
                    return Err(bad(
                        "",
                        format!("the edges' delays vary ({lo} to {hi} ms); a built-in synapse has one delay: take the edges of each delay as a projection of their own (edge_type_ids), or write the synapse as equations for one delay per synapse"),
                    ))
                }
                None if hi == 0.0 => {}
                None => return Err(bad("", format!("the edges have delays (up to {hi} ms) but the graded synapse has none"))),
            }
        }
    }
    weight_scale_of(&e, weight_scale.as_deref(), program.is_some()).map_err(|m| Error::config(format!("{at}.weight_scale"), m))?;
    Ok(Some(e))
}

/// Checks what multiplies the edges' weights (`weight_scale`, or nothing where `None`) before
/// it is used, and that BMTK's synapses per edge (`nsyns`) are not passed over unsaid: its
/// point-neuron simulator weighs an edge by `syn_weight × nsyns`, and a network read without
/// them would be silently weaker.
fn weight_scale_of(e: &Edges, scale: Option<&str>, as_equations: bool) -> Result<(), String> {
    match scale {
        Some(_) if as_equations => Err(
            "a synapse written as equations takes the edges' attributes as its variables (declare `nsyns : 1` and use it in on_pre) and has no weight to scale".into(),
        ),
        Some(super::schema::NO_WEIGHT_SCALE) => Ok(()),
        Some(name) => {
            let Some(values) = e.attribute(name) else {
                return Err(format!("the edges have no numeric attribute `{name}` (they have: {})", e.attribute_names()));
            };
            // NaN: the edge has none, and is not scaled (as BMTK counts an edge without nsyns as one synapse).
            match values.iter().position(|v| v.is_infinite()) {
                Some(k) => Err(format!("edge {k}: its {name} ({}) is not a finite number", values[k])),
                None => Ok(()),
            }
        }
        None if as_equations => Ok(()),
        None => match e.attribute("nsyns").filter(|n| n.iter().any(|&n| !n.is_nan() && n != 1.0)) {
            Some(n) => Err(format!(
                "the edges carry nsyns (up to {} synapses per edge), which BMTK's point-neuron simulator multiplies syn_weight by: \
                 set weight_scale = \"nsyns\" to do the same, or weight_scale = \"{}\" to take each edge as one synapse",
                n.iter().copied().fold(f64::MIN, f64::max),
                super::schema::NO_WEIGHT_SCALE
            )),
            None => Ok(()),
        },
    }
}

/// The `weight_function`s of BMTK's point-neuron simulator that weigh an edge by
/// `syn_weight × nsyns` (bmtk/simulator/pointnet/default_setters/synaptic_weights.py), what
/// `weight_scale = "nsyns"` does.
const BMTK_WEIGHT_FUNCTIONS: [&str; 3] = ["wmax", "default_weight_fnc", "set_syn_weight"];

/// Refuses edge types (of `population`, used by edges of types `type_ids`) whose weights BMTK
/// computes with a function of the model's own Python, which ganglion cannot run: their
/// weights would silently differ.
fn known_weight_functions(table: &types_csv::TypesTable, population: &str, type_ids: &[u64]) -> Result<(), String> {
    let Some(function) = table.column("weight_function") else { return Ok(()) };
    let used: std::collections::BTreeSet<u64> = type_ids.iter().copied().collect();
    let rows = crate::io::sonata::groups::type_rows(table, "edge", population)?;
    for type_id in used {
        // Every edge's type has a row (`Edges::inherit` refused the edges otherwise).
        let Some(name) = rows.get(&type_id).and_then(|&r| table.rows[r][function].as_deref()) else { continue };
        if !BMTK_WEIGHT_FUNCTIONS.contains(&name) {
            return Err(format!(
                "edge type {type_id} has its weights computed by weight_function `{name}`, a Python function of the BMTK model that ganglion cannot run \
                 (BMTK's own {} are syn_weight × nsyns, which weight_scale = \"nsyns\" gives): store the weights it gives as syn_weight and set it to NULL",
                BMTK_WEIGHT_FUNCTIONS.join(", ")
            ));
        }
    }
    Ok(())
}

/// A file's identity for the caches below: its path, modification time and length (a file
/// rewritten since is read again).
type Stamp = (PathBuf, Option<std::time::SystemTime>, u64);
/// What was read: the file, its population, its types file, the types taken.
type ReadKey = (Stamp, Option<String>, Option<Stamp>, Option<Vec<u64>>);
type ReadCache<T> = std::sync::Mutex<std::collections::HashMap<ReadKey, std::sync::Weak<T>>>;

fn stamp(p: &Path) -> std::io::Result<Stamp> {
    std::fs::metadata(p).map(|m| (p.to_owned(), m.modified().ok(), m.len()))
}

/// What `read` gives for `key`, read once while any config holds it: a sweep's instances are
/// configs of their own, and each would read (and keep) a copy of the same file.
fn read_once<T, E>(cache: &ReadCache<T>, key: ReadKey, read: impl FnOnce() -> std::result::Result<T, E>) -> std::result::Result<Arc<T>, E> {
    if let Some(e) = cache.lock().expect("the files read").get(&key).and_then(std::sync::Weak::upgrade) {
        return Ok(e);
    }
    let value = Arc::new(read()?);
    let mut map = cache.lock().expect("the files read");
    map.retain(|_, w| w.strong_count() > 0);
    map.insert(key, Arc::downgrade(&value));
    Ok(value)
}

/// The edges of `path` (those of the types `wanted`, where given) with their `edge_types`,
/// read once while any config holds them. An error names the file and comes with its key
/// (`.edges`, `.edge_types`, `.edge_type_ids`).
fn read_shared(
    path: &Path,
    population: Option<&str>,
    edge_types: Option<&Path>,
    wanted: Option<&[u64]>,
) -> Result<Arc<Edges>, (&'static str, String)> {
    static READ: std::sync::OnceLock<ReadCache<Edges>> = std::sync::OnceLock::new();
    let edges_error = |m: String| (".edges", format!("{}: {m}", path.display()));
    let types_error = |p: &Path, m: String| (".edge_types", format!("{}: {m}", p.display()));
    let key = (
        stamp(path).map_err(|e| edges_error(e.to_string()))?,
        population.map(str::to_owned),
        edge_types.map(|p| stamp(p).map_err(|e| types_error(p, e.to_string()))).transpose()?,
        wanted.map(<[u64]>::to_vec),
    );
    read_once(READ.get_or_init(Default::default), key, || {
        let mut e = edges::read(path, population).map_err(edges_error)?;
        let type_ids = match (edge_types, wanted) {
            (None, None) => Vec::new(),
            _ => edges::type_ids(path, &e).map_err(edges_error)?,
        };
        if let Some(types) = edge_types {
            let table = types_csv::read(types).map_err(|m| types_error(types, m))?;
            e.inherit(&table, &type_ids).map_err(|m| types_error(types, m))?;
            let taken: Vec<u64> = type_ids.iter().copied().filter(|t| wanted.is_none_or(|w| w.contains(t))).collect();
            known_weight_functions(&table, &e.population, &taken).map_err(|m| types_error(types, m))?;
        }
        if let Some(wanted) = wanted {
            e = e.of_types(&type_ids, wanted).map_err(|m| (".edge_type_ids", format!("{}: {m}", path.display())))?;
        }
        Ok(e)
    })
}

/// The nodes of `path` with their `node_types`, read once while any config holds them. An
/// error names the file and comes with its key (`.file`, `.node_types`).
fn read_nodes_shared(path: &Path, population: Option<&str>, node_types: Option<&Path>) -> Result<Arc<Nodes>, (&'static str, String)> {
    static READ: std::sync::OnceLock<ReadCache<Nodes>> = std::sync::OnceLock::new();
    let nodes_error = |m: String| (".file", format!("{}: {m}", path.display()));
    let types_error = |p: &Path, m: String| (".node_types", format!("{}: {m}", p.display()));
    let key = (
        stamp(path).map_err(|e| nodes_error(e.to_string()))?,
        population.map(str::to_owned),
        node_types.map(|p| stamp(p).map_err(|e| types_error(p, e.to_string()))).transpose()?,
        None,
    );
    read_once(READ.get_or_init(Default::default), key, || {
        let mut nodes = nodes::read(path, population).map_err(nodes_error)?;
        if let Some(types) = node_types {
            let table = types_csv::read(types).map_err(|m| types_error(types, m))?;
            nodes.inherit(&table).map_err(|m| types_error(types, m))?;
        }
        Ok(nodes)
    })
}
