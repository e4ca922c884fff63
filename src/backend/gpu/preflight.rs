//! The device limits a network must fit, checked on its shape before any buffer exists: the
//! GPU backend runs this first, and `ganglion check` runs the same function against the
//! adapter's limits without building the network, so that `check` accepts what `run` can
//! build (with `fixed_probability` counted at its expected number of synapses).

use super::blocked::BlockGeometry;
use super::kernels::MAX_EVENT_PROJECTIONS;
use crate::config::GpuCoupling;
use crate::error::{Error, Result};
use crate::shape::Shape;

/// Populations one spike record can name (the population shares a word with the step).
pub const MAX_POPULATIONS: usize = 256;

/// The largest buffer `limits` lets a shader bind.
pub fn binding_limit(limits: &wgpu::Limits) -> u64 {
    limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size)
}

/// Refuses a buffer the device cannot bind, naming the buffer, its size and the limit.
pub fn check_binding(label: &str, bytes: u64, limits: &wgpu::Limits, device: &str) -> Result<()> {
    let limit = binding_limit(limits);
    if bytes > limit {
        return Err(Error::BufferTooLarge {
            label: label.to_string(),
            bytes,
            limit,
            device: device.to_string(),
            // The blocked layout's pointers grow with rows × columns.
            hint: if label.ends_with(".seg_ptr") {
                "; the blocked layout's pointers grow with rows × columns, so another simulation.gpu_coupling may fit"
            } else {
                ""
            },
        });
    }
    Ok(())
}

/// The buffers that grow with the network, by the label the backend gives them, with their
/// sizes under the `resolved` coupling kernel.
pub fn network_buffers(
    net: &Shape,
    resolved: GpuCoupling,
    limits: &wgpu::Limits,
) -> Result<Vec<(String, u64)>> {
    let fused = resolved.is_fused() as u64;
    let mut out = Vec::new();
    for p in &net.populations {
        out.push((
            format!("{}.state", p.name),
            (p.n_vars as u64 + fused) * p.size * 4,
        ));
        for part in ["syn_g", "syn_i0", "spiked"] {
            out.push((format!("{}.{part}", p.name), p.size * 4));
        }
    }
    let (mut cols, mut rows, mut weights, mut rings, mut g) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for p in &net.projections {
        let s = p.synapses;
        let w = p.per_synapse_weights as u64;
        match p.ring_slots {
            None if resolved == GpuCoupling::Blocked => {
                let geo = BlockGeometry::for_workgroup_storage(
                    limits.max_compute_workgroup_storage_size,
                )?;
                out.push((
                    format!("{}.seg_ptr", p.name),
                    geo.seg_ptr_len(p.n_target as usize, p.n_source as usize) * 4,
                ));
                out.push((format!("{}.entries", p.name), s * 4));
                out.push((format!("{}.weights", p.name), s * 4 * w));
            }
            None => {
                out.push((format!("{}.row_ptr", p.name), (p.n_target + 1) * 4));
                out.push((format!("{}.col_idx", p.name), s * 4));
                out.push((format!("{}.weights", p.name), s * 4 * w));
                if p.values_per_synapse > 0 {
                    out.push((format!("{}.synapses", p.name), s * 4 * p.values_per_synapse));
                }
            }
            Some(slots) => {
                cols += s * 4;
                rows += (p.n_source + 1) * 4;
                weights += s * 4 * w;
                rings += slots * p.n_target * 4;
                g += p.n_target * 4;
            }
        }
    }
    for (label, bytes) in [
        ("events.g", g),
        ("events.rings", rings),
        ("events.rows", rows),
        ("events.cols", cols),
        ("events.weights", weights),
    ] {
        out.push((label.to_string(), bytes));
    }
    Ok(out)
}

/// Everything about `net` that the device named `device`, with `limits`, would refuse: too
/// many populations, too many event-driven projections into or out of one population, and
/// any buffer larger than one binding.
pub fn check(
    net: &Shape,
    resolved: GpuCoupling,
    limits: &wgpu::Limits,
    device: &str,
) -> Result<()> {
    if net.populations.len() > MAX_POPULATIONS {
        return Err(Error::TooManyPopulations {
            count: net.populations.len(),
            max: MAX_POPULATIONS,
        });
    }
    for (index, pop) in net.populations.iter().enumerate() {
        for (incoming, way) in [(true, "into it"), (false, "leaving it")] {
            let count = net
                .projections
                .iter()
                .filter(|p| p.is_event_driven() && index == if incoming { p.target } else { p.source })
                .count();
            if count > MAX_EVENT_PROJECTIONS {
                return Err(Error::TooManyEventProjections {
                    population: pop.name.clone(),
                    count,
                    max: MAX_EVENT_PROJECTIONS,
                    direction: way,
                });
            }
        }
    }
    for (label, bytes) in network_buffers(net, resolved, limits)? {
        check_binding(&label, bytes, limits, device)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(extra: &str) -> Shape {
        let text = format!(
            "[simulation]\ndt_ms = 0.1\nduration_ms = 1.0\n\
             [populations.a]\nmodel = \"hh_traub\"\nsize = 1000\n{extra}"
        );
        Shape::from_config(&crate::config::parse(&text, &[]).unwrap())
    }

    #[test]
    fn a_buffer_past_the_binding_limit_is_named() {
        let net = network(
            "[projections.aa]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"exp_cond\"\n\
             params = { tau_ms = 5.0, e_rev = 0.0 }\nconnectivity = { rule = \"fixed_indegree\", k = 100 }\n",
        );
        let small = wgpu::Limits {
            max_storage_buffer_binding_size: 256 << 10,
            ..wgpu::Limits::default()
        };
        let e = check(&net, GpuCoupling::ThreadPerRow, &small, "a small device").unwrap_err();
        assert!(
            matches!(&e, Error::BufferTooLarge { label, bytes, limit, .. }
                if label == "events.cols" && *bytes == 100_000 * 4 && *limit == 256 << 10),
            "{e:?}"
        );
        assert!(e.to_string().contains("a small device"), "{e}");
        assert!(check(
            &net,
            GpuCoupling::ThreadPerRow,
            &wgpu::Limits::default(),
            "x"
        )
        .is_ok());
    }

    #[test]
    fn more_event_projections_into_a_population_than_the_kernels_take_is_refused() {
        let projections: String = (0..=MAX_EVENT_PROJECTIONS)
            .map(|k| {
                format!(
                    "[projections.p{k}]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"exp_curr\"\n\
                     params = {{ tau_ms = 5.0 }}\nconnectivity = {{ rule = \"one_to_one\" }}\n"
                )
            })
            .collect();
        let net = network(&projections);
        let e = check(
            &net,
            GpuCoupling::ThreadPerRow,
            &wgpu::Limits::default(),
            "x",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("population `a` has 9 event-driven projections into it"),
            "{e}"
        );
    }
}
