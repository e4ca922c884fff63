# Wrote network/, a fixture of tests/it/sonata.rs (checked in): a BMTK network built by
# bmtk 1.2.0's NetworkBuilder (`pip install bmtk==1.2.0`, then `python build.py` here) of 2
# excitatory and 2 inhibitory point neurons. e -> i: 3 synapses per edge (nsyns, in group 0),
# weight and delay on the edge type. i -> e: a weight per synapse (add_properties, in group 1,
# without nsyns), delay on the type.
from bmtk.builder import NetworkBuilder
net = NetworkBuilder("v1")
net.add_nodes(N=2, ei="e", model_type="point_process", model_template="nest:iaf_psc_alpha", dynamics_params="exc.json")
net.add_nodes(N=2, ei="i", model_type="point_process", model_template="nest:iaf_psc_alpha", dynamics_params="inh.json")
net.add_edges(source={"ei": "e"}, target={"ei": "i"}, connection_rule=3,
              syn_weight=0.25, delay=2.0, dynamics_params="ExcToInh.json", model_template="static_synapse")
cm = net.add_edges(source={"ei": "i"}, target={"ei": "e"}, connection_rule=lambda s, t: 2,
                   delay=2.0, dynamics_params="InhToExc.json", model_template="static_synapse")
cm.add_properties("syn_weight", rule=lambda s, t: -0.5 - 0.25 * s.node_id - 0.125 * t.node_id, dtypes=float)
net.build()
net.save(output_dir="network")
