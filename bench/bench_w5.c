/*
 * bench_w5.c - workload W5 (bench/WORKLOADS): interrupt / resume with the
 * memory checkpointer, through the runtime's actors.  One cycle on thread
 * w5-mem-<k>:
 *   1. run {question: "q<k>"}  -> interrupted, payload "q<k>"
 *   2. resume "a<k>"           -> completed, result == "got:a<k>"
 * The resume goes through the checkpointer (the coordinator loads the
 * thread's latest checkpoint).  After the loop the last thread's state is
 * read back: result set, no next node.
 *
 *   bench_w5 [--cycles T] [--warmup W] [--graph PATH] [--durability sync|async]
 *   (default T 2000, W 100, durability sync: docs/checkpoints.md "Durability")
 *
 * Graph adaptations forced by the spec are described in
 * bench/graphs/w5_interrupt.yaml and bench/README.md.  Prints one line
 * (label W5-async with --durability async):
 *   W5 cycles_per_s=... ms_per_cycle=... peak_rss_mb=... base_rss_mb=...
 */
#include "bench_util.h"

#define W5_THREAD_ID_MAX 64
#define W5_TEXT_MAX 64

/* bench.record: {result: "got:" + state.answer}. */
static yg_value_t *w5_record(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)arg;
    const yg_value_t *answer = yg_map_get(state, "answer");
    if (yg_value_type(answer) != YG_STR) {
        yg_error_set(err, YG_ESTATE, "record: state.answer is %s, not a string",
                     yg_type_name(yg_value_type(answer)));
        return NULL;
    }
    yg_value_t *update = yg_map_new();
    if (!update || yg_map_set(update, "result", yg_str_newf("got:%s", yg_value_str(answer))))
        yg_value_destroy(&update);
    if (!update)
        yg_error_set(err, YG_ENOMEM, "out of memory");
    return update;
}

typedef struct w5_bench {
    long k;             /* the cycle in progress */
    volatile int done;
    yg_durability_t durability;
} w5_bench_t;

static void w5_on_interrupt(const yg_result_t *r, void *arg)
{
    w5_bench_t *b = arg;
    bench_expect_status(r, YG_RUN_INTERRUPTED, "w5 run");
    char want[W5_TEXT_MAX];
    snprintf(want, sizeof want, "q%ld", b->k);
    const yg_value_t *intr = yg_list_get(r->interrupts, 0);
    const yg_value_t *payload = yg_map_get(intr, "value");
    if (yg_list_size(r->interrupts) != 1 || yg_value_type(payload) != YG_STR ||
        strcmp(yg_value_str(payload), want) != 0) {
        char *json = yg_json_encode(r->interrupts, false, NULL);
        bench_die("w5 run %s: interrupts %s, wanted one with payload \"%s\"", r->thread_id,
                  json ? json : "?", want);
    }
    b->done = 1;
}

static void w5_on_resumed(const yg_result_t *r, void *arg)
{
    w5_bench_t *b = arg;
    bench_expect_status(r, YG_RUN_COMPLETED, "w5 resume");
    char want[W5_TEXT_MAX];
    snprintf(want, sizeof want, "got:a%ld", b->k);
    const yg_value_t *result = yg_map_get(r->state, "result");
    if (yg_value_type(result) != YG_STR || strcmp(yg_value_str(result), want) != 0)
        bench_die("w5 resume %s: result %s, wanted \"%s\"", r->thread_id,
                  yg_value_str(result) ? yg_value_str(result) : "(not a string)", want);
    b->done = 1;
}

static void w5_cycle(yg_client_t *c, yg_graph_t *g, w5_bench_t *b, long k)
{
    char thread[W5_THREAD_ID_MAX], text[W5_TEXT_MAX];
    snprintf(thread, sizeof thread, "w5-mem-%ld", k);
    yg_run_opts_t opts = {.thread_id = thread, .durability = b->durability};
    b->k = k;

    snprintf(text, sizeof text, "q%ld", k);
    yg_value_t *input = yg_map_new();
    if (!input || yg_map_set(input, "question", yg_str_new(text)) != YG_OK)
        bench_die("out of memory");
    b->done = 0;
    int64_t id = yg_run_graph_async(c, g, input, &opts, w5_on_interrupt, b);
    yg_value_destroy(&input);
    if (id <= 0)
        bench_die("submit failed: %s", yg_strerror((int)id));
    bench_wait_flag(c, &b->done);

    snprintf(text, sizeof text, "a%ld", k);
    yg_value_t *answer = yg_str_new(text);
    b->done = 0;
    id = yg_resume_async(c, g, answer, &opts, w5_on_resumed, b);
    yg_value_destroy(&answer);
    if (id <= 0)
        bench_die("resume failed: %s", yg_strerror((int)id));
    bench_wait_flag(c, &b->done);
}

/* getState of the last thread: result set and no next node. */
static void w5_check_last(yg_client_t *c, yg_graph_t *g, long k)
{
    char thread[W5_THREAD_ID_MAX];
    snprintf(thread, sizeof thread, "w5-mem-%ld", k);
    yg_result_t r;
    int rc = yg_get_state(c, g, thread, BENCH_WAIT_MS, &r);
    if (rc != YG_OK)
        bench_die("get_state %s: %s", thread, yg_strerror(rc));
    if (r.status == YG_RUN_ERROR)
        bench_die("get_state %s: %s", thread, r.error.message);
    const yg_value_t *next = yg_map_get(r.snapshot, "next");
    if (yg_value_type(yg_map_get(r.state, "result")) != YG_STR ||
        (next && yg_list_size(next) != 0)) {
        char *json = yg_json_encode(r.snapshot, false, NULL);
        bench_die("get_state %s: result unset or a next node pending: %s", thread,
                  json ? json : "?");
    }
    yg_result_release(&r);
}

int main(int argc, char **argv)
{
    const char *graph_arg = NULL;
    long cycles = 2000, warmup = 100;
    yg_durability_t durability = YG_DURABILITY_SYNC;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            bench_die("option %s needs a value (see the header of bench_w5.c)", argv[i]);
        if (!strcmp(argv[i], "--cycles"))
            cycles = bench_arg_long(argv[++i], 1, 10000000L, "--cycles");
        else if (!strcmp(argv[i], "--warmup"))
            warmup = bench_arg_long(argv[++i], 0, 10000000L, "--warmup");
        else if (!strcmp(argv[i], "--graph"))
            graph_arg = argv[++i];
        else if (!strcmp(argv[i], "--durability")) {
            if (yg_durability_parse(argv[++i], &durability) != YG_OK)
                bench_die("--durability must be sync or async");
        } else
            bench_die("unknown option %s", argv[i]);
    }
    if (yg_native_register("bench", "record", w5_record, NULL) != YG_OK)
        bench_die("cannot register bench.record");
    char path[BENCH_PATH_MAX];
    bench_graph_path(path, sizeof path, graph_arg, "w5_interrupt.yaml");
    yg_runtime_t *rt = bench_runtime(NULL);
    yg_graph_t *g = bench_load(rt, path);
    yg_client_t *c = yg_client_new(rt);
    if (!c)
        bench_die("out of memory");

    w5_bench_t b = {.durability = durability};
    long k = 0;
    for (; k < warmup; k++)
        w5_cycle(c, g, &b, k);

    double base = bench_rss_reset();
    bench_usage_t u0 = bench_usage();
    double t0 = bench_now_s();
    for (long end = k + cycles; k < end; k++)
        w5_cycle(c, g, &b, k);
    double elapsed = bench_now_s() - t0;
    bench_usage_t u1 = bench_usage();
    double peak = bench_peak_rss();
    w5_check_last(c, g, k - 1);

    printf("%s cycles_per_s=%.1f ms_per_cycle=%.4f peak_rss_mb=%.1f base_rss_mb=%.1f "
           "cycles=%ld cpu_us_per_cycle=%.1f csw_per_cycle=%.2f\n",
           durability == YG_DURABILITY_ASYNC ? "W5-async" : "W5", cycles / elapsed,
           elapsed * 1e3 / cycles, peak, base, cycles,
           (u1.cpu_s - u0.cpu_s) * 1e6 / cycles, (u1.csw - u0.csw) / cycles);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
    return 0;
}
