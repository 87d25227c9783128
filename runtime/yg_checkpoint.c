/*
 * yg_checkpoint.c - the checkpoint record, its versioned encoding, and the
 * store front end (argument checks, then dispatch through the vtable).
 */
#include "yg_checkpoint.h"
#include "yg_ckpt_internal.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Length of a generated id: 12 hex ms + '-' + 8 hex sequence + '-' + 8 hex
 * process nonce. */
#define CHECKPOINT_GENERATED_ID_LEN 30

int64_t yg_ckpt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the record ----------------------------------------------------------- */

yg_checkpoint_t *yg_checkpoint_new(const char *thread_id, const char *ns)
{
    if (!thread_id)
        return NULL;
    yg_checkpoint_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->thread_id = strdup(thread_id);
    self->ns = strdup(ns ? ns : "");
    self->source = strdup(YG_CKPT_SOURCE_INPUT);
    self->values = yg_map_new();
    self->step = -1;
    if (!self->thread_id || !self->ns || !self->source || !self->values)
        yg_checkpoint_destroy(&self);
    return self;
}

void yg_checkpoint_destroy(yg_checkpoint_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_checkpoint_t *self = *self_p;
    free(self->thread_id);
    free(self->ns);
    free(self->id);
    free(self->parent_id);
    free(self->source);
    yg_value_destroy(&self->values);
    yg_value_destroy(&self->next);
    yg_value_destroy(&self->tasks);
    yg_value_destroy(&self->writes);
    yg_value_destroy(&self->interrupts);
    yg_value_destroy(&self->meta);
    free(self);
    *self_p = NULL;
}

/* strdup that maps NULL to NULL and reports failure through *ok. */
static char *dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *copy = strdup(s);
    if (!copy)
        *ok = false;
    return copy;
}

yg_checkpoint_t *yg_checkpoint_copy(const yg_checkpoint_t *self)
{
    if (!self)
        return NULL;
    yg_checkpoint_t *copy = calloc(1, sizeof *copy);
    if (!copy)
        return NULL;
    bool ok = true;
    copy->thread_id = dup_or_null(self->thread_id, &ok);
    copy->ns = dup_or_null(self->ns, &ok);
    copy->id = dup_or_null(self->id, &ok);
    copy->parent_id = dup_or_null(self->parent_id, &ok);
    copy->source = dup_or_null(self->source, &ok);
    copy->step = self->step;
    copy->created_at_ms = self->created_at_ms;
    memcpy(copy->graph_hash, self->graph_hash, sizeof copy->graph_hash);
    copy->graph_hash[YG_CHECKPOINT_HASH_SIZE - 1] = '\0';
    copy->values = yg_value_ref(self->values);
    copy->next = yg_value_ref(self->next);
    copy->tasks = yg_value_ref(self->tasks);
    copy->writes = yg_value_ref(self->writes);
    copy->interrupts = yg_value_ref(self->interrupts);
    copy->meta = yg_value_ref(self->meta);
    if (!ok)
        yg_checkpoint_destroy(&copy);
    return copy;
}

/* Per-process part of generated ids, so two processes writing one store
 * at the same millisecond do not collide. */
static uint32_t s_id_nonce;
static pthread_once_t s_id_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast32_t s_id_sequence;
static atomic_int_fast64_t s_id_last_ms;

static void id_nonce_init(void)
{
    uint32_t nonce;
    if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != (ssize_t)sizeof nonce)
        nonce = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
    s_id_nonce = nonce;
}

int yg_checkpoint_assign_id(yg_checkpoint_t *self)
{
    if (!self)
        return YG_EINVAL;
    pthread_once(&s_id_once, id_nonce_init);
    /* Never go back in time, so ids sort in creation order even if the
     * wall clock steps backwards. */
    int64_t ms = yg_ckpt_now_ms();
    int_fast64_t last = atomic_load(&s_id_last_ms);
    while (ms > last && !atomic_compare_exchange_weak(&s_id_last_ms, &last, ms))
        ;
    if (ms < last)
        ms = last;
    uint32_t seq = (uint32_t)atomic_fetch_add(&s_id_sequence, 1);
    char *id = malloc(CHECKPOINT_GENERATED_ID_LEN + 1);
    if (!id)
        return YG_ENOMEM;
    snprintf(id, CHECKPOINT_GENERATED_ID_LEN + 1, "%012" PRIx64 "-%08" PRIx32 "-%08" PRIx32,
             (uint64_t)ms & UINT64_C(0xffffffffffff), seq, s_id_nonce);
    free(self->id);
    self->id = id;
    return YG_OK;
}

static int check_string(const char *what, const char *s, size_t max, bool required,
                        yg_error_t *err)
{
    if (!s)
        return required ? yg_error_set(err, YG_EINVAL, "checkpoint %s is missing", what)
                        : YG_OK;
    if (strlen(s) > max)
        return yg_error_set(err, YG_EINVAL, "checkpoint %s is longer than %zu bytes", what,
                            max);
    return YG_OK;
}

static int check_type(const char *what, const yg_value_t *v, yg_type_t want, yg_error_t *err)
{
    if (!v || yg_value_type(v) == want || yg_value_type(v) == YG_NULL)
        return YG_OK;
    return yg_error_set(err, YG_EINVAL, "checkpoint %s must be a %s, not a %s", what,
                        yg_type_name(want), yg_type_name(yg_value_type(v)));
}

int yg_checkpoint_validate(const yg_checkpoint_t *self, yg_error_t *err)
{
    if (!self)
        return yg_error_set(err, YG_EINVAL, "no checkpoint");
    int rc;
    if ((rc = check_string("thread id", self->thread_id, YG_CHECKPOINT_THREAD_ID_MAX, true,
                           err))
        || (rc = check_string("namespace", self->ns, YG_CHECKPOINT_NS_MAX, false, err))
        || (rc = check_string("id", self->id, YG_CHECKPOINT_ID_MAX, false, err))
        || (rc = check_string("parent id", self->parent_id, YG_CHECKPOINT_ID_MAX, false, err))
        || (rc = check_string("source", self->source, YG_CHECKPOINT_ID_MAX, false, err)))
        return rc;
    if (self->id && !*self->id)
        return yg_error_set(err, YG_EINVAL, "checkpoint id is empty");
    if (!*self->thread_id)
        return yg_error_set(err, YG_EINVAL, "checkpoint thread id is empty");
    if (!memchr(self->graph_hash, '\0', sizeof self->graph_hash))
        return yg_error_set(err, YG_EINVAL, "checkpoint graph hash is not terminated");
    if ((rc = check_type("values", self->values, YG_MAP, err))
        || (rc = check_type("next", self->next, YG_LIST, err))
        || (rc = check_type("tasks", self->tasks, YG_LIST, err))
        || (rc = check_type("writes", self->writes, YG_LIST, err))
        || (rc = check_type("interrupts", self->interrupts, YG_LIST, err))
        || (rc = check_type("meta", self->meta, YG_MAP, err)))
        return rc;
    return YG_OK;
}

/* --- map form and encoding ---------------------------------------------- */

/* Set key to a string copy of s, or null when s is NULL; false on ENOMEM. */
static bool map_set_str(yg_value_t *map, const char *key, const char *s)
{
    yg_value_t *v = s ? yg_str_new(s) : yg_null_new();
    return v && yg_map_set(map, key, v) == YG_OK;
}

static bool map_set_ref(yg_value_t *map, const char *key, yg_value_t *v)
{
    yg_value_t *ref = v ? yg_value_ref(v) : yg_null_new();
    return ref && yg_map_set(map, key, ref) == YG_OK;
}

static bool map_set_int(yg_value_t *map, const char *key, int64_t i)
{
    yg_value_t *v = yg_int_new(i);
    return v && yg_map_set(map, key, v) == YG_OK;
}

yg_value_t *yg_checkpoint_to_map_ex(const yg_checkpoint_t *self, bool with_values)
{
    if (!self)
        return NULL;
    yg_value_t *map = yg_map_new();
    if (!map)
        return NULL;
    bool ok = map_set_str(map, YG_CKPT_KEY_THREAD_ID, self->thread_id)
              && map_set_str(map, YG_CKPT_KEY_NS, self->ns ? self->ns : "")
              && map_set_str(map, YG_CKPT_KEY_ID, self->id)
              && map_set_str(map, YG_CKPT_KEY_PARENT_ID, self->parent_id)
              && map_set_int(map, YG_CKPT_KEY_STEP, self->step)
              && map_set_str(map, YG_CKPT_KEY_SOURCE,
                             self->source ? self->source : YG_CKPT_SOURCE_LOOP)
              && map_set_int(map, YG_CKPT_KEY_CREATED_AT, self->created_at_ms)
              && map_set_str(map, YG_CKPT_KEY_GRAPH_HASH, self->graph_hash)
              && (!with_values || map_set_ref(map, YG_CKPT_KEY_VALUES, self->values))
              && map_set_ref(map, YG_CKPT_KEY_NEXT, self->next)
              && map_set_ref(map, YG_CKPT_KEY_TASKS, self->tasks)
              && map_set_ref(map, YG_CKPT_KEY_WRITES, self->writes)
              && map_set_ref(map, YG_CKPT_KEY_INTERRUPTS, self->interrupts)
              && map_set_ref(map, YG_CKPT_KEY_META, self->meta);
    if (!ok)
        yg_value_destroy(&map);
    return map;
}

yg_value_t *yg_checkpoint_to_map(const yg_checkpoint_t *self)
{
    return yg_checkpoint_to_map_ex(self, true);
}

/* Read an optional string field into *out (NULL when absent or null). */
static int read_str(const yg_value_t *map, const char *key, size_t max, char **out,
                    yg_error_t *err)
{
    const yg_value_t *v = yg_map_get(map, key);
    *out = NULL;
    if (yg_value_is_null(v))
        return YG_OK;
    if (yg_value_type(v) != YG_STR)
        return yg_error_set(err, YG_EPARSE, "checkpoint field '%s' must be a string", key);
    if (yg_value_strlen(v) > max || strlen(yg_value_str(v)) != yg_value_strlen(v))
        return yg_error_set(err, YG_EPARSE,
                            "checkpoint field '%s' is too long or holds a NUL byte", key);
    *out = strdup(yg_value_str(v));
    return *out ? YG_OK : yg_error_set(err, YG_ENOMEM, "out of memory");
}

static int read_int(const yg_value_t *map, const char *key, int64_t *out, yg_error_t *err)
{
    const yg_value_t *v = yg_map_get(map, key);
    if (yg_value_type(v) != YG_INT)
        return yg_error_set(err, YG_EPARSE, "checkpoint field '%s' must be an integer", key);
    *out = yg_value_int(v);
    return YG_OK;
}

/* Reference an optional value field of the given type (null -> NULL). */
static int read_value(const yg_value_t *map, const char *key, yg_type_t want,
                      yg_value_t **out, yg_error_t *err)
{
    yg_value_t *v = yg_map_get(map, key);
    *out = NULL;
    if (yg_value_is_null(v))
        return YG_OK;
    if (yg_value_type(v) != want)
        return yg_error_set(err, YG_EPARSE, "checkpoint field '%s' must be a %s", key,
                            yg_type_name(want));
    *out = yg_value_ref(v);
    return YG_OK;
}

yg_checkpoint_t *yg_checkpoint_from_map_novalues(const yg_value_t *map, yg_error_t *err)
{
    if (yg_value_type(map) != YG_MAP) {
        yg_error_set(err, YG_EPARSE, "checkpoint record is not a map");
        return NULL;
    }
    yg_checkpoint_t *self = calloc(1, sizeof *self);
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    char *hash = NULL;
    int rc;
    if ((rc = read_str(map, YG_CKPT_KEY_THREAD_ID, YG_CHECKPOINT_THREAD_ID_MAX,
                       &self->thread_id, err))
        || (rc = read_str(map, YG_CKPT_KEY_NS, YG_CHECKPOINT_NS_MAX, &self->ns, err))
        || (rc = read_str(map, YG_CKPT_KEY_ID, YG_CHECKPOINT_ID_MAX, &self->id, err))
        || (rc = read_str(map, YG_CKPT_KEY_PARENT_ID, YG_CHECKPOINT_ID_MAX, &self->parent_id,
                          err))
        || (rc = read_str(map, YG_CKPT_KEY_SOURCE, YG_CHECKPOINT_ID_MAX, &self->source, err))
        || (rc = read_str(map, YG_CKPT_KEY_GRAPH_HASH, YG_CHECKPOINT_HASH_SIZE - 1, &hash,
                          err))
        || (rc = read_int(map, YG_CKPT_KEY_STEP, &self->step, err))
        || (rc = read_int(map, YG_CKPT_KEY_CREATED_AT, &self->created_at_ms, err))
        || (rc = read_value(map, YG_CKPT_KEY_NEXT, YG_LIST, &self->next, err))
        || (rc = read_value(map, YG_CKPT_KEY_TASKS, YG_LIST, &self->tasks, err))
        || (rc = read_value(map, YG_CKPT_KEY_WRITES, YG_LIST, &self->writes, err))
        || (rc = read_value(map, YG_CKPT_KEY_INTERRUPTS, YG_LIST, &self->interrupts, err))
        || (rc = read_value(map, YG_CKPT_KEY_META, YG_MAP, &self->meta, err))) {
        free(hash);
        yg_checkpoint_destroy(&self);
        return NULL;
    }
    if (hash)
        memcpy(self->graph_hash, hash, strlen(hash) + 1);
    free(hash);
    if (!self->thread_id || !*self->thread_id) {
        yg_error_set(err, YG_EPARSE, "checkpoint record has no thread id");
        yg_checkpoint_destroy(&self);
        return NULL;
    }
    if (!self->ns && !(self->ns = strdup(""))) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        yg_checkpoint_destroy(&self);
    }
    return self;
}

yg_checkpoint_t *yg_checkpoint_from_map(const yg_value_t *map, yg_error_t *err)
{
    yg_checkpoint_t *self = yg_checkpoint_from_map_novalues(map, err);
    if (!self)
        return NULL;
    if (read_value(map, YG_CKPT_KEY_VALUES, YG_MAP, &self->values, err) != YG_OK)
        yg_checkpoint_destroy(&self);
    else if (!self->values && !(self->values = yg_map_new())) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        yg_checkpoint_destroy(&self);
    }
    return self;
}

int yg_ckpt_pack_map(const yg_value_t *map, size_t max, char **data, size_t *size)
{
    char *body = NULL;
    size_t body_size = 0;
    int rc = yg_msgpack_encode(map, &body, &body_size);
    if (rc != YG_OK)
        return rc;
    if (max && body_size + 1 > max) {
        free(body);
        return YG_ELIMIT;
    }
    char *out = malloc(body_size + 1);
    if (!out) {
        free(body);
        return YG_ENOMEM;
    }
    out[0] = (char)YG_CHECKPOINT_FORMAT_VERSION;
    memcpy(out + 1, body, body_size);
    free(body);
    *data = out;
    *size = body_size + 1;
    return YG_OK;
}

int yg_checkpoint_encode(const yg_checkpoint_t *self, char **data, size_t *size)
{
    if (!self || !data || !size)
        return YG_EINVAL;
    yg_value_t *map = yg_checkpoint_to_map(self);
    if (!map)
        return YG_ENOMEM;
    int rc = yg_ckpt_pack_map(map, 0, data, size);
    yg_value_destroy(&map);
    return rc;
}

yg_checkpoint_t *yg_checkpoint_decode(const char *data, size_t size, yg_error_t *err)
{
    if (!data || size < 2) {
        yg_error_set(err, YG_EPARSE, "checkpoint data is empty or truncated");
        return NULL;
    }
    if ((unsigned char)data[0] != YG_CHECKPOINT_FORMAT_VERSION) {
        yg_error_set(err, YG_EUNSUPPORTED,
                     "checkpoint format version %u is not supported (this build reads %u)",
                     (unsigned char)data[0], YG_CHECKPOINT_FORMAT_VERSION);
        return NULL;
    }
    yg_value_t *map = yg_msgpack_decode(data + 1, size - 1, NULL, err);
    if (!map)
        return NULL;
    yg_checkpoint_t *self = yg_checkpoint_from_map(map, err);
    yg_value_destroy(&map);
    return self;
}

/* --- store front end ------------------------------------------------------ */

static int check_ids(const char *thread_id, const char *ns)
{
    if (!thread_id || !*thread_id || strlen(thread_id) > YG_CHECKPOINT_THREAD_ID_MAX)
        return YG_EINVAL;
    if (ns && strlen(ns) > YG_CHECKPOINT_NS_MAX)
        return YG_EINVAL;
    return YG_OK;
}

int yg_ckpt_save(yg_ckpt_t *self, const yg_checkpoint_t *ckpt, yg_ckpt_done_fn *done,
                 void *arg)
{
    if (!self || !done || yg_checkpoint_validate(ckpt, NULL) != YG_OK)
        return YG_EINVAL;
    return self->ops->save(self, ckpt, done, arg);
}

int yg_ckpt_load_latest(yg_ckpt_t *self, const char *thread_id, const char *ns,
                        yg_ckpt_load_fn *done, void *arg)
{
    if (!self || !done || check_ids(thread_id, ns) != YG_OK)
        return YG_EINVAL;
    return self->ops->load_latest(self, thread_id, ns ? ns : "", done, arg);
}

int yg_ckpt_load(yg_ckpt_t *self, const char *thread_id, const char *ns,
                 const char *checkpoint_id, yg_ckpt_load_fn *done, void *arg)
{
    if (!self || !done || check_ids(thread_id, ns) != YG_OK || !checkpoint_id
        || strlen(checkpoint_id) > YG_CHECKPOINT_ID_MAX)
        return YG_EINVAL;
    return self->ops->load(self, thread_id, ns ? ns : "", checkpoint_id, done, arg);
}

int yg_ckpt_list(yg_ckpt_t *self, const char *thread_id, const char *ns, size_t limit,
                 yg_ckpt_list_fn *done, void *arg)
{
    if (!self || !done || check_ids(thread_id, ns) != YG_OK)
        return YG_EINVAL;
    return self->ops->list(self, thread_id, ns ? ns : "", limit, done, arg);
}

int yg_ckpt_delete_thread(yg_ckpt_t *self, const char *thread_id, yg_ckpt_done_fn *done,
                          void *arg)
{
    if (!self || !done || check_ids(thread_id, NULL) != YG_OK)
        return YG_EINVAL;
    return self->ops->delete_thread(self, thread_id, done, arg);
}

void yg_ckpt_destroy(yg_ckpt_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_ckpt_t *self = *self_p;
    *self_p = NULL;
    /* Destroying a store from inside its own callback would free memory the
     * completion loop is still using. */
    assert(self->in_callback == 0);
    self->ops->destroy(self);
}

const char *yg_ckpt_kind(const yg_ckpt_t *self)
{
    return self ? self->ops->kind : "none";
}

bool yg_ckpt_is_remote(const yg_ckpt_t *self)
{
    return self && self->ops->remote;
}

yg_ckpt_t *yg_ckpt_open(zloop_t *loop, const char *spec, yg_error_t *err)
{
    if (!spec || !*spec || strcmp(spec, "memory") == 0 || strcmp(spec, ":memory:") == 0) {
        yg_ckpt_t *store = yg_ckpt_memory_new(loop);
        if (!store)
            yg_error_set(err, YG_ENOMEM, "out of memory creating the memory checkpointer");
        return store;
    }
    if (strncmp(spec, "redis://", 8) == 0 || strncmp(spec, "unix://", 7) == 0
        || strncmp(spec, "rediss://", 9) == 0)
        return yg_ckpt_redis_new(loop, spec, NULL, 0, err);
    const char *path = strncmp(spec, "file:", 5) == 0 ? spec + 5 : spec;
    if (!*path) {
        yg_error_set(err, YG_EINVAL, "checkpointer spec '%s' names no file", spec);
        return NULL;
    }
    return yg_ckpt_file_new(loop, path, err);
}
