/*
 * yg_ckpt_redis.c - the Redis checkpoint store (plain Redis: core commands
 * and Lua scripts, no modules), on one hiredis async connection driven by
 * the owner's zloop (yg_redis_loop.h).
 *
 * Key layout (docs/redis.md is the reference; P is the key prefix, "lg:"
 * by default; t and n are the thread id and namespace with '%', ':', '{',
 * '}', spaces and control bytes %-escaped, so the layout is unambiguous):
 *
 *   P{t}:n:head   hash  latest (newest id), step, count
 *   P{t}:n:data   hash  checkpoint id -> record
 *   P{t}:n:base   hash  checkpoint id -> id of its delta base (deltas only)
 *   P{t}:n:hist   zset  checkpoint ids scored by save sequence (history)
 *   P{t}:ns       set   the thread's namespaces (n), for delete
 *
 * A record is one format-version byte and a msgpack map: a snapshot is
 * exactly yg_checkpoint_encode's output; a delta replaces "values" by
 * "base" (the parent id), "changed" (keys whose value changed) and
 * "removed" (keys that went away).  A delta is written when the store
 * still holds the parent's state (it saved or loaded it) and fewer than
 * YG_CKPT_SNAPSHOT_INTERVAL deltas sit on the last snapshot; so a
 * checkpoint costs what changed, and loading one reads at most that many
 * records.  That per-thread cache only decides what to write: every load
 * reads Redis, so another process can resume any thread.
 *
 * Each operation is one EVALSHA (one round trip, atomic on the server):
 * save checks the id is new and the delta base exists, then writes the
 * record, the history entry, the head and (with a TTL) EXPIREs every key
 * of the thread's namespace; load walks the delta chain server-side and
 * returns its records; list returns every record the listed checkpoints
 * need; delete UNLINKs every key of every namespace of the thread.  The
 * scripts are loaded (SCRIPT LOAD) at the start of every connection; a
 * NOSCRIPT reply (SCRIPT FLUSH) resends the body with EVAL.
 *
 * Completions are delivered from the connection's callbacks (so from the
 * owner's zloop, never inside the call that started the operation), in
 * start order: a finished operation waits for those before it.
 */
#define _GNU_SOURCE /* vasprintf */
#include "yg_checkpoint.h"
#include "yg_ckpt_internal.h"
#include "yg_redis_loop.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_DEFAULT_PREFIX "lg:"
#define REDIS_PREFIX_MAX 256
/* Largest TTL accepted (Redis takes more, but beyond this it is a typo). */
#define REDIS_TTL_MAX_S ((int64_t)100 * 365 * 24 * 3600)
/* Largest record written or read: one maximal encoded state plus room for
 * the record's metadata. */
#define REDIS_RECORD_MAX ((size_t)YG_LIMIT_DEFAULT_BYTES + 65536u)
/* A delta chain longer than this is treated as damage (the store writes
 * at most YG_CKPT_SNAPSHOT_INTERVAL - 1 deltas on a snapshot). */
#define REDIS_CHAIN_WALK_MAX (4 * YG_CKPT_SNAPSHOT_INTERVAL)
/* Threads whose newest state is kept for delta encoding; beyond this the
 * cache is emptied (the next save of each thread is a snapshot). */
#define REDIS_CACHE_MAX 1024
/* Sends of one save at most: EVALSHA, EVAL after NOSCRIPT, then once more
 * as a snapshot after a missing delta base (which may meet NOSCRIPT). */
#define REDIS_SEND_MAX 4
/* Record fields of a delta (instead of "values"). */
#define RECORD_KEY_BASE "base"
/* Error reply prefixes of our scripts. */
#define REPLY_DUPLICATE "YGDUP"
#define REPLY_NO_BASE "YGNOBASE"
#define REPLY_TOO_DEEP "YGDEEP"
#define REPLY_NOSCRIPT "NOSCRIPT"
#define SHA1_HEX 41
#define SCRIPT_SAVE_KEYS 5

/* --- server-side scripts ------------------------------------------------------ */

/* KEYS head data base hist nsset; ARGV id record base_id step ttl ns. */
static const char SCRIPT_SAVE[] =
    "local id, base = ARGV[1], ARGV[3]\n"
    "if base ~= '' and redis.call('HEXISTS', KEYS[2], base) == 0 then\n"
    "  return redis.error_reply('" REPLY_NO_BASE " delta base is missing')\n"
    "end\n"
    "if redis.call('HSETNX', KEYS[2], id, ARGV[2]) == 0 then\n"
    "  return redis.error_reply('" REPLY_DUPLICATE " checkpoint id exists')\n"
    "end\n"
    "if base ~= '' then redis.call('HSET', KEYS[3], id, base) end\n"
    "local n = redis.call('HINCRBY', KEYS[1], 'count', 1)\n"
    "redis.call('ZADD', KEYS[4], n, id)\n"
    "redis.call('HSET', KEYS[1], 'latest', id, 'step', ARGV[4])\n"
    "if n == 1 then redis.call('SADD', KEYS[5], ARGV[6]) end\n"
    "local ttl = tonumber(ARGV[5])\n"
    "if ttl > 0 then\n"
    "  for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end\n"
    "end\n"
    "return n\n";

/* KEYS head data base; ARGV id ('' = latest) max_walk.
 * Returns nil, or {ids newest first, their records}. */
static const char SCRIPT_LOAD[] =
    "local id = ARGV[1]\n"
    "if id == '' then\n"
    "  id = redis.call('HGET', KEYS[1], 'latest')\n"
    "  if not id then return false end\n"
    "end\n"
    "local ids, max = {id}, tonumber(ARGV[2])\n"
    "local b = redis.call('HGET', KEYS[3], id)\n"
    "while b do\n"
    "  if #ids >= max then\n"
    "    return redis.error_reply('" REPLY_TOO_DEEP " delta chain too long')\n"
    "  end\n"
    "  ids[#ids + 1] = b\n"
    "  b = redis.call('HGET', KEYS[3], b)\n"
    "end\n"
    "return {ids, redis.call('HMGET', KEYS[2], unpack(ids))}\n";

/* KEYS data base hist; ARGV limit (0 = all) max_walk.
 * Returns {listed ids newest first, needed ids, their bases ('' for a
 * snapshot), their records}. */
static const char SCRIPT_LIST[] =
    "local ids = redis.call('ZREVRANGE', KEYS[3], 0, tonumber(ARGV[1]) - 1)\n"
    "local seen, order, bases, max = {}, {}, {}, tonumber(ARGV[2])\n"
    "for _, id in ipairs(ids) do\n"
    "  local cur, steps = id, 0\n"
    "  while cur and not seen[cur] do\n"
    "    seen[cur] = true\n"
    "    local b = redis.call('HGET', KEYS[2], cur)\n"
    "    order[#order + 1] = cur\n"
    "    bases[#bases + 1] = b or ''\n"
    "    cur = b\n"
    "    steps = steps + 1\n"
    "    if steps > max then\n"
    "      return redis.error_reply('" REPLY_TOO_DEEP " delta chain too long')\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local recs = {}\n"
    "for i = 1, #order, 256 do\n"
    "  local chunk = {}\n"
    "  for j = i, math.min(i + 255, #order) do chunk[#chunk + 1] = order[j] end\n"
    "  local got = redis.call('HMGET', KEYS[1], unpack(chunk))\n"
    "  for j = 1, #chunk do recs[#recs + 1] = got[j] end\n"
    "end\n"
    "return {ids, order, bases, recs}\n";

/* KEYS nsset; ARGV the thread's key stem "P{t}:". */
static const char SCRIPT_DELETE[] =
    "local members = redis.call('SMEMBERS', KEYS[1])\n"
    "for _, n in ipairs(members) do\n"
    "  local p = ARGV[1] .. n .. ':'\n"
    "  redis.call('UNLINK', p .. 'head', p .. 'data', p .. 'base', p .. 'hist')\n"
    "end\n"
    "redis.call('UNLINK', KEYS[1])\n"
    "return #members\n";

typedef enum { SCRIPT_ID_SAVE, SCRIPT_ID_LOAD, SCRIPT_ID_LIST, SCRIPT_ID_DELETE, SCRIPT_N } script_id_t;
_Static_assert(SCRIPT_N == YG_CKPT_REDIS_SCRIPTS, "script count");

static const char *const s_scripts[SCRIPT_N] = {SCRIPT_SAVE, SCRIPT_LOAD, SCRIPT_LIST,
                                                SCRIPT_DELETE};

/* --- SHA-1 (for EVALSHA; Redis names scripts by it) -------------------------- */

static uint32_t rol32(uint32_t v, int n)
{
    return (v << n) | (v >> (32 - n));
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16
               | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/* Lower-case hex SHA-1 of data into out[SHA1_HEX]. */
static void sha1_hex(const char *data, size_t len, char out[SHA1_HEX])
{
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    const unsigned char *p = (const unsigned char *)data;
    size_t full = len / 64 * 64;
    for (size_t i = 0; i < full; i += 64)
        sha1_block(h, p + i);
    unsigned char tail[128] = {0};
    size_t rest = len - full;
    memcpy(tail, p + full, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tail_len - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t i = 0; i < tail_len; i += 64)
        sha1_block(h, tail + i);
    for (int i = 0; i < 5; i++)
        snprintf(out + 8 * i, 9, "%08" PRIx32, h[i]);
}

/* --- the store ------------------------------------------------------------------- */

typedef enum { OP_SAVE, OP_LOAD, OP_LIST, OP_DELETE } op_kind_t;

/* Up to this many command arguments: EVALSHA sha numkeys + 5 keys + 6 args. */
#define OP_ARGV_MAX 14

typedef struct redis_op {
    struct redis_op *next;
    struct redis_store *store;
    op_kind_t kind;
    bool finished;
    int status;
    char *message;           /* error text when status != YG_OK */
    union {
        yg_ckpt_done_fn *done;
        yg_ckpt_load_fn *load;
        yg_ckpt_list_fn *list;
    } fn;
    void *arg;
    void *result;            /* yg_checkpoint_t * or yg_value_t *, for the callee */
    script_id_t script;
    int argc;                /* the command, kept for a resend */
    char *argv[OP_ARGV_MAX];
    size_t argvlen[OP_ARGV_MAX];
    int sends;
    char *thread_id;
    char *cache_key;         /* "P{t}:n:" of the checkpoint's chain */
    yg_checkpoint_t *ckpt;   /* save as a delta: the record, to resend as a snapshot */
} redis_op_t;

typedef struct redis_store {
    yg_ckpt_t base; /* must be first */
    zloop_t *loop;
    yg_redis_t *redis;
    char *prefix;
    int64_t ttl_s;
    char sha[SCRIPT_N][SHA1_HEX];
    zhashx_t *cache; /* cache key -> yg_ckpt_delta_base_t */
    redis_op_t *head, *tail; /* outstanding operations, oldest first */
    bool destroying;
    uint64_t snapshots, deltas; /* records sent, by kind */
} redis_store_t;

/* --- keys ------------------------------------------------------------------------ */

static bool needs_escape(unsigned char c)
{
    return c <= ' ' || c == 0x7f || c == '%' || c == ':' || c == '{' || c == '}';
}

/* Append s, %-escaped, to out (sized by the caller: 3 bytes per input
 * byte); returns the new end. */
static char *escape_into(char *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (needs_escape(*p)) {
            *out++ = '%';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 15];
        } else {
            *out++ = (char)*p;
        }
    }
    *out = '\0';
    return out;
}

/* "P{t}:" - the stem of every key of a thread; malloc'd. */
static char *thread_stem(const redis_store_t *self, const char *thread_id)
{
    size_t plen = strlen(self->prefix);
    char *stem = malloc(plen + 3 * strlen(thread_id) + 4);
    if (!stem)
        return NULL;
    memcpy(stem, self->prefix, plen);
    char *end = stem + plen;
    *end++ = '{';
    end = escape_into(end, thread_id);
    memcpy(end, "}:", 3);
    return stem;
}

/* "P{t}:n:" - the stem of a namespace's keys; malloc'd. */
static char *chain_stem(const redis_store_t *self, const char *thread_id, const char *ns)
{
    char *stem = thread_stem(self, thread_id);
    if (!stem)
        return NULL;
    size_t slen = strlen(stem);
    char *out = realloc(stem, slen + 3 * strlen(ns) + 2);
    if (!out) {
        free(stem);
        return NULL;
    }
    char *end = escape_into(out + slen, ns);
    memcpy(end, ":", 2);
    return out;
}

/* --- the delta cache ---------------------------------------------------------------- */

static void cache_entry_free(void **item)
{
    yg_ckpt_delta_base_t *entry = *item;
    if (!entry)
        return;
    yg_ckpt_delta_base_clear(entry);
    free(entry);
    *item = NULL;
}

/* Remember values (shared) as the state of checkpoint id of chain key.
 * A failure only costs a snapshot later, so it is not reported. */
static void cache_remember(redis_store_t *self, const char *key, const char *id,
                           const yg_value_t *values, uint16_t depth)
{
    yg_ckpt_delta_base_t *entry = calloc(1, sizeof *entry);
    if (!entry || yg_ckpt_delta_base_set(entry, id, values, depth) != YG_OK) {
        free(entry);
        zhashx_delete(self->cache, key);
        return;
    }
    if (!zhashx_lookup(self->cache, key) && zhashx_size(self->cache) >= REDIS_CACHE_MAX)
        zhashx_purge(self->cache);
    zhashx_update(self->cache, key, entry);
}

/* Forget every chain of the thread whose stem is given. */
static void cache_forget_thread(redis_store_t *self, const char *stem)
{
    size_t slen = strlen(stem);
    zlistx_t *keys = zhashx_keys(self->cache);
    for (const char *k = keys ? zlistx_first(keys) : NULL; k; k = zlistx_next(keys))
        if (strncmp(k, stem, slen) == 0)
            zhashx_delete(self->cache, k);
    if (!keys)
        zhashx_purge(self->cache);
    zlistx_destroy(&keys);
}

/* --- operations and completions ------------------------------------------------------- */

static void op_free(redis_op_t *op)
{
    for (int i = 0; i < op->argc; i++)
        free(op->argv[i]);
    free(op->message);
    free(op->thread_id);
    free(op->cache_key);
    yg_checkpoint_destroy(&op->ckpt);
    free(op);
}

static redis_op_t *op_new(redis_store_t *self, op_kind_t kind, script_id_t script, void *fn,
                          void *arg)
{
    redis_op_t *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->store = self;
    op->kind = kind;
    op->script = script;
    op->arg = arg;
    if (kind == OP_LOAD)
        op->fn.load = (yg_ckpt_load_fn *)fn;
    else if (kind == OP_LIST)
        op->fn.list = (yg_ckpt_list_fn *)fn;
    else
        op->fn.done = (yg_ckpt_done_fn *)fn;
    return op;
}

/* Append an argument (binary, copied); false on ENOMEM. */
static bool op_arg(redis_op_t *op, const char *data, size_t len)
{
    assert(op->argc < OP_ARGV_MAX);
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, data, len);
    copy[len] = '\0';
    op->argv[op->argc] = copy;
    op->argvlen[op->argc] = len;
    op->argc++;
    return true;
}

static bool op_str(redis_op_t *op, const char *s)
{
    return s && op_arg(op, s, strlen(s));
}

/* Start the command: EVALSHA sha numkeys, then the keys and arguments. */
static bool op_begin(redis_op_t *op, int nkeys)
{
    char n[8];
    snprintf(n, sizeof n, "%d", nkeys);
    return op_str(op, "EVALSHA") && op_str(op, op->store->sha[op->script]) && op_str(op, n);
}

/* Chain key "P{t}:n:" + suffix. */
static bool op_key(redis_op_t *op, const char *stem, const char *suffix)
{
    size_t slen = strlen(stem), xlen = strlen(suffix);
    char *key = malloc(slen + xlen + 1);
    if (!key)
        return false;
    memcpy(key, stem, slen);
    memcpy(key + slen, suffix, xlen + 1);
    bool ok = op_arg(op, key, slen + xlen);
    free(key);
    return ok;
}

static void on_command(int status, const redisReply *reply, const yg_error_t *err, void *arg);

static int op_send(redis_op_t *op)
{
    op->sends++;
    return yg_redis_command(op->store->redis, op->argc, (const char **)op->argv, op->argvlen,
                            on_command, op);
}

/* Queue op behind the outstanding ones and send it; on failure op is
 * freed and the error returned (the callback will not run). */
static int op_submit(redis_store_t *self, redis_op_t *op)
{
    int rc = op_send(op);
    if (rc != YG_OK) {
        op_free(op);
        return rc;
    }
    if (self->tail)
        self->tail->next = op;
    else
        self->head = op;
    self->tail = op;
    return YG_OK;
}

static void op_finish(redis_op_t *op, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void op_finish(redis_op_t *op, int status, const char *fmt, ...)
{
    op->finished = true;
    op->status = status;
    if (status != YG_OK && fmt) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&op->message, fmt, ap) < 0)
            op->message = NULL;
        va_end(ap);
    }
}

static void op_deliver(redis_store_t *self, redis_op_t *op)
{
    yg_error_t err = {0};
    if (op->status != YG_OK)
        yg_error_set(&err, op->status, "%s",
                     op->message ? op->message : yg_strerror(op->status));
    const yg_error_t *errp = op->status != YG_OK ? &err : NULL;
    self->base.in_callback++;
    switch (op->kind) {
    case OP_LOAD:
        op->fn.load(op->status, op->result, errp, op->arg);
        break;
    case OP_LIST:
        op->fn.list(op->status, op->result, errp, op->arg);
        break;
    default:
        op->fn.done(op->status, errp, op->arg);
        break;
    }
    self->base.in_callback--;
}

/* Deliver every finished operation at the head, in start order. */
static void drain(redis_store_t *self)
{
    while (self->head && self->head->finished) {
        redis_op_t *op = self->head;
        self->head = op->next;
        if (!self->head)
            self->tail = NULL;
        op_deliver(self, op);
        op->result = NULL; /* handed over */
        op_free(op);
    }
}

/* --- records ---------------------------------------------------------------------------- */

/* Encode ckpt (whose id and created_at are final) as a snapshot, or as a
 * delta against base_values when given. */
static int record_encode(const yg_checkpoint_t *ckpt, const yg_value_t *base_values,
                         char **data, size_t *size)
{
    yg_value_t *map = yg_checkpoint_to_map_ex(ckpt, false);
    if (!map)
        return YG_ENOMEM;
    int rc;
    if (base_values) {
        yg_value_t *base = yg_str_new(ckpt->parent_id);
        rc = base ? yg_map_set(map, RECORD_KEY_BASE, base) : YG_ENOMEM;
        if (rc == YG_OK)
            rc = yg_ckpt_delta_fill(map, base_values, ckpt->values);
    } else {
        yg_value_t *values = ckpt->values ? yg_value_ref(ckpt->values) : yg_map_new();
        rc = values ? yg_map_set(map, YG_CKPT_KEY_VALUES, values) : YG_ENOMEM;
    }
    if (rc == YG_OK)
        rc = yg_ckpt_pack_map(map, REDIS_RECORD_MAX, data, size);
    yg_value_destroy(&map);
    return rc;
}

/* Decode one stored record into its map; NULL with err. */
static yg_value_t *record_decode(const redisReply *r, const char *id, yg_error_t *err)
{
    if (!r || r->type != REDIS_REPLY_STRING || r->len < 2) {
        yg_error_set(err, YG_EIO, "checkpoint %s: record missing or not a string", id);
        return NULL;
    }
    if ((unsigned char)r->str[0] != YG_CHECKPOINT_FORMAT_VERSION) {
        yg_error_set(err, YG_EUNSUPPORTED,
                     "checkpoint %s: format version %u is not supported (this build reads %u)",
                     id, (unsigned char)r->str[0], YG_CHECKPOINT_FORMAT_VERSION);
        return NULL;
    }
    if (r->len > REDIS_RECORD_MAX) {
        yg_error_set(err, YG_ELIMIT, "checkpoint %s: record of %zu bytes is too large", id,
                     r->len);
        return NULL;
    }
    yg_value_t *map = yg_msgpack_decode(r->str + 1, r->len - 1, NULL, err);
    if (map && yg_value_type(map) != YG_MAP) {
        yg_error_set(err, YG_EPARSE, "checkpoint %s: record is not a map", id);
        yg_value_destroy(&map);
    }
    return map;
}

/* The checkpoint at the top of a chain of decoded records, newest first:
 * recs[n-1] is a snapshot, the others deltas.  Takes nothing. */
static yg_checkpoint_t *chain_materialise(yg_value_t *const *recs, size_t n,
                                          const char *thread_id, const char *id,
                                          yg_error_t *err)
{
    const yg_value_t *snapshot = recs[n - 1];
    const yg_value_t *values = yg_map_get(snapshot, YG_CKPT_KEY_VALUES);
    if (yg_value_type(values) != YG_MAP) {
        yg_error_set(err, YG_EIO, "checkpoint %s of thread %s: its chain does not start with a "
                                  "snapshot",
                     id, thread_id);
        return NULL;
    }
    yg_value_t *state = yg_ckpt_map_shallow_copy(values);
    int rc = state ? YG_OK : yg_error_set(err, YG_ENOMEM, "out of memory");
    for (size_t i = n - 1; rc == YG_OK && i-- > 0;) {
        if (yg_map_get(recs[i], YG_CKPT_KEY_VALUES))
            rc = yg_error_set(err, YG_EIO, "checkpoint %s: a snapshot inside a delta chain", id);
        else
            rc = yg_ckpt_delta_apply(&state, recs[i], true, err);
    }
    yg_checkpoint_t *ckpt = rc == YG_OK ? yg_checkpoint_from_map_novalues(recs[0], err) : NULL;
    if (ckpt && (strcmp(ckpt->thread_id, thread_id) != 0 || !ckpt->id
                 || strcmp(ckpt->id, id) != 0)) {
        yg_error_set(err, YG_EIO, "checkpoint %s of thread %s: the stored record names "
                                  "another checkpoint",
                     id, thread_id);
        yg_checkpoint_destroy(&ckpt);
    }
    if (ckpt) {
        ckpt->values = state;
        state = NULL;
    }
    yg_value_destroy(&state);
    return ckpt;
}

/* --- replies ----------------------------------------------------------------------------- */

static bool reply_is_error(const redisReply *r, const char *prefix)
{
    size_t n = strlen(prefix);
    return r->type == REDIS_REPLY_ERROR && r->len >= n && memcmp(r->str, prefix, n) == 0;
}

/* Switch op's command from EVALSHA to EVAL with the script body. */
static bool op_use_eval(redis_op_t *op)
{
    const char *body = s_scripts[op->script];
    char *verb = strdup("EVAL"), *copy = strdup(body);
    if (!verb || !copy) {
        free(verb);
        free(copy);
        return false;
    }
    free(op->argv[0]);
    free(op->argv[1]);
    op->argv[0] = verb;
    op->argvlen[0] = 4;
    op->argv[1] = copy;
    op->argvlen[1] = strlen(body);
    return true;
}

/* A save whose delta base was missing (its own save failed): send the
 * record again as a snapshot. */
static bool op_resend_as_snapshot(redis_op_t *op)
{
    char *data = NULL;
    size_t size = 0;
    /* argv: verb sha 5 keys... id record base_id step ttl ns */
    int record_at = 3 + SCRIPT_SAVE_KEYS + 1, base_at = record_at + 1;
    if (!op->ckpt || record_encode(op->ckpt, NULL, &data, &size) != YG_OK)
        return false;
    char *empty = strdup("");
    if (!empty) {
        free(data);
        return false;
    }
    free(op->argv[record_at]);
    op->argv[record_at] = data;
    op->argvlen[record_at] = size;
    free(op->argv[base_at]);
    op->argv[base_at] = empty;
    op->argvlen[base_at] = 0;
    yg_checkpoint_destroy(&op->ckpt);
    redis_store_t *self = op->store;
    self->snapshots++;
    yg_ckpt_delta_base_t *entry = zhashx_lookup(self->cache, op->cache_key);
    if (entry && strcmp(entry->id, op->argv[3 + SCRIPT_SAVE_KEYS]) == 0)
        entry->depth = 0;
    return true;
}

static void finish_save(redis_op_t *op, const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER) {
        op_finish(op, YG_OK, NULL);
        return;
    }
    if (reply_is_error(r, REPLY_DUPLICATE))
        op_finish(op, YG_EINVAL, "a checkpoint with this id already exists in the thread");
    else
        op_finish(op, YG_EIO, "redis at %s: saving a checkpoint of thread %s: %.*s",
                  yg_redis_endpoint(op->store->redis), op->thread_id,
                  r->type == REDIS_REPLY_ERROR ? (int)r->len : 16,
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
}

static void finish_load(redis_op_t *op, const redisReply *r)
{
    if (r->type == REDIS_REPLY_NIL) {
        op_finish(op, YG_ENOTFOUND, "no such checkpoint");
        return;
    }
    const redisReply *ids = r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[0]
                                                                              : NULL;
    const redisReply *recs = ids ? r->element[1] : NULL;
    if (!ids || ids->type != REDIS_REPLY_ARRAY || recs->type != REDIS_REPLY_ARRAY
        || ids->elements == 0 || ids->elements != recs->elements
        || ids->elements > REDIS_CHAIN_WALK_MAX || ids->element[0]->type != REDIS_REPLY_STRING) {
        op_finish(op, YG_EIO, "redis at %s: unexpected reply loading a checkpoint",
                  yg_redis_endpoint(op->store->redis));
        return;
    }
    if (recs->element[0]->type != REDIS_REPLY_STRING) {
        op_finish(op, YG_ENOTFOUND, "no such checkpoint");
        return;
    }
    size_t n = ids->elements;
    yg_value_t *decoded[REDIS_CHAIN_WALK_MAX] = {0};
    yg_error_t err = {0};
    const char *id = ids->element[0]->str;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const redisReply *rid = ids->element[i];
        ok = rid->type == REDIS_REPLY_STRING
             && (decoded[i] = record_decode(recs->element[i], rid->str, &err)) != NULL;
        if (!ok && err.code == YG_OK)
            yg_error_set(&err, YG_EIO, "malformed reply");
    }
    yg_checkpoint_t *ckpt = ok ? chain_materialise(decoded, n, op->thread_id, id, &err) : NULL;
    for (size_t i = 0; i < n; i++)
        yg_value_destroy(&decoded[i]);
    if (!ckpt) {
        op_finish(op, err.code ? err.code : YG_EIO, "thread %s: %s", op->thread_id, err.message);
        return;
    }
    /* Saving the next step of this thread can now be a delta. */
    cache_remember(op->store, op->cache_key, ckpt->id, ckpt->values, (uint16_t)(n - 1));
    op->result = ckpt;
    op_finish(op, YG_OK, NULL);
}

/* Decoded records of a list reply, decoded once each on demand. */
typedef struct {
    const redisReply *order, *bases, *recs;
    yg_value_t **decoded;
    zhashx_t *index; /* id -> position + 1 */
} list_ctx_t;

static yg_value_t *list_record(list_ctx_t *lc, size_t at, yg_error_t *err)
{
    if (!lc->decoded[at])
        lc->decoded[at] = record_decode(lc->recs->element[at], lc->order->element[at]->str, err);
    return lc->decoded[at];
}

/* The checkpoint with the given id, from the list reply. */
static yg_value_t *list_entry(list_ctx_t *lc, const char *id, const char *thread_id,
                              yg_error_t *err)
{
    yg_value_t *chain[REDIS_CHAIN_WALK_MAX];
    size_t n = 0;
    const char *cur = id;
    while (cur) {
        size_t at = (size_t)(uintptr_t)zhashx_lookup(lc->index, cur);
        if (at == 0 || n == REDIS_CHAIN_WALK_MAX) {
            yg_error_set(err, YG_EIO, "checkpoint %s has lost its base record", id);
            return NULL;
        }
        at--;
        if (!(chain[n++] = list_record(lc, at, err)))
            return NULL;
        const redisReply *b = lc->bases->element[at];
        cur = b->len ? b->str : NULL;
    }
    yg_checkpoint_t *ckpt = chain_materialise(chain, n, thread_id, id, err);
    yg_value_t *map = ckpt ? yg_checkpoint_to_map(ckpt) : NULL;
    if (ckpt && !map)
        yg_error_set(err, YG_ENOMEM, "out of memory");
    yg_checkpoint_destroy(&ckpt);
    return map;
}

static bool string_array(const redisReply *r, size_t n)
{
    if (r->type != REDIS_REPLY_ARRAY || (n != SIZE_MAX && r->elements != n))
        return false;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return false;
    return true;
}

static void finish_list(redis_op_t *op, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 || !string_array(r->element[0], SIZE_MAX)
        || !string_array(r->element[1], SIZE_MAX)
        || !string_array(r->element[2], r->element[1]->elements)
        || r->element[3]->type != REDIS_REPLY_ARRAY
        || r->element[3]->elements != r->element[1]->elements) {
        op_finish(op, YG_EIO, "redis at %s: unexpected reply listing thread %s",
                  yg_redis_endpoint(op->store->redis), op->thread_id);
        return;
    }
    list_ctx_t lc = {.order = r->element[1], .bases = r->element[2], .recs = r->element[3]};
    size_t norder = lc.order->elements;
    lc.decoded = calloc(norder ? norder : 1, sizeof *lc.decoded);
    lc.index = zhashx_new();
    yg_value_t *history = yg_list_new();
    yg_error_t err = {0};
    int rc = lc.decoded && lc.index && history ? YG_OK : YG_ENOMEM;
    for (size_t i = 0; rc == YG_OK && i < norder; i++)
        if (zhashx_insert(lc.index, lc.order->element[i]->str, (void *)(uintptr_t)(i + 1)) != 0
            && !zhashx_lookup(lc.index, lc.order->element[i]->str))
            rc = YG_ENOMEM;
    const redisReply *listed = r->element[0];
    for (size_t i = 0; rc == YG_OK && i < listed->elements; i++) {
        yg_value_t *entry = list_entry(&lc, listed->element[i]->str, op->thread_id, &err);
        if (!entry)
            rc = err.code ? err.code : YG_ENOMEM;
        else if (yg_list_append(history, entry) != YG_OK)
            rc = YG_ENOMEM;
    }
    for (size_t i = 0; lc.decoded && i < norder; i++)
        yg_value_destroy(&lc.decoded[i]);
    free(lc.decoded);
    zhashx_destroy(&lc.index);
    if (rc != YG_OK) {
        yg_value_destroy(&history);
        op_finish(op, rc, "thread %s: %s", op->thread_id,
                  err.code ? err.message : "out of memory");
        return;
    }
    op->result = history;
    op_finish(op, YG_OK, NULL);
}

/* The connection's callback for every command of an operation. */
static void on_command(int status, const redisReply *reply, const yg_error_t *err, void *arg)
{
    redis_op_t *op = arg;
    redis_store_t *self = op->store;
    if (status != YG_OK) {
        op_finish(op, status, "%s", err ? err->message : yg_strerror(status));
    } else if (reply->type == REDIS_REPLY_ERROR) {
        bool resent = false;
        if (!self->destroying && op->sends < REDIS_SEND_MAX) {
            if (reply_is_error(reply, REPLY_NOSCRIPT))
                resent = op_use_eval(op) && op_send(op) == YG_OK;
            else if (op->kind == OP_SAVE && reply_is_error(reply, REPLY_NO_BASE))
                resent = op_resend_as_snapshot(op) && op_send(op) == YG_OK;
        }
        if (resent)
            return;
        if (op->kind == OP_SAVE)
            finish_save(op, reply);
        else
            op_finish(op, YG_EIO, "redis at %s: %.*s", yg_redis_endpoint(self->redis),
                      (int)reply->len, reply->str);
    } else {
        switch (op->kind) {
        case OP_SAVE:
            finish_save(op, reply);
            break;
        case OP_LOAD:
            finish_load(op, reply);
            break;
        case OP_LIST:
            finish_list(op, reply);
            break;
        case OP_DELETE:
            if (reply->type == REDIS_REPLY_INTEGER)
                op_finish(op, YG_OK, NULL);
            else
                op_finish(op, YG_EIO, "redis at %s: unexpected reply deleting thread %s",
                          yg_redis_endpoint(self->redis), op->thread_id);
            break;
        }
    }
    if (op->kind == OP_SAVE && op->status != YG_OK) {
        /* The chain's newest record may not exist: next save a snapshot. */
        yg_ckpt_delta_base_t *entry = zhashx_lookup(self->cache, op->cache_key);
        if (entry && op->argc > 3 + SCRIPT_SAVE_KEYS
            && strcmp(entry->id, op->argv[3 + SCRIPT_SAVE_KEYS]) == 0)
            zhashx_delete(self->cache, op->cache_key);
    }
    if (!self->destroying)
        drain(self);
}

/* --- vtable ------------------------------------------------------------------------ */

static int redis_save(yg_ckpt_t *base, const yg_checkpoint_t *ckpt, yg_ckpt_done_fn *done,
                      void *arg)
{
    redis_store_t *self = (redis_store_t *)base;
    if (self->destroying)
        return YG_ECLOSED;
    /* The record as stored: a copy with the id and timestamp made final. */
    yg_checkpoint_t *rec = yg_checkpoint_copy(ckpt);
    if (!rec || (!rec->id && yg_checkpoint_assign_id(rec) != YG_OK)
        || (!rec->ns && !(rec->ns = strdup("")))) {
        yg_checkpoint_destroy(&rec);
        return YG_ENOMEM;
    }
    if (!rec->created_at_ms)
        rec->created_at_ms = yg_ckpt_now_ms();
    redis_op_t *op = op_new(self, OP_SAVE, SCRIPT_ID_SAVE, (void *)done, arg);
    char *stem = chain_stem(self, rec->thread_id, rec->ns);
    char *tstem = thread_stem(self, rec->thread_id);
    char *escaped_ns = malloc(3 * strlen(rec->ns) + 1);
    if (!op || !stem || !tstem || !escaped_ns) {
        free(stem);
        free(tstem);
        free(escaped_ns);
        if (op)
            op_free(op);
        yg_checkpoint_destroy(&rec);
        return YG_ENOMEM;
    }
    escape_into(escaped_ns, rec->ns);
    op->cache_key = stem;
    const yg_ckpt_delta_base_t *cached = zhashx_lookup(self->cache, stem);
    bool delta = yg_ckpt_delta_base_fits(cached, rec->parent_id);
    char *record = NULL;
    size_t record_size = 0;
    int rc = record_encode(rec, delta ? cached->values : NULL, &record, &record_size);
    char step[24], ttl[24];
    snprintf(step, sizeof step, "%" PRId64, rec->step);
    snprintf(ttl, sizeof ttl, "%" PRId64, self->ttl_s);
    bool ok = rc == YG_OK && op_begin(op, SCRIPT_SAVE_KEYS) && op_key(op, stem, "head")
              && op_key(op, stem, "data") && op_key(op, stem, "base")
              && op_key(op, stem, "hist") && op_key(op, tstem, "ns") && op_str(op, rec->id)
              && op_arg(op, record, record_size) && op_str(op, delta ? rec->parent_id : "")
              && op_str(op, step) && op_str(op, ttl) && op_str(op, escaped_ns)
              && (op->thread_id = strdup(rec->thread_id));
    free(record);
    free(tstem);
    free(escaped_ns);
    if (!ok) {
        op_free(op);
        yg_checkpoint_destroy(&rec);
        return rc != YG_OK ? rc : YG_ENOMEM;
    }
    uint16_t depth = delta ? (uint16_t)(cached->depth + 1) : 0;
    rc = op_submit(self, op);
    if (rc == YG_OK) {
        if (delta)
            self->deltas++;
        else
            self->snapshots++;
        cache_remember(self, op->cache_key, rec->id, rec->values, depth);
        /* Keep the record only when a resend as a snapshot may need it. */
        if (delta)
            op->ckpt = rec;
        else
            yg_checkpoint_destroy(&rec);
    } else {
        yg_checkpoint_destroy(&rec);
    }
    return rc;
}

static int load_common(redis_store_t *self, const char *thread_id, const char *ns,
                       const char *id, yg_ckpt_load_fn *done, void *arg)
{
    if (self->destroying)
        return YG_ECLOSED;
    redis_op_t *op = op_new(self, OP_LOAD, SCRIPT_ID_LOAD, (void *)done, arg);
    char *stem = op ? chain_stem(self, thread_id, ns) : NULL;
    char walk[16];
    snprintf(walk, sizeof walk, "%d", REDIS_CHAIN_WALK_MAX);
    bool ok = stem && op_begin(op, 3) && op_key(op, stem, "head") && op_key(op, stem, "data")
              && op_key(op, stem, "base") && op_str(op, id ? id : "") && op_str(op, walk)
              && (op->thread_id = strdup(thread_id));
    if (op)
        op->cache_key = stem;
    if (!ok) {
        if (op)
            op_free(op);
        else
            free(stem);
        return YG_ENOMEM;
    }
    return op_submit(self, op);
}

static int redis_load_latest(yg_ckpt_t *base, const char *thread_id, const char *ns,
                             yg_ckpt_load_fn *done, void *arg)
{
    return load_common((redis_store_t *)base, thread_id, ns, NULL, done, arg);
}

static int redis_load(yg_ckpt_t *base, const char *thread_id, const char *ns, const char *id,
                      yg_ckpt_load_fn *done, void *arg)
{
    if (!*id)
        return YG_EINVAL; /* "" means "latest" to the script */
    return load_common((redis_store_t *)base, thread_id, ns, id, done, arg);
}

static int redis_list(yg_ckpt_t *base, const char *thread_id, const char *ns, size_t limit,
                      yg_ckpt_list_fn *done, void *arg)
{
    redis_store_t *self = (redis_store_t *)base;
    if (self->destroying)
        return YG_ECLOSED;
    redis_op_t *op = op_new(self, OP_LIST, SCRIPT_ID_LIST, (void *)done, arg);
    char *stem = op ? chain_stem(self, thread_id, ns) : NULL;
    char lim[24], walk[16];
    snprintf(lim, sizeof lim, "%zu", limit);
    snprintf(walk, sizeof walk, "%d", REDIS_CHAIN_WALK_MAX);
    bool ok = stem && op_begin(op, 3) && op_key(op, stem, "data") && op_key(op, stem, "base")
              && op_key(op, stem, "hist") && op_str(op, lim) && op_str(op, walk)
              && (op->thread_id = strdup(thread_id));
    free(stem);
    if (!ok) {
        if (op)
            op_free(op);
        return YG_ENOMEM;
    }
    return op_submit(self, op);
}

static int redis_delete_thread(yg_ckpt_t *base, const char *thread_id, yg_ckpt_done_fn *done,
                               void *arg)
{
    redis_store_t *self = (redis_store_t *)base;
    if (self->destroying)
        return YG_ECLOSED;
    redis_op_t *op = op_new(self, OP_DELETE, SCRIPT_ID_DELETE, (void *)done, arg);
    char *stem = op ? thread_stem(self, thread_id) : NULL;
    bool ok = stem && op_begin(op, 1) && op_key(op, stem, "ns") && op_str(op, stem)
              && (op->thread_id = strdup(thread_id));
    if (!ok) {
        free(stem);
        if (op)
            op_free(op);
        return YG_ENOMEM;
    }
    /* Saves issued from now on must not be deltas on deleted records. */
    cache_forget_thread(self, stem);
    free(stem);
    return op_submit(self, op);
}

static void redis_destroy(yg_ckpt_t *base)
{
    redis_store_t *self = (redis_store_t *)base;
    self->destroying = true;
    /* Outstanding commands fail with YG_ECLOSED (their outcome is unknown);
     * operations already answered keep their real outcome. */
    yg_redis_destroy(&self->redis);
    for (redis_op_t *op = self->head; op; op = op->next)
        if (!op->finished)
            op_finish(op, YG_ECLOSED, "checkpoint store closed before redis answered");
    drain(self);
    zhashx_destroy(&self->cache);
    free(self->prefix);
    free(self);
}

static const yg_ckpt_ops_t redis_ops = {
    .kind = "redis",
    .remote = true,
    .save = redis_save,
    .load_latest = redis_load_latest,
    .load = redis_load,
    .list = redis_list,
    .delete_thread = redis_delete_thread,
    .destroy = redis_destroy,
};

yg_ckpt_t *yg_ckpt_redis_new(zloop_t *loop, const char *url, const char *key_prefix,
                             int64_t ttl_seconds, yg_error_t *err)
{
    if (!key_prefix)
        key_prefix = REDIS_DEFAULT_PREFIX;
    if (strlen(key_prefix) > REDIS_PREFIX_MAX) {
        yg_error_set(err, YG_EINVAL, "redis key prefix longer than %d bytes", REDIS_PREFIX_MAX);
        return NULL;
    }
    if (ttl_seconds > REDIS_TTL_MAX_S) {
        yg_error_set(err, YG_EINVAL, "redis checkpoint TTL of %" PRId64 " s is too large",
                     ttl_seconds);
        return NULL;
    }
    redis_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    self->base.ops = &redis_ops;
    self->loop = loop;
    self->ttl_s = ttl_seconds > 0 ? ttl_seconds : 0;
    self->prefix = strdup(key_prefix);
    self->cache = zhashx_new();
    if (!self->prefix || !self->cache) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        goto fail;
    }
    zhashx_set_destructor(self->cache, cache_entry_free);
    if (!(self->redis = yg_redis_new(loop, url, err)))
        goto fail;
    for (int i = 0; i < SCRIPT_N; i++) {
        sha1_hex(s_scripts[i], strlen(s_scripts[i]), self->sha[i]);
        const char *argv[] = {"SCRIPT", "LOAD", s_scripts[i]};
        if (yg_redis_add_prelude(self->redis, 3, argv, NULL) != YG_OK) {
            yg_error_set(err, YG_ENOMEM, "out of memory");
            goto fail;
        }
    }
    return &self->base;
fail:
    yg_redis_destroy(&self->redis);
    zhashx_destroy(&self->cache);
    free(self->prefix);
    free(self);
    return NULL;
}

int yg_ckpt_redis_set_timeout(yg_ckpt_t *self, int timeout_ms)
{
    if (!self || self->ops != &redis_ops || timeout_ms <= 0)
        return YG_EINVAL;
    yg_redis_set_timeout(((redis_store_t *)self)->redis, timeout_ms);
    return YG_OK;
}

int yg_ckpt_redis_stats(const yg_ckpt_t *self, yg_ckpt_redis_stats_t *out)
{
    if (!self || self->ops != &redis_ops || !out)
        return YG_EINVAL;
    const redis_store_t *store = (const redis_store_t *)self;
    memset(out, 0, sizeof *out);
    yg_redis_stats(store->redis, &out->connects, &out->commands);
    out->snapshots = store->snapshots;
    out->deltas = store->deltas;
    out->resolves = yg_redis_resolves(store->redis);
    out->connected = yg_redis_connected(store->redis);
    for (int i = 0; i < SCRIPT_N; i++)
        snprintf(out->script_sha[i], sizeof out->script_sha[i], "%s", store->sha[i]);
    return YG_OK;
}
