//! SONATA spike groups: `/spikes/<population>/timestamps` (f64, with `units`) and `node_ids`
//! (u64), with the `sorting` attribute as the spec's enum type.

use hdf5::H5Type;

/// The spec's `sorting` enum (uint8). The variant names are the member names in the file.
#[allow(non_camel_case_types)]
#[derive(H5Type, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Sorting {
    none = 0,
    by_id = 1,
    by_time = 2,
}

/// Sets `group`'s `sorting` attribute.
pub fn write_sorting(group: &hdf5::Group, sorting: Sorting) -> hdf5::Result<()> {
    group.new_attr::<Sorting>().create("sorting")?.write_scalar(&sorting)
}

/// Every spike of `population` in a SONATA spikes file (node id, time in ms), as stored: a
/// file may be sorted by id, by time, or not at all. `population` may be left out when the
/// file holds one. Errors are messages about the file's contents.
pub fn read(file: &hdf5::File, population: Option<&str>) -> Result<Vec<(u64, f64)>, String> {
    let group = file.group("spikes").map_err(|_| "no /spikes group".to_string())?;
    let names = group.member_names().map_err(|e| e.to_string())?;
    let name = super::pick_population(&names, population, "spike")?;
    let g = group.group(&name).map_err(|e| format!("/spikes/{name}: {e}"))?;
    let read = |set: &str| g.dataset(set).map_err(|_| format!("/spikes/{name} has no `{set}` dataset"));
    let timestamps = read("timestamps")?;
    let scale = match super::string_attr(&timestamps, "units").as_deref() {
        // Written by a tool that left the units out: ms, as the spec's examples.
        None | Some("ms") => 1.0,
        Some("s") => 1e3,
        Some(u) => return Err(format!("/spikes/{name}/timestamps: units `{u}`, expected ms or s")),
    };
    let t: Vec<f64> = timestamps.read_raw().map_err(|e| format!("/spikes/{name}/timestamps: {e}"))?;
    let ids = super::read_ids(&read("node_ids")?).map_err(|e| format!("/spikes/{name}/node_ids: {e}"))?;
    if t.len() != ids.len() {
        return Err(format!("/spikes/{name}: {} timestamps but {} node_ids", t.len(), ids.len()));
    }
    Ok(ids.into_iter().zip(t.into_iter().map(|t| t * scale)).collect())
}
