"""The fixture of tests/it/plasticity.rs's PoissonInput test (BRIAN2_POISSON_INPUT): 2000
LIF neurons driven by Brian2's PoissonInput, once with few events per step (the binomial by
inversion) and once with many (its normal approximation); the mean rate (Hz) over 0.1–1 s
and the mean and sd of v (mV) at the end, per seed. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/poisson_input.py
"""
import numpy as np
from brian2 import NeuronGroup, PoissonInput, SpikeMonitor, Hz, ms, mV, prefs, run, second, seed, start_scope

prefs.codegen.target = "numpy"


def lif(s, n, rate, weight):
    start_scope()
    seed(s)
    namespace = {"tau": 10 * ms, "El": -70 * mV, "vt": -50 * mV, "vr": -65 * mV}
    G = NeuronGroup(2000, "dv/dt = (El - v)/tau : volt (unless refractory)", threshold="v > vt", reset="v = vr",
                    refractory=2 * ms, method="exact", namespace=namespace)
    G.v = -70 * mV
    drive = PoissonInput(G, "v", N=n, rate=rate, weight=weight)  # noqa: F841 (run() collects it)
    spikes = SpikeMonitor(G)
    run(1 * second, namespace=namespace)
    t = np.asarray(spikes.t / ms)
    rate_hz = (t >= 100).sum() / 2000 / 0.9
    v = np.asarray(G.v / mV)
    return rate_hz, v.mean(), v.std()


for s in [1, 2, 3, 4]:
    print("inversion", s, lif(s, 1000, 20 * Hz, 0.1 * mV))
    print("normal", s, lif(s, 1000, 60 * Hz, 0.035 * mV))
