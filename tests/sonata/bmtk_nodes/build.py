# Wrote network/, a fixture of tests/it/sonata.rs (checked in): the nodes of a BMTK network
# built by bmtk 1.2.0's NetworkBuilder (`pip install bmtk==1.2.0`, then `python build.py`
# here). Three excitatory nodes with positions and a tuning angle per node, two inhibitory
# ones with positions only: two node groups (per-node lists become group attributes), while
# the scalars (tau_ms, ei, model_template, dynamics_params) go to the node types file.
from bmtk.builder import NetworkBuilder

net = NetworkBuilder("cortex")
net.add_nodes(N=3, x=[0.0, 15.0, 30.0], y=[5.0, 5.0, 40.0], tuning=[0.0, 45.0, 90.0], ei="e", tau_ms=20.0,
              model_type="point_process", model_template="nest:iaf_psc_alpha", dynamics_params="exc.json")
net.add_nodes(N=2, x=[7.5, 22.5], y=[20.0, 20.0], ei="i", tau_ms=10.0,
              model_type="point_process", model_template="nest:iaf_psc_alpha", dynamics_params="inh.json")
net.build()
net.save_nodes(output_dir="network")
