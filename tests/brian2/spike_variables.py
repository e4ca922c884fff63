"""The fixtures of tests/it/spike_variables.rs (BRIAN2_SPIKE_VALUES): Brian2's
SpikeMonitor(g, variables=["v", "a", "c"]) of three adapting neurons, each driven by its own
constant input, with a counter their reset increments: the values each spike records are the
neuron's after the update and threshold, before its reset (the monitor runs in the
`thresholds` slot). 20 ms of 0.1 ms steps. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/spike_variables.py
"""
from brian2 import NeuronGroup, Network, SpikeMonitor, defaultclock, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
g = NeuronGroup(
    3,
    """dv/dt = (I - v - a)/(2*ms) : 1
da/dt = -a/(10*ms) : 1
I : 1 (constant)
c : 1""",
    threshold="v > 1",
    reset="v = 0; a += 0.3; c += 1",
    method="exact",
    name="g",
)
g.I = "1.5 + 0.5*i"
g.v = "0.2*i"
m = SpikeMonitor(g, variables=["v", "a", "c"])
net = Network(g, m)
net.run(20 * ms)
print(f"spikes (i, step, v, a, c) {[(int(i), int(round(t / (0.1 * ms))), float(v), float(a), float(c)) for i, t, v, a, c in zip(m.i, m.t, m.v, m.a, m.c)]!r}")
