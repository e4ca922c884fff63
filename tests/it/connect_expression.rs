//! Brian2's `Synapses.connect(condition=…, p=…, n=…)` as `rule = "expression"`: the pairs of
//! deterministic conditions equal Brian2's, the counts of a distance-dependent probability
//! agree with Brian2's in distribution (tests/brian2/connect_expression.py made the fixtures).

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::network::Network;
use ganglion::record::RecordPlan;

/// Brian2's pairs (pre, post) for `abs(x_pre - x_post) < 24.5*um and i != N_post - 1 - j`
/// from 20 neurons at x = 10 µm·i onto 15 at x = 13 µm·j, each made twice (n = 2).
const BRIAN2_NEAR: [(u32, u32); 68] = [
    (0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (3, 3),
    (3, 4), (4, 2), (4, 3), (4, 4), (5, 2), (5, 3), (5, 4), (5, 5), (6, 3), (6, 4), (6, 5), (6, 6),
    (7, 4), (7, 5), (7, 6), (8, 5), (8, 7), (8, 8), (9, 6), (9, 7), (9, 8), (10, 6), (10, 7),
    (10, 8), (10, 9), (11, 7), (11, 8), (11, 9), (11, 10), (12, 8), (12, 9), (12, 10), (12, 11),
    (13, 9), (13, 10), (13, 11), (14, 9), (14, 10), (14, 11), (14, 12), (15, 10), (15, 11),
    (15, 12), (15, 13), (16, 11), (16, 12), (16, 13), (16, 14), (17, 12), (17, 13), (17, 14),
    (18, 12), (18, 13), (18, 14), (19, 13), (19, 14),
];

/// Brian2's pairs for `(i + 2*j) % 7 == 3 or j == N_pre - 1` from the 15 onto the 20.
const BRIAN2_MODULO: [(u32, u32); 56] = [
    (0, 5), (0, 12), (0, 14), (0, 19), (1, 1), (1, 8), (1, 14), (1, 15), (2, 4), (2, 11), (2, 14),
    (2, 18), (3, 0), (3, 7), (3, 14), (4, 3), (4, 10), (4, 14), (4, 17), (5, 6), (5, 13), (5, 14),
    (6, 2), (6, 9), (6, 14), (6, 16), (7, 5), (7, 12), (7, 14), (7, 19), (8, 1), (8, 8), (8, 14),
    (8, 15), (9, 4), (9, 11), (9, 14), (9, 18), (10, 0), (10, 7), (10, 14), (11, 3), (11, 10),
    (11, 14), (11, 17), (12, 6), (12, 13), (12, 14), (13, 2), (13, 9), (13, 14), (13, 16), (14, 5),
    (14, 12), (14, 14), (14, 19),
];

/// Over Brian2's seeds 0 … 19, 300 neurons with `condition = "i != j"` and
/// `p = "0.5*exp(-abs(i - j)/3.0)"`: the mean synapse count, and the mean count at
/// |i − j| = 1 … 6.
const BRIAN2_MEAN_COUNT: f64 = 751.85;
const BRIAN2_BY_DISTANCE: [f64; 6] = [212.25, 153.6, 111.25, 78.35, 56.55, 39.6];

/// 20 units at x = 10 µm·i (`a`) and 15 at x = 13 µm·j (`b`), joined by `connectivity`.
fn network(source: &str, target: &str, connectivity: &str) -> String {
    format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
seed = 1

[models.unit]
equations = """
dv/dt = (1.2 - v)/(10*ms) : 1
x : metre
"""
threshold = "v > 1"
reset = "v = 0"

[synapse_models.kick]
model = "w : 1"
on_pre = "v_post += w"
namespace = {{ reach = "24.5*um" }}

[populations.a]
model = "unit"
size = 20
init = {{ v = "rand()", x = "i*10*um" }}

[populations.b]
model = "unit"
size = 15
init = {{ v = "rand()", x = "i*13*um" }}

[projections.p]
source = "{source}"
target = "{target}"
synapse = "kick"
connectivity = {connectivity}
init = {{ w = "0.2" }}

[record]
spikes = ["a", "b"]
"#
    )
}

/// The (pre, post) pairs of projection 0, sorted.
fn pairs(net: &Network) -> Vec<(u32, u32)> {
    let csr = &net.projections[0].csr;
    let mut out: Vec<(u32, u32)> = (0..csr.n_rows)
        .flat_map(|j| (csr.row_ptr[j] as usize..csr.row_ptr[j + 1] as usize).map(move |s| (s, j as u32)))
        .map(|(s, j)| (csr.col_idx[s], j))
        .collect();
    out.sort_unstable();
    out
}

#[test]
fn deterministic_conditions_make_brian2s_pairs() {
    // The namespace's constant, the populations' variables, N_post, and n = 2 synapses a pair.
    let near = network("a", "b", r#"{ rule = "expression", condition = "abs(x_pre - x_post) < reach and i != N_post - 1 - j", n = 2 }"#);
    let (_, net) = parsed(&near, &[]);
    let twice: Vec<(u32, u32)> = BRIAN2_NEAR.iter().flat_map(|&p| [p, p]).collect();
    assert_eq!(pairs(&net), twice);
    // The other way, N_pre, `%` and `or`.
    let modulo = network("b", "a", r#"{ rule = "expression", condition = "(i + 2*j) % 7 == 3 or j == N_pre - 1" }"#);
    let (_, net) = parsed(&modulo, &[]);
    assert_eq!(pairs(&net), BRIAN2_MODULO);
    // `check` counts them before anything is drawn: every pair is visited, so exactly.
    let config = ganglion::config::parse(&near, &[]).unwrap();
    assert_eq!(ganglion::shape::Shape::from_config(&config).projections[0].synapses, 136);
    // The GPU runs the matrix as the CPU does.
    let (config, net) = parsed(&near, &["projections.p.init.w=\"0.5\""]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f32>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    assert!(cpu.spikes[1].len() > 10, "the targets fire: {:?}", cpu.spikes[1]);
    assert_eq!(gpu.spikes, cpu.spikes);
}

#[test]
fn a_distance_dependent_probability_makes_brian2s_counts_in_distribution() {
    // 20 seeds, as Brian2's fixture: the mean count and the mean count at each distance
    // within four standard errors of the difference of two means (counts are about Poisson).
    let text = network("a", "a", r#"{ rule = "expression", condition = "i != j", p = "0.5*exp(-abs(i - j)/3.0)" }"#);
    let seeds = 20;
    let (mut total, mut by_distance) = (0.0, [0.0; 6]);
    for seed in 0..seeds {
        let (_, net) = parsed(&text, &["populations.a.size=300", &format!("simulation.seed={seed}")]);
        let p = pairs(&net);
        assert!(p.iter().all(|(i, j)| i != j), "the condition holds");
        total += p.len() as f64;
        for (i, j) in p {
            let d = (i as i64 - j as i64).unsigned_abs() as usize;
            if (1..=6).contains(&d) {
                by_distance[d - 1] += 1.0;
            }
        }
    }
    let close = |ours: f64, brian2: f64, what: &str| {
        let se = (2.0 * brian2 / seeds as f64).sqrt();
        assert!((ours - brian2).abs() < 4.0 * se, "{what}: {ours} here, {brian2} in Brian2 (se {se:.1})");
    };
    close(total / seeds as f64, BRIAN2_MEAN_COUNT, "synapses");
    for (d, (&ours, &brian2)) in by_distance.iter().zip(&BRIAN2_BY_DISTANCE).enumerate() {
        close(ours / seeds as f64, brian2, &format!("synapses at distance {}", d + 1));
    }
    // What `check` expects, from sampled pairs, lies as close to the exact expectation.
    let exact: f64 = (1..300).map(|d| 2.0 * (300 - d) as f64 * 0.5 * (-(d as f64) / 3.0).exp()).sum();
    let config = ganglion::config::parse(&text, &["populations.a.size=300".into()]).unwrap();
    let expected = ganglion::shape::Shape::from_config(&config).projections[0].synapses as f64;
    assert!((expected - exact).abs() < 0.1 * exact, "{expected} expected, {exact} exactly");
    // A seed draws the same matrix again.
    let again = |seed: &str| pairs(&parsed(&text, &[&format!("simulation.seed={seed}")]).1);
    assert_eq!(again("7"), again("7"));
    assert_ne!(again("7"), again("8"));
}

#[test]
fn expression_rules_that_cannot_be_are_refused_by_key() {
    let cases = [
        (r#"{ rule = "expression", condition = "i + j" }"#, "projections.p.connectivity.condition", "must be a condition"),
        (r#"{ rule = "expression", p = "1*ms" }"#, "projections.p.connectivity.p", "dimensionless probability"),
        (r#"{ rule = "expression", p = 1.5 }"#, "projections.p.connectivity.p", "must be in [0, 1]"),
        (r#"{ rule = "expression", n = 0 }"#, "projections.p.connectivity.n", "at least 1"),
        // The synapses do not exist yet: their variables cannot be read.
        (r#"{ rule = "expression", condition = "w > 0" }"#, "projections.p.connectivity.condition", "unknown name `w`"),
        (r#"{ rule = "expression", condition = "y_pre > 0" }"#, "projections.p.connectivity.condition", "y_pre"),
        (r#"{ rule = "expression", conditon = "i != j" }"#, "projections.p.connectivity", "conditon"),
    ];
    for (rule, key, message) in cases {
        let e = ganglion::config::parse(&network("a", "b", rule), &[]).expect_err(rule).to_string();
        assert!(e.contains(key) && e.contains(message), "{rule}: {e}");
    }
    // Every pair is visited: past 2^30 of them the rule is refused, not left to run for minutes.
    let text = network("a", "b", r#"{ rule = "expression", condition = "i == j" }"#);
    let e = ganglion::config::parse(&text, &["populations.a.size=40000".into(), "populations.b.size=40000".into()])
        .expect_err("too many pairs")
        .to_string();
    assert!(e.contains("projections.p.connectivity") && e.contains("40000 × 40000") && e.contains("fixed_probability"), "{e}");
}

/// Brian2's pairs for `j = "k for k in range(i - 2, i + 3, 2) if k != i and x_pre < 3.2"`
/// (skipping invalid j, n = 2) from 9 neurons with x = 0.5·i onto 7, and for
/// `j = "N_post - 1 - i"` (skipping invalid j); the mean count over seeds 0 … 19 of
/// `j = "k for k in sample(N_post, p=0.05 + 0.1*(i % 2))"` within 300.
const BRIAN2_GENERATED: [(u32, u32); 10] = [(0, 2), (1, 3), (2, 0), (2, 4), (3, 1), (3, 5), (4, 2), (4, 6), (5, 3), (6, 4)];
const BRIAN2_REVERSED: [(u32, u32); 7] = [(0, 6), (1, 5), (2, 4), (3, 3), (4, 2), (5, 1), (6, 0)];
const BRIAN2_SAMPLED_MEAN: f64 = 9044.25;

/// `network("a", "b", …)` with 9 sources at x = 0.5 (dimensionless) · i and 7 targets.
fn generated(connectivity: &str) -> String {
    network("a", "b", connectivity)
        .replace("x : metre", "x : 1")
        .replace("size = 20", "size = 9")
        .replace("size = 15", "size = 7")
        .replace("x = \"i*10*um\"", "x = \"i*0.5\"")
        .replace("x = \"i*13*um\"", "x = \"0\"")
}

#[test]
fn generator_syntax_makes_brian2s_pairs() {
    let text = generated(r#"{ rule = "expression", j = "k for k in range(i - 2, i + 3, 2) if k != i and x_pre < 3.2", skip_if_invalid = true, n = 2 }"#);
    let (_, net) = parsed(&text, &[]);
    let twice: Vec<(u32, u32)> = BRIAN2_GENERATED.iter().flat_map(|&p| [p, p]).collect();
    assert_eq!(pairs(&net), twice);
    let config = ganglion::config::parse(&text, &[]).unwrap();
    assert_eq!(ganglion::shape::Shape::from_config(&config).projections[0].synapses, 20, "check counts them");
    let (_, net) = parsed(&generated(r#"{ rule = "expression", j = "N_post - 1 - i", skip_if_invalid = true }"#), &[]);
    assert_eq!(pairs(&net), BRIAN2_REVERSED);
    // sample(): over 20 seeds the mean count within four standard errors of Brian2's and of
    // the expectation (300 · 300 · 0.1).
    let sampled = network("a", "a", r#"{ rule = "expression", j = "k for k in sample(N_post, p=0.05 + 0.1*(i % 2))" }"#);
    let mean = (0..20)
        .map(|seed| pairs(&parsed(&sampled, &["populations.a.size=300", &format!("simulation.seed={seed}")]).1).len() as f64)
        .sum::<f64>()
        / 20.0;
    let se = (9000.0 * 0.9 / 20.0f64).sqrt();
    assert!((mean - 9000.0).abs() < 4.0 * se && (mean - BRIAN2_SAMPLED_MEAN).abs() < 4.0 * se * 2f64.sqrt(), "{mean}");
}

#[test]
fn generators_brian2_refuses_are_refused_by_key() {
    let cases = [
        (r#"{ rule = "expression", j = "i", condition = "i > 0" }"#, "projections.p.connectivity.condition", "cannot be combined with j"),
        (r#"{ rule = "expression", j = "i", p = 0.5 }"#, "projections.p.connectivity.p", "sample(…, p=…)"),
        (r#"{ rule = "expression", j = "k for k in sample(3)" }"#, "projections.p.connectivity.j", "one of p="),
        (r#"{ rule = "expression", j = "k for k in sample(3, size=2, p=0.5)" }"#, "projections.p.connectivity.j", "one of p="),
        (r#"{ rule = "expression", j = "k for k in range(3, step=2)" }"#, "projections.p.connectivity.j", "range takes no keywords"),
        (r#"{ rule = "expression", i = "j", j = "i" }"#, "projections.p.connectivity.i", "cannot be combined with j"),
        (r#"{ rule = "expression", i = "j", condition = "i > 0" }"#, "projections.p.connectivity.condition", "cannot be combined with i"),
        // What Brian2 cannot know where it is read: the result in the iterator or the
        // expression, the loop variable in the iterator.
        (r#"{ rule = "expression", j = "k for k in range(j)" }"#, "projections.p.connectivity.j", "reads j or the post-synaptic variables"),
        (r#"{ rule = "expression", j = "k for k in sample(7, size=x_post)" }"#, "projections.p.connectivity.j", "reads j or the post-synaptic variables"),
        (r#"{ rule = "expression", j = "k + x_post for k in range(3)" }"#, "projections.p.connectivity.j", "reads j or the post-synaptic"),
        (r#"{ rule = "expression", i = "k for k in range(i)" }"#, "projections.p.connectivity.i", "reads i or the pre-synaptic variables"),
        (r#"{ rule = "expression", j = "k for k in sample(9, p=k/9)" }"#, "projections.p.connectivity.j", "the loop variable `k`"),
        (r#"{ rule = "expression", j = "i for i in range(3)" }"#, "projections.p.connectivity.j", "not a name for the loop variable"),
        // Brian2's counts of synapses, which do not exist yet.
        (r#"{ rule = "expression", j = "k for k in range(N_outgoing)" }"#, "projections.p.connectivity.j", "`N_outgoing` counts synapses"),
        (r#"{ rule = "expression", condition = "j < N_incoming" }"#, "projections.p.connectivity.condition", "(Brian2 refuses it too)"),
        (r#"{ rule = "expression", condition = "i < N" }"#, "projections.p.connectivity.condition", "`N` counts synapses"),
        // An error within a part names the part its position counts from.
        (r#"{ rule = "expression", j = "k for k in range(i + nope)" }"#, "projections.p.connectivity.j", "in `i + nope`: line 1, column 5: unknown name `nope`"),
        (r#"{ rule = "expression", j = "k for k in zip(3)" }"#, "projections.p.connectivity.j", "range(…) or sample(…)"),
        (r#"{ rule = "expression", j = "k for k in range(3) if k + 1" }"#, "projections.p.connectivity.j", "must be a condition"),
        (r#"{ rule = "expression", condition = "i > 0", skip_if_invalid = true }"#, "projections.p.connectivity.skip_if_invalid", "generator"),
    ];
    for (rule, key, message) in cases {
        let e = ganglion::config::parse(&generated(rule), &[]).expect_err(rule).to_string();
        assert!(e.contains(key) && e.contains(message), "{rule}: {e}");
    }
    // A j outside the target, or not a whole number, is refused when the matrix is drawn.
    for (rule, message) in [
        (r#"{ rule = "expression", j = "k for k in range(i, i + 2)" }"#, "gives j = 7 for i = 6, outside the target's 0 … 6"),
        (r#"{ rule = "expression", j = "i/2" }"#, "j is 0.5 for i = 1, not a whole number"),
        // A range typed too long is refused, not run for hours.
        (r#"{ rule = "expression", j = "k for k in range(10**12)", skip_if_invalid = true }"#, "runs over 1000000000000 values"),
        // Brian2's refusals of a size it cannot draw (taken in or clamped with skip_if_invalid).
        (r#"{ rule = "expression", j = "k for k in sample(5, size=i)" }"#, "sample's size is 6 for i = 6, more than the range's 5 values"),
        (r#"{ rule = "expression", j = "k for k in sample(5, size=i - 1)" }"#, "sample's size is -1 for i = 0, negative"),
        (r#"{ rule = "expression", j = "k for k in sample(5, size=i/2)" }"#, "sample's size is 0.5 for i = 1, not a whole number"),
        // Where the `if` reads the target's variables, a j outside is refused before it, as
        // Brian2 does, even where the `if` would not hold.
        (r#"{ rule = "expression", j = "k for k in range(i - 2, i + 3) if x_post > 0.4" }"#, "gives j = -2 for i = 0, outside the target's 0 … 6 (before the `if`"),
        (r#"{ rule = "expression", i = "j + 3" }"#, "gives i = 9 for j = 6, outside the source's 0 … 8"),
    ] {
        let config = ganglion::config::parse(&generated(rule), &[]).expect("check accepts it");
        let e = Network::build(&config).expect_err(rule).to_string();
        let key = if rule.contains(" i = ") { "projections.p.connectivity.i" } else { "projections.p.connectivity.j" };
        assert!(e.contains(key) && e.contains(message), "{rule}: {e}");
    }
}

/// Brian2 2.9's pairs (tests/brian2/connect_expression.py) from the 9 sources at x = 0.5·i
/// onto the 7 targets at x = 0.25·j (Brian2's `y`), for generators over j (`i = …`),
/// conditions reading the result's side, and `EXPR if COND`.
const BRIAN2_BY_GENERATOR: [(&str, &[(u32, u32)]); 10] = [
    (r#"i = "k for k in range(9) if k % 7 == j""#, &[(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 0), (8, 1)]),
    (r#"i = "j + k for k in range(3) if i % 2 == 0", skip_if_invalid = true"#, &[(0, 0), (2, 0), (2, 1), (2, 2), (4, 2), (4, 3), (4, 4), (6, 4), (6, 5), (6, 6), (8, 6)]),
    (r#"i = "k for k in range(9) if x_pre > 2.9""#, &[(6, 0), (6, 1), (6, 2), (6, 3), (6, 4), (6, 5), (6, 6), (7, 0), (7, 1), (7, 2), (7, 3), (7, 4), (7, 5), (7, 6), (8, 0), (8, 1), (8, 2), (8, 3), (8, 4), (8, 5), (8, 6)]),
    (r#"i = "k for k in range(9) if x_post > 0.6 and k < 3""#, &[(0, 3), (0, 4), (0, 5), (0, 6), (1, 3), (1, 4), (1, 5), (1, 6), (2, 3), (2, 4), (2, 5), (2, 6)]),
    (r#"j = "k for k in range(0, 7) if j != i and x_post > 0.4""#, &[(0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (2, 3), (2, 4), (2, 5), (2, 6), (3, 2), (3, 4), (3, 5), (3, 6), (4, 2), (4, 3), (4, 5), (4, 6), (5, 2), (5, 3), (5, 4), (5, 6), (6, 2), (6, 3), (6, 4), (6, 5), (7, 2), (7, 3), (7, 4), (7, 5), (7, 6), (8, 2), (8, 3), (8, 4), (8, 5), (8, 6)]),
    (r#"j = "k for k in range(i - 2, i + 3) if j != i", skip_if_invalid = true"#, &[(0, 1), (0, 2), (1, 0), (1, 2), (1, 3), (2, 0), (2, 1), (2, 3), (2, 4), (3, 1), (3, 2), (3, 4), (3, 5), (4, 2), (4, 3), (4, 5), (4, 6), (5, 3), (5, 4), (5, 6), (6, 4), (6, 5), (7, 5), (7, 6), (8, 6)]),
    // Brian2's cython target (its numpy target fails to broadcast this one).
    (r#"j = "k for k in range(i - 2, i + 3) if k != i and x_post > 0.4", skip_if_invalid = true"#, &[(0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 2), (3, 4), (3, 5), (4, 2), (4, 3), (4, 5), (4, 6), (5, 3), (5, 4), (5, 6), (6, 4), (6, 5), (7, 5), (7, 6), (8, 6)]),
    (r#"j = "i + 1 if i < 4""#, &[(0, 1), (1, 2), (2, 3), (3, 4)]),
    (r#"j = "i - 1 if x_post > 0.4", skip_if_invalid = true"#, &[(3, 2), (4, 3), (5, 4), (6, 5), (7, 6)]),
    (r#"i = "2*j", skip_if_invalid = true"#, &[(0, 0), (2, 1), (4, 2), (6, 3), (8, 4)]),
];

/// `generated(…)` with the targets at x = 0.25·j.
fn generated_with_targets(keys: &str) -> String {
    generated(&format!(r#"{{ rule = "expression", {keys} }}"#)).replacen("x = \"0\"", "x = \"i*0.25\"", 1)
}

#[test]
fn generators_over_j_and_conditions_on_the_result_make_brian2s_pairs() {
    for (keys, brian2) in BRIAN2_BY_GENERATOR {
        let text = generated_with_targets(keys);
        let (_, net) = parsed(&text, &[]);
        assert_eq!(pairs(&net), brian2, "{keys}");
        // `check` counts every outer index here, so exactly.
        let config = ganglion::config::parse(&text, &[]).unwrap();
        assert_eq!(ganglion::shape::Shape::from_config(&config).projections[0].synapses, brian2.len() as u64, "{keys}");
    }
}

#[test]
fn sample_with_a_size_draws_that_many_distinct_values_uniformly() {
    // Brian2 2.9 gives [0, 1, 2, 3, 4, 5, 5, 5, 5] synapses per source: min(i, 5) with
    // skip_if_invalid, each of the range's values once.
    let text = generated_with_targets(r#"j = "k for k in sample(5, size=i)", skip_if_invalid = true"#);
    let mut hits = [0usize; 7];
    for seed in 0..200 {
        let (_, net) = parsed(&text, &[&format!("simulation.seed={seed}")]);
        let pairs = pairs(&net);
        for i in 0..9u32 {
            let js: Vec<u32> = pairs.iter().filter(|p| p.0 == i).map(|p| p.1).collect();
            assert_eq!(js.len(), (i as usize).min(5), "seed {seed}, i = {i}");
            assert!(js.windows(2).all(|w| w[0] < w[1]) && js.iter().all(|&j| j < 5), "seed {seed}, i = {i}: {js:?}");
        }
        for &(i, j) in &pairs {
            if (1..=4).contains(&i) {
                hits[j as usize] += 1;
            }
        }
    }
    // Sources 1 … 4 draw 1 + 2 + 3 + 4 of 5 values: each value 2 times per seed expected,
    // 400 over the seeds (a binomial's sd is under 20).
    for (j, &n) in hits.iter().enumerate().take(5) {
        assert!((n as f64 - 400.0).abs() < 80.0, "value {j} drawn {n} times: {hits:?}");
    }
    // A step, and sources within the range.
    let (_, net) = parsed(&generated_with_targets(r#"j = "k for k in sample(0, 7, 3, size=2)""#), &[]);
    let pairs = pairs(&net);
    assert_eq!(pairs.len(), 18);
    assert!(pairs.iter().all(|p| [0, 3, 6].contains(&p.1)), "{pairs:?}");
    // An empty range draws nothing, whatever the size (as Brian2).
    let (_, net) = parsed(&generated_with_targets(r#"j = "k for k in sample(i, i, size=3)""#), &[]);
    assert!(net.projections[0].csr.col_idx.is_empty());
}
