//! SONATA interchange: the spike group's types in every output file, the simulation output
//! directory, networks read from edges and nodes files, spike sources from SONATA files.

use crate::common::*;
use ganglion::app::{self, RunRequest};
use ganglion::backend::cpu::CpuBackend;
use ganglion::io::sonata::spikes::Sorting;
use ganglion::record::RecordPlan;
use hdf5::types::{TypeDescriptor, VarLenUnicode};
use std::path::{Path, PathBuf};

fn run_file(config: &str, out: &Path, overrides: &[String]) {
    let req = RunRequest {
        config: repo_path(config),
        overrides: overrides.to_vec(),
        output: Some(out.to_owned()),
        force: true,
        ..Default::default()
    };
    app::run(&req).expect("the run completes");
}

/// Checks one `/spikes/<pop>` group against the spec: `sorting` an enum of uint8 with the
/// members none = 0, by_id = 1, by_time = 2 (here by_time), `timestamps` f64 in ms,
/// `node_ids` u64.
fn assert_spec_spike_group(g: &hdf5::Group) {
    let sorting = g.attr("sorting").expect("a sorting attribute");
    match sorting.dtype().unwrap().to_descriptor().unwrap() {
        TypeDescriptor::Enum(e) => {
            assert_eq!(e.size as usize, 1, "uint8");
            assert!(!e.signed, "unsigned");
            let members: Vec<(String, u64)> = e.members.iter().map(|m| (m.name.clone(), m.value)).collect();
            assert_eq!(members, [("none".into(), 0), ("by_id".into(), 1), ("by_time".into(), 2)]);
        }
        other => panic!("{}: sorting is {other:?}, not the spec's enum", g.name()),
    }
    let value: Sorting = sorting.read_scalar().unwrap();
    assert_eq!(value as u8, 2, "by_time");
    let t = g.dataset("timestamps").unwrap();
    assert!(matches!(t.dtype().unwrap().to_descriptor().unwrap(), TypeDescriptor::Float(hdf5::types::FloatSize::U8)));
    let units: VarLenUnicode = t.attr("units").unwrap().read_scalar().unwrap();
    assert_eq!(units.as_str(), "ms");
    let ids = g.dataset("node_ids").unwrap();
    assert!(matches!(ids.dtype().unwrap().to_descriptor().unwrap(), TypeDescriptor::Unsigned(hdf5::types::IntSize::U8)));
    let times: Vec<f64> = t.read_raw().unwrap();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{}: sorted by time", g.name());
}

#[test]
fn every_output_files_spike_groups_have_the_specs_types() {
    let dir = tempfile::tempdir().unwrap();
    let short = |ms: u32| vec![format!("simulation.duration_ms={ms}"), "simulation.backend=\"cpu\"".into()];
    for (config, overrides) in [
        ("configs/hh_pair.toml", short(60)),
        ("configs/lif_tutorial.toml", short(150)),
        ("configs/cobahh.toml", short(20)),
        ("configs/equations/stdp.toml", short(50)),
    ] {
        let out = dir.path().join("run.h5");
        let sonata = dir.path().join("sonata");
        let mut o = overrides.clone();
        o.push(format!("output.sonata_dir=\"{}\"", sonata.display()));
        run_file(config, &out, &o);
        for file in [out.clone(), sonata.join("spikes.h5")] {
            let f = hdf5::File::open(&file).unwrap();
            let spikes = f.group("spikes").unwrap();
            let names = spikes.member_names().unwrap();
            assert!(!names.is_empty(), "{config}: {} records spikes", file.display());
            for pop in names {
                assert_spec_spike_group(&spikes.group(&pop).unwrap());
            }
        }
        std::fs::remove_dir_all(&sonata).unwrap();
    }
}

#[test]
fn the_sonata_directory_holds_the_same_spikes_and_traces_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pair.h5");
    let sonata = dir.path().join("out_sonata");
    run_file(
        "configs/hh_pair.toml",
        &out,
        &[
            "simulation.duration_ms=40".into(),
            "record.traces=[{population=\"hh\", variables=[\"v\", \"m\"], neurons=[1], every=3}]".into(),
            format!("output.sonata_dir=\"{}\"", sonata.display()),
        ],
    );
    let main = hdf5::File::open(&out).unwrap();
    let spikes = hdf5::File::open(sonata.join("spikes.h5")).unwrap();
    for set in ["timestamps", "node_ids"] {
        let a: Vec<f64> = main.dataset(&format!("spikes/hh/{set}")).unwrap().read_raw().unwrap();
        let b: Vec<f64> = spikes.dataset(&format!("spikes/hh/{set}")).unwrap().read_raw().unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b, "{set}");
    }
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sonata.join("simulation_config.json")).unwrap()).unwrap();
    assert_eq!(config["output"]["spikes_file"], "spikes.h5");
    assert_eq!(config["run"]["tstop"], 40.0);
    let reports = config["reports"].as_object().unwrap();
    assert_eq!(reports.keys().collect::<Vec<_>>(), ["m", "v"]);
    for (var, units) in [("v", "mV"), ("m", "1")] {
        let r = &reports[var];
        assert_eq!(r["variable_name"], var);
        assert_eq!(r["unit"], units);
        assert_eq!(r["dt"], 0.03);
        let f = hdf5::File::open(sonata.join(r["file_name"].as_str().unwrap())).unwrap();
        let data: ndarray::Array2<f32> = f.dataset("report/hh/data").unwrap().read_2d().unwrap();
        let ours: ndarray::Array2<f32> = main.dataset(&format!("report/hh/{var}/data")).unwrap().read_2d().unwrap();
        assert_eq!(data, ours, "{var}");
        assert_eq!(data.dim(), (1334, 1), "samples at 0, 0.03, … < 40 ms");
        let mapping = |set: &str| f.dataset(&format!("report/hh/mapping/{set}")).unwrap();
        assert_eq!(mapping("node_ids").read_raw::<u64>().unwrap(), [1]);
        assert_eq!(mapping("index_pointers").read_raw::<u64>().unwrap(), [0, 1]);
        assert_eq!(mapping("element_ids").read_raw::<u32>().unwrap(), [0]);
        let time: Vec<f64> = mapping("time").read_raw().unwrap();
        assert_eq!(time[0], 0.0);
        assert_eq!(time[2], 0.03);
        assert!((time[1] - 1334.0 * 0.03).abs() < 1e-9, "stop just after the last frame: {}", time[1]);
        // serde_json parses floats to within an ULP.
        assert!((r["end_time"].as_f64().unwrap() - time[1]).abs() < 1e-12);
        let units_attr: VarLenUnicode = f.dataset("report/hh/data").unwrap().attr("units").unwrap().read_scalar().unwrap();
        assert_eq!(units_attr.as_str(), units);
    }
}

#[test]
fn a_sonata_directory_that_is_there_is_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let sonata = dir.path().join("s");
    std::fs::create_dir_all(&sonata).unwrap();
    std::fs::write(sonata.join("spikes.h5"), b"someone's results").unwrap();
    let req = RunRequest {
        config: repo_path("configs/hh_pair.toml"),
        overrides: vec!["simulation.duration_ms=5".into(), format!("output.sonata_dir=\"{}\"", sonata.display())],
        output: Some(dir.path().join("run.h5")),
        force: false,
        ..Default::default()
    };
    let e = app::run(&req).expect_err("refused").to_string();
    assert!(e.contains("spikes.h5") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read(sonata.join("spikes.h5")).unwrap(), b"someone's results");
    assert!(!dir.path().join("run.h5").exists(), "nothing ran");
}

/// Writes a SONATA edges file as the spec lays it out: ids with their `node_population`,
/// `edge_type_id`, `edge_group_id` (all 0), `edge_group_index`, and group 0's attributes,
/// stored in an order other than the edges' (through edge_group_index).
fn write_edges(path: &Path, population: &str, source: &[u64], target: &[u64], attributes: &[(&str, Vec<f64>)]) {
    let f = hdf5::File::create(path).unwrap();
    let g = f.create_group(&format!("edges/{population}")).unwrap();
    let n = source.len();
    for (name, ids, pop) in [("source_node_id", source, "pre_nodes"), ("target_node_id", target, "post_nodes")] {
        let d = g.new_dataset_builder().with_data(ids).create(name).unwrap();
        let v: VarLenUnicode = pop.parse().unwrap();
        d.new_attr::<VarLenUnicode>().create("node_population").unwrap().write_scalar(&v).unwrap();
    }
    g.new_dataset_builder().with_data(&vec![100u64; n]).create("edge_type_id").unwrap();
    g.new_dataset_builder().with_data(&vec![0u64; n]).create("edge_group_id").unwrap();
    // Group rows in reverse: edge e is row n−1−e.
    let index: Vec<u64> = (0..n as u64).rev().collect();
    g.new_dataset_builder().with_data(&index).create("edge_group_index").unwrap();
    let group0 = g.create_group("0").unwrap();
    for (name, values) in attributes {
        let rows: Vec<f64> = values.iter().rev().copied().collect();
        group0.new_dataset_builder().with_data(&rows).create(*name).unwrap();
    }
}

fn spikes_on_cpu(text: &str, overrides: &[&str]) -> Vec<(u64, u32)> {
    let (_, net) = parsed(text, overrides);
    let plan = RecordPlan::all_spikes(&net);
    let sink = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan);
    sink.spikes.concat().iter().map(|s| (s.step, s.neuron)).collect()
}

fn pair_with(connectivity: &str) -> String {
    std::fs::read_to_string(repo_path("configs/hh_pair.toml"))
        .unwrap()
        .replace("connectivity = { rule = \"all_to_all\", autapses = false }", &format!("connectivity = {connectivity}"))
}

#[test]
fn an_edges_file_gives_the_same_network_as_explicit_connectivity() {
    let dir = tempfile::tempdir().unwrap();
    let overrides = ["simulation.duration_ms=300"];
    // The seed pair as edges (its weights as syn_weight, listed target-last), against the seed.
    let seed_edges = dir.path().join("seed_edges.h5");
    write_edges(&seed_edges, "hh_to_hh", &[1, 0], &[0, 1], &[("syn_weight", vec![0.1, 0.1])]);
    let seed = std::fs::read_to_string(repo_path("configs/hh_pair.toml")).unwrap();
    let from_edges = pair_with(&format!("{{ rule = \"sonata\", edges = \"{}\" }}", seed_edges.display()));
    let a = spikes_on_cpu(&seed, &overrides);
    assert!(a.len() > 10, "the pair fires");
    assert_eq!(a, spikes_on_cpu(&from_edges, &overrides));
    // Unequal weights: against the same synapses listed explicitly.
    let edges = dir.path().join("edges.h5");
    write_edges(&edges, "hh_to_hh", &[0, 1], &[1, 0], &[("syn_weight", vec![0.3, 0.05]), ("delay", vec![0.0, 0.0])]);
    let explicit = pair_with("{ rule = \"explicit\", pre = [1, 0], post = [0, 1], weight = [0.05, 0.3] }");
    let from_edges = pair_with(&format!("{{ rule = \"sonata\", edges = \"{}\", population = \"hh_to_hh\" }}", edges.display()));
    let b = spikes_on_cpu(&explicit, &overrides);
    assert_ne!(a, b, "the weights matter");
    assert_eq!(b, spikes_on_cpu(&from_edges, &overrides));
    // And on the GPU.
    let on_gpu = |text: &str| {
        let (_, net) = parsed(text, &overrides);
        let plan = RecordPlan::all_spikes(&net);
        run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan).spikes
    };
    assert_eq!(on_gpu(&explicit), on_gpu(&from_edges));
}

#[test]
fn edge_attributes_initialise_synaptic_variables_and_delays() {
    // Three sources firing at known times onto one counter through synapses written as
    // equations: each edge's `w` is what it adds, its `delay` (ms) when it arrives.
    let dir = tempfile::tempdir().unwrap();
    let edges = dir.path().join("edges.h5");
    write_edges(
        &edges,
        "inputs",
        &[2, 0, 1, 0],
        &[0, 0, 0, 0],
        &[("w", vec![100.0, 1.0, 10.0, 1000.0]), ("delay", vec![0.5, 0.2, 1.0, 2.0]), ("unused", vec![0.0; 4])],
    );
    let text = format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 5.0
[populations.src]
model = "spike_source"
size = 3
params = {{ indices = [0, 1, 2], times = [1.0, 1.0, 1.0] }}
[models.counter]
equations = "count : 1"
[synapse_models.add]
model = "w : 1"
on_pre = "count_post += w"
[populations.dst]
model = "counter"
size = 1
[projections.link]
source = "src"
target = "dst"
synapse = "add"
connectivity = {{ rule = "sonata", edges = "{}" }}
[record]
traces = [{{ population = "dst", variables = ["count"] }}]
"#,
        edges.display()
    );
    for gpu in [false, true] {
        let (config, net) = parsed(&text, &[]);
        let plan = RecordPlan::from_config(&config);
        let sink = if gpu {
            run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan)
        } else {
            run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan)
        };
        let count = &sink.traces[0][0];
        // The spikes of step 10 (t = 1 ms) arrive 2, 5, 10 and 20 steps later.
        let at = |step: usize| count[step + 1];
        assert_eq!(at(10), 0.0, "gpu {gpu}");
        assert_eq!(at(12), 1.0, "gpu {gpu}: edge 1 (0 → 0, 0.2 ms)");
        assert_eq!(at(15), 101.0, "gpu {gpu}: edge 0 (2 → 0, 0.5 ms)");
        assert_eq!(at(20), 111.0, "gpu {gpu}: edge 2 (1 → 0, 1 ms)");
        assert_eq!(at(29), 111.0, "gpu {gpu}");
        assert_eq!(at(30), 1111.0, "gpu {gpu}: edge 3 (0 → 0, 2 ms)");
    }
    // Its weights are variables it declares: nothing to scale.
    let scaled = text.replace("edges = \"", "weight_scale = \"w\", edges = \"");
    let e = ganglion::config::parse(&scaled, &[]).expect_err("no weight to scale").to_string();
    assert!(e.contains("connectivity.weight_scale") && e.contains("written as equations"), "{e}");
}

#[test]
fn a_population_takes_its_size_from_a_nodes_file() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = dir.path().join("nodes.h5");
    {
        let f = hdf5::File::create(&nodes).unwrap();
        for (pop, n) in [("cortex", 7usize), ("thalamus", 3)] {
            let g = f.create_group(&format!("nodes/{pop}")).unwrap();
            g.new_dataset_builder().with_data(&vec![1u64; n]).create("node_type_id").unwrap();
            g.new_dataset_builder().with_data(&vec![0u32; n]).create("node_group_id").unwrap();
        }
    }
    let text = std::fs::read_to_string(repo_path("configs/hh_pair.toml")).unwrap().replace(
        "size = 2",
        &format!("size = {{ sonata_nodes = \"{}\", population = \"cortex\" }}", nodes.display()),
    );
    let (config, net) = parsed(&text, &["simulation.duration_ms=1"]);
    assert_eq!(net.populations[0].size, 7);
    assert!(config.to_toml().contains("size = 7"), "the file records the size read");
    let e = ganglion::config::parse(&text.replace("cortex", "retina"), &[]).expect_err("refused").to_string();
    for part in ["populations.hh.size", "nodes.h5", "retina", "cortex, thalamus"] {
        assert!(e.contains(part), "`{part}` not in: {e}");
    }
}

#[test]
fn spike_sources_read_bmtk_style_spike_files() {
    // Signed node ids, sorted by id, times in seconds, two populations: as other tools write.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bmtk_spikes.h5");
    {
        let f = hdf5::File::create(&path).unwrap();
        for (pop, ids, times) in [("lgn", vec![0i64, 0, 2], vec![0.003, 0.001, 0.002]), ("other", vec![0], vec![0.0])] {
            let g = f.create_group(&format!("spikes/{pop}")).unwrap();
            g.new_attr::<Sorting>()
                .create("sorting")
                .unwrap()
                .write_scalar(&Sorting::by_id)
                .unwrap();
            let t = g.new_dataset_builder().with_data(&times).create("timestamps").unwrap();
            let s: VarLenUnicode = "s".parse().unwrap();
            t.new_attr::<VarLenUnicode>().create("units").unwrap().write_scalar(&s).unwrap();
            g.new_dataset_builder().with_data(&ids).create("node_ids").unwrap();
        }
    }
    let text = format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 5.0
[populations.src]
model = "spike_source"
size = 3
params = {{ file = "{}", population = "lgn" }}
[record]
spikes = ["src"]
"#,
        path.display()
    );
    let got = spikes_on_cpu(&text, &[]);
    // Each spike in the step that starts at its time.
    assert_eq!(got, [(10, 0), (20, 2), (30, 0)]);
    let e = ganglion::config::parse(&text.replace(", population = \"lgn\"", ""), &[]).expect_err("refused").to_string();
    assert!(e.contains("populations.src.params.file") && e.contains("lgn, other"), "{e}");
}

fn edges_error(path: &Path, population: Option<&str>, synapse: &str) -> String {
    let pop = population.map(|p| format!(", population = \"{p}\"")).unwrap_or_default();
    let text = pair_with(&format!("{{ rule = \"sonata\", edges = \"{}\"{pop} }}", path.display()));
    let text = match synapse {
        "graded" => text,
        other => text.replace(
            "synapse = \"graded\"\nparams = { v_rev = 20.0, w = 1.0 }",
            &format!("synapse = \"{other}\"\nparams = {{ delay_ms = 1.0, tau_ms = 5.0 }}"),
        ),
    };
    ganglion::config::parse(&text, &[]).expect_err("refused").to_string()
}

#[test]
fn bad_edges_files_are_refused_naming_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| -> PathBuf { dir.path().join(name) };
    let key = "projections.hh_hh.connectivity";
    let check = |e: String, parts: &[&str]| {
        for p in parts {
            assert!(e.contains(p), "`{p}` not in: {e}");
        }
    };
    check(edges_error(&file("missing.h5"), None, "graded"), &[key, "missing.h5"]);
    std::fs::write(file("text.h5"), "not hdf5").unwrap();
    check(edges_error(&file("text.h5"), None, "graded"), &[key, "text.h5"]);
    {
        let f = hdf5::File::create(file("nodes_only.h5")).unwrap();
        f.create_group("nodes/x").unwrap();
    }
    check(edges_error(&file("nodes_only.h5"), None, "graded"), &[key, "no /edges group"]);
    write_edges(&file("range.h5"), "e", &[0, 5], &[1, 0], &[]);
    check(edges_error(&file("range.h5"), None, "graded"), &[key, "range.h5", "edge 1", "source_node_id 5", "out of range"]);
    write_edges(&file("two.h5"), "e", &[0], &[1], &[]);
    check(edges_error(&file("two.h5"), Some("f"), "graded"), &[key, "no edge population `f`", "it has e"]);
    write_edges(&file("delays.h5"), "e", &[0, 1], &[1, 0], &[("delay", vec![1.0, 2.0])]);
    check(edges_error(&file("delays.h5"), None, "graded"), &[key, "graded synapse has none"]);
    check(edges_error(&file("delays.h5"), None, "exp_curr"), &[key, "vary (1 to 2 ms)", "as equations"]);
    write_edges(&file("delay2.h5"), "e", &[0, 1], &[1, 0], &[("delay", vec![2.0, 2.0])]);
    check(edges_error(&file("delay2.h5"), None, "exp_curr"), &[key, "params.delay_ms = 2"]);
    {
        write_edges(&file("groups.h5"), "e", &[0, 1], &[1, 0], &[]);
        let f = hdf5::File::open_rw(file("groups.h5")).unwrap();
        f.dataset("edges/e/edge_group_id").unwrap().write_raw(&[0u64, 1]).unwrap();
        f.unlink("edges/e/edge_group_index").unwrap();
    }
    check(edges_error(&file("groups.h5"), None, "graded"), &[key, "/edges/e/edge_group_index is missing", "several groups"]);
    {
        let f = hdf5::File::create(file("short.h5")).unwrap();
        let g = f.create_group("edges/e").unwrap();
        g.new_dataset_builder().with_data(&[0u64, 1]).create("source_node_id").unwrap();
        g.new_dataset_builder().with_data(&[1u64]).create("target_node_id").unwrap();
    }
    check(edges_error(&file("short.h5"), None, "graded"), &[key, "2 source_node_ids but 1 target_node_ids"]);
}

/// Sets the edges' `edge_type_id`s of a file `write_edges` wrote (it gives every edge 100).
fn set_edge_types(path: &Path, population: &str, types: &[u64]) {
    let f = hdf5::File::open_rw(path).unwrap();
    f.dataset(&format!("edges/{population}/edge_type_id")).unwrap().write_raw(types).unwrap();
}

/// An edge types file as BMTK writes one (pandas, `sep=" "`, `na_rep="NULL"`), with a run of
/// spaces and a quoted field holding spaces, which the spec's dialect allows.
const EDGE_TYPES: &str = "edge_type_id target_query source_query delay syn_weight dynamics_params model_template
100 ei=='e' ei=='e' 0.0 0.05 ExcToExc.json NULL
101 \"ei == 'i'\" ei=='e'   0.0 0.3 ExcToInh.json static_synapse
102 ei=='i' ei=='i' NULL NULL InhToInh.json static_synapse
";

/// The seed pair's edges of edge population `population` in `dir`: 0 → 1 of type 101, 1 → 0 of
/// type 100, without attributes; the edge types file's path (not written); and the pair's
/// config reading both.
fn typed_pair_edges(dir: &Path, population: &str) -> (PathBuf, PathBuf, String) {
    let (edges, types) = (dir.join("edges.h5"), dir.join("edge_types.csv"));
    write_edges(&edges, population, &[0, 1], &[1, 0], &[]);
    set_edge_types(&edges, population, &[101, 100]);
    let text = pair_with(&format!("{{ rule = \"sonata\", edges = \"{}\", edge_types = \"{}\" }}", edges.display(), types.display()));
    (edges, types, text)
}

#[test]
fn edges_inherit_the_numeric_columns_of_their_edge_types() {
    let dir = tempfile::tempdir().unwrap();
    // 0 → 1 of type 101 (weight 0.3), 1 → 0 of type 100 (0.05); type 102 is used by none.
    let (edges, types, from_types) = typed_pair_edges(dir.path(), "hh_to_hh");
    std::fs::write(&types, EDGE_TYPES).unwrap();
    let explicit = pair_with("{ rule = \"explicit\", pre = [1, 0], post = [0, 1], weight = [0.05, 0.3] }");
    let overrides = ["simulation.duration_ms=300"];
    let b = spikes_on_cpu(&explicit, &overrides);
    assert!(b.len() > 10, "the pair fires");
    assert_eq!(b, spikes_on_cpu(&from_types, &overrides));
    let (config, _) = parsed(&from_types, &[]);
    let e = config.resolved.edges[0].as_ref().unwrap();
    assert_eq!(e.attribute("syn_weight").unwrap(), [0.3, 0.05]);
    assert_eq!(e.attribute("delay").unwrap(), [0.0, 0.0]);
    assert!(e.attribute("model_template").is_none() && e.attribute("dynamics_params").is_none(), "text columns are not numbers");
    // An edge's own attribute overrides its type's: group 0's syn_weight wins, the types' delay is still inherited.
    write_edges(&edges, "hh_to_hh", &[0, 1], &[1, 0], &[("syn_weight", vec![0.7, 0.2])]);
    set_edge_types(&edges, "hh_to_hh", &[101, 100]);
    let (config, _) = parsed(&from_types, &[]);
    let e = config.resolved.edges[0].as_ref().unwrap();
    assert_eq!(e.attribute("syn_weight").unwrap(), [0.7, 0.2]);
    assert_eq!(e.attribute("delay").unwrap(), [0.0, 0.0]);
    // With a `population` column, another population's rows (the same ids) are not this one's types.
    std::fs::write(
        &types,
        "edge_type_id population syn_weight\n100 hh_to_hh 0.05\n100 other 9.0\n101 hh_to_hh 0.3\n101 NULL 9.0\n",
    )
    .unwrap();
    write_edges(&edges, "hh_to_hh", &[0, 1], &[1, 0], &[]);
    set_edge_types(&edges, "hh_to_hh", &[101, 100]);
    let e = ganglion::config::parse(&from_types, &[]).expect_err("101 twice for this population").to_string();
    assert!(e.contains("edge type 101 is defined twice"), "{e}");
    std::fs::write(&types, "edge_type_id population syn_weight\n100 hh_to_hh 0.05\n100 other 9.0\n101 hh_to_hh 0.3\n").unwrap();
    assert_eq!(b, spikes_on_cpu(&from_types, &overrides));
}

#[test]
fn weights_scale_by_an_edge_attribute_and_nsyns_is_never_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    let edges = dir.path().join("edges.h5");
    let connectivity = |scale: &str| pair_with(&format!("{{ rule = \"sonata\", edges = \"{}\"{scale} }}", edges.display()));
    let overrides = ["simulation.duration_ms=300"];
    // BMTK's edges: syn_weight per synapse, nsyns synapses per edge; its point-neuron
    // simulator weighs an edge by their product.
    write_edges(&edges, "e", &[0, 1], &[1, 0], &[("syn_weight", vec![0.15, 0.025]), ("nsyns", vec![2.0, 2.0])]);
    let explicit = pair_with("{ rule = \"explicit\", pre = [1, 0], post = [0, 1], weight = [0.05, 0.3] }");
    let scaled = spikes_on_cpu(&connectivity(", weight_scale = \"nsyns\""), &overrides);
    assert_eq!(spikes_on_cpu(&explicit, &overrides), scaled);
    // `check` says what the weights are made of.
    let config = dir.path().join("pair.toml");
    std::fs::write(&config, connectivity(", weight_scale = \"nsyns\"")).unwrap();
    let report = app::check(&config, &[]).unwrap();
    assert!(report.contains("SONATA edges `e`: attributes nsyns, syn_weight; weights syn_weight × nsyns"), "{report}");
    let on_gpu = |text: &str| {
        let (_, net) = parsed(text, &overrides);
        let plan = RecordPlan::all_spikes(&net);
        run_in_memory(&net, &mut gpu_backend(&net, &plan), &plan).spikes
    };
    assert_eq!(on_gpu(&explicit), on_gpu(&connectivity(", weight_scale = \"nsyns\"")));
    let e = ganglion::config::parse(&connectivity(""), &[]).expect_err("nsyns unsaid").to_string();
    for part in ["projections.hh_hh.connectivity.weight_scale", "nsyns", "weight_scale = \"nsyns\"", "weight_scale = \"none\""] {
        assert!(e.contains(part), "`{part}` not in: {e}");
    }
    let one_synapse_each = spikes_on_cpu(&connectivity(", weight_scale = \"none\""), &overrides);
    assert_ne!(one_synapse_each, scaled, "the scale matters");
    let halved = pair_with("{ rule = \"explicit\", pre = [1, 0], post = [0, 1], weight = [0.025, 0.15] }");
    assert_eq!(spikes_on_cpu(&halved, &overrides), one_synapse_each);
    // Without syn_weight the projection's weight (0.1) is scaled; nsyns all 1 needs no word.
    write_edges(&edges, "e", &[0, 1], &[1, 0], &[("nsyns", vec![3.0, 0.5])]);
    let explicit = pair_with("{ rule = \"explicit\", pre = [1, 0], post = [0, 1], weight = [0.05, 0.30000000000000004] }");
    assert_eq!(spikes_on_cpu(&explicit, &overrides), spikes_on_cpu(&connectivity(", weight_scale = \"nsyns\""), &overrides));
    write_edges(&edges, "e", &[0, 1], &[1, 0], &[("syn_weight", vec![0.3, 0.05]), ("nsyns", vec![1.0, 1.0])]);
    assert_eq!(spikes_on_cpu(&connectivity(""), &overrides), spikes_on_cpu(&connectivity(", weight_scale = \"nsyns\""), &overrides));
    let e = ganglion::config::parse(&connectivity(", weight_scale = \"nsynz\""), &[]).expect_err("no such attribute").to_string();
    assert!(e.contains("weight_scale") && e.contains("no numeric attribute `nsynz` (they have: nsyns, syn_weight)"), "{e}");
}

#[test]
fn bad_edge_types_files_are_refused_naming_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let (edges, types, text) = typed_pair_edges(dir.path(), "e");
    let refused = |csv: Option<&str>, parts: &[&str]| {
        match csv {
            Some(csv) => std::fs::write(&types, csv).unwrap(),
            None => std::fs::remove_file(&types).unwrap_or(()),
        }
        let e = ganglion::config::parse(&text, &[]).expect_err("refused").to_string();
        for p in parts {
            assert!(e.contains(p), "`{p}` not in: {e}");
        }
    };
    let key = "projections.hh_hh.connectivity.edge_types";
    refused(None, &[key, "types.csv"]);
    refused(Some(""), &[key, "types.csv", "is empty"]);
    refused(Some("syn_weight\n0.1\n"), &[key, "has no edge_type_id column"]);
    refused(Some("edge_type_id syn_weight\n100 0.1\n"), &[key, "edge 0 has edge_type_id 101, which this file does not define"]);
    // A type without a value, for an edge whose group has none either: the edge has none.
    refused(Some("edge_type_id syn_weight\n100 0.1\n101 NULL\n"), &["projections.hh_hh.connectivity", "edges.h5", "edge 0 has no `syn_weight`"]);
    refused(Some("edge_type_id syn_weight\n100 0.1\n100 0.2\n101 0.1\n"), &[key, "edge type 100 is defined twice"]);
    refused(Some("edge_type_id syn_weight\nx1 0.1\n"), &[key, "edge_type_id `x1` in row 1 is not a type id"]);
    refused(Some("edge_type_id syn_weight\n100 \"0.1\n"), &[key, "line 2: field 2 opens a quote it does not close"]);
    // Weights BMTK computes with the model's own Python cannot be taken as they stand.
    let functions = "edge_type_id syn_weight weight_function\n100 0.1 wmax\n101 0.2 gaussianLL\n102 0.3 other_fn\n";
    refused(Some(functions), &[key, "edge type 101", "weight_function `gaussianLL`", "cannot run"]);
    std::fs::write(&types, functions.replace("gaussianLL", "NULL")).unwrap();
    let e = ganglion::config::parse(&text, &[]).expect("BMTK's own, NULL, and a function no edge's type has");
    assert_eq!(e.resolved.edges[0].as_ref().unwrap().attribute("syn_weight").unwrap(), [0.2, 0.1]);
    // A function only types another projection takes have is that projection's to refuse.
    std::fs::write(&types, functions).unwrap();
    let only_100 = text.replace("edge_types = ", "edge_type_ids = [100], edge_types = ");
    let e = ganglion::config::parse(&only_100, &[]).expect("type 101 is not taken");
    assert_eq!(e.resolved.edges[0].as_ref().unwrap().attribute("syn_weight").unwrap(), [0.1]);
    // The edges' types are read from the edges file, which must then have them.
    {
        let f = hdf5::File::open_rw(&edges).unwrap();
        f.unlink("edges/e/edge_type_id").unwrap();
    }
    refused(Some("edge_type_id syn_weight\n100 0.1\n101 0.1\n"), &["projections.hh_hh.connectivity.edges", "edges.h5", "/edges/e/edge_type_id is missing"]);
    {
        let f = hdf5::File::open_rw(&edges).unwrap();
        f.new_dataset_builder().with_data(&[100u64]).create("edges/e/edge_type_id").unwrap();
    }
    let edges_key = "projections.hh_hh.connectivity.edges";
    refused(Some("edge_type_id syn_weight\n100 0.1\n101 0.1\n"), &[edges_key, "/edges/e/edge_type_id has 1 entries for 2 edges"]);
    let chosen = text.replace("edge_types = ", "edge_type_ids = [100], edge_types = ");
    let e = ganglion::config::parse(&chosen, &[]).expect_err("one type for two edges").to_string();
    assert!(e.contains(edges_key) && e.contains("has 1 entries for 2 edges"), "{e}");
}

#[test]
fn edges_in_several_groups_take_their_groups_attributes_then_their_types() {
    // 0 → 1 in group 1 (its row 0), 1 → 0 in group 0 (its row 0), as BMTK writes edges whose
    // properties differ: the seed pair with weights 0.3 and 0.05.
    let dir = tempfile::tempdir().unwrap();
    let (edges, types) = (dir.path().join("edges.h5"), dir.path().join("types.csv"));
    let write = |group0: &[(&str, f64)], group1: &[(&str, f64)]| {
        let f = hdf5::File::create(&edges).unwrap();
        let g = f.create_group("edges/e").unwrap();
        g.new_dataset_builder().with_data(&[0u64, 1]).create("source_node_id").unwrap();
        g.new_dataset_builder().with_data(&[1u64, 0]).create("target_node_id").unwrap();
        g.new_dataset_builder().with_data(&[100u64, 100]).create("edge_type_id").unwrap();
        g.new_dataset_builder().with_data(&[1u64, 0]).create("edge_group_id").unwrap();
        g.new_dataset_builder().with_data(&[0u64, 0]).create("edge_group_index").unwrap();
        for (name, attributes) in [("0", group0), ("1", group1)] {
            let group = g.create_group(name).unwrap();
            for (attr, value) in attributes {
                group.new_dataset_builder().with_data(&[*value]).create(*attr).unwrap();
            }
        }
    };
    let overrides = ["simulation.duration_ms=300"];
    let explicit = spikes_on_cpu(&pair_with("{ rule = \"explicit\", pre = [1, 0], post = [0, 1], weight = [0.05, 0.3] }"), &overrides);
    let plain = pair_with(&format!("{{ rule = \"sonata\", edges = \"{}\" }}", edges.display()));
    let typed = pair_with(&format!("{{ rule = \"sonata\", edges = \"{}\", edge_types = \"{}\" }}", edges.display(), types.display()));
    // Each group stores its own edge's weight; an attribute only group 1 has is harmless unused.
    write(&[("syn_weight", 0.05)], &[("syn_weight", 0.3), ("afferent_section_pos", 0.5)]);
    assert_eq!(explicit, spikes_on_cpu(&plain, &overrides));
    let (config, _) = parsed(&plain, &[]);
    let e = config.resolved.edges[0].as_ref().unwrap();
    assert_eq!(e.attribute("syn_weight").unwrap(), [0.3, 0.05]);
    assert_eq!(e.first_without("afferent_section_pos"), Some(1));
    // A weight only one group stores is refused: the other edge would have none.
    write(&[], &[("syn_weight", 0.3)]);
    let e = ganglion::config::parse(&plain, &[]).expect_err("edge 1 has no weight").to_string();
    assert!(e.contains("projections.hh_hh.connectivity") && e.contains("edge 1 has no `syn_weight`"), "{e}");
    // Its type gives it one, and edge 0 keeps its own over its type's.
    std::fs::write(&types, "edge_type_id syn_weight\n100 0.05\n").unwrap();
    assert_eq!(explicit, spikes_on_cpu(&typed, &overrides));
}

/// A matrix's synapses as (source, target, weight), sorted.
fn synapse_triples(csr: &ganglion::connectivity::Csr) -> Vec<(u32, u32, f64)> {
    let mut v: Vec<(u32, u32, f64)> = (0..csr.n_rows)
        .flat_map(|t| (csr.row_ptr[t]..csr.row_ptr[t + 1]).map(move |k| (t, k as usize)))
        .map(|(t, k)| (csr.col_idx[k], t as u32, csr.weight(k)))
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

#[test]
fn a_network_bmtk_built_is_read_with_the_weights_bmtk_gives_it() {
    // tests/sonata/bmtk: a network BMTK 1.2.0's NetworkBuilder wrote (build.py): e → i edges
    // standing for 3 synapses each (nsyns in group 0) with their weight and delay on their
    // type, i → e edges with a weight each (group 1, no nsyns) and their delay on their type.
    // The weights and delays below are what read.py prints: each edge as bmtk.utils.sonata
    // reads it, weighed as BMTK's point-neuron simulator weighs it (syn_weight × nsyns, an
    // edge without nsyns one synapse).
    let bmtk: [(u32, u32, f64, f64); 12] = [
        (2, 0, -1.0, 2.0),
        (2, 0, -1.0, 2.0),
        (3, 0, -1.25, 2.0),
        (3, 0, -1.25, 2.0),
        (3, 1, -1.375, 2.0),
        (3, 1, -1.375, 2.0),
        (2, 1, -1.125, 2.0),
        (2, 1, -1.125, 2.0),
        (0, 2, 0.75, 2.0),
        (1, 2, 0.75, 2.0),
        (0, 3, 0.75, 2.0),
        (1, 3, 0.75, 2.0),
    ];
    let dir = repo_path("tests/sonata/bmtk/network");
    let text = format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 50.0
[populations.v1]
model = "lif"
size = {{ sonata_nodes = "{nodes}", population = "v1" }}
[projections.v1_v1]
source = "v1"
target = "v1"
synapse = "exp_curr"
params = {{ tau_ms = 5.0, delay_ms = 2.0 }}
connectivity = {{ rule = "sonata", edges = "{edges}", edge_types = "{types}", weight_scale = "nsyns" }}
[record]
spikes = ["v1"]
"#,
        nodes = dir.join("v1_nodes.h5").display(),
        edges = dir.join("v1_v1_edges.h5").display(),
        types = dir.join("v1_v1_edge_types.csv").display(),
    );
    let (config, net) = parsed(&text, &[]);
    assert_eq!(net.populations[0].size, 4);
    let csr = &net.projections[0].csr;
    let mut theirs: Vec<(u32, u32, f64)> = bmtk.iter().map(|&(s, t, w, _)| (s, t, w)).collect();
    theirs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(synapse_triples(csr), theirs);
    let e = config.resolved.edges[0].as_ref().unwrap();
    assert!(e.attribute("delay").unwrap().iter().all(|&d| d == 2.0));
    // One projection per edge type, each with synapses of its own (here its own time
    // constant), as BMTK's edge types carry their own synapse models.
    let by_type = text.replace("[projections.v1_v1]", "[projections.exc]").replace(
        "weight_scale = \"nsyns\" }",
        "weight_scale = \"nsyns\", edge_type_ids = [100] }",
    ) + &format!(
        "[projections.inh]\nsource = \"v1\"\ntarget = \"v1\"\nsynapse = \"exp_curr\"\nparams = {{ tau_ms = 10.0, delay_ms = 2.0 }}\n\
         connectivity = {{ rule = \"sonata\", edges = \"{}\", edge_types = \"{}\", edge_type_ids = [101] }}\n",
        dir.join("v1_v1_edges.h5").display(),
        dir.join("v1_v1_edge_types.csv").display(),
    );
    let (_, net) = parsed(&by_type, &[]);
    let (exc, inh): (Vec<_>, Vec<_>) = theirs.iter().partition(|&&(_, _, w)| w > 0.0);
    assert_eq!(synapse_triples(&net.projections[0].csr), exc);
    assert_eq!(synapse_triples(&net.projections[1].csr), inh);
    let missing = by_type.replace("edge_type_ids = [101]", "edge_type_ids = [101, 105]");
    let e = ganglion::config::parse(&missing, &[]).expect_err("no edge of type 105").to_string();
    assert!(e.contains("projections.inh.connectivity.edge_type_ids") && e.contains("no edge of `v1_to_v1` has edge_type_id 105"), "{e}");
    let none = by_type.replace("edge_type_ids = [101]", "edge_type_ids = []");
    let e = ganglion::config::parse(&none, &[]).expect_err("no types").to_string();
    assert!(e.contains("edge_type_ids") && e.contains("is empty"), "{e}");
    // BMTK's edges stand for several synapses: read without a word on it, they are refused.
    let unsaid = text.replace(", weight_scale = \"nsyns\"", "");
    let refused = ganglion::config::parse(&unsaid, &[]).expect_err("nsyns unsaid").to_string();
    assert!(refused.contains("up to 3 synapses per edge"), "{refused}");
}

#[test]
fn configs_of_one_edges_file_share_one_read_of_it() {
    // A sweep's instances are configs of their own: they hold one copy of the edges, not one each.
    let dir = tempfile::tempdir().unwrap();
    let edges = dir.path().join("edges.h5");
    write_edges(&edges, "e", &[1, 0], &[0, 1], &[("syn_weight", vec![0.1, 0.1])]);
    let text = pair_with(&format!("{{ rule = \"sonata\", edges = \"{}\" }}", edges.display()));
    let a = ganglion::config::parse(&text, &[]).unwrap();
    let b = ganglion::config::parse(&text, &["populations.hh.params.i_ext=7.0".into()]).unwrap();
    let (ea, eb) = (a.resolved.edges[0].as_ref().unwrap(), b.resolved.edges[0].as_ref().unwrap());
    assert!(std::sync::Arc::ptr_eq(ea, eb));
    // A file written again is read again, even while configs hold the old one.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write_edges(&edges, "e", &[1, 0], &[0, 1], &[("syn_weight", vec![0.3, 0.1])]);
    let c = ganglion::config::parse(&text, &[]).unwrap();
    assert_eq!(c.resolved.edges[0].as_ref().unwrap().attribute("syn_weight").unwrap(), [0.3, 0.1]);
    assert_eq!(ea.attribute("syn_weight").unwrap(), [0.1, 0.1]);
}

/// `tests/sonata/bmtk_nodes/network`, BMTK 1.2.0's nodes: three excitatory cells with x, y and
/// a tuning angle (group 0), two inhibitory ones with x and y (group 1), `tau_ms` on their
/// node types (20 and 10).
fn bmtk_cells(model_extra: &str, population_extra: &str) -> String {
    let dir = repo_path("tests/sonata/bmtk_nodes/network");
    format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 40.0
[models.cell]
equations = """
dv/dt = (1.5 - v)/(tau_ms*ms) : 1
tau_ms : 1
x : metre
y : 1
{model_extra}
"""
threshold = "v > 1"
reset = "v = 0"
[populations.cortex]
model = "cell"
size = {{ sonata_nodes = "{nodes}", node_types = "{types}" }}
{population_extra}
[record]
spikes = ["cortex"]
"#,
        nodes = dir.join("cortex_nodes.h5").display(),
        types = dir.join("cortex_node_types.csv").display(),
    )
}

#[test]
fn node_attributes_and_their_types_columns_initialise_the_variables_of_their_name() {
    // The groups' x and y, the types' tau_ms; `init` then rescales x (stored in µm) to metres.
    let text = bmtk_cells("", "init = { x = \"x*1e-6\" }");
    let (config, net) = parsed(&text, &[]);
    let init = &net.populations[0].init;
    let model = config.model(0).equations().unwrap();
    let column = |name: &str| init[model.slot(name).unwrap()].clone();
    assert_eq!(column("tau_ms"), [20.0, 20.0, 20.0, 10.0, 10.0]);
    assert_eq!(column("y"), [5.0, 5.0, 40.0, 20.0, 20.0]);
    let x = column("x");
    for (got, um) in x.iter().zip([0.0, 15.0, 30.0, 7.5, 22.5]) {
        assert!((got - um * 1e-6).abs() < 1e-18, "{x:?}");
    }
    // The inhibitory cells' shorter time constant: their first spikes come first, in the
    // steps that cross τ·ln 3 (21.97 and 10.99 ms).
    let plan = RecordPlan::from_config(&config);
    let spikes = run_in_memory(&net, &mut CpuBackend::<f64>::new(&net), &plan).spikes[0].clone();
    let first = |cell: u32| spikes.iter().find(|s| s.neuron == cell).map(|s| s.step).unwrap();
    assert_eq!([first(0), first(3)], [219, 109]);
    // The positions feed an expression rule: cells within 16 µm of each other, in x.
    let near = text.replace(
        "[record]",
        "[synapse_models.kick]\non_pre = \"v_post += 0.1\"\n[projections.near]\nsource = \"cortex\"\ntarget = \"cortex\"\nsynapse = \"kick\"\n\
         connectivity = { rule = \"expression\", condition = \"abs(x_pre - x_post) < 16*um and i != j\" }\n[record]",
    );
    let (_, net) = parsed(&near, &[]);
    assert_eq!(net.projections[0].n_synapses(), 14, "0–1, 0–3, 1–2, 1–3, 1–4, 2–4, 3–4, each way");
    // check says what it read.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cells.toml"), &text).unwrap();
    let (report, _) = app::check_report(&dir.path().join("cells.toml"), &[]).unwrap();
    assert!(report.contains("SONATA nodes `cortex`: initial values of x, y, tau_ms; attributes not read: tuning"), "{report}");
}

#[test]
fn nodes_that_cannot_initialise_a_variable_are_refused_naming_the_file_and_key() {
    let dir = repo_path("tests/sonata/bmtk_nodes/network");
    let refused = |text: &str| ganglion::config::parse(text, &[]).expect_err("refused").to_string();
    // The inhibitory cells' group has no tuning, and their types give none.
    let e = refused(&bmtk_cells("tuning : 1", ""));
    assert!(e.contains("populations.cortex.nodes") && e.contains("cortex_nodes.h5") && e.contains("node 3 has no `tuning`"), "{e}");
    // Nodes given apart from the size must be as many.
    let apart = bmtk_cells("", "").replace(
        &format!("size = {{ sonata_nodes = \"{}\", node_types = \"{}\" }}", dir.join("cortex_nodes.h5").display(), dir.join("cortex_node_types.csv").display()),
        &format!("size = 4\nnodes = {{ file = \"{}\" }}", dir.join("cortex_nodes.h5").display()),
    );
    let e = refused(&apart);
    assert!(e.contains("populations.cortex.nodes") && e.contains("5 nodes but the population's size is 4"), "{e}");
    // A types file that is not there.
    let e = refused(&apart.replace("size = 4", "size = 5").replace(".h5\" }", ".h5\", node_types = \"missing.csv\" }"));
    assert!(e.contains("populations.cortex.nodes.node_types") && e.contains("missing.csv"), "{e}");
    // The size's table and `nodes` name the file once.
    let e = refused(&bmtk_cells("", &format!("nodes = {{ file = \"{}\" }}", dir.join("cortex_nodes.h5").display())));
    assert!(e.contains("populations.cortex.nodes") && e.contains("given twice"), "{e}");
}

