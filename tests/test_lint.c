/*
 * test_lint.c - the graph linter: every code of spec section 13, our own
 * codes (E006, E007, I601, W602), positions, prompt lookup, spec 15 item 60
 * and the corpus.
 *
 * Fixtures are written to the per-test temp dir, which is also the project
 * root, so prompts live in <tmp>/prompts/ unless a test says otherwise.
 * Line/column comments give the position each assertion expects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yg_lint.h"

static yg_lint_report_t *lint_text(const char *name, const char *yaml)
{
    const char *path = testutil_write_temp(name, yaml);
    ck_assert_ptr_nonnull(path);
    yg_error_t err = {0};
    yg_lint_report_t *r = yg_lint_file_in(path, testutil_temp_dir(), &err);
    ck_assert_msg(r != NULL, "lint of %s failed: %s", name, err.message);
    return r;
}

static void write_prompt(const char *name, const char *text)
{
    char rel[256];
    snprintf(rel, sizeof rel, "prompts/%s.yaml", name);
    ck_assert_ptr_nonnull(testutil_write_temp(rel, text));
}

static void dump(const yg_lint_report_t *r)
{
    for (size_t i = 0; i < yg_lint_report_count(r); i++) {
        const yg_lint_issue_t *is = yg_lint_report_issue(r, i);
        fprintf(stderr, "  %d:%d %s %s\n", is->line, is->column, is->code, is->message);
    }
}

/* The issue with `code` at line:column must exist with that severity. */
static const yg_lint_issue_t *expect(const yg_lint_report_t *r, const char *code,
                                     yg_lint_severity_t sev, int line, int column)
{
    size_t from = 0;
    const yg_lint_issue_t *is;
    while ((is = yg_lint_report_find(r, code, &from)) != NULL) {
        if (is->line == line && is->column == column) {
            ck_assert_int_eq(is->severity, sev);
            ck_assert_ptr_nonnull(is->message);
            ck_assert_ptr_nonnull(is->fix);
            ck_assert_int_gt((int)strlen(is->fix), 0);
            ck_assert_str_eq(is->file, yg_lint_report_file(r));
            return is;
        }
    }
    dump(r);
    ck_abort_msg("no %s at %d:%d", code, line, column);
    return NULL;
}

static size_t count_code(const yg_lint_report_t *r, const char *code)
{
    size_t n = 0, from = 0;
    while (yg_lint_report_find(r, code, &from))
        n++;
    return n;
}

static void expect_none(const yg_lint_report_t *r, const char *code)
{
    if (count_code(r, code) != 0) {
        dump(r);
        ck_abort_msg("unexpected %s", code);
    }
}

/* ------------------------------------------------------------------------ */

START_TEST(test_clean_graph_has_no_issues)
{
    write_prompt("greet", "system: Be nice.\nuser: Hello {name}\n");
    yg_lint_report_t *r = lint_text("good.yaml", "name: good\n"
                                                 "state:\n"
                                                 "  name: str\n"
                                                 "nodes:\n"
                                                 "  greet:\n"
                                                 "    type: llm\n"
                                                 "    prompt: greet\n"
                                                 "    state_key: greeting\n"
                                                 "edges:\n"
                                                 "  - from: START\n"
                                                 "    to: greet\n"
                                                 "  - from: greet\n"
                                                 "    to: END\n");
    if (yg_lint_report_count(r) != 0)
        dump(r);
    ck_assert_uint_eq(yg_lint_report_count(r), 0);
    ck_assert(yg_lint_report_valid(r));
    yg_lint_report_destroy(&r);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_e001_shell_placeholder_undeclared)
{
    yg_lint_report_t *r = lint_text("e001.yaml", "name: t\n"                       /* 1 */
                                                 "tools:\n"                        /* 2 */
                                                 "  run:\n"                        /* 3 */
                                                 "    type: shell\n"               /* 4 */
                                                 "    command: echo {target} {name} {{x}}\n" /* 5 */
                                                 "  other:\n"                      /* 6 */
                                                 "    command: ls {dir}\n"         /* 7 */
                                                 "state:\n"                        /* 8 */
                                                 "  name: str\n"                   /* 9 */
                                                 "nodes:\n"                        /* 10 */
                                                 "  step:\n"                       /* 11 */
                                                 "    type: tool\n"                /* 12 */
                                                 "    tool: run\n"                 /* 13 */
                                                 "  other_step:\n"                 /* 14 */
                                                 "    type: tool\n"                /* 15 */
                                                 "    tool: other\n"               /* 16 */
                                                 "    variables:\n"                /* 17 */
                                                 "      dir: \"{state.name}\"\n"   /* 18 */
                                                 "edges:\n"
                                                 "  - from: START\n"
                                                 "    to: step\n"
                                                 "  - from: step\n"
                                                 "    to: other_step\n"
                                                 "  - from: other_step\n"
                                                 "    to: END\n");
    const yg_lint_issue_t *is = expect(r, "E001", YG_LINT_ERROR, 5, 14);
    ck_assert_ptr_nonnull(strstr(is->message, "'target'"));
    ck_assert_ptr_nonnull(strstr(is->fix, "target: str"));
    /* {name} is declared, {{x}} is escaped, {dir} comes from the node's variables. */
    ck_assert_uint_eq(count_code(r, "E001"), 1);
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_e001_skips_agent_tools)
{
    write_prompt("agent", "system: s\nuser: '{input}'\n");
    yg_lint_report_t *r = lint_text("e001b.yaml", "name: t\n"
                                                  "state:\n"
                                                  "  input: str\n"
                                                  "tools:\n"
                                                  "  grep:\n"
                                                  "    type: shell\n"
                                                  "    command: grep {pattern} .\n"
                                                  "nodes:\n"
                                                  "  a:\n"
                                                  "    type: agent\n"
                                                  "    prompt: agent\n"
                                                  "    tools: [grep]\n"
                                                  "edges:\n"
                                                  "  - {from: START, to: a}\n"
                                                  "  - {from: a, to: END}\n");
    expect_none(r, "E001");
    ck_assert(yg_lint_report_valid(r));
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_e002_prompt_variable_undeclared)
{
    write_prompt("story", "system: |\n  Write in {style}. {{ ignored }}\n"
                          "user: 'About {topic} for {reader} ({name})'\n");
    yg_lint_report_t *r = lint_text("e002.yaml", "name: t\n"            /* 1 */
                                                 "state:\n"             /* 2 */
                                                 "  style: str\n"       /* 3 */
                                                 "nodes:\n"             /* 4 */
                                                 "  write:\n"           /* 5 */
                                                 "    prompt: story\n"  /* 6 */
                                                 "    state_key: name\n" /* 7 */
                                                 "    variables:\n"     /* 8 */
                                                 "      reader: x\n"    /* 9 */
                                                 "edges:\n"
                                                 "  - {from: START, to: write}\n"
                                                 "  - {from: write, to: END}\n");
    /* style: state; reader: variables; name: a node state_key; topic: nothing
     * (common inputs do not count, spec 13). */
    const yg_lint_issue_t *is = expect(r, "E002", YG_LINT_ERROR, 6, 13);
    ck_assert_ptr_nonnull(strstr(is->message, "'topic'"));
    ck_assert_uint_eq(count_code(r, "E002"), 1);
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_e003_w001_tool_references)
{
    yg_lint_report_t *r = lint_text("e003.yaml", "name: t\n"                 /* 1 */
                                                 "tools:\n"                  /* 2 */
                                                 "  known:\n"                /* 3 */
                                                 "    command: ls\n"         /* 4 */
                                                 "  spare:\n"                /* 5 */
                                                 "    command: pwd\n"        /* 6 */
                                                 "nodes:\n"                  /* 7 */
                                                 "  a:\n"                    /* 8 */
                                                 "    type: agent\n"         /* 9 */
                                                 "    tools: [known, ghost]\n" /* 10 */
                                                 "edges:\n"
                                                 "  - {from: START, to: a}\n"
                                                 "  - {from: a, to: END}\n");
    expect(r, "E003", YG_LINT_ERROR, 10, 20);
    expect(r, "E401", YG_LINT_ERROR, 10, 20);
    const yg_lint_issue_t *w = expect(r, "W001", YG_LINT_WARNING, 5, 3);
    ck_assert_ptr_nonnull(strstr(w->message, "'spare'"));
    ck_assert_uint_eq(count_code(r, "W001"), 1);
    ck_assert(!yg_lint_report_valid(r));
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_e004_prompt_missing)
{
    yg_lint_report_t *r = lint_text("e004.yaml", "name: t\n"              /* 1 */
                                                 "nodes:\n"               /* 2 */
                                                 "  a:\n"                 /* 3 */
                                                 "    prompt: nothere\n"  /* 4 */
                                                 "edges:\n"
                                                 "  - {from: START, to: a}\n"
                                                 "  - {from: a, to: END}\n");
    const yg_lint_issue_t *is = expect(r, "E004", YG_LINT_ERROR, 4, 13);
    ck_assert_ptr_nonnull(strstr(is->message, "nothere.yaml"));
    ck_assert_ptr_nonnull(strstr(is->fix, "prompts/nothere.yaml"));
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_prompt_lookup_relative_and_runtime_order)
{
    /* prompts_relative + prompts_dir: <graph dir>/<prompts_dir>/N.yaml. */
    ck_assert_ptr_nonnull(testutil_write_temp("g1/myprompts/p.yaml", "system: s\nuser: u\n"));
    yg_lint_report_t *r = lint_text("g1/graph.yaml", "name: t\n"
                                                     "prompts_relative: true\n"
                                                     "prompts_dir: myprompts\n"
                                                     "nodes:\n"
                                                     "  a: {prompt: p}\n"
                                                     "edges:\n"
                                                     "  - {from: START, to: a}\n"
                                                     "  - {from: a, to: END}\n");
    expect_none(r, "E004");
    yg_lint_report_destroy(&r);
    /* prompts_relative only under defaults: section 13 misses it, the
     * runtime order (spec 1.4) finds it, so no E004. */
    ck_assert_ptr_nonnull(testutil_write_temp("g2/prompts/q.yaml", "system: s\nuser: u\n"));
    r = lint_text("g2/graph.yaml", "name: t\n"
                                   "defaults:\n"
                                   "  prompts_relative: true\n"
                                   "  prompts_dir: prompts\n"
                                   "nodes:\n"
                                   "  a: {prompt: q}\n"
                                   "edges:\n"
                                   "  - {from: START, to: a}\n"
                                   "  - {from: a, to: END}\n");
    expect_none(r, "E004");
    yg_lint_report_destroy(&r);
    /* a/b falls back to a/prompts/b.yaml under the project root. */
    ck_assert_ptr_nonnull(testutil_write_temp("feat/prompts/x.yaml", "system: s\nuser: u\n"));
    r = lint_text("g3.yaml", "name: t\n"
                             "nodes:\n"
                             "  a: {prompt: feat/x}\n"
                             "edges:\n"
                             "  - {from: START, to: a}\n"
                             "  - {from: a, to: END}\n");
    expect_none(r, "E004");
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_w002_w003_reachability)
{
    write_prompt("p", "system: s\nuser: u\n");
    yg_lint_report_t *r = lint_text("w002.yaml", "name: t\n"            /* 1 */
                                                 "nodes:\n"             /* 2 */
                                                 "  a: {prompt: p}\n"   /* 3 */
                                                 "  island: {prompt: p}\n" /* 4 */
                                                 "  sink: {prompt: p}\n" /* 5 */
                                                 "edges:\n"
                                                 "  - {from: START, to: a}\n"
                                                 "  - {from: a, to: END}\n"
                                                 "  - {from: a, to: sink}\n");
    expect(r, "W002", YG_LINT_WARNING, 4, 3);
    expect(r, "W003", YG_LINT_WARNING, 5, 3);
    ck_assert_uint_eq(count_code(r, "W002"), 1);
    ck_assert_uint_eq(count_code(r, "W003"), 1);
    ck_assert(yg_lint_report_valid(r)); /* warnings only */
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_e005_unknown_type)
{
    write_prompt("p", "system: s\nuser: u\n");
    yg_lint_report_t *r = lint_text("e005.yaml", "name: t\n"                    /* 1 */
                                                 "nodes:\n"                     /* 2 */
                                                 "  a:\n"                       /* 3 */
                                                 "    type: llmm\n"             /* 4 */
                                                 "    prompt: p\n"              /* 5 */
                                                 "  b:\n"                       /* 6 */
                                                 "    type: tool_call\n"        /* 7 */
                                                 "    tool: \"{state.t}\"\n"    /* 8 */
                                                 "    args: {}\n"               /* 9 */
                                                 "edges:\n"
                                                 "  - {from: START, to: a}\n"
                                                 "  - {from: a, to: b}\n"
                                                 "  - {from: b, to: END}\n");
    const yg_lint_issue_t *is = expect(r, "E005", YG_LINT_ERROR, 4, 11);
    ck_assert_ptr_nonnull(strstr(is->message, "'llmm'"));
    ck_assert_ptr_nonnull(strstr(is->fix, "tool_call"));
    ck_assert_uint_eq(count_code(r, "E005"), 1); /* tool_call is supported here */
    expect(r, "I601", YG_LINT_INFO, 6, 3);       /* ...and needs a python worker */
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_router_rules)
{
    write_prompt("cls", "schema:\n  name: C\n  fields:\n    label: {type: str}\n"
                        "system: s\nuser: u\n");
    write_prompt("p", "system: s\nuser: u\n");
    yg_lint_report_t *r = lint_text("router.yaml", "name: t\n"                  /* 1 */
                                                   "nodes:\n"                   /* 2 */
                                                   "  pre: {prompt: p}\n"       /* 3 */
                                                   "  r:\n"                     /* 4 */
                                                   "    type: router\n"         /* 5 */
                                                   "    prompt: cls\n"          /* 6 */
                                                   "    routes: [x, y]\n"       /* 7 */
                                                   "  x: {prompt: p}\n"         /* 8 */
                                                   "edges:\n"                   /* 9 */
                                                   "  - {from: START, to: pre}\n" /* 10 */
                                                   "  - from: pre\n"            /* 11 */
                                                   "    to: r\n"                /* 12 */
                                                   "    condition: a > 1\n"     /* 13 */
                                                   "  - from: r\n"              /* 14 */
                                                   "    to: [x]\n"
                                                   "    type: conditional\n"
                                                   "  - {from: x, to: END}\n");
    expect(r, "E101", YG_LINT_ERROR, 7, 13);
    expect(r, "W101", YG_LINT_WARNING, 4, 3);
    const yg_lint_issue_t *e102 = expect(r, "E102", YG_LINT_ERROR, 6, 13);
    ck_assert_ptr_nonnull(strstr(e102->fix, "label"));
    expect(r, "E103", YG_LINT_ERROR, 11, 5);
    yg_lint_report_destroy(&r);

    /* A router with a map of routes, a default and a tone field is clean. */
    write_prompt("tone", "schema:\n  name: T\n  fields:\n    tone: {type: str}\n"
                         "system: s\nuser: u\n");
    r = lint_text("router_ok.yaml", "name: t\n"
                                    "nodes:\n"
                                    "  r:\n"
                                    "    type: router\n"
                                    "    prompt: tone\n"
                                    "    routes: {a: x}\n"
                                    "    default_route: x\n"
                                    "  x: {prompt: p}\n"
                                    "edges:\n"
                                    "  - {from: START, to: r}\n"
                                    "  - {from: r, to: [x], type: conditional}\n"
                                    "  - {from: x, to: END}\n");
    if (yg_lint_report_count(r))
        dump(r);
    ck_assert_uint_eq(yg_lint_report_count(r), 0);
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_map_rules)
{
    write_prompt("p", "system: s\nuser: u\n");
    yg_lint_report_t *r = lint_text("map.yaml", "name: t\n"                  /* 1 */
                                                "nodes:\n"                   /* 2 */
                                                "  m1:\n"                    /* 3 */
                                                "    type: map\n"            /* 4 */
                                                "    prompt: p\n"            /* 5 */
                                                "  m2:\n"                    /* 6 */
                                                "    type: map\n"            /* 7 */
                                                "    over: items\n"          /* 8 */
                                                "    as: it\n"               /* 9 */
                                                "    node:\n"                /* 10 */
                                                "      state_key: out\n"     /* 11 */
                                                "    collect: res\n"         /* 12 */
                                                "edges:\n"
                                                "  - {from: START, to: m1}\n"
                                                "  - {from: m1, to: m2}\n"
                                                "  - {from: m2, to: END}\n");
    expect(r, "E201", YG_LINT_ERROR, 3, 3);
    expect(r, "E202", YG_LINT_ERROR, 3, 3);
    expect(r, "E203", YG_LINT_ERROR, 3, 3);
    expect(r, "E204", YG_LINT_ERROR, 3, 3);
    expect(r, "E205", YG_LINT_ERROR, 5, 5);
    expect(r, "W201", YG_LINT_WARNING, 8, 11);
    expect(r, "W202", YG_LINT_WARNING, 11, 7);
    ck_assert_uint_eq(count_code(r, "E201"), 1); /* m2 is complete */
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_interrupt_rules)
{
    write_prompt("q", "system: s\nuser: u\n");
    yg_lint_report_t *r = lint_text("intr.yaml", "name: t\n"                  /* 1 */
                                                 "state:\n"                   /* 2 */
                                                 "  answer: str\n"            /* 3 */
                                                 "nodes:\n"                   /* 4 */
                                                 "  ask:\n"                   /* 5 */
                                                 "    type: interrupt\n"      /* 6 */
                                                 "  both:\n"                  /* 7 */
                                                 "    type: interrupt\n"      /* 8 */
                                                 "    prompt: q\n"            /* 9 */
                                                 "    message: hi\n"          /* 10 */
                                                 "    state_key: question\n"  /* 11 */
                                                 "    resume_key: answer\n"   /* 12 */
                                                 "edges:\n"
                                                 "  - {from: START, to: ask}\n"
                                                 "  - {from: ask, to: both}\n"
                                                 "  - {from: both, to: END}\n");
    expect(r, "E301", YG_LINT_ERROR, 5, 3);
    expect(r, "E302", YG_LINT_ERROR, 5, 3);
    expect(r, "W302", YG_LINT_WARNING, 7, 3);
    const yg_lint_issue_t *e303 = expect(r, "E303", YG_LINT_ERROR, 11, 16);
    ck_assert_ptr_nonnull(strstr(e303->message, "'question'"));
    ck_assert_uint_eq(count_code(r, "E303"), 1); /* answer is declared */
    expect(r, "W301", YG_LINT_WARNING, 5, 3);
    ck_assert_uint_eq(count_code(r, "W301"), 1);
    expect_none(r, "E304");
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_checkpointer_rules)
{
    yg_lint_report_t *r = lint_text("cp1.yaml", "name: t\n"                    /* 1 */
                                                "checkpointer: memory\n"       /* 2 */
                                                "nodes:\n"
                                                "  ask: {type: interrupt, message: m, resume_key: k}\n"
                                                "edges:\n"
                                                "  - {from: START, to: ask}\n"
                                                "  - {from: ask, to: END}\n");
    expect(r, "E304", YG_LINT_ERROR, 2, 15);
    expect_none(r, "W301");
    yg_lint_report_destroy(&r);
    r = lint_text("cp2.yaml", "name: t\n"                /* 1 */
                              "checkpointer:\n"          /* 2 */
                              "  path: x.db\n"           /* 3 */
                              "nodes:\n"
                              "  n: {type: passthrough}\n"
                              "edges:\n"
                              "  - {from: START, to: n}\n"
                              "  - {from: n, to: END}\n");
    expect(r, "E304", YG_LINT_ERROR, 3, 3);
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_agent_rules)
{
    yg_lint_report_t *r = lint_text("agent.yaml", "name: t\n"              /* 1 */
                                                  "nodes:\n"               /* 2 */
                                                  "  bare:\n"              /* 3 */
                                                  "    type: agent\n"      /* 4 */
                                                  "  web:\n"               /* 5 */
                                                  "    type: agent\n"      /* 6 */
                                                  "    tools:\n"           /* 7 */
                                                  "      - websearch\n"    /* 8 */
                                                  "      - nope\n"         /* 9 */
                                                  "edges:\n"
                                                  "  - {from: START, to: bare}\n"
                                                  "  - {from: bare, to: web}\n"
                                                  "  - {from: web, to: END}\n");
    expect(r, "W401", YG_LINT_WARNING, 3, 3);
    ck_assert_uint_eq(count_code(r, "W401"), 1);
    expect(r, "E401", YG_LINT_ERROR, 9, 9);
    ck_assert_uint_eq(count_code(r, "E401"), 1); /* the built-in name is accepted... */
    expect(r, "E003", YG_LINT_ERROR, 8, 9);      /* ...but is not in tools: either */
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_subgraph_rules)
{
    ck_assert_ptr_nonnull(testutil_write_temp("sub/child.yaml", "name: c\n"));
    yg_lint_report_t *r = lint_text("sub/parent.yaml", "name: t\n"                        /* 1 */
                                                       "nodes:\n"                         /* 2 */
                                                       "  nograph:\n"                     /* 3 */
                                                       "    type: subgraph\n"             /* 4 */
                                                       "  missing:\n"                     /* 5 */
                                                       "    type: subgraph\n"             /* 6 */
                                                       "    graph: gone/child.yaml\n"     /* 7 */
                                                       "    input_mapping: auto\n"        /* 8 */
                                                       "    output_mapping: auto\n"       /* 9 */
                                                       "  found:\n"                       /* 10 */
                                                       "    type: subgraph\n"             /* 11 */
                                                       "    graph: child.yaml\n"          /* 12 */
                                                       "  direct:\n"                      /* 13 */
                                                       "    type: subgraph\n"             /* 14 */
                                                       "    graph: child.yaml\n"          /* 15 */
                                                       "    mode: direct\n"               /* 16 */
                                                       "edges:\n"
                                                       "  - {from: START, to: nograph}\n"
                                                       "  - {from: nograph, to: missing}\n"
                                                       "  - {from: missing, to: found}\n"
                                                       "  - {from: found, to: direct}\n"
                                                       "  - {from: direct, to: END}\n");
    expect(r, "E501", YG_LINT_ERROR, 3, 3);
    const yg_lint_issue_t *e502 = expect(r, "E502", YG_LINT_ERROR, 7, 12);
    ck_assert_ptr_nonnull(strstr(e502->message, "gone/child.yaml"));
    ck_assert_uint_eq(count_code(r, "E502"), 1);
    expect(r, "W501", YG_LINT_WARNING, 10, 3);
    expect(r, "W502", YG_LINT_WARNING, 10, 3);
    /* nograph returns early; missing has mappings; direct needs none. */
    ck_assert_uint_eq(count_code(r, "W501"), 1);
    ck_assert_uint_eq(count_code(r, "W502"), 1);
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_python_worker_and_websearch)
{
    write_prompt("agent", "system: s\nuser: u\n");
    yg_lint_report_t *r = lint_text("py.yaml", "name: t\n"                        /* 1 */
                                               "tools:\n"                         /* 2 */
                                               "  fetch:\n"                       /* 3 */
                                               "    type: python\n"               /* 4 */
                                               "    module: mypkg.io\n"           /* 5 */
                                               "    function: fetch_all\n"        /* 6 */
                                               "  search:\n"                      /* 7 */
                                               "    type: websearch\n"            /* 8 */
                                               "  sh:\n"                          /* 9 */
                                               "    command: date\n"              /* 10 */
                                               "nodes:\n"                         /* 11 */
                                               "  load:\n"                        /* 12 */
                                               "    type: python\n"               /* 13 */
                                               "    tool: fetch\n"                /* 14 */
                                               "  bad:\n"                         /* 15 */
                                               "    type: python\n"               /* 16 */
                                               "    tool: sh\n"                   /* 17 */
                                               "  helper:\n"                      /* 18 */
                                               "    type: agent\n"                /* 19 */
                                               "    prompt: agent\n"              /* 20 */
                                               "    tools: [fetch, search]\n"     /* 21 */
                                               "edges:\n"
                                               "  - {from: START, to: load}\n"
                                               "  - {from: load, to: bad}\n"
                                               "  - {from: bad, to: helper}\n"
                                               "  - {from: helper, to: END}\n");
    const yg_lint_issue_t *py = expect(r, "I601", YG_LINT_INFO, 12, 3);
    ck_assert_ptr_nonnull(strstr(py->message, "mypkg.io.fetch_all"));
    ck_assert_ptr_nonnull(strstr(py->message, "yamlgraph worker"));
    const yg_lint_issue_t *ag = expect(r, "I601", YG_LINT_INFO, 18, 3);
    ck_assert_ptr_nonnull(strstr(ag->message, "'fetch'"));
    ck_assert_ptr_null(strstr(ag->message, "'search'"));
    ck_assert_uint_eq(count_code(r, "I601"), 2);
    expect(r, "W602", YG_LINT_WARNING, 7, 3);
    expect(r, "E007", YG_LINT_ERROR, 17, 11);
    /* python tools used through `tool:` count as used (ours). */
    expect_none(r, "W001");
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_e006_structure)
{
    yg_lint_report_t *r = lint_text("e006.yaml", "name: t\n"        /* 1 */
                                                 "nodes: [a, b]\n"  /* 2 */
                                                 "edges:\n"         /* 3 */
                                                 "  - just-text\n"  /* 4 */
                                                 "  - {to: a}\n");  /* 5 */
    expect(r, "E006", YG_LINT_ERROR, 2, 8);
    expect(r, "E006", YG_LINT_ERROR, 4, 5);
    expect(r, "E006", YG_LINT_ERROR, 5, 5);
    yg_lint_report_destroy(&r);
    r = lint_text("e006b.yaml", "name: only-a-name\n");
    ck_assert_uint_eq(count_code(r, "E006"), 2);
    ck_assert(!yg_lint_report_valid(r));
    yg_lint_report_destroy(&r);
}
END_TEST

START_TEST(test_unreadable_files)
{
    yg_error_t err = {0};
    const char *path = testutil_write_temp("broken.yaml", "name: x\nnodes:\n  a: [1, 2\n");
    yg_lint_report_t *r = yg_lint_file_in(path, NULL, &err);
    ck_assert_ptr_null(r);
    ck_assert_int_ne(err.code, YG_OK);
    ck_assert_int_gt(err.line, 0);
    yg_error_clear(&err);
    r = yg_lint_file("/nonexistent/dir/graph.yaml", &err);
    ck_assert_ptr_null(r);
    ck_assert_int_ne(err.code, YG_OK);
    yg_error_clear(&err);
    r = yg_lint_file(testutil_temp_dir(), &err); /* a directory */
    ck_assert_ptr_null(r);
    ck_assert_int_ne(err.code, YG_OK);
    yg_error_clear(&err);
    r = yg_lint_file(testutil_write_temp("list.yaml", "- a\n- b\n"), &err);
    ck_assert_ptr_null(r);
    ck_assert_int_ne(err.code, YG_OK);
    ck_assert_ptr_null(yg_lint_file(NULL, &err));
}
END_TEST

START_TEST(test_issues_sorted_by_position)
{
    yg_lint_report_t *r = lint_text("order.yaml", "name: t\n"
                                                  "nodes:\n"
                                                  "  z: {type: bogus}\n"
                                                  "  a: {type: agent}\n"
                                                  "  m: {type: map}\n"
                                                  "edges:\n"
                                                  "  - {from: START, to: a}\n");
    ck_assert_uint_gt(yg_lint_report_count(r), 4);
    for (size_t i = 1; i < yg_lint_report_count(r); i++) {
        const yg_lint_issue_t *p = yg_lint_report_issue(r, i - 1), *q = yg_lint_report_issue(r, i);
        ck_assert(p->line < q->line || (p->line == q->line && p->column <= q->column));
    }
    ck_assert_ptr_null(yg_lint_report_issue(r, yg_lint_report_count(r)));
    yg_lint_report_destroy(&r);
}
END_TEST

/* Spec 15 item 60, one graph per bullet in a single file each. */
START_TEST(test_spec_item_60)
{
    write_prompt("cls", "schema:\n  name: C\n  fields:\n    other: {type: str}\n"
                        "system: s\nuser: u\n");
    write_prompt("p", "system: s\nuser: u\n");
    yg_lint_report_t *r = lint_text("item60.yaml",
                                    "name: t\n"
                                    "tools:\n"
                                    "  sh: {command: date}\n"
                                    "nodes:\n"
                                    "  r1:\n"                              /* router, no default */
                                    "    type: router\n"
                                    "    prompt: cls\n"                    /* no intent/tone */
                                    "    routes: {a: m}\n"
                                    "  r2:\n"
                                    "    type: router\n"
                                    "    prompt: p\n"
                                    "    routes: [m]\n"                    /* routes as list */
                                    "    default_route: m\n"
                                    "  m:\n"
                                    "    type: map\n"                      /* no over */
                                    "    as: x\n"
                                    "    node: {prompt: p}\n"
                                    "    collect: c\n"
                                    "  i:\n"
                                    "    type: interrupt\n"                /* no resume_key */
                                    "    message: hi\n"
                                    "  ag:\n"
                                    "    type: agent\n"
                                    "    tools: [sh, undefined_tool]\n"
                                    "  s:\n"
                                    "    type: subgraph\n"
                                    "    graph: no/such/file.yaml\n"
                                    "    input_mapping: auto\n"
                                    "    output_mapping: auto\n"
                                    "  lonely: {prompt: p}\n"              /* unreachable */
                                    "  weird: {type: wat, prompt: p}\n"
                                    "edges:\n"
                                    "  - {from: START, to: r1}\n"
                                    "  - {from: r1, to: [m], type: conditional}\n"
                                    "  - {from: START, to: r2}\n"
                                    "  - {from: m, to: i}\n"
                                    "  - {from: i, to: ag}\n"
                                    "  - {from: ag, to: s}\n"
                                    "  - {from: s, to: weird}\n"
                                    "  - {from: weird, to: END}\n");
    const char *codes[] = {"W101", "E101", "E102", "E201", "E301", "W301",
                           "E401", "E502", "W002", "E005"};
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
        if (count_code(r, codes[k]) == 0) {
            dump(r);
            ck_abort_msg("item 60: %s not reported", codes[k]);
        }
    /* W101 only for r1 (r2 has a default); W002 only for lonely. */
    ck_assert_uint_eq(count_code(r, "W101"), 1);
    ck_assert_uint_eq(count_code(r, "W002"), 1);
    ck_assert_ptr_nonnull(strstr(yg_lint_report_find(r, "W002", NULL)->message, "'lonely'"));
    /* p has no schema at all: E102 for r2 as well (as the original). */
    ck_assert_uint_eq(count_code(r, "E102"), 2);
    yg_lint_report_destroy(&r);
}
END_TEST

/* Every corpus graph lints without a crash; known findings are there. */
START_TEST(test_corpus)
{
    static const char *const graphs[] = {
        "examples/book_translator/graph.yaml",  "examples/booking/graph.yaml",
        "examples/codegen/impl-agent.yaml",     "examples/cost-router/cost-router.yaml",
        "examples/daily_digest/graph.yaml",     "examples/demos/code-analysis/graph.yaml",
        "examples/demos/feature-brainstorm/graph.yaml", "examples/demos/git-report/graph.yaml",
        "examples/demos/hello/graph.yaml",      "examples/demos/interrupt/interrupt-parent.yaml",
        "examples/demos/interrupt/interrupt-parent-redis.yaml",
        "examples/demos/interview/graph.yaml",  "examples/demos/map/graph.yaml",
        "examples/demos/memory/graph.yaml",     "examples/demos/reflexion/graph.yaml",
        "examples/demos/router/graph.yaml",     "examples/demos/run-analyzer/graph.yaml",
        "examples/demos/subgraph/graph.yaml",   "examples/demos/web-research/graph.yaml",
        "examples/demos/yamlgraph/graph.yaml",  "examples/npc/encounter-loop.yaml",
        "examples/npc/encounter-multi.yaml",    "examples/rag/graph.yaml",
        "examples/yamlgraph_gen/graph.yaml",
    };
    char path[1024];
    for (size_t i = 0; i < sizeof graphs / sizeof graphs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", YG_CORPUS_DIR, graphs[i]);
        yg_error_t err = {0};
        yg_lint_report_t *r = yg_lint_file_in(path, YG_CORPUS_DIR, &err);
        ck_assert_msg(r != NULL, "%s: %s", graphs[i], err.message);
        /* All prompt references of the corpus resolve (INDEX.md). */
        expect_none(r, "E004");
        if (strstr(graphs[i], "demos/router/") || strstr(graphs[i], "demos/reflexion/") ||
            strstr(graphs[i], "demos/map/") || strstr(graphs[i], "demos/hello/")) {
            if (yg_lint_report_count(r))
                dump(r);
            ck_assert_uint_eq(yg_lint_report_count(r), 0);
        }
        if (strstr(graphs[i], "rag/graph.yaml"))
            ck_assert_uint_eq(count_code(r, "I601"), 1);
        if (strstr(graphs[i], "web-research"))
            ck_assert_uint_eq(count_code(r, "W602"), 1);
        if (strstr(graphs[i], "interrupt-parent-redis")) {
            const yg_lint_issue_t *is = yg_lint_report_find(r, "E502", NULL);
            ck_assert_ptr_nonnull(is);
            ck_assert_ptr_nonnull(strstr(is->message, "interrupt-child-with-checkpointer-redis"));
        }
        yg_lint_report_destroy(&r);
    }
}
END_TEST

static Suite *lint_suite(void)
{
    Suite *s = suite_create("lint");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_clean_graph_has_no_issues);
    tcase_add_test(tc, test_e001_shell_placeholder_undeclared);
    tcase_add_test(tc, test_e001_skips_agent_tools);
    tcase_add_test(tc, test_e002_prompt_variable_undeclared);
    tcase_add_test(tc, test_e003_w001_tool_references);
    tcase_add_test(tc, test_e004_prompt_missing);
    tcase_add_test(tc, test_prompt_lookup_relative_and_runtime_order);
    tcase_add_test(tc, test_w002_w003_reachability);
    tcase_add_test(tc, test_e005_unknown_type);
    tcase_add_test(tc, test_router_rules);
    tcase_add_test(tc, test_map_rules);
    tcase_add_test(tc, test_interrupt_rules);
    tcase_add_test(tc, test_checkpointer_rules);
    tcase_add_test(tc, test_agent_rules);
    tcase_add_test(tc, test_subgraph_rules);
    tcase_add_test(tc, test_python_worker_and_websearch);
    tcase_add_test(tc, test_e006_structure);
    tcase_add_test(tc, test_unreadable_files);
    tcase_add_test(tc, test_issues_sorted_by_position);
    tcase_add_test(tc, test_spec_item_60);
    tcase_add_test(tc, test_corpus);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(lint_suite(), 30);
}
