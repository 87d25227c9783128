/*
 * test_worker.c - remote workers in one process: a runtime whose
 * coordinator binds a worker endpoint on tcp://127.0.0.1:* and starts no
 * local node actors (remote_nodes), and workers (yg_worker_new) connected
 * to it over tcp.  Runs complete through workers; tasks wait until a worker
 * arrives; two workers share load; a killed worker (no goodbye) and a
 * partitioned one (heartbeats stop, connection open) have their tasks
 * re-dispatched and the partitioned one's late result is ignored; a clean
 * goodbye re-dispatches at once; a graph hash mismatch is rejected; a
 * python node runs on the worker that registered the native function.
 *
 * Each worker gets its own mock script, so the state says which worker
 * produced each value.
 */
#include <czmq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil_rt.h"
#include "yamlgraph/yg_native.h"
#include "yamlgraph/yg_worker_api.h"
#include "yg_worker.h"

#define WAIT_MS 15000
/* Short heartbeats keep the dead-worker tests quick: dead after 3 x 100 ms. */
#define TEST_HEARTBEAT_MS 100

/* Two llm nodes in sequence: gen1 writes a, gen2 writes b. */
static const char *TWO_STEP =
    "name: twostep\n"
    "prompts_relative: true\n"
    "prompts_dir: prompts\n"
    "state: {n: int, a: str, b: str}\n"
    "nodes:\n"
    "  gen1: {prompt: p1, variables: {n: '{state.n}'}, state_key: a}\n"
    "  gen2: {prompt: p2, variables: {n: '{state.n}'}, state_key: b}\n"
    "edges:\n"
    "  - {from: START, to: gen1}\n"
    "  - {from: gen1, to: gen2}\n"
    "  - {from: gen2, to: END}\n";

static char *graph_file(const char *name, const char *yaml)
{
    testutil_write_temp("prompts/p1.yaml", "system: s\nuser: 'one {n}'\n");
    testutil_write_temp("prompts/p2.yaml", "system: s\nuser: 'two {n}'\n");
    const char *p = testutil_write_temp(name, yaml);
    ck_assert_ptr_nonnull(p);
    return strdup(p);
}

/* A coordinator-only runtime: every listed node (or all: "*") is remote. */
static yg_runtime_t *start_coordinator_with(const char *remote_nodes, const char *mock_yaml,
                                            const char *checkpointer)
{
    yg_runtime_opts_t o;
    yg_runtime_opts_init(&o);
    o.provider = "mock";
    o.mock_file = mock_yaml ? testutil_write_temp("mock-coordinator.yaml", mock_yaml) : NULL;
    o.checkpointer = checkpointer;
    o.log_level = YG_LOG_ERROR;
    o.worker_endpoint = "tcp://127.0.0.1:*";
    o.remote_nodes = remote_nodes;
    yg_error_t err = { 0 };
    yg_runtime_t *rt = yg_runtime_new(&o, &err);
    ck_assert_msg(rt != NULL, "runtime: %s", err.message);
    const char *ep = yg_runtime_worker_endpoint(rt);
    ck_assert_ptr_nonnull(ep);
    ck_assert_msg(strncmp(ep, "tcp://127.0.0.1:", 16) == 0 && !strchr(ep, '*'),
                  "worker endpoint not resolved: %s", ep);
    return rt;
}

static yg_runtime_t *start_coordinator(const char *remote_nodes)
{
    return start_coordinator_with(remote_nodes, NULL, NULL);
}

static yg_graph_t *load(yg_runtime_t *rt, const char *path)
{
    yg_graph_t *g = NULL;
    yg_error_t err = { 0 };
    ck_assert_msg(yg_runtime_load_graph(rt, path, &g, &err) == YG_OK, "load: %s", err.message);
    return g;
}

static yg_worker_t *start_worker(yg_runtime_t *rt, const char *graph_path, const char *id,
                                 const char *mock_yaml, const char *nodes, int heartbeat_ms)
{
    char name[64];
    snprintf(name, sizeof name, "mock-%s.yaml", id);
    const char *mock = testutil_write_temp(name, mock_yaml);
    ck_assert_ptr_nonnull(mock);
    yg_worker_opts_t o;
    yg_worker_opts_init(&o);
    o.provider = "mock";
    o.mock_file = mock;
    o.worker_id = id;
    o.nodes = nodes;
    o.heartbeat_ms = heartbeat_ms;
    o.log_level = YG_LOG_ERROR;
    yg_error_t err = { 0 };
    yg_worker_t *w = yg_worker_new(graph_path, yg_runtime_worker_endpoint(rt), &o, &err);
    ck_assert_msg(w != NULL, "worker %s: %s", id, err.message);
    return w;
}

static void wait_registered(yg_worker_t *w)
{
    int64_t deadline = tu_now_ms() + WAIT_MS;
    yg_worker_stats_t st = { 0 };
    while (tu_now_ms() < deadline) {
        ck_assert_int_eq(yg_worker_stats(w, &st), YG_OK);
        if (st.nodes > 0 && st.registered == st.nodes)
            return;
        zclock_sleep(10);
    }
    ck_abort_msg("worker not registered: %d of %d nodes", st.registered, st.nodes);
}

static yg_worker_stats_t stats_of(yg_worker_t *w)
{
    yg_worker_stats_t st;
    ck_assert_int_eq(yg_worker_stats(w, &st), YG_OK);
    return st;
}

/* ---- results ------------------------------------------------------------------ */

typedef struct outcome {
    int done;
    yg_run_status_t status;
    int code;
    char message[YG_ERROR_MESSAGE_MAX];
    yg_value_t *state;
} outcome_t;

static void on_done(const yg_result_t *r, void *arg)
{
    outcome_t *o = arg;
    o->done++;
    o->status = r->status;
    o->code = r->error.code;
    snprintf(o->message, sizeof o->message, "%s", r->error.message);
    yg_value_destroy(&o->state);
    o->state = yg_value_ref(r->state);
}

static void start_run(yg_client_t *cl, yg_graph_t *g, int n, outcome_t *o)
{
    yg_value_t *input = yg_map_new();
    yg_map_set(input, "n", yg_int_new(n));
    ck_assert_int_gt(yg_run_graph_async(cl, g, input, NULL, on_done, o), 0);
    yg_value_destroy(&input);
}

/* Dispatch the client's replies for ms milliseconds. */
static void pump(yg_client_t *cl, int ms)
{
    int64_t until = tu_now_ms() + ms;
    while (tu_now_ms() < until)
        ck_assert_int_ge(yg_client_wait(cl, 10), 0);
}

static void wait_done(yg_client_t *cl, outcome_t *o, int count)
{
    int64_t deadline = tu_now_ms() + WAIT_MS;
    while (o->done < count && tu_now_ms() < deadline)
        ck_assert_int_ge(yg_client_wait(cl, 50), 0);
    ck_assert_int_eq(o->done, count);
}

static const char *state_str(const outcome_t *o, const char *key)
{
    const char *s = yg_value_str(yg_map_get(o->state, key));
    return s ? s : "(none)";
}

/* ---- tests ---------------------------------------------------------------------- */

START_TEST(run_completes_through_a_worker)
{
    char *path = graph_file("g.yaml", TWO_STEP);
    yg_runtime_t *rt = start_coordinator("*");
    yg_graph_t *g = load(rt, path);
    yg_worker_t *w = start_worker(rt, path, "w1", "p1: one-w1\np2: two-w1\n", NULL,
                                  TEST_HEARTBEAT_MS);
    wait_registered(w);
    ck_assert_int_eq(stats_of(w).nodes, 2);
    ck_assert_int_eq(yg_worker_status(w, NULL), YG_OK);
    yg_client_t *cl = yg_client_new(rt);
    outcome_t o = { 0 };
    start_run(cl, g, 7, &o);
    wait_done(cl, &o, 1);
    ck_assert_msg(o.status == YG_RUN_COMPLETED, "run: %s", o.message);
    ck_assert_str_eq(state_str(&o, "a"), "one-w1");
    ck_assert_str_eq(state_str(&o, "b"), "two-w1");
    ck_assert_int_eq(yg_value_int(yg_map_get(o.state, "n")), 7);
    yg_worker_stats_t st = stats_of(w);
    ck_assert_uint_eq(st.tasks, 2);
    ck_assert_uint_eq(st.results, 2);
    ck_assert_uint_eq(st.dropped, 0);
    ck_assert(st.coordinator_alive);
    yg_value_destroy(&o.state);
    yg_client_destroy(&cl);
    yg_worker_destroy(&w);
    ck_assert_ptr_null(w);
    yg_runtime_destroy(&rt);
    free(path);
}
END_TEST

START_TEST(tasks_wait_until_a_worker_serves_the_node)
{
    char *path = graph_file("g.yaml", TWO_STEP);
    yg_runtime_t *rt = start_coordinator("gen2"); /* gen1 local, gen2 remote */
    yg_graph_t *g = load(rt, path);
    yg_client_t *cl = yg_client_new(rt);
    outcome_t o = { 0 };
    start_run(cl, g, 1, &o);
    pump(cl, 400);
    ck_assert_int_eq(o.done, 0); /* gen2 waits for a worker */
    yg_worker_t *w = start_worker(rt, path, "late", "p2: from-worker\n", "gen2",
                                  TEST_HEARTBEAT_MS);
    wait_done(cl, &o, 1);
    ck_assert_msg(o.status == YG_RUN_COMPLETED, "run: %s", o.message);
    ck_assert_str_eq(state_str(&o, "a"), "mock reply for p1"); /* the local actor */
    ck_assert_str_eq(state_str(&o, "b"), "from-worker");
    ck_assert_int_eq(stats_of(w).nodes, 1);
    ck_assert_uint_eq(stats_of(w).tasks, 1);
    yg_value_destroy(&o.state);
    yg_client_destroy(&cl);
    yg_worker_destroy(&w);
    yg_runtime_destroy(&rt);
    free(path);
}
END_TEST

START_TEST(two_workers_share_the_load)
{
    enum { RUNS = 12 };
    char *path = graph_file("g.yaml", TWO_STEP);
    yg_runtime_t *rt = start_coordinator("*");
    yg_graph_t *g = load(rt, path);
    const char *mock = "latency_ms: 100\np1: one\np2: two\n";
    yg_worker_t *a = start_worker(rt, path, "a", mock, NULL, TEST_HEARTBEAT_MS);
    yg_worker_t *b = start_worker(rt, path, "b", mock, NULL, TEST_HEARTBEAT_MS);
    wait_registered(a);
    wait_registered(b);
    yg_client_t *cl = yg_client_new(rt);
    outcome_t o = { 0 };
    for (int i = 0; i < RUNS; i++)
        start_run(cl, g, i, &o);
    wait_done(cl, &o, RUNS);
    ck_assert_int_eq(o.status, YG_RUN_COMPLETED);
    yg_worker_stats_t sa = stats_of(a), sb = stats_of(b);
    ck_assert_uint_eq(sa.tasks + sb.tasks, 2 * RUNS);
    ck_assert_uint_eq(sa.results + sb.results, 2 * RUNS);
    /* least loaded first: neither worker takes (almost) everything */
    ck_assert_msg(sa.tasks >= RUNS / 2 && sb.tasks >= RUNS / 2,
                  "unbalanced: a %llu, b %llu tasks", (unsigned long long)sa.tasks,
                  (unsigned long long)sb.tasks);
    yg_value_destroy(&o.state);
    yg_client_destroy(&cl);
    yg_worker_destroy(&a);
    yg_worker_destroy(&b);
    yg_runtime_destroy(&rt);
    free(path);
}
END_TEST

START_TEST(killed_worker_tasks_are_redispatched)
{
    char *path = graph_file("g.yaml", TWO_STEP);
    yg_runtime_t *rt = start_coordinator("*");
    yg_graph_t *g = load(rt, path);
    /* a is slow and gets the task (it is alone); then b joins; a is killed */
    yg_worker_t *a = start_worker(rt, path, "a", "p1: {delay_ms: 10000, reply: from-a}\np2: a2\n",
                                  NULL, TEST_HEARTBEAT_MS);
    wait_registered(a);
    yg_client_t *cl = yg_client_new(rt);
    outcome_t o = { 0 };
    start_run(cl, g, 1, &o);
    pump(cl, 200);
    ck_assert_uint_eq(stats_of(a).tasks, 1);
    yg_worker_t *b = start_worker(rt, path, "b", "p1: from-b\np2: b2\n", NULL, TEST_HEARTBEAT_MS);
    wait_registered(b);
    int64_t t0 = tu_now_ms();
    yg_worker_kill(&a); /* no goodbye: the coordinator finds out by itself */
    ck_assert_ptr_null(a);
    wait_done(cl, &o, 1);
    ck_assert_msg(o.status == YG_RUN_COMPLETED, "run: %s", o.message);
    ck_assert_str_eq(state_str(&o, "a"), "from-b");
    ck_assert_str_eq(state_str(&o, "b"), "b2");
    ck_assert_msg(tu_now_ms() - t0 < 5000, "re-dispatch took %lld ms", (long long)(tu_now_ms() - t0));
    ck_assert_uint_eq(stats_of(b).tasks, 2);
    yg_value_destroy(&o.state);
    yg_client_destroy(&cl);
    yg_worker_destroy(&b);
    yg_runtime_destroy(&rt);
    free(path);
}
END_TEST

START_TEST(partitioned_worker_is_declared_dead_and_its_late_result_ignored)
{
    char *path = graph_file("g.yaml", TWO_STEP);
    yg_runtime_t *rt = start_coordinator("*");
    yg_graph_t *g = load(rt, path);
    /* a answers gen1 after 300 ms - while partitioned, so its answer is
     * late; b answers gen1 at once and holds gen2 long enough for a's
     * stale gen1 result (run, task 0) to arrive during step 2 (task 0 =
     * gen2): it must not be taken for gen2's */
    yg_worker_t *a = start_worker(rt, path, "a", "p1: {delay_ms: 300, reply: from-a}\np2: a2\n",
                                  "gen1", TEST_HEARTBEAT_MS);
    wait_registered(a);
    yg_client_t *cl = yg_client_new(rt);
    outcome_t o = { 0 };
    start_run(cl, g, 1, &o);
    pump(cl, 100);
    ck_assert_uint_eq(stats_of(a).tasks, 1);
    ck_assert_int_eq(yg_worker_freeze(a, true), YG_OK);
    yg_worker_t *b = start_worker(rt, path, "b", "p1: from-b\np2: {delay_ms: 1500, reply: b2}\n",
                                  NULL, TEST_HEARTBEAT_MS);
    wait_registered(b);
    /* dead after 3 x 100 ms of silence; gen1 re-dispatched to b; then
     * step 2 runs on b for 1.5 s */
    pump(cl, 900);
    ck_assert_int_eq(o.done, 0);
    ck_assert_uint_ge(stats_of(b).tasks, 2);
    ck_assert_int_eq(yg_worker_freeze(a, false), YG_OK); /* a's stale result goes out now */
    wait_done(cl, &o, 1);
    ck_assert_msg(o.status == YG_RUN_COMPLETED, "run: %s", o.message);
    ck_assert_str_eq(state_str(&o, "a"), "from-b");
    ck_assert_str_eq(state_str(&o, "b"), "b2");
    ck_assert_uint_eq(stats_of(a).results, 1); /* it did send it */
    /* the coordinator forgot a: its next heartbeat makes it register again */
    int64_t deadline = tu_now_ms() + WAIT_MS;
    while (stats_of(a).reregistrations == 0 && tu_now_ms() < deadline)
        zclock_sleep(10);
    ck_assert_uint_ge(stats_of(a).reregistrations, 1);
    wait_registered(a);
    /* and it serves again: the next run's gen1 may go to either worker */
    outcome_t o2 = { 0 };
    start_run(cl, g, 2, &o2);
    wait_done(cl, &o2, 1);
    ck_assert_msg(o2.status == YG_RUN_COMPLETED, "run 2: %s", o2.message);
    yg_value_destroy(&o.state);
    yg_value_destroy(&o2.state);
    yg_client_destroy(&cl);
    yg_worker_destroy(&a);
    yg_worker_destroy(&b);
    yg_runtime_destroy(&rt);
    free(path);
}
END_TEST

START_TEST(goodbye_redispatches_at_once)
{
    char *path = graph_file("g.yaml", TWO_STEP);
    yg_runtime_t *rt = start_coordinator("*");
    yg_graph_t *g = load(rt, path);
    /* default heartbeat (1 s, dead after 3 s): only the goodbye is quick */
    yg_worker_t *a = start_worker(rt, path, "a", "p1: {delay_ms: 10000, reply: from-a}\n", NULL,
                                  0);
    wait_registered(a);
    yg_client_t *cl = yg_client_new(rt);
    outcome_t o = { 0 };
    start_run(cl, g, 1, &o);
    pump(cl, 200);
    ck_assert_uint_eq(stats_of(a).tasks, 1);
    yg_worker_t *b = start_worker(rt, path, "b", "p1: from-b\np2: b2\n", NULL, 0);
    wait_registered(b);
    int64_t t0 = tu_now_ms();
    yg_worker_destroy(&a);
    wait_done(cl, &o, 1);
    ck_assert_msg(o.status == YG_RUN_COMPLETED, "run: %s", o.message);
    ck_assert_str_eq(state_str(&o, "a"), "from-b");
    ck_assert_msg(tu_now_ms() - t0 < 2000, "goodbye re-dispatch took %lld ms",
                  (long long)(tu_now_ms() - t0));
    yg_value_destroy(&o.state);
    yg_client_destroy(&cl);
    yg_worker_destroy(&b);
    yg_runtime_destroy(&rt);
    free(path);
}
END_TEST

START_TEST(graph_hash_mismatch_is_rejected)
{
    char *path = graph_file("g.yaml", TWO_STEP);
    /* the same graph, one word changed: another hash */
    size_t n = strlen(TWO_STEP) + 64;
    char *text = malloc(n);
    ck_assert_ptr_nonnull(text);
    snprintf(text, n, "%sdescription: changed\n", TWO_STEP);
    char *other = graph_file("other.yaml", text);
    free(text);
    yg_runtime_t *rt = start_coordinator("*");
    load(rt, path);
    yg_worker_t *w = start_worker(rt, other, "stale", "{}\n", NULL, TEST_HEARTBEAT_MS);
    yg_error_t err = { 0 };
    int rc = yg_worker_wait(w, WAIT_MS, &err);
    ck_assert_int_eq(rc, YG_ENOTFOUND);
    ck_assert_msg(strstr(err.message, "not loaded by the coordinator") &&
                      strstr(err.message, "twostep"),
                  "message: %s", err.message);
    ck_assert_int_eq(yg_worker_status(w, NULL), YG_ENOTFOUND);
    ck_assert_int_eq(stats_of(w).registered, 0);
    yg_worker_destroy(&w);
    yg_runtime_destroy(&rt);
    free(path);
    free(other);
}
END_TEST

START_TEST(subgraph_node_on_a_dead_worker_reattaches_to_its_child_run)
{
    /* the subgraph node runs on workers; its child graph runs on the
     * coordinator's own actors and takes 1 s; the worker holding the
     * subgraph task dies meanwhile: the re-dispatched task must get the
     * running child's result, not "thread already has an active run" */
    free(graph_file("childg.yaml", TWO_STEP));
    char *path = graph_file("parentg.yaml",
                            "name: parentg\n"
                            "state: {n: int, out: str}\n"
                            "nodes:\n"
                            "  sub:\n"
                            "    type: subgraph\n"
                            "    graph: childg.yaml\n"
                            "    input_mapping: {n: n}\n"
                            "    output_mapping: {out: b}\n"
                            "edges:\n"
                            "  - {from: START, to: sub}\n"
                            "  - {from: sub, to: END}\n");
    yg_runtime_t *rt = start_coordinator_with(
        "sub", "p1: {delay_ms: 1000, reply: child-a}\np2: child-b\n", "memory");
    yg_graph_t *g = load(rt, path);
    yg_worker_t *a = start_worker(rt, path, "a", "{}\n", "sub", TEST_HEARTBEAT_MS);
    wait_registered(a);
    yg_client_t *cl = yg_client_new(rt);
    outcome_t o = { 0 };
    yg_value_t *input = yg_map_new();
    yg_map_set(input, "n", yg_int_new(3));
    yg_run_opts_t ro = { .thread_id = "parent-1" };
    ck_assert_int_gt(yg_run_graph_async(cl, g, input, &ro, on_done, &o), 0);
    yg_value_destroy(&input);
    pump(cl, 150);
    ck_assert_uint_eq(stats_of(a).tasks, 1);
    yg_worker_t *b = start_worker(rt, path, "b", "{}\n", "sub", TEST_HEARTBEAT_MS);
    wait_registered(b);
    yg_worker_kill(&a);
    wait_done(cl, &o, 1);
    ck_assert_msg(o.status == YG_RUN_COMPLETED, "run: %s", o.message);
    ck_assert_str_eq(state_str(&o, "out"), "child-b");
    ck_assert_uint_eq(stats_of(b).tasks, 1);
    ck_assert_uint_eq(stats_of(b).results, 1);
    yg_value_destroy(&o.state);
    yg_client_destroy(&cl);
    yg_worker_destroy(&b);
    yg_runtime_destroy(&rt);
    free(path);
}
END_TEST

static yg_value_t *native_stats(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)state;
    (void)err;
    yg_value_t *inner = yg_map_new();
    yg_map_set(inner, "served_by", yg_str_new(arg));
    yg_value_t *update = yg_map_new();
    yg_map_set(update, "stats", inner);
    return update;
}

START_TEST(python_node_runs_on_the_worker_with_the_native_function)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/graphs/python-worker/graph.yaml", YG_SOURCE_DIR);
    ck_assert_int_eq(yg_native_register("text_tools", "word_stats", native_stats, "worker"),
                     YG_OK);
    yg_runtime_t *rt = start_coordinator("stats");
    yg_graph_t *g = load(rt, path);
    yg_worker_t *w = start_worker(rt, path, "py", "{}\n", "stats", TEST_HEARTBEAT_MS);
    wait_registered(w);
    yg_client_t *cl = yg_client_new(rt);
    outcome_t o = { 0 };
    ck_assert_int_gt(yg_run_graph_async(cl, g, NULL, NULL, on_done, &o), 0);
    wait_done(cl, &o, 1);
    ck_assert_msg(o.status == YG_RUN_COMPLETED, "run: %s", o.message);
    const yg_value_t *stats = yg_map_get(o.state, "stats");
    ck_assert_str_eq(yg_value_str(yg_map_get(stats, "served_by")), "worker");
    ck_assert_uint_eq(stats_of(w).tasks, 1);
    yg_value_destroy(&o.state);
    yg_client_destroy(&cl);
    yg_worker_destroy(&w);
    yg_runtime_destroy(&rt);
    yg_native_unregister("text_tools", "word_stats");
}
END_TEST

START_TEST(bad_options_are_errors)
{
    char *path = graph_file("g.yaml", TWO_STEP);
    yg_error_t err = { 0 };
    /* runtime: remote nodes need a worker endpoint */
    yg_runtime_opts_t ro;
    yg_runtime_opts_init(&ro);
    ro.remote_nodes = "*";
    ck_assert_ptr_null(yg_runtime_new(&ro, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "worker_endpoint"));
    /* a runtime without a worker endpoint has none */
    yg_runtime_opts_init(&ro);
    yg_runtime_t *rt = yg_runtime_new(&ro, &err);
    ck_assert_ptr_nonnull(rt);
    ck_assert_ptr_null(yg_runtime_worker_endpoint(rt));
    yg_runtime_destroy(&rt);
    /* worker: unknown node, bad heartbeat, no endpoint, missing graph */
    yg_worker_opts_t o;
    yg_worker_opts_init(&o);
    o.nodes = "gen1, nope";
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(yg_worker_new(path, "tcp://127.0.0.1:1", &o, &err));
    ck_assert_int_eq(err.code, YG_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.message, "'nope'"));
    yg_worker_opts_init(&o);
    o.heartbeat_ms = 1;
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(yg_worker_new(path, "tcp://127.0.0.1:1", &o, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(yg_worker_new(path, NULL, NULL, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(yg_worker_new("/nonexistent/graph.yaml", "tcp://127.0.0.1:1", NULL, &err));
    ck_assert_int_ne(err.code, YG_OK);
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(yg_worker_new(path, "nonsense://x", NULL, &err));
    ck_assert_int_ne(err.code, YG_OK);
    /* a worker nobody answers: stats say so; destroy is quick */
    yg_worker_opts_init(&o);
    o.heartbeat_ms = TEST_HEARTBEAT_MS;
    o.log_level = YG_LOG_ERROR;
    yg_worker_t *w = yg_worker_new(path, "tcp://127.0.0.1:1", &o, &err);
    ck_assert_ptr_nonnull(w);
    zclock_sleep(600);
    yg_worker_stats_t st = stats_of(w);
    ck_assert_int_eq(st.registered, 0);
    ck_assert(!st.coordinator_alive);
    ck_assert_int_eq(yg_worker_wait(w, 10, NULL), YG_ETIMEOUT);
    yg_worker_destroy(&w);
    yg_worker_destroy(&w); /* NULL-safe */
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("worker");
    tcase_add_test(tc, run_completes_through_a_worker);
    tcase_add_test(tc, tasks_wait_until_a_worker_serves_the_node);
    tcase_add_test(tc, two_workers_share_the_load);
    tcase_add_test(tc, killed_worker_tasks_are_redispatched);
    tcase_add_test(tc, partitioned_worker_is_declared_dead_and_its_late_result_ignored);
    tcase_add_test(tc, goodbye_redispatches_at_once);
    tcase_add_test(tc, subgraph_node_on_a_dead_worker_reattaches_to_its_child_run);
    tcase_add_test(tc, graph_hash_mismatch_is_rejected);
    tcase_add_test(tc, python_node_runs_on_the_worker_with_the_native_function);
    tcase_add_test(tc, bad_options_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
