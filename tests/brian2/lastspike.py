"""The fixture of tests/it/plasticity.rs's lastspike test: Brian2 2.9's `lastspike` read by a
neuron's equations (an after-spike current decaying from its last spike), by a refractory
condition, and by a synapse's on_pre and on_post (`lastspike_post`, `lastspike_pre`). Spike
steps of every neuron and the final weights. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/lastspike.py
"""
import numpy as np
from brian2 import NeuronGroup, Synapses, SpikeMonitor, defaultclock, ms, prefs, run

prefs.codegen.target = "numpy"
defaultclock.dt = 0.1 * ms

cells = NeuronGroup(
    4,
    """dv/dt = (I - v)/(10*ms) - 0.8*exp(-(t - lastspike)/(15*ms))/ms : 1 (unless refractory)
    I : 1""",
    threshold="v > 1",
    reset="v = 0",
    refractory="(t - lastspike) < 2.5*ms",
    method="euler",
)
cells.I = "1.6 + 0.3*i"
out = NeuronGroup(3, "dv/dt = (1.3 + 0.2*i - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0", refractory=1 * ms, method="euler")
S = Synapses(
    cells,
    out,
    "w : 1",
    on_pre="w += 0.01*exp(-(t - lastspike_post)/(20*ms))",
    on_post="w -= 0.01*exp(-(t - lastspike_pre)/(20*ms))",
)
S.connect()
S.w = 0.5
m_cells = SpikeMonitor(cells)
m_out = SpikeMonitor(out)
run(200 * ms)
steps = lambda m, k: [int(round(float(t / defaultclock.dt))) for t in m.spike_trains()[k]]
for k in range(4):
    print("cells", k, steps(m_cells, k))
for k in range(3):
    print("out", k, steps(m_out, k))
print("w", [round(float(x), 12) for x in S.w[:]])
print("pairs", list(zip(S.i[:].tolist(), S.j[:].tolist())))
