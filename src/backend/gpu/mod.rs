//! placeholder replaced by the wgpu backend in the next commit
use super::{Backend, BackendInfo, NetworkState};
use crate::error::{Error, Result};
use crate::network::Network;
use crate::record::{ChunkOutput, RecordPlan};
pub struct GpuBackend;
impl GpuBackend {
    pub fn new(_net: &Network, _adapter: Option<&str>) -> Result<Self> { Err(Error::Gpu("not built yet".into())) }
}
impl Backend for GpuBackend {
    fn info(&self) -> BackendInfo { unreachable!() }
    fn run_chunk(&mut self, _plan: &RecordPlan, _out: &mut ChunkOutput) -> Result<()> { unreachable!() }
    fn read_state(&mut self) -> Result<NetworkState> { unreachable!() }
}
pub fn required_bytes(net: &Network, plan: &RecordPlan, chunk: u64) -> u64 { (net.memory_bytes(4) as u64) + plan.trace_bytes_per_chunk(chunk) }
pub fn describe_adapters() -> String { String::new() }
