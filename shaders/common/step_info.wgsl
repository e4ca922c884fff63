// requires: nothing
// The per-dispatch values every per-step kernel reads: one uniform slot per dispatch, bound at
// binding 1 with a dynamic offset. Mirrors kernels::StepInfo.

struct StepInfo {
    step_lo: u32,
    step_hi: u32,
    step_in_chunk: u32,
    row: u32,
}

@group(0) @binding(1) var<uniform> step_info: StepInfo;
