/*
 * yg_exec.h - node execution: the per-thread event-loop helper and the
 * asynchronous task object that runs one node for one run (spec 4).
 *
 * A task is created from the coordinator's "task" message (yg_msg.h):
 * the node, the input state (merged with the map payload), an optional
 * resume value.  yg_task_start() begins the work; the result arrives once
 * through the done callback, with status ok (a state update), interrupt (a
 * payload, plus an optional update to commit with the pause) or error.
 * Pure nodes (passthrough, python, tool_call, interrupt without a prompt)
 * finish inside yg_task_start(); everything else finishes later from the
 * loop.  yg_task_destroy() on an unfinished task cancels it: provider calls
 * are aborted, child processes killed, no callback runs.
 *
 * Everything here runs on one thread; nothing blocks.
 */
#ifndef YG_EXEC_H
#define YG_EXEC_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "yamlgraph/yg_value.h"
#include "yg_graph.h"
#include "yg_proc.h"
#include "yg_provider.h"

/* --- yg_evloop: a zloop plus a timer heap -------------------------------- */
/* zloop's own timers scan a list on every wake-up and may still fire in the
 * iteration in which they were cancelled; this heap makes cancellation
 * immediate and scales to thousands of pending timers.  One zloop timer
 * drives it. */
typedef struct yg_evloop yg_evloop_t;
typedef struct yg_timer yg_timer_t;
typedef void (yg_timer_fn)(void *arg);

yg_evloop_t *yg_evloop_new(zloop_t *loop);
/* Drops pending timers without calling them. */
void yg_evloop_destroy(yg_evloop_t **self_p);
zloop_t *yg_evloop_zloop(yg_evloop_t *self);
/* Run fn(arg) once after delay_ms (0 = on the next loop iteration, never
 * from inside this call).  The handle is invalid once fn starts.  NULL on
 * ENOMEM. */
yg_timer_t *yg_evloop_timer(yg_evloop_t *self, int64_t delay_ms, yg_timer_fn *fn, void *arg);
/* Cancel a pending timer; *timer_p = NULL.  NULL-safe. */
void yg_evloop_cancel(yg_evloop_t *self, yg_timer_t **timer_p);
size_t yg_evloop_pending(const yg_evloop_t *self);

/* --- tasks --------------------------------------------------------------- */
typedef struct yg_task yg_task_t;

typedef enum {
    YG_TASK_OK = 0,
    YG_TASK_INTERRUPT,
    YG_TASK_ERROR
} yg_task_status_t;

/* Borrowed by the done callback (ref what you keep). */
typedef struct yg_task_result {
    yg_task_status_t status;
    yg_value_t *update;     /* ok: the update map; interrupt: values to commit with the pause, or NULL */
    yg_value_t *interrupt;  /* interrupt: the payload */
    yg_value_t *error;      /* error: {code, type, message, node} */
    int64_t calls;          /* model calls made by this task */
} yg_task_result_t;

/* The done callback may destroy the task. */
typedef void (yg_task_done_fn)(yg_task_t *task, const yg_task_result_t *result, void *arg);

/* Environment shared by all tasks of one loop (borrowed; outlives them). */
typedef struct yg_exec_env {
    yg_evloop_t *ev;
    const yg_graph_t *graph;
    yg_llm_client_t *llm;
    yg_procs_t *procs;
    const char *cwd;        /* base of relative tool working_dir; NULL = process cwd */
    /* The map node whose sub-node this loop serves (found once by the node
     * actor with yg_exec_map_parent); NULL = look it up per task. */
    const yg_node_t *map_node;
    /* Subgraph nodes: ask the coordinator to start (op "run", `value` = the
     * child input) or resume (op "resume", `value` = the resume value) a
     * child run.  The answer comes back through yg_task_child_done().
     * Returns 0, or a yg_code on failure (the task then fails). */
    int (*child_request)(void *hook_arg, yg_task_t *task, const char *op,
                         const char *graph_hash, const char *thread, const yg_value_t *value);
    /* Streaming tokens ("token") and notable log lines ("log"); may be NULL. */
    void (*event)(void *hook_arg, yg_task_t *task, const char *kind, const char *text,
                  size_t len);
    void *hook_arg;
} yg_exec_env_t;

/* The coordinator's task fields (borrowed).  The task keeps references to
 * the values of input and payload (they must belong to the loop's thread
 * and must not be modified afterwards); resume is copied. */
typedef struct yg_task_spec {
    uint64_t run;
    uint64_t id;
    const char *thread;        /* "" or NULL when the run has no thread id */
    int64_t step;
    const yg_value_t *input;   /* map (NULL = empty) */
    const yg_value_t *payload; /* map item payload merged over input, or NULL */
    bool has_resume;
    const yg_value_t *resume;
} yg_task_spec_t;

/* The interrupt payload the coordinator stores with a pause and sends back
 * in a resumed task's input, so a prompt-generated payload is not
 * regenerated on resume ([C] spec 4.6). */
#define YG_INTERRUPT_PAYLOAD_KEY "__interrupt_payload__"

/* NULL on ENOMEM / bad arguments. */
yg_task_t *yg_task_new(const yg_exec_env_t *env, const yg_node_t *node,
                       const yg_task_spec_t *spec, yg_task_done_fn *done, void *arg);
/* Begin; the callback may run before this returns (pure nodes). */
void yg_task_start(yg_task_t *self);
/* Cancel if unfinished (no callback), free, *self_p = NULL.  NULL-safe. */
void yg_task_destroy(yg_task_t **self_p);

uint64_t yg_task_run(const yg_task_t *self);
uint64_t yg_task_id(const yg_task_t *self);
const yg_node_t *yg_task_node(const yg_task_t *self);
/* The task's state: input merged with the payload (borrowed). */
const yg_value_t *yg_task_state(const yg_task_t *self);

/* Deliver the coordinator's "child_done" message to a subgraph task.
 * Returns YG_EINVAL when the task is not waiting for a child. */
int yg_task_child_done(yg_task_t *self, const yg_value_t *msg);

/* Does this node finish inside yg_task_start (no I/O, no model call)? */
bool yg_exec_node_is_pure(const yg_node_t *node);
/* The map node whose `sub` is node, or NULL. */
const yg_node_t *yg_exec_map_parent(const yg_graph_t *graph, const yg_node_t *node);

#endif
