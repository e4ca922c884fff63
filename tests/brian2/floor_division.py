"""The fixture of tests/it/equations.rs's floor division test: Brian2 2.9's `//` in initial
values (dimensionless only) and in a generator's sample(size=...), its documentation's
example. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/floor_division.py
"""
import numpy as np
from brian2 import NeuronGroup, Synapses, prefs

prefs.codegen.target = "numpy"
G = NeuronGroup(5, "a : 1\nb : 1\nc : 1")
G.a = "7 // 2"
G.b = "-7 // 2"
G.c = "(i - 2.5) // 2 + 7.5 // 2"
print("a", G.a[:].tolist(), "b", G.b[:].tolist(), "c", G.c[:].tolist())
H = NeuronGroup(9, "v : 1")
S = Synapses(H, H, "w : 1")
S.connect(j="k for k in sample(N_post, size=i//2)")
print("synapses per source", np.bincount(S.i[:], minlength=9).tolist())
try:
    G.a = "7*ms // 2"
except Exception as e:  # Brian2 refuses floor division of dimensioned values
    print("refused:", type(e).__name__)
