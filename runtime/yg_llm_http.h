/*
 * yg_llm_http.h - HTTP LLM providers (internal): the provider table, the
 * reply accumulator shared by the two wire dialects (OpenAI chat
 * completions in yg_llm_openai.c, Anthropic messages in
 * yg_llm_anthropic.c), and the backends registered with yg_providers_t
 * (yg_llm_http.c: one yg_http_t per loop, retries, timeouts, errors).
 */
#ifndef YG_LLM_HTTP_H
#define YG_LLM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"
#include "yg_provider.h"
#include "yg_sse.h"

/* --- defaults and bounds (spec 7.8, 14) ---------------------------------- */
#define YG_LLM_DEFAULT_MAX_RETRIES 3        /* attempts in total (LLM_MAX_RETRIES) */
#define YG_LLM_MAX_RETRIES_CEILING 20       /* a typo cannot retry forever */
#define YG_LLM_DEFAULT_RETRY_DELAY_S 1.0    /* LLM_RETRY_DELAY */
#define YG_LLM_DEFAULT_RETRY_MAX_DELAY_S 30.0 /* LLM_RETRY_MAX_DELAY */
#define YG_LLM_RETRY_AFTER_MAX_S 120.0      /* longest Retry-After honoured */
#define YG_LLM_DEFAULT_TIMEOUT_S 600.0      /* LLM_TIMEOUT: whole request, as the SDKs */
#define YG_LLM_DEFAULT_CONNECT_TIMEOUT_S 10.0 /* LLM_CONNECT_TIMEOUT */
#define YG_LLM_ANTHROPIC_VERSION "2023-06-01"
#define YG_LLM_ANTHROPIC_MAX_TOKENS 4096    /* ANTHROPIC_MAX_TOKENS overrides */
#define YG_LLM_SCHEMA_TOOL "structured_output" /* default forced-tool / schema name */
#define YG_LLM_MAX_TOOL_CALLS 128           /* tool calls accepted in one reply */

typedef enum { YG_LLM_API_OPENAI = 0, YG_LLM_API_ANTHROPIC } yg_llm_api_t;

/* One row of the provider table. */
typedef struct yg_llm_provider_info {
    const char *name;          /* provider name, e.g. "openai" */
    yg_llm_api_t api;
    const char *base_url;      /* default endpoint base */
    const char *env_base_url;  /* e.g. "OPENAI_BASE_URL" */
    const char *env_key;       /* e.g. "OPENAI_API_KEY"; NULL = no key */
    const char *env_model;     /* e.g. "OPENAI_MODEL" */
    const char *default_model;
} yg_llm_provider_info_t;

/* The HTTP providers, or NULL for another name. */
const yg_llm_provider_info_t *yg_llm_provider_info(const char *name);
size_t yg_llm_provider_count(void);
const yg_llm_provider_info_t *yg_llm_provider_at(size_t index);

/* The endpoint URL: base (env or default) + the dialect's path, keeping a
 * query string of the base ("http://h/v1?x=1" -> "http://h/v1/chat/completions?x=1").
 * malloc'd. */
char *yg_llm_endpoint_url(const yg_llm_provider_info_t *info);
/* The model: req_model, else env, else the table default (static/getenv storage). */
const char *yg_llm_model_for(const yg_llm_provider_info_t *info, const char *req_model);

/* --- reply accumulator ---------------------------------------------------- */
/* A tool call being assembled from stream pieces. */
typedef struct yg_llm_tool_part {
    int index;
    char *id;
    char *name;
    char *args;      /* JSON text so far */
    size_t args_len;
} yg_llm_tool_part_t;

typedef struct yg_llm_acc {
    /* request facts the parsers need */
    bool want_structured;
    const char *schema_tool;   /* Anthropic forced-tool name */
    /* token sink (streaming); chunks are non-empty and in order */
    void (*emit)(void *arg, const char *text, size_t len);
    void *emit_arg;
    bool emitted;              /* some token was delivered */
    /* reply */
    char *text;
    size_t text_len, text_cap;
    yg_llm_tool_part_t *tools;
    size_t tools_count;
    char finish_reason[32];
    yg_value_t *structured;    /* Anthropic: the forced tool's input */
    bool done;                 /* [DONE] / message_stop seen */
    /* a failure detected in the body or stream */
    int fail_code;             /* 0 = none */
    const char *fail_type;     /* exception type name */
    bool fail_retryable;
    char fail_message[512];
} yg_llm_acc_t;

void yg_llm_acc_reset(yg_llm_acc_t *acc);   /* free the reply, keep request facts */
int yg_llm_acc_text(yg_llm_acc_t *acc, const char *s, size_t len, bool emit);
yg_llm_tool_part_t *yg_llm_acc_tool(yg_llm_acc_t *acc, int index);
int yg_llm_acc_fail(yg_llm_acc_t *acc, int code, const char *type, bool retryable,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Parse every tool part's arguments into a list of {id, name, args}; NULL
 * when there is none; sets the accumulator's failure on bad JSON. */
yg_value_t *yg_llm_acc_tool_calls(yg_llm_acc_t *acc);
void yg_llm_acc_free(yg_llm_acc_t *acc);

/* The provider's error message from an error body (OpenAI {"error":
 * {"message"}} / Anthropic {"type":"error","error":{"message"}}), else the
 * body's start with control characters replaced; written to out. */
void yg_llm_error_message(const char *body, size_t len, char *out, size_t cap);

/* --- dialects --------------------------------------------------------------- */
typedef struct yg_llm_dialect {
    /* Request JSON; malloc'd, NULL + err on a bad request. */
    char *(*build_body)(const yg_llm_request_t *req, const char *model, size_t *len,
                        yg_error_t *err);
    /* Non-streamed 2xx body -> acc (text, tools, finish, structured). */
    void (*parse_reply)(yg_llm_acc_t *acc, const char *body, size_t len);
    /* One SSE event -> acc; returns non-zero to stop the stream (failure set). */
    int (*stream_event)(yg_llm_acc_t *acc, const yg_sse_event_t *ev);
} yg_llm_dialect_t;

extern const yg_llm_dialect_t yg_llm_openai_dialect;
extern const yg_llm_dialect_t yg_llm_anthropic_dialect;

/* Shared by the dialects: messages with {role, content, tool_calls,
 * tool_call_id}; returns the content as text ("" for null / non-text). */
const char *yg_llm_msg_text(const yg_value_t *msg);
/* A schema name acceptable to both APIs ([A-Za-z0-9_-]{1,64}). */
void yg_llm_schema_name(const char *name, char *out, size_t cap);

/* --- registration ----------------------------------------------------------- */
/* Register every HTTP provider of the table (openai, mistral, deepseek,
 * xai, lmstudio, anthropic) with the registry.  All of them share one
 * yg_http_t (one curl multi handle) per event loop.  Returns YG_OK or the
 * first registration error. */
int yg_providers_register_http(yg_providers_t *providers);

#endif
