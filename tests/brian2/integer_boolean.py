"""The fixtures of tests/it/equations.rs's integer and boolean variable test
(BRIAN2_INTEGER_BOOLEAN): a group with an integer counter, a boolean flag, an integer
subexpression and an integer set from a float, initialised from floats, rewritten by a reset
of statements separated by semicolons and by a run_regularly every 0.5 ms; its synapses onto
itself carry an integer weight and a boolean that each spike rewrites. Statements never read
an integer they have just assigned (Brian2's numpy target reads the value before its
conversion there; its C++ targets and ganglion read the stored one). 5 ms of 0.1 ms steps.
Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/integer_boolean.py
"""
from brian2 import NeuronGroup, Network, StateMonitor, Synapses, defaultclock, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
g = NeuronGroup(
    3,
    """dv/dt = (1.5 - v)/(2*ms) + 0.1*c/ms : 1
c : integer
b : boolean
x : 1
n : integer
k = int(3*v) - 1 : integer
up = v > 0.5 : boolean""",
    threshold="v > 1",
    reset="v = 0; b = c % 2 == 0; c = c + 1.5",
    method="euler",
    name="g",
)
g.v = "0.3*i"
g.c = "-1.5*i + 2.25"
g.b = [0.5, 0, -1]
g.run_regularly("x = c/2 - 7/2*b + k + up; n = -x - 0.6", dt=0.5 * ms)
s = Synapses(g, g, "w : integer\nflag : boolean", on_pre="x_post += w + flag; w = w + 0.5 + i; flag = not flag", name="s")
s.connect()
s.w = "1.7*i - 2.4*j"
s.flag = "j == 1"
trace = StateMonitor(g, ["v", "c", "b", "x", "n", "k"], record=True, when="end")
net = Network(g, s, trace)
net.run(5 * ms)
STEPS = (0, 9, 14, 27, 49)
for var in ["v", "c", "b", "x", "n", "k"]:
    print(f"{var} at the end of steps {STEPS}: {[[float(x) for x in getattr(trace, var)[:, k]] for k in STEPS]!r}")
print(f"synapses (i, j) {list(zip(s.i[:].tolist(), s.j[:].tolist()))!r}")
print(f"w at the end {[int(x) for x in s.w[:]]!r}")
print(f"flag at the end {[int(x) for x in s.flag[:]]!r}")
