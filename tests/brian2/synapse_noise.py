"""The fixtures of tests/it/plasticity.rs's noisy synapse test (BRIAN2_NOISY_*): statistics
of synaptic variables driven by white noise (`xi`) and `rand()` in clock-driven equations,
and of a summed variable drawing `rand()`, over 20 000 synapses (100 sources onto 200 targets) after 50 ms of 0.1 ms steps,
with Brian2's default methods (euler for additive noise, heun for multiplicative). Run with
Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/synapse_noise.py
"""
import numpy as np
from brian2 import NeuronGroup, Synapses, StateMonitor, defaultclock, ms, prefs, run, seed, start_scope

prefs.codegen.target = "numpy"

MODEL = """
dy/dt = -y/tau + sigma*sqrt(2/tau)*xi : 1 (clock-driven)
dm/dt = -m/tau_m + s*m*xi_m/sqrt(tau_m) : 1 (clock-driven)
dz/dt = (rand() - z)/tau : 1 (clock-driven)
x_post = w*rand() : 1 (summed)
w : 1
"""

start_scope()
seed(11)
defaultclock.dt = 0.1 * ms
namespace = {"tau": 5 * ms, "sigma": 0.5, "tau_m": 20 * ms, "s": 0.5}
pre = NeuronGroup(100, "x : 1")
post = NeuronGroup(200, "x : 1")
synapses = Synapses(pre, post, model=MODEL, namespace=namespace)
synapses.connect()
synapses.w = 2.0
synapses.m = 1.0
monitor = StateMonitor(post, "x", record=True)
run(50 * ms, namespace=namespace)
n = len(synapses.y[:])
print("synapses", n, "methods", synapses.state_updater.method_choice)
for name in ["y", "m", "z"]:
    v = np.asarray(getattr(synapses, name)[:])
    print(f"BRIAN2_NOISY_{name.upper()}: mean {v.mean()!r}, variance {v.var(ddof=1)!r}")
x = np.asarray(monitor.x[:, 1:])  # every step after the first
print(f"BRIAN2_NOISY_X: mean {x.mean()!r}, variance {x.var(ddof=1)!r} over {x.size} sums")
