//! Errors a user can act on: each names the config key, file or device at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("config error at `{path}`: {message}")]
    Config { path: String, message: String },
    #[error("cannot read config {path}: {source}")]
    ReadConfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "output file {0} already exists; pass --force to overwrite it or choose another --output"
    )]
    OutputExists(PathBuf),
    #[error("output {0} is a directory; give a file path, e.g. {0}/run.h5")]
    OutputIsDirectory(PathBuf),
    #[error("another ganglion run is writing {0}; wait for it to finish or choose another --output")]
    OutputBusy(PathBuf),
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    /// A run that failed after its output was claimed, and what became of the output.
    #[error("{source}; {outcome}")]
    RunFailed { source: Box<Error>, outcome: String },
    #[error("HDF5 error on {path}: {source}")]
    Hdf5 { path: PathBuf, source: hdf5::Error },
    #[error(
        "population `{population}` diverged: neuron {neuron} has a non-finite V at t = {time_ms} ms (reduce dt_ms or check the parameters)"
    )]
    Diverged {
        population: String,
        neuron: u32,
        time_ms: f64,
    },
    #[error("interrupted at t = {time_ms} ms; the output holds everything up to that time")]
    Interrupted { time_ms: f64 },
    #[error("sweep interrupted after {done} of {total} instances; the output holds the instances that finished")]
    SweepInterrupted { done: usize, total: usize },
    #[error("GPU: {0}")]
    Gpu(String),
    #[error(
        "the run needs about {} of host memory but {} is available, bounded by {bound}; make the network smaller or record less",
        crate::units::human_bytes(*needed),
        crate::units::human_bytes(*available)
    )]
    HostMemory {
        needed: u64,
        available: u64,
        bound: &'static str,
    },
    #[error(
        "network too large: buffer `{label}` needs {} but {device} binds at most {} per buffer; use a smaller network or the CPU backend{hint}",
        crate::units::human_bytes(*bytes),
        crate::units::human_bytes(*limit)
    )]
    BufferTooLarge {
        label: String,
        bytes: u64,
        limit: u64,
        device: String,
        /// What else might fit, where something might.
        hint: &'static str,
    },
    #[error(
        "network too large for the GPU: its buffers need {} but {device} has {} (simulation.gpu_memory_gib); the largest is `{largest}`, {}",
        crate::units::human_bytes(*needed),
        crate::units::human_bytes(*memory),
        crate::units::human_bytes(*largest_bytes)
    )]
    GpuMemory {
        needed: u64,
        memory: u64,
        device: String,
        largest: String,
        largest_bytes: u64,
    },
    #[error(
        "network too large: population `{population}` has {count} event-driven projections {direction}; the GPU backend takes at most {max}"
    )]
    TooManyEventProjections {
        population: String,
        count: usize,
        max: usize,
        /// "into it" or "leaving it".
        direction: &'static str,
    },
    #[error("network too large: {count} populations; the GPU backend takes at most {max}")]
    TooManyPopulations { count: usize, max: usize },
    #[error("network too large: {0}")]
    TooLarge(String),
    #[error("plot: {0}")]
    Plot(String),
    /// What an output file does not hold, read back (`io::reader`).
    #[error("{0}")]
    Read(String),
}

impl Error {
    pub fn io(path: &std::path::Path, message: impl Into<String>) -> Self {
        Error::Io {
            path: path.to_owned(),
            message: message.into(),
        }
    }

    /// The error behind a `RunFailed`, or this one.
    pub fn root(&self) -> &Error {
        match self {
            Error::RunFailed { source, .. } => source.root(),
            e => e,
        }
    }

    pub fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            path: path.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and its causes in one line, each cause added only where the message does not
/// already include it (most of ours quote their source).
pub fn chain_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        cause = c.source();
    }
    message
}
