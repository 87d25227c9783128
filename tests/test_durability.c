/*
 * test_durability.c - checkpoint durability modes (docs/checkpoints.md
 * "Durability"): async gives the same outcomes and the same checkpoint
 * history as sync (chain with a subgraph child, interrupt / resume) on the
 * memory, file and Redis stores; a reply comes only after every save of
 * the run (read back through a second runtime on the same Redis; a
 * cancelled run's reply waits for its outstanding save); a failed save
 * fails an async run; the precedence run opts -> graph -> runtime -> sync;
 * validation of the graph key `checkpointer.durability`.
 *
 * Redis tests start a private redis-server (redis_util.h).
 */
#include <czmq.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "redis_util.h"
#include "testutil.h"
#include "yamlgraph/yamlgraph.h"
#include "yamlgraph/yg_native.h"
#include "yg_coordinator.h"
#include "yg_graph.h"

#define WAIT_MS 30000
/* How long a reply must stay away while a save cannot complete. */
#define HOLD_MS 500
/* Bound of the blocking native node (the test releases it long before). */
#define BLOCK_MAX_MS 20000

static const char *CHILD_GRAPH = "name: dchild\n"
                                 "state: {input_n: int, output_n: int}\n"
                                 "nodes:\n"
                                 "  double: {type: passthrough, output: {output_n: '{state.input_n * 2}'}}\n"
                                 "  plus: {type: passthrough, output: {output_n: '{state.output_n + 1}'}}\n"
                                 "edges:\n"
                                 "  - {from: START, to: double}\n"
                                 "  - {from: double, to: plus}\n";

/* n: 1 -> a 2 -> b 6 -> sub m = 6 * 2 + 1 = 13 -> c 19 */
static const char *CHAIN_GRAPH = "name: dchain\n"
                                 "state: {n: int, m: int}\n"
                                 "nodes:\n"
                                 "  a: {type: passthrough, output: {n: '{state.n + 1}'}}\n"
                                 "  b: {type: passthrough, output: {n: '{state.n * 3}'}}\n"
                                 "  sub:\n"
                                 "    type: subgraph\n"
                                 "    graph: sub/dchild.yaml\n"
                                 "    input_mapping: {n: input_n}\n"
                                 "    output_mapping: {m: output_n}\n"
                                 "  c: {type: passthrough, output: {n: '{state.n + state.m}'}}\n"
                                 "edges:\n"
                                 "  - {from: START, to: a}\n"
                                 "  - {from: a, to: b}\n"
                                 "  - {from: b, to: sub}\n"
                                 "  - {from: sub, to: c}\n";
/* Checkpoints of one chain run: input + a, b, sub, c; of its child: input + 2. */
#define CHAIN_CHECKPOINTS 5
#define CHILD_CHECKPOINTS 3

static const char *ASK_GRAPH = "name: dask\n"
                               "state: {question: str, answer: str, result: str}\n"
                               "nodes:\n"
                               "  prep: {type: passthrough, output: {question: '{state.question + \"?\"}'}}\n"
                               "  ask: {type: interrupt, message: '{question}', resume_key: answer}\n"
                               "  record: {type: passthrough, output: {result: '{state.answer + \"!\"}'}}\n"
                               "edges:\n"
                               "  - {from: START, to: prep}\n"
                               "  - {from: prep, to: ask}\n"
                               "  - {from: ask, to: record}\n";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static yg_runtime_t *start_rt(const char *checkpointer, yg_durability_t durability)
{
    yg_runtime_opts_t o;
    yg_runtime_opts_init(&o);
    o.checkpointer = checkpointer;
    o.durability = durability;
    o.log_level = YG_LOG_ERROR;
    yg_error_t err = { 0 };
    yg_runtime_t *rt = yg_runtime_new(&o, &err);
    ck_assert_msg(rt != NULL, "runtime: %s", err.message);
    return rt;
}

static yg_graph_t *load(yg_runtime_t *rt, const char *name, const char *yaml)
{
    const char *path = testutil_write_temp(name, yaml);
    ck_assert_ptr_nonnull(path);
    yg_graph_t *g = NULL;
    yg_error_t err = { 0 };
    ck_assert_msg(yg_runtime_load_graph(rt, path, &g, &err) == YG_OK, "load %s: %s", name,
                  err.message);
    return g;
}

static yg_value_t *json(const char *text)
{
    yg_value_t *v = yg_json_decode(text, strlen(text), NULL, NULL);
    ck_assert_ptr_nonnull(v);
    return v;
}

static void run_to_end(yg_client_t *c, yg_graph_t *g, const char *input, const char *thread,
                       yg_durability_t durability, yg_result_t *r)
{
    yg_value_t *in = json(input);
    yg_run_opts_t opts = { .thread_id = thread, .durability = durability };
    ck_assert_int_eq(yg_run_graph(c, g, in, &opts, WAIT_MS, r), YG_OK);
    yg_value_destroy(&in);
}

static void resume_to_end(yg_client_t *c, yg_graph_t *g, const char *value, const char *thread,
                          yg_durability_t durability, yg_result_t *r)
{
    yg_value_t *v = yg_str_new(value);
    yg_run_opts_t opts = { .thread_id = thread, .durability = durability };
    ck_assert_int_eq(yg_resume(c, g, v, &opts, WAIT_MS, r), YG_OK);
    yg_value_destroy(&v);
}

static void assert_status(const yg_result_t *r, yg_run_status_t want)
{
    ck_assert_msg(r->status == want, "status %s (%s), wanted %s", yg_run_status_name(r->status),
                  r->error.message, yg_run_status_name(want));
}

/* The thread's history (newest first), owned by the caller. */
static yg_value_t *history(yg_client_t *c, yg_graph_t *g, const char *thread)
{
    yg_result_t r;
    ck_assert_int_eq(yg_get_history(c, g, thread, 0, WAIT_MS, &r), YG_OK);
    ck_assert_msg(r.status != YG_RUN_ERROR, "history %s: %s", thread, r.error.message);
    yg_value_t *h = yg_value_ref(r.history);
    yg_result_release(&r);
    ck_assert_int_eq(yg_value_type(h), YG_LIST);
    return h;
}

static const char *meta_durability(const yg_value_t *ckpt)
{
    return yg_value_str(yg_map_get(yg_map_get(ckpt, "meta"), "durability"));
}

/* Same checkpoints (steps, sources, values, pending work); ids, times,
 * run ids and the durability note may differ.  Every checkpoint of `a`
 * was written in mode a_mode, every one of `b` in b_mode. */
static void assert_same_history(const yg_value_t *a, const char *a_mode, const yg_value_t *b,
                                const char *b_mode, size_t want)
{
    static const char *fields[] = { "step", "source", "values", "next", "tasks", "writes",
                                    "interrupts", "ns" };
    ck_assert_uint_eq(yg_list_size(a), want);
    ck_assert_uint_eq(yg_list_size(b), want);
    for (size_t i = 0; i < want; i++) {
        const yg_value_t *ca = yg_list_get(a, i), *cb = yg_list_get(b, i);
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            if (yg_value_equal(yg_map_get(ca, fields[f]), yg_map_get(cb, fields[f])))
                continue;
            char *ja = yg_json_encode(ca, false, NULL), *jb = yg_json_encode(cb, false, NULL);
            ck_abort_msg("checkpoint %zu differs in %s:\n%s\n%s", i, fields[f], ja, jb);
        }
        ck_assert_str_eq(meta_durability(ca), a_mode);
        ck_assert_str_eq(meta_durability(cb), b_mode);
    }
}

/* A chain run (with a subgraph child) and an interrupt / resume cycle in
 * both modes on one store: same outcomes, same histories. */
static void compare_modes(const char *checkpointer)
{
    testutil_write_temp("sub/dchild.yaml", CHILD_GRAPH);
    yg_runtime_t *rt = start_rt(checkpointer, YG_DURABILITY_DEFAULT);
    yg_graph_t *chain = load(rt, "dchain.yaml", CHAIN_GRAPH);
    yg_graph_t *ask = load(rt, "dask.yaml", ASK_GRAPH);
    yg_client_t *c = yg_client_new(rt);
    ck_assert_ptr_nonnull(c);

    static const yg_durability_t modes[2] = { YG_DURABILITY_SYNC, YG_DURABILITY_ASYNC };
    yg_value_t *chain_state[2], *chain_hist[2], *child_hist[2];
    yg_value_t *paused_hist[2], *ask_state[2], *ask_hist[2];
    for (int m = 0; m < 2; m++) {
        const char *name = yg_durability_name(modes[m]);
        char thread[64], child[80];
        snprintf(thread, sizeof thread, "chain-%s", name);
        yg_result_t r;
        run_to_end(c, chain, "{\"n\": 1}", thread, modes[m], &r);
        assert_status(&r, YG_RUN_COMPLETED);
        ck_assert_int_eq(yg_value_int(yg_map_get(r.state, "n")), 19);
        ck_assert_int_eq(yg_value_int(yg_map_get(r.state, "m")), 13);
        chain_state[m] = yg_value_ref(r.state);
        yg_result_release(&r);
        chain_hist[m] = history(c, chain, thread);
        snprintf(child, sizeof child, "%s:sub", thread);
        child_hist[m] = history(c, chain, child);

        snprintf(thread, sizeof thread, "ask-%s", name);
        run_to_end(c, ask, "{\"question\": \"q\"}", thread, modes[m], &r);
        assert_status(&r, YG_RUN_INTERRUPTED);
        ck_assert_uint_eq(yg_list_size(r.interrupts), 1);
        ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(r.interrupts, 0), "value")), "q?");
        yg_result_release(&r);
        paused_hist[m] = history(c, ask, thread);
        resume_to_end(c, ask, "a", thread, modes[m], &r);
        assert_status(&r, YG_RUN_COMPLETED);
        ck_assert_str_eq(yg_value_str(yg_map_get(r.state, "result")), "a!");
        ask_state[m] = yg_value_ref(r.state);
        yg_result_release(&r);
        ask_hist[m] = history(c, ask, thread);
    }
    ck_assert(yg_value_equal(chain_state[0], chain_state[1]));
    ck_assert(yg_value_equal(ask_state[0], ask_state[1]));
    assert_same_history(chain_hist[0], "sync", chain_hist[1], "async", CHAIN_CHECKPOINTS);
    assert_same_history(child_hist[0], "sync", child_hist[1], "async", CHILD_CHECKPOINTS);
    /* run: input, prep, ask paused; resume: ask, record */
    assert_same_history(paused_hist[0], "sync", paused_hist[1], "async", 3);
    assert_same_history(ask_hist[0], "sync", ask_hist[1], "async", 5);
    /* the newest chain checkpoint is the final one */
    const yg_value_t *last = yg_list_get(chain_hist[1], 0);
    ck_assert_int_eq(yg_value_int(yg_map_get(last, "step")), CHAIN_CHECKPOINTS - 2);
    ck_assert(yg_value_equal(yg_map_get(last, "values"), chain_state[1]));
    for (int m = 0; m < 2; m++) {
        yg_value_destroy(&chain_state[m]);
        yg_value_destroy(&chain_hist[m]);
        yg_value_destroy(&child_hist[m]);
        yg_value_destroy(&paused_hist[m]);
        yg_value_destroy(&ask_state[m]);
        yg_value_destroy(&ask_hist[m]);
    }
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}

START_TEST(same_outcomes_memory)
{
    compare_modes("memory");
}
END_TEST

START_TEST(same_outcomes_file)
{
    char spec[512];
    snprintf(spec, sizeof spec, "file:%s/durability-%d.log", testutil_temp_dir(), (int)getpid());
    unlink(spec + 5);
    compare_modes(spec);
    unlink(spec + 5);
}
END_TEST

static redis_server_t start_redis(void)
{
    redis_server_t s = { 0 };
    ck_assert_msg(redis_server_start(&s), "%s", s.error);
    return s;
}

START_TEST(same_outcomes_redis)
{
    redis_server_t s = start_redis();
    compare_modes(s.url);
    redis_server_stop(&s);
}
END_TEST

/* An async run's reply comes after its saves: a second runtime reading the
 * same Redis sees every checkpoint at once and resumes the pause. */
START_TEST(reply_after_every_save)
{
    redis_server_t s = start_redis();
    testutil_write_temp("sub/dchild.yaml", CHILD_GRAPH);
    yg_runtime_t *rt = start_rt(s.url, YG_DURABILITY_ASYNC);
    yg_runtime_t *other = start_rt(s.url, YG_DURABILITY_SYNC);
    yg_graph_t *chain = load(rt, "dchain.yaml", CHAIN_GRAPH);
    yg_graph_t *ask = load(rt, "dask.yaml", ASK_GRAPH);
    yg_graph_t *ask2 = load(other, "dask.yaml", ASK_GRAPH);
    yg_client_t *c = yg_client_new(rt), *c2 = yg_client_new(other);

    for (int k = 0; k < 20; k++) {
        char thread[64], child[80];
        snprintf(thread, sizeof thread, "reply-%d", k);
        snprintf(child, sizeof child, "%s:sub", thread);
        yg_result_t r, st;
        run_to_end(c, chain, "{\"n\": 1}", thread, YG_DURABILITY_DEFAULT, &r);
        assert_status(&r, YG_RUN_COMPLETED);
        ck_assert_int_eq(yg_get_state(c2, NULL, thread, WAIT_MS, &st), YG_OK);
        assert_status(&st, YG_RUN_COMPLETED);
        ck_assert_int_eq(st.step, r.step);
        ck_assert(yg_value_equal(st.state, r.state));
        ck_assert_str_eq(meta_durability(st.snapshot), "async");
        yg_result_release(&st);
        yg_result_release(&r);
        yg_value_t *h = history(c2, NULL, thread), *hc = history(c2, NULL, child);
        ck_assert_uint_eq(yg_list_size(h), CHAIN_CHECKPOINTS);
        ck_assert_uint_eq(yg_list_size(hc), CHILD_CHECKPOINTS);
        yg_value_destroy(&h);
        yg_value_destroy(&hc);

        /* paused in one runtime (async), resumed by the other */
        snprintf(thread, sizeof thread, "ask-%d", k);
        run_to_end(c, ask, "{\"question\": \"x\"}", thread, YG_DURABILITY_DEFAULT, &r);
        assert_status(&r, YG_RUN_INTERRUPTED);
        yg_result_release(&r);
        resume_to_end(c2, ask2, "y", thread, YG_DURABILITY_DEFAULT, &r);
        assert_status(&r, YG_RUN_COMPLETED);
        ck_assert_str_eq(yg_value_str(yg_map_get(r.state, "result")), "y!");
        yg_result_release(&r);
    }
    yg_client_destroy(&c);
    yg_client_destroy(&c2);
    yg_runtime_destroy(&rt);
    yg_runtime_destroy(&other);
    redis_server_stop(&s);
}
END_TEST

/* ---- a store that stops answering ------------------------------------------------ */

static atomic_int later_runs;    /* executions of the node after the pause */
static atomic_int blocking;      /* the blocking node is running */
static atomic_int release_block; /* lets the blocking node return */

/* dur.pause: freezes the Redis server (arg) and returns. */
static yg_value_t *native_pause(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)state;
    (void)err;
    redis_server_pause(arg);
    yg_value_t *u = yg_map_new();
    yg_map_set(u, "paused", yg_bool_new(true));
    return u;
}

/* dur.later: counts its executions. */
static yg_value_t *native_later(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)state;
    (void)arg;
    (void)err;
    int n = atomic_fetch_add(&later_runs, 1) + 1;
    yg_value_t *u = yg_map_new();
    yg_map_set(u, "later", yg_int_new(n));
    return u;
}

/* dur.block: runs until the test releases it (bounded). */
static yg_value_t *native_block(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)state;
    (void)arg;
    (void)err;
    atomic_store(&blocking, 1);
    int64_t deadline = now_ms() + BLOCK_MAX_MS;
    while (!atomic_load(&release_block) && now_ms() < deadline)
        redis_util_sleep_ms(1);
    yg_value_t *u = yg_map_new();
    yg_map_set(u, "later", yg_int_new(-1));
    return u;
}

static const char *PAUSE_GRAPH = "name: dpause\n"
                                  "state: {paused: bool, later: int}\n"
                                  "tools:\n"
                                  "  pause: {type: python, module: dur, function: pause}\n"
                                  "  later: {type: python, module: dur, function: %s}\n"
                                  "nodes:\n"
                                  "  p: {type: python, tool: pause}\n"
                                  "  l: {type: python, tool: later}\n"
                                  "edges:\n"
                                  "  - {from: START, to: p}\n"
                                  "  - {from: p, to: l}\n";

static yg_graph_t *load_pause_graph(yg_runtime_t *rt, const char *later_fn)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, PAUSE_GRAPH, later_fn);
    return load(rt, "dpause.yaml", yaml);
}

/* The Redis server freezes inside node p: p's checkpoint cannot be saved
 * (the store times out).  sync: l never runs; async: l runs while p's save
 * is outstanding, and the run still fails with the store's error. */
static void save_fails(yg_durability_t durability, int later_expected)
{
    redis_server_t s = start_redis();
    ck_assert_int_eq(yg_native_register("dur", "pause", native_pause, &s), YG_OK);
    ck_assert_int_eq(yg_native_register("dur", "later", native_later, NULL), YG_OK);
    atomic_store(&later_runs, 0);
    yg_runtime_t *rt = start_rt(s.url, YG_DURABILITY_DEFAULT);
    yg_graph_t *g = load_pause_graph(rt, "later");
    yg_client_t *c = yg_client_new(rt);
    yg_result_t r;
    run_to_end(c, g, "{}", "frozen", durability, &r);
    assert_status(&r, YG_RUN_ERROR);
    ck_assert_msg(strstr(r.error.message, "checkpoint save failed") != NULL, "%s",
                  r.error.message);
    ck_assert_msg(r.error.code == YG_ETIMEOUT || r.error.code == YG_EIO, "code %s",
                  yg_strerror(r.error.code));
    int later = atomic_load(&later_runs);
    ck_assert_int_eq(later, later_expected);
    yg_result_release(&r);
    redis_server_resume(&s);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
    redis_server_stop(&s);
}

START_TEST(failed_save_fails_async_run)
{
    save_fails(YG_DURABILITY_ASYNC, 1);
}
END_TEST

START_TEST(failed_save_fails_sync_run)
{
    save_fails(YG_DURABILITY_SYNC, 0);
}
END_TEST

/* A run never gets more than YG_COORD_MAX_ASYNC_SAVES saves ahead of its
 * store: with the server frozen inside p, the steps after p stop after 8
 * saves in flight (7 when the input checkpoint's save was still in flight
 * too), then the run fails with the timeout. */
START_TEST(async_run_bounded_ahead_of_store)
{
    enum { STEPS = 14 };
    redis_server_t s = start_redis();
    ck_assert_int_eq(yg_native_register("dur", "pause", native_pause, &s), YG_OK);
    ck_assert_int_eq(yg_native_register("dur", "later", native_later, NULL), YG_OK);
    atomic_store(&later_runs, 0);
    char yaml[4096];
    int n = snprintf(yaml, sizeof yaml,
                     "name: dbound\n"
                     "state: {paused: bool, later: int}\n"
                     "tools:\n"
                     "  pause: {type: python, module: dur, function: pause}\n"
                     "  later: {type: python, module: dur, function: later}\n"
                     "nodes:\n"
                     "  p: {type: python, tool: pause}\n");
    for (int i = 1; i <= STEPS; i++)
        n += snprintf(yaml + n, sizeof yaml - (size_t)n, "  c%d: {type: python, tool: later}\n", i);
    n += snprintf(yaml + n, sizeof yaml - (size_t)n,
                  "edges:\n  - {from: START, to: p}\n  - {from: p, to: c1}\n");
    for (int i = 1; i < STEPS; i++)
        n += snprintf(yaml + n, sizeof yaml - (size_t)n, "  - {from: c%d, to: c%d}\n", i, i + 1);
    ck_assert_int_lt(n, (int)sizeof yaml);
    yg_runtime_t *rt = start_rt(s.url, YG_DURABILITY_ASYNC);
    yg_graph_t *g = load(rt, "dbound.yaml", yaml);
    yg_client_t *c = yg_client_new(rt);
    yg_result_t r;
    run_to_end(c, g, "{}", "bounded", YG_DURABILITY_DEFAULT, &r);
    assert_status(&r, YG_RUN_ERROR);
    ck_assert_msg(strstr(r.error.message, "checkpoint save failed") != NULL, "%s",
                  r.error.message);
    yg_result_release(&r);
    int later = atomic_load(&later_runs);
    ck_assert_msg(later == YG_COORD_MAX_ASYNC_SAVES || later == YG_COORD_MAX_ASYNC_SAVES - 1,
                  "%d steps ran after the store froze", later);
    redis_server_resume(&s);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
    redis_server_stop(&s);
}
END_TEST

/* Redis's count of commands refused for memory (INFO errorstats). */
static long long oom_errors(const redis_server_t *s)
{
    redisReply *r = redis_util_command(s, "INFO errorstats");
    long long n = 0;
    const char *at = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "errorstat_OOM:count=") : NULL;
    if (at)
        n = atoll(at + strlen("errorstat_OOM:count="));
    freeReplyObject(r);
    return n;
}

static atomic_llong oom_baseline;

/* dur.oom_on: makes every write to the Redis server (arg) fail (reads
 * still work) and returns. */
static yg_value_t *native_oom_on(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)state;
    (void)err;
    atomic_store(&oom_baseline, oom_errors(arg));
    freeReplyObject(redis_util_command(arg, "CONFIG SET maxmemory-policy noeviction"));
    freeReplyObject(redis_util_command(arg, "CONFIG SET maxmemory 1"));
    yg_value_t *u = yg_map_new();
    yg_map_set(u, "paused", yg_bool_new(true));
    return u;
}

/* dur.oom_off: once Redis refused a write (the previous step's save),
 * lifts the limit so that later saves succeed. */
static yg_value_t *native_oom_off(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)state;
    (void)err;
    atomic_fetch_add(&later_runs, 1);
    int64_t deadline = now_ms() + BLOCK_MAX_MS;
    while (oom_errors(arg) <= atomic_load(&oom_baseline) && now_ms() < deadline)
        redis_util_sleep_ms(1);
    freeReplyObject(redis_util_command(arg, "CONFIG SET maxmemory 0"));
    yg_value_t *u = yg_map_new();
    yg_map_set(u, "later", yg_int_new(1));
    return u;
}

/* One save in the middle of an async run fails (Redis refuses writes while
 * the next step runs, then accepts them again): the run still fails with
 * the store's error, although its last save succeeded. */
START_TEST(failed_middle_save_fails_async_run)
{
    redis_server_t s = start_redis();
    ck_assert_int_eq(yg_native_register("dur", "pause", native_oom_on, &s), YG_OK);
    ck_assert_int_eq(yg_native_register("dur", "oom_off", native_oom_off, &s), YG_OK);
    atomic_store(&later_runs, 0);
    yg_runtime_t *rt = start_rt(s.url, YG_DURABILITY_ASYNC);
    yg_graph_t *g = load_pause_graph(rt, "oom_off");
    yg_client_t *c = yg_client_new(rt);
    yg_result_t r;
    run_to_end(c, g, "{}", "refused", YG_DURABILITY_DEFAULT, &r);
    assert_status(&r, YG_RUN_ERROR);
    ck_assert_msg(strstr(r.error.message, "checkpoint save failed") != NULL &&
                      strstr(r.error.message, "OOM") != NULL,
                  "%s", r.error.message);
    ck_assert_int_eq(r.error.code, YG_EIO);
    yg_result_release(&r);
    int later = atomic_load(&later_runs);
    ck_assert_int_eq(later, 1);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
    redis_server_stop(&s);
}
END_TEST

typedef struct outcome {
    int done;
    yg_run_status_t status;
    int code;
} outcome_t;

static void on_outcome(const yg_result_t *r, void *arg)
{
    outcome_t *o = arg;
    o->done++;
    o->status = r->status;
    o->code = r->error.code;
}

static void wait_until(yg_client_t *c, const int *flag, int64_t ms)
{
    int64_t deadline = now_ms() + ms;
    while (!*flag && now_ms() < deadline)
        ck_assert_int_ge(yg_client_wait(c, 10), 0);
}

/* A cancelled async run replies only once its outstanding save completed. */
START_TEST(cancel_waits_for_saves)
{
    redis_server_t s = start_redis();
    ck_assert_int_eq(yg_native_register("dur", "pause", native_pause, &s), YG_OK);
    ck_assert_int_eq(yg_native_register("dur", "block", native_block, NULL), YG_OK);
    atomic_store(&blocking, 0);
    atomic_store(&release_block, 0);
    yg_runtime_t *rt = start_rt(s.url, YG_DURABILITY_ASYNC);
    yg_graph_t *g = load_pause_graph(rt, "block");
    yg_client_t *c = yg_client_new(rt);
    outcome_t run = { 0 }, cancel = { 0 };
    yg_run_opts_t opts = { .thread_id = "cancelled" };
    int64_t req = yg_run_graph_async(c, g, NULL, &opts, on_outcome, &run);
    ck_assert_int_gt(req, 0);
    /* l runs while p's save waits for the frozen server */
    int64_t deadline = now_ms() + WAIT_MS;
    while (!atomic_load(&blocking) && now_ms() < deadline)
        ck_assert_int_ge(yg_client_wait(c, 10), 0);
    int started = atomic_load(&blocking);
    ck_assert_int_eq(started, 1);
    ck_assert_int_gt(yg_cancel_async(c, req, NULL, on_outcome, &cancel), 0);
    wait_until(c, &cancel.done, WAIT_MS);
    ck_assert_int_eq(cancel.done, 1);
    ck_assert_int_eq(cancel.status, YG_RUN_COMPLETED);
    /* the run's own reply waits for the save */
    wait_until(c, &run.done, HOLD_MS);
    ck_assert_int_eq(run.done, 0);
    redis_server_resume(&s);
    wait_until(c, &run.done, WAIT_MS);
    ck_assert_int_eq(run.done, 1);
    ck_assert_int_eq(run.status, YG_RUN_ERROR);
    ck_assert_int_eq(run.code, YG_ECANCELLED);
    atomic_store(&release_block, 1);
    /* what was saved before the reply is there: p's step */
    yg_result_t st;
    ck_assert_int_eq(yg_get_state(c, g, "cancelled", WAIT_MS, &st), YG_OK);
    assert_status(&st, YG_RUN_COMPLETED);
    ck_assert_int_eq(st.step, 0);
    ck_assert(yg_value_bool(yg_map_get(st.state, "paused")));
    yg_result_release(&st);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
    redis_server_stop(&s);
}
END_TEST

/* ---- where the mode comes from --------------------------------------------------- */

static const char *MODE_GRAPH = "name: %s\n"
                                "checkpointer: {type: memory%s}\n"
                                "state: {n: int}\n"
                                "nodes:\n"
                                "  one: {type: passthrough, output: {n: '{state.n + 1}'}}\n"
                                "edges:\n"
                                "  - {from: START, to: one}\n";

static yg_graph_t *load_mode_graph(yg_runtime_t *rt, const char *key)
{
    char name[64], file[80], yaml[512], extra[64] = "";
    snprintf(name, sizeof name, "mode_%s", key ? key : "none");
    snprintf(file, sizeof file, "%s.yaml", name);
    if (key)
        snprintf(extra, sizeof extra, ", durability: %s", key);
    snprintf(yaml, sizeof yaml, MODE_GRAPH, name, extra);
    return load(rt, file, yaml);
}

/* The mode a run used, as recorded in its checkpoints. */
static void expect_mode(yg_client_t *c, yg_graph_t *g, yg_durability_t run_mode,
                        const char *want)
{
    static int counter;
    char thread[64];
    snprintf(thread, sizeof thread, "mode-%d", ++counter);
    yg_result_t r;
    run_to_end(c, g, "{\"n\": 0}", thread, run_mode, &r);
    assert_status(&r, YG_RUN_COMPLETED);
    yg_result_release(&r);
    yg_value_t *h = history(c, g, thread);
    ck_assert_uint_eq(yg_list_size(h), 2);
    for (size_t i = 0; i < yg_list_size(h); i++)
        ck_assert_str_eq(meta_durability(yg_list_get(h, i)), want);
    yg_value_destroy(&h);
}

START_TEST(precedence)
{
    static const yg_durability_t runtime_modes[3] = { YG_DURABILITY_DEFAULT, YG_DURABILITY_SYNC,
                                                      YG_DURABILITY_ASYNC };
    for (int m = 0; m < 3; m++) {
        yg_durability_t rtm = runtime_modes[m];
        yg_runtime_t *rt = start_rt(NULL, rtm);
        yg_graph_t *none = load_mode_graph(rt, NULL);
        yg_graph_t *gsync = load_mode_graph(rt, "sync");
        yg_graph_t *gasync = load_mode_graph(rt, "async");
        yg_client_t *c = yg_client_new(rt);
        const char *runtime_name = rtm == YG_DURABILITY_ASYNC ? "async" : "sync";
        /* nothing in the run or the graph: the runtime's, else sync */
        expect_mode(c, none, YG_DURABILITY_DEFAULT, runtime_name);
        /* the graph over the runtime */
        expect_mode(c, gsync, YG_DURABILITY_DEFAULT, "sync");
        expect_mode(c, gasync, YG_DURABILITY_DEFAULT, "async");
        /* the run over the graph and the runtime */
        expect_mode(c, gasync, YG_DURABILITY_SYNC, "sync");
        expect_mode(c, gsync, YG_DURABILITY_ASYNC, "async");
        expect_mode(c, none, YG_DURABILITY_ASYNC, "async");
        expect_mode(c, none, YG_DURABILITY_SYNC, "sync");
        /* a bad value is refused at the call */
        yg_result_t r;
        yg_run_opts_t bad = { .thread_id = "bad", .durability = (yg_durability_t)7 };
        ck_assert_int_eq(yg_run_graph(c, none, NULL, &bad, WAIT_MS, &r), YG_EINVAL);
        yg_client_destroy(&c);
        yg_runtime_destroy(&rt);
    }
    yg_runtime_opts_t o;
    yg_runtime_opts_init(&o);
    ck_assert_int_eq(o.durability, YG_DURABILITY_DEFAULT);
    o.durability = (yg_durability_t)3;
    yg_error_t err = { 0 };
    ck_assert_ptr_null(yg_runtime_new(&o, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "durability"));

    yg_durability_t d = YG_DURABILITY_DEFAULT;
    ck_assert_int_eq(yg_durability_parse("async", &d), YG_OK);
    ck_assert_int_eq(d, YG_DURABILITY_ASYNC);
    ck_assert_int_eq(yg_durability_parse("sync", &d), YG_OK);
    ck_assert_int_eq(d, YG_DURABILITY_SYNC);
    ck_assert_int_eq(yg_durability_parse("exit", &d), YG_EINVAL);
    ck_assert_int_eq(yg_durability_parse("", &d), YG_EINVAL);
    ck_assert_int_eq(yg_durability_parse(NULL, &d), YG_EINVAL);
    ck_assert_str_eq(yg_durability_name(YG_DURABILITY_ASYNC), "async");
    ck_assert_str_eq(yg_durability_name((yg_durability_t)9), "?");
}
END_TEST

/* ---- the graph key ------------------------------------------------------------------ */

static void expect_load_error(const char *name, const char *yaml, int line, int column,
                              const char *needle)
{
    const char *path = testutil_write_temp(name, yaml);
    yg_error_t err = { 0 };
    yg_graph_t *g = yg_graph_load(path, &err);
    ck_assert_msg(g == NULL, "%s loaded", name);
    ck_assert_int_ne(err.code, YG_OK);
    ck_assert_msg(strstr(err.message, needle) != NULL, "%s: %s", name, err.message);
    ck_assert_int_eq(err.line, line);
    if (column)
        ck_assert_int_eq(err.column, column);
}

static int loaded_durability(const char *name, const char *yaml, bool *has_checkpointer)
{
    const char *path = testutil_write_temp(name, yaml);
    yg_error_t err = { 0 };
    yg_graph_t *g = yg_graph_load(path, &err);
    ck_assert_msg(g != NULL, "%s: %s", name, err.message);
    int d = g->checkpointer.durability;
    *has_checkpointer = g->has_checkpointer;
    yg_graph_destroy(&g);
    return d;
}

START_TEST(graph_key)
{
    const char *body = "state: {n: int}\n"
                       "nodes:\n"
                       "  one: {type: passthrough, output: {n: 1}}\n"
                       "edges:\n"
                       "  - {from: START, to: one}\n";
    char yaml[1024];
    bool has = false;
    snprintf(yaml, sizeof yaml, "name: k1\ncheckpointer:\n  type: memory\n  durability: async\n%s",
             body);
    ck_assert_int_eq(loaded_durability("k1.yaml", yaml, &has), YG_DURABILITY_ASYNC);
    ck_assert(has);
    /* durability alone: a memory checkpointer written in that mode */
    snprintf(yaml, sizeof yaml, "name: k2\ncheckpointer: {durability: sync}\n%s", body);
    ck_assert_int_eq(loaded_durability("k2.yaml", yaml, &has), YG_DURABILITY_SYNC);
    ck_assert(has);
    snprintf(yaml, sizeof yaml, "name: k3\ncheckpointer: {type: memory}\n%s", body);
    ck_assert_int_eq(loaded_durability("k3.yaml", yaml, &has), YG_DURABILITY_DEFAULT);

    /* unknown values point at the value */
    snprintf(yaml, sizeof yaml, "name: k4\ncheckpointer:\n  type: memory\n  durability: eventually\n%s",
             body);
    expect_load_error("k4.yaml", yaml, 4, 15, "eventually");
    expect_load_error("k4.yaml", yaml, 4, 15, "sync or async");
    snprintf(yaml, sizeof yaml, "name: k5\ncheckpointer: {type: memory, durability: exit}\n%s",
             body);
    expect_load_error("k5.yaml", yaml, 2, 0, "exit");
    snprintf(yaml, sizeof yaml, "name: k6\ncheckpointer:\n  durability: [async]\n%s", body);
    expect_load_error("k6.yaml", yaml, 3, 0, "durability");
    snprintf(yaml, sizeof yaml, "name: k7\ncheckpointer:\n  durability: SYNC\n%s", body);
    expect_load_error("k7.yaml", yaml, 3, 15, "SYNC");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("durability");
    TCase *tc = tcase_create("modes");
    tcase_add_test(tc, same_outcomes_memory);
    tcase_add_test(tc, same_outcomes_file);
    tcase_add_test(tc, same_outcomes_redis);
    tcase_add_test(tc, reply_after_every_save);
    tcase_add_test(tc, failed_save_fails_async_run);
    tcase_add_test(tc, failed_save_fails_sync_run);
    tcase_add_test(tc, failed_middle_save_fails_async_run);
    tcase_add_test(tc, async_run_bounded_ahead_of_store);
    tcase_add_test(tc, cancel_waits_for_saves);
    tcase_add_test(tc, precedence);
    tcase_add_test(tc, graph_key);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
