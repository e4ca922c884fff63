"""The fixtures of tests/it/linked.rs's reset test (BRIAN2_LINKED_RESETS): linked variables
read by a reset and recorded at the step's end, where the source resets in the same step.
`b_reset` fires exactly when `a_src` does (its threshold reads the linked `I`) and its reset
reads `I` after `a_src`'s reset (Brian2 resets the groups in the order of their names);
`c_end` reads `z_src`, which resets after it, and is recorded at the end of the step, after
`z_src`'s reset. 30 ms of 0.1 ms steps. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/linked_resets.py
"""
from brian2 import Network, NeuronGroup, SpikeMonitor, StateMonitor, collect, defaultclock, linked_var, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
namespace = {"f": 40 / (1000 * ms), "tau_in": 2 * ms, "tau": 5 * ms}
a_src = NeuronGroup(2, "dx/dt = (2 + sin(2*pi*f*t + i) - x)/tau_in : 1", threshold="x > 1.5", reset="x = 0.2", name="a_src")
b_reset = NeuronGroup(2, "dv/dt = (I - v)/tau : 1\nI : 1 (linked)", threshold="I > 1.5", reset="v = v + I", name="b_reset")
b_reset.I = linked_var(a_src, "x")
c_end = NeuronGroup(2, "dv/dt = (1.2*I - v)/tau : 1\nI : 1 (linked)", threshold="v > 1", reset="v = 0.1*I", name="c_end")
z_src = NeuronGroup(2, "dx/dt = (2 + sin(2*pi*f*t + 3*i) - x)/tau_in : 1", threshold="x > 1.5", reset="x = 0.2", name="z_src")
c_end.I = linked_var(z_src, "x")
for g in [a_src, z_src]:
    g.x = 1.0
groups = [a_src, b_reset, c_end, z_src]
monitors = [SpikeMonitor(g) for g in groups]
traces = [StateMonitor(g, ["v", "I"], record=True, when="end") for g in [b_reset, c_end]]
network = Network(collect())
network.add(monitors, traces)
network.run(30 * ms, namespace=namespace)
for g, m in zip(groups, monitors):
    steps = [int(round(t / (0.1 * ms))) for t in m.t[:]]
    print(f"{g.name}: spikes {list(zip(m.i[:].tolist(), steps))!r}")
# Steps where the sources or readers spike (6, 11, 14, 19, 79, 111, 126) and three others.
STEPS = (1, 6, 11, 14, 19, 79, 111, 126, 150, 299)
for g, trace in zip([b_reset, c_end], traces):
    print(f"{g.name}: v at the end of steps {STEPS}: {[list(trace.v[:, k]) for k in STEPS]!r}")
    print(f"{g.name}: I at the end of steps {STEPS}: {[list(trace.I[:, k]) for k in STEPS]!r}")
