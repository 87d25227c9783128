/*
 * yg_ckpt_delta.c - delta records, shared by the checkpoint stores that
 * write them (file, Redis).
 *
 * A store remembers the newest state it saved for a chain (a
 * yg_ckpt_delta_base_t).  The next save whose parent is that checkpoint is
 * written as a delta against it ("changed": the keys whose value differs
 * or is new, "removed": the keys that went away) until
 * YG_CKPT_SNAPSHOT_INTERVAL deltas sit on the last snapshot; a load starts
 * from the snapshot's values and applies the deltas above it, oldest
 * first.  Values are shared by reference, never copied.
 */
#include "yg_ckpt_internal.h"

#include <stdlib.h>
#include <string.h>

yg_value_t *yg_ckpt_map_shallow_copy(const yg_value_t *map)
{
    yg_value_t *out = yg_map_new();
    for (size_t i = 0; out && i < yg_map_size(map); i++)
        if (yg_map_setn(out, yg_map_key_at(map, i), yg_map_keylen_at(map, i),
                        yg_value_ref(yg_map_value_at(map, i)))
            != YG_OK)
            yg_value_destroy(&out);
    return out;
}

/* A copy of map without key (maps have no remove-by-length). */
static yg_value_t *map_without(const yg_value_t *map, const char *key, size_t keylen)
{
    yg_value_t *out = yg_map_new();
    for (size_t i = 0; out && i < yg_map_size(map); i++) {
        const char *k = yg_map_key_at(map, i);
        size_t klen = yg_map_keylen_at(map, i);
        if (klen == keylen && memcmp(k, key, keylen) == 0)
            continue;
        if (yg_map_setn(out, k, klen, yg_value_ref(yg_map_value_at(map, i))) != YG_OK)
            yg_value_destroy(&out);
    }
    return out;
}

int yg_ckpt_delta_fill(yg_value_t *record, const yg_value_t *base, const yg_value_t *values)
{
    yg_value_t *changed = yg_map_new(), *removed = yg_list_new();
    int rc = changed && removed ? YG_OK : YG_ENOMEM;
    for (size_t i = 0; rc == YG_OK && i < yg_map_size(values); i++) {
        const char *key = yg_map_key_at(values, i);
        size_t keylen = yg_map_keylen_at(values, i);
        yg_value_t *mine = yg_map_value_at(values, i);
        const yg_value_t *old = yg_map_getn(base, key, keylen);
        if (old && (old == mine || yg_value_equal(old, mine)))
            continue;
        rc = yg_map_setn(changed, key, keylen, yg_value_ref(mine));
    }
    for (size_t i = 0; rc == YG_OK && i < yg_map_size(base); i++) {
        const char *key = yg_map_key_at(base, i);
        size_t keylen = yg_map_keylen_at(base, i);
        if (!yg_map_getn(values, key, keylen))
            rc = yg_list_append(removed, yg_str_newn(key, keylen));
    }
    if (rc == YG_OK)
        rc = yg_map_set(record, YG_CKPT_KEY_CHANGED, changed);
    else
        yg_value_destroy(&changed);
    if (rc == YG_OK)
        rc = yg_map_set(record, YG_CKPT_KEY_REMOVED, removed);
    else
        yg_value_destroy(&removed);
    return rc;
}

int yg_ckpt_delta_apply(yg_value_t **state, const yg_value_t *record, bool keys_required,
                        yg_error_t *err)
{
    const yg_value_t *changed = yg_map_get(record, YG_CKPT_KEY_CHANGED);
    const yg_value_t *removed = yg_map_get(record, YG_CKPT_KEY_REMOVED);
    if (((changed || keys_required) && yg_value_type(changed) != YG_MAP)
        || ((removed || keys_required) && yg_value_type(removed) != YG_LIST))
        return yg_error_set(err, YG_EPARSE, "malformed delta record");
    for (size_t i = 0; i < yg_map_size(changed); i++)
        if (yg_map_setn(*state, yg_map_key_at(changed, i), yg_map_keylen_at(changed, i),
                        yg_value_ref(yg_map_value_at(changed, i)))
            != YG_OK)
            return yg_error_set(err, YG_ENOMEM, "out of memory");
    for (size_t i = 0; i < yg_list_size(removed); i++) {
        const yg_value_t *key = yg_list_get(removed, i);
        if (yg_value_type(key) != YG_STR)
            return yg_error_set(err, YG_EPARSE, "malformed delta record");
        yg_value_t *smaller = map_without(*state, yg_value_str(key), yg_value_strlen(key));
        if (!smaller)
            return yg_error_set(err, YG_ENOMEM, "out of memory");
        yg_value_destroy(state);
        *state = smaller;
    }
    return YG_OK;
}

bool yg_ckpt_delta_base_fits(const yg_ckpt_delta_base_t *base, const char *parent_id)
{
    return base && base->id && parent_id && strcmp(base->id, parent_id) == 0
           && base->depth + 1 < YG_CKPT_SNAPSHOT_INTERVAL;
}

int yg_ckpt_delta_base_set(yg_ckpt_delta_base_t *base, const char *id, const yg_value_t *values,
                           uint16_t depth)
{
    char *id_copy = strdup(id);
    yg_value_t *copy = yg_ckpt_map_shallow_copy(values);
    if (!id_copy || !copy) {
        free(id_copy);
        yg_value_destroy(&copy);
        return YG_ENOMEM;
    }
    yg_ckpt_delta_base_clear(base);
    base->id = id_copy;
    base->values = copy;
    base->depth = depth;
    return YG_OK;
}

void yg_ckpt_delta_base_clear(yg_ckpt_delta_base_t *base)
{
    free(base->id);
    base->id = NULL;
    yg_value_destroy(&base->values);
    base->depth = 0;
}
