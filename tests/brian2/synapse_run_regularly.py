"""The fixtures of tests/it/plasticity.rs's synapse run_regularly test
(BRIAN2_SYNAPSE_REGULARLY): `run_regularly` on a Synapses object, every 1 ms, writing the
synapses' weights from their own variables and both neurons', and a second every 2 ms
clearing a counter that `on_pre` increments. 20 ms of 0.1 ms steps. The Synapses are named
`a_syn` so that Brian2 runs `a_syn_run_regularly` before `statemonitor` in the `start`
slot, as ganglion does. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/synapse_run_regularly.py
"""
from brian2 import NeuronGroup, Network, SpikeMonitor, StateMonitor, Synapses, defaultclock, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
pre = NeuronGroup(3, "dv/dt = (1.5 - v)/(4*ms) : 1", threshold="v > 1", reset="v = 0", method="exact", name="pre")
pre.v = "0.3*i"
post = NeuronGroup(2, "dv/dt = -v/(10*ms) : 1\nx : 1", threshold="v > 1", reset="v = 0", method="exact", name="post")
post.x = "0.5 + i"
syn = Synapses(pre, post, "w : 1\nc : 1", on_pre="v_post += w\nc += 1", name="a_syn")
syn.connect()
syn.w = "0.1*j + 0.05*i"
syn.run_regularly("w = clip(w*1.1 + 0.01*c - 0.02*x_post + 0.05*v_pre, 0, 0.6)", dt=1 * ms)
syn.run_regularly("c = 0", dt=2 * ms)
spikes = SpikeMonitor(post)
weights = StateMonitor(syn, "w", record=True)
net = Network(pre, post, syn, spikes, weights)
net.run(20 * ms)
STEPS = (0, 10, 55, 100, 199)
steps = [int(round(t / (0.1 * ms))) for t in spikes.t[:]]
print(f"post spikes {list(zip(spikes.i[:].tolist(), steps))!r}")
print(f"synapses (i, j) {list(zip(syn.i[:].tolist(), syn.j[:].tolist()))!r}")
print(f"w at steps {STEPS}: {[list(weights.w[:, k]) for k in STEPS]!r}")
print(f"w at the end {list(syn.w[:])!r}")
print(f"c at the end {list(syn.c[:])!r}")
