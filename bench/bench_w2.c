/*
 * bench_w2.c - workload W2 (bench/WORKLOADS): the router loop.  `inc`
 * adds 1 to i and a conditional edge loops back while i < 100, so one run
 * is 100 node steps and 100 edge evaluations, through the runtime's actors.
 *
 *   bench_w2 [--runs R] [--warmup W] [--graph PATH]     (default R 50, W 10)
 *
 * Runs are sequential, each with a fresh thread id; every result is
 * checked (status completed, i == 100).  Prints one line:
 *   W2 steps_per_s=... us_per_step=... runs_per_s=... peak_rss_mb=...
 *      base_rss_mb=...
 */
#include "bench_util.h"

#define W2_STEPS 100
#define W2_MAX_RUNS 1000000L
#define W2_THREAD_ID_MAX 64

typedef struct w2_bench {
    long finished;
    volatile int done;
} w2_bench_t;

static void w2_on_result(const yg_result_t *r, void *arg)
{
    w2_bench_t *b = arg;
    bench_expect_status(r, YG_RUN_COMPLETED, "w2 run");
    int64_t i = bench_state_int(r, "i", "w2 run");
    if (i != W2_STEPS)
        bench_die("w2 run %s: i == %lld, wanted %d", r->thread_id, (long long)i, W2_STEPS);
    b->finished++;
    b->done = 1;
}

static void w2_runs(yg_client_t *c, yg_graph_t *g, const yg_value_t *input, w2_bench_t *b,
                    long n, long *serial)
{
    for (long k = 0; k < n; k++) {
        char thread[W2_THREAD_ID_MAX];
        snprintf(thread, sizeof thread, "w2-none-%ld", (*serial)++);
        yg_run_opts_t opts = {.thread_id = thread};
        b->done = 0;
        int64_t id = yg_run_graph_async(c, g, input, &opts, w2_on_result, b);
        if (id <= 0)
            bench_die("submit failed: %s", yg_strerror((int)id));
        bench_wait_flag(c, &b->done);
    }
}

int main(int argc, char **argv)
{
    const char *graph_arg = NULL;
    long runs = 50, warmup = 10;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            bench_die("option %s needs a value (see the header of bench_w2.c)", argv[i]);
        if (!strcmp(argv[i], "--runs"))
            runs = bench_arg_long(argv[++i], 1, W2_MAX_RUNS, "--runs");
        else if (!strcmp(argv[i], "--warmup"))
            warmup = bench_arg_long(argv[++i], 0, W2_MAX_RUNS, "--warmup");
        else if (!strcmp(argv[i], "--graph"))
            graph_arg = argv[++i];
        else
            bench_die("unknown option %s", argv[i]);
    }
    char path[BENCH_PATH_MAX];
    bench_graph_path(path, sizeof path, graph_arg, "w2_router.yaml");
    yg_runtime_t *rt = bench_runtime(NULL);
    yg_graph_t *g = bench_load(rt, path);
    yg_client_t *c = yg_client_new(rt);
    yg_value_t *input = yg_map_new();
    if (!c || !input || yg_map_set(input, "i", yg_int_new(0)) != YG_OK)
        bench_die("out of memory");

    w2_bench_t b = {0};
    long serial = 0;
    w2_runs(c, g, input, &b, warmup, &serial);

    double base = bench_rss_reset();
    b.finished = 0;
    bench_usage_t u0 = bench_usage();
    double t0 = bench_now_s();
    w2_runs(c, g, input, &b, runs, &serial);
    double elapsed = bench_now_s() - t0;
    bench_usage_t u1 = bench_usage();
    double peak = bench_peak_rss();
    if (b.finished != runs)
        bench_die("%ld results for %ld runs", b.finished, runs);

    double steps = (double)W2_STEPS * runs;
    printf("W2 steps_per_s=%.1f us_per_step=%.2f runs_per_s=%.1f peak_rss_mb=%.1f "
           "base_rss_mb=%.1f runs=%ld cpu_us_per_step=%.2f csw_per_step=%.2f\n",
           steps / elapsed, elapsed * 1e6 / steps, runs / elapsed, peak, base, runs,
           (u1.cpu_s - u0.cpu_s) * 1e6 / steps, (u1.csw - u0.csw) / steps);
    yg_value_destroy(&input);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
    return 0;
}
