/*
 * yg_coordinator.c - the coordinator actor: sockets, batching outboxes,
 * the graph and worker registries, and the handling of node-actor and
 * client messages.  The run life cycle lives in yg_coord_run.c, edge
 * evaluation in yg_coord_edges.c.
 */
#include "yg_coord_internal.h"
#include "yg_hex.h"
#include "yg_log.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An outbox packs its messages straight into one reusable buffer that
 * starts with room for an array32 header (0xdd + 4-byte count): a batch is
 * sent as [header, messages...], a single message without the header, and
 * nothing is built as an intermediate list or re-encoded on flush. */
#define OUTBOX_HEADER 5
/* A buffer that grew past this (a big reply) is released after the flush. */
#define OUTBOX_KEEP_BYTES (1024u * 1024u)
/* Idle client outboxes kept for reuse; beyond that an emptied one is freed
 * (clients come and go; node actors are few and keep theirs). */
#define OUTBOX_IDLE_API_MAX 64

/* Spin-before-block (docs/architecture.md, "Performance").  After a
 * wake-up that leaves tasks in flight on node actors (or that answered a
 * client, which often submits again at once), the coordinator polls its
 * sockets without blocking, yielding the CPU between polls, for up to a
 * budget before it returns to the blocking zloop poll: a passthrough
 * node's result comes back within a few microseconds of work, and catching
 * it saves this thread's sleep and wake-up (~15-30 us on a VM).  A spin
 * that catches a message restores the full budget; one that expires halves
 * it; below the minimum spinning stops and is probed again every
 * COORD_SPIN_PROBE decisions.  Never spins when idle: only right after
 * work, and never longer than the budget without a message. */
#define COORD_SPIN_MAX_NS 50000
#define COORD_SPIN_MIN_NS 4000
#define COORD_SPIN_PROBE 64
/* Longest stretch spent handling messages caught by spinning before zloop
 * gets control back (its timers, the actor pipe). */
#define COORD_SPIN_SESSION_NS 2000000

/* A sealed batch (full, or refused with EAGAIN), waiting to be sent. */
typedef struct sealed {
    char *data;
    size_t size;
    struct sealed *next;
} sealed_t;

/* Messages queued for one destination. */
struct coord_outbox {
    zframe_t *identity;
    char key[80];          /* the registry key (hex identity) */
    bool api;              /* a client (else a node actor) */
    bool dirty;            /* listed in coord->dirty[api] */
    msgpack_sbuffer buf;   /* OUTBOX_HEADER bytes, then `count` packed messages */
    msgpack_packer pk;
    size_t count;
    sealed_t *sealed;      /* older batches, sent before buf */
    sealed_t *sealed_tail;
};
typedef coord_outbox_t outbox_t;

typedef struct start_args {
    yg_coord_config_t cfg;
    int status;
    char error[YG_ERROR_MESSAGE_MAX];
} start_args_t;

static const yg_limits_t body_limits = {
    .max_bytes = YG_MSG_MAX_BODY,
    .max_depth = YG_LIMIT_DEFAULT_DEPTH,
    .max_elements = YG_LIMIT_DEFAULT_ELEMENTS,
    .max_string = YG_LIMIT_DEFAULT_STRING,
};

void coord_log(coord_t *self, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    yg_logv(self->cfg.log_level, level, NULL, fmt, ap);
    va_end(ap);
}

char *yg_coordinator_node_endpoint(const char *runtime_id, int shard, char *buf, size_t size)
{
    snprintf(buf, size, "inproc://yg-coord-%s-%d", runtime_id, shard);
    return buf;
}

char *yg_coordinator_api_endpoint(const char *runtime_id, int shard, char *buf, size_t size)
{
    snprintf(buf, size, "inproc://yg-api-%s-%d", runtime_id, shard);
    return buf;
}

void coord_identity_key(zframe_t *identity, char *buf, size_t size)
{
    yg_hex_encode(zframe_data(identity), zframe_size(identity), buf, size);
}

/* ---- outboxes ------------------------------------------------------------ */

static int send_frames(zsock_t *sock, zframe_t *identity, const char *body, size_t size);

static void outbox_reset(outbox_t *box)
{
    static const char zeros[OUTBOX_HEADER] = {0};
    if (box->buf.alloc > OUTBOX_KEEP_BYTES) {
        msgpack_sbuffer_destroy(&box->buf);
        msgpack_sbuffer_init(&box->buf);
    }
    box->buf.size = 0;
    box->count = 0;
    msgpack_sbuffer_write(&box->buf, zeros, sizeof zeros); /* failure shows at the next pack */
}

static void outbox_clear(outbox_t *box)
{
    while (box->sealed) {
        sealed_t *b = box->sealed;
        box->sealed = b->next;
        free(b->data);
        free(b);
    }
    box->sealed_tail = NULL;
    outbox_reset(box);
}

static void outbox_destroy(void **item)
{
    outbox_t *box = *item;
    if (!box)
        return;
    outbox_clear(box);
    msgpack_sbuffer_destroy(&box->buf);
    zframe_destroy(&box->identity);
    free(box);
    *item = NULL;
}

/* The body of the current batch: one message as is, several behind an
 * array header. */
static char *outbox_body(outbox_t *box, size_t *size)
{
    char *data = box->buf.data;
    *size = box->buf.size;
    if (box->count == 1) {
        *size -= OUTBOX_HEADER;
        return data + OUTBOX_HEADER;
    }
    data[0] = (char)0xdd;
    data[1] = (char)(box->count >> 24);
    data[2] = (char)(box->count >> 16);
    data[3] = (char)(box->count >> 8);
    data[4] = (char)box->count;
    return data;
}

/* Move the current batch to the sealed list (a copy; buf is reused). */
static void outbox_seal(coord_t *self, outbox_t *box)
{
    if (box->count == 0)
        return;
    size_t size;
    const char *body = outbox_body(box, &size);
    sealed_t *b = calloc(1, sizeof *b);
    if (b && !(b->data = malloc(size))) {
        free(b);
        b = NULL;
    }
    if (!b) {
        coord_log(self, YG_LOG_ERROR, "out of memory: %zu queued messages dropped", box->count);
    } else {
        memcpy(b->data, body, size);
        b->size = size;
        if (box->sealed_tail)
            box->sealed_tail->next = b;
        else
            box->sealed = b;
        box->sealed_tail = b;
    }
    outbox_reset(box);
}

static void outq_push(coord_t *self, outbox_t *box)
{
    coord_outq_t *q = &self->dirty[box->api];
    if (box->dirty)
        return;
    if (q->size == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        coord_outbox_t **grown = realloc(q->items, cap * sizeof *grown);
        if (!grown) {
            coord_log(self, YG_LOG_ERROR, "out of memory queueing an outbox");
            return; /* flushed with the next one that makes it */
        }
        q->items = grown;
        q->cap = cap;
    }
    q->items[q->size++] = box;
    box->dirty = true;
}

/* Forget a box (its messages are discarded). */
static void outbox_drop(coord_t *self, bool api, const char *key)
{
    char k[80];
    snprintf(k, sizeof k, "%s", key);
    zhashx_t *boxes = api ? self->out_api : self->out_nodes;
    outbox_t *box = zhashx_lookup(boxes, k);
    if (!box)
        return;
    coord_outq_t *q = &self->dirty[api];
    for (size_t i = 0; box->dirty && i < q->size; i++) {
        if (q->items[i] == box) {
            memmove(&q->items[i], &q->items[i + 1], (q->size - i - 1) * sizeof *q->items);
            q->size--;
            break;
        }
    }
    zhashx_delete(boxes, k);
}

coord_outbox_t *coord_outbox_get(coord_t *self, zframe_t *identity, bool api)
{
    char key[80];
    coord_identity_key(identity, key, sizeof key);
    zhashx_t *boxes = api ? self->out_api : self->out_nodes;
    outbox_t *box = zhashx_lookup(boxes, key);
    if (box)
        return box;
    box = calloc(1, sizeof *box);
    if (!box)
        return NULL;
    box->api = api;
    snprintf(box->key, sizeof box->key, "%s", key);
    msgpack_sbuffer_init(&box->buf);
    msgpack_packer_init(&box->pk, &box->buf, msgpack_sbuffer_write);
    outbox_reset(box);
    if (box->buf.size != OUTBOX_HEADER || !(box->identity = zframe_dup(identity))) {
        void *p = box;
        outbox_destroy(&p);
        return NULL;
    }
    zhashx_insert(boxes, key, box);
    return box;
}

msgpack_packer *coord_outbox_begin(coord_outbox_t *box, size_t *mark)
{
    *mark = box->buf.size;
    return &box->pk;
}

void coord_outbox_end(coord_t *self, coord_outbox_t *box, size_t mark, bool ok)
{
    if (!ok || mark < OUTBOX_HEADER) {
        /* drop the partial message (or repair a buffer that lost its
         * header: it holds no complete message then) */
        if (mark < OUTBOX_HEADER)
            outbox_reset(box);
        else
            box->buf.size = mark;
        coord_log(self, YG_LOG_ERROR, "cannot encode a message (out of memory or too deep)");
        return;
    }
    box->count++;
    if (box->api)
        self->replied = true;
    outq_push(self, box);
    if (box->count < YG_MSG_BATCH_MAX)
        return;
    /* A full batch goes out at once when nothing older waits (no copy, and
     * a 100,000-item fan-out does not hold every batch until the flush);
     * otherwise, or when the send fails, it is sealed and the flush deals
     * with it (including an unreachable peer, at the top level). */
    if (!box->sealed) {
        size_t size;
        const char *body = outbox_body(box, &size);
        if (send_frames(box->api ? self->api_sock : self->nodes_sock, box->identity, body, size) ==
            0) {
            outbox_reset(box);
            return;
        }
    }
    outbox_seal(self, box);
}

static void queue_message(coord_t *self, bool api, zframe_t *identity, yg_value_t *msg)
{
    outbox_t *box = coord_outbox_get(self, identity, api);
    if (!box) {
        coord_log(self, YG_LOG_ERROR, "out of memory queueing a message");
        yg_value_destroy(&msg);
        return;
    }
    size_t mark;
    msgpack_packer *pk = coord_outbox_begin(box, &mark);
    int rc = yg_msgpack_pack_value(pk, msg);
    yg_value_destroy(&msg);
    coord_outbox_end(self, box, mark, rc == YG_OK);
}

void coord_send_node(coord_t *self, zframe_t *identity, yg_value_t *msg)
{
    if (identity && msg)
        queue_message(self, false, identity, msg);
    else
        yg_value_destroy(&msg);
}

void coord_send_api(coord_t *self, zframe_t *identity, yg_value_t *msg)
{
    if (identity && msg)
        queue_message(self, true, identity, msg);
    else
        yg_value_destroy(&msg);
}

/* Send [identity, body] without blocking; returns 0 or errno. */
static int send_frames(zsock_t *sock, zframe_t *identity, const char *body, size_t size)
{
    void *raw = zsock_resolve(sock);
    if (zmq_send(raw, zframe_data(identity), zframe_size(identity), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return errno;
    if (zmq_send(raw, body, size, ZMQ_DONTWAIT) < 0)
        return errno; /* cannot happen once the first part was accepted */
    return 0;
}

#define WORKER_WHY_BYE "said goodbye"

/* A worker that is gone (unreachable, silent past its liveness, or said
 * goodbye): drop it from its node's list, re-dispatch every task it held
 * and forget it (a late result from its identity is then dropped).  With
 * drop_box, messages still queued for it are discarded too (not when
 * called while its outbox is being flushed: the flush discards them). */
static void worker_gone(coord_t *self, coord_worker_t *w, const char *why, bool drop_box)
{
    char key[sizeof w->key];
    snprintf(key, sizeof key, "%s", w->key);
    const char *node = w->node ? w->node->node->name : NULL;
    if (w->node) {
        void *handle = zlistx_find(w->node->workers, w);
        if (handle)
            zlistx_delete(w->node->workers, handle);
        w->node = NULL;
    }
    /* its tasks are re-dispatched (counted again on their new worker) */
    self->tasks_inflight -= (size_t)w->inflight < self->tasks_inflight ? (size_t)w->inflight
                                                                        : self->tasks_inflight;
    w->inflight = 0;
    size_t n = coord_run_worker_lost(self, w);
    /* a remote worker lost is worth a warning; a clean goodbye with
     * nothing in flight, or an in-process actor at shutdown, is not */
    bool quiet = w->hb_ms <= 0 || (n == 0 && strcmp(why, WORKER_WHY_BYE) == 0);
    if (node)
        coord_log(self, quiet ? YG_LOG_INFO : YG_LOG_WARNING,
                  "worker '%s' (node '%s') %s: dropped, %zu task(s) re-dispatched", w->name,
                  node, why, n);
    if (drop_box)
        outbox_drop(self, false, key);
    zhashx_delete(self->workers, key); /* frees w */
}

/* Send one outbox: its sealed batches in order, then the current one.
 * Returns true when it is empty afterwards. */
static bool flush_box(coord_t *self, zsock_t *sock, outbox_t *box)
{
    int e = 0;
    while (box->sealed) {
        sealed_t *b = box->sealed;
        if ((e = send_frames(sock, box->identity, b->data, b->size)) == EAGAIN ||
            e == EHOSTUNREACH)
            break;
        if (e != 0)
            coord_log(self, YG_LOG_WARNING, "send failed: %s", zmq_strerror(e));
        box->sealed = b->next;
        if (!box->sealed)
            box->sealed_tail = NULL;
        free(b->data);
        free(b);
    }
    if (!box->sealed && e != EHOSTUNREACH && box->count > 0) {
        size_t size;
        const char *body = outbox_body(box, &size);
        e = send_frames(sock, box->identity, body, size);
        if (e != EAGAIN && e != EHOSTUNREACH) {
            if (e != 0)
                coord_log(self, YG_LOG_WARNING, "send failed: %s", zmq_strerror(e));
            outbox_reset(box);
        }
    }
    if (e == EAGAIN) {
        outbox_seal(self, box); /* peer full: keep everything, retry from a timer */
        return false;
    }
    if (e == EHOSTUNREACH) {
        if (!box->api) {
            /* its tasks (these included) go to other workers */
            coord_worker_t *w = zhashx_lookup(self->workers, box->key);
            if (w)
                worker_gone(self, w, "is unreachable", false);
        } else {
            coord_log(self, YG_LOG_INFO, "client gone; dropping its replies");
        }
        outbox_clear(box);
    }
    return true;
}

static int retry_flush(zloop_t *loop, int timer_id, void *arg);

/* Flush the dirty outboxes of one kind.  Messages queued while flushing
 * (tasks re-dispatched from an unreachable worker) are flushed too. */
static bool flush_boxes(coord_t *self, bool api)
{
    coord_outq_t *q = &self->dirty[api];
    zsock_t *sock = api ? self->api_sock : self->nodes_sock;
    size_t keep = 0;
    for (size_t i = 0; i < q->size; i++) {
        outbox_t *box = q->items[i];
        if (!flush_box(self, sock, box)) {
            q->items[keep++] = box;
            continue;
        }
        box->dirty = false;
        if (api && zhashx_size(self->out_api) > OUTBOX_IDLE_API_MAX)
            outbox_drop(self, true, box->key); /* not listed any more: no shift */
    }
    q->size = keep;
    return keep == 0;
}

void coord_flush(coord_t *self)
{
    bool done_nodes = flush_boxes(self, false);
    bool done_api = flush_boxes(self, true);
    if ((!done_nodes || !done_api) && self->retry_timer < 0)
        self->retry_timer = zloop_timer(self->loop, YG_COORD_RETRY_MS, 1, retry_flush, self);
}

static int retry_flush(zloop_t *loop, int timer_id, void *arg)
{
    coord_t *self = arg;
    self->retry_timer = -1;
    coord_flush(self);
    return 0;
}

/* ---- registry ------------------------------------------------------------ */

static void worker_destroy(void **item)
{
    coord_worker_t *w = *item;
    if (!w)
        return;
    zframe_destroy(&w->identity);
    free(w);
    *item = NULL;
}

static void graph_destroy(void **item)
{
    coord_graph_t *cg = *item;
    if (!cg)
        return;
    for (size_t i = 0; cg->nodes && i < cg->graph->nodes_count; i++) {
        zlistx_destroy(&cg->nodes[i].workers);
        yg_value_destroy(&cg->nodes[i].waiting);
    }
    free(cg->nodes);
    yg_keyset_destroy(&cg->keys);
    yg_value_destroy(&cg->warned);
    free(cg);
    *item = NULL;
}

static void store_destroy(void **item)
{
    yg_ckpt_t *store = *item;
    yg_ckpt_destroy(&store);
    *item = NULL;
}

static size_t pointer_hash(const void *key)
{
    uintptr_t v = (uintptr_t)key;
    return (size_t)(v ^ (v >> 17)); /* allocations are aligned: mix the high bits in */
}

static int pointer_compare(const void *a, const void *b)
{
    return a == b ? 0 : ((uintptr_t)a < (uintptr_t)b ? -1 : 1);
}

static void save_seq_destroy(void **item)
{
    free(*item);
    *item = NULL;
}

coord_save_seq_t *coord_save_seq(coord_t *self, yg_ckpt_t *store)
{
    coord_save_seq_t *seq = zhashx_lookup(self->save_seqs, store);
    if (!seq && (seq = calloc(1, sizeof *seq)) != NULL && zhashx_insert(self->save_seqs, store, seq) != 0) {
        free(seq);
        seq = NULL;
    }
    return seq;
}

coord_graph_t *coord_find_graph(coord_t *self, const char *id)
{
    if (!id)
        return NULL;
    coord_graph_t *cg = zhashx_lookup(self->graphs, id);
    if (cg)
        return cg;
    for (cg = zhashx_first(self->graphs); cg; cg = zhashx_next(self->graphs)) {
        const yg_graph_t *g = cg->graph;
        if ((g->name && strcmp(g->name, id) == 0) || (g->path && strcmp(g->path, id) == 0))
            return cg;
    }
    return NULL;
}

/* Open (or share) the store a graph's own `checkpointer:` section asks for. */
static yg_ckpt_t *store_for_config(coord_t *self, const yg_graph_t *g, yg_error_t *err)
{
    char spec[1200];
    const yg_ckpt_config_t *c = &g->checkpointer;
    /* spec 9.1: redis ttl is in minutes, redis-simple ttl in seconds */
    int64_t ttl_s = c->ttl <= 0 ? 0 : c->type == YG_CKPT_REDIS ? c->ttl * 60 : c->ttl;
    switch (c->type) {
    case YG_CKPT_NONE:
        return NULL;
    case YG_CKPT_SQLITE:
    case YG_CKPT_FILE:
        if (c->path && c->path[0] && strcmp(c->path, ":memory:") != 0) {
            snprintf(spec, sizeof spec, "file:%s", c->path);
            break;
        }
        /* an in-memory database is a memory store */
        __attribute__((fallthrough));
    case YG_CKPT_MEMORY:
        snprintf(spec, sizeof spec, "memory:%s", g->hash_hex);
        break;
    case YG_CKPT_REDIS:
    case YG_CKPT_REDIS_SIMPLE:
        /* spec 9.1: an empty or unexpanded url ("${...") keeps a memory store */
        if (c->url && c->url[0] && strncmp(c->url, "${", 2) != 0) {
            snprintf(spec, sizeof spec, "redis:%" PRId64 ":%s:%s", ttl_s,
                     c->key_prefix ? c->key_prefix : "", c->url);
            break;
        }
        coord_log(self, YG_LOG_WARNING,
                  "graph '%s': checkpointer '%s' has an empty or unexpanded url ('%s'): using "
                  "an in-process memory store",
                  g->name, c->type_name ? c->type_name : "?", c->url ? c->url : "");
        snprintf(spec, sizeof spec, "memory:%s", g->hash_hex);
        break;
    default:
        snprintf(spec, sizeof spec, "memory:%s", g->hash_hex);
        break;
    }
    yg_ckpt_t *store = zhashx_lookup(self->stores, spec);
    if (store)
        return store;
    if (strncmp(spec, "memory:", 7) == 0)
        store = yg_ckpt_memory_new(self->loop);
    else if (strncmp(spec, "redis:", 6) == 0)
        store = yg_ckpt_redis_new(self->loop, c->url, c->key_prefix, ttl_s, err);
    else
        store = yg_ckpt_file_new(self->loop, spec + 5, err);
    if (store)
        zhashx_insert(self->stores, spec, store);
    else if (err && err->code == YG_OK)
        yg_error_set(err, YG_ENOMEM, "out of memory opening a checkpointer");
    return store;
}

static int register_graph(coord_t *self, yg_graph_t *g, yg_ckpt_t *inherited, int depth,
                          yg_error_t *err)
{
    if (depth > YG_COORD_MAX_CHILD_DEPTH)
        return yg_error_set(err, YG_ELIMIT, "subgraphs nested too deeply");
    coord_graph_t *cg = zhashx_lookup(self->graphs, g->hash_hex);
    if (!cg) {
        cg = calloc(1, sizeof *cg);
        if (!cg)
            return yg_error_set(err, YG_ENOMEM, "out of memory");
        cg->graph = g;
        cg->keys = yg_keyset_from_graph(g);
        cg->warned = yg_map_new();
        cg->nodes = calloc(g->nodes_count + 1, sizeof *cg->nodes);
        bool ok = cg->keys && cg->warned && cg->nodes;
        for (size_t i = 0; ok && i < g->nodes_count; i++) {
            cg->nodes[i].node = g->nodes[i];
            cg->nodes[i].workers = zlistx_new();
            cg->nodes[i].waiting = yg_list_new();
            ok = cg->nodes[i].workers && cg->nodes[i].waiting;
        }
        void *p = cg;
        if (!ok) {
            graph_destroy(&p);
            return yg_error_set(err, YG_ENOMEM, "out of memory");
        }
        /* a child keeps the parent's store (spec 9.5): its own section is ignored */
        if (self->global_store)
            cg->store = self->global_store;
        else if (depth > 0)
            cg->store = inherited;
        else {
            yg_error_t serr = { 0 };
            cg->store = store_for_config(self, g, &serr);
            if (!cg->store && serr.code != YG_OK) {
                graph_destroy(&p);
                return yg_error_set(err, serr.code, "graph '%s': checkpointer: %s", g->name,
                                    serr.message);
            }
        }
        zhashx_insert(self->graphs, g->hash_hex, cg);
    }
    for (size_t i = 0; i < g->nodes_count; i++) {
        const yg_node_t *n = g->nodes[i];
        if (n->type == YG_NODE_SUBGRAPH && n->child) {
            int rc = register_graph(self, n->child, cg->store, depth + 1, err);
            if (rc != YG_OK)
                return rc;
        }
    }
    return YG_OK;
}

/* Drop waiting task messages whose task no longer waits (run finished or
 * cancelled, task already re-sent). */
static void compact_waiting(coord_t *self, coord_node_t *node)
{
    yg_value_t *kept = yg_list_new();
    if (!kept)
        return;
    for (size_t i = 0; i < yg_list_size(node->waiting); i++) {
        yg_value_t *m = yg_list_get(node->waiting, i);
        coord_run_t *run = coord_run_find(self, (uint64_t)yg_value_int(yg_map_get(m, "run")));
        int64_t t = yg_value_int(yg_map_get(m, "task"));
        if (run && run->phase == RUN_STEPPING && t >= 0 && (size_t)t < run->ntasks &&
            run->tasks[t].state == TASK_SENT && !run->tasks[t].worker)
            yg_list_append(kept, yg_value_ref(m));
    }
    yg_value_destroy(&node->waiting);
    node->waiting = kept;
}

coord_worker_t *coord_pick_worker(coord_t *self, coord_node_t *node)
{
    /* least loaded; on a tie the one that got a task least recently, so
     * idle workers take turns instead of the first one taking everything */
    coord_worker_t *best = NULL;
    for (coord_worker_t *w = zlistx_first(node->workers); w; w = zlistx_next(node->workers))
        if (!best || w->inflight < best->inflight ||
            (w->inflight == best->inflight && w->last_dispatch < best->last_dispatch))
            best = w;
    if (best) {
        best->inflight++;
        best->last_dispatch = ++self->dispatch_seq;
        self->tasks_inflight++;
    }
    return best;
}

void coord_task_done(coord_t *self, coord_worker_t *w)
{
    if (w && w->inflight > 0) {
        w->inflight--;
        if (self->tasks_inflight > 0)
            self->tasks_inflight--;
    }
}

coord_worker_t *coord_dispatch(coord_t *self, coord_node_t *node, yg_value_t *msg, bool *overflow)
{
    coord_worker_t *best = coord_pick_worker(self, node);
    if (!best) {
        if (yg_list_size(node->waiting) >= YG_COORD_MAX_WAITING_TASKS)
            compact_waiting(self, node);
        if (yg_list_size(node->waiting) >= YG_COORD_MAX_WAITING_TASKS) {
            if (overflow)
                *overflow = true;
            yg_value_destroy(&msg);
            return NULL;
        }
        if (yg_list_append(node->waiting, msg) != YG_OK)
            yg_value_destroy(&msg);
        return NULL;
    }
    coord_send_node(self, best->identity, msg);
    return best;
}

/* ---- node actor messages -------------------------------------------------- */

/* Answer a "ready" the coordinator cannot accept. */
static void reject_ready(coord_t *self, zframe_t *identity, const yg_value_t *msg, int code,
                         const char *message)
{
    const char *worker = yg_value_str(yg_map_get(msg, "worker"));
    coord_log(self, YG_LOG_WARNING, "worker '%s' rejected: %s", worker ? worker : "?", message);
    yg_value_t *m = yg_map_new();
    if (!m)
        return;
    yg_map_set(m, YG_MSG_TYPE, yg_str_new(YG_MSG_REJECT));
    yg_map_set(m, "code", yg_int_new(code));
    yg_map_set(m, "type", yg_str_new(yg_strerror(code)));
    yg_map_set(m, "message", yg_str_new(message));
    const char *hash = yg_value_str(yg_map_get(msg, "graph"));
    const char *node = yg_value_str(yg_map_get(msg, "node"));
    yg_map_set(m, "graph", yg_str_new(hash ? hash : ""));
    yg_map_set(m, "node", yg_str_new(node ? node : ""));
    coord_send_node(self, identity, m);
}

/* "graph 'x' (abcd1234...)" for the loaded graphs, into buf. */
static void describe_graphs(coord_t *self, const char *name, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (coord_graph_t *cg = zhashx_first(self->graphs); cg && o + 1 < size;
         cg = zhashx_next(self->graphs)) {
        if (name && cg->graph->name && strcmp(cg->graph->name, name) != 0)
            continue;
        int n = snprintf(buf + o, size - o, "%s'%s' %.12s", o ? ", " : "",
                         cg->graph->name ? cg->graph->name : "?", cg->graph->hash_hex);
        if (n < 0 || (size_t)n >= size - o)
            break;
        o += (size_t)n;
    }
}

static void on_ready(coord_t *self, zframe_t *identity, const yg_value_t *msg)
{
    const char *hash = yg_value_str(yg_map_get(msg, "graph"));
    const char *name = yg_value_str(yg_map_get(msg, "node"));
    const char *gname = yg_value_str(yg_map_get(msg, "graph_name"));
    coord_graph_t *cg = hash ? zhashx_lookup(self->graphs, hash) : NULL;
    yg_node_t *node = cg && name ? yg_graph_node(cg->graph, name) : NULL;
    if (!cg) {
        char loaded[512], text[1024];
        describe_graphs(self, gname, loaded, sizeof loaded);
        if (!loaded[0])
            describe_graphs(self, NULL, loaded, sizeof loaded);
        snprintf(text, sizeof text,
                 "graph '%s' with hash %.12s is not loaded by the coordinator (it has %s): "
                 "start the worker with the same graph, prompt and subgraph files",
                 gname ? gname : "?", hash ? hash : "?", loaded[0] ? loaded : "no graph");
        reject_ready(self, identity, msg, YG_ENOTFOUND, text);
        return;
    }
    if (!node || node->type == YG_NODE_MAP) {
        char text[512];
        snprintf(text, sizeof text, "graph '%s' has no executable node '%s'",
                 cg->graph->name ? cg->graph->name : "?", name ? name : "");
        reject_ready(self, identity, msg, YG_ENOTFOUND, text);
        return;
    }
    coord_node_t *cn = &cg->nodes[node->index];
    char key[80];
    coord_identity_key(identity, key, sizeof key);
    coord_worker_t *w = zhashx_lookup(self->workers, key);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w || !(w->identity = zframe_dup(identity))) {
            free(w);
            return;
        }
        snprintf(w->key, sizeof w->key, "%s", key);
        zhashx_insert(self->workers, key, w);
    }
    w->capacity = (int)yg_value_int(yg_map_get(msg, "capacity"));
    const char *wname = yg_value_str(yg_map_get(msg, "worker"));
    snprintf(w->name, sizeof w->name, "%s", wname ? wname : "?");
    int64_t hb = yg_value_int(yg_map_get(msg, "hb_ms"));
    w->hb_ms = hb <= 0 ? 0
               : hb < YG_WORKER_MIN_HEARTBEAT_MS ? YG_WORKER_MIN_HEARTBEAT_MS
               : hb > YG_WORKER_MAX_HEARTBEAT_MS ? YG_WORKER_MAX_HEARTBEAT_MS
                                                 : (int)hb;
    w->last_seen = zclock_mono();
    if (w->hb_ms > 0)
        coord_log(self, YG_LOG_INFO, "worker '%s' serves node '%s' of graph '%s'", w->name,
                  node->name, cg->graph->name ? cg->graph->name : "?");
    if (w->node != cn) {
        if (w->node) {
            void *h = zlistx_find(w->node->workers, w);
            if (h)
                zlistx_delete(w->node->workers, h);
        }
        w->node = cn;
        zlistx_add_end(cn->workers, w);
    }
    /* tasks that waited for a server */
    yg_value_t *waiting = cn->waiting;
    cn->waiting = yg_list_new();
    for (size_t i = 0; i < yg_list_size(waiting); i++) {
        yg_value_t *m = yg_list_get(waiting, i);
        coord_run_redispatch(self, (uint64_t)yg_value_int(yg_map_get(m, "run")),
                             (uint64_t)yg_value_int(yg_map_get(m, "task")));
    }
    yg_value_destroy(&waiting);
}

static void on_child(coord_t *self, zframe_t *identity, const yg_value_t *msg)
{
    uint64_t run_id = (uint64_t)yg_value_int(yg_map_get(msg, "run"));
    uint64_t task = (uint64_t)yg_value_int(yg_map_get(msg, "task"));
    coord_run_t *parent = coord_run_find(self, run_id);
    const char *op = yg_value_str(yg_map_get(msg, "op"));
    const char *hash = yg_value_str(yg_map_get(msg, "graph"));
    coord_graph_t *cg = coord_find_graph(self, hash);
    if (!parent || parent->phase != RUN_STEPPING || task >= parent->ntasks) {
        coord_log(self, YG_LOG_INFO, "child request for a finished run %" PRIu64 " ignored", run_id);
        return;
    }
    coord_start_t s = { .cg = cg,
                        .thread = yg_value_str(yg_map_get(msg, "thread")),
                        .ns = "", /* the child thread id <parent>:<node> is unique */
                        .resume = op && strcmp(op, "resume") == 0,
                        .input = yg_map_get(msg, "input"),
                        .resume_value = yg_map_get(msg, "resume"),
                        .client = identity,
                        .req = 0,
                        .is_child = true,
                        .parent_run = run_id,
                        .parent_task = task,
                        .store = parent->store,
                        .depth = parent->depth + 1,
                        .step_limit = 0,
                        /* a child saves into its parent's store, in its mode */
                        .durability = parent->async_saves ? YG_DURABILITY_ASYNC
                                                          : YG_DURABILITY_SYNC };
    if (!cg) {
        yg_value_t *done = yg_map_new();
        yg_map_set(done, YG_MSG_TYPE, yg_str_new(YG_MSG_CHILD_DONE));
        yg_map_set(done, "run", yg_int_new((int64_t)run_id));
        yg_map_set(done, "task", yg_int_new((int64_t)task));
        yg_map_set(done, "status", yg_str_new("error"));
        yg_value_t *e = yg_map_new();
        yg_map_set(e, "code", yg_int_new(YG_ENOTFOUND));
        yg_map_set(e, "message", yg_str_newf("unknown child graph %s", hash ? hash : "?"));
        yg_map_set(done, "error", e);
        coord_send_node(self, identity, done);
        return;
    }
    /* the parent task was re-dispatched (its worker died) while its child
     * run goes on: the new subgraph actor takes over the child's reply */
    for (coord_run_t *r = zhashx_first(self->runs); r; r = zhashx_next(self->runs)) {
        if (r->is_child && r->parent_run == run_id && r->parent_task == task &&
            r->phase != RUN_FINISHED) {
            zframe_t *client = zframe_dup(identity);
            if (client) {
                zframe_destroy(&r->client);
                r->client = client;
                coord_log(self, YG_LOG_INFO, "child run %s re-attached to a new subgraph actor",
                          r->id_str);
            }
            return;
        }
    }
    coord_run_start(self, &s);
}

static void handle_node_message(coord_t *self, zframe_t *identity, const yg_value_t *msg)
{
    const char *t = yg_value_str(yg_map_get(msg, YG_MSG_TYPE));
    if (!t) {
        coord_log(self, YG_LOG_WARNING, "node message without a type dropped");
        return;
    }
    char key[80];
    coord_identity_key(identity, key, sizeof key);
    coord_worker_t *w = zhashx_lookup(self->workers, key);
    if (w)
        w->last_seen = zclock_mono(); /* any message proves it alive */
    if (strcmp(t, YG_MSG_RESULT) == 0)
        coord_run_on_result(self, w, msg);
    else if (strcmp(t, YG_MSG_EVENT) == 0)
        coord_run_on_event(self, msg);
    else if (strcmp(t, YG_MSG_READY) == 0)
        on_ready(self, identity, msg);
    else if (strcmp(t, YG_MSG_CHILD) == 0)
        on_child(self, identity, msg);
    else if (strcmp(t, YG_MSG_HEARTBEAT) == 0) {
        /* known false asks a worker we do not count (reconnected, declared
         * dead, or we restarted) to drop its tasks and send ready again */
        yg_value_t *hb = yg_map_new();
        if (hb) {
            yg_map_set(hb, YG_MSG_TYPE, yg_str_new(YG_MSG_HEARTBEAT));
            yg_map_set(hb, "known", yg_bool_new(w && w->node));
        }
        coord_send_node(self, identity, hb);
    } else if (strcmp(t, YG_MSG_BYE) == 0) {
        if (w)
            worker_gone(self, w, WORKER_WHY_BYE, true);
    } else
        coord_log(self, YG_LOG_WARNING, "unknown node message type '%s' dropped", t);
}

/* ---- client messages ------------------------------------------------------ */

static const char *opt_str(const yg_value_t *m, const char *key)
{
    return yg_value_str(yg_map_get(m, key));
}

static void api_run(coord_t *self, zframe_t *client, int64_t req, const yg_value_t *msg, bool resume)
{
    const char *gid = opt_str(msg, "graph");
    coord_graph_t *cg = coord_find_graph(self, gid);
    if (!cg) {
        coord_reply_error(self, client, req, YG_ENOTFOUND, "unknown graph '%s'", gid ? gid : "");
        return;
    }
    const yg_value_t *opts = yg_map_get(msg, "opts");
    const yg_value_t *input = yg_map_get(msg, "input");
    if (!resume && input && yg_value_type(input) != YG_MAP && yg_value_type(input) != YG_NULL) {
        coord_reply_error(self, client, req, YG_EINVAL, "run input must be a map, got %s",
                          yg_type_name(yg_value_type(input)));
        return;
    }
    yg_durability_t durability = YG_DURABILITY_DEFAULT;
    const yg_value_t *dv = yg_map_get(opts, "durability");
    if (dv && (yg_value_type(dv) != YG_STR ||
               yg_durability_parse(yg_value_str(dv), &durability) != YG_OK)) {
        coord_reply_error(self, client, req, YG_EINVAL,
                          "opts.durability must be \"sync\" or \"async\"");
        return;
    }
    coord_start_t s = { .cg = cg,
                        .thread = opt_str(msg, "thread"),
                        .ns = "",
                        .durability = durability,
                        .resume = resume,
                        .force = yg_value_bool(yg_map_get(opts, "force")),
                        .subscribe = yg_value_bool(yg_map_get(opts, "stream")),
                        .step_limit = yg_value_int(yg_map_get(opts, "step_limit")),
                        .input = input,
                        .resume_value = yg_map_get(msg, "value"),
                        .client = client,
                        .req = req,
                        .store = cg->store };
    coord_run_start(self, &s);
}

static void api_cancel(coord_t *self, zframe_t *client, int64_t req, const yg_value_t *msg)
{
    int64_t target = yg_value_int(yg_map_get(msg, "run_req"));
    const char *thread = opt_str(msg, "thread");
    coord_run_t *found = NULL;
    for (coord_run_t *r = zhashx_first(self->runs); r; r = zhashx_next(self->runs)) {
        if (r->is_child || r->phase == RUN_FINISHED || r->phase == RUN_DRAINING)
            continue; /* a draining run has its outcome: only its reply waits */
        if (target > 0 && r->req == target && r->client && zframe_eq(r->client, client)) {
            found = r;
            break;
        }
        if (target <= 0 && thread && r->thread && strcmp(r->thread, thread) == 0) {
            found = r;
            break;
        }
    }
    if (!found) {
        coord_reply_error(self, client, req, YG_ENOTFOUND, "no active run to cancel");
        return;
    }
    coord_run_cancel(self, found);
    yg_value_t *reply = yg_map_new();
    yg_map_set(reply, YG_MSG_TYPE, yg_str_new("result"));
    yg_map_set(reply, "req", yg_int_new(req));
    yg_map_set(reply, "status", yg_str_new("completed"));
    coord_send_api(self, client, reply);
}

static void handle_api_message(coord_t *self, zframe_t *client, const yg_value_t *msg)
{
    const char *t = opt_str(msg, YG_MSG_TYPE);
    yg_value_t *reqv = yg_map_get(msg, "req");
    int64_t req = yg_value_int(reqv);
    if (!t || yg_value_type(reqv) != YG_INT) {
        coord_reply_error(self, client, req, YG_EPROTO,
                          "a request needs a string 't' and an integer 'req'");
        return;
    }
    if (self->terminating) {
        coord_reply_error(self, client, req, YG_ECLOSED, "runtime is shutting down");
        return;
    }
    if (strcmp(t, "run") == 0)
        api_run(self, client, req, msg, false);
    else if (strcmp(t, "resume") == 0)
        api_run(self, client, req, msg, true);
    else if (strcmp(t, "state") == 0 || strcmp(t, "history") == 0) {
        const char *gid = opt_str(msg, "graph");
        coord_graph_t *cg = gid ? coord_find_graph(self, gid) : NULL;
        if (gid && !cg) {
            coord_reply_error(self, client, req, YG_ENOTFOUND, "unknown graph '%s'", gid);
            return;
        }
        int64_t limit = yg_value_int(yg_map_get(msg, "limit"));
        coord_state_request(self, client, req, cg, opt_str(msg, "thread"), t[0] == 'h',
                            limit > 0 ? (size_t)limit : 0);
    } else if (strcmp(t, "cancel") == 0)
        api_cancel(self, client, req, msg);
    else
        coord_reply_error(self, client, req, YG_EPROTO, "unknown request type '%s'", t);
}

/* ---- socket readers -------------------------------------------------------- */

/* Receive one [identity, body] message without blocking.  Returns 1 when a
 * message was read, 0 when none was waiting, -1 on a malformed message.
 * Straight from the socket (no zmq_poll, no zmsg per message: both showed
 * in the per-step profile). */
static int recv_one(zsock_t *sock, zframe_t **identity, yg_value_t **body, coord_t *self)
{
    void *raw = zsock_resolve(sock);
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, raw, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&part);
        return 0;
    }
    /* a ROUTER delivers whole messages: the rest of the parts is there */
    *identity = zmq_msg_more(&part) ? zframe_new(zmq_msg_data(&part), zmq_msg_size(&part)) : NULL;
    zmq_msg_close(&part);
    int frames = 1, rc = 1;
    bool more = *identity != NULL;
    zmq_msg_init(&part);
    while (more && zmq_msg_recv(&part, raw, ZMQ_DONTWAIT) >= 0) {
        frames++;
        more = zmq_msg_more(&part);
        if (frames == 2 && !more && zmq_msg_size(&part) <= YG_MSG_MAX_BODY) {
            yg_error_t err = { 0 };
            *body = yg_msgpack_decode(zmq_msg_data(&part), zmq_msg_size(&part), &body_limits,
                                      &err);
            if (!*body) {
                coord_log(self, YG_LOG_WARNING, "undecodable message dropped: %s", err.message);
                rc = -1;
            }
        }
        zmq_msg_close(&part);
        zmq_msg_init(&part);
    }
    zmq_msg_close(&part);
    if (rc > 0 && (frames != 2 || !*body)) {
        coord_log(self, YG_LOG_WARNING, "malformed message dropped (frames or size)");
        yg_value_destroy(body);
        rc = -1;
    }
    return rc;
}

static void handle_body(coord_t *self, zframe_t *identity, const yg_value_t *body, bool api)
{
    if (yg_value_type(body) == YG_LIST) {
        for (size_t i = 0; i < yg_list_size(body); i++)
            handle_body(self, identity, yg_list_get(body, i), api);
        return;
    }
    if (yg_value_type(body) != YG_MAP) {
        if (api)
            coord_reply_error(self, identity, 0, YG_EPROTO, "a request body must be a map");
        return;
    }
    if (api)
        handle_api_message(self, identity, body);
    else
        handle_node_message(self, identity, body);
}

/* Handle every message waiting on one socket (up to the drain limit). */
static void drain_socket(coord_t *self, zsock_t *sock, bool api)
{
    for (int i = 0; i < YG_COORD_DRAIN_MAX; i++) {
        zframe_t *identity = NULL;
        yg_value_t *body = NULL;
        int rc = recv_one(sock, &identity, &body, self);
        if (rc == 0)
            break;
        if (rc > 0) {
            if (yg_value_type(body) == YG_LIST && api && yg_list_size(body) > YG_MSG_BATCH_MAX)
                coord_reply_error(self, identity, 0, YG_ELIMIT, "request batch too large");
            else
                handle_body(self, identity, body, api);
        } else if (api && identity) {
            coord_reply_error(self, identity, 0, YG_EPROTO, "malformed request frame");
        }
        yg_value_destroy(&body);
        zframe_destroy(&identity);
    }
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The budget of the next spin, 0 for none (see COORD_SPIN_MAX_NS). */
static int64_t spin_budget(coord_t *self)
{
    if (self->spin_ns > 0 || self->spin_off)
        return self->spin_ns;
    if (++self->spin_skipped < COORD_SPIN_PROBE)
        return 0;
    self->spin_skipped = 0;
    return COORD_SPIN_MAX_NS / 2; /* probe: has the traffic changed? */
}

/* Does a store served by another process (Redis) have saves in flight?
 * Then this thread does not spin: the spin does not watch the store's
 * socket, and on a small host the store server needs the CPU the spin
 * would take (W6 in durability async: the node actor runs the next step
 * while the previous step's save is with Redis).  Top level only (the
 * iteration moves the table's cursor). */
static bool remote_saves_pending(coord_t *self)
{
    for (coord_save_seq_t *seq = zhashx_first(self->save_seqs); seq;
         seq = zhashx_next(self->save_seqs)) {
        const yg_ckpt_t *store = zhashx_cursor(self->save_seqs);
        if (seq->issued > seq->done && yg_ckpt_is_remote(store))
            return true;
    }
    return false;
}

/* Spin-before-block, from the top level of a zloop callback only (never
 * nested inside a handler: the flag `depth` guards it). */
static void coord_spin(coord_t *self)
{
    int64_t session_end = 0;
    zmq_pollitem_t items[3] = {{zsock_resolve(self->nodes_sock), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(self->api_sock), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(self->pipe), 0, ZMQ_POLLIN, 0}};
    while (self->depth == 0 && !self->terminating && (self->tasks_inflight > 0 || self->replied)) {
        self->replied = false;
        if (remote_saves_pending(self))
            return;
        int64_t budget = spin_budget(self);
        if (budget <= 0)
            return;
        int64_t start = mono_ns(), now = start;
        if (!session_end)
            session_end = start + COORD_SPIN_SESSION_NS;
        int ready = 0;
        while ((ready = zmq_poll(items, 3, 0)) == 0 && (now = mono_ns()) - start < budget)
            sched_yield(); /* on 2 cores: a runnable node actor gets this CPU */
        if (ready <= 0) {
            self->spin_ns = budget / 2 >= COORD_SPIN_MIN_NS ? budget / 2 : 0;
            return;
        }
        /* YAMLGRAPH_SPIN=0 turns spinning off (CPU-starved hosts, or to count
     * instructions per step without the polling loops) */
    const char *spin = getenv("YAMLGRAPH_SPIN");
    self->spin_off = spin && strcmp(spin, "0") == 0;
    self->spin_ns = self->spin_off ? 0 : COORD_SPIN_MAX_NS;
        if (items[2].revents & ZMQ_POLLIN)
            return; /* a command: zloop handles it */
        self->depth++;
        if (items[0].revents & ZMQ_POLLIN)
            drain_socket(self, self->nodes_sock, false);
        if (items[1].revents & ZMQ_POLLIN)
            drain_socket(self, self->api_sock, true);
        coord_flush(self);
        self->depth--;
        if (mono_ns() >= session_end)
            return;
    }
}

static int on_spin_timer(zloop_t *loop, int timer_id, void *arg)
{
    coord_t *self = arg;
    self->spin_timer = -1;
    coord_spin(self);
    return 0;
}

void coord_spin_soon(coord_t *self)
{
    /* Inside a handler the handler spins when it is done; a store callback
     * runs from the store's own timer, where handling messages could
     * re-enter the store: spin from a timer of our own instead. */
    if (self->depth > 0 || self->spin_timer >= 0 || self->terminating ||
        (self->tasks_inflight == 0 && !self->replied))
        return;
    self->spin_timer = zloop_timer(self->loop, 0, 1, on_spin_timer, self);
}

static int on_socket(coord_t *self, zsock_t *sock, bool api)
{
    self->depth++;
    drain_socket(self, sock, api);
    coord_flush(self);
    self->depth--;
    coord_spin(self);
    return 0;
}

static int on_nodes(zloop_t *loop, zsock_t *sock, void *arg)
{
    return on_socket(arg, sock, false);
}

static int on_api(zloop_t *loop, zsock_t *sock, void *arg)
{
    return on_socket(arg, sock, true);
}

static int on_pipe(zloop_t *loop, zsock_t *pipe, void *arg)
{
    coord_t *self = arg;
    char *cmd = NULL;
    void *ptr = NULL;
    if (zsock_recv(pipe, "sp", &cmd, &ptr) != 0 || !cmd)
        return -1;
    int rc = 0;
    if (strcmp(cmd, "$TERM") == 0) {
        rc = -1;
    } else if (strcmp(cmd, "WENDPOINT") == 0) {
        zsock_send(pipe, "s", self->worker_bound);
    } else if (strcmp(cmd, "GRAPH") == 0) {
        yg_error_t err = { 0 };
        if (register_graph(self, ptr, NULL, 0, &err) == YG_OK)
            zsock_send(pipe, "is", 0, "");
        else
            zsock_send(pipe, "is", err.code, err.message);
    }
    zstr_free(&cmd);
    coord_flush(self);
    return rc;
}

/* ---- worker liveness ------------------------------------------------------- */

/* Declare dead every remote worker silent for liveness heartbeats. */
static int sweep_workers(zloop_t *loop, int timer_id, void *arg)
{
    coord_t *self = arg;
    int liveness = self->cfg.worker_liveness > 0 ? self->cfg.worker_liveness
                                                 : YG_WORKER_DEFAULT_LIVENESS;
    int64_t now = zclock_mono();
    zlistx_t *keys = zhashx_keys(self->workers);
    for (const char *key = keys ? zlistx_first(keys) : NULL; key; key = zlistx_next(keys)) {
        coord_worker_t *w = zhashx_lookup(self->workers, key);
        if (!w || w->hb_ms <= 0 || now - w->last_seen <= (int64_t)w->hb_ms * liveness)
            continue;
        char why[96];
        snprintf(why, sizeof why, "missed %d heartbeats (%" PRId64 " ms silent)", liveness,
                 now - w->last_seen);
        worker_gone(self, w, why, true);
    }
    zlistx_destroy(&keys);
    coord_flush(self);
    return 0;
}

/* ---- life cycle ------------------------------------------------------------ */

static void coord_config_free(yg_coord_config_t *cfg)
{
    free(cfg->checkpointer);
    free(cfg->worker_endpoint);
    cfg->checkpointer = cfg->worker_endpoint = NULL;
}

static int coord_setup(coord_t *self, start_args_t *args)
{
    char ep[128];
    self->cfg = args->cfg;
    self->cfg.checkpointer = args->cfg.checkpointer ? strdup(args->cfg.checkpointer) : NULL;
    self->cfg.worker_endpoint =
        args->cfg.worker_endpoint ? strdup(args->cfg.worker_endpoint) : NULL;
    self->retry_timer = -1;
    self->sweep_timer = -1;
    self->spin_timer = -1;
    /* YAMLGRAPH_SPIN=0 turns spinning off (CPU-starved hosts, or to count
     * instructions per step without the polling loops) */
    const char *spin = getenv("YAMLGRAPH_SPIN");
    self->spin_off = spin && strcmp(spin, "0") == 0;
    self->spin_ns = self->spin_off ? 0 : COORD_SPIN_MAX_NS;
    self->next_run_id = 1;
    self->loop = zloop_new();
    self->graphs = zhashx_new();
    self->workers = zhashx_new();
    self->runs = zhashx_new();
    self->threads = zhashx_new();
    self->stores = zhashx_new();
    self->save_seqs = zhashx_new();
    self->draining = zlistx_new();
    self->out_nodes = zhashx_new();
    self->out_api = zhashx_new();
    self->nodes_sock = zsock_new(ZMQ_ROUTER);
    self->api_sock = zsock_new(ZMQ_ROUTER);
    if (!self->loop || !self->graphs || !self->workers || !self->runs || !self->threads ||
        !self->stores || !self->save_seqs || !self->draining || !self->out_nodes ||
        !self->out_api || !self->nodes_sock || !self->api_sock) {
        snprintf(args->error, sizeof args->error, "out of memory starting the coordinator");
        return YG_ENOMEM;
    }
    zhashx_set_destructor(self->graphs, graph_destroy);
    zhashx_set_destructor(self->workers, worker_destroy);
    zhashx_set_destructor(self->stores, store_destroy);
    /* save counters are keyed by the store's address */
    zhashx_set_key_hasher(self->save_seqs, pointer_hash);
    zhashx_set_key_comparator(self->save_seqs, pointer_compare);
    zhashx_set_key_duplicator(self->save_seqs, NULL);
    zhashx_set_key_destructor(self->save_seqs, NULL);
    zhashx_set_destructor(self->save_seqs, save_seq_destroy);
    zhashx_set_destructor(self->out_nodes, outbox_destroy);
    zhashx_set_destructor(self->out_api, outbox_destroy);
    zloop_set_nonstop(self->loop, true); /* the pipe's $TERM ends us, not SIGINT */
    for (int i = 0; i < 2; i++) {
        zsock_t *s = i ? self->api_sock : self->nodes_sock;
        zsock_set_router_mandatory(s, 1);
        zsock_set_linger(s, 0);
        zsock_set_sndhwm(s, 0); /* bounded by the runs we hold, not by drops */
        zsock_set_rcvhwm(s, 0);
        zsock_set_maxmsgsize(s, (int64_t)YG_MSG_MAX_BODY);
    }
    yg_coordinator_node_endpoint(self->cfg.runtime_id, self->cfg.shard, ep, sizeof ep);
    if (zsock_bind(self->nodes_sock, "%s", ep) != 0) {
        snprintf(args->error, sizeof args->error, "cannot bind %s: %s", ep, zmq_strerror(errno));
        return YG_EIO;
    }
    if (self->cfg.worker_endpoint && zsock_bind(self->nodes_sock, "%s", self->cfg.worker_endpoint) < 0) {
        snprintf(args->error, sizeof args->error, "cannot bind worker endpoint %s: %s",
                 self->cfg.worker_endpoint, zmq_strerror(errno));
        return YG_EIO;
    }
    if (self->cfg.worker_endpoint) {
        /* the last bound endpoint, with the real port for "*" */
        char *bound = zsock_last_endpoint(self->nodes_sock);
        snprintf(self->worker_bound, sizeof self->worker_bound, "%s",
                 bound ? bound : self->cfg.worker_endpoint);
        zstr_free(&bound);
        self->sweep_timer = zloop_timer(self->loop, YG_COORD_SWEEP_MS, 0, sweep_workers, self);
    }
    yg_coordinator_api_endpoint(self->cfg.runtime_id, self->cfg.shard, ep, sizeof ep);
    if (zsock_bind(self->api_sock, "%s", ep) != 0) {
        snprintf(args->error, sizeof args->error, "cannot bind %s: %s", ep, zmq_strerror(errno));
        return YG_EIO;
    }
    if (self->cfg.checkpointer) {
        yg_error_t err = { 0 };
        self->global_store = yg_ckpt_open(self->loop, self->cfg.checkpointer, &err);
        if (!self->global_store) {
            snprintf(args->error, sizeof args->error, "checkpointer '%.200s': %.700s",
                     self->cfg.checkpointer, err.message);
            return err.code ? err.code : YG_EIO;
        }
        zhashx_insert(self->stores, "global", self->global_store);
    }
    zloop_reader(self->loop, self->pipe, on_pipe, self);
    zloop_reader(self->loop, self->nodes_sock, on_nodes, self);
    zloop_reader(self->loop, self->api_sock, on_api, self);
    return YG_OK;
}

static void coord_teardown(coord_t *self)
{
    self->terminating = true;
    /* runs in flight end with YG_ECLOSED (best effort: never blocks) */
    zlistx_t *ids = self->runs ? zhashx_keys(self->runs) : NULL;
    for (const char *id = ids ? zlistx_first(ids) : NULL; id; id = zlistx_next(ids)) {
        coord_run_t *r = zhashx_lookup(self->runs, id);
        if (r && r->phase != RUN_FINISHED && !r->is_child)
            coord_run_fail(self, r, YG_ECLOSED, "runtime is shutting down");
    }
    zlistx_destroy(&ids);
    if (self->out_api && self->api_sock)
        flush_boxes(self, true);
    /* remaining runs (children, ones waiting on a store) */
    ids = self->runs ? zhashx_keys(self->runs) : NULL;
    for (const char *id = ids ? zlistx_first(ids) : NULL; id; id = zlistx_next(ids)) {
        coord_run_t *r = zhashx_lookup(self->runs, id);
        coord_run_destroy(self, &r);
    }
    zlistx_destroy(&ids);
    /* stores complete their outstanding operations (callbacks see terminating) */
    zhashx_destroy(&self->stores);
    zhashx_destroy(&self->save_seqs);
    zlistx_destroy(&self->draining);
    zhashx_destroy(&self->runs);
    zhashx_destroy(&self->threads);
    zhashx_destroy(&self->out_nodes);
    zhashx_destroy(&self->out_api);
    for (int i = 0; i < 2; i++) {
        free(self->dirty[i].items);
        self->dirty[i] = (coord_outq_t){0};
    }
    zhashx_destroy(&self->graphs);
    zhashx_destroy(&self->workers);
    zloop_destroy(&self->loop);
    zsock_destroy(&self->nodes_sock);
    zsock_destroy(&self->api_sock);
    coord_config_free(&self->cfg);
}

static void coordinator_actor(zsock_t *pipe, void *arg)
{
    start_args_t *args = arg;
    coord_t self = { .pipe = pipe };
    int rc = coord_setup(&self, args);
    args->status = rc;
    zsock_signal(pipe, 0);
    if (rc == YG_OK)
        zloop_start(self.loop);
    coord_teardown(&self);
}

zactor_t *yg_coordinator_new(const yg_coord_config_t *cfg, yg_error_t *err)
{
    start_args_t *args = calloc(1, sizeof *args);
    if (!args) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    args->cfg = *cfg;
    zactor_t *actor = zactor_new(coordinator_actor, args);
    if (actor && args->status != YG_OK) {
        yg_error_set(err, args->status, "%s", args->error);
        zactor_destroy(&actor);
    } else if (!actor) {
        yg_error_set(err, YG_ENOMEM, "cannot start the coordinator thread");
    }
    free(args);
    return actor;
}

int yg_coordinator_worker_endpoint(zactor_t *coord, char *buf, size_t size)
{
    if (!coord || !buf || size == 0)
        return YG_EINVAL;
    buf[0] = '\0';
    if (zsock_send(coord, "sp", "WENDPOINT", NULL) != 0)
        return YG_ECLOSED;
    char *ep = NULL;
    if (zsock_recv(coord, "s", &ep) != 0)
        return YG_ECLOSED;
    snprintf(buf, size, "%s", ep ? ep : "");
    zstr_free(&ep);
    return YG_OK;
}

int yg_coordinator_add_graph(zactor_t *coord, yg_graph_t *graph, yg_error_t *err)
{
    if (zsock_send(coord, "sp", "GRAPH", graph) != 0)
        return yg_error_set(err, YG_ECLOSED, "coordinator is gone");
    int code = 0;
    char *msg = NULL;
    if (zsock_recv(coord, "is", &code, &msg) != 0)
        return yg_error_set(err, YG_ECLOSED, "coordinator is gone");
    if (code != 0)
        yg_error_set(err, code, "%s", msg ? msg : "cannot register graph");
    zstr_free(&msg);
    return code;
}
