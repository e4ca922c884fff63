//! Brian2's integer and boolean variables (`c : integer`, `b : boolean`): kept as floats
//! holding what Brian2 stores, on both backends, and statements separated by `;`.

use crate::common::*;
use ganglion::backend::cpu::CpuBackend;
use ganglion::record::RecordPlan;

/// tests/brian2/integer_boolean.py's network: an integer counter, a boolean flag, an integer
/// subexpression and an integer set from a float, initialised from floats, rewritten by a
/// reset and every 0.5 ms; an integer weight and a boolean on the synapses onto itself.
const INTEGER_BOOLEAN: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 5.0
[models.m]
equations = """
dv/dt = (1.5 - v)/(2*ms) + 0.1*c/ms : 1
c : integer
b : boolean
x : 1
n : integer
k = int(3*v) - 1 : integer
up = v > 0.5 : boolean
"""
threshold = "v > 1"
reset = "v = 0; b = c % 2 == 0; c = c + 1.5"
method = "euler"
[synapse_models.s]
model = "w : integer\nflag : boolean"
on_pre = "x_post += w + flag; w = w + 0.5 + i; flag = not flag"
[populations.g]
model = "m"
size = 3
init = { v = "0.3*i", c = "-1.5*i + 2.25", b = [0.5, 0.0, -1.0] }
[populations.g.run_regularly.derived]
code = "x = c/2 - 7/2*b + k + up; n = -x - 0.6"
dt = "0.5*ms"
[projections.s]
source = "g"
target = "g"
synapse = "s"
connectivity = { rule = "all_to_all" }
init = { w = "1.7*i - 2.4*j", flag = "j == 1" }
[record]
traces = [{ population = "g", variables = ["v", "c", "b", "x", "n", "k"], when = "end" }]
"#;

/// Brian2 2.9.0 (numpy target), tests/brian2/integer_boolean.py: v, c, b, x, n and k at the
/// end of `STEPS`, and the synapses' w and flag at the end, in Brian2's (i, j) order.
const STEPS: [usize; 5] = [0, 9, 14, 27, 49];
const BRIAN2: [[[f64; 3]; 5]; 6] = [
    [
        [0.095, 0.36, 0.645],
        [0.7623998154470801, 0.7815156729139453, 0.961136754685459],
        [0.0, 0.944050523808296, 0.24246250000000003],
        [0.0, 0.6821472032947559, 0.9517846632919983],
        [0.0, 0.9734175396804934, 0.47506003125],
    ],
    [
        [2.0, 0.0, 0.0],
        [2.0, 0.0, 0.0],
        [3.0, 0.0, 1.0],
        [4.0, 1.0, 1.0],
        [6.0, 2.0, 3.0],
    ],
    [
        [1.0, 0.0, 1.0],
        [1.0, 0.0, 1.0],
        [1.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [0.0, 0.0, 1.0],
    ],
    [
        [-3.5, -1.0, -2.5],
        [-2.5, 1.0, -1.5],
        [2.5, 3.0, -6.5],
        [1.0, -3.0, -3.0],
        [1.0, 3.0, -3.0],
    ],
    [
        [2.0, 0.0, 1.0],
        [1.0, -1.0, 0.0],
        [0.0, -2.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, -3.0, 2.0],
    ],
    [
        [-1.0, 0.0, 0.0],
        [1.0, 1.0, 1.0],
        [-1.0, 1.0, -1.0],
        [-1.0, 1.0, 1.0],
        [-1.0, 1.0, 0.0],
    ],
];
const PAIRS: [(u32, u32); 9] = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)];
const BRIAN2_W: [f64; 9] = [0.0, 0.0, 0.0, 3.0, 2.0, 0.0, 9.0, 7.0, 5.0];
const BRIAN2_FLAG: [f64; 9] = [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0];

#[test]
fn integer_and_boolean_variables_store_what_brian2_stores_on_both_backends() {
    let (config, net) = parsed(INTEGER_BOOLEAN, &[]);
    let plan = RecordPlan::from_config(&config);
    let cpu = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    let gpu = run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan);
    let csr = &net.projections[0].csr;
    for (sink, tolerance, on) in [(&cpu, 1e-6, "CPU"), (&gpu, 2e-5, "GPU")] {
        for (var, brian2) in BRIAN2.iter().enumerate() {
            for (row, &step) in brian2.iter().zip(&STEPS) {
                for (i, b) in row.iter().enumerate() {
                    let x = sink.traces[0][var][step * 3 + i] as f64;
                    // The integers and booleans (variables 1, 2, 4, 5) exactly.
                    let tolerance = if [1, 2, 4, 5].contains(&var) { 0.0 } else { tolerance };
                    assert!((x - b).abs() <= tolerance, "{on}: variable {var} of neuron {i} at the end of step {step}: {x}, Brian2 {b}");
                }
            }
        }
        let synapses = sink.synapses[0].as_ref().unwrap();
        for (k, &pair) in PAIRS.iter().enumerate() {
            let s = csr_index(csr, pair);
            assert_eq!((synapses[0][s], synapses[1][s]), (BRIAN2_W[k], BRIAN2_FLAG[k]), "{on}: w and flag of {pair:?}");
        }
    }
}

#[test]
fn integer_and_boolean_variables_are_refused_where_brian2_refuses_them_or_ganglion_cannot() {
    let e = config_error(&INTEGER_BOOLEAN.replace("c : integer", "dc/dt = 1/ms : integer"));
    assert!(e.contains("models.m.equations") && e.contains("line 2") && e.contains("dc/dt: differential equations define floating-point variables only, not integer ones"), "{e}");
    let e = config_error(&INTEGER_BOOLEAN.replace("model = \"w : integer\\nflag : boolean\"", "model = \"w : integer\\ndflag/dt = 1/ms : boolean (clock-driven)\""));
    assert!(e.contains("synapse_models.s.model") && e.contains("not boolean ones"), "{e}");
    // A subexpression Brian2's targets would read differently: its numpy target as written,
    // its C++ ones converted.
    let e = config_error(&INTEGER_BOOLEAN.replace("k = int(3*v) - 1 : integer", "k = 3*v - 1 : integer"));
    assert!(e.contains("models.m.equations") && e.contains("line 6") && e.contains("`k` is declared integer but its expression is not always whole"), "{e}");
    let e = config_error(&INTEGER_BOOLEAN.replace("up = v > 0.5 : boolean", "up = v : boolean"));
    assert!(e.contains("line 7") && e.contains("`up` is declared boolean but its expression is not a condition"), "{e}");
    // A threshold may be a boolean variable, not an integer one, as in Brian2.
    parsed(&INTEGER_BOOLEAN.replace("threshold = \"v > 1\"", "threshold = \"b\""), &[]);
    let e = config_error(&INTEGER_BOOLEAN.replace("threshold = \"v > 1\"", "threshold = \"c\""));
    assert!(e.contains("models.m.threshold") && e.contains("must be a condition"), "{e}");
    // A `;` ends a statement, not an expression within parentheses.
    let e = config_error(&INTEGER_BOOLEAN.replace("reset = \"v = 0; b", "reset = \"v = (0; b"));
    assert!(e.contains("models.m.reset") && e.contains("line 1, column 7"), "{e}");
}

/// The network of config `text` at the end of its run, on the CPU (f64) and on the GPU.
fn final_states(text: &str) -> [(ganglion::backend::NetworkState, &'static str); 2] {
    use ganglion::backend::Backend;
    let (config, net) = parsed(text, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f64>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let mut gpu = gpu_backend(&net, &plan);
    run_in_memory(&net, &mut gpu, &plan);
    [(cpu.read_state().unwrap(), "CPU"), (gpu.read_state().unwrap(), "GPU")]
}

#[test]
fn a_shared_variable_draws_once_for_the_group_as_brian2s_scalar_code() {
    // Brian2 runs code writing a shared variable once for the group, one draw a step: a
    // run_regularly `x = x + rand() + randn()` and a PoissonInput into theta leave every
    // neuron with one value each, the same on the CPU and the GPU (the first neuron's draws).
    let text = SHARED
        .replace("code = \"x = x + 1\"", "code = \"x = x + rand() + randn()\"")
        .replace("duration_ms = 0.3", "duration_ms = 200.0")
        .replace("init = { theta = \"0.15 + 0.05\" }\n", "init = { theta = \"0.15 + 0.05\" }\n[populations.g.poisson_inputs.drive]\nvariable = \"theta\"\nn = 100\nrate = \"50*Hz\"\nweight = \"1\"\n")
        .replace("theta : 1 (constant, shared)", "theta : 1 (shared)");
    let [(cpu, _), (gpu, _)] = final_states(&text);
    for (state, on) in [(&cpu, "CPU"), (&gpu, "GPU")] {
        let (x, theta) = (&state[0][1], &state[0][2]);
        assert!(x.iter().all(|&v| v == x[0]) && theta.iter().all(|&v| v == theta[0]), "{on}: one value each: {x:?}, {theta:?}");
        // 2000 steps of a uniform and a normal: mean 1000, sd 46.5; of Binomial(100,
        // 0.005): mean 1000 (after theta's start of 0.2), sd 31.5.
        assert!((x[0] - 1000.0).abs() < 6.0 * 46.5, "{on}: x = {}", x[0]);
        assert!((theta[0] - 0.2 - 1000.0).abs() < 6.0 * 31.5, "{on}: theta = {}", theta[0]);
    }
    assert!((cpu[0][1][0] - gpu[0][1][0]).abs() < 1e-3 * cpu[0][1][0], "the same draws: {} and {}", cpu[0][1][0], gpu[0][1][0]);
    assert_eq!((cpu[0][2][0] - 0.2).round(), (gpu[0][2][0] - 0.2).round(), "the same counts");
    // A weight that differs between neurons would split the shared value.
    let e = config_error(&text.replace("weight = \"1\"", "weight = \"v\""));
    assert!(e.contains("populations.g.poisson_inputs.drive.weight") && e.contains("a variable each neuron or synapse has its own"), "{e}");
    // So does a synapse's run_regularly into a shared synaptic variable: every synapse holds
    // the same sum of draws (synapse 0's), on the CPU (f32, through its batched interpreter)
    // and the GPU.
    let synapse = format!("{SHARED}[projections.s.run_regularly.r]\ncode = \"z = z + rand() + randn()\"\n")
        .replace("model = \"w : 1\"", "model = \"\"\"w : 1\nz : 1 (shared)\"\"\"")
        .replace("duration_ms = 0.3", "duration_ms = 20.0");
    let (config, net) = parsed(&synapse, &[]);
    let plan = RecordPlan::from_config(&config);
    let mut cpu = CpuBackend::<f32>::new(&net);
    run_in_memory(&net, &mut cpu, &plan);
    let mut gpu = gpu_backend(&net, &plan);
    run_in_memory(&net, &mut gpu, &plan);
    use ganglion::backend::Backend;
    let (c, g) = (cpu.read_synapses().unwrap(), gpu.read_synapses().unwrap());
    let (cz, gz) = (&c[0].as_ref().unwrap()[1], &g[0].as_ref().unwrap()[1]);
    assert_eq!(cz.len(), 9);
    assert!(cz.iter().all(|&z| z == cz[0]) && gz.iter().all(|&z| z == gz[0]), "one value: {cz:?} on the CPU, {gz:?} on the GPU");
    assert!((cz[0] - gz[0]).abs() < 1e-4 * cz[0].abs().max(1.0), "the same draws: {} and {}", cz[0], gz[0]);
    // 200 steps of a uniform and a normal: mean 100, sd 14.7.
    assert!((cz[0] - 100.0).abs() < 6.0 * 14.7, "z = {}", cz[0]);
}

fn config_error(text: &str) -> String {
    ganglion::config::parse(text, &[])
        .and_then(|c| ganglion::network::Network::build(&c).map(|_| ()))
        .expect_err("refused")
        .to_string()
}

#[test]
fn a_summed_total_is_stored_into_an_integer_or_boolean_target_as_brian2_stores_it() {
    // tests/brian2/summed_integer.py: Brian2 2.9 gives s = [-2, -4] (totals -2.25 and -4.5,
    // truncated) and f = [0, 1] (totals 0 and -2.25).
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 0.3
[models.source]
equations = "x : 1"
[models.target]
equations = "s : integer\nf : boolean"
[synapse_models.sums]
model = "s_post = x_pre*(j + 1) : 1 (summed)"
[synapse_models.flags]
model = "f_post = x_pre*j : 1 (summed)"
[populations.source]
model = "source"
size = 3
init = { x = [0.4, -0.95, -1.7] }
[populations.target]
model = "target"
size = 2
[projections.sums]
source = "source"
target = "target"
synapse = "sums"
connectivity = { rule = "all_to_all" }
[projections.flags]
source = "source"
target = "target"
synapse = "flags"
connectivity = { rule = "all_to_all" }
"#;
    for (state, on) in final_states(text) {
        assert_eq!((&state[1][0][..], &state[1][1][..]), (&[-2.0, -4.0][..], &[0.0, 1.0][..]), "{on}");
    }
}

/// A population with a shared counter (one value for the group, which ganglion keeps in each
/// neuron) and a shared parameter its threshold reads.
const SHARED: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 0.3
[models.m]
equations = """
dv/dt = 1/ms : 1
x : 1 (shared)
theta : 1 (constant, shared)
"""
threshold = "v > theta"
reset = "v = 0"
method = "euler"
[populations.g]
model = "m"
size = 3
init = { theta = "0.15 + 0.05" }
[populations.g.run_regularly.count]
code = "x = x + 1"
[synapse_models.s]
model = "w : 1"
on_pre = "v_post += w"
[projections.s]
source = "g"
target = "g"
synapse = "s"
connectivity = { rule = "all_to_all" }
"#;

#[test]
fn shared_variables_keep_one_value_and_what_would_split_it_is_refused_as_brian2_refuses_it() {
    // Brian2 2.9: `x = x + 1` every step of 0.3 ms leaves x = 3.
    for (state, on) in final_states(SHARED) {
        assert_eq!(state[0][1], [3.0; 3], "{on}: x");
    }
    // What Brian2 refuses (tried with Brian2 2.9): a per-neuron value, a write per neuron.
    for (from, to, key, message) in [
        ("code = \"x = x + 1\"", "code = \"x = v\"", "populations.g.run_regularly.count.code", "its value cannot read a variable each neuron or synapse has its own"),
        ("code = \"x = x + 1\"", "code = \"x = i\"", "populations.g.run_regularly.count.code", "an index or count"),
        ("reset = \"v = 0\"", "reset = \"v = 0; x += 1\"", "models.m.reset", "`x` is shared (one value for the group) and a reset runs for each neuron"),
        ("on_pre = \"v_post += w\"", "on_pre = \"x_post += w\"", "synapse_models.s.on_pre", "`x` is shared"),
        ("init = { theta = \"0.15 + 0.05\" }", "init = { theta = \"0.1*i\" }", "populations.g.init.theta", "an index or count"),
        ("init = { theta = \"0.15 + 0.05\" }", "init = { theta = [0.1, 0.2, 0.3] }", "populations.g.init.theta", "give it one value"),
        ("init = { theta = \"0.15 + 0.05\" }", "init = { theta = { uniform = [0.1, 0.2] } }", "populations.g.init.theta", "give it one value"),
        ("dv/dt = 1/ms : 1\n", "dv/dt = 1/ms : 1 (shared)\n", "models.m.equations", "a differential equation cannot be `(shared)`"),
    ] {
        assert!(SHARED.contains(from), "{from}");
        let e = config_error(&SHARED.replace(from, to));
        assert!(e.contains(key) && e.contains(message), "{to}: {e}");
    }
}
