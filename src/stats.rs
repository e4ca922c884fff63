//! Spike and trace statistics (the tutorial's): rates, ISI mean and CV, Fano factor, silent
//! neurons, trace moments and histograms. Library functions first; `from_file` reads an
//! output file for `ganglion stats`.

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct SpikeStats {
    pub population: String,
    pub neurons: usize,
    pub spikes: usize,
    pub duration_ms: f64,
    /// Spikes per neuron per second, over all neurons.
    pub mean_rate_hz: f64,
    /// Mean ISI over all intervals of all neurons, ms (NaN without any interval).
    pub isi_mean_ms: f64,
    /// Per-neuron coefficient of variation of the ISIs, averaged over neurons with at least
    /// two intervals (NaN if none).
    pub isi_cv: f64,
    /// Per-neuron variance/mean of spike counts in whole windows of `window_ms`, averaged over
    /// neurons that fired in them (NaN if none, or if the run holds fewer than two windows).
    pub fano: f64,
    pub window_ms: f64,
    pub silent_fraction: f64,
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn variance(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / x.len() as f64
}

/// Statistics of one population's spikes: `spikes` are (time ms, neuron) pairs in any order.
pub fn spike_stats(
    population: &str,
    neurons: usize,
    duration_ms: f64,
    spikes: &[(f64, u64)],
    window_ms: f64,
) -> SpikeStats {
    let mut trains = vec![Vec::new(); neurons];
    for &(t, id) in spikes {
        if let Some(train) = trains.get_mut(id as usize) {
            train.push(t);
        }
    }
    let mut isis = Vec::new();
    let mut cvs = Vec::new();
    let mut fanos = Vec::new();
    // Only whole windows count: a partial last window would bias the variance.
    let n_windows = (duration_ms / window_ms).floor() as usize;
    for train in &mut trains {
        train.sort_by(|a, b| a.total_cmp(b));
        let own: Vec<f64> = train.windows(2).map(|w| w[1] - w[0]).collect();
        if own.len() >= 2 {
            cvs.push(variance(&own).sqrt() / mean(&own));
        }
        isis.extend_from_slice(&own);
        if !train.is_empty() && n_windows >= 2 {
            let mut counts = vec![0.0; n_windows];
            for &t in train.iter() {
                if let Some(c) = counts.get_mut((t / window_ms) as usize) {
                    *c += 1.0;
                }
            }
            let m = mean(&counts);
            if m > 0.0 {
                fanos.push(variance(&counts) / m);
            }
        }
    }
    let silent = trains.iter().filter(|t| t.is_empty()).count();
    SpikeStats {
        population: population.to_string(),
        neurons,
        spikes: spikes.len(),
        duration_ms,
        mean_rate_hz: spikes.len() as f64 / neurons as f64 / (duration_ms / 1000.0),
        isi_mean_ms: if isis.is_empty() {
            f64::NAN
        } else {
            mean(&isis)
        },
        isi_cv: if cvs.is_empty() { f64::NAN } else { mean(&cvs) },
        fano: if fanos.is_empty() {
            f64::NAN
        } else {
            mean(&fanos)
        },
        window_ms,
        silent_fraction: silent as f64 / neurons as f64,
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TraceStats {
    pub population: String,
    pub variable: String,
    pub samples: usize,
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
    /// (lower edge, upper edge, count) per bin.
    pub histogram: Vec<(f64, f64, usize)>,
}

/// Moments and a histogram of the finite samples; with none, NaN moments and no bins.
pub fn trace_stats(population: &str, variable: &str, data: &[f32], bins: usize) -> TraceStats {
    let x: Vec<f64> = data
        .iter()
        .map(|&v| v as f64)
        .filter(|v| v.is_finite())
        .collect();
    let (min, max) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if x.is_empty() {
        return TraceStats {
            population: population.to_string(),
            variable: variable.to_string(),
            samples: 0,
            mean: f64::NAN,
            sd: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            histogram: Vec::new(),
        };
    }
    let bins = bins.max(1);
    let width = if max > min {
        (max - min) / bins as f64
    } else {
        1.0
    };
    let mut counts = vec![0usize; bins];
    for &v in &x {
        counts[(((v - min) / width) as usize).min(bins - 1)] += 1;
    }
    TraceStats {
        population: population.to_string(),
        variable: variable.to_string(),
        samples: x.len(),
        mean: mean(&x),
        sd: variance(&x).sqrt(),
        min,
        max,
        histogram: counts
            .iter()
            .enumerate()
            .map(|(k, &c)| (min + k as f64 * width, min + (k + 1) as f64 * width, c))
            .collect(),
    }
}

pub fn text_histogram(t: &TraceStats, width: usize) -> String {
    let top = t.histogram.iter().map(|b| b.2).max().unwrap_or(0).max(1);
    // Values far from 1 (weights in siemens, say) in scientific notation.
    let scale = t.min.abs().max(t.max.abs());
    let edge = |x: f64| {
        if scale != 0.0 && !(1e-2..1e5).contains(&scale) {
            format!("{x:>10.3e}")
        } else {
            format!("{x:>9.3}")
        }
    };
    t.histogram
        .iter()
        .map(|&(lo, hi, c)| {
            format!(
                "  [{}, {})  {:>8}  {}\n",
                edge(lo),
                edge(hi),
                c,
                "#".repeat(c * width / top)
            )
        })
        .collect()
}

/// Reads an output file: the population sizes and duration come from its stored config.
/// The spike statistics of every population under `root` (a file's root, or a sweep's
/// instance group) whose spikes `config` recorded, over `duration_ms`.
pub fn group_spike_stats(
    root: &hdf5::Group,
    config: &crate::config::Config,
    duration_ms: f64,
    window_ms: f64,
) -> hdf5::Result<Vec<SpikeStats>> {
    let mut spikes = Vec::new();
    let Ok(group) = root.group("spikes") else { return Ok(spikes) };
    for name in group.member_names()? {
        let g = group.group(&name)?;
        let t: Vec<f64> = g.dataset("timestamps")?.read_raw()?;
        let id: Vec<u64> = g.dataset("node_ids")?.read_raw()?;
        let size = config.group(&name).map_or(0, |g| g.size as usize);
        let pairs: Vec<(f64, u64)> = t.into_iter().zip(id).collect();
        spikes.push(spike_stats(&name, size, duration_ms, &pairs, window_ms));
    }
    Ok(spikes)
}

/// The statistics of an output file, or of one instance of a sweep's file.
pub fn from_file<'a>(src: impl Into<crate::io::reader::Source<'a>>, window_ms: f64, bins: usize) -> Result<FileStats> {
    let src = src.into();
    if !(window_ms > 0.0 && window_ms.is_finite()) {
        return Err(Error::config("--window-ms", format!("must be a positive number of ms, got {window_ms}")));
    }
    if bins == 0 {
        return Err(Error::config("--bins", "must be at least 1"));
    }
    let o = crate::io::reader::open(src)?;
    // A run that stopped early covers only the time it simulated.
    let (duration, complete, stop_reason) = o.outcome();
    let mut spikes = Vec::new();
    let mut spike_values = Vec::new();
    for name in o.spiking_populations()? {
        let (t, id) = o.spikes(&name)?;
        let size = o.config.group(&name).map_or(0, |g| g.size as usize);
        let pairs: Vec<(f64, u64)> = t.into_iter().zip(id).collect();
        spikes.push(spike_stats(&name, size, duration, &pairs, window_ms));
        // `record.spike_variables`: each variable's values at the spikes.
        for (var, values) in o.spike_values(&name)? {
            spike_values.push(trace_stats(&name, &var, &values, bins));
        }
    }
    // `record.events`: how often each custom event held, and the values recorded with it.
    let mut events = Vec::new();
    for (pop, event) in o.event_names()? {
        let (times, _) = o.events(&pop, &event)?;
        let size = o.config.group(&pop).map_or(0, |g| g.size as usize);
        let values = o.event_values(&pop, &event)?.iter().map(|(var, values)| trace_stats(&pop, var, values, bins)).collect();
        events.push(EventStats {
            per_neuron_hz: times.len() as f64 / size.max(1) as f64 / (duration * 1e-3),
            population: pop,
            event,
            count: times.len(),
            values,
        });
    }
    let mut traces = Vec::new();
    for (pop, var) in o.trace_names()? {
        traces.push(trace_stats(&pop, &var, &o.trace(&pop, &var)?.data, bins));
    }
    // Synapses written as equations: each variable's values at the end of the run.
    let mut synapses = Vec::new();
    for (projection, var) in o.synapse_names()? {
        let data: Vec<f32> = o.synapses(&projection, &var)?.0.iter().map(|&x| x as f32).collect();
        synapses.push(trace_stats(&projection, &var, &data, bins));
    }
    // Population rates (`record.rates`): their values over the steps.
    let mut rates = Vec::new();
    for name in o.rate_populations()? {
        let data: Vec<f32> = o.rate(&name)?.iter().map(|&x| x as f32).collect();
        rates.push(trace_stats(&name, "rate", &data, bins));
    }
    if spikes.is_empty() && traces.is_empty() && synapses.is_empty() && rates.is_empty() && events.is_empty() {
        return Err(Error::io(
            src.path,
            "holds no spikes, events, rates or traces: record some with [record] spikes, events, rates or traces",
        ));
    }
    let incomplete = (!complete).then(|| {
        format!(
            "the run did not complete ({}): these statistics cover the {duration} ms it simulated",
            stop_reason.as_deref().unwrap_or("stopped early")
        )
    });
    Ok(FileStats {
        spikes,
        spike_values,
        events,
        traces,
        synapses,
        rates,
        incomplete,
    })
}

/// A recorded custom event (`record.events`): how often it held over the run.
#[derive(Clone, Debug)]
pub struct EventStats {
    pub population: String,
    pub event: String,
    pub count: usize,
    /// Occurrences per neuron and second simulated.
    pub per_neuron_hz: f64,
    /// Per variable recorded with it (`record.event_variables`): its values at the events.
    pub values: Vec<TraceStats>,
}

/// The statistics of an output file, and why it is incomplete when it is.
#[derive(Clone, Debug)]
pub struct FileStats {
    pub spikes: Vec<SpikeStats>,
    /// Per variable recorded with a population's spikes: its values at the spikes.
    pub spike_values: Vec<TraceStats>,
    /// Per recorded custom event: its count and the values recorded with it.
    pub events: Vec<EventStats>,
    pub traces: Vec<TraceStats>,
    /// Per synaptic variable (its projection as the population): its values at the end.
    pub synapses: Vec<TraceStats>,
    /// Per population whose rate is recorded: its values over the steps (Hz).
    pub rates: Vec<TraceStats>,
    pub incomplete: Option<String>,
}

impl FileStats {
    pub fn report(&self) -> String {
        let mut body = report(&self.spikes, &self.traces);
        for t in &self.spike_values {
            body.push_str(&format!(
                "\n{}.{} at its spikes: {} spikes, mean {:.4e}, sd {:.4e}, min {:.4e}, max {:.4e}\n",
                t.population, t.variable, t.samples, t.mean, t.sd, t.min, t.max
            ));
        }
        for e in &self.events {
            body.push_str(&format!(
                "\n{}.{} events: {}, {:.3} per neuron per second\n",
                e.population, e.event, e.count, e.per_neuron_hz
            ));
            for t in &e.values {
                body.push_str(&format!(
                    "{}.{} at its `{}` events: mean {:.4e}, sd {:.4e}, min {:.4e}, max {:.4e}\n",
                    t.population, t.variable, e.event, t.mean, t.sd, t.min, t.max
                ));
            }
        }
        for r in &self.rates {
            body.push_str(&format!(
                "\nrate of {} per step: {} steps, mean {:.3} Hz, sd {:.3} Hz, max {:.3} Hz\n",
                r.population, r.samples, r.mean, r.sd, r.max
            ));
        }
        for t in &self.synapses {
            body.push_str(&format!(
                "\nsynapses {}.{} at the end: {} synapses, mean {:.4e}, sd {:.4e}, min {:.4e}, max {:.4e}\n",
                t.population, t.variable, t.samples, t.mean, t.sd, t.min, t.max
            ));
            body.push_str(&text_histogram(t, 50));
        }
        match &self.incomplete {
            Some(why) => format!("warning: {why}\n{body}"),
            None => body,
        }
    }
}

pub fn report(spikes: &[SpikeStats], traces: &[TraceStats]) -> String {
    let mut s = String::new();
    if !spikes.is_empty() {
        s.push_str(&format!(
            "{:<12} {:>8} {:>9} {:>10} {:>11} {:>7} {:>12} {:>8}\n",
            "population", "neurons", "spikes", "rate Hz", "ISI mean ms", "ISI CV", "Fano", "silent"
        ));
        for p in spikes {
            s.push_str(&format!(
                "{:<12} {:>8} {:>9} {:>10.3} {:>11.3} {:>7.3} {:>6.3} @{:<5} {:>7.1}%\n",
                p.population,
                p.neurons,
                p.spikes,
                p.mean_rate_hz,
                p.isi_mean_ms,
                p.isi_cv,
                p.fano,
                format!("{}ms", p.window_ms),
                100.0 * p.silent_fraction
            ));
        }
    }
    for t in traces {
        if t.samples == 0 {
            s.push_str(&format!(
                "\n{}.{}: no finite samples recorded\n",
                t.population, t.variable
            ));
            continue;
        }
        s.push_str(&format!(
            "\n{}.{}: {} samples, mean {:.4}, sd {:.4}, min {:.4}, max {:.4}\n",
            t.population, t.variable, t.samples, t.mean, t.sd, t.min, t.max
        ));
        s.push_str(&text_histogram(t, 50));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_train_has_zero_cv_and_fano_and_the_right_rate() {
        // Neuron 0 fires every 10 ms for 1 s; neuron 1 is silent.
        let spikes: Vec<(f64, u64)> = (0..100).map(|k| (5.0 + 10.0 * k as f64, 0)).collect();
        let s = spike_stats("p", 2, 1000.0, &spikes, 100.0);
        assert_eq!(s.spikes, 100);
        assert!((s.mean_rate_hz - 50.0).abs() < 1e-12);
        assert!((s.isi_mean_ms - 10.0).abs() < 1e-9);
        assert!(s.isi_cv.abs() < 1e-9);
        assert!(s.fano.abs() < 1e-12);
        assert_eq!(s.silent_fraction, 0.5);
        assert!(
            spike_stats("p", 2, 150.0, &spikes, 100.0).fano.is_nan(),
            "one window has no variance to speak of"
        );
    }

    #[test]
    fn poisson_like_trains_have_cv_and_fano_near_one() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut spikes = Vec::new();
        for n in 0..200u64 {
            let mut t = 0.0;
            loop {
                t += -(1.0 - rng.random::<f64>()).ln() / 0.02; // 20 Hz
                if t >= 10_000.0 {
                    break;
                }
                spikes.push((t, n));
            }
        }
        let s = spike_stats("p", 200, 10_000.0, &spikes, 500.0);
        assert!((s.mean_rate_hz - 20.0).abs() < 1.0, "{}", s.mean_rate_hz);
        assert!((s.isi_cv - 1.0).abs() < 0.05, "{}", s.isi_cv);
        assert!((s.fano - 1.0).abs() < 0.1, "{}", s.fano);
    }

    #[test]
    fn trace_moments_and_histogram() {
        let t = trace_stats("p", "v", &[1.0, 2.0, 3.0, 4.0], 2);
        assert_eq!(t.mean, 2.5);
        assert!((t.sd - 1.118033988749895).abs() < 1e-12);
        assert_eq!(
            t.histogram.iter().map(|b| b.2).collect::<Vec<_>>(),
            vec![2, 2]
        );
        assert!(text_histogram(&t, 10).contains("##########"));
    }

    #[test]
    fn a_trace_without_finite_samples_has_no_extremes_to_report() {
        let t = trace_stats("p", "v", &[f32::NAN], 5);
        assert_eq!(t.samples, 0);
        assert!(t.min.is_nan() && t.max.is_nan() && t.histogram.is_empty());
        let text = report(&[], &[t]);
        assert!(text.contains("p.v: no finite samples recorded"), "{text}");
        assert!(!text.contains("inf"), "{text}");
    }
}
