/*
 * test_jsonx.c - parse_json extraction (spec 4.4, conformance items 26,
 * 28-30).
 */
#include "testutil.h"

#include "yamlgraph/yg_value.h"
#include "yg_expr.h"

#include <stdlib.h>
#include <string.h>

static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad fixture %s: %s", json, err.message);
    return v;
}

/* extract_json(text) must equal the JSON value `expected_json`, with the
 * same top-level type. */
static void extracts(const char *text, const char *expected_json)
{
    yg_value_t *in = yg_str_new(text);
    yg_value_t *got = yg_json_extract(in);
    yg_value_t *want = J(expected_json);
    char *g = yg_json_encode(got, false, NULL);
    ck_assert_msg(yg_value_type(got) == yg_value_type(want) && yg_value_equal(got, want),
                  "extract <%s>: got %s, want %s", text, g, expected_json);
    free(g);
    yg_value_destroy(&in);
    yg_value_destroy(&got);
    yg_value_destroy(&want);
}

/* extract_json(text) must give back the string `expected`. */
static void extracts_text(const char *text, const char *expected)
{
    yg_value_t *in = yg_str_new(text);
    yg_value_t *got = yg_json_extract(in);
    ck_assert_int_eq(yg_value_type(got), YG_STR);
    ck_assert_str_eq(yg_value_str(got), expected);
    yg_value_destroy(&in);
    yg_value_destroy(&got);
}

START_TEST(test_item26_fenced_then_prose)
{
    extracts("```json\n{\"name\": \"test\", \"value\": 42}\n```\nThis is the analysis.",
             "{\"name\": \"test\", \"value\": 42}");
}
END_TEST

START_TEST(test_item28_direct_and_found)
{
    extracts("{\"name\": \"test\", \"value\": 42}", "{\"name\": \"test\", \"value\": 42}");
    extracts("[1, 2, 3]", "[1, 2, 3]");
    extracts("  \n [1, 2, 3] \n", "[1, 2, 3]");
    extracts("```json\n{\"frequency\": 3, \"amount\": null}\n```",
             "{\"frequency\": 3, \"amount\": null}");
    extracts("```\n{\"status\": \"ok\"}\n```", "{\"status\": \"ok\"}");
    extracts("Here is the result: {\"key\": \"value\"} hope it helps", "{\"key\": \"value\"}");
    extracts("The list is [\"a\", \"b\", \"c\"] as requested", "[\"a\", \"b\", \"c\"]");
    /* rule 1 accepts any JSON type */
    extracts("42", "42");
    extracts("\"quoted\"", "\"quoted\"");
    extracts("true", "true");
}
END_TEST

START_TEST(test_item29_innermost_flat)
{
    extracts("Before {\"outer\": {\"inner\": {\"deep\": 123}}} after", "{\"deep\": 123}");
    extracts("Data: [[1, 2], [3, 4]] end", "[1, 2]");
    extracts("```json\n{\"outer\": {\"inner\": [1, {\"deep\": true}]}}\n```",
             "{\"outer\": {\"inner\": [1, {\"deep\": true}]}}");
    /* objects before arrays; flat arrays before balanced objects */
    extracts("x [1] {\"a\": 1}", "{\"a\": 1}");
    extracts("x {\"a\": [1, {\"b\": 2}]} [9]", "{\"b\": 2}");
    extracts("x {\"a\": {bad} } [9]", "[9]");
}
END_TEST

START_TEST(test_item30_precedence_and_fallbacks)
{
    extracts("First {\"wrong\": true} then\n```json\n{\"correct\": true}\n```",
             "{\"correct\": true}");
    extracts("```json\n{invalid json}\n```\nBut here: {\"valid\": true}", "{\"valid\": true}");
    extracts_text("", "");
    extracts_text("   \n\t ", "");
    extracts_text("  This is just plain text.  ", "This is just plain text.");
    extracts_text("{not json} and [also not", "{not json} and [also not");

    yg_value_t *null_in = yg_null_new();
    yg_value_t *out = yg_json_extract(null_in);
    ck_assert_int_eq(yg_value_type(out), YG_NULL);
    yg_value_destroy(&out);
    out = yg_json_extract(NULL);
    ck_assert_int_eq(yg_value_type(out), YG_NULL);
    yg_value_destroy(&out);
    yg_value_destroy(&null_in);
}
END_TEST

START_TEST(test_fences)
{
    /* case-insensitive tag, optional newline, whitespace trimmed */
    extracts("```JSON {\"a\": 1}```", "{\"a\": 1}");
    extracts("```Json\r\n  {\"a\": 2}  \r\n```", "{\"a\": 2}");
    /* another language tag stays in the body: rule 3 fails, rule 4 finds it */
    extracts("```python\n{\"a\": 3}\n```", "{\"a\": 3}");
    extracts("```yaml\n[1, [2]]\n```", "[2]");
    /* unterminated fence: later rules */
    extracts("```json\n{\"a\": 4}", "{\"a\": 4}");
    /* the first ```json block counts even if a later one is valid */
    extracts("```json\n{bad}\n```\n```json\n{\"b\": 1}\n```", "{\"b\": 1}");
    /* an untagged fence may hold any JSON value */
    extracts("text ```\n\"s\"\n``` more", "\"s\"");
    /* balanced scan when no flat candidate parses (braces inside strings
     * defeat the flat scan but balance out) */
    extracts("x {\"k\": {\"v\": \"{x}\"}} y", "{\"k\": {\"v\": \"{x}\"}}");
    /* a balanced candidate that does not parse ends the object search */
    extracts_text("x {\"k\": {\"a\": \"}\"}}", "x {\"k\": {\"a\": \"}\"}}");
}
END_TEST

START_TEST(test_balanced_and_strings)
{
    /* the flat scan only sees the innermost braces; "{\"a\": \"{\"}" has an
     * inner brace inside a string, so only the balanced scan can succeed,
     * and it counts braces inside strings too (no match here) */
    extracts_text("pre {\"a\": \"{\"} post", "pre {\"a\": \"{\"} post");
    extracts_text("pre [\"[x\", 1] post", "pre [\"[x\", 1] post");
    extracts("pre [[\"x\"], \"y\"] post", "[\"x\"]");
    /* non-string input comes back unchanged */
    yg_value_t *m = J("{\"a\": [1]}");
    yg_value_t *out = yg_json_extract(m);
    ck_assert(yg_value_equal(out, m));
    yg_value_destroy(&out);
    yg_value_destroy(&m);
}
END_TEST

static unsigned fuzz_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

START_TEST(test_fuzz_no_crash)
{
    static const char *const pieces[] = {"{",  "}", "[",  "]",        "```",  "```json", "\"",
                                         ":",  ",", "1",  "true",     "null", "\"a\"",   " ",
                                         "\n", "x", "\\", "\xc3\xa9", "\xff"};
    const size_t n = sizeof pieces / sizeof pieces[0];
    unsigned seed = 7;
    char buf[400];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        int k = (int)(fuzz_rand(&seed) % 20);
        for (int i = 0; i < k; i++) {
            const char *p = pieces[fuzz_rand(&seed) % n];
            size_t pl = strlen(p);
            if (len + pl >= sizeof buf)
                break;
            memcpy(buf + len, p, pl);
            len += pl;
        }
        yg_value_t *in = yg_str_newn(buf, len);
        yg_value_t *out = yg_json_extract(in);
        ck_assert_ptr_nonnull(out);
        yg_value_destroy(&out);
        yg_value_destroy(&in);
    }
}
END_TEST

static Suite *jsonx_suite(void)
{
    Suite *s = suite_create("jsonx");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_item26_fenced_then_prose);
    tcase_add_test(tc, test_item28_direct_and_found);
    tcase_add_test(tc, test_item29_innermost_flat);
    tcase_add_test(tc, test_item30_precedence_and_fallbacks);
    tcase_add_test(tc, test_fences);
    tcase_add_test(tc, test_balanced_and_strings);
    tcase_add_test(tc, test_fuzz_no_crash);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(jsonx_suite(), 30);
}
