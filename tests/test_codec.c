/*
 * test_codec.c - JSON, msgpack and Python text forms of values.
 *
 * Expected Python strings were produced with python3 (repr/str/json.dumps)
 * when the tests were written.
 */
#include "testutil.h"

#include "yamlgraph/yg_value.h"
#include "yg_msgpack.h"
#include "yg_pytext.h"
#include "yg_value_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deep equality that also requires identical types (yg_value_equal says
 * 1 == 1.0) and identical map key order. */
static bool strict_equal(const yg_value_t *a, const yg_value_t *b)
{
    if (yg_value_type(a) != yg_value_type(b))
        return false;
    switch (yg_value_type(a)) {
    case YG_FLOAT: {
        double x = yg_value_float(a), y = yg_value_float(b);
        return (isnan(x) && isnan(y)) || (x == y && signbit(x) == signbit(y));
    }
    case YG_LIST:
        if (yg_list_size(a) != yg_list_size(b))
            return false;
        for (size_t i = 0; i < yg_list_size(a); i++)
            if (!strict_equal(yg_list_get(a, i), yg_list_get(b, i)))
                return false;
        return true;
    case YG_MAP:
        if (yg_map_size(a) != yg_map_size(b))
            return false;
        for (size_t i = 0; i < yg_map_size(a); i++) {
            if (yg_map_keylen_at(a, i) != yg_map_keylen_at(b, i) ||
                memcmp(yg_map_key_at(a, i), yg_map_key_at(b, i), yg_map_keylen_at(a, i)) != 0 ||
                !strict_equal(yg_map_value_at(a, i), yg_map_value_at(b, i)))
                return false;
        }
        return true;
    default:
        return yg_value_equal(a, b);
    }
}

/* A document with every type, nesting, unicode and edge numbers. */
static yg_value_t *make_document(void)
{
    yg_value_t *doc = yg_map_new();
    yg_map_set(doc, "null", yg_null_new());
    yg_map_set(doc, "t", yg_bool_new(true));
    yg_map_set(doc, "f", yg_bool_new(false));
    yg_map_set(doc, "int", yg_int_new(42));
    yg_map_set(doc, "neg", yg_int_new(-7));
    yg_map_set(doc, "max", yg_int_new(INT64_MAX));
    yg_map_set(doc, "min", yg_int_new(INT64_MIN));
    yg_map_set(doc, "float", yg_float_new(0.1 + 0.2));
    yg_map_set(doc, "whole", yg_float_new(3.0));
    yg_map_set(doc, "tiny", yg_float_new(1e-300));
    yg_map_set(doc, "negzero", yg_float_new(-0.0));
    yg_map_set(doc, "str", yg_str_new("h\xc3\xa9llo \xf0\x9f\x98\x80 \"q\" \\ \n\t\x01"));
    yg_map_set(doc, "empty_str", yg_str_new(""));
    yg_map_set(doc, "empty_list", yg_list_new());
    yg_map_set(doc, "empty_map", yg_map_new());
    yg_value_t *list = yg_list_new();
    for (int i = 0; i < 5; i++) {
        yg_value_t *item = yg_map_new();
        yg_map_set(item, "i", yg_int_new(i));
        yg_value_t *inner = yg_list_new();
        yg_list_append(inner, yg_str_newf("x%d", i));
        yg_list_append(inner, yg_list_new());
        yg_map_set(item, "inner", inner);
        yg_list_append(list, item);
    }
    yg_map_set(doc, "list", list);
    yg_map_set(doc, "\xe2\x9c\x93 key", yg_int_new(1));
    return doc;
}

/* ===================================================================== */
/* JSON                                                                  */
/* ===================================================================== */

static yg_value_t *json(const char *text)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(text, strlen(text), NULL, &err);
    ck_assert_msg(v != NULL, "decode '%s' failed: %s", text, err.message);
    return v;
}

/* Decode text expecting failure with code at line:column. */
static void json_expect_error(const char *text, size_t len, const yg_limits_t *limits, int code,
                              int line, int column)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(text, len, limits, &err);
    ck_assert_msg(v == NULL, "'%s' decoded but should fail", text);
    ck_assert_msg(err.code == code, "'%s': code %s, want %s (%s)", text, yg_strerror(err.code),
                  yg_strerror(code), err.message);
    if (line) {
        ck_assert_msg(err.line == line && err.column == column, "'%s': at %d:%d, want %d:%d (%s)",
                      text, err.line, err.column, line, column, err.message);
    }
    ck_assert(err.message[0] != '\0');
}

static void json_expect_error_s(const char *text, int code, int line, int column)
{
    json_expect_error(text, strlen(text), NULL, code, line, column);
}

/* Compact encoding of a decoded text equals expected. */
static void json_reencodes_as(const char *text, const char *expected)
{
    yg_value_t *v = json(text);
    size_t len = 0;
    char *out = yg_json_encode(v, false, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, expected);
    ck_assert_uint_eq(len, strlen(expected));
    free(out);
    yg_value_destroy(&v);
}

START_TEST(test_json_roundtrip_document)
{
    yg_value_t *doc = make_document();
    for (int pretty = 0; pretty <= 1; pretty++) {
        size_t len = 0;
        char *text = yg_json_encode(doc, pretty, &len);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(len, strlen(text));
        yg_error_t err = {0};
        yg_value_t *back = yg_json_decode(text, len, NULL, &err);
        ck_assert_msg(back != NULL, "%s", err.message);
        ck_assert_msg(strict_equal(doc, back), "round trip differs: %s", text);
        free(text);
        yg_value_destroy(&back);
    }
    yg_value_destroy(&doc);
}
END_TEST

START_TEST(test_json_encode_exact)
{
    json_reencodes_as(" { \"a\" : [ 1 , 2.5 , true , false , null ] , \"b\" : { } , \"c\" : [ ] } ",
                      "{\"a\":[1,2.5,true,false,null],\"b\":{},\"c\":[]}");
    json_reencodes_as("[1.0, 1e-05, 1e16, 1E2, 0.1, -0.0, 100, 1.5e300]",
                      "[1.0,1e-05,1e+16,100.0,0.1,-0.0,100,1.5e+300]");
    /* escapes: control characters escaped, '/' and non-ASCII left as they are */
    json_reencodes_as("\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\\\/\\u00e9\\u007f\"",
                      "\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\xc3\xa9\x7f\"");
    /* duplicate key: first position, last value (like Python) */
    json_reencodes_as("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}");

    /* non-finite floats encode as null; NUL bytes as \u0000; bad UTF-8 as U+FFFD */
    yg_value_t *l = yg_list_new();
    yg_list_append(l, yg_float_new(INFINITY));
    yg_list_append(l, yg_float_new(-INFINITY));
    yg_list_append(l, yg_float_new(NAN));
    yg_list_append(l, yg_str_newn("a\0b", 3));
    yg_list_append(l, yg_str_new("x\xffy"));
    char *out = yg_json_encode(l, false, NULL);
    ck_assert_str_eq(out, "[null,null,null,\"a\\u0000b\",\"x\xef\xbf\xbdy\"]");
    free(out);
    yg_value_destroy(&l);

    /* NULL value encodes as null */
    out = yg_json_encode(NULL, false, NULL);
    ck_assert_str_eq(out, "null");
    free(out);
}
END_TEST

START_TEST(test_json_pretty_matches_python)
{
    /* python3: print(json.dumps({'a':[1,{'b':[]},{}],'c':'x'}, indent=2)) */
    yg_value_t *v = json("{\"a\":[1,{\"b\":[]},{}],\"c\":\"x\"}");
    char *out = yg_json_encode(v, true, NULL);
    ck_assert_str_eq(out, "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    },\n    {}\n  ],\n"
                          "  \"c\": \"x\"\n}");
    free(out);
    yg_value_destroy(&v);
    yg_value_t *e = yg_list_new();
    out = yg_json_encode(e, true, NULL);
    ck_assert_str_eq(out, "[]");
    free(out);
    yg_value_destroy(&e);
}
END_TEST

START_TEST(test_json_escapes_and_utf8)
{
    yg_value_t *v =
        json("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\u0000z\"");
    const char expect[] = "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z";
    ck_assert_uint_eq(yg_value_strlen(v), sizeof expect - 1);
    ck_assert(memcmp(yg_value_str(v), expect, sizeof expect - 1) == 0);
    yg_value_destroy(&v);
    /* raw UTF-8 passes through; emoji keys work */
    v = json("{\"\xf0\x9f\x98\x80\": \"\xe4\xb8\xad\xe6\x96\x87\"}");
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "\xf0\x9f\x98\x80")), "\xe4\xb8\xad\xe6\x96\x87");
    yg_value_destroy(&v);
    /* uppercase hex accepted */
    v = json("\"\\u00C9\\uD83D\\uDE00\"");
    ck_assert_str_eq(yg_value_str(v), "\xc3\x89\xf0\x9f\x98\x80");
    yg_value_destroy(&v);
}
END_TEST

START_TEST(test_json_numbers)
{
    struct {
        const char *text;
        yg_type_t type;
        double value;
    } cases[] = {
        {"0", YG_INT, 0},
        {"-0", YG_INT, 0},
        {"123", YG_INT, 123},
        {"-45", YG_INT, -45},
        {"1.5", YG_FLOAT, 1.5},
        {"1e2", YG_FLOAT, 100},
        {"1E+2", YG_FLOAT, 100},
        {"2.5e-3", YG_FLOAT, 0.0025},
        {"-0.0", YG_FLOAT, -0.0},
        {"1.0", YG_FLOAT, 1.0},
        {"9223372036854775808", YG_FLOAT, 9223372036854775808.0},
        {"1e999", YG_FLOAT, INFINITY},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        yg_value_t *v = json(cases[k].text);
        ck_assert_msg(yg_value_type(v) == cases[k].type, "%s: type %s", cases[k].text,
                      yg_type_name(yg_value_type(v)));
        ck_assert_msg(yg_value_float(v) == cases[k].value, "%s", cases[k].text);
        yg_value_destroy(&v);
    }
    yg_value_t *v = json("9223372036854775807");
    ck_assert(yg_value_int(v) == INT64_MAX);
    yg_value_destroy(&v);
    v = json("-9223372036854775808");
    ck_assert(yg_value_type(v) == YG_INT && yg_value_int(v) == INT64_MIN);
    yg_value_destroy(&v);
    v = json("[NaN, Infinity, -Infinity]"); /* accepted like Python json.loads */
    ck_assert(isnan(yg_value_float(yg_list_get(v, 0))));
    ck_assert(yg_value_float(yg_list_get(v, 1)) == INFINITY);
    ck_assert(yg_value_float(yg_list_get(v, 2)) == -INFINITY);
    yg_value_destroy(&v);
    /* a long number goes through the heap copy */
    char longnum[300];
    memset(longnum, '1', sizeof longnum - 1);
    longnum[sizeof longnum - 1] = '\0';
    longnum[1] = '.';
    v = json(longnum);
    ck_assert(fabs(yg_value_float(v) - 1.1111111111111112) < 1e-15);
    yg_value_destroy(&v);
}
END_TEST

START_TEST(test_json_errors_with_position)
{
    json_expect_error_s("{\"a\": \"abc", YG_EPARSE, 1, 7); /* unterminated string */
    json_expect_error_s("[1, 2,]", YG_EPARSE, 1, 7);       /* trailing comma */
    json_expect_error_s("{\"a\":1,}", YG_EPARSE, 1, 8);
    json_expect_error_s("\"ab\\q\"", YG_EPARSE, 1, 4); /* bad escape */
    json_expect_error_s("\"a\xff\"", YG_EPARSE, 1, 3); /* invalid UTF-8 */
    json_expect_error_s("[01]", YG_EPARSE, 1, 2);      /* leading zero */
    json_expect_error_s("{\n  \"a\": 01\n}", YG_EPARSE, 2, 8);
    json_expect_error_s("\"\xc3\xa9\" x", YG_EPARSE, 1, 5); /* column counts chars */
    json_expect_error_s("[1,\n2,\n\n  x]", YG_EPARSE, 4, 3);
    json_expect_error_s("", YG_EPARSE, 1, 1);
    json_expect_error_s("   ", YG_EPARSE, 1, 4);
    json_expect_error_s("tru", YG_EPARSE, 1, 1);
    json_expect_error_s("nul", YG_EPARSE, 1, 1);
    json_expect_error_s("[1 2]", YG_EPARSE, 1, 4);
    json_expect_error_s("{\"a\" 1}", YG_EPARSE, 1, 6);
    json_expect_error_s("{1: 2}", YG_EPARSE, 1, 2);
    json_expect_error_s("[1,", YG_EPARSE, 1, 4);
    json_expect_error_s("[1", YG_EPARSE, 1, 3);
    json_expect_error_s("{\"a\":1", YG_EPARSE, 1, 7);
    json_expect_error_s("\"\\u12\"", YG_EPARSE, 1, 6);
    json_expect_error_s("\"\\ud800\"", YG_EPARSE, 1, 2);          /* lone high surrogate */
    json_expect_error_s("\"\\udc00\"", YG_EPARSE, 1, 2);          /* lone low surrogate */
    json_expect_error_s("\"\\ud800\\u0041\"", YG_EPARSE, 1, 2);   /* high + non-low */
    json_expect_error_s("\"a\nb\"", YG_EPARSE, 1, 3);             /* raw control char */
    json_expect_error_s("\"\xc0\xaf\"", YG_EPARSE, 1, 2);         /* overlong */
    json_expect_error_s("\"\xed\xa0\x80\"", YG_EPARSE, 1, 2);     /* UTF-8 surrogate */
    json_expect_error_s("\"\xf4\x90\x80\x80\"", YG_EPARSE, 1, 2); /* above U+10FFFF */
    json_expect_error_s("\"\xe2\x82\"", YG_EPARSE, 1, 2);         /* truncated sequence */
    json_expect_error_s("1.", YG_EPARSE, 1, 3);
    json_expect_error_s("1e", YG_EPARSE, 1, 3);
    json_expect_error_s("-", YG_EPARSE, 1, 2);
    json_expect_error_s("+1", YG_EPARSE, 1, 1);
    json_expect_error_s(".5", YG_EPARSE, 1, 1);
    json_expect_error_s("\xef\xbb\xbf{}", YG_EPARSE, 1, 1); /* BOM */
    json_expect_error_s("[1] [2]", YG_EPARSE, 1, 5);
    json_expect_error_s("'a'", YG_EPARSE, 1, 1);
    /* the input need not be NUL-terminated: only len bytes are read */
    json_expect_error("[1]", 2, NULL, YG_EPARSE, 1, 3);
    /* an embedded NUL is not the end of input */
    json_expect_error("[1]\0", 4, NULL, YG_EPARSE, 1, 4);
}
END_TEST

/* Decode under limits and expect success. */
static void json_ok_under(const char *text, const yg_limits_t *lim)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(text, strlen(text), lim, &err);
    ck_assert_msg(v != NULL, "'%s': %s", text, err.message);
    yg_value_destroy(&v);
}

static void json_limit_error(const char *text, const yg_limits_t *lim)
{
    json_expect_error(text, strlen(text), lim, YG_ELIMIT, 0, 0);
}

START_TEST(test_json_each_limit)
{
    yg_limits_t lim = yg_limits_default;
    lim.max_bytes = 7;
    json_ok_under("[1,2,3]", &lim);
    json_limit_error("[1,2,3] ", &lim);

    lim = yg_limits_default;
    lim.max_depth = 3;
    json_ok_under("[[[1]]]", &lim);
    json_ok_under("{\"a\":{\"b\":[1]}}", &lim);
    json_limit_error("[[[[1]]]]", &lim);
    json_limit_error("{\"a\":{\"b\":{\"c\":{}}}}", &lim);

    lim = yg_limits_default;
    lim.max_elements = 4;
    json_ok_under("[1,2,3,4]", &lim);
    json_ok_under("{\"a\":1,\"b\":[1,2]}", &lim); /* 2 entries + 2 items */
    json_limit_error("[1,2,3,4,5]", &lim);
    json_limit_error("{\"a\":1,\"b\":[1,2,3]}", &lim);
    json_limit_error("[[1,2],[3]]", &lim);

    lim = yg_limits_default;
    lim.max_string = 5;
    json_ok_under("[\"abcde\"]", &lim);
    json_limit_error("[\"abcdef\"]", &lim);
    json_limit_error("{\"abcdef\":1}", &lim);            /* keys too */
    json_ok_under("\"\\u00e9\\u00e9\"", &lim);           /* 4 decoded bytes */
    json_limit_error("\"\\u00e9\\u00e9\\u00e9\"", &lim); /* 6 decoded bytes */

    /* the error for a limit names the position */
    yg_error_t err = {0};
    lim = yg_limits_default;
    lim.max_depth = 1;
    ck_assert_ptr_null(yg_json_decode("[\n [1]]", 7, &lim, &err));
    ck_assert_int_eq(err.code, YG_ELIMIT);
    ck_assert_int_eq(err.line, 2);
    ck_assert_int_eq(err.column, 2);
}
END_TEST

START_TEST(test_json_deep_nesting_no_crash)
{
    /* 200,000 '[' with default limits: rejected at depth 65, no stack overflow. */
    size_t n = 200000;
    char *text = malloc(n);
    memset(text, '[', n);
    yg_error_t err = {0};
    ck_assert_ptr_null(yg_json_decode(text, n, NULL, &err));
    ck_assert_int_eq(err.code, YG_ELIMIT);
    ck_assert_int_eq(err.column, (int)YG_LIMIT_DEFAULT_DEPTH + 1);
    /* exactly the default depth is fine */
    size_t d = YG_LIMIT_DEFAULT_DEPTH;
    memset(text, '[', d);
    memset(text + d, ']', d);
    yg_value_t *v = yg_json_decode(text, 2 * d, NULL, &err);
    ck_assert_ptr_nonnull(v);
    yg_value_destroy(&v);
    /* a configured depth above the hard ceiling still cannot blow the stack */
    yg_limits_t lim = yg_limits_default;
    lim.max_depth = SIZE_MAX;
    memset(text, '[', n);
    ck_assert_ptr_null(yg_json_decode(text, n, &lim, &err));
    ck_assert_int_eq(err.code, YG_ELIMIT);
    free(text);
}
END_TEST

START_TEST(test_encoders_refuse_too_deep)
{
    yg_value_t *v = yg_null_new();
    for (int i = 0; i < YG_VALUE_MAX_DEPTH + 5; i++) {
        yg_value_t *outer = yg_list_new();
        yg_list_append(outer, v);
        v = outer;
    }
    ck_assert_ptr_null(yg_json_encode(v, false, NULL));
    ck_assert_ptr_null(yg_json_encode_python(v));
    ck_assert_ptr_null(yg_pytext_str(v));
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_msgpack_encode(v, &data, &size), YG_ELIMIT);
    ck_assert_ptr_null(data);
    yg_value_destroy(&v);
}
END_TEST

START_TEST(test_json_long_keys)
{
    char key[300];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    yg_value_t *m = yg_map_new();
    yg_map_set(m, key, yg_str_new("long"));
    key[70] = '\0';
    yg_map_set(m, key, yg_int_new(70));
    char *text = yg_json_encode(m, false, NULL);
    yg_value_t *back = json(text);
    ck_assert(strict_equal(m, back));
    free(text);
    yg_value_destroy(&back);
    yg_value_destroy(&m);
}
END_TEST

START_TEST(test_json_mutation_fuzz)
{
    /* Every truncation and many byte mutations of a valid document either
     * decode or fail cleanly (sanitizers and valgrind check memory). */
    yg_value_t *doc = make_document();
    size_t len = 0;
    char *text = yg_json_encode(doc, true, &len);
    yg_value_destroy(&doc);
    for (size_t cut = 0; cut < len; cut++) {
        yg_error_t err = {0};
        yg_value_t *v = yg_json_decode(text, cut, NULL, &err);
        ck_assert_msg(v == NULL || cut >= len - 1, "truncated at %zu decoded", cut);
        if (!v)
            ck_assert_int_eq(err.code, YG_EPARSE);
        yg_value_destroy(&v);
    }
    char *copy = malloc(len);
    unsigned seed = 12345;
    const char noise[] = "{}[]\",:\\u0123456789eE+-.tfnxNI \n\xff\xc3\x80";
    for (int round = 0; round < 5000; round++) {
        memcpy(copy, text, len);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            copy[at] = noise[(seed >> 8) % (sizeof noise - 1)];
        }
        yg_error_t err = {0};
        yg_value_t *v = yg_json_decode(copy, len, NULL, &err);
        if (!v)
            ck_assert(err.code == YG_EPARSE && err.line >= 1 && err.column >= 1);
        yg_value_destroy(&v);
    }
    free(copy);
    free(text);
}
END_TEST

START_TEST(test_json_python_dumps)
{
    /* python3: json.dumps({'a':'é😀','b':[1,2.0,None,True],'c':'\n\x01"','d':float('nan')}) */
    yg_value_t *v = yg_map_new();
    yg_map_set(v, "a", yg_str_new("\xc3\xa9\xf0\x9f\x98\x80"));
    yg_value_t *b = yg_list_new();
    yg_list_append(b, yg_int_new(1));
    yg_list_append(b, yg_float_new(2.0));
    yg_list_append(b, yg_null_new());
    yg_list_append(b, yg_bool_new(true));
    yg_map_set(v, "b", b);
    yg_map_set(v, "c", yg_str_new("\n\x01\""));
    yg_map_set(v, "d", yg_float_new(NAN));
    char *out = yg_json_encode_python(v);
    ck_assert_str_eq(out, "{\"a\": \"\\u00e9\\ud83d\\ude00\", \"b\": [1, 2.0, null, true], "
                          "\"c\": \"\\n\\u0001\\\"\", \"d\": NaN}");
    free(out);
    yg_value_destroy(&v);
    /* python3: json.dumps('x'), json.dumps([float('inf'), -float('inf')]), json.dumps({}) */
    yg_value_t *s = yg_str_new("x");
    out = yg_json_encode_python(s);
    ck_assert_str_eq(out, "\"x\"");
    free(out);
    yg_value_destroy(&s);
    yg_value_t *l = yg_list_new();
    yg_list_append(l, yg_float_new(INFINITY));
    yg_list_append(l, yg_float_new(-INFINITY));
    out = yg_json_encode_python(l);
    ck_assert_str_eq(out, "[Infinity, -Infinity]");
    free(out);
    yg_value_destroy(&l);
    yg_value_t *m = yg_map_new();
    out = yg_json_encode_python(m);
    ck_assert_str_eq(out, "{}");
    free(out);
    yg_value_destroy(&m);
}
END_TEST

/* ===================================================================== */
/* msgpack                                                               */
/* ===================================================================== */

static yg_value_t *mp_roundtrip(const yg_value_t *v)
{
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_msgpack_encode(v, &data, &size), YG_OK);
    yg_error_t err = {0};
    yg_value_t *back = yg_msgpack_decode(data, size, NULL, &err);
    ck_assert_msg(back != NULL, "%s", err.message);
    free(data);
    return back;
}

/* Decode bytes expecting an error code. */
static void mp_expect_error(const char *data, size_t size, const yg_limits_t *lim, int code)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_msgpack_decode(data, size, lim, &err);
    ck_assert_msg(v == NULL, "decoded but should fail");
    ck_assert_msg(err.code == code, "code %s, want %s (%s)", yg_strerror(err.code),
                  yg_strerror(code), err.message);
    ck_assert(strncmp(err.message, "msgpack: ", 9) == 0);
}

static yg_value_t *mp_decode_ok(const char *data, size_t size)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_msgpack_decode(data, size, NULL, &err);
    ck_assert_msg(v != NULL, "%s", err.message);
    return v;
}

START_TEST(test_msgpack_roundtrip_types)
{
    yg_value_t *doc = make_document();
    yg_value_t *back = mp_roundtrip(doc);
    ck_assert(strict_equal(doc, back));
    yg_value_destroy(&back);
    yg_value_destroy(&doc);

    /* integers at every encoding boundary */
    const int64_t ints[] = {
        0,         1,  127, 128, 255,  256,  65535,  65536,  4294967295LL,  4294967296LL,
        INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL,
        INT64_MIN};
    yg_value_t *l = yg_list_new();
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        yg_list_append(l, yg_int_new(ints[k]));
    const double floats[] = {0.0, -0.0, 1.5, -2.25, 1e-300, 1e300, 0.1 + 0.2, INFINITY};
    for (size_t k = 0; k < sizeof floats / sizeof floats[0]; k++)
        yg_list_append(l, yg_float_new(floats[k]));
    yg_list_append(l, yg_float_new(NAN));
    yg_list_append(l, yg_str_newn("nul\0inside", 10));
    back = mp_roundtrip(l);
    ck_assert(strict_equal(l, back));
    yg_value_destroy(&back);
    yg_value_destroy(&l);

    /* long strings and many map keys use the 16/32-bit forms */
    size_t big = 70000;
    char *s = malloc(big);
    memset(s, 'q', big);
    yg_value_t *m = yg_map_new();
    yg_map_setn(m, s, 300, yg_str_newn(s, big));
    for (int i = 0; i < 70000; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", i);
        yg_map_set(m, key, yg_int_new(i));
    }
    back = mp_roundtrip(m);
    ck_assert(strict_equal(m, back));
    yg_value_destroy(&back);
    yg_value_destroy(&m);
    free(s);
}
END_TEST

START_TEST(test_msgpack_big_list)
{
    yg_value_t *l = yg_list_new();
    for (int i = 0; i < 100000; i++)
        yg_list_append(l, i % 2 ? yg_int_new(i) : yg_str_newf("s%d", i));
    yg_value_t *back = mp_roundtrip(l);
    ck_assert_uint_eq(yg_list_size(back), 100000);
    ck_assert(strict_equal(l, back));
    yg_value_destroy(&back);
    yg_value_destroy(&l);
}
END_TEST

START_TEST(test_msgpack_known_bytes)
{
    struct {
        yg_value_t *v;
        const char *bytes;
        size_t size;
    } cases[] = {
        {yg_int_new(1), "\x01", 1},
        {yg_int_new(-1), "\xff", 1},
        {yg_int_new(200), "\xcc\xc8", 2},
        {yg_int_new(-200), "\xd1\xff\x38", 3},
        {yg_float_new(1.5), "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", 9},
        {yg_str_new("a"), "\xa1\x61", 2},
        {yg_null_new(), "\xc0", 1},
        {yg_bool_new(true), "\xc3", 1},
        {yg_list_new(), "\x90", 1},
        {yg_map_new(), "\x80", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *data = NULL;
        size_t size = 0;
        ck_assert_int_eq(yg_msgpack_encode(cases[k].v, &data, &size), YG_OK);
        ck_assert_uint_eq(size, cases[k].size);
        ck_assert_msg(memcmp(data, cases[k].bytes, size) == 0, "case %zu", k);
        free(data);
        yg_value_destroy(&cases[k].v);
    }
    yg_value_t *m = yg_map_new();
    yg_map_set(m, "a", NULL);
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_msgpack_encode(m, &data, &size), YG_OK);
    ck_assert_uint_eq(size, 4);
    ck_assert(memcmp(data, "\x81\xa1\x61\xc0", 4) == 0);
    free(data);
    yg_value_destroy(&m);
}
END_TEST

START_TEST(test_msgpack_decode_foreign_forms)
{
    /* forms our encoder never writes but other encoders do */
    yg_value_t *v = mp_decode_ok("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9); /* uint64 max */
    ck_assert_int_eq(yg_value_type(v), YG_FLOAT);
    ck_assert(yg_value_float(v) == 18446744073709551615.0);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 9);
    ck_assert(yg_value_type(v) == YG_INT && yg_value_int(v) == INT64_MAX);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xca\x3f\xc0\x00\x00", 5); /* float32 1.5 */
    ck_assert(yg_value_type(v) == YG_FLOAT && yg_value_float(v) == 1.5);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xc4\x03\x61\x62\xff", 5); /* bin8: raw bytes as a string */
    ck_assert_uint_eq(yg_value_strlen(v), 3);
    ck_assert(memcmp(yg_value_str(v), "ab\xff", 3) == 0);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xd0\x80", 2);
    ck_assert_int_eq(yg_value_int(v), -128);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xd1\xff\x7f", 3);
    ck_assert_int_eq(yg_value_int(v), -129);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xd2\x80\x00\x00\x00", 5);
    ck_assert_int_eq(yg_value_int(v), -2147483648LL);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9);
    ck_assert(yg_value_int(v) == INT64_MIN);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xd3\xff\xff\xff\xff\xff\xff\xff\xfe", 9);
    ck_assert_int_eq(yg_value_int(v), -2);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xd9\x02hi", 4); /* str8 */
    ck_assert_str_eq(yg_value_str(v), "hi");
    yg_value_destroy(&v);
    v = mp_decode_ok("\xdc\x00\x02\x01\xc2", 5); /* array16 [1, false] */
    ck_assert_uint_eq(yg_list_size(v), 2);
    ck_assert_int_eq(yg_value_type(yg_list_get(v, 1)), YG_BOOL);
    yg_value_destroy(&v);
    v = mp_decode_ok("\xde\x00\x01\xc4\x01k\x07", 7); /* map16 with a bin key */
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "k")), 7);
    yg_value_destroy(&v);
    v = mp_decode_ok("\x82\xa1k\x01\xa1k\x02", 7); /* repeated key: last value wins */
    ck_assert_uint_eq(yg_map_size(v), 1);
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "k")), 2);
    yg_value_destroy(&v);
}
END_TEST

START_TEST(test_msgpack_hostile)
{
    /* claimed sizes far beyond the input: rejected before any allocation */
    mp_expect_error("\xdd\xff\xff\xff\xff", 5, NULL, YG_ELIMIT); /* > max_elements */
    mp_expect_error("\xdf\xff\xff\xff\xff", 5, NULL, YG_ELIMIT);
    mp_expect_error("\xdd\x00\x10\x00\x00", 5, NULL, YG_EPARSE); /* 1 Mi items, 0 bytes */
    mp_expect_error("\xdf\x00\x00\x00\x03\xa1k\x01", 8, NULL, YG_EPARSE);
    mp_expect_error("\xdb\xff\xff\xff\xff", 5, NULL, YG_ELIMIT); /* > max_string */
    mp_expect_error("\xdb\x00\x10\x00\x00", 5, NULL, YG_EPARSE); /* 1 MiB claimed, 0 given */
    mp_expect_error("\xc6\x00\x10\x00\x00xy", 7, NULL, YG_EPARSE);
    yg_limits_t lim = yg_limits_default;
    lim.max_elements = SIZE_MAX;
    lim.max_string = SIZE_MAX;
    mp_expect_error("\xdd\xff\xff\xff\xff", 5, &lim, YG_EPARSE);
    mp_expect_error("\xdb\xff\xff\xff\xff", 5, &lim, YG_EPARSE);

    /* truncated, trailing, unsupported */
    mp_expect_error("", 0, NULL, YG_EPARSE);
    mp_expect_error("\xcb\x3f\xf8", 3, NULL, YG_EPARSE);
    mp_expect_error("\x92\x01", 2, NULL, YG_EPARSE);
    mp_expect_error("\x01\x02", 2, NULL, YG_EPARSE);         /* trailing bytes */
    mp_expect_error("\xd4\x01\x00", 3, NULL, YG_EPARSE);     /* fixext */
    mp_expect_error("\xc7\x01\x05\x00", 4, NULL, YG_EPARSE); /* ext8 */
    mp_expect_error("\xc1", 1, NULL, YG_EPARSE);             /* never used */
    mp_expect_error("\x81\x01\x01", 3, NULL, YG_EPARSE);     /* int key */
    mp_expect_error("\x81\xc0\x01", 3, NULL, YG_EPARSE);     /* nil key */
    mp_expect_error("\xa2\xc3\x28", 3, NULL, YG_EPARSE);     /* invalid UTF-8 str */
    mp_expect_error("\xa3\xed\xa0\x80", 4, NULL, YG_EPARSE); /* UTF-8 surrogate */
    mp_expect_error("\x81\xa1\xff\x01", 4, NULL, YG_EPARSE); /* invalid UTF-8 key */

    /* deep nesting: 100,000 nested one-element arrays */
    size_t n = 100000;
    char *deep = malloc(n + 1);
    memset(deep, '\x91', n);
    deep[n] = '\xc0';
    mp_expect_error(deep, n + 1, NULL, YG_ELIMIT);
    /* a configured depth above the hard ceiling still cannot blow the stack */
    lim = yg_limits_default;
    lim.max_depth = SIZE_MAX;
    mp_expect_error(deep, n + 1, &lim, YG_ELIMIT);
    /* exactly the depth limit is fine */
    yg_value_t *v = mp_decode_ok(deep + n - YG_LIMIT_DEFAULT_DEPTH, YG_LIMIT_DEFAULT_DEPTH + 1);
    ck_assert_int_eq(yg_value_type(v), YG_LIST);
    yg_value_destroy(&v);
    free(deep);
}
END_TEST

START_TEST(test_msgpack_each_limit)
{
    yg_value_t *l = yg_list_new();
    yg_list_append(l, yg_str_new("hello"));
    yg_list_append(l, yg_int_new(1));
    yg_list_append(l, yg_list_new());
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_msgpack_encode(l, &data, &size), YG_OK);
    yg_value_destroy(&l);
    yg_error_t err = {0};

    yg_limits_t lim = yg_limits_default;
    lim.max_bytes = size;
    yg_value_t *v = yg_msgpack_decode(data, size, &lim, &err);
    ck_assert_ptr_nonnull(v);
    yg_value_destroy(&v);
    lim.max_bytes = size - 1;
    mp_expect_error(data, size, &lim, YG_ELIMIT);

    lim = yg_limits_default;
    lim.max_depth = 1;
    mp_expect_error(data, size, &lim, YG_ELIMIT);
    lim.max_depth = 2;
    v = yg_msgpack_decode(data, size, &lim, &err);
    ck_assert_ptr_nonnull(v);
    yg_value_destroy(&v);

    lim = yg_limits_default;
    lim.max_elements = 2;
    mp_expect_error(data, size, &lim, YG_ELIMIT);

    lim = yg_limits_default;
    lim.max_string = 4;
    mp_expect_error(data, size, &lim, YG_ELIMIT);
    mp_expect_error("\x81\xa5hello\x01", 8, &lim, YG_ELIMIT); /* keys too */
    free(data);
}
END_TEST

START_TEST(test_msgpack_prefix_and_packer)
{
    /* build a frame of two objects with a caller-owned packer */
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    yg_value_t *a = make_document();
    yg_value_t *b = yg_str_new("second");
    ck_assert_int_eq(yg_msgpack_pack_value(&pk, a), YG_OK);
    size_t first_size = sbuf.size;
    ck_assert_int_eq(yg_msgpack_pack_value(&pk, b), YG_OK);
    ck_assert_int_eq(yg_msgpack_pack_value(NULL, b), YG_EINVAL);

    size_t used = 0;
    yg_error_t err = {0};
    yg_value_t *a2 = yg_msgpack_decode_prefix(sbuf.data, sbuf.size, &used, NULL, &err);
    ck_assert_ptr_nonnull(a2);
    ck_assert_uint_eq(used, first_size);
    ck_assert(strict_equal(a, a2));
    size_t used2 = 0;
    yg_value_t *b2 =
        yg_msgpack_decode_prefix(sbuf.data + used, sbuf.size - used, &used2, NULL, &err);
    ck_assert_ptr_nonnull(b2);
    ck_assert_uint_eq(used + used2, sbuf.size);
    ck_assert_str_eq(yg_value_str(b2), "second");
    /* the whole-buffer decoder rejects the frame: trailing bytes */
    mp_expect_error(sbuf.data, sbuf.size, NULL, YG_EPARSE);
    /* max_bytes bounds the object, not the buffer it sits in */
    yg_limits_t lim = yg_limits_default;
    lim.max_bytes = used2;
    yg_value_t *b3 =
        yg_msgpack_decode_prefix(sbuf.data + used, sbuf.size - used, &used2, &lim, &err);
    ck_assert_ptr_nonnull(b3);
    lim.max_bytes = first_size - 1;
    ck_assert_ptr_null(yg_msgpack_decode_prefix(sbuf.data, sbuf.size, &used, &lim, &err));
    ck_assert_int_eq(err.code, YG_ELIMIT);
    ck_assert_uint_eq(used, 0);
    /* truncated prefix */
    ck_assert_ptr_null(yg_msgpack_decode_prefix(sbuf.data, first_size - 1, &used, NULL, &err));
    ck_assert_int_eq(err.code, YG_EPARSE);

    yg_value_destroy(&a);
    yg_value_destroy(&a2);
    yg_value_destroy(&b);
    yg_value_destroy(&b2);
    yg_value_destroy(&b3);
    msgpack_sbuffer_destroy(&sbuf);
}
END_TEST

START_TEST(test_msgpack_fuzz)
{
    yg_value_t *doc = make_document();
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_msgpack_encode(doc, &data, &size), YG_OK);
    yg_value_destroy(&doc);
    /* every truncation fails cleanly */
    for (size_t cut = 0; cut < size; cut++) {
        yg_error_t err = {0};
        yg_value_t *v = yg_msgpack_decode(data, cut, NULL, &err);
        ck_assert_msg(v == NULL, "truncated at %zu decoded", cut);
        ck_assert_int_eq(err.code, YG_EPARSE);
    }
    /* random mutations and random buffers never crash */
    char *copy = malloc(size);
    unsigned seed = 777;
    for (int round = 0; round < 20000; round++) {
        memcpy(copy, data, size);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % size;
            seed = seed * 1103515245u + 12345u;
            copy[at] = (char)(seed >> 16);
        }
        yg_error_t err = {0};
        yg_value_t *v = yg_msgpack_decode(copy, size, NULL, &err);
        if (!v)
            ck_assert(err.code == YG_EPARSE || err.code == YG_ELIMIT);
        yg_value_destroy(&v);
    }
    char random_bytes[64];
    for (int round = 0; round < 20000; round++) {
        for (size_t k = 0; k < sizeof random_bytes; k++) {
            seed = seed * 1103515245u + 12345u;
            random_bytes[k] = (char)(seed >> 16);
        }
        yg_error_t err = {0};
        size_t used;
        yg_value_t *v =
            yg_msgpack_decode_prefix(random_bytes, sizeof random_bytes, &used, NULL, &err);
        if (v)
            ck_assert(used >= 1 && used <= sizeof random_bytes);
        yg_value_destroy(&v);
    }
    free(copy);
    free(data);
}
END_TEST

/* ===================================================================== */
/* Python text forms                                                     */
/* ===================================================================== */

static void check_str_form(yg_value_t *v, const char *expect_str, const char *expect_repr)
{
    char *s = yg_pytext_str(v);
    char *r = yg_pytext_repr(v);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(s, expect_str);
    ck_assert_str_eq(r, expect_repr);
    free(s);
    free(r);
    yg_value_destroy(&v);
}

START_TEST(test_pytext_floats)
{
    /* python3: str(x) for each x */
    struct {
        double d;
        const char *text;
    } cases[] = {
        {0.5, "0.5"},
        {1.0, "1.0"},
        {1e-05, "1e-05"},
        {1e16, "1e+16"},
        {1e15, "1000000000000000.0"},
        {0.1 + 0.2, "0.30000000000000004"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {1.5e300, "1.5e+300"},
        {123456789.123, "123456789.123"},
        {0.0001, "0.0001"},
        {0.00012345, "0.00012345"},
        {1e22, "1e+22"},
        {2.5e-10, "2.5e-10"},
        {0.1 + 0.7, "0.7999999999999999"},
        {1234567890123456.0, "1234567890123456.0"},
        {12345678901234567.0, "1.2345678901234568e+16"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {-2.5, "-2.5"},
        {100.0, "100.0"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {NAN, "nan"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        check_str_form(yg_float_new(cases[k].d), cases[k].text, cases[k].text);
}
END_TEST

START_TEST(test_pytext_scalars_and_containers)
{
    check_str_form(yg_int_new(0), "0", "0");
    check_str_form(yg_int_new(-42), "-42", "-42");
    check_str_form(yg_int_new(INT64_MIN), "-9223372036854775808", "-9223372036854775808");
    check_str_form(yg_bool_new(true), "True", "True");
    check_str_form(yg_bool_new(false), "False", "False");
    check_str_form(yg_null_new(), "None", "None");
    check_str_form(NULL, "None", "None");
    check_str_form(yg_str_new("plain text"), "plain text", "'plain text'");
    check_str_form(yg_str_new(""), "", "''");
    check_str_form(yg_list_new(), "[]", "[]");
    check_str_form(yg_map_new(), "{}", "{}");

    /* python3: str([1, 'a', None, True, 1.0, {'k': [], 'j': {}}]) */
    yg_value_t *l = yg_list_new();
    yg_list_append(l, yg_int_new(1));
    yg_list_append(l, yg_str_new("a"));
    yg_list_append(l, yg_null_new());
    yg_list_append(l, yg_bool_new(true));
    yg_list_append(l, yg_float_new(1.0));
    yg_value_t *m = yg_map_new();
    yg_map_set(m, "k", yg_list_new());
    yg_map_set(m, "j", yg_map_new());
    yg_list_append(l, m);
    const char *expect = "[1, 'a', None, True, 1.0, {'k': [], 'j': {}}]";
    check_str_form(l, expect, expect);

    /* python3: str({"it's": ['x\ny', 'q"']}) */
    m = yg_map_new();
    yg_value_t *inner = yg_list_new();
    yg_list_append(inner, yg_str_new("x\ny"));
    yg_list_append(inner, yg_str_new("q\""));
    yg_map_set(m, "it's", inner);
    expect = "{\"it's\": ['x\\ny', 'q\"']}";
    check_str_form(m, expect, expect);
}
END_TEST

START_TEST(test_pytext_string_repr)
{
    /* python3: repr(s) for each s */
    struct {
        const char *s;
        size_t len;
        const char *repr;
    } cases[] = {
        {"it's", 4, "\"it's\""},
        {"say \"hi\"", 8, "'say \"hi\"'"},
        {"both ' and \"", 12, "'both \\' and \"'"},
        {"tab\there", 8, "'tab\\there'"},
        {"nl\n", 3, "'nl\\n'"},
        {"cr\r", 3, "'cr\\r'"},
        {"back\\slash", 10, "'back\\\\slash'"},
        {"\0\a\x7f", 3, "'\\x00\\x07\\x7f'"},
        {"\xc3\xa9", 2, "'\xc3\xa9'"},                 /* é printable */
        {"\xc2\xa0", 2, "'\\xa0'"},                    /* no-break space */
        {"\xc2\x85", 2, "'\\x85'"},                    /* C1 control */
        {"\xc2\xad", 2, "'\\xad'"},                    /* soft hyphen */
        {"\xe2\x80\x8b", 3, "'\\u200b'"},              /* zero-width space */
        {"\xe2\x80\xa8", 3, "'\\u2028'"},              /* line separator */
        {"\xef\xbb\xbf", 3, "'\\ufeff'"},              /* BOM */
        {"\xee\x80\x80", 3, "'\\ue000'"},              /* private use */
        {"\xf0\x9f\x98\x80", 4, "'\xf0\x9f\x98\x80'"}, /* emoji printable */
        {"\xf3\xa0\x80\x81", 4, "'\\U000e0001'"},      /* language tag */
        {"\xe4\xb8\xad", 3, "'\xe4\xb8\xad'"},
        {"a\xff", 2, "'a\\xff'"}, /* invalid UTF-8 byte (no Python equivalent) */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        yg_value_t *v = yg_str_newn(cases[k].s, cases[k].len);
        char *r = yg_pytext_repr(v);
        ck_assert_msg(strcmp(r, cases[k].repr) == 0, "case %zu: got %s want %s", k, r,
                      cases[k].repr);
        /* str() of a top-level string is the string itself */
        char *s = yg_pytext_str(v);
        ck_assert(memcmp(s, cases[k].s, cases[k].len) == 0 && s[cases[k].len] == '\0');
        free(r);
        free(s);
        yg_value_destroy(&v);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tj = tcase_create("json");
    tcase_add_test(tj, test_json_roundtrip_document);
    tcase_add_test(tj, test_json_encode_exact);
    tcase_add_test(tj, test_json_pretty_matches_python);
    tcase_add_test(tj, test_json_escapes_and_utf8);
    tcase_add_test(tj, test_json_numbers);
    tcase_add_test(tj, test_json_errors_with_position);
    tcase_add_test(tj, test_json_each_limit);
    tcase_add_test(tj, test_json_deep_nesting_no_crash);
    tcase_add_test(tj, test_json_mutation_fuzz);
    tcase_add_test(tj, test_json_long_keys);
    tcase_add_test(tj, test_encoders_refuse_too_deep);
    tcase_add_test(tj, test_json_python_dumps);
    suite_add_tcase(s, tj);
    TCase *tm = tcase_create("msgpack");
    tcase_add_test(tm, test_msgpack_roundtrip_types);
    tcase_add_test(tm, test_msgpack_big_list);
    tcase_add_test(tm, test_msgpack_known_bytes);
    tcase_add_test(tm, test_msgpack_decode_foreign_forms);
    tcase_add_test(tm, test_msgpack_hostile);
    tcase_add_test(tm, test_msgpack_each_limit);
    tcase_add_test(tm, test_msgpack_prefix_and_packer);
    tcase_add_test(tm, test_msgpack_fuzz);
    suite_add_tcase(s, tm);
    TCase *tp = tcase_create("pytext");
    tcase_add_test(tp, test_pytext_floats);
    tcase_add_test(tp, test_pytext_scalars_and_containers);
    tcase_add_test(tp, test_pytext_string_repr);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 60);
}
