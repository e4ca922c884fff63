"""The fixture of tests/it/plasticity.rs's run_regularly test: x of neuron 0 and y of neuron 1
over 21 steps of 0.1 ms, two run_regularly on one group recorded every step. Brian2 runs the
group's `…_run_regularly` objects before the `statemonitor` in the `start` slot (a slot's
objects are sorted by name), so step 0 already shows x = 1 and y = x + i. Prints
[1 ×10, 2 ×10, 3] and [2 ×10, 3 ×10, 4]. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/run_regularly.py
"""
from brian2 import NeuronGroup, StateMonitor, defaultclock, ms, prefs, run

prefs.codegen.target = "numpy"
defaultclock.dt = 0.1 * ms
G = NeuronGroup(2, "x : 1\ny : 1")
G.run_regularly("x += 1", dt=1 * ms)
G.run_regularly("y = x + i", dt=0.5 * ms)
M = StateMonitor(G, ["x", "y"], record=True)
run(2.1 * ms)
print(M.x[0][:21])
print(M.y[1][:21])
