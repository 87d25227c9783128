/*
 * yg_merge.h - state reducers and the superstep merge (spec 2.1, 2.2, 5.5).
 *
 * A key set holds the declared state keys of a graph with their reducers.
 * Merging applies node updates to a state map:
 *   - undeclared keys are dropped (and reported once through `dropped`);
 *   - plain keys are replaced (null is stored as null);
 *   - append keys (errors, messages) become old + new;
 *   - collect keys (map results) become old + new, then stably sorted by
 *     _map_index when the first element is a map holding _map_index.
 * Within one superstep two tasks writing the same plain key is an error
 * (YG_ECONCURRENT), except the bookkeeping keys of spec 5.5 [C]:
 * current_step takes the value of the last writer in task order and
 * _loop_counts maps are merged key-wise by maximum.
 *
 * Values in the state map may be shared (refcounted) with checkpoints:
 * the merge never modifies a value in place, it replaces keys with new
 * values (copy-on-write lists).
 */
#ifndef YG_MERGE_H
#define YG_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"
#include "yg_graph.h"

#define YG_KEY_CURRENT_STEP "current_step"
#define YG_KEY_LOOP_COUNTS "_loop_counts"
#define YG_KEY_LOOP_LIMIT_REACHED "_loop_limit_reached"
#define YG_KEY_ROUTE "_route"
#define YG_KEY_MAP_INDEX "_map_index"

typedef struct yg_keyset yg_keyset_t;

/* An empty key set (nothing declared).  NULL on ENOMEM. */
yg_keyset_t *yg_keyset_new(void);
/* The declared keys of a compiled graph (graph->keys).  NULL on ENOMEM. */
yg_keyset_t *yg_keyset_from_graph(const yg_graph_t *graph);
void yg_keyset_destroy(yg_keyset_t **self_p);
/* Declare (or redeclare) a key with its reducer. */
int yg_keyset_add(yg_keyset_t *self, const char *name, yg_reducer_t reducer);
/* Open state: undeclared keys are kept as plain keys instead of dropped. */
void yg_keyset_set_open(yg_keyset_t *self, bool open);
/* The reducer of a key, or -1 when the key is not declared (and the set is
 * not open). */
int yg_keyset_reducer(const yg_keyset_t *self, const char *name);

/* One task's write within a superstep. */
typedef struct yg_merge_write {
    const char *node;         /* writer, for error messages */
    const yg_value_t *update; /* a map, or NULL for "no write" */
} yg_merge_write_t;

/* Merge the writes of one superstep into state, in array order (callers
 * pass tasks in node declaration order, map items by index).  On
 * YG_ECONCURRENT (two writers of one plain key; err names the key and both
 * nodes) or YG_ETYPE (an update that is not a map) the state is unchanged.
 * dropped, if not NULL, is a list that receives the name of every dropped
 * undeclared key not already in it. */
int yg_merge_step(const yg_keyset_t *keys, yg_value_t *state, const yg_merge_write_t *writes,
                  size_t count, yg_value_t *dropped, yg_error_t *err);

/* Merge one update (the run input, or a single write) - no concurrency
 * check. */
int yg_merge_update(const yg_keyset_t *keys, yg_value_t *state, const yg_value_t *update,
                    yg_value_t *dropped, yg_error_t *err);

/* A new map: state (shallow, shared values) with update merged in - the
 * view one task's outgoing edges are evaluated on (spec 3.1).  NULL on
 * ENOMEM. */
yg_value_t *yg_merge_view(const yg_keyset_t *keys, const yg_value_t *state,
                          const yg_value_t *update);

/* Reducers (new values; old/add are borrowed; NULL on ENOMEM).  A non-list
 * `add` counts as a one-item list and null as empty. */
yg_value_t *yg_reduce_append(const yg_value_t *old, const yg_value_t *add);
yg_value_t *yg_reduce_collect(const yg_value_t *old, const yg_value_t *add);
/* _loop_counts merge: key-wise maximum of two maps (non-maps: b wins). */
yg_value_t *yg_reduce_loop_counts(const yg_value_t *a, const yg_value_t *b);

#endif
