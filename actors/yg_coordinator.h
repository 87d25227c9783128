/*
 * yg_coordinator.h - the coordinator actor (internal).
 *
 * The coordinator owns every run of one shard: it keeps each run's state,
 * dispatches the tasks of each superstep to node actors, merges their
 * updates, evaluates edges, fans out and collects map items, turns
 * interrupts into checkpointed pauses, runs subgraph children and emits
 * events.  It is a CZMQ zactor with one zloop; nothing in it blocks.
 *
 * Sockets (bound by the actor):
 *   inproc://yg-coord-<id>-<shard>  ROUTER for node actors (yg_msg.h)
 *   inproc://yg-api-<id>-<shard>    ROUTER for clients (docs/architecture.md)
 *   cfg->worker_endpoint            the node ROUTER also binds here (tcp)
 *
 * Pipe commands (from the runtime, which waits for each reply):
 *   "GRAPH" <pointer yg_graph_t*>   register a graph and its children;
 *                                   replies "OK" or "ERR" <message>
 *   "WENDPOINT"                     replies the resolved worker endpoint
 *   "$TERM"                         end: runs in flight get YG_ECLOSED
 */
#ifndef YG_COORDINATOR_H
#define YG_COORDINATOR_H

#include <czmq.h>
#include <stdint.h>

#include "yamlgraph/yamlgraph.h"
#include "yg_graph.h"

/* Largest number of runs one coordinator holds at once. */
#define YG_COORD_MAX_RUNS 100000
/* Built-in map fan-out cap (memory safety) when the runtime sets none. */
#define YG_COORD_DEFAULT_MAX_MAP_ITEMS 1000000
/* Messages drained per socket wake-up before processing and flushing. */
#define YG_COORD_DRAIN_MAX 4096
/* Retry period for outbound messages refused with EAGAIN (peer full). */
#define YG_COORD_RETRY_MS 5
/* Subgraph nesting bound (a child run inside a child run ...). */
#define YG_COORD_MAX_CHILD_DEPTH 32
/* Durability async: checkpoints one run may have in flight before a step
 * waits for its save like in sync mode.  Bounds the memory held by a run
 * that outpaces its store, and the steps a crash can take back. */
#define YG_COORD_MAX_ASYNC_SAVES 8
/* Period of the remote-worker liveness check (only with a worker endpoint). */
#define YG_COORD_SWEEP_MS 100
/* Tasks one node may hold while no worker serves it (remote-only nodes);
 * beyond it the run that adds one fails with YG_ELIMIT.  Same order as the
 * fan-out cap, so one maximal map fan-out can wait. */
#define YG_COORD_MAX_WAITING_TASKS 1000000

typedef struct yg_coord_config {
    char runtime_id[32];          /* distinguishes runtimes in one process */
    int shard;                    /* 0-based shard index */
    char *checkpointer;           /* runtime checkpointer spec or NULL (owned copy) */
    char *worker_endpoint;        /* tcp endpoint or NULL (owned copy) */
    int step_limit;               /* > 0 */
    int64_t max_map_items;        /* > 0 */
    int log_level;
    int worker_liveness;          /* missed heartbeats = dead; 0 = default */
    yg_durability_t durability;   /* runtime default; DEFAULT = sync */
} yg_coord_config_t;

/* Start a coordinator; cfg is copied.  NULL if it could not bind or open
 * the runtime checkpointer (err says why). */
zactor_t *yg_coordinator_new(const yg_coord_config_t *cfg, yg_error_t *err);

/* Register a graph with a running coordinator (blocks for the reply). */
int yg_coordinator_add_graph(zactor_t *coord, yg_graph_t *graph, yg_error_t *err);

/* The resolved tcp worker endpoint (real port when bound with "*"), into
 * buf; "" when none.  Blocks for the coordinator's reply. */
int yg_coordinator_worker_endpoint(zactor_t *coord, char *buf, size_t size);

/* Endpoint names (written into buf, returned). */
char *yg_coordinator_node_endpoint(const char *runtime_id, int shard, char *buf, size_t size);
char *yg_coordinator_api_endpoint(const char *runtime_id, int shard, char *buf, size_t size);

#endif
