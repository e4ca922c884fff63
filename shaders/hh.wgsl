// Hodgkin–Huxley neuron with the graded synapse's activation S: the WGSL twin of
// src/model/hh.rs and src/model/graded.rs (same names, same order of operations).
// One thread per neuron; prepended with philox.wgsl.

struct HhParams {
    c_m: f32,
    g_na: f32,
    g_k: f32,
    g_l: f32,
    e_na: f32,
    e_k: f32,
    e_l: f32,
    i_ext: f32,
    noise_sigma: f32,
    v_threshold: f32,
    dt: f32,
    n: u32,
    integrator: u32,      // 0 exponential Euler, 1 Euler (clamped)
    population: u32,
    record_spikes: u32,
    seed_lo: u32,
    seed_hi: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// Per-dispatch values, bound with a dynamic offset: one slot per step.
struct StepInfo {
    step_lo: u32,
    step_hi: u32,
    step_in_chunk: u32,
    row: u32,
}

// Below |x| = 0.1 the series; see exprel_inv in src/model/rates.rs (f32 cut-off).
const SERIES_CUTOFF: f32 = 0.1;
const INTEGRATOR_EXPONENTIAL_EULER: u32 = 0u;
const NO_STEP: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: HhParams;
@group(0) @binding(1) var<uniform> step_info: StepInfo;
@group(0) @binding(2) var<storage, read_write> v_buf: array<f32>;
@group(0) @binding(3) var<storage, read_write> m_buf: array<f32>;
@group(0) @binding(4) var<storage, read_write> h_buf: array<f32>;
@group(0) @binding(5) var<storage, read_write> n_buf: array<f32>;
@group(0) @binding(6) var<storage, read_write> s_buf: array<f32>;
@group(0) @binding(7) var<storage, read> i_syn_buf: array<f32>;
// spikes[0] is the count; then pairs (population << 24 | step_in_chunk, neuron).
@group(0) @binding(8) var<storage, read_write> spikes: array<atomic<u32>>;
// Per population: first step in the chunk with a non-finite V, lowest such neuron.
@group(0) @binding(9) var<storage, read_write> status: array<atomic<u32>>;

fn exprel_inv(x: f32) -> f32 {
    if (abs(x) < SERIES_CUTOFF) {
        let x2 = x * x;
        return 1.0 + x * 0.5 + x2 * (1.0 / 12.0) - x2 * x2 * (1.0 / 720.0);
    }
    return x / (1.0 - exp(-x));
}

fn alpha_m(v: f32) -> f32 { return exprel_inv((v + 40.0) / 10.0); }
fn beta_m(v: f32) -> f32 { return 4.0 * exp(-(v + 65.0) / 18.0); }
fn alpha_h(v: f32) -> f32 { return 0.07 * exp(-(v + 65.0) / 20.0); }
fn beta_h(v: f32) -> f32 { return 1.0 / (1.0 + exp(-(v + 35.0) / 10.0)); }
fn alpha_n(v: f32) -> f32 { return 0.1 * exprel_inv((v + 55.0) / 10.0); }
fn beta_n(v: f32) -> f32 { return 0.125 * exp(-(v + 65.0) / 80.0); }
fn alpha_s(v: f32) -> f32 { return 5.0 / (1.0 + exp(-(v + 3.0) / 8.0)); }
fn beta_s(v: f32) -> f32 { return 1.0; }

fn advance_gate(x: f32, alpha: f32, beta: f32, dt: f32, integrator: u32) -> f32 {
    if (integrator == INTEGRATOR_EXPONENTIAL_EULER) {
        let rate = alpha + beta;
        let x_inf = alpha / rate;
        return x_inf + (x - x_inf) * exp(-dt * rate);
    }
    let x_new = x + dt * (alpha * (1.0 - x) - beta * x);
    return min(max(x_new, 0.0), 1.0);
}

fn is_finite(x: f32) -> bool {
    // NaN fails every comparison; ±Inf exceeds the largest finite f32.
    return abs(x) <= 3.4028235e38;
}

@compute @workgroup_size(256)
fn update_neurons(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= p.n) {
        return;
    }
    let dt = p.dt;
    var xi = 0.0;
    if (p.noise_sigma != 0.0) {
        xi = normal_draw(vec2<u32>(p.seed_lo, p.seed_hi), i, step_info.step_lo, step_info.step_hi, p.population, VOLTAGE_NOISE);
    }
    let i_syn = i_syn_buf[i];

    let v = v_buf[i];
    let m = m_buf[i];
    let h = h_buf[i];
    let n = n_buf[i];
    let m3h = m * m * m * h;
    let n2 = n * n;
    let i_na = p.g_na * m3h * (v - p.e_na);
    let i_k = p.g_k * n2 * n2 * (v - p.e_k);
    let i_l = p.g_l * (v - p.e_l);
    let i_total = p.i_ext - i_na - i_k - i_l + i_syn;
    let v_new = v + (dt * i_total + p.noise_sigma * sqrt(dt) * xi) / p.c_m;

    m_buf[i] = advance_gate(m, alpha_m(v), beta_m(v), dt, p.integrator);
    h_buf[i] = advance_gate(h, alpha_h(v), beta_h(v), dt, p.integrator);
    n_buf[i] = advance_gate(n, alpha_n(v), beta_n(v), dt, p.integrator);
    s_buf[i] = advance_gate(s_buf[i], alpha_s(v), beta_s(v), dt, p.integrator);
    v_buf[i] = v_new;

    if (p.record_spikes != 0u && v < p.v_threshold && v_new >= p.v_threshold) {
        let slot = atomicAdd(&spikes[0], 1u);
        let capacity = (arrayLength(&spikes) - 1u) / 2u;
        if (slot < capacity) {
            atomicStore(&spikes[1u + 2u * slot], (p.population << 24u) | step_info.step_in_chunk);
            atomicStore(&spikes[2u + 2u * slot], i);
        }
    }
    if (!is_finite(v_new)) {
        atomicMin(&status[2u * p.population], step_info.step_in_chunk);
        atomicMin(&status[2u * p.population + 1u], i);
    }
}
