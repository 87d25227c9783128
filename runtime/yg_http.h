/*
 * yg_http.h - non-blocking HTTP client on an event loop: libcurl's multi
 * SOCKET interface driven by a yg_evloop (internal).
 *
 * One yg_http_t per loop (per node actor thread) owns the curl multi
 * handle(s) of that loop: one for light loads, more under heavy concurrency
 * (see YG_HTTP_SHARD_TRANSFERS).
 * Sockets libcurl asks about are watched through one epoll set that is a
 * single poller in the zloop (zloop's own poller list is rebuilt and polled
 * in full on every change, which would be quadratic with 10,000 sockets);
 * libcurl's timer is a yg_evloop timer.  curl_multi_socket_action is only
 * ever called from the loop, never from inside a libcurl callback.
 * Connections are kept alive and reused; there is no helper thread and no
 * blocking call.
 *
 * Completion is always asynchronous: on_done runs from the loop, exactly
 * once per request unless the request is cancelled first.  Inside on_done
 * the caller may start and cancel requests.  on_data runs inside libcurl's
 * write callback: starting or cancelling requests there is allowed too (the
 * work is deferred until libcurl returns), but destroying the yg_http_t is
 * not allowed from any callback.
 */
#ifndef YG_HTTP_H
#define YG_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "yg_exec.h"

/* Default connect timeout when the request gives none. */
#define YG_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000L
/* Largest buffered response body (non-streamed 2xx): a bigger reply fails. */
#define YG_HTTP_MAX_BODY (64u * 1024u * 1024u)
/* Largest error body kept (non-2xx): the rest is read and dropped. */
#define YG_HTTP_MAX_ERROR_BODY (64u * 1024u)
/* Idle keep-alive connections kept per loop: enough for 10,000 concurrent
 * requests to reuse their connections in the next burst. */
#define YG_HTTP_MAX_CONNECTS 20000L
/* Transfers per curl multi handle before another one is opened on the same
 * loop (libcurl's per-host connection scan is linear), and the bound on
 * handles per loop. */
#define YG_HTTP_SHARD_TRANSFERS 256u
#define YG_HTTP_MAX_SHARDS 128
/* Receive buffer per transfer (libcurl's default is 16 KiB per handle,
 * 160 MB for 10,000 concurrent requests; LLM replies arrive in small
 * pieces). */
#define YG_HTTP_RECV_BUFFER 4096L
/* Ready sockets handled per epoll_wait batch. */
#define YG_HTTP_EPOLL_BATCH 1024

typedef struct yg_http yg_http_t;
typedef struct yg_http_req yg_http_req_t;

/* One request; everything is copied by yg_http_start. */
typedef struct yg_http_request {
    const char *method;           /* NULL: "POST" when body is set, else "GET" */
    const char *url;
    const char *const *headers;   /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;             /* may be NULL */
    size_t body_len;
    long connect_timeout_ms;      /* 0 = YG_HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
    long timeout_ms;              /* whole transfer; 0 = none */
    bool stream;                  /* 2xx body goes to on_data instead of the buffer */
} yg_http_request_t;

/* The outcome; borrowed during on_done. */
typedef struct yg_http_response {
    int status;              /* HTTP status of the final response, 0 when none */
    int curl_code;           /* CURLE_OK, or the transfer error */
    bool timed_out;          /* connect or total timeout */
    bool aborted;            /* on_data asked to stop */
    const char *error;       /* transfer error text, "" when none */
    const char *body;        /* buffered body, NUL-terminated ("" when none) */
    size_t body_len;
    bool body_truncated;     /* error body longer than YG_HTTP_MAX_ERROR_BODY */
    double retry_after_s;    /* Retry-After (seconds, or an HTTP date made relative), -1 = absent */
    const char *content_type; /* "" when absent */
} yg_http_response_t;

typedef struct yg_http_callbacks {
    /* A chunk of a streamed 2xx body, in order.  Return 0 to go on,
     * non-zero to abort (on_done then reports aborted).  May be NULL. */
    int (*on_data)(void *arg, const char *data, size_t len);
    void (*on_done)(void *arg, const yg_http_response_t *response);
} yg_http_callbacks_t;

/* Initialise libcurl once per process (thread-safe, idempotent); returns
 * 0 or YG_EIO. */
int yg_http_global_init(void);

/* A client driven by ev.  NULL on failure. */
yg_http_t *yg_http_new(yg_evloop_t *ev);
/* Abort every request (no callbacks), close connections, free. NULL-safe.
 * Never from inside one of this client's callbacks. */
void yg_http_destroy(yg_http_t **self_p);

/* Start a request.  NULL on ENOMEM or bad arguments (err says which);
 * transfer failures (bad URL, refused connection...) arrive via on_done. */
yg_http_req_t *yg_http_start(yg_http_t *self, const yg_http_request_t *request,
                             const yg_http_callbacks_t *cb, void *arg, yg_error_t *err);
/* Abort a request: its connection is closed, no callback runs afterwards;
 * *req_p = NULL.  NULL-safe. */
void yg_http_cancel(yg_http_t *self, yg_http_req_t **req_p);

/* Requests started and not yet completed or cancelled. */
size_t yg_http_active(const yg_http_t *self);
/* Connections opened so far (for tests and benchmarks: keep-alive reuse). */
size_t yg_http_connections_opened(const yg_http_t *self);

/* Parse a Retry-After value: delta-seconds or an HTTP date.  Returns
 * seconds from now (>= 0), or -1 when unparseable. */
double yg_http_parse_retry_after(const char *value);

#endif
