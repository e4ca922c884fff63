// requires: nothing
// Philox4x32-10, the WGSL twin of src/rng.rs: identical raw numbers for the same
// (counter, key). WGSL has no 64-bit integers, so mulhilo is built from 16-bit halves.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
const VOLTAGE_NOISE: u32 = 0u;
const STREAMS_PER_POPULATION: u32 = 16u;

// (hi, lo) of the 64-bit product a * b.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xffffu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xffffu;
    let b_hi = b >> 16u;
    let lo_lo = a_lo * b_lo;
    let hi_lo = a_hi * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_hi = a_hi * b_hi;
    let cross = (lo_lo >> 16u) + (hi_lo & 0xffffu) + (lo_hi & 0xffffu);
    let hi = hi_hi + (hi_lo >> 16u) + (lo_hi >> 16u) + (cross >> 16u);
    return vec2<u32>(hi, a * b);
}

fn philox_round(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    let p0 = mulhilo(PHILOX_M0, ctr.x);
    let p1 = mulhilo(PHILOX_M1, ctr.z);
    return vec4<u32>(p1.x ^ ctr.y ^ key.x, p1.y, p0.x ^ ctr.w ^ key.y, p0.y);
}

fn philox4x32_10(ctr_in: vec4<u32>, key_in: vec2<u32>) -> vec4<u32> {
    var ctr = ctr_in;
    var key = key_in;
    for (var round = 0u; round < 10u; round++) {
        if (round > 0u) {
            key = key + vec2<u32>(PHILOX_W0, PHILOX_W1);
        }
        ctr = philox_round(ctr, key);
    }
    return ctr;
}

fn philox_counter(neuron: u32, step_lo: u32, step_hi: u32, population: u32, stream: u32) -> vec4<u32> {
    return vec4<u32>(neuron, step_lo, step_hi, population * STREAMS_PER_POPULATION + stream);
}

fn uniform_open01(x: u32) -> f32 {
    return (f32(x >> 9u) + 0.5) * (1.0 / 8388608.0);
}

fn standard_normal(bits: vec4<u32>) -> f32 {
    let u1 = uniform_open01(bits.x);
    let u2 = uniform_open01(bits.y);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

fn normal_draw(seed_key: vec2<u32>, neuron: u32, step_lo: u32, step_hi: u32, population: u32, stream: u32) -> f32 {
    return standard_normal(philox4x32_10(philox_counter(neuron, step_lo, step_hi, population, stream), seed_key));
}

fn uniform_draw(seed_key: vec2<u32>, neuron: u32, step_lo: u32, step_hi: u32, population: u32, stream: u32) -> f32 {
    return uniform_open01(philox4x32_10(philox_counter(neuron, step_lo, step_hi, population, stream), seed_key).x);
}
