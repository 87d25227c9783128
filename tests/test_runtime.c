/*
 * test_runtime.c - the public embedding API: async requests with
 * callbacks, event streams, integration of yg_client_fd into a host event
 * loop (edge-triggered epoll and poll), blocking wrappers and timeouts,
 * protocol robustness of the api socket, option errors, and clean
 * shutdown with runs in flight.
 */
#include <czmq.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "testutil_rt.h"

#define WAIT_MS 20000

static yg_runtime_t *start(const char *mock_yaml)
{
    return tu_mock_runtime(mock_yaml, NULL);
}

static const char *SLOW_GRAPH =
    "name: slowgraph\n"
    "prompts_relative: true\n"
    "prompts_dir: prompts\n"
    "state: {n: int, out: str}\n"
    "nodes:\n"
    "  work: {prompt: work, variables: {n: '{state.n}'}, state_key: out}\n"
    "  tag: {type: passthrough, output: {n: '{state.n + 100}'}}\n"
    "edges:\n"
    "  - {from: START, to: work}\n"
    "  - {from: work, to: tag}\n";

static void write_work_prompt(void)
{
    testutil_write_temp("prompts/work.yaml", "system: s\nuser: 'work {n}'\n");
}

/* ---- callbacks --------------------------------------------------------------- */

typedef struct collect {
    int done;
    int completed;
    int64_t sum;          /* of state.n over completed runs */
    yg_value_t *kinds;    /* event kinds in order */
    yg_value_t *seqs;
    yg_value_t *tokens;   /* token texts */
    yg_run_status_t last_status;
    int last_code;
    yg_value_t *last_state;
} collect_t;

static void collect_init(collect_t *c)
{
    memset(c, 0, sizeof *c);
    c->kinds = yg_list_new();
    c->seqs = yg_list_new();
    c->tokens = yg_list_new();
}

static void collect_free(collect_t *c)
{
    yg_value_destroy(&c->kinds);
    yg_value_destroy(&c->seqs);
    yg_value_destroy(&c->tokens);
    yg_value_destroy(&c->last_state);
}

static void on_result(const yg_result_t *r, void *arg)
{
    collect_t *c = arg;
    c->done++;
    c->last_status = r->status;
    c->last_code = r->error.code;
    yg_value_destroy(&c->last_state);
    c->last_state = yg_value_ref(r->state);
    if (r->status == YG_RUN_COMPLETED) {
        c->completed++;
        c->sum += yg_value_int(yg_map_get(r->state, "n"));
    }
}

static void on_event(const yg_event_t *ev, void *arg)
{
    collect_t *c = arg;
    yg_list_append(c->kinds, yg_str_new(ev->kind));
    yg_list_append(c->seqs, yg_value_ref(yg_map_get(ev->data, "seq")));
    if (strcmp(ev->kind, "token") == 0)
        yg_list_append(c->tokens, yg_value_ref(yg_map_get(ev->data, "text")));
}

static void wait_count(yg_client_t *cl, const int *counter, int want)
{
    int64_t deadline = tu_now_ms() + WAIT_MS;
    while (*counter < want && tu_now_ms() < deadline)
        ck_assert_int_ge(yg_client_wait(cl, 100), 0);
    ck_assert_int_eq(*counter, want);
}

START_TEST(async_run_with_events)
{
    write_work_prompt();
    yg_runtime_t *rt = start("work: done\n");
    yg_graph_t *g = tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
    yg_client_t *cl = yg_client_new(rt);
    collect_t c;
    collect_init(&c);
    yg_value_t *input = yg_map_new();
    yg_map_set(input, "n", yg_int_new(1));
    int64_t req = yg_stream_graph_async(cl, g, input, NULL, on_event, &c, on_result, &c);
    yg_value_destroy(&input);
    ck_assert_int_gt(req, 0);
    ck_assert_uint_eq(yg_client_pending(cl), 1);
    wait_count(cl, &c.done, 1);
    ck_assert_uint_eq(yg_client_pending(cl), 0);
    ck_assert_int_eq(c.last_status, YG_RUN_COMPLETED);
    ck_assert_int_eq(yg_value_int(yg_map_get(c.last_state, "n")), 101);
    ck_assert_str_eq(yg_value_str(yg_map_get(c.last_state, "out")), "done");
    /* run_start first, run_end last, node events between, seq 1, 2, 3 ... */
    size_t n = yg_list_size(c.kinds);
    ck_assert_uint_ge(n, 6);
    ck_assert_str_eq(yg_value_str(yg_list_get(c.kinds, 0)), "run_start");
    ck_assert_str_eq(yg_value_str(yg_list_get(c.kinds, n - 1)), "run_end");
    const char *expect[] = { "run_start", "node_start", "node_end", "values", "node_start",
                             "node_end", "values", "run_end" };
    ck_assert_uint_eq(n, sizeof expect / sizeof expect[0]);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(yg_value_str(yg_list_get(c.kinds, i)), expect[i]);
        ck_assert_int_eq(yg_value_int(yg_list_get(c.seqs, i)), (int64_t)i + 1);
    }
    collect_free(&c);
    yg_client_destroy(&cl);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(stream_node_tokens_concatenate_to_state)
{
    testutil_write_temp("prompts/story.yaml", "system: s\nuser: 'tell {topic}'\n");
    yg_runtime_t *rt = start("story: 'once upon a time'\n");
    yg_graph_t *g = tu_load_graph(rt, "stream.yaml",
                         "name: streaming\n"
                         "prompts_relative: true\n"
                         "prompts_dir: prompts\n"
                         "state: {topic: str, story: str}\n"
                         "nodes:\n"
                         "  tell: {prompt: story, variables: {topic: '{state.topic}'},\n"
                         "         state_key: story, stream: true}\n"
                         "edges:\n"
                         "  - {from: START, to: tell}\n");
    yg_client_t *cl = yg_client_new(rt);
    collect_t c;
    collect_init(&c);
    yg_value_t *input = yg_map_new();
    yg_map_set(input, "topic", yg_str_new("x"));
    ck_assert_int_gt(yg_stream_graph_async(cl, g, input, NULL, on_event, &c, on_result, &c), 0);
    yg_value_destroy(&input);
    wait_count(cl, &c.done, 1);
    ck_assert_int_eq(c.last_status, YG_RUN_COMPLETED);
    ck_assert_uint_gt(yg_list_size(c.tokens), 1);
    char joined[256] = "";
    for (size_t i = 0; i < yg_list_size(c.tokens); i++)
        strncat(joined, yg_value_str(yg_list_get(c.tokens, i)), sizeof joined - strlen(joined) - 1);
    ck_assert_str_eq(joined, yg_value_str(yg_map_get(c.last_state, "story")));
    collect_free(&c);
    yg_client_destroy(&cl);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Submit `runs` runs and drive them from an edge-triggered epoll loop. */
START_TEST(host_epoll_loop_many_runs)
{
    write_work_prompt();
    yg_runtime_t *rt = start("work: {delay_ms: 100, reply: ok}\n");
    yg_graph_t *g = tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
    yg_client_t *cl = yg_client_new(rt);
    int ep = epoll_create1(0);
    ck_assert_int_ge(ep, 0);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = cl };
    ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, yg_client_fd(cl), &ev), 0);
    collect_t c;
    collect_init(&c);
    const int runs = 8;
    int64_t expect_sum = 0;
    for (int i = 0; i < runs; i++) {
        yg_value_t *input = yg_map_new();
        yg_map_set(input, "n", yg_int_new(i));
        expect_sum += i + 100;
        ck_assert_int_gt(yg_run_graph_async(cl, g, input, NULL, on_result, &c), 0);
        yg_value_destroy(&input);
    }
    /* after submitting: dispatch until 0 (the fd is edge-triggered) */
    while (yg_client_dispatch(cl) > 0)
        ;
    int64_t t0 = tu_now_ms(), deadline = t0 + WAIT_MS;
    while (c.done < runs && tu_now_ms() < deadline) {
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, 200);
        ck_assert_int_ge(n, 0);
        while (yg_client_dispatch(cl) > 0)
            ;
    }
    ck_assert_int_eq(c.completed, runs);
    ck_assert_int_eq(c.sum, expect_sum);
    /* they ran concurrently: run one after another, 8 x 100 ms of model time
     * take at least 800 ms (the margin is for sanitizer and valgrind runs) */
    ck_assert_int_lt(tu_now_ms() - t0, 790);
    close(ep);
    collect_free(&c);
    yg_client_destroy(&cl);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(host_poll_loop_two_clients)
{
    write_work_prompt();
    yg_runtime_t *rt = start("work: {delay_ms: 30, reply: ok}\n");
    yg_graph_t *g = tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
    yg_client_t *a = yg_client_new(rt), *b = yg_client_new(rt);
    collect_t ca, cb;
    collect_init(&ca);
    collect_init(&cb);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_gt(yg_run_graph_async(a, g, NULL, NULL, on_result, &ca), 0);
        ck_assert_int_gt(yg_run_graph_async(b, g, NULL, NULL, on_result, &cb), 0);
    }
    yg_client_dispatch(a);
    yg_client_dispatch(b);
    struct pollfd fds[2] = { { yg_client_fd(a), POLLIN, 0 }, { yg_client_fd(b), POLLIN, 0 } };
    int64_t deadline = tu_now_ms() + WAIT_MS;
    while ((ca.done < 3 || cb.done < 3) && tu_now_ms() < deadline) {
        ck_assert_int_ge(poll(fds, 2, 100), 0);
        while (yg_client_dispatch(a) > 0)
            ;
        while (yg_client_dispatch(b) > 0)
            ;
    }
    /* each client got exactly its own three results */
    ck_assert_int_eq(ca.completed, 3);
    ck_assert_int_eq(cb.completed, 3);
    collect_free(&ca);
    collect_free(&cb);
    yg_client_destroy(&a);
    yg_client_destroy(&b);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(blocking_wrappers_and_timeout)
{
    write_work_prompt();
    yg_runtime_t *rt = start("work:\n  - ok\n  - {delay_ms: 2000, reply: late}\n  - ok\n");
    yg_graph_t *g = tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
    yg_client_t *cl = yg_client_new(rt);
    yg_result_t r;
    ck_assert_int_eq(yg_run_graph(cl, g, NULL, NULL, WAIT_MS, &r), YG_OK);
    ck_assert_int_eq(r.status, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(yg_map_get(r.state, "out")), "ok");
    ck_assert_str_ne(r.run_id, "");
    yg_result_release(&r);
    /* the second model reply is slow: the wrapper gives up */
    ck_assert_int_eq(yg_run_graph(cl, g, NULL, NULL, 100, &r), YG_ETIMEOUT);
    /* the late reply is ignored, the client keeps working */
    ck_assert_int_eq(yg_run_graph(cl, g, NULL, NULL, WAIT_MS, &r), YG_OK);
    ck_assert_int_eq(r.status, YG_RUN_COMPLETED);
    yg_result_release(&r);
    /* bad arguments */
    ck_assert_int_eq(yg_run_graph_async(cl, NULL, NULL, NULL, on_result, NULL), YG_EINVAL);
    ck_assert_int_eq(yg_get_state_async(cl, g, NULL, on_result, NULL), YG_EINVAL);
    ck_assert_int_eq(yg_cancel_async(cl, 0, NULL, on_result, NULL), YG_EINVAL);
    /* a state request on a graph without a checkpointer: clear error */
    ck_assert_int_eq(yg_get_state(cl, g, "t", WAIT_MS, &r), YG_OK);
    ck_assert_int_eq(r.status, YG_RUN_ERROR);
    ck_assert_ptr_nonnull(strstr(r.error.message, "checkpointer"));
    yg_result_release(&r);
    /* non-map input */
    yg_value_t *list = yg_list_new();
    ck_assert_int_eq(yg_run_graph(cl, g, list, NULL, WAIT_MS, &r), YG_OK);
    ck_assert_int_eq(r.status, YG_RUN_ERROR);
    ck_assert_int_eq(r.error.code, YG_EINVAL);
    yg_result_release(&r);
    yg_value_destroy(&list);
    yg_client_destroy(&cl);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Bad frames on the api socket get error replies, never a crash. */
START_TEST(api_socket_rejects_bad_frames)
{
    yg_runtime_t *rt = start(NULL);
    zsock_t *dealer = zsock_new_dealer(yg_runtime_api_endpoint(rt));
    ck_assert_ptr_nonnull(dealer);
    zsock_set_rcvtimeo(dealer, 5000);
    const char *bodies[] = { "\xc1garbage", "\x93\x01\x02\x03", "\x81\xa1t\xa3run" };
    for (size_t i = 0; i < 3; i++) {
        zframe_t *f = zframe_new(bodies[i], strlen(bodies[i]));
        ck_assert_int_eq(zframe_send(&f, dealer, 0), 0);
        zframe_t *reply = zframe_recv(dealer);
        ck_assert_msg(reply != NULL, "no reply to bad body %zu", i);
        yg_value_t *v = yg_msgpack_decode((const char *)zframe_data(reply), zframe_size(reply),
                                          NULL, NULL);
        ck_assert_ptr_nonnull(v);
        /* replies queued in one wake-up arrive as one batch (an array) */
        const yg_value_t *first = yg_value_type(v) == YG_LIST ? yg_list_get(v, 0) : v;
        ck_assert_str_eq(yg_value_str(yg_map_get(first, "t")), "error");
        yg_value_destroy(&v);
        zframe_destroy(&reply);
    }
    /* unknown graph */
    yg_value_t *req = yg_map_new();
    yg_map_set(req, "t", yg_str_new("run"));
    yg_map_set(req, "req", yg_int_new(7));
    yg_map_set(req, "graph", yg_str_new("nope"));
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_msgpack_encode(req, &data, &size), YG_OK);
    zframe_t *f = zframe_new(data, size);
    free(data);
    yg_value_destroy(&req);
    zframe_send(&f, dealer, 0);
    zframe_t *reply = zframe_recv(dealer);
    ck_assert_ptr_nonnull(reply);
    yg_value_t *v = yg_msgpack_decode((const char *)zframe_data(reply), zframe_size(reply), NULL,
                                      NULL);
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "req")), 7);
    ck_assert_int_eq(yg_value_int(yg_map_get(yg_map_get(v, "error"), "code")), YG_ENOTFOUND);
    yg_value_destroy(&v);
    zframe_destroy(&reply);
    zsock_destroy(&dealer);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(options_and_loading_errors)
{
    yg_runtime_opts_t o;
    yg_runtime_opts_init(&o);
    ck_assert_int_eq(o.step_limit, YG_DEFAULT_STEP_LIMIT);
    o.shards = 2;
    yg_error_t err = { 0 };
    ck_assert_ptr_null(yg_runtime_new(&o, &err));
    ck_assert_int_eq(err.code, YG_EUNSUPPORTED);
    yg_runtime_opts_init(&o);
    o.checkpointer = "/nonexistent-dir/sub/store.ckpt";
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_runtime_new(&o, &err));
    ck_assert_int_ne(err.code, YG_OK);
    ck_assert_ptr_nonnull(strstr(err.message, "checkpointer"));
    yg_runtime_opts_init(&o);
    o.provider = "mock";
    o.mock_file = "/nonexistent-mock.yaml";
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_runtime_new(&o, &err));
    ck_assert_int_ne(err.code, YG_OK);

    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = NULL;
    yg_error_clear(&err);
    ck_assert_int_ne(yg_runtime_load_graph(rt, "/nonexistent/graph.yaml", &g, &err), YG_OK);
    ck_assert_ptr_null(g);
    ck_assert_int_ne(err.code, YG_OK);
    write_work_prompt();
    yg_graph_t *g1 = tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
    yg_graph_t *g2 = tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
    ck_assert_ptr_eq(g1, g2);
    ck_assert_ptr_eq(yg_runtime_find_graph(rt, "slowgraph"), g1);
    ck_assert_ptr_null(yg_runtime_find_graph(rt, "other"));
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(destroy_with_runs_in_flight)
{
    write_work_prompt();
    yg_runtime_t *rt = start("work: {delay_ms: 30000, reply: never}\n");
    yg_graph_t *g = tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
    yg_client_t *cl = yg_client_new(rt);
    collect_t c;
    collect_init(&c);
    for (int i = 0; i < 4; i++)
        ck_assert_int_gt(yg_run_graph_async(cl, g, NULL, NULL, on_result, &c), 0);
    int64_t until = tu_now_ms() + 200;
    while (tu_now_ms() < until)
        yg_client_wait(cl, 20);
    int64_t t0 = tu_now_ms();
    yg_client_destroy(&cl);
    yg_runtime_destroy(&rt);
    ck_assert_ptr_null(rt);
    ck_assert_int_lt(tu_now_ms() - t0, 3000);
    ck_assert_int_eq(c.done, 0);
    collect_free(&c);
}
END_TEST

START_TEST(runtime_closes_runs_for_live_clients)
{
    write_work_prompt();
    yg_runtime_t *rt = start("work: {delay_ms: 30000, reply: never}\n");
    yg_graph_t *g = tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
    /* a raw client that outlives the runtime sees YG_ECLOSED for its run */
    zsock_t *dealer = zsock_new_dealer(yg_runtime_api_endpoint(rt));
    zsock_set_rcvtimeo(dealer, 5000);
    yg_value_t *req = yg_map_new();
    yg_map_set(req, "t", yg_str_new("run"));
    yg_map_set(req, "req", yg_int_new(1));
    yg_map_set(req, "graph", yg_str_new("slowgraph"));
    char *data = NULL;
    size_t size = 0;
    yg_msgpack_encode(req, &data, &size);
    yg_value_destroy(&req);
    zframe_t *f = zframe_new(data, size);
    free(data);
    zframe_send(&f, dealer, 0);
    zclock_sleep(200);
    (void)g;
    yg_runtime_destroy(&rt);
    zframe_t *reply = zframe_recv(dealer);
    ck_assert_ptr_nonnull(reply);
    yg_value_t *v = yg_msgpack_decode((const char *)zframe_data(reply), zframe_size(reply), NULL,
                                      NULL);
    ck_assert_int_eq(yg_value_int(yg_map_get(yg_map_get(v, "error"), "code")), YG_ECLOSED);
    yg_value_destroy(&v);
    zframe_destroy(&reply);
    zsock_destroy(&dealer);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("runtime");
    tcase_add_test(tc, async_run_with_events);
    tcase_add_test(tc, stream_node_tokens_concatenate_to_state);
    tcase_add_test(tc, host_epoll_loop_many_runs);
    tcase_add_test(tc, host_poll_loop_two_clients);
    tcase_add_test(tc, blocking_wrappers_and_timeout);
    tcase_add_test(tc, api_socket_rejects_bad_frames);
    tcase_add_test(tc, options_and_loading_errors);
    tcase_add_test(tc, destroy_with_runs_in_flight);
    tcase_add_test(tc, runtime_closes_runs_for_live_clients);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
