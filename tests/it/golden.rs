//! Spike trains of the shipped configs on the CPU reference in f64, pinned: a restructuring
//! must leave them bit-identical. The counts and checksums were taken from this code before the
//! "one model, one place" restructuring began; a deliberate change of the numerics updates
//! them with a commit that says why.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::record::RecordPlan;

/// FNV-1a over (population, step, neuron) of every spike, in recorded order.
fn checksum(spikes: &[Vec<ganglion::record::Spike>]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (p, train) in spikes.iter().enumerate() {
        for s in train {
            for byte in (p as u64)
                .to_le_bytes()
                .into_iter()
                .chain(s.step.to_le_bytes())
                .chain(s.neuron.to_le_bytes())
            {
                h = (h ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    h
}

/// (spikes per population, checksum) of a shipped config on the CPU in f64.
fn golden(config: &str, overrides: &[&str]) -> Golden {
    let mut o = vec!["simulation.precision=\"f64\""];
    o.extend_from_slice(overrides);
    let (_, net) = shipped(config, &o);
    let plan = RecordPlan::all_spikes(&net);
    let sink = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    (
        sink.spikes.iter().map(Vec::len).collect(),
        checksum(&sink.spikes),
    )
}

/// Spikes per population and their checksum.
type Golden = (Vec<usize>, u64);

#[test]
fn the_shipped_configs_spike_as_they_did() {
    let cases: [(&str, &[&str], Golden); 3] = [
        ("hh_pair.toml", &[], (vec![136], 6675570859708794525)),
        (
            "cobahh.toml",
            &["simulation.duration_ms=100"],
            (vec![9934, 2798], 9672901359696512998),
        ),
        ("lif_tutorial.toml", &[], (vec![9], 16346118393322007028)),
    ];
    for (config, overrides, want) in cases {
        assert_eq!(golden(config, overrides), want, "{config}");
    }
}
