/*
 * testutil_rt.h - helpers of the suites that run graphs through the public
 * API (yamlgraph.h): a runtime on the mock provider, graphs written to the
 * per-process temp dir, and a run harness that records the result and the
 * node_end events of a run.
 *
 * Header-only (static functions; a suite uses what it needs), so the suites
 * keep linking only tests/testutil.c.
 */
#ifndef YG_TESTUTIL_RT_H
#define YG_TESTUTIL_RT_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "yamlgraph/yamlgraph.h"

/* How long tu_wait_outcome waits for a run (mock runs take milliseconds). */
#define TU_RUN_WAIT_MS 20000

/* Monotonic clock in ms. */
static inline int64_t tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of a JSON literal of the test (the test fails on bad JSON). */
static inline yg_value_t *tu_json(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad test JSON %s: %s", json, err.message);
    return v;
}

/* Write text to name in the temp dir; returns its path (caller frees). */
static inline char *tu_temp_path(const char *name, const char *text)
{
    const char *p = testutil_write_temp(name, text);
    ck_assert_ptr_nonnull(p);
    return strdup(p);
}

/* A runtime on the mock provider that logs errors only.  mock_yaml (NULL =
 * the built-in defaults) is written to mock.yaml; base gives the other
 * options (NULL = defaults). */
static inline yg_runtime_t *tu_mock_runtime(const char *mock_yaml, const yg_runtime_opts_t *base)
{
    yg_runtime_opts_t o;
    if (base)
        o = *base;
    else
        yg_runtime_opts_init(&o);
    o.provider = "mock";
    o.log_level = YG_LOG_ERROR;
    char *mock = mock_yaml ? tu_temp_path("mock.yaml", mock_yaml) : NULL;
    o.mock_file = mock;
    yg_error_t err = {0};
    yg_runtime_t *rt = yg_runtime_new(&o, &err);
    free(mock);
    ck_assert_msg(rt != NULL, "runtime: %s", err.message);
    return rt;
}

/* Write yaml to name in the temp dir and load it into rt (must succeed). */
static inline yg_graph_t *tu_load_graph(yg_runtime_t *rt, const char *name, const char *yaml)
{
    char *path = tu_temp_path(name, yaml);
    yg_graph_t *g = NULL;
    yg_error_t err = {0};
    int rc = yg_runtime_load_graph(rt, path, &g, &err);
    ck_assert_msg(rc == YG_OK, "load %s: %s:%d:%d: %s", name, err.file, err.line, err.column,
                  err.message);
    free(path);
    return g;
}

/* v must equal the JSON literal expected. */
static inline void tu_assert_json(const yg_value_t *v, const char *expected)
{
    yg_value_t *e = tu_json(expected);
    char *got = yg_json_encode(v, false, NULL);
    ck_assert_msg(yg_value_equal(v, e), "got %s, expected %s", got ? got : "(null)", expected);
    free(got);
    yg_value_destroy(&e);
}

/* --- the run harness ------------------------------------------------------ */

typedef struct tu_outcome {
    bool done;
    yg_result_t r;       /* owned copy */
    yg_value_t *path;    /* node of every node_end event, in order */
    yg_value_t *updates; /* {node: update} of the last node_end of each node */
    yg_value_t *indexes; /* map_index of node_end events of map items, in order */
} tu_outcome_t;

/* yg_event_fn recording node_end events into the tu_outcome_t arg. */
static inline void tu_on_event(const yg_event_t *ev, void *arg)
{
    tu_outcome_t *o = arg;
    if (strcmp(ev->kind, "node_end") != 0)
        return;
    const yg_value_t *node = yg_map_get(ev->data, "node");
    yg_list_append(o->path, yg_value_ref((yg_value_t *)node));
    const yg_value_t *update = yg_map_get(ev->data, "update");
    if (update && yg_value_str(node))
        yg_map_set(o->updates, yg_value_str(node), yg_value_copy(update));
    yg_value_t *mi = yg_map_get(ev->data, "map_index");
    if (mi)
        yg_list_append(o->indexes, yg_value_ref(mi));
}

/* yg_result_fn keeping a copy of the result in the tu_outcome_t arg. */
static inline void tu_on_done(const yg_result_t *r, void *arg)
{
    tu_outcome_t *o = arg;
    o->r = *r;
    o->r.state = yg_value_ref(r->state);
    o->r.interrupts = r->interrupts ? yg_value_ref(r->interrupts) : yg_list_new();
    o->r.snapshot = yg_value_ref(r->snapshot);
    o->r.history = yg_value_ref(r->history);
    o->done = true;
}

static inline void tu_outcome_init(tu_outcome_t *o)
{
    memset(o, 0, sizeof *o);
    o->path = yg_list_new();
    o->updates = yg_map_new();
    o->indexes = yg_list_new();
}

static inline void tu_outcome_release(tu_outcome_t *o)
{
    yg_result_release(&o->r);
    yg_value_destroy(&o->path);
    yg_value_destroy(&o->updates);
    yg_value_destroy(&o->indexes);
}

/* Pump c until o is done (fails after TU_RUN_WAIT_MS). */
static inline void tu_wait_outcome(yg_client_t *c, tu_outcome_t *o)
{
    int64_t deadline = tu_now_ms() + TU_RUN_WAIT_MS;
    while (!o->done && tu_now_ms() < deadline)
        ck_assert_int_ge(yg_client_wait(c, 100), 0);
    ck_assert_msg(o->done, "run did not finish in time");
}

/* Stream a run of g (input_json NULL = no input) to completion into o. */
static inline void tu_run(yg_client_t *c, yg_graph_t *g, const char *input_json,
                          const char *thread, int step_limit, tu_outcome_t *o)
{
    tu_outcome_init(o);
    yg_value_t *input = input_json ? tu_json(input_json) : NULL;
    yg_run_opts_t opts = {.thread_id = thread, .step_limit = step_limit};
    int64_t req = yg_stream_graph_async(c, g, input, &opts, tu_on_event, o, tu_on_done, o);
    yg_value_destroy(&input);
    ck_assert_int_gt(req, 0);
    tu_wait_outcome(c, o);
}

/* Stream a resume of thread with value_json to completion into o. */
static inline void tu_resume(yg_client_t *c, yg_graph_t *g, const char *value_json,
                             const char *thread, tu_outcome_t *o)
{
    tu_outcome_init(o);
    yg_value_t *value = tu_json(value_json);
    yg_run_opts_t opts = {.thread_id = thread};
    int64_t req = yg_stream_resume_async(c, g, value, &opts, tu_on_event, o, tu_on_done, o);
    yg_value_destroy(&value);
    ck_assert_int_gt(req, 0);
    tu_wait_outcome(c, o);
}

static inline void tu_assert_status(const tu_outcome_t *o, yg_run_status_t want)
{
    ck_assert_msg(o->r.status == want, "status %s (%s), expected %s",
                  yg_run_status_name(o->r.status), o->r.error.message, yg_run_status_name(want));
}

/* How many node_end events of node the run had. */
static inline size_t tu_count_in_path(const tu_outcome_t *o, const char *node)
{
    size_t n = 0;
    for (size_t i = 0; i < yg_list_size(o->path); i++)
        if (strcmp(yg_value_str(yg_list_get(o->path, i)), node) == 0)
            n++;
    return n;
}

#endif
