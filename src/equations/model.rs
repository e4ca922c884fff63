//! An equation-defined neuron model as the rest of ganglion sees every model: a
//! `NeuronKind` (its variables, its generated shader) and a `Neuron` (its initial state, its
//! CPU step). The built-in models stay hand-written; this is one more implementation.

use super::cpu::{compile, CpuProgram, EnvParts};
use super::ir::{Node, Ref, Target};
use super::neuron::NeuronModel;
use super::wgsl::{self, Names};
use crate::config::InitValue;
use crate::error::{Error, Result};
use crate::model::{
    Clock, CpuStep, ModelInfo, Neuron, NeuronKind, Noise, StructLayout, SynInput, SynapticUnits,
    Variable,
};
use crate::real::Real;
use crate::record::Sampled;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// The kind of an equation-defined model. Configs are loaded once per run, and the model
/// traits hand out `'static` names (as the built-in models' are), so a compiled model's
/// definition is leaked: a few hundred bytes per model per loaded config.
pub struct EquationKind {
    pub model: Arc<NeuronModel>,
    info: &'static ModelInfo,
    wgsl: String,
    /// Itself, leaked: what its neurons hand out as their kind.
    this: std::sync::OnceLock<&'static EquationKind>,
}

impl EquationKind {
    pub fn new(model: NeuronModel) -> &'static EquationKind {
        let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
        let variables: Vec<Variable> = model
            .vars
            .iter()
            .map(|v| Variable {
                name: leak(&v.name),
                unit: leak(&v.dim.to_string()),
            })
            .collect();
        let info = Box::leak(Box::new(ModelInfo {
            name: leak(&model.name),
            variables: Box::leak(variables.into_boxed_slice()),
            synaptic_units: SynapticUnits {
                conductance: "siemens",
                current: "amp",
            },
            shader: "<generated>",
            graded_activation: None,
            fused_coupling_shader: None,
            accepts_synapses: true,
            instance_table: true,
        }));
        let wgsl = neuron_wgsl(&model);
        let kind: &'static EquationKind = Box::leak(Box::new(EquationKind {
            model: Arc::new(model),
            info,
            wgsl,
            this: std::sync::OnceLock::new(),
        }));
        kind.this.get_or_init(|| kind);
        kind
    }

}

impl NeuronKind for EquationKind {
    fn info(&self) -> &'static ModelInfo {
        self.info
    }

    fn gpu_params_layout(&self) -> StructLayout {
        StructLayout {
            wgsl_name: "Params",
            members: vec![("_pad0", 0)],
            size: 16,
        }
    }

    fn parse(&self, at: &str, params: &toml::Table, _clock: Clock) -> Result<Arc<dyn Neuron>> {
        if let Some(key) = params.keys().next() {
            return Err(Error::config(
                format!("{at}.{key}"),
                format!(
                    "the {} model is defined by equations: its constants go in its namespace, per-neuron parameters in the population's init",
                    self.model.name
                ),
            ));
        }
        let kind = *self.this.get().expect("set by EquationKind::new");
        Ok(Arc::new(EquationNeuron { kind }))
    }

    fn update_wgsl(&self) -> Result<String> {
        crate::shaders::compose_text(&self.wgsl)
    }

    fn equations(&self) -> Option<&NeuronModel> {
        Some(&self.model)
    }

    fn generated_wgsl(&self) -> Option<&str> {
        Some(&self.wgsl)
    }
}

#[derive(Debug)]
pub struct EquationNeuron {
    kind: &'static EquationKind,
}

impl std::fmt::Debug for EquationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.model.name)
    }
}

impl Neuron for EquationNeuron {
    fn kind(&self) -> &'static dyn NeuronKind {
        self.kind
    }

    fn default_v(&self) -> f64 {
        0.0
    }

    fn rest(&self, _v: f64) -> Vec<f64> {
        super::init::initial_columns(&self.kind.model, 1).into_iter().map(|c| c[0]).collect()
    }

    fn cpu_f64(&self) -> Box<dyn CpuStep<f64>> {
        Box::new(EquationStep::<f64>::new(&self.kind.model))
    }

    fn cpu_f32(&self) -> Box<dyn CpuStep<f32>> {
        Box::new(EquationStep::<f32>::new(&self.kind.model))
    }

    fn gpu_params(&self) -> Vec<u8> {
        vec![0; 16]
    }

    fn gpu_data(&self) -> Vec<u32> {
        self.kind
            .model
            .tables
            .iter()
            .flat_map(|t| t.table.values.iter().map(|&x| (x as f32).to_bits()))
            .collect()
    }

    fn describe(&self) -> Option<String> {
        let m = &self.kind.model;
        let inputs = match m.inputs.body.len() {
            0 => String::new(),
            k => format!(", {k} PoissonInput{}", if k == 1 { "" } else { "s" }),
        };
        let events: String = m
            .events
            .iter()
            .map(|e| format!(", event `{}`{}", e.name, if e.code.is_empty() { "" } else { " (its code after the resets)" }))
            .collect();
        let vars: Vec<_> = m.vars.iter().filter(|v| v.kind != super::neuron::VarKind::EventFlag).collect();
        Some(format!(
            "equations, integrated by {} ({} variables: {}){inputs}{events}",
            m.method.name(),
            vars.len(),
            vars
                .iter()
                .map(|v| format!("{} [{}]", v.name, v.dim))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    fn initial_state(
        &self,
        at: &str,
        size: usize,
        given: &indexmap::IndexMap<String, InitValue>,
        preset: &[(String, Vec<f64>)],
        rng: &mut ChaCha8Rng,
    ) -> Option<Result<Vec<Vec<f64>>>> {
        Some(super::init::neuron_state(&self.kind.model, at, size, given, preset, rng))
    }
}

/// One neuron's step on the CPU: the model's programs compiled for `F`.
struct EquationStep<F> {
    /// The update and the threshold over batches of neurons (the fast path).
    batch: super::vm::BatchProgram<F>,
    update: CpuProgram<F>,
    threshold: Option<super::cpu::Eval<F>>,
    on_spike: CpuProgram<F>,
    inputs: CpuProgram<F>,
    regularly: Vec<(crate::record::Schedule, CpuProgram<F>)>,
    reset: CpuProgram<F>,
    /// The custom events' flags from their conditions, and each event's code with its flag.
    event_flags: CpuProgram<F>,
    event_codes: Vec<(usize, CpuProgram<F>)>,
    /// `NeuronModel::acts_after_synapses`.
    acts_after_synapses: bool,
    refresh: CpuProgram<F>,
    dt: F,
}

impl<F: Real> EquationStep<F> {
    fn new(m: &NeuronModel) -> Self {
        EquationStep {
            batch: super::vm::BatchProgram::new(&m.update, m.threshold.as_ref(), m.dt),
            update: CpuProgram::new(&m.update),
            threshold: m.threshold.as_ref().map(compile::<F>),
            on_spike: CpuProgram::new(&m.on_spike),
            inputs: CpuProgram::new(&m.inputs),
            regularly: m.regularly.iter().map(|(every, p)| (*every, CpuProgram::new(p))).collect(),
            reset: CpuProgram::new(&m.reset),
            event_flags: CpuProgram::new(&m.event_flags()),
            event_codes: m.events.iter().filter(|e| !e.code.is_empty()).map(|e| (e.flag, CpuProgram::new(&e.code))).collect(),
            acts_after_synapses: m.acts_after_synapses(),
            refresh: CpuProgram::new(&m.refresh),
            dt: F::from_f64(m.dt),
        }
    }

    fn parts<'a>(&self, noise: &'a Noise) -> EnvParts<'a, F> {
        EnvParts {
            pre: &[],
            t: F::from_f64(noise.step as f64) * self.dt,
            step: F::from_f64(noise.step as f64),
            dt: self.dt,
            i: F::from_f64(noise.neuron as f64),
            j: F::zero(),
            n: F::from_f64(noise.size as f64),
            noise: Some(noise),
        }
    }
}

impl<F: Real> CpuStep<F> for EquationStep<F> {
    fn step(&self, x: &mut [F], _syn: SynInput<F>, noise: &Noise, _t: F, _dt: F) -> bool {
        let parts = self.parts(noise);
        self.update.run(x, &mut [], parts);
        let fired = self.threshold.as_ref().is_some_and(|threshold| threshold(&parts.env(x, &[], &[])) != F::zero());
        if fired {
            self.on_spike.run(x, &mut [], parts);
        }
        self.event_flags.run(x, &mut [], parts);
        fired
    }

    fn step_batch(
        &self,
        xs: &mut [F],
        n_vars: usize,
        _syn: &[SynInput<F>],
        spiked: &mut [bool],
        noise: &Noise,
        _t: F,
        _dt: F,
    ) {
        let mut regs = Vec::new();
        for (b, (xs, spiked)) in xs
            .chunks_mut(n_vars * super::vm::BATCH)
            .zip(spiked.chunks_mut(super::vm::BATCH))
            .enumerate()
        {
            let at = Noise {
                neuron: noise.neuron + (b * super::vm::BATCH) as u32,
                ..*noise
            };
            self.batch.run(xs, n_vars, &at, &mut regs);
            for (k, fired) in spiked.iter_mut().enumerate() {
                *fired = self.batch.condition.is_some_and(|c| regs[c][k] != F::zero());
                let one = Noise {
                    neuron: at.neuron + k as u32,
                    ..at
                };
                let x = &mut xs[k * n_vars..(k + 1) * n_vars];
                if *fired {
                    self.on_spike.run(x, &mut [], self.parts(&one));
                }
                if !self.event_flags.is_empty() {
                    self.event_flags.run(x, &mut [], self.parts(&one));
                }
            }
        }
    }

    fn resets_apart(&self) -> bool {
        self.acts_after_synapses
    }

    fn runs_regularly(&self, step: u64, when: Sampled) -> bool {
        self.regularly.iter().any(|(s, _)| s.due(step, when))
    }

    fn regularly(&self, x: &mut [F], noise: &Noise, when: Sampled) {
        for (schedule, program) in &self.regularly {
            if schedule.due(noise.step, when) {
                program.run(x, &mut [], self.parts(noise));
            }
        }
    }

    fn after_synapses(&self, x: &mut [F], spiked: bool, noise: &Noise) {
        self.inputs.run(x, &mut [], self.parts(noise));
        if spiked {
            self.reset.run(x, &mut [], self.parts(noise));
        }
        for (flag, code) in &self.event_codes {
            if x[*flag] != F::zero() {
                code.run(x, &mut [], self.parts(noise));
            }
        }
    }

    fn refresh(&self, x: &mut [F], noise: &Noise) {
        self.refresh.run(x, &mut [], self.parts(noise));
    }
}

/// `record_entry`'s subexpressions (`record.spike_variables`, `record.event_variables`): each
/// computed by the refresh from the entry's neuron's state, as `refresh_neurons` computes it
/// for a trace, into its word of the entry (none where the model has none).
/// `computed` is the slots the refresh writes.
fn entry_subexpressions(m: &NeuronModel, names: &Names, target: &dyn Fn(Target) -> String, var_name: &dyn Fn(usize) -> String, computed: &[usize]) -> String {
    if computed.is_empty() {
        return String::new();
    }
    let mut declared = wgsl::reads(&m.refresh.body.iter().map(|s| &s.value).collect::<Vec<_>>(), |r| match r {
        Ref::Var(k) => Some(k),
        _ => None,
    });
    declared.extend(computed);
    declared.sort_unstable();
    declared.dedup();
    let mut out: String = declared.iter().map(|&k| format!("            var {} = state_at({k}u, i);\n", var_name(k))).collect();
    out.push_str(&wgsl::program(&m.refresh, names, target, "            ", "entry"));
    for &k in computed {
        out.push_str(&format!("            if ({k}u < words - 2u) {{ atomicStore(&spikes[3u + words * at + {k}u], bitcast<u32>({})); }}\n", var_name(k)));
    }
    out
}

/// The update's recording of the custom events its population records (bit e of
/// `population.record_events`): entries of the spike buffer as a spike's, under the index
/// `population.event_index` plus the event's rank among the population's recorded ones
/// (`backend::gpu::recording::decode_spikes` hands them back as `ChunkOutput::events`).
fn record_events(m: &NeuronModel, var_name: &dyn Fn(usize) -> String) -> String {
    let mut out = String::new();
    for (e, event) in m.events.iter().enumerate() {
        out.push_str(&format!(
            "    if ({flag} != 0.0 && (population.record_events & {bit}u) != 0u) {{
        record_entry(population.event_index + countOneBits(population.record_events & {below}u), i, local, t, (population.event_values & {bit}u) != 0u);
    }}
",
            flag = var_name(event.flag),
            bit = 1u32 << e,
            below = (1u32 << e) - 1,
        ));
    }
    out
}

/// The model's shader: `update_neurons` (refractoriness, integration, threshold),
/// `reset_neurons` (for the neurons that spiked, after the synapses' events) and
/// `refresh_neurons` (subexpressions into their slots, before a trace is gathered).
pub fn neuron_wgsl(m: &NeuronModel) -> String {
    let var_name = |k: usize| format!("x_{}", m.vars[k].name);
    let names = Names {
        var: &var_name,
        pre: &|_| unreachable!("a neuron reads no pre-synaptic variable"),
        syn: &|_| unreachable!("a neuron reads no synaptic variable"),
        // An instance's neurons are numbered within it, as in its own run.
        i: "f32(local)",
        j: "0.0",
        n: "f32(population.instance_size)",
    };
    let target = |t: Target| match t {
        Target::Var(k) => var_name(k),
        _ => unreachable!("temporaries are lets; neurons have no synaptic variables"),
    };
    let written = |progs: &[&super::ir::Program]| -> Vec<usize> {
        let mut out: Vec<usize> = progs
            .iter()
            .flat_map(|p| p.body.iter())
            .filter_map(|s| match s.target {
                Target::Var(k) => Some(k),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    let loads = |used: &[usize]| -> String {
        used.iter()
            .map(|&k| format!("    var {} = state_at({k}u, i);\n", var_name(k)))
            .collect()
    };
    let stores = |slots: &[usize]| -> String {
        slots
            .iter()
            .map(|&k| format!("    set_state({k}u, i, {});\n", var_name(k)))
            .collect()
    };
    let all_vars: Vec<usize> = (0..m.vars.len()).collect();
    let event_flags = m.event_flags();
    let update_written = written(&[&m.update, &m.on_spike, &event_flags]);
    // The subexpression slots the refresh computes, for a trace or a recorded entry.
    let refreshed = written(&[&m.refresh]);
    // Only what the update reads or writes is loaded: a parameter or subexpression slot it
    // does not touch costs no memory traffic.
    let mut update_nodes: Vec<&Node> = m
        .update
        .body
        .iter()
        .chain(&m.on_spike.body)
        .chain(&event_flags.body)
        .map(|s| &s.value)
        .collect();
    update_nodes.extend(m.threshold.as_ref());
    let mut update_used = wgsl::reads(&update_nodes, |r| match r {
        Ref::Var(k) => Some(k),
        _ => None,
    });
    update_used.extend(&update_written);
    update_used.sort_unstable();
    update_used.dedup();
    if !update_used.contains(&0) {
        update_used.insert(0, 0);
    }
    let mut threshold_lets = wgsl::Lets::new("threshold", "    ");
    let threshold = m
        .threshold
        .as_ref()
        .map(|c| wgsl::expr(c, &names, &mut threshold_lets))
        .unwrap_or_else(|| "0.0".into());
    let mut out = String::new();
    out.push_str("// requires: common/neuron_common common/instances\n");
    out.push_str(&format!(
        "// Generated by ganglion from the equations of model `{}` (method {}). The CPU runs the same\n// programs (src/equations/cpu.rs), statement for statement.\n",
        m.name,
        m.method.name()
    ));
    // The instance table is common/instances.wgsl's; these models keep their constants in
    // the code.
    out.push_str("struct Params {\n    _pad0: u32,\n    _pad1: u32,\n    _pad2: u32,\n    _pad3: u32,\n}\n\n");
    out.push_str(&format!("const DT: f32 = {};\n", wgsl::literal(m.dt)));
    out.push_str(wgsl::HELPERS);
    out.push_str(wgsl::TABLE_HELPER);
    out.push_str(&format!(
        "
// The draws of neuron `local` of its instance, after `enter_instance` (its noise key).
fn draw_normal_at(local: u32, stream: u32) -> f32 {{
    return normal_draw(noise_key, local, step_info.step_lo, step_info.step_hi, population.index, stream);
}}

fn draw_uniform_at(local: u32, stream: u32) -> f32 {{
    return uniform_draw(noise_key, local, step_info.step_lo, step_info.step_hi, population.index, stream);
}}

// The group's one draw (a value stored into a shared variable): its first neuron's.
fn draw_normal_group(stream: u32) -> f32 {{
    return draw_normal_at(0u, stream);
}}

fn draw_uniform_group(stream: u32) -> f32 {{
    return draw_uniform_at(0u, stream);
}}

// One entry of the spike buffer: (index << 24 | step_in_chunk, neuron), then, `with_values`,
// the first {recordable} variables as they are now (after the update, before the reset), the
// subexpressions among them computed from the others (their slots are not kept current).
fn record_entry(index: u32, i: u32, local: u32, t: f32, with_values: bool) {{
    let at = atomicAdd(&spikes[0], 1u);
    let words = population.spike_words;
    if (at < (arrayLength(&spikes) - 1u) / words) {{
        atomicStore(&spikes[1u + words * at], (index << 24u) | step_info.step_in_chunk);
        atomicStore(&spikes[2u + words * at], i);
        if (with_values) {{
            for (var k = 0u; k < min({recordable}u, words - 2u); k++) {{
                atomicStore(&spikes[3u + words * at + k], bitcast<u32>(state_at(k, i)));
            }}
{entry_subexpressions}        }}
    }}
}}

fn step_time() -> f32 {{
    return (f32(step_info.step_hi) * 4294967296.0 + f32(step_info.step_lo)) * DT;
}}

// This step's slot of the spike ring the synapses read (population.spike_slots steps deep).
fn spike_slot() -> u32 {{
    return ring_slot(step_info, 0u, population.spike_slots);
}}

@compute @workgroup_size(256)
fn update_neurons(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{
    let i = neuron_index(gid, groups);
    if (i >= population.n) {{
        return;
    }}
    let local = enter_instance(i);
    let t = step_time();
{loads}{update}{threshold_lets}    var fired = {threshold} != 0.0;
    if (fired) {{
{on_spike}    }}
{event_flags}{stores}    check_finite(population.index, i, x_{first});
    set_spiked(spike_slot(), i, select(0u, 1u, fired){event_bits});
    if (fired && population.record_spikes != 0u) {{
        record_entry(population.index, i, local, t, population.record_spikes == 2u);
    }}
{record_events}}}

@compute @workgroup_size(256)
fn reset_neurons(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{
    let i = neuron_index(gid, groups);
    if (i >= population.n) {{
        return;
    }}
    let local = enter_instance(i);
{after_synapses}}}

@compute @workgroup_size(256)
fn refresh_neurons(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{
    let i = neuron_index(gid, groups);
    if (i >= population.n) {{
        return;
    }}
    let local = enter_instance(i);
    let t = step_time();
{loads_all}{refresh}{refresh_stores}}}
",
        loads = loads(&update_used),
        update = wgsl::program(&m.update, &names, &target, "    ", "update"),
        threshold = threshold,
        threshold_lets = threshold_lets.text,
        on_spike = wgsl::program(&m.on_spike, &names, &target, "        ", "on_spike"),
        event_flags = wgsl::program(&event_flags, &names, &target, "    ", "event_flags"),
        record_events = record_events(m, &var_name),
        // Bit 1 + e of the spike ring's word: custom event e (synapses' `on_event`).
        event_bits = m
            .events
            .iter()
            .enumerate()
            .map(|(e, event)| format!(" | select(0u, {}u, {} != 0.0)", 1u32 << (1 + e), var_name(event.flag)))
            .collect::<String>(),
        stores = stores(&update_written),
        first = m.vars[0].name,
        recordable = m.spike_recordable(),
        entry_subexpressions = entry_subexpressions(m, &names, &target, &var_name, &refreshed),
        loads_all = loads(&all_vars),
        after_synapses = if !m.events.iter().any(|e| !e.code.is_empty()) && m.inputs.is_empty() {
            // Only the neurons that spiked.
            format!(
                "    if ((spiked_at(spike_slot(), i) & 1u) == 0u) {{\n        return;\n    }}\n    let t = step_time();\n{}{}{}",
                loads(&all_vars),
                wgsl::program(&m.reset, &names, &target, "    ", "reset"),
                stores(&written(&[&m.reset]))
            )
        } else {
            // The PoissonInputs for every neuron, the reset of those that spiked, then each
            // event's code where its flag is set (Brian2's `after_resets`).
            let mut codes = String::new();
            let mut programs = vec![&m.inputs, &m.reset];
            for e in m.events.iter().filter(|e| !e.code.is_empty()) {
                codes.push_str(&format!(
                    "    if ({} != 0.0) {{\n{}    }}\n",
                    var_name(e.flag),
                    wgsl::program(&e.code, &names, &target, "        ", &format!("event_{}", e.name))
                ));
                programs.push(&e.code);
            }
            format!(
                "    let t = step_time();\n{}{}    if ((spiked_at(spike_slot(), i) & 1u) != 0u) {{\n{}    }}\n{codes}{}",
                loads(&all_vars),
                wgsl::program(&m.inputs, &names, &target, "    ", "inputs"),
                wgsl::program(&m.reset, &names, &target, "        ", "reset"),
                stores(&written(&programs))
            )
        },
        refresh = wgsl::program(&m.refresh, &names, &target, "    ", "refresh"),
        refresh_stores = stores(&refreshed),
    ));
    // Brian2's run_regularly: one entry each, dispatched in the steps and slot it is due.
    for (j, (_, program)) in m.regularly.iter().enumerate() {
        out.push_str(&format!(
            "
@compute @workgroup_size(256)
fn regularly_{j}(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{
    let i = neuron_index(gid, groups);
    if (i >= population.n) {{
        return;
    }}
    let local = enter_instance(i);
    let t = step_time();
{}{}{}}}
",
            loads(&all_vars),
            wgsl::program(program, &names, &target, "    ", &format!("regularly{j}")),
            stores(&written(&[program]))
        ));
    }
    // The random draws of the neuron being updated.
    out.replace("draw_normal(", "draw_normal_at(local, ")
        .replace("draw_uniform(", "draw_uniform_at(local, ")
}
