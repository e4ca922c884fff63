//! Host memory: what a run will need, estimated from the network's shape before anything is
//! built, and what this process may still take (free memory, `ulimit -v`, the cgroup's
//! limit). A network that does not fit is refused with both figures instead of aborting
//! halfway through an allocation.

use crate::config::{BackendChoice, Config, Precision};
use crate::error::{Error, Result};
use crate::shape::Shape;

/// What the process holds before any network: code, libraries, thread stacks, allocator
/// arenas (measured: 12–22 MiB resident on the CPU backend).
const BASELINE_BYTES: u64 = 20 << 20;
/// What the Vulkan loader and driver hold on the host once a device is open (measured with
/// lavapipe: 80–100 MiB; hardware drivers hold less).
const GPU_DRIVER_BYTES: u64 = 96 << 20;
/// Per heap allocation, the allocator's header and rounding (glibc: 8–16 bytes, plus the
/// `Vec` itself, 24): the connectivity is built one `Vec` per row.
const PER_ROW_BYTES: u64 = 48;

/// The estimate, by part.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// The network's arrays, held for the whole run.
    pub network: u64,
    /// The largest temporary while the connectivity is built (one projection at a time).
    pub build_peak: u64,
    /// The backend's own copy of state and connectivity on the host (GPU: the upload copies).
    pub backend: u64,
    /// Recording buffers of one chunk.
    pub recording: u64,
}

impl Estimate {
    /// Peak resident memory of a run: the network with its build temporaries, or with the
    /// backend and the recording, whichever is larger.
    pub fn peak(&self) -> u64 {
        BASELINE_BYTES + self.network + self.build_peak.max(self.backend + self.recording)
    }
}

/// Bytes a run of `config` needs on the host, on the backend it names (`auto` counted as the
/// CPU, the larger), recording `trace_bytes_per_chunk` of traces per chunk.
pub fn estimate(
    shape: &Shape,
    backend: BackendChoice,
    precision: Precision,
    trace_bytes_per_chunk: u64,
) -> Estimate {
    let float = match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    let mut network = 0u64;
    let mut build_peak = 0u64;
    let mut cpu = 0u64;
    let mut gpu = 0u64;
    for (index, p) in shape.populations.iter().enumerate() {
        network += p.n_vars as u64 * p.size * 8;
        // State, synaptic input (two words), a spike flag per step of spike history.
        cpu += p.size * ((p.n_vars as u64 + 2) * float + shape.spike_slots(index));
        gpu += p.size * (p.n_vars as u64 + 1) * 4;
    }
    for p in &shape.projections {
        let s = p.synapses;
        let w = p.per_synapse_weights as u64;
        if p.procedural {
            // Row pointers alone (event-driven: by source, and g0); the CPU reference draws
            // the sources once into its own.
            let rows = if p.ring_slots.is_some() { p.n_source } else { p.n_target };
            network += (rows + 1) * 4 + (p.n_target + 1) * 4;
            build_peak = build_peak.max(rows * 4);
            cpu += (rows + 1) * 4 + s * 4;
            if let Some(slots) = p.ring_slots {
                network += p.n_target * 8;
                cpu += p.n_target * (float + 4 * slots);
                gpu += (rows + 1) * 4 + p.n_target * (4 + 4 * slots);
            }
            continue;
        }
        let csr = (p.n_target + 1) * 4 + s * (4 + 8 * w);
        // Synapses written as equations: their variables and delays, in the network (f64)
        // and in the backend.
        let values = s * p.values_per_synapse;
        network += values * 8;
        cpu += values * float;
        gpu += values * 4;
        // Rows are drawn into one Vec each, then copied into the CSR (weights likewise).
        let mut transient = s * (4 + 8 * w) + p.n_target * PER_ROW_BYTES * (1 + w);
        network += csr;
        match p.ring_slots {
            None => {
                cpu += (p.n_target + 1) * 4 + s * (4 + float * w);
                gpu += s * 4 * w;
            }
            Some(slots) => {
                // The transpose by source, the fixed-point weights and g0.
                network += (p.n_source + 1) * 4 + s * (4 + 8 * w) + s * 4 * w + p.n_target * 8;
                transient = transient.max(s * 8);
                cpu += (p.n_source + 1) * 4 + s * (4 + 4 * w) + p.n_target * (float + 4 * slots);
                gpu += (p.n_source + 1) * 4 + s * (4 + 4 * w) + p.n_target * (4 + 4 * slots);
            }
        }
        build_peak = build_peak.max(transient);
    }
    let backend = match backend {
        BackendChoice::Gpu => gpu + GPU_DRIVER_BYTES,
        BackendChoice::Cpu | BackendChoice::Auto => cpu.max(gpu),
    };
    Estimate {
        network,
        build_peak,
        backend,
        // The chunk being filled and the one being written.
        recording: 2 * trace_bytes_per_chunk,
    }
}

/// How much more memory this process may take, and what sets that bound.
#[derive(Clone, Debug, PartialEq)]
pub struct Available {
    pub bytes: u64,
    pub bound: &'static str,
}

fn proc_kib(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Peak resident memory of this process (VmHWM), bytes; 0 where /proc is not there.
pub fn peak_host_bytes() -> u64 {
    proc_kib("/proc/self/status", "VmHWM:").map_or(0, |kib| kib * 1024)
}

/// The least of: free memory (MemAvailable), the address space `ulimit -v` leaves, and the
/// cgroup's limit less its use. None where none of them can be read.
pub fn available() -> Option<Available> {
    let mut bounds: Vec<Available> = Vec::new();
    if let Some(kib) = proc_kib("/proc/meminfo", "MemAvailable:") {
        bounds.push(Available {
            bytes: kib * 1024,
            bound: "free memory (MemAvailable)",
        });
    }
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct it is given and nothing else.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } == 0;
        if ok && limit.rlim_cur != libc::RLIM_INFINITY {
            let used = proc_kib("/proc/self/status", "VmSize:").unwrap_or(0) * 1024;
            bounds.push(Available {
                // rlim_t is u64 on Linux and macOS, but not by definition.
                #[allow(clippy::unnecessary_cast)]
                bytes: (limit.rlim_cur as u64).saturating_sub(used),
                bound: "the address-space limit (ulimit -v)",
            });
        }
    }
    let cgroup = read_u64("/sys/fs/cgroup/memory.max")
        .zip(read_u64("/sys/fs/cgroup/memory.current"))
        .or_else(|| {
            read_u64("/sys/fs/cgroup/memory/memory.limit_in_bytes")
                .zip(read_u64("/sys/fs/cgroup/memory/memory.usage_in_bytes"))
        });
    if let Some((max, used)) = cgroup.filter(|(max, _)| *max < 1 << 60) {
        bounds.push(Available {
            bytes: max.saturating_sub(used),
            bound: "the cgroup's memory limit",
        });
    }
    bounds.into_iter().min_by_key(|a| a.bytes)
}

/// The estimate for a run of `config`, whose shape and recording plan are given.
pub fn estimate_run(config: &Config, shape: &Shape, plan: &crate::record::RecordPlan) -> Estimate {
    let chunk = crate::simulator::chunk_steps_of(shape, plan, config.simulation.chunk_steps);
    estimate(
        shape,
        config.simulation.backend,
        config.simulation.precision,
        plan.expected_trace_bytes_per_chunk(chunk, shape),
    )
}

/// The estimate for a run of `config`, as `check` prints it and `run` enforces it.
pub fn estimate_config(config: &Config) -> Estimate {
    let plan = crate::record::RecordPlan::from_config(config);
    estimate_run(config, &Shape::from_config(config), &plan)
}

/// Refuses a peak of `needed` bytes beyond what is `available`; returns `needed`.
pub fn fits(needed: u64, available: Option<&Available>) -> Result<u64> {
    match available {
        Some(a) if needed > a.bytes => Err(Error::HostMemory {
            needed,
            available: a.bytes,
            bound: a.bound,
        }),
        _ => Ok(needed),
    }
}

/// Refuses a run whose estimated peak exceeds what the process may still take; returns the
/// estimate.
pub fn ensure_fits(config: &Config) -> Result<u64> {
    fits(estimate_config(config).peak(), available().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_grows_with_the_synapses_and_the_precision() {
        let text = |k: u64| {
            format!(
                "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n[populations.hh]\nmodel = \"hh\"\nsize = 1000\n\
                 [projections.p]\nsource = \"hh\"\ntarget = \"hh\"\nsynapse = \"graded\"\n\
                 connectivity = {{ rule = \"fixed_indegree\", k = {k} }}\n"
            )
        };
        let small = estimate_config(&crate::config::parse(&text(10), &[]).unwrap());
        let large = estimate_config(&crate::config::parse(&text(100), &[]).unwrap());
        assert!(
            large.network - small.network == 90 * 1000 * 4,
            "{small:?} {large:?}"
        );
        let f32 = estimate_config(
            &crate::config::parse(&text(10), &["simulation.precision=\"f32\"".into()]).unwrap(),
        );
        assert!(f32.backend < small.backend);
    }

    #[test]
    fn some_bound_on_memory_is_readable_here() {
        let a = available().expect("/proc/meminfo is there on Linux");
        assert!(a.bytes > 0);
    }
}
