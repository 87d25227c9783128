/*
 * yg_native.c - the process-wide registry of native functions that serve
 * `type: python` tools (yg_native.h).  A small array under a mutex: it is
 * written a few times at start-up and read once per python node step, so
 * a linear scan over a handful of entries beats anything cleverer.
 */
#include "yamlgraph/yg_native.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct native_entry {
    char *module;
    char *function;
    yg_native_fn *fn;
    void *arg;
} native_entry_t;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static native_entry_t *registry;   /* grows by doubling; never shrinks */
static size_t registry_size;
static size_t registry_capacity;

static bool name_ok(const char *s)
{
    return s && *s && strnlen(s, YG_NATIVE_NAME_MAX + 1) <= YG_NATIVE_NAME_MAX;
}

/* Index of (module, function) or -1; caller holds the lock. */
static long find_locked(const char *module, const char *function)
{
    for (size_t i = 0; i < registry_size; i++)
        if (!strcmp(registry[i].module, module) && !strcmp(registry[i].function, function))
            return (long)i;
    return -1;
}

int yg_native_register(const char *module, const char *function, yg_native_fn *fn, void *arg)
{
    if (!name_ok(module) || !name_ok(function) || !fn)
        return YG_EINVAL;
    pthread_mutex_lock(&registry_lock);
    int rc = YG_OK;
    long at = find_locked(module, function);
    if (at >= 0) {
        registry[at].fn = fn;
        registry[at].arg = arg;
        goto out;
    }
    if (registry_size >= YG_NATIVE_MAX_ENTRIES) {
        rc = YG_ELIMIT;
        goto out;
    }
    if (registry_size == registry_capacity) {
        size_t cap = registry_capacity ? registry_capacity * 2 : 16;
        native_entry_t *grown = realloc(registry, cap * sizeof *grown);
        if (!grown) {
            rc = YG_ENOMEM;
            goto out;
        }
        registry = grown;
        registry_capacity = cap;
    }
    native_entry_t e = {strdup(module), strdup(function), fn, arg};
    if (!e.module || !e.function) {
        free(e.module);
        free(e.function);
        rc = YG_ENOMEM;
        goto out;
    }
    registry[registry_size++] = e;
out:
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

yg_native_fn *yg_native_lookup(const char *module, const char *function, void **arg)
{
    if (!module || !function)
        return NULL;
    yg_native_fn *fn = NULL;
    pthread_mutex_lock(&registry_lock);
    long at = find_locked(module, function);
    if (at >= 0) {
        fn = registry[at].fn;
        if (arg)
            *arg = registry[at].arg;
    }
    pthread_mutex_unlock(&registry_lock);
    return fn;
}

int yg_native_unregister(const char *module, const char *function)
{
    if (!module || !function)
        return YG_EINVAL;
    pthread_mutex_lock(&registry_lock);
    long at = find_locked(module, function);
    if (at >= 0) {
        free(registry[at].module);
        free(registry[at].function);
        registry[at] = registry[--registry_size];
    }
    pthread_mutex_unlock(&registry_lock);
    return at >= 0 ? YG_OK : YG_ENOTFOUND;
}
