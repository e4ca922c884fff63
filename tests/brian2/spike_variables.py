"""The fixtures of tests/it/spike_variables.rs: three adapting neurons, each driven by its own
constant input, with a counter their reset increments, 20 ms of 0.1 ms steps. Brian2's
SpikeMonitor(g, variables=["v", "a", "c"]) (BRIAN2_SPIKES): the values each spike records
are the neuron's after the update and threshold, before its reset (the monitor runs in the
`thresholds` slot). Then three subexpressions (one of the others, one of t and i), which
change nothing of the run, recorded by SpikeMonitor and by an EventMonitor of a custom event
(BRIAN2_SUBEXPRESSIONS, BRIAN2_LOW): Brian2 evaluates them where the monitors run, from the
values after the update and threshold. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/spike_variables.py
"""
from brian2 import EventMonitor, NeuronGroup, Network, SpikeMonitor, defaultclock, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
g = NeuronGroup(
    3,
    """dv/dt = (I - v - a)/(2*ms) : 1
da/dt = -a/(10*ms) : 1
I : 1 (constant)
c : 1
drive = I - a : 1
twice = 2*drive + c : 1
vt = v + t/(10*ms) + 0.01*i : 1""",
    threshold="v > 1",
    reset="v = 0; a += 0.3; c += 1",
    events={"low": "v < 0.05"},
    method="exact",
    name="g",
)
g.I = "1.5 + 0.5*i"
g.v = "0.2*i"
m = SpikeMonitor(g, variables=["v", "a", "c", "drive", "twice", "vt"])
e = EventMonitor(g, "low", variables=["twice", "vt"])
net = Network(g, m, e)
net.run(20 * ms)
steps = [int(round(t / (0.1 * ms))) for t in m.t]
print(f"spikes (i, step, v, a, c) {[(int(i), k, float(v), float(a), float(c)) for i, k, v, a, c in zip(m.i, steps, m.v, m.a, m.c)]!r}")
print(f"spikes (i, step, v, drive, twice, vt) {[(int(i), k, float(v), float(d), float(w), float(x)) for i, k, v, d, w, x in zip(m.i, steps, m.v, m.drive, m.twice, m.vt)]!r}")
print(f"low (i, step, twice, vt) {[(int(i), int(round(t / (0.1 * ms))), float(w), float(x)) for i, t, w, x in zip(e.i, e.t, e.twice, e.vt)]!r}")
