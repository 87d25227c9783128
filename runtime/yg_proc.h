/*
 * yg_proc.h - non-blocking child processes on an event loop (spec 8.1).
 *
 * A shell command runs as `/bin/sh -c <command>` in its own process group,
 * with stdin from /dev/null and stdout/stderr on non-blocking pipes polled
 * by the loop.  Exit is noticed through a pidfd registered in the loop
 * (Linux >= 5.3), else by polling waitpid(WNOHANG) on a short loop timer;
 * no SIGCHLD handler is installed and nothing ever blocks the loop thread.
 * A timeout or an output larger than the cap kills the whole process group
 * with SIGKILL.
 *
 * All procs of one loop belong to one yg_procs_t; destroying it kills and
 * reaps whatever still runs (the only place that waits, and only for
 * processes that were just sent SIGKILL).
 */
#ifndef YG_PROC_H
#define YG_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "yamlgraph/yg_value.h"

typedef struct yg_evloop yg_evloop_t;
typedef struct yg_procs yg_procs_t;
typedef struct yg_proc yg_proc_t;

/* Default cap on stdout + stderr of one command (a tool result lands in
 * the run state and in checkpoints; larger outputs are almost certainly a
 * mistake).  Exceeding it fails the command. */
#define YG_PROC_DEFAULT_MAX_OUTPUT (8u * 1024u * 1024u)
/* waitpid polling period when pidfd_open is unavailable. */
#define YG_PROC_POLL_MS 5

typedef enum {
    YG_PROC_EXITED = 0,    /* exit_code is valid */
    YG_PROC_SIGNALED,      /* killed by `signal` (not by us) */
    YG_PROC_TIMEOUT,       /* we killed it after timeout_s */
    YG_PROC_TOO_BIG,       /* we killed it: output exceeded max_output */
    YG_PROC_SPAWN_FAILED   /* never started; `error` says why */
} yg_proc_status_t;

typedef struct yg_proc_opts {
    const char *command;      /* passed to /bin/sh -c */
    const char *working_dir;  /* NULL or "" = inherit the process cwd */
    const yg_value_t *env;    /* map name -> value added to the inherited environment, or NULL */
    double timeout_s;         /* <= 0: no timeout */
    size_t max_output;        /* 0: YG_PROC_DEFAULT_MAX_OUTPUT */
} yg_proc_opts_t;

/* Borrowed by the callback; valid only during it. */
typedef struct yg_proc_result {
    yg_proc_status_t status;
    int exit_code;            /* YG_PROC_EXITED */
    int signal;               /* YG_PROC_SIGNALED */
    const char *out;          /* captured stdout (NUL-terminated) */
    size_t out_len;
    const char *err;          /* captured stderr (NUL-terminated) */
    size_t err_len;
    const char *error;        /* YG_PROC_SPAWN_FAILED: readable reason */
    double timeout_s;         /* echo of the option, for messages */
    size_t max_output;        /* effective cap */
} yg_proc_result_t;

/* Called once when the process has finished (and its pipes are drained),
 * never from inside yg_proc_start, never after yg_proc_cancel. */
typedef void (yg_proc_done_fn)(void *arg, const yg_proc_result_t *result);

yg_procs_t *yg_procs_new(yg_evloop_t *ev);
/* Kill (SIGKILL to each group) and reap every remaining process; no callbacks. */
void yg_procs_destroy(yg_procs_t **self_p);
/* Processes started and not yet finished/cancelled. */
size_t yg_procs_active(const yg_procs_t *self);

/* Start a command.  Returns a handle (valid until the callback runs or the
 * proc is cancelled), or NULL on ENOMEM/bad arguments.  Spawn failures are
 * reported through the callback (YG_PROC_SPAWN_FAILED). */
yg_proc_t *yg_proc_start(yg_procs_t *procs, const yg_proc_opts_t *opts, yg_proc_done_fn *done,
                         void *arg);
/* Kill the process group, forget the callback; reaping continues in the
 * background.  Sets *self_p to NULL.  NULL-safe. */
void yg_proc_cancel(yg_procs_t *procs, yg_proc_t **self_p);

#endif
