/*
 * yg_exec_tool.c - shell tools (spec 8.1) and the `tool` node (spec 4.9).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_exec_int.h"
#include "yg_expr.h"
#include "yg_shellfmt.h"

/* Python's str() of a timeout value: 30 -> "30", 0.5 -> "0.5". */
static void format_seconds(char *buf, size_t size, double s)
{
    snprintf(buf, size, "%g", s);
}

static void shell_on_proc(yg_task_t *t, const yg_proc_result_t *r)
{
    const yg_tool_t *tool = t->shell_tool;
    exec_shell_done_fn *fn = t->shell_done;
    t->shell_tool = NULL;
    t->shell_done = NULL;
    exec_shell_outcome_t o = {false, NULL, NULL};
    char msg[YG_ERROR_MESSAGE_MAX + 64];
    yg_value_t *output = NULL;
    switch (r->status) {
    case YG_PROC_SPAWN_FAILED:
        o.error = r->error;
        break;
    case YG_PROC_TIMEOUT: {
        char secs[32];
        format_seconds(secs, sizeof secs, r->timeout_s);
        snprintf(msg, sizeof msg, "Command timed out after %s seconds", secs);
        o.error = msg;
        break;
    }
    case YG_PROC_TOO_BIG:
        snprintf(msg, sizeof msg, "Command output exceeds %zu bytes", r->max_output);
        o.error = msg;
        break;
    case YG_PROC_EXITED:
    case YG_PROC_SIGNALED: {
        int code = r->status == YG_PROC_EXITED ? r->exit_code : -r->signal;
        bool ok = false;
        for (size_t i = 0; i < tool->success_codes_count; i++)
            ok = ok || tool->success_codes[i] == code;
        if (tool->success_codes_count == 0)
            ok = code == 0;
        if (!ok) {
            if (r->err_len > 0) {
                snprintf(msg, sizeof msg, "%s", r->err);
            } else {
                snprintf(msg, sizeof msg, "Exit code %d", code);
            }
            o.error = msg;
            break;
        }
        const char *parse = tool->parse ? tool->parse : "text";
        if (strcmp(parse, "json") == 0) {
            yg_error_t err = {0};
            output = yg_json_decode(r->out, r->out_len, NULL, &err);
            if (!output) {
                snprintf(msg, sizeof msg, "JSON parse error: %s", err.message);
                o.error = msg;
                break;
            }
        } else if (strcmp(parse, "none") == 0) {
            output = yg_null_new();
        } else {
            output = yg_str_newn(r->out, r->out_len);
        }
        o.success = true;
        o.output = output;
        break;
    }
    }
    fn(t, &o); /* may finish (and destroy) t */
    yg_value_destroy(&output);
}

/* Resolve a tool's working_dir against the runtime's cwd. */
static char *shell_working_dir(const yg_task_t *t, const char *dir)
{
    if (!dir || !dir[0])
        dir = ".";
    if (dir[0] == '/' || !t->env->cwd || !t->env->cwd[0])
        return strdup(dir);
    size_t size = strlen(t->env->cwd) + strlen(dir) + 2;
    char *path = malloc(size);
    if (path)
        snprintf(path, size, "%s/%s", t->env->cwd, dir);
    return path;
}

int exec_shell_run(yg_task_t *t, const yg_tool_t *tool, const yg_value_t *vars,
                   exec_shell_done_fn *fn, char **immediate_error)
{
    *immediate_error = NULL;
    t->shell_tool = tool;
    t->shell_done = fn;
    yg_error_t err = {0};
    char *command = yg_shell_format(tool->command ? tool->command : "", vars, &err);
    if (!command) {
        *immediate_error = strdup(err.message[0] ? err.message : "out of memory");
        return YG_OK;
    }
    char *dir = shell_working_dir(t, tool->working_dir);
    yg_proc_opts_t opts = {command, dir, tool->env, tool->timeout_s, 0};
    int rc = dir ? exec_proc_start(t, &opts, shell_on_proc) : YG_ENOMEM;
    free(command);
    free(dir);
    return rc;
}

/* --- the tool node ----------------------------------------------------------- */

static void tool_node_failed(yg_task_t *t, const char *error)
{
    const yg_node_t *node = t->node;
    char message[YG_ERROR_MESSAGE_MAX];
    snprintf(message, sizeof message, "Tool '%s' failed in node '%s': %.900s",
             node->tool ? node->tool : "?", node->name, error);
    if (node->on_error != YG_ON_ERROR_SKIP) {
        exec_finish_error(t, YG_ETOOL, "RuntimeError", "%s", message);
        return;
    }
    /* Same shape as the python skip case: only the new record (the
     * original repeated the existing errors, which the append reducer then
     * duplicated, spec 2.2; docs/compatibility.md). */
    yg_value_t *u = yg_map_new();
    yg_map_set(u, node->state_key, yg_null_new());
    yg_map_set(u, "current_step", yg_str_new(node->name));
    yg_value_t *errors = yg_list_new();
    yg_list_append(errors, yg_error_record(YG_ERRTYPE_UNKNOWN, message, node->name, false,
                                           "RuntimeError"));
    yg_map_set(u, "errors", errors);
    exec_finish_ok(t, u);
}

static void tool_node_done(yg_task_t *t, const exec_shell_outcome_t *o)
{
    if (!o->success) {
        tool_node_failed(t, o->error ? o->error : "unknown failure");
        return;
    }
    yg_value_t *u = exec_update_new(t);
    yg_map_set(u, t->node->state_key, yg_value_copy(o->output));
    exec_finish_ok(t, u);
}

void exec_tool_start(yg_task_t *t)
{
    const yg_node_t *node = t->node;
    const yg_tool_t *tool = node->tool_def;
    if (!tool || tool->type != YG_TOOL_SHELL) {
        exec_finish_error(t, YG_EINVAL, "ValueError", "node '%s': '%s' is not a shell tool",
                          node->name, node->tool ? node->tool : "?");
        return;
    }
    yg_value_t *vars = yg_map_new();
    for (size_t i = 0; vars && i < yg_map_size(node->variables); i++) {
        yg_error_t err = {0};
        yg_value_t *v = node->variable_exprs
                            ? yg_vexpr_eval(node->variable_exprs[i], t->state, &err)
                            : yg_value_copy(yg_map_value_at(node->variables, i));
        if (!v) {
            yg_value_destroy(&vars);
            tool_node_failed(t, err.message[0] ? err.message : "variable evaluation failed");
            return;
        }
        yg_map_setn(vars, yg_map_key_at(node->variables, i), yg_map_keylen_at(node->variables, i),
                    v);
    }
    char *immediate = NULL;
    int rc = vars ? exec_shell_run(t, tool, vars, tool_node_done, &immediate) : YG_ENOMEM;
    yg_value_destroy(&vars);
    if (rc) {
        exec_finish_error(t, rc, "MemoryError", "out of memory starting a command");
        return;
    }
    if (immediate) {
        tool_node_failed(t, immediate);
        free(immediate);
    }
}
