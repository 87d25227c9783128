/*
 * fake_llm_server.c - an OpenAI- and Anthropic-shaped fake LLM server for
 * tests and benchmark W4: one thread, epoll, non-blocking sockets,
 * HTTP/1.1 keep-alive, timers in a heap (no sleeping).
 *
 *   fake_llm_server [--host ADDR] [--port N]     (port 0 = ephemeral)
 *
 * Prints the bound port on stdout (one line) once it accepts connections.
 *
 * Endpoints:
 *   POST /v1/chat/completions   OpenAI chat completions (stream: true -> SSE)
 *   POST /v1/messages           Anthropic messages (stream: true -> SSE)
 *   GET  /stats                 {inflight, max_inflight, requests, cpu_ms,
 *                                connections, accepted, client_aborts}
 *   POST /reset                 zero the counters (max_inflight = inflight)
 *   GET  /last                  the last model request: {path, body, headers}
 *
 * Behaviour of the model endpoints, from query parameters:
 *   delay_ms=N        hold the reply N ms (timer) before the status line
 *   slow_if=TEXT&slow_ms=N  hold requests whose body contains TEXT for N ms
 *                     instead of delay_ms
 *   reply=TEXT        reply text (default "This is a fixed reply from the fake LLM.")
 *   echo=1            reply text = the request body as received
 *   tool=NAME&args=J  reply with one tool call NAME(J) instead of text
 *   chunk_ms=N        stream: N ms between SSE events
 *   fault=429         429 + Retry-After (retry_after=S, default 1; retry_after_date=1
 *                     sends it as an HTTP date)
 *   fault=500|503     server error with a provider-shaped error body
 *   fault=slow_headers  send the status line, then nothing (until the client leaves)
 *   fault=drop        close the connection mid-body / mid-stream (after drop_after
 *                     SSE events, default 2)
 *   fault=malformed   200 with a truncated JSON body (stream: an unparseable event)
 *   fault=error_event stream: 200, one token, then an error event (Anthropic
 *                     `event: error`, OpenAI `data: {"error": ...}`)
 *   key=K&fail_times=N  apply the fault only to the first N requests carrying key K
 *                     (later ones succeed); likewise tool_times=N for `tool`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "yamlgraph/yg_value.h"

#define FAKE_DEFAULT_PORT 8765
#define FAKE_BACKLOG 65535            /* the kernel clamps it to somaxconn */
#define FAKE_MAX_HEADER (64 * 1024)   /* request line + headers */
#define FAKE_MAX_BODY (16 * 1024 * 1024)
#define FAKE_MAX_DELAY_MS (10 * 60 * 1000)
#define FAKE_MAX_KEYS 4096            /* distinct fault keys remembered */
#define FAKE_EPOLL_BATCH 1024
#define FAKE_READ_CHUNK 16384
#define FAKE_FIXED_REPLY "This is a fixed reply from the fake LLM."

typedef enum { API_OPENAI, API_ANTHROPIC } api_t;
typedef enum {
    FAULT_NONE,
    FAULT_429,
    FAULT_500,
    FAULT_503,
    FAULT_SLOW_HEADERS,
    FAULT_DROP,
    FAULT_MALFORMED,
    FAULT_ERROR_EVENT
} fault_t;

/* The response still to be written for a held request: segments written
 * one per timer tick (all at once when chunk_ms is 0). */
typedef struct {
    char **segs;
    size_t count;
    size_t next;
    int64_t chunk_ms;
    bool close_at_end;  /* drop: close without finishing */
    bool stall_at_end;  /* slow headers: keep the request open forever */
} plan_t;

typedef struct conn {
    int fd;
    bool closed;
    bool want_out;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
    bool busy;            /* a model request is in progress on this connection */
    bool close_after;     /* Connection: close, or a drop */
    plan_t plan;
    int64_t when;         /* timer deadline (ms), valid when heap_index != SIZE_MAX */
    size_t heap_index;
    struct conn *next_closed;
} conn_t;

typedef struct {
    char *key;
    int64_t count;
} key_count_t;

static struct {
    int epfd;
    int lfd;
    conn_t **heap;
    size_t heap_size, heap_cap;
    conn_t *closed;
    int64_t inflight, max_inflight, requests, connections, accepted, client_aborts;
    double cpu_base_ms;
    key_count_t keys[FAKE_MAX_KEYS];
    size_t keys_count;
    char *last;           /* JSON of the last model request */
    uint64_t seq;
} S;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "fake_llm_server: out of memory\n");
        exit(1);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        fprintf(stderr, "fake_llm_server: out of memory\n");
        exit(1);
    }
    return d;
}

/* --- timer heap (one timer per connection) -------------------------------- */

static void heap_set(size_t i, conn_t *c)
{
    S.heap[i] = c;
    c->heap_index = i;
}

static void heap_up(size_t i)
{
    conn_t *c = S.heap[i];
    while (i > 0 && S.heap[(i - 1) / 2]->when > c->when) {
        heap_set(i, S.heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(i, c);
}

static void heap_down(size_t i)
{
    conn_t *c = S.heap[i];
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= S.heap_size)
            break;
        if (k + 1 < S.heap_size && S.heap[k + 1]->when < S.heap[k]->when)
            k++;
        if (S.heap[k]->when >= c->when)
            break;
        heap_set(i, S.heap[k]);
        i = k;
    }
    heap_set(i, c);
}

static void timer_cancel(conn_t *c)
{
    if (c->heap_index == SIZE_MAX)
        return;
    size_t i = c->heap_index;
    c->heap_index = SIZE_MAX;
    S.heap_size--;
    if (i == S.heap_size)
        return;
    heap_set(i, S.heap[S.heap_size]);
    heap_down(i);
    heap_up(S.heap[i]->heap_index);
}

static void timer_start(conn_t *c, int64_t delay_ms)
{
    timer_cancel(c);
    if (S.heap_size == S.heap_cap) {
        S.heap_cap = S.heap_cap ? S.heap_cap * 2 : 1024;
        S.heap = xrealloc(S.heap, S.heap_cap * sizeof *S.heap);
    }
    c->when = now_ms() + delay_ms;
    heap_set(S.heap_size++, c);
    heap_up(S.heap_size - 1);
}

/* --- connections ---------------------------------------------------------- */

static void plan_free(plan_t *p)
{
    for (size_t i = 0; i < p->count; i++)
        free(p->segs[i]);
    free(p->segs);
    memset(p, 0, sizeof *p);
}

static void request_done(conn_t *c)
{
    if (c->busy) {
        c->busy = false;
        S.inflight--;
    }
}

static void conn_close(conn_t *c)
{
    if (c->closed)
        return;
    if (c->busy)
        S.client_aborts++;  /* the client left before the reply was complete */
    request_done(c);
    timer_cancel(c);
    c->closed = true;
    close(c->fd);
    S.connections--;
    c->next_closed = S.closed;
    S.closed = c;
}

static void conn_free_closed(void)
{
    while (S.closed) {
        conn_t *c = S.closed;
        S.closed = c->next_closed;
        plan_free(&c->plan);
        free(c->in);
        free(c->out);
        free(c);
    }
}

static void conn_watch_out(conn_t *c, bool want)
{
    if (c->want_out == want || c->closed)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want;
}

static void conn_flush(conn_t *c)
{
    while (!c->closed && c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_watch_out(c, true);
            return;
        } else {
            conn_close(c);
            return;
        }
    }
    c->out_len = c->out_off = 0;
    conn_watch_out(c, false);
    if (c->close_after && !c->busy)
        conn_close(c);
}

static void conn_write(conn_t *c, const char *data, size_t len)
{
    if (c->closed)
        return;
    if (c->out_len + len > c->out_cap) {
        c->out_cap = c->out_len + len + 4096;
        c->out = xrealloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

/* --- small text helpers --------------------------------------------------- */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s) {
        fprintf(stderr, "fake_llm_server: out of memory\n");
        exit(1);
    }
    return s;
}

static char *json_of(const yg_value_t *v)
{
    char *s = yg_json_encode(v, false, NULL);
    if (!s) {
        fprintf(stderr, "fake_llm_server: out of memory\n");
        exit(1);
    }
    return s;
}

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static char *full_response(int status, const char *extra_headers, const char *ctype,
                           const char *body, size_t body_len, bool keep_alive)
{
    return fmt("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n%.*s",
               status, status_text(status), ctype, body_len, extra_headers ? extra_headers : "",
               keep_alive ? "" : "Connection: close\r\n", (int)body_len, body);
}

/* One HTTP chunk holding an SSE event. */
static char *sse_chunk(const char *event, const char *data)
{
    char *ev = event ? fmt("event: %s\ndata: %s\n\n", event, data) : fmt("data: %s\n\n", data);
    char *chunk = fmt("%zx\r\n%s\r\n", strlen(ev), ev);
    free(ev);
    return chunk;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The decoded value of query parameter `name`, malloc'd, or NULL. */
static char *query_param(const char *query, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            char *out = xrealloc(NULL, len + 1);
            size_t o = 0;
            for (size_t i = nlen + 1; i < len; i++) {
                if (p[i] == '+') {
                    out[o++] = ' ';
                } else if (p[i] == '%' && i + 2 < len && hexval(p[i + 1]) >= 0 &&
                           hexval(p[i + 2]) >= 0) {
                    out[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
                    i += 2;
                } else {
                    out[o++] = p[i];
                }
            }
            out[o] = '\0';
            return out;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static int64_t query_int(const char *query, const char *name, int64_t dflt, int64_t max)
{
    char *v = query_param(query, name);
    if (!v)
        return dflt;
    int64_t n = strtoll(v, NULL, 10);
    free(v);
    return n < 0 ? 0 : n > max ? max : n;
}

/* Requests seen so far for a fault key, this one included. */
static int64_t key_hit(const char *key)
{
    for (size_t i = 0; i < S.keys_count; i++)
        if (strcmp(S.keys[i].key, key) == 0)
            return ++S.keys[i].count;
    if (S.keys_count == FAKE_MAX_KEYS)
        return 1;
    S.keys[S.keys_count].key = xstrdup(key);
    S.keys[S.keys_count].count = 1;
    return S.keys[S.keys_count++].count;
}

static void keys_clear(void)
{
    for (size_t i = 0; i < S.keys_count; i++)
        free(S.keys[i].key);
    S.keys_count = 0;
}

/* Split text into word tokens (word + following whitespace). */
static size_t split_tokens(const char *text, char ***out)
{
    size_t n = 0, cap = 8;
    char **toks = xrealloc(NULL, cap * sizeof *toks);
    const char *p = text;
    while (*p) {
        const char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        while (*p && isspace((unsigned char)*p))
            p++;
        if (n == cap) {
            cap *= 2;
            toks = xrealloc(toks, cap * sizeof *toks);
        }
        toks[n++] = strndup(start, (size_t)(p - start));
    }
    *out = toks;
    return n;
}

/* --- the model endpoints -------------------------------------------------- */

typedef struct {
    api_t api;
    fault_t fault;
    bool stream;
    bool keep_alive;
    char *model;
    char *text;           /* reply text */
    char *tool;           /* tool call name, or NULL */
    char *tool_args;      /* JSON text */
    char *forced_tool;    /* Anthropic structured output: tool_choice name */
    double retry_after;
    bool retry_after_date;
    int64_t drop_after;
    int64_t chunk_ms;
} reply_t;

static void plan_add(plan_t *p, char *seg)
{
    p->segs = xrealloc(p->segs, (p->count + 1) * sizeof *p->segs);
    p->segs[p->count++] = seg;
}

static char *error_body(const reply_t *r, const char *type, const char *message)
{
    yg_value_t *err = yg_map_new();
    yg_map_set(err, "message", yg_str_new(message));
    yg_map_set(err, "type", yg_str_new(type));
    yg_value_t *root = yg_map_new();
    if (r->api == API_ANTHROPIC)
        yg_map_set(root, "type", yg_str_new("error"));
    yg_map_set(root, "error", err);
    char *s = json_of(root);
    yg_value_destroy(&root);
    return s;
}

static yg_value_t *tool_args_value(const reply_t *r)
{
    yg_error_t e = {0};
    yg_value_t *v = r->tool_args ? yg_json_decode(r->tool_args, strlen(r->tool_args), NULL, &e)
                                 : yg_map_new();
    return v ? v : yg_map_new();
}

static char *openai_body(const reply_t *r)
{
    yg_value_t *msg = yg_map_new();
    yg_map_set(msg, "role", yg_str_new("assistant"));
    if (r->tool) {
        yg_map_set(msg, "content", yg_null_new());
        yg_value_t *fn = yg_map_new();
        yg_map_set(fn, "name", yg_str_new(r->tool));
        yg_map_set(fn, "arguments", yg_str_new(r->tool_args ? r->tool_args : "{}"));
        yg_value_t *call = yg_map_new();
        yg_map_set(call, "id", yg_str_newf("call_%llu", (unsigned long long)S.seq));
        yg_map_set(call, "type", yg_str_new("function"));
        yg_map_set(call, "function", fn);
        yg_value_t *calls = yg_list_new();
        yg_list_append(calls, call);
        yg_map_set(msg, "tool_calls", calls);
    } else {
        yg_map_set(msg, "content", yg_str_new(r->text));
    }
    yg_value_t *choice = yg_map_new();
    yg_map_set(choice, "index", yg_int_new(0));
    yg_map_set(choice, "message", msg);
    yg_map_set(choice, "finish_reason", yg_str_new(r->tool ? "tool_calls" : "stop"));
    yg_value_t *choices = yg_list_new();
    yg_list_append(choices, choice);
    yg_value_t *root = yg_map_new();
    yg_map_set(root, "id", yg_str_newf("chatcmpl-fake-%llu", (unsigned long long)S.seq));
    yg_map_set(root, "object", yg_str_new("chat.completion"));
    yg_map_set(root, "created", yg_int_new(0));
    yg_map_set(root, "model", yg_str_new(r->model));
    yg_map_set(root, "choices", choices);
    char *s = json_of(root);
    yg_value_destroy(&root);
    return s;
}

static char *anthropic_body(const reply_t *r)
{
    yg_value_t *content = yg_list_new();
    yg_value_t *block = yg_map_new();
    const char *tool = r->forced_tool ? r->forced_tool : r->tool;
    if (tool) {
        yg_map_set(block, "type", yg_str_new("tool_use"));
        yg_map_set(block, "id", yg_str_newf("toolu_%llu", (unsigned long long)S.seq));
        yg_map_set(block, "name", yg_str_new(tool));
        if (r->forced_tool) {
            yg_error_t e = {0};
            yg_value_t *in = yg_json_decode(r->text, strlen(r->text), NULL, &e);
            yg_map_set(block, "input", in ? in : yg_map_new());
        } else {
            yg_map_set(block, "input", tool_args_value(r));
        }
    } else {
        yg_map_set(block, "type", yg_str_new("text"));
        yg_map_set(block, "text", yg_str_new(r->text));
    }
    yg_list_append(content, block);
    yg_value_t *root = yg_map_new();
    yg_map_set(root, "id", yg_str_newf("msg_fake_%llu", (unsigned long long)S.seq));
    yg_map_set(root, "type", yg_str_new("message"));
    yg_map_set(root, "role", yg_str_new("assistant"));
    yg_map_set(root, "model", yg_str_new(r->model));
    yg_map_set(root, "content", content);
    yg_map_set(root, "stop_reason", yg_str_new(tool ? "tool_use" : "end_turn"));
    char *s = json_of(root);
    yg_value_destroy(&root);
    return s;
}

static char *openai_chunk(const reply_t *r, yg_value_t *delta, const char *finish)
{
    yg_value_t *choice = yg_map_new();
    yg_map_set(choice, "index", yg_int_new(0));
    yg_map_set(choice, "delta", delta);
    yg_map_set(choice, "finish_reason", finish ? yg_str_new(finish) : yg_null_new());
    yg_value_t *choices = yg_list_new();
    yg_list_append(choices, choice);
    yg_value_t *root = yg_map_new();
    yg_map_set(root, "id", yg_str_newf("chatcmpl-fake-%llu", (unsigned long long)S.seq));
    yg_map_set(root, "object", yg_str_new("chat.completion.chunk"));
    yg_map_set(root, "model", yg_str_new(r->model));
    yg_map_set(root, "choices", choices);
    char *json = json_of(root);
    yg_value_destroy(&root);
    char *chunk = sse_chunk(NULL, json);
    free(json);
    return chunk;
}

static char *sse_value(const char *event, yg_value_t *v)
{
    char *json = json_of(v);
    yg_value_destroy(&v);
    char *chunk = sse_chunk(event, json);
    free(json);
    return chunk;
}

/* Stream events of one reply, without the HTTP header and terminator. */
static void stream_openai(const reply_t *r, plan_t *p)
{
    char **toks;
    if (r->tool) {
        yg_value_t *fn = yg_map_new();
        yg_map_set(fn, "name", yg_str_new(r->tool));
        yg_map_set(fn, "arguments", yg_str_new(""));
        yg_value_t *tc = yg_map_new();
        yg_map_set(tc, "index", yg_int_new(0));
        yg_map_set(tc, "id", yg_str_newf("call_%llu", (unsigned long long)S.seq));
        yg_map_set(tc, "type", yg_str_new("function"));
        yg_map_set(tc, "function", fn);
        yg_value_t *list = yg_list_new();
        yg_list_append(list, tc);
        yg_value_t *delta = yg_map_new();
        yg_map_set(delta, "tool_calls", list);
        plan_add(p, openai_chunk(r, delta, NULL));
        /* Arguments in two pieces, split mid-text. */
        const char *args = r->tool_args ? r->tool_args : "{}";
        size_t half = strlen(args) / 2;
        for (int part = 0; part < 2; part++) {
            fn = yg_map_new();
            yg_map_set(fn, "arguments", part == 0 ? yg_str_newn(args, half) : yg_str_new(args + half));
            tc = yg_map_new();
            yg_map_set(tc, "index", yg_int_new(0));
            yg_map_set(tc, "function", fn);
            list = yg_list_new();
            yg_list_append(list, tc);
            delta = yg_map_new();
            yg_map_set(delta, "tool_calls", list);
            plan_add(p, openai_chunk(r, delta, NULL));
        }
        plan_add(p, openai_chunk(r, yg_map_new(), "tool_calls"));
    } else {
        yg_value_t *delta = yg_map_new();
        yg_map_set(delta, "role", yg_str_new("assistant"));
        yg_map_set(delta, "content", yg_str_new(""));
        plan_add(p, openai_chunk(r, delta, NULL));
        size_t n = split_tokens(r->text, &toks);
        for (size_t i = 0; i < n; i++) {
            delta = yg_map_new();
            yg_map_set(delta, "content", yg_str_new(toks[i]));
            free(toks[i]);
            plan_add(p, openai_chunk(r, delta, NULL));
            if (r->fault == FAULT_ERROR_EVENT) {
                yg_value_t *err = yg_map_new();
                yg_value_t *inner = yg_map_new();
                yg_map_set(inner, "message", yg_str_new("The model is overloaded"));
                yg_map_set(inner, "type", yg_str_new("server_error"));
                yg_map_set(err, "error", inner);
                plan_add(p, sse_value(NULL, err));
                for (size_t j = i + 1; j < n; j++)
                    free(toks[j]);
                free(toks);
                return;
            }
        }
        free(toks);
        plan_add(p, openai_chunk(r, yg_map_new(), "stop"));
    }
    plan_add(p, sse_chunk(NULL, "[DONE]"));
}

static void stream_anthropic(const reply_t *r, plan_t *p)
{
    yg_value_t *msg = yg_map_new();
    yg_map_set(msg, "id", yg_str_newf("msg_fake_%llu", (unsigned long long)S.seq));
    yg_map_set(msg, "type", yg_str_new("message"));
    yg_map_set(msg, "role", yg_str_new("assistant"));
    yg_map_set(msg, "model", yg_str_new(r->model));
    yg_map_set(msg, "content", yg_list_new());
    yg_value_t *start = yg_map_new();
    yg_map_set(start, "type", yg_str_new("message_start"));
    yg_map_set(start, "message", msg);
    plan_add(p, sse_value("message_start", start));

    const char *tool = r->forced_tool ? r->forced_tool : r->tool;
    yg_value_t *block = yg_map_new();
    if (tool) {
        yg_map_set(block, "type", yg_str_new("tool_use"));
        yg_map_set(block, "id", yg_str_newf("toolu_%llu", (unsigned long long)S.seq));
        yg_map_set(block, "name", yg_str_new(tool));
        yg_map_set(block, "input", yg_map_new());
    } else {
        yg_map_set(block, "type", yg_str_new("text"));
        yg_map_set(block, "text", yg_str_new(""));
    }
    yg_value_t *cbs = yg_map_new();
    yg_map_set(cbs, "type", yg_str_new("content_block_start"));
    yg_map_set(cbs, "index", yg_int_new(0));
    yg_map_set(cbs, "content_block", block);
    plan_add(p, sse_value("content_block_start", cbs));
    plan_add(p, sse_chunk("ping", "{\"type\": \"ping\"}"));

    char **toks = NULL;
    size_t n;
    const char *json_args = r->forced_tool ? r->text : r->tool_args ? r->tool_args : "{}";
    if (tool) {
        /* input_json_delta in two pieces split mid-text */
        size_t half = strlen(json_args) / 2;
        toks = xrealloc(NULL, 2 * sizeof *toks);
        toks[0] = strndup(json_args, half);
        toks[1] = xstrdup(json_args + half);
        n = 2;
    } else {
        n = split_tokens(r->text, &toks);
    }
    for (size_t i = 0; i < n; i++) {
        yg_value_t *delta = yg_map_new();
        yg_map_set(delta, "type", yg_str_new(tool ? "input_json_delta" : "text_delta"));
        yg_map_set(delta, tool ? "partial_json" : "text", yg_str_new(toks[i]));
        free(toks[i]);
        yg_value_t *ev = yg_map_new();
        yg_map_set(ev, "type", yg_str_new("content_block_delta"));
        yg_map_set(ev, "index", yg_int_new(0));
        yg_map_set(ev, "delta", delta);
        plan_add(p, sse_value("content_block_delta", ev));
        if (r->fault == FAULT_ERROR_EVENT) {
            plan_add(p, sse_chunk("error", "{\"type\": \"error\", \"error\": {\"type\": "
                                           "\"overloaded_error\", \"message\": \"Overloaded\"}}"));
            for (size_t j = i + 1; j < n; j++)
                free(toks[j]);
            free(toks);
            return;
        }
    }
    free(toks);
    yg_value_t *stop = yg_map_new();
    yg_map_set(stop, "type", yg_str_new("content_block_stop"));
    yg_map_set(stop, "index", yg_int_new(0));
    plan_add(p, sse_value("content_block_stop", stop));
    yg_value_t *md = yg_map_new();
    yg_value_t *d = yg_map_new();
    yg_map_set(d, "stop_reason", yg_str_new(tool ? "tool_use" : "end_turn"));
    yg_map_set(md, "type", yg_str_new("message_delta"));
    yg_map_set(md, "delta", d);
    plan_add(p, sse_value("message_delta", md));
    plan_add(p, sse_chunk("message_stop", "{\"type\": \"message_stop\"}"));
}

/* Build the whole plan for a model request. */
static void build_plan(const reply_t *r, plan_t *p)
{
    const char *ka = r->keep_alive ? "" : "Connection: close\r\n";
    switch (r->fault) {
    case FAULT_429: {
        char hdr[128];
        if (r->retry_after_date) {
            time_t t = time(NULL) + (time_t)r->retry_after;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(hdr, sizeof hdr, "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        } else {
            snprintf(hdr, sizeof hdr, "Retry-After: %g\r\n", r->retry_after);
        }
        char *body = error_body(r, "rate_limit_error", "Rate limit reached for fake-model");
        plan_add(p, full_response(429, hdr, "application/json", body, strlen(body), r->keep_alive));
        free(body);
        return;
    }
    case FAULT_500:
    case FAULT_503: {
        int status = r->fault == FAULT_500 ? 500 : 503;
        char *body = error_body(r, r->api == API_ANTHROPIC ? "api_error" : "server_error",
                                "The server had an error while processing your request");
        plan_add(p, full_response(status, NULL, "application/json", body, strlen(body), r->keep_alive));
        free(body);
        return;
    }
    case FAULT_SLOW_HEADERS:
        plan_add(p, xstrdup("HTTP/1.1 200 OK\r\n"));
        p->stall_at_end = true;
        return;
    default:
        break;
    }
    if (!r->stream) {
        if (r->fault == FAULT_MALFORMED) {
            const char *bad = "{\"id\": \"broken\", \"choices\": [{\"message\": {\"content\": \"x";
            plan_add(p, full_response(200, NULL, "application/json", bad, strlen(bad), r->keep_alive));
            return;
        }
        char *body = r->api == API_OPENAI ? openai_body(r) : anthropic_body(r);
        size_t len = strlen(body);
        if (r->fault == FAULT_DROP) {
            /* Announce the full length, send half, hang up. */
            plan_add(p, fmt("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: %zu\r\n\r\n%.*s", len, (int)(len / 2), body));
            p->close_at_end = true;
        } else {
            plan_add(p, full_response(200, NULL, "application/json", body, len, r->keep_alive));
        }
        free(body);
        return;
    }
    plan_add(p, fmt("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                    "Transfer-Encoding: chunked\r\n%s\r\n", ka));
    if (r->fault == FAULT_MALFORMED) {
        plan_add(p, sse_chunk(r->api == API_ANTHROPIC ? "content_block_delta" : NULL, "{not json"));
    } else if (r->api == API_OPENAI) {
        stream_openai(r, p);
    } else {
        stream_anthropic(r, p);
    }
    if (r->fault == FAULT_DROP) {
        size_t keep = 1 + (size_t)r->drop_after;  /* header + N events */
        while (p->count > keep)
            free(p->segs[--p->count]);
        p->close_at_end = true;
        return;
    }
    plan_add(p, xstrdup("0\r\n\r\n"));
}

static void plan_step(conn_t *c);

static void on_timer(conn_t *c)
{
    plan_step(c);
}

/* Write the next segment(s); finish the request when the plan is done. */
static void plan_step(conn_t *c)
{
    plan_t *p = &c->plan;
    do {
        if (p->next < p->count) {
            conn_write(c, p->segs[p->next], strlen(p->segs[p->next]));
            p->next++;
        }
    } while (p->chunk_ms == 0 && p->next < p->count);
    if (p->next < p->count) {
        conn_flush(c);
        if (!c->closed)
            timer_start(c, p->chunk_ms);
        return;
    }
    if (p->stall_at_end) {
        conn_flush(c);  /* keep busy: the client must give up */
        return;
    }
    if (p->close_at_end)
        c->close_after = true;
    request_done(c);
    plan_free(p);
    conn_flush(c);
}

static fault_t parse_fault(const char *f)
{
    if (!f)
        return FAULT_NONE;
    if (strcmp(f, "429") == 0)
        return FAULT_429;
    if (strcmp(f, "500") == 0)
        return FAULT_500;
    if (strcmp(f, "503") == 0)
        return FAULT_503;
    if (strcmp(f, "slow_headers") == 0)
        return FAULT_SLOW_HEADERS;
    if (strcmp(f, "drop") == 0)
        return FAULT_DROP;
    if (strcmp(f, "malformed") == 0)
        return FAULT_MALFORMED;
    if (strcmp(f, "error_event") == 0)
        return FAULT_ERROR_EVENT;
    return FAULT_NONE;
}

static void remember_last(const char *path, const char *body, size_t body_len,
                          yg_value_t *headers)
{
    yg_value_t *last = yg_map_new();
    yg_map_set(last, "path", yg_str_new(path));
    yg_error_t e = {0};
    yg_value_t *b = yg_json_decode(body, body_len, NULL, &e);
    yg_map_set(last, "body", b ? b : yg_str_newn(body, body_len));
    yg_map_set(last, "headers", headers);
    free(S.last);
    S.last = json_of(last);
    yg_value_destroy(&last);
}

static void model_request(conn_t *c, api_t api, const char *target, const char *query,
                          const char *body, size_t body_len, yg_value_t *headers, bool keep_alive)
{
    S.seq++;
    S.requests++;
    S.inflight++;
    if (S.inflight > S.max_inflight)
        S.max_inflight = S.inflight;
    c->busy = true;
    remember_last(target, body, body_len, headers);

    yg_error_t e = {0};
    yg_value_t *req = yg_json_decode(body, body_len, NULL, &e);
    reply_t r = {0};
    r.api = api;
    r.keep_alive = keep_alive;
    r.stream = yg_value_bool(yg_map_get(req, "stream"));
    r.model = xstrdup(yg_value_str(yg_map_get(req, "model")) ? yg_value_str(yg_map_get(req, "model"))
                                                            : "fake-model");
    char *fault = query_param(query, "fault");
    char *key = query_param(query, "key");
    r.fault = parse_fault(fault);
    int64_t hits = key ? key_hit(key) : 1;
    int64_t fail_times = query_int(query, "fail_times", INT64_MAX, INT64_MAX);
    if (hits > fail_times)
        r.fault = FAULT_NONE;
    char *echo = query_param(query, "echo");
    r.text = echo && strcmp(echo, "1") == 0 ? strndup(body, body_len) : query_param(query, "reply");
    if (!r.text)
        r.text = xstrdup(FAKE_FIXED_REPLY);
    r.tool = query_param(query, "tool");
    if (r.tool && hits > query_int(query, "tool_times", INT64_MAX, INT64_MAX)) {
        free(r.tool);
        r.tool = NULL;
    }
    r.tool_args = query_param(query, "args");
    const yg_value_t *choice = yg_map_get(req, "tool_choice");
    if (api == API_ANTHROPIC && yg_value_str(yg_map_get(choice, "type")) &&
        strcmp(yg_value_str(yg_map_get(choice, "type")), "tool") == 0)
        r.forced_tool = xstrdup(yg_value_str(yg_map_get(choice, "name")));
    r.retry_after = (double)query_int(query, "retry_after", 1, 3600);
    char *rad = query_param(query, "retry_after_date");
    r.retry_after_date = rad && strcmp(rad, "1") == 0;
    r.drop_after = query_int(query, "drop_after", 2, 1000);
    r.chunk_ms = query_int(query, "chunk_ms", 0, FAKE_MAX_DELAY_MS);
    int64_t delay = query_int(query, "delay_ms", 0, FAKE_MAX_DELAY_MS);
    /* slow_if=TEXT&slow_ms=N: requests whose body contains TEXT are held N ms
     * instead (one slow request among many fast ones, same endpoint). */
    char *slow_if = query_param(query, "slow_if");
    if (slow_if && slow_if[0] && memmem(body, body_len, slow_if, strlen(slow_if)))
        delay = query_int(query, "slow_ms", 0, FAKE_MAX_DELAY_MS);
    free(slow_if);

    plan_free(&c->plan);
    build_plan(&r, &c->plan);
    c->plan.chunk_ms = r.chunk_ms;
    free(fault);
    free(key);
    free(echo);
    free(rad);
    free(r.model);
    free(r.text);
    free(r.tool);
    free(r.tool_args);
    free(r.forced_tool);
    yg_value_destroy(&req);
    if (delay > 0)
        timer_start(c, delay);
    else
        plan_step(c);
}

static void simple_reply(conn_t *c, int status, const char *json, bool keep_alive)
{
    char *resp = full_response(status, NULL, "application/json", json, strlen(json), keep_alive);
    conn_write(c, resp, strlen(resp));
    free(resp);
    if (!keep_alive)
        c->close_after = true;
    conn_flush(c);
}

static void stats_reply(conn_t *c, bool keep_alive)
{
    char *json = fmt("{\"inflight\": %lld, \"max_inflight\": %lld, \"requests\": %lld, "
                     "\"cpu_ms\": %.3f, \"connections\": %lld, \"accepted\": %lld, "
                     "\"client_aborts\": %lld}",
                     (long long)S.inflight, (long long)S.max_inflight, (long long)S.requests,
                     cpu_ms() - S.cpu_base_ms, (long long)S.connections, (long long)S.accepted,
                     (long long)S.client_aborts);
    simple_reply(c, 200, json, keep_alive);
    free(json);
}

/* Header value (trimmed) of `name` within the header block, malloc'd or NULL. */
static char *header_value(const char *headers, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = headers;
    const char *end = headers + len;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            return strndup(v, (size_t)(ve - v));
        }
        p = eol + 2;
    }
    return NULL;
}

/* Parse and serve one request if complete; returns true if one was consumed. */
static bool serve_one(conn_t *c)
{
    if (c->busy || c->closed || c->close_after)
        return false;
    char *hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!hend) {
        if (c->in_len > FAKE_MAX_HEADER) {
            simple_reply(c, 413, "{\"error\": {\"message\": \"headers too large\"}}", false);
            c->in_len = 0;
        }
        return false;
    }
    size_t head_len = (size_t)(hend - c->in) + 4;
    const char *line_end = memmem(c->in, head_len, "\r\n", 2);
    char method[16] = "", target[4096] = "";
    char *line = strndup(c->in, (size_t)(line_end - c->in));
    int fields = sscanf(line, "%15s %4095s", method, target);
    free(line);
    const char *hdrs = line_end + 2;
    size_t hdrs_len = head_len - (size_t)(hdrs - c->in);
    char *cl = header_value(hdrs, hdrs_len, "content-length");
    long long body_len = cl ? strtoll(cl, NULL, 10) : 0;
    free(cl);
    if (fields != 2 || body_len < 0 || body_len > FAKE_MAX_BODY) {
        simple_reply(c, 400, "{\"error\": {\"message\": \"bad request\"}}", false);
        c->in_len = 0;
        return false;
    }
    if (c->in_len < head_len + (size_t)body_len)
        return false;
    char *conn_hdr = header_value(hdrs, hdrs_len, "connection");
    bool keep_alive = !(conn_hdr && strcasecmp(conn_hdr, "close") == 0);
    free(conn_hdr);
    const char *body = c->in + head_len;

    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    if (strcmp(method, "POST") == 0 &&
        (strcmp(target, "/v1/chat/completions") == 0 || strcmp(target, "/v1/messages") == 0 ||
         strcmp(target, "/chat/completions") == 0)) {
        yg_value_t *h = yg_map_new();
        static const char *const keep[] = {"authorization", "x-api-key", "anthropic-version",
                                           "content-type", "accept"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
            char *v = header_value(hdrs, hdrs_len, keep[i]);
            if (v)
                yg_map_set(h, keep[i], yg_str_new(v));
            free(v);
        }
        c->close_after = !keep_alive;  /* closed once the reply is written */
        model_request(c, strcmp(target, "/v1/messages") == 0 ? API_ANTHROPIC : API_OPENAI, target,
                      query, body, (size_t)body_len, h, keep_alive);
    } else if (strcmp(method, "GET") == 0 && strcmp(target, "/stats") == 0) {
        stats_reply(c, keep_alive);
    } else if (strcmp(method, "POST") == 0 && strcmp(target, "/reset") == 0) {
        S.requests = 0;
        S.max_inflight = S.inflight;
        S.accepted = 0;
        S.client_aborts = 0;
        S.cpu_base_ms = cpu_ms();
        keys_clear();
        simple_reply(c, 200, "{\"ok\": true}", keep_alive);
    } else if (strcmp(method, "GET") == 0 && strcmp(target, "/last") == 0) {
        simple_reply(c, 200, S.last ? S.last : "{}", keep_alive);
    } else {
        simple_reply(c, 404, "{\"error\": {\"message\": \"not found\"}}", keep_alive);
    }
    /* Consume the request bytes. */
    size_t used = head_len + (size_t)body_len;
    if (!c->closed) {
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
    }
    return !c->closed;
}

static void conn_readable(conn_t *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < FAKE_READ_CHUNK) {
            if (c->in_cap > FAKE_MAX_HEADER + FAKE_MAX_BODY) {
                conn_close(c);
                return;
            }
            c->in_cap = c->in_cap ? c->in_cap * 2 : FAKE_READ_CHUNK * 2;
            c->in = xrealloc(c->in, c->in_cap);
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_close(c);  /* EOF or error: the client went away */
        return;
    }
    while (serve_one(c)) {
    }
}

static void accept_all(void)
{
    for (;;) {
        int fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                perror("fake_llm_server: accept");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_t *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->heap_index = SIZE_MAX;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c);
            continue;
        }
        S.connections++;
        S.accepted++;
    }
}

static void run_timers(void)
{
    int64_t now = now_ms();
    while (S.heap_size > 0 && S.heap[0]->when <= now) {
        conn_t *c = S.heap[0];
        timer_cancel(c);
        on_timer(c);
        if (!c->closed && !c->busy)
            while (serve_one(c)) {
            }
    }
}

static int listen_on(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "fake_llm_server: bad host %s\n", host);
        close(fd);
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, FAKE_BACKLOG) != 0) {
        perror("fake_llm_server: bind/listen");
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = FAKE_DEFAULT_PORT;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
            host = argv[++i];
        else {
            fprintf(stderr, "usage: fake_llm_server [--host ADDR] [--port N]\n");
            return 2;
        }
    }
    /* Up to the hard limit: 10,000 concurrent connections need the fds. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    S.lfd = listen_on(host, port);
    S.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (S.lfd < 0 || S.epfd < 0)
        return 1;
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.lfd, &lev);
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    getsockname(S.lfd, (struct sockaddr *)&bound, &blen);
    S.cpu_base_ms = cpu_ms();
    printf("%d\n", ntohs(bound.sin_port));
    fflush(stdout);

    struct epoll_event events[FAKE_EPOLL_BATCH];
    while (!g_stop) {
        int timeout = -1;
        if (S.heap_size > 0) {
            int64_t d = S.heap[0]->when - now_ms();
            timeout = d < 0 ? 0 : (int)d;
        }
        int n = epoll_wait(S.epfd, events, FAKE_EPOLL_BATCH, timeout);
        if (n < 0 && errno != EINTR) {
            perror("fake_llm_server: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = events[i].data.ptr;
            if (!c) {
                accept_all();
                continue;
            }
            if (c->closed)
                continue;
            if (events[i].events & EPOLLOUT)
                conn_flush(c);
            if (!c->closed && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                conn_readable(c);
            if (!c->closed && !c->busy && c->out_len == 0)
                while (serve_one(c)) {
                }
        }
        run_timers();
        conn_free_closed();
    }
    close(S.lfd);
    close(S.epfd);
    free(S.heap);
    free(S.last);
    keys_clear();
    return 0;
}
