/*
 * yg_gateway.c - the gateway actor: the public door of a runtime.
 *
 * One zactor thread with one zloop.  A ROUTER socket (the "front", bound on
 * the configured endpoint, ZMQ_ROUTER_MANDATORY) speaks the public wire
 * protocol v1 (docs/protocol.md) with DEALER and REQ clients; a DEALER (the
 * "back") speaks the coordinator's api protocol (docs/architecture.md).
 *
 * A request frame is checked for size before decoding, decoded with
 * limits, checked against the schema, and either answered here (ping,
 * graphs, every error) or re-numbered with a gateway-wide request number
 * and forwarded.  Replies and events from the coordinator find their client
 * through that number, get the client's own id back and wait in the
 * client's bounded outbound queue until its socket takes them.  Nothing
 * blocks: a full client is retried from a timer, a vanished one loses its
 * replies (logged).
 */
#include "yg_gateway.h"
#include "yg_graph.h"
#include "yg_hex.h"
#include "yg_log.h"
#include "yg_msg.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef YG_VERSION_STRING
#define YG_VERSION_STRING "unknown"
#endif

/* Retry period for clients whose socket was full (EAGAIN). */
#define GW_RETRY_MS 5
/* Messages drained per socket per wake-up, so one busy side cannot starve
 * the other. */
#define GW_DRAIN_MAX 1024
/* Largest frame accepted from the coordinator (it may carry a whole state). */
#define GW_BACK_MAX_BODY YG_MSG_MAX_BODY
/* How long closing the front socket may try to deliver the last replies. */
#define GW_CLOSE_LINGER_MS 200
/* Frames above max_frame_bytes * this are refused by the transport. */
#define GW_TRANSPORT_FACTOR 2
/* Parts of one client message we look at: [identity] [delimiter] body. */
#define GW_MAX_PARTS 4
/* A hex identity key (ZMQ routing ids are at most 255 bytes). */
#define GW_KEY_MAX 520
/* Longest endpoint string kept. */
#define GW_ENDPOINT_MAX 256
/* Bound of the $TERM handshake and start-up reply wait. */
#define GW_START_TIMEOUT_MS 5000

/* ---- types ----------------------------------------------------------------- */

/* One encoded reply waiting for its client's socket. */
typedef struct out_msg {
    char *data;
    size_t size;
    bool delim; /* REQ envelope: an empty frame before the body */
} out_msg_t;

typedef struct gw_client {
    char key[GW_KEY_MAX];
    zframe_t *identity;
    zlistx_t *queue; /* out_msg_t *, owned */
    zhashx_t *ids;   /* client id key -> gw_pending_t * (borrowed) */
    size_t inflight;
    bool gone; /* the ROUTER said EHOSTUNREACH: replies are dropped */
} gw_client_t;

/* A request forwarded to the coordinator and not finished yet. */
typedef struct gw_pending {
    int64_t req;          /* the gateway's number, seen by the coordinator */
    gw_client_t *client;  /* borrowed: a client lives while inflight > 0 */
    yg_value_t *id;       /* the client's id (string or int) */
    char *idkey;
    char *thread;         /* as requested, or NULL */
    bool delim;           /* REQ envelope: one reply only, no events */
    bool stream;          /* forward events */
    bool run;             /* a run: cancelled when abandoned */
} gw_pending_t;

typedef struct gw_args {
    char endpoint[GW_ENDPOINT_MAX];
    char api_endpoint[GW_ENDPOINT_MAX];
    yg_gateway_opts_t opts;
} gw_args_t;

typedef struct gw {
    yg_gateway_opts_t opts;
    yg_limits_t limits;
    zsock_t *pipe;
    zsock_t *front;
    zsock_t *back;
    zloop_t *loop;
    char endpoint[GW_ENDPOINT_MAX];
    zhashx_t *clients; /* key -> gw_client_t, owned */
    zhashx_t *pending; /* "<req>" -> gw_pending_t, owned */
    yg_value_t *graphs; /* list of graph info maps */
    yg_value_t *batch;  /* requests for the coordinator, sent at the end of a wake-up */
    int64_t next_req;
    int retry_timer;
} gw_t;

struct yg_gateway {
    zactor_t *actor;
    char endpoint[GW_ENDPOINT_MAX];
};

static const yg_limits_t back_limits = {
    .max_bytes = GW_BACK_MAX_BODY,
    .max_depth = YG_LIMIT_DEFAULT_DEPTH,
    .max_elements = 64u * 1024u * 1024u,
    .max_string = YG_LIMIT_DEFAULT_STRING,
};

static void gw_log(gw_t *self, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void gw_log(gw_t *self, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    yg_logv(self->opts.log_level, level, "gateway", fmt, ap);
    va_end(ap);
}

static void put(yg_value_t *m, const char *k, yg_value_t *v)
{
    if (!v || yg_map_set(m, k, v) != YG_OK)
        yg_value_destroy(&v);
}

static void hex_key(const unsigned char *d, size_t n, char prefix, char *buf, size_t size)
{
    buf[0] = prefix;
    yg_hex_encode(d, n, buf + 1, size - 1);
}

/* ---- msgpack header scanner (for ids of frames we will not decode) ---------- */

typedef enum { MP_NIL, MP_BOOL, MP_INT, MP_UINT, MP_FLOAT, MP_STR, MP_BIN, MP_EXT, MP_ARRAY, MP_MAP } mp_kind_t;

typedef struct mp_cur {
    const unsigned char *p;
    size_t left;
} mp_cur_t;

typedef struct mp_head {
    mp_kind_t kind;
    uint64_t n;                 /* containers: items or entries; str/bin/ext: bytes */
    int64_t i;                  /* MP_INT */
    uint64_t u;                 /* MP_UINT */
    const unsigned char *bytes; /* str/bin/ext payload */
} mp_head_t;

static bool mp_take(mp_cur_t *c, uint64_t n, const unsigned char **out)
{
    if (n > c->left)
        return false;
    if (out)
        *out = c->p;
    c->p += n;
    c->left -= (size_t)n;
    return true;
}

static bool mp_be(mp_cur_t *c, unsigned n, uint64_t *out)
{
    const unsigned char *b;
    if (!mp_take(c, n, &b))
        return false;
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v = (v << 8) | b[k];
    *out = v;
    return true;
}

/* Read one object header; for str/bin/ext also take the payload. */
static bool mp_read_head(mp_cur_t *c, mp_head_t *h)
{
    const unsigned char *tp;
    if (!mp_take(c, 1, &tp))
        return false;
    unsigned t = *tp;
    uint64_t v = 0;
    memset(h, 0, sizeof *h);
    if (t <= 0x7f) {
        h->kind = MP_UINT;
        h->u = t;
        return true;
    }
    if (t >= 0xe0) {
        h->kind = MP_INT;
        h->i = (int8_t)t;
        return true;
    }
    if (t <= 0x8f || (t >= 0x90 && t <= 0x9f)) {
        h->kind = t <= 0x8f ? MP_MAP : MP_ARRAY;
        h->n = t & 0x0f;
        return true;
    }
    if (t <= 0xbf) {
        h->kind = MP_STR;
        h->n = t & 0x1f;
        return mp_take(c, h->n, &h->bytes);
    }
    switch (t) {
    case 0xc0:
        h->kind = MP_NIL;
        return true;
    case 0xc2:
    case 0xc3:
        h->kind = MP_BOOL;
        return true;
    case 0xc4: case 0xc5: case 0xc6:
        h->kind = MP_BIN;
        return mp_be(c, 1u << (t - 0xc4), &h->n) && mp_take(c, h->n, &h->bytes);
    case 0xc7: case 0xc8: case 0xc9:
        h->kind = MP_EXT;
        return mp_be(c, 1u << (t - 0xc7), &h->n) && mp_take(c, h->n + 1, &h->bytes);
    case 0xca:
    case 0xcb:
        h->kind = MP_FLOAT;
        return mp_take(c, t == 0xca ? 4 : 8, NULL);
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        h->kind = MP_UINT;
        return mp_be(c, 1u << (t - 0xcc), &h->u);
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        unsigned n = 1u << (t - 0xd0);
        if (!mp_be(c, n, &v))
            return false;
        h->kind = MP_INT;
        if (n < 8 && (v >> (n * 8 - 1)) & 1)
            v |= ~(uint64_t)0 << (n * 8); /* sign-extend */
        h->i = (int64_t)v;
        return true;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        h->kind = MP_EXT;
        h->n = 1u << (t - 0xd4);
        return mp_take(c, h->n + 1, &h->bytes);
    case 0xd9: case 0xda: case 0xdb:
        h->kind = MP_STR;
        return mp_be(c, 1u << (t - 0xd9), &h->n) && mp_take(c, h->n, &h->bytes);
    case 0xdc: case 0xdd:
        h->kind = MP_ARRAY;
        return mp_be(c, t == 0xdc ? 2 : 4, &h->n);
    case 0xde: case 0xdf:
        h->kind = MP_MAP;
        return mp_be(c, t == 0xde ? 2 : 4, &h->n);
    default:
        return false; /* 0xc1 is never used */
    }
}

/* Skip `count` whole objects, iteratively: containers add their items to
 * the count.  Every object takes at least one byte, which bounds the count
 * by the bytes left. */
static bool mp_skip(mp_cur_t *c, uint64_t count)
{
    while (count > 0) {
        if (count > c->left)
            return false;
        mp_head_t h;
        if (!mp_read_head(c, &h))
            return false;
        count--;
        if (h.kind == MP_ARRAY || h.kind == MP_MAP) {
            uint64_t add = h.kind == MP_MAP ? h.n * 2 : h.n;
            if (h.n > c->left || add > c->left)
                return false;
            count += add;
        }
    }
    return true;
}

yg_value_t *yg_gateway_scan_id(const void *data, size_t size)
{
    if (!data)
        return NULL;
    mp_cur_t c = { data, size };
    mp_head_t top;
    if (!mp_read_head(&c, &top) || top.kind != MP_MAP)
        return NULL;
    for (uint64_t e = 0; e < top.n; e++) {
        mp_head_t key;
        if (!mp_read_head(&c, &key))
            return NULL;
        if (key.kind == MP_STR && key.n == 2 && memcmp(key.bytes, "id", 2) == 0) {
            mp_head_t v;
            if (!mp_read_head(&c, &v))
                return NULL;
            if (v.kind == MP_STR && v.n >= 1 && v.n <= YG_GW_ID_MAX)
                return yg_str_newn((const char *)v.bytes, (size_t)v.n);
            if (v.kind == MP_INT)
                return yg_int_new(v.i);
            if (v.kind == MP_UINT && v.u <= INT64_MAX)
                return yg_int_new((int64_t)v.u);
            return NULL;
        }
        uint64_t inner = key.kind == MP_MAP ? key.n * 2 : key.kind == MP_ARRAY ? key.n : 0;
        if (inner > c.left || !mp_skip(&c, inner + 1)) /* the key's items, then the value */
            return NULL;
    }
    return NULL;
}

/* ---- clients and their queues -------------------------------------------------- */

static void out_free(void **item)
{
    out_msg_t *o = *item;
    if (o) {
        free(o->data);
        free(o);
    }
    *item = NULL;
}

static void client_free(void **item)
{
    gw_client_t *c = *item;
    if (c) {
        zframe_destroy(&c->identity);
        zlistx_destroy(&c->queue);
        zhashx_destroy(&c->ids);
        free(c);
    }
    *item = NULL;
}

static gw_client_t *client_get(gw_t *self, zframe_t *identity)
{
    char key[GW_KEY_MAX];
    hex_key(zframe_data(identity), zframe_size(identity), 'c', key, sizeof key);
    gw_client_t *c = zhashx_lookup(self->clients, key);
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->key, sizeof c->key, "%s", key);
    c->identity = zframe_dup(identity);
    c->queue = zlistx_new();
    c->ids = zhashx_new();
    if (!c->identity || !c->queue || !c->ids) {
        void *p = c;
        client_free(&p);
        return NULL;
    }
    zlistx_set_destructor(c->queue, out_free);
    zhashx_insert(self->clients, key, c);
    return c;
}

/* Send what the client's socket takes now.  Returns true when the queue is
 * empty afterwards. */
static bool client_flush(gw_t *self, gw_client_t *c)
{
    void *raw = zsock_resolve(self->front);
    out_msg_t *o;
    while ((o = zlistx_first(c->queue))) {
        if (zmq_send(raw, zframe_data(c->identity), zframe_size(c->identity),
                     ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            if (errno == EAGAIN)
                return false; /* peer full: retried from a timer */
            if (errno == EHOSTUNREACH) {
                gw_log(self, YG_LOG_INFO, "client gone; dropping %zu replies",
                       zlistx_size(c->queue));
            } else {
                gw_log(self, YG_LOG_WARNING, "send to a client failed (%s); dropping %zu replies",
                       zmq_strerror(errno), zlistx_size(c->queue));
            }
            c->gone = true;
            zlistx_purge(c->queue);
            return true;
        }
        /* once the routing part is accepted the rest of the message is too */
        if (o->delim)
            zmq_send(raw, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(raw, o->data, o->size, ZMQ_DONTWAIT);
        zlistx_delete(c->queue, zlistx_cursor(c->queue));
    }
    return true;
}

/* Queue an encoded reply (takes msg).  Dropped when the client is gone. */
static void client_push(gw_t *self, gw_client_t *c, yg_value_t *msg, bool delim)
{
    char *data = NULL;
    size_t size = 0;
    int rc = msg ? yg_msgpack_encode(msg, &data, &size) : YG_ENOMEM;
    yg_value_destroy(&msg);
    if (rc != YG_OK) {
        gw_log(self, YG_LOG_ERROR, "cannot encode a reply (%s)", yg_strerror(rc));
        return;
    }
    out_msg_t *o = c->gone ? NULL : calloc(1, sizeof *o);
    if (!o) {
        free(data);
        return;
    }
    *o = (out_msg_t){ data, size, delim };
    zlistx_add_end(c->queue, o);
}

/* True when c can take one more queued message (trying its socket first). */
static bool client_has_room(gw_t *self, gw_client_t *c)
{
    if (zlistx_size(c->queue) < self->opts.max_client_queue)
        return true;
    client_flush(self, c);
    return zlistx_size(c->queue) < self->opts.max_client_queue;
}

/* ---- replies ----------------------------------------------------------------- */

static yg_value_t *reply_new(const yg_value_t *id, const char *type)
{
    yg_value_t *r = yg_map_new();
    if (!r)
        return NULL;
    put(r, "v", yg_int_new(YG_PROTOCOL_VERSION));
    put(r, "id", id ? yg_value_copy(id) : yg_null_new());
    put(r, "type", yg_str_new(type));
    return r;
}

static yg_value_t *error_value(int code, const char *message)
{
    yg_value_t *e = yg_map_new();
    if (!e)
        return NULL;
    put(e, "code", yg_int_new(code));
    put(e, "name", yg_str_new(yg_strerror(code)));
    put(e, "message", yg_str_new(message ? message : ""));
    return e;
}

static void reply_error(gw_t *self, gw_client_t *c, const yg_value_t *id, bool delim, int code,
                        const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Answer a request with an error.  A client that does not read its replies
 * loses this one once its queue is full (logged). */
static void reply_error(gw_t *self, gw_client_t *c, const yg_value_t *id, bool delim, int code,
                        const char *fmt, ...)
{
    char message[YG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    gw_log(self, YG_LOG_DEBUG, "request refused: %s", message);
    if (!client_has_room(self, c)) {
        gw_log(self, YG_LOG_WARNING, "client not reading (%zu replies queued); error reply dropped",
               zlistx_size(c->queue));
        return;
    }
    yg_value_t *r = reply_new(id, "error");
    if (r)
        put(r, "error", error_value(code, message));
    client_push(self, c, r, delim);
}

/* ---- pending requests ---------------------------------------------------------- */

static void pending_free(void **item)
{
    gw_pending_t *p = *item;
    if (p) {
        yg_value_destroy(&p->id);
        free(p->idkey);
        free(p->thread);
        free(p);
    }
    *item = NULL;
}

static void id_key(const yg_value_t *id, char *buf, size_t size)
{
    if (yg_value_type(id) == YG_INT)
        snprintf(buf, size, "i%" PRId64, yg_value_int(id));
    else
        hex_key((const unsigned char *)yg_value_str(id), yg_value_strlen(id), 's', buf, size);
}

static void req_key(int64_t req, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRId64, req);
}

static gw_pending_t *pending_find(gw_t *self, int64_t req)
{
    char key[24];
    req_key(req, key, sizeof key);
    return zhashx_lookup(self->pending, key);
}

/* Forget a finished request (frees p). */
static void pending_finish(gw_t *self, gw_pending_t *p)
{
    gw_client_t *c = p->client;
    if (zhashx_lookup(c->ids, p->idkey) == p)
        zhashx_delete(c->ids, p->idkey);
    c->inflight--;
    char key[24];
    req_key(p->req, key, sizeof key);
    zhashx_delete(self->pending, key);
}

/* Queue a message for the coordinator (takes msg); sent by gw_flush. */
static void back_push(gw_t *self, yg_value_t *msg)
{
    if (!msg || yg_list_append(self->batch, msg) != YG_OK)
        yg_value_destroy(&msg);
}

/* Give up every request of a client that stopped reading: runs are
 * cancelled and each request gets one error reply. */
static void client_abandon(gw_t *self, gw_client_t *c)
{
    gw_log(self, YG_LOG_WARNING,
           "client not reading: %zu messages queued; abandoning its %zu requests",
           zlistx_size(c->queue), c->inflight);
    zlistx_purge(c->queue);
    /* keys, not values: a value list would carry the table's destructor */
    zlistx_t *keys = zhashx_keys(c->ids);
    for (const char *k = keys ? zlistx_first(keys) : NULL; k; k = zlistx_next(keys)) {
        gw_pending_t *p = zhashx_lookup(c->ids, k);
        if (!p)
            continue;
        if (p->run) {
            yg_value_t *cancel = yg_map_new();
            if (cancel) {
                put(cancel, YG_MSG_TYPE, yg_str_new("cancel"));
                put(cancel, "req", yg_int_new(self->next_req++));
                put(cancel, "run_req", yg_int_new(p->req));
            }
            back_push(self, cancel);
        }
        yg_value_t *r = reply_new(p->id, "error");
        if (r)
            put(r, "error", error_value(YG_ELIMIT, "client too slow: its outbound queue "
                                                   "overflowed, request abandoned"));
        client_push(self, c, r, p->delim);
        pending_finish(self, p);
    }
    zlistx_destroy(&keys);
}

/* ---- coordinator -> clients ----------------------------------------------------- */

/* The public error map {code, name, message, node?} from the api's
 * {code, type, message, node?}. */
static yg_value_t *convert_error(const yg_value_t *e)
{
    int code = (int)yg_value_int(yg_map_get(e, "code"));
    yg_value_t *out = error_value(code < 0 ? code : YG_EPROTO, yg_value_str(yg_map_get(e, "message")));
    const yg_value_t *node = yg_map_get(e, "node");
    if (out && yg_value_type(node) == YG_STR)
        put(out, "node", yg_value_copy(node));
    return out;
}

/* Copy the fields of an api message except its envelope (t, req) and, for
 * a final reply, status and error (rewritten by the caller).  The public
 * envelope keys v, id and type are never overwritten: an interrupt
 * event's own id travels as interrupt_id. */
static void copy_fields(yg_value_t *dst, const yg_value_t *src, bool final)
{
    for (size_t i = 0; i < yg_map_size(src); i++) {
        const char *k = yg_map_key_at(src, i);
        if (strcmp(k, YG_MSG_TYPE) == 0 || strcmp(k, "req") == 0 || strcmp(k, "v") == 0 ||
            strcmp(k, "type") == 0 ||
            (final && (strcmp(k, "error") == 0 || strcmp(k, "status") == 0)))
            continue;
        if (strcmp(k, "id") == 0)
            k = "interrupt_id";
        put(dst, k, yg_value_ref(yg_map_value_at(src, i)));
    }
}

static yg_value_t *public_final(const gw_pending_t *p, const yg_value_t *msg)
{
    const char *t = yg_value_str(yg_map_get(msg, YG_MSG_TYPE));
    const yg_value_t *error = yg_map_get(msg, "error");
    /* an error before any run existed is a request error; a run that ended
     * in error is a result with status "error" (it has run id and state) */
    if (t && strcmp(t, "error") == 0 && !yg_map_has(msg, "run")) {
        yg_value_t *r = reply_new(p->id, "error");
        if (r)
            put(r, "error", convert_error(error));
        return r;
    }
    yg_value_t *r = reply_new(p->id, "result");
    if (!r)
        return NULL;
    const char *status = yg_value_str(yg_map_get(msg, "status"));
    bool failed = (t && strcmp(t, "error") == 0) || !status;
    put(r, "status", yg_str_new(failed ? "error" : status));
    copy_fields(r, msg, true);
    if (!yg_map_has(r, "thread") && p->thread)
        put(r, "thread", yg_str_new(p->thread));
    if (failed)
        put(r, "error", convert_error(error));
    return r;
}

static void on_back_message(gw_t *self, const yg_value_t *msg)
{
    if (yg_value_type(msg) != YG_MAP)
        return;
    int64_t req = yg_value_int(yg_map_get(msg, "req"));
    gw_pending_t *p = pending_find(self, req);
    if (!p) {
        gw_log(self, YG_LOG_DEBUG, "reply for finished request %" PRId64 " dropped", req);
        return;
    }
    const char *t = yg_value_str(yg_map_get(msg, YG_MSG_TYPE));
    bool event = t && strcmp(t, "event") == 0;
    if (event && !p->stream)
        return;
    gw_client_t *c = p->client;
    if (!c->gone && !client_has_room(self, c)) {
        client_abandon(self, c); /* answers p too */
        return;
    }
    if (event) {
        yg_value_t *e = reply_new(p->id, "event");
        if (e) { /* kind and seq first for readers; copy_fields keeps their place */
            put(e, "kind", yg_value_ref(yg_map_get(msg, "kind")));
            put(e, "seq", yg_value_ref(yg_map_get(msg, "seq")));
            copy_fields(e, msg, false);
        }
        client_push(self, c, e, p->delim);
        return;
    }
    client_push(self, c, public_final(p, msg), p->delim);
    pending_finish(self, p);
}

static void gw_flush(gw_t *self);

static int on_back(zloop_t *loop, zsock_t *sock, void *arg)
{
    gw_t *self = arg;
    void *raw = zsock_resolve(sock);
    for (int n = 0; n < GW_DRAIN_MAX; n++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        bool more = zmq_msg_more(&m);
        yg_error_t err = { 0 };
        yg_value_t *body = more ? NULL
                                : yg_msgpack_decode(zmq_msg_data(&m), zmq_msg_size(&m),
                                                    &back_limits, &err);
        zmq_msg_close(&m);
        while (more) { /* the coordinator sends one frame: skip strays */
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, raw, ZMQ_DONTWAIT) < 0)
                more = false;
            else
                more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
        if (!body)
            gw_log(self, YG_LOG_ERROR, "undecodable coordinator message dropped: %s", err.message);
        if (yg_value_type(body) == YG_LIST) {
            for (size_t i = 0; i < yg_list_size(body); i++)
                on_back_message(self, yg_list_get(body, i));
        } else {
            on_back_message(self, body);
        }
        yg_value_destroy(&body);
    }
    gw_flush(self);
    return 0;
}

/* ---- request validation ----------------------------------------------------------- */

typedef enum { F_STR, F_INT, F_BOOL, F_MAP, F_ID, F_ANY } field_kind_t;

typedef struct field_spec {
    const char *name;
    field_kind_t kind;
    bool required;
    int64_t max; /* strings: bytes; ints: largest value */
    int64_t min; /* ints: smallest value */
} field_spec_t;

static const char *kind_name(field_kind_t k)
{
    switch (k) {
    case F_STR:
        return "a string";
    case F_INT:
        return "an integer";
    case F_BOOL:
        return "a boolean";
    case F_MAP:
        return "a map";
    case F_ID:
        return "a string or an integer";
    default:
        return "a value";
    }
}

/* Check one field; on failure fill msg and return the error code. */
static int check_field(const yg_value_t *body, const field_spec_t *f, char *msg, size_t size)
{
    const yg_value_t *v = yg_map_get(body, f->name);
    if (!v) {
        if (!f->required)
            return YG_OK;
        snprintf(msg, size, "missing required field '%s'", f->name);
        return YG_EINVAL;
    }
    yg_type_t t = yg_value_type(v);
    bool ok;
    switch (f->kind) {
    case F_STR:
        ok = t == YG_STR;
        break;
    case F_INT:
        ok = t == YG_INT;
        break;
    case F_BOOL:
        ok = t == YG_BOOL;
        break;
    case F_MAP:
        ok = t == YG_MAP || (t == YG_NULL && !f->required);
        break;
    case F_ID:
        ok = t == YG_STR || t == YG_INT;
        break;
    default:
        ok = true;
    }
    if (!ok) {
        snprintf(msg, size, "field '%s' must be %s, got %s", f->name, kind_name(f->kind),
                 yg_type_name(t));
        return YG_ETYPE;
    }
    if ((f->kind == F_STR || (f->kind == F_ID && t == YG_STR)) && f->max > 0) {
        size_t len = yg_value_strlen(v);
        if (len == 0 || len > (size_t)f->max) {
            snprintf(msg, size, "field '%s' must be 1 to %" PRId64 " bytes long, got %zu",
                     f->name, f->max, len);
            return len == 0 ? YG_EINVAL : YG_ELIMIT;
        }
    }
    if (f->kind == F_INT && (yg_value_int(v) < f->min || yg_value_int(v) > f->max)) {
        snprintf(msg, size, "field '%s' must be between %" PRId64 " and %" PRId64 ", got %" PRId64,
                 f->name, f->min, f->max, yg_value_int(v));
        return YG_EINVAL;
    }
    return YG_OK;
}

#define FIELD_GRAPH(req) { "graph", F_STR, req, YG_GW_GRAPH_MAX, 0 }
#define FIELD_THREAD(req) { "thread", F_STR, req, YG_GW_THREAD_MAX, 0 }
#define FIELD_STEP_LIMIT { "step_limit", F_INT, false, YG_GW_STEP_LIMIT_MAX, 1 }
#define FIELD_FORCE { "force", F_BOOL, false, 0, 0 }
#define FIELD_END { NULL, F_ANY, false, 0, 0 }

static const field_spec_t RUN_FIELDS[] = { FIELD_GRAPH(true), FIELD_THREAD(false),
                                           { "input", F_MAP, false, 0, 0 }, FIELD_STEP_LIMIT,
                                           FIELD_FORCE, FIELD_END };
static const field_spec_t RESUME_FIELDS[] = { FIELD_GRAPH(true), FIELD_THREAD(true),
                                              { "value", F_ANY, true, 0, 0 }, FIELD_STEP_LIMIT,
                                              FIELD_FORCE, FIELD_END };
static const field_spec_t STREAM_FIELDS[] = { FIELD_GRAPH(true), FIELD_THREAD(false),
                                              { "input", F_MAP, false, 0, 0 },
                                              { "resume", F_BOOL, false, 0, 0 },
                                              { "value", F_ANY, false, 0, 0 }, FIELD_STEP_LIMIT,
                                              FIELD_FORCE, FIELD_END };
static const field_spec_t STATE_FIELDS[] = { FIELD_THREAD(true), FIELD_GRAPH(false), FIELD_END };
static const field_spec_t HISTORY_FIELDS[] = { FIELD_THREAD(true), FIELD_GRAPH(false),
                                               { "limit", F_INT, false, INT32_MAX, 0 },
                                               FIELD_END };
static const field_spec_t CANCEL_FIELDS[] = { { "target", F_ID, false, YG_GW_ID_MAX, 0 },
                                              FIELD_THREAD(false), FIELD_END };
static const field_spec_t NO_FIELDS[] = { FIELD_END };

typedef enum { R_RUN, R_RESUME, R_STREAM, R_STATE, R_HISTORY, R_CANCEL, R_GRAPHS, R_PING } req_type_t;

static const struct {
    const char *name;
    req_type_t type;
    const field_spec_t *fields;
} REQUEST_TYPES[] = {
    { "run", R_RUN, RUN_FIELDS },          { "resume", R_RESUME, RESUME_FIELDS },
    { "stream", R_STREAM, STREAM_FIELDS }, { "state", R_STATE, STATE_FIELDS },
    { "history", R_HISTORY, HISTORY_FIELDS }, { "cancel", R_CANCEL, CANCEL_FIELDS },
    { "graphs", R_GRAPHS, NO_FIELDS },     { "ping", R_PING, NO_FIELDS },
};
#define REQUEST_TYPES_COUNT (sizeof REQUEST_TYPES / sizeof REQUEST_TYPES[0])

static int check_fields(const yg_value_t *body, const field_spec_t *fields, char *msg,
                        size_t size)
{
    for (const field_spec_t *f = fields; f->name; f++) {
        int rc = check_field(body, f, msg, size);
        if (rc != YG_OK)
            return rc;
    }
    return YG_OK;
}

/* ---- requests --------------------------------------------------------------------- */

static void copy_if(yg_value_t *dst, const char *dkey, const yg_value_t *src, const char *skey)
{
    yg_value_t *v = yg_map_get(src, skey);
    if (v)
        put(dst, dkey, yg_value_ref(v));
}

/* The api request for a public one (types run/resume/stream/state/history/cancel). */
static yg_value_t *api_request(req_type_t type, const yg_value_t *body, int64_t req, bool stream,
                               int64_t run_req)
{
    yg_value_t *m = yg_map_new();
    if (!m)
        return NULL;
    bool resume = type == R_RESUME || (type == R_STREAM && yg_value_bool(yg_map_get(body, "resume")));
    const char *t = type == R_STATE     ? "state"
                    : type == R_HISTORY ? "history"
                    : type == R_CANCEL  ? "cancel"
                    : resume            ? "resume"
                                        : "run";
    put(m, YG_MSG_TYPE, yg_str_new(t));
    put(m, "req", yg_int_new(req));
    copy_if(m, "graph", body, "graph");
    copy_if(m, "thread", body, "thread");
    if (type == R_RUN || type == R_RESUME || type == R_STREAM) {
        if (resume) {
            yg_value_t *v = yg_map_get(body, "value");
            put(m, "value", v ? yg_value_ref(v) : yg_null_new());
        } else {
            const yg_value_t *in = yg_map_get(body, "input");
            if (yg_value_type(in) == YG_MAP)
                put(m, "input", yg_value_ref((yg_value_t *)in));
        }
        yg_value_t *o = yg_map_new();
        if (o) {
            copy_if(o, "step_limit", body, "step_limit");
            copy_if(o, "force", body, "force");
            if (stream)
                put(o, "stream", yg_bool_new(true));
        }
        put(m, "opts", o);
    }
    if (type == R_HISTORY)
        copy_if(m, "limit", body, "limit");
    if (type == R_CANCEL && run_req > 0)
        put(m, "run_req", yg_int_new(run_req));
    return m;
}

static void answer_ping(gw_t *self, gw_client_t *c, const yg_value_t *id, bool delim)
{
    yg_value_t *r = reply_new(id, "pong");
    if (r) {
        put(r, "protocol", yg_int_new(YG_PROTOCOL_VERSION));
        put(r, "server", yg_str_new("yamlgraph-c"));
        put(r, "server_version", yg_str_new(YG_VERSION_STRING));
    }
    client_push(self, c, r, delim);
}

static void answer_graphs(gw_t *self, gw_client_t *c, const yg_value_t *id, bool delim)
{
    yg_value_t *r = reply_new(id, "result");
    if (r) {
        put(r, "status", yg_str_new("completed"));
        put(r, "graphs", yg_value_copy(self->graphs));
    }
    client_push(self, c, r, delim);
}

/* Check v, id and type.  Returns the index in REQUEST_TYPES, or -1 after
 * answering with an error. */
static int check_envelope(gw_t *self, gw_client_t *c, const yg_value_t *body, bool delim)
{
    const yg_value_t *id = yg_map_get(body, "id");
    yg_type_t idt = yg_value_type(id);
    size_t idlen = yg_value_strlen(id);
    if (!id || !(idt == YG_INT || (idt == YG_STR && idlen >= 1 && idlen <= YG_GW_ID_MAX))) {
        reply_error(self, c, NULL, delim, YG_EPROTO,
                    "missing or invalid request id 'id' (a string of 1 to %d bytes or an "
                    "integer)",
                    YG_GW_ID_MAX);
        return -1;
    }
    const yg_value_t *v = yg_map_get(body, "v");
    if (yg_value_type(v) != YG_INT) {
        reply_error(self, c, id, delim, YG_EPROTO,
                    "missing or invalid protocol version 'v' (this server speaks %d)",
                    YG_PROTOCOL_VERSION);
        return -1;
    }
    if (yg_value_int(v) != YG_PROTOCOL_VERSION) {
        reply_error(self, c, id, delim, YG_EPROTO,
                    "unsupported protocol version %" PRId64 " (this server speaks %d)",
                    yg_value_int(v), YG_PROTOCOL_VERSION);
        return -1;
    }
    const char *tname = yg_value_str(yg_map_get(body, "type"));
    for (size_t ti = 0; tname && ti < REQUEST_TYPES_COUNT; ti++)
        if (strcmp(REQUEST_TYPES[ti].name, tname) == 0)
            return (int)ti;
    if (tname)
        reply_error(self, c, id, delim, YG_EPROTO, "unknown request type '%.64s'", tname);
    else
        reply_error(self, c, id, delim, YG_EPROTO, "missing or invalid request 'type'");
    return -1;
}

/* Check the fields of a request type; fills msg and returns the code. */
static int check_schema(const yg_value_t *body, size_t ti, char *msg, size_t size)
{
    req_type_t type = REQUEST_TYPES[ti].type;
    int rc = check_fields(body, REQUEST_TYPES[ti].fields, msg, size);
    if (rc == YG_OK && type == R_CANCEL && !yg_map_has(body, "target") &&
        !yg_map_has(body, "thread")) {
        snprintf(msg, size, "cancel needs 'target' (a request id) or 'thread'");
        rc = YG_EINVAL;
    }
    if (rc == YG_OK && type == R_STREAM && yg_value_bool(yg_map_get(body, "resume")) &&
        (!yg_map_has(body, "value") || !yg_map_has(body, "thread"))) {
        snprintf(msg, size, "a stream with resume: true needs 'thread' and 'value'");
        rc = YG_EINVAL;
    }
    return rc;
}

/* Record a valid request as pending and queue it for the coordinator. */
static void forward_request(gw_t *self, gw_client_t *c, const yg_value_t *body, req_type_t type,
                            bool delim)
{
    const yg_value_t *id = yg_map_get(body, "id");
    char idkey[GW_KEY_MAX];
    id_key(id, idkey, sizeof idkey);
    if (zhashx_lookup(c->ids, idkey)) {
        reply_error(self, c, id, delim, YG_EINVAL,
                    "request id already in flight on this connection; use a fresh id");
        return;
    }
    if (c->inflight >= self->opts.max_inflight ||
        zhashx_size(self->pending) >= self->opts.max_pending) {
        reply_error(self, c, id, delim, YG_EBUSY,
                    "too many requests in flight (limit %zu per client)", self->opts.max_inflight);
        return;
    }
    int64_t run_req = 0;
    if (type == R_CANCEL && yg_map_has(body, "target")) {
        char tkey[GW_KEY_MAX];
        id_key(yg_map_get(body, "target"), tkey, sizeof tkey);
        gw_pending_t *target = zhashx_lookup(c->ids, tkey);
        if (!target) {
            reply_error(self, c, id, delim, YG_ENOTFOUND,
                        "cancel: no request with that id in flight on this connection");
            return;
        }
        run_req = target->req;
    }
    gw_pending_t *p = calloc(1, sizeof *p);
    const char *thread = yg_value_str(yg_map_get(body, "thread"));
    if (p) {
        p->req = self->next_req++;
        p->client = c;
        p->id = yg_value_copy(id);
        p->idkey = strdup(idkey);
        p->thread = thread ? strdup(thread) : NULL;
        p->delim = delim;
        p->stream = type == R_STREAM && !delim; /* REQ sockets take one reply */
        p->run = type == R_RUN || type == R_RESUME || type == R_STREAM;
    }
    yg_value_t *fwd = p ? api_request(type, body, p->req, p->stream, run_req) : NULL;
    if (!p || !p->id || !p->idkey || (thread && !p->thread) || !fwd) {
        void *item = p;
        pending_free(&item);
        yg_value_destroy(&fwd);
        reply_error(self, c, id, delim, YG_ENOMEM, "out of memory");
        return;
    }
    char key[24];
    req_key(p->req, key, sizeof key);
    zhashx_insert(self->pending, key, p);
    zhashx_insert(c->ids, p->idkey, p);
    c->inflight++;
    back_push(self, fwd);
}

/* Validate a decoded request map and answer or forward it. */
static void handle_request(gw_t *self, gw_client_t *c, const yg_value_t *body, bool delim)
{
    int ti = check_envelope(self, c, body, delim);
    if (ti < 0)
        return;
    const yg_value_t *id = yg_map_get(body, "id");
    char msg[512];
    int rc = check_schema(body, (size_t)ti, msg, sizeof msg);
    if (rc != YG_OK) {
        reply_error(self, c, id, delim, rc, "%s request: %s", REQUEST_TYPES[ti].name, msg);
        return;
    }
    switch (REQUEST_TYPES[ti].type) {
    case R_PING:
        answer_ping(self, c, id, delim);
        break;
    case R_GRAPHS:
        answer_graphs(self, c, id, delim);
        break;
    default:
        forward_request(self, c, body, REQUEST_TYPES[ti].type, delim);
    }
}

/* Check and decode one client frame, then handle it. */
static void handle_frame(gw_t *self, gw_client_t *c, const void *data, size_t size, bool delim)
{
    if (size > self->opts.max_frame_bytes) {
        yg_value_t *id = yg_gateway_scan_id(data, size);
        reply_error(self, c, id, delim, YG_ELIMIT,
                    "request frame of %zu bytes exceeds the limit of %zu bytes", size,
                    self->opts.max_frame_bytes);
        yg_value_destroy(&id);
        return;
    }
    yg_error_t err = { 0 };
    yg_value_t *body = yg_msgpack_decode(data, size, &self->limits, &err);
    if (!body) {
        yg_value_t *id = yg_gateway_scan_id(data, size);
        if (err.code == YG_ELIMIT)
            reply_error(self, c, id, delim, YG_ELIMIT, "request exceeds a limit: %s", err.message);
        else
            reply_error(self, c, id, delim, YG_EPROTO, "request is not a valid msgpack frame: %s",
                        err.message);
        yg_value_destroy(&id);
        return;
    }
    if (yg_value_type(body) != YG_MAP)
        reply_error(self, c, NULL, delim, YG_EPROTO, "a request must be a msgpack map, got %s",
                    yg_type_name(yg_value_type(body)));
    else
        handle_request(self, c, body, delim);
    yg_value_destroy(&body);
}

/* Receive one client message: [identity] [empty delimiter (REQ)] body.
 * Returns false when nothing was waiting. */
static bool recv_client(gw_t *self, void *raw)
{
    zmq_msg_t parts[GW_MAX_PARTS];
    size_t n = 0, total = 0;
    bool more = true;
    while (more) {
        zmq_msg_t *m = &parts[n < GW_MAX_PARTS ? n : GW_MAX_PARTS - 1];
        if (n >= GW_MAX_PARTS)
            zmq_msg_close(m); /* too many parts: keep counting, reuse the last slot */
        zmq_msg_init(m);
        if (zmq_msg_recv(m, raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            if (total == 0)
                return false;
            zmq_msg_init(m); /* the slot may be closed again below */
            break;           /* cannot happen: parts arrive together */
        }
        more = zmq_msg_more(m);
        total++;
        if (n < GW_MAX_PARTS)
            n++;
    }
    zframe_t *identity = zframe_new(zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]));
    gw_client_t *c = identity ? client_get(self, identity) : NULL;
    zframe_destroy(&identity);
    if (!c) {
        gw_log(self, YG_LOG_ERROR, "out of memory: request dropped");
    } else {
        c->gone = false;
        bool delim = total == 3 && zmq_msg_size(&parts[1]) == 0;
        if (total == 2 || delim) {
            zmq_msg_t *body = &parts[total - 1];
            handle_frame(self, c, zmq_msg_data(body), zmq_msg_size(body), delim);
        } else {
            zmq_msg_t *last = &parts[n - 1];
            yg_value_t *id = total > 1 ? yg_gateway_scan_id(zmq_msg_data(last), zmq_msg_size(last))
                                       : NULL;
            reply_error(self, c, id, total >= 3 && zmq_msg_size(&parts[1]) == 0, YG_EPROTO,
                        "a request is one body frame (after an empty delimiter frame from REQ "
                        "sockets); got %zu frames",
                        total - 1);
            yg_value_destroy(&id);
        }
    }
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
    return true;
}

static int on_front(zloop_t *loop, zsock_t *sock, void *arg)
{
    gw_t *self = arg;
    void *raw = zsock_resolve(sock);
    for (int i = 0; i < GW_DRAIN_MAX && recv_client(self, raw); i++)
        ;
    gw_flush(self);
    return 0;
}

/* ---- flushing ------------------------------------------------------------------------ */

/* The coordinator could not take a request: answer it here. */
static void fail_forward(gw_t *self, const yg_value_t *msg, int code, const char *what)
{
    gw_pending_t *p = pending_find(self, yg_value_int(yg_map_get(msg, "req")));
    if (!p)
        return;
    yg_value_t *r = reply_new(p->id, "error");
    if (r)
        put(r, "error", error_value(code, what));
    client_push(self, p->client, r, p->delim);
    pending_finish(self, p);
}

static void flush_back(gw_t *self)
{
    size_t n = yg_list_size(self->batch), sent = 0;
    void *raw = zsock_resolve(self->back);
    while (sent < n) {
        size_t chunk = n - sent < YG_MSG_BATCH_MAX ? n - sent : YG_MSG_BATCH_MAX;
        yg_value_t *body = chunk == 1 ? yg_value_ref(yg_list_get(self->batch, sent)) : yg_list_new();
        for (size_t i = 0; chunk > 1 && body && i < chunk; i++)
            yg_list_append(body, yg_value_ref(yg_list_get(self->batch, sent + i)));
        char *data = NULL;
        size_t size = 0;
        int rc = body ? yg_msgpack_encode(body, &data, &size) : YG_ENOMEM;
        yg_value_destroy(&body);
        if (rc == YG_OK && zmq_send(raw, data, size, ZMQ_DONTWAIT) < 0)
            rc = errno == EAGAIN ? YG_EBUSY : YG_ECLOSED;
        free(data);
        if (rc != YG_OK) {
            gw_log(self, YG_LOG_ERROR, "cannot forward %zu requests to the coordinator (%s)", chunk,
                   yg_strerror(rc));
            for (size_t i = 0; i < chunk; i++)
                fail_forward(self, yg_list_get(self->batch, sent + i), rc,
                             "the runtime cannot take the request");
        }
        sent += chunk;
    }
    yg_value_destroy(&self->batch);
    self->batch = yg_list_new();
}

static int retry_flush(zloop_t *loop, int timer_id, void *arg)
{
    gw_t *self = arg;
    self->retry_timer = -1;
    gw_flush(self);
    return 0;
}

/* End of a wake-up: forward requests, send queued replies, forget idle
 * clients, and arm the retry timer when some client was full. */
static void gw_flush(gw_t *self)
{
    if (yg_list_size(self->batch))
        flush_back(self);
    bool waiting = false;
    zlistx_t *keys = zhashx_keys(self->clients);
    for (const char *key = keys ? zlistx_first(keys) : NULL; key; key = zlistx_next(keys)) {
        gw_client_t *c = zhashx_lookup(self->clients, key);
        if (!c)
            continue;
        if (!client_flush(self, c))
            waiting = true;
        else if (c->inflight == 0)
            zhashx_delete(self->clients, key);
    }
    zlistx_destroy(&keys);
    if (waiting && self->retry_timer < 0)
        self->retry_timer = zloop_timer(self->loop, GW_RETRY_MS, 1, retry_flush, self);
}

/* ---- graphs ------------------------------------------------------------------------ */

static yg_value_t *graph_info(const yg_graph_t *g)
{
    yg_value_t *info = yg_map_new();
    yg_value_t *nodes = yg_list_new();
    if (!info || !nodes) {
        yg_value_destroy(&info);
        yg_value_destroy(&nodes);
        return NULL;
    }
    put(info, "name", yg_str_new(g->name ? g->name : ""));
    put(info, "path", g->path ? yg_str_new(g->path) : yg_null_new());
    put(info, "hash", yg_str_new(g->hash_hex));
    put(info, "description", g->description ? yg_str_new(g->description) : yg_null_new());
    put(info, "version", g->version ? yg_str_new(g->version) : yg_null_new());
    for (size_t i = 0; i < g->top_nodes_count; i++)
        yg_list_append(nodes, yg_str_new(g->nodes[i]->name));
    put(info, "nodes", nodes);
    return info;
}

static void add_graph(gw_t *self, const yg_graph_t *g)
{
    for (size_t i = 0; i < yg_list_size(self->graphs); i++) {
        const char *h = yg_value_str(yg_map_get(yg_list_get(self->graphs, i), "hash"));
        if (h && strcmp(h, g->hash_hex) == 0)
            return;
    }
    yg_value_t *info = graph_info(g);
    if (!info || yg_list_append(self->graphs, info) != YG_OK)
        yg_value_destroy(&info);
}

/* ---- the actor ------------------------------------------------------------------------ */

static int on_pipe(zloop_t *loop, zsock_t *pipe, void *arg)
{
    gw_t *self = arg;
    char *cmd = NULL;
    void *ptr = NULL;
    if (zsock_recv(pipe, "sp", &cmd, &ptr) != 0 || !cmd)
        return -1;
    int rc = 0;
    if (strcmp(cmd, "$TERM") == 0) {
        rc = -1;
    } else if (strcmp(cmd, "GRAPH") == 0) {
        if (ptr)
            add_graph(self, ptr);
        zsock_signal(pipe, 0);
    } else {
        gw_log(self, YG_LOG_WARNING, "unknown pipe command '%s'", cmd);
    }
    zstr_free(&cmd);
    return rc;
}

static void gw_destroy(gw_t **self_p)
{
    gw_t *self = *self_p;
    if (!self)
        return;
    zloop_destroy(&self->loop);
    zhashx_destroy(&self->pending);
    zhashx_destroy(&self->clients);
    yg_value_destroy(&self->graphs);
    yg_value_destroy(&self->batch);
    zsock_destroy(&self->front);
    zsock_destroy(&self->back);
    free(self);
    *self_p = NULL;
}

/* Create the sockets and bind; on failure fill err. */
static gw_t *gw_new(zsock_t *pipe, const gw_args_t *args, yg_error_t *err)
{
    gw_t *self = calloc(1, sizeof *self);
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory creating the gateway");
        return NULL;
    }
    self->opts = args->opts;
    self->limits = (yg_limits_t){ .max_bytes = self->opts.max_frame_bytes,
                                  .max_depth = self->opts.max_depth,
                                  .max_elements = self->opts.max_elements,
                                  .max_string = self->opts.max_string };
    self->pipe = pipe;
    self->retry_timer = -1;
    self->next_req = 1;
    self->clients = zhashx_new();
    self->pending = zhashx_new();
    self->graphs = yg_list_new();
    self->batch = yg_list_new();
    self->front = zsock_new(ZMQ_ROUTER);
    self->back = zsock_new(ZMQ_DEALER);
    self->loop = zloop_new();
    if (!self->clients || !self->pending || !self->graphs || !self->batch || !self->front ||
        !self->back || !self->loop) {
        yg_error_set(err, YG_ENOMEM, "out of memory creating the gateway");
        gw_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->clients, client_free);
    zhashx_set_destructor(self->pending, pending_free);
    zsock_set_router_mandatory(self->front, 1);
    zsock_set_linger(self->front, 0);
    zsock_set_sndhwm(self->front, self->opts.client_hwm);
    int64_t transport_max = (int64_t)self->opts.max_frame_bytes * GW_TRANSPORT_FACTOR;
    zsock_set_maxmsgsize(self->front, transport_max > 0 && transport_max < INT32_MAX
                                          ? (int)transport_max
                                          : -1);
    zsock_set_linger(self->back, 0);
    zsock_set_sndhwm(self->back, 0); /* forwarding never blocks */
    zsock_set_rcvhwm(self->back, 0);
    if (zsock_connect(self->back, "%s", args->api_endpoint) != 0) {
        yg_error_set(err, YG_EIO, "cannot connect to the runtime at %s", args->api_endpoint);
        gw_destroy(&self);
        return NULL;
    }
    if (zsock_bind(self->front, "%s", args->endpoint) < 0) {
        yg_error_set(err, YG_EIO, "cannot bind the gateway on %s: %s", args->endpoint,
                     zmq_strerror(zmq_errno()));
        gw_destroy(&self);
        return NULL;
    }
    const char *last = zsock_endpoint(self->front);
    snprintf(self->endpoint, sizeof self->endpoint, "%s", last ? last : args->endpoint);
    zloop_reader(self->loop, pipe, on_pipe, self);
    zloop_reader(self->loop, self->front, on_front, self);
    zloop_reader(self->loop, self->back, on_back, self);
    zloop_set_nonstop(self->loop, true); /* $TERM ends it, not CZMQ's interrupt flag */
    return self;
}

/* Shutting down: tell every client with a request in flight (best effort). */
static void answer_pending_closed(gw_t *self)
{
    zlistx_t *keys = zhashx_keys(self->pending);
    for (const char *k = keys ? zlistx_first(keys) : NULL; k; k = zlistx_next(keys)) {
        gw_pending_t *p = zhashx_lookup(self->pending, k);
        if (!p)
            continue;
        yg_value_t *r = reply_new(p->id, "error");
        if (r)
            put(r, "error", error_value(YG_ECLOSED, "the server is shutting down"));
        client_push(self, p->client, r, p->delim);
        pending_finish(self, p);
    }
    zlistx_destroy(&keys);
    zsock_set_linger(self->front, GW_CLOSE_LINGER_MS);
    for (gw_client_t *c = zhashx_first(self->clients); c; c = zhashx_next(self->clients))
        client_flush(self, c);
}

static void gateway_actor(zsock_t *pipe, void *arg)
{
    gw_args_t *args = arg;
    yg_error_t err = { 0 };
    gw_t *self = gw_new(pipe, args, &err);
    zsock_signal(pipe, 0);
    zsock_send(pipe, "is", self ? YG_OK : err.code, self ? self->endpoint : err.message);
    if (!self)
        return;
    zloop_start(self->loop);
    answer_pending_closed(self);
    gw_destroy(&self);
}

/* ---- public API ------------------------------------------------------------------------ */

void yg_gateway_opts_init(yg_gateway_opts_t *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->max_frame_bytes = YG_GATEWAY_DEFAULT_MAX_FRAME;
    opts->max_depth = YG_GATEWAY_DEFAULT_MAX_DEPTH;
    opts->max_elements = YG_GATEWAY_DEFAULT_MAX_ELEMENTS;
    opts->max_string = YG_GATEWAY_DEFAULT_MAX_STRING;
    opts->max_client_queue = YG_GATEWAY_DEFAULT_MAX_QUEUE;
    opts->max_inflight = YG_GATEWAY_DEFAULT_MAX_INFLIGHT;
    opts->max_pending = YG_GATEWAY_DEFAULT_MAX_PENDING;
    opts->client_hwm = YG_GATEWAY_DEFAULT_CLIENT_HWM;
    opts->log_level = YG_LOG_WARNING;
}

/* Defaults for zero fields; caps that keep the coordinator's own limits. */
static void opts_normalise(yg_gateway_opts_t *o)
{
    yg_gateway_opts_t d;
    yg_gateway_opts_init(&d);
    if (!o->max_frame_bytes)
        o->max_frame_bytes = d.max_frame_bytes;
    if (o->max_frame_bytes > YG_MSG_MAX_BODY / 2)
        o->max_frame_bytes = YG_MSG_MAX_BODY / 2; /* room for the re-encoded request */
    if (!o->max_depth)
        o->max_depth = d.max_depth;
    if (o->max_depth > YG_LIMIT_DEFAULT_DEPTH)
        o->max_depth = YG_LIMIT_DEFAULT_DEPTH; /* the coordinator decodes with this */
    if (!o->max_elements)
        o->max_elements = d.max_elements;
    if (!o->max_string)
        o->max_string = d.max_string;
    if (o->max_string > YG_LIMIT_DEFAULT_STRING)
        o->max_string = YG_LIMIT_DEFAULT_STRING;
    if (!o->max_client_queue)
        o->max_client_queue = d.max_client_queue;
    if (!o->max_inflight)
        o->max_inflight = d.max_inflight;
    if (!o->max_pending)
        o->max_pending = d.max_pending;
    if (o->client_hwm <= 0)
        o->client_hwm = d.client_hwm;
}

yg_gateway_t *yg_gateway_new(yg_runtime_t *rt, const char *endpoint,
                             const yg_gateway_opts_t *opts, yg_error_t *err)
{
    if (!rt || !endpoint || !endpoint[0]) {
        yg_error_set(err, YG_EINVAL, "yg_gateway_new: a runtime and an endpoint are required");
        return NULL;
    }
    gw_args_t args = { 0 };
    if (strlen(endpoint) >= sizeof args.endpoint) {
        yg_error_set(err, YG_ELIMIT, "endpoint longer than %zu bytes", sizeof args.endpoint - 1);
        return NULL;
    }
    snprintf(args.endpoint, sizeof args.endpoint, "%s", endpoint);
    snprintf(args.api_endpoint, sizeof args.api_endpoint, "%s", yg_runtime_api_endpoint(rt));
    if (opts)
        args.opts = *opts;
    else
        yg_gateway_opts_init(&args.opts);
    opts_normalise(&args.opts);

    yg_gateway_t *self = calloc(1, sizeof *self);
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory creating the gateway");
        return NULL;
    }
    /* zactor_new returns after the actor's first signal, so args (on this
     * stack) is read before it goes out of scope */
    self->actor = zactor_new(gateway_actor, &args);
    if (!self->actor) {
        free(self);
        yg_error_set(err, YG_ENOMEM, "cannot start the gateway thread");
        return NULL;
    }
    int code = YG_EIO;
    char *text = NULL;
    zsock_set_rcvtimeo(self->actor, GW_START_TIMEOUT_MS);
    if (zsock_recv(self->actor, "is", &code, &text) != 0)
        code = YG_ETIMEOUT;
    zsock_set_rcvtimeo(self->actor, -1);
    if (code != YG_OK) {
        yg_error_set(err, code, "%s", text ? text : "the gateway did not start");
        zstr_free(&text);
        zactor_destroy(&self->actor);
        free(self);
        return NULL;
    }
    snprintf(self->endpoint, sizeof self->endpoint, "%s", text ? text : endpoint);
    zstr_free(&text);
    return self;
}

const char *yg_gateway_endpoint(const yg_gateway_t *self)
{
    return self ? self->endpoint : NULL;
}

int yg_gateway_add_graph(yg_gateway_t *self, yg_graph_t *graph)
{
    if (!self || !graph)
        return YG_EINVAL;
    if (zsock_send(self->actor, "sp", "GRAPH", graph) != 0)
        return YG_ECLOSED;
    return zsock_wait(self->actor) == 0 ? YG_OK : YG_ECLOSED;
}

void yg_gateway_destroy(yg_gateway_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_gateway_t *self = *self_p;
    zactor_destroy(&self->actor);
    free(self);
    *self_p = NULL;
}
