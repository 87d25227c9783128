/*
 * yg_redis_loop.h - a hiredis asynchronous connection driven by a zloop.
 *
 * hiredis 0.14 (Debian 12) has no command timeouts, no timer hook and no
 * adapter for zloop; this class supplies them.  One yg_redis_t is one
 * connection (TCP or unix socket) owned by the thread that runs its zloop:
 *
 *  - the socket is a zloop poller; a command is written as soon as it is
 *    issued (send with MSG_NOSIGNAL: a closed connection cannot raise
 *    SIGPIPE), and a POLLOUT poller exists only while the kernel buffer is
 *    full;
 *  - any number of commands may be in flight (pipelining); replies come
 *    back in order;
 *  - every command has a deadline (yg_redis_set_timeout).  When the oldest
 *    command sent is overdue, the connection is dropped and every command
 *    sent on it fails with YG_ETIMEOUT (a pipelined reply stream cannot
 *    skip one reply);
 *  - a lost connection fails the commands sent on it with YG_EIO (their
 *    effect is unknown, so they are never replayed) and reconnects with
 *    exponential backoff; commands issued while disconnected wait for the
 *    next connection attempt and fail with YG_EIO if it fails, so callers
 *    learn quickly that Redis is unreachable;
 *  - "prelude" commands (AUTH, SELECT, SCRIPT LOAD ...) are sent first on
 *    every new connection;
 *  - nothing blocks on reconnects: connecting is non-blocking; a host NAME
 *    is resolved (blocking getaddrinfo) once, by yg_redis_new, and its
 *    addresses are cached; it is resolved again only when every cached
 *    address failed to connect, at most every 30 s (use an address to avoid
 *    any lookup).  The async context is freed only from our own timers or
 *    the destructor, never from inside a hiredis callback.
 *
 * Callbacks run on the owner's thread from inside its zloop (or from
 * yg_redis_destroy).  A callback may issue new commands; it must not
 * destroy the connection.
 */
#ifndef YG_REDIS_LOOP_H
#define YG_REDIS_LOOP_H

#include <czmq.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yamlgraph/yg_error.h"

/* Default deadline of one command (from the call that issues it). */
#define YG_REDIS_DEFAULT_TIMEOUT_MS 5000
/* Reconnect backoff: first retry after MIN, doubling up to MAX. */
#define YG_REDIS_RECONNECT_MIN_MS 20
#define YG_REDIS_RECONNECT_MAX_MS 1000
/* Longest accepted URL and host name. */
#define YG_REDIS_URL_MAX 2048
#define YG_REDIS_DEFAULT_PORT 6379

typedef struct yg_redis yg_redis_t;

/* A command's outcome.  status YG_OK: reply is the server's reply (which
 * may be an error reply: check reply->type), borrowed for the call.
 * Otherwise reply is NULL and status is YG_ETIMEOUT (no reply in time),
 * YG_EIO (connection lost or refused) or YG_ECLOSED (destroyed), with a
 * message in err. */
typedef void(yg_redis_reply_fn)(int status, const redisReply *reply, const yg_error_t *err,
                                void *arg);

/* Where a URL points.  Strings are malloc'd and owned by the struct. */
typedef struct yg_redis_target {
    char *host;      /* TCP host (NULL for a unix socket) */
    int port;
    char *unix_path; /* unix socket path, or NULL */
    char *username;  /* ACL user for AUTH, or NULL */
    char *password;  /* AUTH password, or NULL */
    int db;          /* SELECT index (0 = default, not sent) */
} yg_redis_target_t;

/* Parse "redis://[[user]:password@]host[:port][/db]" (host may be an
 * [IPv6] literal), "unix:///path[?db=N]", or an absolute socket path
 * "/path".  Percent-escapes in user and password are decoded.  Returns
 * YG_OK or YG_EINVAL with a message (rediss:// is YG_EUNSUPPORTED). */
int yg_redis_parse_url(const char *url, yg_redis_target_t *out, yg_error_t *err);
/* Free the strings of a parsed target (the struct itself is the caller's). */
void yg_redis_target_clear(yg_redis_target_t *target);

/* A connection to url, driven by loop (required).  Connecting starts at
 * once, in the background; a bad URL gives NULL with err.  An unreachable
 * server is not an error here: commands then fail with YG_EIO. */
yg_redis_t *yg_redis_new(zloop_t *loop, const char *url, yg_error_t *err);
/* Fail every outstanding command with YG_ECLOSED (callbacks run before
 * this returns), close the connection, free; sets *self_p to NULL.
 * NULL-safe.  Must not be called from inside one of its callbacks. */
void yg_redis_destroy(yg_redis_t **self_p);

/* Deadline for commands issued from now on, in ms (> 0). */
void yg_redis_set_timeout(yg_redis_t *self, int timeout_ms);
/* Add a command sent first on every new connection; user commands wait
 * for its reply, and an error reply drops the connection (the commands
 * waiting fail with YG_EIO and that message).  Call it right after
 * yg_redis_new, before the loop runs: YG_EINVAL once a connection is up.
 * YG_OK or YG_ENOMEM / YG_EINVAL. */
int yg_redis_add_prelude(yg_redis_t *self, int argc, const char **argv,
                         const size_t *argvlen);

/* Issue a command (binary-safe arguments).  Returns YG_OK (fn will be
 * called exactly once, never before this returns) or YG_EINVAL /
 * YG_ENOMEM (fn will not be called). */
int yg_redis_command(yg_redis_t *self, int argc, const char **argv, const size_t *argvlen,
                     yg_redis_reply_fn *fn, void *arg);

/* True while a connection is established. */
bool yg_redis_connected(const yg_redis_t *self);
/* "host:port" or the socket path, for messages. */
const char *yg_redis_endpoint(const yg_redis_t *self);
/* The latest connection or prelude error ("" if none). */
const char *yg_redis_last_error(const yg_redis_t *self);
/* Counters since creation: connections established and commands sent. */
void yg_redis_stats(const yg_redis_t *self, uint64_t *connects, uint64_t *commands);
/* Host name lookups done since creation (0 for an address or a socket). */
uint64_t yg_redis_resolves(const yg_redis_t *self);

#endif
