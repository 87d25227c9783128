/*
 * bench_util.h - helpers shared by the benchmark programs (header-only:
 * every bench .c file is its own executable, see CMakeLists.txt).
 *
 * Method (bench/WORKLOADS contract): a monotonic clock around the measured
 * phase; peak RSS is the kernel's VmHWM, reset before the measured phase
 * with `echo 5 > /proc/self/clear_refs`; every result is checked and a
 * wrong result aborts the program with exit status 1.
 *
 * Output: one line per program, "<WORKLOAD> key=value key=value ...",
 * which bench/run.sh collects over 3 fresh processes to print medians.
 */
#ifndef YG_BENCH_UTIL_H
#define YG_BENCH_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "yamlgraph/yamlgraph.h"
#include "yamlgraph/yg_native.h"

/* Longest graph path accepted from the command line or derived. */
#define BENCH_PATH_MAX 4096
/* Per-wait timeout: a run that takes this long is a failure, not a slow run. */
#define BENCH_WAIT_MS 60000

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 1, 2), noreturn)) static inline void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* A "VmXXX:   1234 kB" field of /proc/self/status in MiB; -1 if unreadable. */
static inline double bench_status_mb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t flen = strlen(field);
    double mb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            mb = strtod(line + flen + 1, NULL) / 1024.0;
            break;
        }
    }
    fclose(f);
    return mb;
}

/* Reset the RSS high-water mark (VmHWM := VmRSS) and return the RSS at the
 * reset point (base_rss_mb). */
static inline double bench_rss_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0 || fclose(f) != 0)
        bench_die("cannot reset VmHWM through /proc/self/clear_refs");
    return bench_status_mb("VmRSS");
}

static inline double bench_peak_rss(void)
{
    return bench_status_mb("VmHWM");
}

/* Process-wide CPU time and context switches (all threads), for the
 * "where does the time go" columns: cpu_us and csw per unit of work. */
typedef struct bench_usage {
    double cpu_s;  /* user + system */
    double csw;    /* voluntary + involuntary context switches */
} bench_usage_t;

static inline bench_usage_t bench_usage(void)
{
    struct rusage ru;
    bench_usage_t u = {0, 0};
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        u.cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                  (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        u.csw = (double)ru.ru_nvcsw + (double)ru.ru_nivcsw;
    }
    return u;
}

/* The graph file: --graph PATH, else bench/graphs/<name> beside this
 * source file (__FILE__ is absolute under CMake). */
static inline void bench_graph_path(char *out, size_t size, const char *given, const char *name)
{
    if (given) {
        snprintf(out, size, "%s", given);
        return;
    }
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    int dirlen = slash ? (int)(slash - src) : 1;
    snprintf(out, size, "%.*s/graphs/%s", dirlen, slash ? src : ".", name);
}

/* A runtime with warnings off (the benchmarks print their own line). */
static inline yg_runtime_t *bench_runtime(const char *checkpointer)
{
    yg_runtime_opts_t o;
    yg_runtime_opts_init(&o);
    o.log_level = YG_LOG_ERROR;
    o.checkpointer = checkpointer;
    yg_error_t err = {0};
    yg_runtime_t *rt = yg_runtime_new(&o, &err);
    if (!rt)
        bench_die("runtime: %s", err.message);
    return rt;
}

static inline yg_graph_t *bench_load(yg_runtime_t *rt, const char *path)
{
    yg_graph_t *g = NULL;
    yg_error_t err = {0};
    if (yg_runtime_load_graph(rt, path, &g, &err) != YG_OK)
        bench_die("%s:%d:%d: %s", err.file[0] ? err.file : path, err.line, err.column,
                  err.message);
    return g;
}

/* Wait until *flag is set (by a callback), dispatching replies. */
static inline void bench_wait_flag(yg_client_t *c, const volatile int *flag)
{
    while (!*flag) {
        int rc = yg_client_wait(c, BENCH_WAIT_MS);
        if (rc < 0)
            bench_die("client wait failed: %d", rc);
        if (rc == 0 && !*flag)
            bench_die("no reply within %d ms", BENCH_WAIT_MS);
    }
}

/* Die unless the result is `want` (printing the error or the state). */
static inline void bench_expect_status(const yg_result_t *r, yg_run_status_t want,
                                       const char *what)
{
    if (r->status == want)
        return;
    char *state = yg_result_compat_json(r, false);
    bench_die("%s: status %s, wanted %s (error %d: %s; state %s)", what,
              yg_run_status_name(r->status), yg_run_status_name(want), r->error.code,
              r->error.message, state ? state : "?");
}

/* The integer at state[key]; dies when absent or not an int. */
static inline int64_t bench_state_int(const yg_result_t *r, const char *key, const char *what)
{
    const yg_value_t *v = yg_map_get(r->state, key);
    if (yg_value_type(v) != YG_INT) {
        char *state = yg_result_compat_json(r, false);
        bench_die("%s: state.%s is %s, wanted an int (state %s)", what, key,
                  yg_type_name(yg_value_type(v)), state ? state : "?");
    }
    return yg_value_int(v);
}

/* Integer command-line value with bounds. */
static inline long bench_arg_long(const char *text, long min, long max, const char *name)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!end || *end || v < min || v > max)
        bench_die("%s must be an integer in [%ld, %ld], got '%s'", name, min, max, text);
    return v;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts them in place). */
static inline double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
