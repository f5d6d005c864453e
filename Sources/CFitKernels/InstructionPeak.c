// The instructions' own rates on one core (CFitKernels.h): twelve independent accumulators,
// more than each instruction's latency times its issue rate, so nothing but the issue rate
// limits the loop. `encode --measure-ceiling` sets the products' speeds against these.
#include "CFitKernels.h"
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Keeps a value in a register and its computation alive without emitting an instruction.
#define KEEP(v) __asm__ volatile("" : "+v"(v))
// One statement per accumulator, a0 ... a11: both loops below are this with their instruction.
#define TWELVE(STEP) STEP(a0) STEP(a1) STEP(a2) STEP(a3) STEP(a4) STEP(a5) STEP(a6) STEP(a7) STEP(a8) STEP(a9) STEP(a10) STEP(a11)
#define KEPT(a) KEEP(a);

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static double fma_loop(long rounds) {
    __m256 a0 = _mm256_set1_ps(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-3f);
#define FMA_STEP(a) a = _mm256_fmadd_ps(a, x, y);
    for (long k = 0; k < rounds; k++) {
        TWELVE(FMA_STEP)
        KEEP(x);
    }
    TWELVE(KEPT)
    return 12.0 * 16.0 * (double)rounds;  // flops: 8 lanes, a multiply and an add
}

// The AVX2 int8 product's step (rows_group_avx2_n in Q8Product.c): the activations take the
// weights' signs, vpmaddubsw multiplies them by |w| into int16 pairs, vpmaddwd adds the pairs,
// vpaddd adds them to the sums. x stands for a fresh broadcast of activations each step (KEEP:
// the compiler may not reuse one step's sign for the next), which the kernel loads from memory.
__attribute__((target("avx2,fma")))
static double avx2_int8_loop(long rounds) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    __m256i x = _mm256_set1_epi8(3), w = _mm256_set1_epi8(-5), u = _mm256_set1_epi8(5), ones = _mm256_set1_epi16(1);
#define AVX2_INT8_STEP(a) KEEP(x); a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(x, w)), ones));
    for (long k = 0; k < rounds; k++) {
        TWELVE(AVX2_INT8_STEP)
    }
    TWELVE(KEPT)
    return 12.0 * 32.0 * (double)rounds;  // multiply-adds: 32 byte pairs per step
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static double vnni_loop(long rounds) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-5);
#define VNNI_STEP(a) a = _mm512_dpbusd_epi32(a, x, y);
    for (long k = 0; k < rounds; k++) {
        TWELVE(VNNI_STEP)
        KEEP(x);
    }
    TWELVE(KEPT)
    return 12.0 * 64.0 * (double)rounds;  // multiply-adds: 64 byte pairs per instruction
}
#endif

// Rounds doubled until a run takes at least `seconds`; the rate of that run.
static double rate(double (*loop)(long), double seconds) {
    for (long rounds = 1 << 16;; rounds *= 2) {
        double start = now(), work = loop(rounds), took = now() - start;
        if (took >= seconds || rounds >= (1L << 40)) return took > 0 ? work / took : 0;
    }
}

// The rate of `loop` where this CPU (and its operating system) runs the instructions of `path`,
// else 0; off x86-64 no loop exists to name.
#if defined(__x86_64__)
#define PEAK(path, loop) (fit_q8_best_path() >= (path) ? rate((loop), seconds) : 0)
#else
#define PEAK(path, loop) ((void)seconds, 0.0)
#endif

double fit_peak_fma_flops(double seconds) { return PEAK(FIT_Q8_AVX2, fma_loop); }
double fit_peak_avx2_int8_multiply_adds(double seconds) { return PEAK(FIT_Q8_AVX2, avx2_int8_loop); }
double fit_peak_vnni_multiply_adds(double seconds) { return PEAK(FIT_Q8_AVX512_VNNI, vnni_loop); }
