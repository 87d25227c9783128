/*
 * test_ckpt_redis.c - the Redis checkpoint store and its hiredis/zloop
 * adapter, against a private redis-server per test (tests/redis_util.h).
 *
 * The store contract tests mirror test_checkpoint.c; then what only Redis
 * has: key layout and escaping, TTL, delta storage, a second store reading
 * what the first wrote (another process), scripts flushed, a paused server
 * (timeouts), a restarted server (reconnect), destroy with commands in
 * flight, an unreachable server, corrupt records.
 */
/* Longest a test waits for completions before failing (testutil_ckpt.h). */
#define WAIT_TIMEOUT_MS 15000

#include "redis_util.h"
#include "testutil_ckpt.h"
#include "yg_ckpt_internal.h"
#include "yg_redis_loop.h"
/* Command deadline used by the timeout tests, and the slack allowed. */
#define SHORT_TIMEOUT_MS 300
#define TIMEOUT_SLACK_MS 1500

/* --- helpers (with those of testutil_ckpt.h) --------------------------------- */

/* Run the loop for ms milliseconds. */
static void run_for(zloop_t *loop, int ms)
{
    int limit = zloop_timer(loop, (size_t)ms, 1, give_up, NULL);
    zloop_start(loop);
    zloop_timer_end(loop, limit);
}

static void start_server(redis_server_t *server)
{
    memset(server, 0, sizeof *server);
    ck_assert_msg(redis_server_start(server), "cannot start redis-server: %s", server->error);
}

static yg_ckpt_t *make_store(zloop_t *loop, const redis_server_t *server, const char *prefix,
                             int64_t ttl)
{
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_redis_new(loop, server->url, prefix, ttl, &err);
    ck_assert_msg(store != NULL, "redis store: %s", err.message);
    ck_assert_str_eq(yg_ckpt_kind(store), "redis");
    return store;
}

/* Number of keys matching pattern (tests may use KEYS). */
static long count_keys(const redis_server_t *server, const char *pattern)
{
    redisReply *r = redis_util_command(server, "KEYS %s", pattern);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    long n = (long)r->elements;
    freeReplyObject(r);
    return n;
}

/* --- URLs ----------------------------------------------------------------------- */

START_TEST(test_url_parse)
{
    yg_redis_target_t t;
    yg_error_t err = {0};
    ck_assert_int_eq(yg_redis_parse_url("redis://127.0.0.1:6390", &t, &err), YG_OK);
    ck_assert_str_eq(t.host, "127.0.0.1");
    ck_assert_int_eq(t.port, 6390);
    ck_assert_int_eq(t.db, 0);
    ck_assert_ptr_null(t.password);
    yg_redis_target_clear(&t);
    ck_assert_int_eq(yg_redis_parse_url("redis://:p%40ss%3Aw@db.example:1234/7", &t, &err),
                     YG_OK);
    ck_assert_str_eq(t.host, "db.example");
    ck_assert_int_eq(t.port, 1234);
    ck_assert_int_eq(t.db, 7);
    ck_assert_str_eq(t.password, "p@ss:w");
    ck_assert_ptr_null(t.username);
    yg_redis_target_clear(&t);
    ck_assert_int_eq(yg_redis_parse_url("redis://alice:s3cret@[::1]/", &t, &err), YG_OK);
    ck_assert_str_eq(t.host, "::1");
    ck_assert_int_eq(t.port, YG_REDIS_DEFAULT_PORT);
    ck_assert_str_eq(t.username, "alice");
    ck_assert_str_eq(t.password, "s3cret");
    yg_redis_target_clear(&t);
    ck_assert_int_eq(yg_redis_parse_url("redis://", &t, &err), YG_OK);
    ck_assert_str_eq(t.host, "127.0.0.1");
    yg_redis_target_clear(&t);
    ck_assert_int_eq(yg_redis_parse_url("unix:///run/redis.sock?db=2", &t, &err), YG_OK);
    ck_assert_str_eq(t.unix_path, "/run/redis.sock");
    ck_assert_int_eq(t.db, 2);
    yg_redis_target_clear(&t);
    ck_assert_int_eq(yg_redis_parse_url("/tmp/r.sock", &t, &err), YG_OK);
    ck_assert_str_eq(t.unix_path, "/tmp/r.sock");
    yg_redis_target_clear(&t);

    static const char *const bad[] = {
        "",          "http://x",           "redis://h:0",        "redis://h:65536",
        "redis://h:x", "redis://h/abc",    "redis://h/1?timeout=3", "redis://[::1",
        "redis://[::1]x", "redis://:%zz@h", "redis://:%00@h",    "unix://relative",
        "unix:///s?x=1", "redis://h:123456789012",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        yg_error_clear(&err);
        ck_assert_msg(yg_redis_parse_url(bad[i], &t, &err) == YG_EINVAL, "accepted '%s'",
                      bad[i]);
        ck_assert_str_ne(err.message, "");
        ck_assert_ptr_null(t.host);
    }
    yg_error_clear(&err);
    ck_assert_int_eq(yg_redis_parse_url("rediss://h:6380", &t, &err), YG_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.message, "TLS"));

    /* The store reports a bad URL at creation; a bad prefix or TTL too. */
    zloop_t *loop = zloop_new();
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_ckpt_redis_new(loop, "redis://h:99999", NULL, 0, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    char prefix[300];
    memset(prefix, 'p', sizeof prefix - 1);
    prefix[sizeof prefix - 1] = '\0';
    ck_assert_ptr_null(yg_ckpt_redis_new(loop, "redis://127.0.0.1:1", prefix, 0, &err));
    ck_assert_ptr_null(yg_ckpt_redis_new(loop, "redis://127.0.0.1:1", NULL,
                                         (int64_t)1 << 40, &err));
    ck_assert_ptr_null(yg_ckpt_redis_new(NULL, "redis://127.0.0.1:1", NULL, 0, &err));
    zloop_destroy(&loop);
}
END_TEST

/* --- the store contract ------------------------------------------------------------ */

START_TEST(test_basic)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
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
    ck_assert_int_gt(got->created_at_ms, 0);
    yg_checkpoint_destroy(&got);
    got = load_sync(store, loop, "th", "", c2->id, &status);
    assert_same_ckpt(c2, got);
    yg_checkpoint_destroy(&got);

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

    got = load_sync(store, loop, "th", "", "no-such-id", &status);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(status, YG_ENOTFOUND);
    got = load_sync(store, loop, "nobody", "", NULL, &status);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(status, YG_ENOTFOUND);
    history = list_sync(store, loop, "nobody", "", 0);
    ck_assert_uint_eq(yg_list_size(history), 0);
    yg_value_destroy(&history);

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

    /* The documented layout: for "th", head/data/base/hist of "" (it has
     * deltas), head/data/hist of "child" (a snapshot only) and the
     * namespace set; for "other" head/data/hist and its set. */
    ck_assert_int_eq(count_keys(&server, "lg:{th}:*"), 8);
    ck_assert_int_eq(count_keys(&server, "lg:{other}:*"), 4); /* no base hash: no delta yet */
    ck_assert_int_eq(redis_util_integer(&server, "HLEN lg:{th}::data"), 3);
    ck_assert_int_eq(redis_util_integer(&server, "ZCARD lg:{th}::hist"), 3);
    ck_assert_int_eq(redis_util_integer(&server, "SCARD lg:{th}:ns"), 2);
    redisReply *latest = redis_util_command(&server, "HGET lg:{th}::head latest");
    ck_assert_ptr_nonnull(latest);
    ck_assert_int_eq(latest->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(latest->str, c3->id);
    freeReplyObject(latest);

    ck_assert_int_eq(delete_sync(store, loop, "th"), YG_OK);
    ck_assert_int_eq(count_keys(&server, "lg:{th}:*"), 0);
    ck_assert_ptr_null(load_sync(store, loop, "th", "", NULL, &status));
    ck_assert_int_eq(status, YG_ENOTFOUND);
    ck_assert_ptr_null(load_sync(store, loop, "th", "child", NULL, &status));
    ck_assert_int_eq(status, YG_ENOTFOUND);
    got = load_sync(store, loop, "other", "", NULL, &status);
    assert_same_ckpt(other, got);
    yg_checkpoint_destroy(&got);
    ck_assert_int_eq(delete_sync(store, loop, "never-existed"), YG_OK);

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
    redis_server_stop(&server);
}
END_TEST

START_TEST(test_rejects)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    ctx_t ctx = {0};
    yg_checkpoint_t *c = make_ckpt("th", "", -1, "{\"a\":1}", NULL);
    ck_assert_int_eq(yg_ckpt_save(store, NULL, on_done, &ctx), YG_EINVAL);
    ck_assert_int_eq(yg_ckpt_load_latest(store, "", "", on_load, &ctx), YG_EINVAL);
    ck_assert_int_eq(yg_ckpt_load(store, "th", "", "", on_load, &ctx), YG_EINVAL);
    ck_assert_int_eq(ctx.calls, 0);

    save_sync(store, loop, c);
    yg_checkpoint_t *dup = make_ckpt("th", "", 0, "{\"a\":2}", c->id);
    free(dup->id);
    dup->id = strdup(c->id);
    char message[YG_ERROR_MESSAGE_MAX];
    ck_assert_int_eq(save_status(store, loop, dup, message, sizeof message), YG_EINVAL);
    ck_assert_ptr_nonnull(strstr(message, "already exists"));
    int status;
    yg_checkpoint_t *got = load_sync(store, loop, "th", "", NULL, &status);
    assert_same_ckpt(c, got);
    yg_checkpoint_destroy(&got);
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
    redis_server_stop(&server);
}
END_TEST

START_TEST(test_deferred_order)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
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
    ck_assert_int_eq(ctx.calls, 0);
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.norder, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(ctx.order[i], i);
    ck_assert_int_eq(ctx.errors, 1);
    yg_checkpoint_destroy(&a);
    yg_checkpoint_destroy(&b);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* --- deltas --------------------------------------------------------------------------- */

#define CHAIN_STEPS 100
#define CHAIN_BIG_TEXT 2000

static yg_value_t *chain_state(int step, const yg_value_t *prev)
{
    yg_value_t *state = yg_map_new();
    yg_map_set(state, "counter", yg_int_new(step));
    yg_value_t *name = prev ? yg_map_get(prev, "name") : NULL;
    if (!name) {
        char big_text[CHAIN_BIG_TEXT + 1];
        memset(big_text, 'n', CHAIN_BIG_TEXT);
        big_text[CHAIN_BIG_TEXT] = '\0';
        yg_map_set(state, "name", yg_str_new(big_text));
    } else {
        yg_map_set(state, "name", yg_value_ref(name));
    }
    yg_value_t *big = yg_list_new();
    for (int i = 0; i <= step / 10; i++)
        yg_list_append(big, yg_str_newf("item-%d", i));
    yg_map_set(state, "big", big);
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
        ck_assert_str_eq(yg_value_str(yg_map_get(entry, "id")), saved[s]->id);
        ck_assert(yg_value_equal(yg_map_get(entry, "values"), saved[s]->values));
    }
    yg_value_destroy(&history);
    /* A limited list starting inside a delta chain still materialises. */
    history = list_sync(store, loop, "chain", "", 5);
    ck_assert_uint_eq(yg_list_size(history), 5);
    for (int i = 0; i < 5; i++)
        ck_assert(yg_value_equal(yg_map_get(yg_list_get(history, (size_t)i), "values"),
                                 saved[CHAIN_STEPS - 1 - i]->values));
    yg_value_destroy(&history);
}

/* Bytes of every record of the thread (HSTRLEN summed). */
static long long data_bytes(const redis_server_t *server, const char *key)
{
    redisReply *r = redis_util_command(server, "HKEYS %s", key);
    ck_assert_ptr_nonnull(r);
    long long total = 0;
    for (size_t i = 0; i < r->elements; i++)
        total += redis_util_integer(server, "HSTRLEN %s %s", key, r->element[i]->str);
    freeReplyObject(r);
    return total;
}

START_TEST(test_delta_chain)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
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
    for (int s = 0; s < CHAIN_STEPS; s++)
        ck_assert(yg_value_equal(saved[s]->values, expected[s]));
    yg_ckpt_redis_stats_t st;
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    /* One snapshot every YG_CKPT_SNAPSHOT_INTERVAL saves, deltas between. */
    ck_assert_uint_eq(st.snapshots, (CHAIN_STEPS + YG_CKPT_SNAPSHOT_INTERVAL - 1)
                                        / YG_CKPT_SNAPSHOT_INTERVAL);
    ck_assert_uint_eq(st.snapshots + st.deltas, CHAIN_STEPS);
    /* What is stored grows with the changes, not with the state: the big
     * unchanged key is written only in the snapshots. */
    long long bytes = data_bytes(&server, "lg:{chain}::data");
    ck_assert_msg(bytes < CHAIN_STEPS * CHAIN_BIG_TEXT / 4, "records use %lld bytes", bytes);
    ck_assert_int_eq(count_keys(&server, "lg:{chain}:*"), 5);
    check_chain(store, loop, saved);

    /* A fresh store (another process: no cache) reads everything back and
     * continues the chain with a snapshot. */
    yg_ckpt_t *second = make_store(loop, &server, NULL, 0);
    check_chain(second, loop, saved);
    yg_ckpt_destroy(&second);

    for (int s = 0; s < CHAIN_STEPS; s++) {
        yg_value_destroy(&expected[s]);
        yg_checkpoint_destroy(&saved[s]);
    }
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

START_TEST(test_fork)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    yg_checkpoint_t *a = make_ckpt("f", "", -1, "{\"x\":1,\"y\":1}", NULL);
    yg_checkpoint_t *b = make_ckpt("f", "", 0, "{\"x\":2,\"y\":1}", a->id);
    yg_checkpoint_t *c = make_ckpt("f", "", 1, "{\"x\":3,\"y\":1,\"z\":0}", b->id);
    yg_checkpoint_t *d = make_ckpt("f", "", 1, "{\"x\":2,\"y\":9}", b->id);
    yg_checkpoint_t *e = make_ckpt("f", "", 2, "{\"y\":9,\"w\":[1]}", d->id);
    yg_checkpoint_t *all[] = {a, b, c, d, e};
    for (int i = 0; i < 5; i++)
        save_sync(store, loop, all[i]);
    for (int i = 0; i < 5; i++) {
        int status;
        yg_checkpoint_t *got = load_sync(store, loop, "f", "", all[i]->id, &status);
        assert_same_ckpt(all[i], got);
        yg_checkpoint_destroy(&got);
    }
    /* The newest saved (e) is the latest, whatever the parent links. */
    int status;
    yg_checkpoint_t *got = load_sync(store, loop, "f", "", NULL, &status);
    assert_same_ckpt(e, got);
    yg_checkpoint_destroy(&got);
    for (int i = 0; i < 5; i++)
        yg_checkpoint_destroy(&all[i]);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* A delta whose base record vanished (here: deleted behind the store's
 * back) is resent as a snapshot and reads back whole. */
START_TEST(test_missing_base_resent)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    yg_checkpoint_t *a = make_ckpt("m", "", -1, "{\"x\":1,\"keep\":\"k\"}", NULL);
    yg_checkpoint_t *b = make_ckpt("m", "", 0, "{\"x\":2,\"keep\":\"k\"}", a->id);
    save_sync(store, loop, a);
    ck_assert_int_eq(redis_util_integer(&server, "HDEL lg:{m}::data %s", a->id), 1);
    save_sync(store, loop, b);
    yg_ckpt_redis_stats_t st;
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    ck_assert_uint_eq(st.deltas, 1);    /* tried as a delta ... */
    ck_assert_uint_eq(st.snapshots, 2); /* ... and resent as a snapshot */
    yg_ckpt_t *second = make_store(loop, &server, NULL, 0);
    int status;
    yg_checkpoint_t *got = load_sync(second, loop, "m", "", NULL, &status);
    assert_same_ckpt(b, got);
    yg_checkpoint_destroy(&got);
    yg_ckpt_destroy(&second);
    yg_checkpoint_destroy(&a);
    yg_checkpoint_destroy(&b);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* --- concurrency ------------------------------------------------------------------------- */

#define MANY_THREADS 300
#define MANY_STEPS 3
#define MANY_LOADS 2000

START_TEST(test_many_threads)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
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
    /* All 900 saves are in flight at once (pipelined on one connection). */
    ck_assert_int_eq(ctx.calls, 0);
    wait_all(loop, &ctx);
    ck_assert_msg(ctx.errors == 0, "%d errors: %s", ctx.errors, ctx.message);
    yg_ckpt_redis_stats_t st;
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    ck_assert_uint_eq(st.connects, 1);
    ck_assert_uint_eq(st.deltas, (uint64_t)MANY_THREADS * (MANY_STEPS - 1));

    /* Many loads in flight, each result right for its thread. */
    ctx_t loads = {0};
    ctx_t *per = calloc(MANY_LOADS, sizeof *per);
    for (int i = 0; i < MANY_LOADS; i++) {
        per[i].pending = 1;
        char thread[32];
        snprintf(thread, sizeof thread, "t-%d", i % MANY_THREADS);
        ck_assert_int_eq(yg_ckpt_load_latest(store, thread, "", on_load, &per[i]), YG_OK);
    }
    loads.pending = 1;
    ck_assert_int_eq(yg_ckpt_list(store, "t-0", "", 0, on_list, &loads), YG_OK);
    wait_all(loop, &loads);
    for (int i = 0; i < MANY_LOADS; i++) {
        ck_assert_int_eq(per[i].pending, 0); /* completed before the later list */
        ck_assert_int_eq(per[i].status, YG_OK);
        assert_same_ckpt(last[i % MANY_THREADS], per[i].loaded);
        ctx_reset(&per[i]);
    }
    free(per);
    ck_assert_uint_eq(yg_list_size(loads.history), MANY_STEPS);
    ctx_reset(&loads);
    for (int t = 0; t < MANY_THREADS; t++)
        yg_checkpoint_destroy(&last[t]);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* --- Redis specifics --------------------------------------------------------------------- */

START_TEST(test_ttl)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, "ttl:", 100);
    yg_ckpt_t *forever = make_store(loop, &server, "keep:", 0);
    yg_checkpoint_t *a = make_ckpt("t", "", -1, "{\"x\":1}", NULL);
    yg_checkpoint_t *b = make_ckpt("t", "", 0, "{\"x\":2}", a->id);
    save_sync(store, loop, a);
    save_sync(store, loop, b);
    save_sync(forever, loop, a);
    redisReply *keys = redis_util_command(&server, "KEYS ttl:*");
    ck_assert_uint_eq(keys->elements, 5);
    for (size_t i = 0; i < keys->elements; i++) {
        long long ttl = redis_util_integer(&server, "TTL %s", keys->element[i]->str);
        ck_assert_msg(ttl > 90 && ttl <= 100, "%s has TTL %lld", keys->element[i]->str, ttl);
    }
    freeReplyObject(keys);
    keys = redis_util_command(&server, "KEYS keep:*");
    ck_assert_uint_eq(keys->elements, 4);
    for (size_t i = 0; i < keys->elements; i++)
        ck_assert_int_eq(redis_util_integer(&server, "TTL %s", keys->element[i]->str), -1);
    freeReplyObject(keys);
    /* Prefixes keep stores apart. */
    int status;
    yg_checkpoint_t *got = load_sync(forever, loop, "t", "", NULL, &status);
    assert_same_ckpt(a, got);
    yg_checkpoint_destroy(&got);
    yg_checkpoint_destroy(&a);
    yg_checkpoint_destroy(&b);
    yg_ckpt_destroy(&store);
    yg_ckpt_destroy(&forever);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* Thread ids and namespaces with the layout's separators stay apart. */
START_TEST(test_key_escaping)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    static const char *const threads[] = {"a", "a:b", "a}:b", "a%3Ab", "a b", "{a}", "é"};
    static const char *const nss[] = {"", "b", "b:c", "ns", "%"};
    size_t nt = sizeof threads / sizeof threads[0], nn = sizeof nss / sizeof nss[0];
    for (size_t t = 0; t < nt; t++)
        for (size_t n = 0; n < nn; n++) {
            char state[64];
            snprintf(state, sizeof state, "{\"t\":%zu,\"n\":%zu}", t, n);
            yg_checkpoint_t *c = make_ckpt(threads[t], nss[n], -1, state, NULL);
            save_sync(store, loop, c);
            yg_checkpoint_destroy(&c);
        }
    for (size_t t = 0; t < nt; t++)
        for (size_t n = 0; n < nn; n++) {
            int status;
            yg_checkpoint_t *got = load_sync(store, loop, threads[t], nss[n], NULL, &status);
            ck_assert_msg(got, "thread '%s' ns '%s': %d", threads[t], nss[n], status);
            ck_assert_int_eq(yg_value_int(yg_map_get(got->values, "t")), (int64_t)t);
            ck_assert_int_eq(yg_value_int(yg_map_get(got->values, "n")), (int64_t)n);
            yg_checkpoint_destroy(&got);
        }
    ck_assert_int_eq(count_keys(&server, "lg:{a%3Ab}:*"), 1 + 3 * 5);
    ck_assert_int_eq(delete_sync(store, loop, "a"), YG_OK);
    for (size_t t = 0; t < nt; t++) {
        int status;
        yg_checkpoint_t *got = load_sync(store, loop, threads[t], "b:c", NULL, &status);
        ck_assert_int_eq(status, t == 0 ? YG_ENOTFOUND : YG_OK);
        yg_checkpoint_destroy(&got);
    }
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* The client-side SHA-1 names the scripts as Redis does; a SCRIPT FLUSH
 * behind the store's back is survived (NOSCRIPT -> EVAL). */
START_TEST(test_scripts)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    yg_checkpoint_t *a = make_ckpt("s", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);
    yg_ckpt_redis_stats_t st;
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    ck_assert(st.connected);
    for (int i = 0; i < YG_CKPT_REDIS_SCRIPTS; i++) {
        redisReply *r = redis_util_command(&server, "SCRIPT EXISTS %s", st.script_sha[i]);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
        ck_assert_msg(r->element[0]->integer == 1, "script %d sha %s unknown to redis", i,
                      st.script_sha[i]);
        freeReplyObject(r);
    }
    redisReply *r = redis_util_command(&server, "SCRIPT FLUSH");
    freeReplyObject(r);
    yg_checkpoint_t *b = make_ckpt("s", "", 0, "{\"x\":2}", a->id);
    save_sync(store, loop, b);
    int status;
    yg_checkpoint_t *got = load_sync(store, loop, "s", "", NULL, &status);
    assert_same_ckpt(b, got);
    yg_checkpoint_destroy(&got);
    yg_value_t *history = list_sync(store, loop, "s", "", 0);
    ck_assert_uint_eq(yg_list_size(history), 2);
    yg_value_destroy(&history);
    ck_assert_int_eq(delete_sync(store, loop, "s"), YG_OK);
    yg_checkpoint_destroy(&a);
    yg_checkpoint_destroy(&b);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

#define LARGE_VALUE_BYTES (5 * 1024 * 1024)

START_TEST(test_large_value)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    char *text = malloc(LARGE_VALUE_BYTES + 1);
    for (size_t i = 0; i < LARGE_VALUE_BYTES; i++)
        text[i] = (char)('a' + i % 26);
    text[LARGE_VALUE_BYTES] = '\0';
    yg_checkpoint_t *c = make_ckpt("big", "", -1, "{}", NULL);
    yg_map_set(c->values, "doc", yg_str_new(text));
    save_sync(store, loop, c);
    yg_ckpt_t *second = make_store(loop, &server, NULL, 0);
    int status;
    yg_checkpoint_t *got = load_sync(second, loop, "big", "", NULL, &status);
    ck_assert_int_eq(status, YG_OK);
    ck_assert_uint_eq(yg_value_strlen(yg_map_get(got->values, "doc")), LARGE_VALUE_BYTES);
    ck_assert(yg_value_equal(got->values, c->values));
    yg_checkpoint_destroy(&got);
    free(text);
    yg_checkpoint_destroy(&c);
    yg_ckpt_destroy(&second);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* Damaged records give an error naming the problem, never a crash. */
START_TEST(test_corrupt_records)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    yg_checkpoint_t *a = make_ckpt("c", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);
    static const char *const junk[] = {"", "\x01", "\x09garbage", "\x01\x93\x01\x02\x03",
                                       "\x01\xde\xff\xff"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        size_t len = i == 0 ? 0 : strlen(junk[i]);
        redisReply *r = redis_util_command(&server, "HSET lg:{c}::data %s %b", a->id, junk[i],
                                           len);
        freeReplyObject(r);
        int status;
        yg_checkpoint_t *got = load_sync(store, loop, "c", "", NULL, &status);
        ck_assert_ptr_null(got);
        ck_assert_msg(status != YG_OK && status != YG_ENOTFOUND, "junk %zu: %d", i, status);
        ctx_t ctx = {.pending = 1};
        ck_assert_int_eq(yg_ckpt_list(store, "c", "", 0, on_list, &ctx), YG_OK);
        wait_all(loop, &ctx);
        ck_assert_int_ne(ctx.status, YG_OK);
        ck_assert_str_ne(ctx.message, "");
        ctx_reset(&ctx);
    }
    /* A base pointer to nowhere. */
    yg_checkpoint_t *b = make_ckpt("d", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, b);
    redisReply *r = redis_util_command(&server, "HSET lg:{d}::base %s nowhere", b->id);
    freeReplyObject(r);
    int status;
    ck_assert_ptr_null(load_sync(store, loop, "d", "", NULL, &status));
    ck_assert_int_eq(status, YG_EIO);
    yg_checkpoint_destroy(&a);
    yg_checkpoint_destroy(&b);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* --- failures ---------------------------------------------------------------------------- */

/* A frozen server: the operations fail with YG_ETIMEOUT in bounded time;
 * once it thaws the store reconnects and works. */
START_TEST(test_timeout_paused_server)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    ck_assert_int_eq(yg_ckpt_redis_set_timeout(store, SHORT_TIMEOUT_MS), YG_OK);
    yg_checkpoint_t *a = make_ckpt("p", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);

    redis_server_pause(&server);
    ctx_t ctx = {.pending = 3};
    yg_checkpoint_t *b = make_ckpt("p", "", 0, "{\"x\":2}", a->id);
    int64_t t0 = zclock_mono();
    ck_assert_int_eq(yg_ckpt_save(store, b, on_done, &ctx), YG_OK);
    ck_assert_int_eq(yg_ckpt_load_latest(store, "p", "", on_load, &ctx), YG_OK);
    ck_assert_int_eq(yg_ckpt_delete_thread(store, "x", on_done, &ctx), YG_OK);
    wait_all(loop, &ctx);
    int64_t elapsed = zclock_mono() - t0;
    ck_assert_int_eq(ctx.errors, 3);
    ck_assert_int_eq(ctx.status, YG_ETIMEOUT);
    ck_assert_ptr_nonnull(strstr(ctx.message, "no reply"));
    ck_assert_msg(elapsed >= SHORT_TIMEOUT_MS - 10 && elapsed < SHORT_TIMEOUT_MS + TIMEOUT_SLACK_MS,
                  "took %lld ms", (long long)elapsed);

    redis_server_resume(&server);
    /* The store reconnects; the failed save left nothing half-written. */
    int status = YG_ETIMEOUT;
    yg_checkpoint_t *got = NULL;
    for (int i = 0; i < 50 && status != YG_OK; i++) {
        got = load_sync(store, loop, "p", "", NULL, &status);
        if (status != YG_OK)
            run_for(loop, 50);
    }
    ck_assert_int_eq(status, YG_OK);
    ck_assert(got && (strcmp(got->id, a->id) == 0 || strcmp(got->id, b->id) == 0));
    yg_checkpoint_destroy(&got);
    yg_checkpoint_t *c = make_ckpt("p", "", 1, "{\"x\":3}", b->id);
    save_sync(store, loop, c); /* parent may be missing: a snapshot either way */
    got = load_sync(store, loop, "p", "", NULL, &status);
    assert_same_ckpt(c, got);
    yg_checkpoint_destroy(&got);
    yg_ckpt_redis_stats_t st;
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    ck_assert_uint_ge(st.connects, 2);
    yg_checkpoint_destroy(&a);
    yg_checkpoint_destroy(&b);
    yg_checkpoint_destroy(&c);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* A server that goes away: operations fail fast with YG_EIO; after it is
 * back on the same port, the store reconnects by itself. */
START_TEST(test_reconnect_after_restart)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    yg_checkpoint_t *a = make_ckpt("r", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);

    redis_server_stop(&server);
    int64_t t0 = zclock_mono();
    char message[YG_ERROR_MESSAGE_MAX];
    yg_checkpoint_t *b = make_ckpt("r", "", 0, "{\"x\":2}", a->id);
    int status = save_status(store, loop, b, message, sizeof message);
    ck_assert_int_eq(status, YG_EIO);
    ck_assert_msg(strstr(message, "redis"), "message: %s", message);
    ck_assert_int_lt(zclock_mono() - t0, YG_REDIS_DEFAULT_TIMEOUT_MS);
    /* While it is down, every operation keeps failing fast. */
    status = save_status(store, loop, b, message, sizeof message);
    ck_assert_int_eq(status, YG_EIO);
    ck_assert_ptr_nonnull(strstr(message, "cannot connect"));

    ck_assert_msg(redis_server_start(&server), "restart: %s", server.error);
    /* The data is gone (no persistence); the store works again. */
    status = YG_EIO;
    for (int i = 0; i < 100 && status != YG_OK; i++) {
        status = save_status(store, loop, b, message, sizeof message);
        if (status != YG_OK)
            run_for(loop, 50);
    }
    ck_assert_msg(status == YG_OK, "after restart: %s", message);
    yg_checkpoint_t *got = load_sync(store, loop, "r", "", NULL, &status);
    assert_same_ckpt(b, got); /* a snapshot: its parent was lost with the server */
    yg_checkpoint_destroy(&got);
    yg_ckpt_redis_stats_t st;
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    ck_assert_uint_ge(st.connects, 2);
    yg_checkpoint_destroy(&a);
    yg_checkpoint_destroy(&b);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* A host NAME is resolved once, when the store is created: reconnecting
 * after a restart uses the cached address and never calls the (blocking)
 * resolver on the owner's thread.  An address is never looked up. */
START_TEST(test_reconnect_no_lookup)
{
    redis_server_t server;
    start_server(&server);
    char url[96];
    snprintf(url, sizeof url, "redis://localhost:%d", server.port);
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_redis_new(loop, url, NULL, 0, &err);
    ck_assert_msg(store != NULL, "redis store: %s", err.message);
    yg_checkpoint_t *a = make_ckpt("n", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);
    yg_ckpt_redis_stats_t st;
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    ck_assert_uint_eq(st.resolves, 1);
    ck_assert_uint_eq(st.connects, 1);

    redis_server_stop(&server);
    char message[YG_ERROR_MESSAGE_MAX];
    yg_checkpoint_t *b = make_ckpt("n", "", 0, "{\"x\":2}", a->id);
    ck_assert_int_eq(save_status(store, loop, b, message, sizeof message), YG_EIO);
    ck_assert_msg(redis_server_start(&server), "restart: %s", server.error);
    int status = YG_EIO;
    for (int i = 0; i < 100 && status != YG_OK; i++) {
        status = save_status(store, loop, b, message, sizeof message);
        if (status != YG_OK)
            run_for(loop, 50);
    }
    ck_assert_msg(status == YG_OK, "after restart: %s", message);
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    ck_assert_uint_ge(st.connects, 2);
    ck_assert_uint_eq(st.resolves, 1); /* every reconnect used the cached address */
    yg_ckpt_destroy(&store);

    /* A numeric address is never looked up. */
    store = make_store(loop, &server, NULL, 0);
    save_sync(store, loop, a);
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    ck_assert_uint_eq(st.resolves, 0);
    yg_ckpt_destroy(&store);
    yg_checkpoint_destroy(&a);
    yg_checkpoint_destroy(&b);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* A host name that does not resolve fails cleanly with the reason. */
START_TEST(test_unresolvable_host)
{
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_redis_new(loop, "redis://no-such-host.invalid:6379", NULL, 0, &err);
    ck_assert_msg(store != NULL, "%s", err.message);
    ctx_t ctx = {.pending = 1};
    ck_assert_int_eq(yg_ckpt_load_latest(store, "t", "", on_load, &ctx), YG_OK);
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.status, YG_EIO);
    ck_assert_msg(strstr(ctx.message, "cannot resolve 'no-such-host.invalid'"), "message: %s",
                  ctx.message);
    ctx_reset(&ctx);
    yg_ckpt_redis_stats_t st;
    ck_assert_int_eq(yg_ckpt_redis_stats(store, &st), YG_OK);
    ck_assert_uint_eq(st.resolves, 1);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

START_TEST(test_unreachable)
{
    int port = redis_util_free_port();
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_redis_new(loop, url, NULL, 0, &err);
    ck_assert_msg(store != NULL, "%s", err.message);
    ctx_t ctx = {.pending = 1};
    ck_assert_int_eq(yg_ckpt_load_latest(store, "t", "", on_load, &ctx), YG_OK);
    ck_assert_int_eq(ctx.calls, 0);
    int64_t t0 = zclock_mono();
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.status, YG_EIO);
    ck_assert_msg(strstr(ctx.message, "cannot connect") && strstr(ctx.message, url + 8),
                  "message: %s", ctx.message);
    ck_assert_int_lt(zclock_mono() - t0, 2000);
    ctx_reset(&ctx);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* Destroy with commands in flight: every callback runs, before destroy
 * returns, with YG_ECLOSED unless the outcome was already known. */
#define DESTROY_OPS 200

START_TEST(test_destroy_in_flight)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    yg_checkpoint_t *a = make_ckpt("d", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);
    ctx_t ctx = {0};
    for (int i = 0; i < DESTROY_OPS; i++) {
        ctx.pending++;
        if (i % 2)
            ck_assert_int_eq(yg_ckpt_load_latest(store, "d", "", on_load, &ctx), YG_OK);
        else
            ck_assert_int_eq(yg_ckpt_list(store, "d", "", 0, on_list, &ctx), YG_OK);
    }
    /* Let some leave the process, not all come back. */
    zloop_timer(loop, 0, 1, give_up, NULL);
    zloop_start(loop);
    yg_ckpt_destroy(&store);
    ck_assert_int_eq(ctx.calls, DESTROY_OPS);
    ck_assert_int_eq(ctx.pending, 0);
    ck_assert_int_eq(ctx.errors, ctx.closed);
    /* And on a frozen server: everything ends with YG_ECLOSED. */
    store = make_store(loop, &server, NULL, 0);
    yg_checkpoint_t *e = make_ckpt("e", "", -1, "{}", NULL);
    save_sync(store, loop, e); /* connected before the freeze */
    yg_checkpoint_destroy(&e);
    redis_server_pause(&server);
    ctx_reset(&ctx);
    for (int i = 0; i < DESTROY_OPS; i++) {
        ctx.pending++;
        ck_assert_int_eq(yg_ckpt_load_latest(store, "d", "", on_load, &ctx), YG_OK);
    }
    run_for(loop, 20);
    yg_ckpt_destroy(&store);
    ck_assert_int_eq(ctx.calls, DESTROY_OPS);
    ck_assert_int_eq(ctx.closed, DESTROY_OPS);
    ctx_reset(&ctx);
    redis_server_resume(&server);
    yg_checkpoint_destroy(&a);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* Commands written to a connection the server already closed: the write
 * fails (EPIPE) without killing the process with SIGPIPE (default
 * disposition here), and the operations fail with YG_EIO. */
START_TEST(test_no_sigpipe)
{
    signal(SIGPIPE, SIG_DFL);
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = make_store(loop, &server, NULL, 0);
    yg_checkpoint_t *a = make_ckpt("s", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);
    redis_server_stop(&server);
    redis_util_sleep_ms(50); /* the FIN arrives; the loop does not run */
    ctx_t ctx = {0};
    for (int i = 0; i < 3; i++) {
        ctx.pending++;
        ck_assert_int_eq(yg_ckpt_load_latest(store, "s", "", on_load, &ctx), YG_OK);
        redis_util_sleep_ms(20); /* the RST arrives: the next send gets EPIPE */
    }
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.errors, 3);
    ck_assert_int_eq(ctx.status, YG_EIO);
    ctx_reset(&ctx);
    yg_checkpoint_destroy(&a);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* AUTH and SELECT from the URL run before anything else; a failing
 * handshake fails the operations with the server's message. */
START_TEST(test_url_db_and_auth)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    char url[128];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", server.port);
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_redis_new(loop, url, NULL, 0, &err);
    ck_assert_msg(store != NULL, "%s", err.message);
    yg_checkpoint_t *a = make_ckpt("db", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);
    ck_assert_int_eq(count_keys(&server, "*"), 0); /* db 0 untouched */
    ck_assert_int_eq(redis_util_integer(&server, "EVAL %s 0", "redis.call('SELECT', 3) "
                                                            "return #redis.call('KEYS', '*')"),
                     4);
    yg_ckpt_destroy(&store);

    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d", server.port);
    store = yg_ckpt_redis_new(loop, url, NULL, 0, &err);
    ck_assert_msg(store != NULL, "%s", err.message);
    ctx_t ctx = {.pending = 1};
    ck_assert_int_eq(yg_ckpt_load_latest(store, "db", "", on_load, &ctx), YG_OK);
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.status, YG_EIO);
    ck_assert_msg(strstr(ctx.message, "handshake failed") && strstr(ctx.message, "AUTH"),
                  "message: %s", ctx.message);
    ctx_reset(&ctx);
    yg_ckpt_destroy(&store);
    yg_checkpoint_destroy(&a);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

/* The same store over the server's unix socket. */
START_TEST(test_unix_socket)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    char url[160];
    snprintf(url, sizeof url, "unix://%s", server.unix_path);
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_redis_new(loop, url, NULL, 0, &err);
    ck_assert_msg(store != NULL, "%s", err.message);
    yg_checkpoint_t *a = make_ckpt("u", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);
    int status;
    yg_checkpoint_t *got = load_sync(store, loop, "u", "", NULL, &status);
    assert_same_ckpt(a, got);
    yg_checkpoint_destroy(&got);
    ck_assert_int_eq(count_keys(&server, "lg:{u}:*"), 4);
    yg_ckpt_destroy(&store);
    yg_checkpoint_destroy(&a);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

START_TEST(test_open_spec)
{
    redis_server_t server;
    start_server(&server);
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_open(loop, server.url, &err);
    ck_assert_msg(store != NULL, "%s", err.message);
    ck_assert_str_eq(yg_ckpt_kind(store), "redis");
    yg_checkpoint_t *a = make_ckpt("o", "", -1, "{\"x\":1}", NULL);
    save_sync(store, loop, a);
    ck_assert_int_eq(count_keys(&server, "lg:{o}:*"), 4); /* default prefix */
    yg_ckpt_destroy(&store);
    ck_assert_ptr_null(yg_ckpt_open(loop, "rediss://127.0.0.1:1", &err));
    ck_assert_int_eq(err.code, YG_EUNSUPPORTED);
    yg_checkpoint_destroy(&a);
    zloop_destroy(&loop);
    redis_server_stop(&server);
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("ckpt_redis");
    TCase *tc = tcase_create("redis");
    tcase_add_test(tc, test_url_parse);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_rejects);
    tcase_add_test(tc, test_deferred_order);
    tcase_add_test(tc, test_delta_chain);
    tcase_add_test(tc, test_fork);
    tcase_add_test(tc, test_missing_base_resent);
    tcase_add_test(tc, test_many_threads);
    tcase_add_test(tc, test_ttl);
    tcase_add_test(tc, test_key_escaping);
    tcase_add_test(tc, test_scripts);
    tcase_add_test(tc, test_large_value);
    tcase_add_test(tc, test_corrupt_records);
    tcase_add_test(tc, test_timeout_paused_server);
    tcase_add_test(tc, test_reconnect_after_restart);
    tcase_add_test(tc, test_reconnect_no_lookup);
    tcase_add_test(tc, test_unresolvable_host);
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_destroy_in_flight);
    tcase_add_test(tc, test_no_sigpipe);
    tcase_add_test(tc, test_url_db_and_auth);
    tcase_add_test(tc, test_unix_socket);
    tcase_add_test(tc, test_open_spec);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(redis_suite(), 60);
}
