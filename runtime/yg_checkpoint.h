/*
 * yg_checkpoint.h - checkpoint records and the asynchronous checkpoint store.
 *
 * A checkpoint is everything needed to resume a thread (spec §9.2): its
 * identity (thread, namespace, id, parent), the step, the full state values,
 * the nodes and tasks still due, the writes of tasks that already finished
 * in an unfinished step and the pending interrupts.
 *
 * A store (yg_ckpt_t) keeps checkpoints per (thread id, namespace) as a
 * history chain.  Stores are asynchronous: every operation returns at once
 * and reports its outcome through a callback.
 *
 * THREADING.  A store belongs to ONE thread, the one that created it and
 * runs the zloop passed at creation.  Every call must come from that thread
 * and every callback runs on it, from inside that zloop.  No call blocks
 * the thread, except the constructors (a file store scans its file before
 * yg_ckpt_file_new returns) and yg_ckpt_destroy (which finishes queued
 * file writes).
 *
 * COMPLETIONS ARE DEFERRED.  An operation that returns YG_OK calls its
 * callback exactly once, later, from the owner's zloop - never from inside
 * the call that started it (so a callback may start the next operation
 * without recursion, and callers need no re-entrancy guard).  Operations on
 * one store complete in the order they were started.  An operation that
 * returns an error code (< 0) never calls its callback.  Exception: a
 * memory store created with loop == NULL completes inline, before the call
 * returns (for tools and tests that have no loop).
 * yg_ckpt_destroy completes every outstanding operation: it calls their
 * callbacks with their real outcome when known, else with YG_ECLOSED.  It
 * must not be called from inside a callback of the same store (asserted).
 *
 * VALUE SHARING.  yg_ckpt_save does not deep-copy: the store takes its own
 * reference to each top-level value in ckpt->values and to next, tasks,
 * writes, interrupts and meta (values are refcounted, see yg_value.h).  The
 * caller keeps its own references and may replace keys in its own state
 * map freely, but must treat the saved value objects as immutable from
 * then on (copy-on-write: yg_value_copy before changing one; the value
 * mutators assert on shared values).  The same holds for a loaded
 * checkpoint: the callee owns the yg_checkpoint_t and its values map, but
 * the values inside may be shared with the store.
 * The file store encodes at save time and shares nothing.
 */
#ifndef YG_CHECKPOINT_H
#define YG_CHECKPOINT_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the checkpoint encoding (first byte of yg_checkpoint_encode). */
#define YG_CHECKPOINT_FORMAT_VERSION 1
/* Longest accepted thread id, namespace and checkpoint id, in bytes. */
#define YG_CHECKPOINT_THREAD_ID_MAX 1024
#define YG_CHECKPOINT_NS_MAX 1024
#define YG_CHECKPOINT_ID_MAX 128
/* Hex SHA-256 plus NUL. */
#define YG_CHECKPOINT_HASH_SIZE 65

/* Checkpoint sources (metadata.source). */
#define YG_CKPT_SOURCE_INPUT "input"
#define YG_CKPT_SOURCE_LOOP "loop"
#define YG_CKPT_SOURCE_UPDATE "update"
#define YG_CKPT_SOURCE_RESUME "resume"

/* One checkpoint.  All strings are malloc'd and owned by the record; all
 * values are references owned by the record (NULL means "none"). */
typedef struct yg_checkpoint {
    char *thread_id;        /* required */
    char *ns;               /* "" for the top-level graph; "<node>" chain for subgraphs */
    char *id;               /* time-ordered unique id; assigned by the store on save if NULL */
    char *parent_id;        /* NULL for the first checkpoint of a thread */
    int64_t step;           /* -1 = input applied, then 0, 1, 2 ... */
    char *source;           /* "input" | "loop" | "update" | "resume" (NULL reads as "loop") */
    int64_t created_at_ms;  /* wall clock, ms since the epoch; 0 = set by the store on save */
    char graph_hash[YG_CHECKPOINT_HASH_SIZE]; /* hex SHA-256 of the graph, "" if unknown */
    yg_value_t *values;     /* full state map as seen by the caller */
    yg_value_t *next;       /* list of node names due next (get_state "next") */
    yg_value_t *tasks;      /* pending tasks: list of maps {node, payload?, map_index?, id} */
    yg_value_t *writes;     /* completed-task writes of an unfinished step: list of {task, update} */
    yg_value_t *interrupts; /* pending interrupts: list of maps {id, node, value} */
    yg_value_t *meta;       /* free-form map (run id, status, error ...) or NULL */
} yg_checkpoint_t;

/* A new empty checkpoint (step -1, source "input", values an empty map).
 * ns NULL means "".  Returns NULL on ENOMEM or a NULL thread_id. */
yg_checkpoint_t *yg_checkpoint_new(const char *thread_id, const char *ns);
/* Free the record and drop its value references; sets *self_p to NULL. */
void yg_checkpoint_destroy(yg_checkpoint_t **self_p);
/* A new record with copied strings and NEW REFERENCES to the same values
 * (not a deep copy; see VALUE SHARING).  NULL on ENOMEM. */
yg_checkpoint_t *yg_checkpoint_copy(const yg_checkpoint_t *self);
/* Set self->id to a fresh time-ordered unique id (replacing any old one).
 * Ids sort lexicographically in creation order within a process and are
 * unique across processes with overwhelming probability.  Returns YG_OK
 * or YG_ENOMEM.  Callers that need the id (e.g. as the next parent_id)
 * assign it before yg_ckpt_save. */
int yg_checkpoint_assign_id(yg_checkpoint_t *self);
/* Check the record is storable: thread_id set, string lengths within the
 * limits above, values a map (or NULL), next/tasks/writes/interrupts lists
 * (or NULL), meta a map (or NULL).  Returns YG_OK or YG_EINVAL with err. */
int yg_checkpoint_validate(const yg_checkpoint_t *self, yg_error_t *err);

/* The record as a value map {thread_id, ns, id, parent_id, step, source,
 * created_at_ms, graph_hash, values, next, tasks, writes, interrupts, meta}
 * (absent parts are null).  Shares values by reference.  This is the shape
 * yg_ckpt_list returns and `yamlgraph history` prints.  NULL on ENOMEM. */
yg_value_t *yg_checkpoint_to_map(const yg_checkpoint_t *self);
/* The inverse, validating types; map is borrowed (values are referenced). */
yg_checkpoint_t *yg_checkpoint_from_map(const yg_value_t *map, yg_error_t *err);

/* Versioned encoding: one format-version byte, then the msgpack of
 * yg_checkpoint_to_map.  *data is malloc'd (free()).  YG_OK or YG_ENOMEM. */
int yg_checkpoint_encode(const yg_checkpoint_t *self, char **data, size_t *size);
/* Decode; any malformed, truncated or unknown-version input gives NULL and
 * an error (YG_EPARSE / YG_ELIMIT / YG_EUNSUPPORTED), never a crash. */
yg_checkpoint_t *yg_checkpoint_decode(const char *data, size_t size, yg_error_t *err);

/* ------------------------------------------------------------------------
 * Stores
 * ------------------------------------------------------------------------ */

typedef struct yg_ckpt yg_ckpt_t;

/* Completion callbacks; status is YG_OK or a negative yg_code_t, err is
 * NULL on success and borrowed (valid during the call) otherwise. */
typedef void(yg_ckpt_done_fn)(int status, const yg_error_t *err, void *arg);
/* ckpt is owned by the callee (yg_checkpoint_destroy); NULL with status
 * YG_ENOTFOUND when the thread/namespace/id does not exist. */
typedef void(yg_ckpt_load_fn)(int status, yg_checkpoint_t *ckpt, const yg_error_t *err,
                              void *arg);
/* history is a list of yg_checkpoint_to_map maps (full values), newest
 * first, owned by the callee; an empty list when the thread is unknown. */
typedef void(yg_ckpt_list_fn)(int status, yg_value_t *history, const yg_error_t *err,
                              void *arg);

/* Store a checkpoint (borrowed; see VALUE SHARING).  If ckpt->id is NULL
 * the store assigns one (the caller does not learn it: prefer
 * yg_checkpoint_assign_id).  Saving an id that already exists in the
 * thread/namespace fails with YG_EINVAL.  For the file store the callback
 * runs only after the record is on disk (fsync).  Returns YG_OK (callback
 * will run) or YG_EINVAL / YG_ENOMEM / YG_ECLOSED (callback will not). */
int yg_ckpt_save(yg_ckpt_t *self, const yg_checkpoint_t *ckpt, yg_ckpt_done_fn *done,
                 void *arg);
/* Load the newest checkpoint of thread_id/ns (ns NULL means ""). */
int yg_ckpt_load_latest(yg_ckpt_t *self, const char *thread_id, const char *ns,
                        yg_ckpt_load_fn *done, void *arg);
/* Load one checkpoint by id. */
int yg_ckpt_load(yg_ckpt_t *self, const char *thread_id, const char *ns,
                 const char *checkpoint_id, yg_ckpt_load_fn *done, void *arg);
/* The history of thread_id/ns, newest first, at most limit entries
 * (0 = all). */
int yg_ckpt_list(yg_ckpt_t *self, const char *thread_id, const char *ns, size_t limit,
                 yg_ckpt_list_fn *done, void *arg);
/* Delete every checkpoint of thread_id in all namespaces.  Deleting an
 * unknown thread succeeds. */
int yg_ckpt_delete_thread(yg_ckpt_t *self, const char *thread_id, yg_ckpt_done_fn *done,
                          void *arg);
/* Destroy the store (see COMPLETIONS for outstanding operations); sets
 * *self_p to NULL.  NULL-safe. */
void yg_ckpt_destroy(yg_ckpt_t **self_p);
/* "memory", "file" or "redis" (for logs and `yamlgraph` messages). */
const char *yg_ckpt_kind(const yg_ckpt_t *self);
/* Is the store served by another process (Redis)?  Its operations then wait
 * on a server that may share this host's CPUs. */
bool yg_ckpt_is_remote(const yg_ckpt_t *self);

/* In-process store; everything is lost when it is destroyed.  Stores each
 * checkpoint as the keys that changed since its parent, sharing unchanged
 * values, with a full key snapshot every YG_CKPT_SNAPSHOT_INTERVAL
 * checkpoints.  loop may be NULL (completions are then inline).
 * NULL on ENOMEM. */
yg_ckpt_t *yg_ckpt_memory_new(zloop_t *loop);

/* Durable embedded store: an append-only log file at path, created if
 * absent, locked against other processes (a second opener gets YG_EBUSY),
 * scanned at open (a torn or corrupt tail is truncated), written and
 * fsync'd by a dedicated I/O thread; a save completes only once on disk.
 * See docs/checkpoints.md for the format.  loop is required.
 * NULL with err on failure. */
yg_ckpt_t *yg_ckpt_file_new(zloop_t *loop, const char *path, yg_error_t *err);
/* Rewrite a file store's log without the records of deleted threads and
 * without tombstones (atomically: write a new file, fsync, rename), from
 * the I/O thread; completes like any other operation.  YG_EINVAL on a
 * store that is not a file store. */
int yg_ckpt_file_compact(yg_ckpt_t *self, yg_ckpt_done_fn *done, void *arg);

/* Redis store (docs/redis.md): one hiredis async connection driven by
 * loop (required).  url is redis://[[user]:password@]host[:port][/db],
 * unix:///path[?db=N] or an absolute socket path.  key_prefix NULL means
 * "lg:".  ttl_seconds > 0 makes every key of a thread's namespace expire
 * that long after its latest save; <= 0 means no expiry.  Stores each
 * checkpoint as the keys changed since its parent, with a snapshot every
 * YG_CKPT_SNAPSHOT_INTERVAL; every load reads Redis, so another process
 * can resume a thread.  NULL with err for a bad URL or argument; an
 * unreachable server is not an error here (operations then fail with
 * YG_EIO, or YG_ETIMEOUT when the server stops answering). */
yg_ckpt_t *yg_ckpt_redis_new(zloop_t *loop, const char *url, const char *key_prefix,
                             int64_t ttl_seconds, yg_error_t *err);
/* Deadline of each Redis operation started from now on, in ms (default
 * 5000).  YG_EINVAL if self is not a Redis store or timeout_ms <= 0. */
int yg_ckpt_redis_set_timeout(yg_ckpt_t *self, int timeout_ms);

/* Open a store from a CLI/config spec: "memory" (or ":memory:") gives a
 * memory store, "redis://...", "unix://..." a Redis store (prefix "lg:",
 * no TTL), "file:PATH" or a bare PATH a file store. */
yg_ckpt_t *yg_ckpt_open(zloop_t *loop, const char *spec, yg_error_t *err);

/* A memory store writes a full key snapshot after this many deltas, so
 * materialising a checkpoint walks at most this many records. */
#define YG_CKPT_SNAPSHOT_INTERVAL 16

#ifdef __cplusplus
}
#endif
#endif
