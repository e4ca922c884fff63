// requires: common/neuron_common common/instances
// Traub–Miles HH neuron of the COBAHH benchmark: the WGSL twin of src/model/hh_traub.rs
// (same names, same order of operations). One thread per neuron; prepended with
// philox.wgsl and neuron_common.wgsl.

struct Params {
    c_m: f32,
    g_l: f32,
    g_na: f32,
    g_k: f32,
    e_l: f32,
    e_na: f32,
    e_k: f32,
    v_t: f32,
    v_threshold: f32,
    refractory_steps: f32,
    _pad0: u32,
    _pad1: u32,
}

const V: u32 = 0u;
const M: u32 = 1u;
const H: u32 = 2u;
const N: u32 = 3u;
const REFRACTORY: u32 = 4u;

fn alpha_m(v: f32, v_t: f32) -> f32 { return 1.28 * exprel_inv(-(13.0 - v + v_t) / 4.0); }
fn beta_m(v: f32, v_t: f32) -> f32 { return 1.4 * exprel_inv(-(v - v_t - 40.0) / 5.0); }
fn alpha_h(v: f32, v_t: f32) -> f32 { return 0.128 * exp((17.0 - v + v_t) / 18.0); }
fn beta_h(v: f32, v_t: f32) -> f32 { return 4.0 / (1.0 + exp((40.0 - v + v_t) / 5.0)); }
fn alpha_n(v: f32, v_t: f32) -> f32 { return 0.16 * exprel_inv(-(15.0 - v + v_t) / 5.0); }
fn beta_n(v: f32, v_t: f32) -> f32 { return 0.5 * exp((10.0 - v + v_t) / 40.0); }

fn advance_gate(x: f32, alpha: f32, beta: f32, dt: f32) -> f32 {
    let rate = alpha + beta;
    let x_inf = alpha / rate;
    return x_inf + (x - x_inf) * exp(-dt * rate);
}

@compute @workgroup_size(256)
fn update_neurons(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = neuron_index(gid, groups);
    if (i >= population.n) {
        return;
    }
    _ = enter_instance(i);
    let dt = population.dt;

    let v = state_at(V, i);
    let m = state_at(M, i);
    let h = state_at(H, i);
    let n = state_at(N, i);
    let m3h = m * m * m * h;
    let n2 = n * n;
    let g_na = p.g_na * m3h;
    let g_k = p.g_k * n2 * n2;
    // C dV/dt = A − B·V with the gates and synaptic conductances frozen.
    let syn = gathered_input(i);
    let b = (p.g_l + g_na + g_k + syn.g) / p.c_m;
    let a = (p.g_l * p.e_l + g_na * p.e_na + g_k * p.e_k + syn.i0) / p.c_m;
    let v_inf = a / b;
    let v_new = v_inf + (v - v_inf) * exp(-b * dt);

    set_state(M, i, advance_gate(m, alpha_m(v, p.v_t), beta_m(v, p.v_t), dt));
    set_state(H, i, advance_gate(h, alpha_h(v, p.v_t), beta_h(v, p.v_t), dt));
    set_state(N, i, advance_gate(n, alpha_n(v, p.v_t), beta_n(v, p.v_t), dt));
    set_state(V, i, v_new);

    // Brian2's threshold and refractoriness (`threshold='v > -20*mV', refractory=3*ms`): a
    // neuron R steps past its spike may fire again, whenever V is above threshold then.
    var fired = false;
    let steps_left = max(state_at(REFRACTORY, i) - 1.0, 0.0);
    set_state(REFRACTORY, i, steps_left);
    if (steps_left == 0.0 && v_new > p.v_threshold) {
        set_state(REFRACTORY, i, p.refractory_steps);
        fired = true;
    }
    emit_spike(population.index, population.record_spikes, i, fired);
    check_finite(population.index, i, v_new);
}
