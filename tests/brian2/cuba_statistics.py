"""The fixture of tests/it/equations.rs's CUBA test (BRIAN2_CUBA_STATS): Brian2's own
examples/CUBA.py (benchmark 2 of Brette et al. 2007), unchanged but for the seed, its mean
rate (Hz) and mean ISI CV over the run's last 800 ms, per seed. Run with Brian2 2.9.0
(numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/cuba_statistics.py
"""
import numpy as np
from brian2 import NeuronGroup, SpikeMonitor, Synapses, ms, mV, prefs, run, second, seed, start_scope

prefs.codegen.target = "numpy"


def cuba(s):
    start_scope()
    seed(s)
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = NeuronGroup(4000, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    we = (60 * 0.27 / 10) * mV
    wi = (-20 * 4.5 / 10) * mV
    Ce = Synapses(P, P, on_pre="ge += we")
    Ci = Synapses(P, P, on_pre="gi += wi")
    Ce.connect("i<3200", p=0.02)
    Ci.connect("i>=3200", p=0.02)
    s_mon = SpikeMonitor(P)
    run(1 * second)
    t, i = np.asarray(s_mon.t / ms), np.asarray(s_mon.i)
    late = t >= 200
    rate = late.sum() / 4000 / 0.8
    cvs = []
    for n in range(4000):
        ts = np.sort(t[late & (i == n)])
        if len(ts) >= 3:
            isi = np.diff(ts)
            cvs.append(isi.std() / isi.mean())
    return rate, float(np.mean(cvs))


for s in [1, 2, 3, 4, 5, 6, 7, 8]:
    print(s, cuba(s))
