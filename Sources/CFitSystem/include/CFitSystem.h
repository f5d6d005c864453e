// C functions Swift cannot call directly: SQLite's variadic configuration call, Linux's
// renameat2, which Glibc's Swift module does not export, setvbuf on stdout, the CPUID
// instruction, and OpenBLAS loaded only when asked for.
#ifndef CFITSYSTEM_H
#define CFITSYSTEM_H

// Declared here, defined by <sqlite3.h> in the .c file: Swift reaches SQLite through GRDB's
// module, and a second import of the whole header would clash with it.
typedef struct sqlite3 sqlite3;

/// Turns on SQLite's defensive settings for a connection that runs statements a user typed:
/// SQLITE_DBCONFIG_DEFENSIVE on, the two-argument fts3_tokenizer() off, the schema untrusted
/// (functions with side effects never run from a view or trigger), extension loading off,
/// triggers and views as they are, and no database may be attached. Returns SQLITE_OK or the
/// first error code.
int fitstore_sqlite_harden(sqlite3 *db);

/// Atomically exchanges two paths (files or folders) with renameat2(RENAME_EXCHANGE).
/// Returns 0, or -1 with errno set (EINVAL/ENOSYS where the file system or kernel cannot).
int fitstore_rename_exchange(const char *a, const char *b);

/// Makes standard output line-buffered whatever it is connected to (Swift's strict concurrency
/// does not let Swift code name the global `stdout`).
void fitstore_line_buffer_stdout(void);

#include <stddef.h>

/// The x86-64 features the numeric modules are compiled for (`-target-cpu haswell`: AVX, AVX2,
/// FMA, F16C, BMI1, BMI2, LZCNT, MOVBE, POPCNT, and the operating system saving AVX state)
/// that this CPU lacks, as a comma-separated list written into `buf` (empty when none is
/// missing). Compiled for any x86-64, so it runs before any of that code can fault.
void fitstore_missing_cpu_features(char *buf, size_t size);

/// Loads OpenBLAS (libopenblas.so.0, else libopenblas.so) the first time it is asked for,
/// and sets it to one thread. Only the speed-ceiling measure (`encode --measure-ceiling`)
/// calls it: the encoder and trainer use no BLAS, so the binary runs where OpenBLAS is
/// absent. Returns 0, or -1 with the reason in `buf`.
int fitstore_openblas_load(char *buf, size_t size);

/// cblas_sgemm(RowMajor, NoTrans, Trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
/// through the loaded library: C = alpha A Bᵀ + beta C. Call only after a successful load.
void fitstore_sgemm_nt(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                       float beta, float *c, int ldc);

#endif
