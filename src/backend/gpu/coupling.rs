//! Which graded-coupling kernel a network gets on the GPU, and what that costs in dispatches:
//! the policy behind `simulation.gpu_coupling`, apart from the buffers and dispatches that
//! carry it out. It reads only the network's shape, so `check` applies it without building.

use crate::config::{EventDelivery, GpuCoupling};
use crate::error::{Error, Result};
use super::split;
use crate::shape::Shape;

/// Why `net` cannot have its graded coupling fused into the neuron update, if it cannot. The
/// fused kernel sums one projection, reading S from the population's own state buffer.
pub fn fused_coupling_unfit(net: &Shape) -> Option<String> {
    if let Some(p) = net
        .populations
        .iter()
        .find(|p| p.model.fused_coupling_shader().is_none())
    {
        return Some(format!(
            "population `{}` is not an hh population (its model, {}, has no fused update)",
            p.name,
            p.model.name()
        ));
    }
    let mut targeted = vec![false; net.populations.len()];
    for p in &net.projections {
        if !p.is_graded() {
            return Some(format!("projection `{}` is not a built-in graded one", p.name));
        }
        if p.source != p.target {
            return Some(format!(
                "projection `{}` joins two populations; only a population's projection onto itself fuses",
                p.name
            ));
        }
        if std::mem::replace(&mut targeted[p.target], true) {
            return Some(format!(
                "population `{}` is the target of more than one projection",
                net.populations[p.target].name
            ));
        }
    }
    None
}

/// Whether `coupling` runs `net`'s graded coupling inside the HH update; an error when it asks
/// for that and the network does not allow it.
pub fn fuses(net: &Shape, coupling: GpuCoupling) -> Result<bool> {
    match coupling {
        // Without projections there is no coupling dispatch to save.
        GpuCoupling::Auto => Ok(!net.projections.is_empty()
            && fused_coupling_unfit(net).is_none()),
        GpuCoupling::Fused | GpuCoupling::FusedLanes => match fused_coupling_unfit(net) {
            None => Ok(true),
            Some(why) => Err(Error::config(
                "simulation.gpu_coupling",
                format!(
                    "\"{}\" does not fit this network: {why}; use \"auto\", \"thread_per_row\", \"lanes_per_row\" or \"blocked\"",
                    coupling.name()
                ),
            )),
        },
        GpuCoupling::ThreadPerRow | GpuCoupling::LanesPerRow | GpuCoupling::Blocked => Ok(false),
    }
}

/// The kernel that runs `net`'s graded coupling under `coupling` on bindings of at most
/// `binding_limit` bytes, with `auto` resolved (never returned); an error as `fuses`. `auto`
/// does not fuse where S's second block would take a state buffer past one binding.
pub fn resolved(net: &Shape, coupling: GpuCoupling, binding_limit: u64) -> Result<GpuCoupling> {
    let second_block_fits = net
        .populations
        .iter()
        .all(|p| (p.n_vars as u64 + 1) * p.size * 4 <= binding_limit);
    if coupling == GpuCoupling::Auto && !second_block_fits {
        return Ok(GpuCoupling::ThreadPerRow);
    }
    if let Some(p) = net.projections.iter().find(|p| p.procedural) {
        if coupling == GpuCoupling::Blocked {
            return Err(Error::config(
                "simulation.gpu_coupling",
                format!(
                    "\"blocked\" needs stored rows, and projection `{}` is procedural; use another kernel",
                    p.name
                ),
            ));
        }
    }
    Ok(match (fuses(net, coupling)?, fused_lanes(net, coupling)) {
        (true, true) => GpuCoupling::FusedLanes,
        (true, false) => GpuCoupling::Fused,
        (false, _) if matches!(coupling, GpuCoupling::LanesPerRow | GpuCoupling::Blocked) => {
            coupling
        }
        (false, _) => GpuCoupling::ThreadPerRow,
    })
}

/// The name `check` and the device description give the `resolved` kernel; None where the
/// network has no graded coupling to sum.
pub fn kernel_name(net: &Shape, resolved: GpuCoupling) -> Option<&'static str> {
    let graded = net.projections.iter().any(|p| p.is_graded());
    (resolved.is_fused() || graded).then(|| resolved.name())
}

/// Compute dispatches per step under the `resolved` kernel, trace gathers aside: each costs
/// several µs on a real GPU whatever the network's size, so small networks are bound by this
/// count. Per graded projection one (two for `blocked`: its sums, then their parts added)
/// unless fused; one update per population (which delivers its event-driven inputs, unless
/// `delivery` is separate: then one delivery per population receiving them); one
/// propagation per population with event-driven projections leaving it; for synapses written
/// as equations their summations and deliveries, and the resets of models written as
/// equations. A matrix cut into parts to fit bindings of `binding_limit` bytes takes a
/// coupling (or fused update), propagation, summation or delivery per part (counted at the
/// fewest parts).
pub fn dispatches_per_step(
    net: &Shape,
    resolved: GpuCoupling,
    delivery: EventDelivery,
    binding_limit: u64,
) -> usize {
    let per_projection = match resolved {
        _ if resolved.is_fused() => 0,
        GpuCoupling::Blocked => 2,
        _ => 1,
    };
    // A procedural matrix stores no sources: it is never cut.
    let parts = |p: &crate::shape::ProjectionShape| match p.procedural {
        true => 1,
        false => split::parts_needed(p.synapses, p.n_target, binding_limit) as usize,
    };
    let graded: usize = net
        .projections
        .iter()
        .filter(|p| p.is_graded())
        .map(|p| per_projection * parts(p))
        .sum();
    // Fused, a population's update runs once per part of its projection's matrix.
    let updates: usize = (0..net.populations.len())
        .map(|pop| match net.projections.iter().find(|p| p.target == pop) {
            Some(p) if resolved.is_fused() => parts(p),
            _ => 1,
        })
        .sum();
    let propagations: usize = (0..net.populations.len())
        .filter(|&pop| net.sends_events(pop))
        .map(|pop| {
            let leaving = net.projections.iter().filter(|p| p.is_event_driven() && p.source == pop);
            let (synapses, rows) =
                leaving.fold((0, 0), |(s, r), p| {
                    (s + if p.procedural { 0 } else { p.synapses }, r + p.n_source)
                });
            split::parts_needed(synapses, rows, binding_limit) as usize
        })
        .sum();
    let deliveries = match delivery {
        EventDelivery::InUpdate => 0,
        EventDelivery::Separate => (0..net.populations.len()).filter(|&pop| net.receives_events(pop)).count(),
    };
    let equations: u64 = net
        .projections
        .iter()
        .filter_map(|p| p.equation_passes.map(|passes| passes * split::equation_parts(p, binding_limit)))
        .sum();
    let resets = net
        .populations
        .iter()
        .filter(|p| p.model.equations().is_some_and(|m| m.acts_after_synapses()))
        .count();
    // A run_regularly due every step (the others add theirs on the steps they are due).
    let regularly: usize = net
        .populations
        .iter()
        .filter_map(|p| p.model.equations())
        .map(|m| m.regularly.iter().filter(|(s, _)| s.every == 1).count())
        .sum();
    updates + deliveries + graded + propagations + equations as usize + resets + regularly
}

/// Bell & Garland (2008, NVIDIA TR-2008-004): for CSR sums, a warp per row beats a thread per
/// row once the rows hold about 32 nonzeros, because the loads coalesce.
const LANES_FROM_MEAN_ROW_LENGTH: f64 = 32.0;

/// Whether the fused update sums its rows with `kernels::LANES` threads each (see `fuses`).
pub fn fused_lanes(net: &Shape, coupling: GpuCoupling) -> bool {
    let (rows, synapses) = net
        .projections
        .iter()
        .fold((0u64, 0u64), |(r, s), p| (r + p.n_target, s + p.synapses));
    match coupling {
        GpuCoupling::FusedLanes => true,
        GpuCoupling::Auto => synapses as f64 >= LANES_FROM_MEAN_ROW_LENGTH * rows.max(1) as f64,
        _ => false,
    }
}
