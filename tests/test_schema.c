/*
 * test_schema.c - structured-output schemas: both prompt-file forms,
 * validation, defaults, placeholders.
 */
#include <string.h>

#include "testutil.h"
#include "yg_schema.h"

static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad test JSON: %s", err.message);
    return v;
}

static yg_value_t *native_schema(void)
{
    yg_value_t *section = J("{\"name\": \"Critique\", \"fields\": {"
                            "\"title\": {\"type\": \"str\", \"description\": \"t\"},"
                            "\"score\": {\"type\": \"float\", \"constraints\": {\"ge\": 0, \"le\": 1}},"
                            "\"count\": {\"type\": \"int\", \"default\": 7},"
                            "\"tags\": {\"type\": \"list[str]\", \"default\": []},"
                            "\"note\": {\"type\": \"str\", \"optional\": true},"
                            "\"meta\": {\"type\": \"dict[str, int]\", \"optional\": true},"
                            "\"anything\": {\"type\": \"Any\", \"default\": null},"
                            "\"code\": {\"type\": \"str\", \"default\": \"AB\","
                            "           \"constraints\": {\"pattern\": \"^[A-Z]+$\", \"max_length\": 3}}}}");
    yg_error_t err = {0};
    yg_value_t *schema = yg_schema_from_native(section, &err);
    ck_assert_msg(schema != NULL, "%s", err.message);
    yg_value_destroy(&section);
    return schema;
}

START_TEST(test_native_valid_with_defaults)
{
    yg_value_t *schema = native_schema();
    yg_value_t *reply = J("{\"title\": \"x\", \"score\": 1, \"extra\": true}");
    yg_value_t *out = NULL;
    yg_error_t err = {0};
    ck_assert_int_eq(yg_schema_validate(schema, reply, &out, &err), YG_OK);
    yg_value_t *expect = J("{\"title\": \"x\", \"score\": 1.0, \"extra\": true, \"count\": 7,"
                           " \"tags\": [], \"note\": null, \"meta\": null, \"anything\": null,"
                           " \"code\": \"AB\"}");
    ck_assert(yg_value_equal(out, expect));
    /* the int was coerced to a float for a `float` field */
    ck_assert_int_eq(yg_value_type(yg_map_get(out, "score")), YG_FLOAT);
    yg_value_destroy(&expect);
    yg_value_destroy(&out);
    yg_value_destroy(&reply);
    yg_value_destroy(&schema);
}
END_TEST

static void expect_invalid(const yg_value_t *schema, const char *json, const char *needle)
{
    yg_value_t *reply = J(json);
    yg_value_t *out = NULL;
    yg_error_t err = {0};
    ck_assert_int_eq(yg_schema_validate(schema, reply, &out, &err), YG_ESCHEMA);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err.message, needle) != NULL, "'%s' not in '%s'", needle, err.message);
    yg_value_destroy(&reply);
}

START_TEST(test_native_invalid)
{
    yg_value_t *schema = native_schema();
    expect_invalid(schema, "{\"score\": 0.5}", "'title': field required");
    expect_invalid(schema, "{\"title\": \"x\", \"score\": 2}", "maximum");
    expect_invalid(schema, "{\"title\": \"x\", \"score\": -0.1}", "minimum");
    expect_invalid(schema, "{\"title\": 3, \"score\": 0.5}", "'title': expected string, got integer");
    expect_invalid(schema, "{\"title\": \"x\", \"score\": 0.5, \"tags\": [\"a\", 1]}", "tags[1]");
    expect_invalid(schema, "{\"title\": \"x\", \"score\": 0.5, \"meta\": {\"a\": \"b\"}}",
                   "meta.a");
    expect_invalid(schema, "{\"title\": \"x\", \"score\": 0.5, \"code\": \"ab\"}", "pattern");
    expect_invalid(schema, "{\"title\": \"x\", \"score\": 0.5, \"code\": \"ABCD\"}", "maxLength");
    expect_invalid(schema, "{\"title\": \"x\", \"score\": \"high\"}", "expected number");
    yg_value_destroy(&schema);
}
END_TEST

START_TEST(test_native_unknown_type)
{
    yg_value_t *section = J("{\"fields\": {\"deep\": {\"type\": \"list[list[str]]\"}}}");
    yg_error_t err = {0};
    ck_assert_ptr_null(yg_schema_from_native(section, &err));
    ck_assert_int_eq(err.code, YG_EVALIDATE);
    ck_assert_ptr_nonnull(strstr(err.message, "deep"));
    yg_value_destroy(&section);
}
END_TEST

START_TEST(test_output_schema_form)
{
    yg_value_t *section = J("{\"type\": \"object\", \"properties\": {"
                            "\"name\": {\"type\": \"string\"},"
                            "\"age\": {\"type\": \"integer\", \"minimum\": 10},"
                            "\"kind\": {\"type\": \"string\", \"enum\": [\"a\", \"b\"]},"
                            "\"items\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
                            "\"odd\": {\"type\": \"weird\"}},"
                            "\"required\": [\"name\", \"age\"]}");
    yg_error_t err = {0};
    yg_value_t *schema = yg_schema_from_output_schema(section, &err);
    ck_assert_msg(schema != NULL, "%s", err.message);
    /* minimum is ignored in this form; enum is not enforced; an integral
     * float is accepted as integer */
    yg_value_t *reply = J("{\"name\": \"n\", \"age\": 3.0, \"kind\": \"zzz\"}");
    yg_value_t *out = NULL;
    ck_assert_int_eq(yg_schema_validate(schema, reply, &out, &err), YG_OK);
    yg_value_t *expect = J("{\"name\": \"n\", \"age\": 3, \"kind\": \"zzz\", \"items\": null,"
                           " \"odd\": null}");
    ck_assert(yg_value_equal(out, expect));
    ck_assert_int_eq(yg_value_type(yg_map_get(out, "age")), YG_INT);
    yg_value_destroy(&out);
    yg_value_destroy(&expect);
    expect_invalid(schema, "{\"name\": \"n\"}", "'age': field required");
    expect_invalid(schema, "{\"name\": \"n\", \"age\": 2.5}", "expected integer");
    expect_invalid(schema, "{\"name\": \"n\", \"age\": 1, \"items\": [1]}", "items[0]");
    /* unknown property type becomes string */
    expect_invalid(schema, "{\"name\": \"n\", \"age\": 1, \"odd\": 5}", "'odd'");
    yg_value_destroy(&reply);
    yg_value_destroy(&schema);
    yg_value_destroy(&section);

    yg_value_t *bad = J("{\"type\": \"array\"}");
    ck_assert_ptr_null(yg_schema_from_output_schema(bad, &err));
    ck_assert_int_eq(err.code, YG_EVALIDATE);
    yg_value_destroy(&bad);
}
END_TEST

START_TEST(test_generic_report)
{
    yg_value_t *schema = yg_schema_generic_report();
    ck_assert_ptr_nonnull(schema);
    yg_value_t *reply = J("{\"title\": \"T\", \"summary\": \"S\", \"findings\": [\"f\"]}");
    yg_value_t *out = NULL;
    yg_error_t err = {0};
    ck_assert_int_eq(yg_schema_validate(schema, reply, &out, &err), YG_OK);
    yg_value_t *expect = J("{\"title\": \"T\", \"summary\": \"S\", \"findings\": [\"f\"],"
                           " \"sections\": {}, \"recommendations\": [], \"metadata\": {}}");
    ck_assert(yg_value_equal(out, expect));
    yg_value_destroy(&expect);
    yg_value_destroy(&out);
    expect_invalid(schema, "{\"title\": \"T\"}", "summary");
    yg_value_destroy(&reply);
    yg_value_destroy(&schema);
}
END_TEST

START_TEST(test_placeholder_validates)
{
    yg_value_t *schemas[3];
    schemas[0] = native_schema();
    schemas[1] = yg_schema_generic_report();
    schemas[2] = J("{\"type\": \"object\", \"properties\": {"
                   "\"tone\": {\"type\": \"string\", \"enum\": [\"positive\", \"negative\"]},"
                   "\"n\": {\"type\": \"integer\", \"exclusiveMinimum\": 4},"
                   "\"s\": {\"type\": \"string\", \"minLength\": 8},"
                   "\"o\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"boolean\"}},"
                   "        \"required\": [\"x\"]}},"
                   "\"required\": [\"tone\", \"n\", \"s\", \"o\"]}");
    for (int i = 0; i < 3; i++) {
        yg_value_t *p = yg_schema_placeholder(schemas[i]);
        yg_value_t *out = NULL;
        yg_error_t err = {0};
        ck_assert_msg(yg_schema_validate(schemas[i], p, &out, &err) == YG_OK, "schema %d: %s", i,
                      err.message);
        if (i == 2) {
            ck_assert_str_eq(yg_value_str(yg_map_get(out, "tone")), "positive");
            ck_assert_int_eq(yg_value_int(yg_map_get(out, "n")), 5);
        }
        yg_value_destroy(&out);
        yg_value_destroy(&p);
        yg_value_destroy(&schemas[i]);
    }
}
END_TEST

START_TEST(test_any_of_and_depth)
{
    yg_value_t *schema = J("{\"anyOf\": [{\"type\": \"integer\"}, {\"type\": \"null\"}]}");
    yg_value_t *v = J("5");
    yg_value_t *out = NULL;
    yg_error_t err = {0};
    ck_assert_int_eq(yg_schema_validate(schema, v, &out, &err), YG_OK);
    ck_assert_int_eq(yg_value_int(out), 5);
    yg_value_destroy(&out);
    yg_value_destroy(&v);
    v = J("\"x\"");
    ck_assert_int_eq(yg_schema_validate(schema, v, &out, &err), YG_ESCHEMA);
    yg_value_destroy(&v);
    yg_value_destroy(&schema);

    /* deep nesting (as deep as the JSON decoder allows) validates */
    char json[4096] = "";
    for (int i = 0; i < 60; i++)
        strcat(json, "{\"items\":");
    strcat(json, "{}");
    for (int i = 0; i < 60; i++)
        strcat(json, "}");
    schema = J(json);
    char val[512] = "";
    for (int i = 0; i < 60; i++)
        strcat(val, "[");
    for (int i = 0; i < 60; i++)
        strcat(val, "]");
    v = J(val);
    ck_assert_int_eq(yg_schema_validate(schema, v, &out, &err), YG_OK);
    ck_assert(yg_value_equal(out, v));
    yg_value_destroy(&out);
    yg_value_destroy(&v);
    yg_value_destroy(&schema);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("schema");
    tcase_add_test(tc, test_native_valid_with_defaults);
    tcase_add_test(tc, test_native_invalid);
    tcase_add_test(tc, test_native_unknown_type);
    tcase_add_test(tc, test_output_schema_form);
    tcase_add_test(tc, test_generic_report);
    tcase_add_test(tc, test_placeholder_validates);
    tcase_add_test(tc, test_any_of_and_depth);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
