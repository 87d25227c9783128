/*
 * yg_provider.h - LLM provider interface, registry and the mock provider.
 *
 * Three layers:
 *  - yg_providers_t: the process-wide registry (immutable after setup,
 *    shared by every node actor thread; refcounted atomically).  It holds
 *    the runtime override (e.g. every call goes to "mock"), the mock's
 *    reply script, and the registered backends (HTTP providers plug in here).
 *  - yg_llm_client_t: one per event loop (per node actor thread).  Owns the
 *    per-thread state of every backend (e.g. a curl multi handle) and the
 *    calls in flight.
 *  - yg_llm_call_t: one request.  Completion is ALWAYS asynchronous (never
 *    from inside yg_llm_call_start) and arrives exactly once through
 *    on_done unless the call is cancelled first.
 *
 * Provider resolution (spec 7.7): node provider -> defaults.provider ->
 * prompt `provider` (the loader folds these into node->provider) -> env
 * PROVIDER -> "anthropic".  Model: env <PROVIDER>_MODEL, else the spec 14
 * default.
 */
#ifndef YG_PROVIDER_H
#define YG_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"

typedef struct yg_evloop yg_evloop_t;
typedef struct yg_providers yg_providers_t;
typedef struct yg_llm_client yg_llm_client_t;
typedef struct yg_llm_call yg_llm_call_t;
typedef struct yg_mock yg_mock_t;

#define YG_PROVIDER_DEFAULT "anthropic"
#define YG_PROVIDER_MOCK "mock"

/* One model request.  Everything is borrowed for the duration of
 * yg_llm_call_start (backends copy what they keep). */
typedef struct yg_llm_request {
    const char *provider;        /* resolved provider name (never NULL) */
    const char *model;           /* NULL = yg_provider_model(provider) */
    double temperature;
    const yg_value_t *messages;  /* list of {role, content[, tool_calls][, tool_call_id]} */
    const yg_value_t *schema;    /* JSON Schema (map) for structured output, or NULL */
    const char *schema_name;     /* may be NULL */
    const yg_value_t *tools;     /* list of {name, description, parameters}, or NULL */
    bool stream;                 /* deliver on_token chunks */
    double timeout_s;            /* 0 = backend default */
    const char *prompt_name;     /* the prompt file name (the mock keys on it) */
} yg_llm_request_t;

/* A successful reply; borrowed during on_done. */
typedef struct yg_llm_reply {
    const char *text;              /* "" when the model returned only tool calls */
    const yg_value_t *structured;  /* parsed structured output (map), or NULL */
    const yg_value_t *tool_calls;  /* list of {id, name, args(map)}, or NULL */
    const char *finish_reason;     /* "stop", "tool_calls", ... */
    const char *provider;          /* the provider that answered */
} yg_llm_reply_t;

/* A failed call; borrowed during on_done. */
typedef struct yg_llm_failure {
    int code;                      /* YG_ELLM, YG_ETIMEOUT, YG_EINVAL, ... */
    int http_status;               /* 0 when not an HTTP status failure */
    bool retryable;                /* 429 / 5xx / connection / timeout */
    const char *exception_type;    /* stable name for error records */
    char message[YG_ERROR_MESSAGE_MAX];
} yg_llm_failure_t;

typedef struct yg_llm_callbacks {
    /* Streaming chunk (request.stream only), in order; may be NULL. */
    void (*on_token)(void *arg, const char *text, size_t len);
    /* Exactly one of reply / failure is non-NULL.  The call handle is
     * invalid once this runs (the client frees it afterwards). */
    void (*on_done)(void *arg, const yg_llm_reply_t *reply, const yg_llm_failure_t *failure);
} yg_llm_callbacks_t;

/* --- backends (HTTP providers register here) ---------------------------- */
typedef struct yg_provider_backend {
    const char *name;                                    /* provider name */
    /* Per-loop state, e.g. a curl multi handle driven by `ev`. */
    void *(*client_new)(yg_evloop_t *ev, void *backend_arg);
    void (*client_destroy)(void *client_state);
    /* Start a call; return the backend's call handle or NULL with err.
     * Must complete through cb asynchronously. */
    void *(*call_start)(void *client_state, const yg_llm_request_t *req,
                        const yg_llm_callbacks_t *cb, void *cb_arg, yg_error_t *err);
    /* Abort an in-flight call; no callback afterwards. */
    void (*call_cancel)(void *client_state, void *call);
    void *backend_arg;
} yg_provider_backend_t;

#define YG_PROVIDERS_MAX_BACKENDS 16

/* --- registry ------------------------------------------------------------ */
/* override: NULL, or a provider name every call is routed to ("mock").
 * mock: the mock script (a reference is taken), or NULL (a default mock
 * with no script is created on first use of the mock). */
yg_providers_t *yg_providers_new(const char *override, yg_mock_t *mock);
yg_providers_t *yg_providers_ref(yg_providers_t *self);
void yg_providers_destroy(yg_providers_t **self_p);
/* Register a backend before any client exists (the table is copied). */
int yg_providers_register(yg_providers_t *self, const yg_provider_backend_t *backend);
const char *yg_providers_override(const yg_providers_t *self);
yg_mock_t *yg_providers_mock(yg_providers_t *self);  /* borrowed */

/* --- resolution (spec 7.7, 14) ------------------------------------------- */
/* configured (node/defaults/prompt), else env PROVIDER, else "anthropic".
 * Returns configured itself, a static string, or getenv storage. */
const char *yg_provider_resolve(const char *configured);
/* Is this a provider name of spec 14 (or "mock")? */
bool yg_provider_known(const char *name);
/* env <UPPER(provider)>_MODEL, else the spec 14 default; static/getenv
 * storage; NULL for an unknown provider. */
const char *yg_provider_model(const char *provider);

/* --- per-loop client ----------------------------------------------------- */
yg_llm_client_t *yg_llm_client_new(yg_providers_t *providers, yg_evloop_t *ev);
/* Cancel every call in flight (no callbacks), free backend state. */
void yg_llm_client_destroy(yg_llm_client_t **self_p);
size_t yg_llm_client_active(const yg_llm_client_t *self);
/* Start a call.  NULL only on ENOMEM; every other failure (unknown
 * provider, backend not built, bad request) arrives through on_done. */
yg_llm_call_t *yg_llm_call_start(yg_llm_client_t *self, const yg_llm_request_t *req,
                                 const yg_llm_callbacks_t *cb, void *arg);
/* Abort; no callback afterwards; *call_p = NULL.  NULL-safe. */
void yg_llm_call_cancel(yg_llm_client_t *self, yg_llm_call_t **call_p);

/* --- mock provider (yg_provider_mock.c, docs/mock-provider.md) ----------- */
/* Upper bound on remembered calls in the mock's call log (oldest dropped). */
#define YG_MOCK_LOG_MAX 1024
/* Upper bound on one reply's delay_ms / latency_ms (a typo must not hang a run). */
#define YG_MOCK_MAX_DELAY_MS (10 * 60 * 1000)

/* A mock with no script: deterministic default replies. */
yg_mock_t *yg_mock_new(void);
/* From a script value: {<prompt>: reply | [replies...], default: reply,
 * latency_ms: int}.  Validated here; NULL + err on a bad script. */
yg_mock_t *yg_mock_new_from_value(const yg_value_t *script, yg_error_t *err);
/* From a YAML or JSON file holding the same structure. */
yg_mock_t *yg_mock_new_from_file(const char *path, yg_error_t *err);
yg_mock_t *yg_mock_ref(yg_mock_t *self);
void yg_mock_destroy(yg_mock_t **self_p);
/* Calls made so far for a prompt (NULL = all prompts). Thread-safe. */
int64_t yg_mock_calls(yg_mock_t *self, const char *prompt);
/* A deep copy of the call log: list of {prompt, provider (the one that
 * answered), requested (the provider the request named, before any
 * override), model, temperature, messages, schema: bool, tools: int,
 * stream: bool}. */
yg_value_t *yg_mock_log(yg_mock_t *self);
/* Forget counts, cursors and the log. */
void yg_mock_reset(yg_mock_t *self);

/* Internal (used by yg_provider.c): choose the next reply for req, count
 * the call and log it.  Returns a new reference to the reply spec (a copy
 * owned by the caller's thread) and the delay to apply. */
yg_value_t *yg_mock_next_reply(yg_mock_t *self, const yg_llm_request_t *req,
                               const char *provider, int64_t *delay_ms);

#endif
