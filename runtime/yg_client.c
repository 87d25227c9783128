/*
 * yg_client.c - the embedding client: a DEALER socket to the coordinator's
 * api ROUTER, a table of pending requests, callbacks run from
 * yg_client_dispatch on the owner's thread, and blocking wrappers.
 *
 * Requests and replies are msgpack maps (docs/architecture.md, "Client
 * protocol").  Values cross threads only as encoded bytes: yg_value_t is
 * not thread-safe.
 */
#include "yamlgraph/yamlgraph.h"
#include "yg_graph.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replies bigger than this are refused before decoding. */
#define YG_CLIENT_MAX_REPLY (512u * 1024u * 1024u)

typedef struct pending {
    yg_result_fn *done;
    void *arg;
    yg_event_fn *on_event;
    void *event_arg;
} pending_t;

struct yg_client {
    yg_runtime_t *runtime;
    zsock_t *dealer;
    int64_t next_req;
    zhashx_t *pending; /* "<req>" -> pending_t */
};

static const yg_limits_t reply_limits = {
    .max_bytes = YG_CLIENT_MAX_REPLY,
    .max_depth = YG_LIMIT_DEFAULT_DEPTH,
    .max_elements = 64u * 1024u * 1024u,
    .max_string = YG_LIMIT_DEFAULT_STRING,
};

static void pending_free(void **item)
{
    free(*item);
    *item = NULL;
}

yg_client_t *yg_client_new(yg_runtime_t *runtime)
{
    if (!runtime)
        return NULL;
    yg_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->runtime = runtime;
    self->next_req = 1;
    self->pending = zhashx_new();
    self->dealer = zsock_new(ZMQ_DEALER);
    if (!self->pending || !self->dealer) {
        yg_client_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->pending, pending_free);
    zsock_set_linger(self->dealer, 0);
    zsock_set_sndhwm(self->dealer, 0); /* a submit never blocks */
    zsock_set_rcvhwm(self->dealer, 0);
    if (zsock_connect(self->dealer, "%s", yg_runtime_api_endpoint(runtime)) != 0) {
        yg_client_destroy(&self);
        return NULL;
    }
    return self;
}

void yg_client_destroy(yg_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_client_t *self = *self_p;
    zsock_destroy(&self->dealer);
    zhashx_destroy(&self->pending);
    free(self);
    *self_p = NULL;
}

int yg_client_fd(yg_client_t *self)
{
    return self ? zsock_fd(self->dealer) : -1;
}

size_t yg_client_pending(const yg_client_t *self)
{
    return self ? zhashx_size(self->pending) : 0;
}

/* ---- replies ------------------------------------------------------------- */

static void copy_str(char *dst, size_t size, const yg_value_t *v)
{
    const char *s = yg_value_str(v);
    snprintf(dst, size, "%s", s ? s : "");
}

/* Borrowed view of a reply map as a result. */
static void result_from_reply(const yg_value_t *msg, int64_t req, yg_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->request_id = req;
    const char *status = yg_value_str(yg_map_get(msg, "status"));
    const char *t = yg_value_str(yg_map_get(msg, "t"));
    if (status && strcmp(status, "completed") == 0)
        r->status = YG_RUN_COMPLETED;
    else if (status && strcmp(status, "interrupted") == 0)
        r->status = YG_RUN_INTERRUPTED;
    else
        r->status = YG_RUN_ERROR;
    if (t && strcmp(t, "error") == 0)
        r->status = YG_RUN_ERROR;
    r->state = yg_map_get(msg, "state");
    r->interrupts = yg_map_get(msg, "interrupts");
    r->snapshot = yg_map_get(msg, "snapshot");
    r->history = yg_map_get(msg, "history");
    r->step = yg_map_has(msg, "step") ? yg_value_int(yg_map_get(msg, "step")) : -1;
    copy_str(r->run_id, sizeof r->run_id, yg_map_get(msg, "run"));
    copy_str(r->thread_id, sizeof r->thread_id, yg_map_get(msg, "thread"));
    if (r->status == YG_RUN_ERROR) {
        const yg_value_t *e = yg_map_get(msg, "error");
        int code = (int)yg_value_int(yg_map_get(e, "code"));
        const char *m = yg_value_str(yg_map_get(e, "message"));
        yg_error_set(&r->error, code < 0 ? code : YG_EPROTO, "%s", m ? m : "unknown error");
    }
}

static void handle_reply(yg_client_t *self, const yg_value_t *msg)
{
    int64_t req = yg_value_int(yg_map_get(msg, "req"));
    char key[32];
    snprintf(key, sizeof key, "%" PRId64, req);
    pending_t *p = zhashx_lookup(self->pending, key);
    if (!p)
        return; /* unknown or abandoned request */
    const char *t = yg_value_str(yg_map_get(msg, "t"));
    if (t && strcmp(t, "event") == 0) {
        if (p->on_event) {
            yg_event_t ev = { req, yg_value_str(yg_map_get(msg, "kind")), msg };
            if (!ev.kind)
                ev.kind = "";
            p->on_event(&ev, p->event_arg);
        }
        return;
    }
    pending_t copy = *p;
    zhashx_delete(self->pending, key); /* before the callback: it may submit */
    yg_result_t r;
    result_from_reply(msg, req, &r);
    if (copy.done)
        copy.done(&r, copy.arg);
}

int yg_client_dispatch(yg_client_t *self)
{
    if (!self)
        return YG_EINVAL;
    void *raw = zsock_resolve(self->dealer);
    int handled = 0;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            if (errno == EAGAIN || errno == EINTR)
                break;
            return YG_EIO;
        }
        int more = zmq_msg_more(&m);
        size_t size = zmq_msg_size(&m);
        yg_value_t *body = NULL;
        if (!more && size <= YG_CLIENT_MAX_REPLY)
            body = yg_msgpack_decode(zmq_msg_data(&m), size, &reply_limits, NULL);
        zmq_msg_close(&m);
        while (more) { /* never sent by the coordinator: skip stray parts */
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, raw, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
        handled++;
        if (yg_value_type(body) == YG_LIST) {
            for (size_t i = 0; i < yg_list_size(body); i++)
                handle_reply(self, yg_list_get(body, i));
        } else if (yg_value_type(body) == YG_MAP) {
            handle_reply(self, body);
        }
        yg_value_destroy(&body);
    }
    return handled;
}

int yg_client_wait(yg_client_t *self, int timeout_ms)
{
    if (!self)
        return YG_EINVAL;
    int n = yg_client_dispatch(self);
    if (n != 0)
        return n;
    zmq_pollitem_t item = { zsock_resolve(self->dealer), 0, ZMQ_POLLIN, 0 };
    int rc = zmq_poll(&item, 1, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 0 : YG_EIO;
    return yg_client_dispatch(self);
}

/* ---- requests -------------------------------------------------------------- */

static void put(yg_value_t *m, const char *k, yg_value_t *v)
{
    if (!v || yg_map_set(m, k, v) != YG_OK)
        yg_value_destroy(&v);
}

/* Encode and send a request map (borrowed); registers the callbacks. */
static int64_t submit(yg_client_t *self, yg_value_t *msg, yg_result_fn *done, void *arg,
                      yg_event_fn *on_event, void *event_arg)
{
    int64_t req = self->next_req++;
    put(msg, "req", yg_int_new(req));
    char *data = NULL;
    size_t size = 0;
    int rc = yg_msgpack_encode(msg, &data, &size);
    if (rc != YG_OK)
        return rc;
    pending_t *p = calloc(1, sizeof *p);
    if (!p) {
        free(data);
        return YG_ENOMEM;
    }
    *p = (pending_t){ done, arg, on_event, event_arg };
    char key[32];
    snprintf(key, sizeof key, "%" PRId64, req);
    zhashx_insert(self->pending, key, p);
    if (zmq_send(zsock_resolve(self->dealer), data, size, ZMQ_DONTWAIT) < 0) {
        free(data);
        zhashx_delete(self->pending, key);
        return errno == EAGAIN ? YG_EBUSY : YG_ECLOSED;
    }
    free(data);
    return req;
}

static yg_value_t *request(const char *type, yg_graph_t *graph, const char *thread)
{
    yg_value_t *m = yg_map_new();
    if (!m)
        return NULL;
    put(m, "t", yg_str_new(type));
    if (graph)
        put(m, "graph", yg_str_new(graph->hash_hex));
    if (thread)
        put(m, "thread", yg_str_new(thread));
    return m;
}

static int64_t run_request(yg_client_t *self, const char *type, yg_graph_t *graph,
                           const char *value_key, const yg_value_t *value,
                           const yg_run_opts_t *opts, yg_event_fn *on_event, void *event_arg,
                           yg_result_fn *done, void *arg)
{
    if (!self || !graph || !done)
        return YG_EINVAL;
    yg_durability_t durability = opts ? opts->durability : YG_DURABILITY_DEFAULT;
    if (durability != YG_DURABILITY_DEFAULT && durability != YG_DURABILITY_SYNC &&
        durability != YG_DURABILITY_ASYNC)
        return YG_EINVAL;
    yg_value_t *m = request(type, graph, opts ? opts->thread_id : NULL);
    yg_value_t *o = yg_map_new();
    if (!m || !o) {
        yg_value_destroy(&m);
        yg_value_destroy(&o);
        return YG_ENOMEM;
    }
    if (value)
        put(m, value_key, yg_value_ref((yg_value_t *)value));
    if (opts && opts->step_limit > 0)
        put(o, "step_limit", yg_int_new(opts->step_limit));
    if (opts && opts->force)
        put(o, "force", yg_bool_new(true));
    if (durability != YG_DURABILITY_DEFAULT)
        put(o, "durability", yg_str_new(yg_durability_name(durability)));
    if (on_event)
        put(o, "stream", yg_bool_new(true));
    put(m, "opts", o);
    int64_t rc = submit(self, m, done, arg, on_event, event_arg);
    yg_value_destroy(&m);
    return rc;
}

int64_t yg_run_graph_async(yg_client_t *self, yg_graph_t *graph, const yg_value_t *input,
                           const yg_run_opts_t *opts, yg_result_fn *done, void *arg)
{
    return run_request(self, "run", graph, "input", input, opts, NULL, NULL, done, arg);
}

int64_t yg_run_until_interrupt_async(yg_client_t *self, yg_graph_t *graph,
                                     const yg_value_t *input, const yg_run_opts_t *opts,
                                     yg_result_fn *done, void *arg)
{
    return yg_run_graph_async(self, graph, input, opts, done, arg);
}

int64_t yg_resume_async(yg_client_t *self, yg_graph_t *graph, const yg_value_t *value,
                        const yg_run_opts_t *opts, yg_result_fn *done, void *arg)
{
    return run_request(self, "resume", graph, "value", value, opts, NULL, NULL, done, arg);
}

int64_t yg_stream_graph_async(yg_client_t *self, yg_graph_t *graph, const yg_value_t *input,
                              const yg_run_opts_t *opts, yg_event_fn *on_event,
                              void *event_arg, yg_result_fn *done, void *arg)
{
    if (!on_event)
        return YG_EINVAL;
    return run_request(self, "run", graph, "input", input, opts, on_event, event_arg, done, arg);
}

int64_t yg_stream_resume_async(yg_client_t *self, yg_graph_t *graph, const yg_value_t *value,
                               const yg_run_opts_t *opts, yg_event_fn *on_event,
                               void *event_arg, yg_result_fn *done, void *arg)
{
    if (!on_event)
        return YG_EINVAL;
    return run_request(self, "resume", graph, "value", value, opts, on_event, event_arg, done,
                       arg);
}

int64_t yg_get_state_async(yg_client_t *self, yg_graph_t *graph, const char *thread_id,
                           yg_result_fn *done, void *arg)
{
    if (!self || !thread_id || !done)
        return YG_EINVAL;
    yg_value_t *m = request("state", graph, thread_id);
    if (!m)
        return YG_ENOMEM;
    int64_t rc = submit(self, m, done, arg, NULL, NULL);
    yg_value_destroy(&m);
    return rc;
}

int64_t yg_get_history_async(yg_client_t *self, yg_graph_t *graph, const char *thread_id,
                             size_t limit, yg_result_fn *done, void *arg)
{
    if (!self || !thread_id || !done)
        return YG_EINVAL;
    yg_value_t *m = request("history", graph, thread_id);
    if (!m)
        return YG_ENOMEM;
    if (limit)
        put(m, "limit", yg_int_new((int64_t)limit));
    int64_t rc = submit(self, m, done, arg, NULL, NULL);
    yg_value_destroy(&m);
    return rc;
}

int64_t yg_cancel_async(yg_client_t *self, int64_t run_request_id, const char *thread_id,
                        yg_result_fn *done, void *arg)
{
    if (!self || !done || (run_request_id <= 0 && !thread_id))
        return YG_EINVAL;
    yg_value_t *m = request("cancel", NULL, thread_id);
    if (!m)
        return YG_ENOMEM;
    if (run_request_id > 0)
        put(m, "run_req", yg_int_new(run_request_id));
    int64_t rc = submit(self, m, done, arg, NULL, NULL);
    yg_value_destroy(&m);
    return rc;
}

/* ---- results ---------------------------------------------------------------- */

void yg_result_release(yg_result_t *result)
{
    if (!result)
        return;
    yg_value_destroy(&result->state);
    yg_value_destroy(&result->interrupts);
    yg_value_destroy(&result->snapshot);
    yg_value_destroy(&result->history);
}

const char *yg_run_status_name(yg_run_status_t status)
{
    switch (status) {
    case YG_RUN_COMPLETED:
        return "completed";
    case YG_RUN_INTERRUPTED:
        return "interrupted";
    default:
        return "error";
    }
}

char *yg_result_compat_json(const yg_result_t *result, bool pretty)
{
    if (!result)
        return NULL;
    yg_value_t *view = yg_map_new();
    for (size_t i = 0; view && i < yg_map_size(result->state); i++)
        put(view, yg_map_key_at(result->state, i), yg_value_ref(yg_map_value_at(result->state, i)));
    if (view && result->status == YG_RUN_INTERRUPTED) {
        yg_value_t *list = yg_list_new();
        for (size_t i = 0; list && i < yg_list_size(result->interrupts); i++) {
            const yg_value_t *in = yg_list_get(result->interrupts, i);
            yg_value_t *rec = yg_map_new();
            if (!rec)
                continue;
            put(rec, "value", yg_value_ref(yg_map_get(in, "value")));
            put(rec, "id", yg_value_ref(yg_map_get(in, "id")));
            if (yg_list_append(list, rec) != YG_OK)
                yg_value_destroy(&rec);
        }
        put(view, "__interrupt__", list);
    }
    char *json = view ? yg_json_encode(view, pretty, NULL) : NULL;
    yg_value_destroy(&view);
    return json;
}

/* ---- blocking wrappers ---------------------------------------------------------- */

typedef struct blocking {
    bool done;
    yg_result_t *out;
} blocking_t;

static void blocking_done(const yg_result_t *r, void *arg)
{
    blocking_t *b = arg;
    *b->out = *r;
    b->out->state = yg_value_ref(r->state);
    b->out->interrupts = r->interrupts ? yg_value_ref(r->interrupts) : yg_list_new();
    b->out->snapshot = yg_value_ref(r->snapshot);
    b->out->history = yg_value_ref(r->history);
    b->done = true;
}

static int wait_for(yg_client_t *self, int64_t req, blocking_t *b, int timeout_ms)
{
    if (req < 0)
        return (int)req;
    if (timeout_ms <= 0)
        timeout_ms = YG_DEFAULT_BLOCKING_TIMEOUT_MS;
    int64_t deadline = zclock_mono() + timeout_ms;
    while (!b->done) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0) {
            char key[32];
            snprintf(key, sizeof key, "%" PRId64, req);
            zhashx_delete(self->pending, key); /* a late reply is ignored */
            return YG_ETIMEOUT;
        }
        int rc = yg_client_wait(self, (int)left);
        if (rc < 0)
            return rc;
    }
    return YG_OK;
}

int yg_run_graph(yg_client_t *self, yg_graph_t *graph, const yg_value_t *input,
                 const yg_run_opts_t *opts, int timeout_ms, yg_result_t *result)
{
    if (!result)
        return YG_EINVAL;
    memset(result, 0, sizeof *result);
    blocking_t b = { false, result };
    return wait_for(self, yg_run_graph_async(self, graph, input, opts, blocking_done, &b), &b,
                    timeout_ms);
}

int yg_resume(yg_client_t *self, yg_graph_t *graph, const yg_value_t *value,
              const yg_run_opts_t *opts, int timeout_ms, yg_result_t *result)
{
    if (!result)
        return YG_EINVAL;
    memset(result, 0, sizeof *result);
    blocking_t b = { false, result };
    return wait_for(self, yg_resume_async(self, graph, value, opts, blocking_done, &b), &b,
                    timeout_ms);
}

int yg_get_state(yg_client_t *self, yg_graph_t *graph, const char *thread_id, int timeout_ms,
                 yg_result_t *result)
{
    if (!result)
        return YG_EINVAL;
    memset(result, 0, sizeof *result);
    blocking_t b = { false, result };
    return wait_for(self, yg_get_state_async(self, graph, thread_id, blocking_done, &b), &b,
                    timeout_ms);
}

int yg_get_history(yg_client_t *self, yg_graph_t *graph, const char *thread_id, size_t limit,
                   int timeout_ms, yg_result_t *result)
{
    if (!result)
        return YG_EINVAL;
    memset(result, 0, sizeof *result);
    blocking_t b = { false, result };
    return wait_for(self, yg_get_history_async(self, graph, thread_id, limit, blocking_done, &b),
                    &b, timeout_ms);
}
