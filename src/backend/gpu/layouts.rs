//! What the host and the shaders must agree on, listed once: every struct the host uploads
//! and every WGSL constant that mirrors a Rust one, each with a shader module that holds it
//! (one that is complete on its own once composed: a kernel's module). The test
//! below parses the shaders with naga (no GPU needed) and holds each against its Rust twin,
//! so that a layout or a constant changed on one side only fails CI, not a GPU run.

use super::blocked;
use super::kernels::{
    CouplingParamsGpu, EventListGpu, ExpParamsGpu, PopulationInfoGpu, RecordParamsGpu, StepInfo,
    LANES, MAX_EVENT_PROJECTIONS, ROWS_PER_LANE_GROUP, WEIGHT_PER_INSTANCE, WEIGHT_PER_SYNAPSE,
};
use crate::model::{StructLayout, KINDS};
use crate::real::Real;
use crate::struct_layout;

/// (shader module, struct layout) of every struct the backend uploads, the models' `Params`
/// included.
pub fn shared_structs() -> Vec<(&'static str, StructLayout)> {
    let mut out = vec![
        (
            "common/neuron_common",
            struct_layout!(
                "PopulationInfo",
                PopulationInfoGpu {
                    dt,
                    n,
                    index,
                    record_spikes,
                    seed_lo,
                    seed_hi,
                    spike_slots,
                    instance_size,
                    spike_words,
                    record_events,
                    event_index,
                    event_values
                }
            ),
        ),
        (
            "common/step_info",
            struct_layout!(
                "StepInfo",
                StepInfo {
                    step_lo,
                    step_hi,
                    step_in_chunk,
                    row
                }
            ),
        ),
        (
            "common/record",
            struct_layout!(
                "RecordParams",
                RecordParamsGpu {
                    n_recorded,
                    n_variables,
                    n_samples,
                    variables,
                    n,
                    slots,
                    offset
                }
            ),
        ),
        (
            "synapses/graded_coupling",
            struct_layout!(
                "CouplingParams",
                CouplingParamsGpu {
                    v_rev,
                    w,
                    uniform_weight,
                    weight_mode,
                    n_rows,
                    n_source,
                    accumulate,
                    blocked_parts,
                    activation,
                    first_row,
                    procedural,
                    skip_diagonal,
                    seed_lo,
                    seed_hi,
                    projection,
                    instances,
                    instance_rows,
                    instance_cols,
                    draw,
                    draw_low,
                    draw_span,
                    draw_a,
                    draw_b,
                    own_seeds,
                }
            ),
        ),
        (
            "synapses/exp_synapse",
            struct_layout!(
                "ExpParams",
                ExpParamsGpu {
                    e_rev,
                    decay,
                    inv_scale,
                    uniform_weight,
                    kind,
                    n_target,
                    n_source,
                    slots,
                    delay_steps,
                    weight_mode,
                    g_offset,
                    ring_offset,
                    row_offset,
                    synapse_offset,
                    weight_offset,
                    first_row,
                    end_row,
                    procedural,
                    skip_diagonal,
                    seed_lo,
                    seed_hi,
                    projection,
                    instances,
                    instance_sources,
                    instance_targets,
                    draw,
                    draw_low,
                    draw_span,
                    draw_a,
                    draw_b,
                    draw_scale,
                    own_seeds,
                    g_part,
                    ring_part,
                    g_chunk,
                    ring_chunk,
                }
            ),
        ),
        (
            "synapses/exp_synapse",
            struct_layout!(
                "EventList",
                EventListGpu {
                    n,
                    first_source,
                    end_source,
                    graded_inputs,
                    projections
                }
            ),
        ),
    ];
    out.extend(KINDS.iter().map(|k| (k.shader(), k.gpu_params_layout())));
    out
}

/// (shader module, constant, value on the host) of every WGSL constant that mirrors a Rust
/// one; each model's variable indices (`V`, `M`, … `REFRACTORY`) included.
pub fn shared_constants() -> Vec<(&'static str, String, f64)> {
    let mut out: Vec<(&'static str, String, f64)> = vec![
        (
            "synapses/exp_synapse",
            "MAX_EVENT_PROJECTIONS".into(),
            MAX_EVENT_PROJECTIONS as f64,
        ),
        ("synapses/exp_synapse", "KIND_CONDUCTANCE".into(), 0.0),
        ("synapses/weights", "WEIGHT_PER_SYNAPSE".into(), WEIGHT_PER_SYNAPSE as f64),
        ("common/record", "SKIP".into(), super::recording::SKIP as f64),
        ("synapses/weights", "WEIGHT_PER_INSTANCE".into(), WEIGHT_PER_INSTANCE as f64),
        ("synapses/graded_coupling", "LANES".into(), LANES as f64),
        (
            "synapses/graded_coupling",
            "ROWS_PER_GROUP".into(),
            ROWS_PER_LANE_GROUP as f64,
        ),
        (
            "synapses/graded_blocked",
            "BLOCK_THREADS".into(),
            blocked::THREADS as f64,
        ),
        (
            "synapses/graded_coupling",
            "CONNECTIVITY_STREAM".into(),
            crate::procedural::CONNECTIVITY_STREAM as f64,
        ),
        ("synapses/procedural", "WEIGHT_STREAM".into(), crate::procedural::WEIGHT_STREAM as f64),
        ("synapses/procedural", "DRAW_UNIFORM".into(), crate::procedural::DRAW_UNIFORM as f64),
        ("synapses/procedural", "DRAW_NORMAL".into(), crate::procedural::DRAW_NORMAL as f64),
        (
            "common/philox",
            "VOLTAGE_NOISE".into(),
            crate::rng::stream::VOLTAGE_NOISE as f64,
        ),
        (
            "common/philox",
            "STREAMS_PER_POPULATION".into(),
            crate::rng::stream::PER_POPULATION as f64,
        ),
        (
            "common/neuron_common",
            "SERIES_CUTOFF".into(),
            <f32 as Real>::SERIES_CUTOFF,
        ),
        (
            "neurons/hh",
            "INTEGRATOR_EXPONENTIAL_EULER".into(),
            crate::model::hh::GatingIntegrator::ExponentialEuler.code() as f64,
        ),
        (
            "neurons/lif",
            "INTEGRATOR_EULER".into(),
            crate::model::lif::LifIntegrator::Euler.code() as f64,
        ),
    ];
    use crate::model::ofc_saccade as ofc;
    for (name, value) in [
        ("STREAM_CONTROL", ofc::STREAM_CONTROL as usize),
        ("STREAM_PLANT", ofc::STREAM_PLANT as usize),
        ("STREAM_OBSERVATION", ofc::STREAM_OBSERVATION as usize),
        ("X", ofc::X),
        ("X_EST", ofc::X_EST),
    ] {
        out.push(("neurons/ofc_saccade", name.into(), value as f64));
    }
    for kind in KINDS {
        for (k, var) in kind.variables().iter().enumerate() {
            out.push((kind.shader(), var.name.to_uppercase(), k as f64));
        }
        // The double-buffered activation lives in the block after the variables.
        if let Some(fused) = kind.fused_coupling_shader() {
            out.push((fused, "S_ALT".into(), kind.variables().len() as f64));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::shaders::compose;
    use super::*;
    use crate::model::NeuronKind;
    use wgpu::naga;

    fn module(name: &str) -> naga::Module {
        let text = compose(name).unwrap();
        naga::front::wgsl::parse_str(&text)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&text)))
    }

    /// The WGSL struct's members (name, offset) and size.
    fn wgsl_struct(m: &naga::Module, name: &str) -> Option<(Vec<(String, usize)>, usize)> {
        m.types.iter().find_map(|(_, ty)| match &ty.inner {
            naga::TypeInner::Struct { members, span } if ty.name.as_deref() == Some(name) => {
                Some((
                    members
                        .iter()
                        .map(|mb| (mb.name.clone().unwrap_or_default(), mb.offset as usize))
                        .collect(),
                    *span as usize,
                ))
            }
            _ => None,
        })
    }

    fn wgsl_constant(m: &naga::Module, name: &str) -> Option<f64> {
        m.constants.iter().find_map(|(_, c)| {
            if c.name.as_deref() != Some(name) {
                return None;
            }
            match m.global_expressions[c.init] {
                naga::Expression::Literal(naga::Literal::U32(x)) => Some(x as f64),
                naga::Expression::Literal(naga::Literal::I32(x)) => Some(x as f64),
                naga::Expression::Literal(naga::Literal::F32(x)) => Some(x as f64),
                ref e => panic!("{name}: not a literal after constant folding: {e:?}"),
            }
        })
    }

    /// Where `rust` and the struct of the same name in `m` differ: None when they agree.
    fn mismatch(m: &naga::Module, rust: &StructLayout) -> Option<String> {
        let Some((members, size)) = wgsl_struct(m, rust.wgsl_name) else {
            return Some(format!("no struct `{}`", rust.wgsl_name));
        };
        let named: Vec<(String, usize)> = members
            .into_iter()
            .filter(|(n, _)| !n.starts_with('_'))
            .collect();
        let expected: Vec<(String, usize)> = rust
            .members
            .iter()
            .map(|(n, o)| (n.to_string(), *o))
            .collect();
        if named != expected {
            return Some(format!("members {named:?} in WGSL, {expected:?} in Rust"));
        }
        (size != rust.size).then(|| format!("size {size} in WGSL, {} in Rust", rust.size))
    }

    #[test]
    fn every_shared_struct_has_the_same_layout_in_rust_and_wgsl() {
        for (module_name, rust) in shared_structs() {
            if let Some(why) = mismatch(&module(module_name), &rust) {
                panic!("{module_name}: `{}`: {why}", rust.wgsl_name);
            }
        }
    }

    /// `SynapseInfo` is generated with each synapse model's shader: the STDP example's
    /// holds the host's layout.
    #[test]
    fn the_generated_synapse_info_has_the_hosts_layout() {
        let text = super::super::equations::stdp_example_shader();
        let m = naga::front::wgsl::parse_str(&text).unwrap_or_else(|e| panic!("{}", e.emit_to_string(&text)));
        let rust = crate::struct_layout!(
            "SynapseInfo",
            super::super::kernels::SynapseInfoGpu {
                n_post,
                n_pre,
                n_syn,
                pre_slots,
                uniform_delay,
                per_synapse_delay,
                post_slots,
                pre_instance,
                post_instance,
                first_row,
                n_rows,
                first_synapse,
                key_lo,
                key_hi,
                draws,
                arrival_slots,
                instance_synapses,
                post_delay,
                per_synapse_post_delay,
                post_delays_at,
                pre_mask,
                post_mask,
                pre_first,
                post_first,
                post_span,
            }
        );
        assert_eq!(mismatch(&m, &rust), None);
    }

    /// The instance table's entries are what `populations` packs: the seed's key in four
    /// words, then the model's `Params`, with no padding between entries.
    #[test]
    fn every_instance_table_entry_is_a_key_then_the_params() {
        for kind in KINDS.iter().filter(|k| k.instance_table()) {
            let m = module(kind.shader());
            let (members, size) = wgsl_struct(&m, "Instance")
                .unwrap_or_else(|| panic!("{} declares no `Instance`", kind.name()));
            let params = kind.gpu_params_layout().size;
            assert_eq!(members.last(), Some(&("p".to_string(), 16)), "{}", kind.name());
            assert_eq!(size, 16 + params, "{}", kind.name());
            assert_eq!(params % 4, 0, "{}", kind.name());
        }
    }

    #[test]
    fn every_mirrored_constant_has_the_hosts_value() {
        for (module_name, name, value) in shared_constants() {
            let got = wgsl_constant(&module(module_name), &name)
                .unwrap_or_else(|| panic!("{module_name} declares no const `{name}`"));
            assert!(
                (got - value).abs() <= 1e-7 * value.abs(),
                "{module_name}: {name} is {got} in WGSL, {value} on the host"
            );
        }
    }

    /// The check is only as good as its ability to fail: a member moved in a copy of a shader
    /// is caught.
    #[test]
    fn a_moved_member_is_caught() {
        let text = compose("neurons/hh").unwrap().replacen(
            "    g_na: f32,\n    g_k: f32,",
            "    g_k: f32,\n    g_na: f32,",
            1,
        );
        let m = naga::front::wgsl::parse_str(&text).unwrap();
        assert!(mismatch(&m, &crate::model::hh::Hh.gpu_params_layout()).is_some());
        assert!(mismatch(
            &module("neurons/hh"),
            &crate::model::hh::Hh.gpu_params_layout()
        )
        .is_none());
    }
}
