/*
 * yg_coord_internal.h - data shared by the coordinator's source files.
 *
 *   yg_coordinator.c   actor, sockets, outboxes, graph/worker registry,
 *                      node-actor and client message handling
 *   yg_coord_run.c     run life cycle: start, resume, supersteps, merge,
 *                      checkpoints, interrupts, completion, events
 *   yg_coord_edges.c   edge evaluation and map fan-out (spec 5, 4.5)
 */
#ifndef YG_COORD_INTERNAL_H
#define YG_COORD_INTERNAL_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "yamlgraph/yamlgraph.h"
#include "yamlgraph/yg_worker_api.h"
#include "yg_checkpoint.h"
#include "yg_coordinator.h"
#include "yg_graph.h"
#include "yg_merge.h"
#include "yg_msg.h"
#include "yg_msgpack.h"

#define COORD_NO_INDEX ((size_t)-1)

/* A node actor (local thread or remote worker) serving one graph node. */
typedef struct coord_worker {
    zframe_t *identity;    /* its ROUTER identity (owned) */
    char key[80];          /* hex identity, the registry key */
    struct coord_node *node;
    int capacity;
    int inflight;          /* tasks sent and not yet answered */
    char name[64];         /* the worker id it announced ("local" in-process) */
    int hb_ms;             /* announced heartbeat interval; 0 = in-process,
                              never declared dead by silence */
    int64_t last_seen;     /* zclock_mono() of its last message */
    uint64_t last_dispatch; /* dispatch sequence of its last task (round robin on ties) */
} coord_worker_t;

/* Per (graph, node): who serves it and what waits for a server. */
typedef struct coord_node {
    yg_node_t *node;
    zlistx_t *workers;     /* coord_worker_t * (owned by coord->workers) */
    yg_value_t *waiting;   /* list of task messages without a worker yet */
} coord_node_t;

typedef struct coord_graph {
    yg_graph_t *graph;     /* borrowed: the runtime owns it */
    yg_keyset_t *keys;
    coord_node_t *nodes;   /* parallel to graph->nodes */
    yg_ckpt_t *store;      /* borrowed from coord->stores; NULL = none */
    yg_value_t *warned;    /* dropped keys already warned about (map) */
} coord_graph_t;

typedef enum {
    TASK_PENDING = 0,      /* not sent yet */
    TASK_SENT,
    TASK_OK,               /* update present */
    TASK_INTERRUPT,        /* interrupt (+ update for interrupt_output_mapping) */
    TASK_ERROR
} coord_task_state_t;

typedef struct coord_task {
    size_t node_index;     /* graph->nodes index (a map's sub-node for items) */
    size_t order;          /* merge order: top-level node index (map node for items) */
    size_t map_node;       /* the map node index for items, else COORD_NO_INDEX */
    int64_t map_index;     /* item index, -1 when not a map item */
    yg_value_t *payload;   /* map items restored from a checkpoint: {<as>: item, _map_index: i} */
    yg_value_t *item;      /* map items of a fan-out: the item; the payload is built from it
                              only when needed (checkpoint, map path), packed directly when sent */
    yg_value_t *resume;    /* resume value when re-entering an interrupted node */
    yg_value_t *prior_interrupt; /* payload generated before the pause */
    coord_task_state_t state;
    yg_value_t *update;
    yg_value_t *interrupt;
    yg_value_t *error;
    coord_worker_t *worker; /* where it runs (NULL when waiting / done) */
} coord_task_t;

typedef enum {
    RUN_STARTING = 0,      /* loading the checkpoint / saving the input */
    RUN_STEPPING,          /* tasks in flight */
    RUN_SAVING,            /* waiting for a checkpoint save */
    RUN_DRAINING,          /* outcome decided, reply held until its saves completed */
    RUN_FINISHED
} coord_run_phase_t;

/* Checkpoint saves of one store, numbered in start order.  Stores complete
 * operations in the order they were started (yg_checkpoint.h), so "save n
 * completed" means every save numbered <= n completed: a run waits for the
 * number of its last save (docs/checkpoints.md "Durability"). */
typedef struct coord_save_seq {
    uint64_t issued;       /* saves started */
    uint64_t done;         /* saves completed (with any outcome) */
} coord_save_seq_t;

/* A reply held while a run drains (RUN_DRAINING). */
typedef struct coord_final {
    char *status;          /* "completed" | "interrupted" | "error" */
    int code;
    char *message;         /* NULL unless an error */
    yg_value_t *interrupts;
} coord_final_t;

typedef struct coord_run {
    uint64_t id;
    char id_str[24];
    coord_graph_t *cg;
    char *thread;          /* may be NULL (no checkpointer) */
    char *ns;              /* "" top level; node name for children */
    char *busy_key;        /* key in coord->threads, NULL if none */
    yg_ckpt_t *store;
    coord_run_phase_t phase;
    yg_value_t *state;
    int64_t step;          /* number of the last completed step (-1: input) */
    int64_t steps_run;     /* supersteps run by this invocation */
    int64_t step_limit;
    coord_task_t *tasks;   /* the current step's tasks, in merge order */
    size_t ntasks;
    size_t outstanding;    /* tasks not answered yet */
    char *last_ckpt_id;
    /* who asked */
    zframe_t *client;      /* api client, or the subgraph node actor (child) */
    int64_t req;
    bool subscribed;
    uint64_t seq;
    bool is_child;
    uint64_t parent_run;
    uint64_t parent_task;
    int depth;
    /* request data waiting for the checkpoint load */
    bool resuming;
    bool force;
    yg_value_t *input;
    yg_value_t *resume_value;
    /* durability (docs/checkpoints.md "Durability") */
    bool async_saves;      /* durability async: steps do not wait for their save */
    uint64_t save_ticket;  /* number of the last save of this run or its children */
    uint32_t saves_inflight; /* saves of this run not completed yet */
    int save_error;        /* first failed save (a yg_code_t), 0 = none */
    char *save_message;    /* its message (owned) */
    bool save_reported;    /* the run already fails with that error */
    coord_final_t final;   /* the held reply while RUN_DRAINING */
    void *drain_handle;    /* its entry in coord->draining, NULL when none */
} coord_run_t;

/* An outbox: the messages queued for one destination (yg_coordinator.c). */
typedef struct coord_outbox coord_outbox_t;

/* Outboxes with queued messages, flushed at the end of a wake-up. */
typedef struct coord_outq {
    coord_outbox_t **items;
    size_t size;
    size_t cap;
} coord_outq_t;

typedef struct coord {
    yg_coord_config_t cfg;
    zsock_t *pipe;
    zloop_t *loop;
    zsock_t *nodes_sock;   /* ROUTER for node actors */
    zsock_t *api_sock;     /* ROUTER for clients */
    zhashx_t *graphs;      /* hash hex -> coord_graph_t (owned) */
    zhashx_t *workers;     /* identity hex -> coord_worker_t (owned) */
    zhashx_t *runs;        /* run id string -> coord_run_t (owned) */
    zhashx_t *threads;     /* "<ns>|<thread>" -> run (borrowed): one active run per thread */
    zhashx_t *stores;      /* spec -> yg_ckpt_t (owned) */
    zhashx_t *save_seqs;   /* yg_ckpt_t * -> coord_save_seq_t (owned values) */
    zlistx_t *draining;    /* coord_run_t * in RUN_DRAINING (borrowed) */
    yg_ckpt_t *global_store; /* borrowed from stores; NULL = per graph */
    zhashx_t *out_nodes;   /* identity hex -> outbox (to node actors) */
    zhashx_t *out_api;     /* identity hex -> outbox (to clients) */
    int retry_timer;       /* zloop timer id, -1 when none */
    int sweep_timer;       /* worker liveness check (zloop timer id), -1 when none */
    uint64_t dispatch_seq; /* tasks dispatched so far (least-loaded tie-break) */
    char worker_bound[256]; /* the resolved tcp worker endpoint, "" when none */
    uint64_t next_run_id;
    bool terminating;
    coord_outq_t dirty[2]; /* outboxes to flush: [0] node actors, [1] clients */
    /* spin-before-block (yg_coordinator.c, docs/architecture.md "Performance") */
    size_t tasks_inflight; /* tasks sent to node actors and not answered */
    bool replied;          /* a client got a reply since the last spin decision */
    int depth;             /* > 0 while a handler runs (no nested spinning) */
    int64_t spin_ns;       /* current spin budget, 0 when not spinning */
    unsigned spin_skipped; /* spin decisions skipped since the last probe */
    bool spin_off;         /* YAMLGRAPH_SPIN=0 */
    int spin_timer;        /* zloop timer that spins after a store callback, -1 none */
} coord_t;

/* ---- yg_coordinator.c ---- */
void coord_log(coord_t *self, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Queue a message (takes ownership) to a node actor or client identity. */
void coord_send_node(coord_t *self, zframe_t *identity, yg_value_t *msg);
void coord_send_api(coord_t *self, zframe_t *identity, yg_value_t *msg);
/* Send everything queued (batched per destination). */
void coord_flush(coord_t *self);
/* Pack a message straight into a destination's outbox (the hot paths; no
 * intermediate map): box = coord_outbox_get(...); pk =
 * coord_outbox_begin(box, &mark); pack one complete message with pk;
 * coord_outbox_end(self, box, mark, ok) (ok false drops what was packed). */
coord_outbox_t *coord_outbox_get(coord_t *self, zframe_t *identity, bool api);
msgpack_packer *coord_outbox_begin(coord_outbox_t *box, size_t *mark);
void coord_outbox_end(coord_t *self, coord_outbox_t *box, size_t mark, bool ok);
/* The least-loaded worker of a node (counted as having one more task in
 * flight), or NULL when none serves it. */
coord_worker_t *coord_pick_worker(coord_t *self, coord_node_t *node);
/* A task was answered or abandoned: one less in flight on w. */
void coord_task_done(coord_t *self, coord_worker_t *w);
/* After a store callback (outside the socket handlers): spin for the
 * results of the tasks it dispatched (see "spin-before-block"). */
void coord_spin_soon(coord_t *self);
/* Send a task message (takes ownership) to the least-loaded worker of the
 * node, or queue it until one is ready; returns the worker or NULL.
 * *overflow (may be NULL) is set when no worker serves the node and its
 * waiting queue is full (YG_COORD_MAX_WAITING_TASKS): msg is dropped. */
coord_worker_t *coord_dispatch(coord_t *self, coord_node_t *node, yg_value_t *msg, bool *overflow);
coord_graph_t *coord_find_graph(coord_t *self, const char *id);
/* Identity as a hex registry key. */
void coord_identity_key(zframe_t *identity, char *buf, size_t size);

/* ---- yg_coord_run.c ---- */
/* An api request for a run ("run"/"resume") or a child request from a
 * subgraph node actor.  All values borrowed. */
typedef struct coord_start {
    coord_graph_t *cg;
    const char *thread;
    const char *ns;
    bool resume;
    bool force;
    bool subscribe;
    int64_t step_limit;
    const yg_value_t *input;
    const yg_value_t *resume_value;
    zframe_t *client;        /* borrowed; copied */
    int64_t req;
    bool is_child;
    uint64_t parent_run;
    uint64_t parent_task;
    yg_ckpt_t *store;        /* child runs: the parent's store */
    int depth;
    yg_durability_t durability; /* the request's (child runs: the parent's effective mode) */
} coord_start_t;

/* Start a run; on a request error replies with an error and returns it. */
int coord_run_start(coord_t *self, const coord_start_t *start);
coord_run_t *coord_run_find(coord_t *self, uint64_t id);
/* A node actor's "result" message (borrowed). */
void coord_run_on_result(coord_t *self, coord_worker_t *worker, const yg_value_t *msg);
/* A node actor's "event" message (borrowed). */
void coord_run_on_event(coord_t *self, const yg_value_t *msg);
/* Cancel a run (and its children); replies YG_ECANCELLED to its client. */
void coord_run_cancel(coord_t *self, coord_run_t *run);
/* End a run with an error reply (code + message). */
void coord_run_fail(coord_t *self, coord_run_t *run, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Re-send a task that waited for a worker. */
void coord_run_redispatch(coord_t *self, uint64_t run_id, uint64_t task_index);
/* Re-dispatch every task in flight on a worker that is gone (to another
 * worker of the node, or queued until one arrives).  Returns how many. */
size_t coord_run_worker_lost(coord_t *self, coord_worker_t *worker);
void coord_run_destroy(coord_t *self, coord_run_t **run_p);
/* The save counters of a store (created on first use); NULL on ENOMEM. */
coord_save_seq_t *coord_save_seq(coord_t *self, yg_ckpt_t *store);
/* Emit an event of a run to its subscriber (data: map, takes ownership). */
void coord_run_emit(coord_t *self, coord_run_t *run, const char *kind, yg_value_t *data);
/* Reply an error to a client request (not a run). */
void coord_reply_error(coord_t *self, zframe_t *client, int64_t req, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* get_state / history requests. */
void coord_state_request(coord_t *self, zframe_t *client, int64_t req, coord_graph_t *cg,
                         const char *thread, bool history, size_t limit);

/* ---- yg_coord_edges.c ---- */
/* The tasks of the next step after `run`'s current step was merged, or of
 * step 0 (START edges) when `from_start`.  Fills *tasks / *count (owned by
 * the caller, freed with coord_tasks_free).  run->state is the state before
 * the step's merge, merged the state after it.  Returns YG_OK or an error with
 * err (e.g. a fan-out over a non-list). */
int coord_next_tasks(coord_t *self, coord_run_t *run, bool from_start, const yg_value_t *merged,
                     coord_task_t **tasks, size_t *count, yg_error_t *err);
void coord_tasks_free(coord_task_t **tasks, size_t count);
/* A task's payload map {<as>: item, _map_index: i} (new reference), or
 * NULL when it has none. */
yg_value_t *coord_task_payload(const coord_run_t *run, const coord_task_t *t);

#endif
