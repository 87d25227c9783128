/*
 * test_value.c - the dynamic value type: constructors, containers, copies,
 * refcounts, equality, truthiness and path lookup.
 */
#include "testutil.h"

#include "yamlgraph/yg_value.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

START_TEST(test_scalars)
{
    yg_value_t *n = yg_null_new();
    yg_value_t *t = yg_bool_new(true);
    yg_value_t *i = yg_int_new(-42);
    yg_value_t *f = yg_float_new(2.75);
    yg_value_t *s = yg_str_new("héllo");
    ck_assert_int_eq(yg_value_type(n), YG_NULL);
    ck_assert_int_eq(yg_value_type(NULL), YG_NULL);
    ck_assert(yg_value_is_null(NULL));
    ck_assert(yg_value_is_null(n));
    ck_assert(!yg_value_is_null(i));
    ck_assert_int_eq(yg_value_type(t), YG_BOOL);
    ck_assert(yg_value_bool(t));
    ck_assert(!yg_value_bool(i));
    ck_assert_int_eq(yg_value_int(i), -42);
    ck_assert_int_eq(yg_value_int(f), 2);
    ck_assert_int_eq(yg_value_int(s), 0);
    ck_assert(yg_value_float(f) == 2.75);
    ck_assert(yg_value_float(i) == -42.0);
    ck_assert_str_eq(yg_value_str(s), "héllo");
    ck_assert_uint_eq(yg_value_strlen(s), strlen("héllo"));
    ck_assert_ptr_null(yg_value_str(i));
    ck_assert_uint_eq(yg_value_strlen(i), 0);
    ck_assert_str_eq(yg_type_name(yg_value_type(s)), "str");
    ck_assert_str_eq(yg_type_name(YG_MAP), "map");
    ck_assert_str_eq(yg_type_name(YG_NULL), "null");
    yg_value_destroy(&n);
    yg_value_destroy(&t);
    yg_value_destroy(&i);
    yg_value_destroy(&f);
    yg_value_destroy(&s);
    ck_assert_ptr_null(s);
    yg_value_destroy(&s); /* NULL-safe */
    yg_value_destroy(NULL);
}
END_TEST

START_TEST(test_float_to_int_saturates)
{
    yg_value_t *big = yg_float_new(1e300);
    yg_value_t *small = yg_float_new(-1e300);
    yg_value_t *nan = yg_float_new(NAN);
    ck_assert(yg_value_int(big) == INT64_MAX);
    ck_assert(yg_value_int(small) == INT64_MIN);
    ck_assert_int_eq(yg_value_int(nan), 0);
    yg_value_destroy(&big);
    yg_value_destroy(&small);
    yg_value_destroy(&nan);
}
END_TEST

START_TEST(test_strings_with_nul_and_format)
{
    yg_value_t *s = yg_str_newn("a\0b", 3);
    ck_assert_uint_eq(yg_value_strlen(s), 3);
    ck_assert(memcmp(yg_value_str(s), "a\0b", 4) == 0); /* NUL-terminated too */
    yg_value_t *f = yg_str_newf("%s-%d-%.1f", "x", 7, 0.5);
    ck_assert_str_eq(yg_value_str(f), "x-7-0.5");
    ck_assert_uint_eq(yg_value_strlen(f), 7);
    yg_value_t *e = yg_str_new("");
    ck_assert_str_eq(yg_value_str(e), "");
    yg_value_t *fromnull = yg_str_new(NULL);
    ck_assert_str_eq(yg_value_str(fromnull), "");
    char big[5000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    yg_value_t *bf = yg_str_newf("<%s>", big);
    ck_assert_uint_eq(yg_value_strlen(bf), sizeof big + 1);
    ck_assert_int_eq(yg_value_str(bf)[0], '<');
    ck_assert_int_eq(yg_value_str(bf)[sizeof big], '>');
    yg_value_destroy(&s);
    yg_value_destroy(&f);
    yg_value_destroy(&e);
    yg_value_destroy(&fromnull);
    yg_value_destroy(&bf);
}
END_TEST

START_TEST(test_list_basics)
{
    yg_value_t *l = yg_list_new();
    ck_assert_uint_eq(yg_list_size(l), 0);
    for (int k = 0; k < 1000; k++)
        ck_assert_int_eq(yg_list_append(l, yg_int_new(k)), YG_OK);
    ck_assert_uint_eq(yg_list_size(l), 1000);
    ck_assert_int_eq(yg_value_int(yg_list_get(l, 0)), 0);
    ck_assert_int_eq(yg_value_int(yg_list_get(l, 999)), 999);
    ck_assert_ptr_null(yg_list_get(l, 1000));
    ck_assert_int_eq(yg_list_set(l, 5, yg_str_new("five")), YG_OK);
    ck_assert_str_eq(yg_value_str(yg_list_get(l, 5)), "five");
    ck_assert_int_eq(yg_list_set(l, 1000, yg_str_new("end")), YG_OK); /* == size appends */
    ck_assert_uint_eq(yg_list_size(l), 1001);
    ck_assert_int_eq(yg_list_set(l, 5000, yg_int_new(1)), YG_EINVAL); /* item freed */
    ck_assert_int_eq(yg_list_append(l, NULL), YG_OK);                 /* NULL -> null */
    ck_assert_int_eq(yg_value_type(yg_list_get(l, 1001)), YG_NULL);
    ck_assert_ptr_nonnull(yg_list_get(l, 1001));

    yg_value_t *m = yg_map_new();
    ck_assert_int_eq(yg_list_append(m, yg_int_new(1)), YG_ETYPE); /* item freed */
    ck_assert_int_eq(yg_list_append(NULL, yg_int_new(1)), YG_EINVAL);
    ck_assert_uint_eq(yg_list_size(m), 0);
    ck_assert_ptr_null(yg_list_get(m, 0));
    yg_value_destroy(&m);
    yg_value_destroy(&l);
}
END_TEST

START_TEST(test_map_order_replace_remove)
{
    yg_value_t *m = yg_map_new();
    ck_assert_int_eq(yg_map_set(m, "b", yg_int_new(1)), YG_OK);
    ck_assert_int_eq(yg_map_set(m, "a", yg_int_new(2)), YG_OK);
    ck_assert_int_eq(yg_map_set(m, "c", yg_int_new(3)), YG_OK);
    ck_assert_uint_eq(yg_map_size(m), 3);
    ck_assert_str_eq(yg_map_key_at(m, 0), "b");
    ck_assert_str_eq(yg_map_key_at(m, 1), "a");
    ck_assert_str_eq(yg_map_key_at(m, 2), "c");
    ck_assert_uint_eq(yg_map_keylen_at(m, 2), 1);
    ck_assert_ptr_null(yg_map_key_at(m, 3));

    /* replace keeps position */
    ck_assert_int_eq(yg_map_set(m, "a", yg_str_new("new")), YG_OK);
    ck_assert_uint_eq(yg_map_size(m), 3);
    ck_assert_str_eq(yg_map_key_at(m, 1), "a");
    ck_assert_str_eq(yg_value_str(yg_map_value_at(m, 1)), "new");
    ck_assert_str_eq(yg_value_str(yg_map_get(m, "a")), "new");
    ck_assert(yg_map_has(m, "c"));
    ck_assert(!yg_map_has(m, "zz"));
    ck_assert_ptr_null(yg_map_get(m, "zz"));

    /* remove keeps the order of later keys */
    ck_assert_int_eq(yg_map_remove(m, "b"), YG_OK);
    ck_assert_int_eq(yg_map_remove(m, "b"), YG_ENOTFOUND);
    ck_assert_uint_eq(yg_map_size(m), 2);
    ck_assert_str_eq(yg_map_key_at(m, 0), "a");
    ck_assert_str_eq(yg_map_key_at(m, 1), "c");
    ck_assert_int_eq(yg_value_int(yg_map_get(m, "c")), 3);

    /* keys with NUL bytes and prefix keys are distinct */
    ck_assert_int_eq(yg_map_setn(m, "k\0x", 3, yg_int_new(10)), YG_OK);
    ck_assert_int_eq(yg_map_setn(m, "k", 1, yg_int_new(11)), YG_OK);
    ck_assert_int_eq(yg_value_int(yg_map_getn(m, "k\0x", 3)), 10);
    ck_assert_int_eq(yg_value_int(yg_map_get(m, "k")), 11);
    ck_assert_uint_eq(yg_map_keylen_at(m, 2), 3);

    /* NULL value stored as null */
    ck_assert_int_eq(yg_map_set(m, "nothing", NULL), YG_OK);
    ck_assert(yg_map_has(m, "nothing"));
    ck_assert_int_eq(yg_value_type(yg_map_get(m, "nothing")), YG_NULL);

    yg_value_t *l = yg_list_new();
    ck_assert_int_eq(yg_map_set(l, "x", yg_int_new(1)), YG_ETYPE);
    ck_assert_int_eq(yg_map_remove(l, "x"), YG_ETYPE);
    ck_assert_int_eq(yg_map_set(m, NULL, yg_int_new(1)), YG_EINVAL);
    ck_assert_uint_eq(yg_map_size(l), 0);
    yg_value_destroy(&l);
    yg_value_destroy(&m);
}
END_TEST

/* Check every key of a map built with keys "k<i>" maps to i and order holds. */
static void check_numbered_map(const yg_value_t *m, int n, int skip_mod)
{
    char key[32];
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        if (skip_mod && i % skip_mod == 0) {
            ck_assert_ptr_null(yg_map_get(m, key));
            continue;
        }
        ck_assert_int_eq(yg_value_int(yg_map_get(m, key)), i);
        ck_assert_str_eq(yg_map_key_at(m, pos), key);
        pos++;
    }
    ck_assert_uint_eq(yg_map_size(m), pos);
}

START_TEST(test_map_hash_index)
{
    char key[32];
    /* Around the threshold: 15..40 keys, lookups correct at every size. */
    for (int n = 15; n <= 40; n++) {
        yg_value_t *m = yg_map_new();
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof key, "k%d", i);
            ck_assert_int_eq(yg_map_set(m, key, yg_int_new(i)), YG_OK);
            check_numbered_map(m, i + 1, 0);
        }
        yg_value_destroy(&m);
    }
    /* 10,000 keys: insert, replace some, remove every 7th, look up all. */
    const int n = 10000;
    yg_value_t *m = yg_map_new();
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_int_eq(yg_map_set(m, key, yg_int_new(-1)), YG_OK);
    }
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_int_eq(yg_map_set(m, key, yg_int_new(i)), YG_OK);
    }
    ck_assert_uint_eq(yg_map_size(m), (size_t)n);
    check_numbered_map(m, n, 0);
    for (int i = 0; i < 700; i += 7) { /* removal rebuilds the index: keep it modest */
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_int_eq(yg_map_remove(m, key), YG_OK);
    }
    for (int i = 700; i < n; i += 7) {
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_int_eq(yg_map_remove(m, key), YG_OK);
    }
    check_numbered_map(m, n, 7);
    /* Shrink below the threshold by removal: lookups still right. */
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        if (i % 7 != 0 && i >= 5)
            ck_assert_int_eq(yg_map_remove(m, key), YG_OK);
    }
    ck_assert_uint_eq(yg_map_size(m), 4);
    ck_assert_int_eq(yg_value_int(yg_map_get(m, "k4")), 4);
    ck_assert_ptr_null(yg_map_get(m, "k5"));
    yg_value_destroy(&m);
}
END_TEST

static yg_value_t *make_nested(void)
{
    yg_value_t *root = yg_map_new();
    yg_value_t *inner = yg_map_new();
    yg_value_t *list = yg_list_new();
    yg_list_append(list, yg_int_new(1));
    yg_value_t *deep = yg_map_new();
    yg_map_set(deep, "c", yg_str_new("deep"));
    yg_list_append(list, deep);
    yg_map_set(inner, "b", list);
    yg_map_set(inner, "f", yg_float_new(0.5));
    yg_map_set(root, "a", inner);
    yg_map_set(root, "t", yg_bool_new(true));
    yg_map_set(root, "n", yg_null_new());
    return root;
}

START_TEST(test_copy_independent)
{
    yg_value_t *orig = make_nested();
    yg_value_t *copy = yg_value_copy(orig);
    ck_assert(yg_value_equal(orig, copy));
    /* modify the copy deep inside: the original must not change */
    yg_value_t *deep = yg_value_path(copy, "a.b.1", true);
    ck_assert_int_eq(yg_map_set(deep, "c", yg_str_new("changed")), YG_OK);
    ck_assert_str_eq(yg_value_str(yg_value_path(orig, "a.b.1.c", true)), "deep");
    ck_assert_str_eq(yg_value_str(yg_value_path(copy, "a.b.1.c", true)), "changed");
    ck_assert(!yg_value_equal(orig, copy));
    yg_value_t *nullcopy = yg_value_copy(NULL);
    ck_assert_ptr_nonnull(nullcopy);
    ck_assert_int_eq(yg_value_type(nullcopy), YG_NULL);
    yg_value_t *s = yg_str_newn("x\0y", 3);
    yg_value_t *scopy = yg_value_copy(s);
    ck_assert_uint_eq(yg_value_strlen(scopy), 3);
    ck_assert(yg_value_equal(s, scopy));
    yg_value_destroy(&s);
    yg_value_destroy(&scopy);
    yg_value_destroy(&nullcopy);
    yg_value_destroy(&orig);
    yg_value_destroy(&copy);
}
END_TEST

START_TEST(test_refcounts)
{
    yg_value_t *v = make_nested();
    yg_value_t *alias = yg_value_ref(v);
    ck_assert_ptr_eq(alias, v);
    ck_assert_ptr_null(yg_value_ref(NULL));
    yg_value_destroy(&alias); /* drops one reference, v still valid */
    ck_assert_ptr_null(alias);
    ck_assert_str_eq(yg_value_str(yg_value_path(v, "a.b.1.c", true)), "deep");
    /* share a child between two containers */
    yg_value_t *shared = yg_str_new("shared");
    yg_value_t *l1 = yg_list_new();
    yg_value_t *l2 = yg_list_new();
    yg_list_append(l1, yg_value_ref(shared));
    yg_list_append(l2, yg_value_ref(shared));
    yg_value_destroy(&shared);
    yg_value_destroy(&l1);
    ck_assert_str_eq(yg_value_str(yg_list_get(l2, 0)), "shared");
    yg_value_destroy(&l2);
    yg_value_destroy(&v); /* leak checkers confirm everything is freed */
}
END_TEST

START_TEST(test_equality)
{
    yg_value_t *i1 = yg_int_new(1), *f1 = yg_float_new(1.0), *f15 = yg_float_new(1.5);
    yg_value_t *t = yg_bool_new(true), *n = yg_null_new();
    yg_value_t *big = yg_int_new(9007199254740993LL); /* 2^53 + 1 */
    yg_value_t *bigf = yg_float_new(9007199254740992.0);
    yg_value_t *nan = yg_float_new(NAN);
    ck_assert(yg_value_equal(i1, f1));
    ck_assert(yg_value_equal(f1, i1));
    ck_assert(!yg_value_equal(i1, f15));
    ck_assert(!yg_value_equal(t, i1)); /* strict on bool vs number */
    ck_assert(!yg_value_equal(i1, t));
    ck_assert(!yg_value_equal(t, f1));
    ck_assert(!yg_value_equal(big, bigf)); /* exact, not via double */
    ck_assert(!yg_value_equal(nan, nan));
    ck_assert(yg_value_equal(n, NULL));
    ck_assert(yg_value_equal(NULL, NULL));
    ck_assert(!yg_value_equal(n, i1));

    yg_value_t *a = yg_map_new(), *b = yg_map_new();
    yg_map_set(a, "x", yg_int_new(1));
    yg_map_set(a, "y", yg_str_new("s"));
    yg_map_set(b, "y", yg_str_new("s"));
    yg_map_set(b, "x", yg_float_new(1.0));
    ck_assert(yg_value_equal(a, b)); /* order-insensitive, numeric */
    yg_map_set(b, "z", yg_null_new());
    ck_assert(!yg_value_equal(a, b));
    yg_map_remove(b, "z");
    yg_map_set(b, "y", yg_str_new("S"));
    ck_assert(!yg_value_equal(a, b));

    yg_value_t *l1 = yg_list_new(), *l2 = yg_list_new();
    yg_list_append(l1, yg_int_new(1));
    yg_list_append(l1, yg_int_new(2));
    yg_list_append(l2, yg_int_new(2));
    yg_list_append(l2, yg_int_new(1));
    ck_assert(!yg_value_equal(l1, l2)); /* lists are ordered */
    yg_value_t *s1 = yg_str_newn("a\0b", 3), *s2 = yg_str_newn("a\0c", 3);
    ck_assert(!yg_value_equal(s1, s2));
    ck_assert(!yg_value_equal(l1, a));

    yg_value_t *vals[] = {i1, f1, f15, t, n, big, bigf, nan, a, b, l1, l2, s1, s2};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++)
        yg_value_destroy(&vals[k]);
}
END_TEST

START_TEST(test_truthiness)
{
    struct {
        yg_value_t *v;
        bool expect;
    } cases[] = {
        {yg_null_new(), false},      {yg_bool_new(false), false}, {yg_bool_new(true), true},
        {yg_int_new(0), false},      {yg_int_new(-3), true},      {yg_float_new(0.0), false},
        {yg_float_new(-0.0), false}, {yg_float_new(0.1), true},   {yg_float_new(NAN), true},
        {yg_str_new(""), false},     {yg_str_new("0"), true},     {yg_list_new(), false},
        {yg_map_new(), false},
    };
    size_t count = sizeof cases / sizeof cases[0];
    for (size_t k = 0; k < count; k++)
        ck_assert_msg(yg_value_truthy(cases[k].v) == cases[k].expect, "case %zu", k);
    ck_assert(!yg_value_truthy(NULL));
    yg_value_t *l = yg_list_new();
    yg_list_append(l, yg_null_new());
    ck_assert(yg_value_truthy(l));
    yg_value_t *m = yg_map_new();
    yg_map_set(m, "k", yg_bool_new(false));
    ck_assert(yg_value_truthy(m));
    yg_value_destroy(&l);
    yg_value_destroy(&m);
    for (size_t k = 0; k < count; k++)
        yg_value_destroy(&cases[k].v);
}
END_TEST

START_TEST(test_path_lookup)
{
    yg_value_t *root = make_nested();
    ck_assert_str_eq(yg_value_str(yg_value_path(root, "a.b.1.c", true)), "deep");
    ck_assert_int_eq(yg_value_int(yg_value_path(root, "a.b.0", true)), 1);
    ck_assert_ptr_null(yg_value_path(root, "a.b.0", false)); /* list index off */
    ck_assert_ptr_null(yg_value_path(root, "a.b.1.c", false));
    ck_assert_ptr_null(yg_value_path(root, "a.b.2", true));  /* out of range */
    ck_assert_ptr_null(yg_value_path(root, "a.b.-1", true)); /* not an index */
    ck_assert_ptr_null(yg_value_path(root, "a.b.x", true));
    ck_assert_ptr_null(yg_value_path(root, "a.f.x", true)); /* walks into a scalar */
    ck_assert_ptr_null(yg_value_path(root, "missing", true));
    ck_assert_ptr_null(yg_value_path(root, "a.b.99999999999999999999999", true));
    ck_assert(yg_value_float(yg_value_path(root, "a.f", false)) == 0.5);
    ck_assert(yg_value_bool(yg_value_path(root, "t", false)));
    /* a present null is returned as a value, not as "missing" */
    ck_assert_ptr_nonnull(yg_value_path(root, "n", false));
    ck_assert_ptr_eq(yg_value_path(root, "", true), root);
    ck_assert_ptr_null(yg_value_path(NULL, "a", true));
    ck_assert_ptr_null(yg_value_path(root, NULL, true));
    /* a map key that looks like a number is found as a key */
    yg_value_t *m = yg_map_new();
    yg_map_set(m, "0", yg_str_new("zero"));
    ck_assert_str_eq(yg_value_str(yg_value_path(m, "0", false)), "zero");
    yg_value_destroy(&m);
    yg_value_destroy(&root);
}
END_TEST

START_TEST(test_limits_default)
{
    ck_assert_uint_eq(yg_limits_default.max_bytes, 64u * 1024u * 1024u);
    ck_assert_uint_eq(yg_limits_default.max_depth, 64u);
    ck_assert_uint_eq(yg_limits_default.max_elements, 4u * 1024u * 1024u);
    ck_assert_uint_eq(yg_limits_default.max_string, 16u * 1024u * 1024u);
}
END_TEST

START_TEST(test_many_small_maps)
{
    /* The W3 bench shape: a list of 100,000 small maps. */
    yg_value_t *l = yg_list_new();
    for (int i = 0; i < 100000; i++) {
        yg_value_t *m = yg_map_new();
        ck_assert_int_eq(yg_map_set(m, "id", yg_int_new(i)), YG_OK);
        ck_assert_int_eq(yg_map_set(m, "name", yg_str_newf("item-%d", i)), YG_OK);
        ck_assert_int_eq(yg_list_append(l, m), YG_OK);
    }
    ck_assert_uint_eq(yg_list_size(l), 100000);
    ck_assert_str_eq(yg_value_str(yg_value_path(l, "99999.name", true)), "item-99999");
    yg_value_destroy(&l);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("value");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scalars);
    tcase_add_test(tc, test_float_to_int_saturates);
    tcase_add_test(tc, test_strings_with_nul_and_format);
    tcase_add_test(tc, test_list_basics);
    tcase_add_test(tc, test_map_order_replace_remove);
    tcase_add_test(tc, test_map_hash_index);
    tcase_add_test(tc, test_copy_independent);
    tcase_add_test(tc, test_refcounts);
    tcase_add_test(tc, test_equality);
    tcase_add_test(tc, test_truthiness);
    tcase_add_test(tc, test_path_lookup);
    tcase_add_test(tc, test_limits_default);
    tcase_add_test(tc, test_many_small_maps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
