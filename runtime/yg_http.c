/*
 * yg_http.c - libcurl multi socket driver on a yg_evloop (see yg_http.h).
 */
#define _GNU_SOURCE
#include "yg_http.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* A growable byte buffer, NUL-terminated once allocated. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} http_buf_t;

typedef struct http_shard http_shard_t;

struct yg_http_req {
    yg_http_t *http;
    http_shard_t *shard;
    CURL *easy;
    struct curl_slist *headers;
    yg_http_callbacks_t cb;
    void *arg;
    bool stream;
    bool added;          /* curl_multi_add_handle done */
    bool cancelled;      /* cancelled from inside libcurl: reap later, no callbacks */
    bool aborted;        /* on_data asked to stop */
    bool too_big;        /* buffered body over YG_HTTP_MAX_BODY */
    bool truncated;      /* error body over YG_HTTP_MAX_ERROR_BODY */
    long status;         /* last status line seen */
    double retry_after_s;
    char *content_type;
    http_buf_t body;
    char error[CURL_ERROR_SIZE];
    yg_http_req_t *prev, *next;     /* active list */
    yg_http_req_t *deferred_next;   /* pending add / reap list */
};

/* One curl multi handle and its timer.  libcurl scans a host's whole
 * connection list for every new transfer (ConnectionExists), which is
 * quadratic with 10,000 connections to one host; spreading transfers over
 * a few multi handles keeps each list short.  Shards are created on
 * demand, so light loads use exactly one. */
struct http_shard {
    yg_http_t *http;
    CURLM *multi;
    uint32_t index;
    yg_timer_t *timer;      /* libcurl's timeout */
    size_t active;          /* transfers added and not completed */
};

struct yg_http {
    yg_evloop_t *ev;
    zloop_t *loop;
    http_shard_t *shards[YG_HTTP_MAX_SHARDS];
    size_t shards_count;
    int epfd;
    zmq_pollitem_t poll_item;
    bool poller_added;
    int in_curl;            /* depth of calls into libcurl (callbacks may run) */
    bool destroying;
    yg_http_req_t *active;
    size_t active_count;
    yg_http_req_t *pending_add;  /* started from inside libcurl */
    yg_http_req_t *reap;         /* cancelled from inside libcurl */
    size_t connections;
};

static void http_drive(http_shard_t *shard, curl_socket_t fd, int flags);

/* --- process-wide init ---------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int yg_http_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_rc == CURLE_OK ? YG_OK : YG_EIO;
}

/* --- buffers and headers -------------------------------------------------- */

static int buf_append(http_buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return YG_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return YG_OK;
}

double yg_http_parse_retry_after(const char *value)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end = NULL;
        double s = strtod(value, &end);
        while (end && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
            end++;
        return end && *end == '\0' && s >= 0 ? s : -1;
    }
    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    double delta = difftime(when, time(NULL));
    return delta > 0 ? delta : 0;
}

/* Header lines: a status line resets what an earlier (1xx) response set. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    yg_http_req_t *req = userp;
    size_t n = size * nmemb;
    if (req->cancelled)
        return 0;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', n);
        req->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        req->retry_after_s = -1;
        free(req->content_type);
        req->content_type = NULL;
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1;
    size_t vlen = n - name_len - 1;
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (name_len == 11 && strncasecmp(data, "retry-after", 11) == 0) {
        char tmp[128];
        if (vlen < sizeof tmp) {
            memcpy(tmp, v, vlen);
            tmp[vlen] = '\0';
            req->retry_after_s = yg_http_parse_retry_after(tmp);
        }
    } else if (name_len == 12 && strncasecmp(data, "content-type", 12) == 0) {
        free(req->content_type);
        req->content_type = strndup(v, vlen);
    }
    return n;
}

static bool status_ok(long status)
{
    return status >= 200 && status < 300;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    yg_http_req_t *req = userp;
    size_t n = size * nmemb;
    if (req->cancelled)
        return 0;
    if (status_ok(req->status)) {
        if (req->stream && req->cb.on_data) {
            if (req->cb.on_data(req->arg, data, n) != 0 || req->cancelled) {
                req->aborted = !req->cancelled;
                return 0;
            }
            return n;
        }
        if (req->body.len + n > YG_HTTP_MAX_BODY) {
            req->too_big = true;
            return 0;
        }
        return buf_append(&req->body, data, n) == YG_OK ? n : 0;
    }
    /* Error bodies: keep the start, drain the rest so the connection can
     * be reused. */
    size_t room = YG_HTTP_MAX_ERROR_BODY > req->body.len ? YG_HTTP_MAX_ERROR_BODY - req->body.len : 0;
    size_t keep = n < room ? n : room;
    if (keep < n)
        req->truncated = true;
    if (keep && buf_append(&req->body, data, keep) != YG_OK)
        return 0;
    return n;
}

/* --- libcurl socket and timer callbacks ----------------------------------- */

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    http_shard_t *shard = userp;
    yg_http_t *self = shard->http;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (socketp) {
            epoll_ctl(self->epfd, EPOLL_CTL_DEL, fd, NULL);  /* may already be closed */
            curl_multi_assign(shard->multi, fd, NULL);
        }
        return 0;
    }
    struct epoll_event ev = {0};
    /* The shard that owns the socket travels with its events. */
    ev.data.u64 = ((uint64_t)shard->index << 32) | (uint32_t)fd;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev.events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev.events |= EPOLLOUT;
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(self->epfd, op, fd, &ev) != 0) {
        /* A reused descriptor number can disagree with our marker. */
        op = errno == EEXIST ? EPOLL_CTL_MOD : errno == ENOENT ? EPOLL_CTL_ADD : -1;
        if (op < 0 || epoll_ctl(self->epfd, op, fd, &ev) != 0)
            return -1;
    }
    if (!socketp)
        curl_multi_assign(shard->multi, fd, shard);  /* marker: registered */
    return 0;
}

static void on_curl_timer_fire(void *arg)
{
    http_shard_t *shard = arg;
    shard->timer = NULL;
    http_drive(shard, CURL_SOCKET_TIMEOUT, 0);
}

/* libcurl's timer: -1 deletes it; 0 means "soon", which must happen from
 * the loop (a 0 ms yg_evloop timer fires on the next iteration), never by
 * calling curl_multi_socket_action from here. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    http_shard_t *shard = userp;
    yg_http_t *self = shard->http;
    (void)multi;
    yg_evloop_cancel(self->ev, &shard->timer);
    if (timeout_ms < 0 || self->destroying)
        return 0;
    shard->timer = yg_evloop_timer(self->ev, timeout_ms, on_curl_timer_fire, shard);
    return shard->timer ? 0 : -1;
}

/* --- request bookkeeping -------------------------------------------------- */

static void req_free(yg_http_req_t *req)
{
    if (req->easy)
        curl_easy_cleanup(req->easy);
    curl_slist_free_all(req->headers);
    free(req->body.data);
    free(req->content_type);
    free(req);
}

static void active_unlink(yg_http_t *self, yg_http_req_t *req)
{
    if (req->prev)
        req->prev->next = req->next;
    else
        self->active = req->next;
    if (req->next)
        req->next->prev = req->prev;
    req->prev = req->next = NULL;
    self->active_count--;
}

static void req_remove(yg_http_t *self, yg_http_req_t *req)
{
    if (req->added) {
        self->in_curl++;
        curl_multi_remove_handle(req->shard->multi, req->easy);
        self->in_curl--;
        req->added = false;
        req->shard->active--;
    }
}

static void complete(yg_http_t *self, yg_http_req_t *req, CURLcode rc)
{
    long num_connects = 0;
    curl_easy_getinfo(req->easy, CURLINFO_NUM_CONNECTS, &num_connects);
    self->connections += (size_t)(num_connects > 0 ? num_connects : 0);
    req_remove(self, req);
    active_unlink(self, req);

    yg_http_response_t resp = {0};
    resp.status = (int)req->status;
    resp.curl_code = (int)rc;
    resp.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    resp.aborted = req->aborted;
    resp.retry_after_s = req->retry_after_s;
    resp.content_type = req->content_type ? req->content_type : "";
    resp.body = req->body.data ? req->body.data : "";
    resp.body_len = req->body.len;
    resp.body_truncated = req->truncated;
    if (rc == CURLE_OK)
        resp.error = "";
    else if (req->too_big)
        resp.error = "response body exceeds the size limit";
    else if (req->error[0])
        resp.error = req->error;
    else
        resp.error = curl_easy_strerror(rc);
    if (req->cb.on_done)
        req->cb.on_done(req->arg, &resp);
    req_free(req);
}

static CURLMcode add_handle(yg_http_t *self, yg_http_req_t *req)
{
    self->in_curl++;
    CURLMcode mc = curl_multi_add_handle(req->shard->multi, req->easy);
    self->in_curl--;
    req->added = mc == CURLM_OK;
    if (req->added)
        req->shard->active++;
    if (mc != CURLM_OK)
        snprintf(req->error, sizeof req->error, "curl_multi_add_handle: %s",
                 curl_multi_strerror(mc));
    return mc;
}

/* Work deferred while libcurl was on the stack. */
static void run_deferred(yg_http_t *self)
{
    while (self->reap) {
        yg_http_req_t *req = self->reap;
        self->reap = req->deferred_next;
        req_remove(self, req);
        req_free(req);
    }
    while (self->pending_add) {
        yg_http_req_t *req = self->pending_add;
        self->pending_add = req->deferred_next;
        req->deferred_next = NULL;
        if (add_handle(self, req) != CURLM_OK)
            complete(self, req, CURLE_FAILED_INIT);  /* we are on the loop here */
    }
}

static void read_completions(http_shard_t *shard)
{
    yg_http_t *self = shard->http;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(shard->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        yg_http_req_t *req = (yg_http_req_t *)priv;
        CURLcode rc = msg->data.result;
        if (req && !req->cancelled)
            complete(self, req, rc);
        run_deferred(self);
    }
}

static void http_drive(http_shard_t *shard, curl_socket_t fd, int flags)
{
    yg_http_t *self = shard->http;
    int running = 0;
    self->in_curl++;
    curl_multi_socket_action(shard->multi, fd, flags, &running);
    self->in_curl--;
    run_deferred(self);
    read_completions(shard);
}

static int on_epoll_ready(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    yg_http_t *self = arg;
    (void)loop;
    (void)item;
    struct epoll_event events[YG_HTTP_EPOLL_BATCH];
    int n = epoll_wait(self->epfd, events, YG_HTTP_EPOLL_BATCH, 0);
    for (int i = 0; i < n; i++) {
        int flags = 0;
        if (events[i].events & (EPOLLIN | EPOLLHUP))
            flags |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT)
            flags |= CURL_CSELECT_OUT;
        if (events[i].events & EPOLLERR)
            flags |= CURL_CSELECT_ERR;
        uint32_t index = (uint32_t)(events[i].data.u64 >> 32);
        curl_socket_t fd = (curl_socket_t)(events[i].data.u64 & 0xffffffffu);
        if (index < self->shards_count)
            http_drive(self->shards[index], fd, flags);
    }
    return 0;
}

/* --- shards ---------------------------------------------------------------- */

static http_shard_t *shard_add(yg_http_t *self)
{
    if (self->shards_count == YG_HTTP_MAX_SHARDS)
        return NULL;
    http_shard_t *shard = calloc(1, sizeof *shard);
    if (!shard || !(shard->multi = curl_multi_init())) {
        free(shard);
        return NULL;
    }
    shard->http = self;
    shard->index = (uint32_t)self->shards_count;
    CURLM *m = shard->multi;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, shard);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, shard);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, YG_HTTP_MAX_CONNECTS);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);  /* unlimited */
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    self->shards[self->shards_count++] = shard;
    return shard;
}

/* The least busy shard (the first on ties, so light traffic stays on one
 * handle and reuses its connections); a new shard when all are full. */
static http_shard_t *shard_pick(yg_http_t *self)
{
    http_shard_t *best = self->shards[0];
    for (size_t i = 1; i < self->shards_count; i++)
        if (self->shards[i]->active < best->active)
            best = self->shards[i];
    if (best->active >= YG_HTTP_SHARD_TRANSFERS) {
        http_shard_t *fresh = shard_add(self);
        if (fresh)
            best = fresh;
    }
    return best;
}

static void shard_destroy(yg_http_t *self, http_shard_t *shard)
{
    /* Closes cached connections through on_socket (the epoll set is open). */
    curl_multi_cleanup(shard->multi);
    yg_evloop_cancel(self->ev, &shard->timer);
    free(shard);
}

/* --- public --------------------------------------------------------------- */

yg_http_t *yg_http_new(yg_evloop_t *ev)
{
    if (!ev || yg_http_global_init() != YG_OK)
        return NULL;
    yg_http_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ev = ev;
    self->loop = yg_evloop_zloop(ev);
    self->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (self->epfd < 0 || !shard_add(self)) {
        yg_http_destroy(&self);
        return NULL;
    }
    self->poll_item.socket = NULL;
    self->poll_item.fd = self->epfd;
    self->poll_item.events = ZMQ_POLLIN;
    if (zloop_poller(self->loop, &self->poll_item, on_epoll_ready, self) != 0) {
        yg_http_destroy(&self);
        return NULL;
    }
    self->poller_added = true;
    return self;
}

void yg_http_destroy(yg_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_http_t *self = *self_p;
    *self_p = NULL;
    self->destroying = true;
    while (self->active) {
        yg_http_req_t *req = self->active;
        active_unlink(self, req);
        req_remove(self, req);
        req_free(req);
    }
    while (self->pending_add) {
        yg_http_req_t *req = self->pending_add;
        self->pending_add = req->deferred_next;
        req_free(req);
    }
    while (self->reap) {
        yg_http_req_t *req = self->reap;
        self->reap = req->deferred_next;
        req_remove(self, req);
        req_free(req);
    }
    for (size_t i = 0; i < self->shards_count; i++)
        shard_destroy(self, self->shards[i]);
    if (self->poller_added)
        zloop_poller_end(self->loop, &self->poll_item);
    if (self->epfd >= 0)
        close(self->epfd);
    free(self);
}

static bool header_line_ok(const char *h)
{
    /* No CR/LF: a header value must not inject further headers. */
    return h && strchr(h, ':') && !strpbrk(h, "\r\n");
}

yg_http_req_t *yg_http_start(yg_http_t *self, const yg_http_request_t *request,
                             const yg_http_callbacks_t *cb, void *arg, yg_error_t *err)
{
    if (!self || !request || !request->url || !cb || !cb->on_done) {
        yg_error_set(err, YG_EINVAL, "http: missing url or callback");
        return NULL;
    }
    yg_http_req_t *req = calloc(1, sizeof *req);
    if (!req || !(req->easy = curl_easy_init())) {
        free(req);
        yg_error_set(err, YG_ENOMEM, "http: out of memory");
        return NULL;
    }
    req->http = self;
    req->shard = shard_pick(self);
    req->cb = *cb;
    req->arg = arg;
    req->stream = request->stream;
    req->retry_after_s = -1;
    CURL *e = req->easy;
    bool ok = true;
    for (const char *const *h = request->headers; h && *h; h++) {
        if (!header_line_ok(*h)) {
            yg_error_set(err, YG_EINVAL, "http: malformed header line");
            req_free(req);
            return NULL;
        }
        struct curl_slist *n = curl_slist_append(req->headers, *h);
        ok = ok && n;
        if (n)
            req->headers = n;
    }
    /* curl would send "Expect: 100-continue" for large bodies and wait for
     * the server; LLM APIs answer directly. */
    struct curl_slist *n = curl_slist_append(req->headers, "Expect:");
    if (!ok || !n) {
        yg_error_set(err, YG_ENOMEM, "http: out of memory");
        req_free(req);
        return NULL;
    }
    req->headers = n;
    const char *method = request->method ? request->method : request->body ? "POST" : "GET";
    curl_easy_setopt(e, CURLOPT_URL, request->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)req);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, YG_HTTP_RECV_BUFFER);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     request->connect_timeout_ms > 0 ? request->connect_timeout_ms
                                                     : YG_HTTP_DEFAULT_CONNECT_TIMEOUT_MS);
    if (request->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, request->timeout_ms);
    if (request->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, request->body);
    }
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") != 0 || !request->body)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);

    req->next = self->active;
    if (self->active)
        self->active->prev = req;
    self->active = req;
    self->active_count++;
    if (self->in_curl) {
        req->deferred_next = self->pending_add;
        self->pending_add = req;
    } else if (add_handle(self, req) != CURLM_OK) {
        yg_error_set(err, YG_EIO, "http: %s", req->error);
        active_unlink(self, req);
        req_free(req);
        return NULL;
    }
    return req;
}

void yg_http_cancel(yg_http_t *self, yg_http_req_t **req_p)
{
    if (!self || !req_p || !*req_p)
        return;
    yg_http_req_t *req = *req_p;
    *req_p = NULL;
    if (req->cancelled)
        return;
    active_unlink(self, req);
    if (!req->added) {
        /* Still waiting to be added: drop it from the pending list. */
        for (yg_http_req_t **p = &self->pending_add; *p; p = &(*p)->deferred_next)
            if (*p == req) {
                *p = req->deferred_next;
                break;
            }
        req_free(req);
        return;
    }
    if (self->in_curl) {
        /* libcurl may be inside this transfer's callback: its write
         * callback now fails and the handle is reaped after libcurl returns. */
        req->cancelled = true;
        req->deferred_next = self->reap;
        self->reap = req;
        return;
    }
    /* Removing the handle closes its connection (it is mid-transfer). */
    req_remove(self, req);
    req_free(req);
}

size_t yg_http_active(const yg_http_t *self)
{
    return self ? self->active_count : 0;
}

size_t yg_http_connections_opened(const yg_http_t *self)
{
    return self ? self->connections : 0;
}
