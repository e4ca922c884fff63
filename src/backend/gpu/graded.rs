//! The graded coupling's buffers and dispatches: each graded projection's `CouplingParams`,
//! its matrix by target (CSR, or the blocked layout), and, unless the coupling is fused into
//! the update, one dispatch summing it into its target's input.

use super::blocked;
use super::context::{dispatch_size, fold_groups, GpuContext};
use super::kernels::{self, CouplingParamsGpu, Kernel, Kernels};
use super::populations::PopulationBuffers;
use crate::config::{GpuCoupling, SynapseModel};
use crate::connectivity::{Csr, Weights};
use super::split;
use crate::error::{Error, Result};
use std::ops::Range;
use crate::model::graded::GradedParams;
use crate::network::Network;
use crate::procedural::{ProceduralRows, WeightDrawGpu};

/// A graded projection's coupling dispatch (none when the coupling is fused).
pub struct CouplingDispatch {
    /// Its kernel and, for `blocked`, the second pass (`Kernels::coupling_in_ranges`).
    pub kernel: Kernel,
    pub finish: Option<Kernel>,
    /// Workgroups of the coupling kernel (of its first pass for `blocked`).
    pub groups: (u32, u32),
    /// Rows: threads of `blocked`'s second pass (every instance's, where a batch's instances
    /// share the matrix).
    pub n_rows: u32,
    pub bind_group: wgpu::BindGroup,
}

fn f32s(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

/// One graded projection's buffers: `CouplingParams`, the matrix by target, its weights. The
/// matrix is the CSR (`pointers` its row_ptr, `indices` its col_idx) or, for the blocked
/// kernel, the blocked layout (its seg_ptr and entries, weights in entry order) and the
/// partial sums of its first pass.
pub struct GradedBuffers {
    pub params: wgpu::Buffer,
    pub pointers: wgpu::Buffer,
    pub indices: wgpu::Buffer,
    pub weights: wgpu::Buffer,
    pub partial_sums: Option<wgpu::Buffer>,
}

/// A graded synapse as its coupling kernel needs it: its parameters and the source variable
/// it sums (the source model's activation S).
#[derive(Clone, Copy)]
pub struct Graded<'a> {
    pub params: &'a GradedParams,
    pub activation: usize,
    /// What draws the rows of a procedural projection (its `col_idx` is empty).
    pub procedural: Option<&'a ProceduralRows>,
    /// The batch instances its one stored matrix serves (`ProjectionData::blocks`): each
    /// part's rows are then dispatched once per instance. Or those whose procedural rows lie
    /// side by side, drawn with seeds of their own (`ProjectionData::kernel_instances`).
    pub instances: usize,
    /// Their weights, one per instance, where they share the connections but not the weight
    /// (`ProjectionData::block_weights`).
    pub instance_weights: Option<&'a [f64]>,
}

impl Graded<'_> {
    /// Whether the instances draw procedural rows of seeds of their own, side by side.
    fn own_seeds(&self) -> bool {
        self.procedural.is_some_and(|r| !r.instance_keys.is_empty())
    }

    /// Threads of a dispatch over `rows` of the matrix: once per instance sharing them.
    pub fn threads(&self, rows: &Range<usize>) -> u32 {
        let per_instance = if self.own_seeds() { 1 } else { self.instances };
        (rows.len() * per_instance) as u32
    }
}

impl GradedBuffers {
    /// The projection's `CouplingParams`.
    #[allow(clippy::too_many_arguments)]
    fn params(
        ctx: &GpuContext,
        name: &str,
        csr: &Csr,
        rows: &Range<usize>,
        g: Graded,
        accumulate: bool,
        blocked_parts: usize,
    ) -> wgpu::Buffer {
        let instances = g.instances;
        // One instance's rows, targets and sources: the matrix holds every instance's where
        // they draw rows of their own seeds, else one block that serves them all.
        let apart = if g.own_seeds() { instances } else { 1 };
        let draw = WeightDrawGpu::of(g.procedural.and_then(|r| r.weight));
        let params = CouplingParamsGpu {
            v_rev: g.params.v_rev as f32,
            w: g.params.w as f32,
            uniform_weight: match csr.weights {
                Weights::Uniform(w) => w as f32,
                Weights::PerSynapse(_) => 0.0,
            },
            weight_mode: match (&csr.weights, g.instance_weights) {
                (_, Some(_)) => kernels::WEIGHT_PER_INSTANCE,
                (Weights::PerSynapse(_), None) => kernels::WEIGHT_PER_SYNAPSE,
                (Weights::Uniform(_), None) => kernels::WEIGHT_ONE,
            },
            n_rows: (rows.len() / apart) as u32,
            n_source: (csr.n_cols * instances / apart) as u32,
            first_row: rows.start as u32,
            accumulate: accumulate as u32,
            blocked_parts: blocked_parts as u32,
            activation: g.activation as u32,
            procedural: g.procedural.is_some() as u32,
            skip_diagonal: g.procedural.is_some_and(|r| r.skip_diagonal) as u32,
            seed_lo: g.procedural.map_or(0, |r| r.seed_key[0]),
            seed_hi: g.procedural.map_or(0, |r| r.seed_key[1]),
            projection: g.procedural.map_or(0, |r| r.projection),
            instances: instances as u32,
            instance_rows: (csr.n_rows / apart) as u32,
            instance_cols: (csr.n_cols / apart) as u32,
            draw: draw.kind,
            draw_low: draw.low,
            draw_span: draw.span,
            draw_a: draw.a,
            draw_b: draw.b,
            own_seeds: g.own_seeds() as u32,
        };
        ctx.uniform_buffer(&format!("{name}.params"), bytemuck::bytes_of(&params))
    }

    /// The whole matrix in one part.
    pub fn new(
        ctx: &GpuContext,
        name: &str,
        csr: &Csr,
        g: Graded,
        accumulate: bool,
    ) -> Result<GradedBuffers> {
        Self::part(ctx, name, csr, 0..csr.n_rows, g, accumulate)
    }

    /// Rows `rows` of the matrix, their pointers rebased to the part: what one binding holds
    /// of a matrix `split` cut. Buffers are labelled `name` + their part.
    pub fn part(
        ctx: &GpuContext,
        name: &str,
        csr: &Csr,
        rows: Range<usize>,
        g: Graded,
        accumulate: bool,
    ) -> Result<GradedBuffers> {
        let buffer =
            |part: &str, contents: &[u8]| ctx.storage_buffer(&format!("{name}.{part}"), contents);
        let (pointers, mut entries) = split::segment_rows(&csr.row_ptr, &rows);
        // A procedural matrix stores no columns: its instances' keys, where they have their
        // own (`row_key` in graded_synapse.wgsl).
        let mut indices = None;
        if let Some(r) = g.procedural {
            entries = 0..0;
            indices = Some(r.instance_keys.concat());
        }
        let weights = match (&csr.weights, g.instance_weights) {
            // Each part holds every instance's weight.
            (_, Some(ws)) => f32s(ws),
            (Weights::Uniform(_), None) => Vec::new(),
            (Weights::PerSynapse(ws), None) => f32s(&ws[entries.clone()]),
        };
        Ok(GradedBuffers {
            params: Self::params(ctx, name, csr, &rows, g, accumulate, 1),
            pointers: buffer("row_ptr", bytemuck::cast_slice(&pointers))?,
            indices: buffer("col_idx", bytemuck::cast_slice(indices.as_deref().unwrap_or(&csr.col_idx[entries])))?,
            weights: buffer("weights", bytemuck::cast_slice(&weights))?,
            partial_sums: None,
        })
    }

    /// As `part`, with the part's rows in the blocked layout cut by `geo`, its blocks shared
    /// among `parts` workgroups. Its pointers grow with rows × columns: `preflight` checks
    /// their size before they are built.
    #[allow(clippy::too_many_arguments)]
    fn blocked(
        ctx: &GpuContext,
        name: &str,
        csr: &Csr,
        rows: Range<usize>,
        g: Graded,
        accumulate: bool,
        geo: blocked::BlockGeometry,
        parts: usize,
    ) -> Result<GradedBuffers> {
        let part = csr.rows(rows.clone());
        let layout = blocked::blocked(&part, geo);
        let buffer =
            |label: &str, contents: &[u8]| ctx.storage_buffer(&format!("{name}.{label}"), contents);
        Ok(GradedBuffers {
            params: Self::params(ctx, name, &part, &rows, g, accumulate, parts),
            pointers: buffer("seg_ptr", bytemuck::cast_slice(&layout.seg_ptr))?,
            indices: buffer("entries", bytemuck::cast_slice(&layout.entries))?,
            weights: buffer(
                "weights",
                bytemuck::cast_slice(layout.weights.as_deref().unwrap_or_default()),
            )?,
            partial_sums: Some(buffer("partial_sums", &vec![0u8; parts * part.n_rows * 4])?),
        })
    }

    /// A population with no input: empty rows.
    pub fn unconnected(ctx: &GpuContext, name: &str, n: usize) -> Result<GradedBuffers> {
        let csr = Csr {
            n_rows: n,
            n_cols: n,
            row_ptr: vec![0; n + 1],
            col_idx: Vec::new(),
            weights: Weights::Uniform(0.0),
        };
        let none = Graded {
            params: &GradedParams::default(),
            activation: 0,
            procedural: None,
            instances: 1,
            instance_weights: None,
        };
        Self::new(ctx, name, &csr, none, false)
    }
}

/// The coupling dispatches of the graded projections (none when fused): the first projection
/// into a population sets its input, the later ones add to it. `populations` hold the
/// sources' states, `inputs` their (syn_g, syn_i0). A matrix larger than `binding_limit` bytes
/// is cut by whole rows into parts, one dispatch each (two for `blocked`).
#[allow(clippy::too_many_arguments)]
pub fn couplings(
    ctx: &GpuContext,
    kernels: &Kernels,
    net: &Network,
    coupling: GpuCoupling,
    binding_limit: u64,
    populations: &[PopulationBuffers],
    inputs: &[(Vec<wgpu::Buffer>, Vec<wgpu::Buffer>)],
) -> Result<Vec<CouplingDispatch>> {
    let mut couplings = Vec::new();
    if coupling.is_fused() {
        return Ok(couplings);
    }
    let mut targeted = vec![false; net.populations.len()];
    for p in &net.projections {
        let (SynapseModel::Graded(params), Some(activation)) = (&p.synapse, p.source_activation)
        else {
            continue;
        };
        // The blocked layout's row groups do not follow instances: a shared matrix is laid
        // out whole there, one block per instance, each with its weight.
        let whole = (kernels.coupling_blocked.is_some() && p.blocks > 1).then(|| match &p.block_weights {
            None => Csr::block_diagonal(std::iter::repeat_n(&p.csr, p.blocks)),
            Some(ws) => {
                let blocks: Vec<Csr> = ws.iter().map(|&w| Csr { weights: Weights::Uniform(w), ..p.csr.clone() }).collect();
                Csr::block_diagonal(blocks.iter())
            }
        });
        let csr = whole.as_ref().unwrap_or(&p.csr);
        // S in the part of a cut state that holds it, or in its ranges of neurons, bound alone.
        let (source_s, activation) = populations[p.source].block(activation);
        let (kernel, finish) = kernels.coupling_in_ranges(
            ctx,
            coupling,
            populations[p.source].parts.state.chunks,
            populations[p.target].parts.state.chunks,
        )?;
        let g = Graded {
            params,
            activation,
            procedural: p.procedural.as_ref(),
            instances: if whole.is_some() { 1 } else { p.kernel_instances() },
            instance_weights: if whole.is_some() { None } else { p.block_weights.as_deref() },
        };
        let accumulate = std::mem::replace(&mut targeted[p.target], true);
        let (syn_g, syn_i0) = &inputs[p.target];
        for (label, rows) in row_parts(&p.name, csr, g.procedural.is_some(), binding_limit)? {
            let n_rows = g.threads(&rows);
            let (b, groups) = match &kernels.coupling_blocked {
                Some(blocked) => {
                    let geo = blocked.geometry;
                    let parts = geo.n_parts(rows.len(), csr.n_cols);
                    let groups = fold_groups((geo.n_groups(rows.len()) * parts) as u32);
                    (GradedBuffers::blocked(ctx, &label, csr, rows, g, accumulate, geo, parts)?, groups)
                }
                None => {
                    let b = GradedBuffers::part(ctx, &label, csr, rows, g, accumulate)?;
                    match coupling {
                        GpuCoupling::LanesPerRow => (b, fold_groups(n_rows.div_ceil(kernels::ROWS_PER_LANE_GROUP))),
                        _ => (b, dispatch_size(n_rows)),
                    }
                }
            };
            let mut resources = vec![
                b.params.as_entire_binding(),
                b.pointers.as_entire_binding(),
                b.indices.as_entire_binding(),
                b.weights.as_entire_binding(),
                source_s[0].as_entire_binding(),
                syn_g[0].as_entire_binding(),
                syn_i0[0].as_entire_binding(),
            ];
            resources.extend(b.partial_sums.as_ref().map(|s| s.as_entire_binding()));
            // The other ranges of S and of the input words (`neuron_ranges::coupling_wgsl`).
            resources.extend(source_s[1..].iter().copied().chain(&syn_g[1..]).chain(&syn_i0[1..]).map(|b| b.as_entire_binding()));
            couplings.push(CouplingDispatch {
                groups,
                n_rows,
                bind_group: kernel.bind(ctx, &label, &resources),
                kernel: kernel.clone(),
                finish: finish.clone(),
            });
        }
    }
    Ok(couplings)
}

/// The parts of `csr` that each fit one binding of `binding_limit` bytes, with the label of
/// their buffers: the projection's name alone when the matrix is whole, `<name>.part<k>`
/// otherwise. A procedural matrix stores no sources: it is cut only where its row pointers
/// (4 bytes per row) are larger than a binding.
pub fn row_parts(
    name: &str,
    csr: &Csr,
    procedural: bool,
    binding_limit: u64,
) -> Result<Vec<(String, Range<usize>)>> {
    let ranges: Vec<Range<usize>> = if procedural {
        let per_part = split::procedural_rows_per_part(binding_limit);
        (0..csr.n_rows.div_ceil(per_part).max(1))
            .map(|k| k * per_part..((k + 1) * per_part).min(csr.n_rows))
            .collect()
    } else {
        split::cut(&[&csr.row_ptr], binding_limit)
            .map_err(|e| row_too_long(name, e, binding_limit))?
            .into_iter()
            .map(|segments| segments[0].rows.clone())
            .collect()
    };
    let several = ranges.len() > 1;
    Ok(ranges
        .into_iter()
        .enumerate()
        .map(|(k, rows)| {
            let label = if several { format!("{name}.part{k}") } else { name.to_string() };
            (label, rows)
        })
        .collect())
}

/// The error for a row that alone exceeds one binding.
pub fn row_too_long(projection: &str, e: split::RowTooLong, limit: u64) -> Error {
    Error::TooLarge(format!(
        "row {} of projection `{projection}` holds {} bytes of synapses, more than one binding of {limit} bytes (simulation.gpu_max_binding_mib or the device's limit): rows are never split",
        e.row, e.bytes
    ))
}
