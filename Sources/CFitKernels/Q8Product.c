// The int8 product (CFitKernels.h). Packed layout, per group of 16 outputs (the last group
// padded with zero weights and scales), per 32-value block:
//   8 steps of 4 inputs, each STEP = 128 bytes:
//     w:    4 inputs x 16 outputs x 4 bytes = 64 bytes (output o's 4 bytes at o * 4), the int8 weights
//     absw: the same 64 bytes as |w| (the AVX2 path's unsigned operand)
//   scale:  16 floats, each output's block scale
// A step's weights and their magnitudes sit side by side, so the AVX2 path reads one stream of
// consecutive lines rather than two streams 512 bytes apart (measured on Zen 3 with the panels
// below: 1.07x the old kernel with the two streams, 1.16x with one; the same bits).
#include "CFitKernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

enum { GROUP = 16, BLOCK = 32 };
enum { STEP = 128, ABS_OFFSET = 64, SCALE_OFFSET = 1024, BLOCK_BYTES = 1024 + 64 };

size_t fit_q8_packed_bytes(int outputs, int inputs) {
    size_t groups = (size_t)((outputs + GROUP - 1) / GROUP);
    return groups * (size_t)(inputs / BLOCK) * BLOCK_BYTES;
}

int fit_q8_pack(const int8_t *w, const float *scales, int outputs, int inputs, void *packed) {
    int blocks = inputs / BLOCK, groups = (outputs + GROUP - 1) / GROUP;
    uint8_t *out = (uint8_t *)packed;
    memset(out, 0, fit_q8_packed_bytes(outputs, inputs));
    for (int g = 0; g < groups; g++) {
        for (int b = 0; b < blocks; b++) {
            uint8_t *blk = out + ((size_t)g * blocks + b) * BLOCK_BYTES;
            float scale[GROUP] = {0};
            for (int o = 0; o < GROUP; o++) {
                int row = g * GROUP + o;
                if (row >= outputs) continue;
                scale[o] = scales[(size_t)row * blocks + b];
                for (int i = 0; i < BLOCK; i++) {
                    int8_t v = w[(size_t)row * inputs + b * BLOCK + i];
                    if (v == -128) return -1;
                    int at = (i / 4) * STEP + o * 4 + (i % 4);
                    blk[at] = (uint8_t)v;
                    blk[ABS_OFFSET + at] = (uint8_t)(v < 0 ? -v : v);
                }
            }
            memcpy(blk + SCALE_OFFSET, scale, sizeof scale);
        }
    }
    return 0;
}

// The rows are contiguous, so the blocks run straight through them.
// With multipliers, each value is first multiplied by its column's (one rounding).
static void quantize_blocks_portable(const float *x, size_t blocks, int per_row, const float *multipliers, int8_t *q,
                                     float *scales) {
    for (size_t b = 0; b < blocks; b++) {
        float v[BLOCK];
        const float *m_col = multipliers ? multipliers + (b % (size_t)per_row) * BLOCK : NULL;
        for (int i = 0; i < BLOCK; i++) v[i] = m_col ? x[b * BLOCK + i] * m_col[i] : x[b * BLOCK + i];
        float m = 0;
        for (int i = 0; i < BLOCK; i++) m = fmaxf(m, fabsf(v[i]));
        float d = m / 127.0f, inv = d > 0 ? 1.0f / d : 0.0f;
        for (int i = 0; i < BLOCK; i++) {
            float t = nearbyintf(v[i] * inv);  // the default rounding mode: half to even
            q[b * BLOCK + i] = (int8_t)fminf(fmaxf(t, -127.0f), 127.0f);
        }
        scales[b] = d;
    }
}

#if defined(__x86_64__)
// The portable steps on 8 lanes: the same maximum (a NaN never enters it, as fmaxf drops it;
// with no NaN the order of a maximum does not matter), the same product, rounding (half to
// even) and clamping (a NaN becomes -127, as fmaxf(NaN, -127) gives).
__attribute__((target("avx2,fma")))
static void quantize_blocks_avx2(const float *x, size_t blocks, int per_row, const float *multipliers, int8_t *q,
                                 float *scales) {
    const __m256 sign = _mm256_set1_ps(-0.0f), low = _mm256_set1_ps(-127.0f), high = _mm256_set1_ps(127.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (size_t b = 0; b < blocks; b++) {
        const float *v = x + b * BLOCK;
        __m256 part[4];
        __m256 m = _mm256_setzero_ps();
        const float *m_col = multipliers ? multipliers + (b % (size_t)per_row) * BLOCK : NULL;
        for (int k = 0; k < 4; k++) {
            part[k] = _mm256_loadu_ps(v + 8 * k);
            if (m_col) part[k] = _mm256_mul_ps(part[k], _mm256_loadu_ps(m_col + 8 * k));
            m = _mm256_max_ps(_mm256_andnot_ps(sign, part[k]), m);  // NaN in the first operand: m kept
        }
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float d = _mm_cvtss_f32(h) / 127.0f, inv = d > 0 ? 1.0f / d : 0.0f;
        const __m256 vi = _mm256_set1_ps(inv);
        __m256i n[4];
        for (int k = 0; k < 4; k++) {
            __m256 t = _mm256_round_ps(_mm256_mul_ps(part[k], vi), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            n[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(t, low), high));  // NaN first: -127
        }
        // Packing interleaves the 128-bit halves: 4-byte groups come out as 0a 1a 2a 3a 0b 1b 2b 3b.
        __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(n[0], n[1]), _mm256_packs_epi32(n[2], n[3]));
        _mm256_storeu_si256((__m256i *)(q + b * BLOCK), _mm256_permutevar8x32_epi32(packed, order));
        scales[b] = d;
    }
}
#endif

void fit_q8_quantize_rows_path(const float *x, int rows, int width, const float *multipliers, int8_t *q, float *scales,
                               int path) {
    size_t blocks = (size_t)rows * (size_t)(width / BLOCK);
    int per_row = width / BLOCK;
#if defined(__x86_64__)
    if (path >= FIT_Q8_AVX2 && fit_q8_best_path() >= FIT_Q8_AVX2) {
        quantize_blocks_avx2(x, blocks, per_row, multipliers, q, scales);
        return;
    }
#endif
    (void)path;
    quantize_blocks_portable(x, blocks, per_row, multipliers, q, scales);
}

void fit_q8_quantize_rows(const float *x, int rows, int width, int8_t *q, float *scales) {
    fit_q8_quantize_rows_path(x, rows, width, NULL, q, scales, fit_q8_best_path());
}

// One row, one group: the exact block sums by plain C, then the same float steps as the SIMD paths.
static void row_group_portable(const uint8_t *group, int blocks, const int8_t *qa, const float *sa, float acc[GROUP]) {
    for (int o = 0; o < GROUP; o++) acc[o] = 0;
    for (int b = 0; b < blocks; b++) {
        const uint8_t *blk = group + (size_t)b * BLOCK_BYTES;
        float scale[GROUP];
        memcpy(scale, blk + SCALE_OFFSET, sizeof scale);
        for (int o = 0; o < GROUP; o++) {
            int32_t s = 0;
            for (int i = 0; i < BLOCK; i++) s += (int32_t)qa[b * BLOCK + i] * (int8_t)blk[(i / 4) * STEP + o * 4 + (i % 4)];
            float d = sa[b] * scale[o];
            acc[o] = fmaf(d, (float)s, acc[o]);
        }
    }
}

// The SIMD paths take up to TILE rows at once, so each weight load serves every row of the
// tile; each row's integers and float steps are the one-row sequence, so a row's bits do not
// depend on the tile it sits in.
enum { TILE = 8 };

// Rows per panel: fit_q8_product runs every tile of a panel against one group of weights before
// it moves to the next group, so a group (13 KB for 384 inputs, 52 KB for 1,536) is read from
// L1 or L2 once per tile instead of streaming the whole matrix (0.3-1.3 MB packed, all but the
// smallest past a Zen 3 core's 512 KB L2) for every tile of 4 rows, which left the AVX2 kernel
// waiting on its weight loads (perf put the stalls there; the loop reading its weights from two
// fixed lines ran 1.3x as fast, its epilogue aside). 32 rows of 1,536 int8 inputs (48 KB) and a
// group's weights stay in L2 together.
enum { PANEL = 32 };

// What a tile's sums become in y (fit_q8_product): plus the bias, then each float column's
// term in column order, one fused multiply-add each (what Q8Product.multiply promises). The
// SIMD paths do it while the sums are still in registers, every row's chain side by side: a
// separate pass over the tile ran each row's chain of dependent fused multiply-adds alone,
// at a quarter of the machine's rate, and cost as much as the float columns' own arithmetic.
struct tile_out {
    const float *bias;       // this group's 16 values (zeros without a bias)
    const float *x;          // the tile's float rows, [rows, inputs] (NULL: no float columns)
    const int32_t *columns;  // the float columns, `count` of them
    int count, inputs;
    const float *cw;         // this group's float-column weights: cw[c * outputs + o]
    float *y;                // the tile's first row, this group's first output
    int outputs, n;          // y's row stride; how many of the group's 16 outputs exist
};

#if defined(__x86_64__)

__attribute__((target("avx2,fma"), always_inline))
// Returns 0 without storing (a partial group, left to the scalar steps) and the sums in acc.
static inline int rows_group_avx2_n(const uint8_t *group, int blocks, const int8_t *qa, const float *sa, int inputs, int rows,
                                    const struct tile_out *e, float acc[TILE][GROUP]) {
    __m256 acc0[TILE], acc1[TILE];
    for (int r = 0; r < rows; r++) { acc0[r] = _mm256_setzero_ps(); acc1[r] = _mm256_setzero_ps(); }
    const __m256i ones = _mm256_set1_epi16(1);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *blk = group + (size_t)b * BLOCK_BYTES;
        __m256i s0[TILE], s1[TILE];
        for (int r = 0; r < rows; r++) { s0[r] = _mm256_setzero_si256(); s1[r] = _mm256_setzero_si256(); }
        for (int k = 0; k < 8; k++) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(blk + k * STEP));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(blk + k * STEP + 32));
            __m256i u0 = _mm256_loadu_si256((const __m256i *)(blk + ABS_OFFSET + k * STEP));
            __m256i u1 = _mm256_loadu_si256((const __m256i *)(blk + ABS_OFFSET + k * STEP + 32));
            for (int r = 0; r < rows; r++) {
                int32_t four;
                memcpy(&four, qa + (size_t)r * inputs + b * BLOCK + k * 4, 4);
                __m256i a = _mm256_set1_epi32(four);
                // |w| * (a with w's sign): pairs of products at most 2 * 127 * 127, no saturation.
                __m256i p0 = _mm256_maddubs_epi16(u0, _mm256_sign_epi8(a, w0));
                __m256i p1 = _mm256_maddubs_epi16(u1, _mm256_sign_epi8(a, w1));
                s0[r] = _mm256_add_epi32(s0[r], _mm256_madd_epi16(p0, ones));
                s1[r] = _mm256_add_epi32(s1[r], _mm256_madd_epi16(p1, ones));
            }
        }
        __m256 w0 = _mm256_loadu_ps((const float *)(blk + SCALE_OFFSET));
        __m256 w1 = _mm256_loadu_ps((const float *)(blk + SCALE_OFFSET) + 8);
        for (int r = 0; r < rows; r++) {
            __m256 da = _mm256_set1_ps(sa[(size_t)r * blocks + b]);
            acc0[r] = _mm256_fmadd_ps(_mm256_mul_ps(da, w0), _mm256_cvtepi32_ps(s0[r]), acc0[r]);
            acc1[r] = _mm256_fmadd_ps(_mm256_mul_ps(da, w1), _mm256_cvtepi32_ps(s1[r]), acc1[r]);
        }
    }
    if (e->n < GROUP) {
        for (int r = 0; r < rows; r++) { _mm256_storeu_ps(acc[r], acc0[r]); _mm256_storeu_ps(acc[r] + 8, acc1[r]); }
        return 0;
    }
    __m256 b0 = _mm256_loadu_ps(e->bias), b1 = _mm256_loadu_ps(e->bias + 8);
    for (int r = 0; r < rows; r++) { acc0[r] = _mm256_add_ps(acc0[r], b0); acc1[r] = _mm256_add_ps(acc1[r], b1); }
    for (int c = 0; c < e->count; c++) {
        const float *wc = e->cw + (size_t)c * e->outputs;
        __m256 f0 = _mm256_loadu_ps(wc), f1 = _mm256_loadu_ps(wc + 8);
        const float *xc = e->x + e->columns[c];
        for (int r = 0; r < rows; r++) {
            __m256 v = _mm256_set1_ps(xc[(size_t)r * e->inputs]);
            acc0[r] = _mm256_fmadd_ps(v, f0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(v, f1, acc1[r]);
        }
    }
    for (int r = 0; r < rows; r++) {
        _mm256_storeu_ps(e->y + (size_t)r * e->outputs, acc0[r]);
        _mm256_storeu_ps(e->y + (size_t)r * e->outputs + 8, acc1[r]);
    }
    return 1;
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma"), always_inline))
// vpdpbusd multiplies unsigned by signed bytes, and only its signed operand can be broadcast
// from memory inside the instruction. So the weights are the unsigned one (w + 128: the sign
// bit flipped as they load, once per tile) and each row's four activations ride in the
// instruction instead of needing a broadcast of their own. The integers are sum (w + 128) a,
// exact in int32; the sums start from -128 * sum a (start, per row and block, made once per
// panel) rather than from zero, so they end at sum a w, the same integers as every path,
// without a subtraction per row and block. Always stores (masked for a partial group).
static inline int rows_group_vnni_n(const uint8_t *group, int blocks, const int8_t *qa, const int32_t *start, const float *sa,
                                    int inputs, int rows, const struct tile_out *e) {
    __m512 accs[TILE];
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (int r = 0; r < rows; r++) accs[r] = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *blk = group + (size_t)b * BLOCK_BYTES;
        __m512i s[TILE];
        for (int r = 0; r < rows; r++) s[r] = _mm512_set1_epi32(start[(size_t)r * blocks + b]);
        for (int k = 0; k < 8; k++) {
            __m512i w = _mm512_xor_si512(_mm512_loadu_si512((const void *)(blk + k * STEP)), flip);
            for (int r = 0; r < rows; r++) {
                int32_t four;
                memcpy(&four, qa + (size_t)r * inputs + b * BLOCK + k * 4, 4);
                s[r] = _mm512_dpbusd_epi32(s[r], w, _mm512_set1_epi32(four));
            }
        }
        __m512 ws = _mm512_loadu_ps((const float *)(blk + SCALE_OFFSET));
        for (int r = 0; r < rows; r++) {
            __m512 d = _mm512_mul_ps(_mm512_set1_ps(sa[(size_t)r * blocks + b]), ws);
            accs[r] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s[r]), accs[r]);
        }
    }
    // Lanes past the last output load nothing and are never stored.
    __mmask16 m = (__mmask16)(e->n >= GROUP ? 0xffffu : (1u << e->n) - 1u);
    __m512 bias = _mm512_maskz_loadu_ps(m, e->bias);
    for (int r = 0; r < rows; r++) accs[r] = _mm512_add_ps(accs[r], bias);
    for (int c = 0; c < e->count; c++) {
        __m512 f = _mm512_maskz_loadu_ps(m, e->cw + (size_t)c * e->outputs);
        const float *xc = e->x + e->columns[c];
        for (int r = 0; r < rows; r++) accs[r] = _mm512_fmadd_ps(_mm512_set1_ps(xc[(size_t)r * e->inputs]), f, accs[r]);
    }
    for (int r = 0; r < rows; r++) _mm512_mask_storeu_ps(e->y + (size_t)r * e->outputs, m, accs[r]);
    return 1;
}
// The tile sizes as constants, so the compiler keeps each row's sums in registers.
__attribute__((target("avx2,fma")))
static int rows_group_avx2(const uint8_t *group, int blocks, const int8_t *qa, const float *sa, int inputs, int rows,
                           const struct tile_out *e, float acc[TILE][GROUP]) {
    if (rows == 4) return rows_group_avx2_n(group, blocks, qa, sa, inputs, 4, e, acc);
    if (rows == 3) return rows_group_avx2_n(group, blocks, qa, sa, inputs, 3, e, acc);
    if (rows == 2) return rows_group_avx2_n(group, blocks, qa, sa, inputs, 2, e, acc);
    return rows_group_avx2_n(group, blocks, qa, sa, inputs, 1, e, acc);
}

// The VNNI sums' starting values, -128 * sum a for each of `count` 32-value blocks: with the
// sign bit flipped each byte is a + 128, which psadbw sums 8 at a time into four 64-bit lanes,
// so sum a = their total - 32 * 128. (The scalar loop this replaced, compiled for baseline
// x86-64, took 1.4% of a MiniLM int8 run by `perf`; this helper 0.8%.)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma")))
static void vnni_block_starts(const int8_t *qa, size_t count, int32_t *start) {
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (size_t j = 0; j < count; j++) {
        __m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(qa + j * BLOCK)), flip);
        __m256i sad = _mm256_sad_epu8(v, _mm256_setzero_si256());
        __m128i two = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
        int32_t total = (int32_t)(_mm_cvtsi128_si64(two) + _mm_extract_epi64(two, 1));
        start[j] = -128 * (total - BLOCK * 128);
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma")))
static int rows_group_vnni(const uint8_t *group, int blocks, const int8_t *qa, const int32_t *start, const float *sa, int inputs,
                           int rows, const struct tile_out *e) {
    switch (rows) {
    case 8: return rows_group_vnni_n(group, blocks, qa, start, sa, inputs, 8, e);
    case 7: return rows_group_vnni_n(group, blocks, qa, start, sa, inputs, 7, e);
    case 6: return rows_group_vnni_n(group, blocks, qa, start, sa, inputs, 6, e);
    case 5: return rows_group_vnni_n(group, blocks, qa, start, sa, inputs, 5, e);
    case 4: return rows_group_vnni_n(group, blocks, qa, start, sa, inputs, 4, e);
    case 3: return rows_group_vnni_n(group, blocks, qa, start, sa, inputs, 3, e);
    case 2: return rows_group_vnni_n(group, blocks, qa, start, sa, inputs, 2, e);
    default: return rows_group_vnni_n(group, blocks, qa, start, sa, inputs, 1, e);
    }
}
#endif

static int detect_best_path(void) {
#if defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return FIT_Q8_PORTABLE;
    unsigned c1 = c;
    if (!(c1 & (1u << 27))) return FIT_Q8_PORTABLE;  // no OSXSAVE: no XGETBV
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return FIT_Q8_PORTABLE;
    int avx2 = ((lo & 6u) == 6u) && ((b >> 5) & 1) && ((c1 >> 12) & 1);
    // AVX-512 state (opmask, upper ZMM halves, ZMM16-31) saved: XCR0 bits 5-7.
    int avx512 = avx2 && ((lo & 0xe0u) == 0xe0u) && ((b >> 16) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1) && ((c >> 11) & 1);
    return avx512 ? FIT_Q8_AVX512_VNNI : avx2 ? FIT_Q8_AVX2 : FIT_Q8_PORTABLE;
#else
    return FIT_Q8_PORTABLE;
#endif
}

// Detected once (CPUID and XGETBV serialize the core): every product call asks.
static int best_path = -1;

int fit_q8_best_path(void) {
    int best = __atomic_load_n(&best_path, __ATOMIC_RELAXED);
    if (best < 0) {
        best = detect_best_path();
        __atomic_store_n(&best_path, best, __ATOMIC_RELAXED);
    }
    return best;
}

void fit_q8_product(const void *packed, int outputs, int inputs, const int8_t *qa, const float *sa, int rows,
                    const float *bias, const float *x, const int32_t *columns, int count, const float *column_weights,
                    float *y, int path) {
    if (!x || !columns || !column_weights) count = 0;
    int best = fit_q8_best_path();
    if (path > best) path = best;
    int blocks = inputs / BLOCK, groups = (outputs + GROUP - 1) / GROUP;
    const uint8_t *p = (const uint8_t *)packed;
    // Rows per tile: AVX2 has 16 vector registers (4 rows of sums and accumulators fill them),
    // AVX-512 32.
    int most = path == FIT_Q8_AVX512_VNNI ? 8 : 4;
    float acc[TILE][GROUP];
    static const float zeros[GROUP];
    // The VNNI path's sums start from -128 * each block's activation sum (rows_group_vnni_n),
    // made once per panel of rows.
    int32_t *start = NULL;
    if (path == FIT_Q8_AVX512_VNNI && !(start = malloc((size_t)PANEL * (size_t)blocks * sizeof(int32_t)))) path = FIT_Q8_AVX2;
    for (int p0 = 0; p0 < rows; p0 += PANEL) {
        int panel = rows - p0 < PANEL ? rows - p0 : PANEL;
#if defined(__x86_64__)
        if (start) vnni_block_starts(qa + (size_t)p0 * inputs, (size_t)panel * (size_t)blocks, start);
#endif
        for (int g = 0; g < groups; g++) {
            const uint8_t *group = p + (size_t)g * blocks * BLOCK_BYTES;
            for (int r0 = p0; r0 < p0 + panel; r0 += most) {
                int tile = p0 + panel - r0 < most ? p0 + panel - r0 : most;
                const int8_t *qr = qa + (size_t)r0 * inputs;
                const float *sr = sa + (size_t)r0 * blocks;
                // Without a bias the sums still get + 0.0f, as before: -0.0 becomes +0.0 alike.
                struct tile_out e = {bias ? bias + g * GROUP : zeros, count ? x + (size_t)r0 * inputs : NULL, columns, count, inputs,
                                     count ? column_weights + g * GROUP : NULL, y + (size_t)r0 * outputs + g * GROUP, outputs,
                                     outputs - g * GROUP < GROUP ? outputs - g * GROUP : GROUP};
                int stored = 0;
#if defined(__x86_64__)
                if (path == FIT_Q8_AVX512_VNNI)
                    stored = rows_group_vnni(group, blocks, qr, start + (size_t)(r0 - p0) * blocks, sr, inputs, tile, &e);
                else if (path == FIT_Q8_AVX2) stored = rows_group_avx2(group, blocks, qr, sr, inputs, tile, &e, acc);
                else
#endif
                    for (int r = 0; r < tile; r++) row_group_portable(group, blocks, qr + (size_t)r * inputs, sr + (size_t)r * blocks, acc[r]);
                if (stored) continue;
                for (int r = 0; r < tile; r++)
                    for (int o = 0; o < e.n; o++) {
                        float v = acc[r][o] + e.bias[o];
                        for (int c = 0; c < count; c++) v = fmaf(e.x[(size_t)r * inputs + columns[c]], e.cw[(size_t)c * outputs + o], v);
                        e.y[(size_t)r * outputs + o] = v;
                    }
            }
        }
    }
    free(start);
}
