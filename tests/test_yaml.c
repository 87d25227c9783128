/*
 * test_yaml.c - the YAML tree: positions, errors, aliases, scalar conversion.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yg_sha256.h"
#include "yg_yaml.h"

static yg_ynode_t *load(const char *text, yg_error_t *err)
{
    yg_error_clear(err);
    return yg_yaml_load_string(text, strlen(text), "t.yaml", err);
}

START_TEST(positions_are_one_based)
{
    yg_error_t err = {0};
    yg_ynode_t *root = load("name: demo\nnodes:\n  a:\n    type: llm\n    tags: [x, 'y']\n", &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(root->kind, YG_YNODE_MAP);
    ck_assert_int_eq(root->count, 2);
    yg_ynode_t *k = yg_ynode_key(root, "nodes");
    ck_assert_int_eq(k->line, 2);
    ck_assert_int_eq(k->column, 1);
    yg_ynode_t *a = yg_ynode_get(yg_ynode_get(root, "nodes"), "a");
    yg_ynode_t *type = yg_ynode_get(a, "type");
    ck_assert_str_eq(type->text, "llm");
    ck_assert_int_eq(type->line, 4);
    ck_assert_int_eq(type->column, 11);
    yg_ynode_t *tags = yg_ynode_get(a, "tags");
    ck_assert_int_eq(tags->kind, YG_YNODE_SEQ);
    ck_assert_int_eq(tags->count, 2);
    ck_assert_int_eq(tags->items[1]->column, 15);
    ck_assert(tags->items[1]->quoted);
    ck_assert(!tags->items[0]->quoted);
    ck_assert_ptr_null(yg_ynode_get(root, "missing"));
    yg_ynode_destroy(&root);
    ck_assert_ptr_null(root);
}
END_TEST

START_TEST(block_scalar_text_position)
{
    yg_error_t err = {0};
    yg_ynode_t *root = load("system: |\n\n    Hello {name}\n    bye\nuser: \"hi\"\n", &err);
    ck_assert_ptr_nonnull(root);
    yg_ynode_t *sys = yg_ynode_get(root, "system");
    ck_assert(sys->block);
    ck_assert_int_eq(sys->line, 1);
    ck_assert_int_eq(sys->text_line, 3);
    ck_assert_int_eq(sys->text_column, 5);
    ck_assert_str_eq(sys->text, "\nHello {name}\nbye\n");
    yg_ynode_t *user = yg_ynode_get(root, "user");
    ck_assert_int_eq(user->text_line, 5);
    ck_assert_int_eq(user->text_column, 8);
    yg_ynode_destroy(&root);
}
END_TEST

START_TEST(duplicate_keys_report_second)
{
    yg_error_t err = {0};
    yg_ynode_t *root = load("a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\n", &err);
    ck_assert_ptr_null(root);
    ck_assert_int_eq(err.code, YG_EPARSE);
    ck_assert_int_eq(err.line, 5);
    ck_assert_int_eq(err.column, 3);
    ck_assert_ptr_nonnull(strstr(err.message, "duplicate key 'x'"));
    ck_assert_ptr_nonnull(strstr(err.message, "line 3"));
    ck_assert_str_eq(err.file, "t.yaml");

    /* three copies: the earliest second occurrence is reported */
    root = load("k: 1\nz: 0\nk: 2\nk: 3\n", &err);
    ck_assert_ptr_null(root);
    ck_assert_int_eq(err.line, 3);
}
END_TEST

START_TEST(syntax_error_position)
{
    yg_error_t err = {0};
    yg_ynode_t *root = load("a: 1\nb: [1, 2\nc: 3\n", &err);
    ck_assert_ptr_null(root);
    ck_assert_int_eq(err.code, YG_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.message, "YAML syntax error"));
    ck_assert_int_ge(err.line, 2);

    root = load("a: 1\n  b: 2\n", &err);
    ck_assert_ptr_null(root);
    ck_assert_int_eq(err.line, 2);
    ck_assert_int_eq(err.column, 4);
    ck_assert_ptr_nonnull(strstr(err.message, "mapping values are not allowed"));

    root = load("a: \"unterminated\n", &err);
    ck_assert_ptr_null(root);
    ck_assert_int_eq(err.code, YG_EPARSE);
}
END_TEST

START_TEST(structure_errors)
{
    yg_error_t err = {0};
    ck_assert_ptr_null(load("- a\n- b\n", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "must be a mapping"));
    ck_assert_int_eq(err.line, 1);

    ck_assert_ptr_null(load("", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "empty"));

    ck_assert_ptr_null(load("just text\n", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "must be a mapping"));

    ck_assert_ptr_null(load("a: 1\n---\nb: 2\n", &err));
    ck_assert_int_eq(err.line, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "second YAML document"));

    ck_assert_ptr_null(load("? [a, b]\n: 1\n", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "keys must be plain strings"));
    ck_assert_int_eq(err.line, 1);
    ck_assert_int_eq(err.column, 3);
}
END_TEST

START_TEST(aliases_expand)
{
    yg_error_t err = {0};
    yg_ynode_t *root = load("base: &b {x: 1, y: [2, 3]}\ncopy: *b\n", &err);
    ck_assert_ptr_nonnull(root);
    yg_ynode_t *copy = yg_ynode_get(root, "copy");
    ck_assert_int_eq(copy->kind, YG_YNODE_MAP);
    ck_assert_int_eq(copy->line, 2);
    ck_assert_str_eq(yg_ynode_get(copy, "x")->text, "1");
    ck_assert_int_eq(yg_ynode_get(copy, "y")->count, 2);
    /* a deep copy, not a shared pointer */
    ck_assert_ptr_ne(copy, yg_ynode_get(root, "base"));
    yg_ynode_destroy(&root);

    ck_assert_ptr_null(load("a: *nope\n", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "unknown alias"));
    /* an anchor cannot refer to itself: no cycles */
    ck_assert_ptr_null(load("a: &x [1, *x]\n", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "unknown alias"));
}
END_TEST

START_TEST(billion_laughs_is_bounded)
{
    /* 10 levels of 10x fan-out: 10^10 nodes if expanded */
    char text[4096];
    size_t off = (size_t)snprintf(text, sizeof text, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++)
        off += (size_t)snprintf(text + off, sizeof text - off,
                                "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, "
                                "*l%d]\n",
                                i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                                i - 1);
    yg_error_t err = {0};
    ck_assert_ptr_null(load(text, &err));
    ck_assert_int_eq(err.code, YG_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.message, "alias expansion"));
}
END_TEST

START_TEST(depth_is_bounded)
{
    size_t n = YG_YAML_MAX_DEPTH + 10;
    char *text = malloc(2 * n + 16);
    size_t off = 0;
    memcpy(text, "a: ", 3);
    off = 3;
    for (size_t i = 0; i < n; i++)
        text[off++] = '[';
    for (size_t i = 0; i < n; i++)
        text[off++] = ']';
    text[off] = '\0';
    yg_error_t err = {0};
    ck_assert_ptr_null(load(text, &err));
    ck_assert_int_eq(err.code, YG_ELIMIT);
    free(text);
}
END_TEST

START_TEST(size_limit)
{
    yg_error_t err = {0};
    size_t big = (size_t)YG_YAML_MAX_FILE_SIZE + 1;
    /* the limit is checked before parsing: the text is never read */
    ck_assert_ptr_null(yg_yaml_load_string("a: 1\n", big, "big.yaml", &err));
    ck_assert_int_eq(err.code, YG_ELIMIT);

    char path[512];
    snprintf(path, sizeof path, "%s/big.yaml", testutil_temp_dir());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, (long)big - 1, SEEK_SET), 0);
    fputc('\n', f);
    fclose(f);
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_yaml_load_file(path, &err));
    ck_assert_int_eq(err.code, YG_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.message, "limit"));
    remove(path);

    yg_error_clear(&err);
    ck_assert_ptr_null(yg_yaml_load_file("/nonexistent/x.yaml", &err));
    ck_assert_int_eq(err.code, YG_ENOTFOUND);
}
END_TEST

START_TEST(load_file_roundtrip)
{
    const char *path = testutil_write_temp("ok.yaml", "k: v\nn: 3\n");
    yg_error_t err = {0};
    yg_ynode_t *root = yg_yaml_load_file(path, &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(yg_ynode_get(root, "k")->text, "v");
    yg_ynode_destroy(&root);
}
END_TEST

START_TEST(scalar_conversion)
{
    yg_error_t err = {0};
    yg_ynode_t *root = load("n1: null\nn2: ~\nn3:\nn4: NULL\nb1: true\nb2: False\nb3: TRUE\n"
                           "i1: 42\ni2: -7\ni3: 0x1F\ni4: 0o17\ni5: +3\n"
                           "f1: 0.5\nf2: -1.5e3\nf3: .inf\nf4: -.Inf\nf5: .nan\nf6: 1e5\nf7: .5\n"
                           "s1: hello\ns2: '42'\ns3: \"true\"\ns4: yes\ns5: 1.2.3\ns6: 0x\n"
                           "s7: !!str 12\nbig: 99999999999999999999\n"
                           "l: [1, a, {k: 2}]\n",
                           &err);
    ck_assert_ptr_nonnull(root);
    yg_value_t *v = yg_ynode_to_value(root);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(yg_value_type(yg_map_get(v, "n1")), YG_NULL);
    ck_assert_int_eq(yg_value_type(yg_map_get(v, "n2")), YG_NULL);
    ck_assert_int_eq(yg_value_type(yg_map_get(v, "n3")), YG_NULL);
    ck_assert(yg_map_has(v, "n3"));
    ck_assert_int_eq(yg_value_type(yg_map_get(v, "n4")), YG_NULL);
    ck_assert(yg_value_bool(yg_map_get(v, "b1")));
    ck_assert_int_eq(yg_value_type(yg_map_get(v, "b2")), YG_BOOL);
    ck_assert(!yg_value_bool(yg_map_get(v, "b2")));
    ck_assert(yg_value_bool(yg_map_get(v, "b3")));
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "i1")), 42);
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "i2")), -7);
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "i3")), 31);
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "i4")), 15);
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "i5")), 3);
    ck_assert_int_eq(yg_value_type(yg_map_get(v, "i1")), YG_INT);
    ck_assert_int_eq(yg_value_type(yg_map_get(v, "f1")), YG_FLOAT);
    ck_assert_double_eq(yg_value_float(yg_map_get(v, "f1")), 0.5);
    ck_assert_double_eq(yg_value_float(yg_map_get(v, "f2")), -1500.0);
    ck_assert(isinf(yg_value_float(yg_map_get(v, "f3"))));
    ck_assert(yg_value_float(yg_map_get(v, "f4")) < 0);
    ck_assert(isnan(yg_value_float(yg_map_get(v, "f5"))));
    ck_assert_double_eq(yg_value_float(yg_map_get(v, "f6")), 1e5);
    ck_assert_double_eq(yg_value_float(yg_map_get(v, "f7")), 0.5);
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "s1")), "hello");
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "s2")), "42");
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "s3")), "true");
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "s4")), "yes"); /* YAML 1.2: not a bool */
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "s5")), "1.2.3");
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "s6")), "0x");
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "s7")), "12");
    ck_assert_int_eq(yg_value_type(yg_map_get(v, "big")), YG_FLOAT);
    yg_value_t *l = yg_map_get(v, "l");
    ck_assert_int_eq(yg_list_size(l), 3);
    ck_assert_int_eq(yg_value_int(yg_map_get(yg_list_get(l, 2), "k")), 2);
    yg_value_destroy(&v);

    long long i;
    double d;
    bool b;
    ck_assert(yg_ynode_as_int(yg_ynode_get(root, "i1"), &i) && i == 42);
    ck_assert(!yg_ynode_as_int(yg_ynode_get(root, "s2"), &i));
    ck_assert(!yg_ynode_as_int(yg_ynode_get(root, "f1"), &i));
    ck_assert(yg_ynode_as_number(yg_ynode_get(root, "i1"), &d) && d == 42.0);
    ck_assert(yg_ynode_as_number(yg_ynode_get(root, "f1"), &d) && d == 0.5);
    ck_assert(!yg_ynode_as_number(yg_ynode_get(root, "s1"), &d));
    ck_assert(yg_ynode_as_bool(yg_ynode_get(root, "b2"), &b) && !b);
    ck_assert(!yg_ynode_as_bool(yg_ynode_get(root, "s3"), &b));
    ck_assert(yg_ynode_is_null(yg_ynode_get(root, "n3")));
    ck_assert(!yg_ynode_is_null(yg_ynode_get(root, "l")));
    yg_ynode_destroy(&root);
}
END_TEST

START_TEST(utf8_and_emoji)
{
    yg_error_t err = {0};
    yg_ynode_t *root = load("msg: \"🔍 héllo\"\nnext: 1\n", &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(yg_ynode_get(root, "msg")->text, "🔍 héllo");
    ck_assert_int_eq(yg_ynode_key(root, "next")->line, 2);
    yg_ynode_destroy(&root);
}
END_TEST

START_TEST(sha256_vectors)
{
    uint8_t d[32];
    char hex[65];
    yg_sha256("", 0, d);
    yg_sha256_hex(d, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    yg_sha256("abc", 3, d);
    yg_sha256_hex(d, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    yg_sha256(m, strlen(m), d);
    yg_sha256_hex(d, hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* incremental updates give the same digest as one shot */
    yg_sha256_t ctx;
    yg_sha256_init(&ctx);
    for (size_t i = 0; i < strlen(m); i++)
        yg_sha256_update(&ctx, m + i, 1);
    uint8_t d2[32];
    yg_sha256_final(&ctx, d2);
    ck_assert_mem_eq(d, d2, 32);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("yaml");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, positions_are_one_based);
    tcase_add_test(tc, block_scalar_text_position);
    tcase_add_test(tc, duplicate_keys_report_second);
    tcase_add_test(tc, syntax_error_position);
    tcase_add_test(tc, structure_errors);
    tcase_add_test(tc, aliases_expand);
    tcase_add_test(tc, billion_laughs_is_bounded);
    tcase_add_test(tc, depth_is_bounded);
    tcase_add_test(tc, size_limit);
    tcase_add_test(tc, load_file_roundtrip);
    tcase_add_test(tc, scalar_conversion);
    tcase_add_test(tc, utf8_and_emoji);
    tcase_add_test(tc, sha256_vectors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
