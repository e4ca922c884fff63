//! The seam between the simulation loop and the hardware: a backend owns the network's state
//! and advances it a chunk of steps at a time.

pub mod cpu;
pub mod gpu;

use crate::config::{BackendChoice, Precision};
use crate::error::Result;
use crate::network::Network;
use crate::record::{ChunkOutput, RecordPlan};

#[derive(Clone, Debug, PartialEq)]
pub struct BackendInfo {
    /// "cpu" or "gpu".
    pub kind: &'static str,
    /// The device: CPU threads or the GPU adapter's name.
    pub device: String,
    pub precision: Precision,
}

impl std::fmt::Display for BackendInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.kind, self.precision, self.device)
    }
}

/// State of every population: population → variable (model order) → neuron.
pub type NetworkState = Vec<Vec<Vec<f64>>>;

pub trait Backend {
    fn info(&self) -> BackendInfo;

    /// Advances `out.n_steps` steps from `out.first_step`, filling `out` as `plan` asks.
    /// A non-finite V stops the chunk early and is reported in `out.diverged`.
    fn run_chunk(&mut self, plan: &RecordPlan, out: &mut ChunkOutput) -> Result<()>;

    /// The current state, converted to f64.
    fn read_state(&mut self) -> Result<NetworkState>;

    /// Per projection, the current variables of its synapses written as equations (a column
    /// per variable, synapses in CSR order), or None; empty for a backend without them.
    fn read_synapses(&mut self) -> Result<crate::simulator::SynapseValues> {
        Ok(Vec::new())
    }

    /// Seconds the device itself has spent stepping, where it can measure that (GPU timestamp
    /// queries); None means: time it with the wall clock.
    fn device_seconds(&self) -> Option<f64> {
        None
    }

    /// Bytes of device memory the backend allocated, where it has a device.
    fn device_memory_bytes(&self) -> Option<u64> {
        None
    }
}

/// Options that pick and tune a backend.
#[derive(Clone, Debug, Default)]
pub struct BackendOptions {
    pub choice: BackendChoice,
    pub precision: Precision,
    /// Substring of the GPU adapter's name.
    pub adapter: Option<String>,
    /// The coupling kernel and the binding cap.
    pub gpu: gpu::GpuOptions,
}

/// Builds the backend the options ask for. `auto` takes a hardware GPU (or the adapter named)
/// and otherwise falls back to the CPU with a notice on stderr.
/// The GPU backend sizes its recording buffers for `plan`, which `run_chunk` must then be given.
pub fn create(net: &Network, plan: &RecordPlan, opts: &BackendOptions) -> Result<Box<dyn Backend>> {
    match opts.choice {
        BackendChoice::Cpu => cpu::create(net, opts.precision),
        BackendChoice::Gpu => Ok(Box::new(gpu::GpuBackend::with_options(
            net,
            plan,
            opts.adapter.as_deref(),
            opts.gpu,
        )?)),
        BackendChoice::Auto
            if opts.adapter.is_none() && !gpu::context::hardware_adapter_present() =>
        {
            eprintln!("note: no hardware GPU adapter (software devices are slower than the CPU backend); running on the CPU reference backend, --backend gpu forces the GPU");
            cpu::create(net, opts.precision)
        }
        BackendChoice::Auto => {
            match gpu::GpuBackend::with_options(net, plan, opts.adapter.as_deref(), opts.gpu) {
                Ok(b) => Ok(Box::new(b)),
                Err(e) => {
                    eprintln!("note: no usable GPU ({e}); running on the CPU reference backend");
                    cpu::create(net, opts.precision)
                }
            }
        }
    }
}
