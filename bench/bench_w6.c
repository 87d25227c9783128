/*
 * bench_w6.c - workload W6 (bench/WORKLOADS): W5's interrupt / resume with
 * the checkpoints in Redis, through the runtime's actors.  One cycle on
 * thread w6-redis-<k>:
 *   1. run {question: "q<k>"}  -> interrupted, payload "q<k>"
 *   2. resume "a<k>"           -> completed, result == "got:a<k>"
 * Every resume loads the thread's latest checkpoint from Redis (the store
 * keeps no run in memory; another process could resume it).  After the
 * loop the last thread's state is read back: result set, no next node.
 *
 * The redis-server is the runner's (bench/README.md, W6):
 *   redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no
 * Each process flushes the database first (one rep = one fresh process).
 *
 *   bench_w6 [--cycles T] [--warmup W] [--graph PATH] [--redis URL]
 *            [--durability sync|async]
 *   (default T 2000, W 100; URL: the graph's, redis://127.0.0.1:6390;
 *   a URL given here is the runtime's checkpointer for the graph;
 *   durability sync, docs/checkpoints.md "Durability")
 *
 * Prints one line (label W6-async with --durability async):
 *   W6 cycles_per_s=... ms_per_cycle=... peak_rss_mb=... base_rss_mb=...
 *      redis_cmds_per_cycle=... (INFO commandstats delta, script-internal
 *      calls included) redis_scripts_per_cycle=... (round trips)
 *      redis_cpu_us_per_cycle=... cpu_us_per_cycle=... csw_per_cycle=...
 */
#include "bench_util.h"
#include "yg_redis_loop.h"

#include <hiredis/hiredis.h>

#define W6_THREAD_ID_MAX 64
#define W6_TEXT_MAX 64
#define W6_DEFAULT_URL "redis://127.0.0.1:6390"
#define W6_REDIS_TIMEOUT_S 5

static yg_value_t *w6_record(const yg_value_t *state, void *arg, yg_error_t *err)
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

typedef struct w6_bench {
    long k;
    volatile int done;
    yg_durability_t durability;
} w6_bench_t;

static void w6_on_interrupt(const yg_result_t *r, void *arg)
{
    w6_bench_t *b = arg;
    bench_expect_status(r, YG_RUN_INTERRUPTED, "w6 run");
    char want[W6_TEXT_MAX];
    snprintf(want, sizeof want, "q%ld", b->k);
    const yg_value_t *payload = yg_map_get(yg_list_get(r->interrupts, 0), "value");
    if (yg_list_size(r->interrupts) != 1 || yg_value_type(payload) != YG_STR
        || strcmp(yg_value_str(payload), want) != 0) {
        char *json = yg_json_encode(r->interrupts, false, NULL);
        bench_die("w6 run %s: interrupts %s, wanted one with payload \"%s\"", r->thread_id,
                  json ? json : "?", want);
    }
    b->done = 1;
}

static void w6_on_resumed(const yg_result_t *r, void *arg)
{
    w6_bench_t *b = arg;
    bench_expect_status(r, YG_RUN_COMPLETED, "w6 resume");
    char want[W6_TEXT_MAX];
    snprintf(want, sizeof want, "got:a%ld", b->k);
    const yg_value_t *result = yg_map_get(r->state, "result");
    if (yg_value_type(result) != YG_STR || strcmp(yg_value_str(result), want) != 0)
        bench_die("w6 resume %s: result %s, wanted \"%s\"", r->thread_id,
                  yg_value_str(result) ? yg_value_str(result) : "(not a string)", want);
    b->done = 1;
}

static void w6_cycle(yg_client_t *c, yg_graph_t *g, w6_bench_t *b, long k)
{
    char thread[W6_THREAD_ID_MAX], text[W6_TEXT_MAX];
    snprintf(thread, sizeof thread, "w6-redis-%ld", k);
    yg_run_opts_t opts = {.thread_id = thread, .durability = b->durability};
    b->k = k;

    snprintf(text, sizeof text, "q%ld", k);
    yg_value_t *input = yg_map_new();
    if (!input || yg_map_set(input, "question", yg_str_new(text)) != YG_OK)
        bench_die("out of memory");
    b->done = 0;
    int64_t id = yg_run_graph_async(c, g, input, &opts, w6_on_interrupt, b);
    yg_value_destroy(&input);
    if (id <= 0)
        bench_die("submit failed: %s", yg_strerror((int)id));
    bench_wait_flag(c, &b->done);

    snprintf(text, sizeof text, "a%ld", k);
    yg_value_t *answer = yg_str_new(text);
    b->done = 0;
    id = yg_resume_async(c, g, answer, &opts, w6_on_resumed, b);
    yg_value_destroy(&answer);
    if (id <= 0)
        bench_die("resume failed: %s", yg_strerror((int)id));
    bench_wait_flag(c, &b->done);
}

static void w6_check_last(yg_client_t *c, yg_graph_t *g, long k)
{
    char thread[W6_THREAD_ID_MAX];
    snprintf(thread, sizeof thread, "w6-redis-%ld", k);
    yg_result_t r;
    int rc = yg_get_state(c, g, thread, BENCH_WAIT_MS, &r);
    if (rc != YG_OK)
        bench_die("get_state %s: %s", thread, yg_strerror(rc));
    if (r.status == YG_RUN_ERROR)
        bench_die("get_state %s: %s", thread, r.error.message);
    const yg_value_t *next = yg_map_get(r.snapshot, "next");
    if (yg_value_type(yg_map_get(r.state, "result")) != YG_STR
        || (next && yg_list_size(next) != 0)) {
        char *json = yg_json_encode(r.snapshot, false, NULL);
        bench_die("get_state %s: result unset or a next node pending: %s", thread,
                  json ? json : "?");
    }
    yg_result_release(&r);
}

/* --- the benchmark's own (blocking) view of the server ------------------------ */

static redisContext *w6_admin_connect(const char *url)
{
    yg_redis_target_t t;
    yg_error_t err = {0};
    if (yg_redis_parse_url(url, &t, &err) != YG_OK)
        bench_die("%s", err.message);
    struct timeval tv = {W6_REDIS_TIMEOUT_S, 0};
    redisContext *rc = t.unix_path ? redisConnectUnixWithTimeout(t.unix_path, tv)
                                   : redisConnectWithTimeout(t.host, t.port, tv);
    if (!rc || rc->err)
        bench_die("cannot connect to redis at %s: %s (start it as bench/README.md says)", url,
                  rc ? rc->errstr : "out of memory");
    redisSetTimeout(rc, tv);
    redisReply *r = NULL;
    if (t.password)
        r = t.username ? redisCommand(rc, "AUTH %s %s", t.username, t.password)
                       : redisCommand(rc, "AUTH %s", t.password);
    freeReplyObject(r);
    r = t.db ? redisCommand(rc, "SELECT %d", t.db) : NULL;
    freeReplyObject(r);
    yg_redis_target_clear(&t);
    return rc;
}

static void w6_flush(redisContext *rc)
{
    redisReply *r = redisCommand(rc, "FLUSHDB");
    if (!r || r->type == REDIS_REPLY_ERROR)
        bench_die("FLUSHDB failed: %s", r ? r->str : rc->errstr);
    freeReplyObject(r);
}

typedef struct w6_server_stats {
    double calls;   /* every command, script-internal ones included, but INFO */
    double scripts; /* EVALSHA + EVAL: one per round trip of the store */
    double cpu_s;   /* used_cpu_sys + used_cpu_user */
} w6_server_stats_t;

static w6_server_stats_t w6_server_stats(redisContext *rc)
{
    w6_server_stats_t s = {0, 0, 0};
    redisReply *r = redisCommand(rc, "INFO all");
    if (!r || r->type != REDIS_REPLY_STRING)
        bench_die("INFO failed: %s", r ? r->str : rc->errstr);
    for (char *line = r->str; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char name[64];
        double calls;
        if (sscanf(line, "cmdstat_%63[^:]:calls=%lf", name, &calls) == 2) {
            if (strcmp(name, "info") != 0)
                s.calls += calls;
            if (strcmp(name, "evalsha") == 0 || strcmp(name, "eval") == 0)
                s.scripts += calls;
        } else if (strncmp(line, "used_cpu_sys:", 13) == 0) {
            s.cpu_s += strtod(line + 13, NULL);
        } else if (strncmp(line, "used_cpu_user:", 14) == 0) {
            s.cpu_s += strtod(line + 14, NULL);
        }
    }
    freeReplyObject(r);
    return s;
}

int main(int argc, char **argv)
{
    const char *graph_arg = NULL, *url = NULL;
    long cycles = 2000, warmup = 100;
    yg_durability_t durability = YG_DURABILITY_SYNC;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            bench_die("option %s needs a value (see the header of bench_w6.c)", argv[i]);
        if (!strcmp(argv[i], "--cycles"))
            cycles = bench_arg_long(argv[++i], 1, 10000000L, "--cycles");
        else if (!strcmp(argv[i], "--warmup"))
            warmup = bench_arg_long(argv[++i], 0, 10000000L, "--warmup");
        else if (!strcmp(argv[i], "--graph"))
            graph_arg = argv[++i];
        else if (!strcmp(argv[i], "--durability")) {
            if (yg_durability_parse(argv[++i], &durability) != YG_OK)
                bench_die("--durability must be sync or async");
        } else if (!strcmp(argv[i], "--redis"))
            url = argv[++i];
        else
            bench_die("unknown option %s", argv[i]);
    }
    redisContext *admin = w6_admin_connect(url ? url : W6_DEFAULT_URL);
    w6_flush(admin);
    if (yg_native_register("bench", "record", w6_record, NULL) != YG_OK)
        bench_die("cannot register bench.record");
    char path[BENCH_PATH_MAX];
    bench_graph_path(path, sizeof path, graph_arg, "w6_interrupt.yaml");
    yg_runtime_t *rt = bench_runtime(url);
    yg_graph_t *g = bench_load(rt, path);
    yg_client_t *c = yg_client_new(rt);
    if (!c)
        bench_die("out of memory");

    w6_bench_t b = {.durability = durability};
    long k = 0;
    for (; k < warmup; k++)
        w6_cycle(c, g, &b, k);

    w6_server_stats_t s0 = w6_server_stats(admin);
    double base = bench_rss_reset();
    bench_usage_t u0 = bench_usage();
    double t0 = bench_now_s();
    for (long end = k + cycles; k < end; k++)
        w6_cycle(c, g, &b, k);
    double elapsed = bench_now_s() - t0;
    bench_usage_t u1 = bench_usage();
    double peak = bench_peak_rss();
    w6_server_stats_t s1 = w6_server_stats(admin);
    w6_check_last(c, g, k - 1);

    printf("%s cycles_per_s=%.1f ms_per_cycle=%.4f peak_rss_mb=%.1f base_rss_mb=%.1f "
           "cycles=%ld redis_cmds_per_cycle=%.2f redis_scripts_per_cycle=%.2f "
           "redis_cpu_us_per_cycle=%.1f cpu_us_per_cycle=%.1f csw_per_cycle=%.2f\n",
           durability == YG_DURABILITY_ASYNC ? "W6-async" : "W6", cycles / elapsed,
           elapsed * 1e3 / cycles, peak, base, cycles,
           (s1.calls - s0.calls) / cycles, (s1.scripts - s0.scripts) / cycles,
           (s1.cpu_s - s0.cpu_s) * 1e6 / cycles, (u1.cpu_s - u0.cpu_s) * 1e6 / cycles,
           (u1.csw - u0.csw) / cycles);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
    redisFree(admin);
    return 0;
}
