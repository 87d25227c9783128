/*
 * yg_exec_control.c - passthrough (4.7), interrupt (4.6), python (4.8) and
 * tool_call (4.10) nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_exec_int.h"
#include "yg_expr.h"
#include "yg_pytext.h"
#include "yg_template.h"
#include "yamlgraph/yg_native.h"

/* --- passthrough ------------------------------------------------------------ */

void exec_passthrough_start(yg_task_t *t)
{
    const yg_node_t *node = t->node;
    yg_value_t *u = exec_update_new(t);
    for (size_t i = 0; i < yg_map_size(node->output); i++) {
        const char *key = yg_map_key_at(node->output, i);
        bool exists = yg_map_has(t->state, key);
        yg_error_t err = {0};
        yg_value_t *v = node->output_exprs ? yg_vexpr_eval(node->output_exprs[i], t->state, &err)
                                           : yg_value_copy(yg_map_value_at(node->output, i));
        if (!v) {
            exec_log(t, "passthrough '%s': output '%s' failed: %s", node->name, key, err.message);
            if (exists)
                yg_map_set(u, key, yg_value_copy(yg_map_get(t->state, key)));
            continue;
        }
        if (yg_value_is_null(v) && exists) {
            yg_value_destroy(&v);
            v = yg_value_copy(yg_map_get(t->state, key));
        }
        yg_map_set(u, key, v);
    }
    exec_finish_ok(t, u);
}

/* --- python ------------------------------------------------------------------ */

/* Spec 4.8 [C]: the native function registered under (module, function)
 * serves the tool (yg_native.h); without one in this process the node must
 * run elsewhere (an embedding host or a worker that registers it).  A map result is the update as-is (plus current_step); any
 * other value goes under state_key. */
void exec_python_start(yg_task_t *t)
{
    const yg_node_t *node = t->node;
    const yg_tool_t *tool = node->tool_def;
    void *arg = NULL;
    yg_native_fn *fn = tool ? yg_native_lookup(tool->module, tool->function, &arg) : NULL;
    if (!fn) {
        exec_finish_error(t, YG_EUNSUPPORTED, "NotImplementedError",
                          "node '%s' needs Python tool '%s' (%s.%s): register a native "
                          "function with yg_native_register in the process that runs this node "
                          "(an embedding host, or an external worker built with "
                          "yg_worker_api.h); see docs/deployment.md",
                          node->name, node->tool ? node->tool : "?",
                          tool && tool->module ? tool->module : "?",
                          tool && tool->function ? tool->function : "?");
        return;
    }
    yg_error_t err = {0};
    yg_value_t *out = fn(t->state, arg, &err);
    const char *key = node->state_key ? node->state_key : node->name;
    if (!out) {
        const char *why = err.message[0] ? err.message : "native function failed";
        if (node->on_error != YG_ON_ERROR_SKIP) {
            exec_finish_error(t, err.code ? err.code : YG_ETOOL, "RuntimeError", "%s", why);
            return;
        }
        /* skip: {state_key: null, current_step, errors: [new]}.  The original
         * (spec 4.8) returned old + new, which the append reducer duplicated;
         * we write only the new record (docs/compatibility.md). */
        yg_value_t *u = exec_update_new(t);
        yg_map_set(u, key, yg_null_new());
        yg_value_t *errors = yg_list_new();
        yg_list_append(errors, yg_error_record(YG_ERRTYPE_UNKNOWN, why, node->name, false,
                                               "RuntimeError"));
        yg_map_set(u, "errors", errors);
        exec_finish_ok(t, u);
        return;
    }
    yg_value_t *u;
    if (yg_value_type(out) == YG_MAP) {
        u = yg_map_new();
        for (size_t i = 0; u && i < yg_map_size(out); i++)
            yg_map_setn(u, yg_map_key_at(out, i), yg_map_keylen_at(out, i),
                        yg_value_ref(yg_map_value_at(out, i)));
        if (u)
            yg_map_set(u, "current_step", yg_str_new(node->name));
        yg_value_destroy(&out);
    } else {
        u = exec_update_new(t);
        yg_map_set(u, key, out);
    }
    if (!u) {
        exec_finish_error(t, YG_ENOMEM, "MemoryError", "out of memory");
        return;
    }
    exec_finish_ok(t, u);
}

/* --- tool_call ----------------------------------------------------------------- */

void exec_tool_call_start(yg_task_t *t)
{
    const yg_node_t *node = t->node;
    yg_error_t err = {0};
    yg_value_t *tool = node->tool_expr ? yg_vexpr_eval(node->tool_expr, t->state, &err)
                                       : yg_value_copy(node->tool_tmpl);
    yg_value_t *args = node->args_expr ? yg_vexpr_eval(node->args_expr, t->state, &err)
                                       : yg_value_copy(node->args_tmpl);
    if (!tool)
        tool = yg_null_new();
    if (yg_value_type(args) != YG_MAP) {
        yg_value_destroy(&args);
        args = yg_map_new();
    }
    char *name = yg_value_type(tool) == YG_STR ? strdup(yg_value_str(tool)) : yg_pytext_str(tool);

    const yg_value_t *task = yg_map_get(t->state, "task");
    yg_value_t *envelope = yg_map_new();
    yg_map_set(envelope, "task_id", yg_value_type(task) == YG_MAP
                                        ? yg_value_copy(yg_map_get(task, "id"))
                                        : yg_null_new());
    yg_map_set(envelope, "tool", tool);
    const yg_tool_t *def = name ? yg_graph_tool(t->env->graph, name) : NULL;
    yg_map_set(envelope, "success", yg_bool_new(false));
    yg_map_set(envelope, "result", yg_null_new());
    void *native_arg = NULL;
    yg_native_fn *native = def && def->type == YG_TOOL_PYTHON
                               ? yg_native_lookup(def->module, def->function, &native_arg)
                               : NULL;
    if (native) {
        /* Called with the args map; a failure is reported, never raised. */
        yg_error_t nerr = {0};
        yg_value_t *result = native(args, native_arg, &nerr);
        if (result) {
            yg_map_set(envelope, "success", yg_bool_new(true));
            yg_map_set(envelope, "result", result);
            yg_map_set(envelope, "error", yg_null_new());
        } else {
            yg_map_set(envelope, "error",
                       yg_str_new(nerr.message[0] ? nerr.message : "native function failed"));
        }
    } else if (def && def->type == YG_TOOL_PYTHON)
        yg_map_set(envelope, "error",
                   yg_str_newf("Python tool '%s' needs an external worker or host that "
                               "registers it with yg_native_register (not registered in this "
                               "process; see docs/deployment.md)",
                               name));
    else
        yg_map_set(envelope, "error", yg_str_newf("Unknown tool: %s", name ? name : "None"));
    free(name);
    yg_value_destroy(&args);
    yg_value_t *u = exec_update_new(t);
    yg_map_set(u, node->state_key ? node->state_key : "result", envelope);
    exec_finish_ok(t, u);
}

/* --- interrupt ------------------------------------------------------------------- */

typedef struct interrupt_exec {
    yg_value_t *vars; /* the state without the coordinator's private key */
} interrupt_exec_t;

static void interrupt_exec_free(yg_task_t *t)
{
    interrupt_exec_t *x = t->exec;
    yg_value_destroy(&x->vars);
    free(x);
    t->exec = NULL;
}

/* Step 2/3: pause with the payload, or complete with the resume value. */
static void interrupt_deliver(yg_task_t *t, yg_value_t *payload)
{
    const yg_node_t *node = t->node;
    if (!t->has_resume) {
        exec_finish_interrupt(t, payload, NULL);
        return;
    }
    yg_value_t *u = yg_map_new();
    yg_map_set(u, node->state_key ? node->state_key : "interrupt_message", payload);
    yg_map_set(u, node->resume_key ? node->resume_key : "user_input", yg_value_copy(t->resume));
    yg_map_set(u, "current_step", yg_str_new(node->name));
    exec_finish_ok(t, u);
}

static void interrupt_on_reply(yg_task_t *t, const yg_llm_reply_t *reply,
                               const yg_llm_failure_t *failure)
{
    if (failure) {
        exec_finish_error(t, failure->code, failure->exception_type, "%s", failure->message);
        return;
    }
    interrupt_deliver(t, yg_str_new(reply->text ? reply->text : ""));
}

void exec_interrupt_start(yg_task_t *t)
{
    const yg_node_t *node = t->node;
    const char *state_key = node->state_key ? node->state_key : "interrupt_message";
    interrupt_exec_t *x = calloc(1, sizeof *x);
    if (!x || !(x->vars = yg_value_copy(t->state))) {
        free(x);
        exec_finish_error(t, YG_ENOMEM, "MemoryError", "out of memory");
        return;
    }
    t->exec = x;
    t->exec_free = interrupt_exec_free;
    yg_map_remove(x->vars, YG_INTERRUPT_PAYLOAD_KEY);

    /* (a) idempotency: a payload already in state is re-sent. */
    const yg_value_t *existing = yg_map_get(x->vars, state_key);
    if (!yg_value_is_null(existing)) {
        interrupt_deliver(t, yg_value_copy(existing));
        return;
    }
    if (node->prompt_name) {
        /* [C] the payload generated before the pause comes back with the
         * resumed task: no second model call. */
        const yg_value_t *saved = yg_map_get(t->state, YG_INTERRUPT_PAYLOAD_KEY);
        if (t->has_resume && saved) {
            interrupt_deliver(t, yg_value_copy(saved));
            return;
        }
        /* (b) model call with the entire state as variables. */
        yg_value_t *messages = NULL;
        yg_error_t err = {0};
        int rc = exec_render_prompt(node->prompt, node->prompt_name, x->vars, NULL, &messages,
                                    &err);
        if (rc) {
            exec_finish_error(t, rc, "PromptError", "%s", err.message);
            return;
        }
        yg_llm_request_t req = {
            .provider = yg_provider_resolve(node->prompt ? node->prompt->provider : NULL),
            .temperature = 0.7,
            .messages = messages,
            .prompt_name = node->prompt_name,
        };
        rc = exec_llm_call(t, &req, interrupt_on_reply);
        yg_value_destroy(&messages);
        if (rc)
            exec_finish_error(t, YG_ENOMEM, "MemoryError", "out of memory starting a model call");
        return;
    }
    /* (c) message: templated strings are rendered with the state. */
    if (node->message && !yg_value_is_null(node->message)) {
        if (node->message_tmpl) {
            yg_error_t err = {0};
            const yg_value_t *jinja_state =
                yg_tmpl_mode(node->message_tmpl) == YG_TMPL_JINJA ? x->vars : NULL;
            char *text = yg_tmpl_render(node->message_tmpl, x->vars, jinja_state, &err);
            if (!text) {
                exec_finish_error(t, YG_ETEMPLATE, "KeyError",
                                  "interrupt '%s': message template failed: %s", node->name,
                                  err.message);
                return;
            }
            yg_value_t *payload = yg_str_new(text);
            free(text);
            interrupt_deliver(t, payload);
            return;
        }
        interrupt_deliver(t, yg_value_copy(node->message));
        return;
    }
    /* (d) */
    yg_value_t *payload = yg_map_new();
    yg_map_set(payload, "node", yg_str_new(node->name));
    interrupt_deliver(t, payload);
}
