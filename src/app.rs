//! What the commands do, as library functions: the binary only parses arguments.

use crate::backend::{self, BackendOptions};
use crate::config::{self, Config};
use crate::error::Result;
use crate::io::hdf5::{Hdf5Writer, RunMeta};
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
        coupling: config.simulation.gpu_coupling,
    }
}

/// Parses, validates and builds; refuses an existing output before any work.
pub fn run(req: &RunRequest) -> Result<(PathBuf, RunSummary)> {
    let config = config::load(&req.config, &req.overrides)?;
    let path = output_path(&config, &req.config, req.output.as_deref());
    Hdf5Writer::check_target(&path, req.force)?;
    let net = Network::build(&config)?;
    let plan = RecordPlan::from_config(&config, &net);
    let mut backend = backend::create(&net, &plan, &backend_options(&config))?;
    let info = backend.info();
    let meta = RunMeta {
        config_name: req.config.display().to_string(),
        config_toml: config.to_toml(),
        backend: format!("{} ({})", info.kind, info.device),
        precision: info.precision.to_string(),
        seed: config.simulation.seed,
    };
    let started = Instant::now();
    let mut writer = Hdf5Writer::create(&path, req.force, &net, &plan, &meta)?;
    let result = simulator::run(&net, backend.as_mut(), &plan, &mut writer, &req.run);
    // Whatever happened, the file records how long it ran and whether it is complete.
    let closed = writer.finish(started.elapsed().as_secs_f64(), result.is_ok());
    let summary = result?;
    Ok((closed?, summary))
}

/// `ganglion check`: the network's size without running it.
pub fn check(config_path: &Path, overrides: &[String]) -> Result<String> {
    let config = config::load(config_path, overrides)?;
    let net = Network::build(&config)?;
    let plan = RecordPlan::from_config(&config, &net);
    let mut s = String::new();
    use std::fmt::Write;
    let _ = writeln!(s, "{}: valid", config_path.display());
    for p in &net.populations {
        let _ = writeln!(
            s,
            "  population {:<12} {:>10} neurons  model {}",
            p.name,
            p.size,
            config.populations[&p.name].model.as_str()
        );
    }
    for p in &net.projections {
        let _ = writeln!(
            s,
            "  projection {:<12} {:>10} synapses {} -> {}",
            p.name,
            p.csr.n_synapses(),
            net.populations[p.source].name,
            net.populations[p.target].name
        );
    }
    let steps = net.n_steps;
    let chunk = simulator::chunk_steps(&net, &plan, config.simulation.chunk_steps);
    let coupling = crate::backend::gpu::resolved(&net, config.simulation.gpu_coupling)?;
    let _ = writeln!(
        s,
        "  total: {} neurons, {} synapses, {} steps of {} ms",
        net.n_neurons(),
        net.n_synapses(),
        steps,
        net.dt_ms
    );
    let _ = writeln!(
        s,
        "  memory: {} in f64 on the CPU, {} in f32; GPU buffers {}",
        human_bytes(net.memory_bytes(8) as u64),
        human_bytes(net.memory_bytes(4) as u64),
        human_bytes(crate::backend::gpu::required_bytes(
            &net, &plan, chunk, coupling
        ))
    );
    let kernel = crate::backend::gpu::kernel_name(&net, coupling)
        .map_or("no graded coupling".into(), |k| {
            format!("graded coupling {k}")
        });
    let dispatches = crate::backend::gpu::dispatches_per_step(&net, coupling);
    let _ = writeln!(
        s,
        "  GPU step: {dispatches} dispatch{}, {kernel}",
        if dispatches == 1 { "" } else { "es" }
    );
    let _ = writeln!(
        s,
        "  recording: {} of traces per chunk of {} steps",
        human_bytes(plan.trace_bytes_per_chunk(chunk)),
        chunk
    );
    Ok(s)
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = b as f64;
    let mut u = 0;
    while x >= 1024.0 && u < UNITS.len() - 1 {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}

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
    tol: &crate::validate::Tolerances,
) -> Result<(String, bool)> {
    let mut o = overrides.to_vec();
    o.push(format!("simulation.precision=\"{cpu_precision}\""));
    let config = config::load(config_path, &o)?;
    let rows = crate::validate::validate(&config, config.simulation.precision, tol)?;
    let pass = rows.iter().all(|r| r.pass());
    Ok((crate::validate::table(&rows, tol), pass))
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
    let config = config::load(config_path, overrides)?;
    let net = Network::build(&config)?;
    let mut rows = Vec::new();
    for choice in choices {
        let opts = BackendOptions {
            choice,
            ..backend_options(&config)
        };
        rows.push(crate::bench::bench(&net, &opts, steps, repeat)?);
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
