"""The fixtures of tests/it/connect_expression.rs: Brian2 2.9's Synapses.connect(condition=...,
p=..., n=...), connect(j=...) and connect(i=...) on its networks. The pairs of two
deterministic conditions and of the generators (exact: over i and over j, with conditions
reading the result's side, `EXPR if COND`), over 20 seeds the mean synapse count and the mean
count at each distance |i - j| = 1 … 6 of a distance-dependent p, the mean count of a
sample(p=), and the counts per source of a sample(size=). Run with Brian2 2.9.0 (numpy<2; one
case uses the cython target, which needs Cython and a C compiler):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/connect_expression.py
"""
import numpy as np
from brian2 import NeuronGroup, Synapses, prefs, seed, um

prefs.codegen.target = "numpy"

def groups():
    a = NeuronGroup(20, 'x : metre', name='a')
    b = NeuronGroup(15, 'x : metre', name='b')
    a.x = 'i*10*um'
    b.x = 'i*13*um'
    return a, b

a, b = groups()
S = Synapses(a, b, 'w : 1')
S.connect(condition='abs(x_pre - x_post) < 24.5*um and i != N_post - 1 - j', n=2)
pairs = sorted(zip(S.i[:].tolist(), S.j[:].tolist()))
print('deterministic', len(pairs))
print('pairs', pairs)

a, b = groups()
S = Synapses(b, a, 'w : 1')
S.connect(condition='(i + 2*j) % 7 == 3 or j == N_pre - 1')
pairs = sorted(zip(S.i[:].tolist(), S.j[:].tolist()))
print('modulo', len(pairs))
print('pairs', pairs)

counts = []
dists = np.zeros(6)
for seed_ in range(20):
    seed(seed_)
    g = NeuronGroup(300, 'x : 1')
    S = Synapses(g, g, 'w : 1')
    S.connect(condition='i != j', p='0.5*exp(-abs(i - j)/3.0)')
    counts.append(len(S))
    d = np.abs(S.i[:] - S.j[:])
    for k in range(1, 7):
        dists[k - 1] += np.sum(d == k)
print('probabilistic mean count', np.mean(counts), 'sd', np.std(counts))
print('per distance 1..6 per seed', (dists / 20).tolist())

a = NeuronGroup(9, "x : 1")
a.x = "i*0.5"
b = NeuronGroup(7, "y : 1")
S = Synapses(a, b, "w : 1")
S.connect(j="k for k in range(i - 2, i + 3, 2) if k != i and x_pre < 3.2", skip_if_invalid=True, n=2)
print("generator pairs", sorted(zip(S.i[:].tolist(), S.j[:].tolist())))
S = Synapses(a, b, "w : 1")
S.connect(j="N_post - 1 - i", skip_if_invalid=True)
print("plain pairs", sorted(zip(S.i[:].tolist(), S.j[:].tolist())))
counts = []
for seed_ in range(20):
    seed(seed_)
    g = NeuronGroup(300, "v : 1")
    S = Synapses(g, g, "w : 1")
    S.connect(j="k for k in sample(N_post, p=0.05 + 0.1*(i % 2))")
    counts.append(len(S))
print("sample mean count", np.mean(counts), "sd", np.std(counts))

# Generators over i, conditions reading the result's side, `EXPR if COND`, sample(size=).
a = NeuronGroup(9, "x : 1")
a.x = "i*0.5"
b = NeuronGroup(7, "y : 1")
b.y = "i*0.25"
for name, kwargs in [
    ("i over j", dict(i="k for k in range(9) if k % 7 == j")),
    ("i reading i", dict(i="j + k for k in range(3) if i % 2 == 0", skip_if_invalid=True)),
    ("i reading x_pre", dict(i="k for k in range(9) if x_pre > 2.9")),
    ("i reading y_post", dict(i="k for k in range(9) if y_post > 0.6 and k < 3")),
    ("j reading j and y_post", dict(j="k for k in range(0, 7) if j != i and y_post > 0.4")),
    ("j reading j, skipping", dict(j="k for k in range(i - 2, i + 3) if j != i", skip_if_invalid=True)),
    ("plain if", dict(j="i + 1 if i < 4")),
    ("plain if reading y_post", dict(j="i - 1 if y_post > 0.4", skip_if_invalid=True)),
    ("i plain", dict(i="2*j", skip_if_invalid=True)),
]:
    S = Synapses(a, b, "w : 1")
    S.connect(**kwargs)
    print(name, sorted(zip(S.i[:].tolist(), S.j[:].tolist())))
# Brian2 2.9's numpy target fails to broadcast here (skipped j beside a condition reading a
# post-synaptic variable); its cython target gives the intended pairs.
prefs.codegen.target = "cython"
S = Synapses(a, b, "w : 1")
S.connect(j="k for k in range(i - 2, i + 3) if k != i and y_post > 0.4", skip_if_invalid=True)
print("j reading y_post, skipping (cython)", sorted(zip(S.i[:].tolist(), S.j[:].tolist())))
prefs.codegen.target = "numpy"
# sample(size=): per source its count (min(i, 5) with skip_if_invalid), each once.
S = Synapses(a, b, "w : 1")
S.connect(j="k for k in sample(5, size=i)", skip_if_invalid=True)
print("size counts", np.bincount(S.i[:], minlength=9).tolist())
