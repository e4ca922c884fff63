"""The fixtures of tests/it/equations.rs's synapse counts tests: Brian2 2.9's `N`, `N_pre`,
`N_post`, `N_incoming` and `N_outgoing` read by a synapse's initial values and delays, and
`N` by a neuron's equations; then the counts read by `on_pre`, a clock-driven equation and a
summed variable (the target's v and I after 20 ms). Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/synapse_counts.py
"""
from brian2 import NeuronGroup, SpikeMonitor, Synapses, defaultclock, ms, prefs, run, start_scope

prefs.codegen.target = "numpy"
defaultclock.dt = 0.1 * ms
a = NeuronGroup(7, "dv/dt = (0.1*N - v)/(10*ms) : 1", threshold="v > 0.5", reset="v = 0", method="euler")
b = NeuronGroup(5, "v : 1")
S = Synapses(a, b, "w : 1", on_pre="v_post += w")
S.connect(condition="(i*i + 2*j) % 5 < 2 or i == j")
S.w = "1.0/N_incoming + 10*N_outgoing + 100*N_pre + 1000*N_post + 0.5*N"
S.delay = "N_incoming*0.1*ms"
print("N", len(S))
print("w", sorted(zip(S.i[:].tolist(), S.j[:].tolist(), [round(float(x), 12) for x in S.w[:]])))
print("delay_steps", sorted(zip(S.i[:].tolist(), S.j[:].tolist(), [int(round(float(d / defaultclock.dt))) for d in S.delay[:]])))
m = SpikeMonitor(a)
run(20 * ms)
print("a spikes", [int(round(float(t / defaultclock.dt))) for t in m.spike_trains()[0]])

start_scope()
a = NeuronGroup(7, "dv/dt = (0.1*N - v)/(10*ms) : 1", threshold="v > 0.5", reset="v = 0", method="euler")
b = NeuronGroup(5, "v : 1\nI : 1")
S = Synapses(a, b, """w : 1
dq/dt = (N_outgoing - q)/(5*ms) : 1 (clock-driven)
I_post = q/N_incoming + 0.001*N : 1 (summed)""", on_pre="v_post += w/N_incoming + 0.01*N_pre*N_post + 0.001*N", method="euler")
S.connect(condition="(i*i + 2*j) % 5 < 2 or i == j")
S.w = "1 + i"
run(20 * ms)
print("v", [float(x) for x in b.v[:]])
print("I", [float(x) for x in b.I[:]])
