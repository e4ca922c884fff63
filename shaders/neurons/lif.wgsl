// requires: common/neuron_common common/instances
// Leaky integrate-and-fire neuron: the WGSL twin of src/model/lif.rs (same names, same order
// of operations). One thread per neuron; prepended with philox.wgsl and neuron_common.wgsl.

struct Params {
    tau_m: f32,
    e_l: f32,
    v_reset: f32,
    v_th: f32,
    r_m: f32,
    refractory_steps: f32,
    decay: f32,
    i_const: f32,
    sin_mean: f32,
    sin_omega: f32,
    noise_mean: f32,
    noise_sigma: f32,
    step_amplitude: f32,
    step_start: f32,
    step_stop: f32,
    integrator: u32,      // 0 Euler, 1 exact
    noisy: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const V: u32 = 0u;
const REFRACTORY: u32 = 1u;
const INTEGRATOR_EULER: u32 = 0u;

fn input_current(t: f32, xi: f32) -> f32 {
    var i = p.i_const;
    i = i + p.sin_mean * (1.0 + sin(p.sin_omega * t));
    i = i + p.noise_mean * (1.0 + p.noise_sigma * xi);
    if (t >= p.step_start && t < p.step_stop) {
        i = i + p.step_amplitude;
    }
    return i;
}

@compute @workgroup_size(256)
fn update_neurons(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = neuron_index(gid, groups);
    if (i >= population.n) {
        return;
    }
    let local = enter_instance(i);
    let dt = population.dt;
    let t = f32(step_info.step_lo) * dt;
    var xi = 0.0;
    if (p.noisy != 0u) {
        xi = normal_draw(noise_key, local, step_info.step_lo, step_info.step_hi, population.index, VOLTAGE_NOISE);
    }

    // Every step, refractory or not: the synapses' arrivals and decay do not wait.
    let syn = gathered_input(i);
    var fired = false;
    let refractory = state_at(REFRACTORY, i);
    if (refractory > 0.0) {
        set_state(REFRACTORY, i, refractory - 1.0);
        set_state(V, i, p.v_reset);
    } else {
        let v = state_at(V, i);
        let i_total = input_current(t, xi) + current(syn, v);
        var v_new: f32;
        if (p.integrator == INTEGRATOR_EULER) {
            v_new = v + dt / p.tau_m * (p.e_l - v + p.r_m * i_total);
        } else {
            let v_inf = p.e_l + p.r_m * i_total;
            v_new = v_inf + (v - v_inf) * p.decay;
        }
        if (v_new >= p.v_th) {
            set_state(V, i, p.v_reset);
            set_state(REFRACTORY, i, p.refractory_steps);
            fired = true;
        } else {
            set_state(V, i, v_new);
        }
        check_finite(population.index, i, v_new);
    }
    emit_spike(population.index, population.record_spikes, i, fired);
}
