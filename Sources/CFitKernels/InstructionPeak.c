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

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static double fma_loop(long rounds) {
    __m256 a0 = _mm256_set1_ps(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-3f);
    for (long k = 0; k < rounds; k++) {
        a0 = _mm256_fmadd_ps(a0, x, y); a1 = _mm256_fmadd_ps(a1, x, y); a2 = _mm256_fmadd_ps(a2, x, y);
        a3 = _mm256_fmadd_ps(a3, x, y); a4 = _mm256_fmadd_ps(a4, x, y); a5 = _mm256_fmadd_ps(a5, x, y);
        a6 = _mm256_fmadd_ps(a6, x, y); a7 = _mm256_fmadd_ps(a7, x, y); a8 = _mm256_fmadd_ps(a8, x, y);
        a9 = _mm256_fmadd_ps(a9, x, y); a10 = _mm256_fmadd_ps(a10, x, y); a11 = _mm256_fmadd_ps(a11, x, y);
        KEEP(x);
    }
    KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4); KEEP(a5); KEEP(a6); KEEP(a7); KEEP(a8); KEEP(a9); KEEP(a10); KEEP(a11);
    return 12.0 * 16.0 * (double)rounds;  // flops: 8 lanes, a multiply and an add
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static double vnni_loop(long rounds) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-5);
    for (long k = 0; k < rounds; k++) {
        a0 = _mm512_dpbusd_epi32(a0, x, y); a1 = _mm512_dpbusd_epi32(a1, x, y); a2 = _mm512_dpbusd_epi32(a2, x, y);
        a3 = _mm512_dpbusd_epi32(a3, x, y); a4 = _mm512_dpbusd_epi32(a4, x, y); a5 = _mm512_dpbusd_epi32(a5, x, y);
        a6 = _mm512_dpbusd_epi32(a6, x, y); a7 = _mm512_dpbusd_epi32(a7, x, y); a8 = _mm512_dpbusd_epi32(a8, x, y);
        a9 = _mm512_dpbusd_epi32(a9, x, y); a10 = _mm512_dpbusd_epi32(a10, x, y); a11 = _mm512_dpbusd_epi32(a11, x, y);
        KEEP(x);
    }
    KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4); KEEP(a5); KEEP(a6); KEEP(a7); KEEP(a8); KEEP(a9); KEEP(a10); KEEP(a11);
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

double fit_peak_fma_flops(double seconds) {
#if defined(__x86_64__)
    if (fit_q8_best_path() >= FIT_Q8_AVX2) return rate(fma_loop, seconds);
#endif
    (void)seconds;
    return 0;
}

double fit_peak_vnni_multiply_adds(double seconds) {
#if defined(__x86_64__)
    if (fit_q8_best_path() >= FIT_Q8_AVX512_VNNI) return rate(vnni_loop, seconds);
#endif
    (void)seconds;
    return 0;
}
