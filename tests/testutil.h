/*
 * testutil.h - helpers shared by the Check suites.
 */
#ifndef YG_TESTUTIL_H
#define YG_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* Run one suite; returns the process exit code.  Every test case gets a
 * 60 s default timeout (CK_DEFAULT_TIMEOUT, set before main); timeout_s is
 * unused and kept for compatibility. */
int testutil_run(Suite *suite, double timeout_s);

/* Read a whole file into a malloc'd NUL-terminated buffer (NULL on error). */
char *testutil_read_file(const char *path, size_t *len);

/* Write text to a fresh file in a per-process temp dir; returns its path
 * (static storage, valid until the next call with the same name). */
const char *testutil_write_temp(const char *name, const char *text);

/* The per-process temporary directory (created on first use). */
const char *testutil_temp_dir(void);

#endif
