#define _GNU_SOURCE
#include <sqlite3.h>
#include "CFitSystem.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

int fitstore_sqlite_harden(sqlite3 *db) {
    int ops[][2] = {
        {SQLITE_DBCONFIG_DEFENSIVE, 1},
        {SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0},
        {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0},
        {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0},
    };
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        int now = -1;
        int rc = sqlite3_db_config(db, ops[i][0], ops[i][1], &now);
        if (rc != SQLITE_OK) return rc;
        if (now != ops[i][1]) return SQLITE_ERROR;
    }
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    return SQLITE_OK;
}

int fitstore_rename_exchange(const char *a, const char *b) {
#if defined(__linux__) && defined(SYS_renameat2)
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */);
#else
    (void)a; (void)b;
    errno = ENOSYS;
    return -1;
#endif
}

void fitstore_line_buffer_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}

void fitstore_missing_cpu_features(char *buf, size_t size) {
    if (size == 0) return;
    buf[0] = 0;
#if defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    unsigned c1 = 0, b7 = 0, c81 = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) c1 = c;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) b7 = b;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d)) c81 = c;
    int osAVX = 0;
    if (c1 & (1u << 27)) {  // OSXSAVE: XGETBV may run; XCR0 bits 1 and 2 = SSE and AVX state saved
        unsigned lo = 0, hi = 0;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        osAVX = (lo & 6u) == 6u;
    }
    struct { const char *name; int present; } features[] = {
        {"AVX", (c1 >> 28) & 1}, {"AVX2", (b7 >> 5) & 1}, {"FMA", (c1 >> 12) & 1}, {"F16C", (c1 >> 29) & 1},
        {"BMI1", (b7 >> 3) & 1}, {"BMI2", (b7 >> 8) & 1}, {"LZCNT", (c81 >> 5) & 1}, {"MOVBE", (c1 >> 22) & 1},
        {"POPCNT", (c1 >> 23) & 1}, {"AVX state saved by the operating system", osAVX},
    };
    size_t used = 0;
    for (unsigned i = 0; i < sizeof features / sizeof features[0]; i++) {
        if (features[i].present) continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", features[i].name);
        if (n < 0 || (size_t)n >= size - used) break;
        used += (size_t)n;
    }
#else
    snprintf(buf, size, "an x86-64 CPU");
#endif
}

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
static sgemm_fn openblas_sgemm = NULL;

int fitstore_openblas_load(char *buf, size_t size) {
    if (openblas_sgemm) return 0;
    const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
    void *lib = NULL;
    for (unsigned i = 0; i < 2 && !lib; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(buf, size, "OpenBLAS could not be loaded (%s); install it (Debian: libopenblas0) to measure the ceiling", why ? why : "not found");
        return -1;
    }
    sgemm_fn f = (sgemm_fn)dlsym(lib, "cblas_sgemm");
    void (*threads)(int) = (void (*)(int))dlsym(lib, "openblas_set_num_threads");
    if (!f) {
        snprintf(buf, size, "the OpenBLAS library found has no cblas_sgemm");
        return -1;
    }
    if (threads) threads(1);  // our own workers split the rows; OpenBLAS runs inside each
    openblas_sgemm = f;
    return 0;
}

void fitstore_sgemm_nt(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                       float beta, float *c, int ldc) {
    // CBLAS enum values: CblasRowMajor 101, CblasNoTrans 111, CblasTrans 112.
    openblas_sgemm(101, 111, 112, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
