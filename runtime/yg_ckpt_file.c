/*
 * yg_ckpt_file.c - the durable embedded checkpoint store: an append-only,
 * fsync'd log file served by a dedicated I/O thread.
 *
 * Two halves:
 *  - the owner side (the thread that created the store) turns each call
 *    into a request, encodes save records (as a delta against the newest
 *    checkpoint of the thread when it still has that state cached, else as
 *    a full snapshot), hands the request to the I/O thread by pointer over
 *    the zactor pipe, and completes it from its zloop when the reply comes;
 *  - the I/O thread owns the file and the index.  It serves requests in
 *    order, writes save records at once but fsyncs once per batch (group
 *    commit: everything already queued on the pipe joins the batch) and
 *    replies only after the fsync.  Loads materialise a checkpoint from its
 *    snapshot and the deltas above it, read with pread.
 *
 * Like everything between threads here, data crosses as msgpack bytes:
 * save records are encoded by the owner, load and list results by the I/O
 * thread (value refcounts are not atomic, so values never change threads).
 *
 * The file layout and the recovery rules are in docs/checkpoints.md.
 */
#define _GNU_SOURCE /* vasprintf, asprintf */
#include "yg_checkpoint.h"
#include "yg_ckpt_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* File header: magic, format version, reserved byte. */
#define FILE_MAGIC "YGCKPT"
#define FILE_MAGIC_LEN 6
#define FILE_FORMAT_VERSION 1
#define FILE_HEADER_SIZE 8
/* Record header (little-endian u32s): payload length, CRC-32 of those 4
 * length bytes, CRC-32 of the payload.  The length has its own check so a
 * damaged length in the middle of the log is told apart from a torn append
 * at its end. */
#define RECORD_HEADER_SIZE 12
#define RECORD_LENGTH_CRC_AT 4
#define RECORD_PAYLOAD_CRC_AT 8
/* Largest payload accepted: one maximal encoded state plus its metadata. */
#define RECORD_MAX ((size_t)YG_LIMIT_DEFAULT_BYTES + 65536u)
/* Payload type bytes. */
#define RECORD_SNAPSHOT 'S'
#define RECORD_DELTA 'D'
#define RECORD_TOMBSTONE 'T'
/* Delta record fields (instead of "values"). */
/* Saves acknowledged by one fsync at most (bounds reply latency). */
#define FILE_BATCH_MAX 1024
/* Threads whose newest state the owner keeps for delta encoding; beyond
 * this the cache is emptied (the next save of each thread is a snapshot). */
#define FILE_CACHE_MAX 4096
/* A delta chain longer than this on disk is treated as corrupt. */
#define FILE_CHAIN_WALK_MAX (4 * YG_CKPT_SNAPSHOT_INTERVAL)
/* Replies handled per reader wake-up before yielding to the loop. */
#define FILE_REPLY_BATCH 1024
/* Attempts to open-and-lock when a compaction renames the file under us. */
#define FILE_OPEN_ATTEMPTS 5
#define FILE_COMPACT_SUFFIX ".compact"

/* --- CRC-32 (IEEE 802.3, reflected) -------------------------------------- */

static uint32_t s_crc_table[256];
static pthread_once_t s_crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        s_crc_table[i] = c;
    }
}

static uint32_t crc32_of(const void *data, size_t len)
{
    pthread_once(&s_crc_once, crc_table_init);
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++)
        c = s_crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* --- requests (shared by both halves, handed over by pointer) ------------- */

typedef enum { OP_SAVE, OP_LOAD_LATEST, OP_LOAD, OP_LIST, OP_DELETE, OP_COMPACT } file_op_t;
typedef enum { CB_DONE, CB_LOAD, CB_LIST } file_cb_t;

typedef struct file_req {
    file_op_t op;
    char *thread_id;
    char *ns;
    char *id;        /* save: the record's id; load: the wanted id */
    char *parent_id; /* save: the delta base */
    size_t limit;    /* list */
    char *record;    /* save/delete: header + payload, ready to write */
    size_t record_size;
    /* Filled by the I/O thread.  Results cross threads as msgpack bytes,
     * never as values (value refcounts are not atomic). */
    int status;
    char *message;
    char *result;    /* load: msgpack of the checkpoint map; list: of the list */
    size_t result_size;
    /* Owner side. */
    file_cb_t cb;
    union {
        yg_ckpt_done_fn *done;
        yg_ckpt_load_fn *load;
        yg_ckpt_list_fn *list;
    } fn;
    void *arg;
    struct file_req *next; /* the owner's FIFO of outstanding requests */
} file_req_t;

static void req_free(file_req_t *req)
{
    free(req->thread_id);
    free(req->ns);
    free(req->id);
    free(req->parent_id);
    free(req->record);
    free(req->message);
    free(req->result);
    free(req);
}

static void req_fail(file_req_t *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void req_fail(file_req_t *req, int status, const char *fmt, ...)
{
    req->status = status;
    free(req->message);
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&req->message, fmt, ap) < 0)
        req->message = NULL;
    va_end(ap);
}

/* Counters both threads may read (tests and diagnostics). */
typedef struct {
    atomic_uint_fast64_t records;
    atomic_uint_fast64_t syncs;
} file_stats_t;

/* ========================================================================
 * The I/O thread
 * ======================================================================== */

/* One record in the index. */
typedef struct {
    char *id;
    int64_t parent; /* index of the delta base in the chain, -1 if none */
    uint64_t offset; /* of the record header */
    uint32_t length; /* payload length */
    char type;
} io_rec_t;

typedef struct {
    char *ns;
    io_rec_t *recs; /* oldest first */
    size_t nrecs;
    size_t cap;
    bool ids_sorted;
} io_chain_t;

typedef struct {
    io_chain_t *chains;
    size_t nchains;
} io_thread_t;

typedef struct {
    char *path;
    int fd;
    uint64_t size;    /* end of the last complete record */
    bool dirty;       /* written since the last fsync */
    int broken;       /* a yg_code_t once a write or fsync failed: refuse all */
    zhashx_t *threads; /* thread id -> io_thread_t */
    file_stats_t *stats;
    file_req_t *out[FILE_BATCH_MAX]; /* handled, reply after the fsync */
    size_t nout;
} io_t;

/* What the constructor hands the I/O thread and gets back. */
typedef struct {
    const char *path;
    file_stats_t *stats;
    int status;
    yg_error_t *err;
} io_init_t;

static void io_thread_free(void **item)
{
    io_thread_t *thread = *item;
    if (!thread)
        return;
    for (size_t c = 0; c < thread->nchains; c++) {
        for (size_t r = 0; r < thread->chains[c].nrecs; r++)
            free(thread->chains[c].recs[r].id);
        free(thread->chains[c].recs);
        free(thread->chains[c].ns);
    }
    free(thread->chains);
    free(thread);
    *item = NULL;
}

static io_chain_t *io_find_chain(io_t *io, const char *thread_id, const char *ns)
{
    io_thread_t *thread = zhashx_lookup(io->threads, thread_id);
    for (size_t i = 0; thread && i < thread->nchains; i++)
        if (strcmp(thread->chains[i].ns, ns) == 0)
            return &thread->chains[i];
    return NULL;
}

static io_chain_t *io_get_chain(io_t *io, const char *thread_id, const char *ns)
{
    io_chain_t *chain = io_find_chain(io, thread_id, ns);
    if (chain)
        return chain;
    io_thread_t *thread = zhashx_lookup(io->threads, thread_id);
    if (!thread) {
        if (!(thread = calloc(1, sizeof *thread)))
            return NULL;
        if (zhashx_insert(io->threads, thread_id, thread) != 0) {
            free(thread);
            return NULL;
        }
    }
    io_chain_t *chains = realloc(thread->chains, (thread->nchains + 1) * sizeof *chains);
    if (!chains)
        return NULL;
    thread->chains = chains;
    chain = &chains[thread->nchains];
    *chain = (io_chain_t){.ns = strdup(ns), .ids_sorted = true};
    if (!chain->ns)
        return NULL;
    thread->nchains++;
    return chain;
}

static int64_t io_chain_find(const io_chain_t *chain, const char *id)
{
    if (chain->ids_sorted) {
        size_t lo = 0, hi = chain->nrecs;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int cmp = strcmp(chain->recs[mid].id, id);
            if (cmp == 0)
                return (int64_t)mid;
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return -1;
    }
    for (size_t i = chain->nrecs; i-- > 0;)
        if (strcmp(chain->recs[i].id, id) == 0)
            return (int64_t)i;
    return -1;
}

/* Append a record to the chain's index.  YG_OK or YG_ENOMEM. */
static int io_chain_add(io_chain_t *chain, const char *id, int64_t parent, uint64_t offset,
                        uint32_t length, char type)
{
    if (chain->nrecs == chain->cap) {
        size_t cap = chain->cap ? chain->cap * 2 : 4;
        io_rec_t *recs = realloc(chain->recs, cap * sizeof *recs);
        if (!recs)
            return YG_ENOMEM;
        chain->recs = recs;
        chain->cap = cap;
    }
    char *copy = strdup(id);
    if (!copy)
        return YG_ENOMEM;
    if (chain->nrecs && strcmp(id, chain->recs[chain->nrecs - 1].id) <= 0)
        chain->ids_sorted = false;
    chain->recs[chain->nrecs++] =
        (io_rec_t){.id = copy, .parent = parent, .offset = offset, .length = length, .type = type};
    return YG_OK;
}

/* Decode a payload (type byte + msgpack map); NULL with err if malformed. */
static yg_value_t *payload_decode(const unsigned char *payload, size_t length, yg_error_t *err)
{
    if (length < 2) {
        yg_error_set(err, YG_EPARSE, "record payload is too short");
        return NULL;
    }
    yg_value_t *map = yg_msgpack_decode((const char *)payload + 1, length - 1, NULL, err);
    if (map && yg_value_type(map) != YG_MAP) {
        yg_value_destroy(&map);
        yg_error_set(err, YG_EPARSE, "record payload is not a map");
    }
    return map;
}

static const char *map_str(const yg_value_t *map, const char *key)
{
    return yg_value_str(yg_map_get(map, key));
}

/* Add one scanned record to the index.  YG_OK, or an error for a record
 * that is well-formed on disk but makes no sense (corruption). */
static int io_index_record(io_t *io, const unsigned char *payload, uint32_t length,
                           uint64_t offset, yg_error_t *err)
{
    char type = (char)payload[0];
    if (type != RECORD_SNAPSHOT && type != RECORD_DELTA && type != RECORD_TOMBSTONE)
        return yg_error_set(err, YG_EPARSE, "unknown record type 0x%02x", payload[0]);
    yg_value_t *map = payload_decode(payload, length, err);
    if (!map)
        return err ? err->code : YG_EPARSE;
    const char *thread_id = map_str(map, YG_CKPT_KEY_THREAD_ID);
    const char *ns = map_str(map, YG_CKPT_KEY_NS);
    const char *id = map_str(map, YG_CKPT_KEY_ID);
    const char *parent_id = map_str(map, YG_CKPT_KEY_PARENT_ID);
    int rc = YG_OK;
    if (!thread_id) {
        rc = yg_error_set(err, YG_EPARSE, "record has no thread id");
    } else if (type == RECORD_TOMBSTONE) {
        zhashx_delete(io->threads, thread_id);
    } else if (!id || !ns) {
        rc = yg_error_set(err, YG_EPARSE, "checkpoint record has no id or namespace");
    } else {
        io_chain_t *chain = io_get_chain(io, thread_id, ns);
        /* A delta whose base is missing stays indexed; loading it reports
         * the damage instead of hiding the rest of the file. */
        int64_t parent = type == RECORD_DELTA && parent_id ? io_chain_find(chain, parent_id) : -1;
        rc = chain ? io_chain_add(chain, id, parent, offset, length, type) : YG_ENOMEM;
        if (rc != YG_OK)
            yg_error_set(err, rc, "out of memory indexing the checkpoint file");
    }
    yg_value_destroy(&map);
    return rc;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Check or write the file header.  *fresh set when the file was empty. */
static int io_check_header(io_t *io, const unsigned char *data, uint64_t size, yg_error_t *err)
{
    if (size >= FILE_HEADER_SIZE) {
        if (memcmp(data, FILE_MAGIC, FILE_MAGIC_LEN) != 0)
            return yg_error_set(err, YG_EPARSE, "%s is not a yamlgraph checkpoint file",
                                io->path);
        if (data[FILE_MAGIC_LEN] != FILE_FORMAT_VERSION)
            return yg_error_set(err, YG_EUNSUPPORTED,
                                "%s has checkpoint file format %u; this build reads %u",
                                io->path, data[FILE_MAGIC_LEN], FILE_FORMAT_VERSION);
        return YG_OK;
    }
    /* Empty, or a header torn while the file was being created. */
    unsigned char header[FILE_HEADER_SIZE] = FILE_MAGIC;
    header[FILE_MAGIC_LEN] = FILE_FORMAT_VERSION;
    if (size && memcmp(data, header, (size_t)size) != 0 && !all_zero(data, (size_t)size))
        return yg_error_set(err, YG_EPARSE, "%s is not a yamlgraph checkpoint file", io->path);
    if (ftruncate(io->fd, 0) != 0 || pwrite(io->fd, header, sizeof header, 0) != sizeof header
        || fsync(io->fd) != 0)
        return yg_error_set(err, YG_EIO, "cannot initialise %s: %s", io->path, strerror(errno));
    /* Make the new file's directory entry durable too. */
    char *dir_copy = strdup(io->path);
    if (dir_copy) {
        int dfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir_copy);
    }
    return YG_OK;
}

/* Scan the whole file, build the index, truncate a torn tail. */
static int io_scan(io_t *io, yg_error_t *err)
{
    struct stat st;
    if (fstat(io->fd, &st) != 0)
        return yg_error_set(err, YG_EIO, "cannot stat %s: %s", io->path, strerror(errno));
    uint64_t size = (uint64_t)st.st_size;
    unsigned char *data = NULL;
    if (size) {
        data = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, io->fd, 0);
        if (data == MAP_FAILED)
            return yg_error_set(err, YG_EIO, "cannot map %s: %s", io->path, strerror(errno));
    }
    int rc = io_check_header(io, data, size, err);
    uint64_t off = FILE_HEADER_SIZE;
    while (rc == YG_OK && size > FILE_HEADER_SIZE && off < size) {
        uint64_t left = size - off;
        const unsigned char *rec = data + off;
        bool header_ok = left >= RECORD_HEADER_SIZE
                         && crc32_of(rec, 4) == get_le32(rec + RECORD_LENGTH_CRC_AT);
        uint32_t length = header_ok ? get_le32(rec) : 0;
        bool fits = header_ok && length > 0 && length <= RECORD_MAX
                    && length <= left - RECORD_HEADER_SIZE;
        bool intact = fits && crc32_of(rec + RECORD_HEADER_SIZE, length)
                                  == get_le32(rec + RECORD_PAYLOAD_CRC_AT);
        if (!intact) {
            /* A torn tail is what an interrupted append leaves: a partial
             * header, a good header whose payload reaches past the end of
             * the file, a last record whose bytes did not all land, or
             * zeros (the size grew before the data did).  Anything else is
             * damage in the middle of the log, which we refuse to drop. */
            bool tail;
            if (left < RECORD_HEADER_SIZE)
                tail = true;
            else if (!header_ok || length == 0 || length > RECORD_MAX)
                tail = all_zero(rec, (size_t)left);
            else if (length > left - RECORD_HEADER_SIZE)
                tail = true;
            else
                tail = length == left - RECORD_HEADER_SIZE || all_zero(rec, (size_t)left);
            if (!tail) {
                rc = yg_error_set(err, YG_EPARSE,
                                  "%s: corrupt record at offset %llu (not at the end of the "
                                  "file); refusing to open",
                                  io->path, (unsigned long long)off);
                break;
            }
            if (ftruncate(io->fd, (off_t)off) != 0 || fsync(io->fd) != 0)
                rc = yg_error_set(err, YG_EIO, "cannot truncate the torn tail of %s: %s",
                                  io->path, strerror(errno));
            size = off;
            break;
        }
        yg_error_t rec_err = {0};
        if (io_index_record(io, data + off + RECORD_HEADER_SIZE, length, off, &rec_err) != YG_OK) {
            rc = yg_error_set(err, rec_err.code == YG_ENOMEM ? YG_ENOMEM : YG_EPARSE,
                              "%s: bad record at offset %llu: %s", io->path,
                              (unsigned long long)off, rec_err.message);
            break;
        }
        off += RECORD_HEADER_SIZE + length;
    }
    if (data)
        munmap(data, (size_t)st.st_size);
    io->size = size < FILE_HEADER_SIZE ? FILE_HEADER_SIZE : size;
    return rc;
}

/* Open, lock and scan path.  A compaction in another store may have
 * replaced the file between our open and lock: retry on the new inode. */
static int io_open(io_t *io, yg_error_t *err)
{
    for (int attempt = 0; attempt < FILE_OPEN_ATTEMPTS; attempt++) {
        io->fd = open(io->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (io->fd < 0)
            return yg_error_set(err, YG_EIO, "cannot open checkpoint file %s: %s", io->path,
                                strerror(errno));
        if (flock(io->fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(io->fd);
            io->fd = -1;
            if (e == EWOULDBLOCK)
                return yg_error_set(err, YG_EBUSY,
                                    "checkpoint file %s is in use by another store or process",
                                    io->path);
            return yg_error_set(err, YG_EIO, "cannot lock %s: %s", io->path, strerror(e));
        }
        struct stat by_fd, by_path;
        if (fstat(io->fd, &by_fd) == 0 && stat(io->path, &by_path) == 0
            && by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev)
            return io_scan(io, err);
        close(io->fd);
        io->fd = -1;
    }
    return yg_error_set(err, YG_EBUSY, "checkpoint file %s keeps being replaced", io->path);
}

/* Append one complete record (header included).  On a short write the
 * file is cut back so the log stays well-formed. */
static int io_append(io_t *io, const char *record, size_t size, file_req_t *req)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(io->fd, record + done, size - done, (off_t)(io->size + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            if (ftruncate(io->fd, (off_t)io->size) != 0)
                io->broken = YG_EIO;
            req_fail(req, YG_EIO, "cannot write checkpoint file %s: %s", io->path, strerror(e));
            return YG_EIO;
        }
        done += (size_t)n;
    }
    io->size += size;
    io->dirty = true;
    atomic_fetch_add(&io->stats->records, 1);
    return YG_OK;
}

static void io_save(io_t *io, file_req_t *req)
{
    io_chain_t *chain = io_find_chain(io, req->thread_id, req->ns);
    char type = req->record[RECORD_HEADER_SIZE];
    if (chain && io_chain_find(chain, req->id) >= 0) {
        req_fail(req, YG_EINVAL, "checkpoint %s already exists in thread %s", req->id,
                 req->thread_id);
        return;
    }
    int64_t parent = -1;
    if (type == RECORD_DELTA) {
        /* The owner encodes a delta only against the newest checkpoint it
         * sent; if that one failed, this delta has no valid base. */
        if (!chain || !chain->nrecs || !req->parent_id
            || strcmp(chain->recs[chain->nrecs - 1].id, req->parent_id) != 0) {
            req_fail(req, YG_ESTATE,
                     "checkpoint %s: its parent was not stored (an earlier save failed)",
                     req->id);
            return;
        }
        parent = (int64_t)chain->nrecs - 1;
    }
    if (!chain && !(chain = io_get_chain(io, req->thread_id, req->ns))) {
        req_fail(req, YG_ENOMEM, "out of memory");
        return;
    }
    uint64_t offset = io->size;
    if (io_append(io, req->record, req->record_size, req) != YG_OK)
        return;
    if (io_chain_add(chain, req->id, parent, offset,
                     (uint32_t)(req->record_size - RECORD_HEADER_SIZE), type)
        != YG_OK) {
        /* Written but not indexed: the next open will see it. */
        req_fail(req, YG_ENOMEM, "out of memory indexing checkpoint %s", req->id);
    }
}

static void io_delete(io_t *io, file_req_t *req)
{
    if (!zhashx_lookup(io->threads, req->thread_id))
        return; /* nothing stored: no tombstone needed */
    if (io_append(io, req->record, req->record_size, req) == YG_OK)
        zhashx_delete(io->threads, req->thread_id);
}

/* Read and check one record's payload; NULL map with err on damage. */
static yg_value_t *io_read_record(io_t *io, const io_rec_t *rec, yg_error_t *err)
{
    size_t size = RECORD_HEADER_SIZE + (size_t)rec->length;
    unsigned char *buf = malloc(size);
    if (!buf) {
        yg_error_set(err, YG_ENOMEM, "out of memory reading a checkpoint");
        return NULL;
    }
    ssize_t n = pread(io->fd, buf, size, (off_t)rec->offset);
    yg_value_t *map = NULL;
    if (n != (ssize_t)size)
        yg_error_set(err, YG_EIO, "cannot read checkpoint %s from %s: %s", rec->id, io->path,
                     n < 0 ? strerror(errno) : "short read");
    else if (get_le32(buf) != rec->length
             || crc32_of(buf + RECORD_HEADER_SIZE, rec->length)
                    != get_le32(buf + RECORD_PAYLOAD_CRC_AT))
        yg_error_set(err, YG_EIO, "checkpoint %s in %s fails its checksum", rec->id, io->path);
    else
        map = payload_decode(buf + RECORD_HEADER_SIZE, rec->length, err);
    free(buf);
    return map;
}

/* The full checkpoint at chain->recs[index]: its snapshot, then every delta
 * above it, applied oldest first.  NULL with err on damage. */
static yg_checkpoint_t *io_materialise(io_t *io, const io_chain_t *chain, size_t index,
                                       const char *thread_id, yg_error_t *err)
{
    size_t path[FILE_CHAIN_WALK_MAX];
    size_t depth = 0;
    for (int64_t i = (int64_t)index;; i = chain->recs[i].parent) {
        if (i < 0 || depth == FILE_CHAIN_WALK_MAX) {
            yg_error_set(err, YG_EIO, "checkpoint %s in %s has lost its base record",
                         chain->recs[index].id, io->path);
            return NULL;
        }
        path[depth++] = (size_t)i;
        if (chain->recs[i].type == RECORD_SNAPSHOT)
            break;
    }
    yg_value_t *state = NULL, *newest = NULL;
    int rc = YG_OK;
    while (rc == YG_OK && depth-- > 0) {
        yg_value_t *record = io_read_record(io, &chain->recs[path[depth]], err);
        if (!record) {
            rc = YG_EIO;
            break;
        }
        if (!state) {
            const yg_value_t *values = yg_map_get(record, YG_CKPT_KEY_VALUES);
            state = yg_ckpt_map_shallow_copy(values); /* private: deltas modify it */
            if (yg_value_type(values) != YG_MAP || !state)
                rc = yg_error_set(err, YG_EPARSE, "malformed snapshot record");
        } else {
            rc = yg_ckpt_delta_apply(&state, record, false, err);
        }
        if (depth == 0)
            newest = record;
        else
            yg_value_destroy(&record);
    }
    yg_checkpoint_t *ckpt = NULL;
    if (rc == YG_OK && (ckpt = yg_checkpoint_from_map_novalues(newest, err))) {
        ckpt->values = state;
        state = NULL;
        if (strcmp(ckpt->thread_id, thread_id) != 0) {
            yg_error_set(err, YG_EIO, "index of %s is inconsistent", io->path);
            yg_checkpoint_destroy(&ckpt);
        }
    }
    yg_value_destroy(&newest);
    yg_value_destroy(&state);
    return ckpt;
}

/* Encode value as req's result, or fail req. */
static void req_set_result(file_req_t *req, const yg_value_t *value)
{
    if (!value || yg_msgpack_encode(value, &req->result, &req->result_size) != YG_OK)
        req_fail(req, YG_ENOMEM, "out of memory encoding a checkpoint for thread %s",
                 req->thread_id);
}

/* Fill req's result with the checkpoint at index, or fail it. */
static void io_load_into(io_t *io, file_req_t *req, const io_chain_t *chain, int64_t index)
{
    if (index < 0) {
        req_fail(req, YG_ENOTFOUND, "no checkpoint %s for thread %s", req->id ? req->id : "",
                 req->thread_id);
        return;
    }
    yg_error_t err = {0};
    yg_checkpoint_t *ckpt = io_materialise(io, chain, (size_t)index, req->thread_id, &err);
    if (!ckpt) {
        req_fail(req, err.code ? err.code : YG_EIO, "%s", err.message);
        return;
    }
    yg_value_t *map = yg_checkpoint_to_map(ckpt);
    req_set_result(req, map);
    yg_value_destroy(&map);
    yg_checkpoint_destroy(&ckpt);
}

static void io_load(io_t *io, file_req_t *req)
{
    const io_chain_t *chain = io_find_chain(io, req->thread_id, req->ns);
    int64_t index = -1;
    if (chain && req->op == OP_LOAD_LATEST)
        index = (int64_t)chain->nrecs - 1;
    else if (chain)
        index = io_chain_find(chain, req->id);
    io_load_into(io, req, chain, index);
}

static void io_list(io_t *io, file_req_t *req)
{
    const io_chain_t *chain = io_find_chain(io, req->thread_id, req->ns);
    yg_value_t *history = yg_list_new();
    size_t n = chain ? chain->nrecs : 0;
    if (req->limit && req->limit < n)
        n = req->limit;
    for (size_t i = 0; history && i < n; i++) {
        yg_error_t err = {0};
        yg_checkpoint_t *ckpt =
            io_materialise(io, chain, chain->nrecs - 1 - i, req->thread_id, &err);
        if (!ckpt) {
            req_fail(req, err.code ? err.code : YG_EIO, "%s", err.message);
            yg_value_destroy(&history);
            return;
        }
        yg_value_t *entry = yg_checkpoint_to_map(ckpt);
        yg_checkpoint_destroy(&ckpt);
        if (!entry || yg_list_append(history, entry) != YG_OK)
            yg_value_destroy(&history);
    }
    req_set_result(req, history);
    yg_value_destroy(&history);
}

static int io_sync(io_t *io)
{
    if (!io->dirty)
        return YG_OK;
    io->dirty = false;
    atomic_fetch_add(&io->stats->syncs, 1);
    if (fdatasync(io->fd) != 0) {
        /* After a failed fsync the kernel may have dropped the dirty
         * pages: nothing written since the last good sync is trustworthy. */
        io->broken = YG_EIO;
        return YG_EIO;
    }
    return YG_OK;
}

/* Copy every live record into a new file, then replace the old one. */
static int io_compact(io_t *io, yg_error_t *err)
{
    if (io_sync(io) != YG_OK)
        return yg_error_set(err, YG_EIO, "cannot sync %s before compaction", io->path);
    char *tmp_path = NULL;
    if (asprintf(&tmp_path, "%s%s", io->path, FILE_COMPACT_SUFFIX) < 0)
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    int fd = open(tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = YG_OK;
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0)
        rc = yg_error_set(err, YG_EIO, "cannot create %s: %s", tmp_path, strerror(errno));
    unsigned char header[FILE_HEADER_SIZE] = FILE_MAGIC;
    header[FILE_MAGIC_LEN] = FILE_FORMAT_VERSION;
    uint64_t out = FILE_HEADER_SIZE;
    if (rc == YG_OK && pwrite(fd, header, sizeof header, 0) != sizeof header)
        rc = yg_error_set(err, YG_EIO, "cannot write %s: %s", tmp_path, strerror(errno));
    /* New offsets are kept aside until the rename succeeds. */
    zlistx_t *moves = zlistx_new();
    char *buf = NULL;
    size_t buf_cap = 0;
    for (io_thread_t *t = zhashx_first(io->threads); rc == YG_OK && t;
         t = zhashx_next(io->threads))
        for (size_t c = 0; rc == YG_OK && c < t->nchains; c++)
            for (size_t r = 0; rc == YG_OK && r < t->chains[c].nrecs; r++) {
                io_rec_t *rec = &t->chains[c].recs[r];
                size_t size = RECORD_HEADER_SIZE + rec->length;
                if (size > buf_cap) {
                    char *grown = realloc(buf, size);
                    if (!grown) {
                        rc = yg_error_set(err, YG_ENOMEM, "out of memory");
                        break;
                    }
                    buf = grown;
                    buf_cap = size;
                }
                if (pread(io->fd, buf, size, (off_t)rec->offset) != (ssize_t)size
                    || pwrite(fd, buf, size, (off_t)out) != (ssize_t)size) {
                    rc = yg_error_set(err, YG_EIO, "cannot copy %s into %s: %s", rec->id,
                                      tmp_path, strerror(errno));
                    break;
                }
                uint64_t *move = malloc(2 * sizeof *move);
                if (!move || !zlistx_add_end(moves, move)) {
                    free(move);
                    rc = yg_error_set(err, YG_ENOMEM, "out of memory");
                    break;
                }
                move[0] = (uint64_t)(uintptr_t)rec;
                move[1] = out;
                out += size;
            }
    free(buf);
    if (rc == YG_OK && (fsync(fd) != 0 || rename(tmp_path, io->path) != 0))
        rc = yg_error_set(err, YG_EIO, "cannot replace %s: %s", io->path, strerror(errno));
    if (rc == YG_OK) {
        char *dir_copy = strdup(io->path);
        int dfd = dir_copy ? open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir_copy);
        for (uint64_t *m = zlistx_first(moves); m; m = zlistx_next(moves))
            ((io_rec_t *)(uintptr_t)m[0])->offset = m[1];
        close(io->fd); /* releases the lock on the old inode */
        io->fd = fd;
        io->size = out;
    } else {
        if (fd >= 0)
            close(fd);
        unlink(tmp_path);
    }
    for (uint64_t *m = zlistx_first(moves); m; m = zlistx_next(moves))
        free(m);
    zlistx_destroy(&moves);
    free(tmp_path);
    return rc;
}

static void io_handle(io_t *io, file_req_t *req)
{
    if (io->broken) {
        req_fail(req, io->broken,
                 "checkpoint file %s failed an earlier write or sync; reopen it", io->path);
        return;
    }
    switch (req->op) {
    case OP_SAVE:
        io_save(io, req);
        break;
    case OP_LOAD_LATEST:
    case OP_LOAD:
        io_load(io, req);
        break;
    case OP_LIST:
        io_list(io, req);
        break;
    case OP_DELETE:
        io_delete(io, req);
        break;
    case OP_COMPACT: {
        yg_error_t err = {0};
        if (io_compact(io, &err) != YG_OK)
            req_fail(req, err.code, "%s", err.message);
        break;
    }
    }
}

/* Make the batch durable, then reply to every request in it, in order. */
static void io_flush(io_t *io, zsock_t *pipe)
{
    if (io_sync(io) != YG_OK)
        for (size_t i = 0; i < io->nout; i++)
            if (io->out[i]->op == OP_SAVE || io->out[i]->op == OP_DELETE)
                req_fail(io->out[i], YG_EIO, "cannot sync checkpoint file %s", io->path);
    for (size_t i = 0; i < io->nout; i++)
        zsock_send(pipe, "sp", "REP", io->out[i]);
    io->nout = 0;
}

static void io_actor(zsock_t *pipe, void *args)
{
    io_init_t *init = args;
    io_t io = {.fd = -1, .stats = init->stats};
    io.path = strdup(init->path);
    io.threads = zhashx_new();
    if (!io.path || !io.threads)
        init->status = yg_error_set(init->err, YG_ENOMEM, "out of memory");
    else {
        zhashx_set_destructor(io.threads, io_thread_free);
        init->status = io_open(&io, init->err);
    }
    bool ok = init->status == YG_OK;
    /* Unbounded pipe: with the default HWM a burst of requests from the
     * owner's loop fills both directions and each thread blocks in its send
     * forever (requests are bounded by the owner's runs, not by drops). */
    zsock_set_sndhwm(pipe, 0);
    zsock_set_rcvhwm(pipe, 0);
    zsock_signal(pipe, 0); /* init is the constructor's: not touched after this */
    while (ok) {
        zmsg_t *msg = zmsg_recv(pipe);
        if (!msg)
            break;
        char *command = zmsg_popstr(msg);
        zframe_t *frame = zmsg_pop(msg);
        file_req_t *req = NULL;
        if (frame && zframe_size(frame) == sizeof req)
            memcpy(&req, zframe_data(frame), sizeof req);
        zframe_destroy(&frame);
        zmsg_destroy(&msg);
        bool term = !command || streq(command, "$TERM");
        if (command && streq(command, "REQ") && req)
            io.out[io.nout++] = req;
        bool close_now = command && streq(command, "CLOSE");
        free(command);
        if (term)
            break;
        if (req)
            io_handle(&io, req);
        /* Group commit: keep taking queued requests while there are some. */
        if (close_now || io.nout == FILE_BATCH_MAX || !(zsock_events(pipe) & ZMQ_POLLIN))
            io_flush(&io, pipe);
        if (close_now)
            zsock_send(pipe, "sp", "CLOSED", NULL);
    }
    if (io.nout)
        io_flush(&io, pipe);
    if (io.fd >= 0)
        close(io.fd);
    zhashx_destroy(&io.threads);
    free(io.path);
}

/* ========================================================================
 * The owner side
 * ======================================================================== */

/* The newest state the owner sent for one (thread, namespace). */
typedef struct {
    char *ns;
    yg_ckpt_delta_base_t base;
} cache_chain_t;

typedef struct {
    cache_chain_t *chains;
    size_t nchains;
} cache_thread_t;

typedef struct {
    yg_ckpt_t base; /* must be first */
    zloop_t *loop;
    zactor_t *io;
    zhashx_t *cache; /* thread id -> cache_thread_t */
    file_stats_t stats;
    file_req_t *head; /* outstanding requests, oldest first */
    file_req_t *tail;
} file_store_t;

static void cache_thread_free(void **item)
{
    cache_thread_t *thread = *item;
    if (!thread)
        return;
    for (size_t i = 0; i < thread->nchains; i++) {
        free(thread->chains[i].ns);
        yg_ckpt_delta_base_clear(&thread->chains[i].base);
    }
    free(thread->chains);
    free(thread);
    *item = NULL;
}

static yg_ckpt_delta_base_t *cache_find(file_store_t *self, const char *thread_id,
                                        const char *ns)
{
    cache_thread_t *thread = zhashx_lookup(self->cache, thread_id);
    for (size_t i = 0; thread && i < thread->nchains; i++)
        if (strcmp(thread->chains[i].ns, ns) == 0)
            return &thread->chains[i].base;
    return NULL;
}

static void cache_forget(file_store_t *self, const char *thread_id)
{
    zhashx_delete(self->cache, thread_id);
}

/* Remember values (shared) as the newest state of thread/ns.  Failure only
 * costs a snapshot later, so it is not reported. */
static void cache_remember(file_store_t *self, const char *thread_id, const char *ns,
                           const yg_value_t *saved, const char *id, uint16_t depth)
{
    yg_ckpt_delta_base_t *base = cache_find(self, thread_id, ns);
    if (!base) {
        if (zhashx_size(self->cache) >= FILE_CACHE_MAX)
            zhashx_purge(self->cache);
        cache_thread_t *thread = zhashx_lookup(self->cache, thread_id);
        if (!thread && (thread = calloc(1, sizeof *thread))
            && zhashx_insert(self->cache, thread_id, thread) != 0) {
            free(thread);
            thread = NULL;
        }
        cache_chain_t *chains =
            thread ? realloc(thread->chains, (thread->nchains + 1) * sizeof *chains) : NULL;
        char *ns_copy = chains ? strdup(ns) : NULL;
        if (chains)
            thread->chains = chains;
        if (ns_copy) {
            chains[thread->nchains] = (cache_chain_t){.ns = ns_copy};
            base = &chains[thread->nchains++].base;
        }
    }
    if (!base || yg_ckpt_delta_base_set(base, id, saved, depth) != YG_OK)
        cache_forget(self, thread_id);
}

/* A request with its record laid out as header + payload. */
static int req_set_record(file_req_t *req, char type, const yg_value_t *map)
{
    char *body = NULL;
    size_t body_size = 0;
    int rc = yg_msgpack_encode(map, &body, &body_size);
    if (rc != YG_OK)
        return rc;
    size_t length = body_size + 1;
    if (length > RECORD_MAX) {
        free(body);
        return YG_ELIMIT;
    }
    req->record_size = RECORD_HEADER_SIZE + length;
    req->record = malloc(req->record_size);
    if (!req->record) {
        free(body);
        return YG_ENOMEM;
    }
    unsigned char *p = (unsigned char *)req->record;
    p[RECORD_HEADER_SIZE] = (unsigned char)type;
    memcpy(p + RECORD_HEADER_SIZE + 1, body, body_size);
    free(body);
    put_le32(p, (uint32_t)length);
    put_le32(p + RECORD_LENGTH_CRC_AT, crc32_of(p, 4));
    put_le32(p + RECORD_PAYLOAD_CRC_AT, crc32_of(p + RECORD_HEADER_SIZE, length));
    return YG_OK;
}

static file_req_t *req_new(file_op_t op, const char *thread_id, const char *ns)
{
    file_req_t *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->op = op;
    req->thread_id = strdup(thread_id);
    req->ns = strdup(ns ? ns : "");
    if (!req->thread_id || !req->ns) {
        req_free(req);
        return NULL;
    }
    return req;
}

/* Hand req to the I/O thread and queue it for its reply. */
static int file_submit(file_store_t *self, file_req_t *req)
{
    if (zsock_send(self->io, "sp", "REQ", req) != 0) {
        req_free(req);
        return YG_ECLOSED;
    }
    if (self->tail)
        self->tail->next = req;
    else
        self->head = req;
    self->tail = req;
    return YG_OK;
}

static int file_save(yg_ckpt_t *base, const yg_checkpoint_t *ckpt, yg_ckpt_done_fn *done,
                     void *arg)
{
    file_store_t *self = (file_store_t *)base;
    file_req_t *req = req_new(OP_SAVE, ckpt->thread_id, ckpt->ns);
    if (!req)
        return YG_ENOMEM;
    req->cb = CB_DONE;
    req->fn.done = done;
    req->arg = arg;
    yg_checkpoint_t named = {.id = NULL};
    if (!ckpt->id && yg_checkpoint_assign_id(&named) != YG_OK) {
        req_free(req);
        return YG_ENOMEM;
    }
    req->id = ckpt->id ? strdup(ckpt->id) : named.id;
    req->parent_id = ckpt->parent_id ? strdup(ckpt->parent_id) : NULL;
    const yg_ckpt_delta_base_t *cached = cache_find(self, req->thread_id, req->ns);
    bool delta = yg_ckpt_delta_base_fits(cached, ckpt->parent_id);
    yg_value_t *map = yg_checkpoint_to_map_ex(ckpt, false);
    yg_value_t *id_value = req->id ? yg_str_new(req->id) : NULL;
    yg_value_t *created = yg_int_new(ckpt->created_at_ms ? ckpt->created_at_ms : yg_ckpt_now_ms());
    int rc = map && id_value && created && req->id && (req->parent_id || !ckpt->parent_id)
                 ? YG_OK
                 : YG_ENOMEM;
    if (rc == YG_OK) {
        rc = yg_map_set(map, YG_CKPT_KEY_ID, id_value);
        id_value = NULL;
    }
    if (rc == YG_OK) {
        rc = yg_map_set(map, YG_CKPT_KEY_CREATED_AT, created);
        created = NULL;
    }
    if (rc == YG_OK && delta)
        rc = yg_ckpt_delta_fill(map, cached->values, ckpt->values);
    else if (rc == YG_OK)
        rc = yg_map_set(map, YG_CKPT_KEY_VALUES,
                        ckpt->values ? yg_value_ref(ckpt->values) : yg_map_new());
    if (rc == YG_OK)
        rc = req_set_record(req, delta ? RECORD_DELTA : RECORD_SNAPSHOT, map);
    yg_value_destroy(&map);
    yg_value_destroy(&id_value);
    yg_value_destroy(&created);
    if (rc != YG_OK) {
        req_free(req);
        return rc;
    }
    uint16_t depth = delta ? (uint16_t)(cached->depth + 1) : 0;
    /* Copies: req belongs to the I/O thread once submitted. */
    char *thread_id = strdup(req->thread_id), *ns = strdup(req->ns), *id = strdup(req->id);
    rc = file_submit(self, req);
    if (rc == YG_OK && thread_id && ns && id)
        cache_remember(self, thread_id, ns, ckpt->values, id, depth);
    else if (rc == YG_OK && thread_id)
        cache_forget(self, thread_id);
    free(thread_id);
    free(ns);
    free(id);
    return rc;
}

static int file_load_common(file_store_t *self, file_op_t op, const char *thread_id,
                            const char *ns, const char *id, yg_ckpt_load_fn *done, void *arg)
{
    file_req_t *req = req_new(op, thread_id, ns);
    if (!req || (id && !(req->id = strdup(id)))) {
        if (req)
            req_free(req);
        return YG_ENOMEM;
    }
    req->cb = CB_LOAD;
    req->fn.load = done;
    req->arg = arg;
    return file_submit(self, req);
}

static int file_load_latest(yg_ckpt_t *base, const char *thread_id, const char *ns,
                            yg_ckpt_load_fn *done, void *arg)
{
    return file_load_common((file_store_t *)base, OP_LOAD_LATEST, thread_id, ns, NULL, done,
                            arg);
}

static int file_load(yg_ckpt_t *base, const char *thread_id, const char *ns, const char *id,
                     yg_ckpt_load_fn *done, void *arg)
{
    return file_load_common((file_store_t *)base, OP_LOAD, thread_id, ns, id, done, arg);
}

static int file_list(yg_ckpt_t *base, const char *thread_id, const char *ns, size_t limit,
                     yg_ckpt_list_fn *done, void *arg)
{
    file_req_t *req = req_new(OP_LIST, thread_id, ns);
    if (!req)
        return YG_ENOMEM;
    req->limit = limit;
    req->cb = CB_LIST;
    req->fn.list = done;
    req->arg = arg;
    return file_submit((file_store_t *)base, req);
}

static int file_delete_thread(yg_ckpt_t *base, const char *thread_id, yg_ckpt_done_fn *done,
                              void *arg)
{
    file_store_t *self = (file_store_t *)base;
    file_req_t *req = req_new(OP_DELETE, thread_id, "");
    yg_value_t *map = yg_map_new();
    int rc = req && map ? YG_OK : YG_ENOMEM;
    if (rc == YG_OK)
        rc = yg_map_set(map, YG_CKPT_KEY_THREAD_ID, yg_str_new(thread_id));
    if (rc == YG_OK)
        rc = req_set_record(req, RECORD_TOMBSTONE, map);
    yg_value_destroy(&map);
    if (rc != YG_OK) {
        if (req)
            req_free(req);
        return rc;
    }
    req->cb = CB_DONE;
    req->fn.done = done;
    req->arg = arg;
    cache_forget(self, thread_id);
    return file_submit(self, req);
}

int yg_ckpt_file_compact(yg_ckpt_t *base, yg_ckpt_done_fn *done, void *arg)
{
    if (!base || strcmp(base->ops->kind, "file") != 0 || !done)
        return YG_EINVAL;
    file_req_t *req = req_new(OP_COMPACT, "-", "");
    if (!req)
        return YG_ENOMEM;
    req->cb = CB_DONE;
    req->fn.done = done;
    req->arg = arg;
    return file_submit((file_store_t *)base, req);
}

/* Decode the I/O thread's result bytes on the owner's thread.  They are our
 * own encoding of data already bounded on the way in, so the limits only
 * guard against a bug.  NULL (status set) when there is no result. */
static yg_value_t *result_decode(file_req_t *req, yg_error_t *err)
{
    if (req->status != YG_OK || !req->result)
        return NULL;
    yg_limits_t limits = yg_limits_default;
    limits.max_bytes = req->result_size;
    limits.max_elements = req->result_size;
    yg_value_t *value = yg_msgpack_decode(req->result, req->result_size, &limits, err);
    if (!value)
        req->status = err->code ? err->code : YG_EPARSE;
    return value;
}

/* Call req's callback (handing over its results) and free it. */
static void file_deliver(file_store_t *self, file_req_t *req)
{
    yg_error_t err = {0};
    if (req->status != YG_OK)
        yg_error_set(&err, req->status, "%s",
                     req->message ? req->message : yg_strerror(req->status));
    const yg_error_t *errp = req->status != YG_OK ? &err : NULL;
    if (req->op == OP_SAVE && req->status != YG_OK) {
        /* The cached state may now describe a checkpoint that is not on
         * disk: make the next save of this thread a snapshot. */
        cache_forget(self, req->thread_id);
    }
    self->base.in_callback++;
    switch (req->cb) {
    case CB_DONE:
        req->fn.done(req->status, errp, req->arg);
        break;
    case CB_LOAD: {
        yg_checkpoint_t *ckpt = NULL;
        yg_value_t *map = result_decode(req, &err);
        if (map && !(ckpt = yg_checkpoint_from_map(map, &err)))
            req->status = err.code;
        yg_value_destroy(&map);
        errp = req->status != YG_OK ? &err : NULL;
        req->fn.load(req->status, ckpt, errp, req->arg);
        break;
    }
    case CB_LIST: {
        yg_value_t *history = result_decode(req, &err);
        errp = req->status != YG_OK ? &err : NULL;
        req->fn.list(req->status, history, errp, req->arg);
        break;
    }
    }
    self->base.in_callback--;
    req_free(req);
}

/* Take one reply off the pipe.  Returns 1 for a request, 0 for the CLOSED
 * marker, -1 when nothing could be read. */
static int file_receive(file_store_t *self)
{
    char *command = NULL;
    void *ptr = NULL;
    if (zsock_recv(self->io, "sp", &command, &ptr) != 0)
        return -1;
    bool is_reply = command && streq(command, "REP") && ptr;
    free(command);
    if (!is_reply)
        return 0;
    file_req_t *req = ptr;
    /* The I/O thread answers in order. */
    assert(req == self->head);
    self->head = req->next;
    if (!self->head)
        self->tail = NULL;
    file_deliver(self, req);
    return 1;
}

static int file_on_reply(zloop_t *loop, zsock_t *reader, void *arg)
{
    file_store_t *self = arg;
    for (int i = 0; i < FILE_REPLY_BATCH && (zsock_events(self->io) & ZMQ_POLLIN); i++)
        if (file_receive(self) < 0)
            break;
    return 0;
}

static void file_destroy(yg_ckpt_t *base)
{
    file_store_t *self = (file_store_t *)base;
    zloop_reader_end(self->loop, zactor_sock(self->io));
    /* Let the I/O thread finish (and sync) everything queued, and deliver
     * the real outcomes before we go. */
    if (zsock_send(self->io, "sp", "CLOSE", NULL) == 0)
        while (file_receive(self) > 0)
            ;
    zactor_destroy(&self->io);
    while (self->head) {
        file_req_t *req = self->head;
        self->head = req->next;
        req_fail(req, YG_ECLOSED, "checkpoint store closed");
        file_deliver(self, req);
    }
    zhashx_destroy(&self->cache);
    free(self);
}

static const yg_ckpt_ops_t file_ops = {
    .kind = "file",
    .save = file_save,
    .load_latest = file_load_latest,
    .load = file_load,
    .list = file_list,
    .delete_thread = file_delete_thread,
    .destroy = file_destroy,
};

yg_ckpt_t *yg_ckpt_file_new(zloop_t *loop, const char *path, yg_error_t *err)
{
    if (!loop || !path || !*path) {
        yg_error_set(err, YG_EINVAL, "the file checkpointer needs a loop and a path");
        return NULL;
    }
    file_store_t *self = calloc(1, sizeof *self);
    if (!self || !(self->cache = zhashx_new())) {
        free(self);
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    self->base.ops = &file_ops;
    self->loop = loop;
    zhashx_set_destructor(self->cache, cache_thread_free);
    yg_error_t local = {0};
    io_init_t init = {.path = path, .stats = &self->stats, .err = err ? err : &local};
    self->io = zactor_new(io_actor, &init);
    if (self->io) { /* see io_actor: the pipe must never block the loop */
        zsock_set_sndhwm(self->io, 0);
        zsock_set_rcvhwm(self->io, 0);
    }
    if (!self->io || init.status != YG_OK
        || zloop_reader(loop, zactor_sock(self->io), file_on_reply, self) != 0) {
        if (self->io && init.status == YG_OK)
            yg_error_set(err, YG_ENOMEM, "cannot register the checkpoint file in the loop");
        else if (!self->io)
            yg_error_set(err, YG_ENOMEM, "cannot start the checkpoint I/O thread");
        zactor_destroy(&self->io);
        zhashx_destroy(&self->cache);
        free(self);
        return NULL;
    }
    return &self->base;
}

int yg_ckpt_file_stats(const yg_ckpt_t *base, uint64_t *records, uint64_t *syncs)
{
    if (!base || strcmp(base->ops->kind, "file") != 0)
        return YG_EINVAL;
    const file_store_t *self = (const file_store_t *)base;
    if (records)
        *records = atomic_load(&self->stats.records);
    if (syncs)
        *syncs = atomic_load(&self->stats.syncs);
    return YG_OK;
}
