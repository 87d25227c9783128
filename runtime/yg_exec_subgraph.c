/*
 * yg_exec_subgraph.c - subgraph nodes in invoke mode (spec 4.12, 9.5).
 *
 * The node actor does not run the child itself: it asks the coordinator
 * (env->child_request -> "child" message) and waits for "child_done".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_exec_int.h"

/* {to: from[key]} for each mapping entry (MAP), all of `from` (ALL), or {}. */
static yg_value_t *apply_mapping(const yg_mapping_t *m, const yg_value_t *from, bool forward)
{
    if (m->kind == YG_MAPPING_ALL)
        return yg_value_type(from) == YG_MAP ? yg_value_copy(from) : yg_map_new();
    yg_value_t *out = yg_map_new();
    for (size_t i = 0; out && m->kind == YG_MAPPING_MAP && i < yg_map_size(m->map); i++) {
        const char *parent_key = yg_map_key_at(m->map, i);
        const char *child_key = yg_value_str(yg_map_value_at(m->map, i));
        if (!child_key)
            continue;
        /* forward: child[child_key] = parent[parent_key]; back: the reverse */
        const char *src = forward ? parent_key : child_key;
        const char *dst = forward ? child_key : parent_key;
        yg_map_set(out, dst, yg_value_copy(yg_map_get(from, src)));
    }
    return out;
}

void exec_subgraph_start(yg_task_t *t)
{
    const yg_node_t *node = t->node;
    if (!node->child) {
        exec_finish_error(t, YG_EINVAL, "ValueError", "subgraph node '%s' has no compiled child",
                          node->name);
        return;
    }
    if (!t->env->child_request) {
        exec_finish_error(t, YG_EUNSUPPORTED, "NotImplementedError",
                          "subgraph node '%s' needs a coordinator to run its child graph",
                          node->name);
        return;
    }
    char *thread = NULL;
    size_t size = strlen(t->thread) + strlen(node->name) + 2;
    if ((thread = malloc(size))) {
        if (t->thread[0])
            snprintf(thread, size, "%s:%s", t->thread, node->name);
        else
            snprintf(thread, size, "%s", node->name);
    }
    yg_value_t *input = NULL;
    const char *op = t->has_resume ? "resume" : "run";
    if (!t->has_resume) {
        if (node->mode_direct) {
            /* direct mode: keys are exchanged by name */
            input = yg_value_copy(t->state);
        } else {
            input = apply_mapping(&node->input_mapping, t->state, true);
        }
    }
    if (!thread || (!t->has_resume && !input)) {
        free(thread);
        yg_value_destroy(&input);
        exec_finish_error(t, YG_ENOMEM, "MemoryError", "out of memory");
        return;
    }
    t->waiting_child = true;
    int rc = t->env->child_request(t->env->hook_arg, t, op, node->child->hash_hex, thread,
                                   t->has_resume ? t->resume : input);
    free(thread);
    yg_value_destroy(&input);
    if (rc) {
        t->waiting_child = false;
        exec_finish_error(t, rc, "RuntimeError", "subgraph node '%s': cannot start the child run",
                          node->name);
    }
}

/* The first interrupt's payload: items are {id, node, value} or bare values. */
static yg_value_t *child_interrupt_payload(const yg_value_t *interrupts)
{
    const yg_value_t *first = yg_list_get(interrupts, 0);
    if (yg_value_type(first) == YG_MAP && yg_map_has(first, "value"))
        return yg_value_copy(yg_map_get(first, "value"));
    return yg_value_copy(first);
}

int exec_subgraph_child_done(yg_task_t *t, const yg_value_t *msg)
{
    const yg_node_t *node = t->node;
    t->waiting_child = false;
    const char *status = yg_value_str(yg_map_get(msg, "status"));
    const yg_value_t *state = yg_map_get(msg, "state");
    if (status && strcmp(status, "completed") == 0) {
        yg_value_t *u = node->mode_direct ? yg_value_copy(state)
                                          : apply_mapping(&node->output_mapping, state, false);
        if (!node->mode_direct)
            yg_map_set(u, "current_step", yg_str_new(node->name));
        exec_finish_ok(t, u);
        return YG_OK;
    }
    if (status && strcmp(status, "interrupted") == 0) {
        yg_value_t *payload = child_interrupt_payload(yg_map_get(msg, "interrupts"));
        yg_value_t *u = NULL;
        if (node->interrupt_output_mapping.kind != YG_MAPPING_NONE) {
            u = apply_mapping(&node->interrupt_output_mapping, state, false);
            yg_map_set(u, "current_step", yg_str_new(node->name));
        }
        exec_finish_interrupt(t, payload, u);
        return YG_OK;
    }
    const yg_value_t *error = yg_map_get(msg, "error");
    const char *message = yg_value_str(yg_map_get(error, "message"));
    int code = (int)yg_value_int(yg_map_get(error, "code"));
    exec_finish_error(t, code < 0 ? code : YG_EINVAL, yg_value_str(yg_map_get(error, "exception_type")),
                      "Subgraph '%s' failed: %s", node->name, message ? message : "unknown error");
    return YG_OK;
}
