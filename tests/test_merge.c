/*
 * test_merge.c - reducers, declared-key dropping and the superstep merge
 * (spec 2.1, 2.2, 5.5; conformance item 39).
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yg_merge.h"

static yg_value_t *J(const char *json)
{
    yg_error_t err = { 0 };
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad test JSON %s: %s", json, err.message);
    return v;
}

static void assert_json(const yg_value_t *v, const char *expected_json)
{
    yg_value_t *e = J(expected_json);
    char *got = yg_json_encode(v, false, NULL);
    ck_assert_msg(yg_value_equal(v, e), "got %s, expected %s", got, expected_json);
    free(got);
    yg_value_destroy(&e);
}

static yg_keyset_t *test_keys(void)
{
    yg_keyset_t *k = yg_keyset_new();
    ck_assert_ptr_nonnull(k);
    const char *plain[] = { "current_step", "_loop_counts", "a", "b", "score", "story" };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        ck_assert_int_eq(yg_keyset_add(k, plain[i], YG_REDUCER_REPLACE), YG_OK);
    ck_assert_int_eq(yg_keyset_add(k, "errors", YG_REDUCER_APPEND), YG_OK);
    ck_assert_int_eq(yg_keyset_add(k, "messages", YG_REDUCER_APPEND), YG_OK);
    ck_assert_int_eq(yg_keyset_add(k, "results", YG_REDUCER_COLLECT), YG_OK);
    return k;
}

static yg_value_t *collect(const char *old_json, const char *add_json)
{
    yg_value_t *old = J(old_json), *add = J(add_json);
    yg_value_t *out = yg_reduce_collect(old, add);
    yg_value_destroy(&old);
    yg_value_destroy(&add);
    ck_assert_ptr_nonnull(out);
    return out;
}

START_TEST(collect_reducer_item_39)
{
    yg_value_t *v = collect("[1, 2]", "[3, 4]");
    assert_json(v, "[1, 2, 3, 4]");
    yg_value_destroy(&v);
    v = collect("null", "[1]");
    assert_json(v, "[1]");
    yg_value_destroy(&v);
    v = collect("[1]", "null");
    assert_json(v, "[1]");
    yg_value_destroy(&v);
    v = collect("[]", "[]");
    assert_json(v, "[]");
    yg_value_destroy(&v);
    v = collect("[{\"_map_index\": 2, \"v\": \"c\"}]", "[{\"_map_index\": 0, \"v\": \"a\"}]");
    assert_json(v, "[{\"_map_index\": 0, \"v\": \"a\"}, {\"_map_index\": 2, \"v\": \"c\"}]");
    yg_value_destroy(&v);
    v = collect("[{\"_map_index\": 3}, {\"_map_index\": 1}]",
                "[{\"_map_index\": 4}, {\"_map_index\": 0}, {\"_map_index\": 2}]");
    assert_json(v, "[{\"_map_index\": 0}, {\"_map_index\": 1}, {\"_map_index\": 2},"
                   " {\"_map_index\": 3}, {\"_map_index\": 4}]");
    yg_value_destroy(&v);
    /* not maps: no sort */
    v = collect("[3, 1]", "[2]");
    assert_json(v, "[3, 1, 2]");
    yg_value_destroy(&v);
    /* maps without _map_index keep their order */
    v = collect("[{\"x\": 2}]", "[{\"x\": 1}]");
    assert_json(v, "[{\"x\": 2}, {\"x\": 1}]");
    yg_value_destroy(&v);
    /* a loop appends and the stable sort interleaves by index */
    v = collect("[{\"_map_index\": 0, \"r\": \"old0\"}, {\"_map_index\": 1, \"r\": \"old1\"}]",
                "[{\"_map_index\": 0, \"r\": \"new0\"}, {\"_map_index\": 1, \"r\": \"new1\"}]");
    assert_json(v, "[{\"_map_index\": 0, \"r\": \"old0\"}, {\"_map_index\": 0, \"r\": \"new0\"},"
                   " {\"_map_index\": 1, \"r\": \"old1\"}, {\"_map_index\": 1, \"r\": \"new1\"}]");
    yg_value_destroy(&v);
}
END_TEST

START_TEST(append_reducer)
{
    yg_value_t *old = J("[\"x\"]"), *add = J("[\"y\", \"z\"]");
    yg_value_t *v = yg_reduce_append(old, add);
    assert_json(v, "[\"x\", \"y\", \"z\"]");
    /* inputs untouched (copy-on-write) */
    assert_json(old, "[\"x\"]");
    yg_value_destroy(&v);
    yg_value_t *scalar = yg_str_new("w");
    v = yg_reduce_append(NULL, scalar);
    assert_json(v, "[\"w\"]");
    yg_value_destroy(&v);
    yg_value_destroy(&scalar);
    yg_value_destroy(&old);
    yg_value_destroy(&add);
}
END_TEST

START_TEST(merge_drops_undeclared_keys)
{
    yg_keyset_t *k = test_keys();
    yg_value_t *state = J("{\"a\": 1}");
    yg_value_t *upd = J("{\"a\": 2, \"secret\": 1, \"b\": null, \"other\": 3}");
    yg_value_t *dropped = yg_list_new();
    yg_error_t err = { 0 };
    ck_assert_int_eq(yg_merge_update(k, state, upd, dropped, &err), YG_OK);
    assert_json(state, "{\"a\": 2, \"b\": null}");
    assert_json(dropped, "[\"secret\", \"other\"]");
    /* a second drop of the same key is not reported twice */
    ck_assert_int_eq(yg_merge_update(k, state, upd, dropped, &err), YG_OK);
    ck_assert_uint_eq(yg_list_size(dropped), 2);
    /* open state keeps them */
    yg_keyset_set_open(k, true);
    ck_assert_int_eq(yg_merge_update(k, state, upd, NULL, &err), YG_OK);
    ck_assert_int_eq(yg_value_int(yg_map_get(state, "secret")), 1);
    yg_value_destroy(&dropped);
    yg_value_destroy(&upd);
    yg_value_destroy(&state);
    yg_keyset_destroy(&k);
}
END_TEST

START_TEST(merge_input_appends_errors)
{
    yg_keyset_t *k = test_keys();
    yg_value_t *state = J("{\"errors\": [{\"m\": 1}]}");
    yg_value_t *upd = J("{\"errors\": [{\"m\": 2}]}");
    yg_error_t err = { 0 };
    ck_assert_int_eq(yg_merge_update(k, state, upd, NULL, &err), YG_OK);
    assert_json(state, "{\"errors\": [{\"m\": 1}, {\"m\": 2}]}");
    yg_value_destroy(&upd);
    yg_value_destroy(&state);
    yg_keyset_destroy(&k);
}
END_TEST

START_TEST(concurrent_plain_write_is_an_error)
{
    yg_keyset_t *k = test_keys();
    yg_value_t *state = J("{\"a\": 0, \"b\": 0}");
    yg_value_t *u1 = J("{\"a\": 1, \"b\": 1}"), *u2 = J("{\"a\": 2}");
    yg_merge_write_t w[] = { { "left", u1 }, { "right", u2 } };
    yg_error_t err = { 0 };
    ck_assert_int_eq(yg_merge_step(k, state, w, 2, NULL, &err), YG_ECONCURRENT);
    ck_assert_int_eq(err.code, YG_ECONCURRENT);
    ck_assert_ptr_nonnull(strstr(err.message, "'a'"));
    ck_assert_ptr_nonnull(strstr(err.message, "left"));
    ck_assert_ptr_nonnull(strstr(err.message, "right"));
    /* state untouched on error */
    assert_json(state, "{\"a\": 0, \"b\": 0}");
    yg_value_destroy(&u1);
    yg_value_destroy(&u2);
    yg_value_destroy(&state);
    yg_keyset_destroy(&k);
}
END_TEST

START_TEST(bookkeeping_keys_are_exempt)
{
    yg_keyset_t *k = test_keys();
    yg_value_t *state = J("{\"_loop_counts\": {\"x\": 1, \"y\": 1}}");
    yg_value_t *u1 = J("{\"current_step\": \"x\", \"_loop_counts\": {\"x\": 2, \"y\": 1},"
                       " \"errors\": [\"e1\"], \"a\": 1}");
    yg_value_t *u2 = J("{\"current_step\": \"y\", \"_loop_counts\": {\"x\": 1, \"y\": 2, \"z\": 1},"
                       " \"errors\": [\"e2\"], \"b\": 2}");
    yg_merge_write_t w[] = { { "x", u1 }, { "y", u2 } };
    yg_error_t err = { 0 };
    ck_assert_int_eq(yg_merge_step(k, state, w, 2, NULL, &err), YG_OK);
    assert_json(state, "{\"_loop_counts\": {\"x\": 2, \"y\": 2, \"z\": 1},"
                       " \"current_step\": \"y\", \"errors\": [\"e1\", \"e2\"], \"a\": 1, \"b\": 2}");
    yg_value_destroy(&u1);
    yg_value_destroy(&u2);
    yg_value_destroy(&state);
    yg_keyset_destroy(&k);
}
END_TEST

START_TEST(map_items_collect_in_index_order)
{
    yg_keyset_t *k = test_keys();
    yg_value_t *state = J("{}");
    /* items finished out of order: the step merge sorts them */
    yg_value_t *u[3] = { J("{\"results\": [{\"_map_index\": 2, \"value\": \"c\"}]}"),
                         J("{\"results\": [{\"_map_index\": 0, \"value\": \"a\"}]}"),
                         J("{\"results\": [{\"_map_index\": 1, \"value\": \"b\"}]}") };
    yg_merge_write_t w[] = { { "_map_m_sub", u[0] }, { "_map_m_sub", u[1] }, { "_map_m_sub", u[2] } };
    yg_error_t err = { 0 };
    ck_assert_int_eq(yg_merge_step(k, state, w, 3, NULL, &err), YG_OK);
    assert_json(state, "{\"results\": [{\"_map_index\": 0, \"value\": \"a\"},"
                       " {\"_map_index\": 1, \"value\": \"b\"}, {\"_map_index\": 2, \"value\": \"c\"}]}");
    for (int i = 0; i < 3; i++)
        yg_value_destroy(&u[i]);
    yg_value_destroy(&state);
    yg_keyset_destroy(&k);
}
END_TEST

START_TEST(shared_values_are_not_modified)
{
    yg_keyset_t *k = test_keys();
    yg_value_t *state = J("{\"messages\": [\"m1\"]}");
    yg_value_t *saved = yg_value_ref(yg_map_get(state, "messages")); /* e.g. a checkpoint */
    yg_value_t *u = J("{\"messages\": [\"m2\"]}");
    yg_error_t err = { 0 };
    ck_assert_int_eq(yg_merge_update(k, state, u, NULL, &err), YG_OK);
    assert_json(saved, "[\"m1\"]");
    assert_json(yg_map_get(state, "messages"), "[\"m1\", \"m2\"]");
    yg_value_destroy(&saved);
    yg_value_destroy(&u);
    yg_value_destroy(&state);
    yg_keyset_destroy(&k);
}
END_TEST

START_TEST(view_is_state_plus_own_update)
{
    yg_keyset_t *k = test_keys();
    yg_value_t *state = J("{\"score\": 0.5, \"a\": 1}");
    yg_value_t *u = J("{\"score\": 0.9, \"ignored\": true}");
    yg_value_t *view = yg_merge_view(k, state, u);
    assert_json(view, "{\"score\": 0.9, \"a\": 1}");
    assert_json(state, "{\"score\": 0.5, \"a\": 1}");
    yg_value_destroy(&view);
    yg_value_destroy(&u);
    yg_value_destroy(&state);
    yg_keyset_destroy(&k);
}
END_TEST

START_TEST(non_map_update_rejected)
{
    yg_keyset_t *k = test_keys();
    yg_value_t *state = J("{}");
    yg_value_t *u = J("[1]");
    yg_merge_write_t w = { "bad", u };
    yg_error_t err = { 0 };
    ck_assert_int_eq(yg_merge_step(k, state, &w, 1, NULL, &err), YG_ETYPE);
    ck_assert_ptr_nonnull(strstr(err.message, "bad"));
    yg_value_destroy(&u);
    yg_value_destroy(&state);
    yg_keyset_destroy(&k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("merge");
    TCase *tc = tcase_create("merge");
    tcase_add_test(tc, collect_reducer_item_39);
    tcase_add_test(tc, append_reducer);
    tcase_add_test(tc, merge_drops_undeclared_keys);
    tcase_add_test(tc, merge_input_appends_errors);
    tcase_add_test(tc, concurrent_plain_write_is_an_error);
    tcase_add_test(tc, bookkeeping_keys_are_exempt);
    tcase_add_test(tc, map_items_collect_in_index_order);
    tcase_add_test(tc, shared_values_are_not_modified);
    tcase_add_test(tc, view_is_state_plus_own_update);
    tcase_add_test(tc, non_map_update_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
