// Gathers the recorded neurons' variables into the chunk's recording buffer at one sample
// row: layout [variable][sample][recorded neuron], as ChunkOutput's trace buffers.

struct RecordParams {
    n_recorded: u32,
    n_variables: u32,
    n_samples: u32,
    variables: u32,   // up to five 4-bit variable codes: v=0 m=1 h=2 n=3 s=4
}

struct StepInfo {
    step_lo: u32,
    step_hi: u32,
    step_in_chunk: u32,
    row: u32,
}

@group(0) @binding(0) var<uniform> p: RecordParams;
@group(0) @binding(1) var<uniform> step_info: StepInfo;
@group(0) @binding(2) var<storage, read> v_buf: array<f32>;
@group(0) @binding(3) var<storage, read> m_buf: array<f32>;
@group(0) @binding(4) var<storage, read> h_buf: array<f32>;
@group(0) @binding(5) var<storage, read> n_buf: array<f32>;
@group(0) @binding(6) var<storage, read> s_buf: array<f32>;
@group(0) @binding(7) var<storage, read> neurons: array<u32>;
@group(0) @binding(8) var<storage, read_write> samples: array<f32>;

fn variable(code: u32, i: u32) -> f32 {
    switch code {
        case 0u: { return v_buf[i]; }
        case 1u: { return m_buf[i]; }
        case 2u: { return h_buf[i]; }
        case 3u: { return n_buf[i]; }
        default: { return s_buf[i]; }
    }
}

@compute @workgroup_size(256)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = gid.x + gid.y * groups.x * 256u;
    if (j >= p.n_recorded) {
        return;
    }
    let i = neurons[j];
    for (var k = 0u; k < p.n_variables; k++) {
        let code = (p.variables >> (4u * k)) & 0xfu;
        samples[(k * p.n_samples + step_info.row) * p.n_recorded + j] = variable(code, i);
    }
}
