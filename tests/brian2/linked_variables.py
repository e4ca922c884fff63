"""The fixtures of tests/it/equations.rs's linked-variable test (BRIAN2_LINKED_*): neurons
whose input `I : 1 (linked)` reads another group's variable, through an index, from a group of
one neuron, and from a group updated after the reader (Brian2 orders the groups' updates by
name, as ganglion orders its populations), after 30 ms of 0.1 ms steps. Run with Brian2 2.9.0
(numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/linked_variables.py
"""
import numpy as np
from brian2 import Network, NeuronGroup, SpikeMonitor, StateMonitor, collect, defaultclock, linked_var, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
namespace = {"f": 40 / (1000 * ms), "tau_in": 2 * ms, "tau": 5 * ms}
READER = """
dv/dt = (1.2*I - v)/tau : 1 (unless refractory)
I : 1 (linked)
"""
source = NeuronGroup(3, "dx/dt = (2 + sin(2*pi*f*t + i) - x)/tau_in : 1", name="input")
neurons = NeuronGroup(6, READER, threshold="v > 1", reset="v = 0", refractory=2 * ms, name="neurons")
neurons.I = linked_var(source, "x", index=[0, 0, 1, 1, 2, 2])
one = NeuronGroup(1, "dx/dt = (2 + cos(2*pi*f*t) - x)/tau_in : 1", name="one")
single = NeuronGroup(4, READER, threshold="v > 1", reset="v = 0", refractory=2 * ms, name="single")
single.I = linked_var(one, "x")
# Updated before the group it reads: it reads the value of the step before.
early = NeuronGroup(2, READER, threshold="v > 1", reset="v = 0", refractory=2 * ms, name="a_early")
late = NeuronGroup(2, "dx/dt = (2 + sin(2*pi*f*t + 3*i) - x)/tau_in : 1", name="z_late")
early.I = linked_var(late, "x")
for g in [source, one, late]:
    g.x = 1.0
monitors = [SpikeMonitor(g) for g in [neurons, single, early]]
traces = [StateMonitor(g, ["v", "I"], record=True) for g in [neurons, single, early]]
network = Network(collect())
network.add(monitors, traces)  # a list's monitors are not collected
network.run(30 * ms, namespace=namespace)
STEPS = (1, 100, 200, 299)
for g, m, trace in zip([neurons, single, early], monitors, traces):
    steps = [int(round(t / (0.1 * ms))) for t in m.t[:]]
    print(f"{g.name}: spikes {list(zip(m.i[:].tolist(), steps))!r}")
    print(f"{g.name}: v at steps {STEPS}: {[list(trace.v[:, k]) for k in STEPS]!r}")
    print(f"{g.name}: I at steps {STEPS}: {[list(trace.I[:, k]) for k in STEPS]!r}")
