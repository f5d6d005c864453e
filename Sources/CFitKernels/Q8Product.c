// The int8 product (CFitKernels.h). Packed layout, per group of 16 outputs (the last group
// padded with zero weights and scales), per 32-value block:
//   w:      8 steps of 4 inputs x 16 outputs x 4 bytes = 512 bytes (output o's 4 bytes of step k
//           at k * 64 + o * 4), the int8 weights
//   absw:   the same 512 bytes as |w| (the AVX2 path's unsigned operand)
//   colsum: 16 int32, each output's sum of w over the block (the VNNI path's offset correction)
//   scale:  16 floats, each output's block scale
#include "CFitKernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

enum { GROUP = 16, BLOCK = 32 };
enum { ABS_OFFSET = 512, COLSUM_OFFSET = 1024, SCALE_OFFSET = 1024 + 64, BLOCK_BYTES = 1024 + 64 + 64 };

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
            int32_t colsum[GROUP] = {0};
            float scale[GROUP] = {0};
            for (int o = 0; o < GROUP; o++) {
                int row = g * GROUP + o;
                if (row >= outputs) continue;
                scale[o] = scales[(size_t)row * blocks + b];
                for (int i = 0; i < BLOCK; i++) {
                    int8_t v = w[(size_t)row * inputs + b * BLOCK + i];
                    if (v == -128) return -1;
                    int at = (i / 4) * 64 + o * 4 + (i % 4);
                    blk[at] = (uint8_t)v;
                    blk[ABS_OFFSET + at] = (uint8_t)(v < 0 ? -v : v);
                    colsum[o] += v;
                }
            }
            memcpy(blk + COLSUM_OFFSET, colsum, sizeof colsum);
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
            for (int i = 0; i < BLOCK; i++) s += (int32_t)qa[b * BLOCK + i] * (int8_t)blk[(i / 4) * 64 + o * 4 + (i % 4)];
            float d = sa[b] * scale[o];
            acc[o] = fmaf(d, (float)s, acc[o]);
        }
    }
}

// The SIMD paths take up to TILE rows at once, so each weight load serves every row of the
// tile; each row's integers and float steps are the one-row sequence, so a row's bits do not
// depend on the tile it sits in.
enum { TILE = 8 };

#if defined(__x86_64__)

__attribute__((target("avx2,fma"), always_inline))
static inline void rows_group_avx2_n(const uint8_t *group, int blocks, const int8_t *qa, const float *sa, int inputs, int rows,
                            float acc[TILE][GROUP]) {
    __m256 acc0[TILE], acc1[TILE];
    for (int r = 0; r < rows; r++) { acc0[r] = _mm256_setzero_ps(); acc1[r] = _mm256_setzero_ps(); }
    const __m256i ones = _mm256_set1_epi16(1);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *blk = group + (size_t)b * BLOCK_BYTES;
        __m256i s0[TILE], s1[TILE];
        for (int r = 0; r < rows; r++) { s0[r] = _mm256_setzero_si256(); s1[r] = _mm256_setzero_si256(); }
        for (int k = 0; k < 8; k++) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(blk + k * 64));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(blk + k * 64 + 32));
            __m256i u0 = _mm256_loadu_si256((const __m256i *)(blk + ABS_OFFSET + k * 64));
            __m256i u1 = _mm256_loadu_si256((const __m256i *)(blk + ABS_OFFSET + k * 64 + 32));
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
    for (int r = 0; r < rows; r++) { _mm256_storeu_ps(acc[r], acc0[r]); _mm256_storeu_ps(acc[r] + 8, acc1[r]); }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma"), always_inline))
// ua: the tile's activations plus 128 as unsigned bytes, made once per tile by
// fit_q8_product rather than once per group and step.
static inline void rows_group_vnni_n(const uint8_t *group, int blocks, const uint8_t *ua, const float *sa, int inputs, int rows,
                            float acc[TILE][GROUP]) {
    __m512 accs[TILE];
    for (int r = 0; r < rows; r++) accs[r] = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *blk = group + (size_t)b * BLOCK_BYTES;
        __m512i s[TILE];
        for (int r = 0; r < rows; r++) s[r] = _mm512_setzero_si512();
        for (int k = 0; k < 8; k++) {
            __m512i w = _mm512_loadu_si512((const void *)(blk + k * 64));
            for (int r = 0; r < rows; r++) {
                int32_t four;
                memcpy(&four, ua + (size_t)r * inputs + b * BLOCK + k * 4, 4);
                // sum (a + 128) w, exact in int32.
                __m512i a = _mm512_set1_epi32(four);
                s[r] = _mm512_dpbusd_epi32(s[r], a, w);
            }
        }
        // minus 128 * sum w: the sum of a * w.
        __m512i correction = _mm512_slli_epi32(_mm512_loadu_si512((const void *)(blk + COLSUM_OFFSET)), 7);
        __m512 ws = _mm512_loadu_ps((const float *)(blk + SCALE_OFFSET));
        for (int r = 0; r < rows; r++) {
            __m512 d = _mm512_mul_ps(_mm512_set1_ps(sa[(size_t)r * blocks + b]), ws);
            accs[r] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(s[r], correction)), accs[r]);
        }
    }
    for (int r = 0; r < rows; r++) _mm512_storeu_ps(acc[r], accs[r]);
}
// The tile sizes as constants, so the compiler keeps each row's sums in registers.
__attribute__((target("avx2,fma")))
static void rows_group_avx2(const uint8_t *group, int blocks, const int8_t *qa, const float *sa, int inputs, int rows,
                            float acc[TILE][GROUP]) {
    if (rows == 4) rows_group_avx2_n(group, blocks, qa, sa, inputs, 4, acc);
    else if (rows == 3) rows_group_avx2_n(group, blocks, qa, sa, inputs, 3, acc);
    else if (rows == 2) rows_group_avx2_n(group, blocks, qa, sa, inputs, 2, acc);
    else rows_group_avx2_n(group, blocks, qa, sa, inputs, 1, acc);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma")))
static void rows_group_vnni(const uint8_t *group, int blocks, const uint8_t *qa, const float *sa, int inputs, int rows,
                            float acc[TILE][GROUP]) {
    if (rows == 8) rows_group_vnni_n(group, blocks, qa, sa, inputs, 8, acc);
    else if (rows == 7) rows_group_vnni_n(group, blocks, qa, sa, inputs, 7, acc);
    else if (rows == 6) rows_group_vnni_n(group, blocks, qa, sa, inputs, 6, acc);
    else if (rows == 5) rows_group_vnni_n(group, blocks, qa, sa, inputs, 5, acc);
    else if (rows == 4) rows_group_vnni_n(group, blocks, qa, sa, inputs, 4, acc);
    else if (rows == 3) rows_group_vnni_n(group, blocks, qa, sa, inputs, 3, acc);
    else if (rows == 2) rows_group_vnni_n(group, blocks, qa, sa, inputs, 2, acc);
    else rows_group_vnni_n(group, blocks, qa, sa, inputs, 1, acc);
}
// A tile's sums plus the bias into y, 8 lanes at a time: the same single rounding per value
// as the scalar loop (the compiler kept that loop scalar, unsure y does not overlap acc).
__attribute__((target("avx2,fma")))
static void store_tile_avx2(float acc[TILE][GROUP], int tile, const float *bg, float *y, int outputs) {
    __m256 b0 = _mm256_loadu_ps(bg), b1 = _mm256_loadu_ps(bg + 8);
    for (int r = 0; r < tile; r++) {
        float *yr = y + (size_t)r * outputs;
        _mm256_storeu_ps(yr, _mm256_add_ps(_mm256_loadu_ps(acc[r]), b0));
        _mm256_storeu_ps(yr + 8, _mm256_add_ps(_mm256_loadu_ps(acc[r] + 8), b1));
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
                    const float *bias, float *y, int path) {
    int best = fit_q8_best_path();
    if (path > best) path = best;
    int blocks = inputs / BLOCK, groups = (outputs + GROUP - 1) / GROUP;
    const uint8_t *p = (const uint8_t *)packed;
    // Rows per tile: AVX2 has 16 vector registers (4 rows of sums and accumulators fill them),
    // AVX-512 32.
    int most = path == FIT_Q8_AVX512_VNNI ? 8 : 4;
    float acc[TILE][GROUP];
    static const float zeros[GROUP];
    // The VNNI path multiplies unsigned activations: a + 128 (the sign bit flipped), made once
    // per tile of rows; -128 * the weights' block sums is taken off again (colsum).
    uint8_t *offset = NULL;
    if (path == FIT_Q8_AVX512_VNNI && !(offset = malloc((size_t)most * (size_t)inputs))) path = FIT_Q8_AVX2;
    for (int r0 = 0; r0 < rows; r0 += most) {
        int tile = rows - r0 < most ? rows - r0 : most;
        const int8_t *qr = qa + (size_t)r0 * inputs;
        const float *sr = sa + (size_t)r0 * blocks;
        if (offset)
            for (size_t i = 0; i < (size_t)tile * (size_t)inputs; i++) offset[i] = (uint8_t)qr[i] ^ 0x80u;
        for (int g = 0; g < groups; g++) {
            const uint8_t *group = p + (size_t)g * blocks * BLOCK_BYTES;
#if defined(__x86_64__)
            if (path == FIT_Q8_AVX512_VNNI) rows_group_vnni(group, blocks, offset, sr, inputs, tile, acc);
            else if (path == FIT_Q8_AVX2) rows_group_avx2(group, blocks, qr, sr, inputs, tile, acc);
            else
#endif
                for (int r = 0; r < tile; r++) row_group_portable(group, blocks, qr + (size_t)r * inputs, sr + (size_t)r * blocks, acc[r]);
            int n = outputs - g * GROUP < GROUP ? outputs - g * GROUP : GROUP;
            // The bias test outside the loops, so they are plain adds the compiler vectorizes
            // (with it inside, this store was a scalar loop and most of this function's time).
            // Without a bias the sums still get + 0.0f, as before: -0.0 becomes +0.0 alike.
            const float *bg = bias ? bias + g * GROUP : zeros;
            float *yg = y + (size_t)r0 * outputs + g * GROUP;
#if defined(__x86_64__)
            if (path != FIT_Q8_PORTABLE && n == GROUP) store_tile_avx2(acc, tile, bg, yg, outputs);
            else
#endif
                for (int r = 0; r < tile; r++)
                    for (int o = 0; o < n; o++) yg[(size_t)r * outputs + o] = acc[r][o] + bg[o];
        }
    }
    free(offset);
}
