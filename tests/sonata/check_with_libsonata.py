"""End-to-end check with the reference SONATA reader (libsonata) and h5py.

Runs ganglion on a few configs with --sonata-dir, then reads every spike population and
every report back with libsonata (from the ganglion file itself and from the SONATA
directory, found through its simulation_config.json) and compares them with what h5py reads
from ganglion's own file. Also writes an edges file with h5py as the spec lays it out,
checks that libsonata reads it as written, and runs the seed pair from it.

Usage: python check_with_libsonata.py GANGLION_BINARY WORK_DIR
"""
import json
import subprocess
import sys
from pathlib import Path

import h5py
import libsonata
import numpy as np

ganglion, work = sys.argv[1], Path(sys.argv[2]).resolve()
work.mkdir(parents=True, exist_ok=True)
checked = []


def run(config, name, *sets):
    out, sonata = work / f"{name}.h5", work / f"{name}_sonata"
    args = [ganglion, "run", config, "--quiet", "--force", "--output", str(out), "--sonata-dir", str(sonata)]
    for s in sets:
        args += ["--set", s]
    subprocess.run(args, check=True)
    return out, sonata


def check_spikes(spikes_file, ours):
    reader = libsonata.SpikeReader(str(spikes_file))
    assert sorted(reader.get_population_names()) == sorted(ours["spikes"].keys()), spikes_file
    for pop in reader.get_population_names():
        p = reader[pop]
        assert str(p.sorting) == "by_time", (spikes_file, pop, p.sorting)
        got = p.get()
        want = list(zip(ours[f"spikes/{pop}/node_ids"][:].tolist(), ours[f"spikes/{pop}/timestamps"][:].tolist()))
        assert [(int(n), float(t)) for n, t in got] == want, (spikes_file, pop)
        checked.append(f"{spikes_file.name}:{pop} ({len(want)} spikes)")


def check_reports(sonata, ours):
    config = libsonata.SimulationConfig((sonata / "simulation_config.json").read_text(), str(sonata))
    assert Path(config.output.spikes_file) == sonata / "spikes.h5"
    check_spikes(sonata / "spikes.h5", ours)
    names = config.list_report_names
    variables = {var for pop in ours["report"] for var in ours[f"report/{pop}"]}
    assert names == variables, (names, variables)
    for name in names:
        report = config.report(name)
        for Reader in (libsonata.SomaReportReader, libsonata.ElementReportReader):
            reader = Reader(report.file_name)
            for pop in reader.get_population_names():
                p = reader[pop]
                frame = p.get()
                data = ours[f"report/{pop}/{name}/data"][:]
                assert np.array_equal(np.asarray(frame.data), data), (name, pop)
                start, _, step = ours[f"report/{pop}/{name}/mapping/time"][:]
                times = start + step * np.arange(data.shape[0])
                assert np.allclose(frame.times, times), (name, pop)
                assert p.data_units == ours[f"report/{pop}/{name}/data"].attrs["units"], (name, pop)
                node_ids = ours[f"report/{pop}/{name}/mapping/node_ids"][:]
                ids = np.asarray(frame.ids)
                ids = ids[:, 0] if ids.ndim == 2 else ids
                assert np.array_equal(ids, node_ids), (name, pop)
                checked.append(f"{Path(report.file_name).name}:{pop} {Reader.__name__} {data.shape}")


def check_run(config, name, *sets):
    out, sonata = run(config, name, *sets)
    with h5py.File(out) as ours:
        check_spikes(out, ours)
        check_reports(sonata, ours)
    return out


# The seed pair (five variables), COBAHH (two populations, v of five neurons every 2 steps),
# and STDP with a synaptic variable over time (a projection's report).
pair = check_run("configs/hh_pair.toml", "hh_pair", "simulation.duration_ms=60")
check_run(
    "configs/cobahh.toml", "cobahh", "simulation.duration_ms=30", "simulation.backend=\"cpu\"",
    'record.traces=[{population="exc", variables=["v"], neurons=[0, 1, 2, 3, 4], every=2}, '
    '{population="inh", variables=["v", "g_ei"], neurons="all", every=5}]',
)
check_run(
    "configs/equations/stdp.toml", "stdp", "simulation.duration_ms=50", "simulation.backend=\"cpu\"",
    'record.synapses=[{projection="S", variables=["w"], synapses=[0, 5, 7], every=10}]',
)

# An edges file as BMTK writes one, read back by libsonata, then the pair run from it.
edges = work / "pair_edges.h5"
with h5py.File(edges, "w") as f:
    g = f.create_group("edges/hh_to_hh")
    g.create_dataset("source_node_id", data=np.array([1, 0], dtype=np.uint64)).attrs["node_population"] = "hh"
    g.create_dataset("target_node_id", data=np.array([0, 1], dtype=np.uint64)).attrs["node_population"] = "hh"
    g.create_dataset("edge_type_id", data=np.array([100, 100], dtype=np.int64))
    g.create_dataset("edge_group_id", data=np.array([0, 0], dtype=np.uint32))
    g.create_dataset("edge_group_index", data=np.array([0, 1], dtype=np.uint64))
    g.create_dataset("0/syn_weight", data=np.array([0.1, 0.1]))
pop = libsonata.EdgeStorage(str(edges)).open_population("hh_to_hh")
everything = libsonata.Selection([[0, pop.size]])
assert pop.source_nodes(everything).tolist() == [1, 0] and pop.target_nodes(everything).tolist() == [0, 1]
assert pop.get_attribute("syn_weight", everything).tolist() == [0.1, 0.1]
from_edges, _ = run(
    "configs/hh_pair.toml", "hh_pair_edges", "simulation.duration_ms=60",
    f'projections.hh_hh.connectivity={{rule="sonata", edges="{edges}", population="hh_to_hh"}}',
)
with h5py.File(pair) as a, h5py.File(from_edges) as b:
    for d in ("spikes/hh/timestamps", "spikes/hh/node_ids"):
        assert np.array_equal(a[d][:], b[d][:]), d
checked.append("edges written with h5py: read by libsonata; the pair from them spikes as the seed pair")

print(f"libsonata {libsonata.version} read back everything ganglion wrote:")
for c in checked:
    print("  " + c)
