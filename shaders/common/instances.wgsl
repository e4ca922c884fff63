// requires: common/neuron_common
// A sweep's instances run as one population of `population.instance_size` neurons each
// (instance-major); each instance's parameters (the model's `Params`, declared by the model)
// and noise key are its entry of this table, at binding 0 (a single run's table has one
// entry). `enter_instance` loads neuron i's into `p` and `noise_key` and gives i's index
// within its instance: the noise counter's neuron, so that an instance draws the noise of its
// own run.
struct Instance {
    seed_lo: u32,
    seed_hi: u32,
    _pad0: u32,
    _pad1: u32,
    p: Params,
}

@group(0) @binding(0) var<storage, read> instances: array<Instance>;
var<private> p: Params;
var<private> noise_key: vec2<u32>;

fn enter_instance(i: u32) -> u32 {
    let k = i / population.instance_size;
    p = instances[k].p;
    noise_key = vec2<u32>(instances[k].seed_lo, instances[k].seed_hi);
    return i - k * population.instance_size;
}
