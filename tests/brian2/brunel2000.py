"""The fixture of tests/it/equations.rs's Brunel (2000) test (BRIAN2_BRUNEL): Brian2's own
examples/frompapers/Brunel_2000.py, panel C (g = 5, nu_ext = 2 nu_thr) and panel D (g = 4.5,
nu_ext = 0.9 nu_thr), scaled down to N_E = 2000 (C_E = 200, so nu_thr = 50 Hz) for a test;
the mean rate (Hz) from 100 ms to the end (250 ms in panel C, 500 ms in D) and the mean ISI
CV of the neurons with three spikes or more in it, per seed. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/brunel2000.py
"""
import numpy as np
from brian2 import NeuronGroup, PoissonInput, SpikeMonitor, Synapses, defaultclock, ms, mV, prefs, run, seed, start_scope

prefs.codegen.target = "numpy"


def sim(s, g, nu_ext_over_nu_thr, duration_ms, N_E=2000):
    start_scope()
    seed(s)
    gamma = 0.25
    N_I = round(gamma * N_E)
    N = N_E + N_I
    epsilon = 0.1
    C_E = epsilon * N_E
    C_ext = C_E
    tau = 20 * ms
    theta = 20 * mV
    V_r = 10 * mV
    tau_rp = 2 * ms
    J = 0.1 * mV
    D = 1.5 * ms
    nu_thr = theta / (J * C_E * tau)
    defaultclock.dt = 0.1 * ms
    neurons = NeuronGroup(N, "dv/dt = -v/tau : volt (unless refractory)", threshold="v > theta",
                          reset="v = V_r", refractory=tau_rp, method="exact")
    exc = Synapses(neurons[:N_E], target=neurons, on_pre="v += J", delay=D)
    exc.connect(p=epsilon)
    inh = Synapses(neurons[N_E:], target=neurons, on_pre="v += -g*J", delay=D)
    inh.connect(p=epsilon)
    drive = PoissonInput(target=neurons, target_var="v", N=int(C_ext), rate=nu_ext_over_nu_thr * nu_thr, weight=J)  # noqa: F841
    spikes = SpikeMonitor(neurons)
    run(duration_ms * ms)
    t, i = np.asarray(spikes.t / ms), np.asarray(spikes.i)
    late = t >= 100
    rate = late.sum() / N / ((duration_ms - 100) / 1000)
    cvs = []
    for n in range(N):
        ts = np.sort(t[late & (i == n)])
        if len(ts) >= 3:
            isi = np.diff(ts)
            cvs.append(isi.std() / isi.mean())
    return rate, float(np.mean(cvs))


for panel, g, nu, duration_ms in [("C", 5, 2, 250), ("D", 4.5, 0.9, 500)]:
    for s in [1, 2, 3, 4]:
        print(panel, s, sim(s, g, nu, duration_ms))
