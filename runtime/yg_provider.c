/*
 * yg_provider.c - provider registry, resolution and the per-loop client
 * that dispatches calls to the mock or to a registered backend.
 */
#include "yg_provider.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_exec.h"

/* Spec 14 providers and their default models. */
static const struct {
    const char *name;
    const char *env_model;
    const char *model;
} provider_table[] = {
    {"anthropic", "ANTHROPIC_MODEL", "claude-haiku-4-5"},
    {"mistral", "MISTRAL_MODEL", "mistral-large-latest"},
    {"openai", "OPENAI_MODEL", "gpt-4o"},
    {"xai", "XAI_MODEL", "grok-4-1-fast-reasoning"},
    {"lmstudio", "LMSTUDIO_MODEL", "qwen2.5-coder-7b-instruct"},
    {"replicate", "REPLICATE_MODEL", "ibm-granite/granite-4.0-h-small"},
    {"mock", "MOCK_MODEL", "mock"},
};
#define PROVIDER_COUNT (sizeof provider_table / sizeof provider_table[0])

struct yg_providers {
    atomic_int refs;
    char *override;
    pthread_mutex_t lock;   /* guards lazy creation of the default mock */
    yg_mock_t *mock;
    yg_provider_backend_t backends[YG_PROVIDERS_MAX_BACKENDS];
    size_t backends_count;
};

typedef enum { CALL_MOCK = 0, CALL_BACKEND, CALL_FAIL } call_kind_t;

struct yg_llm_call {
    yg_llm_client_t *client;
    call_kind_t kind;
    size_t backend;          /* CALL_BACKEND */
    void *backend_call;
    yg_timer_t *timer;       /* CALL_MOCK / CALL_FAIL delivery */
    yg_value_t *spec;        /* CALL_MOCK: the reply spec */
    bool stream;
    bool timed_out;          /* CALL_MOCK: delay exceeded the request timeout */
    double timeout_s;
    char *provider;
    yg_llm_failure_t failure; /* CALL_FAIL */
    yg_llm_callbacks_t cb;
    void *arg;
    yg_llm_call_t *prev;
    yg_llm_call_t *next;
};

struct yg_llm_client {
    yg_providers_t *providers;
    yg_evloop_t *ev;
    void *backend_state[YG_PROVIDERS_MAX_BACKENDS];
    yg_llm_call_t *calls;
    size_t active;
};

/* --- registry ------------------------------------------------------------ */

yg_providers_t *yg_providers_new(const char *override, yg_mock_t *mock)
{
    yg_providers_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    atomic_init(&self->refs, 1);
    pthread_mutex_init(&self->lock, NULL);
    if (override && override[0] && !(self->override = strdup(override))) {
        pthread_mutex_destroy(&self->lock);
        free(self);
        return NULL;
    }
    self->mock = mock ? yg_mock_ref(mock) : NULL;
    return self;
}

yg_providers_t *yg_providers_ref(yg_providers_t *self)
{
    if (self)
        atomic_fetch_add(&self->refs, 1);
    return self;
}

void yg_providers_destroy(yg_providers_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_providers_t *self = *self_p;
    *self_p = NULL;
    if (atomic_fetch_sub(&self->refs, 1) != 1)
        return;
    yg_mock_destroy(&self->mock);
    pthread_mutex_destroy(&self->lock);
    free(self->override);
    free(self);
}

int yg_providers_register(yg_providers_t *self, const yg_provider_backend_t *backend)
{
    if (!self || !backend || !backend->name || !backend->call_start || !backend->call_cancel)
        return YG_EINVAL;
    for (size_t i = 0; i < self->backends_count; i++)
        if (strcmp(self->backends[i].name, backend->name) == 0) {
            self->backends[i] = *backend;
            return YG_OK;
        }
    if (self->backends_count == YG_PROVIDERS_MAX_BACKENDS)
        return YG_ELIMIT;
    self->backends[self->backends_count++] = *backend;
    return YG_OK;
}

const char *yg_providers_override(const yg_providers_t *self)
{
    return self ? self->override : NULL;
}

yg_mock_t *yg_providers_mock(yg_providers_t *self)
{
    if (!self)
        return NULL;
    pthread_mutex_lock(&self->lock);
    if (!self->mock)
        self->mock = yg_mock_new();
    yg_mock_t *mock = self->mock;
    pthread_mutex_unlock(&self->lock);
    return mock;
}

/* --- resolution ---------------------------------------------------------- */

const char *yg_provider_resolve(const char *configured)
{
    if (configured && configured[0])
        return configured;
    const char *env = getenv("PROVIDER");
    if (env && env[0])
        return env;
    return YG_PROVIDER_DEFAULT;
}

bool yg_provider_known(const char *name)
{
    for (size_t i = 0; name && i < PROVIDER_COUNT; i++)
        if (strcmp(provider_table[i].name, name) == 0)
            return true;
    return false;
}

const char *yg_provider_model(const char *provider)
{
    for (size_t i = 0; provider && i < PROVIDER_COUNT; i++) {
        if (strcmp(provider_table[i].name, provider) == 0) {
            const char *env = getenv(provider_table[i].env_model);
            return env && env[0] ? env : provider_table[i].model;
        }
    }
    return NULL;
}

/* --- client -------------------------------------------------------------- */

yg_llm_client_t *yg_llm_client_new(yg_providers_t *providers, yg_evloop_t *ev)
{
    if (!providers || !ev)
        return NULL;
    yg_llm_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->providers = yg_providers_ref(providers);
    self->ev = ev;
    for (size_t i = 0; i < providers->backends_count; i++) {
        const yg_provider_backend_t *b = &providers->backends[i];
        if (b->client_new)
            self->backend_state[i] = b->client_new(ev, b->backend_arg);
    }
    return self;
}

static void call_unlink_free(yg_llm_call_t *call)
{
    yg_llm_client_t *client = call->client;
    if (call->prev)
        call->prev->next = call->next;
    else
        client->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    client->active--;
    yg_evloop_cancel(client->ev, &call->timer);
    yg_value_destroy(&call->spec);
    free(call->provider);
    free(call);
}

void yg_llm_call_cancel(yg_llm_client_t *self, yg_llm_call_t **call_p)
{
    if (!self || !call_p || !*call_p)
        return;
    yg_llm_call_t *call = *call_p;
    *call_p = NULL;
    if (call->kind == CALL_BACKEND && call->backend_call) {
        const yg_provider_backend_t *b = &self->providers->backends[call->backend];
        b->call_cancel(self->backend_state[call->backend], call->backend_call);
    }
    call_unlink_free(call);
}

void yg_llm_client_destroy(yg_llm_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_llm_client_t *self = *self_p;
    while (self->calls) {
        yg_llm_call_t *call = self->calls;
        yg_llm_call_cancel(self, &call);
    }
    for (size_t i = 0; i < self->providers->backends_count; i++) {
        const yg_provider_backend_t *b = &self->providers->backends[i];
        if (b->client_destroy && self->backend_state[i])
            b->client_destroy(self->backend_state[i]);
    }
    yg_providers_destroy(&self->providers);
    free(self);
    *self_p = NULL;
}

size_t yg_llm_client_active(const yg_llm_client_t *self)
{
    return self ? self->active : 0;
}

/* Complete a call: run on_done, then free the call. */
static void call_finish(yg_llm_call_t *call, const yg_llm_reply_t *reply,
                        const yg_llm_failure_t *failure)
{
    yg_llm_callbacks_t cb = call->cb;
    void *arg = call->arg;
    /* Unlink first: on_done may start new calls or destroy the client's owner. */
    yg_value_t *spec = call->spec;
    call->spec = NULL;
    char *provider = call->provider;
    call->provider = NULL;
    call_unlink_free(call);
    if (reply) {
        yg_llm_reply_t r = *reply;
        r.provider = provider;
        cb.on_done(arg, &r, NULL);
    } else {
        cb.on_done(arg, NULL, failure);
    }
    yg_value_destroy(&spec);
    free(provider);
}

static void call_on_fail_timer(void *arg)
{
    yg_llm_call_t *call = arg;
    call->timer = NULL;
    yg_llm_failure_t failure = call->failure;
    call_finish(call, NULL, &failure);
}

/* --- mock replies --------------------------------------------------------- */

static const char *const directive_keys[] = {"content", "tool_calls", "error", "tokens",
                                             "structured", "finish_reason"};

static bool mock_is_directive(const yg_value_t *spec)
{
    if (yg_value_type(spec) != YG_MAP || yg_map_size(spec) == 0)
        return false;
    for (size_t i = 0; i < yg_map_size(spec); i++) {
        bool known = false;
        for (size_t j = 0; j < sizeof directive_keys / sizeof directive_keys[0]; j++)
            known = known || strcmp(yg_map_key_at(spec, i), directive_keys[j]) == 0;
        if (!known)
            return false;
    }
    return true;
}

static char *text_of(const yg_value_t *v)
{
    if (yg_value_type(v) == YG_STR)
        return strdup(yg_value_str(v));
    return yg_json_encode(v, false, NULL);
}

static void mock_fail(yg_llm_call_t *call, const yg_value_t *error)
{
    yg_llm_failure_t f;
    memset(&f, 0, sizeof f);
    int64_t status = yg_value_type(error) == YG_MAP ? yg_value_int(yg_map_get(error, "status")) : 0;
    const char *msg = yg_value_type(error) == YG_MAP ? yg_value_str(yg_map_get(error, "message"))
                                                     : yg_value_str(error);
    f.code = YG_ELLM;
    f.http_status = (int)status;
    f.retryable = status == 0 || status == 429 || status >= 500;
    f.exception_type = status == 429 ? "RateLimitError"
                       : status >= 500 ? "InternalServerError" : "APIError";
    if (status)
        snprintf(f.message, sizeof f.message, "mock provider error %lld: %s", (long long)status,
                 msg ? msg : "injected failure");
    else
        snprintf(f.message, sizeof f.message, "mock provider error: %s",
                 msg ? msg : "injected failure");
    call_finish(call, NULL, &f);
}

/* Split text into word tokens: each chunk is a word plus the whitespace
 * after it, so the chunks concatenate to the text. */
static void mock_stream_words(yg_llm_call_t *call, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        while (*p && isspace((unsigned char)*p))
            p++;
        call->cb.on_token(call->arg, start, (size_t)(p - start));
    }
}

static void mock_deliver(yg_llm_call_t *call)
{
    const yg_value_t *spec = call->spec;
    if (call->timed_out) {
        yg_llm_failure_t f;
        memset(&f, 0, sizeof f);
        f.code = YG_ETIMEOUT;
        f.retryable = true;
        f.exception_type = "APITimeoutError";
        snprintf(f.message, sizeof f.message, "mock provider timed out after %g seconds",
                 call->timeout_s);
        call_finish(call, NULL, &f);
        return;
    }
    const yg_value_t *structured = NULL;
    const yg_value_t *tool_calls = NULL;
    const yg_value_t *tokens = NULL;
    const char *finish = "stop";
    char *text = NULL;
    if (mock_is_directive(spec)) {
        if (yg_map_has(spec, "error")) {
            mock_fail(call, yg_map_get(spec, "error"));
            return;
        }
        structured = yg_map_get(spec, "structured");
        tool_calls = yg_map_get(spec, "tool_calls");
        tokens = yg_map_get(spec, "tokens");
        if (yg_value_str(yg_map_get(spec, "finish_reason")))
            finish = yg_value_str(yg_map_get(spec, "finish_reason"));
        else if (yg_list_size(tool_calls) > 0)
            finish = "tool_calls";
        if (yg_map_has(spec, "content")) {
            text = text_of(yg_map_get(spec, "content"));
        } else if (yg_value_type(tokens) == YG_LIST) {
            size_t len = 0;
            for (size_t i = 0; i < yg_list_size(tokens); i++)
                len += yg_value_strlen(yg_list_get(tokens, i));
            text = calloc(1, len + 1);
            for (size_t i = 0; text && i < yg_list_size(tokens); i++)
                strcat(text, yg_value_str(yg_list_get(tokens, i)) ? yg_value_str(yg_list_get(tokens, i)) : "");
        } else if (structured) {
            text = text_of(structured);
        } else {
            text = strdup("");
        }
    } else if (yg_value_type(spec) == YG_MAP) {
        structured = spec;
        text = text_of(spec);
    } else {
        text = text_of(spec);
    }
    if (!text) {
        yg_llm_failure_t f;
        memset(&f, 0, sizeof f);
        f.code = YG_ENOMEM;
        f.exception_type = "MemoryError";
        snprintf(f.message, sizeof f.message, "mock provider: out of memory");
        call_finish(call, NULL, &f);
        return;
    }
    if (call->stream && call->cb.on_token) {
        if (yg_value_type(tokens) == YG_LIST) {
            for (size_t i = 0; i < yg_list_size(tokens); i++) {
                const yg_value_t *t = yg_list_get(tokens, i);
                if (yg_value_strlen(t) > 0)
                    call->cb.on_token(call->arg, yg_value_str(t), yg_value_strlen(t));
            }
        } else {
            mock_stream_words(call, text);
        }
    }
    yg_llm_reply_t reply = {text, structured, yg_list_size(tool_calls) ? tool_calls : NULL,
                            finish, NULL};
    call_finish(call, &reply, NULL);
    free(text);
}

static void call_on_mock_timer(void *arg)
{
    yg_llm_call_t *call = arg;
    call->timer = NULL;
    mock_deliver(call);
}

/* --- dispatch ------------------------------------------------------------- */

static void call_on_backend_token(void *arg, const char *text, size_t len)
{
    yg_llm_call_t *call = arg;
    if (call->stream && call->cb.on_token)
        call->cb.on_token(call->arg, text, len);
}

static void call_on_backend_done(void *arg, const yg_llm_reply_t *reply,
                                 const yg_llm_failure_t *failure)
{
    yg_llm_call_t *call = arg;
    call->backend_call = NULL; /* the backend is done with it */
    call_finish(call, reply, failure);
}

static void call_set_failure(yg_llm_call_t *call, int code, const char *exception_type,
                             const char *fmt, const char *a, const char *b)
{
    call->kind = CALL_FAIL;
    call->failure.code = code;
    call->failure.retryable = false;
    call->failure.exception_type = exception_type;
    snprintf(call->failure.message, sizeof call->failure.message, fmt, a, b);
}

yg_llm_call_t *yg_llm_call_start(yg_llm_client_t *self, const yg_llm_request_t *req,
                                 const yg_llm_callbacks_t *cb, void *arg)
{
    if (!self || !req || !cb || !cb->on_done)
        return NULL;
    yg_llm_call_t *call = calloc(1, sizeof *call);
    if (!call)
        return NULL;
    const char *override = self->providers->override;
    const char *provider = override ? override : yg_provider_resolve(req->provider);
    call->client = self;
    call->cb = *cb;
    call->arg = arg;
    call->stream = req->stream;
    call->timeout_s = req->timeout_s;
    call->provider = strdup(provider);
    call->next = self->calls;
    if (self->calls)
        self->calls->prev = call;
    self->calls = call;
    self->active++;
    if (!call->provider) {
        call_unlink_free(call);
        return NULL;
    }
    int64_t delay = 0;
    size_t backend = SIZE_MAX;
    for (size_t i = 0; i < self->providers->backends_count; i++)
        if (strcmp(self->providers->backends[i].name, provider) == 0)
            backend = i;

    if (strcmp(provider, YG_PROVIDER_MOCK) == 0) {
        call->kind = CALL_MOCK;
        yg_mock_t *mock = yg_providers_mock(self->providers);
        call->spec = mock ? yg_mock_next_reply(mock, req, provider, &delay) : NULL;
        if (!call->spec) {
            call_unlink_free(call);
            return NULL;
        }
        if (req->timeout_s > 0 && (double)delay > req->timeout_s * 1000.0) {
            call->timed_out = true;
            delay = (int64_t)(req->timeout_s * 1000.0);
        }
    } else if (backend != SIZE_MAX) {
        const yg_provider_backend_t *b = &self->providers->backends[backend];
        yg_error_t err = {0};
        yg_llm_request_t copy = *req;
        copy.provider = provider;
        call->kind = CALL_BACKEND;
        call->backend = backend;
        /* The backend reports to our trampolines so the call record is
         * freed when it completes. */
        static const yg_llm_callbacks_t trampolines = {call_on_backend_token,
                                                       call_on_backend_done};
        call->backend_call =
            b->call_start(self->backend_state[backend], &copy, &trampolines, call, &err);
        if (!call->backend_call)
            call_set_failure(call, err.code ? err.code : YG_ELLM, "APIError",
                             "provider '%.64s' failed to start the call: %.900s", provider,
                             err.message);
        else
            return call;
    } else if (yg_provider_known(provider)) {
        call_set_failure(call, YG_ELLM, "ProviderUnavailable",
                         "provider '%s' needs the HTTP client (not built yet); use --provider "
                         "mock%s",
                         provider, "");
    } else {
        call_set_failure(call, YG_EINVAL, "ValueError",
                         "Invalid provider: %s. Must be one of: anthropic, mistral, openai, xai, "
                         "lmstudio, replicate, mock%s",
                         provider, "");
    }
    call->timer = yg_evloop_timer(self->ev, delay,
                                  call->kind == CALL_MOCK ? call_on_mock_timer : call_on_fail_timer,
                                  call);
    if (!call->timer) {
        call_unlink_free(call);
        return NULL;
    }
    return call;
}
