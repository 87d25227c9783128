/*
 * bench_w1.c - workloads W1, W1c and W1m (bench/WORKLOADS): a chain of 10
 * passthrough nodes, counter 0 -> 10, through the runtime's actors.
 *
 *   bench_w1 [--mode w1|w1c|w1m] [--runs R] [--warmup W] [--inflight K]
 *            [--graph PATH] [--durability sync|async]
 *
 *   w1   sequential runs, no checkpointer        (default R 2000, W 200)
 *   w1c  K runs in flight (default 64), a new run starts whenever one
 *        finishes, no checkpointer               (default R 20000, W 200)
 *   w1m  sequential runs, memory checkpointer, every checkpoint kept
 *                                                (default R 2000, W 200)
 *
 * --durability sets the runs' checkpoint durability (default sync;
 * docs/checkpoints.md "Durability"; only w1m has a checkpointer).
 *
 * Every run has a fresh thread id and every result is checked
 * (status completed, counter == 10).  Prints one line (label W1m-async
 * for w1m with --durability async):
 *   W1 runs_per_s=... node_steps_per_s=... us_per_run=... peak_rss_mb=...
 *      base_rss_mb=...
 */
#include "bench_util.h"

#define W1_NODES 10
#define W1_MAX_RUNS 10000000L
#define W1_MAX_INFLIGHT 100000L
#define W1_THREAD_ID_MAX 64

typedef struct w1_bench {
    yg_client_t *client;
    yg_graph_t *graph;
    yg_value_t *input;     /* {counter: 0} */
    const char *thread_prefix;
    long started;          /* runs submitted so far (thread id counter) */
    long target;           /* runs to submit in the current phase */
    long finished;         /* results checked in the current phase */
    volatile int seq_done; /* sequential mode: the current run finished */
    yg_durability_t durability;
} w1_bench_t;

static void w1_on_result(const yg_result_t *r, void *arg);

static void w1_submit(w1_bench_t *b)
{
    char thread[W1_THREAD_ID_MAX];
    snprintf(thread, sizeof thread, "%s-%ld", b->thread_prefix, b->started++);
    yg_run_opts_t opts = {.thread_id = thread, .durability = b->durability};
    int64_t id = yg_run_graph_async(b->client, b->graph, b->input, &opts, w1_on_result, b);
    if (id <= 0)
        bench_die("submit failed: %s", yg_strerror((int)id));
}

static void w1_on_result(const yg_result_t *r, void *arg)
{
    w1_bench_t *b = arg;
    bench_expect_status(r, YG_RUN_COMPLETED, "w1 run");
    int64_t counter = bench_state_int(r, "counter", "w1 run");
    if (counter != W1_NODES)
        bench_die("w1 run %s: counter %lld, wanted %d", r->thread_id, (long long)counter,
                  W1_NODES);
    b->finished++;
    b->seq_done = 1;
}

/* n sequential runs: each is awaited before the next starts. */
static void w1_sequential(w1_bench_t *b, long n)
{
    for (long i = 0; i < n; i++) {
        b->seq_done = 0;
        w1_submit(b);
        bench_wait_flag(b->client, &b->seq_done);
    }
}

/* n runs with `inflight` in flight: a new one starts when one finishes. */
static void w1_concurrent(w1_bench_t *b, long n, long inflight)
{
    long first = b->started;
    long done0 = b->finished;
    while (b->started - first < n && b->started - first < inflight)
        w1_submit(b);
    while (b->finished - done0 < n) {
        long before = b->finished;
        int rc = yg_client_wait(b->client, BENCH_WAIT_MS);
        if (rc < 0)
            bench_die("client wait failed: %d", rc);
        if (rc == 0 && b->finished == before)
            bench_die("no reply within %d ms", BENCH_WAIT_MS);
        /* Top up after the whole batch of replies was handled. */
        while (b->started - first < n && (b->started - first) - (b->finished - done0) < inflight)
            w1_submit(b);
    }
}

int main(int argc, char **argv)
{
    const char *mode = "w1", *graph_arg = NULL;
    long runs = -1, warmup = 200, inflight = 64;
    yg_durability_t durability = YG_DURABILITY_SYNC;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            bench_die("option %s needs a value (see the header of bench_w1.c)", argv[i]);
        if (!strcmp(argv[i], "--mode"))
            mode = argv[++i];
        else if (!strcmp(argv[i], "--runs"))
            runs = bench_arg_long(argv[++i], 1, W1_MAX_RUNS, "--runs");
        else if (!strcmp(argv[i], "--warmup"))
            warmup = bench_arg_long(argv[++i], 0, W1_MAX_RUNS, "--warmup");
        else if (!strcmp(argv[i], "--inflight"))
            inflight = bench_arg_long(argv[++i], 1, W1_MAX_INFLIGHT, "--inflight");
        else if (!strcmp(argv[i], "--graph"))
            graph_arg = argv[++i];
        else if (!strcmp(argv[i], "--durability")) {
            if (yg_durability_parse(argv[++i], &durability) != YG_OK)
                bench_die("--durability must be sync or async");
        } else
            bench_die("unknown option %s", argv[i]);
    }
    bool concurrent = !strcmp(mode, "w1c");
    bool memory = !strcmp(mode, "w1m");
    if (!concurrent && !memory && strcmp(mode, "w1") != 0)
        bench_die("--mode must be w1, w1c or w1m");
    if (runs < 0)
        runs = concurrent ? 20000 : 2000;

    char path[BENCH_PATH_MAX];
    bench_graph_path(path, sizeof path, graph_arg, memory ? "w1m_chain.yaml" : "w1_chain.yaml");
    yg_runtime_t *rt = bench_runtime(NULL);
    w1_bench_t b = {0};
    b.durability = durability;
    b.graph = bench_load(rt, path);
    b.client = yg_client_new(rt);
    b.input = yg_map_new();
    if (!b.client || !b.input || yg_map_set(b.input, "counter", yg_int_new(0)) != YG_OK)
        bench_die("out of memory");
    b.thread_prefix = memory ? "w1-mem" : concurrent ? "w1c-none" : "w1-none";

    /* Warm-up (not timed). */
    if (concurrent)
        w1_concurrent(&b, warmup, inflight);
    else
        w1_sequential(&b, warmup);

    double base = bench_rss_reset();
    b.finished = 0;
    bench_usage_t u0 = bench_usage();
    double t0 = bench_now_s();
    if (concurrent)
        w1_concurrent(&b, runs, inflight);
    else
        w1_sequential(&b, runs);
    double elapsed = bench_now_s() - t0;
    bench_usage_t u1 = bench_usage();
    double peak = bench_peak_rss();
    if (b.finished != runs)
        bench_die("%ld results for %ld runs", b.finished, runs);

    printf("%s runs_per_s=%.1f node_steps_per_s=%.1f us_per_run=%.2f peak_rss_mb=%.1f "
           "base_rss_mb=%.1f runs=%ld cpu_us_per_step=%.2f csw_per_step=%.2f\n",
           concurrent                                      ? "W1c"
           : memory && durability == YG_DURABILITY_ASYNC ? "W1m-async"
           : memory                                      ? "W1m"
                                                         : "W1",
           runs / elapsed,
           W1_NODES * runs / elapsed, elapsed * 1e6 / runs, peak, base, runs,
           (u1.cpu_s - u0.cpu_s) * 1e6 / (W1_NODES * runs), (u1.csw - u0.csw) / (W1_NODES * runs));
    yg_value_destroy(&b.input);
    yg_client_destroy(&b.client);
    yg_runtime_destroy(&rt);
    return 0;
}
