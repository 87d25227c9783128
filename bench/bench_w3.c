/*
 * bench_w3.c - workload W3 (bench/WORKLOADS): map fan-out.  `produce` (a
 * python tool served by the native function bench.make_items, spec 4.8
 * [C]) sets items = [0 .. N-1]; the map node `fan` runs one passthrough
 * sub-node task per item (doubled = item * 2), all in one superstep, and
 * collects them into `results`.
 *
 *   bench_w3 [--n N] [--runs R] [--warmup W] [--graph PATH]
 *            (N is 1000, 10000 or 100000; default R 5, W 2)
 *
 * Every run is timed on its own with VmHWM reset before it.  Every result
 * is checked: `results` has N elements whose values sum to N*(N-1); the
 * order (by index) is reported, not required.  Prints one line:
 *   W3 n=N ms_per_run=<median> items_per_s=... peak_rss_mb=<max>
 *      base_rss_mb=... ordered=1|0
 */
#include "bench_util.h"

#define W3_MAX_RUNS 1000L
#define W3_THREAD_ID_MAX 64

/* bench.make_items: the list [0 .. N-1]; arg points at N. */
static yg_value_t *w3_make_items(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)state;
    int64_t n = *(const int64_t *)arg;
    yg_value_t *list = yg_list_new();
    for (int64_t i = 0; list && i < n; i++) {
        if (yg_list_append(list, yg_int_new(i)) != YG_OK) {
            yg_value_destroy(&list);
            break;
        }
    }
    if (!list)
        yg_error_set(err, YG_ENOMEM, "out of memory building %lld items", (long long)n);
    return list;
}

/* The collected value of one item: spec 4.5 wraps a passthrough's update
 * as {_map_index, doubled, ...}; a bare value would come as {.., value}. */
static const yg_value_t *w3_item_value(const yg_value_t *item)
{
    if (yg_value_type(item) != YG_MAP)
        return item;
    const yg_value_t *v = yg_map_get(item, "doubled");
    return v ? v : yg_map_get(item, "value");
}

typedef struct w3_bench {
    int64_t n;
    volatile int done;
    bool ordered; /* every run so far came back in index order */
} w3_bench_t;

static void w3_on_result(const yg_result_t *r, void *arg)
{
    w3_bench_t *b = arg;
    bench_expect_status(r, YG_RUN_COMPLETED, "w3 run");
    const yg_value_t *results = yg_map_get(r->state, "results");
    if (yg_value_type(results) != YG_LIST || (int64_t)yg_list_size(results) != b->n)
        bench_die("w3 run %s: results has %zu elements (%s), wanted %lld", r->thread_id,
                  yg_list_size(results), yg_type_name(yg_value_type(results)),
                  (long long)b->n);
    int64_t sum = 0;
    for (int64_t i = 0; i < b->n; i++) {
        const yg_value_t *item = yg_list_get(results, (size_t)i);
        const yg_value_t *v = w3_item_value(item);
        if (yg_value_type(v) != YG_INT)
            bench_die("w3 run %s: results[%lld] holds no int (%s)", r->thread_id,
                      (long long)i, yg_type_name(yg_value_type(v)));
        sum += yg_value_int(v);
        if (yg_value_int(v) != 2 * i)
            b->ordered = false;
    }
    if (sum != b->n * (b->n - 1))
        bench_die("w3 run %s: sum %lld, wanted %lld", r->thread_id, (long long)sum,
                  (long long)(b->n * (b->n - 1)));
    b->done = 1;
}

static void w3_run(yg_client_t *c, yg_graph_t *g, w3_bench_t *b, long serial)
{
    char thread[W3_THREAD_ID_MAX];
    snprintf(thread, sizeof thread, "w3-none-%ld", serial);
    yg_run_opts_t opts = {.thread_id = thread};
    b->done = 0;
    int64_t id = yg_run_graph_async(c, g, NULL, &opts, w3_on_result, b);
    if (id <= 0)
        bench_die("submit failed: %s", yg_strerror((int)id));
    bench_wait_flag(c, &b->done);
}

int main(int argc, char **argv)
{
    const char *graph_arg = NULL;
    long runs = 5, warmup = 2, n = 1000;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            bench_die("option %s needs a value (see the header of bench_w3.c)", argv[i]);
        if (!strcmp(argv[i], "--n"))
            n = bench_arg_long(argv[++i], 1, 100000, "--n");
        else if (!strcmp(argv[i], "--runs"))
            runs = bench_arg_long(argv[++i], 1, W3_MAX_RUNS, "--runs");
        else if (!strcmp(argv[i], "--warmup"))
            warmup = bench_arg_long(argv[++i], 0, W3_MAX_RUNS, "--warmup");
        else if (!strcmp(argv[i], "--graph"))
            graph_arg = argv[++i];
        else
            bench_die("unknown option %s", argv[i]);
    }
    if (!graph_arg && n != 1000 && n != 10000 && n != 100000)
        bench_die("--n must be 1000, 10000 or 100000 (or give --graph)");
    w3_bench_t b = {.n = n, .ordered = true};
    if (yg_native_register("bench", "make_items", w3_make_items, &b.n) != YG_OK)
        bench_die("cannot register bench.make_items");

    char path[BENCH_PATH_MAX], name[64];
    snprintf(name, sizeof name, "w3_map_%ld.yaml", n);
    bench_graph_path(path, sizeof path, graph_arg, name);
    yg_runtime_t *rt = bench_runtime(NULL);
    yg_graph_t *g = bench_load(rt, path);
    yg_client_t *c = yg_client_new(rt);
    if (!c)
        bench_die("out of memory");

    long serial = 0;
    for (long k = 0; k < warmup; k++)
        w3_run(c, g, &b, serial++);

    double *ms = calloc((size_t)runs, sizeof *ms);
    if (!ms)
        bench_die("out of memory");
    double peak = 0, base = -1;
    bench_usage_t u0 = bench_usage();
    for (long k = 0; k < runs; k++) {
        double rss = bench_rss_reset();
        if (base < 0)
            base = rss;
        double t0 = bench_now_s();
        w3_run(c, g, &b, serial++);
        ms[k] = (bench_now_s() - t0) * 1e3;
        double hwm = bench_peak_rss();
        if (hwm > peak)
            peak = hwm;
    }
    bench_usage_t u1 = bench_usage();
    double med = bench_median(ms, (size_t)runs);
    printf("W3 n=%ld ms_per_run=%.3f items_per_s=%.1f peak_rss_mb=%.1f base_rss_mb=%.1f "
           "ordered=%d min_ms=%.3f max_ms=%.3f cpu_us_per_item=%.2f csw_per_item=%.3f\n",
           n, med, n / (med / 1e3), peak, base, b.ordered ? 1 : 0, ms[0], ms[runs - 1],
           (u1.cpu_s - u0.cpu_s) * 1e6 / ((double)n * runs), (u1.csw - u0.csw) / ((double)n * runs));
    free(ms);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
    return 0;
}
