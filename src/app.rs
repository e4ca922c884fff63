//! What the commands do, as library functions: the binary only parses arguments.

use crate::backend::{self, gpu, BackendOptions};
use crate::config::BackendChoice;
use crate::shape::Shape;
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::io::hdf5::{Hdf5Writer, RunMeta};
use crate::io::output::OutputTarget;
use crate::network::Network;
use crate::record::RecordPlan;
use crate::simulator::{self, RunOptions, RunSummary};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Debug, Default)]
pub struct RunRequest {
    pub config: PathBuf,
    pub overrides: Vec<String>,
    pub output: Option<PathBuf>,
    pub force: bool,
    pub run: RunOptions,
    /// A sweep's part to run (`--slice K/M`); None runs every instance.
    pub slice: Option<crate::sweep::Slice>,
}

/// What `run` ran: one network, or a sweep's instances.
#[derive(Clone, Debug)]
pub enum Ran {
    Single(RunSummary),
    Sweep(crate::sweep::run::SweepSummary),
}

/// Where the output goes: `--output`, else `output.path`, else `out/<config name>.h5`.
pub fn output_path(config: &Config, config_path: &Path, requested: Option<&Path>) -> PathBuf {
    requested
        .map(Path::to_owned)
        .or_else(|| config.output.path.clone())
        .unwrap_or_else(|| {
            let stem = config_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "run".into());
            PathBuf::from("out").join(format!("{stem}.h5"))
        })
}

pub fn backend_options(config: &Config) -> BackendOptions {
    BackendOptions {
        choice: config.simulation.backend,
        precision: config.simulation.precision,
        adapter: config.simulation.adapter.clone(),
        gpu: gpu::GpuOptions::of(&config.simulation),
    }
}

/// Parses, validates and builds, then runs into a partial file that replaces the output
/// only when the run ends with a file saying what happened (`io::output`). Refuses an
/// existing output, a busy one, and a network that does not fit in memory before any work.
pub fn run(req: &RunRequest) -> Result<(PathBuf, RunSummary)> {
    let config = config::load(&req.config, &req.overrides)?;
    if config.sweep.is_some() {
        return Err(Error::config("sweep", "this config sweeps: run it with `ganglion run` (app::run_any)"));
    }
    run_single(req, config)
}

/// Runs a config: a single network, or every instance of its `[sweep]` (those of
/// `req.slice`) into one file.
pub fn run_any(req: &RunRequest) -> Result<(PathBuf, Ran)> {
    let config = config::load(&req.config, &req.overrides)?;
    match crate::sweep::Sweep::from_config(&config)? {
        Some(sweep) => {
            let path = crate::sweep::run::slice_path(&output_path(&config, &req.config, req.output.as_deref()), req.slice.filter(|_| req.output.is_none()));
            let (path, summary) = crate::sweep::run::run(req, &config, &sweep, &path)?;
            Ok((path, Ran::Sweep(summary)))
        }
        None if req.slice.is_some() => Err(Error::config("--slice", "the config has no [sweep] to slice")),
        None => run_single(req, config).map(|(p, s)| (p, Ran::Single(s))),
    }
}

fn run_single(req: &RunRequest, mut config: Config) -> Result<(PathBuf, RunSummary)> {
    let path = output_path(&config, &req.config, req.output.as_deref());
    let sonata_dir = config.output.sonata_dir.clone();
    if let Some(dir) = &sonata_dir {
        crate::io::sonata::output_dir::check_target(dir, req.force)?;
    }
    let target = OutputTarget::claim(&path, req.force)?;
    // The file records the output it was written to, whichever way it was chosen.
    config.output.path = Some(path.clone());
    let estimated = crate::memory::ensure_fits(&config)?;
    let net = Network::build(&config)?;
    let mut plan = RecordPlan::from_config(&config);
    plan.resolve(&net)?;
    let mut backend = backend::create(&net, &plan, &backend_options(&config))?;
    let meta = RunMeta::of(&req.config, &config, &backend.info());
    let started = Instant::now();
    let mut writer = match Hdf5Writer::create(target.partial(), true, &net, &plan, &meta) {
        Ok(w) => w,
        Err(e) => {
            target.abandon(false);
            return Err(e);
        }
    };
    let opts = RunOptions {
        chunk_steps: config.simulation.chunk_steps.or(req.run.chunk_steps),
        ..req.run.clone()
    };
    let result = simulator::run(&net, backend.as_mut(), &plan, &mut writer, &opts);
    let reason = crate::io::hdf5::stop_reason(&result);
    let written = writer.steps_written();
    let closed = writer.finish_as(started.elapsed().as_secs_f64(), reason);
    let result = result.map(|mut summary| {
        summary.host_memory = Some((crate::memory::peak_host_bytes(), estimated));
        summary
    });
    let (path, summary) = settle(target, result, closed, written, net.dt_ms)?;
    if let Some(dir) = &sonata_dir {
        crate::io::sonata::output_dir::write(&path, dir)?;
    }
    Ok((path, summary))
}

/// What becomes of a run's partial file. Complete, interrupted and diverged runs take the
/// output's place (the last two also return their error). A failed write leaves a file that
/// may not be readable: it is removed. Any other failure keeps the steps it simulated in the
/// partial file. Either way the output path stays as it was.
fn settle(
    target: OutputTarget,
    result: Result<RunSummary>,
    closed: Result<PathBuf>,
    steps_written: u64,
    dt_ms: f64,
) -> Result<(PathBuf, RunSummary)> {
    let write_failed = |e: &Error| matches!(e, Error::Hdf5 { .. } | Error::Io { .. });
    let failure = match (result, closed) {
        (Ok(summary), Ok(_)) => return Ok((target.commit()?, summary)),
        (Err(e @ (Error::Interrupted { .. } | Error::Diverged { .. })), Ok(_)) => {
            target.commit()?;
            return Err(e);
        }
        (Err(e), _) | (Ok(_), Err(e)) => e,
    };
    let shown = target.target().display().to_string();
    let keep = !write_failed(&failure) && steps_written > 0;
    let outcome = match target.abandon(keep) {
        Some(partial) => format!(
            "the {} ms simulated are in {}; {shown} was left as it was",
            steps_written as f64 * dt_ms,
            partial.display()
        ),
        None if write_failed(&failure) => format!(
            "the partial output could not be completed and was removed; {shown} was left as it was"
        ),
        None => format!("nothing was written; {shown} was left as it was"),
    };
    Err(Error::RunFailed {
        source: Box::new(failure),
        outcome,
    })
}

/// `ganglion check`: the network's size and memory without building or running it: all from
/// the config's shape. A network that does not fit the host's memory is refused; where the
/// run would use the GPU, its limits are applied as `run` applies them.
/// The WGSL generated for a config's models and synapses written as equations.
pub fn generated_wgsl(config_path: &Path, overrides: &[String]) -> Result<String> {
    let config = config::load(config_path, overrides)?;
    let mut out = String::new();
    let mut seen = Vec::new();
    for (index, name) in config.populations.keys().enumerate() {
        let kind = config.model(index);
        if kind.generated_wgsl().is_none() || seen.contains(&kind.name()) {
            continue;
        }
        seen.push(kind.name());
        out.push_str(&format!("// ===== model `{}` (population `{name}`) =====\n", kind.name()));
        out.push_str(kind.generated_wgsl().unwrap_or_default());
        out.push('\n');
    }
    let shape = crate::shape::Shape::from_config(&config);
    for (index, ((name, _), (program, ends))) in config
        .projections
        .iter()
        .zip(config.resolved.synapses.iter().zip(&config.resolved.projections))
        .enumerate()
    {
        let Some(program) = program else { continue };
        let Some(post) = config.model(ends.target).equations() else {
            continue;
        };
        out.push_str(&format!("// ===== synapse `{}` (projection `{name}`) =====\n", program.name));
        out.push_str(&program.wgsl(post, ends.source == ends.target, shape.projections[index].arrival_slots));
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("// no model or synapse of this config is written as equations\n");
    }
    Ok(out)
}

/// A projection's end as `check` names it: a population, or a subgroup with its neurons
/// (Brian2's `P[a:b]`).
fn group_name(config: &Config, name: &str) -> String {
    match config.group(name) {
        Some(g) if g.subgroup => {
            let population = config.populations.keys().nth(g.population).map_or("", String::as_str);
            format!("{name} ({population}[{}:{}])", g.first, g.first + g.size)
        }
        _ => name.to_string(),
    }
}

/// What a projection takes from its SONATA edges: the attributes read (from the edges'
/// groups and types), and for a built-in synapse what its weights are.
fn describe_edges(e: &crate::io::sonata::Edges, spec: &config::Projection, builtin: bool) -> String {
    let mut text = format!("SONATA edges `{}`: attributes {}", e.population, e.attribute_names());
    if builtin {
        let weight = if e.attribute("syn_weight").is_some() { "syn_weight" } else { "the projection's weight" };
        text += &match spec.connectivity.weight_scale() {
            Some(scale) => format!("; weights {weight} × {scale}"),
            None => format!("; weights {weight}"),
        };
    }
    text
}

/// A linked variable: what it reads, through which neurons.
fn describe_link(link: &config::Link, shape: &Shape) -> String {
    let source = &shape.populations[link.source];
    let var = link.name.rsplit('.').next().unwrap_or(&link.name);
    let how = match &link.index {
        _ if source.size == 1 => "its one neuron for all".to_string(),
        config::LinkIndex::Neurons(list) if list.iter().enumerate().all(|(i, &j)| i == j as usize) => "neuron for neuron".to_string(),
        config::LinkIndex::Neurons(_) => "through `index`".to_string(),
        config::LinkIndex::Variable(slot) => {
            let var = shape.populations[link.target].model.variables().get(*slot).map_or("?", |v| v.name);
            format!("through each neuron's `{var}`")
        }
    };
    let read = &link.variable;
    let name = &source.name;
    let again = if link.source < link.target {
        format!("just before this population's update, `{name}` updating first")
    } else {
        format!("after the updates, `{name}` updating with or after this population")
    };
    let reset = if link.reset_reads { ", and before this population's reset, which reads it" } else { "" };
    format!("`{var}` linked to `{name}.{read}`, {how} (copied at each step's start and {again}{reset}; and before a trace sampled at the step's end)")
}

pub fn check(config_path: &Path, overrides: &[String]) -> Result<String> {
    let (text, refusal) = check_report(config_path, overrides)?;
    refusal.map_or(Ok(text), Err)
}

/// `check`'s report, and apart from it the refusal of a network this host's memory cannot
/// hold: the report still describes it (and the GPU it is checked for), as a config is often
/// checked on another machine than the one that runs it.
pub fn check_report(config_path: &Path, overrides: &[String]) -> Result<(String, Option<Error>)> {
    use std::fmt::Write;
    let config = config::load(config_path, overrides)?;
    let shape = Shape::from_config(&config);
    let plan = RecordPlan::from_config(&config);
    let estimate = crate::memory::estimate_run(&config, &shape, &plan);
    let mut s = String::new();
    let _ = writeln!(s, "{}: valid", config_path.display());
    for (index, p) in shape.populations.iter().enumerate() {
        let _ = writeln!(
            s,
            "  population {:<12} {:>10} neurons  model {}",
            p.name,
            p.size,
            p.model.name()
        );
        if let Some(text) = config.model_params(index)?.describe() {
            let _ = writeln!(s, "    {text}");
        }
        if let Some(nodes) = &config.resolved.nodes[index] {
            let _ = writeln!(s, "    {}", describe_nodes(nodes, config.model(index).equations()));
        }
        for link in config.resolved.links.iter().filter(|l| l.target == index) {
            let _ = writeln!(s, "    {}", describe_link(link, &shape));
        }
    }
    let projections = shape.projections.iter().zip(config.projections.values());
    for (((p, spec), edges), program) in projections.zip(&config.resolved.edges).zip(&config.resolved.synapses) {
        let about = matches!(spec.connectivity, config::Connectivity::FixedProbability { .. } | config::Connectivity::Expression { .. });
        let _ = writeln!(
            s,
            "  projection {:<12} {:>10} synapses{} {} -> {}",
            p.name,
            p.synapses,
            if about { " (expected)" } else { "" },
            group_name(&config, &spec.source),
            group_name(&config, &spec.target)
        );
        if let Some(e) = edges {
            let _ = writeln!(s, "    {}", describe_edges(e, spec, config.builtin_synapse(spec).is_some()));
        }
        if let Some(program) = program {
            let pathway = match (program.on_pre.is_empty(), p.arrival_slots, p.delay_steps) {
                (true, ..) => String::new(),
                (false, 0, None) => "; on_pre on the GPU: its delays are drawn (see below)".into(),
                (false, 0, Some(_)) => "; on_pre on the GPU: every synapse walked each step (delays of 32 steps or more)".into(),
                (false, 1, _) => "; on_pre on the GPU: the arriving synapses marked, one bit each".into(),
                (false, slots, _) => format!("; on_pre on the GPU: the arriving synapses marked ahead, one bit each in {slots} steps"),
            };
            let post = match p.post_delay_steps {
                Some(0) => String::new(),
                Some(d) => format!("; on_post {d} steps after the post-synaptic spike"),
                None => "; on_post each synapse's delay after the post-synaptic spike (drawn)".into(),
            };
            let on_event: String = spec
                .on_event
                .iter()
                .flat_map(|on| [("on_pre", "source", &on.pre), ("on_post", "target", &on.post)])
                .filter_map(|(pathway, whose, event)| event.as_ref().map(|e| format!("; {pathway} on the {whose}'s event `{e}`")))
                .collect();
            let _ = writeln!(s, "    {}{pathway}{post}{on_event}", program.describe());
        }
    }
    let _ = writeln!(
        s,
        "  total: {} neurons, {} synapses, {} steps of {} ms",
        shape.n_neurons(),
        shape.n_synapses(),
        shape.n_steps,
        config.simulation.dt_ms
    );
    let available = crate::memory::available();
    let _ = writeln!(
        s,
        "  host memory: about {} at peak (network {}, its construction {}, backend {}, recording {}); {}",
        human_bytes(estimate.peak()),
        human_bytes(estimate.network),
        human_bytes(estimate.build_peak),
        human_bytes(estimate.backend),
        human_bytes(estimate.recording),
        available.as_ref().map_or("available memory unknown".into(), |a| format!(
            "{} available ({})",
            human_bytes(a.bytes),
            a.bound
        ))
    );
    let chunk = simulator::chunk_steps_of(&shape, &plan, config.simulation.chunk_steps);
    // The device's refusal first: on a GPU machine it is the one that matters.
    s.push_str(&check_gpu(&config, &shape, &plan, chunk)?);
    let host_refusal = crate::memory::fits(estimate.peak(), available.as_ref()).err();
    let rates = if config.record.rates.is_empty() {
        String::new()
    } else {
        let smoothed = match &plan.smooth_rate {
            Some(sm) => format!(", smoothed when the run ends ({} window of {} steps, width {} ms)", sm.window, sm.weights.len(), sm.used_width_ms),
            None => String::new(),
        };
        format!(", and the rate of {} every step (8 B a step each){smoothed}", config.record.rates.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "))
    };
    let spike_values: String = config
        .record
        .spike_variables
        .iter()
        .map(|(p, vars)| format!(", and with each spike of `{p}`: {} ({} B a spike)", vars.join(", "), 4 * vars.len()))
        .collect();
    let events: String = config
        .record
        .events
        .iter()
        .map(|(p, events)| {
            let with = |e: &String| match config.record.event_variables.get(p).and_then(|by| by.get(e)) {
                Some(vars) => format!("`{e}` (with {})", vars.join(", ")),
                None => format!("`{e}`"),
            };
            format!(", and the events {} of `{p}`", events.iter().map(with).collect::<Vec<_>>().join(", "))
        })
        .collect();
    // Brian2's monitors of `P[a:b]` number its neurons from a.
    let subgroups: String = plan
        .subgroups
        .iter()
        .map(|g| {
            let what = match (g.spikes, g.rate) {
                (true, true) => "the spikes and rate",
                (true, false) => "the spikes",
                _ => "the rate",
            };
            let population = config.populations.keys().nth(g.population).expect("a subgroup's population");
            format!(", and {what} of subgroup `{}` ({population}[{}:{}], its neurons numbered from 0)", g.name, g.first, g.first + g.size)
        })
        .collect();
    let _ = writeln!(
        s,
        "  recording: {} of traces per chunk of {} steps{rates}{spike_values}{events}{subgroups}",
        human_bytes(plan.expected_trace_bytes_per_chunk(chunk, &shape)),
        chunk
    );
    if let Some(sweep) = crate::sweep::Sweep::from_config(&config)? {
        s.push_str(&crate::sweep::check::describe(&config, &sweep, estimate.peak())?);
    }
    Ok((s, host_refusal))
}

/// What a population takes from its SONATA nodes: the attributes that set its variables (a
/// model written as equations), and those it has no variable for.
fn describe_nodes(nodes: &crate::io::sonata::nodes::Nodes, model: Option<&crate::equations::neuron::NeuronModel>) -> String {
    let (set, unused): (Vec<&str>, Vec<&str>) = nodes
        .attributes
        .iter()
        .map(|(name, _)| name.as_str())
        .partition(|name| model.and_then(|m| m.settable_slot(name)).is_some());
    let list = |v: &[&str]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    format!("SONATA nodes `{}`: initial values of {}; attributes not read: {}", nodes.population, list(&set), list(&unused))
}

/// `check`'s GPU lines: the buffers (the largest, and the parts of any matrix cut to fit a
/// binding), the step's dispatches, and the limits they were checked against: the adapter's
/// when the run would take a GPU, the declared ones (`simulation.gpu_max_binding_mib`,
/// `simulation.gpu_memory_gib`) otherwise, which is how a network is checked for a device
/// not at hand.
fn check_gpu(config: &Config, shape: &Shape, plan: &RecordPlan, chunk: u64) -> Result<String> {
    use std::fmt::Write;
    let sim = &config.simulation;
    let options = gpu::GpuOptions::of(sim);
    let on_gpu = match sim.backend {
        BackendChoice::Gpu => true,
        BackendChoice::Auto => sim.adapter.is_some() || gpu::context::hardware_adapter_present(),
        BackendChoice::Cpu => false,
    };
    let device = if on_gpu {
        let adapter = gpu::context::choose_adapter(sim.adapter.as_deref())?;
        Some((adapter.get_info().name, options.limits(&adapter.limits())))
    } else if options.max_binding_bytes.is_some() || options.memory_bytes.is_some() {
        // Only the binding and the memory are declared: the count of storage bindings is
        // left to the device (thousands on discrete GPUs' Vulkan drivers).
        let unbounded = wgpu::Limits {
            max_storage_buffer_binding_size: u64::MAX,
            max_buffer_size: u64::MAX,
            max_storage_buffers_per_shader_stage: u32::MAX,
            ..wgpu::Limits::default()
        };
        Some(("the declared device".to_string(), options.limits(&unbounded)))
    } else {
        None
    };
    let binding_limit = device
        .as_ref()
        .map_or(u64::MAX, |(_, limits)| gpu::preflight::binding_limit(limits));
    let coupling = gpu::resolved(shape, sim.gpu_coupling, binding_limit)?;
    let required = gpu::required_bytes(shape, plan, chunk, coupling);
    let mut s = String::new();
    let limits_for_listing = device
        .as_ref()
        .map_or_else(wgpu::Limits::default, |(_, limits)| limits.clone());
    let buffers = gpu::preflight::network_buffers(shape, coupling, &limits_for_listing)?;
    let largest = buffers
        .iter()
        .max_by_key(|b| b.bytes)
        .map(|b| {
            let parts = match (b.parts, &device) {
                (Some(n), Some(_)) if n > 1 => format!(", in {n} parts"),
                _ => String::new(),
            };
            format!(" (largest `{}`, {}{parts})", b.label, human_bytes(b.bytes))
        })
        .unwrap_or_default();
    let _ = writeln!(s, "  GPU buffers: {}{largest}", human_bytes(required));
    for (index, p) in shape.populations.iter().enumerate().filter(|(i, _)| !shape.spike_slots_known(*i)) {
        let _ = writeln!(
            s,
            "    `{}` keeps its spikes for its synapses' longest delay, which is drawn: counted here as {} step{}; `run` checks the drawn delays before building",
            p.name,
            shape.spike_slots(index),
            if shape.spike_slots(index) == 1 { "" } else { "s" }
        );
    }
    for p in shape.projections.iter().filter(|p| p.equation_passes.is_some() && p.delay_steps.is_none()) {
        let _ = writeln!(
            s,
            "    `{}`: its delays are drawn, so its `on_pre` arrivals are counted here as walked; `run` marks them ahead (a bit per synapse and step) where the longest is under {} steps",
            p.name,
            crate::equations::synapse::MAX_ARRIVAL_SLOTS
        );
    }
    let kernel = gpu::kernel_name(shape, coupling)
        .map_or("no graded coupling".into(), |k| format!("graded coupling {k}"));
    let dispatches = gpu::dispatches_per_step(shape, coupling, sim.gpu_event_delivery, binding_limit);
    let separate = sim.gpu_event_delivery == crate::config::EventDelivery::Separate
        && shape.projections.iter().any(|p| p.is_event_driven());
    let _ = writeln!(
        s,
        "  GPU step: {dispatches} dispatch{}, {kernel}{}",
        if dispatches == 1 { "" } else { "es" },
        if separate { ", events delivered separately" } else { "" }
    );
    if let Some((name, limits)) = &device {
        gpu::preflight::check(shape, coupling, limits, name)?;
        // Matrices are cut by whole rows, states by whole variables or, past one variable per
        // binding, every per-neuron array by ranges of neurons, the event-driven g and rings
        // by whole projections or, past one projection per binding, ranges of targets.
        let cut = |by: &str, what: &str| -> String {
            let listed: Vec<String> = buffers
                .iter()
                .filter(|b| b.parts.is_some_and(|n| n > 1) && b.cut_by == by)
                .map(|b| format!("`{}` {}", b.label, b.parts.unwrap_or(1)))
                .collect();
            if listed.is_empty() {
                String::new()
            } else {
                format!("; {what} {by}: {}", listed.join(", "))
            }
        };
        let _ = writeln!(
            s,
            "  GPU limits: every buffer binds on {name} (at most {} each){}{}{}{}{}",
            human_bytes(binding_limit),
            cut("rows", "cut into parts by whole"),
            cut("variables", "states cut into parts of whole"),
            cut("neurons", "per-neuron arrays cut into ranges of"),
            cut("projections", "event-driven g and rings cut into parts of whole"),
            cut("targets", "event-driven g and rings cut into parts of whole projections or ranges of"),
        );
        if let Some(memory) = options.memory_bytes {
            gpu::preflight::check_memory(shape, coupling, limits, required, memory, name)?;
            let _ = writeln!(
                s,
                "  GPU memory: {} of {} (simulation.gpu_memory_gib)",
                human_bytes(required),
                human_bytes(memory)
            );
        }
    }
    Ok(s)
}

pub use crate::units::human_bytes;

/// `ganglion info`: the backends and the GPU adapters with their limits.
pub fn info() -> String {
    let mut s = format!(
        "ganglion {}\ncpu: reference backend, f64 or f32, {} threads\n",
        env!("CARGO_PKG_VERSION"),
        rayon::current_num_threads()
    );
    s.push_str(&crate::backend::gpu::describe_adapters());
    s
}

/// `ganglion validate`: the comparison table and whether every population passed.
pub fn validate(
    config_path: &Path,
    overrides: &[String],
    cpu_precision: &str,
    tol: &crate::compare::Tolerances,
) -> Result<(String, bool)> {
    let mut o = overrides.to_vec();
    o.push(format!("simulation.precision=\"{cpu_precision}\""));
    let config = config::load(config_path, &o)?;
    let rows = crate::compare::validate(&config, config.simulation.precision, tol)?;
    let pass = rows.iter().all(|r| r.pass());
    Ok((crate::compare::table(&rows, tol), pass))
}

/// `ganglion bench`: one row per backend.
pub fn bench(
    config_path: &Path,
    overrides: &[String],
    steps: u64,
    repeat: usize,
    backends: &[String],
) -> Result<String> {
    let choices = parse_backends(backends)?;
    let loading = std::time::Instant::now();
    let config = config::load(config_path, overrides)?;
    let net = Network::build(&config)?;
    let load_s = loading.elapsed().as_secs_f64();
    let mut rows = Vec::new();
    for choice in choices {
        let opts = BackendOptions {
            choice,
            ..backend_options(&config)
        };
        rows.push(crate::bench::bench(&net, &opts, steps, repeat, load_s)?);
    }
    Ok(crate::bench::table(&rows))
}

/// The `--backends` list of `bench` and `scale`: each `cpu` or `gpu`.
pub fn parse_backends(names: &[String]) -> Result<Vec<crate::config::BackendChoice>> {
    names
        .iter()
        .map(|name| match name.trim() {
            "cpu" => Ok(crate::config::BackendChoice::Cpu),
            "gpu" => Ok(crate::config::BackendChoice::Gpu),
            other => Err(crate::Error::config(
                "--backends",
                format!("unknown backend `{other}`; expected cpu or gpu"),
            )),
        })
        .collect()
}
