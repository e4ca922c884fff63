//! The wgpu device: adapter choice, real limits, error capture, and buffer helpers.

use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};

pub struct GpuContext {
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// Timestamp queries on compute passes are available.
    pub timestamps: bool,
    errors: Arc<Mutex<Vec<String>>>,
    allocated: std::sync::atomic::AtomicU64,
    /// Every kernel built on this device, by its source, entry, bindings and constants: the
    /// backends of a sweep's instances share one device and compile each kernel once.
    pub(crate) kernels: Mutex<std::collections::HashMap<String, super::kernels::Kernel>>,
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

fn adapters() -> Vec<wgpu::Adapter> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
}

/// Real GPUs first, software devices (lavapipe, WARP) last.
fn preference(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Whether any adapter is a real GPU rather than a software device such as lavapipe, which
/// is slower than the CPU backend on the same cores.
pub fn hardware_adapter_present() -> bool {
    adapters()
        .iter()
        .any(|a| a.get_info().device_type != wgpu::DeviceType::Cpu)
}

pub const NO_ADAPTER_HELP: &str = "no GPU adapter found. On Debian/Ubuntu install a Vulkan driver \
(`apt-get install mesa-vulkan-drivers libvulkan1` gives the software device lavapipe; \
`make test` does this), or use --backend cpu";

/// One line per adapter with the limits that bound network size.
pub fn describe_adapters() -> String {
    let list = adapters();
    if list.is_empty() {
        return format!("gpu: {NO_ADAPTER_HELP}\n");
    }
    let mut s = String::new();
    for a in list {
        let i = a.get_info();
        let l = a.limits();
        s.push_str(&format!(
            "gpu: {} ({:?}, {:?}, driver {} {})\n     max_storage_buffer_binding_size {}, max_buffer_size {}, \
             max_storage_buffers_per_shader_stage {}, timestamp queries: {}\n     \
             max_compute_workgroup_storage_size {}, max_compute_invocations_per_workgroup {}\n",
            i.name,
            i.device_type,
            i.backend,
            i.driver,
            i.driver_info,
            crate::units::human_bytes(l.max_storage_buffer_binding_size),
            crate::units::human_bytes(l.max_buffer_size),
            l.max_storage_buffers_per_shader_stage,
            a.features().contains(wgpu::Features::TIMESTAMP_QUERY),
            crate::units::human_bytes(l.max_compute_workgroup_storage_size.into()),
            l.max_compute_invocations_per_workgroup,
        ));
    }
    s
}

/// The adapter a run would use: the one named (a substring of its name), else the most
/// capable kind present.
pub fn choose_adapter(adapter_name: Option<&str>) -> Result<wgpu::Adapter> {
    let mut list = adapters();
    if list.is_empty() {
        return Err(Error::Gpu(NO_ADAPTER_HELP.into()));
    }
    if let Some(name) = adapter_name {
        let wanted = name.to_lowercase();
        let names: Vec<String> = list.iter().map(|a| a.get_info().name).collect();
        list.retain(|a| a.get_info().name.to_lowercase().contains(&wanted));
        if list.is_empty() {
            return Err(Error::Gpu(format!(
                "no adapter matches `{name}`; found: {}",
                names.join(", ")
            )));
        }
    }
    list.sort_by_key(|a| preference(a.get_info().device_type));
    Ok(list.swap_remove(0))
}

impl GpuContext {
    pub fn new(adapter_name: Option<&str>) -> Result<GpuContext> {
        let adapter = choose_adapter(adapter_name)?;
        let info = adapter.get_info();
        // The adapter's real limits: the defaults cap storage bindings at 128 MiB.
        let limits = adapter.limits();
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let features = if timestamps {
            wgpu::Features::TIMESTAMP_QUERY
        } else {
            wgpu::Features::empty()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("ganglion"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::Gpu(format!("cannot open {}: {e}", info.name)))?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        // Validation and out-of-memory errors become Results instead of panics.
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            sink.lock().unwrap().push(e.to_string())
        }));
        Ok(GpuContext {
            info,
            limits,
            device,
            queue,
            timestamps,
            errors,
            allocated: Default::default(),
            kernels: Default::default(),
        })
    }

    /// Fails with the first error the device reported since the last check.
    pub fn check_errors(&self) -> Result<()> {
        let mut errors = self.errors.lock().unwrap();
        if errors.is_empty() {
            Ok(())
        } else {
            let all = errors.drain(..).collect::<Vec<_>>().join("; ");
            Err(Error::Gpu(all))
        }
    }

    /// Bytes of buffers created through this context.
    pub fn allocated_bytes(&self) -> u64 {
        self.allocated.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn create_buffer(&self, desc: &wgpu::BufferDescriptor) -> wgpu::Buffer {
        self.allocated
            .fetch_add(desc.size, std::sync::atomic::Ordering::Relaxed);
        self.device.create_buffer(desc)
    }

    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))?;
        self.check_errors()
    }

    /// Refuses a buffer the device cannot bind, naming the buffer, its size and the limit.
    pub fn check_binding_size(&self, label: &str, bytes: u64) -> Result<()> {
        super::preflight::check_binding(label, bytes, &self.limits, &self.info.name)
    }

    pub fn storage_buffer(&self, label: &str, contents: &[u8]) -> Result<wgpu::Buffer> {
        // Zero-sized bindings are invalid: pad empty arrays to one word.
        let size = (contents.len() as u64).max(4).next_multiple_of(4);
        self.check_binding_size(label, size)?;
        let buffer = self.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if !contents.is_empty() {
            self.queue.write_buffer(&buffer, 0, contents);
        }
        Ok(buffer)
    }

    pub fn uniform_buffer(&self, label: &str, contents: &[u8]) -> wgpu::Buffer {
        let buffer = self.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (contents.len() as u64).next_multiple_of(16),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.queue.write_buffer(&buffer, 0, contents);
        buffer
    }

    /// Copies `size` bytes from `offset` of each buffer back to the host (one submit, one wait).
    pub fn read_buffers(&self, parts: &[(&wgpu::Buffer, u64, u64)]) -> Result<Vec<Vec<u8>>> {
        let total: u64 = parts.iter().map(|p| p.2.next_multiple_of(4)).sum();
        if total == 0 {
            return Ok(parts.iter().map(|_| Vec::new()).collect());
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: total,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        let mut at = 0;
        for &(buf, offset, size) in parts {
            let size4 = size.next_multiple_of(4);
            if size4 > 0 {
                encoder.copy_buffer_to_buffer(buf, offset, &staging, at, size4);
            }
            at += size4;
        }
        self.queue.submit([encoder.finish()]);
        let slice = staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .map_err(|_| Error::Gpu("readback was dropped".into()))?
            .map_err(|e| Error::Gpu(format!("mapping the readback buffer: {e}")))?;
        let view = slice
            .get_mapped_range()
            .map_err(|e| Error::Gpu(format!("mapping the readback buffer: {e}")))?;
        let mut out = Vec::with_capacity(parts.len());
        let mut at = 0usize;
        for &(_, _, size) in parts {
            out.push(view[at..at + size as usize].to_vec());
            at += size.next_multiple_of(4) as usize;
        }
        drop(view);
        staging.unmap();
        Ok(out)
    }
}

/// Workgroup counts for `n` threads of a 256-wide kernel, folded into y past 65535 groups.
pub fn dispatch_size(n: u32) -> (u32, u32) {
    fold_groups(n.div_ceil(256))
}

/// `groups` workgroups as (x, y), x at most 65535: kernels index by x + y·(groups in x).
pub fn fold_groups(groups: u32) -> (u32, u32) {
    let groups = groups.max(1);
    if groups <= 65_535 {
        (groups, 1)
    } else {
        (65_535, groups.div_ceil(65_535))
    }
}
