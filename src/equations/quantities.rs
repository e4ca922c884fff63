//! Brian2's unit names: every SI unit by its name and symbol, with the SI prefixes (`mV`,
//! `mvolt`, `nA`, `uS`, `pF`, `Mohm`, `ms`, `kHz`, `umetre`, `um`, `mM`), squares and cubes of
//! lengths (`cm2`, `umetre3`), and the dimensionless constants `pi`, `e` and `inf`.

use super::dims::Dim;
use std::ops::{Div, Mul};

/// A value with its dimension, in SI.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub dim: Dim,
}

impl Quantity {
    pub const fn new(value: f64, dim: Dim) -> Quantity {
        Quantity { value, dim }
    }
}

const PREFIXES: [(&str, f64); 20] = [
    ("da", 1e1),
    ("y", 1e-24),
    ("z", 1e-21),
    ("a", 1e-18),
    ("f", 1e-15),
    ("p", 1e-12),
    ("n", 1e-9),
    ("u", 1e-6),
    ("m", 1e-3),
    ("c", 1e-2),
    ("d", 1e-1),
    ("h", 1e2),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
    ("Z", 1e21),
    ("Y", 1e24),
];

/// (name, symbol, value of one in SI, dimension) of every unit that takes prefixes. The gram
/// is here so that `kg` and `kilogram` come out of the prefix rule.
fn units() -> [(&'static str, &'static str, f64, Dim); 16] {
    let m = Dim::METRE;
    let kg = Dim::KILOGRAM;
    let s = Dim::SECOND;
    let a = Dim::AMPERE;
    let pow = |d: Dim, p: f64| d.pow(p).unwrap_or(Dim::ONE);
    let volt = kg.mul(pow(m, 2.0)).div(pow(s, 3.0)).div(a);
    let ohm = volt.div(a);
    let coulomb = a.mul(s);
    let joule = kg.mul(pow(m, 2.0)).div(pow(s, 2.0));
    [
        ("metre", "m", 1.0, m),
        ("meter", "m", 1.0, m),
        ("gram", "g", 1e-3, kg),
        ("second", "s", 1.0, s),
        ("amp", "A", 1.0, a),
        ("ampere", "A", 1.0, a),
        ("kelvin", "K", 1.0, Dim::KELVIN),
        ("mole", "mol", 1.0, Dim::MOLE),
        ("volt", "V", 1.0, volt),
        ("ohm", "ohm", 1.0, ohm),
        ("siemens", "S", 1.0, Dim::ONE.div(ohm)),
        ("farad", "F", 1.0, coulomb.div(volt)),
        ("coulomb", "C", 1.0, coulomb),
        ("hertz", "Hz", 1.0, Dim::ONE.div(s)),
        ("joule", "J", 1.0, joule),
        // mol/l: a molar is 1000 mol/m³.
        ("molar", "M", 1e3, Dim::MOLE.div(pow(m, 3.0))),
    ]
}

/// The unnamed-prefix part of `name` that is a unit, with the prefix's factor.
fn split_prefix(name: &str) -> impl Iterator<Item = (f64, &str)> {
    std::iter::once((1.0, name)).chain(
        PREFIXES
            .iter()
            .filter_map(move |(p, f)| name.strip_prefix(p).map(|rest| (*f, rest))),
    )
}

/// The unit or constant `name` means, if any.
pub fn lookup(name: &str) -> Option<Quantity> {
    match name {
        "pi" => return Some(Quantity::new(std::f64::consts::PI, Dim::ONE)),
        "e" => return Some(Quantity::new(std::f64::consts::E, Dim::ONE)),
        "inf" => return Some(Quantity::new(f64::INFINITY, Dim::ONE)),
        "kg" | "kilogram" => return Some(Quantity::new(1.0, Dim::KILOGRAM)),
        "litre" | "liter" | "l" => return Some(Quantity::new(1e-3, Dim::METRE.pow(3.0)?)),
        _ => {}
    }
    // A length squared or cubed: cm2, umetre3.
    let (base, power) = match name.strip_suffix('2').or(name.strip_suffix('3')) {
        Some(stem) if name.ends_with('2') => (stem, 2.0),
        Some(stem) => (stem, 3.0),
        None => (name, 1.0),
    };
    for (factor, rest) in split_prefix(base) {
        for (long, short, one, dim) in units() {
            let is_length = dim == Dim::METRE;
            if (rest == long || rest == short) && (power == 1.0 || is_length) {
                // The gram's prefixes: `mg` is 1e-6 kg; `m` alone is the metre.
                return Some(Quantity::new((factor * one).powf(power), dim.pow(power)?));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str) -> Quantity {
        lookup(name).unwrap_or_else(|| panic!("{name}"))
    }

    #[test]
    fn prefixed_names_and_symbols() {
        let volt = q("volt").dim;
        for (name, value) in [("mV", 1e-3), ("mvolt", 1e-3), ("uV", 1e-6), ("kV", 1e3)] {
            assert_eq!(q(name), Quantity::new(value, volt), "{name}");
        }
        assert_eq!(q("nA").value, 1e-9);
        assert_eq!(q("pF").dim.to_string(), "farad");
        assert_eq!(q("uS").dim.to_string(), "siemens");
        assert_eq!(q("Mohm").value, 1e6);
        assert_eq!(q("ms"), Quantity::new(1e-3, Dim::SECOND));
        assert_eq!(q("kHz").value, 1e3);
        assert_eq!(
            q("mM"),
            Quantity::new(1.0, Dim::MOLE.div(Dim::METRE.pow(3.0).unwrap()))
        );
        assert_eq!(q("kg"), Quantity::new(1.0, Dim::KILOGRAM));
        assert_eq!(
            q("m"),
            Quantity::new(1.0, Dim::METRE),
            "the metre, not a milli-"
        );
        assert_eq!(q("dam").value, 10.0);
        assert!(lookup("mfoo").is_none() && lookup("volts").is_none());
    }

    #[test]
    fn squared_and_cubed_lengths() {
        let cm2 = q("cm2");
        assert!((cm2.value - 1e-4).abs() < 1e-18);
        assert_eq!(cm2.dim, Dim::METRE.pow(2.0).unwrap());
        assert!((q("umetre3").value - 1e-18).abs() < 1e-30);
        assert!(lookup("mV2").is_none(), "only lengths take 2 and 3");
    }
}
