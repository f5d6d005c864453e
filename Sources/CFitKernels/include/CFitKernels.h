#ifndef CFITKERNELS_H
#define CFITKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// The int8 product of the encoder's int8 mode: y[r, o] = bias[o] + sum over 32-value blocks b
/// of (sa[r, b] * sw[o, b]) * (sum of qa[r, 32b + i] * qw[o, 32b + i]), the inner sums exact in
/// 32-bit integers, each block's term added in block order by one fused multiply-add per
/// output. Every path (AVX-512 VNNI, AVX2, portable C) computes those same integers and those
/// same float operations, so all give the same bits, and a row's result never depends on the
/// other rows of the call.
///
/// Activations and weights are int8 in [-127, 127] (-128 is refused by the packer and never
/// made by `fit_q8_quantize_rows`). `inputs` is a multiple of 32.

enum { FIT_Q8_PORTABLE = 0, FIT_Q8_AVX2 = 1, FIT_Q8_AVX512_VNNI = 2 };

/// The fastest path this CPU (and its operating system) can run.
int fit_q8_best_path(void);

/// Bytes of the packed form of an [outputs, inputs] weight matrix.
size_t fit_q8_packed_bytes(int outputs, int inputs);

/// Packs weights (row-major int8 [outputs, inputs]) and their block scales ([outputs,
/// inputs / 32]) for `fit_q8_product`. Returns -1 when a weight is -128, else 0.
int fit_q8_pack(const int8_t *w, const float *scales, int outputs, int inputs, void *packed);

/// Rounds rows of x ([rows, width], width a multiple of 32) to int8 steps of max|block| / 127
/// per 32-value block: q = round-half-even(x / d) in [-127, 127], scale d (0 for a block of
/// zeros, whose q are 0).
void fit_q8_quantize_rows(const float *x, int rows, int width, int8_t *q, float *scales);

/// The same on the instructions of `path` (one the CPU lacks falls back to the best it has;
/// every path gives the same bits), each value first multiplied by its column's multiplier
/// (`width` of them; NULL: none), one float rounding.
void fit_q8_quantize_rows_path(const float *x, int rows, int width, const float *multipliers, int8_t *q, float *scales,
                               int path);

/// y ([rows, outputs], row-major) from quantized rows (qa [rows, inputs], sa [rows, inputs /
/// 32]) and packed weights; bias may be NULL. Then, with float columns (count > 0; x, columns
/// and column_weights not NULL), each output adds x[r, columns[c]] * column_weights[c *
/// outputs + o] for c = 0, 1, ... in that order, one fused multiply-add each, after the bias:
/// the input columns the int8 matrix leaves out (x: the float rows [rows, inputs] that qa was
/// rounded from). `path` picks the instructions (a path the CPU lacks falls back to the best
/// it has).
void fit_q8_product(const void *packed, int outputs, int inputs, const int8_t *qa, const float *sa, int rows,
                    const float *bias, const float *x, const int32_t *columns, int count, const float *column_weights,
                    float *y, int path);

/// The instructions' own rates on the calling thread's core, each timed for at least
/// `seconds`: 8-lane fused multiply-adds (flops per second, a multiply and an add each; 0
/// without AVX2 and FMA), the AVX2 int8 path's step (vpsignb, vpmaddubsw, vpmaddwd, vpaddd:
/// byte multiply-adds per second; 0 without AVX2) and 512-bit vpdpbusd (byte multiply-adds per
/// second; 0 without AVX-512 VNNI). No kernel made of them runs faster.
double fit_peak_fma_flops(double seconds);
double fit_peak_avx2_int8_multiply_adds(double seconds);
double fit_peak_vnni_multiply_adds(double seconds);

#endif
