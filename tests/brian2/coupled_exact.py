"""The fixtures of tests/it/equations.rs's coupled-linear `exact` test (BRIAN2_CUBA_*) and of
tests/it/plasticity.rs's clock-driven alpha synapse (BRIAN2_ALPHA): systems of linear
equations coupled with constant coefficients, which Brian2 integrates with `exact` by default.
Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/coupled_exact.py
"""
from brian2 import (NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, Synapses, defaultclock, ms, mV,
                    prefs, run, start_scope)

prefs.codegen.target = "numpy"


def cuba():
    """Brian2's CUBA neurons: v held while refractory, ge and gi decaying into it, and kicks
    straight onto v that a refractory neuron ignores."""
    start_scope()
    defaultclock.dt = 0.1 * ms
    namespace = {"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms, "Vt": -50 * mV, "Vr": -60 * mV, "El": -49 * mV}
    eqs = """
    dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    neurons = NeuronGroup(3, eqs, threshold="v > Vt", reset="v = Vr", refractory=5 * ms, namespace=namespace)
    neurons.v = "Vr + 3*mV*i"
    neurons.ge = "(2 + 2*i)*mV"
    neurons.gi = -2 * mV
    times = [2.0, 4.0, 6.0, 9.0, 12.0, 20.0, 21.0, 22.0, 30.0, 40.0]
    inputs = SpikeGeneratorGroup(1, [0] * len(times), times * ms)
    feed = Synapses(inputs, neurons, on_pre="ge += 4*mV")
    feed.connect()
    # Straight onto v, which is read-only while refractory (Brian2's conditional write).
    kick = Synapses(inputs, neurons, on_pre="v += 1.5*mV")
    kick.connect()
    spikes = SpikeMonitor(neurons)
    run(50 * ms, namespace=namespace)
    print("BRIAN2_CUBA_SPIKES (neuron, ms)", sorted(zip(spikes.i[:].tolist(), [round(float(t / ms), 6) for t in spikes.t])))
    print("BRIAN2_CUBA_FINAL v, ge, gi (mV)", [list(neurons.v[:] / mV), list(neurons.ge[:] / mV), list(neurons.gi[:] / mV)])


def alpha():
    """A clock-driven alpha-function synapse: h jumps at each spike and drives g."""
    start_scope()
    defaultclock.dt = 0.1 * ms
    namespace = {"tau": 3 * ms}
    post = NeuronGroup(1, "x : 1")
    times = [1.0, 5.0, 5.5, 12.0]
    inputs = SpikeGeneratorGroup(2, [0, 1, 0, 1], times * ms)
    model = """
    dg/dt = (h - g)/tau : 1 (clock-driven)
    dh/dt = -h/tau : 1 (clock-driven)
    """
    synapses = Synapses(inputs, post, model=model, on_pre="h += 1", namespace=namespace)
    synapses.connect()
    run(20 * ms, namespace=namespace)
    print("BRIAN2_ALPHA g, h", [list(synapses.g[:]), list(synapses.h[:])])


cuba()
alpha()
