//! Brian2's `PopulationRateMonitor.smooth_rate`: a recorded rate convolved with a Gaussian or
//! flat window, the window's size and shape as Brian2 2.9 makes them from its width.

use crate::config::SmoothRateSpec;
use crate::error::{Error, Result};

/// A smoothing window, normalised to a sum of 1 (an odd number of steps, centred).
#[derive(Clone, Debug, PartialEq)]
pub struct Smoothing {
    /// `gaussian` or `flat`.
    pub window: &'static str,
    /// The width asked for, in ms: a Gaussian's standard deviation, a flat window's length.
    pub width_ms: f64,
    /// The width used, in ms: a flat window's length in whole steps (an odd number of them,
    /// as Brian2 rounds it); the Gaussian's standard deviation as asked.
    pub used_width_ms: f64,
    pub weights: Vec<f64>,
}

impl Smoothing {
    /// The window `spec` (config key `record.smooth_rate`) asks for at a step of `dt_ms`, over
    /// a run of `n_steps`: refused where its window is longer than the run (Brian2's
    /// `np.convolve` would return the window's length, not the rate's).
    pub fn new(spec: &SmoothRateSpec, dt_ms: f64, n_steps: u64) -> Result<Smoothing> {
        let key = |k: &str| format!("record.smooth_rate.{k}");
        let width_ms = width_ms(&spec.width).map_err(|e| Error::config(key("width"), e))?;
        // Brian2 2.9's arithmetic, in its order: the Gaussian spans ±2 standard deviations
        // rounded to whole steps; the flat window int(width/2/dt)·2 + 1 steps.
        let (window, weights, used) = match spec.window.as_str() {
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
            other => return Err(Error::config(key("window"), format!("unknown window `{other}`: Brian2's are \"gaussian\" and \"flat\""))),
        };
        if weights.len() as u64 > n_steps {
            return Err(Error::config(
                key("width"),
                format!("makes a window of {} steps, longer than the run's {n_steps}: Brian2 would return the window's length of rate", weights.len()),
            ));
        }
        let sum: f64 = weights.iter().sum();
        Ok(Smoothing { window, width_ms, used_width_ms: used, weights: weights.iter().map(|w| w * 1.0 / sum).collect() })
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
        SmoothRateSpec { window: window.into(), width: width.into() }
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
    fn bad_windows_are_refused_naming_the_key() {
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
