//! What `ganglion check` says of a sweep: its instances, the network shapes among them, and
//! the memory they need.

use super::spec::{Mode, Sweep};
use crate::config::Config;
use crate::error::Result;
use crate::shape::Shape;
use crate::units::human_bytes;
use std::fmt::Write;

/// Checks every instance's config and describes the sweep. `peak` is the host memory of the
/// base config's run (`check` printed it above).
pub fn describe(config: &Config, sweep: &Sweep, peak: u64) -> Result<String> {
    let configs = super::instances::configs(config, sweep, 0..sweep.len())?;
    let (shapes, largest) = shapes(&configs);
    let largest = largest.max(peak);
    let mut s = String::new();
    let mode = match sweep.mode {
        Mode::Grid => "grid",
        Mode::Zip => "zip",
    };
    let _ = writeln!(s, "sweep: {} instances ({mode} over {})", sweep.len(), sweep.keys.join(", "));
    for (key, list) in sweep.keys.iter().zip(&sweep.lists) {
        let shown: Vec<String> = list.iter().take(6).map(|v| v.to_string()).collect();
        let _ = writeln!(s, "  {key}: {} values ({}{})", list.len(), shown.join(", "), if list.len() > 6 { ", …" } else { "" });
    }
    if shapes > 1 {
        let _ = writeln!(s, "  {shapes} network shapes (a swept key changes sizes or synapse counts): on the GPU, instances of one shape share a batch");
    } else {
        let _ = writeln!(s, "  one network shape: every instance the same size");
    }
    let constants: Vec<&str> = sweep
        .keys
        .iter()
        .filter(|k| (k.starts_with("models.") || k.starts_with("synapse_models.")) && k.contains(".namespace.") || k.contains(".poisson_inputs."))
        .map(String::as_str)
        .collect();
    if !constants.is_empty() {
        let _ = writeln!(
            s,
            "  {} swept: a model written as equations (with its PoissonInputs) has its constants in its code, so on the GPU only instances with the same values share a batch",
            constants.join(", ")
        );
    }
    if config.output.sweep_layout == crate::config::SweepLayout::Stacked {
        if let Some(first) = configs.first() {
            super::stacked::check(first, &configs, 0, super::run::WHOLE_RUN_BYTES)?;
        }
        let _ = writeln!(s, "  output: stacked, every instance a row of one set of datasets under /stacked");
    }
    let threads = rayon::current_num_threads();
    let _ = writeln!(
        s,
        "  memory: about {} per instance at most; the CPU runs {threads} at once (about {})",
        human_bytes(largest),
        human_bytes(largest * threads.min(sweep.len()) as u64)
    );
    if let Some(first) = configs.first() {
        let shape = Shape::from_config(first);
        let plan = crate::record::RecordPlan::from_config(first);
        let coupling = crate::backend::gpu::resolved(&shape, first.simulation.gpu_coupling, u64::MAX)?;
        let chunk = crate::simulator::chunk_steps_of(&shape, &plan, first.simulation.chunk_steps);
        let each = crate::backend::gpu::sizing::instance_bytes(&shape, &plan, chunk, coupling);
        let shared = sweep.keeps_connectivity();
        // Drawn rows batch whatever their seed and lengths, each instance with its one
        // weight; swept autapses or weight distribution draw them otherwise (`batch::unfit`).
        let drawn_apart = shape.projections.iter().filter(|p| p.procedural).any(|p| {
            let prefix = format!("projections.{}.", p.name);
            sweep.keys.iter().zip(&sweep.lists).any(|(key, list)| {
                let Some(rest) = key.strip_prefix(&prefix) else { return false };
                matches!(rest, "connectivity" | "connectivity.autapses" | "connectivity.procedural")
                    || (rest == "weight" && !super::spec::all_numbers(list))
            })
        });
        let drawing = first.resolved.synapses.iter().flatten().find(|program| program.streams > 0);
        // Synapses that draw merge where the swept keys leave the seed and the connections.
        let batched = shape.populations.iter().all(|p| p.model.instance_table()) && !drawn_apart && (drawing.is_none() || shared);
        let matrices = if shared { crate::backend::gpu::sizing::matrix_bytes(&shape, coupling) } else { 0 };
        let _ = writeln!(
            s,
            "  GPU: {}",
            if batched && shared {
                format!(
                    "instances in batches sharing one set of buffers and one copy of the matrices (the swept keys leave the connections alone): {} once, about {} per instance on the device (as many per batch as its bindings and memory take)",
                    human_bytes(matrices),
                    human_bytes(each.saturating_sub(matrices))
                )
            } else if batched {
                format!("instances in batches sharing one set of buffers, about {} each on the device, matrices counted per instance: a swept key may change the connectivity (matrices that come out the same are stored once; as many per batch as its bindings and memory take)", human_bytes(each))
            } else if let Some(program) = drawing {
                format!("one instance after another: synapse model `{}` draws random numbers keyed by the seed and its synapses, and a swept key may change the seed or the connections", program.name)
            } else if drawn_apart {
                "procedural projections with swept autapses or weight distribution: only instances that draw their rows alike share a batch (of any seeds and row lengths, each with its one weight), the others run one after another".to_string()
            } else {
                "one instance after another (a model reads one set of parameters: no batches)".to_string()
            }
        );
    }
    Ok(s)
}

/// The number of network shapes (population sizes and synapse counts) among `configs`, and
/// the largest host-memory peak of a run of one of them (estimated once per shape).
pub fn shapes(configs: &[Config]) -> (usize, u64) {
    let mut shapes: Vec<(Vec<u64>, Vec<u64>)> = Vec::new();
    let mut largest = 0;
    for c in configs {
        let shape = Shape::from_config(c);
        let key = (
            shape.populations.iter().map(|p| p.size).collect(),
            shape.projections.iter().map(|p| p.synapses).collect(),
        );
        if !shapes.contains(&key) {
            shapes.push(key);
            largest = largest.max(crate::memory::estimate_config(c).peak());
        }
    }
    (shapes.len(), largest)
}
