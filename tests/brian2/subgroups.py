"""The fixture of tests/it/subgroups.rs (BRIAN2_SUBGROUPS): six neurons of one group, its
subgroups Pe = P[0:4] and Pi = P[4:6] (Brian2's slicing), Synapses(Pe, P) connected where
i != j and Synapses(Pi, Pe) where a condition on the source's I holds, whose weights and delays read `i`, `j` and the neurons' variables counted
within each subgroup, as Brian2 counts them. 40 ms of 0.1 ms steps. Run with Brian2 2.9.0
(numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/subgroups.py
"""
from brian2 import EventMonitor, Hz, NeuronGroup, Network, PoissonInput, PopulationRateMonitor, SpikeMonitor, StateMonitor, Synapses, defaultclock, kHz, linked_var, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
# A custom event with no code of its own changes nothing: its EventMonitors (BRIAN2_RECORDED_HIGH_*) watch it.
P = NeuronGroup(6, "dv/dt = (I - v)/(10*ms) : 1\nI : 1 (constant)", threshold="v > 1", reset="v = 0", method="exact", name="P", events={"high": "v > 0.995"})
P.I = "1.2 + 0.05*i"
P.v = "0.1*i"
Pe, Pi = P[0:4], P[4:6]
se = Synapses(Pe, P, "w : 1", on_pre="v_post += w", name="se")
se.connect(condition="i != j")
se.w = "0.1 + 0.01*i + 0.001*j"
si = Synapses(Pi, Pe, "w : 1", on_pre="v_post -= w", name="si")
si.connect(condition="I_pre > 1.42 or j > 1")
si.w = "0.05*i + 0.1*I_pre + 0.01*v_post"
si.delay = "(1 + j)*0.1*ms"
m = SpikeMonitor(P)
# Monitors of the subgroups (BRIAN2_RECORDED_*): their neurons numbered from the subgroup's first.
me, mi, ri = SpikeMonitor(Pe, variables=["I"]), SpikeMonitor(Pi, variables=["v"]), PopulationRateMonitor(Pi)
ve = StateMonitor(Pe, "v", record=[1, 3], dt=5 * ms)
# EventMonitors of the subgroup Pi (with v) and of the population P (with I). A subgroup's
# monitor takes the subgroup's slot (`thresholds`) by default, before its group checks custom
# events (`after_thresholds`), so it reports each event a step late with that later step's
# values (`late`); ganglion records a subgroup's events when they are checked, as Brian2's
# monitor placed there (`when="after_thresholds"`) does.
hi = EventMonitor(Pi, "high", variables=["v"], when="after_thresholds", order=1)
late, hp = EventMonitor(Pi, "high", variables=["v"]), EventMonitor(P, "high", variables=["I"])
net = Network(P, se, si, m, me, mi, ri, ve, hi, late, hp)
net.run(40 * ms)
print(f"recorded: Pe spikes (i, step) {[(int(i), int(round(t / (0.1 * ms)))) for i, t in zip(me.i, me.t)]!r}")
print(f"recorded: Pi spikes (i, step) {[(int(i), int(round(t / (0.1 * ms)))) for i, t in zip(mi.i, mi.t)]!r}")
print(f"recorded: Pe's I and Pi's v with each spike {[float(x) for x in me.I[:]]!r} {[float(x) for x in mi.v[:]]!r}")
print(f"recorded: Pi's high events (i, step, v) {[(int(i), int(round(t / (0.1 * ms))), float(v)) for i, t, v in zip(hi.i, hi.t, hi.v)]!r}")
print(f"recorded: P's high events (i, step) {[(int(i), int(round(t / (0.1 * ms)))) for i, t in zip(hp.i, hp.t)]!r}")
print(f"recorded: Pi's high events by default, a step late (i, step) {[(int(i), int(round(t / (0.1 * ms)))) for i, t in zip(late.i, late.t)]!r}")
print(f"recorded: Pi rate (step, Hz) where not 0 {[(k, float(r)) for k, r in enumerate(ri.rate[:] / Hz) if r != 0]!r}")
print(f"recorded: Pe v of 1 and 3 every 5 ms {[[float(x) for x in row] for row in ve.v[:]]!r}")
print(f"se (i, j, w) {list(zip(se.i[:].tolist(), se.j[:].tolist(), [float(x) for x in se.w[:]]))!r}")
print(f"spikes (i, step) {[(int(i), int(round(t / (0.1 * ms)))) for i, t in zip(m.i, m.t)]!r}")
print(f"si (i, j, w) {list(zip(si.i[:].tolist(), si.j[:].tolist(), [float(x) for x in si.w[:]]))!r}")
print(f"v at the end {[float(x) for x in P.v[:]]!r}")

# Then (BRIAN2_SUMMED_*): a summed variable into subgroup A = q[1:4] and another into the
# same variable of B = q[4:6] (neuron 0, in neither, keeps its Igap of 0.5), synapses from B
# onto A whose `on_pre` reads `i` and `j` within the subgroups, and a run_regularly
# rewriting A's weights from them every 1 ms. A subgroup's summed variable has the order of
# its group's update, so Brian2 runs the two in the order of their names:
# "gap_summed_variable_Igap_post" before "q_stateupdater" here (a group named "Q" would
# update first).
start_scope()
defaultclock.dt = 0.1 * ms
q = NeuronGroup(6, "dv/dt = (I + Igap - v)/(10*ms) : 1\nI : 1 (constant)\nIgap : 1", threshold="v > 1", reset="v = 0", method="euler", name="q")
q.I = "0.9 + 0.05*i"
q.v = "0.15*i"
q.Igap = 0.5
A, B = q[1:4], q[4:6]
gap = Synapses(A, A, "w : 1\nIgap_post = w*(v_pre - v_post) : 1 (summed)", name="gap")
gap.connect(condition="i != j")
gap.w = "0.1 + 0.02*i"
gap.run_regularly("w = 0.2 + 0.05*i + 0.01*j", dt=1 * ms)
# A second sum into the same variable, of subgroup B, which does not overlap A.
gap2 = Synapses(B, B, "w : 1\nIgap_post = w*(v_pre - v_post) : 1 (summed)", name="gap2")
gap2.connect(condition="i != j")
gap2.w = 0.3
kick = Synapses(B, A, on_pre="v_post += 0.05*(i + 1) + 0.01*j", name="kick")
kick.connect()
mq = SpikeMonitor(q)
net = Network(q, gap, gap2, kick, mq)
net.run(40 * ms)
print(f"summed: spikes (i, step) {[(int(i), int(round(t / (0.1 * ms)))) for i, t in zip(mq.i, mq.t)]!r}")
print(f"summed: Igap and v at the end {[float(x) for x in q.Igap[:]]!r} {[float(x) for x in q.v[:]]!r}")

# Then (BRIAN2_POISSON_V): a PoissonInput into subgroup P[2:5] alone, at rate·dt = 1 so that
# each step every one of its neurons counts all N = 3 sources (the count is deterministic),
# its weight reading `i` and `N` within the subgroup (i = 0 is P's neuron 2, N is 3).
start_scope()
defaultclock.dt = 0.1 * ms
d = NeuronGroup(6, "dv/dt = -v/(10*ms) : 1", method="exact", name="d")
d.v = "0.1*i"
drive = PoissonInput(d[2:5], "v", N=3, rate=10 * kHz, weight="0.01*i + 0.001*N")
net = Network(d, drive)
net.run(1 * ms)
print(f"poisson: v at the end {[float(x) for x in d.v[:]]!r}")

# Then (BRIAN2_LINKED_*): variables linked to subgroups of a spiking source (Brian2's
# `linked_var(P[a:b], ...)`), neuron for neuron and by an index counted within the subgroup.
start_scope()
defaultclock.dt = 0.1 * ms
src = NeuronGroup(5, "dv/dt = (1.5 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact", name="a_src")
src.v = "0.2*i"
tgt = NeuronGroup(2, "dx/dt = (I - x)/(5*ms) : 1\nI : 1 (linked)", method="exact", name="b_tgt")
s1 = src[2:4]  # kept: Brian2 holds a subgroup weakly
tgt.I = linked_var(s1, "v")
tgt2 = NeuronGroup(3, "dx/dt = (I - x)/(5*ms) : 1\nI : 1 (linked)", method="exact", name="c_tgt")
s2 = src[3:5]
tgt2.I = linked_var(s2, "v", index=[1, 0, 1])
net = Network(src, tgt, tgt2)
net.run(10 * ms)
print(f"linked: x at the end {[float(x) for x in tgt.x[:]]!r} {[float(x) for x in tgt2.x[:]]!r}")
