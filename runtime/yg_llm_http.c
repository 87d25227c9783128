/*
 * yg_llm_http.c - the HTTP LLM backends: provider table, one shared
 * yg_http_t per event loop, request attempts with retries (exponential
 * backoff with jitter, Retry-After), timeouts, streaming through the SSE
 * parser, and failures that name provider, model, status and message.
 */
#define _GNU_SOURCE
#include "yg_llm_http.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "yg_exec.h"
#include "yg_http.h"

/* --- provider table (spec 14, plus deepseek) ------------------------------ */

static const yg_llm_provider_info_t PROVIDERS[] = {
    {"openai", YG_LLM_API_OPENAI, "https://api.openai.com/v1", "OPENAI_BASE_URL",
     "OPENAI_API_KEY", "OPENAI_MODEL", "gpt-4o"},
    {"mistral", YG_LLM_API_OPENAI, "https://api.mistral.ai/v1", "MISTRAL_BASE_URL",
     "MISTRAL_API_KEY", "MISTRAL_MODEL", "mistral-large-latest"},
    {"deepseek", YG_LLM_API_OPENAI, "https://api.deepseek.com/v1", "DEEPSEEK_BASE_URL",
     "DEEPSEEK_API_KEY", "DEEPSEEK_MODEL", "deepseek-chat"},
    {"xai", YG_LLM_API_OPENAI, "https://api.x.ai/v1", "XAI_BASE_URL", "XAI_API_KEY",
     "XAI_MODEL", "grok-4-1-fast-reasoning"},
    {"lmstudio", YG_LLM_API_OPENAI, "http://localhost:1234/v1", "LMSTUDIO_BASE_URL", NULL,
     "LMSTUDIO_MODEL", "qwen2.5-coder-7b-instruct"},
    {"anthropic", YG_LLM_API_ANTHROPIC, "https://api.anthropic.com", "ANTHROPIC_BASE_URL",
     "ANTHROPIC_API_KEY", "ANTHROPIC_MODEL", "claude-haiku-4-5"},
};
#define PROVIDERS_COUNT (sizeof PROVIDERS / sizeof PROVIDERS[0])

const yg_llm_provider_info_t *yg_llm_provider_info(const char *name)
{
    for (size_t i = 0; name && i < PROVIDERS_COUNT; i++)
        if (strcmp(PROVIDERS[i].name, name) == 0)
            return &PROVIDERS[i];
    return NULL;
}

size_t yg_llm_provider_count(void)
{
    return PROVIDERS_COUNT;
}

const yg_llm_provider_info_t *yg_llm_provider_at(size_t index)
{
    return index < PROVIDERS_COUNT ? &PROVIDERS[index] : NULL;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = name ? getenv(name) : NULL;
    return v && v[0] ? v : dflt;
}

const char *yg_llm_model_for(const yg_llm_provider_info_t *info, const char *req_model)
{
    if (req_model && req_model[0])
        return req_model;
    return env_or(info->env_model, info->default_model);
}

char *yg_llm_endpoint_url(const yg_llm_provider_info_t *info)
{
    const char *base = env_or(info->env_base_url, info->base_url);
    const char *q = strchr(base, '?');
    size_t blen = q ? (size_t)(q - base) : strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    const char *path;
    if (info->api == YG_LLM_API_OPENAI)
        path = "/chat/completions";
    else  /* the SDK's base has no /v1; accept one written either way */
        path = blen >= 3 && memcmp(base + blen - 3, "/v1", 3) == 0 ? "/messages" : "/v1/messages";
    char *url = NULL;
    if (asprintf(&url, "%.*s%s%s", (int)blen, base, path, q ? q : "") < 0)
        return NULL;
    return url;
}

/* --- accumulator ------------------------------------------------------------ */

void yg_llm_acc_reset(yg_llm_acc_t *acc)
{
    free(acc->text);
    acc->text = NULL;
    acc->text_len = acc->text_cap = 0;
    for (size_t i = 0; i < acc->tools_count; i++) {
        free(acc->tools[i].id);
        free(acc->tools[i].name);
        free(acc->tools[i].args);
    }
    free(acc->tools);
    acc->tools = NULL;
    acc->tools_count = 0;
    acc->finish_reason[0] = '\0';
    yg_value_destroy(&acc->structured);
    acc->done = false;
    acc->fail_code = 0;
    acc->fail_type = NULL;
    acc->fail_retryable = false;
    acc->fail_message[0] = '\0';
}

void yg_llm_acc_free(yg_llm_acc_t *acc)
{
    yg_llm_acc_reset(acc);
}

int yg_llm_acc_fail(yg_llm_acc_t *acc, int code, const char *type, bool retryable,
                    const char *fmt, ...)
{
    if (acc->fail_code)
        return acc->fail_code;  /* keep the first failure */
    acc->fail_code = code;
    acc->fail_type = type;
    acc->fail_retryable = retryable;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(acc->fail_message, sizeof acc->fail_message, fmt, ap);
    va_end(ap);
    return code;
}

int yg_llm_acc_text(yg_llm_acc_t *acc, const char *s, size_t len, bool emit)
{
    if (!s || len == 0)
        return YG_OK;  /* empty chunks are dropped (spec 10) */
    if (acc->text_len + len + 1 > acc->text_cap) {
        size_t cap = acc->text_cap ? acc->text_cap : 256;
        while (cap < acc->text_len + len + 1)
            cap *= 2;
        char *p = realloc(acc->text, cap);
        if (!p)
            return yg_llm_acc_fail(acc, YG_ENOMEM, "MemoryError", false, "out of memory");
        acc->text = p;
        acc->text_cap = cap;
    }
    memcpy(acc->text + acc->text_len, s, len);
    acc->text_len += len;
    acc->text[acc->text_len] = '\0';
    if (emit && acc->emit) {
        acc->emitted = true;
        acc->emit(acc->emit_arg, s, len);
    }
    return YG_OK;
}

yg_llm_tool_part_t *yg_llm_acc_tool(yg_llm_acc_t *acc, int index)
{
    for (size_t i = 0; i < acc->tools_count; i++)
        if (acc->tools[i].index == index)
            return &acc->tools[i];
    if (acc->tools_count >= YG_LLM_MAX_TOOL_CALLS) {
        yg_llm_acc_fail(acc, YG_ELIMIT, "APIError", false, "more than %d tool calls in one reply",
                        YG_LLM_MAX_TOOL_CALLS);
        return NULL;
    }
    yg_llm_tool_part_t *p = realloc(acc->tools, (acc->tools_count + 1) * sizeof *p);
    if (!p) {
        yg_llm_acc_fail(acc, YG_ENOMEM, "MemoryError", false, "out of memory");
        return NULL;
    }
    acc->tools = p;
    yg_llm_tool_part_t *t = &acc->tools[acc->tools_count++];
    memset(t, 0, sizeof *t);
    t->index = index;
    return t;
}

yg_value_t *yg_llm_acc_tool_calls(yg_llm_acc_t *acc)
{
    if (acc->tools_count == 0)
        return NULL;
    yg_value_t *list = yg_list_new();
    for (size_t i = 0; list && i < acc->tools_count; i++) {
        yg_llm_tool_part_t *t = &acc->tools[i];
        yg_error_t err = {0};
        yg_value_t *args = t->args_len ? yg_json_decode(t->args, t->args_len, NULL, &err)
                                       : yg_map_new();
        if (!args || yg_value_type(args) != YG_MAP) {
            yg_llm_acc_fail(acc, YG_EPARSE, "OutputParserException", false,
                            "tool call '%s' has arguments that are not a JSON object: %s",
                            t->name ? t->name : "?", args ? "not an object" : err.message);
            yg_value_destroy(&args);
            yg_value_destroy(&list);
            return NULL;
        }
        yg_value_t *call = yg_map_new();
        yg_map_set(call, "id", yg_str_new(t->id ? t->id : ""));
        yg_map_set(call, "name", yg_str_new(t->name ? t->name : ""));
        yg_map_set(call, "args", args);
        yg_list_append(list, call);
    }
    return list;
}

void yg_llm_error_message(const char *body, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return;
    out[0] = '\0';
    yg_error_t err = {0};
    yg_value_t *v = len ? yg_json_decode(body, len, NULL, &err) : NULL;
    const yg_value_t *e = yg_map_get(v, "error");
    const char *msg = yg_value_str(yg_map_get(e, "message"));
    if (!msg)
        msg = yg_value_str(e);                      /* {"error": "text"} */
    if (!msg)
        msg = yg_value_str(yg_map_get(v, "message"));
    if (!msg)
        msg = yg_value_str(yg_map_get(v, "detail"));  /* FastAPI-style servers */
    if (msg) {
        snprintf(out, cap, "%s", msg);
    } else {
        size_t n = len < cap - 1 ? len : cap - 1;
        if (n > 200)
            n = 200;
        memcpy(out, body, n);
        out[n] = '\0';
    }
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    yg_value_destroy(&v);
}

const char *yg_llm_msg_text(const yg_value_t *msg)
{
    const char *s = yg_value_str(yg_map_get(msg, "content"));
    return s ? s : "";
}

void yg_llm_schema_name(const char *name, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = name ? name : ""; *p && o + 1 < cap && o < 64; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        out[o++] = ok ? ch : '_';
    }
    out[o] = '\0';
    if (o == 0)
        snprintf(out, cap, "%s", YG_LLM_SCHEMA_TOOL);
}

/* --- one shared HTTP client per loop ---------------------------------------- */

/* Every backend's client_new is called for the same loop; they share one
 * yg_http_t (one curl multi handle) found by the loop pointer. */
typedef struct loop_share {
    yg_evloop_t *ev;
    yg_http_t *http;
    int refs;
    /* retry and timeout settings, read once per loop from the environment */
    int max_attempts;
    double retry_delay_s;
    double retry_max_delay_s;
    double timeout_s;
    double connect_timeout_s;
    unsigned int rand_state;
    struct loop_share *next;
} loop_share_t;

static pthread_mutex_t shares_lock = PTHREAD_MUTEX_INITIALIZER;
static loop_share_t *shares;

static double env_double(const char *name, double dflt, double min, double max)
{
    const char *v = getenv(name);
    if (!v || !v[0])
        return dflt;
    char *end = NULL;
    double d = strtod(v, &end);
    if (!end || *end || !isfinite(d))
        return dflt;
    return d < min ? min : d > max ? max : d;
}

static loop_share_t *share_get(yg_evloop_t *ev)
{
    pthread_mutex_lock(&shares_lock);
    loop_share_t *s = shares;
    while (s && s->ev != ev)
        s = s->next;
    if (s) {
        s->refs++;
    } else if ((s = calloc(1, sizeof *s))) {
        s->ev = ev;
        s->http = yg_http_new(ev);
        if (!s->http) {
            free(s);
            s = NULL;
        } else {
            s->refs = 1;
            s->max_attempts = (int)env_double("LLM_MAX_RETRIES", YG_LLM_DEFAULT_MAX_RETRIES, 1,
                                              YG_LLM_MAX_RETRIES_CEILING);
            s->retry_delay_s = env_double("LLM_RETRY_DELAY", YG_LLM_DEFAULT_RETRY_DELAY_S, 0, 3600);
            s->retry_max_delay_s =
                env_double("LLM_RETRY_MAX_DELAY", YG_LLM_DEFAULT_RETRY_MAX_DELAY_S, 0, 3600);
            s->timeout_s = env_double("LLM_TIMEOUT", YG_LLM_DEFAULT_TIMEOUT_S, 0.001, 86400);
            s->connect_timeout_s =
                env_double("LLM_CONNECT_TIMEOUT", YG_LLM_DEFAULT_CONNECT_TIMEOUT_S, 0.001, 3600);
            s->rand_state = (unsigned int)time(NULL) ^ (unsigned int)getpid() ^
                            (unsigned int)(uintptr_t)ev;
            s->next = shares;
            shares = s;
        }
    }
    pthread_mutex_unlock(&shares_lock);
    return s;
}

static void share_put(loop_share_t *s)
{
    pthread_mutex_lock(&shares_lock);
    bool last = --s->refs == 0;
    if (last)
        for (loop_share_t **p = &shares; *p; p = &(*p)->next)
            if (*p == s) {
                *p = s->next;
                break;
            }
    pthread_mutex_unlock(&shares_lock);
    if (last) {
        yg_http_destroy(&s->http);
        free(s);
    }
}

/* --- calls -------------------------------------------------------------------- */

typedef struct backend_client {
    const yg_llm_provider_info_t *info;
    loop_share_t *share;
} backend_client_t;

typedef struct http_call {
    backend_client_t *client;
    const yg_llm_provider_info_t *info;
    const yg_llm_dialect_t *dialect;
    yg_llm_callbacks_t cb;
    void *cb_arg;
    char *model;
    char *url;
    char *body;
    size_t body_len;
    char *auth_header;          /* holds the key: wiped on free */
    const char *headers[6];
    bool stream;
    long timeout_ms;
    long connect_timeout_ms;
    int attempt;                /* 1-based number of the attempt in flight */
    yg_http_req_t *req;
    yg_timer_t *retry_timer;
    yg_sse_t *sse;
    yg_llm_acc_t acc;
    int dispatch_depth;         /* inside our own on_data: cancel defers the free */
    bool cancelled;
} http_call_t;

static void call_free(http_call_t *call)
{
    yg_http_t *http = call->client->share->http;
    yg_http_cancel(http, &call->req);
    yg_evloop_cancel(call->client->share->ev, &call->retry_timer);
    yg_sse_destroy(&call->sse);
    yg_llm_acc_free(&call->acc);
    if (call->auth_header) {
        explicit_bzero(call->auth_header, strlen(call->auth_header));
        free(call->auth_header);
    }
    free(call->model);
    free(call->url);
    free(call->body);
    free(call);
}

static void emit_token(void *arg, const char *text, size_t len)
{
    http_call_t *call = arg;
    if (!call->cancelled && call->cb.on_token)
        call->cb.on_token(call->cb_arg, text, len);
}

static int on_sse_event(void *arg, const yg_sse_event_t *ev)
{
    http_call_t *call = arg;
    if (call->cancelled)
        return 1;
    return call->dialect->stream_event(&call->acc, ev) || call->cancelled;
}

static int on_http_data(void *arg, const char *data, size_t len)
{
    http_call_t *call = arg;
    call->dispatch_depth++;
    int rc = yg_sse_feed(call->sse, data, len);
    call->dispatch_depth--;
    if (call->cancelled) {
        if (call->dispatch_depth == 0)
            call_free(call);  /* cancelled by a token callback: our turn to free */
        return 1;
    }
    if (rc == YG_ELIMIT || rc == YG_ENOMEM)
        yg_llm_acc_fail(&call->acc, YG_ELLM, "APIError", false,
                        "stream event exceeds the size limit");
    return rc != 0;
}

static const char *status_exception(int status)
{
    switch (status) {
    case 400: return "BadRequestError";
    case 401: return "AuthenticationError";
    case 403: return "PermissionDeniedError";
    case 404: return "NotFoundError";
    case 408: return "APITimeoutError";
    case 409: return "ConflictError";
    case 413: return "RequestTooLargeError";
    case 422: return "UnprocessableEntityError";
    case 429: return "RateLimitError";
    case 503: return "ServiceUnavailableError";
    case 529: return "OverloadedError";
    default: return status >= 500 ? "InternalServerError" : "APIStatusError";
    }
}

static bool status_retryable(int status)
{
    return status == 408 || status == 409 || status == 429 || status >= 500;
}

/* Seconds before attempt number `next` (2, 3, ...): spec 7.8's
 * min(delay * 2^(next-2), max), times a jitter factor in [0.75, 1.25),
 * capped again; a Retry-After the server sent is a lower bound. */
static double retry_delay(http_call_t *call, double retry_after_s)
{
    loop_share_t *s = call->client->share;
    double d = s->retry_delay_s * pow(2.0, call->attempt - 1);
    if (d > s->retry_max_delay_s)
        d = s->retry_max_delay_s;
    double jitter = 0.75 + 0.5 * ((double)rand_r(&s->rand_state) / ((double)RAND_MAX + 1.0));
    d *= jitter;
    if (d > s->retry_max_delay_s)
        d = s->retry_max_delay_s;
    if (retry_after_s >= 0) {
        double ra = retry_after_s < YG_LLM_RETRY_AFTER_MAX_S ? retry_after_s : YG_LLM_RETRY_AFTER_MAX_S;
        if (d < ra)
            d = ra;
    }
    return d;
}

static void attempt_start(http_call_t *call);

static void on_retry_timer(void *arg)
{
    http_call_t *call = arg;
    call->retry_timer = NULL;
    attempt_start(call);
}

/* Complete the call with a failure (after retries when allowed). */
static void call_fail(http_call_t *call, int code, int status, const char *type, bool retryable,
                      double retry_after_s, const char *detail)
{
    /* Never retry after tokens went out: the caller would see them twice. */
    if (retryable && !call->acc.emitted && call->attempt < call->client->share->max_attempts) {
        double d = retry_delay(call, retry_after_s);
        call->attempt++;
        call->retry_timer = yg_evloop_timer(call->client->share->ev, (int64_t)ceil(d * 1000.0),
                                            on_retry_timer, call);
        if (call->retry_timer)
            return;
        call->attempt--;
    }
    yg_llm_failure_t f;
    memset(&f, 0, sizeof f);
    f.code = code;
    f.http_status = status;
    f.retryable = retryable;
    f.exception_type = type;
    char attempts[48] = "";
    if (call->attempt > 1)
        snprintf(attempts, sizeof attempts, " (after %d attempts)", call->attempt);
    if (status)
        snprintf(f.message, sizeof f.message, "%s (model %s): HTTP %d: %s%s", call->info->name,
                 call->model, status, detail, attempts);
    else
        snprintf(f.message, sizeof f.message, "%s (model %s): %s%s", call->info->name, call->model,
                 detail, attempts);
    yg_llm_callbacks_t cb = call->cb;
    void *arg = call->cb_arg;
    call_free(call);
    cb.on_done(arg, NULL, &f);
}

static void call_succeed(http_call_t *call)
{
    yg_llm_acc_t *acc = &call->acc;
    yg_value_t *tool_calls = yg_llm_acc_tool_calls(acc);
    yg_value_t *structured = NULL;
    char *text_json = NULL;
    if (!acc->fail_code && acc->want_structured) {
        if (acc->structured) {
            structured = yg_value_ref(acc->structured);
            text_json = yg_json_encode(structured, false, NULL);
        } else {
            yg_error_t err = {0};
            structured = acc->text_len ? yg_json_decode(acc->text, acc->text_len, NULL, &err) : NULL;
            if (!structured || yg_value_type(structured) != YG_MAP)
                yg_llm_acc_fail(acc, YG_ESCHEMA, "OutputParserException", false,
                                "structured output is not a JSON object: %s",
                                structured ? "got another JSON type"
                                           : acc->text_len ? err.message : "empty reply");
        }
    }
    if (acc->fail_code) {
        yg_value_destroy(&tool_calls);
        yg_value_destroy(&structured);
        free(text_json);
        call_fail(call, acc->fail_code, 0, acc->fail_type, acc->fail_retryable, -1,
                  acc->fail_message);
        return;
    }
    yg_llm_reply_t reply = {0};
    reply.text = text_json ? text_json : acc->text ? acc->text : "";
    reply.structured = structured;
    reply.tool_calls = tool_calls;
    reply.finish_reason = acc->finish_reason[0] ? acc->finish_reason
                          : tool_calls          ? "tool_calls"
                                                : "stop";
    reply.provider = call->info->name;
    /* Take what the callback reads out of the call before freeing it. */
    yg_llm_callbacks_t cb = call->cb;
    void *arg = call->cb_arg;
    char *text = strdup(reply.text);
    char finish[sizeof acc->finish_reason];
    snprintf(finish, sizeof finish, "%s", reply.finish_reason);
    reply.text = text ? text : "";
    reply.finish_reason = finish;
    call_free(call);
    cb.on_done(arg, &reply, NULL);
    free(text);
    free(text_json);
    yg_value_destroy(&tool_calls);
    yg_value_destroy(&structured);
}

static void on_http_done(void *arg, const yg_http_response_t *resp)
{
    http_call_t *call = arg;
    call->req = NULL;
    yg_llm_acc_t *acc = &call->acc;
    char detail[YG_ERROR_MESSAGE_MAX / 2];
    if (acc->fail_code) {
        /* The stream said so (error event, malformed event). */
        call_fail(call, acc->fail_code, resp->status, acc->fail_type, acc->fail_retryable, -1,
                  acc->fail_message);
        return;
    }
    if (resp->curl_code != CURLE_OK && resp->status >= 200 && resp->status < 300 &&
        !resp->timed_out) {
        snprintf(detail, sizeof detail, "connection lost during the response%s: %s",
                 call->acc.emitted ? " (after partial output)" : "", resp->error);
        call_fail(call, YG_ELLM, 0, "APIConnectionError", true, -1, detail);
        return;
    }
    if (resp->curl_code != CURLE_OK) {
        bool timeout = resp->timed_out;
        snprintf(detail, sizeof detail, "%s: %s", timeout ? "request timed out" : "connection error",
                 resp->error);
        call_fail(call, timeout ? YG_ETIMEOUT : YG_ELLM, 0,
                  timeout ? "APITimeoutError" : "APIConnectionError", true, -1, detail);
        return;
    }
    if (resp->status < 200 || resp->status >= 300) {
        char msg[400];
        yg_llm_error_message(resp->body, resp->body_len, msg, sizeof msg);
        call_fail(call, YG_ELLM, resp->status, status_exception(resp->status),
                  status_retryable(resp->status), resp->retry_after_s, msg);
        return;
    }
    if (call->stream) {
        yg_sse_finish(call->sse);
        if (!acc->done && !acc->finish_reason[0]) {
            call_fail(call, YG_ELLM, 0, "APIConnectionError", true, -1,
                      "the stream ended before the reply was complete");
            return;
        }
    } else {
        call->dialect->parse_reply(acc, resp->body, resp->body_len);
    }
    call_succeed(call);
}

/* Send one attempt.  Returns 0, or an error code with err filled. */
static int attempt_send(http_call_t *call, yg_error_t *err)
{
    yg_llm_acc_reset(&call->acc);
    yg_sse_reset(call->sse);
    yg_http_request_t hr = {
        .method = "POST",
        .url = call->url,
        .headers = call->headers,
        .body = call->body,
        .body_len = call->body_len,
        .connect_timeout_ms = call->connect_timeout_ms,
        .timeout_ms = call->timeout_ms,
        .stream = call->stream,
    };
    static const yg_http_callbacks_t cbs = {on_http_data, on_http_done};
    call->req = yg_http_start(call->client->share->http, &hr, &cbs, call, err);
    return call->req ? YG_OK : err->code ? err->code : YG_ENOMEM;
}

/* A retry, from the loop. */
static void attempt_start(http_call_t *call)
{
    yg_error_t err = {0};
    int rc = attempt_send(call, &err);
    if (rc != YG_OK)
        call_fail(call, rc, 0, "APIConnectionError", false, -1, err.message);
}

/* --- backend vtable --------------------------------------------------------- */

static void *backend_client_new(yg_evloop_t *ev, void *backend_arg)
{
    backend_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->info = backend_arg;
    c->share = share_get(ev);
    if (!c->share) {
        free(c);
        return NULL;
    }
    return c;
}

static void backend_client_destroy(void *state)
{
    backend_client_t *c = state;
    if (!c)
        return;
    share_put(c->share);
    free(c);
}

static void *backend_call_start(void *state, const yg_llm_request_t *req,
                                const yg_llm_callbacks_t *cb, void *cb_arg, yg_error_t *err)
{
    backend_client_t *client = state;
    if (!client) {
        yg_error_set(err, YG_ENOMEM, "HTTP client unavailable on this loop");
        return NULL;
    }
    const yg_llm_provider_info_t *info = client->info;
    const char *key = info->env_key ? getenv(info->env_key) : NULL;
    const char *base = env_or(info->env_base_url, NULL);
    if (info->env_key && (!key || !key[0]) && !base) {
        /* Only a custom base URL (a local server) may go without a key. */
        yg_error_set(err, YG_EINVAL, "%s is not set (or set %s for a server without keys)",
                     info->env_key, info->env_base_url);
        return NULL;
    }
    http_call_t *call = calloc(1, sizeof *call);
    if (!call) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    call->client = client;
    call->info = info;
    call->dialect = info->api == YG_LLM_API_OPENAI ? &yg_llm_openai_dialect
                                                    : &yg_llm_anthropic_dialect;
    call->cb = *cb;
    call->cb_arg = cb_arg;
    call->stream = req->stream;
    call->attempt = 1;
    call->model = strdup(yg_llm_model_for(info, req->model));
    call->url = yg_llm_endpoint_url(info);
    call->sse = req->stream ? yg_sse_new(on_sse_event, call) : NULL;
    call->acc.want_structured = req->schema != NULL;
    call->acc.schema_tool = YG_LLM_SCHEMA_TOOL;
    call->acc.emit = emit_token;
    call->acc.emit_arg = call;
    double total = req->timeout_s > 0 ? req->timeout_s : client->share->timeout_s;
    double connect = client->share->connect_timeout_s < total ? client->share->connect_timeout_s
                                                              : total;
    call->timeout_ms = (long)ceil(total * 1000.0);
    call->connect_timeout_ms = (long)ceil(connect * 1000.0);
    bool ok = call->model && call->url && (call->sse || !req->stream);
    if (ok)
        call->body = call->dialect->build_body(req, call->model, &call->body_len, err);
    if (!ok || !call->body) {
        if (!err || !err->code)
            yg_error_set(err, YG_ENOMEM, "out of memory");
        call_free(call);
        return NULL;
    }
    size_t h = 0;
    call->headers[h++] = "Content-Type: application/json";
    call->headers[h++] = call->stream ? "Accept: text/event-stream" : "Accept: application/json";
    if (info->api == YG_LLM_API_ANTHROPIC) {
        call->headers[h++] = "anthropic-version: " YG_LLM_ANTHROPIC_VERSION;
        if (key && key[0] && asprintf(&call->auth_header, "x-api-key: %s", key) < 0)
            call->auth_header = NULL;
    } else if (key && key[0] && asprintf(&call->auth_header, "Authorization: Bearer %s", key) < 0) {
        call->auth_header = NULL;
    }
    if (call->auth_header)
        call->headers[h++] = call->auth_header;
    call->headers[h] = NULL;
    yg_error_t send_err = {0};
    if (attempt_send(call, &send_err) != YG_OK) {
        yg_error_set(err, send_err.code, "%s", send_err.message);
        call_free(call);
        return NULL;
    }
    return call;
}

static void backend_call_cancel(void *state, void *handle)
{
    (void)state;
    http_call_t *call = handle;
    if (!call || call->cancelled)
        return;
    call->cancelled = true;
    if (call->dispatch_depth > 0) {
        /* Inside our own stream dispatch (a token callback cancelled us):
         * stop the transfer now, free when the dispatch unwinds. */
        yg_http_cancel(call->client->share->http, &call->req);
        return;
    }
    call_free(call);
}

int yg_providers_register_http(yg_providers_t *providers)
{
    if (!providers)
        return YG_EINVAL;
    if (yg_http_global_init() != YG_OK)
        return YG_EIO;
    for (size_t i = 0; i < PROVIDERS_COUNT; i++) {
        yg_provider_backend_t b = {
            .name = PROVIDERS[i].name,
            .client_new = backend_client_new,
            .client_destroy = backend_client_destroy,
            .call_start = backend_call_start,
            .call_cancel = backend_call_cancel,
            .backend_arg = (void *)&PROVIDERS[i],
        };
        int rc = yg_providers_register(providers, &b);
        if (rc != YG_OK)
            return rc;
    }
    return YG_OK;
}
