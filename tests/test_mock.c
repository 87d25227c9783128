/*
 * test_mock.c - the mock provider and the per-loop LLM client.
 */
#include <czmq.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yg_exec.h"
#include "yg_provider.h"

static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad test JSON: %s", err.message);
    return v;
}

typedef struct reply {
    bool done;
    bool ok;
    char *text;
    yg_value_t *structured;
    yg_value_t *tool_calls;
    char *provider;
    int code;
    int http_status;
    bool retryable;
    char message[YG_ERROR_MESSAGE_MAX];
    char tokens[4096];
    int token_count;
    int64_t at;
} reply_t;

static void on_token(void *arg, const char *text, size_t len)
{
    reply_t *r = arg;
    strncat(r->tokens, text, len);
    r->token_count++;
}

static void on_done(void *arg, const yg_llm_reply_t *reply, const yg_llm_failure_t *failure)
{
    reply_t *r = arg;
    ck_assert(!r->done);
    r->done = true;
    r->at = zclock_mono();
    if (reply) {
        r->ok = true;
        r->text = strdup(reply->text);
        r->structured = reply->structured ? yg_value_copy(reply->structured) : NULL;
        r->tool_calls = reply->tool_calls ? yg_value_copy(reply->tool_calls) : NULL;
        r->provider = reply->provider ? strdup(reply->provider) : NULL;
    } else {
        r->code = failure->code;
        r->http_status = failure->http_status;
        r->retryable = failure->retryable;
        snprintf(r->message, sizeof r->message, "%s", failure->message);
    }
}

static void reply_free(reply_t *r)
{
    free(r->text);
    free(r->provider);
    yg_value_destroy(&r->structured);
    yg_value_destroy(&r->tool_calls);
    memset(r, 0, sizeof *r);
}

static const yg_llm_callbacks_t callbacks = {on_token, on_done};

typedef struct harness {
    zloop_t *loop;
    yg_evloop_t *ev;
    yg_providers_t *providers;
    yg_llm_client_t *client;
    bool *flag;
} harness_t;

static int check_flag(zloop_t *loop, int id, void *arg)
{
    harness_t *h = arg;
    return *h->flag ? -1 : 0;
}

static int stop_now(zloop_t *loop, int id, void *arg)
{
    return -1;
}

static void harness_init(harness_t *h, const char *override, yg_mock_t *mock)
{
    h->loop = zloop_new();
    zloop_set_nonstop(h->loop, true);
    h->ev = yg_evloop_new(h->loop);
    h->providers = yg_providers_new(override, mock);
    h->client = yg_llm_client_new(h->providers, h->ev);
    ck_assert_ptr_nonnull(h->client);
}

static void harness_run(harness_t *h, bool *flag, int max_ms)
{
    h->flag = flag;
    int poll = zloop_timer(h->loop, 1, 0, check_flag, h);
    int guard = zloop_timer(h->loop, (size_t)max_ms, 1, stop_now, h);
    zloop_start(h->loop);
    zloop_timer_end(h->loop, poll);
    zloop_timer_end(h->loop, guard);
}

static void harness_fini(harness_t *h)
{
    yg_llm_client_destroy(&h->client);
    yg_providers_destroy(&h->providers);
    yg_evloop_destroy(&h->ev);
    zloop_destroy(&h->loop);
}

static yg_value_t *user_messages(const char *text)
{
    yg_value_t *msgs = yg_list_new();
    yg_value_t *m = yg_map_new();
    yg_map_set(m, "role", yg_str_new("user"));
    yg_map_set(m, "content", yg_str_new(text));
    yg_list_append(msgs, m);
    return msgs;
}

/* One call through the client; waits for completion. */
static void call(harness_t *h, const char *provider, const char *prompt, const yg_value_t *schema,
                 bool stream, reply_t *r)
{
    yg_value_t *msgs = user_messages("hello");
    yg_llm_request_t req = {.provider = provider, .temperature = 0.7, .messages = msgs,
                            .schema = schema, .stream = stream, .prompt_name = prompt};
    yg_llm_call_t *c = yg_llm_call_start(h->client, &req, &callbacks, r);
    ck_assert_ptr_nonnull(c);
    ck_assert(!r->done); /* never synchronous */
    yg_value_destroy(&msgs);
    harness_run(h, &r->done, 5000);
    ck_assert(r->done);
}

START_TEST(test_replies_in_order_then_repeat)
{
    yg_value_t *script = J("{\"greet\": [\"one\", \"two\"], \"solo\": \"only\","
                           " \"default\": \"fallback text\"}");
    yg_error_t err = {0};
    yg_mock_t *mock = yg_mock_new_from_value(script, &err);
    ck_assert_msg(mock != NULL, "%s", err.message);
    harness_t h;
    harness_init(&h, NULL, mock);
    const char *expect[] = {"one", "two", "two"};
    for (int i = 0; i < 3; i++) {
        reply_t r = {0};
        call(&h, "mock", "greet", NULL, false, &r);
        ck_assert(r.ok);
        ck_assert_str_eq(r.text, expect[i]);
        ck_assert_str_eq(r.provider, "mock");
        reply_free(&r);
    }
    reply_t r = {0};
    call(&h, "mock", "solo", NULL, false, &r);
    ck_assert_str_eq(r.text, "only");
    reply_free(&r);
    call(&h, "mock", "unknown/prompt", NULL, false, &r);
    ck_assert_str_eq(r.text, "fallback text");
    reply_free(&r);
    ck_assert_int_eq(yg_mock_calls(mock, "greet"), 3);
    ck_assert_int_eq(yg_mock_calls(mock, "solo"), 1);
    ck_assert_int_eq(yg_mock_calls(mock, NULL), 5);
    yg_value_t *log = yg_mock_log(mock);
    ck_assert_int_eq(yg_list_size(log), 5);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(log, 0), "prompt")), "greet");
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(log, 0), "model")), "mock");
    ck_assert_int_eq(yg_list_size(yg_map_get(yg_list_get(log, 0), "messages")), 1);
    yg_value_destroy(&log);
    yg_mock_reset(mock);
    ck_assert_int_eq(yg_mock_calls(mock, NULL), 0);
    call(&h, "mock", "greet", NULL, false, &r);
    ck_assert_str_eq(r.text, "one"); /* cursor reset too */
    reply_free(&r);
    harness_fini(&h);
    yg_mock_destroy(&mock);
    yg_value_destroy(&script);
}
END_TEST

START_TEST(test_defaults_without_script)
{
    harness_t h;
    harness_init(&h, "mock", NULL);
    reply_t r = {0};
    call(&h, "anthropic", "demo/summarize", NULL, false, &r); /* override wins */
    ck_assert(r.ok);
    ck_assert_str_eq(r.text, "mock reply for demo/summarize");
    ck_assert_str_eq(r.provider, "mock");
    reply_free(&r);
    yg_value_t *schema = J("{\"type\": \"object\", \"properties\": {"
                           "\"tone\": {\"type\": \"string\"}, \"score\": {\"type\": \"number\"},"
                           "\"tags\": {\"type\": \"array\", \"default\": [\"x\"]}},"
                           "\"required\": [\"tone\", \"score\"]}");
    call(&h, "anthropic", "classify", schema, false, &r);
    yg_value_t *expect = J("{\"tone\": \"mock\", \"score\": 0.0, \"tags\": [\"x\"]}");
    ck_assert(yg_value_equal(r.structured, expect));
    yg_value_t *parsed = yg_json_decode(r.text, strlen(r.text), NULL, NULL);
    ck_assert(yg_value_equal(parsed, expect)); /* also as JSON text */
    yg_value_destroy(&parsed);
    yg_value_destroy(&expect);
    yg_value_destroy(&schema);
    reply_free(&r);
    harness_fini(&h);
}
END_TEST

START_TEST(test_structured_and_tool_calls)
{
    yg_value_t *script = J("{\"s\": {\"tone\": \"positive\"},"
                           " \"wrapped\": {\"structured\": {\"content\": \"c\"}},"
                           " \"agent\": [{\"content\": \"thinking\", \"tool_calls\": ["
                           "   {\"name\": \"ls\", \"args\": {\"dir\": \"/\"}, \"id\": \"c1\"}]},"
                           "  \"final answer\"]}");
    yg_mock_t *mock = yg_mock_new_from_value(script, NULL);
    ck_assert_ptr_nonnull(mock);
    harness_t h;
    harness_init(&h, NULL, mock);
    reply_t r = {0};
    call(&h, "mock", "s", NULL, false, &r);
    ck_assert_str_eq(yg_value_str(yg_map_get(r.structured, "tone")), "positive");
    ck_assert_str_eq(r.text, "{\"tone\":\"positive\"}");
    reply_free(&r);
    call(&h, "mock", "wrapped", NULL, false, &r);
    ck_assert_str_eq(yg_value_str(yg_map_get(r.structured, "content")), "c");
    reply_free(&r);
    call(&h, "mock", "agent", NULL, false, &r);
    ck_assert_str_eq(r.text, "thinking");
    ck_assert_int_eq(yg_list_size(r.tool_calls), 1);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(r.tool_calls, 0), "name")), "ls");
    reply_free(&r);
    call(&h, "mock", "agent", NULL, false, &r);
    ck_assert_str_eq(r.text, "final answer");
    ck_assert_ptr_null(r.tool_calls);
    reply_free(&r);
    harness_fini(&h);
    yg_mock_destroy(&mock);
    yg_value_destroy(&script);
}
END_TEST

START_TEST(test_error_injection)
{
    yg_value_t *script = J("{\"p\": [{\"error\": {\"status\": 429, \"message\": \"slow down\"}},"
                           "       {\"error\": {\"status\": 400, \"message\": \"bad\"}}, \"ok\"]}");
    yg_mock_t *mock = yg_mock_new_from_value(script, NULL);
    harness_t h;
    harness_init(&h, NULL, mock);
    reply_t r = {0};
    call(&h, "mock", "p", NULL, false, &r);
    ck_assert(!r.ok);
    ck_assert_int_eq(r.code, YG_ELLM);
    ck_assert_int_eq(r.http_status, 429);
    ck_assert(r.retryable);
    ck_assert_ptr_nonnull(strstr(r.message, "slow down"));
    reply_free(&r);
    call(&h, "mock", "p", NULL, false, &r);
    ck_assert(!r.ok);
    ck_assert(!r.retryable);
    reply_free(&r);
    call(&h, "mock", "p", NULL, false, &r);
    ck_assert(r.ok);
    reply_free(&r);
    harness_fini(&h);
    yg_mock_destroy(&mock);
    yg_value_destroy(&script);
}
END_TEST

START_TEST(test_latency_and_timeout)
{
    yg_value_t *script = J("{\"latency_ms\": 80, \"a\": \"x\","
                           " \"b\": {\"delay_ms\": 200, \"reply\": \"late\"}}");
    yg_mock_t *mock = yg_mock_new_from_value(script, NULL);
    harness_t h;
    harness_init(&h, NULL, mock);
    reply_t r = {0};
    int64_t start = zclock_mono();
    call(&h, "mock", "a", NULL, false, &r);
    ck_assert_int_ge(r.at - start, 75);
    reply_free(&r);
    start = zclock_mono();
    call(&h, "mock", "b", NULL, false, &r);
    ck_assert_int_ge(r.at - start, 190);
    ck_assert_str_eq(r.text, "late");
    reply_free(&r);
    /* a request timeout shorter than the delay fails as a timeout */
    yg_value_t *msgs = user_messages("x");
    yg_llm_request_t req = {.provider = "mock", .messages = msgs, .prompt_name = "b",
                            .timeout_s = 0.05};
    start = zclock_mono();
    ck_assert_ptr_nonnull(yg_llm_call_start(h.client, &req, &callbacks, &r));
    harness_run(&h, &r.done, 5000);
    ck_assert(!r.ok);
    ck_assert_int_eq(r.code, YG_ETIMEOUT);
    ck_assert_int_lt(r.at - start, 180);
    reply_free(&r);
    /* concurrent delayed calls overlap */
    reply_t many[20];
    memset(many, 0, sizeof many);
    start = zclock_mono();
    for (int i = 0; i < 20; i++) {
        req.timeout_s = 0;
        req.prompt_name = "a";
        ck_assert_ptr_nonnull(yg_llm_call_start(h.client, &req, &callbacks, &many[i]));
    }
    ck_assert_int_eq(yg_llm_client_active(h.client), 20);
    harness_run(&h, &many[19].done, 5000);
    for (int i = 0; i < 20; i++) {
        ck_assert(many[i].done);
        reply_free(&many[i]);
    }
    ck_assert_int_lt(zclock_mono() - start, 400);
    yg_value_destroy(&msgs);
    harness_fini(&h);
    yg_mock_destroy(&mock);
    yg_value_destroy(&script);
}
END_TEST

START_TEST(test_streaming)
{
    yg_value_t *script = J("{\"words\": \"The quick  brown fox\\njumps\","
                           " \"tok\": {\"tokens\": [\"Hel\", \"lo\", \"\", \" world\"]}}");
    yg_mock_t *mock = yg_mock_new_from_value(script, NULL);
    harness_t h;
    harness_init(&h, NULL, mock);
    reply_t r = {0};
    call(&h, "mock", "words", NULL, true, &r);
    ck_assert_str_eq(r.tokens, "The quick  brown fox\njumps");
    ck_assert_str_eq(r.text, r.tokens);
    ck_assert_int_eq(r.token_count, 5);
    reply_free(&r);
    call(&h, "mock", "tok", NULL, true, &r);
    ck_assert_str_eq(r.tokens, "Hello world");
    ck_assert_str_eq(r.text, "Hello world");
    ck_assert_int_eq(r.token_count, 3); /* empty chunks are dropped */
    reply_free(&r);
    call(&h, "mock", "tok", NULL, false, &r); /* no stream flag: no tokens */
    ck_assert_int_eq(r.token_count, 0);
    reply_free(&r);
    harness_fini(&h);
    yg_mock_destroy(&mock);
    yg_value_destroy(&script);
}
END_TEST

START_TEST(test_cancel_no_callback)
{
    yg_value_t *script = J("{\"latency_ms\": 50}");
    yg_mock_t *mock = yg_mock_new_from_value(script, NULL);
    harness_t h;
    harness_init(&h, NULL, mock);
    reply_t r = {0}, r2 = {0};
    yg_value_t *msgs = user_messages("x");
    yg_llm_request_t req = {.provider = "mock", .messages = msgs, .prompt_name = "p"};
    yg_llm_call_t *c = yg_llm_call_start(h.client, &req, &callbacks, &r);
    yg_llm_call_start(h.client, &req, &callbacks, &r2);
    yg_llm_call_cancel(h.client, &c);
    ck_assert_ptr_null(c);
    harness_run(&h, &r2.done, 5000);
    bool never = false;
    harness_run(&h, &never, 100);
    ck_assert(!r.done);
    ck_assert(r2.done);
    reply_free(&r2);
    /* calls still in flight at destroy are dropped silently */
    yg_llm_call_start(h.client, &req, &callbacks, &r);
    yg_value_destroy(&msgs);
    harness_fini(&h);
    ck_assert(!r.done);
    yg_mock_destroy(&mock);
    yg_value_destroy(&script);
}
END_TEST

START_TEST(test_unavailable_and_invalid_providers)
{
    harness_t h;
    harness_init(&h, NULL, NULL);
    reply_t r = {0};
    call(&h, "mistral", "p", NULL, false, &r);
    ck_assert(!r.ok);
    ck_assert_int_eq(r.code, YG_ELLM);
    ck_assert(!r.retryable);
    ck_assert_str_eq(r.message,
                     "provider 'mistral' needs the HTTP client (not built yet); use --provider mock");
    reply_free(&r);
    call(&h, "gemini", "p", NULL, false, &r);
    ck_assert(!r.ok);
    ck_assert_ptr_nonnull(strstr(r.message, "Invalid provider: gemini"));
    reply_free(&r);
    harness_fini(&h);
}
END_TEST

START_TEST(test_resolution)
{
    unsetenv("PROVIDER");
    ck_assert_str_eq(yg_provider_resolve(NULL), "anthropic");
    ck_assert_str_eq(yg_provider_resolve("openai"), "openai");
    setenv("PROVIDER", "mistral", 1);
    ck_assert_str_eq(yg_provider_resolve(NULL), "mistral");
    ck_assert_str_eq(yg_provider_resolve(""), "mistral");
    unsetenv("PROVIDER");
    unsetenv("OPENAI_MODEL");
    ck_assert_str_eq(yg_provider_model("openai"), "gpt-4o");
    setenv("OPENAI_MODEL", "gpt-x", 1);
    ck_assert_str_eq(yg_provider_model("openai"), "gpt-x");
    unsetenv("OPENAI_MODEL");
    ck_assert_str_eq(yg_provider_model("anthropic"), "claude-haiku-4-5");
    ck_assert_ptr_null(yg_provider_model("nope"));
    ck_assert(yg_provider_known("xai"));
    ck_assert(!yg_provider_known("nope"));
}
END_TEST

START_TEST(test_bad_scripts)
{
    const char *bad[] = {"[1, 2]", "{\"p\": []}", "{\"latency_ms\": -1}",
                         "{\"p\": {\"delay_ms\": \"x\", \"reply\": 1}}",
                         "{\"p\": {\"delay_ms\": 5}}",
                         "{\"p\": {\"tool_calls\": [{\"args\": {}}]}}",
                         "{\"p\": {\"tokens\": [1]}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        yg_value_t *v = J(bad[i]);
        yg_error_t err = {0};
        ck_assert_msg(yg_mock_new_from_value(v, &err) == NULL, "accepted %s", bad[i]);
        ck_assert_int_ne(err.code, 0);
        ck_assert_ptr_nonnull(strstr(err.message, "mock script"));
        yg_value_destroy(&v);
    }
}
END_TEST

START_TEST(test_file_yaml)
{
    const char *path = testutil_write_temp("mock.yaml",
                                           "latency_ms: 0\n"
                                           "classify:\n"
                                           "  - {tone: negative}\n"
                                           "  - tone: positive\n"
                                           "summarize: \"A summary.\"\n");
    yg_error_t err = {0};
    yg_mock_t *mock = yg_mock_new_from_file(path, &err);
    ck_assert_msg(mock != NULL, "%s", err.message);
    harness_t h;
    harness_init(&h, "mock", mock);
    reply_t r = {0};
    call(&h, NULL, "classify", NULL, false, &r);
    ck_assert_str_eq(yg_value_str(yg_map_get(r.structured, "tone")), "negative");
    reply_free(&r);
    call(&h, NULL, "classify", NULL, false, &r);
    ck_assert_str_eq(yg_value_str(yg_map_get(r.structured, "tone")), "positive");
    reply_free(&r);
    call(&h, NULL, "summarize", NULL, false, &r);
    ck_assert_str_eq(r.text, "A summary.");
    reply_free(&r);
    harness_fini(&h);
    yg_mock_destroy(&mock);
    const char *json = testutil_write_temp("mock.json", "{\"p\": [\"j1\"]}");
    mock = yg_mock_new_from_file(json, &err);
    ck_assert_ptr_nonnull(mock);
    yg_mock_destroy(&mock);
    ck_assert_ptr_null(yg_mock_new_from_file("/nonexistent/mock.yaml", &err));
    ck_assert_int_ne(err.code, 0);
}
END_TEST

/* Several loops on several threads share one cursor per prompt. */
typedef struct thread_arg {
    yg_mock_t *mock;
    char got[10][16];
} thread_arg_t;

static void *thread_main(void *p)
{
    thread_arg_t *a = p;
    harness_t h;
    harness_init(&h, NULL, a->mock);
    for (int i = 0; i < 10; i++) {
        reply_t r = {0};
        call(&h, "mock", "shared", NULL, false, &r);
        snprintf(a->got[i], sizeof a->got[i], "%s", r.text);
        reply_free(&r);
    }
    harness_fini(&h);
    return NULL;
}

START_TEST(test_shared_cursor_across_threads)
{
    char json[1024] = "{\"shared\": [";
    for (int i = 0; i < 40; i++) {
        char item[16];
        snprintf(item, sizeof item, "%s\"r%d\"", i ? "," : "", i);
        strcat(json, item);
    }
    strcat(json, "]}");
    yg_value_t *script = J(json);
    yg_mock_t *mock = yg_mock_new_from_value(script, NULL);
    thread_arg_t args[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        args[i].mock = mock;
        pthread_create(&threads[i], NULL, thread_main, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    /* every reply was handed out exactly once */
    int seen[40] = {0};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 10; j++)
            seen[atoi(args[i].got[j] + 1)]++;
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_eq(yg_mock_calls(mock, "shared"), 40);
    yg_mock_destroy(&mock);
    yg_value_destroy(&script);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mock");
    TCase *tc = tcase_create("mock");
    tcase_add_test(tc, test_replies_in_order_then_repeat);
    tcase_add_test(tc, test_defaults_without_script);
    tcase_add_test(tc, test_structured_and_tool_calls);
    tcase_add_test(tc, test_error_injection);
    tcase_add_test(tc, test_latency_and_timeout);
    tcase_add_test(tc, test_streaming);
    tcase_add_test(tc, test_cancel_no_callback);
    tcase_add_test(tc, test_unavailable_and_invalid_providers);
    tcase_add_test(tc, test_resolution);
    tcase_add_test(tc, test_bad_scripts);
    tcase_add_test(tc, test_file_yaml);
    tcase_add_test(tc, test_shared_cursor_across_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
