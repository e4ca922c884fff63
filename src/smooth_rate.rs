//! Brian2's `PopulationRateMonitor.smooth_rate`: a recorded rate convolved with a Gaussian or
//! flat window, the window's size and shape as Brian2 2.9 makes them from its width.

use crate::config::{SmoothRateSpec, SmoothWindow};
use crate::error::{Error, Result};

/// A smoothing window, normalised to a sum of 1 (an odd number of steps, centred).
#[derive(Clone, Debug, PartialEq)]
pub struct Smoothing {
    /// `gaussian`, `flat`, or `array` (the config's own values).
    pub window: &'static str,
    /// The width used, in ms: a flat window's length in whole steps (an odd number of them,
    /// as Brian2 rounds it); the Gaussian's standard deviation as asked; an array's length.
    pub used_width_ms: f64,
    pub weights: Vec<f64>,
}

impl Smoothing {
    /// The window `spec` (config key `record.smooth_rate`) asks for at a step of `dt_ms`, over
    /// a run of `n_steps`: refused where its window is longer than the run (Brian2's
    /// `np.convolve` would return the window's length, not the rate's).
    pub fn new(spec: &SmoothRateSpec, dt_ms: f64, n_steps: u64) -> Result<Smoothing> {
        let key = |k: &str| format!("record.smooth_rate.{k}");
        let name = match (&spec.window, &spec.width) {
            (SmoothWindow::Values(values), None) => {
                let (window, weights, used) = own_window(values, dt_ms).map_err(|e| Error::config(key("window"), e))?;
                return Smoothing::normalised(window, weights, used, n_steps);
            }
            (SmoothWindow::Values(_), Some(_)) => return Err(Error::config(key("width"), "is for a named window: a window of its own values takes none (as Brian2)")),
            (SmoothWindow::Named(name), None) => return Err(Error::config(key("width"), format!("is needed by the `{name}` window (a time, \"5*ms\")"))),
            (SmoothWindow::Named(name), Some(_)) => name,
        };
        let width_ms = width_ms(spec.width.as_deref().unwrap_or_default()).map_err(|e| Error::config(key("width"), e))?;
        // Brian2 2.9's arithmetic, in its order: the Gaussian spans ±2 standard deviations
        // rounded to whole steps; the flat window int(width/2/dt)·2 + 1 steps.
        let (window, weights, used) = match name.as_str() {
            "gaussian" => {
                let sd = width_ms / dt_ms;
                let half = (2.0 * width_ms / dt_ms).round() as i64;
                let w = (-half..=half).map(|k| (-((k * k) as f64) / (2.0 * sd * sd)).exp()).collect();
                ("gaussian", w, width_ms)
            }
            "flat" => {
                let n = (width_ms / 2.0 / dt_ms).trunc() as usize * 2 + 1;
                ("flat", vec![1.0; n], n as f64 * dt_ms)
            }
            other => return Err(Error::config(key("window"), format!("unknown window `{other}`: Brian2's are \"gaussian\" and \"flat\", or a list of values"))),
        };
        Smoothing::normalised(window, weights, used, n_steps)
    }

    /// `weights` scaled to a sum of 1, as Brian2 scales them; refused where the window is
    /// longer than the run.
    fn normalised(window: &'static str, weights: Vec<f64>, used_width_ms: f64, n_steps: u64) -> Result<Smoothing> {
        if weights.len() as u64 > n_steps {
            let key = if window == "array" { "record.smooth_rate.window" } else { "record.smooth_rate.width" };
            return Err(Error::config(
                key,
                format!("makes a window of {} steps, longer than the run's {n_steps}: Brian2 would return the window's length of rate", weights.len()),
            ));
        }
        let sum: f64 = weights.iter().sum();
        Ok(Smoothing { window, used_width_ms, weights: weights.iter().map(|w| w * 1.0 / sum).collect() })
    }

    /// `rate` smoothed: numpy's `convolve(rate, window, mode="same")`, the window centred on
    /// each step and cut at the ends. Steps × window points of work, in parallel.
    pub fn apply(&self, rate: &[f64]) -> Vec<f64> {
        use rayon::prelude::*;
        let m = self.weights.len();
        let half = (m - 1) / 2;
        (0..rate.len())
            .into_par_iter()
            .map(|n| {
                let mut sum = 0.0;
                for (k, w) in self.weights.iter().enumerate() {
                    // rate[n + half − k], where it is within the rate.
                    if let Some(x) = (n + half).checked_sub(k).and_then(|i| rate.get(i)) {
                        sum += w * x;
                    }
                }
                sum
            })
            .collect()
    }
}

/// Brian2's array window: an odd number of finite values (centred on each step) whose sum
/// is not 0, its span in ms.
fn own_window(values: &[f64], dt_ms: f64) -> std::result::Result<(&'static str, Vec<f64>, f64), String> {
    if values.len() % 2 != 1 {
        return Err(format!("has {} values: a window needs an odd number of them (as Brian2), so that it is centred on each step", values.len()));
    }
    if let Some(k) = values.iter().position(|x| !x.is_finite()) {
        return Err(format!("value {k} is not finite"));
    }
    let sum: f64 = values.iter().sum();
    if sum == 0.0 || !sum.is_finite() {
        return Err(format!("its values sum to {sum}: a window is scaled to a sum of 1"));
    }
    // Its span, rid of the float rounding of n·dt (0.30000000000000004 for 3 × 0.1).
    let span = (values.len() as f64 * dt_ms * 1e12).round() / 1e12;
    Ok(("array", values.to_vec(), span))
}

/// `text`, a time ("5*ms"), in ms; it must be more than 0.
fn width_ms(text: &str) -> std::result::Result<f64, String> {
    use crate::equations::{check::Scope, dims::Dim, parse};
    let e = parse::expression(text).map_err(|e| e.to_string())?;
    let q = Scope::with_builtins().value(&e).map_err(|e| e.to_string())?;
    if q.dim != Dim::SECOND {
        return Err(format!("must be a time such as \"5*ms\", got a {} value", q.dim));
    }
    if !(q.value > 0.0 && q.value.is_finite()) {
        return Err(format!("must be more than 0 s and finite, got {} s", q.value));
    }
    Ok(q.value * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(window: &str, width: &str) -> SmoothRateSpec {
        SmoothRateSpec { window: SmoothWindow::Named(window.into()), width: Some(width.into()) }
    }

    fn own(values: &[f64]) -> SmoothRateSpec {
        SmoothRateSpec { window: SmoothWindow::Values(values.to_vec()), width: None }
    }

    #[test]
    fn windows_are_brian2s_sizes_and_the_ends_are_cut_as_numpys_same_convolution() {
        let g = Smoothing::new(&spec("gaussian", "0.2*ms"), 0.1, 30).unwrap();
        assert_eq!(g.weights.len(), 9);
        assert!((g.weights.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        // Brian2 2.9 truncates a flat width: 0.45 ms of 0.1 ms steps is int(2.25)·2 + 1 = 5.
        let f = Smoothing::new(&spec("flat", "0.45*ms"), 0.1, 30).unwrap();
        assert_eq!((f.weights.len(), f.used_width_ms), (5, 0.5));
        assert_eq!(f.apply(&[5.0, 0.0, 0.0, 0.0, 0.0, 0.0]), [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(f.apply(&[0.0, 0.0, 0.0, 0.0, 0.0, 5.0]), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn a_window_of_ones_own_values_is_scaled_to_a_sum_of_1_and_centred() {
        let w = Smoothing::new(&own(&[1.0, 2.0, 1.0]), 0.1, 30).unwrap();
        assert_eq!((w.window, w.weights.as_slice(), w.used_width_ms), ("array", &[0.25, 0.5, 0.25][..], 0.3));
        // numpy's convolve flips the window: an asymmetric one leans as numpy's does.
        let lean = Smoothing::new(&own(&[0.0, 0.0, 4.0]), 0.1, 30).unwrap();
        assert_eq!(lean.apply(&[0.0, 3.0, 0.0, 0.0]), [0.0, 0.0, 3.0, 0.0]);
    }

    #[test]
    fn bad_windows_are_refused_naming_the_key() {
        let at = "record.smooth_rate";
        for (spec, key, message) in [
            (own(&[1.0, 1.0]), "window", "has 2 values: a window needs an odd number"),
            (own(&[]), "window", "has 0 values"),
            (own(&[1.0, -1.0, 0.0]), "window", "sum to 0"),
            (own(&[1.0, f64::NAN, 1.0]), "window", "value 1 is not finite"),
            (own(&[1.0; 31]), "window", "a window of 31 steps, longer than the run's 30"),
            (SmoothRateSpec { window: SmoothWindow::Values(vec![1.0]), width: Some("1*ms".into()) }, "width", "takes none"),
            (SmoothRateSpec { window: SmoothWindow::Named("flat".into()), width: None }, "width", "is needed by the `flat` window"),
        ] {
            let e = Smoothing::new(&spec, 0.1, 30).unwrap_err().to_string();
            assert!(e.contains(&format!("{at}.{key}")) && e.contains(message), "{spec:?}: {e}");
        }
        for (window, width, key, message) in [
            ("box", "1*ms", "record.smooth_rate.window", "unknown window `box`"),
            ("flat", "1*mV", "record.smooth_rate.width", "must be a time"),
            ("flat", "0*ms", "record.smooth_rate.width", "more than 0"),
            ("flat", "-1*ms", "record.smooth_rate.width", "more than 0"),
            ("flat", "1*", "record.smooth_rate.width", "line 1"),
            ("gaussian", "1*ms", "record.smooth_rate.width", "a window of 41 steps, longer than the run's 30"),
        ] {
            let e = Smoothing::new(&spec(window, width), 0.1, 30).unwrap_err().to_string();
            assert!(e.contains(key) && e.contains(message), "{window} {width}: {e}");
        }
    }
}
