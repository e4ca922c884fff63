"""The fixtures of tests/it/hdf5_output.rs's smooth_rate test (BRIAN2_SMOOTH_*): the
PopulationRateMonitor of tests/it/hdf5_output.rs's RATE_SOURCE (two neurons driven past a
threshold, 3 ms of 0.1 ms steps; spikes in steps 6, 11, 19 and 28) smoothed by Brian2's
`smooth_rate` with a Gaussian window of width 0.2 ms, a flat one of 0.45 ms (which Brian2
2.9 makes 5 steps, 0.5 ms) and an asymmetric window of its own values, [1, 3, 2] (BRIAN2_SMOOTH_ARRAY). Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/smooth_rate.py
"""
import numpy as np
from brian2 import Hz, NeuronGroup, Network, PopulationRateMonitor, defaultclock, ms, pi, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
f, tau_in = 40 * Hz, 2 * ms
g = NeuronGroup(2, "dx/dt = (2 + sin(2*pi*f*t + i) - x)/tau_in : 1", threshold="x > 1.5", reset="x = 0.2", method="euler")
g.x = 1.0
r = PopulationRateMonitor(g)
net = Network(g, r)
net.run(3 * ms)
print(f"nonzero rate steps {[k for k, x in enumerate(r.rate / Hz) if x > 0]!r}")
print(f"gaussian 0.2 ms {[float(x) for x in r.smooth_rate(window='gaussian', width=0.2 * ms) / Hz]!r}")
print(f"flat 0.45 ms {[float(x) for x in r.smooth_rate(window='flat', width=0.45 * ms) / Hz]!r}")
print(f"array [1, 3, 2] {[float(x) for x in r.smooth_rate(window=np.array([1.0, 3.0, 2.0])) / Hz]!r}")
