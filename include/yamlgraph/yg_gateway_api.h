/*
 * yg_gateway_api.h - embed the public gateway: a ZeroMQ ROUTER socket that
 * speaks the public wire protocol (docs/protocol.md) and forwards requests
 * to a runtime's coordinator.
 *
 *   yg_gateway_opts_t o;
 *   yg_gateway_opts_init(&o);
 *   yg_gateway_t *gw = yg_gateway_new(rt, "tcp://127.0.0.1:*", &o, &err);
 *   yg_gateway_add_graph(gw, graph);          // listed by the `graphs` request
 *   printf("listening on %s\n", yg_gateway_endpoint(gw));
 *   ...
 *   yg_gateway_destroy(&gw);                  // before yg_runtime_destroy
 *
 * The gateway is an actor (its own thread and event loop); these functions
 * may be called from any one host thread.  Requests for any graph loaded in
 * the runtime are served; yg_gateway_add_graph only controls what the
 * `graphs` request lists.
 */
#ifndef YG_GATEWAY_API_H
#define YG_GATEWAY_API_H

#include <stddef.h>

#include "yamlgraph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The wire protocol version this build speaks (the `v` field). */
#define YG_PROTOCOL_VERSION 1

/* Defaults of yg_gateway_opts_t (docs/protocol.md, "Limits"). */
#define YG_GATEWAY_DEFAULT_MAX_FRAME (16u * 1024u * 1024u) /* bytes in one request */
#define YG_GATEWAY_DEFAULT_MAX_DEPTH 32u                  /* nesting of lists/maps */
#define YG_GATEWAY_DEFAULT_MAX_ELEMENTS (1024u * 1024u)   /* items + entries per request */
#define YG_GATEWAY_DEFAULT_MAX_STRING (4u * 1024u * 1024u) /* bytes in one string */
#define YG_GATEWAY_DEFAULT_MAX_QUEUE 10000u   /* replies/events waiting for one client */
#define YG_GATEWAY_DEFAULT_MAX_INFLIGHT 1000u /* requests in flight per client */
#define YG_GATEWAY_DEFAULT_MAX_PENDING 100000u /* requests in flight, all clients */
#define YG_GATEWAY_DEFAULT_CLIENT_HWM 1000    /* ZMQ send high-water mark per client */

typedef struct yg_gateway yg_gateway_t;

/* Gateway options.  Initialise with yg_gateway_opts_init, then override;
 * 0 in a size field means its default. */
typedef struct yg_gateway_opts {
    /* Largest request frame answered; larger frames get a YG_ELIMIT error
     * reply without being decoded.  Frames above twice this size are
     * refused by the transport (the connection is dropped, no reply). */
    size_t max_frame_bytes;
    size_t max_depth;        /* capped at YG_LIMIT_DEFAULT_DEPTH */
    size_t max_elements;
    size_t max_string;
    /* Messages queued for one client that is not reading.  When exceeded,
     * each of the client's requests in flight is abandoned (runs are
     * cancelled) and answered with a YG_ELIMIT error. */
    size_t max_client_queue;
    size_t max_inflight;     /* per client; beyond it requests get YG_EBUSY */
    size_t max_pending;      /* all clients; beyond it requests get YG_EBUSY */
    int client_hwm;          /* ZMQ_SNDHWM of the ROUTER (messages per client) */
    int log_level;           /* yg_log_level_t; default YG_LOG_WARNING */
} yg_gateway_opts_t;

/* Fill opts with the defaults. */
void yg_gateway_opts_init(yg_gateway_opts_t *opts);

/* Start a gateway for rt bound on endpoint ("tcp://HOST:PORT" with PORT
 * "*" or 0 for an ephemeral port, "ipc://PATH", "inproc://NAME").  opts
 * NULL = defaults.  NULL with err filled on failure (bad endpoint, address
 * in use).  Destroy the gateway before the runtime. */
yg_gateway_t *yg_gateway_new(yg_runtime_t *rt, const char *endpoint,
                             const yg_gateway_opts_t *opts, yg_error_t *err);

/* The endpoint actually bound, with an ephemeral tcp port resolved
 * ("tcp://127.0.0.1:41234"); valid until yg_gateway_destroy. */
const char *yg_gateway_endpoint(const yg_gateway_t *self);

/* List a graph loaded in the runtime in `graphs` replies (name, path, hash,
 * description, version, nodes).  Adding a graph twice lists it once.
 * Returns YG_OK or a negative yg_code_t. */
int yg_gateway_add_graph(yg_gateway_t *self, yg_graph_t *graph);

/* Stop the gateway: requests in flight get a YG_ECLOSED error reply (best
 * effort), the socket is closed; runs already started keep going in the
 * runtime.  Sets *self_p to NULL.  NULL-safe. */
void yg_gateway_destroy(yg_gateway_t **self_p);

#ifdef __cplusplus
}
#endif
#endif
