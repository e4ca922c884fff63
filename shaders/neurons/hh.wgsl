// requires: common/neuron_common common/instances
// Hodgkin–Huxley neuron with the graded synapse's activation S: the WGSL twin of
// src/model/hh.rs (same names, same order of operations). One thread per neuron;
// prepended with philox.wgsl and neuron_common.wgsl.

struct Params {
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
    integrator: u32,      // 0 exponential Euler, 1 Euler (clamped)
    _pad0: u32,
}

const V: u32 = 0u;
const M: u32 = 1u;
const H: u32 = 2u;
const N: u32 = 3u;
const S: u32 = 4u;
const INTEGRATOR_EXPONENTIAL_EULER: u32 = 0u;

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

// One neuron over one step: src/model/hh.rs `step`. S is read from state block `s_now` and
// written to `s_next`: the same block, except when the population's own coupling runs in this
// dispatch (hh_coupled.wgsl) and S must be double-buffered.
fn step(i: u32, syn: SynInput, s_now: u32, s_next: u32) {
    let local = enter_instance(i);
    let dt = population.dt;
    var xi = 0.0;
    if (p.noise_sigma != 0.0) {
        xi = normal_draw(noise_key, local, step_info.step_lo, step_info.step_hi, population.index, VOLTAGE_NOISE);
    }

    let v = state_at(V, i);
    let m = state_at(M, i);
    let h = state_at(H, i);
    let n = state_at(N, i);
    let m3h = m * m * m * h;
    let n2 = n * n;
    let i_na = p.g_na * m3h * (v - p.e_na);
    let i_k = p.g_k * n2 * n2 * (v - p.e_k);
    let i_l = p.g_l * (v - p.e_l);
    let i_total = p.i_ext - i_na - i_k - i_l + current(syn, v);
    let v_new = v + (dt * i_total + p.noise_sigma * sqrt(dt) * xi) / p.c_m;

    set_state(M, i, advance_gate(m, alpha_m(v), beta_m(v), dt, p.integrator));
    set_state(H, i, advance_gate(h, alpha_h(v), beta_h(v), dt, p.integrator));
    set_state(N, i, advance_gate(n, alpha_n(v), beta_n(v), dt, p.integrator));
    set_state(s_next, i, advance_gate(state_at(s_now, i), alpha_s(v), beta_s(v), dt, p.integrator));
    set_state(V, i, v_new);

    emit_spike(population.index, population.record_spikes, i, v < p.v_threshold && v_new >= p.v_threshold);
    check_finite(population.index, i, v_new);
}

@compute @workgroup_size(256)
fn update_neurons(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = neuron_index(gid, groups);
    if (i >= population.n) {
        return;
    }
    step(i, gathered_input(i), S, S);
}
