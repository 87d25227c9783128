/*
 * yg_node_actor.c - the node actor (see yg_node_actor.h).
 */
#include "yg_node_actor.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yg_exec.h"
#include "yg_llm_http.h"
#include "yg_msg.h"
#include "yg_msgpack.h"

/* Outgoing messages are packed straight into one reusable buffer that
 * starts with room for an array32 header (0xdd + 4-byte count): a batch is
 * sent as [header, messages...], a single message without the header. */
#define ACTOR_BATCH_HEADER 5
/* A batch buffer that grew past this is released after the flush instead
 * of being kept for reuse. */
#define ACTOR_BUFFER_KEEP (1024u * 1024u)

/* Adaptive spin-before-block (docs/architecture.md, "Performance").  After
 * a wake-up that answered every task synchronously, the actor polls its
 * socket without blocking (yielding the CPU between polls) for up to a
 * budget before going back to sleep: when the coordinator's next task comes
 * back within microseconds (a loop such as W2) this saves the thread's
 * sleep and wake-up (~15-30 us on a VM).  A spin that catches a message
 * restores the full budget; one that expires halves it, down to a floor
 * that is kept: for that short while the vCPU stays busy, and the next
 * node actor the coordinator wakes (W1: the next node of the chain) is
 * scheduled on a running CPU instead of waking an idle one, which on this
 * kind of VM costs far more (measured: W1 2,000-2,900 runs/s without the
 * floor, 3,700-4,100 with a 10 us floor).  Never spins while idle (only
 * right after it sent results) or with tasks in flight (their I/O runs in
 * the loop). */
#define ACTOR_SPIN_MAX_NS 50000
#define ACTOR_SPIN_FLOOR_NS 10000
/* Longest stretch spent handling messages caught by spinning before the
 * loop gets control back (timers, the pipe). */
#define ACTOR_SPIN_SESSION_NS 2000000

/* One task: queued (msg set, task NULL) or in flight (task set). */
typedef struct slot {
    struct node_actor *actor;
    uint64_t run;
    uint64_t id;
    yg_value_t *msg;             /* the task message (owned) */
    yg_task_t *task;
    struct slot *prev;
    struct slot *next;
} slot_t;

typedef struct slot_list {
    slot_t *head;
    slot_t *tail;
    size_t size;
} slot_list_t;

typedef struct pending_body {
    char *data;
    size_t size;
    struct pending_body *next;
} pending_body_t;

/* The copied configuration handed to the thread. */
typedef struct actor_args {
    const yg_graph_t *graph;
    const yg_node_t *node;
    char *endpoint;
    char *worker_id;
    int capacity;
    yg_providers_t *providers;
    char *cwd;
} actor_args_t;

typedef struct node_actor {
    actor_args_t *args;
    zsock_t *pipe;
    zsock_t *dealer;
    zloop_t *loop;
    yg_evloop_t *ev;
    yg_procs_t *procs;
    yg_llm_client_t *llm;
    yg_exec_env_t env;
    slot_list_t inflight;
    slot_list_t queue;
    bool pumping;
    msgpack_sbuffer obuf;        /* packed messages not yet sent (see ACTOR_BATCH_HEADER) */
    msgpack_packer opk;          /* packs into obuf */
    size_t ocount;               /* messages in obuf */
    bool sent;                   /* a batch went out since the last spin decision */
    int64_t spin_ns;             /* current spin budget (ACTOR_SPIN_FLOOR_NS..MAX) */
    bool no_spin;                /* a task since the last spin decision carried YG_MSG_NO_SPIN */
    yg_timer_t *flush_timer;
    pending_body_t *pending;     /* bodies refused with EAGAIN, in order */
    pending_body_t *pending_tail;
    yg_timer_t *retry_timer;
    yg_limits_t limits;
} node_actor_t;

/* --- slot lists ------------------------------------------------------------ */

static void list_push(slot_list_t *l, slot_t *s)
{
    s->prev = l->tail;
    s->next = NULL;
    if (l->tail)
        l->tail->next = s;
    else
        l->head = s;
    l->tail = s;
    l->size++;
}

static void list_unlink(slot_list_t *l, slot_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        l->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        l->tail = s->prev;
    s->prev = s->next = NULL;
    l->size--;
}

static void slot_free(slot_t *s)
{
    yg_task_destroy(&s->task);
    yg_value_destroy(&s->msg);
    free(s);
}

/* --- sending ------------------------------------------------------------------ */

static void actor_send_pending(node_actor_t *self);

static void actor_on_retry(void *arg)
{
    node_actor_t *self = arg;
    self->retry_timer = NULL;
    actor_send_pending(self);
}

/* Send queued bodies in order until the socket refuses one. */
static void actor_send_pending(node_actor_t *self)
{
    void *sock = zsock_resolve(self->dealer);
    while (self->pending) {
        pending_body_t *b = self->pending;
        if (zmq_send(sock, b->data, b->size, ZMQ_DONTWAIT) < 0) {
            if (zmq_errno() == EAGAIN || zmq_errno() == EINTR) {
                if (!self->retry_timer)
                    self->retry_timer =
                        yg_evloop_timer(self->ev, YG_NODE_ACTOR_RETRY_MS, actor_on_retry, self);
                return;
            }
            zsys_error("node actor %s: send failed: %s", self->args->node->name,
                       zmq_strerror(zmq_errno()));
        }
        self->pending = b->next;
        if (!self->pending)
            self->pending_tail = NULL;
        free(b->data);
        free(b);
    }
}

static void obuf_reset(node_actor_t *self)
{
    static const char zeros[ACTOR_BATCH_HEADER] = {0};
    if (self->obuf.alloc > ACTOR_BUFFER_KEEP) {
        msgpack_sbuffer_destroy(&self->obuf);
        msgpack_sbuffer_init(&self->obuf);
    }
    self->obuf.size = 0;
    self->ocount = 0;
    msgpack_sbuffer_write(&self->obuf, zeros, sizeof zeros); /* failure shows at the next pack */
}

/* Send the packed batch (one message, or an array for several). */
static void actor_flush(node_actor_t *self)
{
    yg_evloop_cancel(self->ev, &self->flush_timer);
    size_t n = self->ocount;
    if (n == 0)
        return;
    char *data = self->obuf.data;
    size_t size = self->obuf.size;
    if (n == 1) {
        data += ACTOR_BATCH_HEADER;
        size -= ACTOR_BATCH_HEADER;
    } else {
        data[0] = (char)0xdd;
        data[1] = (char)(n >> 24);
        data[2] = (char)(n >> 16);
        data[3] = (char)(n >> 8);
        data[4] = (char)n;
    }
    self->sent = true;
    if (!self->pending) {
        if (zmq_send(zsock_resolve(self->dealer), data, size, ZMQ_DONTWAIT) >= 0) {
            obuf_reset(self);
            return;
        }
        if (zmq_errno() != EAGAIN && zmq_errno() != EINTR) {
            zsys_error("node actor %s: send failed: %s", self->args->node->name,
                       zmq_strerror(zmq_errno()));
            obuf_reset(self);
            return;
        }
    }
    /* refused (coordinator busy) or older bodies still waiting: keep a copy */
    pending_body_t *b = calloc(1, sizeof *b);
    char *copy = b ? malloc(size) : NULL;
    if (!copy) {
        zsys_error("node actor %s: out of memory; %zu messages dropped", self->args->node->name,
                   n);
        free(b);
        obuf_reset(self);
        return;
    }
    memcpy(copy, data, size);
    b->data = copy;
    b->size = size;
    if (self->pending_tail)
        self->pending_tail->next = b;
    else
        self->pending = b;
    self->pending_tail = b;
    obuf_reset(self);
    actor_send_pending(self);
}

static void actor_on_flush_timer(void *arg)
{
    node_actor_t *self = arg;
    self->flush_timer = NULL;
    actor_flush(self);
}

/* One message was packed into the batch: flush at the end of the current
 * wake-up, or at once when the batch is full. */
static void actor_posted(node_actor_t *self)
{
    self->ocount++;
    if (self->ocount >= YG_MSG_BATCH_MAX)
        actor_flush(self);
    else if (!self->flush_timer)
        self->flush_timer = yg_evloop_timer(self->ev, 0, actor_on_flush_timer, self);
}

/* Queue one outgoing message (takes ownership). */
static void actor_post(node_actor_t *self, yg_value_t *msg)
{
    if (!msg)
        return;
    size_t before = self->obuf.size;
    int rc = before >= ACTOR_BATCH_HEADER ? yg_msgpack_pack_value(&self->opk, msg) : YG_ENOMEM;
    yg_value_destroy(&msg);
    if (rc != YG_OK) {
        self->obuf.size = before < ACTOR_BATCH_HEADER ? 0 : before; /* drop the partial message */
        zsys_error("node actor %s: cannot encode a message (%s)", self->args->node->name,
                   yg_strerror(rc));
        if (before < ACTOR_BATCH_HEADER)
            obuf_reset(self);
        return;
    }
    actor_posted(self);
}

static int pack_cstr(msgpack_packer *pk, const char *s)
{
    return msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* A "result" message packed directly (no intermediate map: this is the hot
 * path of every node step).  Same fields and order as the map form. */
static int pack_result(msgpack_packer *pk, uint64_t run, uint64_t task, const char *status,
                       const yg_task_result_t *r)
{
    bool interrupt = r->status == YG_TASK_INTERRUPT;
    size_t fields = 5 + (r->update ? 1 : 0) + (interrupt ? 1 : 0) + (r->error ? 1 : 0);
    int rc = msgpack_pack_map(pk, fields);
    rc = rc ? rc : pack_cstr(pk, YG_MSG_TYPE);
    rc = rc ? rc : pack_cstr(pk, YG_MSG_RESULT);
    rc = rc ? rc : pack_cstr(pk, "run");
    rc = rc ? rc : msgpack_pack_uint64(pk, run);
    rc = rc ? rc : pack_cstr(pk, "task");
    rc = rc ? rc : msgpack_pack_uint64(pk, task);
    rc = rc ? rc : pack_cstr(pk, "status");
    rc = rc ? rc : pack_cstr(pk, status);
    if (rc)
        return YG_ENOMEM;
    int vr = YG_OK;
    if (r->update && (vr = pack_cstr(pk, "update") ? YG_ENOMEM : yg_msgpack_pack_value(pk, r->update)))
        return vr;
    if (interrupt &&
        (vr = pack_cstr(pk, "interrupt") ? YG_ENOMEM : yg_msgpack_pack_value(pk, r->interrupt)))
        return vr;
    if (r->error && (vr = pack_cstr(pk, "error") ? YG_ENOMEM : yg_msgpack_pack_value(pk, r->error)))
        return vr;
    rc = pack_cstr(pk, "calls");
    rc = rc ? rc : msgpack_pack_int64(pk, r->calls);
    return rc ? YG_ENOMEM : YG_OK;
}

static yg_value_t *msg_new(const char *type, uint64_t run, uint64_t task)
{
    yg_value_t *m = yg_map_new();
    yg_map_set(m, YG_MSG_TYPE, yg_str_new(type));
    yg_map_set(m, "run", yg_int_new((int64_t)run));
    yg_map_set(m, "task", yg_int_new((int64_t)task));
    return m;
}

static void actor_post_error(node_actor_t *self, uint64_t run, uint64_t task, int code,
                             const char *message)
{
    yg_value_t *m = msg_new(YG_MSG_RESULT, run, task);
    yg_map_set(m, "status", yg_str_new(YG_STATUS_ERROR));
    yg_value_t *e = yg_map_new();
    yg_map_set(e, "code", yg_int_new(code));
    yg_map_set(e, "type", yg_str_new("unknown_error"));
    yg_map_set(e, "message", yg_str_new(message));
    yg_map_set(e, "node", yg_str_new(self->args->node->name));
    yg_map_set(m, "error", e);
    yg_map_set(m, "calls", yg_int_new(0));
    actor_post(self, m);
}

/* --- tasks ------------------------------------------------------------------------ */

static void actor_pump(node_actor_t *self);

static void actor_on_task_done(yg_task_t *task, const yg_task_result_t *r, void *arg)
{
    slot_t *s = arg;
    node_actor_t *self = s->actor;
    static const char *const status_names[] = {YG_STATUS_OK, YG_STATUS_INTERRUPT,
                                               YG_STATUS_ERROR};
    size_t before = self->obuf.size;
    int rc = before >= ACTOR_BATCH_HEADER
                 ? pack_result(&self->opk, s->run, s->id, status_names[r->status], r)
                 : YG_ENOMEM;
    if (rc == YG_OK) {
        actor_posted(self);
    } else {
        /* e.g. an update nested deeper than the codec allows: the run must
         * still hear about its task */
        if (before >= ACTOR_BATCH_HEADER)
            self->obuf.size = before;
        else
            obuf_reset(self);
        char text[256];
        snprintf(text, sizeof text, "node '%s': cannot encode its result (%s)",
                 self->args->node->name, yg_strerror(rc));
        actor_post_error(self, s->run, s->id, rc, text);
    }
    list_unlink(&self->inflight, s);
    slot_free(s);
    actor_pump(self);
}

static void actor_start_slot(node_actor_t *self, slot_t *s)
{
    const yg_value_t *msg = s->msg;
    const char *thread = yg_value_str(yg_map_get(msg, "thread"));
    yg_task_spec_t spec = {
        .run = s->run,
        .id = s->id,
        .thread = thread ? thread : "",
        .step = yg_value_int(yg_map_get(msg, "step")),
        .input = yg_map_get(msg, "input"),
        .payload = yg_map_get(msg, "payload"),
        .has_resume = yg_map_has(msg, "resume"),
        .resume = yg_map_get(msg, "resume"),
    };
    if (yg_value_bool(yg_map_get(msg, YG_MSG_NO_SPIN)))
        self->no_spin = true;
    list_push(&self->inflight, s);
    s->task = yg_task_new(&self->env, self->args->node, &spec, actor_on_task_done, s);
    if (!s->task) {
        list_unlink(&self->inflight, s);
        actor_post_error(self, s->run, s->id, YG_EPROTO,
                         "task rejected: input must be a map (or out of memory)");
        slot_free(s);
        return;
    }
    yg_value_destroy(&s->msg); /* the task copied what it needs */
    yg_task_start(s->task);   /* may complete (and free s) right here */
}

/* Start queued tasks while slots are free.  Not re-entrant: a task that
 * completes inside yg_task_start calls back here. */
static void actor_pump(node_actor_t *self)
{
    if (self->pumping)
        return;
    self->pumping = true;
    while (self->queue.head && self->inflight.size < (size_t)self->args->capacity) {
        slot_t *s = self->queue.head;
        list_unlink(&self->queue, s);
        actor_start_slot(self, s);
    }
    self->pumping = false;
}

static bool msg_uint(const yg_value_t *msg, const char *key, uint64_t *out)
{
    const yg_value_t *v = yg_map_get(msg, key);
    if (yg_value_type(v) != YG_INT || yg_value_int(v) < 0)
        return false;
    *out = (uint64_t)yg_value_int(v);
    return true;
}

static void actor_handle_task(node_actor_t *self, yg_value_t *msg)
{
    uint64_t run, id;
    if (!msg_uint(msg, "run", &run) || !msg_uint(msg, "task", &id)) {
        zsys_warning("node actor %s: task without run/task ids dropped", self->args->node->name);
        return;
    }
    const char *node = yg_value_str(yg_map_get(msg, "node"));
    if (node && strcmp(node, self->args->node->name) != 0) {
        char text[512];
        snprintf(text, sizeof text, "task for node '%s' sent to the actor of node '%s'", node,
                 self->args->node->name);
        actor_post_error(self, run, id, YG_EPROTO, text);
        return;
    }
    const yg_value_t *input = yg_map_get(msg, "input");
    const yg_value_t *payload = yg_map_get(msg, "payload");
    if ((input && !yg_value_is_null(input) && yg_value_type(input) != YG_MAP)
        || (payload && !yg_value_is_null(payload) && yg_value_type(payload) != YG_MAP)) {
        actor_post_error(self, run, id, YG_EPROTO, "task input and payload must be maps");
        return;
    }
    slot_t *s = calloc(1, sizeof *s);
    if (!s) {
        actor_post_error(self, run, id, YG_ENOMEM, "out of memory");
        return;
    }
    s->actor = self;
    s->run = run;
    s->id = id;
    s->msg = yg_value_ref(msg);
    list_push(&self->queue, s);
    actor_pump(self);
}

static void actor_handle_cancel(node_actor_t *self, const yg_value_t *msg)
{
    uint64_t run;
    if (!msg_uint(msg, "run", &run))
        return;
    slot_list_t *lists[] = {&self->inflight, &self->queue};
    for (size_t i = 0; i < 2; i++) {
        slot_t *s = lists[i]->head;
        while (s) {
            slot_t *next = s->next;
            if (s->run == run) {
                list_unlink(lists[i], s);
                slot_free(s); /* destroys the task: calls and processes are aborted */
            }
            s = next;
        }
    }
    actor_pump(self);
}

static void actor_handle_child_done(node_actor_t *self, const yg_value_t *msg)
{
    uint64_t run, id;
    if (!msg_uint(msg, "run", &run) || !msg_uint(msg, "task", &id))
        return;
    for (slot_t *s = self->inflight.head; s; s = s->next) {
        if (s->run == run && s->id == id) {
            if (yg_task_child_done(s->task, msg) != YG_OK)
                zsys_warning("node actor %s: unexpected child_done for run %llu task %llu",
                             self->args->node->name, (unsigned long long)run,
                             (unsigned long long)id);
            return;
        }
    }
}

static void actor_handle(node_actor_t *self, yg_value_t *msg)
{
    const char *type = yg_value_str(yg_map_get(msg, YG_MSG_TYPE));
    if (!type) {
        zsys_warning("node actor %s: message without type dropped", self->args->node->name);
        return;
    }
    if (strcmp(type, YG_MSG_TASK) == 0)
        actor_handle_task(self, msg);
    else if (strcmp(type, YG_MSG_CANCEL) == 0)
        actor_handle_cancel(self, msg);
    else if (strcmp(type, YG_MSG_CHILD_DONE) == 0)
        actor_handle_child_done(self, msg);
    else if (strcmp(type, YG_MSG_HEARTBEAT) != 0)
        zsys_warning("node actor %s: unknown message type '%s' dropped", self->args->node->name,
                     type);
}

/* --- exec hooks ----------------------------------------------------------------- */

static int actor_child_request(void *hook_arg, yg_task_t *task, const char *op,
                               const char *graph_hash, const char *thread,
                               const yg_value_t *value)
{
    node_actor_t *self = hook_arg;
    yg_value_t *m = msg_new(YG_MSG_CHILD, yg_task_run(task), yg_task_id(task));
    if (!m)
        return YG_ENOMEM;
    yg_map_set(m, "op", yg_str_new(op));
    yg_map_set(m, "graph", yg_str_new(graph_hash));
    yg_map_set(m, "thread", yg_str_new(thread));
    yg_map_set(m, strcmp(op, "resume") == 0 ? "resume" : "input", yg_value_copy(value));
    actor_post(self, m);
    return YG_OK;
}

static void actor_event(void *hook_arg, yg_task_t *task, const char *kind, const char *text,
                        size_t len)
{
    node_actor_t *self = hook_arg;
    yg_value_t *m = msg_new(YG_MSG_EVENT, yg_task_run(task), yg_task_id(task));
    yg_map_set(m, "kind", yg_str_new(kind));
    yg_map_set(m, "node", yg_str_new(self->args->node->name));
    yg_map_set(m, "text", yg_str_newn(text, len));
    actor_post(self, m);
}

/* --- socket handlers --------------------------------------------------------------- */

static void actor_handle_body(node_actor_t *self, const char *data, size_t size)
{
    if (size > YG_MSG_MAX_BODY) {
        zsys_warning("node actor %s: %zu-byte body over the limit dropped",
                     self->args->node->name, size);
        return;
    }
    yg_error_t err = {0};
    yg_value_t *body = yg_msgpack_decode(data, size, &self->limits, &err);
    if (!body) {
        zsys_warning("node actor %s: undecodable body dropped: %s", self->args->node->name,
                     err.message);
        return;
    }
    if (yg_value_type(body) == YG_LIST) {
        for (size_t i = 0; i < yg_list_size(body); i++)
            if (yg_value_type(yg_list_get(body, i)) == YG_MAP)
                actor_handle(self, yg_list_get(body, i));
    } else if (yg_value_type(body) == YG_MAP) {
        actor_handle(self, body);
    }
    yg_value_destroy(&body);
}

/* Read every message waiting on the DEALER (up to the drain limit), run
 * the tasks, and send what they produced as one batch. */
static void actor_drain(node_actor_t *self)
{
    void *sock = zsock_resolve(self->dealer);
    for (int i = 0; i < YG_NODE_ACTOR_DRAIN_MAX; i++) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            break;
        }
        bool more = zmq_msg_more(&part);
        actor_handle_body(self, zmq_msg_data(&part), zmq_msg_size(&part));
        zmq_msg_close(&part);
        while (more) { /* one body frame per message; skip anything extra */
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&part);
                break;
            }
            more = zmq_msg_more(&part);
            zmq_msg_close(&part);
        }
    }
    actor_flush(self);
}

/* YAMLGRAPH_SPIN=0 turns spinning off (CPU-starved hosts, or to count
 * instructions per step without the polling loops). */
static bool yg_spin_disabled(void)
{
    const char *v = getenv("YAMLGRAPH_SPIN");
    return v && strcmp(v, "0") == 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spin-before-block after a wake-up that sent results (see above). */
static void actor_spin(node_actor_t *self)
{
    int64_t session_end = 0;
    zmq_pollitem_t items[2] = {{zsock_resolve(self->dealer), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(self->pipe), 0, ZMQ_POLLIN, 0}};
    while (self->spin_ns > 0 && self->sent && self->inflight.size == 0 && self->queue.size == 0 && !self->pending) {
        self->sent = false;
        if (self->no_spin) {
            /* the coordinator waits for an external store too (yg_msg.h) */
            self->no_spin = false;
            return;
        }
        int64_t budget = self->spin_ns;
        int64_t start = mono_ns(), now = start;
        if (!session_end)
            session_end = start + ACTOR_SPIN_SESSION_NS;
        int ready = 0;
        while ((ready = zmq_poll(items, 2, 0)) == 0 && (now = mono_ns()) - start < budget)
            sched_yield(); /* on 2 cores: let a runnable thread have this CPU */
        if (ready <= 0) {
            self->spin_ns = budget / 2 > ACTOR_SPIN_FLOOR_NS ? budget / 2 : ACTOR_SPIN_FLOOR_NS;
            return;
        }
        self->spin_ns = ACTOR_SPIN_MAX_NS;
        if (items[1].revents & ZMQ_POLLIN)
            return; /* a command: the loop handles it */
        actor_drain(self);
        if (mono_ns() >= session_end)
            return;
    }
}

static int actor_on_dealer(zloop_t *loop, zsock_t *reader, void *arg)
{
    node_actor_t *self = arg;
    self->sent = false;
    self->no_spin = false; /* the hint is per wake-up: this one's tasks set it */
    actor_drain(self);
    actor_spin(self);
    return 0;
}

static int actor_on_pipe(zloop_t *loop, zsock_t *reader, void *arg)
{
    zmsg_t *msg = zmsg_recv(reader);
    if (!msg)
        return -1;
    char *command = zmsg_popstr(msg);
    bool term = !command || strcmp(command, "$TERM") == 0;
    free(command);
    zmsg_destroy(&msg);
    return term ? -1 : 0;
}

/* --- lifecycle ---------------------------------------------------------------------- */

static void args_destroy(actor_args_t **args_p)
{
    actor_args_t *a = *args_p;
    if (!a)
        return;
    free(a->endpoint);
    free(a->worker_id);
    free(a->cwd);
    yg_providers_destroy(&a->providers);
    free(a);
    *args_p = NULL;
}

static void actor_teardown(node_actor_t *self)
{
    slot_list_t *lists[] = {&self->inflight, &self->queue};
    for (size_t i = 0; i < 2; i++) {
        while (lists[i]->head) {
            slot_t *s = lists[i]->head;
            list_unlink(lists[i], s);
            slot_free(s);
        }
    }
    yg_llm_client_destroy(&self->llm);
    yg_procs_destroy(&self->procs);
    yg_evloop_destroy(&self->ev);
    zloop_destroy(&self->loop);
    while (self->pending) {
        pending_body_t *b = self->pending;
        self->pending = b->next;
        free(b->data);
        free(b);
    }
    msgpack_sbuffer_destroy(&self->obuf);
    zsock_destroy(&self->dealer);
}

static void actor_send_ready(node_actor_t *self)
{
    yg_value_t *m = yg_map_new();
    yg_map_set(m, YG_MSG_TYPE, yg_str_new(YG_MSG_READY));
    yg_map_set(m, "graph", yg_str_new(self->args->graph->hash_hex));
    yg_map_set(m, "node", yg_str_new(self->args->node->name));
    yg_map_set(m, "capacity", yg_int_new(self->args->capacity));
    yg_map_set(m, "worker", yg_str_new(self->args->worker_id));
    actor_post(self, m);
    actor_flush(self);
}

static void node_actor_main(zsock_t *pipe, void *arg)
{
    node_actor_t self_storage;
    node_actor_t *self = &self_storage;
    memset(self, 0, sizeof *self);
    self->args = arg;
    self->pipe = pipe;
    self->limits = yg_limits_default;
    self->limits.max_bytes = YG_MSG_MAX_BODY;

    self->dealer = zsock_new(ZMQ_DEALER);
    self->loop = zloop_new();
    self->ev = self->loop ? yg_evloop_new(self->loop) : NULL;
    self->procs = self->ev ? yg_procs_new(self->ev) : NULL;
    self->llm = self->ev ? yg_llm_client_new(self->args->providers, self->ev) : NULL;
    msgpack_sbuffer_init(&self->obuf);
    msgpack_packer_init(&self->opk, &self->obuf, msgpack_sbuffer_write);
    obuf_reset(self);
    self->spin_ns = yg_spin_disabled() ? 0 : ACTOR_SPIN_MAX_NS;
    bool ok = self->dealer && self->loop && self->ev && self->procs && self->llm &&
              self->obuf.size == ACTOR_BATCH_HEADER;
    if (ok) {
        zsock_set_linger(self->dealer, 0);
        ok = zsock_connect(self->dealer, "%s", self->args->endpoint) == 0;
        if (!ok)
            zsys_error("node actor %s: cannot connect to %s", self->args->node->name,
                       self->args->endpoint);
    }
    if (ok) {
        self->env.ev = self->ev;
        self->env.graph = self->args->graph;
        self->env.llm = self->llm;
        self->env.procs = self->procs;
        self->env.cwd = self->args->cwd;
        self->env.map_node = self->args->node->is_map_sub
                                 ? yg_exec_map_parent(self->args->graph, self->args->node)
                                 : NULL;
        self->env.child_request = actor_child_request;
        self->env.event = actor_event;
        self->env.hook_arg = self;
        /* Only $TERM ends this loop, never the process-wide interrupt flag. */
        zloop_set_nonstop(self->loop, true);
        zloop_reader(self->loop, pipe, actor_on_pipe, self);
        zloop_reader(self->loop, self->dealer, actor_on_dealer, self);
    }
    zsock_signal(pipe, 0);
    if (ok) {
        actor_send_ready(self);
        zloop_start(self->loop);
    } else {
        /* Keep the zactor contract: wait for $TERM. */
        char *cmd;
        while ((cmd = zstr_recv(pipe))) {
            bool term = strcmp(cmd, "$TERM") == 0;
            zstr_free(&cmd);
            if (term)
                break;
        }
    }
    actor_teardown(self);
    args_destroy(&self->args);
}

int yg_node_actor_capacity(const yg_node_actor_config_t *cfg)
{
    if (!cfg)
        return YG_NODE_DEFAULT_CONCURRENCY;
    if (cfg->max_concurrency > 0)
        return cfg->max_concurrency;
    if (cfg->node && cfg->node->max_concurrency > 0)
        return cfg->node->max_concurrency;
    return YG_NODE_DEFAULT_CONCURRENCY;
}

zactor_t *yg_node_actor_new_err(const yg_node_actor_config_t *cfg, yg_error_t *err)
{
    if (!cfg || !cfg->graph || !cfg->node || !cfg->endpoint) {
        yg_error_set(err, YG_EINVAL, "node actor: graph, node and endpoint are required");
        return NULL;
    }
    actor_args_t *a = calloc(1, sizeof *a);
    if (!a) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    a->graph = cfg->graph;
    a->node = cfg->node;
    a->capacity = yg_node_actor_capacity(cfg);
    a->endpoint = strdup(cfg->endpoint);
    a->worker_id = strdup(cfg->worker_id ? cfg->worker_id : "local");
    a->cwd = cfg->cwd ? strdup(cfg->cwd) : NULL;
    if (cfg->providers) {
        a->providers = yg_providers_ref(cfg->providers);
    } else {
        yg_mock_t *mock = NULL;
        if (cfg->mock_file && !(mock = yg_mock_new_from_file(cfg->mock_file, err))) {
            args_destroy(&a);
            return NULL;
        }
        a->providers = yg_providers_new(cfg->provider_override, mock);
        yg_mock_destroy(&mock);
        if (a->providers && yg_providers_register_http(a->providers) != YG_OK)
            yg_providers_destroy(&a->providers);
    }
    if (!a->endpoint || !a->worker_id || (cfg->cwd && !a->cwd) || !a->providers) {
        args_destroy(&a);
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    zactor_t *actor = zactor_new(node_actor_main, a);
    if (!actor) {
        args_destroy(&a);
        yg_error_set(err, YG_EIO, "node actor: cannot start the thread");
    }
    return actor;
}

zactor_t *yg_node_actor_new(const yg_node_actor_config_t *cfg)
{
    yg_error_t err = {0};
    zactor_t *actor = yg_node_actor_new_err(cfg, &err);
    if (!actor)
        zsys_error("node actor: %s", err.message);
    return actor;
}
