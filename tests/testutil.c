/*
 * testutil.c - helpers shared by the Check suites.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Check reads CK_DEFAULT_TIMEOUT when a test case is created, which is
 * before testutil_run is called, so the default is set before main runs.
 * A suite's own tcase_set_timeout still wins; the environment can override. */
#define TESTUTIL_DEFAULT_TIMEOUT "60"

__attribute__((constructor)) static void testutil_default_timeout(void)
{
    setenv("CK_DEFAULT_TIMEOUT", TESTUTIL_DEFAULT_TIMEOUT, 0);
}

int testutil_run(Suite *suite, double timeout_s)
{
    (void)timeout_s; /* kept for the callers; see testutil_default_timeout */
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

char *testutil_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long size = ftell(f);
    rewind(f);
    char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[size] = '\0';
    if (len)
        *len = (size_t)size;
    return buf;
}

const char *testutil_temp_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/yg-test-%d", (int)getpid());
        mkdir(dir, 0700);
    }
    return dir;
}

const char *testutil_write_temp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", testutil_temp_dir(), name);
    /* create intermediate directories named in `name` */
    for (char *p = path + strlen(testutil_temp_dir()) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}
