// requires: common/neuron_common common/instances
// The optimal-feedback-control saccade: the WGSL twin of src/model/ofc_saccade.rs (same names,
// same order of operations). One thread per trial; its state is x (4), x̂ (4) and u.

struct Params {
    l: vec4<f32>,         // feedback gain L
    k0: vec4<f32>,        // the columns of the Kalman gain K
    k1: vec4<f32>,
    k2: vec4<f32>,
    alpha1: f32,
    alpha2: f32,
    alpha3: f32,
    bu: f32,
    y_bu: f32,            // Y's one non-zero entry
    g: f32,
    d0: f32,
    d1: f32,
    d2: f32,
    dt_s: f32,
    sqrt_dt: f32,
    jump_distance: f32,
    noisy: u32,
    jump_step: u32,       // the sample the target jump shifts; 0xffffffff for none
    _pad0: u32,
    _pad1: u32,
}

const POS: u32 = 0u;
const VEL: u32 = 1u;
const ACC: u32 = 2u;
const JERK: u32 = 3u;
const POS_EST: u32 = 4u;
const VEL_EST: u32 = 5u;
const ACC_EST: u32 = 6u;
const JERK_EST: u32 = 7u;
const U: u32 = 8u;
const X: u32 = 0u;
const X_EST: u32 = 4u;
const STREAM_CONTROL: u32 = 0u;
const STREAM_PLANT: u32 = 1u;
const STREAM_OBSERVATION: u32 = 5u;

// The control −L·z of state z.
fn control(z: vec4<f32>) -> f32 {
    return -(p.l[0] * z[0] + p.l[1] * z[1] + p.l[2] * z[2] + p.l[3] * z[3]);
}

// (A z + B u)_k: the plant's drift.
fn drift(z: vec4<f32>, u: f32, k: u32) -> f32 {
    if (k < 3u) {
        return z[k + 1u];
    }
    return -(p.alpha1 * z[1] + p.alpha2 * z[2] + p.alpha3 * z[3]) + p.bu * u;
}

fn load(i: u32, first: u32) -> vec4<f32> {
    return vec4<f32>(
        state_at(first, i),
        state_at(first + 1u, i),
        state_at(first + 2u, i),
        state_at(first + 3u, i),
    );
}

fn store(i: u32, first: u32, z: vec4<f32>) {
    for (var k = 0u; k < 4u; k++) {
        set_state(first + k, i, z[k]);
    }
}

fn kalman_column(j: u32) -> vec4<f32> {
    if (j == 0u) {
        return p.k0;
    }
    if (j == 1u) {
        return p.k1;
    }
    return p.k2;
}

fn observation_noise(j: u32) -> f32 {
    if (j == 0u) {
        return p.d0;
    }
    if (j == 1u) {
        return p.d1;
    }
    return p.d2;
}

@compute @workgroup_size(256)
fn update_neurons(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = neuron_index(gid, groups);
    if (i >= population.n) {
        return;
    }
    let local = enter_instance(i);
    let dt = p.dt_s;
    let key = noise_key;
    let x = load(i, X);
    var x_est = load(i, X_EST);
    let u = state_at(U, i);
    var x_new = vec4<f32>(0.0);
    if (p.noisy != 0u) {
        let gamma = normal_draw(key, local, step_info.step_lo, step_info.step_hi, population.index, STREAM_CONTROL);
        for (var k = 0u; k < 4u; k++) {
            let omega = normal_draw(key, local, step_info.step_lo, step_info.step_hi, population.index, STREAM_PLANT + k);
            var y = 0.0;
            if (k == 3u) {
                y = p.y_bu * u * gamma;
            }
            x_new[k] = x[k] + drift(x, u, k) * dt + p.sqrt_dt * (y + p.g * omega);
        }
        var innovation = vec3<f32>(0.0);
        for (var j = 0u; j < 3u; j++) {
            let xi = normal_draw(key, local, step_info.step_lo, step_info.step_hi, population.index, STREAM_OBSERVATION + j);
            let dy = x[j] * dt + observation_noise(j) * p.sqrt_dt * xi;
            innovation[j] = dy - x_est[j] * dt;
        }
        var est_new = vec4<f32>(0.0);
        for (var k = 0u; k < 4u; k++) {
            let correction = kalman_column(0u)[k] * innovation[0]
                + kalman_column(1u)[k] * innovation[1]
                + kalman_column(2u)[k] * innovation[2];
            est_new[k] = x_est[k] + drift(x_est, u, k) * dt + correction;
        }
        x_est = est_new;
    } else {
        for (var k = 0u; k < 4u; k++) {
            x_new[k] = x[k] + drift(x, u, k) * dt;
        }
        x_est = x_new;
    }

    // settle: the target jump if the next sample is the one it shifts, then its control.
    let next_lo = step_info.step_lo + 1u;
    let next_hi = step_info.step_hi + select(0u, 1u, next_lo == 0u);
    if (next_hi == 0u && next_lo == p.jump_step) {
        x_new[0] = x_new[0] - p.jump_distance;
        x_est[0] = x_est[0] - p.jump_distance;
    }
    var u_next: f32;
    if (p.noisy != 0u) {
        u_next = control(x_est);
    } else {
        u_next = control(x_new);
    }
    store(i, X, x_new);
    store(i, X_EST, x_est);
    set_state(U, i, u_next);
    check_finite(population.index, i, x_new[0]);
    emit_spike(population.index, population.record_spikes, i, false);
}
