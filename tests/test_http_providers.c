/*
 * test_http_providers.c - the HTTP LLM providers against the fake LLM
 * server (bench/fake_llm_server.c, started as a child process on an
 * ephemeral loopback port): OpenAI and Anthropic shapes, streaming, tool
 * calls, structured output, every injected fault, retries honouring
 * Retry-After, timeouts, cancellation, keep-alive reuse, and the proof
 * that one slow reply does not block 100 others on the same loop.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <czmq.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "yamlgraph/yg_prompt_api.h"
#include "yamlgraph/yg_value.h"
#include "yg_exec.h"
#include "yg_graph.h"
#include "yg_http.h"
#include "yg_llm_http.h"
#include "yg_provider.h"

#include "fake_server.h"

/* --- a loop with an LLM client ------------------------------------------- */

typedef struct {
    zloop_t *loop;
    yg_evloop_t *ev;
    yg_providers_t *providers;
    yg_llm_client_t *client;
    int pending;
    int64_t deadline;
    int64_t t0;
} rig_t;

static void rig_init(rig_t *r, int max_attempts)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%d", max_attempts);
    setenv("LLM_MAX_RETRIES", buf, 1);
    setenv("LLM_RETRY_DELAY", "0.01", 1);
    setenv("LLM_RETRY_MAX_DELAY", "0.05", 1);
    unsetenv("LLM_TIMEOUT");
    unsetenv("OPENAI_MODEL");
    unsetenv("ANTHROPIC_MODEL");
    setenv("OPENAI_API_KEY", TEST_KEY, 1);
    setenv("ANTHROPIC_API_KEY", TEST_KEY, 1);
    point("OPENAI_BASE_URL", "/v1", NULL);
    point("ANTHROPIC_BASE_URL", "", NULL);
    memset(r, 0, sizeof *r);
    r->loop = zloop_new();
    r->ev = yg_evloop_new(r->loop);
    r->providers = yg_providers_new(NULL, NULL);
    ck_assert_int_eq(yg_providers_register_http(r->providers), YG_OK);
    r->client = yg_llm_client_new(r->providers, r->ev);
    ck_assert_ptr_nonnull(r->client);
    r->t0 = zclock_mono();
}

static void rig_destroy(rig_t *r)
{
    yg_llm_client_destroy(&r->client);
    yg_providers_destroy(&r->providers);
    yg_evloop_destroy(&r->ev);
    zloop_destroy(&r->loop);
}

static int rig_check(zloop_t *loop, int timer_id, void *arg)
{
    rig_t *r = arg;
    return r->pending <= 0 || zclock_mono() > r->deadline ? -1 : 0;
}

/* Run the loop until nothing is pending (or timeout_ms). */
static void rig_run(rig_t *r, int timeout_ms)
{
    r->deadline = zclock_mono() + timeout_ms;
    int id = zloop_timer(r->loop, 2, 0, rig_check, r);
    zloop_start(r->loop);
    zloop_timer_end(r->loop, id);
    ck_assert_msg(r->pending <= 0, "%d call(s) still pending after %d ms", r->pending, timeout_ms);
}

/* --- calls ------------------------------------------------------------------ */

typedef struct {
    rig_t *rig;
    bool done;
    bool ok;
    char *text;
    yg_value_t *structured;
    yg_value_t *tool_calls;
    char finish[32];
    char provider[32];
    int code;
    int status;
    bool retryable;
    char exception[64];
    char message[YG_ERROR_MESSAGE_MAX];
    char tokens[4096];
    int ntokens;
    int64_t t_done;
    /* cancel from the token callback after this many tokens (0 = never) */
    int cancel_after_tokens;
    yg_llm_call_t *call;
} result_t;

static void on_token(void *arg, const char *text, size_t len)
{
    result_t *res = arg;
    ck_assert_uint_gt(len, 0);
    strncat(res->tokens, text, len < sizeof res->tokens - strlen(res->tokens) - 1
                                   ? len
                                   : sizeof res->tokens - strlen(res->tokens) - 1);
    res->ntokens++;
    if (res->cancel_after_tokens && res->ntokens == res->cancel_after_tokens) {
        yg_llm_call_cancel(res->rig->client, &res->call);
        res->rig->pending--;
    }
}

static void on_done(void *arg, const yg_llm_reply_t *reply, const yg_llm_failure_t *failure)
{
    result_t *res = arg;
    ck_assert_msg(!res->done, "on_done called twice");
    res->done = true;
    res->call = NULL;
    res->t_done = zclock_mono() - res->rig->t0;
    res->rig->pending--;
    if (reply) {
        res->ok = true;
        res->text = strdup(reply->text);
        res->structured = reply->structured ? yg_value_copy(reply->structured) : NULL;
        res->tool_calls = reply->tool_calls ? yg_value_copy(reply->tool_calls) : NULL;
        snprintf(res->finish, sizeof res->finish, "%s", reply->finish_reason);
        snprintf(res->provider, sizeof res->provider, "%s", reply->provider ? reply->provider : "");
    } else {
        res->code = failure->code;
        res->status = failure->http_status;
        res->retryable = failure->retryable;
        snprintf(res->exception, sizeof res->exception, "%s",
                 failure->exception_type ? failure->exception_type : "");
        snprintf(res->message, sizeof res->message, "%s", failure->message);
    }
}

static void result_free(result_t *res)
{
    free(res->text);
    yg_value_destroy(&res->structured);
    yg_value_destroy(&res->tool_calls);
}

static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad fixture %s: %s", json, err.message);
    return v;
}

typedef struct {
    const char *provider;
    const char *messages_json;  /* NULL = one user message "question 1" */
    bool stream;
    const char *schema_json;
    const char *tools_json;
    double timeout_s;
} call_opts_t;

static void start(rig_t *r, result_t *res, const call_opts_t *o)
{
    memset(res, 0, sizeof *res);
    res->rig = r;
    yg_value_t *msgs = J(o->messages_json ? o->messages_json
                                          : "[{\"role\": \"user\", \"content\": \"question 1\"}]");
    yg_value_t *schema = o->schema_json ? J(o->schema_json) : NULL;
    yg_value_t *tools = o->tools_json ? J(o->tools_json) : NULL;
    yg_llm_request_t req = {
        .provider = o->provider,
        .temperature = 0.25,
        .messages = msgs,
        .schema = schema,
        .schema_name = schema ? "Review Result" : NULL,
        .tools = tools,
        .stream = o->stream,
        .timeout_s = o->timeout_s,
        .prompt_name = "test",
    };
    yg_llm_callbacks_t cb = {on_token, on_done};
    res->call = yg_llm_call_start(r->client, &req, &cb, res);
    ck_assert_ptr_nonnull(res->call);
    r->pending++;
    yg_value_destroy(&msgs);
    yg_value_destroy(&schema);
    yg_value_destroy(&tools);
}

static void call_and_wait(rig_t *r, result_t *res, const call_opts_t *o, int timeout_ms)
{
    start(r, res, o);
    ck_assert(!res->done);  /* completion is never synchronous */
    rig_run(r, timeout_ms);
    ck_assert(res->done);
}

/* --- direct HTTP to the server's control endpoints ------------------------- */

typedef struct {
    bool done;
    int status;
    yg_value_t *json;
} http_get_t;

static void on_get_done(void *arg, const yg_http_response_t *resp)
{
    http_get_t *g = arg;
    g->done = true;
    g->status = resp->status;
    yg_error_t err = {0};
    g->json = resp->body_len ? yg_json_decode(resp->body, resp->body_len, NULL, &err) : NULL;
}

static int get_check(zloop_t *loop, int timer_id, void *arg)
{
    return ((http_get_t *)arg)->done ? -1 : 0;
}

/* GET or POST a control endpoint on its own loop; returns the JSON body. */
static yg_value_t *control(const char *method, const char *path)
{
    zloop_t *loop = zloop_new();
    yg_evloop_t *ev = yg_evloop_new(loop);
    yg_http_t *http = yg_http_new(ev);
    ck_assert_ptr_nonnull(http);
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_port, path);
    http_get_t g = {0};
    yg_http_request_t req = {.method = method, .url = url, .timeout_ms = 5000,
                             .body = strcmp(method, "POST") == 0 ? "{}" : NULL,
                             .body_len = strcmp(method, "POST") == 0 ? 2 : 0};
    yg_http_callbacks_t cb = {NULL, on_get_done};
    yg_error_t err = {0};
    ck_assert_ptr_nonnull(yg_http_start(http, &req, &cb, &g, &err));
    int id = zloop_timer(loop, 1, 0, get_check, &g);
    zloop_start(loop);
    zloop_timer_end(loop, id);
    ck_assert(g.done);
    ck_assert_int_eq(g.status, 200);
    yg_http_destroy(&http);
    yg_evloop_destroy(&ev);
    zloop_destroy(&loop);
    ck_assert_ptr_nonnull(g.json);
    return g.json;
}

static int64_t stat_of(const char *name)
{
    yg_value_t *s = control("GET", "/stats");
    int64_t v = yg_value_int(yg_map_get(s, name));
    yg_value_destroy(&s);
    return v;
}

/* --- tests: shapes ----------------------------------------------------------- */

START_TEST(test_openai_basic)
{
    rig_t r;
    rig_init(&r, 1);
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai"}, 5000);
    ck_assert_msg(res.ok, "%s", res.message);
    ck_assert_str_eq(res.text, FIXED_REPLY);
    ck_assert_str_eq(res.finish, "stop");
    ck_assert_str_eq(res.provider, "openai");
    ck_assert_ptr_null(res.tool_calls);
    ck_assert_ptr_null(res.structured);
    result_free(&res);
    rig_destroy(&r);

    yg_value_t *last = control("GET", "/last");
    ck_assert_str_eq(yg_value_str(yg_map_get(last, "path")), "/v1/chat/completions");
    const yg_value_t *body = yg_map_get(last, "body");
    ck_assert_str_eq(yg_value_str(yg_map_get(body, "model")), "gpt-4o");
    ck_assert(yg_value_float(yg_map_get(body, "temperature")) == 0.25);
    ck_assert(!yg_map_has(body, "stream"));
    ck_assert_str_eq(yg_value_str(yg_value_path(body, "messages.0.content", true)), "question 1");
    ck_assert_str_eq(yg_value_str(yg_value_path(last, "headers.authorization", false)),
                     "Bearer " TEST_KEY);
    ck_assert_str_eq(yg_value_str(yg_value_path(last, "headers.content-type", false)),
                     "application/json");
    yg_value_destroy(&last);
}
END_TEST

START_TEST(test_openai_compatible_providers)
{
    /* mistral / deepseek / xai / lmstudio speak the same dialect at their own
     * base URL, with their own key and model variables. */
    const char *names[] = {"mistral", "deepseek", "xai", "lmstudio"};
    const char *envs[] = {"MISTRAL_BASE_URL", "DEEPSEEK_BASE_URL", "XAI_BASE_URL",
                          "LMSTUDIO_BASE_URL"};
    const char *models[] = {"mistral-large-latest", "deepseek-chat", "grok-4-1-fast-reasoning",
                            "my-local-model"};
    setenv("LMSTUDIO_MODEL", "my-local-model", 1);
    setenv("MISTRAL_API_KEY", "mk", 1);
    unsetenv("DEEPSEEK_API_KEY");
    unsetenv("XAI_API_KEY");
    for (size_t i = 0; i < 4; i++) {
        rig_t r;
        rig_init(&r, 1);
        point(envs[i], "/v1/", "reply=hi+there");  /* trailing slash and a query */
        result_t res;
        call_and_wait(&r, &res, &(call_opts_t){.provider = names[i]}, 5000);
        ck_assert_msg(res.ok, "%s: %s", names[i], res.message);
        ck_assert_str_eq(res.text, "hi there");
        ck_assert_str_eq(res.provider, names[i]);
        result_free(&res);
        rig_destroy(&r);
        yg_value_t *last = control("GET", "/last");
        ck_assert_str_eq(yg_value_str(yg_map_get(last, "path")), "/v1/chat/completions");
        ck_assert_str_eq(yg_value_str(yg_value_path(last, "body.model", false)), models[i]);
        const char *auth = yg_value_str(yg_value_path(last, "headers.authorization", false));
        if (i == 0)
            ck_assert_str_eq(auth, "Bearer mk");
        else
            ck_assert_ptr_null(auth);  /* no key set: no header (local servers) */
        yg_value_destroy(&last);
    }
    unsetenv("LMSTUDIO_MODEL");
}
END_TEST

START_TEST(test_anthropic_basic)
{
    rig_t r;
    rig_init(&r, 1);
    result_t res;
    call_and_wait(&r, &res,
                  &(call_opts_t){.provider = "anthropic",
                                 .messages_json = "[{\"role\": \"system\", \"content\": \"Be brief.\"},"
                                                  "{\"role\": \"user\", \"content\": \"question 2\"}]"},
                  5000);
    ck_assert_msg(res.ok, "%s", res.message);
    ck_assert_str_eq(res.text, FIXED_REPLY);
    ck_assert_str_eq(res.finish, "stop");
    ck_assert_str_eq(res.provider, "anthropic");
    result_free(&res);
    rig_destroy(&r);

    yg_value_t *last = control("GET", "/last");
    ck_assert_str_eq(yg_value_str(yg_map_get(last, "path")), "/v1/messages");
    const yg_value_t *body = yg_map_get(last, "body");
    ck_assert_str_eq(yg_value_str(yg_map_get(body, "model")), "claude-haiku-4-5");
    ck_assert_str_eq(yg_value_str(yg_map_get(body, "system")), "Be brief.");
    ck_assert_int_eq(yg_value_int(yg_map_get(body, "max_tokens")), YG_LLM_ANTHROPIC_MAX_TOKENS);
    ck_assert_uint_eq(yg_list_size(yg_map_get(body, "messages")), 1);
    ck_assert_str_eq(yg_value_str(yg_value_path(body, "messages.0.role", true)), "user");
    ck_assert_str_eq(yg_value_str(yg_value_path(last, "headers.x-api-key", false)), TEST_KEY);
    ck_assert_str_eq(yg_value_str(yg_value_path(last, "headers.anthropic-version", false)),
                     YG_LLM_ANTHROPIC_VERSION);
    yg_value_destroy(&last);
}
END_TEST

START_TEST(test_streaming_both_shapes)
{
    const char *providers[] = {"openai", "anthropic"};
    for (size_t i = 0; i < 2; i++) {
        rig_t r;
        rig_init(&r, 1);
        result_t res;
        call_and_wait(&r, &res, &(call_opts_t){.provider = providers[i], .stream = true}, 5000);
        ck_assert_msg(res.ok, "%s: %s", providers[i], res.message);
        ck_assert_int_eq(res.ntokens, 9);  /* one per word of the fixed reply */
        ck_assert_str_eq(res.tokens, FIXED_REPLY);
        ck_assert_str_eq(res.text, FIXED_REPLY);
        ck_assert_str_eq(res.finish, "stop");
        result_free(&res);
        rig_destroy(&r);
        yg_value_t *last = control("GET", "/last");
        ck_assert(yg_value_bool(yg_value_path(last, "body.stream", false)));
        ck_assert_str_eq(yg_value_str(yg_value_path(last, "headers.accept", false)),
                         "text/event-stream");
        yg_value_destroy(&last);
    }
}
END_TEST

START_TEST(test_streaming_paced_chunks)
{
    /* 20 ms between events: tokens arrive one by one, in order. */
    rig_t r;
    rig_init(&r, 1);
    point("ANTHROPIC_BASE_URL", "/v1", "chunk_ms=20&reply=one+two+three+four");
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "anthropic", .stream = true}, 5000);
    ck_assert_msg(res.ok, "%s", res.message);
    ck_assert_int_eq(res.ntokens, 4);
    ck_assert_str_eq(res.tokens, "one two three four");
    ck_assert_int_ge(res.t_done, 20 * 7);  /* 9 events after the first, paced */
    result_free(&res);
    rig_destroy(&r);
}
END_TEST

static const char *TOOLS = "[{\"name\": \"get_weather\", \"description\": \"Weather of a city\","
                           " \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": "
                           "{\"type\": \"string\"}}, \"required\": [\"city\"]}}]";

START_TEST(test_tool_calls)
{
    const char *providers[] = {"openai", "anthropic"};
    for (size_t i = 0; i < 4; i++) {
        const char *p = providers[i % 2];
        bool stream = i >= 2;
        rig_t r;
        rig_init(&r, 1);
        point(i % 2 ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL", i % 2 ? "" : "/v1",
              "tool=get_weather&args=%7B%22city%22%3A%22Paris%22%7D");
        result_t res;
        call_and_wait(&r, &res, &(call_opts_t){.provider = p, .tools_json = TOOLS, .stream = stream},
                      5000);
        ck_assert_msg(res.ok, "%s: %s", p, res.message);
        ck_assert_str_eq(res.finish, "tool_calls");
        ck_assert_uint_eq(yg_list_size(res.tool_calls), 1);
        const yg_value_t *tc = yg_list_get(res.tool_calls, 0);
        ck_assert_str_eq(yg_value_str(yg_map_get(tc, "name")), "get_weather");
        ck_assert_str_eq(yg_value_str(yg_value_path(tc, "args.city", false)), "Paris");
        ck_assert_uint_gt(yg_value_strlen(yg_map_get(tc, "id")), 0);
        ck_assert_str_eq(res.text, "");
        result_free(&res);
        rig_destroy(&r);
        yg_value_t *last = control("GET", "/last");
        const char *tool_name = yg_value_str(yg_value_path(
            last, i % 2 ? "body.tools.0.name" : "body.tools.0.function.name", true));
        ck_assert_str_eq(tool_name, "get_weather");
        yg_value_destroy(&last);
    }
}
END_TEST

START_TEST(test_tool_history_conversion)
{
    /* An agent's second turn: assistant tool calls and tool results are
     * sent in each API's own shape. */
    const char *history =
        "[{\"role\": \"system\", \"content\": \"sys\"},"
        " {\"role\": \"user\", \"content\": \"weather?\"},"
        " {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": ["
        "   {\"id\": \"c1\", \"name\": \"get_weather\", \"args\": {\"city\": \"Paris\"}},"
        "   {\"id\": \"c2\", \"name\": \"get_weather\", \"args\": {\"city\": \"Rome\"}}]},"
        " {\"role\": \"tool\", \"tool_call_id\": \"c1\", \"content\": \"sunny\"},"
        " {\"role\": \"tool\", \"tool_call_id\": \"c2\", \"content\": \"rain\"}]";
    rig_t r;
    rig_init(&r, 1);
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai", .messages_json = history,
                                           .tools_json = TOOLS},
                  5000);
    ck_assert_msg(res.ok, "%s", res.message);
    result_free(&res);
    yg_value_t *last = control("GET", "/last");
    const yg_value_t *m = yg_value_path(last, "body.messages", false);
    ck_assert_uint_eq(yg_list_size(m), 5);
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "2.tool_calls.1.function.arguments", true)),
                     "{\"city\":\"Rome\"}");
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "2.tool_calls.0.type", true)), "function");
    ck_assert(yg_value_is_null(yg_value_path(m, "2.content", true)));
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "3.tool_call_id", true)), "c1");
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "4.role", true)), "tool");
    yg_value_destroy(&last);

    call_and_wait(&r, &res, &(call_opts_t){.provider = "anthropic", .messages_json = history,
                                           .tools_json = TOOLS},
                  5000);
    ck_assert_msg(res.ok, "%s", res.message);
    result_free(&res);
    rig_destroy(&r);
    last = control("GET", "/last");
    m = yg_value_path(last, "body.messages", false);
    ck_assert_uint_eq(yg_list_size(m), 3);  /* user, assistant, one user turn with both results */
    ck_assert_str_eq(yg_value_str(yg_value_path(last, "body.system", false)), "sys");
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "1.content.0.type", true)), "tool_use");
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "1.content.1.input.city", true)), "Rome");
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "2.role", true)), "user");
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "2.content.0.type", true)), "tool_result");
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "2.content.1.tool_use_id", true)), "c2");
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "2.content.1.content", true)), "rain");
    ck_assert_str_eq(yg_value_str(yg_value_path(last, "body.tools.0.input_schema.type", true)),
                     "object");
    yg_value_destroy(&last);
}
END_TEST

static const char *SCHEMA = "{\"type\": \"object\", \"properties\": {\"score\": {\"type\": "
                            "\"integer\"}, \"label\": {\"type\": \"string\"}}, \"required\": "
                            "[\"score\"]}";

START_TEST(test_structured_output)
{
    const char *providers[] = {"openai", "anthropic"};
    for (size_t i = 0; i < 4; i++) {
        bool stream = i >= 2;
        rig_t r;
        rig_init(&r, 1);
        point(i % 2 ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL", i % 2 ? "" : "/v1",
              "reply=%7B%22score%22%3A%205%2C%20%22label%22%3A%20%22ok%22%7D");
        result_t res;
        call_and_wait(&r, &res,
                      &(call_opts_t){.provider = providers[i % 2], .schema_json = SCHEMA,
                                     .stream = stream},
                      5000);
        ck_assert_msg(res.ok, "%s: %s", providers[i % 2], res.message);
        ck_assert_ptr_nonnull(res.structured);
        ck_assert_int_eq(yg_value_int(yg_map_get(res.structured, "score")), 5);
        ck_assert_str_eq(yg_value_str(yg_map_get(res.structured, "label")), "ok");
        ck_assert_ptr_null(res.tool_calls);  /* the forced tool is not a tool call */
        ck_assert_str_eq(res.finish, "stop");
        result_free(&res);
        rig_destroy(&r);
        yg_value_t *last = control("GET", "/last");
        if (i % 2 == 0) {
            ck_assert_str_eq(yg_value_str(yg_value_path(last, "body.response_format.type", false)),
                             "json_schema");
            ck_assert_str_eq(
                yg_value_str(yg_value_path(last, "body.response_format.json_schema.name", false)),
                "Review_Result");
            ck_assert_str_eq(yg_value_str(yg_value_path(
                                 last, "body.response_format.json_schema.schema.type", false)),
                             "object");
        } else {
            ck_assert_str_eq(yg_value_str(yg_value_path(last, "body.tool_choice.type", false)), "tool");
            ck_assert_str_eq(yg_value_str(yg_value_path(last, "body.tool_choice.name", false)),
                             YG_LLM_SCHEMA_TOOL);
        }
        yg_value_destroy(&last);
    }
    /* A reply that is not a JSON object is a clear, non-retryable error. */
    rig_t r;
    rig_init(&r, 3);
    point("OPENAI_BASE_URL", "/v1", "reply=not+json");
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai", .schema_json = SCHEMA}, 5000);
    ck_assert(!res.ok);
    ck_assert_int_eq(res.code, YG_ESCHEMA);
    ck_assert_msg(strstr(res.message, "structured output is not a JSON object"), "%s", res.message);
    ck_assert(!res.retryable);
    result_free(&res);
    rig_destroy(&r);
}
END_TEST

/* --- tests: faults ------------------------------------------------------------ */

START_TEST(test_429_retry_after_honoured)
{
    rig_t r;
    rig_init(&r, 3);
    point("OPENAI_BASE_URL", "/v1", "fault=429&retry_after=1&fail_times=1&key=ra1");
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai"}, 10000);
    ck_assert_msg(res.ok, "%s", res.message);
    ck_assert_str_eq(res.text, FIXED_REPLY);
    /* The backoff alone would be ~10 ms: the wait is the server's second. */
    ck_assert_int_ge(res.t_done, 1000);
    ck_assert_int_lt(res.t_done, 3000);
    result_free(&res);

    /* Retry-After as an HTTP date (second resolution: 2 s ahead waits > 1 s). */
    point("OPENAI_BASE_URL", "/v1", "fault=429&retry_after=2&retry_after_date=1&fail_times=1&key=ra2");
    r.t0 = zclock_mono();
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai"}, 10000);
    ck_assert_msg(res.ok, "%s", res.message);
    ck_assert_int_ge(res.t_done, 1000);
    result_free(&res);
    rig_destroy(&r);
}
END_TEST

START_TEST(test_429_exhausted_clear_error)
{
    rig_t r;
    rig_init(&r, 2);
    point("OPENAI_BASE_URL", "/v1", "fault=429&retry_after=0");
    int64_t before = stat_of("requests");
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai"}, 5000);
    ck_assert(!res.ok);
    ck_assert_int_eq(res.code, YG_ELLM);
    ck_assert_int_eq(res.status, 429);
    ck_assert(res.retryable);
    ck_assert_str_eq(res.exception, "RateLimitError");
    ck_assert_msg(strstr(res.message, "openai") && strstr(res.message, "gpt-4o") &&
                      strstr(res.message, "HTTP 429") &&
                      strstr(res.message, "Rate limit reached for fake-model") &&
                      strstr(res.message, "after 2 attempts"),
                  "unclear message: %s", res.message);
    ck_assert_ptr_null(strstr(res.message, TEST_KEY));
    ck_assert_int_eq(stat_of("requests") - before, 2);  /* LLM_MAX_RETRIES attempts in total */
    result_free(&res);
    rig_destroy(&r);
}
END_TEST

START_TEST(test_500_then_success)
{
    rig_t r;
    rig_init(&r, 3);
    int64_t before = stat_of("requests");
    point("ANTHROPIC_BASE_URL", "", "fault=500&fail_times=2&key=f500");
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "anthropic"}, 5000);
    ck_assert_msg(res.ok, "%s", res.message);
    ck_assert_str_eq(res.text, FIXED_REPLY);
    ck_assert_int_eq(stat_of("requests") - before, 3);
    result_free(&res);

    /* Always 503: the error names the status and the provider's message. */
    point("ANTHROPIC_BASE_URL", "", "fault=503");
    call_and_wait(&r, &res, &(call_opts_t){.provider = "anthropic"}, 5000);
    ck_assert(!res.ok);
    ck_assert_int_eq(res.status, 503);
    ck_assert_str_eq(res.exception, "ServiceUnavailableError");
    ck_assert_msg(strstr(res.message, "anthropic (model claude-haiku-4-5): HTTP 503: The server "
                                      "had an error while processing your request (after 3 attempts)"),
                  "%s", res.message);
    result_free(&res);
    rig_destroy(&r);
}
END_TEST

START_TEST(test_slow_headers_timeout)
{
    rig_t r;
    rig_init(&r, 1);
    point("OPENAI_BASE_URL", "/v1", "fault=slow_headers");
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai", .timeout_s = 0.4}, 5000);
    ck_assert(!res.ok);
    ck_assert_int_eq(res.code, YG_ETIMEOUT);
    ck_assert_str_eq(res.exception, "APITimeoutError");
    ck_assert(res.retryable);
    ck_assert_msg(strstr(res.message, "timed out"), "%s", res.message);
    ck_assert_int_ge(res.t_done, 390);
    ck_assert_int_lt(res.t_done, 2000);
    result_free(&res);
    rig_destroy(&r);

}
END_TEST

START_TEST(test_drop_mid_stream)
{
    rig_t r;
    rig_init(&r, 3);
    int64_t before = stat_of("requests");
    point("OPENAI_BASE_URL", "/v1", "fault=drop&drop_after=3&key=drop1");
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai", .stream = true}, 5000);
    ck_assert(!res.ok);
    ck_assert_int_eq(res.ntokens, 2);  /* the role chunk, then two words */
    ck_assert_str_eq(res.tokens, "This is ");
    ck_assert_int_eq(res.code, YG_ELLM);
    ck_assert_str_eq(res.exception, "APIConnectionError");
    ck_assert_msg(strstr(res.message, "connection lost during the response (after partial output)"),
                  "%s", res.message);
    /* Not retried: the tokens were already delivered. */
    ck_assert_int_eq(stat_of("requests") - before, 1);
    result_free(&res);

    /* A non-streamed reply cut short is retried (nothing was shown). */
    before = stat_of("requests");
    point("OPENAI_BASE_URL", "/v1", "fault=drop&fail_times=1&key=drop2");
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai"}, 5000);
    ck_assert_msg(res.ok, "%s", res.message);
    ck_assert_str_eq(res.text, FIXED_REPLY);
    ck_assert_int_eq(stat_of("requests") - before, 2);
    result_free(&res);
    rig_destroy(&r);
}
END_TEST

START_TEST(test_malformed_json)
{
    const char *providers[] = {"openai", "anthropic"};
    for (size_t i = 0; i < 4; i++) {
        bool stream = i >= 2;
        rig_t r;
        rig_init(&r, 3);
        point(i % 2 ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL", i % 2 ? "" : "/v1", "fault=malformed");
        result_t res;
        call_and_wait(&r, &res, &(call_opts_t){.provider = providers[i % 2], .stream = stream}, 5000);
        ck_assert(!res.ok);
        ck_assert_int_eq(res.code, YG_EPARSE);
        ck_assert(!res.retryable);
        ck_assert_msg(strstr(res.message, stream ? "malformed stream event" : "not valid JSON"),
                      "%s", res.message);
        ck_assert_msg(strstr(res.message, providers[i % 2]), "%s", res.message);
        result_free(&res);
        rig_destroy(&r);
    }
}
END_TEST

START_TEST(test_error_event_after_200)
{
    rig_t r;
    rig_init(&r, 3);
    int64_t before = stat_of("requests");
    point("ANTHROPIC_BASE_URL", "", "fault=error_event");
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "anthropic", .stream = true}, 5000);
    ck_assert(!res.ok);
    ck_assert_int_eq(res.ntokens, 1);
    ck_assert_str_eq(res.tokens, "This ");
    ck_assert_int_eq(res.status, 200);
    ck_assert_str_eq(res.exception, "OverloadedError");
    ck_assert_msg(strstr(res.message, "error event in the stream: Overloaded (overloaded_error)"),
                  "%s", res.message);
    ck_assert_int_eq(stat_of("requests") - before, 1);  /* tokens shown: no retry */
    result_free(&res);

    point("OPENAI_BASE_URL", "/v1", "fault=error_event");
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai", .stream = true}, 5000);
    ck_assert(!res.ok);
    ck_assert_msg(strstr(res.message, "The model is overloaded"), "%s", res.message);
    result_free(&res);
    rig_destroy(&r);
}
END_TEST

START_TEST(test_connection_refused_and_missing_key)
{
    rig_t r;
    rig_init(&r, 2);
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1", 1);
    result_t res;
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai"}, 5000);
    ck_assert(!res.ok);
    ck_assert_str_eq(res.exception, "APIConnectionError");
    ck_assert_msg(strstr(res.message, "connection error") && strstr(res.message, "after 2 attempts"),
                  "%s", res.message);
    result_free(&res);

    /* The public endpoint without a key fails at once, naming the variable. */
    unsetenv("OPENAI_BASE_URL");
    unsetenv("OPENAI_API_KEY");
    call_and_wait(&r, &res, &(call_opts_t){.provider = "openai"}, 5000);
    ck_assert(!res.ok);
    ck_assert_msg(strstr(res.message, "OPENAI_API_KEY is not set"), "%s", res.message);
    result_free(&res);
    rig_destroy(&r);
}
END_TEST

/* --- tests: cancellation, reuse, concurrency ---------------------------------- */

typedef struct {
    rig_t *rig;
    result_t *res;
} cancel_ctx_t;

static void cancel_later(void *arg)
{
    cancel_ctx_t *c = arg;
    yg_llm_call_cancel(c->rig->client, &c->res->call);
    c->rig->pending--;
}

START_TEST(test_cancel_aborts_in_flight)
{
    rig_t r;
    rig_init(&r, 1);
    int64_t aborts = stat_of("client_aborts");
    point("OPENAI_BASE_URL", "/v1", "delay_ms=1500");
    result_t slow, other;
    start(&r, &slow, &(call_opts_t){.provider = "openai"});
    point("OPENAI_BASE_URL", "/v1", "delay_ms=300");
    start(&r, &other, &(call_opts_t){.provider = "openai"});
    cancel_ctx_t ctx = {&r, &slow};
    yg_evloop_timer(r.ev, 100, cancel_later, &ctx);
    rig_run(&r, 5000);
    ck_assert(!slow.done);  /* no callback after cancel */
    ck_assert_ptr_null(slow.call);
    ck_assert(other.ok);  /* the other call is unaffected */
    ck_assert_int_lt(other.t_done, 1000);
    ck_assert_uint_eq(yg_llm_client_active(r.client), 0);
    /* The server saw the connection closed. */
    int64_t seen = 0;
    for (int i = 0; i < 100 && seen == 0; i++) {
        seen = stat_of("client_aborts") - aborts;
        if (!seen)
            zclock_sleep(10);
    }
    ck_assert_int_eq(seen, 1);
    result_free(&slow);
    result_free(&other);

    /* Cancel from inside the token callback. */
    aborts = stat_of("client_aborts");
    point("OPENAI_BASE_URL", "/v1", "chunk_ms=50");
    result_t st;
    start(&r, &st, &(call_opts_t){.provider = "openai", .stream = true});
    st.cancel_after_tokens = 2;
    rig_run(&r, 5000);
    ck_assert(!st.done);
    ck_assert_int_eq(st.ntokens, 2);
    seen = 0;
    for (int i = 0; i < 100 && seen == 0; i++) {
        seen = stat_of("client_aborts") - aborts;
        if (!seen)
            zclock_sleep(10);
    }
    ck_assert_int_eq(seen, 1);
    result_free(&st);

    /* Destroying the client with calls in flight: no callbacks, no leaks. */
    point("OPENAI_BASE_URL", "/v1", "delay_ms=1000");
    result_t a, b;
    start(&r, &a, &(call_opts_t){.provider = "openai"});
    start(&r, &b, &(call_opts_t){.provider = "anthropic", .stream = true});
    rig_destroy(&r);
    ck_assert(!a.done && !b.done);
}
END_TEST

START_TEST(test_keep_alive_reuse)
{
    rig_t r;
    rig_init(&r, 1);
    int64_t accepted = stat_of("accepted");
    for (int i = 0; i < 10; i++) {
        result_t res;
        call_and_wait(&r, &res, &(call_opts_t){.provider = i % 2 ? "anthropic" : "openai"}, 5000);
        ck_assert_msg(res.ok, "%s", res.message);
        result_free(&res);
    }
    /* One connection served all ten sequential calls (both providers share
     * the loop's connection pool). */
    ck_assert_int_eq(stat_of("accepted") - accepted, 1 + 1);  /* + the /stats connection */
    rig_destroy(&r);
}
END_TEST

#define NONBLOCK_FAST 100

START_TEST(test_slow_reply_does_not_block)
{
    /* The acceptance test: while one call waits on a 2-second
     * reply, 100 other calls through the same loop complete. */
    rig_t r;
    rig_init(&r, 1);
    point("OPENAI_BASE_URL", "/v1", "delay_ms=2000");
    result_t slow;
    start(&r, &slow, &(call_opts_t){.provider = "openai"});
    point("OPENAI_BASE_URL", "/v1", "delay_ms=50");
    result_t *fast = calloc(NONBLOCK_FAST, sizeof *fast);
    for (int i = 0; i < NONBLOCK_FAST; i++)
        start(&r, &fast[i], &(call_opts_t){.provider = i % 2 ? "openai" : "anthropic",
                                           .stream = i % 4 == 0});
    int64_t max_fast = 0;
    rig_run(&r, 10000);
    for (int i = 0; i < NONBLOCK_FAST; i++) {
        ck_assert_msg(fast[i].ok, "call %d: %s", i, fast[i].message);
        ck_assert_str_eq(fast[i].text, FIXED_REPLY);
        if (fast[i].t_done > max_fast)
            max_fast = fast[i].t_done;
        result_free(&fast[i]);
    }
    ck_assert(slow.ok);
    ck_assert_int_ge(slow.t_done, 2000);
    /* Every fast call finished long before the slow one. */
    ck_assert_msg(max_fast < 1000, "slowest fast call took %lld ms", (long long)max_fast);
    result_free(&slow);
    free(fast);
    rig_destroy(&r);
}
END_TEST

/* --- the HTTP layer alone ---------------------------------------------------- */

static void on_bad_done(void *arg, const yg_http_response_t *resp)
{
    http_get_t *g = arg;
    g->done = true;
    g->status = resp->curl_code;
}

START_TEST(test_http_layer_errors)
{
    zloop_t *loop = zloop_new();
    yg_evloop_t *ev = yg_evloop_new(loop);
    yg_http_t *http = yg_http_new(ev);
    yg_error_t err = {0};
    yg_http_callbacks_t cb = {NULL, on_bad_done};
    /* Header injection is refused up front. */
    const char *bad_headers[] = {"X-A: 1\r\nX-B: 2", NULL};
    yg_http_request_t req = {.url = "http://127.0.0.1:1/", .headers = bad_headers};
    http_get_t g = {0};
    ck_assert_ptr_null(yg_http_start(http, &req, &cb, &g, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    /* Other protocols are refused, asynchronously. */
    req.headers = NULL;
    req.url = "file:///etc/passwd";
    ck_assert_ptr_nonnull(yg_http_start(http, &req, &cb, &g, &err));
    ck_assert(!g.done);
    int id = zloop_timer(loop, 1, 0, get_check, &g);
    zloop_start(loop);
    zloop_timer_end(loop, id);
    ck_assert(g.done);
    ck_assert_int_ne(g.status, 0);
    ck_assert_uint_eq(yg_http_active(http), 0);
    yg_http_destroy(&http);
    yg_evloop_destroy(&ev);
    zloop_destroy(&loop);

    ck_assert(yg_http_parse_retry_after("3") == 3.0);
    ck_assert(yg_http_parse_retry_after(" 1.5 ") == 1.5);
    ck_assert(yg_http_parse_retry_after("soon") < 0);
    ck_assert(yg_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0);  /* past */
}
END_TEST

START_TEST(test_endpoint_urls)
{
    const yg_llm_provider_info_t *a = yg_llm_provider_info("anthropic");
    const yg_llm_provider_info_t *o = yg_llm_provider_info("openai");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(yg_llm_provider_info("replicate"));
    unsetenv("ANTHROPIC_BASE_URL");
    unsetenv("OPENAI_BASE_URL");
    char *u = yg_llm_endpoint_url(a);
    ck_assert_str_eq(u, "https://api.anthropic.com/v1/messages");
    free(u);
    u = yg_llm_endpoint_url(o);
    ck_assert_str_eq(u, "https://api.openai.com/v1/chat/completions");
    free(u);
    setenv("ANTHROPIC_BASE_URL", "http://h:1/v1/", 1);
    u = yg_llm_endpoint_url(a);
    ck_assert_str_eq(u, "http://h:1/v1/messages");
    free(u);
    setenv("OPENAI_BASE_URL", "http://localhost:11434/v1?delay_ms=200", 1);
    u = yg_llm_endpoint_url(o);
    ck_assert_str_eq(u, "http://localhost:11434/v1/chat/completions?delay_ms=200");
    free(u);
    setenv("OPENAI_MODEL", "llama3.2", 1);
    ck_assert_str_eq(yg_llm_model_for(o, NULL), "llama3.2");
    ck_assert_str_eq(yg_llm_model_for(o, "x"), "x");
    unsetenv("OPENAI_MODEL");
    ck_assert_str_eq(yg_llm_model_for(yg_llm_provider_info("deepseek"), NULL), "deepseek-chat");
}
END_TEST


/* --- the prompt API (execute_prompt_async and friends) over HTTP ----------- */

typedef struct {
    int done;
    int code;
    yg_value_t *value;
    char message[YG_ERROR_MESSAGE_MAX];
    char tokens[1024];
    int64_t t_done;
    int64_t t0;
} prompt_res_t;

static void prompt_done(const yg_prompt_result_t *r, void *arg)
{
    prompt_res_t *p = arg;
    p->done++;
    p->code = r->code;
    p->value = r->value ? yg_value_copy(r->value) : NULL;
    snprintf(p->message, sizeof p->message, "%s", r->error.message);
    p->t_done = zclock_mono() - p->t0;
}

static void prompt_token(const char *text, size_t len, void *arg)
{
    prompt_res_t *p = arg;
    strncat(p->tokens, text, len);
}

static void batch_done(int code, const yg_value_t *results, const yg_error_t *error, void *arg)
{
    prompt_res_t *p = arg;
    p->done++;
    p->t_done = zclock_mono() - p->t0;
    p->code = code;
    p->value = results ? yg_value_copy(results) : NULL;
    snprintf(p->message, sizeof p->message, "%s", error ? error->message : "");
}

static int prompt_check(zloop_t *loop, int timer_id, void *arg)
{
    prompt_res_t *p = arg;
    return p->done ? -1 : 0;
}

static void prompt_wait(zloop_t *loop, prompt_res_t *p)
{
    int id = zloop_timer(loop, 2, 0, prompt_check, p);
    zloop_start(loop);
    zloop_timer_end(loop, id);
    ck_assert_int_eq(p->done, 1);
}

START_TEST(test_prompt_api_async_and_stream)
{
    rig_t r;
    rig_init(&r, 1);  /* sets the env; the prompt executor has its own client */
    rig_destroy(&r);
    const char *path = testutil_write_temp("greet.yaml", "system: Be terse.\nuser: \"Hello {name}, {n}\"\n");
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    yg_prompt_exec_t *ex = yg_prompt_exec_new(loop, NULL, &err);
    ck_assert_ptr_nonnull(ex);
    yg_value_t *vars = J("{\"name\": \"Ada\", \"n\": 3}");
    yg_prompt_opts_t o = {.provider = "openai", .has_temperature = true, .temperature = 0.1};
    prompt_res_t p = {.t0 = zclock_mono()};
    int64_t id = yg_prompt_execute_async(ex, path, vars, &o, prompt_done, &p);
    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(p.done, 0);
    prompt_wait(loop, &p);
    ck_assert_msg(p.code == YG_OK, "%s", p.message);
    ck_assert_str_eq(yg_value_str(p.value), FIXED_REPLY);
    yg_value_destroy(&p.value);
    yg_value_t *last = control("GET", "/last");
    ck_assert_str_eq(yg_value_str(yg_value_path(last, "body.messages.0.content", true)), "Be terse.");
    ck_assert_str_eq(yg_value_str(yg_value_path(last, "body.messages.1.content", true)),
                     "Hello Ada, 3");
    ck_assert(yg_value_float(yg_value_path(last, "body.temperature", false)) == 0.1);
    yg_value_destroy(&last);

    /* Streaming: tokens in order, concatenating to the text. */
    memset(&p, 0, sizeof p);
    o.provider = "anthropic";
    ck_assert_int_gt(yg_prompt_stream_async(ex, path, vars, &o, prompt_token, &p, prompt_done, &p), 0);
    prompt_wait(loop, &p);
    ck_assert_msg(p.code == YG_OK, "%s", p.message);
    ck_assert_str_eq(p.tokens, FIXED_REPLY);
    ck_assert_str_eq(yg_value_str(p.value), FIXED_REPLY);
    yg_value_destroy(&p.value);

    /* A missing variable fails through the callback, not synchronously. */
    memset(&p, 0, sizeof p);
    yg_value_t *partial = J("{\"name\": \"Ada\"}");
    ck_assert_int_gt(yg_prompt_execute_async(ex, path, partial, &o, prompt_done, &p), 0);
    ck_assert_int_eq(p.done, 0);
    prompt_wait(loop, &p);
    ck_assert_int_eq(p.code, YG_ETEMPLATE);
    ck_assert_msg(strstr(p.message, "Missing required variable(s)") && strstr(p.message, ": n"),
                  "%s", p.message);
    yg_value_destroy(&partial);

    /* An HTTP failure carries the provider's clear message. */
    memset(&p, 0, sizeof p);
    point("ANTHROPIC_BASE_URL", "", "fault=500");
    ck_assert_int_gt(yg_prompt_execute_async(ex, path, vars, &o, prompt_done, &p), 0);
    prompt_wait(loop, &p);
    ck_assert_int_eq(p.code, YG_ELLM);
    ck_assert_msg(strstr(p.message, "anthropic (model claude-haiku-4-5): HTTP 500"), "%s", p.message);
    yg_value_destroy(&vars);
    yg_prompt_exec_destroy(&ex);
    zloop_destroy(&loop);
}
END_TEST

START_TEST(test_prompt_api_structured_and_concurrent)
{
    rig_t r;
    rig_init(&r, 1);
    rig_destroy(&r);
    /* testutil_write_temp's result is static storage: keep copies */
    char *spath = strdup(testutil_write_temp(
        "score.yaml", "user: \"Score {thing}\"\nschema:\n  name: Score\n  fields:\n"
                      "    score: {type: int}\n    label: {type: str, default: none}\n"));
    char *echo = strdup(testutil_write_temp("echo.yaml", "user: \"{q}\"\n"));
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    yg_prompt_exec_t *ex = yg_prompt_exec_new(loop, NULL, &err);
    ck_assert_ptr_nonnull(ex);

    /* Structured output is validated and defaults are filled in. */
    point("OPENAI_BASE_URL", "/v1", "reply=%7B%22score%22%3A%207%7D");
    yg_value_t *vars = J("{\"thing\": \"x\"}");
    yg_prompt_opts_t o = {.provider = "openai"};
    prompt_res_t p = {0};
    ck_assert_int_gt(yg_prompt_execute_async(ex, spath, vars, &o, prompt_done, &p), 0);
    prompt_wait(loop, &p);
    ck_assert_msg(p.code == YG_OK, "%s", p.message);
    ck_assert_int_eq(yg_value_int(yg_map_get(p.value, "score")), 7);
    ck_assert_str_eq(yg_value_str(yg_map_get(p.value, "label")), "none");
    yg_value_destroy(&p.value);
    /* ... and a reply violating the schema is a validation error. */
    memset(&p, 0, sizeof p);
    point("OPENAI_BASE_URL", "/v1", "reply=%7B%22score%22%3A%20%22high%22%7D");
    ck_assert_int_gt(yg_prompt_execute_async(ex, spath, vars, &o, prompt_done, &p), 0);
    prompt_wait(loop, &p);
    ck_assert_int_eq(p.code, YG_ESCHEMA);
    ck_assert_msg(strstr(p.message, "score"), "%s", p.message);
    yg_value_destroy(&vars);

    /* Concurrent: results in input order although the first finishes last
     * (entry 0 goes to the slow "openai" endpoint, entry 1 to "anthropic";
     * echo=1 makes each reply the request body, so each result is
     * recognisable). */
    yg_value_t *va = J("{\"q\": \"a\"}");
    yg_value_t *vb = J("{\"q\": \"b\"}");
    yg_prompt_opts_t oa = {.provider = "anthropic"};
    point("OPENAI_BASE_URL", "/v1", "echo=1&delay_ms=300");
    point("ANTHROPIC_BASE_URL", "", "echo=1");
    yg_prompt_spec_t specs[2] = {{echo, va, &o}, {echo, vb, &oa}};
    memset(&p, 0, sizeof p);
    p.t0 = zclock_mono();
    ck_assert_int_gt(yg_prompts_execute_concurrent_async(ex, specs, 2, batch_done, &p), 0);
    prompt_wait(loop, &p);
    ck_assert_msg(p.code == YG_OK, "%s", p.message);
    ck_assert_int_ge(p.t_done, 300);
    ck_assert_uint_eq(yg_list_size(p.value), 2);
    const char *r0 = yg_value_str(yg_list_get(p.value, 0));
    const char *r1 = yg_value_str(yg_list_get(p.value, 1));
    ck_assert_msg(r0 && strstr(r0, "\"content\":\"a\"") && strstr(r0, "\"temperature\""), "%s", r0);
    ck_assert_msg(r1 && strstr(r1, "\"content\":\"b\"") && strstr(r1, "\"max_tokens\""), "%s", r1);
    yg_value_destroy(&p.value);

    /* The blocking wrapper gives the same order. */
    yg_value_t *results = NULL;
    ck_assert_int_eq(yg_prompts_execute_concurrent(specs, 2, &results, &err), YG_OK);
    ck_assert_uint_eq(yg_list_size(results), 2);
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_list_get(results, 0)), "\"content\":\"a\""));
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_list_get(results, 1)), "\"content\":\"b\""));
    yg_value_destroy(&results);

    /* The first failure fails the batch. */
    yg_prompt_spec_t bad[2] = {{echo, va, &o}, {"no-such-prompt", vb, &o}};
    ck_assert_int_eq(yg_prompts_execute_concurrent(bad, 2, &results, &err), YG_ENOTFOUND);
    ck_assert_ptr_null(results);
    ck_assert_msg(strstr(err.message, "prompt 2 of 2") && strstr(err.message, "not found"), "%s",
                  err.message);

    /* Blocking single call. */
    point("OPENAI_BASE_URL", "/v1", NULL);
    yg_value_t *one = NULL;
    ck_assert_int_eq(yg_prompt_execute(echo, va, &o, &one, &err), YG_OK);
    ck_assert_str_eq(yg_value_str(one), FIXED_REPLY);
    yg_value_destroy(&one);

    /* Cancel: no callback afterwards. */
    point("OPENAI_BASE_URL", "/v1", "delay_ms=2000");
    memset(&p, 0, sizeof p);
    int64_t id = yg_prompt_execute_async(ex, echo, va, &o, prompt_done, &p);
    ck_assert_int_eq(yg_prompt_exec_active(ex), 1);
    ck_assert_int_eq(yg_prompt_cancel(ex, id), YG_OK);
    ck_assert_int_eq(yg_prompt_cancel(ex, id), YG_ENOTFOUND);
    ck_assert_int_eq(yg_prompt_exec_active(ex), 0);
    ck_assert_int_eq(p.done, 0);

    yg_value_destroy(&va);
    yg_value_destroy(&vb);
    free(spath);
    free(echo);
    yg_prompt_exec_destroy(&ex);
    zloop_destroy(&loop);
}
END_TEST


/* --- through the node executor: llm nodes of a real graph over HTTP -------- */

static const char *E2E_GRAPH =
    "version: \"1.0\"\n"
    "name: e2e-http\n"
    "prompts_dir: prompts\n"
    "prompts_relative: true\n"
    "state:\n  q: str\n  answer: str\n  streamed: str\n  verdict: any\n  broken: str\n"
    "nodes:\n"
    "  ask: {type: llm, prompt: ask, provider: openai, variables: {q: \"{state.q}\"}, state_key: answer}\n"
    "  talk: {type: llm, prompt: ask, provider: anthropic, stream: true, variables: {q: \"{state.q}\"},"
    " state_key: streamed}\n"
    "  judge: {type: llm, prompt: judge, provider: anthropic, state_key: verdict}\n"
    "  broken: {type: llm, prompt: ask, provider: openai, variables: {q: \"{state.q}\"},"
    " state_key: broken, timeout: 5}\n"
    "edges:\n"
    "  - {from: START, to: ask}\n  - {from: ask, to: talk}\n  - {from: talk, to: judge}\n"
    "  - {from: judge, to: broken}\n  - {from: broken, to: END}\n";

typedef struct {
    bool done;
    yg_task_status_t status;
    yg_value_t *update;
    yg_value_t *error;
    char tokens[1024];
    int ntokens;
} task_res_t;

static void e2e_done(yg_task_t *task, const yg_task_result_t *r, void *arg)
{
    task_res_t *t = arg;
    t->done = true;
    t->status = r->status;
    t->update = r->update ? yg_value_copy(r->update) : NULL;
    t->error = r->error ? yg_value_copy(r->error) : NULL;
}

static void e2e_event(void *hook_arg, yg_task_t *task, const char *kind, const char *text, size_t len)
{
    task_res_t *t = hook_arg;
    if (strcmp(kind, "token") == 0) {
        strncat(t->tokens, text, len);
        t->ntokens++;
    }
}

static int e2e_check(zloop_t *loop, int timer_id, void *arg)
{
    return ((task_res_t *)arg)->done ? -1 : 0;
}

static void e2e_write(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void e2e_run(rig_t *r, const yg_graph_t *g, const char *node, task_res_t *t)
{
    memset(t, 0, sizeof *t);
    yg_exec_env_t env = {.ev = r->ev, .graph = g, .llm = r->client, .event = e2e_event,
                         .hook_arg = t};
    yg_value_t *input = J("{\"q\": \"question 7\"}");
    yg_task_spec_t spec = {.run = 1, .id = 1, .step = 0, .input = input};
    const yg_node_t *n = yg_graph_node(g, node);
    ck_assert_ptr_nonnull(n);
    yg_task_t *task = yg_task_new(&env, n, &spec, e2e_done, t);
    ck_assert_ptr_nonnull(task);
    yg_task_start(task);
    int id = zloop_timer(r->loop, 2, 0, e2e_check, t);
    zloop_start(r->loop);
    zloop_timer_end(r->loop, id);
    ck_assert_msg(t->done, "node %s did not finish", node);
    yg_task_destroy(&task);
    yg_value_destroy(&input);
}

START_TEST(test_llm_nodes_end_to_end)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/e2e", testutil_temp_dir());
    mkdir(dir, 0755);
    char pdir[600];
    snprintf(pdir, sizeof pdir, "%s/prompts", dir);
    mkdir(pdir, 0755);
    e2e_write(dir, "graph.yaml", E2E_GRAPH);
    e2e_write(pdir, "ask.yaml", "system: Answer briefly.\nuser: \"{q}\"\n");
    e2e_write(pdir, "judge.yaml", "user: Judge it.\noutput_schema:\n  type: object\n"
                                  "  properties:\n    score: {type: integer}\n"
                                  "    note: {type: string}\n  required: [score]\n");
    char path[700];
    snprintf(path, sizeof path, "%s/graph.yaml", dir);
    yg_error_t err = {0};
    yg_graph_t *g = yg_graph_load(path, &err);
    ck_assert_msg(g != NULL, "%s:%d: %s", err.file, err.line, err.message);

    rig_t r;
    rig_init(&r, 1);
    task_res_t t;
    /* A plain llm node: the reply becomes state_key. */
    e2e_run(&r, g, "ask", &t);
    ck_assert_int_eq(t.status, YG_TASK_OK);
    ck_assert_str_eq(yg_value_str(yg_map_get(t.update, "answer")), FIXED_REPLY);
    yg_value_t *last = control("GET", "/last");
    ck_assert_str_eq(yg_value_str(yg_value_path(last, "body.messages.1.content", true)), "question 7");
    yg_value_destroy(&last);
    yg_value_destroy(&t.update);

    /* stream: true -> token events in order, the text also in state_key. */
    e2e_run(&r, g, "talk", &t);
    ck_assert_int_eq(t.status, YG_TASK_OK);
    ck_assert_int_eq(t.ntokens, 9);
    ck_assert_str_eq(t.tokens, FIXED_REPLY);
    ck_assert_str_eq(yg_value_str(yg_map_get(t.update, "streamed")), FIXED_REPLY);
    yg_value_destroy(&t.update);

    /* Structured output through Anthropic's forced tool, validated. */
    point("ANTHROPIC_BASE_URL", "", "reply=%7B%22score%22%3A%204%7D");
    e2e_run(&r, g, "judge", &t);
    ck_assert_msg(t.status == YG_TASK_OK, "judge failed");
    ck_assert_int_eq(yg_value_int(yg_value_path(t.update, "verdict.score", false)), 4);
    ck_assert(yg_value_is_null(yg_value_path(t.update, "verdict.note", false)));
    yg_value_destroy(&t.update);

    /* A provider failure becomes the node's error record (no on_error:
     * spec 4.3), naming provider, model and status. */
    point("OPENAI_BASE_URL", "/v1", "fault=500");
    e2e_run(&r, g, "broken", &t);
    ck_assert_int_eq(t.status, YG_TASK_OK);
    ck_assert(!yg_map_has(t.update, "broken"));
    const char *msg = yg_value_str(yg_value_path(t.update, "errors.0.message", true));
    ck_assert_msg(msg && strstr(msg, "openai (model gpt-4o): HTTP 500"), "%s", msg ? msg : "(none)");
    yg_value_destroy(&t.update);
    yg_value_destroy(&t.error);

    rig_destroy(&r);
    yg_graph_destroy(&g);
}
END_TEST

static Suite *http_providers_suite(void)
{
    Suite *s = suite_create("http_providers");
    TCase *tc = tcase_create("fake_server");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, server_start, server_stop);
    tcase_add_test(tc, test_openai_basic);
    tcase_add_test(tc, test_openai_compatible_providers);
    tcase_add_test(tc, test_anthropic_basic);
    tcase_add_test(tc, test_streaming_both_shapes);
    tcase_add_test(tc, test_streaming_paced_chunks);
    tcase_add_test(tc, test_tool_calls);
    tcase_add_test(tc, test_tool_history_conversion);
    tcase_add_test(tc, test_structured_output);
    tcase_add_test(tc, test_429_retry_after_honoured);
    tcase_add_test(tc, test_429_exhausted_clear_error);
    tcase_add_test(tc, test_500_then_success);
    tcase_add_test(tc, test_slow_headers_timeout);
    tcase_add_test(tc, test_drop_mid_stream);
    tcase_add_test(tc, test_malformed_json);
    tcase_add_test(tc, test_error_event_after_200);
    tcase_add_test(tc, test_connection_refused_and_missing_key);
    tcase_add_test(tc, test_cancel_aborts_in_flight);
    tcase_add_test(tc, test_keep_alive_reuse);
    tcase_add_test(tc, test_slow_reply_does_not_block);
    tcase_add_test(tc, test_http_layer_errors);
    tcase_add_test(tc, test_endpoint_urls);
    tcase_add_test(tc, test_prompt_api_async_and_stream);
    tcase_add_test(tc, test_prompt_api_structured_and_concurrent);
    tcase_add_test(tc, test_llm_nodes_end_to_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return testutil_run(http_providers_suite(), 60);
}
