/*
 * testutil_ckpt.h - the harness of the checkpoint store suites
 * (test_checkpoint, test_ckpt_redis, test_ckpt_crash): callbacks that
 * record completions in a ctx_t, a zloop run until they all came, and
 * synchronous wrappers, checkpoint builders and a deep comparison.
 *
 * Header-only (static functions).  A suite may define WAIT_TIMEOUT_MS
 * before including it (default 10 s).  Loops and actors are created inside
 * each test (after Check's fork).
 */
#ifndef YG_TESTUTIL_CKPT_H
#define YG_TESTUTIL_CKPT_H

#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yg_checkpoint.h"

#ifndef WAIT_TIMEOUT_MS
/* Longest a test waits for completions before failing. */
#define WAIT_TIMEOUT_MS 10000
#endif

/* What the callbacks record. */
typedef struct {
    int pending;
    int calls;
    int status;
    int errors;
    int closed; /* completions with YG_ECLOSED */
    char message[YG_ERROR_MESSAGE_MAX];
    yg_checkpoint_t *loaded;
    yg_value_t *history;
    int order[64]; /* tags of completed operations, in completion order */
    int norder;
} ctx_t;

/* Per-operation argument: the context plus a tag for ordering checks. */
typedef struct {
    ctx_t *ctx;
    int tag;
} op_t;

static inline void note(ctx_t *ctx, int status, const yg_error_t *err)
{
    ctx->pending--;
    ctx->calls++;
    ctx->status = status;
    if (status != YG_OK) {
        ctx->errors++;
        if (status == YG_ECLOSED)
            ctx->closed++;
        snprintf(ctx->message, sizeof ctx->message, "%s", err ? err->message : "");
    }
}

static inline void on_done(int status, const yg_error_t *err, void *arg)
{
    note(arg, status, err);
}

static inline void on_load(int status, yg_checkpoint_t *ckpt, const yg_error_t *err, void *arg)
{
    ctx_t *ctx = arg;
    note(ctx, status, err);
    yg_checkpoint_destroy(&ctx->loaded);
    ctx->loaded = ckpt;
}

static inline void on_list(int status, yg_value_t *history, const yg_error_t *err, void *arg)
{
    ctx_t *ctx = arg;
    note(ctx, status, err);
    yg_value_destroy(&ctx->history);
    ctx->history = history;
}

static inline void on_done_tagged(int status, const yg_error_t *err, void *arg)
{
    op_t *op = arg;
    note(op->ctx, status, err);
    if (op->ctx->norder < 64)
        op->ctx->order[op->ctx->norder++] = op->tag;
}

static inline void on_load_tagged(int status, yg_checkpoint_t *ckpt, const yg_error_t *err,
                                  void *arg)
{
    op_t *op = arg;
    yg_checkpoint_destroy(&ckpt);
    on_done_tagged(status, err, op);
}

static inline void on_list_tagged(int status, yg_value_t *history, const yg_error_t *err,
                                  void *arg)
{
    op_t *op = arg;
    yg_value_destroy(&history);
    on_done_tagged(status, err, op);
}

static inline int poll_pending(zloop_t *loop, int timer_id, void *arg)
{
    return ((ctx_t *)arg)->pending <= 0 ? -1 : 0;
}

static inline int give_up(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

/* Run loop until every pending operation of ctx completed (or time out). */
static inline void wait_all(zloop_t *loop, ctx_t *ctx)
{
    if (ctx->pending <= 0)
        return;
    int poll = zloop_timer(loop, 1, 0, poll_pending, ctx);
    int limit = zloop_timer(loop, WAIT_TIMEOUT_MS, 1, give_up, NULL);
    zloop_start(loop);
    zloop_timer_end(loop, poll);
    zloop_timer_end(loop, limit);
    ck_assert_msg(ctx->pending == 0, "%d operations did not complete", ctx->pending);
}

static inline void ctx_reset(ctx_t *ctx)
{
    yg_checkpoint_destroy(&ctx->loaded);
    yg_value_destroy(&ctx->history);
    memset(ctx, 0, sizeof *ctx);
}

static inline const char *store_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s.ygc", testutil_temp_dir(), name);
    return path;
}

static inline yg_value_t *json(const char *text)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(text, strlen(text), NULL, &err);
    ck_assert_msg(v != NULL, "bad test JSON %s: %s", text, err.message);
    return v;
}

/* A checkpoint of thread/ns at step with the given state JSON and parent. */
static inline yg_checkpoint_t *make_ckpt(const char *thread, const char *ns, int64_t step,
                                  const char *state, const char *parent_id)
{
    yg_checkpoint_t *c = yg_checkpoint_new(thread, ns);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(yg_checkpoint_assign_id(c), YG_OK);
    c->step = step;
    free(c->source);
    c->source = strdup(step < 0 ? YG_CKPT_SOURCE_INPUT : YG_CKPT_SOURCE_LOOP);
    if (parent_id)
        c->parent_id = strdup(parent_id);
    yg_value_destroy(&c->values);
    c->values = json(state);
    return c;
}

/* Save c and wait; returns its status (message, when given, its error). */
static inline int save_status(yg_ckpt_t *store, zloop_t *loop, const yg_checkpoint_t *c,
                       char *message, size_t size)
{
    ctx_t ctx = {.pending = 1};
    ck_assert_int_eq(yg_ckpt_save(store, c, on_done, &ctx), YG_OK);
    wait_all(loop, &ctx);
    if (message)
        snprintf(message, size, "%s", ctx.message);
    return ctx.status;
}

static inline void save_sync(yg_ckpt_t *store, zloop_t *loop, const yg_checkpoint_t *c)
{
    char message[YG_ERROR_MESSAGE_MAX];
    int status = save_status(store, loop, c, message, sizeof message);
    ck_assert_msg(status == YG_OK, "save failed: %s", message);
}

/* Load (latest when id is NULL); returns the checkpoint or NULL with *status. */
static inline yg_checkpoint_t *load_sync(yg_ckpt_t *store, zloop_t *loop, const char *thread,
                                  const char *ns, const char *id, int *status)
{
    ctx_t ctx = {.pending = 1};
    int rc = id ? yg_ckpt_load(store, thread, ns, id, on_load, &ctx)
                : yg_ckpt_load_latest(store, thread, ns, on_load, &ctx);
    ck_assert_int_eq(rc, YG_OK);
    wait_all(loop, &ctx);
    if (status)
        *status = ctx.status;
    yg_checkpoint_t *loaded = ctx.loaded;
    ctx.loaded = NULL;
    return loaded;
}

static inline yg_value_t *list_sync(yg_ckpt_t *store, zloop_t *loop, const char *thread,
                             const char *ns, size_t limit)
{
    ctx_t ctx = {.pending = 1};
    ck_assert_int_eq(yg_ckpt_list(store, thread, ns, limit, on_list, &ctx), YG_OK);
    wait_all(loop, &ctx);
    ck_assert_msg(ctx.status == YG_OK, "list failed: %s", ctx.message);
    return ctx.history;
}

static inline int delete_sync(yg_ckpt_t *store, zloop_t *loop, const char *thread)
{
    ctx_t ctx = {.pending = 1};
    ck_assert_int_eq(yg_ckpt_delete_thread(store, thread, on_done, &ctx), YG_OK);
    wait_all(loop, &ctx);
    return ctx.status;
}

static inline bool str_eq_null(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every field of two checkpoints agrees (values compared deeply). */
static inline void assert_same_ckpt(const yg_checkpoint_t *a, const yg_checkpoint_t *b)
{
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(a->thread_id, b->thread_id);
    ck_assert_str_eq(a->ns ? a->ns : "", b->ns ? b->ns : "");
    ck_assert_str_eq(a->id, b->id);
    ck_assert_msg(str_eq_null(a->parent_id, b->parent_id), "parent %s vs %s", a->parent_id,
                  b->parent_id);
    ck_assert_int_eq(a->step, b->step);
    ck_assert_str_eq(a->source ? a->source : "loop", b->source ? b->source : "loop");
    ck_assert_str_eq(a->graph_hash, b->graph_hash);
    if (a->created_at_ms && b->created_at_ms)
        ck_assert_int_eq(a->created_at_ms, b->created_at_ms);
    char *ja = yg_json_encode(a->values, false, NULL), *jb = yg_json_encode(b->values, false, NULL);
    ck_assert_msg(yg_value_equal(a->values, b->values), "values %s vs %s", ja, jb);
    free(ja);
    free(jb);
    ck_assert(yg_value_equal(a->next, b->next));
    ck_assert(yg_value_equal(a->tasks, b->tasks));
    ck_assert(yg_value_equal(a->writes, b->writes));
    ck_assert(yg_value_equal(a->interrupts, b->interrupts));
    ck_assert(yg_value_equal(a->meta, b->meta));
}

/* A checkpoint using every field: interrupts, tasks, writes, meta. */
static inline yg_checkpoint_t *make_full_ckpt(const char *thread, const char *parent_id)
{
    yg_checkpoint_t *c = make_ckpt(thread, "", 3,
                                   "{\"question\":\"q1\",\"answers\":[1,2.5,null,true],"
                                   "\"nested\":{\"a\":{\"b\":\"\\u00e9\"}}}",
                                   parent_id);
    free(c->source);
    c->source = strdup(YG_CKPT_SOURCE_RESUME);
    c->created_at_ms = 1700000000123;
    memset(c->graph_hash, 'a', 64);
    c->graph_hash[64] = '\0';
    c->next = json("[\"ask\"]");
    c->tasks = json("[{\"node\":\"ask\",\"id\":\"t1\"},"
                    "{\"node\":\"worker\",\"payload\":{\"item\":3},\"map_index\":3,\"id\":\"t2\"}]");
    c->writes = json("[{\"task\":\"t0\",\"update\":{\"x\":1}}]");
    c->interrupts = json("[{\"id\":\"t1:0\",\"node\":\"ask\",\"value\":{\"question\":\"q1\"}}]");
    c->meta = json("{\"run_id\":\"r-1\",\"status\":\"interrupted\"}");
    return c;
}

#endif
