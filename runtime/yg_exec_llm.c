/*
 * yg_exec_llm.c - llm and router nodes, and map sub-nodes built as such
 * (spec 4.1-4.4, 7.2, 7.3).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_exec_int.h"
#include "yg_expr.h"
#include "yg_schema.h"

typedef struct llm_exec {
    yg_value_t *counts;      /* _loop_counts after this execution */
    yg_value_t *messages;    /* rendered request, NULL when rendering failed */
    const yg_value_t *schema; /* borrowed (graph or the static GenericReport) */
    int attempt;             /* 1 = first call */
    int retries_left;
    bool on_fallback;
} llm_exec_t;

static pthread_once_t generic_report_once = PTHREAD_ONCE_INIT;
static yg_value_t *generic_report_schema;

static void generic_report_init(void)
{
    generic_report_schema = yg_schema_generic_report();
}

static void llm_exec_free(yg_task_t *t)
{
    llm_exec_t *x = t->exec;
    yg_value_destroy(&x->counts);
    yg_value_destroy(&x->messages);
    free(x);
    t->exec = NULL;
}

/* {current_step, _loop_counts} */
static yg_value_t *llm_bookkeeping(yg_task_t *t)
{
    llm_exec_t *x = t->exec;
    yg_value_t *u = exec_update_new(t);
    yg_map_set(u, "_loop_counts", yg_value_copy(x->counts));
    return u;
}

/* Spec 7.2 (plus the map item variable, spec 4.5). */
static yg_value_t *llm_variables(yg_task_t *t, yg_error_t *err)
{
    const yg_node_t *node = t->node;
    yg_value_t *vars = yg_map_new();
    if (!vars)
        return NULL;
    size_t n = yg_map_size(node->variables);
    if (n == 0 && !node->is_map_sub) {
        for (size_t i = 0; i < yg_map_size(t->state); i++) {
            const char *key = yg_map_key_at(t->state, i);
            const yg_value_t *v = yg_map_value_at(t->state, i);
            if (key[0] == '_' || yg_value_is_null(v) || strcmp(key, YG_INTERRUPT_PAYLOAD_KEY) == 0)
                continue;
            yg_map_setn(vars, key, yg_map_keylen_at(t->state, i), yg_value_copy(v));
        }
        return vars;
    }
    for (size_t i = 0; i < n; i++) {
        yg_value_t *v = node->variable_exprs
                            ? yg_vexpr_eval(node->variable_exprs[i], t->state, err)
                            : yg_value_copy(yg_map_value_at(node->variables, i));
        if (!v) {
            yg_value_destroy(&vars);
            return NULL;
        }
        yg_map_setn(vars, yg_map_key_at(node->variables, i),
                    yg_map_keylen_at(node->variables, i), v);
    }
    /* The sub-node always receives its item as `<as>` (the loader may have
     * added the entry already). */
    if (node->is_map_sub && t->map_node && t->map_node->as && !yg_map_has(vars, t->map_node->as))
        yg_map_set(vars, t->map_node->as, yg_value_copy(yg_map_get(t->state, t->map_node->as)));
    return vars;
}

/* Spec 4.2 route choice on a structured result. */
static const char *router_target(const yg_node_t *node, const yg_value_t *result)
{
    const yg_value_t *label = NULL;
    if (yg_value_type(result) == YG_MAP) {
        label = yg_map_get(result, "tone");
        if (!yg_value_truthy(label))
            label = yg_map_get(result, "intent");
    }
    const char *text = yg_value_str(label);
    if (text && yg_value_str(yg_map_get(node->routes, text)))
        return yg_value_str(yg_map_get(node->routes, text));
    if (node->default_route)
        return node->default_route;
    return yg_value_str(yg_map_value_at(node->routes, 0));
}

/* Record a failure per on_error after the last attempt (spec 4.3). */
static void llm_give_up(yg_task_t *t, int code, const char *exception_type, const char *message,
                        bool retryable)
{
    const yg_node_t *node = t->node;
    if (node->on_error == YG_ON_ERROR_SKIP) {
        exec_log(t, "node '%s' failed and was skipped (on_error: skip): %s", node->name, message);
        exec_finish_ok(t, llm_bookkeeping(t));
        return;
    }
    if (node->on_error == YG_ON_ERROR_FAIL) {
        exec_finish_error(t, code, exception_type, "%s", message);
        return;
    }
    yg_value_t *u = llm_bookkeeping(t);
    yg_value_t *errors = yg_list_new();
    yg_list_append(errors, yg_error_record(yg_error_type_for_code(code), message, node->name,
                                           retryable, exception_type));
    yg_map_set(u, "errors", errors);
    exec_finish_ok(t, u);
}

static void llm_attempt(yg_task_t *t);

/* One attempt failed: decide whether another one follows. */
static void llm_attempt_failed(yg_task_t *t, int code, const char *exception_type,
                               const char *message, bool retryable)
{
    llm_exec_t *x = t->exec;
    const yg_node_t *node = t->node;
    /* Prompt/template failures repeat identically on every attempt. */
    bool repeatable = x->messages != NULL;
    if (repeatable && node->on_error == YG_ON_ERROR_RETRY && x->retries_left > 0) {
        x->retries_left--;
        llm_attempt(t);
        return;
    }
    if (repeatable && node->on_error == YG_ON_ERROR_FALLBACK && node->fallback_provider
        && !x->on_fallback) {
        x->on_fallback = true;
        llm_attempt(t);
        return;
    }
    llm_give_up(t, code, exception_type, message, retryable);
}

static void llm_on_reply(yg_task_t *t, const yg_llm_reply_t *reply,
                         const yg_llm_failure_t *failure)
{
    llm_exec_t *x = t->exec;
    const yg_node_t *node = t->node;
    if (failure) {
        llm_attempt_failed(t, failure->code, failure->exception_type, failure->message,
                           failure->retryable);
        return;
    }
    bool first = x->attempt == 1;
    yg_value_t *result = NULL;
    if (x->schema) {
        yg_value_t *parsed = NULL;
        if (reply->structured) {
            parsed = yg_value_copy(reply->structured);
        } else {
            yg_value_t *text = yg_str_new(reply->text ? reply->text : "");
            parsed = yg_json_extract(text);
            yg_value_destroy(&text);
        }
        yg_error_t err = {0};
        int rc = yg_value_type(parsed) == YG_MAP
                     ? yg_schema_validate(x->schema, parsed, &result, &err)
                     : yg_error_set(&err, YG_ESCHEMA,
                                    "structured output invalid: the reply is not a JSON object");
        yg_value_destroy(&parsed);
        if (rc) {
            llm_attempt_failed(t, YG_ESCHEMA, "ValidationError", err.message, false);
            return;
        }
    } else {
        result = yg_str_new(reply->text ? reply->text : "");
        if (first && node->parse_json) {
            yg_value_t *extracted = yg_json_extract(result);
            yg_value_destroy(&result);
            result = extracted;
        }
    }
    yg_value_t *u = llm_bookkeeping(t);
    if (node->type == YG_NODE_ROUTER && yg_map_size(node->routes) > 0) {
        if (first) {
            const char *target = router_target(node, x->schema ? result : NULL);
            if (target)
                yg_map_set(u, "_route", yg_str_new(target));
        } else {
            exec_log(t,
                     "router '%s' succeeded only after on_error %s: _route is not updated "
                     "(original behaviour)",
                     node->name, x->on_fallback ? "fallback" : "retry");
        }
    }
    yg_map_set(u, node->state_key, result);
    exec_finish_ok(t, u);
}

static void llm_attempt(yg_task_t *t)
{
    llm_exec_t *x = t->exec;
    const yg_node_t *node = t->node;
    x->attempt++;
    const char *provider = x->on_fallback ? node->fallback_provider
                                          : yg_provider_resolve(node->provider);
    yg_llm_request_t req = {
        .provider = provider,
        .model = NULL,
        .temperature = node->temperature,
        .messages = x->messages,
        .schema = x->schema,
        .schema_name = node->prompt ? node->prompt->schema_name : NULL,
        .tools = NULL,
        .stream = node->stream,
        .timeout_s = node->timeout_s,
        .prompt_name = node->prompt_name,
    };
    if (exec_llm_call(t, &req, llm_on_reply) != YG_OK)
        exec_finish_error(t, YG_ENOMEM, "MemoryError", "out of memory starting a model call");
}

void exec_llm_start(yg_task_t *t)
{
    const yg_node_t *node = t->node;
    llm_exec_t *x = calloc(1, sizeof *x);
    if (!x) {
        exec_finish_error(t, YG_ENOMEM, "MemoryError", "out of memory");
        return;
    }
    t->exec = x;
    t->exec_free = llm_exec_free;

    /* Steps 1-3: loop counts and the loop limit. */
    const yg_value_t *old = yg_map_get(t->state, "_loop_counts");
    x->counts = yg_value_type(old) == YG_MAP ? yg_value_copy(old) : yg_map_new();
    int64_t c = yg_value_int(yg_map_get(x->counts, node->name));
    if (node->loop_limit >= 0 && c >= node->loop_limit) {
        yg_value_t *u = exec_update_new(t);
        yg_map_set(u, "_loop_limit_reached", yg_bool_new(true));
        exec_finish_ok(t, u);
        return;
    }
    yg_map_set(x->counts, node->name, yg_int_new(c + 1));

    /* Step 4: skip_if_exists. */
    if (node->skip_if_exists && !yg_value_is_null(yg_map_get(t->state, node->state_key))) {
        exec_finish_ok(t, llm_bookkeeping(t));
        return;
    }
    /* Step 5: requires (first missing key only). */
    for (size_t i = 0; i < node->requires_count; i++) {
        if (!yg_value_is_null(yg_map_get(t->state, node->requires[i])))
            continue;
        char msg[YG_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "Missing required state: %s", node->requires[i]);
        yg_value_t *u = llm_bookkeeping(t);
        yg_value_t *errors = yg_list_new();
        yg_list_append(errors, yg_error_record(YG_ERRTYPE_STATE, msg, node->name, false,
                                               "YG_ESTATE"));
        yg_map_set(u, "errors", errors);
        exec_finish_ok(t, u);
        return;
    }
    /* Structured output: output_model overrides the prompt's schema;
     * parse_json ignores any schema (spec 4.1). */
    if (!node->parse_json) {
        if (node->output_model) {
            pthread_once(&generic_report_once, generic_report_init);
            x->schema = generic_report_schema;
        } else if (node->prompt) {
            x->schema = node->prompt->schema;
        }
    }
    x->retries_left = node->on_error == YG_ON_ERROR_RETRY ? node->max_retries : 0;

    /* Steps 6-7: variables, render, call. */
    yg_error_t err = {0};
    yg_value_t *vars = llm_variables(t, &err);
    int rc = vars ? exec_render_prompt(node->prompt, node->prompt_name, vars, NULL,
                                       &x->messages, &err)
                  : (err.code ? err.code : YG_ENOMEM);
    yg_value_destroy(&vars);
    if (rc) {
        /* No model call happened; on_error still decides the outcome. */
        llm_attempt_failed(t, rc, rc == YG_ETEMPLATE || rc == YG_ENOTFOUND ? "PromptError"
                                                                           : yg_strerror(rc),
                           err.message, false);
        return;
    }
    llm_attempt(t);
}
