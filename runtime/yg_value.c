/*
 * yg_value.c - the refcounted dynamic value (null/bool/int/float/str/list/map).
 *
 * Strings are stored inline after the value header (one allocation).  Maps
 * keep an insertion-ordered entry array; small maps are searched linearly,
 * and a map that grows beyond YG_MAP_INDEX_THRESHOLD entries gets an
 * open-addressing hash index so lookups in large state maps and JSON
 * objects stay O(1).  Small maps never allocate an index.
 */
#include "yamlgraph/yg_value.h"
#include "yg_value_internal.h"

#include <assert.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Maps with more entries than this get a hash index. */
#define YG_MAP_INDEX_THRESHOLD 16
/* Initial capacity of a list or map entry array on first insert. */
#define YG_CONTAINER_INITIAL_CAP 4
/* Keys shorter than this (NUL included) live inside the map entry: no
 * malloc per key for the short keys of protocol messages and states. */
#define YG_MAP_INLINE_KEY 16
/* Reference count of the shared immortal values (null, true, false and
 * small ints): ref/destroy leave them alone, so several threads may "ref"
 * them concurrently without a data race (only reads, never writes). */
#define YG_REFS_IMMORTAL UINT32_MAX
/* Small ints handed out as immortal shared values (loop counters, indexes,
 * protocol ids and codes): yg_int_new allocates nothing for them. */
#define YG_SMALL_INT_MIN (-32)
#define YG_SMALL_INT_MAX 1023
/* An empty index slot; slots otherwise hold an entry position. */
#define YG_MAP_SLOT_EMPTY UINT32_MAX
/* Entry positions must fit a slot (and stay below the empty marker). */
#define YG_MAP_MAX_ENTRIES (UINT32_MAX - 1u)

typedef struct {
    char *key;         /* NUL-terminated: `inline_key`, or owned when long */
    uint32_t keylen;
    uint32_t hash;     /* hash of key, cached for the index and fast compare */
    yg_value_t *value; /* owned */
    char inline_key[YG_MAP_INLINE_KEY];
} map_entry_t;

struct yg_value {
    yg_type_t type;
    uint32_t refs;
    union {
        bool b;
        int64_t i;
        double d;
        struct {
            char *data; /* points just past this struct */
            size_t len;
        } s;
        struct {
            yg_value_t **items;
            size_t size;
            size_t cap;
        } list;
        struct {
            map_entry_t *entries;
            size_t size;
            size_t cap;
            uint32_t *slots; /* NULL for small maps */
            size_t slot_cap; /* power of two */
        } map;
    } u;
};

const yg_limits_t yg_limits_default = {
    .max_bytes = YG_LIMIT_DEFAULT_BYTES,
    .max_depth = YG_LIMIT_DEFAULT_DEPTH,
    .max_elements = YG_LIMIT_DEFAULT_ELEMENTS,
    .max_string = YG_LIMIT_DEFAULT_STRING,
};

/* --- immortal values ------------------------------------------------------ */

/* Statically allocated, never freed, never written after start-up (the
 * constructor runs before main and before any thread exists). */
static yg_value_t immortal_null = {.type = YG_NULL, .refs = YG_REFS_IMMORTAL};
static yg_value_t immortal_true = {.type = YG_BOOL, .refs = YG_REFS_IMMORTAL, .u.b = true};
static yg_value_t immortal_false = {.type = YG_BOOL, .refs = YG_REFS_IMMORTAL, .u.b = false};
static yg_value_t small_ints[YG_SMALL_INT_MAX - YG_SMALL_INT_MIN + 1];

__attribute__((constructor)) static void small_ints_init(void)
{
    for (int64_t i = YG_SMALL_INT_MIN; i <= YG_SMALL_INT_MAX; i++) {
        yg_value_t *v = &small_ints[i - YG_SMALL_INT_MIN];
        v->type = YG_INT;
        v->refs = YG_REFS_IMMORTAL;
        v->u.i = i;
    }
}

/* --- constructors ------------------------------------------------------- */

static yg_value_t *value_alloc(yg_type_t type)
{
    yg_value_t *self = calloc(1, sizeof *self);
    if (self) {
        self->type = type;
        self->refs = 1;
    }
    return self;
}

yg_value_t *yg_null_new(void)
{
    return &immortal_null;
}

yg_value_t *yg_bool_new(bool b)
{
    return b ? &immortal_true : &immortal_false;
}

yg_value_t *yg_int_new(int64_t i)
{
    if (i >= YG_SMALL_INT_MIN && i <= YG_SMALL_INT_MAX)
        return &small_ints[i - YG_SMALL_INT_MIN];
    yg_value_t *self = value_alloc(YG_INT);
    if (self)
        self->u.i = i;
    return self;
}

yg_value_t *yg_float_new(double d)
{
    yg_value_t *self = value_alloc(YG_FLOAT);
    if (self)
        self->u.d = d;
    return self;
}

yg_value_t *yg_str_newn(const char *s, size_t len)
{
    if (len > SIZE_MAX - sizeof(yg_value_t) - 1)
        return NULL;
    yg_value_t *self = malloc(sizeof *self + len + 1);
    if (!self)
        return NULL;
    memset(self, 0, sizeof *self);
    self->type = YG_STR;
    self->refs = 1;
    self->u.s.data = (char *)(self + 1);
    self->u.s.len = len;
    if (len)
        memcpy(self->u.s.data, s, len);
    self->u.s.data[len] = '\0';
    return self;
}

yg_value_t *yg_str_new(const char *s)
{
    return yg_str_newn(s ? s : "", s ? strlen(s) : 0);
}

yg_value_t *yg_str_newf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    yg_value_t *self = yg_str_newn("", 0);
    if (!self)
        return NULL;
    yg_value_t *sized = realloc(self, sizeof *self + (size_t)n + 1);
    if (!sized) {
        free(self);
        return NULL;
    }
    self = sized;
    self->u.s.data = (char *)(self + 1);
    self->u.s.len = (size_t)n;
    va_start(ap, fmt);
    vsnprintf(self->u.s.data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return self;
}

yg_value_t *yg_list_new(void)
{
    return value_alloc(YG_LIST);
}

yg_value_t *yg_map_new(void)
{
    return value_alloc(YG_MAP);
}

yg_value_t *yg_list_new_sized(size_t n)
{
    yg_value_t *self = yg_list_new();
    if (self && n > 0) {
        self->u.list.items = n <= SIZE_MAX / sizeof(yg_value_t *)
                                 ? malloc(n * sizeof(yg_value_t *))
                                 : NULL;
        if (!self->u.list.items) {
            free(self);
            return NULL;
        }
        self->u.list.cap = n;
    }
    return self;
}

yg_value_t *yg_map_new_sized(size_t n)
{
    yg_value_t *self = yg_map_new();
    if (self && n > 0) {
        self->u.map.entries =
            n <= YG_MAP_MAX_ENTRIES ? malloc(n * sizeof(map_entry_t)) : NULL;
        if (!self->u.map.entries) {
            free(self);
            return NULL;
        }
        self->u.map.cap = n;
    }
    return self;
}

/* --- lifetime ------------------------------------------------------------ */

static void value_free(yg_value_t *self)
{
    if (self->type == YG_LIST) {
        for (size_t i = 0; i < self->u.list.size; i++)
            yg_value_destroy(&self->u.list.items[i]);
        free(self->u.list.items);
    } else if (self->type == YG_MAP) {
        for (size_t i = 0; i < self->u.map.size; i++) {
            map_entry_t *e = &self->u.map.entries[i];
            if (e->key != e->inline_key)
                free(e->key);
            yg_value_destroy(&e->value);
        }
        free(self->u.map.entries);
        free(self->u.map.slots);
    }
    free(self);
}

void yg_value_destroy(yg_value_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_value_t *self = *self_p;
    *self_p = NULL;
    if (self->refs == YG_REFS_IMMORTAL)
        return;
    assert(self->refs > 0);
    if (--self->refs == 0)
        value_free(self);
}

yg_value_t *yg_value_ref(yg_value_t *self)
{
    if (self && self->refs != YG_REFS_IMMORTAL) {
        assert(self->refs < YG_REFS_IMMORTAL - 1);
        self->refs++;
    }
    return self;
}

yg_value_t *yg_value_copy(const yg_value_t *self)
{
    if (!self)
        return yg_null_new();
    switch (self->type) {
    case YG_NULL:
        return yg_null_new();
    case YG_BOOL:
        return yg_bool_new(self->u.b);
    case YG_INT:
        return yg_int_new(self->u.i);
    case YG_FLOAT:
        return yg_float_new(self->u.d);
    case YG_STR:
        return yg_str_newn(self->u.s.data, self->u.s.len);
    case YG_LIST: {
        yg_value_t *copy = yg_list_new();
        for (size_t i = 0; copy && i < self->u.list.size; i++) {
            yg_value_t *item = yg_value_copy(self->u.list.items[i]);
            if (!item || yg_list_append(copy, item) != YG_OK)
                yg_value_destroy(&copy);
        }
        return copy;
    }
    case YG_MAP: {
        yg_value_t *copy = yg_map_new();
        for (size_t i = 0; copy && i < self->u.map.size; i++) {
            const map_entry_t *e = &self->u.map.entries[i];
            yg_value_t *item = yg_value_copy(e->value);
            if (!item || yg_map_setn(copy, e->key, e->keylen, item) != YG_OK)
                yg_value_destroy(&copy);
        }
        return copy;
    }
    }
    return NULL;
}

/* --- inspection ---------------------------------------------------------- */

yg_type_t yg_value_type(const yg_value_t *self)
{
    return self ? self->type : YG_NULL;
}

const char *yg_type_name(yg_type_t type)
{
    switch (type) {
    case YG_NULL:
        return "null";
    case YG_BOOL:
        return "bool";
    case YG_INT:
        return "int";
    case YG_FLOAT:
        return "float";
    case YG_STR:
        return "str";
    case YG_LIST:
        return "list";
    case YG_MAP:
        return "map";
    }
    return "unknown";
}

bool yg_value_is_null(const yg_value_t *self)
{
    return !self || self->type == YG_NULL;
}

bool yg_value_bool(const yg_value_t *self)
{
    return self && self->type == YG_BOOL && self->u.b;
}

/* Float -> int64 truncation, saturating (and NaN -> 0) to avoid UB. */
static int64_t float_to_int(double d)
{
    if (isnan(d))
        return 0;
    if (d >= 9223372036854775808.0)
        return INT64_MAX;
    if (d < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

int64_t yg_value_int(const yg_value_t *self)
{
    if (!self)
        return 0;
    if (self->type == YG_INT)
        return self->u.i;
    if (self->type == YG_FLOAT)
        return float_to_int(self->u.d);
    return 0;
}

double yg_value_float(const yg_value_t *self)
{
    if (!self)
        return 0.0;
    if (self->type == YG_FLOAT)
        return self->u.d;
    if (self->type == YG_INT)
        return (double)self->u.i;
    return 0.0;
}

const char *yg_value_str(const yg_value_t *self)
{
    return self && self->type == YG_STR ? self->u.s.data : NULL;
}

size_t yg_value_strlen(const yg_value_t *self)
{
    return self && self->type == YG_STR ? self->u.s.len : 0;
}

bool yg_value_truthy(const yg_value_t *self)
{
    if (!self)
        return false;
    switch (self->type) {
    case YG_NULL:
        return false;
    case YG_BOOL:
        return self->u.b;
    case YG_INT:
        return self->u.i != 0;
    case YG_FLOAT:
        return self->u.d != 0.0; /* NaN is truthy, as in Python */
    case YG_STR:
        return self->u.s.len > 0;
    case YG_LIST:
        return self->u.list.size > 0;
    case YG_MAP:
        return self->u.map.size > 0;
    }
    return false;
}

/* Exact int/float comparison: (double)i == d would call 2^53+1 equal to 2^53. */
static bool int_equals_float(int64_t i, double d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return false; /* out of range or NaN */
    if (d != trunc(d))
        return false;
    return (int64_t)d == i;
}

bool yg_value_equal(const yg_value_t *a, const yg_value_t *b)
{
    if (a == b)
        return a == NULL || a->type != YG_FLOAT || !isnan(a->u.d);
    yg_type_t ta = yg_value_type(a), tb = yg_value_type(b);
    if (ta == YG_INT && tb == YG_FLOAT)
        return int_equals_float(a->u.i, b->u.d);
    if (ta == YG_FLOAT && tb == YG_INT)
        return int_equals_float(b->u.i, a->u.d);
    if (ta != tb)
        return false;
    switch (ta) {
    case YG_NULL:
        return true;
    case YG_BOOL:
        return a->u.b == b->u.b;
    case YG_INT:
        return a->u.i == b->u.i;
    case YG_FLOAT:
        return a->u.d == b->u.d;
    case YG_STR:
        return a->u.s.len == b->u.s.len && memcmp(a->u.s.data, b->u.s.data, a->u.s.len) == 0;
    case YG_LIST:
        if (a->u.list.size != b->u.list.size)
            return false;
        for (size_t i = 0; i < a->u.list.size; i++)
            if (!yg_value_equal(a->u.list.items[i], b->u.list.items[i]))
                return false;
        return true;
    case YG_MAP:
        /* Key order does not matter, as for Python dicts. */
        if (a->u.map.size != b->u.map.size)
            return false;
        for (size_t i = 0; i < a->u.map.size; i++) {
            const map_entry_t *e = &a->u.map.entries[i];
            yg_value_t *other = yg_map_getn(b, e->key, e->keylen);
            if (!other || !yg_value_equal(e->value, other))
                return false;
        }
        return true;
    }
    return false;
}

/* --- lists --------------------------------------------------------------- */

size_t yg_list_size(const yg_value_t *list)
{
    return list && list->type == YG_LIST ? list->u.list.size : 0;
}

yg_value_t *yg_list_get(const yg_value_t *list, size_t index)
{
    if (!list || list->type != YG_LIST || index >= list->u.list.size)
        return NULL;
    return list->u.list.items[index];
}

/* Grow an array of elem_size elements geometrically to hold one more. */
static int grow_array(void **array, size_t *cap, size_t size, size_t elem_size)
{
    if (size < *cap)
        return YG_OK;
    size_t new_cap = *cap ? *cap * 2 : YG_CONTAINER_INITIAL_CAP;
    if (new_cap < *cap || new_cap > SIZE_MAX / elem_size)
        return YG_ENOMEM;
    void *grown = realloc(*array, new_cap * elem_size);
    if (!grown)
        return YG_ENOMEM;
    *array = grown;
    *cap = new_cap;
    return YG_OK;
}

int yg_list_append(yg_value_t *list, yg_value_t *item)
{
    if (!list || list->type != YG_LIST) {
        yg_value_destroy(&item);
        return list ? YG_ETYPE : YG_EINVAL;
    }
    assert(list->refs == 1);
    if (!item)
        item = yg_null_new();
    if (!item || grow_array((void **)&list->u.list.items, &list->u.list.cap, list->u.list.size,
                            sizeof(yg_value_t *)) != YG_OK) {
        yg_value_destroy(&item);
        return YG_ENOMEM;
    }
    list->u.list.items[list->u.list.size++] = item;
    return YG_OK;
}

int yg_list_set(yg_value_t *list, size_t index, yg_value_t *item)
{
    if (!list || list->type != YG_LIST) {
        yg_value_destroy(&item);
        return list ? YG_ETYPE : YG_EINVAL;
    }
    assert(list->refs == 1);
    if (index == list->u.list.size)
        return yg_list_append(list, item);
    if (index > list->u.list.size) {
        yg_value_destroy(&item);
        return YG_EINVAL;
    }
    if (!item && !(item = yg_null_new()))
        return YG_ENOMEM;
    yg_value_destroy(&list->u.list.items[index]);
    list->u.list.items[index] = item;
    return YG_OK;
}

/* --- maps ---------------------------------------------------------------- */

/* FNV-1a: simple and good enough for key strings. */
static uint32_t key_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return h;
}

/* Entries moved in memory (array growth, removal): inline keys follow. */
static void entries_repoint(yg_value_t *map, size_t from)
{
    for (size_t i = from; i < map->u.map.size; i++) {
        map_entry_t *e = &map->u.map.entries[i];
        if (e->keylen < YG_MAP_INLINE_KEY)
            e->key = e->inline_key;
    }
}

static bool entry_matches(const map_entry_t *e, const char *key, size_t keylen, uint32_t hash)
{
    return e->hash == hash && e->keylen == keylen && memcmp(e->key, key, keylen) == 0;
}

/* Put entry position pos into the index (it must not be there yet). */
static void index_insert(yg_value_t *map, size_t pos)
{
    size_t mask = map->u.map.slot_cap - 1;
    size_t slot = map->u.map.entries[pos].hash & mask;
    while (map->u.map.slots[slot] != YG_MAP_SLOT_EMPTY)
        slot = (slot + 1) & mask;
    map->u.map.slots[slot] = (uint32_t)pos;
}

/* (Re)build the index with room for at least `entries` entries at load <= 1/2. */
static int index_rebuild(yg_value_t *map, size_t entries)
{
    size_t cap = 64;
    while (cap < entries * 2)
        cap *= 2;
    uint32_t *slots = malloc(cap * sizeof *slots);
    if (!slots)
        return YG_ENOMEM;
    memset(slots, 0xff, cap * sizeof *slots); /* every slot YG_MAP_SLOT_EMPTY */
    free(map->u.map.slots);
    map->u.map.slots = slots;
    map->u.map.slot_cap = cap;
    for (size_t i = 0; i < map->u.map.size; i++)
        index_insert(map, i);
    return YG_OK;
}

/* Remove entry position pos from the index before the entry array shifts:
 * backward-shift deletion keeps every probe chain intact, then positions
 * after pos are renumbered. */
static void index_remove(yg_value_t *map, size_t pos)
{
    uint32_t *slots = map->u.map.slots;
    size_t mask = map->u.map.slot_cap - 1;
    size_t hole = map->u.map.entries[pos].hash & mask;
    while (slots[hole] != (uint32_t)pos)
        hole = (hole + 1) & mask;
    for (size_t next = (hole + 1) & mask; slots[next] != YG_MAP_SLOT_EMPTY;
         next = (next + 1) & mask) {
        size_t home = map->u.map.entries[slots[next]].hash & mask;
        /* Move next into the hole unless its home lies cyclically in (hole, next]. */
        bool home_between =
            hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
        if (!home_between) {
            slots[hole] = slots[next];
            hole = next;
        }
    }
    slots[hole] = YG_MAP_SLOT_EMPTY;
    for (size_t i = 0; i < map->u.map.slot_cap; i++)
        if (slots[i] != YG_MAP_SLOT_EMPTY && slots[i] > pos)
            slots[i]--;
}

/* Position of key in the entry array, or -1. */
static ptrdiff_t map_find(const yg_value_t *map, const char *key, size_t keylen, uint32_t hash)
{
    if (map->u.map.slots) {
        size_t mask = map->u.map.slot_cap - 1;
        for (size_t slot = hash & mask; map->u.map.slots[slot] != YG_MAP_SLOT_EMPTY;
             slot = (slot + 1) & mask) {
            uint32_t pos = map->u.map.slots[slot];
            if (entry_matches(&map->u.map.entries[pos], key, keylen, hash))
                return (ptrdiff_t)pos;
        }
        return -1;
    }
    for (size_t i = 0; i < map->u.map.size; i++)
        if (entry_matches(&map->u.map.entries[i], key, keylen, hash))
            return (ptrdiff_t)i;
    return -1;
}

size_t yg_map_size(const yg_value_t *map)
{
    return map && map->type == YG_MAP ? map->u.map.size : 0;
}

const char *yg_map_key_at(const yg_value_t *map, size_t index)
{
    if (!map || map->type != YG_MAP || index >= map->u.map.size)
        return NULL;
    return map->u.map.entries[index].key;
}

size_t yg_map_keylen_at(const yg_value_t *map, size_t index)
{
    if (!map || map->type != YG_MAP || index >= map->u.map.size)
        return 0;
    return map->u.map.entries[index].keylen;
}

yg_value_t *yg_map_value_at(const yg_value_t *map, size_t index)
{
    if (!map || map->type != YG_MAP || index >= map->u.map.size)
        return NULL;
    return map->u.map.entries[index].value;
}

yg_value_t *yg_map_getn(const yg_value_t *map, const char *key, size_t keylen)
{
    if (!map || map->type != YG_MAP || !key)
        return NULL;
    ptrdiff_t pos = map_find(map, key, keylen, key_hash(key, keylen));
    return pos < 0 ? NULL : map->u.map.entries[pos].value;
}

yg_value_t *yg_map_get(const yg_value_t *map, const char *key)
{
    return key ? yg_map_getn(map, key, strlen(key)) : NULL;
}

bool yg_map_has(const yg_value_t *map, const char *key)
{
    return yg_map_get(map, key) != NULL;
}

int yg_map_setn(yg_value_t *map, const char *key, size_t keylen, yg_value_t *value)
{
    if (!map || map->type != YG_MAP || !key) {
        yg_value_destroy(&value);
        return map && map->type != YG_MAP ? YG_ETYPE : YG_EINVAL;
    }
    assert(map->refs == 1);
    if (!value && !(value = yg_null_new()))
        return YG_ENOMEM;
    uint32_t hash = key_hash(key, keylen);
    ptrdiff_t pos = map_find(map, key, keylen, hash);
    if (pos >= 0) {
        yg_value_destroy(&map->u.map.entries[pos].value);
        map->u.map.entries[pos].value = value;
        return YG_OK;
    }
    if (map->u.map.size >= YG_MAP_MAX_ENTRIES || keylen >= UINT32_MAX) {
        yg_value_destroy(&value);
        return YG_ENOMEM;
    }
    char *key_copy = NULL;
    if (keylen >= YG_MAP_INLINE_KEY && !(key_copy = malloc(keylen + 1))) {
        yg_value_destroy(&value);
        return YG_ENOMEM;
    }
    map_entry_t *old = map->u.map.entries;
    if (grow_array((void **)&map->u.map.entries, &map->u.map.cap, map->u.map.size,
                   sizeof(map_entry_t)) != YG_OK) {
        free(key_copy);
        yg_value_destroy(&value);
        return YG_ENOMEM;
    }
    if (map->u.map.entries != old)
        entries_repoint(map, 0);
    size_t new_pos = map->u.map.size;
    map_entry_t *e = &map->u.map.entries[new_pos];
    e->key = key_copy ? key_copy : e->inline_key;
    memcpy(e->key, key, keylen);
    e->key[keylen] = '\0';
    e->keylen = (uint32_t)keylen;
    e->hash = hash;
    e->value = value;
    map->u.map.size++;
    if (map->u.map.slots && map->u.map.size * 2 <= map->u.map.slot_cap) {
        index_insert(map, new_pos);
    } else if (map->u.map.size > YG_MAP_INDEX_THRESHOLD) {
        /* Grow (or create) the index; if that fails the map still works:
         * it falls back to linear search. */
        if (index_rebuild(map, map->u.map.size) != YG_OK) {
            free(map->u.map.slots);
            map->u.map.slots = NULL;
            map->u.map.slot_cap = 0;
        }
    }
    return YG_OK;
}

int yg_map_set(yg_value_t *map, const char *key, yg_value_t *value)
{
    if (!key) {
        yg_value_destroy(&value);
        return YG_EINVAL;
    }
    return yg_map_setn(map, key, strlen(key), value);
}

int yg_map_remove(yg_value_t *map, const char *key)
{
    if (!map || map->type != YG_MAP || !key)
        return map && map->type != YG_MAP ? YG_ETYPE : YG_EINVAL;
    assert(map->refs == 1);
    size_t keylen = strlen(key);
    ptrdiff_t pos = map_find(map, key, keylen, key_hash(key, keylen));
    if (pos < 0)
        return YG_ENOTFOUND;
    if (map->u.map.slots)
        index_remove(map, (size_t)pos);
    map_entry_t *e = &map->u.map.entries[pos];
    if (e->key != e->inline_key)
        free(e->key);
    yg_value_destroy(&e->value);
    memmove(e, e + 1, (map->u.map.size - (size_t)pos - 1) * sizeof *e);
    map->u.map.size--;
    entries_repoint(map, (size_t)pos);
    if (map->u.map.slots && map->u.map.size <= YG_MAP_INDEX_THRESHOLD / 2) {
        /* Small again: linear search is cheaper than keeping the index.
         * (Hysteresis so a map hovering at the threshold does not thrash.) */
        free(map->u.map.slots);
        map->u.map.slots = NULL;
        map->u.map.slot_cap = 0;
    }
    return YG_OK;
}

/* --- path lookup --------------------------------------------------------- */

/* Parse a list index segment: decimal digits only, no sign. */
static bool parse_index(const char *seg, size_t len, size_t *index)
{
    if (len == 0)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (seg[i] < '0' || seg[i] > '9')
            return false;
        size_t digit = (size_t)(seg[i] - '0');
        if (n > (SIZE_MAX - digit) / 10)
            return false;
        n = n * 10 + digit;
    }
    *index = n;
    return true;
}

yg_value_t *yg_value_path(const yg_value_t *root, const char *path, bool list_index)
{
    if (!root || !path)
        return NULL;
    const yg_value_t *cur = root;
    const char *seg = path;
    if (*path == '\0')
        return (yg_value_t *)root;
    for (;;) {
        const char *dot = strchr(seg, '.');
        size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
        if (cur->type == YG_MAP) {
            cur = yg_map_getn(cur, seg, len);
        } else if (cur->type == YG_LIST && list_index) {
            size_t index;
            cur = parse_index(seg, len, &index) ? yg_list_get(cur, index) : NULL;
        } else {
            return NULL;
        }
        if (!cur || !dot)
            return (yg_value_t *)cur;
        seg = dot + 1;
    }
}

/* --- helpers shared by the codecs (yg_value_internal.h) ------------------ */

void yg_vbuf_init(yg_vbuf_t *buf)
{
    memset(buf, 0, sizeof *buf);
}

void yg_vbuf_append(yg_vbuf_t *buf, const char *bytes, size_t n)
{
    if (buf->failed)
        return;
    if (n >= buf->cap - buf->len || !buf->data) {
        size_t need = buf->len + n + 1;
        if (need < buf->len) {
            buf->failed = true;
            return;
        }
        size_t cap = buf->cap ? buf->cap : 64;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) {
                cap = need;
                break;
            }
            cap *= 2;
        }
        char *grown = realloc(buf->data, cap);
        if (!grown) {
            buf->failed = true;
            return;
        }
        buf->data = grown;
        buf->cap = cap;
    }
    if (n)
        memcpy(buf->data + buf->len, bytes, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
}

void yg_vbuf_puts(yg_vbuf_t *buf, const char *s)
{
    yg_vbuf_append(buf, s, strlen(s));
}

void yg_vbuf_putc(yg_vbuf_t *buf, char c)
{
    yg_vbuf_append(buf, &c, 1);
}

void yg_vbuf_fail(yg_vbuf_t *buf)
{
    buf->failed = true;
}

char *yg_vbuf_finish(yg_vbuf_t *buf, size_t *len)
{
    if (!buf->failed && !buf->data)
        yg_vbuf_append(buf, "", 0);
    if (buf->failed) {
        yg_vbuf_free(buf);
        return NULL;
    }
    char *data = buf->data;
    if (len)
        *len = buf->len;
    memset(buf, 0, sizeof *buf);
    return data;
}

void yg_vbuf_free(yg_vbuf_t *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

/* Digits tried for the shortest round-trip form of a normal double: a
 * decimal of up to DBL_DIG = 15 digits that reads back as d is what %.15e
 * prints (trailing zeros stripped), so start there; 17 always suffices. */
#define YG_FLOAT_MIN_DIGITS 15
#define YG_FLOAT_MAX_DIGITS 17
/* Python repr switches to scientific notation outside 1e-4 <= |x| < 1e16. */
#define YG_FLOAT_FIXED_MIN_EXP (-4)
#define YG_FLOAT_FIXED_MAX_EXP 16

size_t yg_float_repr(double d, char *buf)
{
    if (isnan(d) || isinf(d)) {
        const char *text = isnan(d) ? "nan" : d > 0 ? "inf" : "-inf";
        strcpy(buf, text);
        return strlen(text);
    }
    char sci[YG_FLOAT_REPR_MAX];
    /* Subnormals carry fewer significant bits, so fewer digits may already
     * be the shortest form (5e-324): search from one digit for them. */
    int first = fabs(d) < DBL_MIN && d != 0.0 ? 1 : YG_FLOAT_MIN_DIGITS;
    for (int prec = first; prec <= YG_FLOAT_MAX_DIGITS; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec - 1, d);
        if (strtod(sci, NULL) == d)
            break;
    }
    /* sci is "[-]D.DDDDe[+-]XX": collect the digits and the exponent. */
    char digits[YG_FLOAT_MAX_DIGITS + 1];
    size_t nd = 0;
    const char *p = sci;
    bool negative = *p == '-';
    if (negative)
        p++;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < YG_FLOAT_MAX_DIGITS)
            digits[nd++] = *p;
    int exp = *p == 'e' ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;

    char *out = buf;
    if (negative)
        *out++ = '-';
    if (exp >= YG_FLOAT_FIXED_MIN_EXP && exp < YG_FLOAT_FIXED_MAX_EXP) {
        if (exp >= 0) {
            for (int k = 0; k <= exp; k++)
                *out++ = (size_t)k < nd ? digits[k] : '0';
            *out++ = '.';
            if ((size_t)exp + 1 < nd) {
                for (size_t k = (size_t)exp + 1; k < nd; k++)
                    *out++ = digits[k];
            } else {
                *out++ = '0';
            }
        } else {
            *out++ = '0';
            *out++ = '.';
            for (int k = 0; k < -exp - 1; k++)
                *out++ = '0';
            for (size_t k = 0; k < nd; k++)
                *out++ = digits[k];
        }
        *out = '\0';
    } else {
        *out++ = digits[0];
        if (nd > 1) {
            *out++ = '.';
            for (size_t k = 1; k < nd; k++)
                *out++ = digits[k];
        }
        out += sprintf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    return (size_t)(out - buf);
}

static bool utf8_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t yg_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) /* continuation byte, or overlong 2-byte form */
        return 0;
    if (c < 0xE0) {
        if (n < 2 || !utf8_continuation(s[1]))
            return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || !utf8_continuation(s[1]) || !utf8_continuation(s[2]))
            return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
            return 0; /* overlong, or a UTF-16 surrogate */
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || !utf8_continuation(s[1]) || !utf8_continuation(s[2]) ||
            !utf8_continuation(s[3]))
            return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
            return 0; /* overlong, or above U+10FFFF */
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

size_t yg_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
