/*
 * test_expr.c - spec section 6: literals, lenient and strict paths, edge
 * conditions and value templates (conformance items 1-12, 31-36).
 */
#include "testutil.h"

#include "yamlgraph/yg_value.h"
#include "yg_expr.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* State from JSON text (aborts the test on a bad fixture). */
static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad fixture %s: %s", json, err.message);
    return v;
}

/* --- literals (6.5, item 6) ----------------------------------------------- */

static void check_literal(const char *text, const char *expected_json)
{
    yg_value_t *got = yg_literal_parse(text, strlen(text));
    yg_value_t *want = J(expected_json);
    ck_assert_ptr_nonnull(got);
    char *g = yg_json_encode(got, false, NULL);
    ck_assert_msg(yg_value_type(got) == yg_value_type(want) && yg_value_equal(got, want),
                  "literal <%s>: got %s (%s), want %s", text, g, yg_type_name(yg_value_type(got)),
                  expected_json);
    free(g);
    yg_value_destroy(&got);
    yg_value_destroy(&want);
}

START_TEST(test_literals_spec)
{
    check_literal("42", "42");
    check_literal("-5", "-5");
    check_literal("0.8", "0.8");
    check_literal("-3.14", "-3.14");
    check_literal("TRUE", "true");
    check_literal("True", "true");
    check_literal("true", "true");
    check_literal("False", "false");
    check_literal("null", "null");
    check_literal("None", "null");
    check_literal("none", "null");
    check_literal("\"hello\"", "\"hello\"");
    check_literal("'world'", "\"world\"");
    check_literal("hello", "\"hello\"");
}
END_TEST

START_TEST(test_literals_edges)
{
    check_literal("  42  ", "42");
    check_literal("+7", "7");
    check_literal("007", "7");
    check_literal("-0", "0");
    check_literal("1_000", "1000");
    check_literal("1_000.5", "1000.5");
    check_literal("1__0", "\"1__0\"");
    check_literal("_1", "\"_1\"");
    check_literal("1_", "\"1_\"");
    check_literal("1e1", "\"1e1\""); /* no '.', int() fails: a string */
    check_literal("1.5e3", "1500.0");
    check_literal("1.5E-1", "0.15");
    check_literal(".5", "0.5");
    check_literal("5.", "5.0");
    check_literal("-.5", "-0.5");
    check_literal("1.2.3", "\"1.2.3\"");
    check_literal(".", "\".\"");
    check_literal("1._5", "\"1._5\"");
    check_literal("0x10", "\"0x10\"");
    check_literal("+-1", "\"+-1\"");
    check_literal("1 2", "\"1 2\"");
    check_literal("NULL", "null");
    check_literal("nOnE", "null");
    check_literal("tRuE", "true");
    check_literal("truee", "\"truee\"");
    check_literal("'", "\"\""); /* a lone quote is "quoted" too */
    check_literal("\"", "\"\"");
    check_literal("''", "\"\"");
    check_literal("\"a'", "\"\\\"a'\""); /* mismatched quotes: kept */
    check_literal("'  x  '", "\"  x  \"");
    check_literal("'it''s'", "\"it''s\"");
    check_literal("\"true\"", "\"true\"");
    check_literal("'42'", "\"42\"");
    check_literal("", "\"\"");
    check_literal("   ", "\"\"");
    check_literal("9223372036854775807", "9223372036854775807");
    check_literal("-9223372036854775808", "-9223372036854775808");

    /* [C] beyond int64: the nearest float */
    yg_value_t *big = yg_literal_parse("99999999999999999999", 20);
    ck_assert_int_eq(yg_value_type(big), YG_FLOAT);
    ck_assert(yg_value_float(big) == 1e20);
    yg_value_destroy(&big);
    yg_value_t *inf = yg_literal_parse("1.0e999", 7);
    ck_assert_int_eq(yg_value_type(inf), YG_FLOAT);
    ck_assert(isinf(yg_value_float(inf)));
    yg_value_destroy(&inf);
    /* counted text: NUL bytes are data */
    yg_value_t *nul = yg_literal_parse("a\0b", 3);
    ck_assert_uint_eq(yg_value_strlen(nul), 3);
    yg_value_destroy(&nul);
}
END_TEST

/* --- paths (6.1, item 31) -------------------------------------------------- */

START_TEST(test_path_lenient)
{
    yg_value_t *st = J("{\"a\": {\"b\": {\"c\": 5}}, \"items\": [1, 2], \"s\": \"text\","
                       " \"n\": null, \"\": 7}");
    const yg_value_t *v = yg_path_lenient(st, "a.b.c", 5);
    ck_assert_int_eq(yg_value_int(v), 5);
    ck_assert_ptr_null(yg_path_lenient(st, "a.x.c", 5));
    ck_assert_ptr_null(yg_path_lenient(st, "items.0", 7)); /* no list index */
    ck_assert_ptr_null(yg_path_lenient(st, "s.upper", 7)); /* [C] no attributes */
    ck_assert_ptr_null(yg_path_lenient(st, "a.b.c.d", 7)); /* into a number */
    ck_assert_ptr_null(yg_path_lenient(st, "n.x", 3));
    ck_assert_ptr_null(yg_path_lenient(st, "", 0));
    ck_assert_ptr_null(yg_path_lenient(NULL, "a", 1));
    ck_assert(yg_value_is_null(yg_path_lenient(st, "n", 1)));
    /* "a." walks to the key "" inside a */
    ck_assert_ptr_null(yg_path_lenient(st, "a.", 2));
    /* only len bytes are used */
    ck_assert_int_eq(yg_value_type(yg_path_lenient(st, "a.b.c", 3)), YG_MAP);
    yg_value_destroy(&st);
}
END_TEST

static yg_value_t *strict(const yg_value_t *st, const char *expr_json, yg_error_t *err)
{
    yg_value_t *e = J(expr_json);
    yg_value_t *r = yg_path_strict(st, e, err);
    yg_value_destroy(&e);
    return r;
}

START_TEST(test_path_strict)
{
    yg_value_t *st = J("{\"name\": \"Ann\", \"story\": {\"panels\": [1, 2, 3]}, \"s\": \"x\"}");
    yg_error_t err = {0};
    yg_value_t *r = strict(st, "\"{name}\"", &err);
    ck_assert_str_eq(yg_value_str(r), "Ann");
    yg_value_destroy(&r);

    yg_value_t *a = strict(st, "\"{state.story.panels}\"", &err);
    yg_value_t *b = strict(st, "\"{story.panels}\"", &err);
    ck_assert_uint_eq(yg_list_size(a), 3);
    ck_assert(yg_value_equal(a, b));
    ck_assert_ptr_eq(a, b); /* both are references to the state's list */
    yg_value_destroy(&a);
    yg_value_destroy(&b);

    r = strict(st, "\"literal string\"", &err);
    ck_assert_str_eq(yg_value_str(r), "literal string");
    yg_value_destroy(&r);
    r = strict(st, "42", &err);
    ck_assert_int_eq(yg_value_int(r), 42);
    yg_value_destroy(&r);
    r = strict(st, "\"{name\"", &err);
    ck_assert_str_eq(yg_value_str(r), "{name");
    yg_value_destroy(&r);

    yg_error_clear(&err);
    ck_assert_ptr_null(strict(st, "\"{missing}\"", &err));
    ck_assert_int_eq(err.code, YG_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.message, "cannot resolve 'missing'"));
    yg_error_clear(&err);
    ck_assert_ptr_null(strict(st, "\"{story.pages}\"", &err));
    ck_assert_int_eq(err.code, YG_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.message, "'pages'"));
    yg_error_clear(&err);
    ck_assert_ptr_null(strict(st, "\"{s.upper}\"", &err)); /* [C] no attributes */
    ck_assert_int_eq(err.code, YG_ENOTFOUND);
    yg_error_clear(&err);
    ck_assert_ptr_null(strict(st, "\"{}\"", &err));
    ck_assert_int_eq(err.code, YG_ENOTFOUND);
    yg_error_clear(&err);
    ck_assert_ptr_null(strict(st, "\"{story.panels.0}\"", &err)); /* no list index */
    ck_assert_int_eq(err.code, YG_ENOTFOUND);

    r = yg_path_strict(st, NULL, &err);
    ck_assert(yg_value_is_null(r));
    yg_value_destroy(&r);
    yg_value_destroy(&st);
}
END_TEST

/* --- conditions (6.4, items 1-12) ---------------------------------------- */

/* Compile and evaluate; the test fails on a syntax or evaluation error. */
static bool cond(const char *text, const char *state_json)
{
    yg_error_t err = {0};
    yg_cond_t *c = yg_cond_compile(text, &err);
    ck_assert_msg(c != NULL, "compile <%s>: %s", text, err.message);
    yg_value_t *st = J(state_json);
    bool result = false;
    ck_assert_int_eq(yg_cond_eval(c, st, &result, &err), YG_OK);
    yg_value_destroy(&st);
    yg_cond_destroy(&c);
    ck_assert_ptr_null(c);
    return result;
}

/* Expect a compile error; returns the reported column. */
static int cond_invalid(const char *text, const char *fragment)
{
    yg_error_t err = {0};
    yg_cond_t *c = yg_cond_compile(text, &err);
    ck_assert_msg(c == NULL, "<%s> should be invalid", text);
    ck_assert_int_eq(err.code, YG_EEXPR);
    ck_assert_msg(strstr(err.message, "invalid condition") != NULL, "%s", err.message);
    ck_assert_ptr_null(strchr(err.message, '\n')); /* one line */
    if (fragment)
        ck_assert_msg(strstr(err.message, fragment) != NULL, "<%s>: %s", text, err.message);
    return err.column;
}

START_TEST(test_cond_item1_whitespace)
{
    ck_assert(cond("score < 0.8", "{\"score\": 0.5}"));
    ck_assert(!cond("score < 0.8", "{\"score\": 0.9}"));
    ck_assert(cond("score<0.8", "{\"score\": 0.5}"));
    ck_assert(cond("  score   <   0.8  ", "{\"score\": 0.5}"));
    ck_assert(cond("score\t<\n0.8", "{\"score\": 0.5}"));
}
END_TEST

START_TEST(test_cond_item2_3_missing_and_null)
{
    ck_assert(!cond("score < 0.8", "{}"));
    ck_assert(!cond("score >= 0.8", "{}"));
    ck_assert(cond("missing == None", "{\"a\": 1}"));
    ck_assert(!cond("missing != None", "{\"a\": 1}"));
    ck_assert(cond("error != null", "{\"error\": \"x\"}"));
    ck_assert(!cond("error != null", "{\"error\": null}"));
    ck_assert(cond("x == null", "{}"));
    ck_assert(!cond("x == 0", "{}"));
    ck_assert(cond("x != 0", "{}"));
    /* item 3: ordering across types is false, not an error */
    ck_assert(!cond("value < 5", "{\"value\": \"not_a_number\"}"));
    ck_assert(!cond("value > 5", "{\"value\": \"not_a_number\"}"));
    ck_assert(!cond("value >= 5", "{\"value\": \"not_a_number\"}"));
    /* ordering against a null literal is a TypeError in Python: false */
    ck_assert(!cond("value < null", "{\"value\": 3}"));
    ck_assert(!cond("value >= null", "{\"value\": 3}"));
}
END_TEST

START_TEST(test_cond_item4_precedence)
{
    const char *abc = "{\"a\": 5, \"b\": 10, \"c\": 15}";
    ck_assert(cond("a > 10 or b < 20 and c > 10", abc));
    ck_assert(!cond("a > 10 or b < 20 and c > 20", abc));
    ck_assert(cond("b < 20 and c > 10 or a > 10", abc));
    ck_assert(!cond("a > 1 and b > 20", "{\"a\": 5, \"b\": 10}"));
    ck_assert(
        cond("approved == true or override == true", "{\"approved\": false, \"override\": true}"));
    ck_assert(!cond("approved == true or override == true",
                    "{\"approved\": false, \"override\": false}"));
    /* keywords are case-insensitive and need whitespace on both sides */
    ck_assert(cond("a > 1 AND b < 20", abc));
    ck_assert(cond("a > 10 Or b < 20", abc));
    ck_assert(!cond("a > 1\tand\nb > 20", abc));
    /* "orange" / "band" are not keywords */
    ck_assert(cond("fruit == orange", "{\"fruit\": \"orange\"}"));
    ck_assert(cond("x == band", "{\"x\": \"band\"}"));
}
END_TEST

START_TEST(test_cond_item5_nested)
{
    ck_assert(cond("critique.score < 0.8", "{\"critique\": {\"score\": 0.75}}"));
    ck_assert(!cond("critique.score >= 0.8", "{\"critique\": {\"score\": 0.75}}"));
    ck_assert(!cond("critique.score < 0.8", "{\"critique\": \"text\"}"));
    /* `state.` on the left is a key named "state" */
    ck_assert(!cond("state.score < 0.8", "{\"score\": 0.5}"));
    ck_assert(cond("state.score < 0.8", "{\"state\": {\"score\": 0.5}}"));
}
END_TEST

START_TEST(test_cond_operators)
{
    const char *s = "{\"n\": 5}";
    ck_assert(cond("n < 6", s) && !cond("n < 5", s));
    ck_assert(cond("n <= 5", s) && !cond("n <= 4", s));
    ck_assert(cond("n > 4", s) && !cond("n > 5", s));
    ck_assert(cond("n >= 5", s) && !cond("n >= 6", s));
    ck_assert(cond("n == 5", s) && !cond("n == 4", s));
    ck_assert(cond("n != 4", s) && !cond("n != 5", s));
    /* longest operator first: `<==` is `<=` then the literal "= 5" */
    ck_assert(cond("n <== 5", "{\"n\": \"= 4\"}"));
    ck_assert(!cond("n <== 5", "{\"n\": 5}"));
    ck_assert(!cond("n === 5", "{\"n\": 5}"));
    ck_assert(cond("n === 5", "{\"n\": \"= 5\"}"));
    ck_assert(cond("s == = 5", "{\"s\": \"= 5\"}"));
    /* `a <> 3` is a < "> 3": ordering int vs str is false ... */
    ck_assert(!cond("a <> 3", "{\"a\": 1}"));
    /* ... while a string compares bytewise: "0" < "> 3" */
    ck_assert(cond("a <> 3", "{\"a\": \"0\"}"));
}
END_TEST

START_TEST(test_cond_python_semantics)
{
    /* int/float numeric, bool == 1/0 */
    ck_assert(cond("x == 1.0", "{\"x\": 1}"));
    ck_assert(cond("x == 1", "{\"x\": 1.0}"));
    ck_assert(cond("flag == true", "{\"flag\": 1}"));
    ck_assert(cond("flag == false", "{\"flag\": 0}"));
    ck_assert(cond("flag == 1", "{\"flag\": true}"));
    ck_assert(!cond("flag == 2", "{\"flag\": true}"));
    ck_assert(cond("flag > 0", "{\"flag\": true}"));
    ck_assert(cond("flag < 1.5", "{\"flag\": true}"));
    /* strings: lexicographic by code point; never equal to numbers */
    ck_assert(cond("name < b", "{\"name\": \"abc\"}"));
    ck_assert(cond("name > ab", "{\"name\": \"abc\"}"));
    ck_assert(!cond("name > abc", "{\"name\": \"abc\"}"));
    ck_assert(cond("name >= abc", "{\"name\": \"abc\"}"));
    ck_assert(cond("name > Z", "{\"name\": \"a\"}"));
    ck_assert(cond("name > z", "{\"name\": \"\xc3\xa9\"}"));
    ck_assert(!cond("name == 1", "{\"name\": \"1\"}"));
    ck_assert(cond("name == '1'", "{\"name\": \"1\"}"));
    ck_assert(cond("name != 1", "{\"name\": \"1\"}"));
    /* --var values are strings: "3" > 2 is false */
    ck_assert(!cond("count > 2", "{\"count\": \"3\"}"));
    /* right side is always a literal */
    ck_assert(!cond("a == b", "{\"a\": 1, \"b\": 1}"));
    ck_assert(cond("a == b", "{\"a\": \"b\"}"));
    /* lists/maps: only ==/!=, never equal to a literal */
    ck_assert(!cond("items == 1", "{\"items\": [1]}"));
    ck_assert(cond("items != 1", "{\"items\": [1]}"));
    ck_assert(!cond("items > 0", "{\"items\": [1]}"));
    ck_assert(!cond("m == null", "{\"m\": {}}"));
    ck_assert(cond("m != null", "{\"m\": {}}"));
    ck_assert(!cond("m < 1", "{\"m\": {}}"));
    /* `1e1` stays a string */
    ck_assert(!cond("count > 1e1", "{\"count\": 12}"));
    ck_assert(cond("count > 1.0e1", "{\"count\": 12}"));
    /* quoted literals are split on and/or too, so this never matches */
    cond_invalid("name == 'a and b'", "comparison operator");
    ck_assert(!cond("name == 'a and b == c'", "{\"name\": \"a and b == c\"}"));
    ck_assert(cond("name == 'a and b == c'", "{\"name\": \"'a\", \"b\": \"c'\"}"));
    /* exact int/float comparison, as Python (2^53 + 1 != 2^53) */
    ck_assert(!cond("x == 9007199254740992.0", "{\"x\": 9007199254740993}"));
    ck_assert(cond("x > 9007199254740992.0", "{\"x\": 9007199254740993}"));
    ck_assert(cond("x == 9007199254740992.0", "{\"x\": 9007199254740992}"));
    ck_assert(cond("x < 1e300.0", "{\"x\": 1}") == false); /* "1e300.0" is a string */
    ck_assert(cond("x < 1.0e300", "{\"x\": 9223372036854775807}"));
    ck_assert(cond("x > -1.0e300", "{\"x\": -9223372036854775807}"));
    ck_assert(cond("x > 2.5", "{\"x\": 3}") && !cond("x > 3.5", "{\"x\": 3}"));
    ck_assert(cond("x < -2.5", "{\"x\": -3}") && !cond("x < -3.5", "{\"x\": -3}"));
    ck_assert(cond("x == 0.1", "{\"x\": 0.1}"));
}
END_TEST

START_TEST(test_cond_item7_invalid)
{
    cond_invalid("score <<< 0.8", "'<<' is not a comparison operator");
    ck_assert_int_eq(cond_invalid("score <<< 0.8", NULL), 7);
    ck_assert_int_eq(cond_invalid("not a valid expression !!!", "comparison operator"), 5);
    ck_assert_int_eq(cond_invalid("", NULL), 1);
    ck_assert_int_eq(cond_invalid("   ", NULL), 4);
    ck_assert_int_eq(cond_invalid("< 0.8", "state path"), 1);
    ck_assert_int_eq(cond_invalid("  == 1", "state path"), 3);
    ck_assert_int_eq(cond_invalid("1x == 1", "state path"), 1);
    ck_assert_int_eq(cond_invalid("score", "comparison operator"), 6);
    ck_assert_int_eq(cond_invalid("score <", "value"), 8);
    ck_assert_int_eq(cond_invalid("score >> 1", "'>>'"), 7);
    ck_assert_int_eq(cond_invalid("score = 1", NULL), 7);
    ck_assert_int_eq(cond_invalid("score ! 1", NULL), 7);
    ck_assert_int_eq(cond_invalid("(score < 1)", NULL), 1);
    ck_assert_int_eq(cond_invalid("not score < 1", NULL), 5);
    ck_assert_int_eq(cond_invalid("a < 1 and b", NULL), 12);
    ck_assert_int_eq(cond_invalid("a < 1 or b > 2 and c", NULL), 21);
    ck_assert_int_eq(cond_invalid("a < 1 and and b < 2", NULL), 15);
    ck_assert_int_eq(cond_invalid("a == 1\n2", "line break"), 7);
    cond_invalid("a == 1\n2", "\"a == 1\\n2\"");
    /* long conditions are quoted in part */
    char longc[400];
    memset(longc, 'x', sizeof longc - 1);
    longc[sizeof longc - 1] = '\0';
    ck_assert_int_eq(cond_invalid(longc, "...\": expected a comparison operator"), 400);
    /* columns count characters, not bytes */
    ck_assert_int_eq(cond_invalid("x == 'é' and ü < 1", "state path"), 14);
    /* a part that is only spaces around "and" is not a separator */
    ck_assert(cond("a > 1 and", "{\"a\": 2}") == false); /* a > "1 and" */
    ck_assert(cond("a == 1 and", "{\"a\": \"1 and\"}"));
    yg_error_t err = {0};
    ck_assert_ptr_null(yg_cond_compile(NULL, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
}
END_TEST

START_TEST(test_cond_limits)
{
    size_t n = 70 * 1024;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    memcpy(big, "x == ", 5);
    big[n] = '\0';
    yg_error_t err = {0};
    ck_assert_ptr_null(yg_cond_compile(big, &err));
    ck_assert_int_eq(err.code, YG_EEXPR);
    free(big);

    /* many comparisons: fine up to the cap, refused beyond */
    size_t count = 1500;
    char *many = malloc(count * 12 + 1);
    many[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < count; i++)
        len += (size_t)sprintf(many + len, "%sa < %zu", i ? " or " : "", i + 1);
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_cond_compile(many, &err));
    ck_assert_ptr_nonnull(strstr(err.message, "too many"));
    /* 1000 comparisons compile and evaluate */
    char *cut = strstr(many, " or a < 1001");
    *cut = '\0';
    yg_cond_t *c = yg_cond_compile(many, &err);
    ck_assert_ptr_nonnull(c);
    yg_value_t *st = J("{\"a\": 999}");
    bool r = false;
    ck_assert_int_eq(yg_cond_eval(c, st, &r, &err), YG_OK);
    ck_assert(r);
    yg_value_destroy(&st);
    yg_cond_destroy(&c);
    free(many);

    ck_assert_int_eq(yg_cond_eval(NULL, NULL, &r, &err), YG_EINVAL);
}
END_TEST

/* A condition group (5.4): the first true condition picks its target; a
 * condition that does not compile is skipped (item 11); none -> "END";
 * _loop_limit_reached -> "END" first (item 10). */
static const char *route(const char *const *conds, const char *const *targets, size_t n,
                         const char *state_json)
{
    yg_value_t *st = J(state_json);
    const char *chosen = "END";
    if (!yg_value_truthy(yg_map_get(st, "_loop_limit_reached"))) {
        for (size_t i = 0; i < n; i++) {
            yg_cond_t *c = yg_cond_compile(conds[i], NULL);
            bool r = false;
            bool hit = c && yg_cond_eval(c, st, &r, NULL) == YG_OK && r;
            yg_cond_destroy(&c);
            if (hit) {
                chosen = targets[i];
                break;
            }
        }
    }
    yg_value_destroy(&st);
    return chosen;
}

START_TEST(test_cond_groups_items_8_to_11)
{
    const char *c8[] = {"score >= 0.5", "score >= 0.8"}, *t8[] = {"half", "high"};
    ck_assert_str_eq(route(c8, t8, 2, "{\"score\": 0.9}"), "half");
    const char *c9[] = {"score < 0.5", "score > 0.9"}, *t9[] = {"a", "b"};
    ck_assert_str_eq(route(c9, t9, 2, "{\"score\": 0.7}"), "END");
    ck_assert_str_eq(route(c9, t9, 2, "{\"score\": 0.95}"), "b");
    const char *c10[] = {"score < 0.8"}, *t10[] = {"continue"};
    ck_assert_str_eq(route(c10, t10, 1, "{\"_loop_limit_reached\": true, \"score\": 0.5}"), "END");
    ck_assert_str_eq(route(c10, t10, 1, "{\"_loop_limit_reached\": false, \"score\": 0.5}"),
                     "continue");
    const char *c11[] = {"invalid!!! expression", "score >= 0.8"}, *t11[] = {"a", "done"};
    ck_assert_str_eq(route(c11, t11, 2, "{\"score\": 0.9}"), "done");
}
END_TEST

START_TEST(test_cond_item12_router_targets)
{
    /* 5.3: _route equal to a listed target wins, else the first target.
     * Expressed with conditions on _route. */
    const char *c[] = {"_route == positive", "_route == negative", "_route == neutral"};
    const char *t[] = {"positive", "negative", "neutral"};
    const char *r = route(c, t, 3, "{\"_route\": \"negative\"}");
    ck_assert_str_eq(strcmp(r, "END") == 0 ? t[0] : r, "negative");
    r = route(c, t, 3, "{\"_route\": \"unknown\"}");
    ck_assert_str_eq(strcmp(r, "END") == 0 ? t[0] : r, "positive");
    r = route(c, t, 3, "{}");
    ck_assert_str_eq(strcmp(r, "END") == 0 ? t[0] : r, "positive");
}
END_TEST

static void check_reads(yg_value_t *reads, const char *expected_json)
{
    yg_value_t *want = J(expected_json);
    char *got = yg_json_encode(reads, false, NULL);
    ck_assert_msg(yg_value_equal(reads, want), "reads %s, want %s", got, expected_json);
    free(got);
    yg_value_destroy(&want);
}

START_TEST(test_cond_reads)
{
    yg_cond_t *c =
        yg_cond_compile("critique.score < 0.8 and a > 1 or critique.x == 2 or b == c", NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(yg_cond_text(c),
                     "critique.score < 0.8 and a > 1 or critique.x == 2 or b == c");
    yg_value_t *out = J("[\"a\"]");
    yg_cond_reads(c, out);
    check_reads(out, "[\"a\", \"critique\", \"b\"]");
    yg_cond_reads(c, NULL); /* tolerated */
    yg_value_destroy(&out);
    yg_cond_destroy(&c);
    yg_cond_destroy(&c);
    yg_cond_destroy(NULL);
}
END_TEST

/* --- value templates (6.2 / 6.3, items 32-36) ----------------------------- */

/* Evaluate template `tmpl_json` against `state_json`; returns the result
 * or NULL with err filled. */
static yg_value_t *vx(const char *tmpl_json, const char *state_json, yg_error_t *err)
{
    yg_value_t *t = J(tmpl_json);
    yg_vexpr_t *e = yg_vexpr_compile(t, err);
    ck_assert_ptr_nonnull(e);
    yg_value_destroy(&t);
    yg_value_t *st = J(state_json);
    yg_value_t *r = yg_vexpr_eval(e, st, err);
    yg_value_destroy(&st);
    yg_vexpr_destroy(&e);
    ck_assert_ptr_null(e);
    return r;
}

/* Same type (int vs float matters) and equal, recursively. */
static bool same(const yg_value_t *a, const yg_value_t *b)
{
    if (yg_value_type(a) != yg_value_type(b))
        return false;
    if (yg_value_type(a) == YG_LIST) {
        if (yg_list_size(a) != yg_list_size(b))
            return false;
        for (size_t i = 0; i < yg_list_size(a); i++)
            if (!same(yg_list_get(a, i), yg_list_get(b, i)))
                return false;
        return true;
    }
    if (yg_value_type(a) == YG_MAP) {
        if (yg_map_size(a) != yg_map_size(b))
            return false;
        for (size_t i = 0; i < yg_map_size(a); i++)
            if (strcmp(yg_map_key_at(a, i), yg_map_key_at(b, i)) != 0 ||
                !same(yg_map_value_at(a, i), yg_map_value_at(b, i)))
                return false;
        return true;
    }
    return yg_value_equal(a, b);
}

static void vx_eq(const char *tmpl_json, const char *state_json, const char *expected_json)
{
    yg_error_t err = {0};
    yg_value_t *got = vx(tmpl_json, state_json, &err);
    ck_assert_msg(got != NULL, "%s: error %s", tmpl_json, err.message);
    yg_value_t *want = J(expected_json);
    char *text = yg_json_encode(got, false, NULL);
    ck_assert_msg(same(got, want), "%s on %s: got %s (%s), want %s", tmpl_json, state_json, text,
                  yg_type_name(yg_value_type(got)), expected_json);
    free(text);
    yg_value_destroy(&got);
    yg_value_destroy(&want);
}

static void vx_err(const char *tmpl_json, const char *state_json, int code)
{
    yg_error_t err = {0};
    yg_value_t *got = vx(tmpl_json, state_json, &err);
    ck_assert_msg(got == NULL, "%s: expected an error", tmpl_json);
    ck_assert_msg(err.code == code, "%s: code %d (%s), want %d", tmpl_json, err.code, err.message,
                  code);
}

START_TEST(test_vexpr_item32_lenient)
{
    const char *st = "{\"topic\": \"AI\", \"n\": 3, \"l\": [1, {\"k\": 2}], \"m\": {\"x\": null}}";
    vx_eq("\"{state.topic}\"", st, "\"AI\"");
    vx_eq("\"{state.n}\"", st, "3");
    vx_eq("\"{state.l}\"", st, "[1, {\"k\": 2}]");
    vx_eq("\"{state.m.x}\"", st, "null");
    vx_eq("\"{state.missing}\"", st, "null");
    vx_eq("\"{state.l.0}\"", st, "null");
    vx_eq("\"{other.field}\"", st, "\"{other.field}\"");
    vx_eq("\"{topic}\"", st, "\"{topic}\"");
    vx_eq("\"plain text\"", st, "\"plain text\"");
    vx_eq("\"Hello {state.topic}\"", st, "\"Hello {state.topic}\"");
    vx_eq("\"{state.topic} and {state.n}\"", st, "null");
    vx_eq("\"{state.}\"", st, "null");
    vx_eq("\"{\"", st, "\"{\"");
    vx_eq("\"\"", st, "\"\"");
    vx_eq("42", st, "42");
    vx_eq("null", st, "null");
    vx_eq("{\"inner\": \"{state.topic}\"}", st, "{\"inner\": \"{state.topic}\"}");
    vx_eq("[\"{state.topic}\"]", st, "[\"{state.topic}\"]");
}
END_TEST

START_TEST(test_vexpr_item33_arithmetic)
{
    vx_eq("\"{state.counter + 1}\"", "{\"counter\": 5}", "6");
    vx_eq("\"{state.counter - 2}\"", "{\"counter\": 10}", "8");
    vx_eq("\"{state.counter * 3}\"", "{\"counter\": 4}", "12");
    vx_eq("\"{state.counter / 2}\"", "{\"counter\": 10}", "5.0");
    vx_eq("\"{state.a + state.b}\"", "{\"a\": 3, \"b\": 7}", "10");
    vx_eq("\"{state.history + [state.item]}\"", "{\"history\": [\"a\", \"b\"], \"item\": \"c\"}",
          "[\"a\", \"b\", \"c\"]");
    vx_eq("\"{state.missing + 1}\"", "{}", "null");
    vx_eq("\"{state.l + [42]}\"", "{\"l\": []}", "[42]");
    vx_eq("\"{state.l + {'key': state.name}}\"", "{\"l\": [], \"name\": \"Bo\"}",
          "[{\"key\": \"Bo\"}]");
    vx_eq("\"{state.l + {'count': 5}}\"", "{\"l\": [0]}", "[0, {\"count\": 5}]");
    /* whitespace around the operator is optional */
    vx_eq("\"{state.counter+1}\"", "{\"counter\": 5}", "6");
    vx_eq("\"{state.counter   *   2}\"", "{\"counter\": 5}", "10");
}
END_TEST

START_TEST(test_vexpr_item34_36_passthrough_forms)
{
    vx_eq("\"{state.log + [state.entry]}\"", "{\"log\": [], \"entry\": {\"a\": 1}}",
          "[{\"a\": 1}]");
    vx_eq("\"{state.prefix + ': done'}\"", "{\"prefix\": \"Status\"}", "\"Status: done\"");
    vx_eq("\"{state.prefix + state.suffix}\"", "{\"prefix\": \"ab\", \"suffix\": \"cd\"}",
          "\"abcd\"");
    /* only one operator: the rest is the raw right operand */
    vx_eq("\"{state.prefix + ': ' + state.content}\"", "{\"prefix\": \"P\", \"content\": \"C\"}",
          "\"P': ' + state.content\"");
    /* `state.b + 1` is looked up as the path "b + 1" -> null; 3 + None */
    vx_err("\"{state.a + state.b + 1}\"", "{\"a\": 3, \"b\": 4}", YG_ETYPE);
    /* item 36: an unknown left side yields null (passthrough keeps 42) */
    vx_eq("\"{state.undefined_field + 1}\"", "{\"result\": 42}", "null");
    /* the conditional form is a literal string */
    vx_eq("\"{'a' if state.x else 'b'}\"", "{\"x\": 1}", "\"{'a' if state.x else 'b'}\"");
}
END_TEST

START_TEST(test_vexpr_operand_forms)
{
    const char *st = "{\"s\": \"x\", \"name\": \"N\", \"n\": 2, \"t\": true}";
    /* [ ... ] is a one-element list: [] -> [""], [1, 2] -> ["1, 2"] */
    vx_eq("\"{state.w + [1, 2]}\"", "{\"w\": [0]}", "[0, \"1, 2\"]");
    vx_eq("\"{state.w + []}\"", "{\"w\": [0]}", "[0, \"\"]");
    vx_eq("\"{state.w + [ state.n ]}\"", "{\"w\": [], \"n\": 2}", "[2]");
    vx_eq("\"{state.w + [state.missing]}\"", "{\"w\": []}", "[null]");
    vx_eq("\"{state.w + [[1]]}\"", "{\"w\": []}", "[\"[1]\"]");
    /* { ... } is a map from comma/colon pieces; quotes trimmed off keys */
    vx_eq("\"{state.w + {\\\"a\\\": 1, 'b': state.name, c: true, bad, 'd':'x:y'}}\"",
          "{\"w\": [], \"name\": \"N\"}",
          "[{\"a\": 1, \"b\": \"N\", \"c\": true, \"d\": \"x:y\"}]");
    vx_eq("\"{state.w + {}}\"", "{\"w\": []}", "[{}]");
    vx_eq("\"{state.w + {a: 1, a: 2}}\"", "{\"w\": []}", "[{\"a\": 2}]");
    /* a state.<path> right operand: everything after "state." */
    vx_eq("\"{state.w + state.n}\"", "{\"w\": [], \"n\": 2}", "[2]");
    vx_eq("\"{state.w + state.l}\"", "{\"w\": [1], \"l\": [2, 3]}", "[1, 2, 3]");
    vx_eq("\"{state.w + null}\"", "{\"w\": []}", "[null]");
    vx_eq("\"{state.w + 'q'}\"", "{\"w\": []}", "[\"q\"]");
    vx_eq("\"{state.s + }\"", st, "\"x\""); /* right operand " " -> "" */
    vx_eq("\"{state.s +}\"", st, "null");   /* not arithmetic: path "s +" */
    (void)st;
}
END_TEST

START_TEST(test_vexpr_numbers_and_types)
{
    vx_eq("\"{state.x + 0.5}\"", "{\"x\": 1}", "1.5");
    vx_eq("\"{state.x * 2}\"", "{\"x\": 1.5}", "3.0");
    vx_eq("\"{state.x / 4}\"", "{\"x\": 1}", "0.25");
    vx_eq("\"{state.x / 2}\"", "{\"x\": -7}", "-3.5");
    vx_eq("\"{state.x - 10}\"", "{\"x\": 3}", "-7");
    vx_eq("\"{state.t + 1}\"", "{\"t\": true}", "2");
    vx_eq("\"{state.t + true}\"", "{\"t\": true}", "2");
    vx_eq("\"{state.t * 3}\"", "{\"t\": false}", "0");
    vx_eq("\"{state.x - true}\"", "{\"x\": 3}", "2");
    vx_eq("\"{state.s * 3}\"", "{\"s\": \"ab\"}", "\"ababab\"");
    vx_eq("\"{state.n * 'ab'}\"", "{\"n\": 2}", "\"abab\"");
    vx_eq("\"{state.s * -1}\"", "{\"s\": \"ab\"}", "\"\"");
    vx_eq("\"{state.s * true}\"", "{\"s\": \"ab\"}", "\"ab\"");
    vx_eq("\"{state.l * 2}\"", "{\"l\": [1, \"a\"]}", "[1, \"a\", 1, \"a\"]");
    vx_eq("\"{state.l * 0}\"", "{\"l\": [1]}", "[]");
    vx_eq("\"{state.n * [state.n]}\"", "{\"n\": 2}", "[2, 2]");
    vx_eq("\"{state.s + '1'}\"", "{\"s\": \"a\"}", "\"a1\"");
    vx_eq("\"{state.s + \\\"\\\"}\"", "{\"s\": \"a\"}", "\"a\"");

    vx_err("\"{state.s + 1}\"", "{\"s\": \"a\"}", YG_ETYPE);
    vx_err("\"{state.n + 'a'}\"", "{\"n\": 1}", YG_ETYPE);
    vx_err("\"{state.n + null}\"", "{\"n\": 1}", YG_ETYPE);
    vx_err("\"{state.n + state.missing}\"", "{\"n\": 1}", YG_ETYPE);
    vx_err("\"{state.s - 'a'}\"", "{\"s\": \"a\"}", YG_ETYPE);
    vx_err("\"{state.l - 1}\"", "{\"l\": []}", YG_ETYPE);
    vx_err("\"{state.m + 1}\"", "{\"m\": {}}", YG_ETYPE);
    vx_err("\"{state.s * 1.5}\"", "{\"s\": \"a\"}", YG_ETYPE);
    vx_err("\"{state.s * 's'}\"", "{\"s\": \"a\"}", YG_ETYPE);
    vx_err("\"{state.s / 2}\"", "{\"s\": \"a\"}", YG_ETYPE);
    vx_err("\"{state.n + [1]}\"", "{\"n\": 1}", YG_ETYPE);
    vx_err("\"{state.x / 0}\"", "{\"x\": 1}", YG_EEXPR);
    vx_err("\"{state.x / 0.0}\"", "{\"x\": 1.5}", YG_EEXPR);
    vx_err("\"{state.x / false}\"", "{\"x\": 1}", YG_EEXPR);
    /* [C] 64-bit integers */
    vx_err("\"{state.x + 1}\"", "{\"x\": 9223372036854775807}", YG_EEXPR);
    vx_err("\"{state.x * 3}\"", "{\"x\": 4611686018427387904}", YG_EEXPR);
    vx_err("\"{state.x - 2}\"", "{\"x\": -9223372036854775807}", YG_EEXPR);
    /* repetition is bounded */
    vx_err("\"{state.s * 99999999999}\"", "{\"s\": \"ab\"}", YG_ELIMIT);
    vx_err("\"{state.l * 99999999999}\"", "{\"l\": [1]}", YG_ELIMIT);
    vx_eq("\"{state.e * 99999999999}\"", "{\"e\": \"\"}", "\"\"");

    yg_error_t err = {0};
    ck_assert_ptr_null(vx("\"{state.s + 1}\"", "{\"s\": \"a\"}", &err));
    ck_assert_str_eq(err.message, "unsupported operand type(s) for +: 'str' and 'int'");
}
END_TEST

START_TEST(test_vexpr_grammar_edges)
{
    /* PATH [A-Za-z_][A-Za-z0-9_.]*, the operator is the first non-space
     * character after it */
    vx_err("\"{state.user-name}\"", "{\"user\": 5, \"user-name\": 1}", YG_ETYPE); /* 5 - "name" */
    vx_eq("\"{state.user-name}\"", "{\"user-name\": 1}", "null"); /* left operand user missing */
    vx_eq("\"{state.a.b + 1}\"", "{\"a\": {\"b\": 1}}", "2");
    vx_eq("\"{state.1a + 1}\"", "{\"1a\": 1}", "null"); /* not arithmetic: path "1a + 1" */
    vx_eq("\"{state.a ++ 1}\"", "{\"a\": \"x\"}", "\"x+ 1\"");
    vx_eq("\"{state.a\\n+\\n1}\"", "{\"a\": 1}", "2");   /* \s crosses lines */
    vx_eq("\"{state.a + 1\\n}\"", "{\"a\": 1}", "null"); /* . does not */
    vx_eq("\"{state.a + 1}}\"", "{\"a\": \"x\"}", "\"x1}\"");
    vx_eq("\"{ state.a + 1}\"", "{\"a\": 1}", "\"{ state.a + 1}\"");
    vx_eq("\"{state.a % 2}\"", "{\"a\": 1}", "null"); /* path "a % 2" */
    vx_eq("\"{state.a + -1}\"", "{\"a\": 1}", "0");
    vx_eq("\"{state.a - -1.5}\"", "{\"a\": 1}", "2.5");
}
END_TEST

START_TEST(test_vexpr_reads_constant_shared)
{
    yg_value_t *t = J("\"{state.h + {'k': state.v.x, 'j': state.h}}\"");
    yg_vexpr_t *e = yg_vexpr_compile(t, NULL);
    yg_value_destroy(&t);
    ck_assert(!yg_vexpr_is_constant(e));
    yg_value_t *out = yg_list_new();
    yg_vexpr_reads(e, out);
    check_reads(out, "[\"h\", \"v\"]");
    yg_value_destroy(&out);
    yg_vexpr_destroy(&e);

    t = J("\"{state.a.b}\"");
    e = yg_vexpr_compile(t, NULL);
    yg_value_destroy(&t);
    out = yg_list_new();
    yg_vexpr_reads(e, out);
    check_reads(out, "[\"a\"]");
    ck_assert(!yg_vexpr_is_constant(e));
    yg_value_destroy(&out);
    yg_vexpr_destroy(&e);

    /* constants are copies: changing the source does not change them, and
     * each evaluation returns an independent value */
    t = J("{\"k\": [1]}");
    e = yg_vexpr_compile(t, NULL);
    ck_assert(yg_vexpr_is_constant(e));
    yg_map_set(t, "k", yg_int_new(9));
    yg_value_t *r1 = yg_vexpr_eval(e, NULL, NULL);
    yg_value_t *r2 = yg_vexpr_eval(e, NULL, NULL);
    ck_assert_ptr_ne(r1, r2);
    ck_assert_uint_eq(yg_list_size(yg_map_get(r1, "k")), 1);
    yg_map_set(r1, "k", yg_null_new());
    ck_assert_uint_eq(yg_list_size(yg_map_get(r2, "k")), 1);
    out = yg_list_new();
    yg_vexpr_reads(e, out);
    ck_assert_uint_eq(yg_list_size(out), 0);
    yg_value_destroy(&out);
    yg_value_destroy(&r1);
    yg_value_destroy(&r2);
    yg_value_destroy(&t);
    yg_vexpr_destroy(&e);

    /* arithmetic never modifies the state's list */
    yg_value_t *st = J("{\"h\": [1]}");
    t = J("\"{state.h + 2}\"");
    e = yg_vexpr_compile(t, NULL);
    yg_value_t *r = yg_vexpr_eval(e, st, NULL);
    ck_assert_uint_eq(yg_list_size(r), 2);
    ck_assert_uint_eq(yg_list_size(yg_map_get(st, "h")), 1);
    yg_value_destroy(&r);
    yg_value_destroy(&st);
    yg_value_destroy(&t);
    yg_vexpr_destroy(&e);
    ck_assert_ptr_null(yg_vexpr_eval(NULL, NULL, NULL));
}
END_TEST

/* --- robustness ----------------------------------------------------------- */

static unsigned fuzz_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

START_TEST(test_fuzz_no_crash)
{
    static const char *const pieces[] = {
        "state.", "{",        "}",    "[",       "]",       " and ", " or ",
        " AND ",  "<",        "<=",   ">",       ">=",      "==",    "!=",
        "<<",     "+",        "-",    "*",       "/",       "'",     "\"",
        ",",      ":",        ".",    "a",       "b.c",     "_x",    "1",
        "0.5",    "-3",       "1e1",  "true",    "null",    " ",     "\t",
        "\n",     "\xc3\xa9", "\xff", "{state.", "[state.", "!",     "9999999999999999999999",
        "1_0",    "()",       "not ",
    };
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    yg_value_t *st = J("{\"a\": 1, \"b\": {\"c\": \"s\"}, \"_x\": [1, 2], \"l\": [], "
                       "\"x\": 0.5, \"s\": \"str\", \"state\": {\"a\": true}}");
    unsigned seed = 12345;
    char buf[512];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        int n = (int)(fuzz_rand(&seed) % 12);
        if (iter % 2 == 0)
            buf[len++] = '{';
        for (int k = 0; k < n; k++) {
            const char *p;
            char raw[2] = {0, 0};
            if (fuzz_rand(&seed) % 5 == 0) {
                raw[0] = (char)(1 + fuzz_rand(&seed) % 255);
                p = raw;
            } else {
                p = pieces[fuzz_rand(&seed) % npieces];
            }
            size_t pl = strlen(p);
            if (len + pl + 2 >= sizeof buf)
                break;
            memcpy(buf + len, p, pl);
            len += pl;
        }
        if (iter % 2 == 0)
            buf[len++] = '}';
        buf[len] = '\0';

        yg_error_t err = {0};
        yg_cond_t *c = yg_cond_compile(buf, &err);
        if (c) {
            bool r;
            ck_assert_int_eq(yg_cond_eval(c, st, &r, &err), YG_OK);
            yg_value_t *reads = yg_list_new();
            yg_cond_reads(c, reads);
            yg_value_destroy(&reads);
            yg_cond_destroy(&c);
        } else {
            ck_assert_int_ne(err.code, YG_OK);
            ck_assert(err.column >= 1 || err.code != YG_EEXPR);
        }
        yg_value_t *t = yg_str_newn(buf, len);
        yg_error_clear(&err);
        yg_vexpr_t *e = yg_vexpr_compile(t, &err);
        ck_assert_ptr_nonnull(e);
        yg_value_t *r = yg_vexpr_eval(e, st, &err);
        if (!r)
            ck_assert_int_ne(err.code, YG_OK);
        yg_value_destroy(&r);
        yg_value_t *reads = yg_list_new();
        yg_vexpr_reads(e, reads);
        yg_value_destroy(&reads);
        yg_vexpr_destroy(&e);
        r = yg_path_strict(st, t, &err);
        yg_value_destroy(&r);
        yg_value_destroy(&t);
        yg_value_t *lit = yg_literal_parse(buf, len);
        ck_assert_ptr_nonnull(lit);
        yg_value_destroy(&lit);
    }
    yg_value_destroy(&st);
}
END_TEST

/* --- the real corpus ------------------------------------------------------ */

typedef void (*line_fn)(const char *path, int lineno, const char *line, void *ctx);

/* Call fn for every line of every .yaml file under dir (recursively). */
static void walk_yaml(const char *dir, line_fn fn, void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            walk_yaml(path, fn, ctx);
            continue;
        }
        size_t n = strlen(path);
        if (n < 5 || strcmp(path + n - 5, ".yaml") != 0)
            continue;
        char *text = testutil_read_file(path, NULL);
        if (!text)
            continue;
        int lineno = 1;
        for (char *line = text; line; lineno++) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            fn(path, lineno, line, ctx);
            line = nl ? nl + 1 : NULL;
        }
        free(text);
    }
    closedir(d);
}

/* The scalar after "key:" on a line, unquoted, into out; false if absent,
 * empty or a block scalar. */
static bool yaml_value(const char *line, const char *key, char *out, size_t size)
{
    const char *k = strstr(line, key);
    if (!k)
        return false;
    const char *v = k + strlen(key);
    while (*v == ' ')
        v++;
    size_t len = strlen(v);
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\r'))
        len--;
    if (len == 0 || *v == '|' || *v == '>' || *v == '#' || len >= size)
        return false;
    if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
        v++;
        len -= 2;
    }
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
}

typedef struct {
    int conditions;
    int templates;
    int arithmetic;
} corpus_counts_t;

static void check_corpus_line(const char *path, int lineno, const char *line, void *ctx)
{
    corpus_counts_t *counts = ctx;
    char value[1024];
    if (yaml_value(line, "condition:", value, sizeof value)) {
        yg_error_t err = {0};
        yg_cond_t *c = yg_cond_compile(value, &err);
        ck_assert_msg(c != NULL, "%s:%d: <%s>: %s", path, lineno, value, err.message);
        bool r;
        ck_assert_int_eq(yg_cond_eval(c, NULL, &r, &err), YG_OK);
        yg_cond_destroy(&c);
        counts->conditions++;
    }
    /* quoted "{state....}" value templates */
    for (const char *p = strstr(line, "\"{state."); p; p = strstr(p + 1, "\"{state.")) {
        const char *end = strstr(p + 1, "}\"");
        if (!end)
            break;
        yg_value_t *t = yg_str_newn(p + 1, (size_t)(end - p));
        yg_vexpr_t *e = yg_vexpr_compile(t, NULL);
        ck_assert_ptr_nonnull(e);
        ck_assert_msg(!yg_vexpr_is_constant(e), "%s:%d: %s", path, lineno, yg_value_str(t));
        yg_value_t *reads = yg_list_new();
        yg_vexpr_reads(e, reads);
        ck_assert_uint_ge(yg_list_size(reads), 1);
        if (strpbrk(yg_value_str(t), "+*/") && strchr(yg_value_str(t), ' '))
            counts->arithmetic++;
        yg_value_destroy(&reads);
        yg_vexpr_destroy(&e);
        yg_value_destroy(&t);
        counts->templates++;
    }
}

START_TEST(test_corpus_expressions)
{
    corpus_counts_t counts = {0};
    walk_yaml(YG_CORPUS_DIR, check_corpus_line, &counts);
    /* the corpus has a dozen conditions and many templates */
    ck_assert_int_ge(counts.conditions, 10);
    ck_assert_int_ge(counts.templates, 40);
    ck_assert_int_ge(counts.arithmetic, 1);
}
END_TEST

static Suite *expr_suite(void)
{
    Suite *s = suite_create("expr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_literals_spec);
    tcase_add_test(tc, test_literals_edges);
    tcase_add_test(tc, test_path_lenient);
    tcase_add_test(tc, test_path_strict);
    tcase_add_test(tc, test_cond_item1_whitespace);
    tcase_add_test(tc, test_cond_item2_3_missing_and_null);
    tcase_add_test(tc, test_cond_item4_precedence);
    tcase_add_test(tc, test_cond_item5_nested);
    tcase_add_test(tc, test_cond_operators);
    tcase_add_test(tc, test_cond_python_semantics);
    tcase_add_test(tc, test_cond_item7_invalid);
    tcase_add_test(tc, test_cond_limits);
    tcase_add_test(tc, test_cond_groups_items_8_to_11);
    tcase_add_test(tc, test_cond_item12_router_targets);
    tcase_add_test(tc, test_cond_reads);
    tcase_add_test(tc, test_vexpr_item32_lenient);
    tcase_add_test(tc, test_vexpr_item33_arithmetic);
    tcase_add_test(tc, test_vexpr_item34_36_passthrough_forms);
    tcase_add_test(tc, test_vexpr_operand_forms);
    tcase_add_test(tc, test_vexpr_numbers_and_types);
    tcase_add_test(tc, test_vexpr_grammar_edges);
    tcase_add_test(tc, test_vexpr_reads_constant_shared);
    tcase_add_test(tc, test_fuzz_no_crash);
    tcase_add_test(tc, test_corpus_expressions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(expr_suite(), 30);
}
