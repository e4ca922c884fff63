// requires: common/philox
// Raw Philox blocks and normals for a list of counters: lets the tests compare the GPU's
// generator with src/rng.rs word for word. Prepended with philox.wgsl.

struct CheckParams {
    key: vec2<u32>,
    count: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: CheckParams;
@group(0) @binding(1) var<storage, read> counters: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> blocks: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> normals: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.count) {
        return;
    }
    let bits = philox4x32_10(counters[i], params.key);
    blocks[i] = bits;
    normals[i] = standard_normal(bits);
}
