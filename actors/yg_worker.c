/*
 * yg_worker.c - the remote worker: graph, node actors and the relay actor
 * that connects them to a coordinator over tcp (see yg_worker.h).
 */
#include "yg_worker.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yg_exec.h"
#include "yg_graph.h"
#include "yg_hex.h"
#include "yg_log.h"
#include "yg_msg.h"
#include "yg_node_actor.h"
#include "yg_provider.h"

/* Status and counters shared by the host thread and the relay thread. */
typedef struct worker_shared {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int status;                          /* YG_OK while serving */
    char message[YG_ERROR_MESSAGE_MAX];
    yg_worker_stats_t stats;
} worker_shared_t;

typedef struct relay relay_t;

/* One served node: its actor on the inproc side, its tcp connection. */
typedef struct link {
    relay_t *relay;
    const yg_graph_t *graph;
    const yg_node_t *node;
    zsock_t *up;               /* DEALER to the coordinator's worker endpoint */
    zframe_t *actor;           /* the node actor's identity; NULL until its ready */
    yg_value_t *ready;         /* the ready message as sent upstream */
    zhashx_t *inflight;        /* "run:task" -> marker: tasks held here */
    zlistx_t *pending;         /* zframe_t bodies the tcp socket did not take yet */
    bool registered;           /* the coordinator answered a heartbeat with known */
    bool rejected;
    bool alive;                /* heard from the coordinator within liveness */
    int64_t last_heard;
} link_t;

/* What the relay thread needs; owned by the thread once started. */
typedef struct relay_args {
    char *endpoint;
    char *inproc;
    char *worker_id;
    int hb_ms;
    int liveness;
    int log_level;
    size_t nlinks;
    const yg_graph_t **graphs; /* per link */
    const yg_node_t **nodes;   /* per link */
    worker_shared_t *shared;
    int status;                /* setup result, read by yg_worker_new */
    char error[YG_ERROR_MESSAGE_MAX];
} relay_args_t;

struct relay {
    relay_args_t *args;
    zsock_t *pipe;
    zsock_t *router;           /* inproc: the node actors connect */
    zloop_t *loop;
    link_t *links;
    size_t nlinks;
    zhashx_t *by_actor;        /* actor identity hex -> link (borrowed) */
    int retry_timer;
    bool frozen;
    bool killed;
    bool leaving;              /* goodbye sent: nothing more goes up */
    yg_limits_t limits;
};

struct yg_worker {
    yg_graph_t *graph;
    yg_providers_t *providers;
    zactor_t *relay;
    zlistx_t *actors;          /* zactor_t * node actors */
    worker_shared_t *shared;
};

static atomic_uint worker_counter;

/* ---- shared state ------------------------------------------------------- */

static worker_shared_t *shared_new(void)
{
    worker_shared_t *sh = calloc(1, sizeof *sh);
    if (!sh)
        return NULL;
    if (pthread_mutex_init(&sh->lock, NULL) != 0) {
        free(sh);
        return NULL;
    }
    if (pthread_cond_init(&sh->cond, NULL) != 0) {
        pthread_mutex_destroy(&sh->lock);
        free(sh);
        return NULL;
    }
    return sh;
}

static void shared_destroy(worker_shared_t **sh_p)
{
    worker_shared_t *sh = *sh_p;
    if (!sh)
        return;
    pthread_cond_destroy(&sh->cond);
    pthread_mutex_destroy(&sh->lock);
    free(sh);
    *sh_p = NULL;
}

/* The first failure wins: it is the reason the worker stopped. */
static void shared_fail(worker_shared_t *sh, int code, const char *message)
{
    pthread_mutex_lock(&sh->lock);
    if (sh->status == YG_OK) {
        sh->status = code;
        snprintf(sh->message, sizeof sh->message, "%s", message);
    }
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
}

#define SHARED_UPDATE(sh, stmt)                                                                    \
    do {                                                                                           \
        pthread_mutex_lock(&(sh)->lock);                                                           \
        stmt;                                                                                      \
        pthread_mutex_unlock(&(sh)->lock);                                                         \
    } while (0)

/* ---- relay: logging and sending ------------------------------------------ */

static void relay_log(relay_t *self, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void relay_log(relay_t *self, int level, const char *fmt, ...)
{
    if (level > self->args->log_level)
        return;
    char who[YG_LOG_LINE_MAX / 8];
    snprintf(who, sizeof who, "worker %s", self->args->worker_id);
    va_list ap;
    va_start(ap, fmt);
    yg_logv(self->args->log_level, level, who, fmt, ap);
    va_end(ap);
}

static int relay_on_retry(zloop_t *loop, int timer_id, void *arg);

/* Send a link's pending bodies in order until the socket refuses one. */
static void link_flush(link_t *link)
{
    relay_t *self = link->relay;
    if (self->frozen)
        return;
    void *raw = zsock_resolve(link->up);
    zframe_t *f;
    while ((f = zlistx_first(link->pending))) {
        if (zmq_send(raw, zframe_data(f), zframe_size(f), ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            if (e == EAGAIN || e == EINTR) {
                if (self->retry_timer < 0)
                    self->retry_timer =
                        zloop_timer(self->loop, YG_WORKER_RETRY_MS, 1, relay_on_retry, self);
                return;
            }
            relay_log(self, YG_LOG_ERROR, "send to %s failed: %s", self->args->endpoint,
                      zmq_strerror(e));
        }
        zframe_t *done = zlistx_detach(link->pending, NULL);
        zframe_destroy(&done);
    }
}

static int relay_on_retry(zloop_t *loop, int timer_id, void *arg)
{
    relay_t *self = arg;
    self->retry_timer = -1;
    for (size_t i = 0; i < self->nlinks; i++)
        link_flush(&self->links[i]);
    return 0;
}

/* Queue one body for the coordinator (copied) and try to send it. */
static void link_send_up(link_t *link, const void *data, size_t size)
{
    relay_t *self = link->relay;
    if (self->leaving)
        return;
    if (zlistx_size(link->pending) >= YG_WORKER_MAX_PENDING) {
        relay_log(self, YG_LOG_WARNING,
                  "node '%s': %d bodies already wait for the coordinator; one dropped",
                  link->node->name, YG_WORKER_MAX_PENDING);
        return;
    }
    zframe_t *f = zframe_new(data, size);
    if (!f || !zlistx_add_end(link->pending, f)) {
        zframe_destroy(&f);
        relay_log(self, YG_LOG_ERROR, "out of memory queueing a body");
        return;
    }
    link_flush(link);
}

/* Encode one message or a list (one map is sent as itself) and send it up. */
static void link_send_value_up(link_t *link, const yg_value_t *v)
{
    char *data = NULL;
    size_t size = 0;
    if (yg_msgpack_encode(v, &data, &size) == YG_OK)
        link_send_up(link, data, size);
    else
        relay_log(link->relay, YG_LOG_ERROR, "cannot encode a message for the coordinator");
    free(data);
}

/* A heartbeat is not worth queueing: send it now or skip it. */
static void link_send_heartbeat(link_t *link)
{
    relay_t *self = link->relay;
    if (zlistx_size(link->pending) > 0)
        return; /* the socket is backed up: data first */
    yg_value_t *hb = yg_map_new();
    yg_map_set(hb, YG_MSG_TYPE, yg_str_new(YG_MSG_HEARTBEAT));
    yg_map_set(hb, "worker", yg_str_new(self->args->worker_id));
    yg_map_set(hb, "node", yg_str_new(link->node->name));
    char *data = NULL;
    size_t size = 0;
    if (yg_msgpack_encode(hb, &data, &size) == YG_OK)
        zmq_send(zsock_resolve(link->up), data, size, ZMQ_DONTWAIT);
    free(data);
    yg_value_destroy(&hb);
}

/* Send a body to the link's node actor. */
static void link_send_down(link_t *link, const void *data, size_t size)
{
    relay_t *self = link->relay;
    if (!link->actor)
        return;
    void *raw = zsock_resolve(self->router);
    if (zmq_send(raw, zframe_data(link->actor), zframe_size(link->actor),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(raw, data, size, ZMQ_DONTWAIT) < 0)
        relay_log(self, YG_LOG_WARNING, "node actor '%s' unreachable: %s", link->node->name,
                  zmq_strerror(zmq_errno()));
}

static void link_send_value_down(link_t *link, const yg_value_t *v)
{
    char *data = NULL;
    size_t size = 0;
    if (yg_msgpack_encode(v, &data, &size) == YG_OK)
        link_send_down(link, data, size);
    free(data);
}

/* ---- relay: message handling ---------------------------------------------- */

static bool msg_task_key(const yg_value_t *msg, char *key, size_t size)
{
    const yg_value_t *run = yg_map_get(msg, "run");
    const yg_value_t *task = yg_map_get(msg, "task");
    if (yg_value_type(run) != YG_INT || yg_value_type(task) != YG_INT)
        return false;
    snprintf(key, size, "%" PRId64 ":%" PRId64, yg_value_int(run), yg_value_int(task));
    return true;
}

static const char *msg_type(const yg_value_t *msg)
{
    return yg_value_str(yg_map_get(msg, YG_MSG_TYPE));
}

/* The messages of a body (a map or a list of maps) as a list (new ref). */
static yg_value_t *body_messages(yg_value_t *body)
{
    if (yg_value_type(body) == YG_LIST)
        return yg_value_ref(body);
    yg_value_t *l = yg_list_new();
    if (l && yg_value_type(body) == YG_MAP)
        yg_list_append(l, yg_value_ref(body));
    return l;
}

/* Drop every task of run `run` (NULL = all) from the link's in-flight set;
 * returns how many. */
static size_t link_forget(link_t *link, const char *run_prefix)
{
    size_t n = 0;
    zlistx_t *keys = zhashx_keys(link->inflight);
    for (const char *k = keys ? zlistx_first(keys) : NULL; k; k = zlistx_next(keys)) {
        if (run_prefix && strncmp(k, run_prefix, strlen(run_prefix)) != 0)
            continue;
        zhashx_delete(link->inflight, k);
        n++;
    }
    zlistx_destroy(&keys);
    return n;
}

/* The coordinator does not count this connection (it reconnected, declared
 * us dead or restarted): abandon what we hold and announce ourselves again. */
static void link_reregister(link_t *link)
{
    relay_t *self = link->relay;
    yg_value_t *cancels = yg_list_new();
    yg_value_t *seen = yg_map_new();
    zlistx_t *keys = zhashx_keys(link->inflight);
    for (const char *k = keys ? zlistx_first(keys) : NULL; k && cancels && seen;
         k = zlistx_next(keys)) {
        char run[32];
        size_t n = strcspn(k, ":");
        snprintf(run, sizeof run, "%.*s", (int)(n < sizeof run ? n : sizeof run - 1), k);
        if (yg_map_has(seen, run))
            continue;
        yg_map_set(seen, run, yg_bool_new(true));
        yg_value_t *c = yg_map_new();
        yg_map_set(c, YG_MSG_TYPE, yg_str_new(YG_MSG_CANCEL));
        yg_map_set(c, "run", yg_int_new(strtoll(run, NULL, 10)));
        yg_list_append(cancels, c);
    }
    size_t abandoned = keys ? zlistx_size(keys) : 0;
    zlistx_destroy(&keys);
    if (cancels && yg_list_size(cancels) > 0)
        link_send_value_down(link, cancels);
    yg_value_destroy(&cancels);
    yg_value_destroy(&seen);
    zhashx_purge(link->inflight);
    worker_shared_t *sh = self->args->shared;
    SHARED_UPDATE(sh, {
        if (link->registered)
            sh->stats.registered--;
        sh->stats.reregistrations++;
    });
    link->registered = false;
    relay_log(self, YG_LOG_WARNING,
              "coordinator does not know node '%s' on this connection (reconnected or declared "
              "dead): %zu task(s) abandoned, ready sent again",
              link->node->name, abandoned);
    link_send_value_up(link, link->ready);
}

static void link_rejected(link_t *link, const yg_value_t *msg)
{
    relay_t *self = link->relay;
    if (link->rejected)
        return;
    link->rejected = true;
    const char *text = yg_value_str(yg_map_get(msg, "message"));
    int64_t code = yg_value_int(yg_map_get(msg, "code"));
    char buf[YG_ERROR_MESSAGE_MAX];
    snprintf(buf, sizeof buf, "coordinator at %s rejected node '%s': %s", self->args->endpoint,
             link->node->name, text ? text : "no reason given");
    relay_log(self, YG_LOG_INFO, "%s", buf); /* the host reports it (yg_worker_status) */
    shared_fail(self->args->shared, code < 0 && code > -1000 ? (int)code : YG_EINVAL, buf);
}

/* Bodies from the coordinator on one link's connection. */
static void link_on_body(link_t *link, zmq_msg_t *part)
{
    relay_t *self = link->relay;
    size_t size = zmq_msg_size(part);
    if (size > YG_MSG_MAX_BODY)
        return; /* the socket's maxmsgsize already refuses these */
    yg_error_t err = { 0 };
    yg_value_t *body = yg_msgpack_decode(zmq_msg_data(part), size, &self->limits, &err);
    if (!body) {
        relay_log(self, YG_LOG_WARNING, "undecodable body from the coordinator dropped: %s",
                  err.message);
        return;
    }
    yg_value_t *msgs = body_messages(body);
    yg_value_t *forward = yg_list_new();
    bool modified = yg_value_type(body) != YG_LIST && yg_value_type(body) != YG_MAP;
    worker_shared_t *sh = self->args->shared;
    for (size_t i = 0; msgs && forward && i < yg_list_size(msgs); i++) {
        yg_value_t *m = yg_list_get(msgs, i);
        const char *t = yg_value_type(m) == YG_MAP ? msg_type(m) : NULL;
        char key[64];
        if (!t) {
            modified = true;
        } else if (strcmp(t, YG_MSG_HEARTBEAT) == 0) {
            modified = true;
            bool known = yg_value_bool(yg_map_get(m, "known"));
            if (known && !link->registered) {
                link->registered = true;
                SHARED_UPDATE(sh, sh->stats.registered++);
                relay_log(self, YG_LOG_INFO, "node '%s' registered with %s", link->node->name,
                          self->args->endpoint);
            } else if (!known && link->ready && !link->rejected) {
                link_reregister(link);
            }
        } else if (strcmp(t, YG_MSG_REJECT) == 0) {
            modified = true;
            link_rejected(link, m);
        } else if (link->rejected) {
            modified = true;
        } else if (strcmp(t, YG_MSG_TASK) == 0) {
            if (msg_task_key(m, key, sizeof key))
                zhashx_insert(link->inflight, key, (void *)1);
            SHARED_UPDATE(sh, sh->stats.tasks++);
            yg_list_append(forward, yg_value_ref(m));
        } else if (strcmp(t, YG_MSG_CANCEL) == 0) {
            const yg_value_t *run = yg_map_get(m, "run");
            if (yg_value_type(run) == YG_INT) {
                snprintf(key, sizeof key, "%" PRId64 ":", yg_value_int(run));
                link_forget(link, key);
            }
            yg_list_append(forward, yg_value_ref(m));
        } else {
            yg_list_append(forward, yg_value_ref(m));
        }
    }
    size_t n = forward ? yg_list_size(forward) : 0;
    if (n > 0 && !modified)
        link_send_down(link, zmq_msg_data(part), size);
    else if (n == 1)
        link_send_value_down(link, yg_list_get(forward, 0));
    else if (n > 1)
        link_send_value_down(link, forward);
    yg_value_destroy(&forward);
    yg_value_destroy(&msgs);
    yg_value_destroy(&body);
}

static int link_on_up(zloop_t *loop, zsock_t *sock, void *arg)
{
    link_t *link = arg;
    relay_t *self = link->relay;
    void *raw = zsock_resolve(sock);
    int64_t now = zclock_mono();
    for (int i = 0; i < YG_WORKER_DRAIN_MAX; i++) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            break;
        }
        bool more = zmq_msg_more(&part);
        link->last_heard = now;
        if (!link->alive) {
            link->alive = true;
            relay_log(self, YG_LOG_INFO, "coordinator at %s answers node '%s'",
                      self->args->endpoint, link->node->name);
        }
        link_on_body(link, &part);
        zmq_msg_close(&part);
        while (more) { /* one body frame per message; skip anything extra */
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, raw, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&part);
                break;
            }
            more = zmq_msg_more(&part);
            zmq_msg_close(&part);
        }
    }
    return 0;
}

static link_t *link_for_ready(relay_t *self, const yg_value_t *msg)
{
    const char *hash = yg_value_str(yg_map_get(msg, "graph"));
    const char *node = yg_value_str(yg_map_get(msg, "node"));
    if (!hash || !node)
        return NULL;
    for (size_t i = 0; i < self->nlinks; i++)
        if (strcmp(self->links[i].graph->hash_hex, hash) == 0 &&
            strcmp(self->links[i].node->name, node) == 0)
            return &self->links[i];
    return NULL;
}

static void identity_key(zframe_t *identity, char *buf, size_t size)
{
    yg_hex_encode(zframe_data(identity), zframe_size(identity), buf, size);
}

/* One body from a node actor (identity = its DEALER). */
static void relay_on_actor_body(relay_t *self, zframe_t *identity, zframe_t *data)
{
    yg_error_t err = { 0 };
    yg_value_t *body =
        yg_msgpack_decode((const char *)zframe_data(data), zframe_size(data), &self->limits, &err);
    if (!body) {
        relay_log(self, YG_LOG_WARNING, "undecodable body from a node actor dropped: %s",
                  err.message);
        return;
    }
    yg_value_t *msgs = body_messages(body);
    char key[80];
    identity_key(identity, key, sizeof key);
    link_t *link = zhashx_lookup(self->by_actor, key);
    for (size_t i = 0; !link && msgs && i < yg_list_size(msgs); i++) {
        const yg_value_t *m = yg_list_get(msgs, i);
        const char *t = msg_type(m);
        if (t && strcmp(t, YG_MSG_READY) == 0 && (link = link_for_ready(self, m)) && !link->actor) {
            link->actor = zframe_dup(identity);
            zhashx_insert(self->by_actor, key, link);
        } else {
            link = NULL;
        }
    }
    if (!link || link->rejected) {
        if (!link)
            relay_log(self, YG_LOG_WARNING, "body from an unknown node actor dropped");
        yg_value_destroy(&msgs);
        yg_value_destroy(&body);
        return;
    }
    worker_shared_t *sh = self->args->shared;
    yg_value_t *forward = yg_list_new();
    bool modified = false, announced = false;
    for (size_t i = 0; msgs && forward && i < yg_list_size(msgs); i++) {
        yg_value_t *m = yg_list_get(msgs, i);
        const char *t = msg_type(m);
        char tkey[64];
        if (t && strcmp(t, YG_MSG_READY) == 0) {
            /* what a connection across hosts adds to the announcement */
            yg_value_t *r = yg_value_copy(m);
            yg_map_set(r, "hb_ms", yg_int_new(self->args->hb_ms));
            yg_map_set(r, "graph_name", yg_str_new(link->graph->name ? link->graph->name : ""));
            yg_map_set(r, "worker", yg_str_new(self->args->worker_id));
            yg_value_destroy(&link->ready);
            link->ready = yg_value_ref(r);
            yg_list_append(forward, r);
            modified = announced = true;
        } else if (t && strcmp(t, YG_MSG_RESULT) == 0) {
            if (msg_task_key(m, tkey, sizeof tkey) && zhashx_lookup(link->inflight, tkey)) {
                zhashx_delete(link->inflight, tkey);
                SHARED_UPDATE(sh, sh->stats.results++);
                yg_list_append(forward, yg_value_ref(m));
            } else {
                /* its task was abandoned at a re-registration */
                SHARED_UPDATE(sh, sh->stats.dropped++);
                modified = true;
            }
        } else {
            yg_list_append(forward, yg_value_ref(m));
        }
    }
    size_t n = forward ? yg_list_size(forward) : 0;
    if (n > 0 && !modified)
        link_send_up(link, zframe_data(data), zframe_size(data));
    else if (n == 1)
        link_send_value_up(link, yg_list_get(forward, 0));
    else if (n > 1)
        link_send_value_up(link, forward);
    if (announced) {
        /* an early heartbeat: its reply confirms the registration */
        yg_value_t *hb = yg_map_new();
        yg_map_set(hb, YG_MSG_TYPE, yg_str_new(YG_MSG_HEARTBEAT));
        yg_map_set(hb, "worker", yg_str_new(self->args->worker_id));
        yg_map_set(hb, "node", yg_str_new(link->node->name));
        link_send_value_up(link, hb);
        yg_value_destroy(&hb);
    }
    yg_value_destroy(&forward);
    yg_value_destroy(&msgs);
    yg_value_destroy(&body);
}

static int relay_on_router(zloop_t *loop, zsock_t *sock, void *arg)
{
    relay_t *self = arg;
    void *raw = zsock_resolve(sock);
    for (int i = 0; i < YG_WORKER_DRAIN_MAX; i++) {
        zmq_pollitem_t item = { raw, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 0) <= 0)
            break;
        zmsg_t *m = zmsg_recv(sock);
        if (!m)
            break;
        zframe_t *identity = zmsg_pop(m);
        zframe_t *data = zmsg_pop(m);
        if (identity && data && zmsg_size(m) == 0 && zframe_size(data) <= YG_MSG_MAX_BODY)
            relay_on_actor_body(self, identity, data);
        zframe_destroy(&identity);
        zframe_destroy(&data);
        zmsg_destroy(&m);
    }
    return 0;
}

/* Heartbeats out; coordinator liveness in. */
static int relay_on_heartbeat(zloop_t *loop, int timer_id, void *arg)
{
    relay_t *self = arg;
    if (self->frozen || self->leaving)
        return 0;
    int64_t now = zclock_mono();
    int64_t limit = (int64_t)self->args->hb_ms * self->args->liveness;
    bool all_alive = true;
    for (size_t i = 0; i < self->nlinks; i++) {
        link_t *link = &self->links[i];
        if (!link->ready || link->rejected)
            continue;
        link_send_heartbeat(link);
        if (link->alive && now - link->last_heard > limit) {
            link->alive = false;
            relay_log(self, YG_LOG_WARNING,
                      "coordinator at %s silent for %" PRId64 " ms (%d heartbeats) on node '%s'; "
                      "reconnecting",
                      self->args->endpoint, now - link->last_heard, self->args->liveness,
                      link->node->name);
        }
        all_alive = all_alive && link->alive;
    }
    worker_shared_t *sh = self->args->shared;
    SHARED_UPDATE(sh, sh->stats.coordinator_alive = all_alive);
    return 0;
}

/* Tell the coordinator we leave (best effort: never waits). */
static void relay_say_goodbye(relay_t *self)
{
    if (self->leaving || self->frozen)
        return;
    yg_value_t *bye = yg_map_new();
    yg_map_set(bye, YG_MSG_TYPE, yg_str_new(YG_MSG_BYE));
    yg_map_set(bye, "worker", yg_str_new(self->args->worker_id));
    char *data = NULL;
    size_t size = 0;
    if (yg_msgpack_encode(bye, &data, &size) == YG_OK)
        for (size_t i = 0; i < self->nlinks; i++)
            if (self->links[i].ready && !self->links[i].rejected)
                zmq_send(zsock_resolve(self->links[i].up), data, size, ZMQ_DONTWAIT);
    free(data);
    yg_value_destroy(&bye);
    self->leaving = true;
}

static void relay_set_frozen(relay_t *self, bool frozen)
{
    if (self->frozen == frozen)
        return;
    self->frozen = frozen;
    for (size_t i = 0; i < self->nlinks; i++) {
        link_t *link = &self->links[i];
        if (frozen) {
            zloop_reader_end(self->loop, link->up);
        } else {
            zloop_reader(self->loop, link->up, link_on_up, link);
            link->last_heard = zclock_mono(); /* silence while frozen was ours */
            link_flush(link);
        }
    }
}

static int relay_on_pipe(zloop_t *loop, zsock_t *pipe, void *arg)
{
    relay_t *self = arg;
    char *cmd = zstr_recv(pipe);
    if (!cmd)
        return -1;
    int rc = 0;
    if (strcmp(cmd, "$TERM") == 0) {
        rc = -1;
    } else if (strcmp(cmd, "BYE") == 0) {
        relay_say_goodbye(self);
        zsock_signal(pipe, 0);
    } else if (strcmp(cmd, "KILL") == 0) {
        self->killed = true;
        self->leaving = true;
        zsock_signal(pipe, 0);
    } else if (strcmp(cmd, "FREEZE") == 0 || strcmp(cmd, "THAW") == 0) {
        relay_set_frozen(self, cmd[0] == 'F');
        zsock_signal(pipe, 0);
    }
    zstr_free(&cmd);
    return rc;
}

/* ---- relay: life cycle ----------------------------------------------------- */

static void relay_args_destroy(relay_args_t **args_p)
{
    relay_args_t *a = *args_p;
    if (!a)
        return;
    free(a->endpoint);
    free(a->inproc);
    free(a->worker_id);
    free(a->graphs);
    free(a->nodes);
    free(a);
    *args_p = NULL;
}

static void frame_destructor(void **item)
{
    zframe_t *f = *item;
    zframe_destroy(&f);
    *item = NULL;
}

static int relay_setup(relay_t *self)
{
    relay_args_t *a = self->args;
    self->retry_timer = -1;
    self->limits = yg_limits_default;
    self->limits.max_bytes = YG_MSG_MAX_BODY;
    self->loop = zloop_new();
    self->router = zsock_new(ZMQ_ROUTER);
    self->by_actor = zhashx_new();
    self->links = calloc(a->nlinks ? a->nlinks : 1, sizeof *self->links);
    if (!self->loop || !self->router || !self->by_actor || !self->links) {
        snprintf(a->error, sizeof a->error, "out of memory starting the worker");
        return YG_ENOMEM;
    }
    self->nlinks = a->nlinks;
    zsock_set_linger(self->router, 0);
    zsock_set_router_mandatory(self->router, 1);
    zsock_set_sndhwm(self->router, 0); /* inproc: 0 on one side = no limit, no drops */
    zsock_set_rcvhwm(self->router, 0);
    if (zsock_bind(self->router, "%s", a->inproc) != 0) {
        snprintf(a->error, sizeof a->error, "cannot bind %s: %s", a->inproc, zmq_strerror(errno));
        return YG_EIO;
    }
    int64_t now = zclock_mono();
    for (size_t i = 0; i < a->nlinks; i++) {
        link_t *link = &self->links[i];
        link->relay = self;
        link->graph = a->graphs[i];
        link->node = a->nodes[i];
        link->alive = true;
        link->last_heard = now;
        link->inflight = zhashx_new();
        link->pending = zlistx_new();
        link->up = zsock_new(ZMQ_DEALER);
        if (!link->inflight || !link->pending || !link->up) {
            snprintf(a->error, sizeof a->error, "out of memory starting the worker");
            return YG_ENOMEM;
        }
        zlistx_set_destructor(link->pending, frame_destructor);
        zsock_set_linger(link->up, 0);
        zsock_set_rcvhwm(link->up, 0); /* tasks are bounded by the coordinator */
        zsock_set_maxmsgsize(link->up, (int64_t)YG_MSG_MAX_BODY);
        if (zsock_connect(link->up, "%s", a->endpoint) != 0) {
            snprintf(a->error, sizeof a->error, "cannot connect to %s: %s", a->endpoint,
                     zmq_strerror(errno));
            return YG_EINVAL;
        }
        zloop_reader(self->loop, link->up, link_on_up, link);
    }
    zloop_set_nonstop(self->loop, true); /* only $TERM ends us */
    zloop_reader(self->loop, self->pipe, relay_on_pipe, self);
    zloop_reader(self->loop, self->router, relay_on_router, self);
    zloop_timer(self->loop, (size_t)a->hb_ms, 0, relay_on_heartbeat, self);
    return YG_OK;
}

static void relay_teardown(relay_t *self)
{
    zloop_destroy(&self->loop);
    for (size_t i = 0; self->links && i < self->nlinks; i++) {
        link_t *link = &self->links[i];
        if (link->up) {
            /* a clean shutdown lets the goodbye leave; a kill does not */
            zsock_set_linger(link->up, self->killed ? 0 : YG_WORKER_BYE_LINGER_MS);
            zsock_destroy(&link->up);
        }
        zframe_destroy(&link->actor);
        yg_value_destroy(&link->ready);
        zhashx_destroy(&link->inflight);
        zlistx_destroy(&link->pending);
    }
    free(self->links);
    zhashx_destroy(&self->by_actor);
    zsock_destroy(&self->router);
}

static void relay_main(zsock_t *pipe, void *arg)
{
    relay_t self = { .args = arg, .pipe = pipe };
    int rc = relay_setup(&self);
    self.args->status = rc;
    zsock_signal(pipe, 0);
    if (rc == YG_OK) {
        zloop_start(self.loop);
    } else {
        char *cmd; /* keep the zactor contract: wait for $TERM */
        while ((cmd = zstr_recv(pipe))) {
            bool term = strcmp(cmd, "$TERM") == 0;
            if (!term)
                zsock_signal(pipe, 0);
            zstr_free(&cmd);
            if (term)
                break;
        }
    }
    relay_teardown(&self);
    relay_args_destroy(&self.args);
}

/* ---- node selection --------------------------------------------------------- */

typedef struct selection {
    const yg_graph_t **graphs;
    const yg_node_t **nodes;
    size_t count;
    size_t cap;
} selection_t;

/* ",a,b," contains name? */
static bool list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    if (n == 0)
        return false;
    for (const char *p = strstr(list, name); p; p = strstr(p + 1, name))
        if (p[-1] == ',' && p[n] == ',')
            return true;
    return false;
}

static int select_nodes(const yg_graph_t *g, const char *list, selection_t *sel, zhashx_t *seen,
                        zhashx_t *found, int depth, yg_error_t *err)
{
    if (zhashx_lookup(seen, g->hash_hex))
        return YG_OK;
    if (depth > 32)
        return yg_error_set(err, YG_ELIMIT, "subgraphs nested too deeply");
    zhashx_insert(seen, g->hash_hex, (void *)1);
    for (size_t i = 0; i < g->nodes_count; i++) {
        const yg_node_t *node = g->nodes[i];
        if (node->type == YG_NODE_SUBGRAPH && node->child) {
            int rc = select_nodes(node->child, list, sel, seen, found, depth + 1, err);
            if (rc != YG_OK)
                return rc;
        }
        if (node->type == YG_NODE_MAP)
            continue; /* not executable: its sub-node is */
        const yg_node_t *named = node->is_map_sub ? yg_exec_map_parent(g, node) : node;
        bool take = !list;
        if (list && list_has(list, node->name)) {
            take = true;
            zhashx_insert(found, node->name, (void *)1);
        }
        if (list && named && list_has(list, named->name)) {
            take = true;
            zhashx_insert(found, named->name, (void *)1);
        }
        if (!take)
            continue;
        if (sel->count >= YG_WORKER_MAX_NODES)
            return yg_error_set(err, YG_ELIMIT, "more than %d nodes to serve",
                                YG_WORKER_MAX_NODES);
        if (sel->count == sel->cap) {
            size_t cap = sel->cap ? sel->cap * 2 : 16;
            const yg_graph_t **gs = realloc(sel->graphs, cap * sizeof *gs);
            if (gs)
                sel->graphs = gs;
            const yg_node_t **ns = realloc(sel->nodes, cap * sizeof *ns);
            if (ns)
                sel->nodes = ns;
            if (!gs || !ns)
                return yg_error_set(err, YG_ENOMEM, "out of memory");
            sel->cap = cap;
        }
        sel->graphs[sel->count] = g;
        sel->nodes[sel->count] = node;
        sel->count++;
    }
    return YG_OK;
}

/* Every name of the list must name a node. */
static int check_names(const yg_graph_t *g, const char *list, zhashx_t *found, yg_error_t *err)
{
    const char *p = list + 1;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n > 0) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
            if (!zhashx_lookup(found, name))
                return yg_error_set(err, YG_ENOTFOUND,
                                    "--nodes: graph '%s' has no executable node '%s'",
                                    g->name ? g->name : "?", name);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return YG_OK;
}

/* "a, b" -> ",a,b,"; NULL for NULL/empty. */
static char *normalize_list(const char *s, bool *ok)
{
    if (!s || !s[0])
        return NULL;
    char *out = malloc(strlen(s) + 3);
    if (!out) {
        *ok = false;
        return NULL;
    }
    char *o = out;
    *o++ = ',';
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            *o++ = *s;
    *o++ = ',';
    *o = '\0';
    return out;
}

/* ---- public API ------------------------------------------------------------- */

void yg_worker_opts_init(yg_worker_opts_t *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->heartbeat_ms = YG_WORKER_DEFAULT_HEARTBEAT_MS;
    opts->liveness = YG_WORKER_DEFAULT_LIVENESS;
    opts->log_level = YG_LOG_WARNING;
}

static int check_opts(const yg_worker_opts_t *o, const char *endpoint, yg_error_t *err)
{
    if (!endpoint || !endpoint[0])
        return yg_error_set(err, YG_EINVAL, "worker: a coordinator endpoint is required");
    if (o->heartbeat_ms != 0 &&
        (o->heartbeat_ms < YG_WORKER_MIN_HEARTBEAT_MS || o->heartbeat_ms > YG_WORKER_MAX_HEARTBEAT_MS))
        return yg_error_set(err, YG_EINVAL, "worker: heartbeat must be %d..%d ms",
                            YG_WORKER_MIN_HEARTBEAT_MS, YG_WORKER_MAX_HEARTBEAT_MS);
    if (o->liveness < 0 || o->liveness > YG_WORKER_MAX_LIVENESS)
        return yg_error_set(err, YG_EINVAL, "worker: liveness must be 1..%d",
                            YG_WORKER_MAX_LIVENESS);
    if (o->concurrency < 0)
        return yg_error_set(err, YG_EINVAL, "worker: concurrency must be positive");
    if (o->worker_id && (!o->worker_id[0] || strlen(o->worker_id) > YG_WORKER_ID_MAX))
        return yg_error_set(err, YG_EINVAL, "worker: id must be 1..%d bytes", YG_WORKER_ID_MAX);
    return YG_OK;
}

/* Free what yg_worker_new built, in dependency order. */
static void worker_free(yg_worker_t *self, bool goodbye)
{
    if (self->relay && goodbye) {
        /* goodbye first: the coordinator stops sending here and re-dispatches
         * what we hold while the actors shut down */
        if (zstr_send(self->relay, "BYE") == 0)
            zsock_wait(self->relay);
    } else if (self->relay) {
        if (zstr_send(self->relay, "KILL") == 0)
            zsock_wait(self->relay);
    }
    if (self->actors) {
        for (zactor_t *a = zlistx_first(self->actors); a; a = zlistx_next(self->actors))
            zactor_destroy(&a);
        zlistx_destroy(&self->actors);
    }
    zactor_destroy(&self->relay);
    yg_providers_destroy(&self->providers);
    yg_graph_destroy(&self->graph);
    shared_destroy(&self->shared);
    free(self);
}

yg_worker_t *yg_worker_new(const char *graph_path, const char *endpoint,
                           const yg_worker_opts_t *opts, yg_error_t *err)
{
    yg_worker_opts_t defaults;
    if (!opts) {
        yg_worker_opts_init(&defaults);
        opts = &defaults;
    }
    if (!graph_path) {
        yg_error_set(err, YG_EINVAL, "worker: a graph path is required");
        return NULL;
    }
    if (check_opts(opts, endpoint, err) != YG_OK)
        return NULL;
    if (opts->disable_signal_handlers)
        zsys_handler_set(NULL);
    yg_worker_t *self = calloc(1, sizeof *self);
    if (!self || !(self->shared = shared_new()) || !(self->actors = zlistx_new())) {
        if (self)
            worker_free(self, false);
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    self->graph = yg_graph_load(graph_path, err);
    if (!self->graph) {
        worker_free(self, false);
        return NULL;
    }

    /* which nodes */
    bool ok = true;
    char *list = normalize_list(opts->nodes, &ok);
    selection_t sel = { 0 };
    zhashx_t *seen = zhashx_new();
    zhashx_t *found = zhashx_new();
    int rc = ok && seen && found ? YG_OK : yg_error_set(err, YG_ENOMEM, "out of memory");
    if (rc == YG_OK)
        rc = select_nodes(self->graph, list, &sel, seen, found, 0, err);
    if (rc == YG_OK && list)
        rc = check_names(self->graph, list, found, err);
    if (rc == YG_OK && sel.count == 0)
        rc = yg_error_set(err, YG_EINVAL, "graph '%s' has no executable node to serve",
                          self->graph->name ? self->graph->name : "?");
    free(list);
    zhashx_destroy(&seen);
    zhashx_destroy(&found);

    /* providers shared by every node actor */
    if (rc == YG_OK) {
        yg_mock_t *mock = NULL;
        if (opts->mock_file && !(mock = yg_mock_new_from_file(opts->mock_file, err)))
            rc = err && err->code ? err->code : YG_EINVAL;
        if (rc == YG_OK && !(self->providers = yg_providers_new(opts->provider, mock)))
            rc = yg_error_set(err, YG_ENOMEM, "out of memory creating the providers");
        yg_mock_destroy(&mock);
    }

    /* the relay */
    char id[YG_WORKER_ID_MAX + 1];
    if (opts->worker_id) {
        snprintf(id, sizeof id, "%s", opts->worker_id);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(id, sizeof id, "%.40s-%d", host, (int)getpid());
    }
    relay_args_t *a = rc == YG_OK ? calloc(1, sizeof *a) : NULL;
    if (rc == YG_OK && !a)
        rc = yg_error_set(err, YG_ENOMEM, "out of memory");
    char inproc[128];
    snprintf(inproc, sizeof inproc, "inproc://yg-worker-%d-%u", (int)getpid(),
             atomic_fetch_add(&worker_counter, 1));
    if (a) {
        a->endpoint = strdup(endpoint);
        a->inproc = strdup(inproc);
        a->worker_id = strdup(id);
        a->hb_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : YG_WORKER_DEFAULT_HEARTBEAT_MS;
        a->liveness = opts->liveness > 0 ? opts->liveness : YG_WORKER_DEFAULT_LIVENESS;
        a->log_level = opts->log_level;
        a->nlinks = sel.count;
        a->graphs = sel.graphs;
        a->nodes = sel.nodes;
        a->shared = self->shared;
        sel.graphs = NULL;
        sel.nodes = NULL;
        if (!a->endpoint || !a->inproc || !a->worker_id) {
            relay_args_destroy(&a);
            rc = yg_error_set(err, YG_ENOMEM, "out of memory");
        }
    }
    free(sel.graphs);
    free(sel.nodes);
    if (rc == YG_OK) {
        self->relay = zactor_new(relay_main, a); /* the thread owns a from here */
        if (!self->relay) {
            relay_args_destroy(&a);
            rc = yg_error_set(err, YG_EIO, "cannot start the worker thread");
        } else if (a->status != YG_OK) {
            rc = yg_error_set(err, a->status, "%s", a->error);
        }
    }
    SHARED_UPDATE(self->shared, {
        self->shared->stats.nodes = (int)(a && rc == YG_OK ? a->nlinks : 0);
        self->shared->stats.coordinator_alive = true;
    });

    /* the node actors, on the relay's inproc endpoint */
    for (size_t i = 0; rc == YG_OK && i < a->nlinks; i++) {
        yg_node_actor_config_t cfg = { 0 };
        cfg.graph = a->graphs[i];
        cfg.node = a->nodes[i];
        cfg.endpoint = inproc;
        cfg.worker_id = id;
        cfg.max_concurrency = opts->concurrency;
        cfg.providers = self->providers;
        cfg.cwd = opts->cwd;
        yg_error_t aerr = { 0 };
        zactor_t *actor = yg_node_actor_new_err(&cfg, &aerr);
        if (!actor)
            rc = yg_error_set(err, aerr.code ? aerr.code : YG_EIO,
                              "cannot start the node actor for '%s': %s", a->nodes[i]->name,
                              aerr.message);
        else
            zlistx_add_end(self->actors, actor);
    }
    if (rc != YG_OK) {
        worker_free(self, false);
        return NULL;
    }
    return self;
}

void yg_worker_destroy(yg_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    worker_free(*self_p, true);
    *self_p = NULL;
}

void yg_worker_kill(yg_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    worker_free(*self_p, false);
    *self_p = NULL;
}

int yg_worker_freeze(yg_worker_t *self, bool frozen)
{
    if (!self || !self->relay)
        return YG_EINVAL;
    if (zstr_send(self->relay, frozen ? "FREEZE" : "THAW") != 0)
        return YG_ECLOSED;
    return zsock_wait(self->relay) == 0 ? YG_OK : YG_ECLOSED;
}

int yg_worker_status(yg_worker_t *self, yg_error_t *err)
{
    if (!self)
        return yg_error_set(err, YG_EINVAL, "yg_worker_status: NULL worker");
    pthread_mutex_lock(&self->shared->lock);
    int rc = self->shared->status;
    if (rc != YG_OK)
        yg_error_set(err, rc, "%s", self->shared->message);
    pthread_mutex_unlock(&self->shared->lock);
    return rc;
}

int yg_worker_wait(yg_worker_t *self, int timeout_ms, yg_error_t *err)
{
    if (!self)
        return yg_error_set(err, YG_EINVAL, "yg_worker_wait: NULL worker");
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    if (timeout_ms > 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    worker_shared_t *sh = self->shared;
    pthread_mutex_lock(&sh->lock);
    while (sh->status == YG_OK && timeout_ms != 0) {
        int w = timeout_ms < 0 ? pthread_cond_wait(&sh->cond, &sh->lock)
                               : pthread_cond_timedwait(&sh->cond, &sh->lock, &deadline);
        if (w == ETIMEDOUT)
            break;
    }
    int rc = sh->status;
    if (rc != YG_OK)
        yg_error_set(err, rc, "%s", sh->message);
    pthread_mutex_unlock(&sh->lock);
    return rc == YG_OK ? YG_ETIMEOUT : rc;
}

int yg_worker_stats(yg_worker_t *self, yg_worker_stats_t *stats)
{
    if (!self || !stats)
        return YG_EINVAL;
    pthread_mutex_lock(&self->shared->lock);
    *stats = self->shared->stats;
    pthread_mutex_unlock(&self->shared->lock);
    return YG_OK;
}

yg_graph_t *yg_worker_graph(yg_worker_t *self)
{
    return self ? self->graph : NULL;
}
