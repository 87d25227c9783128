/*
 * yamlgraph.h - the public embedding API of yamlgraph-c.
 *
 * A process embeds one runtime (yg_runtime_t): a ZeroMQ context, a
 * coordinator actor that owns every run, and one node actor per node of
 * each loaded graph.  Host threads talk to the runtime through clients
 * (yg_client_t, one per host thread): every request returns a request id at
 * once and completes through a callback invoked from yg_client_dispatch on
 * the client's thread.  The client's file descriptor (yg_client_fd) can be
 * added to any event loop; blocking wrappers exist for simple programs.
 *
 * Conventions (libuv style): functions that can fail return a negative
 * yg_code_t (yg_error.h) or NULL and fill an optional yg_error_t; values
 * passed in are borrowed (copied or encoded before the call returns);
 * values handed to callbacks are borrowed for the duration of the callback.
 */
#ifndef YAMLGRAPH_H
#define YAMLGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yg_error.h"
#include "yg_value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define YG_VERSION_MAJOR 0
#define YG_VERSION_MINOR 1
#define YG_VERSION_PATCH 0

typedef struct yg_runtime yg_runtime_t;
typedef struct yg_client yg_client_t;
typedef struct yg_graph yg_graph_t; /* a loaded graph; owned by the runtime */

/* Default superstep limit per invocation (spec 3.2). */
#define YG_DEFAULT_STEP_LIMIT 25
/* Default timeout of the blocking wrappers, in milliseconds. */
#define YG_DEFAULT_BLOCKING_TIMEOUT_MS (10 * 60 * 1000)

/* Log levels for yg_runtime_opts_t.log_level. */
typedef enum {
    YG_LOG_ERROR = 0,
    YG_LOG_WARNING = 1,
    YG_LOG_INFO = 2,
    YG_LOG_DEBUG = 3
} yg_log_level_t;

/* Checkpoint durability of a run (docs/checkpoints.md "Durability").  A
 * run's mode comes from yg_run_opts_t.durability, else the graph's
 * `checkpointer: {durability: ...}`, else yg_runtime_opts_t.durability,
 * else sync.  In both modes a run replies to its client (completed,
 * interrupted or error) only after every checkpoint save it started has
 * completed, and a failed save fails the run. */
typedef enum {
    YG_DURABILITY_DEFAULT = 0, /* not set here: the next level decides */
    YG_DURABILITY_SYNC = 1,    /* a step's checkpoint is stored before the next step starts */
    YG_DURABILITY_ASYNC = 2    /* the checkpoint is handed to the store and the next step
                                  starts at once (the store keeps the order) */
} yg_durability_t;

/* "default", "sync" or "async" ("?" for an out-of-range value). */
const char *yg_durability_name(yg_durability_t durability);
/* Parse "sync" or "async" into *out; YG_EINVAL for anything else. */
int yg_durability_parse(const char *text, yg_durability_t *out);

/* Runtime options.  Initialise with yg_runtime_opts_init, then override. */
typedef struct yg_runtime_opts {
    /* Checkpointer for every graph: "memory", "file:PATH" or a bare PATH
     * (durable file store), "redis://host:port[/db]" or "unix:///path"
     * (Redis store, docs/redis.md).  NULL: each graph's own `checkpointer:`
     * section decides (none / memory / file store for sqlite paths /
     * Redis store for redis and redis-simple with a url; sqlite
     * ":memory:" and an empty or unexpanded redis url use a memory store). */
    const char *checkpointer;
    /* Provider override for every model call (e.g. "mock"); NULL = graph's. */
    const char *provider;
    /* Mock reply file used by the mock provider (YAML); NULL = none. */
    const char *mock_file;
    /* Superstep limit per invocation when neither the run options nor the
     * graph's config.recursion_limit set one; 0 = YG_DEFAULT_STEP_LIMIT. */
    int step_limit;
    /* Number of coordinator shards (runs sharded by hash of thread id);
     * 0 or 1 = one coordinator.  Only 1 is supported in this version. */
    int shards;
    /* tcp endpoint on which remote workers may connect, or NULL. */
    const char *worker_endpoint;
    /* Default concurrency bound of a node actor; 0 = built-in default. */
    int max_concurrency;
    /* Largest number of map items one fan-out may create (memory safety),
     * applied on top of max_items / config.max_map_items; 0 = default. */
    int64_t max_map_items;
    /* yg_log_level_t; default YG_LOG_WARNING. */
    int log_level;
    /* When true, yg_runtime_new disables CZMQ's SIGINT/SIGTERM handlers
     * (zsys_handler_set(NULL)) so the embedding host keeps its own. */
    bool disable_signal_handlers;
    /* Nodes served only by remote workers (yg_worker_api.h): no local node
     * actor is started for them and their tasks wait (bounded) until a
     * worker sends `ready`.  NULL or "" = none, "*" = every node, else a
     * comma-separated list of node names (a map node's name selects its
     * item sub-node).  Needs worker_endpoint. */
    const char *remote_nodes;
    /* Missed heartbeats after which a remote worker is declared dead and
     * its tasks re-dispatched; 0 = YG_WORKER_DEFAULT_LIVENESS (3). */
    int worker_liveness;
    /* Durability of runs whose run options and graph set none;
     * YG_DURABILITY_DEFAULT = sync. */
    yg_durability_t durability;
} yg_runtime_opts_t;

/* Fill opts with the defaults. */
void yg_runtime_opts_init(yg_runtime_opts_t *opts);

/* Start a runtime (context, coordinator actor).  NULL with err on failure. */
yg_runtime_t *yg_runtime_new(const yg_runtime_opts_t *opts, yg_error_t *err);

/* Stop every actor (runs in flight end with YG_ECLOSED), free every graph
 * and set *self_p to NULL.  Destroy clients first.  NULL-safe. */
void yg_runtime_destroy(yg_runtime_t **self_p);

/* Load a graph file (yg_graph_load), register it with the coordinator and
 * start its node actors (also for every child graph).  *graph receives a
 * handle owned by the runtime, valid until yg_runtime_destroy.  Loading
 * the same file twice returns the same handle.  Thread-safe. */
int yg_runtime_load_graph(yg_runtime_t *self, const char *path, yg_graph_t **graph,
                          yg_error_t *err);

/* A loaded graph by its name or its (absolute or as-given) path; NULL if
 * none.  Thread-safe. */
yg_graph_t *yg_runtime_find_graph(yg_runtime_t *self, const char *name_or_path);

/* The endpoint of the coordinator's client ROUTER (inproc://yg-api-<id>),
 * for a gateway or another embedding layer speaking the api protocol
 * (docs/architecture.md). */
const char *yg_runtime_api_endpoint(const yg_runtime_t *self);

/* ------------------------------------------------------------------------
 * Results and events
 * ------------------------------------------------------------------------ */

typedef enum {
    YG_RUN_COMPLETED = 0,
    YG_RUN_INTERRUPTED = 1,
    YG_RUN_ERROR = 2
} yg_run_status_t;

/* The outcome of one request (spec 9.4 [C]).  In a callback every pointer
 * is borrowed for the duration of the call.  Filled by a blocking wrapper,
 * the values are owned by the result: release with yg_result_release. */
typedef struct yg_result {
    int64_t request_id;
    yg_run_status_t status;
    yg_value_t *state;      /* state map (runs and get_state); NULL if none */
    yg_value_t *interrupts; /* list of {id, node, value}; empty unless interrupted */
    yg_value_t *snapshot;   /* get_state: the checkpoint map (yg_checkpoint_to_map
                               shape: values, next, tasks, interrupts, ...) */
    yg_value_t *history;    /* get_history: list of checkpoint maps, newest first */
    yg_error_t error;       /* status YG_RUN_ERROR: code and message */
    char run_id[32];        /* "" when the request was not a run */
    char thread_id[256];    /* "" when the run had no thread (truncated if longer) */
    int64_t step;           /* last completed superstep, -1 if none */
} yg_result_t;

/* Completion callback: called exactly once per request from
 * yg_client_dispatch (or a blocking wrapper) on the client's thread. */
typedef void(yg_result_fn)(const yg_result_t *result, void *arg);

/* A streamed run event (spec 10 [C]).  kind is one of "run_start",
 * "node_start", "token", "node_end", "values", "interrupt", "error",
 * "run_end"; data is the whole event map {kind, run, thread, seq, ...}
 * (borrowed for the duration of the callback). */
typedef struct yg_event {
    int64_t request_id;
    const char *kind;
    const yg_value_t *data;
} yg_event_t;

typedef void(yg_event_fn)(const yg_event_t *event, void *arg);

/* Drop the values held by a result filled by a blocking wrapper. */
void yg_result_release(yg_result_t *result);

/* The original's JSON view of a run result (spec 3.3 / 9.4): the state
 * map plus "__interrupt__": [{value, id}] when interrupted.  malloc'd
 * (free()), NULL on ENOMEM or a NULL result. */
char *yg_result_compat_json(const yg_result_t *result, bool pretty);

/* "completed", "interrupted" or "error". */
const char *yg_run_status_name(yg_run_status_t status);

/* ------------------------------------------------------------------------
 * Clients (one per host thread; not thread-safe themselves)
 * ------------------------------------------------------------------------ */

/* Per-run options; zero-initialise ({0}) for the defaults. */
typedef struct yg_run_opts {
    const char *thread_id; /* required when the graph has a checkpointer */
    int step_limit;        /* 0 = graph config.recursion_limit or runtime default */
    bool force;            /* resume even if the graph changed since the checkpoint */
    yg_durability_t durability; /* DEFAULT = the graph's, else the runtime's, else sync */
} yg_run_opts_t;

/* A new client connected to the runtime's coordinator.  NULL on failure. */
yg_client_t *yg_client_new(yg_runtime_t *runtime);

/* Destroy the client; requests still pending get no callback (runs keep
 * going in the runtime).  Sets *self_p to NULL.  NULL-safe. */
void yg_client_destroy(yg_client_t **self_p);

/* A file descriptor that becomes readable when replies may be waiting.  It
 * is EDGE-triggered (ZMQ_FD): after it signals, and after submitting any
 * request, call yg_client_dispatch until it returns 0. */
int yg_client_fd(yg_client_t *self);

/* Receive every waiting reply and event without blocking and invoke their
 * callbacks; returns the number of messages handled (0 when none was
 * waiting) or a negative error code. */
int yg_client_dispatch(yg_client_t *self);

/* Number of requests submitted by this client still waiting for a result. */
size_t yg_client_pending(const yg_client_t *self);

/* Wait up to timeout_ms (-1 = forever) for replies and dispatch them;
 * returns like yg_client_dispatch, 0 on timeout. */
int yg_client_wait(yg_client_t *self, int timeout_ms);

/* Asynchronous requests.  Each returns a request id (> 0) at once, or a
 * negative error code when the request could not be sent (no callback is
 * called then).  input / value are borrowed and encoded before returning. */

/* Run graph with an input map (NULL = empty) until it completes, errors or
 * pauses at an interrupt.  On a thread with saved state, the input is
 * merged into it and the run restarts at START (spec 9.3). */
int64_t yg_run_graph_async(yg_client_t *self, yg_graph_t *graph, const yg_value_t *input,
                           const yg_run_opts_t *opts, yg_result_fn *done, void *arg);

/* Same as yg_run_graph_async (runs always stop at interrupts); kept for
 * the seed's name run_until_interrupt_async. */
int64_t yg_run_until_interrupt_async(yg_client_t *self, yg_graph_t *graph,
                                     const yg_value_t *input, const yg_run_opts_t *opts,
                                     yg_result_fn *done, void *arg);

/* Resume the paused run of opts->thread_id with a value: a plain value when
 * exactly one interrupt is pending, or a map {interrupt id: value}. */
int64_t yg_resume_async(yg_client_t *self, yg_graph_t *graph, const yg_value_t *value,
                        const yg_run_opts_t *opts, yg_result_fn *done, void *arg);

/* Run like yg_run_graph_async and deliver the run's events to on_event
 * (in order, before the result). */
int64_t yg_stream_graph_async(yg_client_t *self, yg_graph_t *graph, const yg_value_t *input,
                              const yg_run_opts_t *opts, yg_event_fn *on_event,
                              void *event_arg, yg_result_fn *done, void *arg);

/* Resume with events (the streaming form of yg_resume_async). */
int64_t yg_stream_resume_async(yg_client_t *self, yg_graph_t *graph, const yg_value_t *value,
                               const yg_run_opts_t *opts, yg_event_fn *on_event,
                               void *event_arg, yg_result_fn *done, void *arg);

/* The latest checkpoint of a thread: result.state = values, result.snapshot
 * = the checkpoint map, result.interrupts = pending interrupts.  graph NULL
 * uses the runtime's checkpointer.  Unknown thread: YG_ENOTFOUND. */
int64_t yg_get_state_async(yg_client_t *self, yg_graph_t *graph, const char *thread_id,
                           yg_result_fn *done, void *arg);

/* The thread's checkpoints, newest first (at most limit; 0 = all) in
 * result.history; an empty list for an unknown thread. */
int64_t yg_get_history_async(yg_client_t *self, yg_graph_t *graph, const char *thread_id,
                             size_t limit, yg_result_fn *done, void *arg);

/* Cancel a run: the one started by this client's request run_request, or
 * (run_request 0) the active run of thread_id.  The run's own callback
 * gets status error YG_ECANCELLED; done reports whether a run was found. */
int64_t yg_cancel_async(yg_client_t *self, int64_t run_request, const char *thread_id,
                        yg_result_fn *done, void *arg);

/* Blocking wrappers: submit, then wait (dispatching other callbacks of this
 * client meanwhile) up to timeout_ms (0 = YG_DEFAULT_BLOCKING_TIMEOUT_MS).
 * On YG_OK *result is filled and owned (yg_result_release); a failed run
 * is YG_OK with result->status YG_RUN_ERROR.  YG_ETIMEOUT on timeout. */
int yg_run_graph(yg_client_t *self, yg_graph_t *graph, const yg_value_t *input,
                 const yg_run_opts_t *opts, int timeout_ms, yg_result_t *result);
int yg_resume(yg_client_t *self, yg_graph_t *graph, const yg_value_t *value,
              const yg_run_opts_t *opts, int timeout_ms, yg_result_t *result);
int yg_get_state(yg_client_t *self, yg_graph_t *graph, const char *thread_id,
                 int timeout_ms, yg_result_t *result);
int yg_get_history(yg_client_t *self, yg_graph_t *graph, const char *thread_id,
                   size_t limit, int timeout_ms, yg_result_t *result);

#ifdef __cplusplus
}
#endif
#include "yg_gateway_api.h" /* the public gateway (docs/protocol.md) */
#include "yg_prompt_api.h"  /* prompt execution (docs/providers.md) */
#endif
