/*
 * yg_redis_loop.c - hiredis async context on a zloop: pollers, writes,
 * command deadlines, reconnects (see yg_redis_loop.h).
 *
 * Connection states:
 *   IDLE        no context; a reconnect timer is armed (unless destroying)
 *   CONNECTING  non-blocking connect in progress (POLLOUT poller)
 *   HANDSHAKE   connected; prelude commands (AUTH, SELECT ...) in flight,
 *               user commands held back so none runs before them
 *   READY       user commands flow
 *
 * Commands live in one list, oldest first: those sent on the current
 * connection, then those not sent yet (first_unsent).  hiredis holds a
 * pointer to each sent command as its privdata and calls us back exactly
 * once per command: with the reply, or with NULL when the context dies.
 * The context dies only (a) inside hiredis on a read/write/connect error,
 * (b) in redisAsyncFree called from our timers or destructor - never from
 * inside a hiredis callback.  Its ev.cleanup hook is where we learn it is
 * gone, whatever the reason.
 *
 * zloop may still call a timer or poller handler of ours in the same loop
 * turn after we cancelled it (it cancels lazily), so every handler first
 * checks that its object is alive (a per-thread registry) and that the
 * timer id or fd is the current one.
 */
#define _GNU_SOURCE /* sigtimedwait */
#include "yg_redis_loop.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/sds.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

/* Largest SELECT index accepted in a URL (Redis' default is 16 databases;
 * a bigger configured count is possible, a negative or huge one is not). */
#define REDIS_DB_MAX 1000000
/* Deadline checks run this often while commands are outstanding: the
 * timeout's tenth, within these bounds. */
#define REDIS_TICK_MIN_MS 5
#define REDIS_TICK_MAX_MS 100
#define REDIS_ERROR_MAX 256
#define REDIS_ENDPOINT_MAX 300
/* A host name is resolved (getaddrinfo blocks) once, when the connection
 * is created, and its addresses are cached: reconnects from the owner's
 * (actor) thread use them and never call the resolver.  At most this many
 * addresses are kept; connect attempts rotate through them. */
#define REDIS_ADDRS_MAX 8
/* While every cached address keeps failing to connect (or the name did not
 * resolve), the name is resolved again at most this often, so a Redis that
 * moved to another address is found without a lookup per reconnect. */
#define REDIS_RERESOLVE_MS 30000

typedef enum { CONN_IDLE, CONN_CONNECTING, CONN_HANDSHAKE, CONN_READY } conn_state_t;

/* One outstanding command. */
typedef struct redis_cmd {
    struct redis_cmd *prev, *next;
    char *buf;           /* formatted command; NULL once hiredis has copied it */
    size_t len;
    int64_t deadline;    /* zclock_mono() ms */
    yg_redis_reply_fn *fn; /* NULL for a prelude command */
    void *arg;
    bool sent;
} redis_cmd_t;

struct yg_redis {
    zloop_t *loop;
    yg_redis_target_t target;
    char endpoint[REDIS_ENDPOINT_MAX];
    char last_error[REDIS_ERROR_MAX];
    redisAsyncContext *ac;
    conn_state_t state;
    int fd;               /* the context's socket, -1 without one */
    int polled_fd;        /* fd of the registered poller */
    short polled;         /* events of the registered poller, 0 = none */
    bool want_read;
    bool want_write_poll; /* hiredis waits for POLLOUT (connecting, or buffer full) */
    bool write_failed;    /* our send() failed: drop the connection from the kick */
    bool in_write;        /* inside redisAsyncHandleWrite */
    bool connect_failed;  /* the last attempt failed: fail unsent commands */
    bool drop_connection; /* a prelude failed: free the context from the kick */
    bool destroying;
    int in_callback;      /* > 0 while a user callback runs */
    int fail_status;      /* for commands failed by our own redisAsyncFree */
    size_t handshake_left; /* prelude replies still expected */
    redis_cmd_t *head, *tail, *first_unsent;
    char **prelude;       /* formatted prelude commands */
    size_t *prelude_len;
    size_t nprelude;
    int timeout_ms;
    int backoff_ms;
    int64_t connect_deadline;
    int kick_timer, tick_timer, reconnect_timer;
    bool kick_armed, tick_armed, reconnect_armed;
    uint64_t connects, commands;
    /* TCP host name: its cached numeric addresses (see REDIS_ADDRS_MAX). */
    bool host_numeric;    /* the URL gave an address: nothing to resolve */
    char addrs[REDIS_ADDRS_MAX][INET6_ADDRSTRLEN];
    size_t naddrs;
    size_t addr_idx;      /* the address connect attempts use now */
    size_t fail_streak;   /* connect attempts failed in a row */
    int64_t resolved_at;  /* zclock_mono() of the last lookup */
    uint64_t resolves;    /* lookups done (tests) */
};

/* --- per-thread registry of live connections ---------------------------- */

static __thread yg_redis_t **s_live;
static __thread size_t s_nlive, s_live_cap;

static bool live_add(yg_redis_t *self)
{
    if (s_nlive == s_live_cap) {
        size_t cap = s_live_cap ? s_live_cap * 2 : 8;
        yg_redis_t **live = realloc(s_live, cap * sizeof *live);
        if (!live)
            return false;
        s_live = live;
        s_live_cap = cap;
    }
    s_live[s_nlive++] = self;
    return true;
}

static void live_remove(yg_redis_t *self)
{
    for (size_t i = 0; i < s_nlive; i++)
        if (s_live[i] == self) {
            s_live[i] = s_live[--s_nlive];
            break;
        }
    if (s_nlive == 0) {
        free(s_live);
        s_live = NULL;
        s_live_cap = 0;
    }
}

static bool live_has(const void *p)
{
    for (size_t i = 0; i < s_nlive; i++)
        if (s_live[i] == p)
            return true;
    return false;
}

/* --- URL parsing ---------------------------------------------------------- */

void yg_redis_target_clear(yg_redis_target_t *target)
{
    if (!target)
        return;
    free(target->host);
    free(target->unix_path);
    free(target->username);
    free(target->password);
    memset(target, 0, sizeof *target);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A malloc'd copy of s[0..len) with %XX escapes decoded; NULL on a bad
 * escape or ENOMEM (*bad tells which). */
static char *percent_decode(const char *s, size_t len, bool *bad)
{
    char *out = malloc(len + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[n++] = s[i];
            continue;
        }
        /* Two hex digits must follow; %00 would cut the C string short. */
        int hi = i + 2 < len ? hex_digit(s[i + 1]) : -1;
        int lo = i + 2 < len ? hex_digit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            *bad = true;
            return NULL;
        }
        out[n++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[n] = '\0';
    return out;
}

/* Parse a decimal number in [lo, hi] from s[0..len). */
static bool parse_number(const char *s, size_t len, long lo, long hi, long *out)
{
    if (len == 0 || len > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int parse_userinfo(const char *s, size_t len, yg_redis_target_t *out, yg_error_t *err)
{
    const char *colon = memchr(s, ':', len);
    bool bad = false;
    if (colon) {
        size_t ulen = (size_t)(colon - s);
        if (ulen && !(out->username = percent_decode(s, ulen, &bad)))
            goto fail;
        if (!(out->password = percent_decode(colon + 1, len - ulen - 1, &bad)))
            goto fail;
    } else if (!(out->password = percent_decode(s, len, &bad))) {
        goto fail;
    }
    return YG_OK;
fail:
    return bad ? yg_error_set(err, YG_EINVAL, "redis URL has a bad %%-escape in its user or "
                                              "password")
               : yg_error_set(err, YG_ENOMEM, "out of memory");
}

static int parse_tcp_url(const char *url, const char *rest, yg_redis_target_t *out,
                         yg_error_t *err)
{
    size_t alen = strcspn(rest, "/?#");
    const char *path = rest + alen;
    const char *at = NULL;
    for (const char *p = rest; p < rest + alen; p++)
        if (*p == '@')
            at = p; /* the last '@': passwords may hold one */
    const char *hostpart = rest;
    if (at) {
        int rc = parse_userinfo(rest, (size_t)(at - rest), out, err);
        if (rc != YG_OK)
            return rc;
        hostpart = at + 1;
    }
    size_t hlen = (size_t)(rest + alen - hostpart);
    const char *host = hostpart, *port = NULL;
    size_t host_len = hlen;
    if (hlen && hostpart[0] == '[') {
        const char *close = memchr(hostpart, ']', hlen);
        if (!close)
            return yg_error_set(err, YG_EINVAL, "redis URL '%s': unterminated [IPv6] host", url);
        host = hostpart + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < hostpart + hlen) {
            if (close[1] != ':')
                return yg_error_set(err, YG_EINVAL, "redis URL '%s': junk after ]", url);
            port = close + 2;
        }
    } else {
        const char *colon = memchr(hostpart, ':', hlen);
        if (colon) {
            host_len = (size_t)(colon - hostpart);
            port = colon + 1;
        }
    }
    long number = YG_REDIS_DEFAULT_PORT;
    if (port && !parse_number(port, (size_t)(hostpart + hlen - port), 1, 65535, &number))
        return yg_error_set(err, YG_EINVAL, "redis URL '%s': bad port (1-65535)", url);
    out->port = (int)number;
    if (host_len == 0) {
        host = "127.0.0.1";
        host_len = strlen(host);
    }
    if (!(out->host = strndup(host, host_len)))
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    if (*path == '/' && path[1]) {
        size_t dlen = strcspn(path + 1, "?#");
        if (!parse_number(path + 1, dlen, 0, REDIS_DB_MAX, &number))
            return yg_error_set(err, YG_EINVAL,
                                "redis URL '%s': the path must be a database number", url);
        out->db = (int)number;
        path += 1 + dlen;
    } else if (*path == '/') {
        path++;
    }
    if (*path)
        return yg_error_set(err, YG_EINVAL,
                            "redis URL '%s': query strings and fragments are not supported",
                            url);
    return YG_OK;
}

static int parse_unix_url(const char *url, const char *path, yg_redis_target_t *out,
                          yg_error_t *err)
{
    size_t plen = strcspn(path, "?");
    if (plen == 0 || path[0] != '/')
        return yg_error_set(err, YG_EINVAL, "redis URL '%s': a unix socket needs an absolute "
                                            "path",
                            url);
    const char *query = path + plen;
    if (*query) {
        long number;
        if (strncmp(query, "?db=", 4) != 0
            || !parse_number(query + 4, strlen(query + 4), 0, REDIS_DB_MAX, &number))
            return yg_error_set(err, YG_EINVAL, "redis URL '%s': only ?db=N may follow a "
                                                "socket path",
                                url);
        out->db = (int)number;
    }
    if (!(out->unix_path = strndup(path, plen)))
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    return YG_OK;
}

int yg_redis_parse_url(const char *url, yg_redis_target_t *out, yg_error_t *err)
{
    if (!out)
        return YG_EINVAL;
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return yg_error_set(err, YG_EINVAL, "empty redis URL");
    if (strlen(url) > YG_REDIS_URL_MAX)
        return yg_error_set(err, YG_EINVAL, "redis URL longer than %d bytes", YG_REDIS_URL_MAX);
    int rc;
    if (strncmp(url, "redis://", 8) == 0)
        rc = parse_tcp_url(url, url + 8, out, err);
    else if (strncmp(url, "unix://", 7) == 0)
        rc = parse_unix_url(url, url + 7, out, err);
    else if (url[0] == '/')
        rc = parse_unix_url(url, url, out, err);
    else if (strncmp(url, "rediss://", 9) == 0)
        rc = yg_error_set(err, YG_EUNSUPPORTED,
                          "redis URL '%s': TLS (rediss://) is not supported by this build", url);
    else
        rc = yg_error_set(err, YG_EINVAL,
                          "'%s' is not a redis URL (redis://host:port[/db] or unix:///path)",
                          url);
    if (rc != YG_OK)
        yg_redis_target_clear(out);
    return rc;
}

/* --- the command list ----------------------------------------------------- */

static void list_append(yg_redis_t *self, redis_cmd_t *cmd)
{
    cmd->prev = self->tail;
    cmd->next = NULL;
    if (self->tail)
        self->tail->next = cmd;
    else
        self->head = cmd;
    self->tail = cmd;
}

static void list_push_front(yg_redis_t *self, redis_cmd_t *cmd)
{
    cmd->prev = NULL;
    cmd->next = self->head;
    if (self->head)
        self->head->prev = cmd;
    else
        self->tail = cmd;
    self->head = cmd;
}

static void list_unlink(yg_redis_t *self, redis_cmd_t *cmd)
{
    if (self->first_unsent == cmd)
        self->first_unsent = cmd->next;
    if (cmd->prev)
        cmd->prev->next = cmd->next;
    else
        self->head = cmd->next;
    if (cmd->next)
        cmd->next->prev = cmd->prev;
    else
        self->tail = cmd->prev;
    cmd->prev = cmd->next = NULL;
}

static void cmd_free(redis_cmd_t *cmd)
{
    free(cmd->buf);
    free(cmd);
}

/* Hand cmd's outcome to its owner (prelude commands have none). */
static void cmd_deliver(yg_redis_t *self, redis_cmd_t *cmd, int status,
                        const redisReply *reply, const char *message)
{
    if (!cmd->fn)
        return;
    yg_error_t err = {0};
    if (status != YG_OK)
        yg_error_set(&err, status, "%s", message);
    self->in_callback++;
    cmd->fn(status, reply, status == YG_OK ? NULL : &err, cmd->arg);
    self->in_callback--;
}

/* Fail cmd (not sent on a live context) and free it. */
static void cmd_fail(yg_redis_t *self, redis_cmd_t *cmd, int status, const char *message)
{
    list_unlink(self, cmd);
    cmd_deliver(self, cmd, status, NULL, message);
    cmd_free(cmd);
}

static void fail_unsent(yg_redis_t *self, int status, const char *message)
{
    while (self->first_unsent)
        cmd_fail(self, self->first_unsent, status, message);
}

/* --- timers --------------------------------------------------------------- */

static int on_kick(zloop_t *loop, int timer_id, void *arg);
static int on_tick(zloop_t *loop, int timer_id, void *arg);
static int on_reconnect(zloop_t *loop, int timer_id, void *arg);

/* Run service() on the next loop turn. */
static void arm_kick(yg_redis_t *self)
{
    if (self->kick_armed || self->destroying)
        return;
    self->kick_timer = zloop_timer(self->loop, 0, 1, on_kick, self);
    self->kick_armed = self->kick_timer != -1;
}

static int tick_interval(const yg_redis_t *self)
{
    int ms = self->timeout_ms / 10;
    return ms < REDIS_TICK_MIN_MS ? REDIS_TICK_MIN_MS : ms > REDIS_TICK_MAX_MS ? REDIS_TICK_MAX_MS
                                                                               : ms;
}

/* Deadline checks run while anything is outstanding or connecting.  The
 * timer is one-shot and re-armed: zloop_timer_end from inside a timer's
 * own handler frees it under zloop's feet once the loop has returned
 * before (zloop then deletes at once instead of deferring). */
static void arm_tick(yg_redis_t *self)
{
    if (self->tick_armed || self->destroying)
        return;
    self->tick_timer = zloop_timer(self->loop, (size_t)tick_interval(self), 1, on_tick, self);
    self->tick_armed = self->tick_timer != -1;
}

static void schedule_reconnect(yg_redis_t *self)
{
    if (self->reconnect_armed || self->destroying)
        return;
    self->reconnect_timer = zloop_timer(self->loop, (size_t)self->backoff_ms, 1, on_reconnect,
                                        self);
    self->reconnect_armed = self->reconnect_timer != -1;
    self->backoff_ms = self->backoff_ms * 2 > YG_REDIS_RECONNECT_MAX_MS ? YG_REDIS_RECONNECT_MAX_MS
                                                                        : self->backoff_ms * 2;
}

/* --- the poller ----------------------------------------------------------- */

static int on_fd(zloop_t *loop, zmq_pollitem_t *item, void *arg);

/* Make the zloop poller match what hiredis wants. */
static void poll_update(yg_redis_t *self)
{
    short want = 0;
    if (self->ac && self->fd >= 0)
        want = (short)((self->want_read ? ZMQ_POLLIN : 0)
                       | (self->want_write_poll ? ZMQ_POLLOUT : 0));
    if (want == self->polled && (!want || self->polled_fd == self->fd))
        return;
    if (self->polled) {
        zmq_pollitem_t old = {NULL, self->polled_fd, 0, 0};
        zloop_poller_end(self->loop, &old);
        self->polled = 0;
    }
    if (!want)
        return;
    zmq_pollitem_t item = {NULL, self->fd, want, 0};
    if (zloop_poller(self->loop, &item, on_fd, self) != 0) {
        /* Cannot watch the socket: the command deadline will drop it. */
        snprintf(self->last_error, sizeof self->last_error, "cannot poll the redis socket");
        return;
    }
    /* Errors on the socket are hiredis' to handle, not zloop's to hide. */
    zloop_poller_set_tolerant(self->loop, &item);
    self->polled = want;
    self->polled_fd = self->fd;
}

/* Let hiredis write (only while its connect completes: it detects the
 * connection there and the handshake goes out).  A write to a connection
 * the server closed raises SIGPIPE, which would kill the process: block it
 * on this thread for the write and swallow one it caused. */
static void handle_write(yg_redis_t *self, redisAsyncContext *ac)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    self->in_write = true;
    redisAsyncHandleWrite(ac);
    self->in_write = false;
    if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Send hiredis' output buffer ourselves once connected: at once, with
 * MSG_NOSIGNAL, and without letting hiredis free the context from here
 * (an error is acted on from the kick, outside any caller's stack). */
static void flush_output(yg_redis_t *self)
{
    redisContext *c = &self->ac->c;
    size_t len = sdslen(c->obuf);
    ssize_t n = len ? send(c->fd, c->obuf, len, MSG_NOSIGNAL) : 0;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        snprintf(self->last_error, sizeof self->last_error, "send: %s", strerror(errno));
        self->write_failed = true;
        self->want_write_poll = false;
        poll_update(self);
        arm_kick(self);
        return;
    }
    if (n > 0 && (size_t)n == len) {
        sds empty = sdsempty();
        if (empty) {
            sdsfree(c->obuf);
            c->obuf = empty;
        } else {
            sdsrange(c->obuf, (int)n, -1);
        }
    } else if (n > 0) {
        sdsrange(c->obuf, (int)n, -1);
    }
    /* Whatever is left waits for the socket to become writable. */
    self->want_write_poll = sdslen(c->obuf) > 0;
    poll_update(self);
}

static int on_fd(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    if (!live_has(arg))
        return 0;
    yg_redis_t *self = arg;
    redisAsyncContext *ac = self->ac;
    if (!ac || item->fd != self->fd)
        return 0; /* a stale poll result for a context already gone */
    if (item->revents & (ZMQ_POLLIN | ZMQ_POLLERR))
        redisAsyncHandleRead(ac);
    if (self->ac == ac && (item->revents & ZMQ_POLLOUT)) {
        if (self->state >= CONN_HANDSHAKE && !self->write_failed)
            flush_output(self);
        else if (self->state == CONN_CONNECTING)
            handle_write(self, ac);
    }
    return 0;
}

/* --- hiredis event hooks ---------------------------------------------------- */

static void ev_add_read(void *privdata)
{
    yg_redis_t *self = privdata;
    self->want_read = true;
    poll_update(self);
}

static void ev_del_read(void *privdata)
{
    yg_redis_t *self = privdata;
    self->want_read = false;
    poll_update(self);
}

static void ev_add_write(void *privdata)
{
    yg_redis_t *self = privdata;
    if (self->state >= CONN_HANDSHAKE && !self->in_write) {
        /* A command was queued: send it now (errors act from the kick). */
        if (!self->write_failed)
            flush_output(self);
        return;
    }
    self->want_write_poll = true;
    poll_update(self);
}

static void ev_del_write(void *privdata)
{
    yg_redis_t *self = privdata;
    self->want_write_poll = false;
    poll_update(self);
}

/* A connect attempt failed: the next one tries the next cached address. */
static void note_connect_failed(yg_redis_t *self)
{
    self->fail_streak++;
    if (self->naddrs)
        self->addr_idx = (self->addr_idx + 1) % self->naddrs;
}

/* The context is being freed (for any reason). */
static void ev_cleanup(void *privdata)
{
    yg_redis_t *self = privdata;
    redisAsyncContext *ac = self->ac;
    if (ac && ac->err && ac->errstr[0])
        snprintf(self->last_error, sizeof self->last_error, "%s", ac->errstr);
    bool was_connected = self->state >= CONN_HANDSHAKE;
    self->ac = NULL;
    self->want_read = self->want_write_poll = self->write_failed = false;
    poll_update(self);
    self->fd = -1;
    self->state = CONN_IDLE;
    self->handshake_left = 0;
    if (!was_connected)
        note_connect_failed(self);
    if (!was_connected || self->drop_connection)
        self->connect_failed = true;
    self->drop_connection = false;
    if (!self->destroying) {
        schedule_reconnect(self);
        arm_kick(self);
    }
}

/* --- sending ---------------------------------------------------------------- */

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* Hand cmd to hiredis; false if the context takes no more commands. */
static bool cmd_send(yg_redis_t *self, redis_cmd_t *cmd)
{
    if (redisAsyncFormattedCommand(self->ac, on_reply, cmd, cmd->buf, cmd->len) != REDIS_OK)
        return false;
    free(cmd->buf);
    cmd->buf = NULL;
    cmd->sent = true;
    self->commands++;
    return true;
}

static void send_unsent(yg_redis_t *self)
{
    while (self->state == CONN_READY && self->ac && self->first_unsent) {
        redis_cmd_t *cmd = self->first_unsent;
        if (!cmd_send(self, cmd))
            break;
        self->first_unsent = cmd->next;
    }
}

/* A new command for buf (taken over), not linked yet. */
static redis_cmd_t *cmd_new(yg_redis_t *self, char *buf, size_t len, yg_redis_reply_fn *fn,
                            void *arg)
{
    redis_cmd_t *cmd = calloc(1, sizeof *cmd);
    if (!cmd) {
        free(buf);
        return NULL;
    }
    cmd->buf = buf;
    cmd->len = len;
    cmd->fn = fn;
    cmd->arg = arg;
    cmd->deadline = zclock_mono() + self->timeout_ms;
    return cmd;
}

/* Start a new connection's handshake: the preludes go first, ahead of
 * everything queued; user commands wait for their replies. */
static void start_handshake(yg_redis_t *self)
{
    self->state = CONN_HANDSHAKE;
    self->handshake_left = 0;
    for (size_t i = self->nprelude; i-- > 0;) {
        char *copy = malloc(self->prelude_len[i]);
        redis_cmd_t *cmd = copy ? cmd_new(self, copy, self->prelude_len[i], NULL, NULL) : NULL;
        if (!cmd) {
            free(copy);
            snprintf(self->last_error, sizeof self->last_error,
                     "out of memory starting the redis handshake");
            self->drop_connection = true;
            arm_kick(self);
            return;
        }
        memcpy(copy, self->prelude[i], self->prelude_len[i]);
        list_push_front(self, cmd);
        self->handshake_left++;
    }
    for (redis_cmd_t *cmd = self->head; cmd && cmd != self->first_unsent; cmd = cmd->next) {
        if (!cmd_send(self, cmd)) {
            self->drop_connection = true;
            arm_kick(self);
            return;
        }
    }
    if (self->handshake_left == 0) {
        self->state = CONN_READY;
        send_unsent(self);
    }
}

/* hiredis: the connection attempt finished. */
static void on_connect(const redisAsyncContext *ac, int status)
{
    yg_redis_t *self = ac->data;
    if (status != REDIS_OK) {
        /* hiredis frees the context right after this; ev_cleanup follows. */
        snprintf(self->last_error, sizeof self->last_error, "%s",
                 ac->errstr[0] ? ac->errstr : "connection failed");
        return;
    }
    self->connects++;
    self->fail_streak = 0; /* and stay on the address that answered */
    self->backoff_ms = YG_REDIS_RECONNECT_MIN_MS;
    self->last_error[0] = '\0';
    start_handshake(self);
}

/* hiredis: a reply, or NULL when the context dies with cmd outstanding. */
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    yg_redis_t *self = ac->data;
    redis_cmd_t *cmd = privdata;
    redisReply *r = reply;
    list_unlink(self, cmd);
    if (!cmd->fn && self->handshake_left > 0) {
        /* A prelude reply. */
        self->handshake_left--;
        if (r && r->type == REDIS_REPLY_ERROR) {
            snprintf(self->last_error, sizeof self->last_error, "redis handshake failed: %.*s",
                     (int)r->len, r->str);
            self->drop_connection = true;
            arm_kick(self);
        } else if (r && self->handshake_left == 0 && !self->drop_connection) {
            self->state = CONN_READY;
            send_unsent(self);
        }
        cmd_free(cmd);
        return;
    }
    if (r) {
        cmd_deliver(self, cmd, YG_OK, r, NULL);
    } else {
        char message[REDIS_ERROR_MAX + REDIS_ENDPOINT_MAX + 64];
        int status = self->fail_status ? self->fail_status : YG_EIO;
        if (status == YG_ETIMEOUT)
            snprintf(message, sizeof message, "no reply from redis at %s within %d ms",
                     self->endpoint, self->timeout_ms);
        else if (status == YG_ECLOSED)
            snprintf(message, sizeof message, "redis connection to %s closed", self->endpoint);
        else
            snprintf(message, sizeof message, "connection to redis at %s lost: %s",
                     self->endpoint, ac->errstr[0]       ? ac->errstr
                                     : self->last_error[0] ? self->last_error
                                                           : "closed by the server");
        cmd_deliver(self, cmd, status, NULL, message);
    }
    cmd_free(cmd);
}

/* Free the context from a timer (never inside a hiredis callback). */
static void drop_context(yg_redis_t *self, int fail_status)
{
    if (!self->ac)
        return;
    self->fail_status = fail_status;
    redisAsyncFree(self->ac); /* callbacks with NULL, then ev_cleanup */
    self->fail_status = 0;
}

/* Resolve the TCP host name into self->addrs (blocking: see
 * REDIS_ADDRS_MAX for when this runs).  On failure naddrs is 0 and
 * last_error says why. */
static void resolve_host(yg_redis_t *self)
{
    self->naddrs = self->addr_idx = 0;
    self->fail_streak = 0;
    self->resolved_at = zclock_mono();
    self->resolves++;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(self->target.host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(self->last_error, sizeof self->last_error, "cannot resolve '%s': %s",
                 self->target.host, gai_strerror(rc));
        return;
    }
    for (struct addrinfo *ai = res; ai && self->naddrs < REDIS_ADDRS_MAX; ai = ai->ai_next) {
        char *slot = self->addrs[self->naddrs];
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, slot, INET6_ADDRSTRLEN, NULL, 0,
                        NI_NUMERICHOST)
            != 0)
            continue;
        bool dup = false;
        for (size_t i = 0; i < self->naddrs && !dup; i++)
            dup = strcmp(self->addrs[i], slot) == 0;
        if (!dup)
            self->naddrs++;
    }
    freeaddrinfo(res);
    if (self->naddrs == 0)
        snprintf(self->last_error, sizeof self->last_error, "cannot resolve '%s': no address",
                 self->target.host);
}

/* The numeric address for the next TCP connect attempt, or NULL (the name
 * does not resolve; last_error says why). */
static const char *connect_address(yg_redis_t *self)
{
    if (self->host_numeric)
        return self->target.host;
    bool all_failed = self->naddrs == 0 || self->fail_streak >= self->naddrs;
    if (all_failed && zclock_mono() - self->resolved_at >= REDIS_RERESOLVE_MS)
        resolve_host(self);
    if (self->naddrs == 0)
        return NULL;
    return self->addrs[self->addr_idx];
}

static void start_connect(yg_redis_t *self)
{
    const char *address = self->target.unix_path ? NULL : connect_address(self);
    redisAsyncContext *ac = self->target.unix_path ? redisAsyncConnectUnix(self->target.unix_path)
                            : address              ? redisAsyncConnect(address, self->target.port)
                                                   : NULL;
    if (!ac || ac->err) {
        if (ac || address || self->target.unix_path)
            snprintf(self->last_error, sizeof self->last_error, "%s",
                     ac ? ac->errstr : "out of memory");
        note_connect_failed(self);
        if (ac)
            redisAsyncFree(ac); /* no hooks attached yet */
        self->connect_failed = true;
        schedule_reconnect(self);
        arm_kick(self);
        return;
    }
    self->ac = ac;
    self->fd = ac->c.fd;
    self->state = CONN_CONNECTING;
    self->connect_deadline = zclock_mono() + self->timeout_ms;
    ac->data = self;
    ac->ev.data = self;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    redisAsyncSetConnectCallback(ac, on_connect); /* asks for POLLOUT */
    arm_tick(self);
}

/* Deferred work: act on state changes (drops, failed connects). */
static void service(yg_redis_t *self)
{
    if ((self->drop_connection || self->write_failed) && self->ac)
        drop_context(self, YG_EIO);
    if (self->connect_failed && self->state == CONN_IDLE) {
        self->connect_failed = false;
        char message[REDIS_ERROR_MAX + REDIS_ENDPOINT_MAX + 64];
        snprintf(message, sizeof message, "cannot connect to redis at %s: %s", self->endpoint,
                 self->last_error[0] ? self->last_error : "connection failed");
        fail_unsent(self, YG_EIO, message);
    }
    if (self->ac && self->state == CONN_READY)
        send_unsent(self);
    if (self->head || self->state == CONN_CONNECTING)
        arm_tick(self);
}

static int on_kick(zloop_t *loop, int timer_id, void *arg)
{
    if (!live_has(arg))
        return 0;
    yg_redis_t *self = arg;
    if (!self->kick_armed || timer_id != self->kick_timer)
        return 0;
    self->kick_armed = false;
    service(self);
    return 0;
}

static int on_reconnect(zloop_t *loop, int timer_id, void *arg)
{
    if (!live_has(arg))
        return 0;
    yg_redis_t *self = arg;
    if (!self->reconnect_armed || timer_id != self->reconnect_timer)
        return 0;
    self->reconnect_armed = false;
    if (self->state == CONN_IDLE && !self->destroying)
        start_connect(self);
    return 0;
}

static int on_tick(zloop_t *loop, int timer_id, void *arg)
{
    if (!live_has(arg))
        return 0;
    yg_redis_t *self = arg;
    if (!self->tick_armed || timer_id != self->tick_timer)
        return 0;
    self->tick_armed = false;
    int64_t now = zclock_mono();
    if (self->state == CONN_CONNECTING && now >= self->connect_deadline) {
        snprintf(self->last_error, sizeof self->last_error, "connect timed out after %d ms",
                 self->timeout_ms);
        drop_context(self, YG_EIO);
    } else if (self->ac && self->head && self->head->sent && now >= self->head->deadline) {
        /* The oldest reply is overdue: the pipeline cannot skip it. */
        snprintf(self->last_error, sizeof self->last_error, "command timed out after %d ms",
                 self->timeout_ms);
        drop_context(self, YG_ETIMEOUT);
    }
    while (self->first_unsent && now >= self->first_unsent->deadline) {
        char message[REDIS_ENDPOINT_MAX + 96];
        snprintf(message, sizeof message, "redis at %s: not connected within %d ms",
                 self->endpoint, self->timeout_ms);
        cmd_fail(self, self->first_unsent, YG_ETIMEOUT, message);
    }
    if (self->head || self->state == CONN_CONNECTING)
        arm_tick(self);
    return 0;
}

/* --- public ------------------------------------------------------------------- */

yg_redis_t *yg_redis_new(zloop_t *loop, const char *url, yg_error_t *err)
{
    if (!loop) {
        yg_error_set(err, YG_EINVAL, "a redis connection needs a zloop");
        return NULL;
    }
    yg_redis_t *self = calloc(1, sizeof *self);
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    if (yg_redis_parse_url(url, &self->target, err) != YG_OK) {
        free(self);
        return NULL;
    }
    if (!live_add(self)) {
        yg_redis_target_clear(&self->target);
        free(self);
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    self->loop = loop;
    self->fd = self->polled_fd = -1;
    self->timeout_ms = YG_REDIS_DEFAULT_TIMEOUT_MS;
    self->backoff_ms = YG_REDIS_RECONNECT_MIN_MS;
    if (self->target.unix_path)
        snprintf(self->endpoint, sizeof self->endpoint, "%s", self->target.unix_path);
    else
        snprintf(self->endpoint, sizeof self->endpoint, strchr(self->target.host, ':')
                                                            ? "[%s]:%d"
                                                            : "%s:%d",
                 self->target.host, self->target.port);
    if (self->target.host) {
        unsigned char buf[sizeof(struct in6_addr)];
        self->host_numeric = inet_pton(AF_INET, self->target.host, buf) == 1
                             || inet_pton(AF_INET6, self->target.host, buf) == 1;
        if (!self->host_numeric)
            resolve_host(self); /* the only lookup unless every address fails */
    }
    int rc = YG_OK;
    if (self->target.password) {
        const char *user_auth[] = {"AUTH", self->target.username, self->target.password};
        const char *auth[] = {"AUTH", self->target.password};
        rc = self->target.username ? yg_redis_add_prelude(self, 3, user_auth, NULL)
                                   : yg_redis_add_prelude(self, 2, auth, NULL);
    }
    if (rc == YG_OK && self->target.db) {
        char db[16];
        snprintf(db, sizeof db, "%d", self->target.db);
        const char *select[] = {"SELECT", db};
        rc = yg_redis_add_prelude(self, 2, select, NULL);
    }
    if (rc != YG_OK) {
        yg_redis_destroy(&self);
        yg_error_set(err, rc, "out of memory");
        return NULL;
    }
    start_connect(self);
    return self;
}

void yg_redis_destroy(yg_redis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_redis_t *self = *self_p;
    *self_p = NULL;
    /* Freeing the context from inside our own callback would free memory
     * hiredis is still using. */
    assert(self->in_callback == 0);
    self->destroying = true;
    if (self->kick_armed)
        zloop_timer_end(self->loop, self->kick_timer);
    if (self->tick_armed)
        zloop_timer_end(self->loop, self->tick_timer);
    if (self->reconnect_armed)
        zloop_timer_end(self->loop, self->reconnect_timer);
    self->kick_armed = self->tick_armed = self->reconnect_armed = false;
    char message[REDIS_ENDPOINT_MAX + 64];
    snprintf(message, sizeof message, "redis connection to %s closed", self->endpoint);
    fail_unsent(self, YG_ECLOSED, message);
    drop_context(self, YG_ECLOSED);
    /* Whatever remains was never handed to hiredis. */
    while (self->head)
        cmd_fail(self, self->head, YG_ECLOSED, message);
    for (size_t i = 0; i < self->nprelude; i++)
        free(self->prelude[i]);
    free(self->prelude);
    free(self->prelude_len);
    yg_redis_target_clear(&self->target);
    live_remove(self);
    free(self);
}

void yg_redis_set_timeout(yg_redis_t *self, int timeout_ms)
{
    if (self && timeout_ms > 0)
        self->timeout_ms = timeout_ms;
}

/* Format a command; *len receives its size.  NULL on ENOMEM/EINVAL. */
static char *format_command(int argc, const char **argv, const size_t *argvlen, size_t *len)
{
    char *buf = NULL;
    int n = redisFormatCommandArgv(&buf, argc, argv, argvlen);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    *len = (size_t)n;
    return buf;
}

int yg_redis_add_prelude(yg_redis_t *self, int argc, const char **argv, const size_t *argvlen)
{
    /* The handshake of a live connection has already run. */
    if (!self || argc <= 0 || !argv || self->state >= CONN_HANDSHAKE)
        return YG_EINVAL;
    size_t len = 0;
    char *buf = format_command(argc, argv, argvlen, &len);
    if (!buf)
        return YG_ENOMEM;
    char **prelude = realloc(self->prelude, (self->nprelude + 1) * sizeof *prelude);
    if (prelude)
        self->prelude = prelude;
    size_t *lens = prelude ? realloc(self->prelude_len, (self->nprelude + 1) * sizeof *lens)
                           : NULL;
    if (!lens) {
        free(buf);
        return YG_ENOMEM;
    }
    self->prelude_len = lens;
    self->prelude[self->nprelude] = buf;
    self->prelude_len[self->nprelude] = len;
    self->nprelude++;
    return YG_OK;
}

int yg_redis_command(yg_redis_t *self, int argc, const char **argv, const size_t *argvlen,
                     yg_redis_reply_fn *fn, void *arg)
{
    if (!self || argc <= 0 || !argv || !fn || self->destroying)
        return YG_EINVAL;
    size_t len = 0;
    char *buf = format_command(argc, argv, argvlen, &len);
    redis_cmd_t *cmd = buf ? cmd_new(self, buf, len, fn, arg) : NULL;
    if (!cmd)
        return YG_ENOMEM;
    list_append(self, cmd);
    if (!self->first_unsent) {
        self->first_unsent = cmd;
        if (self->state == CONN_READY && self->ac)
            send_unsent(self);
    }
    /* Failures (no connection) are reported from the loop, never inline. */
    if (self->state == CONN_IDLE && self->connect_failed)
        arm_kick(self);
    arm_tick(self);
    return YG_OK;
}

bool yg_redis_connected(const yg_redis_t *self)
{
    return self && self->ac && self->state == CONN_READY;
}

const char *yg_redis_endpoint(const yg_redis_t *self)
{
    return self ? self->endpoint : "";
}

const char *yg_redis_last_error(const yg_redis_t *self)
{
    return self ? self->last_error : "";
}

uint64_t yg_redis_resolves(const yg_redis_t *self)
{
    return self ? self->resolves : 0;
}

void yg_redis_stats(const yg_redis_t *self, uint64_t *connects, uint64_t *commands)
{
    if (connects)
        *connects = self ? self->connects : 0;
    if (commands)
        *commands = self ? self->commands : 0;
}
