// requires: nothing
// Where the coupling and propagation kernels find a synapse's weight (`weight_mode` of
// CouplingParams and ExpParams; src/backend/gpu/kernels.rs WEIGHT_*): the projection's one
// weight, one per synapse in the weights buffer, or one per instance of a batch whose
// instances share the connections but not the weight, at the instance's index.
const WEIGHT_PER_SYNAPSE: u32 = 1u;
const WEIGHT_PER_INSTANCE: u32 = 2u;
