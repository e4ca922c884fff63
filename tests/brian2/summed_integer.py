"""The fixture of tests/it/integer_boolean.rs's summed-variable test: Brian2 stores a summed
variable's total into an integer or boolean target as it stores any value there (the sum
truncated toward zero; true where it is not 0). Three sources with x = 0.4, -0.95, -1.7 onto
two targets, every pair. Run with Brian2 2.9.0 (numpy<2):

    python3 -m venv venv && venv/bin/pip install brian2==2.9.0 "numpy<2"
    venv/bin/python tests/brian2/summed_integer.py
"""
from brian2 import NeuronGroup, Network, Synapses, defaultclock, ms, prefs, start_scope

prefs.codegen.target = "numpy"
start_scope()
defaultclock.dt = 0.1 * ms
source = NeuronGroup(3, "x : 1", name="source")
source.x = [0.4, -0.95, -1.7]
target = NeuronGroup(2, "s : integer\nf : boolean", name="target")
sums = Synapses(source, target, "s_post = x_pre*(j + 1) : 1 (summed)", name="sums")
sums.connect()
flags = Synapses(source, target, "f_post = x_pre*j : 1 (summed)", name="flags")
flags.connect()
net = Network(source, target, sums, flags)
net.run(0.3 * ms)
print(f"s {[int(v) for v in target.s[:]]!r} f {[int(v) for v in target.f[:]]!r}")
