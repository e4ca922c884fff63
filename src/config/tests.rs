use super::*;

pub const PAIR: &str = r#"
[simulation]
dt_ms = 0.01
duration_ms = 10.0

[populations.hh]
model = "hh"
size = 2
params = { i_ext = 10.0 }
init = { v = -65.0 }

[projections.hh_hh]
source = "hh"
target = "hh"
synapse = "graded"
weight = 0.1
connectivity = { rule = "all_to_all", autapses = false }

[record]
spikes = ["hh"]
traces = [{ population = "hh", variables = ["v", "s"] }]
"#;

fn err(text: &str, overrides: &[&str]) -> String {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    parse(text, &o)
        .expect_err("config should be rejected")
        .to_string()
}

#[test]
fn the_pair_parses() {
    let c = parse(PAIR, &[]).unwrap();
    assert_eq!(c.populations["hh"].size, 2);
    assert_eq!(c.simulation.seed, 1);
}

#[test]
fn overrides_replace_values_and_reach_nested_tables() {
    let o = [
        "populations.hh.params.i_ext=7".to_string(),
        "simulation.duration_ms=200".to_string(),
    ];
    let c = parse(PAIR, &o).unwrap();
    assert_eq!(c.populations["hh"].params["i_ext"].as_integer(), Some(7));
    assert_eq!(c.simulation.duration_ms, 200.0);
}

#[test]
fn unknown_keys_are_named() {
    let e = err(PAIR, &["simulation.dtt_ms=0.1"]);
    assert!(e.contains("simulation") && e.contains("dtt_ms"), "{e}");
    let e = err(&PAIR.replace("size = 2", "size = 2\nsizee = 3"), &[]);
    assert!(e.contains("populations.hh") && e.contains("sizee"), "{e}");
}

#[test]
fn wrong_types_and_negative_sizes_are_named() {
    let e = err(PAIR, &["populations.hh.size=-5"]);
    assert!(e.contains("populations.hh.size"), "{e}");
    let e = err(PAIR, &["simulation.dt_ms=\"fast\""]);
    assert!(e.contains("simulation.dt_ms"), "{e}");
}

#[test]
fn zero_sizes_and_nonpositive_dt_are_rejected() {
    assert!(err(PAIR, &["populations.hh.size=0"]).contains("populations.hh.size"));
    assert!(err(PAIR, &["simulation.dt_ms=-0.01"]).contains("simulation.dt_ms"));
    assert!(err(PAIR, &["simulation.duration_ms=0"]).contains("simulation.duration_ms"));
}

#[test]
fn references_to_missing_populations_are_named() {
    assert!(err(PAIR, &["projections.hh_hh.source=ghost"]).contains("projections.hh_hh.source"));
    assert!(err(PAIR, &["record.spikes=[\"ghost\"]"]).contains("record.spikes[0]"));
    let e = err(
        PAIR,
        &["record.traces=[{population=\"hh\",variables=[\"q\"]}]"],
    );
    assert!(
        e.contains("record.traces[0].variables") && e.contains("`q`"),
        "{e}"
    );
}

#[test]
fn unknown_models_and_rules_are_named() {
    let e = err(PAIR, &["populations.hh.model=izhikevich"]);
    assert!(
        e.contains("populations.hh.model") && e.contains("izhikevich"),
        "{e}"
    );
    let e = err(
        PAIR,
        &["projections.hh_hh.connectivity={rule=\"small_world\"}"],
    );
    assert!(e.contains("projections.hh_hh.connectivity"), "{e}");
}

#[test]
fn connectivity_ranges_are_checked() {
    let e = err(
        PAIR,
        &["projections.hh_hh.connectivity={rule=\"fixed_indegree\",k=2,autapses=false}"],
    );
    assert!(e.contains("connectivity.k"), "{e}");
    let e = err(
        PAIR,
        &["projections.hh_hh.connectivity={rule=\"fixed_probability\",p=1.5}"],
    );
    assert!(e.contains("connectivity.p"), "{e}");
    let e = err(
        PAIR,
        &["projections.hh_hh.connectivity={rule=\"explicit\",pre=[0,5],post=[1,0]}"],
    );
    assert!(e.contains("connectivity.pre"), "{e}");
}

#[test]
fn init_lists_must_match_the_size() {
    let e = err(PAIR, &["populations.hh.init.v=[-65.0]"]);
    assert!(e.contains("populations.hh.init.v"), "{e}");
    let e = err(PAIR, &["populations.hh.init.q=1.0"]);
    assert!(e.contains("populations.hh.init.q"), "{e}");
}

#[test]
fn model_parameters_are_checked_by_name() {
    let e = err(PAIR, &["populations.hh.params.i_extt=1"]);
    assert!(
        e.contains("populations.hh.params") && e.contains("i_extt"),
        "{e}"
    );
    let e = err(PAIR, &["projections.hh_hh.params.w=0"]);
    assert!(e.contains("projections.hh_hh.params.w"), "{e}");
}

#[test]
fn synapses_must_fit_their_populations() {
    let lif = ["populations.hh.model=\"lif\"", "populations.hh.params={}"];
    let e = err(PAIR, &lif);
    assert!(
        e.contains("projections.hh_hh.synapse") && e.contains("`lif`"),
        "{e}"
    );
    let e = err(PAIR, &["projections.hh_hh.g0=1.0"]);
    assert!(e.contains("projections.hh_hh.g0"), "{e}");
    let exp = [
        "projections.hh_hh.synapse=\"exp_cond\"",
        "projections.hh_hh.params={ tau_ms = 5.0, e_rev = 0.0 }",
    ];
    assert!(parse(PAIR, &exp.map(String::from)).is_ok());
    let e = err(
        PAIR,
        &[
            exp[0],
            "projections.hh_hh.params={ tau_ms = -5.0, e_rev = 0.0 }",
        ],
    );
    assert!(e.contains("projections.hh_hh.params.tau_ms"), "{e}");
    let e = err(PAIR, &[exp[0], "projections.hh_hh.params={ tau_ms = 5.0 }"]);
    assert!(
        e.contains("projections.hh_hh.params") && e.contains("e_rev"),
        "{e}"
    );
}

#[test]
fn weights_are_a_number_or_a_distribution() {
    for ok in [
        "0.5",
        "{ uniform = [0.0, 0.2] }",
        "{ normal = [0.1, 0.02] }",
    ] {
        assert!(
            parse(PAIR, &[format!("projections.hh_hh.weight={ok}")]).is_ok(),
            "{ok}"
        );
    }
    for bad in [
        "{ uniform = [0.2, 0.0] }",
        "{ normal = [0.1, -1.0] }",
        "{ poisson = 3 }",
        "\"heavy\"",
    ] {
        let e = err(PAIR, &[&format!("projections.hh_hh.weight={bad}")]);
        assert!(e.contains("projections.hh_hh.weight"), "{bad}: {e}");
    }
}

#[test]
fn every_non_finite_number_is_rejected_with_its_key() {
    for (set, key) in [
        ("populations.hh.params.i_ext=inf", "populations.hh.params.i_ext"),
        ("populations.hh.params.g_na=nan", "populations.hh.params.g_na"),
        ("populations.hh.init.v=nan", "populations.hh.init.v"),
        ("populations.hh.init.v=[-65.0, -inf]", "populations.hh.init.v[1]"),
        ("projections.hh_hh.weight=nan", "projections.hh_hh.weight"),
        (
            "projections.hh_hh.connectivity={rule=\"explicit\",pre=[0,1],post=[1,0],weight=[0.1,nan]}",
            "projections.hh_hh.connectivity.weight[1]",
        ),
        ("simulation.dt_ms=inf", "simulation.dt_ms"),
    ] {
        let e = err(PAIR, &[set]);
        assert!(e.contains(&format!("`{key}`")) && e.contains("finite"), "{set}: {e}");
    }
    let lif = [
        "populations.hh.model=\"lif\"",
        "populations.hh.params={ v_th = nan }",
        "projections={}",
    ];
    let e = err(PAIR, &lif);
    assert!(e.contains("populations.hh.params.v_th"), "{e}");
}

#[test]
fn a_duration_must_be_a_whole_number_of_steps_and_at_least_one() {
    let e = err(PAIR, &["simulation.duration_ms=5.005"]);
    assert!(e.contains("simulation.duration_ms") && e.contains("5 or 5.01 ms"), "{e}");
    let e = err(PAIR, &["simulation.duration_ms=1.0", "simulation.dt_ms=0.3"]);
    assert!(e.contains("0.9 or 1.2 ms"), "{e}");
    let e = err(PAIR, &["simulation.duration_ms=0.001"]);
    assert!(e.contains("shorter than one step"), "{e}");
    // Decimal steps that are whole up to rounding pass.
    for (dt, t) in [("0.1", "1000.0"), ("0.01", "0.07"), ("0.3", "0.9")] {
        let o = [format!("simulation.dt_ms={dt}"), format!("simulation.duration_ms={t}")];
        assert!(parse(PAIR, &o).is_ok(), "{dt} {t}");
    }
}

#[test]
fn population_and_projection_names_are_identifiers() {
    for bad in ["a/b", "", "..", ".", "1st", "with space"] {
        let o = format!("populations={{\"{bad}\"={{model=\"hh\",size=2}}}}");
        let e = err(PAIR, &[&o, "projections={}", "record={}"]);
        assert!(e.contains("populations.") && e.contains("not a valid population name"), "{bad}: {e}");
    }
    let o = "projections={\"x.y\"={source=\"hh\",target=\"hh\",synapse=\"graded\",connectivity={rule=\"one_to_one\"}}}";
    let e = err(PAIR, &[o]);
    assert!(e.contains("not a valid projection name"), "{e}");
    assert!(is_identifier("exc_2") && is_identifier("_x") && !is_identifier("2x"));
}

#[test]
fn what_the_output_would_hold_twice_or_empty_is_rejected_before_any_file() {
    let e = err(PAIR, &["record.traces=[{population=\"hh\",variables=[\"v\",\"v\"]}]"]);
    assert!(e.contains("record.traces[0].variables") && e.contains("twice"), "{e}");
    let e = err(
        PAIR,
        &["record.traces=[{population=\"hh\",variables=[\"v\"]},{population=\"hh\",variables=[\"m\",\"v\"]}]"],
    );
    assert!(e.contains("record.traces[1].variables") && e.contains("record.traces[0]"), "{e}");
    let e = err(PAIR, &["record.traces=[{population=\"hh\",variables=[\"v\"],neurons=[]}]"]);
    assert!(e.contains("record.traces[0].neurons") && e.contains("empty"), "{e}");
    let e = err(PAIR, &["record.traces=[{population=\"hh\",variables=[\"v\"],neurons=[1,1]}]"]);
    assert!(e.contains("record.traces[0].neurons") && e.contains("twice"), "{e}");
    let e = err(PAIR, &["record.spikes=[\"hh\",\"hh\"]"]);
    assert!(e.contains("record.spikes[1]"), "{e}");
}

#[test]
fn malformed_overrides_are_reported() {
    assert!(err(PAIR, &["simulation.dt_ms"]).contains("key.path=value"));
    assert!(err(PAIR, &["simulation.dt_ms.x=1"]).contains("simulation.dt_ms"));
}
