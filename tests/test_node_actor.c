/*
 * test_node_actor.c - a node actor against a ROUTER socket standing in for
 * the coordinator (protocol in yg_msg.h).
 */
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "yg_graph.h"
#include "yg_msg.h"
#include "yg_node_actor.h"
#include "yg_provider.h"

static const char *GRAPH_YAML =
    "name: actor-test\n"
    "prompts_relative: true\n"
    "state: {out: any, counter: any, processed: any}\n"
    "tools:\n"
    "  slow: {command: \"sleep 10\", timeout: 30}\n"
    "nodes:\n"
    "  gen: {prompt: gen, state_key: out, skip_if_exists: false}\n"
    "  streamer: {prompt: gen, state_key: out, stream: true}\n"
    "  pt: {type: passthrough, output: {counter: \"{state.counter + 1}\"}}\n"
    "  sleeper: {type: tool, tool: slow, state_key: out}\n"
    "  child_node: {type: subgraph, graph: child.yaml, input_mapping: {counter: input_text},"
    " output_mapping: {processed: output_text}}\n"
    "edges:\n"
    "  - {from: START, to: gen}\n"
    "  - {from: gen, to: streamer}\n"
    "  - {from: streamer, to: pt}\n"
    "  - {from: pt, to: sleeper}\n"
    "  - {from: sleeper, to: child_node}\n"
    "  - {from: child_node, to: END}\n";

static const char *CHILD_YAML =
    "name: child\n"
    "prompts_relative: true\n"
    "state: {input_text: any, output_text: any}\n"
    "nodes:\n"
    "  worker: {prompt: gen, state_key: output_text}\n"
    "edges:\n"
    "  - {from: START, to: worker}\n"
    "  - {from: worker, to: END}\n";

typedef struct fixture {
    yg_graph_t *graph;
    yg_mock_t *mock;
    yg_providers_t *providers;
    zsock_t *router;
    zactor_t *actor;
    zframe_t *peer;        /* the actor's identity */
    char endpoint[128];
} fixture_t;

static fixture_t F;

static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad test JSON (%s): %s", json, err.message);
    return v;
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", testutil_temp_dir(), name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void send_value(const yg_value_t *body)
{
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_msgpack_encode(body, &data, &size), YG_OK);
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &(zframe_t *){zframe_dup(F.peer)});
    zmsg_addmem(msg, data, size);
    free(data);
    ck_assert_int_eq(zmsg_send(&msg, F.router), 0);
}

static void send_json(const char *json)
{
    yg_value_t *v = J(json);
    send_value(v);
    yg_value_destroy(&v);
}

/* Receive one body (identity checked) within timeout_ms; appends its
 * messages to `into`.  Returns the number of messages, 0 on timeout. */
static size_t recv_into(yg_value_t *into, int timeout_ms)
{
    zsock_set_rcvtimeo(F.router, timeout_ms);
    zmsg_t *msg = zmsg_recv(F.router);
    if (!msg)
        return 0;
    zframe_t *id = zmsg_pop(msg);
    if (F.peer)
        ck_assert(zframe_eq(id, F.peer));
    else
        F.peer = zframe_dup(id);
    zframe_destroy(&id);
    ck_assert_int_eq(zmsg_size(msg), 1);
    zframe_t *body = zmsg_first(msg);
    yg_error_t err = {0};
    yg_value_t *v = yg_msgpack_decode((const char *)zframe_data(body), zframe_size(body), NULL, &err);
    ck_assert_msg(v != NULL, "%s", err.message);
    size_t n = 0;
    if (yg_value_type(v) == YG_LIST) {
        for (size_t i = 0; i < yg_list_size(v); i++, n++)
            yg_list_append(into, yg_value_copy(yg_list_get(v, i)));
    } else {
        yg_list_append(into, yg_value_copy(v));
        n = 1;
    }
    yg_value_destroy(&v);
    zmsg_destroy(&msg);
    return n;
}

/* Collect messages of type `t` until `want` of them arrived or timeout. */
static yg_value_t *collect(const char *type, size_t want, int timeout_ms)
{
    yg_value_t *all = yg_list_new();
    yg_value_t *out = yg_list_new();
    int64_t deadline = zclock_mono() + timeout_ms;
    while (yg_list_size(out) < want && zclock_mono() < deadline) {
        size_t before = yg_list_size(all);
        if (!recv_into(all, (int)(deadline - zclock_mono())))
            break;
        for (size_t i = before; i < yg_list_size(all); i++) {
            const yg_value_t *m = yg_list_get(all, i);
            if (strcmp(yg_value_str(yg_map_get(m, YG_MSG_TYPE)), type) == 0)
                yg_list_append(out, yg_value_copy(m));
        }
    }
    yg_value_destroy(&all);
    return out;
}

static void fixture_up(const char *node, const char *mock_json, int max_concurrency)
{
    memset(&F, 0, sizeof F);
    write_file("graph.yaml", GRAPH_YAML);
    write_file("child.yaml", CHILD_YAML);
    write_file("gen.yaml", "user: 'Write about {topic}'\n");
    char path[512];
    snprintf(path, sizeof path, "%s/graph.yaml", testutil_temp_dir());
    yg_error_t err = {0};
    F.graph = yg_graph_load(path, &err);
    ck_assert_msg(F.graph != NULL, "%s", err.message);
    yg_value_t *script = J(mock_json ? mock_json : "{}");
    F.mock = yg_mock_new_from_value(script, &err);
    yg_value_destroy(&script);
    ck_assert_ptr_nonnull(F.mock);
    F.providers = yg_providers_new("mock", F.mock);
    /* unique per fixture: an inproc name is released asynchronously */
    static int fixture_seq;
    snprintf(F.endpoint, sizeof F.endpoint, "inproc://test-coord-%d-%d", (int)getpid(),
             fixture_seq++);
    F.router = zsock_new(ZMQ_ROUTER);
    zsock_set_router_mandatory(F.router, 1);
    ck_assert_int_eq(zsock_bind(F.router, "%s", F.endpoint), 0);
    yg_node_actor_config_t cfg = {.graph = F.graph,
                                  .node = yg_graph_node(F.graph, node),
                                  .endpoint = F.endpoint,
                                  .worker_id = "w1",
                                  .max_concurrency = max_concurrency,
                                  .providers = F.providers};
    ck_assert_ptr_nonnull(cfg.node);
    F.actor = yg_node_actor_new(&cfg);
    ck_assert_ptr_nonnull(F.actor);
    /* "ready" comes first */
    yg_value_t *ready = collect(YG_MSG_READY, 1, 5000);
    ck_assert_int_eq(yg_list_size(ready), 1);
    const yg_value_t *r = yg_list_get(ready, 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(r, "node")), node);
    ck_assert_str_eq(yg_value_str(yg_map_get(r, "graph")), F.graph->hash_hex);
    ck_assert_str_eq(yg_value_str(yg_map_get(r, "worker")), "w1");
    ck_assert_int_eq(yg_value_int(yg_map_get(r, "capacity")),
                     max_concurrency > 0 ? max_concurrency : YG_NODE_DEFAULT_CONCURRENCY);
    yg_value_destroy(&ready);
}

static void fixture_down(void)
{
    zactor_destroy(&F.actor);
    zframe_destroy(&F.peer);
    zsock_destroy(&F.router);
    yg_providers_destroy(&F.providers);
    yg_mock_destroy(&F.mock);
    yg_graph_destroy(&F.graph);
}

static char *task_json(uint64_t run, uint64_t task, const char *node, const char *input)
{
    char *buf = malloc(4096);
    snprintf(buf, 4096,
             "{\"t\": \"task\", \"run\": %llu, \"task\": %llu, \"thread\": \"th\", \"node\": \"%s\","
             " \"step\": 0, \"input\": %s}",
             (unsigned long long)run, (unsigned long long)task, node, input);
    return buf;
}

START_TEST(test_task_result)
{
    fixture_up("gen", "{\"gen\": \"hello\"}", 0);
    char *t = task_json(5, 9, "gen", "{\"topic\": \"x\"}");
    send_json(t);
    free(t);
    yg_value_t *results = collect(YG_MSG_RESULT, 1, 5000);
    ck_assert_int_eq(yg_list_size(results), 1);
    yg_value_t *expect = J("{\"t\": \"result\", \"run\": 5, \"task\": 9, \"status\": \"ok\","
                           " \"update\": {\"out\": \"hello\", \"current_step\": \"gen\","
                           "  \"_loop_counts\": {\"gen\": 1}}, \"calls\": 1}");
    ck_assert(yg_value_equal(yg_list_get(results, 0), expect));
    yg_value_destroy(&expect);
    yg_value_destroy(&results);
    fixture_down();
}
END_TEST

START_TEST(test_batch_of_1000)
{
    fixture_up("pt", NULL, 0);
    yg_value_t *batch = yg_list_new();
    for (int i = 0; i < 1000; i++) {
        char input[64];
        snprintf(input, sizeof input, "{\"counter\": %d}", i);
        char *t = task_json(1, (uint64_t)i, "pt", input);
        yg_list_append(batch, J(t));
        free(t);
    }
    send_value(batch);
    yg_value_destroy(&batch);
    yg_value_t *results = collect(YG_MSG_RESULT, 1000, 10000);
    ck_assert_int_eq(yg_list_size(results), 1000);
    static bool seen[1000];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < 1000; i++) {
        const yg_value_t *r = yg_list_get(results, i);
        int64_t id = yg_value_int(yg_map_get(r, "task"));
        ck_assert(id >= 0 && id < 1000 && !seen[id]);
        seen[id] = true;
        ck_assert_str_eq(yg_value_str(yg_map_get(r, "status")), "ok");
        ck_assert_int_eq(yg_value_int(yg_map_get(yg_map_get(r, "update"), "counter")), id + 1);
    }
    yg_value_destroy(&results);
    fixture_down();
}
END_TEST

START_TEST(test_concurrency_bound)
{
    fixture_up("gen", "{\"latency_ms\": 50}", 10);
    yg_value_t *batch = yg_list_new();
    for (int i = 0; i < 30; i++) {
        char *t = task_json(1, (uint64_t)i, "gen", "{\"topic\": \"x\"}");
        yg_list_append(batch, J(t));
        free(t);
    }
    int64_t start = zclock_mono();
    send_value(batch);
    yg_value_destroy(&batch);
    yg_value_t *results = collect(YG_MSG_RESULT, 30, 10000);
    int64_t elapsed = zclock_mono() - start;
    ck_assert_int_eq(yg_list_size(results), 30);
    /* 30 tasks, 10 at a time, 50 ms each: at least three rounds */
    ck_assert_int_ge(elapsed, 145);
    ck_assert_int_lt(elapsed, 2000);
    /* FIFO: the first ten finish first */
    for (size_t i = 0; i < 10; i++)
        ck_assert_int_lt(yg_value_int(yg_map_get(yg_list_get(results, i), "task")), 10);
    yg_value_destroy(&results);
    ck_assert_int_eq(yg_mock_calls(F.mock, "gen"), 30);
    fixture_down();
}
END_TEST

START_TEST(test_unbounded_runs_in_parallel)
{
    /* default capacity: 30 tasks of 100 ms take about one round */
    fixture_up("gen", "{\"latency_ms\": 100}", 0);
    yg_value_t *batch = yg_list_new();
    for (int i = 0; i < 30; i++) {
        char *t = task_json(1, (uint64_t)i, "gen", "{\"topic\": \"x\"}");
        yg_list_append(batch, J(t));
        free(t);
    }
    int64_t start = zclock_mono();
    send_value(batch);
    yg_value_destroy(&batch);
    yg_value_t *results = collect(YG_MSG_RESULT, 30, 10000);
    ck_assert_int_eq(yg_list_size(results), 30);
    ck_assert_int_lt(zclock_mono() - start, 280);
    yg_value_destroy(&results);
    fixture_down();
}
END_TEST

START_TEST(test_cancel_run)
{
    fixture_up("gen", "{\"latency_ms\": 150}", 4);
    for (int i = 0; i < 6; i++) {
        char *t = task_json(i % 2 ? 2 : 1, (uint64_t)i, "gen", "{\"topic\": \"x\"}");
        send_json(t);
        free(t);
    }
    send_json("{\"t\": \"cancel\", \"run\": 1}");
    yg_value_t *results = collect(YG_MSG_RESULT, 6, 1000);
    ck_assert_int_eq(yg_list_size(results), 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(yg_value_int(yg_map_get(yg_list_get(results, i), "run")), 2);
    yg_value_destroy(&results);
    fixture_down();
}
END_TEST

START_TEST(test_bad_input_keeps_serving)
{
    fixture_up("pt", NULL, 0);
    /* garbage, an unknown type, a task without ids, a wrong node, a bad input */
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &(zframe_t *){zframe_dup(F.peer)});
    zmsg_addstr(msg, "\xc1garbage");
    zmsg_send(&msg, F.router);
    send_json("{\"t\": \"bogus\"}");
    send_json("{\"t\": \"task\", \"node\": \"pt\"}");
    send_json("{\"t\": \"task\", \"run\": 1, \"task\": 1, \"node\": \"gen\", \"input\": {}}");
    send_json("{\"t\": \"task\", \"run\": 1, \"task\": 2, \"node\": \"pt\", \"input\": [1]}");
    char *t = task_json(1, 3, "pt", "{\"counter\": 1}");
    send_json(t);
    free(t);
    yg_value_t *results = collect(YG_MSG_RESULT, 3, 5000);
    ck_assert_int_eq(yg_list_size(results), 3);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(results, 0), "status")), "error");
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(yg_map_get(yg_list_get(results, 0),
                                                                     "error"), "message")),
                                 "node 'gen'"));
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(results, 1), "status")), "error");
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(results, 2), "status")), "ok");
    yg_value_destroy(&results);
    fixture_down();
}
END_TEST

START_TEST(test_stream_events)
{
    fixture_up("streamer", "{\"gen\": \"alpha beta\"}", 0);
    char *t = task_json(3, 1, "streamer", "{\"topic\": \"x\"}");
    send_json(t);
    free(t);
    yg_value_t *all = yg_list_new();
    int64_t deadline = zclock_mono() + 5000;
    bool got_result = false;
    while (!got_result && zclock_mono() < deadline) {
        size_t before = yg_list_size(all);
        recv_into(all, 1000);
        for (size_t i = before; i < yg_list_size(all); i++)
            got_result = got_result || strcmp(yg_value_str(yg_map_get(yg_list_get(all, i), "t")),
                                              "result") == 0;
    }
    ck_assert(got_result);
    char joined[64] = "";
    for (size_t i = 0; i < yg_list_size(all); i++) {
        const yg_value_t *m = yg_list_get(all, i);
        if (strcmp(yg_value_str(yg_map_get(m, "t")), "event") == 0) {
            ck_assert_str_eq(yg_value_str(yg_map_get(m, "kind")), "token");
            ck_assert_str_eq(yg_value_str(yg_map_get(m, "node")), "streamer");
            ck_assert_int_eq(yg_value_int(yg_map_get(m, "run")), 3);
            strcat(joined, yg_value_str(yg_map_get(m, "text")));
        } else {
            /* tokens precede the result */
            ck_assert_str_eq(joined, "alpha beta");
        }
    }
    yg_value_destroy(&all);
    fixture_down();
}
END_TEST

START_TEST(test_child_run)
{
    fixture_up("child_node", NULL, 0);
    char *t = task_json(4, 2, "child_node", "{\"counter\": 7}");
    send_json(t);
    free(t);
    yg_value_t *child = collect(YG_MSG_CHILD, 1, 5000);
    ck_assert_int_eq(yg_list_size(child), 1);
    const yg_value_t *c = yg_list_get(child, 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(c, "op")), "run");
    ck_assert_str_eq(yg_value_str(yg_map_get(c, "thread")), "th:child_node");
    ck_assert_int_eq(yg_value_int(yg_map_get(yg_map_get(c, "input"), "input_text")), 7);
    ck_assert_str_eq(yg_value_str(yg_map_get(c, "graph")),
                     yg_graph_node(F.graph, "child_node")->child->hash_hex);
    yg_value_destroy(&child);
    send_json("{\"t\": \"child_done\", \"run\": 4, \"task\": 2, \"status\": \"completed\","
              " \"state\": {\"output_text\": \"done\"}}");
    yg_value_t *results = collect(YG_MSG_RESULT, 1, 5000);
    ck_assert_int_eq(yg_list_size(results), 1);
    yg_value_t *expect = J("{\"processed\": \"done\", \"current_step\": \"child_node\"}");
    ck_assert(yg_value_equal(yg_map_get(yg_list_get(results, 0), "update"), expect));
    yg_value_destroy(&expect);
    yg_value_destroy(&results);
    fixture_down();
}
END_TEST

START_TEST(test_term_with_tasks_in_flight)
{
    fixture_up("sleeper", NULL, 0);
    for (int i = 0; i < 3; i++) {
        char *t = task_json(1, (uint64_t)i, "sleeper", "{}");
        send_json(t);
        free(t);
    }
    zclock_sleep(200); /* let the commands start */
    int64_t start = zclock_mono();
    zactor_destroy(&F.actor); /* kills and reaps the three `sleep 10` */
    ck_assert_int_lt(zclock_mono() - start, 2000);
    fixture_down();
}
END_TEST

START_TEST(test_term_with_model_calls_in_flight)
{
    fixture_up("gen", "{\"latency_ms\": 5000}", 0);
    for (int i = 0; i < 50; i++) {
        char *t = task_json(1, (uint64_t)i, "gen", "{\"topic\": \"x\"}");
        send_json(t);
        free(t);
    }
    zclock_sleep(100);
    int64_t start = zclock_mono();
    zactor_destroy(&F.actor);
    ck_assert_int_lt(zclock_mono() - start, 1000);
    fixture_down();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("node_actor");
    TCase *tc = tcase_create("node_actor");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_task_result);
    tcase_add_test(tc, test_batch_of_1000);
    tcase_add_test(tc, test_concurrency_bound);
    tcase_add_test(tc, test_unbounded_runs_in_parallel);
    tcase_add_test(tc, test_cancel_run);
    tcase_add_test(tc, test_bad_input_keeps_serving);
    tcase_add_test(tc, test_stream_events);
    tcase_add_test(tc, test_child_run);
    tcase_add_test(tc, test_term_with_tasks_in_flight);
    tcase_add_test(tc, test_term_with_model_calls_in_flight);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
