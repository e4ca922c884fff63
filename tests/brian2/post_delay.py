"""The fixtures of tests/it/plasticity.rs's post-pathway delay tests: pair-based STDP between
two regular pre-synaptic and two regular post-synaptic neurons, 30 ms of 0.1 ms steps, whose
`on_post` runs 1.3 ms after the post-synaptic spike (`S.post.delay = 1.3*ms`,
BRIAN2_POST_DELAY), then with each synapse's own delays on both pathways
(`S.pre.delay = '(0.2 + 0.3*j)*ms'`, `S.post.delay = '(0.4 + 0.9*i + 0.5*j)*ms'`: 0.4, 0.9,
1.3 and 1.8 ms; BRIAN2_POST_DELAYS). Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/post_delay.py
"""
from brian2 import NeuronGroup, Network, StateMonitor, Synapses, defaultclock, ms, prefs, start_scope

prefs.codegen.target = "numpy"
STEPS = (50, 120, 200, 299)


def run(pre_delay, post_delay):
    start_scope()
    defaultclock.dt = 0.1 * ms
    pre = NeuronGroup(2, "dv/dt = (1.5 - v)/(4*ms) : 1", threshold="v > 1", reset="v = 0", method="exact", name="pre")
    pre.v = "0.5*i"
    post = NeuronGroup(2, "dv/dt = (1.2 - v)/(5*ms) : 1", threshold="v > 1", reset="v = 0", method="exact", name="post")
    post.v = "0.3*i"
    syn = Synapses(
        pre,
        post,
        "w : 1\ndApre/dt = -Apre/(5*ms) : 1 (event-driven)\ndApost/dt = -Apost/(5*ms) : 1 (event-driven)",
        on_pre="Apre += 1\nw += Apost",
        on_post="Apost -= 1\nw += Apre",
        name="a_syn",
    )
    syn.connect()
    if pre_delay is not None:
        syn.pre.delay = pre_delay
    syn.post.delay = post_delay
    weights = StateMonitor(syn, "w", record=True)
    net = Network(pre, post, syn, weights)
    net.run(30 * ms)
    print(f"synapses (i, j) {list(zip(syn.i[:].tolist(), syn.j[:].tolist()))!r}, post delays (ms) {list(syn.post.delay[:] / ms)!r}")
    print(f"w at steps {STEPS}: {[list(weights.w[:, k]) for k in STEPS]!r}")
    print(f"w at the end {list(syn.w[:])!r}")


run(None, 1.3 * ms)
run("(0.2 + 0.3*j)*ms", "(0.4 + 0.9*i + 0.5*j)*ms")
