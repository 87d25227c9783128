/*
 * yg_exec_task.c - task lifecycle, completion (with map result wrapping,
 * spec 4.5) and helpers shared by the executors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_exec_int.h"
#include "yg_pytext.h"
#include "yg_template.h"

/* --- lookup --------------------------------------------------------------- */

const yg_node_t *yg_exec_map_parent(const yg_graph_t *graph, const yg_node_t *node)
{
    for (size_t i = 0; graph && node && i < graph->nodes_count; i++)
        if (graph->nodes[i]->type == YG_NODE_MAP && graph->nodes[i]->sub == node)
            return graph->nodes[i];
    return NULL;
}

bool yg_exec_node_is_pure(const yg_node_t *node)
{
    if (!node)
        return false;
    switch (node->type) {
    case YG_NODE_PASSTHROUGH:
    case YG_NODE_PYTHON:
    case YG_NODE_TOOL_CALL:
        return true;
    case YG_NODE_INTERRUPT:
        return node->prompt_name == NULL;
    default:
        return false;
    }
}

/* --- lifecycle ------------------------------------------------------------- */

yg_task_t *yg_task_new(const yg_exec_env_t *env, const yg_node_t *node,
                       const yg_task_spec_t *spec, yg_task_done_fn *done, void *arg)
{
    if (!env || !node || !spec || !done)
        return NULL;
    if (spec->input && yg_value_type(spec->input) != YG_MAP)
        return NULL;
    yg_task_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->env = env;
    t->node = node;
    t->run = spec->run;
    t->id = spec->id;
    t->step = spec->step;
    t->done = done;
    t->done_arg = arg;
    t->has_resume = spec->has_resume;
    t->thread = strdup(spec->thread ? spec->thread : "");
    /* The state shares the caller's values by reference (same thread, never
     * modified: executors copy what they put into an update), so a map item
     * does not deep-copy the whole run state. */
    t->state = yg_map_new();
    if (spec->has_resume)
        t->resume = yg_value_copy(spec->resume);
    if (!t->thread || !t->state || (spec->has_resume && !t->resume)) {
        yg_task_destroy(&t);
        return NULL;
    }
    const yg_value_t *parts[] = {spec->input, spec->payload};
    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; i < yg_map_size(parts[p]); i++) {
            yg_value_t *v = yg_value_ref((yg_value_t *)yg_map_value_at(parts[p], i));
            if (yg_map_setn(t->state, yg_map_key_at(parts[p], i), yg_map_keylen_at(parts[p], i),
                            v)) {
                yg_task_destroy(&t);
                return NULL;
            }
        }
    }
    if (node->is_map_sub)
        t->map_node = env->map_node && env->map_node->sub == node
                          ? env->map_node
                          : yg_exec_map_parent(env->graph, node);
    return t;
}

void yg_task_destroy(yg_task_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_task_t *t = *self_p;
    *self_p = NULL;
    yg_llm_call_cancel(t->env->llm, &t->call);
    yg_proc_cancel(t->env->procs, &t->proc);
    if (t->exec_free)
        t->exec_free(t);
    yg_value_destroy(&t->state);
    yg_value_destroy(&t->resume);
    free(t->thread);
    free(t);
}

void yg_task_start(yg_task_t *t)
{
    if (!t || t->started)
        return;
    t->started = true;
    const yg_node_t *node = t->node;
    if (node->is_map_sub && node->type == YG_NODE_TOOL_CALL) {
        exec_tool_call_start(t);
        return;
    }
    if (node->is_map_sub && node->type == YG_NODE_PASSTHROUGH) {
        exec_passthrough_start(t);
        return;
    }
    if (node->is_map_sub) {
        exec_llm_start(t); /* every other sub-node type is built as llm/router */
        return;
    }
    switch (node->type) {
    case YG_NODE_LLM:
    case YG_NODE_ROUTER:
        exec_llm_start(t);
        break;
    case YG_NODE_PASSTHROUGH:
        exec_passthrough_start(t);
        break;
    case YG_NODE_INTERRUPT:
        exec_interrupt_start(t);
        break;
    case YG_NODE_PYTHON:
        exec_python_start(t);
        break;
    case YG_NODE_TOOL:
        exec_tool_start(t);
        break;
    case YG_NODE_TOOL_CALL:
        exec_tool_call_start(t);
        break;
    case YG_NODE_AGENT:
        exec_agent_start(t);
        break;
    case YG_NODE_SUBGRAPH:
        exec_subgraph_start(t);
        break;
    case YG_NODE_MAP:
    default:
        exec_finish_error(t, YG_EINVAL, "ValueError",
                          "node '%s' of type %s is not executable (map items run its sub-node)",
                          node->name, yg_node_type_name(node->type));
        break;
    }
}

uint64_t yg_task_run(const yg_task_t *self)
{
    return self ? self->run : 0;
}

uint64_t yg_task_id(const yg_task_t *self)
{
    return self ? self->id : 0;
}

const yg_node_t *yg_task_node(const yg_task_t *self)
{
    return self ? self->node : NULL;
}

const yg_value_t *yg_task_state(const yg_task_t *self)
{
    return self ? self->state : NULL;
}

int yg_task_child_done(yg_task_t *self, const yg_value_t *msg)
{
    if (!self || !self->waiting_child || self->finished)
        return YG_EINVAL;
    return exec_subgraph_child_done(self, msg);
}

/* --- completion ----------------------------------------------------------- */

static void task_deliver(yg_task_t *t, yg_task_result_t *r)
{
    t->finished = true;
    r->calls = t->calls;
    yg_task_done_fn *done = t->done;
    void *arg = t->done_arg;
    done(t, r, arg); /* may destroy t */
}

/* Spec 4.5 "Result wrapping": turn the sub-node's result into the map item. */
static void task_wrap_for_map(yg_task_t *t, yg_task_result_t *r, const char *exception_type)
{
    const yg_value_t *index = yg_map_get(t->state, "_map_index");
    bool has_index = index && !yg_value_is_null(index);
    yg_value_t *item = NULL;
    yg_value_t *errors = NULL;
    yg_value_t *update = yg_map_new();

    if (r->status == YG_TASK_ERROR) {
        const char *msg = yg_value_str(yg_map_get(r->error, "message"));
        const char *type = yg_value_str(yg_map_get(r->error, "type"));
        item = yg_map_new();
        if (has_index)
            yg_map_set(item, "_map_index", yg_value_copy(index));
        yg_map_set(item, "_error", yg_str_new(msg ? msg : ""));
        yg_map_set(item, "_error_type", yg_str_new(exception_type ? exception_type : "Error"));
        errors = yg_list_new();
        yg_list_append(errors, yg_error_record(type, msg, "map_subnode",
                                               type && strcmp(type, YG_ERRTYPE_LLM) == 0,
                                               exception_type));
    } else if (yg_map_has(r->update, "errors") || yg_map_has(r->update, "error")) {
        const yg_value_t *errs = yg_map_get(r->update, "errors");
        const yg_value_t *shown = errs && !yg_value_is_null(errs) ? errs
                                                                  : yg_map_get(r->update, "error");
        char *text = yg_pytext_str(shown);
        item = yg_map_new();
        if (has_index)
            yg_map_set(item, "_map_index", yg_value_copy(index));
        yg_map_set(item, "_error", yg_str_new(text ? text : ""));
        free(text);
        if (errs && !yg_value_is_null(errs))
            errors = yg_value_copy(errs);
    } else {
        const yg_node_t *node = t->node;
        /* Without an explicit state_key the original looks for `result`
         * (a tool_call sub-node writes there by default). */
        const char *key = node->state_key_explicit && node->state_key ? node->state_key
                                                                      : "result";
        const yg_value_t *value = yg_map_has(r->update, key) ? yg_map_get(r->update, key)
                                                              : r->update;
        if (!has_index) {
            item = yg_value_copy(value);
        } else if (yg_value_type(value) == YG_MAP) {
            item = yg_map_new();
            yg_map_set(item, "_map_index", yg_value_copy(index));
            for (size_t i = 0; i < yg_map_size(value); i++)
                if (strcmp(yg_map_key_at(value, i), "_map_index") != 0)
                    yg_map_setn(item, yg_map_key_at(value, i), yg_map_keylen_at(value, i),
                                yg_value_copy(yg_map_value_at(value, i)));
        } else {
            item = yg_map_new();
            yg_map_set(item, "_map_index", yg_value_copy(index));
            yg_map_set(item, "value", yg_value_copy(value));
        }
    }
    yg_value_t *items = yg_list_new();
    yg_list_append(items, item);
    yg_map_set(update, t->map_node->collect, items);
    if (errors)
        yg_map_set(update, "errors", errors);
    yg_task_result_t wrapped = {YG_TASK_OK, update, NULL, NULL, 0};
    task_deliver(t, &wrapped);
    yg_value_destroy(&update);
}

static void task_complete(yg_task_t *t, yg_task_result_t *r, const char *exception_type)
{
    if (t->finished)
        return;
    if (t->map_node && t->map_node->collect && r->status != YG_TASK_INTERRUPT)
        task_wrap_for_map(t, r, exception_type);
    else
        task_deliver(t, r);
}

void exec_finish_ok(yg_task_t *t, yg_value_t *update)
{
    if (!update)
        update = yg_map_new();
    yg_task_result_t r = {YG_TASK_OK, update, NULL, NULL, 0};
    task_complete(t, &r, NULL); /* t may be gone */
    yg_value_destroy(&update);
}

void exec_finish_interrupt(yg_task_t *t, yg_value_t *payload, yg_value_t *update)
{
    if (!payload)
        payload = yg_null_new();
    yg_task_result_t r = {YG_TASK_INTERRUPT, update, payload, NULL, 0};
    task_complete(t, &r, NULL);
    yg_value_destroy(&payload);
    yg_value_destroy(&update);
}

void exec_finish_error(yg_task_t *t, int code, const char *exception_type, const char *fmt, ...)
{
    char message[YG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    yg_value_t *error = yg_map_new();
    yg_map_set(error, "code", yg_int_new(code));
    yg_map_set(error, "type", yg_str_new(yg_error_type_for_code(code)));
    yg_map_set(error, "message", yg_str_new(message));
    yg_map_set(error, "node", yg_str_new(t->node->name));
    yg_map_set(error, "exception_type", yg_str_new(exception_type ? exception_type
                                                                  : yg_strerror(code)));
    yg_task_result_t r = {YG_TASK_ERROR, NULL, NULL, error, 0};
    task_complete(t, &r, exception_type ? exception_type : yg_strerror(code));
    yg_value_destroy(&error);
}

/* --- helpers --------------------------------------------------------------- */

yg_value_t *exec_update_new(const yg_task_t *t)
{
    yg_value_t *u = yg_map_new();
    if (u)
        yg_map_set(u, "current_step", yg_str_new(t->node->name));
    return u;
}

void exec_log(yg_task_t *t, const char *fmt, ...)
{
    if (!t->env->event)
        return;
    char text[YG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    t->env->event(t->env->hook_arg, t, "log", text, strlen(text));
}

static void task_on_token(void *arg, const char *text, size_t len)
{
    yg_task_t *t = arg;
    if (t->env->event && len > 0)
        t->env->event(t->env->hook_arg, t, "token", text, len);
}

static void task_on_llm_done(void *arg, const yg_llm_reply_t *reply,
                             const yg_llm_failure_t *failure)
{
    yg_task_t *t = arg;
    t->call = NULL; /* the client frees it after we return */
    exec_llm_done_fn *fn = t->call_done;
    t->call_done = NULL;
    fn(t, reply, failure);
}

int exec_llm_call(yg_task_t *t, const yg_llm_request_t *req, exec_llm_done_fn *fn)
{
    static const yg_llm_callbacks_t callbacks = {task_on_token, task_on_llm_done};
    if (!t->env->llm)
        return YG_EINVAL;
    t->call_done = fn;
    t->call = yg_llm_call_start(t->env->llm, req, &callbacks, t);
    if (!t->call)
        return YG_ENOMEM;
    t->calls++;
    return YG_OK;
}

static void task_on_proc_done(void *arg, const yg_proc_result_t *result)
{
    yg_task_t *t = arg;
    t->proc = NULL;
    exec_proc_done_fn *fn = t->proc_done;
    t->proc_done = NULL;
    fn(t, result);
}

int exec_proc_start(yg_task_t *t, const yg_proc_opts_t *opts, exec_proc_done_fn *fn)
{
    if (!t->env->procs)
        return YG_EINVAL;
    t->proc_done = fn;
    t->proc = yg_proc_start(t->env->procs, opts, task_on_proc_done, t);
    return t->proc ? YG_OK : YG_ENOMEM;
}

yg_value_t *exec_message(const char *role, const char *content)
{
    yg_value_t *m = yg_map_new();
    if (!m)
        return NULL;
    yg_map_set(m, "role", yg_str_new(role));
    yg_map_set(m, "content", yg_str_new(content ? content : ""));
    return m;
}

int exec_render_prompt(const yg_prompt_t *prompt, const char *prompt_name,
                       const yg_value_t *vars, const yg_value_t *jinja_state,
                       yg_value_t **messages_out, yg_error_t *err)
{
    *messages_out = NULL;
    if (!prompt)
        return yg_error_set(err, YG_ENOTFOUND, "Prompt not found: %s",
                            prompt_name ? prompt_name : "(none)");
    if (!prompt->user)
        return yg_error_set(err, YG_ETEMPLATE, "Prompt '%s' has no 'user' template",
                            prompt->name ? prompt->name : prompt_name);
    int rc = yg_tmpl_check_required(prompt->system, prompt->user, vars,
                                    prompt->name ? prompt->name : prompt_name, err);
    if (rc)
        return rc;
    yg_value_t *messages = yg_list_new();
    if (!messages)
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    if (prompt->system) {
        char *system = yg_tmpl_render(prompt->system, vars, jinja_state, err);
        if (!system) {
            yg_value_destroy(&messages);
            return err && err->code ? err->code : YG_ETEMPLATE;
        }
        if (system[0]) /* omitted from the request when it renders empty */
            yg_list_append(messages, exec_message("system", system));
        free(system);
    }
    char *user = yg_tmpl_render(prompt->user, vars, jinja_state, err);
    if (!user) {
        yg_value_destroy(&messages);
        return err && err->code ? err->code : YG_ETEMPLATE;
    }
    yg_list_append(messages, exec_message("user", user));
    free(user);
    *messages_out = messages;
    return YG_OK;
}
