"""The fixtures of tests/it/plasticity.rs's run_regularly slot test (BRIAN2_REGULARLY_SLOTS):
`run_regularly` in the `end` slot (after the resets), `after_thresholds` (after the update
and threshold, before the reset) and `start` every 0.5 ms, on a group and on its synapses onto
itself, recorded by a StateMonitor at the end of the step. The groups are named `g` and `s`
so that Brian2 runs `g_run_regularly` and `s_run_regularly` before `statemonitor` in each
slot, as ganglion does. 5 ms of 0.1 ms steps. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/run_regularly_slots.py
"""
from brian2 import NeuronGroup, Network, StateMonitor, Synapses, defaultclock, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
g = NeuronGroup(2, "dv/dt = (2 - v)/(2*ms) : 1\na : 1\nb : 1\nc : 1", threshold="v > 1", reset="v = 0", method="exact", name="g")
g.v = "0.4*i"
g.run_regularly("a = v", when="end")
g.run_regularly("b = v", when="after_thresholds")
g.run_regularly("c = v", dt=0.5 * ms)
s = Synapses(g, g, "w : 1", name="s")
s.connect()
s.run_regularly("w = v_post + 10*v_pre", when="end")
trace = StateMonitor(g, ["v", "a", "b", "c"], record=True, when="end")
net = Network(g, s, trace)
net.run(5 * ms)
STEPS = (0, 7, 13, 20, 49)
for var in ["v", "a", "b", "c"]:
    print(f"{var} at the end of steps {STEPS}: {[list(getattr(trace, var)[:, k]) for k in STEPS]!r}")
print(f"synapses (i, j) {list(zip(s.i[:].tolist(), s.j[:].tolist()))!r}")
print(f"w at the end {list(s.w[:])!r}")
