//! `[sweep]`: keys are dotted config paths, values are lists; `mode = "grid"` (the cartesian
//! product, the first key varying slowest) or `"zip"` (lists of equal length, taken
//! together). Each point is a list of assignments, applied to the config as `--set`s are, so
//! that an instance is exactly the network its point describes.

use crate::error::{Error, Result};
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Grid,
    Zip,
}

/// The keys swept and the list of each.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub mode: Mode,
    pub keys: Vec<String>,
    pub lists: Vec<Vec<toml::Value>>,
}

/// The config key of a swept key, as errors name it.
pub fn key_path(key: &str) -> String {
    format!("sweep.\"{key}\"")
}

impl Sweep {
    /// Reads a `[sweep]` table; None where the config has none.
    pub fn from_config(config: &crate::config::Config) -> Result<Option<Sweep>> {
        config.sweep.as_ref().map(Sweep::from_table).transpose()
    }

    pub fn from_table(table: &toml::Table) -> Result<Sweep> {
        let mut mode = Mode::Grid;
        let mut keys = Vec::new();
        let mut lists = Vec::new();
        for (key, value) in table {
            match (key.as_str(), value) {
                ("mode", toml::Value::String(m)) if m == "grid" => mode = Mode::Grid,
                ("mode", toml::Value::String(m)) if m == "zip" => mode = Mode::Zip,
                ("mode", other) => {
                    return Err(Error::config("sweep.mode", format!("expected \"grid\" or \"zip\", got {other}")))
                }
                (key, _) if key.starts_with("sweep") => {
                    return Err(Error::config(key_path(key), "the sweep cannot sweep itself"))
                }
                (key, _) if key.starts_with("output") || key == "simulation.backend" || key == "simulation.adapter" => {
                    return Err(Error::config(
                        key_path(key),
                        "a sweep runs every instance on one backend into one file: set it outside [sweep]",
                    ))
                }
                (key, toml::Value::Array(list)) if list.is_empty() => {
                    return Err(Error::config(key_path(key), "is an empty list: give at least one value"))
                }
                (key, toml::Value::Array(list)) => {
                    keys.push(key.to_string());
                    lists.push(list.clone());
                }
                (key, other) => {
                    return Err(Error::config(
                        key_path(key),
                        format!("expected a list of values, got {other} (quote dotted keys: \"populations.hh.params.i_ext\" = [5.0, 7.0])"),
                    ))
                }
            }
        }
        if keys.is_empty() {
            return Err(Error::config("sweep", "sweeps no key: give \"dotted.config.key\" = [values]"));
        }
        if mode == Mode::Zip {
            if let Some(k) = lists.iter().position(|l| l.len() != lists[0].len()) {
                return Err(Error::config(
                    key_path(&keys[k]),
                    format!("has {} values but `{}` has {}: zip takes lists of equal length", lists[k].len(), keys[0], lists[0].len()),
                ));
            }
        }
        let sweep = Sweep { mode, keys, lists };
        if sweep.len() > u32::MAX as usize {
            return Err(Error::config("sweep", format!("{} instances: at most 2^32", sweep.len())));
        }
        Ok(sweep)
    }

    /// Whether every instance is sure to connect the same neurons: each swept key is a
    /// population's parameter or initial value, what is recorded, or a projection's one
    /// weight (a number), none the seed, a size, a drawn weight, a rule or the network's
    /// files. A GPU batch then stores its matrices once, and is sized so.
    pub fn keeps_connectivity(&self) -> bool {
        self.keys.iter().zip(&self.lists).all(|(key, list)| {
            let parts: Vec<&str> = key.split('.').collect();
            let numbers = all_numbers(list);
            match parts[..] {
                ["populations", _, "params" | "init", ..] | ["record", ..] => true,
                ["projections", _, "weight"] => numbers,
                _ => false,
            }
        })
    }

    /// The number of instances.
    pub fn len(&self) -> usize {
        match self.mode {
            Mode::Grid => self.lists.iter().map(Vec::len).product(),
            Mode::Zip => self.lists[0].len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Instance `k`'s value of each key.
    pub fn point(&self, k: usize) -> Vec<&toml::Value> {
        match self.mode {
            Mode::Zip => self.lists.iter().map(|l| &l[k]).collect(),
            Mode::Grid => {
                let mut rest = k;
                let mut point: Vec<&toml::Value> = self
                    .lists
                    .iter()
                    .rev()
                    .map(|l| {
                        let v = &l[rest % l.len()];
                        rest /= l.len();
                        v
                    })
                    .collect();
                point.reverse();
                point
            }
        }
    }

    /// Instance `k` as `--set` assignments.
    pub fn assignments(&self, k: usize) -> Vec<String> {
        self.keys.iter().zip(self.point(k)).map(|(key, v)| format!("{key}={v}")).collect()
    }

    /// The instances of part `k` of `m` (1-based): contiguous, sizes differing by at most one.
    pub fn slice(&self, part: Slice) -> Range<usize> {
        let n = self.len();
        let (k, m) = (part.k - 1, part.m);
        (k * n / m)..((k + 1) * n / m)
    }
}

/// `--slice K/M`: the K-th of M equal parts of the instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    pub k: usize,
    pub m: usize,
}

impl std::str::FromStr for Slice {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Slice, String> {
        let bad = || format!("`{s}`: expected K/M with 1 <= K <= M, e.g. 3/10");
        let (k, m) = s.split_once('/').ok_or_else(bad)?;
        let (k, m) = (k.trim().parse::<usize>().map_err(|_| bad())?, m.trim().parse::<usize>().map_err(|_| bad())?);
        if k == 0 || k > m {
            return Err(bad());
        }
        Ok(Slice { k, m })
    }
}

impl std::fmt::Display for Slice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.m)
    }
}

/// Whether every value of a swept key's list is a number.
pub(crate) fn all_numbers(list: &[toml::Value]) -> bool {
    list.iter().all(|v| v.is_integer() || v.is_float())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(text: &str) -> Result<Sweep> {
        Sweep::from_table(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn only_populations_parameters_initial_values_and_records_keep_the_connectivity() {
        let keeps = |text: &str| sweep(text).unwrap().keeps_connectivity();
        assert!(keeps("\"populations.hh.params.i_ext\" = [1, 2]\n\"populations.hh.init.v\" = [-60, -70]"));
        assert!(keeps("\"record.spikes\" = [[\"hh\"]]"));
        assert!(!keeps("\"populations.hh.params.i_ext\" = [1, 2]\n\"simulation.seed\" = [1, 2]"));
        assert!(!keeps("\"populations.hh.size\" = [10, 20]"));
        assert!(keeps("\"projections.hh_hh.weight\" = [0.1, 0.2]"));
        assert!(!keeps("\"projections.hh_hh.weight\" = [0.1, { uniform = [0.0, 0.2] }]"));
        assert!(!keeps("\"projections.hh_hh.connectivity.k\" = [10, 20]"));
    }

    #[test]
    fn a_grid_is_the_cartesian_product_with_the_first_key_slowest() {
        let s = sweep("a = [1, 2]\nb = [10, 20, 30]").unwrap();
        assert_eq!(s.len(), 6);
        assert_eq!(s.assignments(0), ["a=1", "b=10"]);
        assert_eq!(s.assignments(2), ["a=1", "b=30"]);
        assert_eq!(s.assignments(3), ["a=2", "b=10"]);
        assert_eq!(s.assignments(5), ["a=2", "b=30"]);
    }

    #[test]
    fn zip_takes_the_lists_together_and_needs_equal_lengths() {
        let s = sweep("mode = \"zip\"\na = [1, 2]\nb = [\"x\", \"y\"]").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.assignments(1), ["a=2", "b=\"y\""]);
        let e = sweep("mode = \"zip\"\na = [1, 2]\nb = [1]").unwrap_err().to_string();
        assert!(e.contains("sweep.\"b\"") && e.contains("equal length"), "{e}");
    }

    #[test]
    fn empty_lists_other_values_and_bad_modes_are_refused() {
        for (text, part) in [
            ("a = []", "empty list"),
            ("a = 3", "expected a list"),
            ("mode = \"random\"\na = [1]", "sweep.mode"),
            ("mode = \"grid\"", "sweeps no key"),
            ("\"simulation.backend\" = [\"cpu\", \"gpu\"]", "one backend"),
            ("\"output.path\" = [\"a.h5\"]", "one file"),
        ] {
            let e = sweep(text).unwrap_err().to_string();
            assert!(e.contains(part), "{text}: {e}");
        }
    }

    #[test]
    fn slices_cover_every_instance_once() {
        let s = sweep("a = [1, 2, 3, 4, 5, 6, 7]").unwrap();
        for m in 1..=9 {
            let parts: Vec<Range<usize>> = (1..=m).map(|k| s.slice(Slice { k, m })).collect();
            assert_eq!(parts[0].start, 0);
            assert_eq!(parts[m - 1].end, 7);
            assert!(parts.windows(2).all(|w| w[0].end == w[1].start));
            assert!(parts.iter().all(|p| p.len() <= 7usize.div_ceil(m)));
        }
        assert!("0/3".parse::<Slice>().is_err() && "4/3".parse::<Slice>().is_err() && "x".parse::<Slice>().is_err());
        assert_eq!("2/3".parse::<Slice>().unwrap(), Slice { k: 2, m: 3 });
    }
}
