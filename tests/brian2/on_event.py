"""The fixtures of tests/it/custom_events.rs (BRIAN2_ON_EVENT_*): synapses triggered by custom
events (Brian2's `on_event`). Three source neurons oscillate (v crosses 0.5 up and down); their
event `up` (v > 0.5) triggers `on_pre` through a 0.3 ms delay, each arrival adding w to the
target's x. The two targets let x decay and have an event `busy` (x > 0.5), which triggers
`on_post`, depressing w. A second projection carries the sources' spikes as usual, into y. 20 ms
of 0.1 ms steps. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/on_event.py
"""
from brian2 import NeuronGroup, Network, Synapses, defaultclock, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
src = NeuronGroup(
    3,
    """v = sin(2*pi*t/(f*ms) + phase) : 1
f : 1 (constant)
phase : 1 (constant)""",
    threshold="v > 0.95",
    reset="",
    events={"up": "v > 0.5"},
    name="src",
)
src.f = "3 + i"
src.phase = "0.7*i"
tgt = NeuronGroup(
    2,
    """dx/dt = -x/(2*ms) : 1
y : 1""",
    events={"busy": "x > 0.5"},
    method="exact",
    name="tgt",
)
s = Synapses(src, tgt, "w : 1", on_pre="x_post += w", on_post="w = w*0.97", on_event={"pre": "up", "post": "busy"}, delay=0.3 * ms, name="s")
s.connect()
s.w = "0.1 + 0.05*i + 0.02*j"
k = Synapses(src, tgt, on_pre="y_post += 1", name="k")
k.connect()
net = Network(src, tgt, s, k)
net.run(20 * ms)
print(f"end x {[float(v) for v in tgt.x]!r}")
print(f"end y {[float(v) for v in tgt.y]!r}")
print(f"end w (i, j, w) {[(int(i), int(j), float(w)) for i, j, w in zip(s.i, s.j, s.w)]!r}")
