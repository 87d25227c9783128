/*
 * yg_worker_api.h - remote workers: node actors of a graph hosted in one
 * process and connected over tcp to another process's coordinator
 * (DESIGN.md "Remote worker", docs/deployment.md).
 *
 * Worker side (the process that executes nodes):
 *
 *   yg_native_register("text_tools", "word_stats", word_stats, NULL);
 *   yg_worker_opts_t o;
 *   yg_worker_opts_init(&o);
 *   o.nodes = "stats";                        // NULL: every node of the graph
 *   yg_worker_t *w = yg_worker_new("graph.yaml", "tcp://coord:5560", &o, &err);
 *   ...                                       // runs until you stop it
 *   yg_worker_destroy(&w);                    // says goodbye, stops the actors
 *
 * The worker loads the graph itself (the same files as the coordinator
 * give the same graph hash), starts one node actor per selected node and
 * relays them to the coordinator's worker endpoint: one tcp connection per
 * node, heartbeats both ways, `ready` sent again after a reconnection.  A
 * coordinator that does not know the graph (a different file, prompt or
 * version: another hash) or the node rejects it; yg_worker_status then
 * reports the reason and the worker stops serving.
 *
 * Native functions (yg_native.h) registered in the worker's process serve
 * `type: python` tools of the nodes it runs: that is how a node that needs
 * Python in the original runs here (on a worker built with this API).
 *
 * Coordinator side: set yg_runtime_opts_t.worker_endpoint (and
 * remote_nodes to keep some nodes off the coordinator's host), then read
 * the bound endpoint with yg_runtime_worker_endpoint.
 */
#ifndef YG_WORKER_API_H
#define YG_WORKER_API_H

#include <stdbool.h>
#include <stdint.h>

#include "yamlgraph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Heartbeat interval of a worker connection (both ways), in ms. */
#define YG_WORKER_DEFAULT_HEARTBEAT_MS 1000
/* Bounds of a heartbeat interval (announced by the worker; the coordinator
 * clamps what it receives to this range). */
#define YG_WORKER_MIN_HEARTBEAT_MS 10
#define YG_WORKER_MAX_HEARTBEAT_MS 60000
/* Heartbeats missed before the other side is considered dead. */
#define YG_WORKER_DEFAULT_LIVENESS 3
#define YG_WORKER_MAX_LIVENESS 100
/* Longest worker id, in bytes (longer ids are refused). */
#define YG_WORKER_ID_MAX 63

typedef struct yg_worker yg_worker_t;

/* Worker options.  Initialise with yg_worker_opts_init, then override. */
typedef struct yg_worker_opts {
    /* Comma-separated node names to serve; NULL or "" = every executable
     * node of the graph and of its subgraphs.  A map node's name selects
     * its item sub-node.  An unknown name is an error. */
    const char *nodes;
    /* Tasks in flight per node actor; 0 = the node's max_concurrency, else
     * the built-in default. */
    int concurrency;
    /* Provider override for every model call (e.g. "mock"); NULL = graph's. */
    const char *provider;
    /* Mock reply file (implies nothing: set provider "mock" to use it). */
    const char *mock_file;
    /* Name shown in the coordinator's logs; NULL = "<hostname>-<pid>". */
    const char *worker_id;
    /* Heartbeat interval in ms; 0 = YG_WORKER_DEFAULT_HEARTBEAT_MS. */
    int heartbeat_ms;
    /* Missed heartbeats before the coordinator is reported unreachable;
     * 0 = YG_WORKER_DEFAULT_LIVENESS.  (ZeroMQ keeps reconnecting.) */
    int liveness;
    /* Base directory of relative tool working_dir; NULL = process cwd. */
    const char *cwd;
    /* yg_log_level_t; default YG_LOG_WARNING. */
    int log_level;
    /* When true, disable CZMQ's SIGINT/SIGTERM handlers (zsys_handler_set). */
    bool disable_signal_handlers;
} yg_worker_opts_t;

/* Counters of a worker (all connections together). */
typedef struct yg_worker_stats {
    int nodes;                /* node actors (connections) */
    int registered;           /* connections the coordinator acknowledged */
    bool coordinator_alive;   /* heard from the coordinator within liveness */
    uint64_t tasks;           /* tasks received */
    uint64_t results;         /* results sent */
    uint64_t dropped;         /* results dropped: their task was abandoned */
    uint64_t reregistrations; /* `ready` sent again after a reconnection */
} yg_worker_stats_t;

/* Fill opts with the defaults. */
void yg_worker_opts_init(yg_worker_opts_t *opts);

/* Load graph_path, start its node actors and connect them to endpoint (the
 * coordinator's worker endpoint, e.g. "tcp://10.0.0.5:5560").  Returns at
 * once: connecting and registering happen in the background (see
 * yg_worker_stats / yg_worker_status).  NULL with err on a bad graph, an
 * unknown node name, a bad endpoint or option, or a mock file error. */
yg_worker_t *yg_worker_new(const char *graph_path, const char *endpoint,
                           const yg_worker_opts_t *opts, yg_error_t *err);

/* Stop: tell the coordinator goodbye (it re-dispatches what was in flight
 * here at once), stop the node actors, close the connections, free the
 * graph.  Sets *self_p to NULL.  NULL-safe. */
void yg_worker_destroy(yg_worker_t **self_p);

/* YG_OK while the worker serves; otherwise the code of why it stopped
 * (e.g. YG_ENOTFOUND: the coordinator rejected the graph hash or a node)
 * with err (may be NULL) filled.  Thread-safe. */
int yg_worker_status(yg_worker_t *self, yg_error_t *err);

/* Wait up to timeout_ms (-1 = forever) for the worker to stop serving;
 * returns YG_ETIMEOUT when it still serves, else like yg_worker_status. */
int yg_worker_wait(yg_worker_t *self, int timeout_ms, yg_error_t *err);

/* Counters (a consistent-enough snapshot; thread-safe).  YG_EINVAL on NULL. */
int yg_worker_stats(yg_worker_t *self, yg_worker_stats_t *stats);

/* The graph the worker loaded (owned by the worker). */
yg_graph_t *yg_worker_graph(yg_worker_t *self);

/* Coordinator side: the worker endpoint the runtime's coordinator bound,
 * with the real port when the option used "*" (e.g. "tcp://127.0.0.1:*"
 * gives "tcp://127.0.0.1:41234"); NULL when the runtime has none. */
const char *yg_runtime_worker_endpoint(const yg_runtime_t *runtime);

#ifdef __cplusplus
}
#endif
#endif
