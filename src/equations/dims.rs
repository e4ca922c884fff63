//! Physical dimensions as Brian2 checks them: exponents of the seven SI base units. Exponents
//! are kept in halves, because white noise `xi` has dimension s^-1/2.

use std::fmt;

/// The SI base units, in the order of a `Dim`'s exponents.
pub const BASE: [&str; 7] = ["m", "kg", "s", "A", "K", "mol", "cd"];

/// A dimension: twice the exponent of each SI base unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dim([i16; 7]);

impl Dim {
    pub const ONE: Dim = Dim([0; 7]);

    /// Base unit `k` (index into `BASE`) to the power 1.
    pub const fn base(k: usize) -> Dim {
        let mut e = [0i16; 7];
        e[k] = 2;
        Dim(e)
    }

    pub const METRE: Dim = Dim::base(0);
    pub const KILOGRAM: Dim = Dim::base(1);
    pub const SECOND: Dim = Dim::base(2);
    pub const AMPERE: Dim = Dim::base(3);
    pub const KELVIN: Dim = Dim::base(4);
    pub const MOLE: Dim = Dim::base(5);
    pub const CANDELA: Dim = Dim::base(6);

    pub fn is_dimensionless(self) -> bool {
        self == Dim::ONE
    }


    /// To the power `p`, where every exponent stays a multiple of one half; None otherwise.
    pub fn pow(self, p: f64) -> Option<Dim> {
        let mut out = [0i16; 7];
        for (o, e) in out.iter_mut().zip(self.0) {
            let twice = e as f64 * p;
            if (twice - twice.round()).abs() > 1e-9 || twice.abs() > i16::MAX as f64 {
                return None;
            }
            *o = twice.round() as i16;
        }
        Some(Dim(out))
    }

    /// The square root, where it is a dimension.
    pub fn sqrt(self) -> Option<Dim> {
        self.pow(0.5)
    }
}

impl std::ops::Mul for Dim {
    type Output = Dim;
    fn mul(self, other: Dim) -> Dim {
        Dim(std::array::from_fn(|k| self.0[k] + other.0[k]))
    }
}

impl std::ops::Div for Dim {
    type Output = Dim;
    fn div(self, other: Dim) -> Dim {
        Dim(std::array::from_fn(|k| self.0[k] - other.0[k]))
    }
}

/// Named derived dimensions, for messages: the first whose dimension matches is used.
const NAMED: [(&str, [i16; 7]); 10] = [
    ("volt", [4, 2, -6, -2, 0, 0, 0]),
    ("amp", [0, 0, 0, 2, 0, 0, 0]),
    ("siemens", [-4, -2, 6, 4, 0, 0, 0]),
    ("farad", [-4, -2, 8, 4, 0, 0, 0]),
    ("ohm", [4, 2, -6, -4, 0, 0, 0]),
    ("second", [0, 0, 2, 0, 0, 0, 0]),
    ("hertz", [0, 0, -2, 0, 0, 0, 0]),
    ("metre", [2, 0, 0, 0, 0, 0, 0]),
    ("coulomb", [0, 0, 2, 2, 0, 0, 0]),
    ("molar", [-6, 0, 0, 0, 0, 2, 0]),
];

impl fmt::Display for Dim {
    /// `1` for dimensionless, a derived unit's name where one fits (`volt`), else the base
    /// units with their exponents (`m^2 kg s^-3 A^-1`, `s^-1/2`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_dimensionless() {
            return f.write_str("1");
        }
        if let Some((name, _)) = NAMED.iter().find(|(_, e)| *e == self.0) {
            return f.write_str(name);
        }
        let parts: Vec<String> = BASE
            .iter()
            .zip(self.0)
            .filter(|(_, e)| *e != 0)
            .map(|(u, e)| match (e % 2 == 0, e / 2) {
                (true, 1) => u.to_string(),
                (true, p) => format!("{u}^{p}"),
                (false, _) => format!("{u}^{e}/2"),
            })
            .collect();
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::{Div, Mul};

    #[test]
    fn products_powers_and_names() {
        let volt = Dim::KILOGRAM
            .mul(Dim::METRE.pow(2.0).unwrap())
            .div(Dim::SECOND.pow(3.0).unwrap())
            .div(Dim::AMPERE);
        assert_eq!(volt.to_string(), "volt");
        assert_eq!(volt.div(volt), Dim::ONE);
        assert_eq!(Dim::ONE.to_string(), "1");
        let xi = Dim::SECOND.pow(-0.5).unwrap();
        assert_eq!(xi.to_string(), "s^-1/2");
        assert_eq!(xi.mul(xi), Dim::SECOND.pow(-1.0).unwrap());
        assert_eq!(
            Dim::METRE.pow(2.0).unwrap().mul(Dim::KILOGRAM).to_string(),
            "m^2 kg"
        );
        assert!(Dim::SECOND.pow(1.0 / 3.0).is_none());
        assert_eq!(Dim::SECOND.pow(-1.0).unwrap().sqrt(), Some(xi));
    }
}
