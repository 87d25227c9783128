/*
 * yg_ckpt_internal.h - what a checkpoint store implementation plugs into.
 *
 * Every store embeds yg_ckpt_t as its FIRST member and points it at a
 * vtable.  The public yg_ckpt_* functions in yg_checkpoint.c validate the
 * arguments (so implementations may trust them) and then dispatch.
 */
#ifndef YG_CKPT_INTERNAL_H
#define YG_CKPT_INTERNAL_H

#include "yg_checkpoint.h"

typedef struct yg_ckpt_ops {
    const char *kind; /* "memory", "file", "redis" ... */
    bool remote;      /* served by another process (its operations wait on a server) */
    int (*save)(yg_ckpt_t *self, const yg_checkpoint_t *ckpt, yg_ckpt_done_fn *done,
                void *arg);
    int (*load_latest)(yg_ckpt_t *self, const char *thread_id, const char *ns,
                       yg_ckpt_load_fn *done, void *arg);
    int (*load)(yg_ckpt_t *self, const char *thread_id, const char *ns, const char *id,
                yg_ckpt_load_fn *done, void *arg);
    int (*list)(yg_ckpt_t *self, const char *thread_id, const char *ns, size_t limit,
                yg_ckpt_list_fn *done, void *arg);
    int (*delete_thread)(yg_ckpt_t *self, const char *thread_id, yg_ckpt_done_fn *done,
                         void *arg);
    /* Complete outstanding operations (see yg_checkpoint.h) and free. */
    void (*destroy)(yg_ckpt_t *self);
} yg_ckpt_ops_t;

struct yg_ckpt {
    const yg_ckpt_ops_t *ops;
    int in_callback; /* > 0 while a completion callback runs (destroy asserts 0) */
};

/* Record field names shared by the encoding and the file store. */
#define YG_CKPT_KEY_THREAD_ID "thread_id"
#define YG_CKPT_KEY_NS "ns"
#define YG_CKPT_KEY_ID "id"
#define YG_CKPT_KEY_PARENT_ID "parent_id"
#define YG_CKPT_KEY_STEP "step"
#define YG_CKPT_KEY_SOURCE "source"
#define YG_CKPT_KEY_CREATED_AT "created_at_ms"
#define YG_CKPT_KEY_GRAPH_HASH "graph_hash"
#define YG_CKPT_KEY_VALUES "values"
#define YG_CKPT_KEY_NEXT "next"
#define YG_CKPT_KEY_TASKS "tasks"
#define YG_CKPT_KEY_WRITES "writes"
#define YG_CKPT_KEY_INTERRUPTS "interrupts"
#define YG_CKPT_KEY_META "meta"
/* Delta records (file and Redis stores) carry these instead of "values". */
#define YG_CKPT_KEY_CHANGED "changed"
#define YG_CKPT_KEY_REMOVED "removed"

/* Wall clock in ms since the epoch. */
int64_t yg_ckpt_now_ms(void);

/* Build a record from a map like yg_checkpoint_from_map, except that the
 * "values" key is ignored (may be absent) and values_out is left NULL;
 * used by stores whose records carry values in another form (deltas). */
yg_checkpoint_t *yg_checkpoint_from_map_novalues(const yg_value_t *map, yg_error_t *err);

/* Same as yg_checkpoint_to_map but without the "values" key when
 * with_values is false (the caller adds its own representation). */
yg_value_t *yg_checkpoint_to_map_ex(const yg_checkpoint_t *self, bool with_values);

/* One format-version byte + msgpack of map, malloc'd into *data (the
 * layout of yg_checkpoint_encode).  YG_ELIMIT when it would exceed max
 * bytes (0: no limit). */
int yg_ckpt_pack_map(const yg_value_t *map, size_t max, char **data, size_t *size);

/* --- delta records (yg_ckpt_delta.c) ------------------------------------ */

/* The newest state a store saved for one chain: the base of its next
 * delta.  Zero-initialised = empty. */
typedef struct yg_ckpt_delta_base {
    char *id;           /* checkpoint id of that state */
    uint16_t depth;     /* deltas since the last snapshot */
    yg_value_t *values; /* a map sharing the saved values */
} yg_ckpt_delta_base_t;

/* A new map sharing map's values (NULL on ENOMEM). */
yg_value_t *yg_ckpt_map_shallow_copy(const yg_value_t *map);

/* Set "changed" and "removed" in record: the delta of values against
 * base.  YG_ENOMEM on failure. */
int yg_ckpt_delta_fill(yg_value_t *record, const yg_value_t *base, const yg_value_t *values);

/* Apply a delta record to *state (a private map, replaced when keys go
 * away).  With keys_required, a record lacking "changed" or "removed" is
 * malformed; without, an absent key means no change.  YG_EPARSE with err
 * on a malformed record. */
int yg_ckpt_delta_apply(yg_value_t **state, const yg_value_t *record, bool keys_required,
                        yg_error_t *err);

/* True when a save whose parent is parent_id may be written as a delta
 * against base (base may be NULL): same checkpoint, chain not too deep. */
bool yg_ckpt_delta_base_fits(const yg_ckpt_delta_base_t *base, const char *parent_id);

/* Make base the state values (shared) of checkpoint id at depth.
 * YG_ENOMEM leaves base unchanged. */
int yg_ckpt_delta_base_set(yg_ckpt_delta_base_t *base, const char *id, const yg_value_t *values,
                           uint16_t depth);

/* Free what base holds and empty it. */
void yg_ckpt_delta_base_clear(yg_ckpt_delta_base_t *base);

/* File store counters: records appended and fsyncs done since open (for
 * tests of group commit).  YG_EINVAL if self is not a file store. */
int yg_ckpt_file_stats(const yg_ckpt_t *self, uint64_t *records, uint64_t *syncs);

/* Redis store counters (tests and benchmarks). */
#define YG_CKPT_REDIS_SCRIPTS 4
typedef struct yg_ckpt_redis_stats {
    uint64_t connects;  /* connections established */
    uint64_t commands;  /* commands sent (one per operation, plus handshakes and resends) */
    uint64_t snapshots; /* save records sent as full snapshots */
    uint64_t deltas;    /* save records sent as deltas */
    uint64_t resolves;  /* host name lookups (blocking: only at creation, see yg_redis_loop.h) */
    bool connected;
    char script_sha[YG_CKPT_REDIS_SCRIPTS][41]; /* SHA-1 of the save/load/list/delete scripts */
} yg_ckpt_redis_stats_t;
/* YG_EINVAL if self is not a Redis store. */
int yg_ckpt_redis_stats(const yg_ckpt_t *self, yg_ckpt_redis_stats_t *out);

#endif
