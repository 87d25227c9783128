/*
 * yg_exec_int.h - internals shared by the node executors (yg_exec_*.c).
 */
#ifndef YG_EXEC_INT_H
#define YG_EXEC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "yg_errrec.h"
#include "yg_exec.h"

typedef void (exec_llm_done_fn)(yg_task_t *t, const yg_llm_reply_t *reply,
                                const yg_llm_failure_t *failure);
typedef void (exec_proc_done_fn)(yg_task_t *t, const yg_proc_result_t *result);
struct exec_shell_outcome;
typedef void (exec_shell_done_fn)(yg_task_t *t, const struct exec_shell_outcome *outcome);

struct yg_task {
    const yg_exec_env_t *env;
    const yg_node_t *node;
    const yg_node_t *map_node;   /* set when the result is wrapped for a map (4.5) */
    uint64_t run;
    uint64_t id;
    char *thread;                /* "" when none */
    int64_t step;
    yg_value_t *state;           /* input merged with payload; owned, never shared */
    yg_value_t *resume;
    bool has_resume;
    yg_task_done_fn *done;
    void *done_arg;
    int64_t calls;
    bool started;
    bool finished;
    /* at most one outstanding operation of each kind */
    yg_llm_call_t *call;
    exec_llm_done_fn *call_done;
    yg_proc_t *proc;
    exec_proc_done_fn *proc_done;
    const struct yg_tool *shell_tool;          /* exec_shell_run in progress */
    exec_shell_done_fn *shell_done;
    bool waiting_child;
    /* executor-specific context, freed (and its work cancelled) by exec_free */
    void *exec;
    void (*exec_free)(yg_task_t *t);
};

/* --- completion (each takes ownership of the values passed) ------------- */
void exec_finish_ok(yg_task_t *t, yg_value_t *update);
void exec_finish_interrupt(yg_task_t *t, yg_value_t *payload, yg_value_t *update);
/* code: a yg_code (mapped to the record type); exception_type may be NULL. */
void exec_finish_error(yg_task_t *t, int code, const char *exception_type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* --- helpers -------------------------------------------------------------- */
/* A new map {current_step: node name}. */
yg_value_t *exec_update_new(const yg_task_t *t);
/* Emit a "log" event (warning) when the environment listens. */
void exec_log(yg_task_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Start a model call; fn runs on completion.  Counts the call.  Returns 0
 * or YG_ENOMEM. */
int exec_llm_call(yg_task_t *t, const yg_llm_request_t *req, exec_llm_done_fn *fn);
/* Start a shell command; fn runs on completion. 0 or YG_ENOMEM. */
int exec_proc_start(yg_task_t *t, const yg_proc_opts_t *opts, exec_proc_done_fn *fn);

/* Render a prompt into [system?, user] messages (spec 7.3-7.5).  Failures:
 * YG_ENOTFOUND (no prompt file), YG_ETEMPLATE (no user template, missing
 * variables, render error). */
int exec_render_prompt(const yg_prompt_t *prompt, const char *prompt_name,
                       const yg_value_t *vars, const yg_value_t *jinja_state,
                       yg_value_t **messages_out, yg_error_t *err);
/* A {role, content} message map. */
yg_value_t *exec_message(const char *role, const char *content);

/* Shell tool run shared by tool nodes and agents (spec 8.1).  Formats the
 * command with vars and starts it; on completion fn gets the outcome. */
typedef struct exec_shell_outcome {
    bool success;
    yg_value_t *output;   /* borrowed during the callback; parsed per `parse` */
    const char *error;    /* failure text (spec 8.1 wording) */
} exec_shell_outcome_t;
/* Returns 0 when started (fn runs later) or when the failure was immediate
 * (fn has NOT run: *immediate_error holds the text, caller owns it). */
int exec_shell_run(yg_task_t *t, const yg_tool_t *tool, const yg_value_t *vars,
                   exec_shell_done_fn *fn, char **immediate_error);

/* Executors. */
void exec_llm_start(yg_task_t *t);
void exec_passthrough_start(yg_task_t *t);
void exec_interrupt_start(yg_task_t *t);
void exec_python_start(yg_task_t *t);
void exec_tool_start(yg_task_t *t);
void exec_tool_call_start(yg_task_t *t);
void exec_agent_start(yg_task_t *t);
void exec_subgraph_start(yg_task_t *t);
int exec_subgraph_child_done(yg_task_t *t, const yg_value_t *msg);

#endif
