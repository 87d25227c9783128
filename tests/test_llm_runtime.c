/*
 * test_llm_runtime.c - llm nodes over real HTTP through the whole runtime
 * (client -> coordinator -> node actor -> libcurl multi -> fake server):
 * a reply lands in state; one run waiting on a 2-second reply does not
 * hold up 100 other runs through the same node actor; an HTTP 500 becomes
 * an error record naming provider, model and status; cancelling a run
 * aborts its in-flight request at the server.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <curl/curl.h>
#include <stdint.h>
#include <time.h>

#include "yamlgraph/yamlgraph.h"
#include "fake_server.h"

#define WAIT_MS 20000
#define OTHER_RUNS 100
#define SLOW_MS 2000

static const char *GRAPH =
    "name: llm-http\n"
    "prompts_relative: true\n"
    "prompts_dir: prompts\n"
    "state: {question: str, reply: str}\n"
    "nodes:\n"
    "  ask: {type: llm, provider: openai, prompt: ask,\n"
    "        variables: {q: '{state.question}'}, state_key: reply}\n"
    "edges:\n"
    "  - {from: START, to: ask}\n"
    "  - {from: ask, to: END}\n";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Point openai at the fake server with `query`, then start a runtime with
 * the graph loaded. */
static yg_runtime_t *start(const char *query, yg_graph_t **graph)
{
    setenv("OPENAI_API_KEY", "sk-test-runtime", 1);
    setenv("LLM_MAX_RETRIES", "1", 1);
    unsetenv("OPENAI_MODEL");
    unsetenv("PROVIDER");
    point("OPENAI_BASE_URL", "/v1", query);
    testutil_write_temp("prompts/ask.yaml", "system: be brief\nuser: 'question {q}'\n");
    const char *path = testutil_write_temp("graph.yaml", GRAPH);
    ck_assert_ptr_nonnull(path);
    char *graph_path = strdup(path);

    yg_runtime_opts_t o;
    yg_runtime_opts_init(&o);
    o.log_level = YG_LOG_ERROR;
    yg_error_t err = {0};
    yg_runtime_t *rt = yg_runtime_new(&o, &err);
    ck_assert_msg(rt != NULL, "runtime: %s", err.message);
    ck_assert_msg(yg_runtime_load_graph(rt, graph_path, graph, &err) == YG_OK, "load: %s",
                  err.message);
    free(graph_path);
    return rt;
}

static yg_value_t *question(const char *text)
{
    yg_value_t *in = yg_map_new();
    yg_map_set(in, "question", yg_str_new(text));
    return in;
}

START_TEST(test_reply_lands_in_state)
{
    yg_graph_t *g = NULL;
    yg_runtime_t *rt = start("delay_ms=10", &g);
    yg_client_t *c = yg_client_new(rt);
    yg_value_t *in = question("what is 2+2?");
    yg_result_t r;
    ck_assert_int_eq(yg_run_graph(c, g, in, NULL, WAIT_MS, &r), YG_OK);
    ck_assert_int_eq(r.status, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(yg_map_get(r.state, "reply")), FIXED_REPLY);
    ck_assert_ptr_null(yg_map_get(r.state, "errors"));
    yg_result_release(&r);
    yg_value_destroy(&in);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

typedef struct {
    int fast_done;
    int fast_ok;
    int64_t fast_last_ms;
    bool slow_done;
    int64_t slow_ms;
    yg_run_status_t slow_status;
    char slow_reply[128];
} race_t;

static void on_fast(const yg_result_t *r, void *arg)
{
    race_t *race = arg;
    race->fast_done++;
    if (r->status == YG_RUN_COMPLETED &&
        yg_value_str(yg_map_get(r->state, "reply")) &&
        strcmp(yg_value_str(yg_map_get(r->state, "reply")), FIXED_REPLY) == 0)
        race->fast_ok++;
    race->fast_last_ms = now_ms();
}

static void on_slow(const yg_result_t *r, void *arg)
{
    race_t *race = arg;
    race->slow_done = true;
    race->slow_ms = now_ms();
    race->slow_status = r->status;
    const char *reply = yg_value_str(yg_map_get(r->state, "reply"));
    snprintf(race->slow_reply, sizeof race->slow_reply, "%s", reply ? reply : "");
}

/* The non-blocking proof, through the actors: while one run's llm
 * node waits on a 2-second reply, 100 other runs through the same node
 * actor complete. */
START_TEST(test_slow_reply_does_not_block_other_runs)
{
    char query[128];
    snprintf(query, sizeof query, "delay_ms=20&slow_if=SLOWRUN&slow_ms=%d", SLOW_MS);
    yg_graph_t *g = NULL;
    yg_runtime_t *rt = start(query, &g);
    yg_client_t *c = yg_client_new(rt);
    race_t race = {0};

    int64_t t0 = now_ms();
    yg_value_t *in = question("SLOWRUN please");
    ck_assert_int_gt(yg_run_graph_async(c, g, in, NULL, on_slow, &race), 0);
    yg_value_destroy(&in);
    for (int i = 0; i < OTHER_RUNS; i++) {
        char text[32];
        snprintf(text, sizeof text, "fast %d", i);
        in = question(text);
        ck_assert_int_gt(yg_run_graph_async(c, g, in, NULL, on_fast, &race), 0);
        yg_value_destroy(&in);
    }
    while ((race.fast_done < OTHER_RUNS || !race.slow_done) && now_ms() - t0 < WAIT_MS)
        yg_client_wait(c, 100);

    ck_assert_int_eq(race.fast_done, OTHER_RUNS);
    ck_assert_int_eq(race.fast_ok, OTHER_RUNS);
    ck_assert(race.slow_done);
    ck_assert_int_eq(race.slow_status, YG_RUN_COMPLETED);
    ck_assert_str_eq(race.slow_reply, FIXED_REPLY);
    /* the slow reply really was held, and every fast run finished first */
    ck_assert_int_ge(race.slow_ms - t0, SLOW_MS);
    ck_assert_int_lt(race.fast_last_ms, race.slow_ms);
    ck_assert_int_lt(race.fast_last_ms - t0, SLOW_MS);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* No on_error: a provider failure becomes an error record (spec 4.3) whose
 * message names the provider, the model and the HTTP status. */
START_TEST(test_http_500_becomes_error_record)
{
    yg_graph_t *g = NULL;
    yg_runtime_t *rt = start("fault=500", &g);
    yg_client_t *c = yg_client_new(rt);
    yg_value_t *in = question("fail please");
    yg_result_t r;
    ck_assert_int_eq(yg_run_graph(c, g, in, NULL, WAIT_MS, &r), YG_OK);
    ck_assert_int_eq(r.status, YG_RUN_COMPLETED);
    ck_assert_ptr_null(yg_map_get(r.state, "reply"));
    const yg_value_t *errors = yg_map_get(r.state, "errors");
    ck_assert_uint_eq(yg_list_size(errors), 1);
    const yg_value_t *rec = yg_list_get(errors, 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "type")), "llm_error");
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "node")), "ask");
    const char *msg = yg_value_str(yg_map_get(rec, "message"));
    ck_assert_ptr_nonnull(strstr(msg, "openai"));
    ck_assert_ptr_nonnull(strstr(msg, "gpt-4o"));
    ck_assert_ptr_nonnull(strstr(msg, "500"));
    ck_assert_ptr_null(strstr(msg, "sk-test-runtime")); /* never the key */
    yg_result_release(&r);
    yg_value_destroy(&in);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

static size_t collect_body(char *data, size_t size, size_t n, void *arg)
{
    char *buf = arg;
    size_t have = strlen(buf);
    size_t take = size * n < 4000 - have ? size * n : 4000 - have;
    memcpy(buf + have, data, take);
    buf[have + take] = '\0';
    return size * n;
}

/* The fake server's count of requests whose client left before the reply
 * (GET /stats, from the test thread: not an actor). */
static int64_t server_client_aborts(void)
{
    char url[128];
    char body[4001] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/stats", g_port);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    yg_value_t *stats = yg_json_decode(body, strlen(body), NULL, NULL);
    ck_assert_ptr_nonnull(stats);
    int64_t aborts = yg_value_int(yg_map_get(stats, "client_aborts"));
    yg_value_destroy(&stats);
    return aborts;
}

typedef struct {
    bool done;
    yg_run_status_t status;
    int code;
} one_t;

static void on_one(const yg_result_t *r, void *arg)
{
    one_t *o = arg;
    o->done = true;
    o->status = r->status;
    o->code = r->error.code;
}

/* Cancelling a run aborts its in-flight model request. */
START_TEST(test_cancel_aborts_request)
{
    yg_graph_t *g = NULL;
    yg_runtime_t *rt = start("slow_if=SLOWRUN&slow_ms=10000", &g);
    yg_client_t *c = yg_client_new(rt);
    int64_t aborts_before = server_client_aborts();
    one_t run = {0}, cancel = {0};
    yg_value_t *in = question("SLOWRUN forever");
    int64_t req = yg_run_graph_async(c, g, in, NULL, on_one, &run);
    yg_value_destroy(&in);
    ck_assert_int_gt(req, 0);
    /* give the request time to reach the server */
    int64_t t0 = now_ms();
    while (now_ms() - t0 < 300)
        yg_client_wait(c, 50);
    ck_assert(!run.done);
    ck_assert_int_gt(yg_cancel_async(c, req, NULL, on_one, &cancel), 0);
    while ((!run.done || !cancel.done) && now_ms() - t0 < WAIT_MS)
        yg_client_wait(c, 50);
    ck_assert(run.done);
    ck_assert_int_eq(run.status, YG_RUN_ERROR);
    ck_assert_int_eq(run.code, YG_ECANCELLED);
    ck_assert_int_lt(now_ms() - t0, 5000); /* long before the 10 s reply */
    /* the server sees the connection closed */
    int64_t aborts = aborts_before;
    while (aborts == aborts_before && now_ms() - t0 < WAIT_MS) {
        yg_client_wait(c, 50);
        aborts = server_client_aborts();
    }
    ck_assert_int_gt(aborts, aborts_before);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("llm_runtime");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, server_start, server_stop);
    tcase_add_test(tc, test_reply_lands_in_state);
    tcase_add_test(tc, test_slow_reply_does_not_block_other_runs);
    tcase_add_test(tc, test_http_500_becomes_error_record);
    tcase_add_test(tc, test_cancel_aborts_request);
    suite_add_tcase(s, tc);
    return testutil_run(s, 60);
}
