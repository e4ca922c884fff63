"""The fixture of tests/it/plasticity.rs's Graupner-Brunel test (BRIAN2_GRAUPNER_BRUNEL): the
mean and sample variance of rho over 10 000 synapses starting DOWN (rho = 0) and 10 000
starting UP after 1.2 s of Brian2's examples/frompapers/Graupner_Brunel_2012.py (two
pairings, the post-synaptic spike 10 ms after the pre-synaptic one, 13.7 ms of delay;
configs/equations/graupner_brunel.toml). Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/graupner_brunel.py
"""
import numpy as np
from brian2 import NeuronGroup, Synapses, ms, second, run, prefs, defaultclock, seed
prefs.codegen.target = "numpy"
defaultclock.dt = 0.1*ms
seed(3)
N = 10000  # synapses starting DOWN, and as many UP
G = NeuronGroup(1, "", threshold="t>100*ms", refractory=1 * second)
H = NeuronGroup(2*N, "tspike:second", threshold="t>tspike", refractory=1 * second)
H.tspike = 110*ms
synapses_eqs = """
tau      : second (constant, shared)
rho_star : 1      (constant, shared)
gamma_p  : 1      (constant, shared)
theta_p  : 1      (constant, shared)
gamma_d  : 1      (constant, shared)
theta_d  : 1      (constant, shared)
drho/dt = (-rho*(1-rho)*(rho_star-rho)
           + gamma_p*(1-rho)*int((c - theta_p) > 0)
           - gamma_d*rho*int((c-theta_d) > 0)
           + sigma*sqrt(tau)*sqrt(int((c-theta_d) > 0) + int((c-theta_p) > 0))*xi
           ) / tau : 1 (clock-driven)
dc/dt = -c/tau_Ca  : 1 (clock-driven)
tau_Ca : second (constant, shared)
sigma  : 1      (constant, shared)
"""
C_pre = 1
C_post = 2
S = Synapses(G, H, model=synapses_eqs, on_pre="c += C_pre", on_post="c += C_post", delay=13.7*ms, method="heun")
S.connect()
S.tau_Ca = 20 * ms; S.theta_d = 1; S.theta_p = 1.3; S.gamma_d = 200; S.gamma_p = 321.808
S.sigma = 2.8284; S.tau = 150 * second; S.rho_star = 0.5
rho0 = np.array([0] * N + [1] * N)
S.rho = rho0
run(1200 * ms)
r = np.asarray(S.rho[:])
for name, sel in [("DOWN", rho0 == 0), ("UP", rho0 == 1)]:
    v = r[sel]
    print(name, repr(v.mean()), repr(v.var(ddof=1)), len(v))
