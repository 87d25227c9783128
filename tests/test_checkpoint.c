/*
 * test_checkpoint.c - checkpoint records, their encoding, and the memory
 * and file stores (yg_checkpoint.h).
 *
 * Loops and actors are created inside each test (after Check's fork).
 * Store tests run twice through tcase_add_loop_test: _i == 0 is the memory
 * store, _i == 1 the file store.
 */
#include "testutil_ckpt.h"
#include "yg_ckpt_internal.h"

#include <valgrind/valgrind.h>

#include <sys/stat.h>
#include <unistd.h>

/* --- helpers ------------------------------------------------------------- */

/* _i == 0: memory store; _i == 1: file store at a fresh path. */
static yg_ckpt_t *make_store(int kind, zloop_t *loop, const char *name)
{
    if (kind == 0)
        return yg_ckpt_memory_new(loop);
    const char *path = store_path(name);
    unlink(path);
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_file_new(loop, path, &err);
    ck_assert_msg(store != NULL, "file store: %s", err.message);
    return store;
}

static yg_ckpt_t *reopen_file(zloop_t *loop, const char *name)
{
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_file_new(loop, store_path(name), &err);
    ck_assert_msg(store != NULL, "reopen: %s", err.message);
    return store;
}

/* --- encoding -------------------------------------------------------------- */

START_TEST(test_encode_roundtrip)
{
    yg_checkpoint_t *c = make_full_ckpt("thread-1", "parent-x");
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_checkpoint_encode(c, &data, &size), YG_OK);
    ck_assert_uint_gt(size, 1);
    ck_assert_int_eq((unsigned char)data[0], YG_CHECKPOINT_FORMAT_VERSION);
    yg_error_t err = {0};
    yg_checkpoint_t *d = yg_checkpoint_decode(data, size, &err);
    ck_assert_msg(d != NULL, "decode: %s", err.message);
    assert_same_ckpt(c, d);
    ck_assert_int_eq(d->created_at_ms, 1700000000123);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(d->interrupts, 0), "id")), "t1:0");
    ck_assert_int_eq(yg_value_int(yg_map_get(yg_list_get(d->tasks, 1), "map_index")), 3);
    /* The map form carries the same record. */
    yg_value_t *map = yg_checkpoint_to_map(c);
    yg_checkpoint_t *e = yg_checkpoint_from_map(map, &err);
    assert_same_ckpt(c, e);
    yg_value_destroy(&map);
    yg_checkpoint_destroy(&e);
    /* A copy shares the values but owns its strings. */
    yg_checkpoint_t *f = yg_checkpoint_copy(c);
    ck_assert_ptr_eq(f->values, c->values);
    ck_assert_ptr_ne(f->thread_id, c->thread_id);
    assert_same_ckpt(c, f);
    yg_checkpoint_destroy(&f);
    free(data);
    yg_checkpoint_destroy(&d);
    yg_checkpoint_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_decode_corrupt)
{
    yg_checkpoint_t *c = make_full_ckpt("thread-1", NULL);
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_checkpoint_encode(c, &data, &size), YG_OK);
    yg_error_t err = {0};
    /* Every proper prefix is rejected with a message. */
    for (size_t n = 0; n < size; n++) {
        yg_error_clear(&err);
        yg_checkpoint_t *d = yg_checkpoint_decode(data, n, &err);
        ck_assert_msg(d == NULL, "prefix of %zu bytes decoded", n);
        ck_assert_int_ne(err.code, YG_OK);
        ck_assert_str_ne(err.message, "");
    }
    /* Unknown version. */
    char *copy = malloc(size);
    memcpy(copy, data, size);
    copy[0] = 99;
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_checkpoint_decode(copy, size, &err));
    ck_assert_int_eq(err.code, YG_EUNSUPPORTED);
    /* Bit flips anywhere: an error or a valid record, never a crash. */
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        memcpy(copy, data, size);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = 1 + (seed >> 8) % (size - 1);
            copy[pos] ^= (char)(1u << ((seed >> 4) & 7));
        }
        yg_error_clear(&err);
        yg_checkpoint_t *d = yg_checkpoint_decode(copy, size, &err);
        if (d)
            ck_assert_int_eq(yg_checkpoint_validate(d, NULL), YG_OK);
        else
            ck_assert_int_ne(err.code, YG_OK);
        yg_checkpoint_destroy(&d);
    }
    /* A well-formed value of the wrong shape. */
    yg_value_t *wrong = json("{\"thread_id\":5,\"step\":1,\"created_at_ms\":0}");
    char *wdata = NULL;
    size_t wsize = 0;
    ck_assert_int_eq(yg_msgpack_encode(wrong, &wdata, &wsize), YG_OK);
    char *framed = malloc(wsize + 1);
    framed[0] = YG_CHECKPOINT_FORMAT_VERSION;
    memcpy(framed + 1, wdata, wsize);
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_checkpoint_decode(framed, wsize + 1, &err));
    ck_assert_int_eq(err.code, YG_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.message, "thread_id"));
    free(framed);
    free(wdata);
    yg_value_destroy(&wrong);
    free(copy);
    free(data);
    yg_checkpoint_destroy(&c);
}
END_TEST

START_TEST(test_validate_and_ids)
{
    yg_checkpoint_t *c = yg_checkpoint_new("t", NULL);
    ck_assert_str_eq(c->ns, "");
    ck_assert_int_eq(c->step, -1);
    ck_assert_int_eq(yg_checkpoint_validate(c, NULL), YG_OK);
    yg_value_destroy(&c->values);
    c->values = yg_list_new();
    yg_error_t err = {0};
    ck_assert_int_eq(yg_checkpoint_validate(c, &err), YG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "values"));
    yg_checkpoint_destroy(&c);
    ck_assert_ptr_null(yg_checkpoint_new(NULL, ""));

    /* Generated ids are unique and sort in creation order. */
    char prev[YG_CHECKPOINT_ID_MAX + 1] = "";
    yg_checkpoint_t *d = yg_checkpoint_new("t", "");
    for (int i = 0; i < 10000; i++) {
        ck_assert_int_eq(yg_checkpoint_assign_id(d), YG_OK);
        ck_assert_msg(strcmp(prev, d->id) < 0, "%s !< %s", prev, d->id);
        snprintf(prev, sizeof prev, "%s", d->id);
    }
    yg_checkpoint_destroy(&d);
}
END_TEST

/* --- both stores ----------------------------------------------------------- */

START_TEST(test_store_basic)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(_i, loop, "basic");
    ck_assert_str_eq(yg_ckpt_kind(store), _i == 0 ? "memory" : "file");
    yg_checkpoint_t *c1 = make_ckpt("th", "", -1, "{\"counter\":0}", NULL);
    yg_checkpoint_t *c2 = make_ckpt("th", "", 0, "{\"counter\":1,\"extra\":\"x\"}", c1->id);
    yg_checkpoint_t *c3 = make_full_ckpt("th", c2->id);
    save_sync(store, loop, c1);
    save_sync(store, loop, c2);
    save_sync(store, loop, c3);

    int status = 0;
    yg_checkpoint_t *got = load_sync(store, loop, "th", "", NULL, &status);
    ck_assert_int_eq(status, YG_OK);
    assert_same_ckpt(c3, got);
    yg_checkpoint_destroy(&got);
    got = load_sync(store, loop, "th", NULL, c1->id, &status);
    assert_same_ckpt(c1, got);
    ck_assert_ptr_null(got->parent_id);
    ck_assert_int_gt(got->created_at_ms, 0); /* stamped by the store */
    yg_checkpoint_destroy(&got);
    got = load_sync(store, loop, "th", "", c2->id, &status);
    assert_same_ckpt(c2, got);
    yg_checkpoint_destroy(&got);

    /* History: newest first, full values, limit. */
    yg_value_t *history = list_sync(store, loop, "th", "", 0);
    ck_assert_uint_eq(yg_list_size(history), 3);
    const yg_checkpoint_t *want[] = {c3, c2, c1};
    for (size_t i = 0; i < 3; i++) {
        const yg_value_t *entry = yg_list_get(history, i);
        ck_assert_str_eq(yg_value_str(yg_map_get(entry, "id")), want[i]->id);
        ck_assert(yg_value_equal(yg_map_get(entry, "values"), want[i]->values));
        ck_assert_int_eq(yg_value_int(yg_map_get(entry, "step")), want[i]->step);
    }
    yg_value_destroy(&history);
    history = list_sync(store, loop, "th", "", 2);
    ck_assert_uint_eq(yg_list_size(history), 2);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(history, 1), "id")), c2->id);
    yg_value_destroy(&history);

    /* Misses. */
    got = load_sync(store, loop, "th", "", "no-such-id", &status);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(status, YG_ENOTFOUND);
    got = load_sync(store, loop, "nobody", "", NULL, &status);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(status, YG_ENOTFOUND);
    history = list_sync(store, loop, "nobody", "", 0);
    ck_assert_uint_eq(yg_list_size(history), 0);
    yg_value_destroy(&history);

    /* Namespaces are separate chains of one thread; delete removes all. */
    yg_checkpoint_t *sub = make_ckpt("th", "child", -1, "{\"inner\":true}", NULL);
    save_sync(store, loop, sub);
    got = load_sync(store, loop, "th", "child", NULL, &status);
    assert_same_ckpt(sub, got);
    yg_checkpoint_destroy(&got);
    got = load_sync(store, loop, "th", "", NULL, &status);
    assert_same_ckpt(c3, got);
    yg_checkpoint_destroy(&got);
    yg_checkpoint_t *other = make_ckpt("other", "", -1, "{\"k\":1}", NULL);
    save_sync(store, loop, other);

    ck_assert_int_eq(delete_sync(store, loop, "th"), YG_OK);
    ck_assert_ptr_null(load_sync(store, loop, "th", "", NULL, &status));
    ck_assert_int_eq(status, YG_ENOTFOUND);
    ck_assert_ptr_null(load_sync(store, loop, "th", "child", NULL, &status));
    ck_assert_int_eq(status, YG_ENOTFOUND);
    got = load_sync(store, loop, "other", "", NULL, &status);
    assert_same_ckpt(other, got);
    yg_checkpoint_destroy(&got);
    ck_assert_int_eq(delete_sync(store, loop, "never-existed"), YG_OK);

    /* A deleted thread can start again. */
    save_sync(store, loop, c1);
    got = load_sync(store, loop, "th", "", NULL, &status);
    assert_same_ckpt(c1, got);
    yg_checkpoint_destroy(&got);

    yg_checkpoint_destroy(&other);
    yg_checkpoint_destroy(&sub);
    yg_checkpoint_destroy(&c1);
    yg_checkpoint_destroy(&c2);
    yg_checkpoint_destroy(&c3);
    yg_ckpt_destroy(&store);
    ck_assert_ptr_null(store);
    zloop_destroy(&loop);
}
END_TEST

START_TEST(test_store_rejects)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(_i, loop, "rejects");
    ctx_t ctx = {0};
    yg_checkpoint_t *c = make_ckpt("th", "", -1, "{\"a\":1}", NULL);
    /* Synchronous argument errors: no callback. */
    ck_assert_int_eq(yg_ckpt_save(store, NULL, on_done, &ctx), YG_EINVAL);
    ck_assert_int_eq(yg_ckpt_save(store, c, NULL, &ctx), YG_EINVAL);
    ck_assert_int_eq(yg_ckpt_load_latest(store, "", "", on_load, &ctx), YG_EINVAL);
    ck_assert_int_eq(yg_ckpt_load(store, "th", "", NULL, on_load, &ctx), YG_EINVAL);
    ck_assert_int_eq(yg_ckpt_list(store, NULL, "", 0, on_list, &ctx), YG_EINVAL);
    ck_assert_int_eq(yg_ckpt_delete_thread(store, "th", NULL, &ctx), YG_EINVAL);
    char *long_id = malloc(YG_CHECKPOINT_THREAD_ID_MAX + 2);
    memset(long_id, 'x', YG_CHECKPOINT_THREAD_ID_MAX + 1);
    long_id[YG_CHECKPOINT_THREAD_ID_MAX + 1] = '\0';
    ck_assert_int_eq(yg_ckpt_load_latest(store, long_id, "", on_load, &ctx), YG_EINVAL);
    free(long_id);
    yg_value_t *values = c->values;
    c->values = yg_str_new("not a map");
    ck_assert_int_eq(yg_ckpt_save(store, c, on_done, &ctx), YG_EINVAL);
    yg_value_destroy(&c->values);
    c->values = values;
    ck_assert_int_eq(ctx.calls, 0);

    /* A duplicate id fails through the callback; the store is unchanged. */
    save_sync(store, loop, c);
    yg_checkpoint_t *dup = make_ckpt("th", "", 0, "{\"a\":2}", c->id);
    free(dup->id);
    dup->id = strdup(c->id);
    ctx = (ctx_t){.pending = 1};
    ck_assert_int_eq(yg_ckpt_save(store, dup, on_done, &ctx), YG_OK);
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.status, YG_EINVAL);
    ck_assert_ptr_nonnull(strstr(ctx.message, "already exists"));
    int status;
    yg_checkpoint_t *got = load_sync(store, loop, "th", "", NULL, &status);
    assert_same_ckpt(c, got);
    yg_checkpoint_destroy(&got);
    /* The chain still works after the failure. */
    yg_checkpoint_t *next = make_ckpt("th", "", 0, "{\"a\":3}", c->id);
    save_sync(store, loop, next);
    got = load_sync(store, loop, "th", "", NULL, &status);
    assert_same_ckpt(next, got);
    yg_checkpoint_destroy(&got);
    yg_checkpoint_destroy(&next);
    yg_checkpoint_destroy(&dup);
    yg_checkpoint_destroy(&c);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* Completions come later, from the loop, in the order operations started. */
START_TEST(test_store_deferred_order)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(_i, loop, "order");
    ctx_t ctx = {0};
    op_t ops[6];
    for (int i = 0; i < 6; i++)
        ops[i] = (op_t){.ctx = &ctx, .tag = i};
    yg_checkpoint_t *a = make_ckpt("th", "", -1, "{\"v\":1}", NULL);
    yg_checkpoint_t *b = make_ckpt("th", "", 0, "{\"v\":2}", a->id);
    ctx.pending = 6;
    ck_assert_int_eq(yg_ckpt_save(store, a, on_done_tagged, &ops[0]), YG_OK);
    ck_assert_int_eq(yg_ckpt_load_latest(store, "th", "", on_load_tagged, &ops[1]), YG_OK);
    ck_assert_int_eq(yg_ckpt_save(store, b, on_done_tagged, &ops[2]), YG_OK);
    ck_assert_int_eq(yg_ckpt_list(store, "th", "", 0, on_list_tagged, &ops[3]), YG_OK);
    ck_assert_int_eq(yg_ckpt_load(store, "th", "", "missing", on_load_tagged, &ops[4]), YG_OK);
    ck_assert_int_eq(yg_ckpt_delete_thread(store, "th", on_done_tagged, &ops[5]), YG_OK);
    ck_assert_int_eq(ctx.calls, 0); /* nothing inline */
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.norder, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(ctx.order[i], i);
    ck_assert_int_eq(ctx.errors, 1); /* the missing id */
    yg_checkpoint_destroy(&a);
    yg_checkpoint_destroy(&b);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* 100 steps with changing, unchanged, equal-but-new, removed and re-added
 * keys: every checkpoint materialises to exactly what was saved. */
#define CHAIN_STEPS 100
#define CHAIN_BIG_TEXT 2000

static yg_value_t *chain_state(int step, const yg_value_t *prev)
{
    yg_value_t *state = yg_map_new();
    yg_map_set(state, "counter", yg_int_new(step));
    /* Same (large) object every step. */
    yg_value_t *name = prev ? yg_map_get(prev, "name") : NULL;
    if (!name) {
        char big_text[CHAIN_BIG_TEXT + 1];
        memset(big_text, 'n', CHAIN_BIG_TEXT);
        big_text[CHAIN_BIG_TEXT] = '\0';
        yg_map_set(state, "name", yg_str_new(big_text));
    } else {
        yg_map_set(state, "name", yg_value_ref(name));
    }
    /* A new object each step that is equal to the last one between tens. */
    yg_value_t *big = yg_list_new();
    for (int i = 0; i <= step / 10; i++)
        yg_list_append(big, yg_str_newf("item-%d", i));
    yg_map_set(state, "big", big);
    /* Present on even steps only. */
    if (step % 2 == 0)
        yg_map_set(state, "tmp", yg_int_new(step * 7));
    if (step % 3 == 0)
        yg_map_set(state, "third", yg_str_newf("t%d", step));
    return state;
}

static void check_chain(yg_ckpt_t *store, zloop_t *loop, yg_checkpoint_t **saved)
{
    for (int s = 0; s < CHAIN_STEPS; s++) {
        int status;
        yg_checkpoint_t *got = load_sync(store, loop, "chain", "", saved[s]->id, &status);
        ck_assert_msg(got != NULL, "step %d: %d", s, status);
        assert_same_ckpt(saved[s], got);
        yg_checkpoint_destroy(&got);
    }
    yg_value_t *history = list_sync(store, loop, "chain", "", 0);
    ck_assert_uint_eq(yg_list_size(history), CHAIN_STEPS);
    for (int s = 0; s < CHAIN_STEPS; s++) {
        const yg_value_t *entry = yg_list_get(history, (size_t)(CHAIN_STEPS - 1 - s));
        ck_assert(yg_value_equal(yg_map_get(entry, "values"), saved[s]->values));
    }
    yg_value_destroy(&history);
}

START_TEST(test_store_delta_chain)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(_i, loop, "chain");
    yg_checkpoint_t *saved[CHAIN_STEPS];
    yg_value_t *expected[CHAIN_STEPS];
    for (int s = 0; s < CHAIN_STEPS; s++) {
        saved[s] = make_ckpt("chain", "", s - 1, "{}", s ? saved[s - 1]->id : NULL);
        yg_value_destroy(&saved[s]->values);
        saved[s]->values = chain_state(s, s ? saved[s - 1]->values : NULL);
        saved[s]->next = yg_list_new();
        yg_list_append(saved[s]->next, yg_str_newf("n%d", s % 4));
        expected[s] = yg_value_copy(saved[s]->values);
        save_sync(store, loop, saved[s]);
    }
    /* Every saved state still reads back as it was (the store shares, not
     * mutates, the caller's values). */
    for (int s = 0; s < CHAIN_STEPS; s++)
        ck_assert(yg_value_equal(saved[s]->values, expected[s]));
    check_chain(store, loop, saved);
    if (_i == 0) {
        /* Key versions are shared: "big" was recreated equal at step 15,
         * and the store kept the object it got at step 10. */
        int status;
        yg_checkpoint_t *got = load_sync(store, loop, "chain", "", saved[15]->id, &status);
        ck_assert_ptr_eq(yg_map_get(got->values, "big"), yg_map_get(saved[10]->values, "big"));
        ck_assert_ptr_ne(yg_map_get(got->values, "big"), yg_map_get(saved[15]->values, "big"));
        ck_assert_ptr_eq(yg_map_get(got->values, "name"), yg_map_get(saved[0]->values, "name"));
        yg_checkpoint_destroy(&got);
    }
    if (_i == 1) {
        /* Deltas are what hit the disk: the unchanged large key is written
         * only in the periodic snapshots, not in 100 full states. */
        struct stat st;
        ck_assert_int_eq(stat(store_path("chain"), &st), 0);
        ck_assert_msg(st.st_size < CHAIN_STEPS * CHAIN_BIG_TEXT / 4, "file is %lld bytes",
                      (long long)st.st_size);
        uint64_t records = 0, syncs = 0;
        ck_assert_int_eq(yg_ckpt_file_stats(store, &records, &syncs), YG_OK);
        ck_assert_uint_eq(records, CHAIN_STEPS);
        yg_ckpt_destroy(&store);
        store = reopen_file(loop, "chain");
        check_chain(store, loop, saved);
    }
    for (int s = 0; s < CHAIN_STEPS; s++) {
        yg_value_destroy(&expected[s]);
        yg_checkpoint_destroy(&saved[s]);
    }
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* A checkpoint whose parent is not the newest (time travel): both branches
 * materialise correctly. */
START_TEST(test_store_fork)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(_i, loop, "fork");
    yg_checkpoint_t *a = make_ckpt("f", "", -1, "{\"x\":1,\"y\":1}", NULL);
    yg_checkpoint_t *b = make_ckpt("f", "", 0, "{\"x\":2,\"y\":1}", a->id);
    yg_checkpoint_t *c = make_ckpt("f", "", 1, "{\"x\":3,\"y\":1,\"z\":0}", b->id);
    yg_checkpoint_t *d = make_ckpt("f", "", 1, "{\"x\":2,\"y\":9}", b->id);
    yg_checkpoint_t *e = make_ckpt("f", "", 2, "{\"y\":9,\"w\":[1]}", d->id);
    yg_checkpoint_t *all[] = {a, b, c, d, e};
    for (int i = 0; i < 5; i++)
        save_sync(store, loop, all[i]);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 5; i++) {
            int status;
            yg_checkpoint_t *got = load_sync(store, loop, "f", "", all[i]->id, &status);
            assert_same_ckpt(all[i], got);
            yg_checkpoint_destroy(&got);
        }
        if (_i == 0)
            break;
        yg_ckpt_destroy(&store);
        store = reopen_file(loop, "fork");
    }
    for (int i = 0; i < 5; i++)
        yg_checkpoint_destroy(&all[i]);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* Saves for many thread ids issued at once, then read back. */
#define MANY_THREADS 300
#define MANY_STEPS 3

START_TEST(test_store_many_threads)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(_i, loop, "many");
    ctx_t ctx = {0};
    yg_checkpoint_t *last[MANY_THREADS] = {0};
    for (int step = 0; step < MANY_STEPS; step++)
        for (int t = 0; t < MANY_THREADS; t++) {
            char thread[32], state[64];
            snprintf(thread, sizeof thread, "t-%d", t);
            snprintf(state, sizeof state, "{\"counter\":%d,\"who\":\"%d\"}", step, t);
            yg_checkpoint_t *c =
                make_ckpt(thread, "", step - 1, state, last[t] ? last[t]->id : NULL);
            ctx.pending++;
            ck_assert_int_eq(yg_ckpt_save(store, c, on_done, &ctx), YG_OK);
            yg_checkpoint_destroy(&last[t]);
            last[t] = c;
        }
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.errors, 0);
    for (int t = 0; t < MANY_THREADS; t++) {
        int status;
        yg_checkpoint_t *got = load_sync(store, loop, last[t]->thread_id, "", NULL, &status);
        assert_same_ckpt(last[t], got);
        yg_checkpoint_destroy(&got);
        yg_value_t *history = list_sync(store, loop, last[t]->thread_id, "", 0);
        ck_assert_uint_eq(yg_list_size(history), MANY_STEPS);
        yg_value_destroy(&history);
        yg_checkpoint_destroy(&last[t]);
    }
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* Destroying a store with operations outstanding still calls back. */
START_TEST(test_store_destroy_completes)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(_i, loop, "destroy");
    ctx_t ctx = {.pending = 2};
    yg_checkpoint_t *c = make_ckpt("d", "", -1, "{\"a\":1}", NULL);
    ck_assert_int_eq(yg_ckpt_save(store, c, on_done, &ctx), YG_OK);
    ck_assert_int_eq(yg_ckpt_load_latest(store, "d", "", on_load, &ctx), YG_OK);
    yg_ckpt_destroy(&store);
    ck_assert_int_eq(ctx.calls, 2);
    ck_assert_int_eq(ctx.errors, 0);
    assert_same_ckpt(c, ctx.loaded);
    if (_i == 1) {
        store = reopen_file(loop, "destroy");
        int status;
        yg_checkpoint_t *got = load_sync(store, loop, "d", "", NULL, &status);
        assert_same_ckpt(c, got);
        yg_checkpoint_destroy(&got);
        yg_ckpt_destroy(&store);
    }
    ctx_reset(&ctx);
    yg_checkpoint_destroy(&c);
    zloop_destroy(&loop);
}
END_TEST

/* --- memory store only ------------------------------------------------------ */

/* Without a loop the memory store completes inline. */
START_TEST(test_memory_inline)
{
    yg_ckpt_t *store = yg_ckpt_memory_new(NULL);
    ctx_t ctx = {.pending = 2};
    yg_checkpoint_t *c = make_ckpt("i", "", -1, "{\"a\":[1,2]}", NULL);
    ck_assert_int_eq(yg_ckpt_save(store, c, on_done, &ctx), YG_OK);
    ck_assert_int_eq(ctx.calls, 1);
    ck_assert_int_eq(yg_ckpt_load_latest(store, "i", "", on_load, &ctx), YG_OK);
    ck_assert_int_eq(ctx.calls, 2);
    assert_same_ckpt(c, ctx.loaded);
    /* Values are shared, not copied: the caller's objects are referenced. */
    ck_assert_ptr_eq(yg_map_get(ctx.loaded->values, "a"), yg_map_get(c->values, "a"));
    ctx_reset(&ctx);
    yg_checkpoint_destroy(&c);
    yg_ckpt_destroy(&store);
}
END_TEST

/* --- file store only -------------------------------------------------------- */

START_TEST(test_file_group_commit)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(1, loop, "group");
    ctx_t ctx = {0};
    enum { SAVES = 200 };
    for (int i = 0; i < SAVES; i++) {
        char thread[32];
        snprintf(thread, sizeof thread, "g-%d", i);
        yg_checkpoint_t *c = make_ckpt(thread, "", -1, "{\"counter\":1}", NULL);
        ctx.pending++;
        ck_assert_int_eq(yg_ckpt_save(store, c, on_done, &ctx), YG_OK);
        yg_checkpoint_destroy(&c);
    }
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.errors, 0);
    uint64_t records = 0, syncs = 0;
    ck_assert_int_eq(yg_ckpt_file_stats(store, &records, &syncs), YG_OK);
    ck_assert_uint_eq(records, SAVES);
    /* Queued saves share fsyncs: typically 1-4 for all 200.  Under valgrind
     * the threads run one at a time, so the I/O thread often empties its
     * queue before the next save arrives and batching cannot be observed;
     * there only the invariant "at most one fsync per save" is checked. */
    if (RUNNING_ON_VALGRIND)
        ck_assert_msg(syncs >= 1 && syncs <= SAVES, "%llu fsyncs for %d saves",
                      (unsigned long long)syncs, SAVES);
    else
        ck_assert_msg(syncs >= 1 && syncs < SAVES / 2, "%llu fsyncs for %d saves",
                      (unsigned long long)syncs, SAVES);
    ck_assert_int_eq(yg_ckpt_file_stats(NULL, &records, &syncs), YG_EINVAL);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* A burst of saves issued in one loop turn (more than the pipe's default
 * high-water mark in both directions) completes: the owner's thread never
 * blocks on the pipe to the I/O thread (it used to deadlock with it). */
START_TEST(test_file_burst)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(1, loop, "burst");
    ctx_t ctx = {0};
    enum { BURST = 8000 };
    for (int i = 0; i < BURST; i++) {
        char thread[32];
        snprintf(thread, sizeof thread, "b-%d", i);
        yg_checkpoint_t *c = make_ckpt(thread, "", -1, "{\"n\":1}", NULL);
        ctx.pending++;
        ck_assert_int_eq(yg_ckpt_save(store, c, on_done, &ctx), YG_OK);
        yg_checkpoint_destroy(&c);
    }
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.calls, BURST);
    ck_assert_int_eq(ctx.errors, 0);
    uint64_t records = 0, syncs = 0;
    ck_assert_int_eq(yg_ckpt_file_stats(store, &records, &syncs), YG_OK);
    ck_assert_uint_eq(records, BURST);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

START_TEST(test_file_lock)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *first = make_store(1, loop, "lock");
    yg_error_t err = {0};
    yg_ckpt_t *second = yg_ckpt_file_new(loop, store_path("lock"), &err);
    ck_assert_ptr_null(second);
    ck_assert_int_eq(err.code, YG_EBUSY);
    ck_assert_ptr_nonnull(strstr(err.message, "in use"));
    yg_ckpt_destroy(&first);
    second = reopen_file(loop, "lock");
    yg_ckpt_destroy(&second);
    zloop_destroy(&loop);
}
END_TEST

START_TEST(test_file_bad_files)
{
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    const char *path = testutil_write_temp("notckpt.ygc", "this is not a checkpoint file\n");
    ck_assert_ptr_null(yg_ckpt_file_new(loop, path, &err));
    ck_assert_int_eq(err.code, YG_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.message, "not a yamlgraph checkpoint file"));
    /* The file is left as it was. */
    size_t len = 0;
    char *text = testutil_read_file(path, &len);
    ck_assert_str_eq(text, "this is not a checkpoint file\n");
    free(text);
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_ckpt_file_new(loop, "/nonexistent-dir/x/y.ygc", &err));
    ck_assert_int_eq(err.code, YG_EIO);
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_ckpt_file_new(NULL, store_path("noloop"), &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    zloop_destroy(&loop);
}
END_TEST

static off_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

START_TEST(test_file_compact)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(1, loop, "compact");
    yg_checkpoint_t *keep[10] = {0};
    for (int i = 0; i < 10; i++) {
        yg_checkpoint_t *gone = make_ckpt("gone", "", i - 1,
                                          "{\"payload\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
                                          NULL);
        save_sync(store, loop, gone);
        yg_checkpoint_destroy(&gone);
        char state[64];
        snprintf(state, sizeof state, "{\"i\":%d}", i);
        keep[i] = make_ckpt("keep", i % 2 ? "sub" : "", i - 1, state, NULL);
        save_sync(store, loop, keep[i]);
    }
    ck_assert_int_eq(delete_sync(store, loop, "gone"), YG_OK);
    off_t before = file_size(store_path("compact"));
    ctx_t ctx = {.pending = 1};
    ck_assert_int_eq(yg_ckpt_file_compact(store, on_done, &ctx), YG_OK);
    wait_all(loop, &ctx);
    ck_assert_msg(ctx.status == YG_OK, "compact: %s", ctx.message);
    off_t after = file_size(store_path("compact"));
    ck_assert_int_lt(after, before);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 10; i++) {
            int status;
            yg_checkpoint_t *got =
                load_sync(store, loop, "keep", keep[i]->ns, keep[i]->id, &status);
            assert_same_ckpt(keep[i], got);
            yg_checkpoint_destroy(&got);
        }
        int status;
        ck_assert_ptr_null(load_sync(store, loop, "gone", "", NULL, &status));
        ck_assert_int_eq(status, YG_ENOTFOUND);
        /* Writes after compaction go to the new file. */
        if (round == 0) {
            yg_checkpoint_t *more = make_ckpt("keep", "", 99, "{\"i\":99}", keep[8]->id);
            save_sync(store, loop, more);
            yg_checkpoint_destroy(&more);
            yg_ckpt_destroy(&store);
            store = reopen_file(loop, "compact");
            yg_checkpoint_t *latest = load_sync(store, loop, "keep", "", NULL, &status);
            ck_assert_int_eq(latest->step, 99);
            yg_checkpoint_destroy(&latest);
        }
    }
    yg_ckpt_t *mem = yg_ckpt_memory_new(loop);
    ck_assert_int_eq(yg_ckpt_file_compact(mem, on_done, &ctx), YG_EINVAL);
    yg_ckpt_destroy(&mem);
    for (int i = 0; i < 10; i++)
        yg_checkpoint_destroy(&keep[i]);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

START_TEST(test_open_spec)
{
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    const char *memory_specs[] = {"memory", ":memory:", ""};
    for (size_t i = 0; i < 3; i++) {
        yg_ckpt_t *s = yg_ckpt_open(loop, memory_specs[i], &err);
        ck_assert_str_eq(yg_ckpt_kind(s), "memory");
        yg_ckpt_destroy(&s);
    }
    char spec[600];
    snprintf(spec, sizeof spec, "file:%s", store_path("spec1"));
    yg_ckpt_t *s = yg_ckpt_open(loop, spec, &err);
    ck_assert_msg(s != NULL, "%s", err.message);
    ck_assert_str_eq(yg_ckpt_kind(s), "file");
    yg_ckpt_destroy(&s);
    ck_assert_int_eq(access(store_path("spec1"), F_OK), 0);
    s = yg_ckpt_open(loop, store_path("spec2"), &err);
    ck_assert_str_eq(yg_ckpt_kind(s), "file");
    yg_ckpt_destroy(&s);
    ck_assert_ptr_null(yg_ckpt_open(loop, "file:", &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    zloop_destroy(&loop);
}
END_TEST

/* A run with an empty input checkpoints an empty state first: both stores
 * must take it (and then a non-empty successor). */
START_TEST(test_store_empty_state)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(_i, loop, "empty");
    yg_checkpoint_t *c1 = make_ckpt("th", "", -1, "{}", NULL);
    yg_checkpoint_t *c2 = make_ckpt("th", "", 0, "{\"a\":1}", c1->id);
    save_sync(store, loop, c1);
    save_sync(store, loop, c2);
    int status = 0;
    yg_checkpoint_t *got = load_sync(store, loop, "th", "", c1->id, &status);
    ck_assert_int_eq(status, YG_OK);
    ck_assert_uint_eq(yg_map_size(got->values), 0);
    yg_checkpoint_destroy(&got);
    got = load_sync(store, loop, "th", "", NULL, &status);
    ck_assert_int_eq(status, YG_OK);
    assert_same_ckpt(c2, got);
    yg_checkpoint_destroy(&got);
    yg_checkpoint_destroy(&c1);
    yg_checkpoint_destroy(&c2);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("record");
    tcase_add_test(tc, test_encode_roundtrip);
    tcase_add_test(tc, test_decode_corrupt);
    tcase_add_test(tc, test_validate_and_ids);
    suite_add_tcase(s, tc);
    tc = tcase_create("stores");
    tcase_add_loop_test(tc, test_store_basic, 0, 2);
    tcase_add_loop_test(tc, test_store_empty_state, 0, 2);
    tcase_add_loop_test(tc, test_store_rejects, 0, 2);
    tcase_add_loop_test(tc, test_store_deferred_order, 0, 2);
    tcase_add_loop_test(tc, test_store_delta_chain, 0, 2);
    tcase_add_loop_test(tc, test_store_fork, 0, 2);
    tcase_add_loop_test(tc, test_store_many_threads, 0, 2);
    tcase_add_loop_test(tc, test_store_destroy_completes, 0, 2);
    tcase_add_test(tc, test_memory_inline);
    suite_add_tcase(s, tc);
    tc = tcase_create("file");
    tcase_add_test(tc, test_file_group_commit);
    tcase_add_test(tc, test_file_burst);
    tcase_add_test(tc, test_file_lock);
    tcase_add_test(tc, test_file_bad_files);
    tcase_add_test(tc, test_file_compact);
    tcase_add_test(tc, test_open_spec);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(checkpoint_suite(), 60);
}
