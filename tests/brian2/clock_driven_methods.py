"""The fixtures of tests/it/plasticity.rs's clock-driven synapse test (BRIAN2_*): the final
value of a clock-driven synaptic variable after 10 ms of 0.1 ms steps, by each integration
method and by Brian2's default choice. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/clock_driven_methods.py
"""
from brian2 import NeuronGroup, Synapses, defaultclock, ms, prefs, run, start_scope

prefs.codegen.target = "numpy"

NONLINEAR = "dy/dt = (x_post + x_pre - y**3)/tau + sin(2*pi*t/(3*ms))/tau : 1 (clock-driven)"
LINEAR = "dy/dt = (x_post - y)/tau : 1"


def final_y(model, method=None):
    start_scope()
    defaultclock.dt = 0.1 * ms
    namespace = {"tau": 2 * ms}
    pre = NeuronGroup(3, "x : 1")
    pre.x = "0.25*i - 0.1"
    post = NeuronGroup(1, "x : 1")
    post.x = 0.4
    options = {"method": method} if method else {}
    synapses = Synapses(pre, post, model=model, namespace=namespace, **options)
    synapses.connect()
    synapses.y = "0.5*i - 0.3"
    run(10 * ms, namespace=namespace)
    return list(synapses.y[:])


for name, model, method in [
    ("BRIAN2_EULER", NONLINEAR, "euler"),
    ("default, non-linear (euler)", NONLINEAR, None),
    ("BRIAN2_RK2", NONLINEAR, "rk2"),
    ("BRIAN2_RK4", NONLINEAR, "rk4"),
    ("BRIAN2_LINEAR (default: exact), unflagged", LINEAR, None),
    ("flagged clock-driven", LINEAR + " (clock-driven)", None),
]:
    print(name, repr(final_y(model, method)))
