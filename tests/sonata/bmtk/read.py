# Prints the edges tests/it/sonata.rs expects of network/ (`python read.py` here, bmtk 1.2.0):
# each edge as BMTK reads it (bmtk.utils.sonata), with the weight its point-neuron simulator
# gives it (bmtk/simulator/pointnet/sonata_adaptors.py: syn_weight times nsyns, nsyns from the
# edge's group, else its type, else 1).
from bmtk.utils import sonata
f = sonata.File(data_files="network/v1_v1_edges.h5", data_type_files="network/v1_v1_edge_types.csv")
for e in f.edges["v1_to_v1"]:
    try:
        nsyns = e["nsyns"]
    except Exception:
        nsyns = 1
    print(f"({e.source_node_id}, {e.target_node_id}, {float(nsyns * e['syn_weight'])!r}, {float(e['delay'])!r}),")
