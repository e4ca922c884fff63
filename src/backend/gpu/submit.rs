//! One submit: the command encoder with every dispatch of `n` steps in the CPU's order, and
//! the readback of what they recorded.

use super::context::{dispatch_size, fold_groups};
use super::kernels::{self, StepInfo, Update};
use super::recording;
use super::sizing::slots_per_submit;
use super::GpuBackend;
use crate::error::{Error, Result};
use crate::network::LinkCopy;
use crate::record::{ChunkOutput, RecordPlan, Sampled};

impl GpuBackend {
    /// Runs `n` steps from `self.step` in one submit and appends the results to `out`.
    pub(super) fn run_submit(
        &mut self,
        plan: &RecordPlan,
        n: u64,
        out: &mut ChunkOutput,
    ) -> Result<()> {
        let first = self.step;
        // One uniform slot per step for the neuron kernels, one per due trace gather.
        let mut slots: Vec<StepInfo> =
            Vec::with_capacity(slots_per_submit(n, self.traces.len()) as usize);
        let mut rows = vec![0u32; self.traces.len()];
        let mut dispatches: Vec<(u32, Vec<(usize, u32)>)> = Vec::with_capacity(n as usize);
        for k in 0..n {
            let step = first + k;
            let info = |row| StepInfo {
                step_lo: step as u32,
                step_hi: (step >> 32) as u32,
                step_in_chunk: k as u32,
                row,
            };
            let mut gathers = Vec::new();
            for (t, trace) in self.traces.iter().enumerate() {
                if step.is_multiple_of(trace.every) {
                    gathers.push((t, slots.len() as u32));
                    slots.push(info(rows[t]));
                    rows[t] += 1;
                }
            }
            dispatches.push((slots.len() as u32, gathers));
            slots.push(info(0));
        }
        let mut slot_bytes = vec![0u8; slots.len() * self.slot_stride as usize];
        for (i, s) in slots.iter().enumerate() {
            let at = i * self.slot_stride as usize;
            slot_bytes[at..at + 16].copy_from_slice(bytemuck::bytes_of(s));
        }
        self.ctx
            .queue
            .write_buffer(&self.step_slots, 0, &slot_bytes);
        self.ctx
            .queue
            .write_buffer(&self.spikes, 0, bytemuck::bytes_of(&0u32));
        self.ctx
            .queue
            .write_buffer(&self.status, 0, &vec![0xffu8; self.populations.len() * 8]);

        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("chunk"),
            });
        {
            let timestamp_writes = self
                .timer
                .as_ref()
                .map(|t| wgpu::ComputePassTimestampWrites {
                    query_set: &t.queries,
                    beginning_of_pass_write_index: Some(0),
                    end_of_pass_write_index: Some(1),
                });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("steps"),
                timestamp_writes,
            });
            for (k, (neuron_slot, gathers)) in dispatches.iter().enumerate() {
                let step_offset = (*neuron_slot as u64 * self.slot_stride) as u32;
                let parity = ((first + k as u64) & 1) as usize;
                // Linked variables (the CPU's `copy_links`), where `LinkCopy` says.
                let copy_links = |pass: &mut wgpu::ComputePass, at: LinkCopy| {
                    for sum in self.equation_synapses.sums.iter().filter(|s| s.link.is_some_and(|l| l.copied(at))) {
                        pass.set_pipeline(&sum.kernel.pipeline);
                        pass.set_bind_group(0, &sum.bind_group, &[step_offset]);
                        pass.dispatch_workgroups(sum.groups.0, sum.groups.1, 1);
                    }
                };
                // Brian2's run_regularly due in slot `when`, before the recording there: the
                // populations' (at the end, after their linked variables' copies), then the
                // synapses' (the CPU's `run_regularly`).
                let step = first + k as u64;
                let run_regularly = |pass: &mut wgpu::ComputePass, when: Sampled| {
                    for (index, pop) in self.populations.iter().enumerate() {
                        let due = |(s, _, _): &&(crate::record::Schedule, _, _)| s.due(step, when);
                        if when == Sampled::End && pop.regularly.iter().any(|r| due(&r)) {
                            copy_links(pass, LinkCopy::Recorded(index));
                        }
                        for (_, kernel, group) in pop.regularly.iter().filter(due) {
                            pass.set_pipeline(&kernel.pipeline);
                            pass.set_bind_group(0, group, &[step_offset]);
                            let (x, y) = dispatch_size(pop.size);
                            pass.dispatch_workgroups(x, y, 1);
                        }
                    }
                    for (_, synapses) in self.equation_synapses.regularly.iter().filter(|(s, _)| s.due(step, when)) {
                        pass.set_pipeline(&synapses.kernel.pipeline);
                        pass.set_bind_group(0, &synapses.bind_group, &[step_offset]);
                        pass.dispatch_workgroups(synapses.groups.0, synapses.groups.1, 1);
                    }
                };
                copy_links(&mut pass, LinkCopy::Start);
                run_regularly(&mut pass, Sampled::Start);
                // The traces due now that sample at `when` (the CPU's `sample`).
                let sample = |pass: &mut wgpu::ComputePass, when: Sampled| {
                    for &(t, slot) in gathers.iter().filter(|(t, _)| self.traces[*t].when == when) {
                        let trace = &self.traces[t];
                        let pop = &self.populations[trace.population];
                        if when == Sampled::End && trace.projection.is_none() {
                            copy_links(pass, LinkCopy::Recorded(trace.population));
                        }
                        if let (Some((kernel, group)), None) = (&pop.refresh, trace.projection) {
                            pass.set_pipeline(&kernel.pipeline);
                            pass.set_bind_group(0, group, &[step_offset]);
                            let (x, y) = dispatch_size(pop.size);
                            pass.dispatch_workgroups(x, y, 1);
                        }
                        pass.set_pipeline(&self.kernels.record.pipeline);
                        for gather in &trace.gathers {
                            pass.set_bind_group(
                                0,
                                &gather[parity],
                                &[(slot as u64 * self.slot_stride) as u32],
                            );
                            let (x, y) = dispatch_size(trace.n_recorded);
                            pass.dispatch_workgroups(x, y, 1);
                        }
                    }
                };
                sample(&mut pass, Sampled::Start);
                // Resolved: thread_per_row, lanes_per_row or blocked wherever couplings are
                // dispatched; `blocked` adds up its parts in a second pass.
                for c in &self.couplings {
                    pass.set_pipeline(&c.kernel.pipeline);
                    pass.set_bind_group(0, &c.bind_group, &[]);
                    pass.dispatch_workgroups(c.groups.0, c.groups.1, 1);
                    if let Some(finish) = &c.finish {
                        pass.set_pipeline(&finish.pipeline);
                        let (x, y) = dispatch_size(c.n_rows);
                        pass.dispatch_workgroups(x, y, 1);
                    }
                }
                for sum in self.equation_synapses.sums.iter().filter(|s| s.link.is_none()) {
                    pass.set_pipeline(&sum.kernel.pipeline);
                    pass.set_bind_group(0, &sum.bind_group, &[step_offset]);
                    pass.dispatch_workgroups(sum.groups.0, sum.groups.1, 1);
                }
                for pop in &self.populations {
                    if let Some(delivery) = &pop.delivery {
                        // A plain update's one bind group, over the whole population.
                        pass.set_pipeline(&delivery.pipeline);
                        pass.set_bind_group(0, &pop.bind_groups[0].0, &[step_offset]);
                        let (x, y) = dispatch_size(pop.size);
                        pass.dispatch_workgroups(x, y, 1);
                    }
                }
                for (index, pop) in self.populations.iter().enumerate() {
                    copy_links(&mut pass, LinkCopy::BeforeUpdate(index));
                    pass.set_pipeline(&self.kernels.update(pop.kind, pop.update, pop.parts).pipeline);
                    for (group, n_rows) in &pop.bind_groups {
                        pass.set_bind_group(0, group, &[step_offset]);
                        let (x, y) = match pop.update {
                            Update::CoupledLanes => {
                                fold_groups(n_rows.div_ceil(kernels::ROWS_PER_LANE_GROUP))
                            }
                            _ => dispatch_size(*n_rows),
                        };
                        pass.dispatch_workgroups(x, y, 1);
                    }
                }
                copy_links(&mut pass, LinkCopy::AfterUpdates);
                run_regularly(&mut pass, Sampled::AfterUpdates);
                sample(&mut pass, Sampled::AfterUpdates);
                // Brian2's order after the thresholds: synapses, then resets.
                for delivery in &self.equation_synapses.deliveries {
                    if let Some((mark, (x, y))) = &delivery.mark {
                        pass.set_pipeline(&mark.pipeline);
                        pass.set_bind_group(0, &delivery.bind_group, &[step_offset]);
                        pass.dispatch_workgroups(*x, *y, 1);
                    }
                    pass.set_pipeline(&delivery.kernel.pipeline);
                    pass.set_bind_group(0, &delivery.bind_group, &[step_offset]);
                    pass.dispatch_workgroups(delivery.groups.0, delivery.groups.1, 1);
                }
                for (index, pop) in self.populations.iter().enumerate() {
                    if let Some((kernel, group)) = &pop.reset {
                        copy_links(&mut pass, LinkCopy::BeforeReset(index));
                        pass.set_pipeline(&kernel.pipeline);
                        pass.set_bind_group(0, group, &[step_offset]);
                        let (x, y) = dispatch_size(pop.size);
                        pass.dispatch_workgroups(x, y, 1);
                    }
                }
                run_regularly(&mut pass, Sampled::End);
                sample(&mut pass, Sampled::End);
                for prop in &self.propagations {
                    pass.set_pipeline(&prop.kernel.pipeline);
                    pass.set_bind_group(0, &prop.bind_group, &[step_offset]);
                    let (x, y) = dispatch_size(prop.n_threads);
                    pass.dispatch_workgroups(x, y, 1);
                }
            }
        }
        if let Some(t) = &self.timer {
            encoder.resolve_query_set(&t.queries, 0..2, &t.resolve, 0);
        }
        self.ctx.queue.submit([encoder.finish()]);

        // One readback for the small things and the traces, a second for the spikes if any.
        let mut parts: Vec<(&wgpu::Buffer, u64, u64)> = vec![
            (&self.spikes, 0, 4),
            (&self.status, 0, self.populations.len() as u64 * 8),
        ];
        if let Some(t) = &self.timer {
            parts.push((&t.resolve, 0, 16));
        }
        let first_trace_part = parts.len();
        for (t, trace) in self.traces.iter().enumerate() {
            let bytes = rows[t] as u64 * trace.n_recorded as u64 * 4;
            for var in 0..trace.n_variables as u64 {
                parts.push((
                    &trace.samples,
                    var * trace.rows * trace.n_recorded as u64 * 4,
                    bytes,
                ));
            }
        }
        let data = self.ctx.read_buffers(&parts)?;
        if let Some(_t) = &self.timer {
            let ts: Vec<u64> = bytemuck::pod_collect_to_vec(&data[2]);
            self.gpu_ns +=
                ts[1].saturating_sub(ts[0]) as f64 * self.ctx.queue.get_timestamp_period() as f64;
        }
        let mut part = first_trace_part;
        for (t, trace) in self.traces.iter().enumerate() {
            let chunk = &mut out.traces[t];
            for var in 0..trace.n_variables as usize {
                chunk.data[var].extend(bytemuck::pod_collect_to_vec::<u8, f32>(&data[part]));
                part += 1;
            }
        }

        let count = u32::from_le_bytes(data[0][..4].try_into().unwrap()) as u64;
        if count > self.spike_capacity {
            return Err(Error::Gpu(format!(
                "spike buffer overflow: {count} spikes in {n} steps exceed its capacity of {}; lower simulation.chunk_steps",
                self.spike_capacity
            )));
        }
        if count > 0 {
            let raw = self.ctx.read_buffers(&[(&self.spikes, 4, count * 4 * self.spike_words)])?;
            let words: Vec<u32> = bytemuck::pod_collect_to_vec(&raw[0]);
            recording::decode_spikes(&words, self.spike_words as usize, first, plan, out);
        }

        let status: Vec<u32> = bytemuck::pod_collect_to_vec(&data[1]);
        if out.diverged.is_none() {
            out.diverged = recording::first_divergence(&status, first);
        }
        self.step += n;
        Ok(())
    }
}
