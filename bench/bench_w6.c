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
#include "bench_cycle.h"
#include "yg_redis_loop.h"

#include <hiredis/hiredis.h>

#define W6_DEFAULT_URL "redis://127.0.0.1:6390"
#define W6_REDIS_TIMEOUT_S 5

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
    if (yg_native_register("bench", "record", bench_cycle_record, NULL) != YG_OK)
        bench_die("cannot register bench.record");
    char path[BENCH_PATH_MAX];
    bench_graph_path(path, sizeof path, graph_arg, "w6_interrupt.yaml");
    yg_runtime_t *rt = bench_runtime(url);
    yg_graph_t *g = bench_load(rt, path);
    yg_client_t *c = yg_client_new(rt);
    if (!c)
        bench_die("out of memory");

    bench_cycle_t b = {.durability = durability, .label = "w6", .thread_prefix = "w6-redis-"};
    long k = 0;
    for (; k < warmup; k++)
        bench_cycle_run(c, g, &b, k);

    w6_server_stats_t s0 = w6_server_stats(admin);
    double base = bench_rss_reset();
    bench_usage_t u0 = bench_usage();
    double t0 = bench_now_s();
    for (long end = k + cycles; k < end; k++)
        bench_cycle_run(c, g, &b, k);
    double elapsed = bench_now_s() - t0;
    bench_usage_t u1 = bench_usage();
    double peak = bench_peak_rss();
    w6_server_stats_t s1 = w6_server_stats(admin);
    bench_cycle_check_last(c, g, &b, k - 1);

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
