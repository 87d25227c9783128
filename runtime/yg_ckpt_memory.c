/*
 * yg_ckpt_memory.c - the in-process checkpoint store.
 *
 * Storage is by key version: per (thread, namespace) a chain keeps every
 * checkpoint as the state keys whose value changed since its parent (a
 * delta), with a full key snapshot every YG_CKPT_SNAPSHOT_INTERVAL records
 * so that materialising any checkpoint walks a bounded number of records.
 * Values are refcounted and shared: an unchanged key costs nothing, and a
 * key whose new value equals the old one (yg_value_equal) keeps the old
 * object.  Key names are interned once per chain; a record's entries are
 * (key index, value) pairs.  The chain also keeps the newest materialised
 * state (borrowed pointers into its records) so that saving the next step
 * and loading the latest checkpoint cost O(keys), not O(history).
 *
 * Completions are delivered from a zero-delay zloop timer that drains a
 * FIFO of finished operations (inline when the store has no loop).
 */
#include "yg_checkpoint.h"
#include "yg_ckpt_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most completions delivered per timer tick before yielding to the loop,
 * so that a callback chain (save -> next step -> save ...) cannot starve
 * the owner's other sockets. */
#define MEMORY_DRAIN_BATCH 256
/* "next" lists (node names due) repeat across every thread of a graph, so
 * the store keeps one copy of each: up to this many distinct lists, of at
 * most this many bytes of names each. */
#define MEMORY_NEXT_INTERN_MAX 4096
#define MEMORY_NEXT_KEY_MAX 256
/* Initial capacities of the small growable arrays. */
#define MEMORY_INITIAL_CAP 4

/* One state key in one record: value NULL means "removed" (deltas only). */
typedef struct {
    uint32_t key;
    yg_value_t *value;
} mem_entry_t;

/* One checkpoint.  Every value pointer holds a reference. */
typedef struct mem_node {
    struct mem_node *parent; /* parent in the same chain, or NULL */
    char *parent_id;         /* set only when the parent is not in the chain */
    int64_t step;
    int64_t created_at_ms;
    const char *source;      /* a static constant, or owned when source_owned */
    const char *graph_hash;  /* the parent's string, or owned when hash_owned */
    yg_value_t *next;
    yg_value_t *tasks;
    yg_value_t *writes;
    yg_value_t *interrupts;
    yg_value_t *meta;
    mem_entry_t *entries;
    uint32_t nentries;
    uint16_t depth;          /* deltas since the last snapshot; 0 = snapshot */
    bool source_owned;
    bool hash_owned;
    char id[];
} mem_node_t;

/* The history of one (thread, namespace). */
typedef struct {
    char *ns;
    char **keys;             /* interned key names */
    size_t *keylens;
    uint32_t *seen;          /* per key: generation stamp used while diffing */
    const yg_value_t **latest; /* per key: value in the newest record (borrowed) */
    uint32_t nkeys;
    uint32_t keys_cap;
    uint32_t generation;
    mem_node_t **nodes;      /* oldest first */
    size_t nnodes;
    size_t nodes_cap;
    bool ids_sorted;         /* every id so far greater than the one before */
} mem_chain_t;

typedef struct {
    mem_chain_t **chains;
    size_t nchains;
} mem_thread_t;

typedef enum { COMPLETE_DONE, COMPLETE_LOAD, COMPLETE_LIST } complete_kind_t;

/* A finished operation waiting for its callback. */
typedef struct {
    complete_kind_t kind;
    int status;
    union {
        yg_ckpt_done_fn *done;
        yg_ckpt_load_fn *load;
        yg_ckpt_list_fn *list;
    } fn;
    void *arg;
    void *result;  /* yg_checkpoint_t * or yg_value_t *, handed to the callee */
    char *message; /* error text when status != YG_OK (NULL: code name) */
} completion_t;

typedef struct {
    yg_ckpt_t base; /* must be first */
    zloop_t *loop;
    zhashx_t *threads; /* thread id -> mem_thread_t */
    zhashx_t *next_lists; /* interned "next" lists: joined names -> list */
    completion_t *queue; /* ring buffer */
    size_t queue_head;
    size_t queue_count;
    size_t queue_cap;
    int timer_id;
    bool timer_armed;
} mem_store_t;

/* --- records and chains --------------------------------------------------- */

static void node_free(mem_node_t *node)
{
    for (uint32_t i = 0; i < node->nentries; i++)
        yg_value_destroy(&node->entries[i].value);
    free(node->entries);
    yg_value_destroy(&node->next);
    yg_value_destroy(&node->tasks);
    yg_value_destroy(&node->writes);
    yg_value_destroy(&node->interrupts);
    yg_value_destroy(&node->meta);
    if (node->source_owned)
        free((char *)node->source);
    if (node->hash_owned)
        free((char *)node->graph_hash);
    free(node->parent_id);
    free(node);
}

static void chain_free(mem_chain_t *chain)
{
    for (size_t i = 0; i < chain->nnodes; i++)
        node_free(chain->nodes[i]);
    for (uint32_t i = 0; i < chain->nkeys; i++)
        free(chain->keys[i]);
    free(chain->keys);
    free(chain->keylens);
    free(chain->seen);
    free(chain->latest);
    free(chain->nodes);
    free(chain->ns);
    free(chain);
}

static void thread_free(void **item)
{
    mem_thread_t *thread = *item;
    if (!thread)
        return;
    for (size_t i = 0; i < thread->nchains; i++)
        chain_free(thread->chains[i]);
    free(thread->chains);
    free(thread);
    *item = NULL;
}

static mem_chain_t *thread_find_chain(const mem_thread_t *thread, const char *ns)
{
    for (size_t i = 0; thread && i < thread->nchains; i++)
        if (strcmp(thread->chains[i]->ns, ns) == 0)
            return thread->chains[i];
    return NULL;
}

static mem_chain_t *store_find_chain(mem_store_t *self, const char *thread_id, const char *ns)
{
    return thread_find_chain(zhashx_lookup(self->threads, thread_id), ns);
}

/* The chain for thread_id/ns, created if absent; NULL on ENOMEM. */
static mem_chain_t *store_get_chain(mem_store_t *self, const char *thread_id, const char *ns)
{
    mem_thread_t *thread = zhashx_lookup(self->threads, thread_id);
    mem_chain_t *chain = thread_find_chain(thread, ns);
    if (chain)
        return chain;
    bool new_thread = !thread;
    if (new_thread) {
        thread = calloc(1, sizeof *thread);
        if (!thread)
            return NULL;
    }
    chain = calloc(1, sizeof *chain);
    mem_chain_t **chains = chain ? realloc(thread->chains,
                                           (thread->nchains + 1) * sizeof *chains)
                                 : NULL;
    if (chains)
        thread->chains = chains;
    if (!chain || !chains || !(chain->ns = strdup(ns))) {
        free(chain);
        if (new_thread) {
            free(thread->chains);
            free(thread);
        }
        return NULL;
    }
    chain->ids_sorted = true;
    thread->chains[thread->nchains++] = chain;
    if (new_thread && zhashx_insert(self->threads, thread_id, thread) != 0) {
        void *item = thread;
        thread_free(&item);
        return NULL;
    }
    return chain;
}

/* Index of key in the chain's table, interning it if new; hint is the
 * likely index (states keep their key order).  -1 on ENOMEM. */
static int64_t chain_intern(mem_chain_t *chain, const char *key, size_t keylen, uint32_t hint)
{
    if (hint < chain->nkeys && chain->keylens[hint] == keylen
        && memcmp(chain->keys[hint], key, keylen) == 0)
        return hint;
    for (uint32_t i = 0; i < chain->nkeys; i++)
        if (chain->keylens[i] == keylen && memcmp(chain->keys[i], key, keylen) == 0)
            return i;
    if (chain->nkeys == chain->keys_cap) {
        if (chain->keys_cap >= UINT32_MAX / 2)
            return -1;
        uint32_t cap = chain->keys_cap ? chain->keys_cap * 2 : MEMORY_INITIAL_CAP;
        char **keys = realloc(chain->keys, cap * sizeof *keys);
        if (keys)
            chain->keys = keys;
        size_t *keylens = realloc(chain->keylens, cap * sizeof *keylens);
        if (keylens)
            chain->keylens = keylens;
        uint32_t *seen = realloc(chain->seen, cap * sizeof *seen);
        if (seen)
            chain->seen = seen;
        const yg_value_t **latest = realloc(chain->latest, cap * sizeof *latest);
        if (latest)
            chain->latest = latest;
        if (!keys || !keylens || !seen || !latest)
            return -1;
        chain->keys_cap = cap;
    }
    char *copy = malloc(keylen + 1);
    if (!copy)
        return -1;
    memcpy(copy, key, keylen);
    copy[keylen] = '\0';
    uint32_t index = chain->nkeys++;
    chain->keys[index] = copy;
    chain->keylens[index] = keylen;
    chain->seen[index] = 0;
    chain->latest[index] = NULL;
    return index;
}

static mem_node_t *chain_find(const mem_chain_t *chain, const char *id)
{
    if (chain->ids_sorted) {
        size_t lo = 0, hi = chain->nnodes;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int cmp = strcmp(chain->nodes[mid]->id, id);
            if (cmp == 0)
                return chain->nodes[mid];
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return NULL;
    }
    for (size_t i = chain->nnodes; i-- > 0;)
        if (strcmp(chain->nodes[i]->id, id) == 0)
            return chain->nodes[i];
    return NULL;
}

static mem_node_t *chain_last(const mem_chain_t *chain)
{
    return chain->nnodes ? chain->nodes[chain->nnodes - 1] : NULL;
}

/* Fill state[0..nkeys) with node's materialised values (borrowed; NULL =
 * absent): start from the snapshot below node, then apply the deltas. */
static void chain_materialise(const mem_chain_t *chain, const mem_node_t *node,
                              const yg_value_t **state)
{
    if (chain->nkeys == 0) /* empty state: state and latest may be NULL */
        return;
    if (node == chain_last(chain)) {
        memcpy(state, chain->latest, chain->nkeys * sizeof *state);
        return;
    }
    const mem_node_t *path[YG_CKPT_SNAPSHOT_INTERVAL];
    size_t depth = 0;
    for (const mem_node_t *n = node;; n = n->parent) {
        assert(n && depth < YG_CKPT_SNAPSHOT_INTERVAL);
        path[depth++] = n;
        if (n->depth == 0)
            break;
    }
    memset(state, 0, chain->nkeys * sizeof *state);
    while (depth-- > 0)
        for (uint32_t i = 0; i < path[depth]->nentries; i++)
            state[path[depth]->entries[i].key] = path[depth]->entries[i].value;
}

/* A new map of the materialised state (values shared); NULL on ENOMEM. */
static yg_value_t *state_to_map(const mem_chain_t *chain, const yg_value_t **state)
{
    yg_value_t *map = yg_map_new();
    for (uint32_t i = 0; map && i < chain->nkeys; i++)
        if (state[i]
            && yg_map_setn(map, chain->keys[i], chain->keylens[i],
                           yg_value_ref((yg_value_t *)state[i]))
                   != YG_OK)
            yg_value_destroy(&map);
    return map;
}

/* The checkpoint record for node (callee-owned); NULL on ENOMEM. */
static yg_checkpoint_t *chain_load(const mem_chain_t *chain, const mem_node_t *node,
                                   const char *thread_id)
{
    const yg_value_t **state = NULL;
    if (chain->nkeys && !(state = malloc(chain->nkeys * sizeof *state)))
        return NULL;
    chain_materialise(chain, node, state);
    yg_checkpoint_t *ckpt = yg_checkpoint_new(thread_id, chain->ns);
    if (!ckpt) {
        free(state);
        return NULL;
    }
    yg_value_destroy(&ckpt->values);
    ckpt->values = state_to_map(chain, state);
    free(state);
    free(ckpt->source);
    ckpt->source = strdup(node->source);
    ckpt->id = strdup(node->id);
    const char *parent_id = node->parent ? node->parent->id : node->parent_id;
    ckpt->parent_id = parent_id ? strdup(parent_id) : NULL;
    ckpt->step = node->step;
    ckpt->created_at_ms = node->created_at_ms;
    snprintf(ckpt->graph_hash, sizeof ckpt->graph_hash, "%s", node->graph_hash);
    ckpt->next = yg_value_ref(node->next);
    ckpt->tasks = yg_value_ref(node->tasks);
    ckpt->writes = yg_value_ref(node->writes);
    ckpt->interrupts = yg_value_ref(node->interrupts);
    ckpt->meta = yg_value_ref(node->meta);
    if (!ckpt->values || !ckpt->source || !ckpt->id || (parent_id && !ckpt->parent_id))
        yg_checkpoint_destroy(&ckpt);
    return ckpt;
}

/* A reference to the parent's value when equal to mine (so equal
 * bookkeeping values are stored once), else to mine. */
static yg_value_t *share_equal(yg_value_t *parent_value, yg_value_t *mine)
{
    if (parent_value && (parent_value == mine || yg_value_equal(parent_value, mine)))
        return yg_value_ref(parent_value);
    return yg_value_ref(mine);
}

static void value_free_item(void **item)
{
    yg_value_t *value = *item;
    yg_value_destroy(&value);
    *item = NULL;
}

/* A reference to the store's copy of an equal "next" list (a list of short
 * strings), interning this one if new; else a reference to next itself. */
static yg_value_t *intern_next(mem_store_t *self, yg_value_t *next)
{
    char key[MEMORY_NEXT_KEY_MAX + 1];
    size_t len = 0;
    if (yg_value_type(next) != YG_LIST)
        return yg_value_ref(next);
    for (size_t i = 0; i < yg_list_size(next); i++) {
        const yg_value_t *name = yg_list_get(next, i);
        size_t n = yg_value_strlen(name);
        /* Names are joined with a byte no node name holds. */
        if (yg_value_type(name) != YG_STR || len + n + 1 > MEMORY_NEXT_KEY_MAX
            || memchr(yg_value_str(name), '\x1f', n) || memchr(yg_value_str(name), 0, n))
            return yg_value_ref(next);
        memcpy(key + len, yg_value_str(name), n);
        len += n;
        key[len++] = '\x1f';
    }
    key[len] = '\0';
    yg_value_t *known = zhashx_lookup(self->next_lists, key);
    if (known)
        return yg_value_ref(known);
    if (zhashx_size(self->next_lists) < MEMORY_NEXT_INTERN_MAX
        && zhashx_insert(self->next_lists, key, next) == 0)
        yg_value_ref(next); /* the table's reference */
    return yg_value_ref(next);
}

static const char *intern_source(const char *source, bool *owned)
{
    static const char *const known[] = {YG_CKPT_SOURCE_INPUT, YG_CKPT_SOURCE_LOOP,
                                        YG_CKPT_SOURCE_UPDATE, YG_CKPT_SOURCE_RESUME};
    *owned = false;
    if (!source)
        return YG_CKPT_SOURCE_LOOP;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(source, known[i]) == 0)
            return known[i];
    *owned = true;
    return strdup(source);
}

/* Intern every key of values; index[i] receives the key index of entry i.
 * YG_OK or YG_ENOMEM (keys interned so far stay, harmlessly). */
static int chain_intern_all(mem_chain_t *chain, const yg_value_t *values, uint32_t *index)
{
    for (size_t i = 0; i < yg_map_size(values); i++) {
        int64_t k = chain_intern(chain, yg_map_key_at(values, i), yg_map_keylen_at(values, i),
                                 (uint32_t)i);
        if (k < 0)
            return YG_ENOMEM;
        index[i] = (uint32_t)k;
    }
    return YG_OK;
}

/* Diff values (whose keys are interned as index[]) against base (the
 * parent's state, one slot per chain key) and fill node's entries: every
 * key for a snapshot, changed and removed keys for a delta.  Rewrites base
 * into the new state.  Cannot fail: node->entries was sized beforehand. */
static void node_fill_entries(mem_chain_t *chain, mem_node_t *node, const yg_value_t *values,
                              const uint32_t *index, const yg_value_t **base, bool snapshot)
{
    uint32_t gen = ++chain->generation;
    if (gen == 0) { /* wrapped: old stamps could collide */
        memset(chain->seen, 0, chain->nkeys * sizeof *chain->seen);
        gen = chain->generation = 1;
    }
    for (size_t i = 0; i < yg_map_size(values); i++) {
        uint32_t k = index[i];
        yg_value_t *mine = yg_map_value_at(values, i);
        const yg_value_t *old = base[k];
        chain->seen[k] = gen;
        bool same = old && (old == mine || yg_value_equal(old, mine));
        if (same && !snapshot)
            continue;
        yg_value_t *stored = same ? yg_value_ref((yg_value_t *)old) : yg_value_ref(mine);
        node->entries[node->nentries++] = (mem_entry_t){.key = k, .value = stored};
        base[k] = stored;
    }
    for (uint32_t k = 0; k < chain->nkeys; k++) {
        if (chain->seen[k] == gen || !base[k])
            continue;
        if (!snapshot)
            node->entries[node->nentries++] = (mem_entry_t){.key = k, .value = NULL};
        base[k] = NULL;
    }
}

/* --- completions ---------------------------------------------------------- */

static void completion_deliver(mem_store_t *self, completion_t *c)
{
    yg_error_t err = {0};
    if (c->status != YG_OK)
        yg_error_set(&err, c->status, "%s", c->message ? c->message : yg_strerror(c->status));
    const yg_error_t *errp = c->status != YG_OK ? &err : NULL;
    self->base.in_callback++;
    switch (c->kind) {
    case COMPLETE_DONE:
        c->fn.done(c->status, errp, c->arg);
        break;
    case COMPLETE_LOAD:
        c->fn.load(c->status, c->result, errp, c->arg);
        break;
    case COMPLETE_LIST:
        c->fn.list(c->status, c->result, errp, c->arg);
        break;
    }
    self->base.in_callback--;
    free(c->message);
}

static int drain_timer(zloop_t *loop, int timer_id, void *arg)
{
    mem_store_t *self = arg;
    self->timer_armed = false;
    size_t n = self->queue_count < MEMORY_DRAIN_BATCH ? self->queue_count : MEMORY_DRAIN_BATCH;
    for (size_t i = 0; i < n; i++) {
        completion_t c = self->queue[self->queue_head];
        self->queue_head = (self->queue_head + 1) % self->queue_cap;
        self->queue_count--;
        completion_deliver(self, &c);
    }
    /* Completions queued by the callbacks above, or beyond the batch, go
     * out on the next loop turn. */
    if (self->queue_count && !self->timer_armed) {
        self->timer_id = zloop_timer(loop, 0, 1, drain_timer, self);
        self->timer_armed = self->timer_id != -1;
    }
    return 0;
}

/* Make room for one more completion, so that an operation never commits a
 * change it then cannot report.  YG_OK or YG_ENOMEM. */
static int queue_reserve(mem_store_t *self)
{
    if (!self->loop || self->queue_count < self->queue_cap)
        return YG_OK;
    size_t cap = self->queue_cap ? self->queue_cap * 2 : MEMORY_INITIAL_CAP * 16;
    completion_t *queue = malloc(cap * sizeof *queue);
    if (!queue)
        return YG_ENOMEM;
    for (size_t i = 0; i < self->queue_count; i++)
        queue[i] = self->queue[(self->queue_head + i) % self->queue_cap];
    free(self->queue);
    self->queue = queue;
    self->queue_head = 0;
    self->queue_cap = cap;
    return YG_OK;
}

/* Queue (or, without a loop, deliver) a completion; space was reserved. */
static void complete(mem_store_t *self, completion_t c)
{
    if (!self->loop) {
        completion_deliver(self, &c);
        return;
    }
    assert(self->queue_count < self->queue_cap);
    self->queue[(self->queue_head + self->queue_count) % self->queue_cap] = c;
    self->queue_count++;
    if (!self->timer_armed) {
        self->timer_id = zloop_timer(self->loop, 0, 1, drain_timer, self);
        self->timer_armed = self->timer_id != -1;
    }
}

static void complete_done(mem_store_t *self, yg_ckpt_done_fn *done, void *arg, int status,
                          const char *message)
{
    complete(self, (completion_t){.kind = COMPLETE_DONE, .status = status, .fn.done = done,
                                  .arg = arg, .message = message ? strdup(message) : NULL});
}

/* --- operations ----------------------------------------------------------- */

/* Allocate a node for ckpt with its id, source and graph hash. */
static mem_node_t *node_new(const yg_checkpoint_t *ckpt, const char *id, const mem_node_t *parent)
{
    size_t idlen = strlen(id);
    mem_node_t *node = calloc(1, sizeof *node + idlen + 1);
    if (!node)
        return NULL;
    memcpy(node->id, id, idlen + 1);
    node->step = ckpt->step;
    node->created_at_ms = ckpt->created_at_ms ? ckpt->created_at_ms : yg_ckpt_now_ms();
    node->source = intern_source(ckpt->source, &node->source_owned);
    if (parent && strcmp(parent->graph_hash, ckpt->graph_hash) == 0) {
        node->graph_hash = parent->graph_hash;
    } else {
        node->graph_hash = strdup(ckpt->graph_hash);
        node->hash_owned = true;
    }
    if (!node->source || !node->graph_hash) {
        node_free(node);
        return NULL;
    }
    return node;
}

/* Store ckpt in its chain.  Every allocation happens before the chain's
 * newest state is touched, so a failure leaves the store unchanged. */
static int mem_save_commit(mem_store_t *self, const yg_checkpoint_t *ckpt, const char *id,
                           const char **error)
{
    mem_chain_t *chain = store_get_chain(self, ckpt->thread_id, ckpt->ns ? ckpt->ns : "");
    if (!chain)
        return YG_ENOMEM;
    mem_node_t *last = chain_last(chain);
    bool after_last = !last || strcmp(id, last->id) > 0;
    if (!(chain->ids_sorted && after_last) && chain_find(chain, id)) {
        *error = "a checkpoint with this id already exists in the thread";
        return YG_EINVAL;
    }
    if (chain->nnodes == chain->nodes_cap) {
        size_t cap = chain->nodes_cap ? chain->nodes_cap * 2 : MEMORY_INITIAL_CAP;
        mem_node_t **nodes = realloc(chain->nodes, cap * sizeof *nodes);
        if (!nodes)
            return YG_ENOMEM;
        chain->nodes = nodes;
        chain->nodes_cap = cap;
    }
    mem_node_t *parent = NULL;
    if (ckpt->parent_id)
        parent = last && strcmp(last->id, ckpt->parent_id) == 0
                     ? last
                     : chain_find(chain, ckpt->parent_id);
    size_t nvalues = yg_map_size(ckpt->values);
    uint32_t *index = malloc((nvalues ? nvalues : 1) * sizeof *index);
    mem_node_t *node = index ? node_new(ckpt, id, parent) : NULL;
    if (!node || (ckpt->parent_id && !parent && !(node->parent_id = strdup(ckpt->parent_id)))
        || chain_intern_all(chain, ckpt->values, index) != YG_OK) {
        free(index);
        if (node)
            node_free(node);
        return YG_ENOMEM;
    }
    node->parent = parent;
    bool snapshot = !parent || parent->depth + 1 >= YG_CKPT_SNAPSHOT_INTERVAL;
    node->depth = snapshot ? 0 : (uint16_t)(parent->depth + 1);
    size_t cap = snapshot ? nvalues : nvalues + chain->nkeys;
    node->entries = malloc((cap ? cap : 1) * sizeof *node->entries);
    /* The state to diff against, which then becomes the chain's newest. */
    const yg_value_t **base = chain->latest;
    if (node->entries && parent != last) {
        base = malloc((chain->nkeys ? chain->nkeys : 1) * sizeof *base);
        if (base && parent)
            chain_materialise(chain, parent, base);
        else if (base)
            memset(base, 0, chain->nkeys * sizeof *base);
    }
    /* With no keys yet (an empty state) chain->latest is still NULL: that
     * is an empty base, not an allocation failure. */
    if (!node->entries || (!base && chain->nkeys > 0)) {
        free(index);
        node_free(node);
        return YG_ENOMEM;
    }
    node_fill_entries(chain, node, ckpt->values, index, base, snapshot);
    free(index);
    if (base != chain->latest) {
        if (chain->nkeys > 0)
            memcpy(chain->latest, base, chain->nkeys * sizeof *base);
        free(base);
    }
    node->next = parent && parent->next == ckpt->next ? yg_value_ref(ckpt->next)
                                                      : intern_next(self, ckpt->next);
    node->tasks = share_equal(parent ? parent->tasks : NULL, ckpt->tasks);
    node->writes = share_equal(parent ? parent->writes : NULL, ckpt->writes);
    node->interrupts = share_equal(parent ? parent->interrupts : NULL, ckpt->interrupts);
    node->meta = share_equal(parent ? parent->meta : NULL, ckpt->meta);
    chain->ids_sorted = chain->ids_sorted && after_last;
    chain->nodes[chain->nnodes++] = node;
    return YG_OK;
}

static int mem_save(yg_ckpt_t *base, const yg_checkpoint_t *ckpt, yg_ckpt_done_fn *done,
                    void *arg)
{
    mem_store_t *self = (mem_store_t *)base;
    if (queue_reserve(self) != YG_OK)
        return YG_ENOMEM;
    yg_checkpoint_t named = {.id = NULL};
    const char *id = ckpt->id;
    if (!id) {
        if (yg_checkpoint_assign_id(&named) != YG_OK)
            return YG_ENOMEM;
        id = named.id;
    }
    const char *error = NULL;
    int rc = mem_save_commit(self, ckpt, id, &error);
    free(named.id);
    if (rc == YG_ENOMEM)
        return rc;
    complete_done(self, done, arg, rc, error);
    return YG_OK;
}

static void complete_load(mem_store_t *self, const mem_chain_t *chain, const mem_node_t *node,
                          const char *thread_id, yg_ckpt_load_fn *done, void *arg)
{
    completion_t c = {.kind = COMPLETE_LOAD, .fn.load = done, .arg = arg};
    if (!node) {
        c.status = YG_ENOTFOUND;
        c.message = strdup("no such checkpoint");
    } else if (!(c.result = chain_load(chain, node, thread_id))) {
        c.status = YG_ENOMEM;
    }
    complete(self, c);
}

static int mem_load_latest(yg_ckpt_t *base, const char *thread_id, const char *ns,
                           yg_ckpt_load_fn *done, void *arg)
{
    mem_store_t *self = (mem_store_t *)base;
    if (queue_reserve(self) != YG_OK)
        return YG_ENOMEM;
    mem_chain_t *chain = store_find_chain(self, thread_id, ns);
    complete_load(self, chain, chain ? chain_last(chain) : NULL, thread_id, done, arg);
    return YG_OK;
}

static int mem_load(yg_ckpt_t *base, const char *thread_id, const char *ns, const char *id,
                    yg_ckpt_load_fn *done, void *arg)
{
    mem_store_t *self = (mem_store_t *)base;
    if (queue_reserve(self) != YG_OK)
        return YG_ENOMEM;
    mem_chain_t *chain = store_find_chain(self, thread_id, ns);
    complete_load(self, chain, chain ? chain_find(chain, id) : NULL, thread_id, done, arg);
    return YG_OK;
}

/* The history list (newest first), or NULL on ENOMEM. */
static yg_value_t *chain_history(const mem_chain_t *chain, const char *thread_id, size_t limit)
{
    yg_value_t *history = yg_list_new();
    size_t n = chain ? chain->nnodes : 0;
    if (limit && limit < n)
        n = limit;
    for (size_t i = 0; history && i < n; i++) {
        yg_checkpoint_t *ckpt = chain_load(chain, chain->nodes[chain->nnodes - 1 - i], thread_id);
        yg_value_t *entry = ckpt ? yg_checkpoint_to_map(ckpt) : NULL;
        yg_checkpoint_destroy(&ckpt);
        if (!entry || yg_list_append(history, entry) != YG_OK)
            yg_value_destroy(&history);
    }
    return history;
}

static int mem_list(yg_ckpt_t *base, const char *thread_id, const char *ns, size_t limit,
                    yg_ckpt_list_fn *done, void *arg)
{
    mem_store_t *self = (mem_store_t *)base;
    if (queue_reserve(self) != YG_OK)
        return YG_ENOMEM;
    yg_value_t *history = chain_history(store_find_chain(self, thread_id, ns), thread_id, limit);
    if (!history)
        return YG_ENOMEM;
    complete(self, (completion_t){.kind = COMPLETE_LIST, .fn.list = done, .arg = arg,
                                  .result = history});
    return YG_OK;
}

static int mem_delete_thread(yg_ckpt_t *base, const char *thread_id, yg_ckpt_done_fn *done,
                             void *arg)
{
    mem_store_t *self = (mem_store_t *)base;
    if (queue_reserve(self) != YG_OK)
        return YG_ENOMEM;
    zhashx_delete(self->threads, thread_id);
    complete_done(self, done, arg, YG_OK, NULL);
    return YG_OK;
}

static void mem_destroy(yg_ckpt_t *base)
{
    mem_store_t *self = (mem_store_t *)base;
    if (self->timer_armed)
        zloop_timer_end(self->loop, self->timer_id);
    /* Every accepted operation already has its outcome: deliver it. */
    while (self->queue_count) {
        completion_t c = self->queue[self->queue_head];
        self->queue_head = (self->queue_head + 1) % self->queue_cap;
        self->queue_count--;
        completion_deliver(self, &c);
    }
    free(self->queue);
    zhashx_destroy(&self->threads);
    zhashx_destroy(&self->next_lists);
    free(self);
}

static const yg_ckpt_ops_t mem_ops = {
    .kind = "memory",
    .save = mem_save,
    .load_latest = mem_load_latest,
    .load = mem_load,
    .list = mem_list,
    .delete_thread = mem_delete_thread,
    .destroy = mem_destroy,
};

yg_ckpt_t *yg_ckpt_memory_new(zloop_t *loop)
{
    mem_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base.ops = &mem_ops;
    self->loop = loop;
    self->threads = zhashx_new();
    self->next_lists = zhashx_new();
    if (!self->threads || !self->next_lists) {
        zhashx_destroy(&self->threads);
        zhashx_destroy(&self->next_lists);
        free(self);
        return NULL;
    }
    zhashx_set_destructor(self->threads, thread_free);
    zhashx_set_destructor(self->next_lists, value_free_item);
    return &self->base;
}
