"""The fixtures of tests/it/spike_variables.rs's subexpression test (BRIAN2_SUBEXPRESSIONS):
tests/brian2/spike_variables.py's adapting neurons with three subexpressions (one of the
others, one of t and i), recorded with each spike by SpikeMonitor(g, variables=[...]) and
with each occurrence of a custom event by EventMonitor: Brian2 evaluates a subexpression
where the monitor runs (the `thresholds` slot for both), from the values after the update
and threshold. 20 ms of 0.1 ms steps. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/spike_subexpressions.py
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
m = SpikeMonitor(g, variables=["v", "drive", "twice", "vt"])
e = EventMonitor(g, "low", variables=["twice", "vt"])
net = Network(g, m, e)
net.run(20 * ms)
print(f"spikes (i, step, v, drive, twice, vt) {[(int(i), int(round(t / (0.1 * ms))), float(v), float(d), float(w), float(x)) for i, t, v, d, w, x in zip(m.i, m.t, m.v, m.drive, m.twice, m.vt)]!r}")
print(f"low (i, step, twice, vt) {[(int(i), int(round(t / (0.1 * ms))), float(w), float(x)) for i, t, w, x in zip(e.i, e.t, e.twice, e.vt)]!r}")
