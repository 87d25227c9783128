/*
 * yg_merge.c - state reducers and the superstep merge (see yg_merge.h).
 */
#include "yg_merge.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct yg_keyset {
    yg_value_t *reducers; /* name -> int reducer (hash-indexed map) */
    bool open;
};

yg_keyset_t *yg_keyset_new(void)
{
    yg_keyset_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->reducers = yg_map_new();
    if (!self->reducers) {
        free(self);
        return NULL;
    }
    return self;
}

yg_keyset_t *yg_keyset_from_graph(const yg_graph_t *graph)
{
    yg_keyset_t *self = yg_keyset_new();
    if (!self || !graph)
        return self;
    for (size_t i = 0; i < graph->keys_count; i++) {
        if (yg_keyset_add(self, graph->keys[i].name, graph->keys[i].reducer) != YG_OK) {
            yg_keyset_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void yg_keyset_destroy(yg_keyset_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_value_destroy(&(*self_p)->reducers);
    free(*self_p);
    *self_p = NULL;
}

int yg_keyset_add(yg_keyset_t *self, const char *name, yg_reducer_t reducer)
{
    if (!self || !name)
        return YG_EINVAL;
    yg_value_t *v = yg_int_new((int64_t)reducer);
    if (!v)
        return YG_ENOMEM;
    return yg_map_set(self->reducers, name, v);
}

void yg_keyset_set_open(yg_keyset_t *self, bool open)
{
    if (self)
        self->open = open;
}

int yg_keyset_reducer(const yg_keyset_t *self, const char *name)
{
    if (!self || !name)
        return -1;
    yg_value_t *v = yg_map_get(self->reducers, name);
    if (v)
        return (int)yg_value_int(v);
    return self->open ? (int)YG_REDUCER_REPLACE : -1;
}

/* ---- reducers ----------------------------------------------------------- */

/* Append the items of add (a list; a scalar counts as one item; null as
 * none) to list, taking new references. */
static int append_items(yg_value_t *list, const yg_value_t *add)
{
    if (yg_value_type(add) == YG_NULL)
        return YG_OK;
    if (yg_value_type(add) != YG_LIST)
        return yg_list_append(list, yg_value_ref((yg_value_t *)add));
    size_t n = yg_list_size(add);
    for (size_t i = 0; i < n; i++) {
        int rc = yg_list_append(list, yg_value_ref(yg_list_get(add, i)));
        if (rc != YG_OK)
            return rc;
    }
    return YG_OK;
}

yg_value_t *yg_reduce_append(const yg_value_t *old, const yg_value_t *add)
{
    yg_value_t *out = yg_list_new();
    if (!out)
        return NULL;
    if (append_items(out, old) != YG_OK || append_items(out, add) != YG_OK)
        yg_value_destroy(&out);
    return out;
}

typedef struct {
    yg_value_t *item;
    double index;
    size_t pos;
} sort_entry_t;

static double item_map_index(const yg_value_t *item)
{
    if (yg_value_type(item) != YG_MAP)
        return 0.0;
    yg_value_t *idx = yg_map_get(item, YG_KEY_MAP_INDEX);
    yg_type_t t = yg_value_type(idx);
    return (t == YG_INT || t == YG_FLOAT) ? yg_value_float(idx) : 0.0;
}

static int compare_entries(const void *a, const void *b)
{
    const sort_entry_t *x = a, *y = b;
    if (x->index < y->index)
        return -1;
    if (x->index > y->index)
        return 1;
    /* equal indexes keep their order: a stable sort */
    return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

/* Stable-sort list by _map_index when its first element is a map holding
 * _map_index (spec 2.2); returns a new list. */
static yg_value_t *sort_collected(yg_value_t *list)
{
    size_t n = yg_list_size(list);
    yg_value_t *first = yg_list_get(list, 0);
    if (n < 2 || yg_value_type(first) != YG_MAP || !yg_map_has(first, YG_KEY_MAP_INDEX))
        return yg_value_ref(list);
    sort_entry_t *entries = calloc(n, sizeof *entries);
    yg_value_t *out = entries ? yg_list_new() : NULL;
    if (!out) {
        free(entries);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        entries[i].item = yg_list_get(list, i);
        entries[i].index = item_map_index(entries[i].item);
        entries[i].pos = i;
    }
    qsort(entries, n, sizeof *entries, compare_entries);
    for (size_t i = 0; i < n; i++) {
        if (yg_list_append(out, yg_value_ref(entries[i].item)) != YG_OK) {
            yg_value_destroy(&out);
            break;
        }
    }
    free(entries);
    return out;
}

yg_value_t *yg_reduce_collect(const yg_value_t *old, const yg_value_t *add)
{
    yg_value_t *combined = yg_reduce_append(old, add);
    if (!combined)
        return NULL;
    yg_value_t *sorted = sort_collected(combined);
    yg_value_destroy(&combined);
    return sorted;
}

yg_value_t *yg_reduce_loop_counts(const yg_value_t *a, const yg_value_t *b)
{
    if (yg_value_type(a) != YG_MAP || yg_value_type(b) != YG_MAP)
        return yg_value_ref((yg_value_t *)(b ? b : a));
    yg_value_t *out = yg_map_new();
    if (!out)
        return NULL;
    for (size_t i = 0; i < yg_map_size(a); i++) {
        if (yg_map_set(out, yg_map_key_at(a, i), yg_value_ref(yg_map_value_at(a, i))) != YG_OK)
            goto fail;
    }
    for (size_t i = 0; i < yg_map_size(b); i++) {
        const char *k = yg_map_key_at(b, i);
        yg_value_t *bv = yg_map_value_at(b, i);
        yg_value_t *av = yg_map_get(out, k);
        if (av && yg_value_float(av) >= yg_value_float(bv))
            continue;
        if (yg_map_set(out, k, yg_value_ref(bv)) != YG_OK)
            goto fail;
    }
    return out;
fail:
    yg_value_destroy(&out);
    return NULL;
}

/* ---- merge --------------------------------------------------------------- */

static void note_dropped(yg_value_t *dropped, const char *key)
{
    if (!dropped)
        return;
    for (size_t i = 0; i < yg_list_size(dropped); i++) {
        const char *s = yg_value_str(yg_list_get(dropped, i));
        if (s && strcmp(s, key) == 0)
            return;
    }
    yg_value_t *s = yg_str_new(key);
    if (s && yg_list_append(dropped, s) != YG_OK)
        return;
}

static bool is_bookkeeping(const char *key)
{
    return strcmp(key, YG_KEY_CURRENT_STEP) == 0 || strcmp(key, YG_KEY_LOOP_COUNTS) == 0;
}

/* Pass 1: types and concurrent plain writes; nothing is modified. */
static int check_writes(const yg_keyset_t *keys, const yg_merge_write_t *writes, size_t count,
                        yg_error_t *err)
{
    yg_value_t *writer = yg_map_new(); /* plain key -> index of its writer */
    if (!writer)
        return yg_error_set(err, YG_ENOMEM, "out of memory merging a step");
    int rc = YG_OK;
    for (size_t w = 0; w < count && rc == YG_OK; w++) {
        const yg_value_t *u = writes[w].update;
        if (!u)
            continue;
        if (yg_value_type(u) != YG_MAP) {
            rc = yg_error_set(err, YG_ETYPE, "node '%s' returned a %s update, expected a map",
                              writes[w].node ? writes[w].node : "?",
                              yg_type_name(yg_value_type(u)));
            break;
        }
        for (size_t i = 0; i < yg_map_size(u); i++) {
            const char *k = yg_map_key_at(u, i);
            if (yg_keyset_reducer(keys, k) != (int)YG_REDUCER_REPLACE || is_bookkeeping(k))
                continue;
            yg_value_t *prev = yg_map_get(writer, k);
            if (prev && (size_t)yg_value_int(prev) != w) {
                size_t p = (size_t)yg_value_int(prev);
                rc = yg_error_set(err, YG_ECONCURRENT,
                                  "state key '%s' was written by both '%s' and '%s' in one step; "
                                  "give one of them another state_key or declare a reducer key",
                                  k, writes[p].node ? writes[p].node : "?",
                                  writes[w].node ? writes[w].node : "?");
                break;
            }
            yg_value_t *idx = yg_int_new((int64_t)w);
            if (!idx || yg_map_set(writer, k, idx) != YG_OK) {
                rc = yg_error_set(err, YG_ENOMEM, "out of memory merging a step");
                break;
            }
        }
    }
    yg_value_destroy(&writer);
    return rc;
}

/* Apply one key of one write; `acc` gathers reducer-key additions and
 * `counts_seen` marks _loop_counts written earlier in this step. */
static int apply_key(const yg_keyset_t *keys, yg_value_t *state, yg_value_t *acc,
                     bool *counts_seen, const char *k, yg_value_t *v, yg_value_t *dropped)
{
    int reducer = yg_keyset_reducer(keys, k);
    if (reducer < 0) {
        note_dropped(dropped, k);
        return YG_OK;
    }
    if (reducer == YG_REDUCER_APPEND || reducer == YG_REDUCER_COLLECT) {
        yg_value_t *list = yg_map_get(acc, k);
        if (!list) {
            list = yg_list_new();
            if (!list || yg_map_set(acc, k, list) != YG_OK)
                return YG_ENOMEM;
            /* keep the key's position in a fresh state */
            if (!yg_map_has(state, k) && yg_map_set(state, k, yg_null_new()) != YG_OK)
                return YG_ENOMEM;
        }
        return append_items(list, v);
    }
    if (strcmp(k, YG_KEY_LOOP_COUNTS) == 0 && *counts_seen) {
        yg_value_t *merged = yg_reduce_loop_counts(yg_map_get(state, k), v);
        return merged ? yg_map_set(state, k, merged) : YG_ENOMEM;
    }
    if (strcmp(k, YG_KEY_LOOP_COUNTS) == 0)
        *counts_seen = true;
    return yg_map_set(state, k, yg_value_ref(v));
}

static int apply_writes(const yg_keyset_t *keys, yg_value_t *state, const yg_merge_write_t *writes,
                        size_t count, yg_value_t *dropped)
{
    yg_value_t *acc = yg_map_new();
    if (!acc)
        return YG_ENOMEM;
    bool counts_seen = false;
    int rc = YG_OK;
    for (size_t w = 0; w < count && rc == YG_OK; w++) {
        const yg_value_t *u = writes[w].update;
        for (size_t i = 0; i < yg_map_size(u) && rc == YG_OK; i++)
            rc = apply_key(keys, state, acc, &counts_seen, yg_map_key_at(u, i),
                           yg_map_value_at(u, i), dropped);
    }
    /* reducer keys: one combine (and one sort) per key for the whole step */
    for (size_t i = 0; i < yg_map_size(acc) && rc == YG_OK; i++) {
        const char *k = yg_map_key_at(acc, i);
        yg_value_t *add = yg_map_value_at(acc, i);
        yg_value_t *old = yg_map_get(state, k);
        yg_value_t *nv = yg_keyset_reducer(keys, k) == YG_REDUCER_COLLECT
                             ? yg_reduce_collect(old, add)
                             : yg_reduce_append(old, add);
        rc = nv ? yg_map_set(state, k, nv) : YG_ENOMEM;
    }
    yg_value_destroy(&acc);
    return rc;
}

int yg_merge_step(const yg_keyset_t *keys, yg_value_t *state, const yg_merge_write_t *writes,
                  size_t count, yg_value_t *dropped, yg_error_t *err)
{
    if (!keys || yg_value_type(state) != YG_MAP || (count && !writes))
        return yg_error_set(err, YG_EINVAL, "yg_merge_step: bad arguments");
    int rc = check_writes(keys, writes, count, err);
    if (rc != YG_OK)
        return rc;
    rc = apply_writes(keys, state, writes, count, dropped);
    if (rc != YG_OK)
        return yg_error_set(err, rc, "out of memory merging a step");
    return YG_OK;
}

int yg_merge_update(const yg_keyset_t *keys, yg_value_t *state, const yg_value_t *update,
                    yg_value_t *dropped, yg_error_t *err)
{
    if (!update)
        return YG_OK;
    yg_merge_write_t w = { "input", update };
    return yg_merge_step(keys, state, &w, 1, dropped, err);
}

yg_value_t *yg_merge_view(const yg_keyset_t *keys, const yg_value_t *state,
                          const yg_value_t *update)
{
    yg_value_t *view = yg_map_new();
    if (!view)
        return NULL;
    for (size_t i = 0; i < yg_map_size(state); i++) {
        if (yg_map_set(view, yg_map_key_at(state, i), yg_value_ref(yg_map_value_at(state, i))) !=
            YG_OK) {
            yg_value_destroy(&view);
            return NULL;
        }
    }
    if (yg_value_type(update) == YG_MAP) {
        yg_merge_write_t w = { "view", update };
        if (apply_writes(keys, view, &w, 1, NULL) != YG_OK)
            yg_value_destroy(&view);
    }
    return view;
}
