/*
 * test_conformance_modules.c - conformance tests at the module level (the
 * natural place for template, linter, expression, loader and export
 * behaviours) for the spec section 15 items and docs/compatibility.md
 * choices no other suite asserts.  docs/conformance.md maps every item and
 * bullet to its test.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include <czmq.h>

#include "yamlgraph/yg_value.h"
#include "yg_checkpoint.h"
#include "yg_export.h"
#include "yg_expr.h"
#include "yg_graph.h"
#include "yg_lint.h"
#include "yg_pytext.h"
#include "yg_template.h"

static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad test JSON %s: %s", json, err.message);
    return v;
}

/* ---- templates (compatibility: prompt templates) ------------------------------------ */

/* Render text with vars / state given as JSON (NULL = none); NULL + err on failure. */
static char *render(const char *text, const char *vars_json, const char *state_json,
                    yg_error_t *err)
{
    yg_value_t *vars = vars_json ? J(vars_json) : NULL;
    yg_value_t *state = state_json ? J(state_json) : NULL;
    char *out = NULL;
    yg_tmpl_t *t = yg_tmpl_compile(text, strlen(text), "p.yaml", 1, 1, err);
    if (t)
        out = yg_tmpl_render(t, vars, state, err);
    yg_tmpl_destroy(&t);
    yg_value_destroy(&vars);
    yg_value_destroy(&state);
    return out;
}

static void renders(const char *text, const char *vars_json, const char *expected)
{
    yg_error_t err = {0};
    char *out = render(text, vars_json, NULL, &err);
    ck_assert_msg(out != NULL, "%s: %d:%d %s", text, err.line, err.column, err.message);
    ck_assert_msg(strcmp(out, expected) == 0, "%s: got [%s], expected [%s]", text, out, expected);
    free(out);
}

static void render_fails(const char *text, const char *vars_json, const char *needle)
{
    yg_error_t err = {0};
    char *out = render(text, vars_json, NULL, &err);
    ck_assert_msg(out == NULL, "%s rendered [%s]", text, out ? out : "");
    ck_assert_int_eq(err.code, YG_ETEMPLATE);
    ck_assert_msg(strstr(err.message, needle) != NULL, "%s: [%s] lacks [%s]", text, err.message,
                  needle);
}

static void compile_fails(const char *text, int line, int column, const char *needle)
{
    yg_error_t err = {0};
    yg_tmpl_t *t = yg_tmpl_compile(text, strlen(text), "p.yaml", 1, 1, &err);
    ck_assert_msg(t == NULL, "%s compiled", text);
    yg_tmpl_destroy(&t);
    ck_assert_int_eq(err.code, YG_ETEMPLATE);
    ck_assert_msg(err.line == line && err.column == column, "%s: at %d:%d, expected %d:%d (%s)",
                  text, err.line, err.column, line, column, err.message);
    ck_assert_msg(strstr(err.message, needle) != NULL, "%s: [%s] lacks [%s]", text, err.message,
                  needle);
}

/* Only {{ or {% selects Jinja mode; a comment alone stays in simple mode
 * and fails there. */
START_TEST(compat_template_mode_selection)
{
    yg_error_t err = {0};
    yg_tmpl_t *t = yg_tmpl_compile("{{ x }}{# note #}", 17, NULL, 1, 1, &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(yg_tmpl_mode(t), YG_TMPL_JINJA);
    yg_tmpl_destroy(&t);
    t = yg_tmpl_compile("{% if x %}y{% endif %}", 22, NULL, 1, 1, &err);
    ck_assert_int_eq(yg_tmpl_mode(t), YG_TMPL_JINJA);
    yg_tmpl_destroy(&t);
    compile_fails("Hello {# note #} {name}", 1, 7, "unsupported placeholder");
}
END_TEST

/* The required-variable scan never requires not/True/False/None or words
 * starting with a digit. */
START_TEST(compat_required_scan_keywords)
{
    /* the original's scan takes the first word after `{% if` ("not") and
     * after `{{` ("True", "1", ...) */
    const char *text = "{% if not done %}{{ True }}{{ False }}{{ None }}{% endif %}"
                       "{% if None %}{% endif %}{% if True %}{% endif %}{{ 1 }}{{ 2.5 }}{x2}";
    yg_error_t err = {0};
    yg_tmpl_t *t = yg_tmpl_compile(text, strlen(text), "p", 1, 1, &err);
    ck_assert_msg(t != NULL, "%s", err.message);
    yg_value_t *list = yg_list_new();
    yg_tmpl_required_vars(t, list);
    char *json = yg_json_encode(list, false, NULL);
    ck_assert_str_eq(json, "[\"x2\"]");
    free(json);
    yg_value_destroy(&list);
    /* so a prompt using {% if not done %} works when done is null/absent */
    yg_value_t *vars = J("{\"x2\": 1}");
    ck_assert_int_eq(yg_tmpl_check_required(NULL, t, vars, "p", &err), YG_OK);
    char *out = yg_tmpl_render(t, vars, NULL, &err);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "TrueFalseNone12.5{x2}"); /* Jinja mode: {x2} is text */
    free(out);
    yg_value_destroy(&vars);
    yg_tmpl_destroy(&t);
}
END_TEST

START_TEST(compat_jinja_list_results)
{
    renders("{{ d.values() }}", "{\"d\": {\"a\": 1, \"b\": [2]}}", "[1, [2]]");
    renders("{{ d.items() }}", "{\"d\": {\"a\": 1}}", "[['a', 1]]");
    renders("{{ [1, 2, 3] | reverse }}", NULL, "[3, 2, 1]");
    renders("{{ items | map(attribute='n') }}", "{\"items\": [{\"n\": 1}, {\"n\": 2}]}", "[1, 2]");
    renders("{{ [3, 1, 3] | unique }}", NULL, "[3, 1]");
    /* an undefined value inside a literal is None */
    renders("{{ [x] }} {{ {'k': x} }}", NULL, "[None] {'k': None}");
    /* a map key wins over the method of the same name */
    renders("{{ d.values }}", "{\"d\": {\"values\": 5}}", "5");
}
END_TEST

START_TEST(compat_jinja_errors_not_silent)
{
    render_fails("{{ '%s' % name }}", "{\"name\": \"x\"}",
                 "string formatting with '%' is not supported");
    render_fails("{{ 9223372036854775807 * 2 }}", NULL, "integer overflow");
    /* unsupported constructs are load-time errors with their position */
    compile_fails("{% extends 'base.html' %}", 1, 4, "extends");
    compile_fails("{% import 'm.html' as m %}", 1, 4, "import");
    compile_fails("{% block body %}{% endblock %}", 1, 4, "block");
    compile_fails("x\n{% call m() %}{% endcall %}", 2, 4, "call");
    compile_fails("{% filter upper %}x{% endfilter %}", 1, 4, "filter");
    compile_fails("{% with a = 1 %}{% endwith %}", 1, 4, "with");
    compile_fails("{{ lipsum() }}", 1, 10, "unsupported function call");
    compile_fails("{% for x in y %}{% for x in loop.cycle() %}{% endfor %}{% endfor %}", 1, 39,
                  "unsupported");
}
END_TEST

START_TEST(compat_jinja_case_mapping)
{
    renders("{{ s | upper }}", "{\"s\": \"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\"}",
            "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2"); /* привет -> ПРИВЕТ */
    renders("{{ s | lower }}", "{\"s\": \"\xc5\x81\xc3\x93" "D\xc5\xb9\"}",
            "\xc5\x82\xc3\xb3\x64\xc5\xba"); /* ŁÓDŹ -> łódź (Latin Extended-A) */
    /* other scripts are left unchanged (Python would map Armenian) */
    renders("{{ s | upper }}", "{\"s\": \"\xd5\xa2\xd5\xa1\xd6\x80\"}", "\xd5\xa2\xd5\xa1\xd6\x80");
    renders("{{ s | upper }}", "{\"s\": \"\xe4\xbd\xa0\xe5\xa5\xbd x\"}", "\xe4\xbd\xa0\xe5\xa5\xbd X");
}
END_TEST

/* Word characters of {name}: ASCII letters, digits, _ and any non-ASCII byte. */
START_TEST(compat_placeholder_word_characters)
{
    renders("Hi {n\xc3\xa9v}!", "{\"n\xc3\xa9v\": \"Ann\"}", "Hi Ann!");
    renders("{x_1} {\xe5\x90\x8d}", "{\"x_1\": 1, \"\xe5\x90\x8d\": 2}", "1 2");
    yg_error_t err = {0};
    yg_tmpl_t *t = yg_tmpl_compile("{n\xc3\xa9v} {a}", strlen("{n\xc3\xa9v} {a}"), "p", 1, 1, &err);
    ck_assert_ptr_nonnull(t);
    yg_value_t *list = yg_list_new();
    yg_tmpl_required_vars(t, list);
    ck_assert_uint_eq(yg_list_size(list), 2);
    ck_assert_str_eq(yg_value_str(yg_list_get(list, 1)), "n\xc3\xa9v");
    yg_value_destroy(&list);
    yg_tmpl_destroy(&t);
    /* agent {word} substitution uses the same classes */
    yg_value_t *state = J("{\"n\xc3\xa9v\": \"Bo\", \"a-b\": 1}");
    char *out = yg_tmpl_substitute_words("{n\xc3\xa9v} {a-b}", state);
    ck_assert_str_eq(out, "Bo {a-b}");
    free(out);
    yg_value_destroy(&state);
}
END_TEST

/* The state binding wins over a variable named state. */
START_TEST(compat_jinja_state_binding_wins)
{
    yg_error_t err = {0};
    char *out = render("{{ state.x }}|{{ state is mapping }}", "{\"state\": \"shadow\"}",
                       "{\"x\": 1}", &err);
    ck_assert_msg(out != NULL, "%s", err.message);
    ck_assert_str_eq(out, "1|True");
    free(out);
}
END_TEST

START_TEST(compat_template_limits)
{
    /* templates above 16 MiB are refused */
    size_t big = (size_t)16 * 1024 * 1024 + 1;
    char *text = malloc(big + 1);
    ck_assert_ptr_nonnull(text);
    memset(text, 'a', big);
    text[big] = '\0';
    yg_error_t err = {0};
    yg_tmpl_t *t = yg_tmpl_compile(text, big, "p", 1, 1, &err);
    ck_assert_ptr_null(t);
    ck_assert_int_ne(err.code, YG_OK);
    /* exactly 16 MiB compiles */
    yg_error_clear(&err);
    t = yg_tmpl_compile(text, big - 1, "p", 1, 1, &err);
    ck_assert_msg(t != NULL, "%s", err.message);
    yg_tmpl_destroy(&t);
    free(text);
    /* rendered output above 64 MiB is an error (70 x 1,000,000 bytes) */
    render_fails("{% for i in range(70) %}{{ s * 1000000 }}{% endfor %}", "{\"s\": \"x\"}",
                 "rendered template exceeds 67108864 bytes");
    /* below it renders */
    yg_error_clear(&err);
    char *out = render("{% for i in range(3) %}{{ s * 1000 }}{% endfor %}", "{\"s\": \"x\"}", NULL,
                       &err);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(strlen(out), 3000);
    free(out);
}
END_TEST

/* ---- expressions ------------------------------------------------------------------------ */

static bool cond_true(const char *text, const char *state_json)
{
    yg_error_t err = {0};
    yg_cond_t *c = yg_cond_compile(text, &err);
    ck_assert_msg(c != NULL, "<%s>: %s", text, err.message);
    yg_value_t *st = J(state_json);
    bool r = false;
    ck_assert_int_eq(yg_cond_eval(c, st, &r, &err), YG_OK);
    yg_value_destroy(&st);
    yg_cond_destroy(&c);
    return r;
}

/* The condition grammar is ASCII: Unicode whitespace, letters and digits
 * are not grammar characters. */
START_TEST(compat_condition_grammar_is_ascii)
{
    yg_error_t err = {0};
    /* NO-BREAK SPACE is not whitespace: "score\u00a0" is no path */
    yg_cond_t *c = yg_cond_compile("score\xc2\xa0<\xc2\xa0" "0.8", &err);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(err.code, YG_EEXPR);
    /* a non-ASCII letter cannot start or continue a path */
    yg_error_clear(&err);
    ck_assert_ptr_null(yg_cond_compile("\xc3\xa9t\xc3\xa9 < 1", &err));
    ck_assert_int_eq(err.code, YG_EEXPR);
    /* ARABIC-INDIC DIGIT ONE is not a number: the literal is a string */
    ck_assert(!cond_true("x == \xd9\xa1", "{\"x\": 1}"));
    ck_assert(cond_true("x == \xd9\xa1", "{\"x\": \"\xd9\xa1\"}"));
    /* keywords match ASCII case-insensitively */
    ck_assert(cond_true("a == 1 AnD b == 2", "{\"a\": 1, \"b\": 2}"));
    ck_assert(cond_true("a == NONE", "{}"));
    /* a value template's path is ASCII too: the rest is not arithmetic */
    yg_value_t *tmpl = yg_str_new("{state.caf\xc3\xa9 + 1}");
    yg_vexpr_t *e = yg_vexpr_compile(tmpl, &err);
    ck_assert_ptr_nonnull(e);
    yg_value_t *st = J("{\"caf\": 1, \"caf\xc3\xa9\": 5}");
    yg_value_t *r = yg_vexpr_eval(e, st, &err);
    ck_assert_msg(r == NULL || yg_value_is_null(r) || yg_value_int(r) != 6,
                  "a non-ASCII letter was read as part of the path");
    yg_value_destroy(&r);
    yg_value_destroy(&st);
    yg_vexpr_destroy(&e);
    yg_value_destroy(&tmpl);
}
END_TEST

/* Number parsing assumes "C"; the library never calls setlocale. */
START_TEST(compat_library_never_sets_locale)
{
    char before[128];
    snprintf(before, sizeof before, "%s", setlocale(LC_ALL, NULL));
    ck_assert_str_eq(before, "C");
    testutil_write_temp("loc/p.yaml", "user: 'score {x}'\n");
    const char *path = testutil_write_temp(
        "loc/g.yaml", "name: loc\nprompts_relative: true\nstate: {x: float}\n"
                      "nodes:\n  a: {prompt: p}\n  b: {type: passthrough, output: {x: '{state.x * 1.5}'}}\n"
                      "edges:\n  - {from: START, to: a}\n  - {from: a, to: b, condition: 'x < 0.5'}\n");
    yg_error_t err = {0};
    yg_graph_t *g = yg_graph_load(path, &err);
    ck_assert_msg(g != NULL, "%s", err.message);
    yg_graph_destroy(&g);
    yg_lint_report_t *r = yg_lint_file(path, &err);
    ck_assert_ptr_nonnull(r);
    yg_lint_report_destroy(&r);
    ck_assert(cond_true("x < 0.5", "{\"x\": 0.25}"));
    ck_assert_str_eq(setlocale(LC_ALL, NULL), before);
    ck_assert_str_eq(setlocale(LC_NUMERIC, NULL), "C");
}
END_TEST

/* ---- loader ------------------------------------------------------------------------------- */

static yg_graph_t *load_ok(const char *name, const char *yaml)
{
    const char *path = testutil_write_temp(name, yaml);
    ck_assert_ptr_nonnull(path);
    yg_error_t err = {0};
    yg_graph_t *g = yg_graph_load(path, &err);
    ck_assert_msg(g != NULL, "%s: %d:%d: %s", name, err.line, err.column, err.message);
    return g;
}

static void load_fails(const char *name, const char *yaml, int line, int column,
                       const char *needle)
{
    const char *path = testutil_write_temp(name, yaml);
    ck_assert_ptr_nonnull(path);
    yg_error_t err = {0};
    yg_graph_t *g = yg_graph_load(path, &err);
    ck_assert_msg(g == NULL, "%s loaded", name);
    ck_assert_msg(strstr(err.message, needle) != NULL, "%s: [%s] lacks [%s]", name, err.message,
                  needle);
    ck_assert_msg(err.line == line && err.column == column, "%s: at %d:%d, expected %d:%d (%s)",
                  name, err.line, err.column, line, column, err.message);
}

/* Item 46: shell tool defaults parse=text, timeout=30, working_dir=".", env={}. */
START_TEST(item46_shell_tool_defaults)
{
    yg_graph_t *g = load_ok("i46.yaml", "name: i46\n"
                                        "tools:\n  t: {command: 'echo {a}'}\n"
                                        "nodes:\n  n: {type: tool, tool: t, variables: {a: x}}\n"
                                        "edges:\n  - {from: START, to: n}\n");
    const yg_tool_t *t = yg_graph_tool(g, "t");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->parse, "text");
    ck_assert(t->timeout_s == 30.0);
    ck_assert_str_eq(t->working_dir, ".");
    ck_assert_int_eq(yg_value_type(t->env), YG_MAP);
    ck_assert_uint_eq(yg_map_size(t->env), 0);
    ck_assert_uint_eq(t->success_codes_count, 1);
    ck_assert_int_eq(t->success_codes[0], 0);
    yg_graph_destroy(&g);
}
END_TEST

/* The hash covers the graph file, its prompts and each subgraph's hash. */
START_TEST(compat_hash_covers_subgraphs)
{
    testutil_write_temp("hs/child.yaml", "name: c\nnodes:\n  w: {type: passthrough}\n"
                                         "edges:\n  - {from: START, to: w}\n");
    const char *parent = "name: p\nnodes:\n  s: {type: subgraph, graph: child.yaml}\n"
                         "edges:\n  - {from: START, to: s}\n";
    yg_graph_t *g1 = load_ok("hs/parent.yaml", parent);
    testutil_write_temp("hs/child.yaml", "name: c\nnodes:\n  w: {type: passthrough}\n"
                                         "edges:\n  - {from: START, to: w}\n# changed\n");
    yg_graph_t *g2 = load_ok("hs/parent.yaml", parent);
    ck_assert_str_ne(g1->hash_hex, g2->hash_hex);
    ck_assert_uint_eq(strlen(g1->hash_hex), 64); /* SHA-256 */
    yg_graph_destroy(&g1);
    yg_graph_destroy(&g2);
}
END_TEST

/* YAML merge keys are not expanded; redis-simple max_connections is
 * accepted and ignored; agent tools naming undefined tools load. */
START_TEST(compat_loader_accepts_as_documented)
{
    testutil_write_temp("acc/p.yaml", "system: s\nuser: '{input}'\n");
    yg_graph_t *g = load_ok("acc/g.yaml", "name: acc\n"
                                        "prompts_relative: true\n"
                                        "checkpointer: {type: redis-simple, max_connections: 5}\n"
                                        "tools:\n  sh: {command: date}\n"
                                        "nodes:\n"
                                        "  ag: {type: agent, prompt: p, tools: [sh, nowhere]}\n"
                                        "edges:\n  - {from: START, to: ag}\n");
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_REDIS_SIMPLE);
    ck_assert_int_eq(yg_graph_node(g, "ag")->type, YG_NODE_AGENT);
    yg_graph_destroy(&g);
}
END_TEST

START_TEST(compat_yaml_merge_keys_not_expanded)
{
    /* `<<` is not expanded: `a` gets no `type` from the anchor, so it is an
     * llm node without a prompt (expanded, it would be a passthrough) */
    load_fails("mk.yaml",
               "name: mk\n"
               "base: &base {type: passthrough}\n"
               "nodes:\n"
               "  a:\n"
               "    <<: *base\n"
               "edges:\n  - {from: START, to: a}\n",
               4, 3, "llm nodes need a 'prompt'");
}
END_TEST

/* Run-time failures of the original that are load errors here and are
 * not in tests/malformed. */
START_TEST(compat_load_errors)
{
    load_fails("le/start.yaml",
               "name: le\nnodes:\n  START: {type: passthrough}\nedges:\n  - {from: START, to: END}\n",
               3, 3, "reserved");
    load_fails("le/export.yaml",
               "name: le\nnodes:\n  a: {type: passthrough}\nedges:\n  - {from: START, to: a}\n"
               "exports:\n  a: {format: json, filename: sub/a.json}\n",
               7, 31, "without '/'");
    load_fails("le/tmpl.yaml",
               "name: le\nnodes:\n  ask: {type: interrupt, message: 'Hi {name:>5}'}\n"
               "edges:\n  - {from: START, to: ask}\n",
               3, 39, "unsupported placeholder");
}
END_TEST

/* ---- exports --------------------------------------------------------------------------------- */

START_TEST(compat_markdown_export_title)
{
    yg_graph_t *g = load_ok("ex/g.yaml", "name: ex\n"
                                         "state: {final_report: any}\n"
                                         "nodes:\n  a: {type: passthrough}\n"
                                         "edges:\n  - {from: START, to: a}\n"
                                         "exports:\n  final_report: {format: markdown, filename: r.md}\n");
    yg_value_t *state =
        J("{\"final_report\": {\"title\": \"T\", \"key_points\": [\"a\", \"b\"], \"score\": 3}}");
    char base[512];
    snprintf(base, sizeof base, "%s/ex", testutil_temp_dir());
    yg_error_t err = {0};
    ck_assert_int_eq(yg_export_write(g, state, "t-1", base, NULL, &err), YG_OK);
    char path[700];
    snprintf(path, sizeof path, "%s/outputs/t-1/r.md", base);
    char *text = testutil_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "# Final Report\n\n**Title**: T\n\n## Key Points\n\n- a\n- b\n\n"
                           "**Score**: 3\n\n");
    free(text);
    yg_value_destroy(&state);
    yg_graph_destroy(&g);
}
END_TEST

/* ---- values and checkpoints ----------------------------------------------------------- */

/* Python repr: unassigned code points print as-is (no Unicode tables);
 * assigned non-printables are escaped. */
START_TEST(compat_repr_unassigned_code_points)
{
    static const struct {
        const char *s, *repr;
    } cases[] = {
        {"\xcd\xb8", "'\xcd\xb8'"},          /* U+0378 unassigned: as-is */
        {"\xe2\x80\x8b", "'\\u200b'"},      /* format character: escaped */
        {"\xef\xbf\xbe", "'\\ufffe'"},      /* non-character: escaped */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        yg_value_t *v = yg_str_new(cases[i].s);
        char *r = yg_pytext_repr(v);
        ck_assert_msg(r && strcmp(r, cases[i].repr) == 0, "case %zu: %s", i, r ? r : "(null)");
        free(r);
        yg_value_destroy(&v);
    }
}
END_TEST

/* Checkpoint ids: <12 hex ms>-<8 hex sequence>-<8 hex nonce>, in creation order. */
START_TEST(compat_checkpoint_id_format)
{
    char prev[64] = "";
    for (int i = 0; i < 50; i++) {
        yg_checkpoint_t *c = yg_checkpoint_new("t", "");
        ck_assert_ptr_nonnull(c);
        ck_assert_int_eq(yg_checkpoint_assign_id(c), YG_OK);
        const char *id = c->id;
        ck_assert_uint_eq(strlen(id), 12 + 1 + 8 + 1 + 8);
        for (size_t k = 0; id[k]; k++) {
            if (k == 12 || k == 21)
                ck_assert_int_eq(id[k], '-');
            else
                ck_assert_msg(strchr("0123456789abcdef", id[k]) != NULL, "id %s", id);
        }
        ck_assert_msg(strcmp(prev, id) < 0, "%s after %s", id, prev);
        snprintf(prev, sizeof prev, "%s", id);
        yg_checkpoint_destroy(&c);
    }
}
END_TEST

typedef struct {
    int pending;
    int status;
    yg_checkpoint_t *loaded;
} ck_ctx_t;

static void ck_done(int status, const yg_error_t *err, void *arg)
{
    (void)err;
    ck_ctx_t *ctx = arg;
    ctx->status = status;
    ctx->pending--;
}

static void ck_loaded(int status, yg_checkpoint_t *ckpt, const yg_error_t *err, void *arg)
{
    (void)err;
    ck_ctx_t *ctx = arg;
    ctx->status = status;
    ctx->loaded = ckpt;
    ctx->pending--;
}

static int ck_poll(zloop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    return ((ck_ctx_t *)arg)->pending > 0 ? 0 : -1;
}

static void ck_wait(zloop_t *loop, ck_ctx_t *ctx)
{
    if (ctx->pending <= 0)
        return;
    int t = zloop_timer(loop, 1, 0, ck_poll, ctx);
    int64_t deadline = zclock_mono() + 5000;
    while (ctx->pending > 0 && zclock_mono() < deadline)
        zloop_start(loop);
    zloop_timer_end(loop, t);
    ck_assert_int_eq(ctx->pending, 0);
}

/* The memory store lists a thread's keys in the order each first appeared. */
START_TEST(compat_memory_store_key_order)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = yg_ckpt_memory_new(loop);
    ck_assert_ptr_nonnull(store);
    static const char *const states[] = {"{\"a\": 1, \"b\": 2}", "{\"b\": 2}",
                                         "{\"b\": 2, \"a\": 3}"};
    for (int i = 0; i < 3; i++) {
        yg_checkpoint_t *c = yg_checkpoint_new("order", "");
        ck_assert_int_eq(yg_checkpoint_assign_id(c), YG_OK);
        c->step = i;
        yg_value_destroy(&c->values);
        c->values = J(states[i]);
        ck_ctx_t ctx = {.pending = 1};
        ck_assert_int_eq(yg_ckpt_save(store, c, ck_done, &ctx), YG_OK);
        ck_wait(loop, &ctx);
        ck_assert_int_eq(ctx.status, YG_OK);
        yg_checkpoint_destroy(&c);
    }
    ck_ctx_t ctx = {.pending = 1};
    ck_assert_int_eq(yg_ckpt_load_latest(store, "order", "", ck_loaded, &ctx), YG_OK);
    ck_wait(loop, &ctx);
    ck_assert_int_eq(ctx.status, YG_OK);
    ck_assert_ptr_nonnull(ctx.loaded);
    const yg_value_t *v = ctx.loaded->values;
    ck_assert_uint_eq(yg_map_size(v), 2);
    ck_assert_str_eq(yg_map_key_at(v, 0), "a"); /* the live map had b first */
    ck_assert_str_eq(yg_map_key_at(v, 1), "b");
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "a")), 3);
    yg_checkpoint_destroy(&ctx.loaded);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* ---- linter ------------------------------------------------------------------------------------ */

static yg_lint_report_t *lint(const char *name, const char *yaml)
{
    const char *path = testutil_write_temp(name, yaml);
    ck_assert_ptr_nonnull(path);
    yg_error_t err = {0};
    yg_lint_report_t *r = yg_lint_file_in(path, testutil_temp_dir(), &err);
    ck_assert_msg(r != NULL, "lint %s: %s", name, err.message);
    return r;
}

static size_t count(const yg_lint_report_t *r, const char *code)
{
    size_t n = 0, from = 0;
    while (yg_lint_report_find(r, code, &from))
        n++;
    return n;
}

static void dump(const yg_lint_report_t *r)
{
    for (size_t i = 0; i < yg_lint_report_count(r) && i < 40; i++) {
        const yg_lint_issue_t *is = yg_lint_report_issue(r, i);
        fprintf(stderr, "  %d:%d %s %s\n", is->line, is->column, is->code, is->message);
    }
}

static void has_at(const yg_lint_report_t *r, const char *code, int line, int column)
{
    size_t from = 0;
    const yg_lint_issue_t *is;
    while ((is = yg_lint_report_find(r, code, &from)) != NULL)
        if (is->line == line && is->column == column)
            return;
    dump(r);
    ck_abort_msg("no %s at %d:%d", code, line, column);
}

static void none_of(const yg_lint_report_t *r, const char *code)
{
    if (count(r, code)) {
        dump(r);
        ck_abort_msg("unexpected %s", code);
    }
}

START_TEST(compat_lint_interrupt_and_checkpointer)
{
    /* E302 follows the original's code: state_key alone passes */
    yg_lint_report_t *r = lint("li/intr.yaml", "name: t\n"
                                               "state: {q: str, a: str}\n"
                                               "checkpointer: {}\n"
                                               "nodes:\n"
                                               "  ask: {type: interrupt, state_key: q, resume_key: a}\n"
                                               "edges:\n  - {from: START, to: ask}\n"
                                               "  - {from: ask, to: END}\n");
    none_of(r, "E302");
    /* an empty checkpointer section counts as absent: W301, no E304 */
    none_of(r, "E304");
    has_at(r, "W301", 5, 3);
    yg_lint_report_destroy(&r);
    /* E304 without interrupt nodes too */
    r = lint("li/cp.yaml", "name: t\n"
                           "checkpointer: {path: x.db}\n"
                           "nodes:\n  a: {type: passthrough}\n"
                           "edges:\n  - {from: START, to: a}\n  - {from: a, to: END}\n");
    ck_assert_uint_eq(count(r, "E304"), 1);
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(compat_lint_tool_usage)
{
    /* W001: a python tool named by a python node's function: is used */
    yg_lint_report_t *r = lint("li/w001.yaml", "name: t\n"
                                               "tools:\n"
                                               "  f: {type: python, module: m, function: f}\n"
                                               "  g: {type: python, module: m, function: g}\n"
                                               "  sh: {command: date}\n"
                                               "nodes:\n"
                                               "  p: {type: python, function: f}\n"
                                               "  s: {type: tool, tool: sh}\n"
                                               "edges:\n  - {from: START, to: p}\n"
                                               "  - {from: p, to: s}\n  - {from: s, to: END}\n");
    ck_assert_uint_eq(count(r, "W001"), 1);
    has_at(r, "W001", 4, 3); /* only g */
    yg_lint_report_destroy(&r);
    /* with a tool_call node every python tool counts as used */
    r = lint("li/w001b.yaml", "name: t\n"
                              "state: {task: any}\n"
                              "tools:\n"
                              "  f: {type: python, module: m, function: f}\n"
                              "  g: {type: python, module: m, function: g}\n"
                              "  sh: {command: date}\n"
                              "nodes:\n"
                              "  c: {type: tool_call, tool: '{state.task.tool}', args: {}}\n"
                              "edges:\n  - {from: START, to: c}\n  - {from: c, to: END}\n");
    ck_assert_uint_eq(count(r, "W001"), 1);
    has_at(r, "W001", 6, 3); /* the shell tool is still unused */
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(compat_lint_prompt_checks)
{
    ck_assert_ptr_nonnull(testutil_write_temp(
        "prompts/lp_meta.yaml", "description: 'mentions {undeclared_meta}'\n"
                                "system: 'You are {persona}.'\nuser: 'Do {task}'\n"));
    ck_assert_ptr_nonnull(
        testutil_write_temp("prompts/lp_item.yaml", "user: 'Summarize {item} for {audience}'\n"));
    yg_lint_report_t *r = lint("li/e002.yaml", "name: t\n"                         /* 1 */
                                               "state: {persona: str, task: str, items: list}\n"
                                               "nodes:\n"                          /* 3 */
                                               "  a: {prompt: lp_meta}\n"          /* 4 */
                                               "  m:\n"                            /* 5 */
                                               "    type: map\n"                   /* 6 */
                                               "    over: '{state.items}'\n"       /* 7 */
                                               "    as: item\n"                    /* 8 */
                                               "    node: {prompt: lp_item}\n"     /* 9 */
                                               "    collect: out\n"                /* 10 */
                                               "  m2:\n"                           /* 11 */
                                               "    type: map\n"                   /* 12 */
                                               "    over: '{state.items}'\n"       /* 13 */
                                               "    as: item\n"                    /* 14 */
                                               "    node: {prompt: lp_nowhere}\n"  /* 15 */
                                               "    collect: out2\n"               /* 16 */
                                               "edges:\n  - {from: START, to: a}\n"
                                               "  - {from: a, to: m}\n  - {from: m, to: m2}\n"
                                               "  - {from: m2, to: END}\n");
    /* only system/user are scanned: {undeclared_meta} is not reported */
    for (size_t from = 0, k = 0; k < 8; k++) {
        const yg_lint_issue_t *is = yg_lint_report_find(r, "E002", &from);
        if (!is)
            break;
        ck_assert_msg(strstr(is->message, "undeclared_meta") == NULL, "%s", is->message);
        ck_assert_msg(strstr(is->message, "'item'") == NULL, "the map's `as` is provided: %s",
                      is->message);
    }
    /* the map sub-node prompt is checked: {audience} is undeclared */
    ck_assert_uint_eq(count(r, "E002"), 1);
    ck_assert_ptr_nonnull(strstr(yg_lint_report_find(r, "E002", NULL)->message, "audience"));
    /* E004 for a missing map sub-node prompt */
    ck_assert_uint_eq(count(r, "E004"), 1);
    ck_assert_uint_eq(yg_lint_report_find(r, "E004", NULL)->line, 15);
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(compat_lint_router_rules)
{
    ck_assert_ptr_nonnull(testutil_write_temp(
        "prompts/lr_js.yaml", "user: '{m}'\n"
                              "output_schema:\n  type: object\n"
                              "  properties:\n    tone: {type: string}\n  required: [tone]\n"));
    yg_lint_report_t *r = lint("li/router.yaml", "name: t\n"                             /* 1 */
                                                 "state: {m: str}\n"                      /* 2 */
                                                 "nodes:\n"                               /* 3 */
                                                 "  r1: {type: router, prompt: lr_js}\n"  /* 4 */
                                                 "  r2: {type: router, prompt: lr_js, routes: {}}\n"
                                                 "  r3: {type: router, prompt: lr_js, routes: {a: x},"
                                                 " default_route: x}\n"                   /* 6 */
                                                 "  x: {type: passthrough}\n"             /* 7 */
                                                 "edges:\n  - {from: START, to: r1}\n"
                                                 "  - {from: r1, to: r2}\n  - {from: r2, to: r3}\n"
                                                 "  - {from: r3, to: [x], type: conditional}\n"
                                                 "  - {from: x, to: END}\n");
    /* E101 when routes is missing or empty */
    has_at(r, "E101", 4, 3);
    ck_assert_uint_eq(count(r, "E101"), 2);
    /* a tone property in output_schema satisfies E102 */
    none_of(r, "E102");
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(compat_lint_report_cap)
{
    /* 10,050 unreachable nodes: the report stops at 9,999 issues plus I000 */
    size_t n = 10050;
    size_t cap = 64 + n * 40;
    char *yaml = malloc(cap);
    ck_assert_ptr_nonnull(yaml);
    size_t len = (size_t)snprintf(yaml, cap, "name: t\nnodes:\n  a: {type: passthrough}\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "  n%zu: {type: passthrough}\n", i);
    snprintf(yaml + len, cap - len, "edges:\n  - {from: START, to: a}\n  - {from: a, to: END}\n");
    yg_lint_report_t *r = lint("li/many.yaml", yaml);
    free(yaml);
    ck_assert_uint_eq(count(r, "I000"), 1);
    ck_assert_uint_eq(yg_lint_report_count(r), 10000);
    ck_assert_uint_eq(count(r, "W002"), 9999);
    yg_lint_report_destroy(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("conformance_modules");
    TCase *tc = tcase_create("templates");
    tcase_add_test(tc, compat_template_mode_selection);
    tcase_add_test(tc, compat_required_scan_keywords);
    tcase_add_test(tc, compat_jinja_list_results);
    tcase_add_test(tc, compat_jinja_errors_not_silent);
    tcase_add_test(tc, compat_jinja_case_mapping);
    tcase_add_test(tc, compat_placeholder_word_characters);
    tcase_add_test(tc, compat_jinja_state_binding_wins);
    tcase_add_test(tc, compat_template_limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("expressions");
    tcase_add_test(tc, compat_condition_grammar_is_ascii);
    tcase_add_test(tc, compat_library_never_sets_locale);
    suite_add_tcase(s, tc);
    tc = tcase_create("loader");
    tcase_add_test(tc, item46_shell_tool_defaults);
    tcase_add_test(tc, compat_hash_covers_subgraphs);
    tcase_add_test(tc, compat_loader_accepts_as_documented);
    tcase_add_test(tc, compat_yaml_merge_keys_not_expanded);
    tcase_add_test(tc, compat_load_errors);
    tcase_add_test(tc, compat_markdown_export_title);
    suite_add_tcase(s, tc);
    tc = tcase_create("values_checkpoints");
    tcase_add_test(tc, compat_repr_unassigned_code_points);
    tcase_add_test(tc, compat_checkpoint_id_format);
    tcase_add_test(tc, compat_memory_store_key_order);
    suite_add_tcase(s, tc);
    tc = tcase_create("linter");
    tcase_add_test(tc, compat_lint_interrupt_and_checkpointer);
    tcase_add_test(tc, compat_lint_tool_usage);
    tcase_add_test(tc, compat_lint_prompt_checks);
    tcase_add_test(tc, compat_lint_router_rules);
    tcase_add_test(tc, compat_lint_report_cap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 60);
}
