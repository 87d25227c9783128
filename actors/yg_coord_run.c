/*
 * yg_coord_run.c - the run life cycle (spec 3.1, 9.3, 9.4, 9.5).
 *
 *   start:  [load latest checkpoint] -> merge input -> START tasks
 *           -> [save "input" checkpoint] -> step
 *   resume: load latest checkpoint -> restore the unfinished step (kept
 *           writes, interrupted tasks get their resume value) -> step
 *   step:   dispatch every pending task -> collect results -> merge in
 *           task order -> edges -> [save checkpoint] -> next step
 *           (durability sync: the next step waits for the save; async: it
 *           starts at once and the run's reply waits for every save,
 *           docs/checkpoints.md "Durability")
 *   pause:  a task interrupted -> commit interrupt_output_mapping values,
 *           save tasks + writes + interrupts -> reply "interrupted"
 *
 * Checkpoint callbacks and node results find their run by id, never by
 * pointer: a run may be cancelled while a save is outstanding.
 */
#include "yg_coord_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTERRUPT_PAYLOAD_KEY "__interrupt_payload__"

typedef enum {
    AFTER_DISPATCH = 0,
    AFTER_COMPLETE,
    AFTER_INTERRUPT,
    AFTER_ERROR,
    AFTER_STEPLIMIT
} after_save_t;

typedef struct run_ctx {
    coord_t *self;
    uint64_t run_id;
    after_save_t after;
    yg_value_t *error;     /* AFTER_ERROR: {code, message} */
    yg_ckpt_t *store;      /* saves: the store counted in coord->save_seqs */
    bool async;            /* a save the run did not wait for */
} run_ctx_t;

static void dispatch_step(coord_t *self, coord_run_t *run);
static void cancel_tasks(coord_t *self, coord_run_t *run);
static void finish_step(coord_t *self, coord_run_t *run);
static void reply_final(coord_t *self, coord_run_t *run, const char *status, int code,
                        const char *message, yg_value_t *interrupts);

static void map_put(yg_value_t *m, const char *k, yg_value_t *v)
{
    if (!m || !v || yg_map_set(m, k, v) != YG_OK)
        yg_value_destroy(&v);
}

static yg_value_t *str_or_null(const char *s)
{
    return s ? yg_str_new(s) : yg_null_new();
}

/* A shallow copy of a map: new map, shared values. */
static yg_value_t *shallow_copy(const yg_value_t *map)
{
    yg_value_t *out = yg_map_new();
    for (size_t i = 0; out && i < yg_map_size(map); i++)
        if (yg_map_set(out, yg_map_key_at(map, i), yg_value_ref(yg_map_value_at(map, i))) != YG_OK)
            yg_value_destroy(&out);
    return out;
}

static yg_value_t *error_map(int code, const char *message, const char *node)
{
    yg_value_t *e = yg_map_new();
    map_put(e, "code", yg_int_new(code));
    map_put(e, "type", yg_str_new(yg_strerror(code)));
    map_put(e, "message", yg_str_new(message ? message : ""));
    if (node)
        map_put(e, "node", yg_str_new(node));
    return e;
}

/* Decimal text of id into buf (24 bytes): the runs table key, the same as
 * "%" PRIu64 without a printf per result message. */
static const char *run_key(uint64_t id, char *buf)
{
    char *p = buf + 23;
    *p = '\0';
    do {
        *--p = (char)('0' + id % 10);
        id /= 10;
    } while (id);
    return p;
}

coord_run_t *coord_run_find(coord_t *self, uint64_t id)
{
    char key[24];
    return zhashx_lookup(self->runs, run_key(id, key));
}

static const yg_node_t *task_node(const coord_run_t *run, const coord_task_t *t)
{
    return run->cg->graph->nodes[t->node_index];
}

/* The user-facing name of a task's node (the map node for map items). */
static const char *task_display_name(const coord_run_t *run, const coord_task_t *t)
{
    if (t->map_node != COORD_NO_INDEX)
        return run->cg->graph->nodes[t->map_node]->name;
    return task_node(run, t)->name;
}

void coord_run_destroy(coord_t *self, coord_run_t **run_p)
{
    coord_run_t *run = *run_p;
    if (!run)
        return;
    if (run->busy_key) {
        if (zhashx_lookup(self->threads, run->busy_key) == run)
            zhashx_delete(self->threads, run->busy_key);
        free(run->busy_key);
    }
    if (run->drain_handle) {
        zlistx_delete(self->draining, run->drain_handle);
        run->drain_handle = NULL;
    }
    free(run->final.status);
    free(run->final.message);
    yg_value_destroy(&run->final.interrupts);
    free(run->save_message);
    coord_tasks_free(&run->tasks, run->ntasks);
    yg_value_destroy(&run->state);
    yg_value_destroy(&run->input);
    yg_value_destroy(&run->resume_value);
    zframe_destroy(&run->client);
    free(run->thread);
    free(run->ns);
    free(run->last_ckpt_id);
    char key[24];
    snprintf(key, sizeof key, "%" PRIu64, run->id);
    if (zhashx_lookup(self->runs, key) == run)
        zhashx_delete(self->runs, key); /* no destructor: we free below */
    free(run);
    *run_p = NULL;
}

/* ---- events ----------------------------------------------------------------- */

/* Whether anyone listens to this run's events: when nobody does (the
 * common case), the hot paths do not even build them. */
static bool wants_events(coord_t *self, const coord_run_t *run)
{
    while (run && run->is_child)
        run = coord_run_find(self, run->parent_run);
    return run && run->subscribed;
}

void coord_run_emit(coord_t *self, coord_run_t *run, const char *kind, yg_value_t *data)
{
    coord_run_t *root = run;
    while (root && root->is_child)
        root = coord_run_find(self, root->parent_run);
    if (!root || !root->subscribed || !data) {
        yg_value_destroy(&data);
        return;
    }
    map_put(data, YG_MSG_TYPE, yg_str_new("event"));
    map_put(data, "req", yg_int_new(root->req));
    map_put(data, "kind", yg_str_new(kind));
    map_put(data, "run", yg_str_new(run->id_str));
    map_put(data, "thread", str_or_null(run->thread));
    if (run->is_child) /* events of a subgraph run name its thread <parent>:<node> */
        map_put(data, "ns", str_or_null(run->thread));
    map_put(data, "seq", yg_int_new((int64_t)++root->seq));
    coord_send_api(self, root->client, data);
}

void coord_run_on_event(coord_t *self, const yg_value_t *msg)
{
    coord_run_t *run = coord_run_find(self, (uint64_t)yg_value_int(yg_map_get(msg, "run")));
    if (!run || run->phase != RUN_STEPPING)
        return;
    const char *kind = yg_value_str(yg_map_get(msg, "kind"));
    yg_value_t *data = yg_map_new();
    map_put(data, "node", yg_value_ref(yg_map_get(msg, "node")));
    map_put(data, "text", yg_value_ref(yg_map_get(msg, "text")));
    coord_run_emit(self, run, kind && strcmp(kind, "log") == 0 ? "log" : "token", data);
}

/* ---- replies ------------------------------------------------------------------ */

void coord_reply_error(coord_t *self, zframe_t *client, int64_t req, int code, const char *fmt, ...)
{
    char message[YG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    yg_value_t *reply = yg_map_new();
    map_put(reply, YG_MSG_TYPE, yg_str_new("error"));
    map_put(reply, "req", yg_int_new(req));
    map_put(reply, "status", yg_str_new("error"));
    map_put(reply, "error", error_map(code, message, NULL));
    coord_send_api(self, client, reply);
}

/* Send the run's outcome to whoever asked, emit run_end, destroy the run.
 * A save that failed turns a completed or interrupted outcome into that
 * error (nothing unsaved is acknowledged). */
static void send_final(coord_t *self, coord_run_t *run, const char *status, int code,
                       const char *message, yg_value_t *interrupts)
{
    char text[YG_ERROR_MESSAGE_MAX];
    if (run->save_error && !run->save_reported && code == YG_OK) {
        snprintf(text, sizeof text, "checkpoint save failed: %s",
                 run->save_message ? run->save_message : yg_strerror(run->save_error));
        status = "error";
        code = run->save_error;
        message = text;
        yg_value_destroy(&interrupts);
        coord_log(self, YG_LOG_INFO, "run %s failed: %s", run->id_str, message);
        yg_value_t *e = yg_map_new();
        map_put(e, "node", yg_null_new());
        map_put(e, "record", error_map(code, message, NULL));
        coord_run_emit(self, run, "error", e);
    } else if (run->save_error && !run->save_reported && message) {
        snprintf(text, sizeof text, "%s (a checkpoint save failed too: %s)", message,
                 run->save_message ? run->save_message : yg_strerror(run->save_error));
        message = text;
    }
    if (!interrupts)
        interrupts = yg_list_new();
    if (wants_events(self, run)) {
        yg_value_t *end = yg_map_new();
        map_put(end, "status", yg_str_new(status));
        coord_run_emit(self, run, "run_end", end);
    }
    yg_value_t *reply = yg_map_new();
    if (run->is_child) {
        map_put(reply, YG_MSG_TYPE, yg_str_new(YG_MSG_CHILD_DONE));
        map_put(reply, "run", yg_int_new((int64_t)run->parent_run));
        map_put(reply, "task", yg_int_new((int64_t)run->parent_task));
    } else {
        map_put(reply, YG_MSG_TYPE, yg_str_new(code == YG_OK ? "result" : "error"));
        map_put(reply, "req", yg_int_new(run->req));
        map_put(reply, "run", yg_str_new(run->id_str));
        map_put(reply, "thread", str_or_null(run->thread));
        map_put(reply, "step", yg_int_new(run->step));
    }
    map_put(reply, "status", yg_str_new(status));
    map_put(reply, "state", run->state ? shallow_copy(run->state) : yg_map_new());
    map_put(reply, "interrupts", interrupts);
    if (code != YG_OK)
        map_put(reply, "error", error_map(code, message, NULL));
    if (run->is_child)
        coord_send_node(self, run->client, reply);
    else
        coord_send_api(self, run->client, reply);
    run->phase = RUN_FINISHED;
    coord_run_destroy(self, &run);
}

/* Whether a save of the run (or of its children) has not completed yet. */
static bool saves_pending(coord_t *self, const coord_run_t *run)
{
    if (!run->store || run->save_ticket == 0)
        return false;
    const coord_save_seq_t *seq = zhashx_lookup(self->save_seqs, run->store);
    return seq && seq->done < run->save_ticket;
}

/* The run's outcome: sent at once, or held (RUN_DRAINING) until every save
 * it started has completed, so that nothing acknowledged can be lost and
 * the next run of the thread reads this run's last checkpoint. */
static void reply_final(coord_t *self, coord_run_t *run, const char *status, int code,
                        const char *message, yg_value_t *interrupts)
{
    if (self->terminating || !saves_pending(self, run)) {
        send_final(self, run, status, code, message, interrupts);
        return;
    }
    coord_final_t held = { .status = strdup(status),
                           .code = code,
                           .message = message ? strdup(message) : NULL,
                           .interrupts = interrupts };
    void *handle = run->drain_handle ? run->drain_handle : zlistx_add_end(self->draining, run);
    if (!held.status || (message && !held.message) || !handle) {
        free(held.status);
        free(held.message);
        coord_log(self, YG_LOG_ERROR, "run %s: out of memory holding its reply", run->id_str);
        send_final(self, run, status, code, message, interrupts);
        return;
    }
    free(run->final.status);
    free(run->final.message);
    yg_value_destroy(&run->final.interrupts);
    run->final = held;
    run->drain_handle = handle;
    run->phase = RUN_DRAINING;
}

/* Send the held replies of the runs on `store` whose saves all completed. */
static void release_drained(coord_t *self, yg_ckpt_t *store)
{
    bool sent = true;
    while (sent && zlistx_size(self->draining) > 0) {
        sent = false;
        for (coord_run_t *r = zlistx_first(self->draining); r; r = zlistx_next(self->draining)) {
            if (r->store != store || saves_pending(self, r))
                continue;
            coord_final_t f = r->final;
            r->final = (coord_final_t){ 0 };
            send_final(self, r, f.status, f.code, f.message, f.interrupts); /* frees r */
            free(f.status);
            free(f.message);
            sent = true;
            break; /* the list changed */
        }
    }
}

void coord_run_fail(coord_t *self, coord_run_t *run, int code, const char *fmt, ...)
{
    char message[YG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    coord_log(self, YG_LOG_INFO, "run %s failed: %s", run->id_str, message);
    yg_value_t *e = yg_map_new();
    map_put(e, "node", yg_null_new());
    map_put(e, "record", error_map(code, message, NULL));
    coord_run_emit(self, run, "error", e);
    reply_final(self, run, "error", code, message, NULL);
}

/* ---- checkpoints ---------------------------------------------------------------- */

static run_ctx_t *ctx_new(coord_t *self, coord_run_t *run, after_save_t after)
{
    run_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->self = self;
        ctx->run_id = run->id;
        ctx->after = after;
    }
    return ctx;
}

static void ctx_free(run_ctx_t *ctx)
{
    if (ctx) {
        yg_value_destroy(&ctx->error);
        free(ctx);
    }
}

static void task_id(const coord_run_t *run, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRId64 ":%zu", run->step + 1, i);
}

/* Interrupt id: node task (step, index) and the interrupt's index in it. */
static void interrupt_id(const coord_run_t *run, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%s:%" PRId64 ":%zu:0", task_display_name(run, &run->tasks[i]),
             run->step + 1, i);
}

/* Tasks of the current step as a checkpoint list. */
static yg_value_t *tasks_value(const coord_run_t *run, yg_value_t **writes_out,
                               yg_value_t **interrupts_out, yg_value_t **next_out)
{
    yg_value_t *tasks = yg_list_new(), *writes = yg_list_new(), *ints = yg_list_new();
    yg_value_t *next = yg_list_new();
    for (size_t i = 0; tasks && i < run->ntasks; i++) {
        const coord_task_t *t = &run->tasks[i];
        char id[64], iid[600];
        task_id(run, i, id, sizeof id);
        yg_value_t *tv = yg_map_new();
        map_put(tv, "id", yg_str_new(id));
        map_put(tv, "node", yg_str_new(task_node(run, t)->name));
        if (t->map_node != COORD_NO_INDEX) {
            map_put(tv, "map_node", yg_str_new(run->cg->graph->nodes[t->map_node]->name));
            map_put(tv, "map_index", yg_int_new(t->map_index));
            map_put(tv, "payload", coord_task_payload(run, t));
        }
        bool named = false;
        for (size_t k = 0; k < yg_list_size(next); k++)
            if (strcmp(yg_value_str(yg_list_get(next, k)), task_display_name(run, t)) == 0)
                named = true;
        if (!named)
            yg_list_append(next, yg_str_new(task_display_name(run, t)));
        if (t->state == TASK_OK) {
            yg_value_t *w = yg_map_new();
            map_put(w, "task", yg_str_new(id));
            map_put(w, "update", t->update ? yg_value_ref(t->update) : yg_map_new());
            yg_list_append(writes, w);
        } else if (t->state == TASK_INTERRUPT) {
            interrupt_id(run, i, iid, sizeof iid);
            map_put(tv, "interrupt_id", yg_str_new(iid));
            map_put(tv, "interrupt", yg_value_ref(t->interrupt));
            yg_value_t *iv = yg_map_new();
            map_put(iv, "id", yg_str_new(iid));
            map_put(iv, "node", yg_str_new(task_display_name(run, t)));
            map_put(iv, "value", t->interrupt ? yg_value_ref(t->interrupt) : yg_null_new());
            yg_list_append(ints, iv);
        }
        yg_list_append(tasks, tv);
    }
    *writes_out = writes;
    *interrupts_out = ints;
    *next_out = next;
    return tasks;
}

static void on_saved(int status, const yg_error_t *err, void *arg);

/* A save numbered `ticket` was started for run: the run and its ancestors
 * (children save into their parent's store) reply only after it. */
static void note_save(coord_t *self, coord_run_t *run, uint64_t ticket)
{
    yg_ckpt_t *store = run->store;
    for (coord_run_t *r = run; r && r->store == store;
         r = r->is_child ? coord_run_find(self, r->parent_run) : NULL)
        if (r->save_ticket < ticket)
            r->save_ticket = ticket;
}

/* Save the run's checkpoint; `with_tasks` stores the current step's tasks
 * (pending / kept writes / interrupts).  Without a store, continues
 * directly. */
static void save_and_continue(coord_t *self, coord_run_t *run, const char *source,
                              after_save_t after, yg_value_t *error)
{
    run_ctx_t *ctx = ctx_new(self, run, after);
    if (!ctx) {
        yg_value_destroy(&error);
        coord_run_fail(self, run, YG_ENOMEM, "out of memory");
        return;
    }
    ctx->error = error;
    if (!run->store) {
        on_saved(YG_OK, NULL, ctx);
        return;
    }
    yg_checkpoint_t *ck = yg_checkpoint_new(run->thread, run->ns);
    yg_value_t *writes = NULL, *ints = NULL, *next = NULL;
    yg_value_t *tasks = ck ? tasks_value(run, &writes, &ints, &next) : NULL;
    int rc = YG_ENOMEM;
    yg_error_t serr = { 0 };
    if (ck && tasks && writes && ints && next) {
        ck->step = run->step;
        free(ck->source);
        ck->source = strdup(source);
        snprintf(ck->graph_hash, sizeof ck->graph_hash, "%s", run->cg->graph->hash_hex);
        yg_value_destroy(&ck->values);
        ck->values = shallow_copy(run->state);
        ck->tasks = tasks;
        ck->writes = writes;
        ck->interrupts = ints;
        ck->next = next;
        tasks = writes = ints = next = NULL;
        ck->meta = yg_map_new();
        map_put(ck->meta, "run", yg_str_new(run->id_str));
        map_put(ck->meta, "graph", yg_str_new(run->cg->graph->name ? run->cg->graph->name : ""));
        map_put(ck->meta, "status", yg_str_new(after == AFTER_INTERRUPT ? "interrupted"
                                               : after == AFTER_ERROR     ? "error"
                                               : after == AFTER_COMPLETE  ? "completed"
                                                                          : "running"));
        /* how this checkpoint was written (docs/checkpoints.md "Durability") */
        map_put(ck->meta, "durability", yg_str_new(run->async_saves ? "async" : "sync"));
        if (run->last_ckpt_id)
            ck->parent_id = strdup(run->last_ckpt_id);
        coord_save_seq_t *seq = coord_save_seq(self, run->store);
        rc = seq ? yg_checkpoint_assign_id(ck) : YG_ENOMEM;
        if (rc == YG_OK && ck->values && ck->source)
            rc = yg_ckpt_save(run->store, ck, on_saved, ctx);
        else if (rc == YG_OK)
            rc = YG_ENOMEM;
        if (rc == YG_OK) {
            free(run->last_ckpt_id);
            run->last_ckpt_id = strdup(ck->id);
            ctx->store = run->store;
            note_save(self, run, ++seq->issued);
        } else {
            yg_error_set(&serr, rc, "checkpoint save refused: %s", yg_strerror(rc));
        }
    }
    yg_value_destroy(&tasks);
    yg_value_destroy(&writes);
    yg_value_destroy(&ints);
    yg_value_destroy(&next);
    yg_checkpoint_destroy(&ck);
    if (rc != YG_OK) {
        ctx_free(ctx);
        coord_run_fail(self, run, rc, "cannot save checkpoint: %s", yg_strerror(rc));
        return;
    }
    run->saves_inflight++;
    if (run->async_saves && after == AFTER_DISPATCH &&
        run->saves_inflight <= YG_COORD_MAX_ASYNC_SAVES) {
        /* durability async: the store keeps the order, the reply waits */
        ctx->async = true;
        dispatch_step(self, run);
        return;
    }
    run->phase = RUN_SAVING;
}

/* Remember the first failed save of a run. */
static void note_save_error(coord_run_t *run, int status, const yg_error_t *err)
{
    if (run->save_error)
        return;
    run->save_error = status;
    run->save_message = strdup(err && err->message[0] ? err->message : yg_strerror(status));
}

/* End a run with its failed save's error. */
static void fail_on_save_error(coord_t *self, coord_run_t *run)
{
    run->save_reported = true;
    coord_run_fail(self, run, run->save_error, "checkpoint save failed: %s",
                   run->save_message ? run->save_message : yg_strerror(run->save_error));
}

static void on_saved(int status, const yg_error_t *err, void *arg)
{
    run_ctx_t *ctx = arg;
    coord_t *self = ctx->self;
    if (self->terminating) {
        ctx_free(ctx);
        return;
    }
    coord_save_seq_t *seq = ctx->store ? zhashx_lookup(self->save_seqs, ctx->store) : NULL;
    if (seq)
        seq->done++;
    coord_run_t *run = coord_run_find(self, ctx->run_id);
    if (run && ctx->store && run->saves_inflight > 0)
        run->saves_inflight--;
    if (run && status != YG_OK)
        note_save_error(run, status, err);
    if (ctx->async || !run || run->phase == RUN_DRAINING) {
        /* a save nobody waited for: a failure ends a run still stepping
         * (a run saving or draining reports it when it replies) */
        if (run && status != YG_OK && run->phase == RUN_STEPPING) {
            cancel_tasks(self, run);
            fail_on_save_error(self, run);
        }
        if (ctx->store)
            release_drained(self, ctx->store);
        ctx_free(ctx);
        coord_flush(self);
        return;
    }
    if (run->save_error) {
        fail_on_save_error(self, run);
        if (ctx->store)
            release_drained(self, ctx->store);
        ctx_free(ctx);
        coord_flush(self);
        return;
    }
    switch (ctx->after) {
    case AFTER_DISPATCH:
        dispatch_step(self, run);
        break;
    case AFTER_COMPLETE:
        reply_final(self, run, "completed", YG_OK, NULL, NULL);
        break;
    case AFTER_INTERRUPT: {
        yg_value_t *w = NULL, *ints = NULL, *next = NULL;
        yg_value_t *tasks = tasks_value(run, &w, &ints, &next);
        yg_value_destroy(&tasks);
        yg_value_destroy(&w);
        yg_value_destroy(&next);
        for (size_t i = 0; i < yg_list_size(ints); i++) {
            yg_value_t *iv = yg_list_get(ints, i);
            coord_run_emit(self, run, "interrupt", shallow_copy(iv));
        }
        reply_final(self, run, "interrupted", YG_OK, NULL, ints);
        break;
    }
    case AFTER_ERROR:
        coord_run_fail(self, run, (int)yg_value_int(yg_map_get(ctx->error, "code")), "%s",
                       yg_value_str(yg_map_get(ctx->error, "message")));
        break;
    case AFTER_STEPLIMIT:
        coord_run_fail(self, run, YG_ESTEPLIMIT,
                       "run exceeded its limit of %" PRId64
                       " supersteps (raise config.recursion_limit or the run's step limit)",
                       run->step_limit);
        break;
    }
    if (ctx->store)
        release_drained(self, ctx->store);
    ctx_free(ctx);
    coord_flush(self);
    coord_spin_soon(self);
}

/* ---- dispatch -------------------------------------------------------------------- */

/* The task message: only the keys the node reads (or the whole state). */
static yg_value_t *task_message(coord_run_t *run, size_t i)
{
    coord_task_t *t = &run->tasks[i];
    const yg_node_t *node = task_node(run, t);
    yg_value_t *input;
    if (node->reads_all) {
        input = shallow_copy(run->state);
    } else {
        input = yg_map_new();
        for (size_t k = 0; input && k < node->reads_count; k++) {
            yg_value_t *v = yg_map_get(run->state, node->reads[k]);
            if (v)
                map_put(input, node->reads[k], yg_value_ref(v));
        }
    }
    if (t->prior_interrupt)
        map_put(input, INTERRUPT_PAYLOAD_KEY, yg_value_ref(t->prior_interrupt));
    yg_value_t *m = yg_map_new();
    map_put(m, YG_MSG_TYPE, yg_str_new(YG_MSG_TASK));
    map_put(m, "run", yg_int_new((int64_t)run->id));
    map_put(m, "task", yg_int_new((int64_t)i));
    map_put(m, "thread", str_or_null(run->thread));
    map_put(m, "node", yg_str_new(node->name));
    map_put(m, "graph", yg_str_new(run->cg->graph->hash_hex));
    map_put(m, "input", input);
    if (t->payload || t->item)
        map_put(m, "payload", coord_task_payload(run, t));
    if (t->resume)
        map_put(m, "resume", yg_value_ref(t->resume));
    map_put(m, "step", yg_int_new(run->step + 1));
    return m;
}

static int pack_cstr(msgpack_packer *pk, const char *s)
{
    return msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* The task message of task_message() packed straight into an outbox: the
 * hot path of every node step and map item, without building the message
 * or its input map.  Not for tasks that carry a prior interrupt payload
 * (their input gets an extra key; they take the map path). */
static int pack_task(msgpack_packer *pk, const coord_run_t *run, size_t i, bool no_spin)
{
    const coord_task_t *t = &run->tasks[i];
    const yg_node_t *node = task_node(run, t);
    bool payload = t->payload || (t->item && t->map_node != COORD_NO_INDEX);
    size_t fields = 8 + (payload ? 1 : 0) + (t->resume ? 1 : 0) + (no_spin ? 1 : 0);
    int rc = msgpack_pack_map(pk, fields);
    rc = rc ? rc : pack_cstr(pk, YG_MSG_TYPE);
    rc = rc ? rc : pack_cstr(pk, YG_MSG_TASK);
    rc = rc ? rc : pack_cstr(pk, "run");
    rc = rc ? rc : msgpack_pack_uint64(pk, run->id);
    rc = rc ? rc : pack_cstr(pk, "task");
    rc = rc ? rc : msgpack_pack_uint64(pk, i);
    rc = rc ? rc : pack_cstr(pk, "thread");
    rc = rc ? rc : run->thread ? pack_cstr(pk, run->thread) : msgpack_pack_nil(pk);
    rc = rc ? rc : pack_cstr(pk, "node");
    rc = rc ? rc : pack_cstr(pk, node->name);
    rc = rc ? rc : pack_cstr(pk, "graph");
    rc = rc ? rc : pack_cstr(pk, run->cg->graph->hash_hex);
    rc = rc ? rc : pack_cstr(pk, "input");
    if (rc)
        return YG_ENOMEM;
    int vr;
    if (node->reads_all) {
        if ((vr = yg_msgpack_pack_value(pk, run->state)) != YG_OK)
            return vr;
    } else {
        size_t present = 0;
        for (size_t k = 0; k < node->reads_count; k++)
            present += yg_map_get(run->state, node->reads[k]) != NULL;
        if (msgpack_pack_map(pk, present))
            return YG_ENOMEM;
        for (size_t k = 0; k < node->reads_count; k++) {
            const yg_value_t *v = yg_map_get(run->state, node->reads[k]);
            if (!v)
                continue;
            if (pack_cstr(pk, node->reads[k]))
                return YG_ENOMEM;
            if ((vr = yg_msgpack_pack_value(pk, v)) != YG_OK)
                return vr;
        }
    }
    if (t->payload && (pack_cstr(pk, "payload") ||
                       (vr = yg_msgpack_pack_value(pk, t->payload)) != YG_OK))
        return YG_ENOMEM;
    if (!t->payload && payload) { /* {<as>: item, _map_index: i}, as coord_task_payload */
        const yg_node_t *map = run->cg->graph->nodes[t->map_node];
        if (pack_cstr(pk, "payload") || msgpack_pack_map(pk, 2) ||
            pack_cstr(pk, map->as ? map->as : "item") ||
            yg_msgpack_pack_value(pk, t->item) != YG_OK || pack_cstr(pk, YG_KEY_MAP_INDEX) ||
            msgpack_pack_int64(pk, t->map_index))
            return YG_ENOMEM;
    }
    if (t->resume &&
        (pack_cstr(pk, "resume") || (vr = yg_msgpack_pack_value(pk, t->resume)) != YG_OK))
        return YG_ENOMEM;
    rc = pack_cstr(pk, "step");
    rc = rc ? rc : msgpack_pack_int64(pk, run->step + 1);
    if (no_spin) {
        rc = rc ? rc : pack_cstr(pk, YG_MSG_NO_SPIN);
        rc = rc ? rc : msgpack_pack_true(pk);
    }
    return rc ? YG_ENOMEM : YG_OK;
}

/* Is a save of the run's store in flight at a Redis server?  Then the node
 * actor gets the no-spin hint (YG_MSG_NO_SPIN): its result is not awaited
 * by a quick follow-up task alone but by the store too, and on a small host
 * the local redis-server needs the CPU its spin would take. */
static bool remote_save_inflight(coord_t *self, const coord_run_t *run)
{
    if (!yg_ckpt_is_remote(run->store))
        return false;
    const coord_save_seq_t *seq = zhashx_lookup(self->save_seqs, run->store);
    return seq && seq->issued > seq->done;
}

/* Send (or queue) task i.  False when it can neither be sent nor queued:
 * no worker serves its node and too many tasks already wait for one. */
static bool send_task(coord_t *self, coord_run_t *run, size_t i)
{
    coord_task_t *t = &run->tasks[i];
    coord_node_t *cn = &run->cg->nodes[t->node_index];
    coord_worker_t *w = t->prior_interrupt ? NULL : coord_pick_worker(self, cn);
    coord_outbox_t *box = w ? coord_outbox_get(self, w->identity, false) : NULL;
    if (box) {
        size_t mark;
        int rc = pack_task(coord_outbox_begin(box, &mark), run, i, remote_save_inflight(self, run));
        coord_outbox_end(self, box, mark, rc == YG_OK);
        if (rc == YG_OK) {
            t->state = TASK_SENT;
            t->worker = w;
            return true;
        }
    }
    if (w)
        coord_task_done(self, w); /* not sent: the map path below picks again */
    yg_value_t *m = task_message(run, i);
    if (!m) {
        coord_log(self, YG_LOG_ERROR, "out of memory building a task");
        return true;
    }
    bool overflow = false;
    t->state = TASK_SENT;
    t->worker = coord_dispatch(self, &run->cg->nodes[t->node_index], m, &overflow);
    return !overflow;
}

/* End a run whose task found no room in its node's waiting queue. */
static void fail_no_worker(coord_t *self, coord_run_t *run, const coord_task_t *t)
{
    cancel_tasks(self, run);
    coord_run_fail(self, run, YG_ELIMIT,
                   "no worker serves node '%s' and %d tasks already wait for one",
                   task_node(run, t)->name, YG_COORD_MAX_WAITING_TASKS);
}

void coord_run_redispatch(coord_t *self, uint64_t run_id, uint64_t task_index)
{
    coord_run_t *run = coord_run_find(self, run_id);
    if (!run || run->phase != RUN_STEPPING || task_index >= run->ntasks ||
        run->tasks[task_index].state != TASK_SENT || run->tasks[task_index].worker)
        return;
    if (!send_task(self, run, (size_t)task_index))
        fail_no_worker(self, run, &run->tasks[task_index]);
}

size_t coord_run_worker_lost(coord_t *self, coord_worker_t *worker)
{
    size_t count = 0;
    zlistx_t *ids = zhashx_keys(self->runs);
    for (const char *id = ids ? zlistx_first(ids) : NULL; id; id = zlistx_next(ids)) {
        coord_run_t *run = zhashx_lookup(self->runs, id);
        if (!run || run->phase != RUN_STEPPING)
            continue;
        for (size_t i = 0; i < run->ntasks; i++) {
            coord_task_t *t = &run->tasks[i];
            if (t->state != TASK_SENT || t->worker != worker)
                continue;
            /* at-least-once (DESIGN.md): nodes are idempotent */
            coord_task_done(self, worker); /* keeps the in-flight counts right */
            t->worker = NULL;
            count++;
            if (!send_task(self, run, i)) {
                fail_no_worker(self, run, t); /* frees run */
                break;
            }
        }
    }
    zlistx_destroy(&ids);
    return count;
}

static void dispatch_step(coord_t *self, coord_run_t *run)
{
    if (run->ntasks == 0) {
        reply_final(self, run, "completed", YG_OK, NULL, NULL);
        return;
    }
    if (run->steps_run >= run->step_limit) {
        coord_run_fail(self, run, YG_ESTEPLIMIT,
                       "run exceeded its limit of %" PRId64
                       " supersteps (raise config.recursion_limit or the run's step limit)",
                       run->step_limit);
        return;
    }
    run->steps_run++;
    run->phase = RUN_STEPPING;
    run->outstanding = 0;
    for (size_t i = 0; i < run->ntasks; i++)
        if (run->tasks[i].state == TASK_PENDING)
            run->outstanding++;
    const coord_task_t *unqueued = NULL;
    bool events = wants_events(self, run);
    for (size_t i = 0; i < run->ntasks && !unqueued; i++) {
        coord_task_t *t = &run->tasks[i];
        if (t->state != TASK_PENDING)
            continue;
        if (events) {
            yg_value_t *ev = yg_map_new();
            map_put(ev, "node", yg_str_new(task_display_name(run, t)));
            map_put(ev, "step", yg_int_new(run->step + 1));
            if (t->map_index >= 0)
                map_put(ev, "map_index", yg_int_new(t->map_index));
            coord_run_emit(self, run, "node_start", ev);
        }
        if (!send_task(self, run, i))
            unqueued = t;
    }
    if (unqueued) {
        fail_no_worker(self, run, unqueued);
        return;
    }
    if (run->outstanding == 0)
        finish_step(self, run);
}

/* ---- results ---------------------------------------------------------------------- */

void coord_run_on_result(coord_t *self, coord_worker_t *worker, const yg_value_t *msg)
{
    uint64_t run_id = (uint64_t)yg_value_int(yg_map_get(msg, "run"));
    int64_t index = yg_value_int(yg_map_get(msg, "task"));
    if (!worker) {
        /* not (or no longer) a registered actor: a worker declared dead
         * whose tasks were re-dispatched, or one that reconnected */
        coord_log(self, YG_LOG_INFO,
                  "result for run %" PRIu64 " task %" PRId64 " from an unregistered actor dropped",
                  run_id, index);
        return;
    }
    coord_task_done(self, worker);
    coord_run_t *run = coord_run_find(self, run_id);
    if (!run || run->phase != RUN_STEPPING || index < 0 || (size_t)index >= run->ntasks ||
        run->tasks[index].state != TASK_SENT ||
        (run->tasks[index].worker && run->tasks[index].worker != worker)) {
        coord_log(self, YG_LOG_DEBUG, "stale result for run %" PRIu64 " task %" PRId64 " dropped",
                  run_id, index);
        return;
    }
    coord_task_t *t = &run->tasks[index];
    const char *status = yg_value_str(yg_map_get(msg, "status"));
    yg_value_t *update = yg_map_get(msg, "update");
    t->worker = NULL;
    if (status && strcmp(status, YG_STATUS_OK) == 0 &&
        (yg_value_type(update) == YG_MAP || yg_value_type(update) == YG_NULL)) {
        t->state = TASK_OK;
        t->update = yg_value_ref(update);
    } else if (status && strcmp(status, YG_STATUS_INTERRUPT) == 0) {
        t->state = TASK_INTERRUPT;
        t->interrupt = yg_value_ref(yg_map_get(msg, "interrupt"));
        if (yg_value_type(update) == YG_MAP)
            t->update = yg_value_ref(update);
    } else {
        t->state = TASK_ERROR;
        yg_value_t *e = yg_map_get(msg, "error");
        t->error = yg_value_type(e) == YG_MAP
                       ? yg_value_ref(e)
                       : error_map(YG_EPROTO, "node actor sent a malformed result", NULL);
    }
    if (wants_events(self, run)) {
        yg_value_t *ev = yg_map_new();
        map_put(ev, "node", yg_str_new(task_display_name(run, t)));
        map_put(ev, "step", yg_int_new(run->step + 1));
        if (t->map_index >= 0)
            map_put(ev, "map_index", yg_int_new(t->map_index));
        map_put(ev, "status", yg_str_new(status ? status : "error"));
        map_put(ev, "update", t->update ? yg_value_ref(t->update) : yg_map_new());
        coord_run_emit(self, run, "node_end", ev);
    }
    if (t->state == TASK_ERROR) {
        yg_value_t *er = yg_map_new();
        map_put(er, "node", yg_str_new(task_display_name(run, t)));
        map_put(er, "record", yg_value_ref(t->error));
        coord_run_emit(self, run, "error", er);
    }
    if (run->outstanding > 0 && --run->outstanding == 0)
        finish_step(self, run);
}

static void warn_dropped(coord_t *self, coord_run_t *run, const yg_value_t *dropped)
{
    for (size_t i = 0; i < yg_list_size(dropped); i++) {
        const char *k = yg_value_str(yg_list_get(dropped, i));
        if (!k || yg_map_has(run->cg->warned, k))
            continue;
        map_put(run->cg->warned, k, yg_bool_new(true));
        coord_log(self, YG_LOG_WARNING,
                  "graph '%s': state key '%s' is not declared and was dropped "
                  "(declare it under state:)",
                  run->cg->graph->name, k);
    }
}

/* Merge the writes of the given task states into state. */
static int merge_tasks(coord_t *self, coord_run_t *run, yg_value_t *state, bool interrupts_only,
                       yg_error_t *err)
{
    yg_merge_write_t *w = calloc(run->ntasks + 1, sizeof *w);
    yg_value_t *dropped = yg_list_new();
    if (!w || !dropped) {
        free(w);
        yg_value_destroy(&dropped);
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < run->ntasks; i++) {
        coord_task_t *t = &run->tasks[i];
        bool take = interrupts_only ? t->state == TASK_INTERRUPT : t->state == TASK_OK;
        if (take && t->update) {
            w[n].node = task_node(run, t)->name;
            w[n].update = t->update;
            n++;
        }
    }
    int rc = yg_merge_step(run->cg->keys, state, w, n, dropped, err);
    warn_dropped(self, run, dropped);
    yg_value_destroy(&dropped);
    free(w);
    return rc;
}

/* All tasks of the step answered. */
static void finish_step(coord_t *self, coord_run_t *run)
{
    yg_error_t err = { 0 };
    for (size_t i = 0; i < run->ntasks; i++) {
        coord_task_t *t = &run->tasks[i];
        if (t->state != TASK_ERROR)
            continue;
        /* spec 3.1: the run aborts; successful writes stay pending in the checkpoint */
        const char *msg = yg_value_str(yg_map_get(t->error, "message"));
        int code = (int)yg_value_int(yg_map_get(t->error, "code"));
        char text[YG_ERROR_MESSAGE_MAX];
        snprintf(text, sizeof text, "node '%s' failed: %s", task_display_name(run, t),
                 msg ? msg : "unknown error");
        save_and_continue(self, run, YG_CKPT_SOURCE_LOOP, AFTER_ERROR,
                          error_map(code < 0 ? code : YG_EINVAL, text, NULL));
        return;
    }
    bool paused = false;
    for (size_t i = 0; i < run->ntasks; i++)
        paused = paused || run->tasks[i].state == TASK_INTERRUPT;
    if (paused) {
        /* [C] 9.5: interrupt_output_mapping values are committed with the pause */
        if (merge_tasks(self, run, run->state, true, &err) != YG_OK) {
            coord_run_fail(self, run, err.code, "%s", err.message);
            return;
        }
        save_and_continue(self, run, YG_CKPT_SOURCE_LOOP, AFTER_INTERRUPT, NULL);
        return;
    }
    yg_value_t *merged = shallow_copy(run->state);
    if (!merged || merge_tasks(self, run, merged, false, &err) != YG_OK) {
        yg_value_destroy(&merged);
        coord_run_fail(self, run, err.code ? err.code : YG_ENOMEM, "%s",
                       err.code ? err.message : "out of memory");
        return;
    }
    coord_task_t *next = NULL;
    size_t count = 0;
    int rc = coord_next_tasks(self, run, false, merged, &next, &count, &err);
    yg_value_destroy(&run->state);
    run->state = merged;
    run->step++;
    if (rc != YG_OK) {
        coord_run_fail(self, run, err.code, "%s", err.message);
        return;
    }
    coord_tasks_free(&run->tasks, run->ntasks);
    run->tasks = next;
    run->ntasks = count;
    if (wants_events(self, run)) {
        yg_value_t *ev = yg_map_new();
        map_put(ev, "step", yg_int_new(run->step));
        map_put(ev, "state", shallow_copy(run->state));
        coord_run_emit(self, run, "values", ev);
    }
    after_save_t after = count == 0                          ? AFTER_COMPLETE
                         : run->steps_run >= run->step_limit ? AFTER_STEPLIMIT
                                                             : AFTER_DISPATCH;
    save_and_continue(self, run, YG_CKPT_SOURCE_LOOP, after, NULL);
}

/* ---- start / resume ---------------------------------------------------------------- */

/* Fresh pass: merge the input, schedule the START targets (spec 3.1, 9.3). */
static void begin_fresh(coord_t *self, coord_run_t *run)
{
    yg_error_t err = { 0 };
    yg_value_t *dropped = yg_list_new();
    if (yg_merge_update(run->cg->keys, run->state, run->input, dropped, &err) != YG_OK) {
        yg_value_destroy(&dropped);
        coord_run_fail(self, run, err.code, "input: %s", err.message);
        return;
    }
    warn_dropped(self, run, dropped);
    yg_value_destroy(&dropped);
    coord_task_t *tasks = NULL;
    size_t count = 0;
    if (coord_next_tasks(self, run, true, run->state, &tasks, &count, &err) != YG_OK) {
        coord_run_fail(self, run, err.code, "%s", err.message);
        return;
    }
    coord_tasks_free(&run->tasks, run->ntasks);
    run->tasks = tasks;
    run->ntasks = count;
    /* a thread continues its step numbering (the input checkpoint is one step) */
    run->step = run->last_ckpt_id ? run->step + 1 : -1;
    save_and_continue(self, run, YG_CKPT_SOURCE_INPUT, count ? AFTER_DISPATCH : AFTER_COMPLETE,
                      NULL);
}

static bool is_interrupt_id_map(const yg_value_t *value, const yg_value_t *interrupts)
{
    if (yg_value_type(value) != YG_MAP || yg_map_size(value) == 0)
        return false;
    for (size_t i = 0; i < yg_map_size(value); i++) {
        bool known = false;
        for (size_t k = 0; k < yg_list_size(interrupts); k++) {
            const char *id = yg_value_str(yg_map_get(yg_list_get(interrupts, k), "id"));
            if (id && strcmp(id, yg_map_key_at(value, i)) == 0)
                known = true;
        }
        if (!known)
            return false;
    }
    return true;
}

/* Rebuild the unfinished step of a checkpoint; the interrupted tasks get
 * their resume value.  Returns YG_OK or an error with err. */
static int restore_step(coord_run_t *run, const yg_checkpoint_t *ck, yg_error_t *err)
{
    const yg_graph_t *g = run->cg->graph;
    size_t n = yg_list_size(ck->tasks);
    size_t pending = yg_list_size(ck->interrupts);
    bool by_id = is_interrupt_id_map(run->resume_value, ck->interrupts);
    if (pending > 1 && !by_id)
        return yg_error_set(err, YG_EINVAL,
                            "%zu interrupts are pending on thread '%s': resume with a map "
                            "{interrupt id: value}",
                            pending, run->thread);
    coord_task_t *tasks = calloc(n + 1, sizeof *tasks);
    if (!tasks)
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const yg_value_t *tv = yg_list_get(ck->tasks, i);
        const char *name = yg_value_str(yg_map_get(tv, "node"));
        const char *map_name = yg_value_str(yg_map_get(tv, "map_node"));
        const yg_node_t *node = name ? yg_graph_node(g, name) : NULL;
        const yg_node_t *map = map_name ? yg_graph_node(g, map_name) : NULL;
        if (!node || (map_name && !map)) {
            coord_tasks_free(&tasks, i);
            return yg_error_set(err, YG_EINVAL,
                                "checkpoint names node '%s' that graph '%s' does not have",
                                name ? name : "?", g->name);
        }
        coord_task_t *t = &tasks[i];
        t->node_index = node->index;
        t->map_node = map ? map->index : COORD_NO_INDEX;
        t->order = map ? map->index : node->index;
        t->map_index = map ? yg_value_int(yg_map_get(tv, "map_index")) : -1;
        t->payload = map ? yg_value_ref(yg_map_get(tv, "payload")) : NULL;
        t->state = TASK_PENDING;
        const char *tid = yg_value_str(yg_map_get(tv, "id"));
        for (size_t w = 0; tid && w < yg_list_size(ck->writes); w++) {
            const yg_value_t *wv = yg_list_get(ck->writes, w);
            const char *wt = yg_value_str(yg_map_get(wv, "task"));
            if (wt && strcmp(wt, tid) == 0) {
                t->state = TASK_OK;
                t->update = yg_value_ref(yg_map_get(wv, "update"));
            }
        }
        const char *iid = yg_value_str(yg_map_get(tv, "interrupt_id"));
        if (iid && t->state == TASK_PENDING) {
            t->prior_interrupt = yg_value_ref(yg_map_get(tv, "interrupt"));
            if (by_id && yg_map_has(run->resume_value, iid))
                t->resume = yg_value_ref(yg_map_get(run->resume_value, iid));
            else if (!by_id && pending == 1)
                t->resume = run->resume_value ? yg_value_ref(run->resume_value) : yg_null_new();
        }
    }
    coord_tasks_free(&run->tasks, run->ntasks);
    run->tasks = tasks;
    run->ntasks = n;
    return YG_OK;
}

static void on_loaded(int status, yg_checkpoint_t *ck, const yg_error_t *err, void *arg)
{
    run_ctx_t *ctx = arg;
    coord_t *self = ctx->self;
    coord_run_t *run = self->terminating ? NULL : coord_run_find(self, ctx->run_id);
    ctx_free(ctx);
    if (!run) {
        yg_checkpoint_destroy(&ck);
        return;
    }
    if (status != YG_OK && status != YG_ENOTFOUND) {
        coord_run_fail(self, run, status, "cannot load checkpoint of thread '%s': %s", run->thread,
                       err ? err->message : yg_strerror(status));
        yg_checkpoint_destroy(&ck);
        coord_flush(self);
        return;
    }
    if (ck) {
        yg_value_destroy(&run->state);
        run->state = yg_value_type(ck->values) == YG_MAP ? shallow_copy(ck->values) : yg_map_new();
        run->step = ck->step;
        run->last_ckpt_id = ck->id ? strdup(ck->id) : NULL;
    }
    if (!run->resuming) {
        begin_fresh(self, run);
    } else if (!ck) {
        coord_run_fail(self, run, YG_ENOTFOUND, "thread '%s' has no checkpoint to resume",
                       run->thread);
    } else if (!run->force && ck->graph_hash[0] &&
               strcmp(ck->graph_hash, run->cg->graph->hash_hex) != 0) {
        coord_run_fail(self, run, YG_EINVAL,
                       "graph changed since this thread was checkpointed (thread '%s'); "
                       "use force to resume anyway",
                       run->thread);
    } else {
        yg_error_t rerr = { 0 };
        if (restore_step(run, ck, &rerr) != YG_OK)
            coord_run_fail(self, run, rerr.code, "%s", rerr.message);
        else
            dispatch_step(self, run);
    }
    yg_checkpoint_destroy(&ck);
    coord_flush(self);
    coord_spin_soon(self);
}

static coord_run_t *run_new(coord_t *self, const coord_start_t *s)
{
    coord_run_t *run = calloc(1, sizeof *run);
    if (!run)
        return NULL;
    run->id = self->next_run_id++;
    snprintf(run->id_str, sizeof run->id_str, "%" PRIu64, run->id);
    run->cg = s->cg;
    run->thread = s->thread ? strdup(s->thread) : NULL;
    run->ns = strdup(s->ns ? s->ns : "");
    run->store = s->store;
    run->state = yg_map_new();
    run->step = -1;
    run->client = zframe_dup(s->client);
    run->req = s->req;
    run->subscribed = s->subscribe;
    run->is_child = s->is_child;
    run->parent_run = s->parent_run;
    run->parent_task = s->parent_task;
    run->depth = s->depth;
    run->resuming = s->resume;
    run->force = s->force;
    run->input = s->input ? yg_value_ref((yg_value_t *)s->input) : NULL;
    run->resume_value = s->resume_value ? yg_value_ref((yg_value_t *)s->resume_value) : NULL;
    int64_t limit = s->step_limit > 0 ? s->step_limit : 0;
    if (!limit && s->cg && s->cg->graph->recursion_limit != YG_DEFAULT_STEP_LIMIT)
        limit = s->cg->graph->recursion_limit;
    run->step_limit = limit > 0 ? limit : self->cfg.step_limit;
    /* durability: the request, else the graph, else the runtime, else sync */
    yg_durability_t durability = s->durability;
    if (durability == YG_DURABILITY_DEFAULT && s->cg)
        durability = (yg_durability_t)s->cg->graph->checkpointer.durability;
    if (durability == YG_DURABILITY_DEFAULT)
        durability = self->cfg.durability;
    run->async_saves = durability == YG_DURABILITY_ASYNC;
    char key[24];
    snprintf(key, sizeof key, "%" PRIu64, run->id);
    if (!run->ns || !run->state || !run->client || (s->thread && !run->thread)) {
        zhashx_insert(self->runs, key, run); /* so destroy finds it */
        coord_run_destroy(self, &run);
        return NULL;
    }
    zhashx_insert(self->runs, key, run);
    return run;
}

int coord_run_start(coord_t *self, const coord_start_t *s)
{
    if (zhashx_size(self->runs) >= YG_COORD_MAX_RUNS) {
        if (!s->is_child)
            coord_reply_error(self, s->client, s->req, YG_EBUSY, "too many active runs");
        return YG_EBUSY;
    }
    coord_run_t *run = run_new(self, s);
    if (!run) {
        if (!s->is_child)
            coord_reply_error(self, s->client, s->req, YG_ENOMEM, "out of memory");
        return YG_ENOMEM;
    }
    const char *gname = run->cg->graph->name;
    if (s->thread && strlen(s->thread) > YG_CHECKPOINT_THREAD_ID_MAX) {
        coord_run_fail(self, run, YG_ELIMIT, "thread id longer than %d bytes",
                       YG_CHECKPOINT_THREAD_ID_MAX);
        return YG_ELIMIT;
    }
    if (run->store && !run->thread) {
        coord_run_fail(self, run, YG_EINVAL,
                       "graph '%s' has a checkpointer: a thread id is required", gname);
        return YG_EINVAL;
    }
    if (run->resuming && !run->store) {
        coord_run_fail(self, run, YG_EINVAL,
                       "graph '%s' has no checkpointer: a paused run cannot be resumed "
                       "(configure checkpointer: or the runtime's checkpointer)",
                       gname);
        return YG_EINVAL;
    }
    if (run->depth > YG_COORD_MAX_CHILD_DEPTH) {
        coord_run_fail(self, run, YG_ELIMIT, "subgraph runs nested too deeply");
        return YG_ELIMIT;
    }
    if (run->thread && run->store) {
        size_t len = strlen(run->ns) + strlen(run->thread) + 2;
        run->busy_key = malloc(len);
        if (!run->busy_key) {
            coord_run_fail(self, run, YG_ENOMEM, "out of memory");
            return YG_ENOMEM;
        }
        snprintf(run->busy_key, len, "%s|%s", run->ns, run->thread);
        if (zhashx_lookup(self->threads, run->busy_key)) {
            free(run->busy_key);
            run->busy_key = NULL;
            coord_run_fail(self, run, YG_EBUSY, "thread '%s' already has an active run",
                           run->thread);
            return YG_EBUSY;
        }
        zhashx_insert(self->threads, run->busy_key, run);
    }
    if (wants_events(self, run)) {
        yg_value_t *ev = yg_map_new();
        map_put(ev, "graph", yg_str_new(gname ? gname : ""));
        coord_run_emit(self, run, "run_start", ev);
    }
    if (run->store) {
        run_ctx_t *ctx = ctx_new(self, run, AFTER_DISPATCH);
        int rc = ctx ? yg_ckpt_load_latest(run->store, run->thread, run->ns, on_loaded, ctx)
                     : YG_ENOMEM;
        if (rc != YG_OK) {
            ctx_free(ctx);
            coord_run_fail(self, run, rc, "cannot load checkpoint: %s", yg_strerror(rc));
            return rc;
        }
        run->phase = RUN_STARTING;
        return YG_OK;
    }
    begin_fresh(self, run);
    return YG_OK;
}

/* ---- cancel -------------------------------------------------------------------------- */

static void cancel_tasks(coord_t *self, coord_run_t *run)
{
    yg_value_t *seen = yg_map_new();
    for (size_t i = 0; i < run->ntasks; i++) {
        coord_worker_t *w = run->tasks[i].worker;
        if (run->tasks[i].state != TASK_SENT || !w)
            continue;
        coord_task_done(self, w); /* a cancelled task gets no result */
        run->tasks[i].worker = NULL;
        if (yg_map_has(seen, w->key))
            continue;
        map_put(seen, w->key, yg_bool_new(true));
        yg_value_t *m = yg_map_new();
        map_put(m, YG_MSG_TYPE, yg_str_new(YG_MSG_CANCEL));
        map_put(m, "run", yg_int_new((int64_t)run->id));
        coord_send_node(self, w->identity, m);
    }
    yg_value_destroy(&seen);
    /* children of this run go too */
    zlistx_t *ids = zhashx_keys(self->runs);
    for (const char *id = ids ? zlistx_first(ids) : NULL; id; id = zlistx_next(ids)) {
        coord_run_t *child = zhashx_lookup(self->runs, id);
        if (child && child->is_child && child->parent_run == run->id) {
            cancel_tasks(self, child);
            child->phase = RUN_FINISHED;
            coord_run_destroy(self, &child);
        }
    }
    zlistx_destroy(&ids);
}

void coord_run_cancel(coord_t *self, coord_run_t *run)
{
    cancel_tasks(self, run);
    coord_run_fail(self, run, YG_ECANCELLED, "run %s was cancelled", run->id_str);
}

/* ---- state / history ------------------------------------------------------------------ */

typedef struct query_ctx {
    coord_t *self;
    zframe_t *client;
    int64_t req;
} query_ctx_t;

static void query_free(query_ctx_t *q)
{
    zframe_destroy(&q->client);
    free(q);
}

static void on_state_loaded(int status, yg_checkpoint_t *ck, const yg_error_t *err, void *arg)
{
    query_ctx_t *q = arg;
    coord_t *self = q->self;
    if (self->terminating) {
        yg_checkpoint_destroy(&ck);
        query_free(q);
        return;
    }
    if (status != YG_OK || !ck) {
        coord_reply_error(self, q->client, q->req, status == YG_OK ? YG_ENOTFOUND : status, "%s",
                          status == YG_ENOTFOUND || status == YG_OK
                              ? "no checkpoint for this thread"
                              : (err ? err->message : yg_strerror(status)));
    } else {
        yg_value_t *reply = yg_map_new();
        map_put(reply, YG_MSG_TYPE, yg_str_new("result"));
        map_put(reply, "req", yg_int_new(q->req));
        map_put(reply, "status", yg_str_new("completed"));
        map_put(reply, "thread", yg_str_new(ck->thread_id));
        map_put(reply, "step", yg_int_new(ck->step));
        map_put(reply, "state", ck->values ? yg_value_ref(ck->values) : yg_map_new());
        map_put(reply, "interrupts", ck->interrupts ? yg_value_ref(ck->interrupts) : yg_list_new());
        map_put(reply, "snapshot", yg_checkpoint_to_map(ck));
        coord_send_api(self, q->client, reply);
    }
    yg_checkpoint_destroy(&ck);
    query_free(q);
    coord_flush(self);
}

static void on_history(int status, yg_value_t *history, const yg_error_t *err, void *arg)
{
    query_ctx_t *q = arg;
    coord_t *self = q->self;
    if (self->terminating) {
        yg_value_destroy(&history);
        query_free(q);
        return;
    }
    if (status != YG_OK) {
        coord_reply_error(self, q->client, q->req, status, "%s",
                          err ? err->message : yg_strerror(status));
    } else {
        yg_value_t *reply = yg_map_new();
        map_put(reply, YG_MSG_TYPE, yg_str_new("result"));
        map_put(reply, "req", yg_int_new(q->req));
        map_put(reply, "status", yg_str_new("completed"));
        map_put(reply, "history", history ? yg_value_ref(history) : yg_list_new());
        coord_send_api(self, q->client, reply);
    }
    yg_value_destroy(&history);
    query_free(q);
    coord_flush(self);
}

void coord_state_request(coord_t *self, zframe_t *client, int64_t req, coord_graph_t *cg,
                         const char *thread, bool history, size_t limit)
{
    yg_ckpt_t *store = cg ? cg->store : self->global_store;
    if (!thread) {
        coord_reply_error(self, client, req, YG_EINVAL, "a thread id is required");
        return;
    }
    if (!store) {
        coord_reply_error(self, client, req, YG_EINVAL,
                          "no checkpointer: pass a graph with a checkpointer or configure one");
        return;
    }
    query_ctx_t *q = calloc(1, sizeof *q);
    if (!q || !(q->client = zframe_dup(client))) {
        free(q);
        coord_reply_error(self, client, req, YG_ENOMEM, "out of memory");
        return;
    }
    q->self = self;
    q->req = req;
    int rc = history ? yg_ckpt_list(store, thread, "", limit, on_history, q)
                     : yg_ckpt_load_latest(store, thread, "", on_state_loaded, q);
    if (rc != YG_OK) {
        query_free(q);
        coord_reply_error(self, client, req, rc, "checkpointer refused the request: %s",
                          yg_strerror(rc));
    }
}
