#define _GNU_SOURCE
#include <sqlite3.h>
#include "CFitSystem.h"

#include <errno.h>
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
