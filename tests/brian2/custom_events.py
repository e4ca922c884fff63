"""The fixtures of tests/it/custom_events.rs (BRIAN2_*): Brian2's custom events. Four
neurons driven towards their own inputs, spiking at v > 1 with a 2 ms refractory period, with
three events of their own: `up` (v > 0.9, checked after the thresholds and not gated by
refractoriness; its code, run after the resets, counts it, copies `a` and pulls v back) and
`low` (v < 0.1 while not refractory: `not_refractory` is read as the thresholds left it,
so `fresh`, over the threshold and refractory, holds in the steps of the spikes alone). A
synapse from every neuron onto every other adds 1 to `a` on each spike, between the events'
check and their code, so `b` (a copied by `up`'s code) holds the step's arrivals. Three
EventMonitors (`low`'s with v and c, as they are when the event is checked) and a
SpikeMonitor; 30 ms of 0.1 ms steps. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/custom_events.py
"""
from brian2 import EventMonitor, NeuronGroup, Network, SpikeMonitor, Synapses, defaultclock, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
g = NeuronGroup(
    4,
    """dv/dt = (I - v)/(3*ms) : 1 (unless refractory)
I : 1 (constant)
a : 1
b : 1
c : 1""",
    threshold="v > 1",
    reset="v = 0",
    refractory=2 * ms,
    events={"up": "v > 0.9", "low": "v < 0.1 and not_refractory", "fresh": "v > 1 and not not_refractory"},
    method="exact",
    name="g",
)
g.run_on_event("up", "c += 1; b = a; v -= 0.01")
g.I = "1.2 + 0.3*i"
g.v = "0.25*i"
s = Synapses(g, g, on_pre="a += 1", name="s")
s.connect(condition="i != j")
up = EventMonitor(g, "up")
low = EventMonitor(g, "low", variables=["v", "c"])
fresh = EventMonitor(g, "fresh")
spikes = SpikeMonitor(g)
net = Network(g, s, up, low, fresh, spikes)
net.run(30 * ms)
step = lambda t: int(round(t / (0.1 * ms)))


def runs(monitor):
    """Each neuron's events as runs of consecutive steps (neuron, first, last), by neuron."""
    out = []
    for n in range(4):
        steps = sorted(step(t) for i, t in zip(monitor.i, monitor.t) if i == n)
        for k in steps:
            if out and out[-1][0] == n and out[-1][2] == k - 1:
                out[-1] = (n, out[-1][1], k)
            else:
                out.append((n, k, k))
    return out


print(f"spikes (i, step) {[(int(i), step(t)) for i, t in zip(spikes.i, spikes.t)]!r}")
print(f"up runs (i, first, last) {runs(up)!r} of {len(up.i)}")
print(f"low runs (i, first, last) {runs(low)!r} of {len(low.i)}")
print(f"low (i, step, v, c) {[(int(i), step(t), float(v), float(c)) for i, t, v, c in zip(low.i, low.t, low.v, low.c)]!r}")
print(f"fresh (i, step) {[(int(i), step(t)) for i, t in zip(fresh.i, fresh.t)]!r}")
print(f"end v {[float(x) for x in g.v]!r}")
print(f"end a {[float(x) for x in g.a]!r}")
print(f"end b {[float(x) for x in g.b]!r}")
print(f"end c {[float(x) for x in g.c]!r}")
