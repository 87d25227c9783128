/*
 * test_prompt.c - prompt files (spec 7.1) and structured-output schema
 * conversion (spec 7.6) with positioned errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yg_prompt.h"
#include "yg_template.h"

static yg_prompt_t *load(const char *text, yg_error_t *err)
{
    yg_error_clear(err);
    return yg_prompt_load_text("demo/p", "p.yaml", text, strlen(text), err);
}

static yg_value_t *prop(const yg_prompt_t *p, const char *name)
{
    return yg_map_get(yg_map_get(p->schema, "properties"), name);
}

static bool list_has(const yg_value_t *list, const char *s)
{
    for (size_t i = 0; i < yg_list_size(list); i++)
        if (yg_value_str(yg_list_get(list, i)) && strcmp(yg_value_str(yg_list_get(list, i)), s) == 0)
            return true;
    return false;
}

START_TEST(plain_prompt)
{
    yg_error_t err = {0};
    yg_prompt_t *p = load("name: ignored\nmodel: x\nsystem: |\n  Be brief.\nuser: \"Hi {name}\"\n"
                          "provider: mistral\n",
                          &err);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->name, "demo/p");
    ck_assert_str_eq(p->path, "p.yaml");
    ck_assert_str_eq(p->system_src, "Be brief.\n");
    ck_assert_str_eq(p->user_src, "Hi {name}");
    ck_assert_ptr_nonnull(p->system);
    ck_assert_ptr_nonnull(p->user);
    ck_assert_int_eq(yg_tmpl_mode(p->user), YG_TMPL_SIMPLE);
    ck_assert_str_eq(p->provider, "mistral");
    ck_assert_ptr_null(p->schema);
    ck_assert_ptr_null(p->schema_name);
    yg_prompt_destroy(&p);
    ck_assert_ptr_null(p);

    /* no system: "" and no template; no user: NULL */
    p = load("user: \"{{ x }}\"\n", &err);
    ck_assert_str_eq(p->system_src, "");
    ck_assert_ptr_null(p->system);
    ck_assert_int_eq(yg_tmpl_mode(p->user), YG_TMPL_JINJA);
    yg_prompt_destroy(&p);
    p = load("system: only\n", &err);
    ck_assert_ptr_null(p->user_src);
    ck_assert_ptr_null(p->user);
    yg_prompt_destroy(&p);
}
END_TEST

START_TEST(prompt_errors)
{
    yg_error_t err = {0};
    ck_assert_ptr_null(load("user: [a, b]\n", &err));
    ck_assert_int_eq(err.line, 1);
    ck_assert_int_eq(err.column, 7);
    ck_assert_ptr_nonnull(strstr(err.message, "'user' must be text"));

    /* a template error points into the prompt file, inside the block scalar */
    ck_assert_ptr_null(load("system: s\nuser: |\n  line one\n  {% for x in %}\n", &err));
    ck_assert_int_eq(err.code, YG_ETEMPLATE);
    ck_assert_str_eq(err.file, "p.yaml");
    ck_assert_int_eq(err.line, 4);
    ck_assert_ptr_nonnull(strstr(err.message, "'user' template"));

    ck_assert_ptr_null(load("user: hi\nuser: again\n", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "duplicate key 'user'"));
}
END_TEST

START_TEST(native_schema)
{
    yg_error_t err = {0};
    yg_prompt_t *p = load("schema:\n  name: Critique\n  fields:\n"
                          "    score:\n      type: float\n      description: quality\n"
                          "      constraints: {ge: 0.0, le: 1.0}\n"
                          "    tags:\n      type: list[str]\n      default: []\n"
                          "      constraints: {min_length: 1}\n"
                          "    meta:\n      type: dict[str, Any]\n      optional: true\n"
                          "    anything:\n      type: Any\n"
                          "    count: int\n"
                          "user: go\n",
                          &err);
    ck_assert_msg(p != NULL, "%s", err.message);
    ck_assert_str_eq(p->schema_name, "Critique");
    ck_assert_str_eq(yg_value_str(yg_map_get(p->schema, "type")), "object");
    ck_assert_str_eq(yg_value_str(yg_map_get(p->schema, "title")), "Critique");
    yg_value_t *score = prop(p, "score");
    ck_assert_str_eq(yg_value_str(yg_map_get(score, "type")), "number");
    ck_assert_str_eq(yg_value_str(yg_map_get(score, "description")), "quality");
    ck_assert_double_eq(yg_value_float(yg_map_get(score, "minimum")), 0.0);
    ck_assert_double_eq(yg_value_float(yg_map_get(score, "maximum")), 1.0);
    yg_value_t *tags = prop(p, "tags");
    ck_assert_str_eq(yg_value_str(yg_map_get(tags, "type")), "array");
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_map_get(tags, "items"), "type")), "string");
    ck_assert_int_eq(yg_value_int(yg_map_get(tags, "minItems")), 1);
    ck_assert_int_eq(yg_value_type(yg_map_get(tags, "default")), YG_LIST);
    yg_value_t *meta = prop(p, "meta");
    ck_assert_int_eq(yg_value_type(yg_map_get(meta, "type")), YG_LIST); /* [object, null] */
    ck_assert(list_has(yg_map_get(meta, "type"), "null"));
    ck_assert(yg_map_has(meta, "default"));
    ck_assert_int_eq(yg_value_type(yg_map_get(meta, "default")), YG_NULL);
    ck_assert(yg_map_has(meta, "additionalProperties"));
    ck_assert(!yg_map_has(prop(p, "anything"), "type"));
    ck_assert_str_eq(yg_value_str(yg_map_get(prop(p, "count"), "type")), "integer");
    yg_value_t *req = yg_map_get(p->schema, "required");
    ck_assert(list_has(req, "score") && list_has(req, "anything") && list_has(req, "count"));
    ck_assert(!list_has(req, "tags") && !list_has(req, "meta"));
    yg_prompt_destroy(&p);
}
END_TEST

START_TEST(json_schema_form)
{
    yg_error_t err = {0};
    yg_prompt_t *p = load("output_schema:\n  type: object\n  properties:\n"
                          "    mood:\n      type: string\n      enum: [a, b]\n"
                          "    n:\n      type: integer\n      minimum: 1\n"
                          "    items:\n      type: array\n      items: {type: number}\n"
                          "    odd:\n      type: weird\n"
                          "  required: [mood]\n"
                          "user: go\n",
                          &err);
    ck_assert_msg(p != NULL, "%s", err.message);
    ck_assert_ptr_null(p->schema_name);
    ck_assert_str_eq(yg_value_str(yg_map_get(prop(p, "mood"), "type")), "string");
    ck_assert(!yg_map_has(prop(p, "mood"), "enum"));
    ck_assert(list_has(yg_map_get(prop(p, "n"), "type"), "integer"));
    ck_assert(list_has(yg_map_get(prop(p, "n"), "type"), "null"));
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_map_get(prop(p, "items"), "items"), "type")),
                     "number");
    ck_assert(list_has(yg_map_get(prop(p, "odd"), "type"), "string")); /* unknown -> string */
    yg_value_t *req = yg_map_get(p->schema, "required");
    ck_assert_uint_eq(yg_list_size(req), 1);
    yg_prompt_destroy(&p);

    /* `schema` is checked first when both are present */
    p = load("schema:\n  name: N\n  fields:\n    a: {type: str}\n"
             "output_schema:\n  type: object\n  properties: {b: {type: string}}\nuser: go\n",
             &err);
    ck_assert_ptr_nonnull(prop(p, "a"));
    ck_assert_ptr_null(prop(p, "b"));
    yg_prompt_destroy(&p);
}
END_TEST

START_TEST(schema_errors_have_positions)
{
    yg_error_t err = {0};
    ck_assert_ptr_null(load("user: go\nschema:\n  name: X\n  fields:\n    a:\n"
                            "      type: list[list[str]]\n",
                            &err));
    ck_assert_int_eq(err.line, 6);
    ck_assert_int_eq(err.column, 13);
    ck_assert_ptr_nonnull(strstr(err.message, "unknown type 'list[list[str]]'"));

    ck_assert_ptr_null(load("schema:\n  name: X\n  fields:\n    a:\n      description: d\n", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "needs a 'type'"));
    ck_assert_int_eq(err.line, 4);

    ck_assert_ptr_null(load("schema:\n  name: X\n", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "'fields'"));

    ck_assert_ptr_null(load("schema:\n  fields:\n    a:\n      type: int\n"
                            "      constraints: {between: 3}\n",
                            &err));
    ck_assert_ptr_nonnull(strstr(err.message, "unknown constraint 'between'"));
    ck_assert_int_eq(err.line, 5);

    ck_assert_ptr_null(load("schema:\n  fields:\n    a:\n      type: int\n"
                            "      constraints: {ge: high}\n",
                            &err));
    ck_assert_ptr_nonnull(strstr(err.message, "must be a number"));

    ck_assert_ptr_null(load("output_schema:\n  type: array\n", &err));
    ck_assert_int_eq(err.line, 2);
    ck_assert_int_eq(err.column, 9);
    ck_assert_ptr_nonnull(strstr(err.message, "type: object"));

    ck_assert_ptr_null(load("output_schema:\n  type: object\n  required: mood\n", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "'required' must be a list"));
}
END_TEST

START_TEST(load_file)
{
    const char *path = testutil_write_temp("pf/x.yaml", "system: s\nuser: u\n");
    yg_error_t err = {0};
    yg_prompt_t *p = yg_prompt_load_file("x", path, &err);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->user_src, "u");
    yg_prompt_destroy(&p);
    ck_assert_ptr_null(yg_prompt_load_file("x", "/nonexistent/x.yaml", &err));
    ck_assert_int_eq(err.code, YG_ENOTFOUND);
    yg_prompt_destroy(NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("prompt");
    TCase *tc = tcase_create("prompt");
    tcase_add_test(tc, plain_prompt);
    tcase_add_test(tc, prompt_errors);
    tcase_add_test(tc, native_schema);
    tcase_add_test(tc, json_schema_form);
    tcase_add_test(tc, schema_errors_have_positions);
    tcase_add_test(tc, load_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
