/*
 * yg_prompt_api.h - run one prompt file without a graph: the C form of the
 * original's execute_prompt_async, execute_prompt_streaming and
 * execute_prompts_concurrent (spec 11), plus blocking wrappers.
 *
 * A prompt executor (yg_prompt_exec_t) lives on a CZMQ zloop that the
 * caller runs on its own thread; model calls are non-blocking HTTP on that
 * loop, and every callback runs from it.  Completion is never synchronous:
 * even an immediate failure (prompt not found, missing variable) arrives
 * through the callback from the loop.  The blocking wrappers create a
 * private loop and run it until the result is in.
 *
 * Prompt lookup: a name is resolved as spec 1.4 steps 4-5 (the async API
 * of the original ignores prompts_dir): `prompts/<name>.yaml` under the
 * working directory, then `<dir>/prompts/<base>.yaml` for a name with a
 * slash.  A path to an existing .yaml/.yml file is used as is, and
 * opts.prompts_dir, when set, is searched first (an extension).
 *
 * Result: the reply text as a string value, or, when the prompt has a
 * `schema`/`output_schema`, the validated object (a map, defaults filled
 * in).  The streaming form always returns text (no structured output in
 * that mode, spec 10).
 */
#ifndef YG_PROMPT_API_H
#define YG_PROMPT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yg_error.h"
#include "yg_value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct yg_prompt_exec yg_prompt_exec_t;

/* Per-call options; zero-initialise for the defaults. */
typedef struct yg_prompt_opts {
    const char *provider;    /* NULL: prompt file `provider` -> env PROVIDER -> "anthropic" */
    bool has_temperature;    /* false: 0.7 */
    double temperature;
    const char *prompts_dir; /* searched before the default lookup; NULL = none */
    double timeout_s;        /* whole request; 0 = provider default (LLM_TIMEOUT) */
} yg_prompt_opts_t;

/* Executor options; zero-initialise for the defaults. */
typedef struct yg_prompt_exec_opts {
    const char *provider_override; /* every call goes to this provider (e.g. "mock") */
    const char *mock_file;         /* mock reply script (YAML/JSON), or NULL */
} yg_prompt_exec_opts_t;

/* The outcome of one prompt; borrowed during the callback. */
typedef struct yg_prompt_result {
    int64_t id;            /* the id the start call returned */
    int code;              /* YG_OK, or the failure's yg_code_t */
    const yg_value_t *value; /* text (string) or structured object (map); NULL on failure */
    yg_error_t error;      /* failure message (names provider, model, status) */
} yg_prompt_result_t;

typedef void(yg_prompt_done_fn)(const yg_prompt_result_t *result, void *arg);
/* A streamed chunk: non-empty, in order; the chunks concatenate to the text. */
typedef void(yg_prompt_token_fn)(const char *text, size_t len, void *arg);
/* Concurrent execution: results is a list in input order (code YG_OK), or
 * NULL with the first failure (the other calls are cancelled). */
typedef void(yg_prompts_done_fn)(int code, const yg_value_t *results, const yg_error_t *error,
                                 void *arg);

/* One entry of a concurrent batch (all borrowed). */
typedef struct yg_prompt_spec {
    const char *prompt;
    const yg_value_t *vars;        /* map, or NULL */
    const yg_prompt_opts_t *opts;  /* NULL = defaults */
} yg_prompt_spec_t;

/* An executor on `zloop` (a CZMQ zloop_t *, run by the caller).  NULL with
 * err on failure. */
yg_prompt_exec_t *yg_prompt_exec_new(void *zloop, const yg_prompt_exec_opts_t *opts,
                                     yg_error_t *err);
/* Cancel everything in flight (no callbacks) and free.  NULL-safe.  Not
 * from inside one of its callbacks. */
void yg_prompt_exec_destroy(yg_prompt_exec_t **self_p);
/* Calls in flight. */
size_t yg_prompt_exec_active(const yg_prompt_exec_t *self);

/* Render `prompt` with `vars` (borrowed), call the model, report through
 * done.  Returns an id > 0, or a negative yg_code_t (no callback then) for
 * bad arguments or out of memory. */
int64_t yg_prompt_execute_async(yg_prompt_exec_t *self, const char *prompt,
                                const yg_value_t *vars, const yg_prompt_opts_t *opts,
                                yg_prompt_done_fn *done, void *arg);
/* The same, streaming the reply's tokens to on_token as they arrive. */
int64_t yg_prompt_stream_async(yg_prompt_exec_t *self, const char *prompt, const yg_value_t *vars,
                               const yg_prompt_opts_t *opts, yg_prompt_token_fn *on_token,
                               void *token_arg, yg_prompt_done_fn *done, void *arg);
/* Run n prompts concurrently; one callback with the results in input order.
 * The first failure fails the batch (like the original). */
int64_t yg_prompts_execute_concurrent_async(yg_prompt_exec_t *self, const yg_prompt_spec_t *specs,
                                            size_t n, yg_prompts_done_fn *done, void *arg);
/* Cancel a call or batch by id: no callback afterwards.  YG_ENOTFOUND when
 * it already completed. */
int yg_prompt_cancel(yg_prompt_exec_t *self, int64_t id);

/* Blocking wrappers (a private loop on the calling thread).  On YG_OK
 * *result is a new reference (yg_value_destroy). */
int yg_prompt_execute(const char *prompt, const yg_value_t *vars, const yg_prompt_opts_t *opts,
                      yg_value_t **result, yg_error_t *err);
int yg_prompt_stream(const char *prompt, const yg_value_t *vars, const yg_prompt_opts_t *opts,
                     yg_prompt_token_fn *on_token, void *token_arg, yg_value_t **result,
                     yg_error_t *err);
/* *results: a list in input order. */
int yg_prompts_execute_concurrent(const yg_prompt_spec_t *specs, size_t n, yg_value_t **results,
                                  yg_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
