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
    #[error("GPU: {0}")]
    Gpu(String),
    #[error("network too large: {0}")]
    TooLarge(String),
    #[error("plot: {0}")]
    Plot(String),
}

impl Error {
    pub fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            path: path.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
