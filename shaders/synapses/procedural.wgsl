// requires: common/philox
// Procedural connectivity: the WGSL twin of src/procedural.rs, integer arithmetic only, so
// that a row's sources are the CPU's, in the CPU's order. Row r's sources are the first
// len(r) values of a permutation of the source indices keyed by Philox(seed; r, projection,
// 0, CONNECTIVITY_STREAM): a four-round Feistel network on 2h bits, walked in cycles until it
// lands among the n sources; with autapses excluded it runs over n - 1 and skips row r.

const CONNECTIVITY_STREAM: u32 = 0xC0AA0001u;
const WEIGHT_STREAM: u32 = 0xC0AA0002u;
const NO_SKIP: u32 = 0xffffffffu;

// One row's permutation (RowPermutation in src/procedural.rs).
struct RowPermutation {
    n: u32,
    half_bits: u32,
    keys: vec4<u32>,
    skip: u32,
}

fn mix32(x_in: u32) -> u32 {
    var x = x_in;
    x ^= x >> 16u;
    x = x * 0x7feb352du;
    x ^= x >> 15u;
    x = x * 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

fn procedural_row(seed: vec2<u32>, projection: u32, n_cols: u32, skip_diagonal: u32, row: u32) -> RowPermutation {
    let n = n_cols - skip_diagonal;
    var bits = 0u;
    if (n > 1u) {
        bits = 32u - countLeadingZeros(n - 1u);
    }
    let half_bits = max((bits + 1u) / 2u, 1u);
    let keys = philox4x32_10(vec4<u32>(row, projection, 0u, CONNECTIVITY_STREAM), seed);
    return RowPermutation(n, half_bits, keys, select(NO_SKIP, row, skip_diagonal != 0u));
}

fn feistel(p: RowPermutation, x: u32) -> u32 {
    let h = p.half_bits;
    let mask = (1u << h) - 1u;
    var left = x >> h;
    var right = x & mask;
    for (var round = 0u; round < 4u; round++) {
        let next = left ^ (mix32(right ^ p.keys[round]) & mask);
        left = right;
        right = next;
    }
    return (left << h) | right;
}

// The source at position j of the row.
fn procedural_source(p: RowPermutation, j: u32) -> u32 {
    var c = feistel(p, j);
    while (c >= p.n) {
        c = feistel(p, c);
    }
    return select(c, c + 1u, c >= p.skip);
}

// A weight drawn per synapse (DrawnWeight in src/procedural.rs), from Philox(seed; row,
// projection, position, WEIGHT_STREAM). Uniform: quantum a · (low + ⌊span · m / 2²³⌋), m the
// draw's top 23 bits, in integers and one exact conversion, as on the CPU. Normal: mean a +
// sd b · the Box–Muller normal of the draw (philox.wgsl), in f32.
const DRAW_UNIFORM: u32 = 1u;
const DRAW_NORMAL: u32 = 2u;
// False where no projection of the network draws its weights (Kernels::new): the compiler
// then drops the draws, whose code alone slows the kernels that carry them unused.
override DRAWN_WEIGHTS: bool = true;

struct WeightDraw {
    kind: u32,
    low: i32,
    span: u32,
    a: f32,
    b: f32,
}

fn drawn_weight(seed: vec2<u32>, projection: u32, row: u32, j: u32, d: WeightDraw) -> f32 {
    let bits = philox4x32_10(vec4<u32>(row, projection, j, WEIGHT_STREAM), seed);
    if (d.kind == DRAW_NORMAL) {
        return d.a + d.b * standard_normal(bits);
    }
    let product = mulhilo(d.span, bits.x >> 9u);
    let offset = (product.x << 9u) | (product.y >> 23u);
    return d.a * f32(d.low + i32(offset));
}
