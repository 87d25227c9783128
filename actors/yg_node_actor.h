/*
 * yg_node_actor.h - the node actor: one thread serving one graph node for
 * every run (DESIGN.md "Actors and threads", protocol in yg_msg.h).
 *
 * The actor connects a DEALER to the coordinator's ROUTER, announces itself
 * with "ready", then executes "task" messages (yg_exec.h) and answers with
 * "result" messages, batching everything produced in one loop wake-up into
 * one body.  At most `max_concurrency` tasks run at once; the rest wait in
 * a FIFO queue.  "cancel" aborts a run's tasks (no results).  "$TERM" on
 * the actor pipe ends the thread, cancelling whatever is in flight (child
 * processes are killed and reaped).
 */
#ifndef YG_NODE_ACTOR_H
#define YG_NODE_ACTOR_H

#include <czmq.h>

#include "yamlgraph/yg_error.h"
#include "yg_graph.h"
#include "yg_provider.h"

/* Tasks in flight per node actor when neither the runtime nor the node
 * says otherwise: enough to keep a remote LLM API busy, small enough that
 * memory per actor stays bounded. */
#define YG_NODE_DEFAULT_CONCURRENCY 1024
/* Messages read from the DEALER per wake-up before results are flushed. */
#define YG_NODE_ACTOR_DRAIN_MAX 4096
/* Retry period for a body refused with EAGAIN (coordinator busy). */
#define YG_NODE_ACTOR_RETRY_MS 5

typedef struct yg_node_actor_config {
    const yg_graph_t *graph;     /* shared read-only; outlives the actor */
    const yg_node_t *node;       /* a node of graph */
    const char *endpoint;        /* coordinator's node ROUTER (DEALER connects) */
    const char *worker_id;       /* NULL = "local" */
    int max_concurrency;         /* 0 = node->max_concurrency, else the default */
    yg_providers_t *providers;   /* a reference is taken; NULL = build from below */
    const char *provider_override; /* used when providers is NULL ("mock" or NULL) */
    const char *mock_file;       /* used when providers is NULL; may be NULL */
    const char *cwd;             /* base of relative tool working_dir; NULL = process cwd */
} yg_node_actor_config_t;

/* Start a node actor; cfg is copied.  NULL on bad config or when the mock
 * file cannot be loaded (logged). */
zactor_t *yg_node_actor_new(const yg_node_actor_config_t *cfg);
/* Same, with the reason of a failure in err. */
zactor_t *yg_node_actor_new_err(const yg_node_actor_config_t *cfg, yg_error_t *err);

/* The capacity an actor for this node would announce. */
int yg_node_actor_capacity(const yg_node_actor_config_t *cfg);

#endif
