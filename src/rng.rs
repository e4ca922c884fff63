//! Philox4x32-10 (Salmon et al., SC'11; Random123), the counter-based generator behind all
//! stochastic terms. A draw is a pure function of (seed, counter), so the CPU reference and
//! the WGSL copy in `shaders/common/philox.wgsl` produce identical raw numbers, whatever the thread
//! count or dispatch order.

const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

/// Streams separate the independent uses of one (neuron, step) counter.
pub mod stream {
    /// Euler–Maruyama noise on the membrane voltage.
    pub const VOLTAGE_NOISE: u32 = 0;
    /// Number of streams reserved per population; the counter's last word is
    /// `population_index * PER_POPULATION + stream`.
    pub const PER_POPULATION: u32 = 16;
    /// The "population" word of the draws of projection p's synapses (`rand()` in `on_pre`
    /// and `on_post`) is `SYNAPSES + p`, counted by synapse instead of neuron: its counters
    /// (from 2^31 on) meet neither the populations' nor procedural connectivity's.
    pub const SYNAPSES: u32 = 0x0800_0000;
}

#[inline]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = (a as u64) * (b as u64);
    ((p >> 32) as u32, p as u32)
}

#[inline]
fn philox_round(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (hi0, lo0) = mulhilo(PHILOX_M0, ctr[0]);
    let (hi1, lo1) = mulhilo(PHILOX_M1, ctr[2]);
    [hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0]
}

/// Ten rounds of Philox4x32 on `ctr` under `key`.
pub fn philox4x32_10(mut ctr: [u32; 4], mut key: [u32; 2]) -> [u32; 4] {
    for round in 0..10 {
        if round > 0 {
            key[0] = key[0].wrapping_add(PHILOX_W0);
            key[1] = key[1].wrapping_add(PHILOX_W1);
        }
        ctr = philox_round(ctr, key);
    }
    ctr
}

/// The key for a simulation seed.
pub fn seed_key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// The counter of the draw for `neuron` at `step` in `stream` of population `population`.
pub fn counter(neuron: u32, step: u64, population: u32, stream: u32) -> [u32; 4] {
    [
        neuron,
        step as u32,
        (step >> 32) as u32,
        population * stream::PER_POPULATION + stream,
    ]
}

/// A uniform in (0, 1) from the top 23 bits of `x`, centred in its bin: exactly representable
/// in f32 (24 significant bits), so CPU and GPU start the Box–Muller transform from the same
/// value, and never 0 or 1, so ln(u) is finite.
#[inline]
pub fn uniform_open01(x: u32) -> f32 {
    ((x >> 9) as f32 + 0.5) * (1.0 / 8_388_608.0)
}

/// A standard normal from the first two words of one Philox block (Box–Muller, cosine branch),
/// evaluated in the precision of the caller, as the shader does in f32.
pub fn standard_normal<F: crate::real::Real>(bits: [u32; 4]) -> F {
    let u1 = F::from_f32(uniform_open01(bits[0]));
    let u2 = F::from_f32(uniform_open01(bits[1]));
    (F::from_f64(-2.0) * u1.ln()).sqrt() * (F::from_f64(std::f64::consts::TAU) * u2).cos()
}

/// The Gaussian increment drawn for one neuron at one step of one stream.
pub fn normal_draw<F: crate::real::Real>(
    seed_key: [u32; 2],
    neuron: u32,
    step: u64,
    population: u32,
    stream: u32,
) -> F {
    standard_normal(philox4x32_10(
        counter(neuron, step, population, stream),
        seed_key,
    ))
}

/// The uniform in (0, 1) drawn for one neuron at one step of one stream (`rand()`).
pub fn uniform_draw<F: crate::real::Real>(
    seed_key: [u32; 2],
    neuron: u32,
    step: u64,
    population: u32,
    stream: u32,
) -> F {
    F::from_f32(uniform_open01(
        philox4x32_10(counter(neuron, step, population, stream), seed_key)[0],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The philox4x32 10 lines of Random123's kat_vectors: counter, key, expected output.
    #[test]
    fn random123_known_answers() {
        let cases: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
            (
                [0, 0, 0, 0],
                [0, 0],
                [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
            ),
            (
                [0xffffffff; 4],
                [0xffffffff; 2],
                [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
            ),
            (
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0],
                [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
            ),
        ];
        for (ctr, key, want) in cases {
            assert_eq!(
                philox4x32_10(ctr, key),
                want,
                "ctr {ctr:08x?} key {key:08x?}"
            );
        }
    }

    #[test]
    fn uniform_stays_inside_the_open_interval() {
        assert!(uniform_open01(0) > 0.0);
        assert!(uniform_open01(u32::MAX) < 1.0);
    }

    #[test]
    fn normals_have_unit_moments() {
        let key = seed_key(7);
        let n = 200_000u32;
        let (mut sum, mut sum2) = (0.0f64, 0.0f64);
        for i in 0..n {
            let z: f64 = normal_draw(key, i, 3, 0, stream::VOLTAGE_NOISE);
            sum += z;
            sum2 += z * z;
        }
        let mean = sum / n as f64;
        let var = sum2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn counters_differ_by_neuron_step_and_stream() {
        let key = seed_key(1);
        let a = philox4x32_10(counter(1, 2, 0, 0), key);
        assert_ne!(a, philox4x32_10(counter(2, 2, 0, 0), key));
        assert_ne!(a, philox4x32_10(counter(1, 3, 0, 0), key));
        assert_ne!(a, philox4x32_10(counter(1, 2, 1, 0), key));
        assert_ne!(a, philox4x32_10(counter(1, 2, 0, 0), seed_key(2)));
    }
}
