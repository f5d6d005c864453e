// C functions Swift cannot call directly: SQLite's variadic configuration call, Linux's
// renameat2, which Glibc's Swift module does not export, and setvbuf on stdout.
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

#endif
