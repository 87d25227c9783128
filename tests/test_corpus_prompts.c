/*
 * test_corpus_prompts.c - every prompt file of the corpus compiles, and a
 * representative set renders as Jinja2 renders it.
 *
 * The top-level `system` / `user` scalars are read with libyaml directly so
 * this suite does not depend on the loader.  Expected substrings were
 * checked against Jinja2 3.1 rendering the same files with the same
 * variables.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "testutil.h"
#include "yg_template.h"

#ifndef YG_CORPUS_DIR
#error "YG_CORPUS_DIR must be defined"
#endif

/* The corpus holds 77 prompt files, 34 of their texts in Jinja mode. */
#define CORPUS_MIN_PROMPT_FILES 77
#define CORPUS_MIN_JINJA_TEXTS 34
#define PATH_MAX_LEN 4096

/* One top-level scalar with the position of its first content character. */
typedef struct {
    char *text;
    size_t len;
    int line, column;
} field_t;

/* Column of the first non-blank character of 0-based line `line`. */
static int indent_of_line(const char *buf, size_t len, size_t line)
{
    size_t i = 0, l = 0;
    while (i < len && l < line)
        if (buf[i++] == '\n')
            l++;
    /* skip blank lines: block content starts at the first non-empty line */
    for (;;) {
        size_t start = i;
        while (i < len && buf[i] == ' ')
            i++;
        if (i < len && buf[i] == '\n') {
            i++;
            continue;
        }
        return (int)(i - start) + 1;
    }
}

/* Copy a scalar event's value and the position of its first character. */
static void capture_scalar(field_t *target, const yaml_event_t *ev, const char *buf, size_t len)
{
    target->len = ev->data.scalar.length;
    target->text = malloc(target->len + 1);
    ck_assert_ptr_nonnull(target->text);
    memcpy(target->text, ev->data.scalar.value, target->len + 1);
    yaml_scalar_style_t style = ev->data.scalar.style;
    if (style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE) {
        /* the mark is at the indicator; content starts on the next line */
        target->line = (int)ev->start_mark.line + 2;
        target->column = indent_of_line(buf, len, ev->start_mark.line + 1);
    } else {
        bool quoted = style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                      style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        target->line = (int)ev->start_mark.line + 1;
        target->column = (int)ev->start_mark.column + 1 + (quoted ? 1 : 0);
    }
}

/* Read top-level `system` and `user` scalars of a YAML file.  Returns false
 * when the file is not valid YAML. */
static bool read_prompt_fields(const char *path, field_t *system, field_t *user)
{
    memset(system, 0, sizeof *system);
    memset(user, 0, sizeof *user);
    size_t len;
    char *buf = testutil_read_file(path, &len);
    if (!buf)
        return false;
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    int depth = 0;      /* 1 = inside the top-level mapping */
    bool is_key = true; /* the next node at depth 1 is a key */
    bool ok = true;
    field_t *target = NULL;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            ok = false;
            break;
        }
        yaml_event_type_t type = ev.type;
        switch (type) {
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            depth++;
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (--depth == 1) { /* a collection key or value ended */
                is_key = !is_key;
                target = NULL;
            }
            break;
        case YAML_ALIAS_EVENT:
            if (depth == 1) {
                is_key = !is_key;
                target = NULL;
            }
            break;
        case YAML_SCALAR_EVENT:
            if (depth != 1)
                break;
            if (is_key) {
                const char *key = (const char *)ev.data.scalar.value;
                target = strcmp(key, "system") == 0 ? system
                         : strcmp(key, "user") == 0 ? user
                                                    : NULL;
            } else if (target) {
                capture_scalar(target, &ev, buf, len);
                target = NULL;
            }
            is_key = !is_key;
            break;
        default: break;
        }
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    free(buf);
    return ok;
}

static void field_free(field_t *f)
{
    free(f->text);
    f->text = NULL;
}

typedef struct {
    int files;
    int texts;
    int jinja_texts;
} walk_stats_t;

static bool is_prompt_path(const char *path)
{
    size_t n = strlen(path);
    return strstr(path, "prompts") && n > 5 && strcmp(path + n - 5, ".yaml") == 0;
}

static void check_prompt_file(const char *path, walk_stats_t *stats)
{
    field_t fields[2];
    ck_assert_msg(read_prompt_fields(path, &fields[0], &fields[1]), "%s: invalid YAML", path);
    stats->files++;
    for (int k = 0; k < 2; k++) {
        if (!fields[k].text)
            continue;
        yg_error_t err = {0};
        yg_tmpl_t *t = yg_tmpl_compile(fields[k].text, fields[k].len, path, fields[k].line,
                                       fields[k].column, &err);
        ck_assert_msg(t != NULL, "%s:%d:%d: %s", path, err.line, err.column, err.message);
        stats->texts++;
        if (yg_tmpl_mode(t) == YG_TMPL_JINJA)
            stats->jinja_texts++;
        yg_tmpl_destroy(&t);
        field_free(&fields[k]);
    }
}

static void walk(const char *dir, walk_stats_t *stats)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(path, stats);
        else if (S_ISREG(st.st_mode) && is_prompt_path(path))
            check_prompt_file(path, stats);
    }
    closedir(d);
}

START_TEST(test_all_corpus_prompts_compile)
{
    walk_stats_t stats = {0};
    walk(YG_CORPUS_DIR, &stats);
    ck_assert_int_ge(stats.files, CORPUS_MIN_PROMPT_FILES);
    ck_assert_int_ge(stats.jinja_texts, CORPUS_MIN_JINJA_TEXTS);
    ck_assert_int_gt(stats.texts, stats.files);
}
END_TEST

/* --- representative renders --------------------------------------------------- */

typedef struct {
    const char *file;      /* relative to the corpus */
    const char *field;     /* "system" or "user" */
    const char *vars;      /* JSON */
    const char *expect[4]; /* substrings of the output */
    const char *absent;    /* a substring that must not appear, or NULL */
} render_case_t;

static const render_case_t RENDER_CASES[] = {
    /* for over .keys(), d[key], `a and a.keys` */
    {"examples/book_translator/prompts/proofread.yaml", "user",
     "{\"original\": \"Hola gato\", \"translated\": \"Hello cat\", "
     "\"glossary\": {\"gato\": \"cat\", \"perro\": \"dog\"}}",
     {"ORIGINAL:\nHola gato\n\nTRANSLATION:\nHello cat\n\n\nGLOSSARY TERMS TO VERIFY:\n\n"
      "- \"gato\" \xe2\x86\x92 \"cat\"\n\n- \"perro\" \xe2\x86\x92 \"dog\"\n\n\n\n"
      "If the translation is acceptable",
      NULL},
     "{%"},
    /* |length in a comparison, slicing by characters */
    {"examples/book_translator/prompts/identify_chapters.yaml", "user",
     "{\"source_language\": \"Spanish\", \"source_text\": \"@LONG@\"}",
     {"Analyze this Spanish document", "Document (12005 characters):\n",
      "... [truncated, 12005 total characters]"},
     NULL},
    /* ~ concatenation, inline if, default(none) */
    {"examples/npc/prompts/npc_identity.yaml", "user",
     "{\"concept\": \"grumpy smith\", \"race\": \"Dwarf\", \"character_class\": null, "
     "\"location\": \"Ironforge\"}",
     {"**Concept**: grumpy smith\n**Race**: Dwarf\n\n**Found in**: Ironforge\n\n\nGenerate"},
     "Class/Occupation"},
    /* default([]) | join, if on maps, join on a list */
    {"examples/npc/prompts/encounter_decide.yaml", "user",
     "{\"npc_name\": \"Bob\", \"npc_voice\": \"\", \"npc_personality\": {\"traits\": [\"brave\", "
     "\"loud\"], \"disposition\": \"friendly\"}, \"npc_behavior\": {}, \"perception\": "
     "{\"observations\": [\"a door\", \"a rat\"], \"emotional_state\": \"calm\"}, "
     "\"encounter_type\": \"social\"}",
     {"**Personality**:\n- Traits: brave, loud\n- Ideals: \n- Flaws: \n- Disposition: friendly\n",
      "- Observations: a door; a rat\n- Threats: \n", "**Encounter Type**: social",
      "What does Bob do?"},
     "Combat Style"},
    /* for over x | default([]), nested if on attributes */
    {"examples/npc/prompts/encounter_summarize.yaml", "user",
     "{\"location\": \"Tavern\", \"npcs\": [{\"name\": \"Bob\", \"race\": \"Elf\", "
     "\"character_class\": \"Bard\"}], \"actions\": [{\"npc_name\": \"Bob\", \"action_type\": "
     "\"speak\", \"description\": \"sings\", \"dialogue\": \"La la\"}, {\"npc_name\": \"Bob\", "
     "\"action_type\": \"move\", \"description\": \"walks\", \"target\": \"bar\"}]}",
     {"**Turn 1**\n\n**Location**: Tavern\n\n\n**DM Scene**: The scene unfolds...",
      "- Bob (Elf Bard): \n",
      "- Action: speak - sings\n\n- Said: \"La la\"\n\n\n\n---\n**Bob**:\n- Action: move - walks\n"
      "\n\n- Target: bar\n"},
     NULL},
    /* == on an attribute, a map rendered with Python str() */
    {"examples/codegen/prompts/generate_plan.yaml", "user",
     "{\"story\": \"Split module\", \"parsed_request\": {\"change_type\": \"refactor\", "
     "\"key_terms\": [\"a\"]}, \"code_analysis\": \"ok\"}",
     {"**Change Type**: refactor\n\n\xe2\x9a\xa0\xef\xb8\x8f REFACTOR TASK",
      "**Parsed Request**: {'change_type': 'refactor', 'key_terms': ['a']}"},
     NULL},
    /* if / else on a string comparison in a system text */
    {"examples/storyboard/prompts/expand_character_story.yaml", "system", "{\"model\": \"hidream\"}",
     {"- This will be the BASE IMAGE for all panels\n\n- Style: cartoon, illustration, digital art, "
      "stylized\n\n\n**PANEL PROMPT RULES:**"},
     "photorealistic"},
    /* raw blocks keep template syntax literally */
    {"examples/yamlgraph_gen/prompts/assemble_graph.yaml", "system", "{}",
     {"6. **Variable syntax**: Use {state.field} for state references"},
     "{% raw %}"},
    /* slice inside an inline if, join with a literal separator */
    {"examples/daily_digest/prompts/analyze_article.yaml", "user",
     "{\"topics\": [\"AI\", \"Python\"], \"title\": \"T\", \"url\": \"http://x\", "
     "\"content\": \"@LONG@\"}",
     {"interested in: AI, Python\n\nTitle: T\nURL: http://x\n\nContent:\n"},
     NULL},
    {"examples/daily_digest/prompts/analyze_article.yaml", "user",
     "{\"topics\": [], \"title\": \"T\", \"url\": \"u\", \"content\": \"\"}",
     {"interested in: \n", "(Content not available - analyze based on title only)"},
     NULL},
    /* attribute chains on map items, float rendering */
    {"examples/daily_digest/prompts/rank_stories.yaml", "user",
     "{\"analyzed\": [{\"_map_analyze_all_sub\": {\"title\": \"Story A\", \"url\": \"http://a\", "
     "\"relevance_score\": 0.9, \"summary\": \"S\"}}]}",
     {"- Story A (relevance: 0.9)\n  Summary: S\n  URL: http://a\n"},
     NULL},
    {"examples/rag/prompts/answer.yaml", "user",
     "{\"question\": \"Why?\", \"context\": [{\"source\": \"doc1.md\", \"content\": \"Because.\"}]}",
     {"---\nSource: doc1.md\nBecause.\n", "Question: Why?"},
     NULL},
    /* simple mode: dotted placeholders and list joining */
    {"examples/codegen/prompts/plan_discovery.yaml", "user",
     "{\"story\": \"s\", \"scope\": \"all\", \"parsed_request\": {\"change_type\": \"fix\", "
     "\"key_terms\": [\"auth\", \"login\"], \"file_patterns\": [\"*.py\"]}}",
     {"Change type: fix\nKey terms: ['auth', 'login']\nFile patterns: ['*.py']\n"},
     NULL},
    {"examples/demos/hello/prompts/greet.yaml", "user", "{\"name\": [\"Ann\", \"Bo\"], \"style\": 3}",
     {"Generate a greeting for \"Ann, Bo\" in a 3 style.", "- Match the requested tone (3)"},
     NULL},
};

/* Replace the "@LONG@" marker with a 12005-character text (multi-byte
 * characters, so slicing must count characters). */
static char *expand_vars(const char *vars)
{
    const char *mark = strstr(vars, "@LONG@");
    if (!mark)
        return strdup(vars);
    const char *unit = "\xc3\xb1"; /* n with tilde */
    size_t count = 12005, ul = strlen(unit), head = (size_t)(mark - vars);
    char *out = malloc(strlen(vars) + count * ul + 1);
    memcpy(out, vars, head);
    for (size_t i = 0; i < count; i++)
        memcpy(out + head + i * ul, unit, ul);
    strcpy(out + head + count * ul, mark + 6);
    return out;
}

START_TEST(test_representative_renders)
{
    for (size_t i = 0; i < sizeof RENDER_CASES / sizeof RENDER_CASES[0]; i++) {
        const render_case_t *c = &RENDER_CASES[i];
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s/%s", YG_CORPUS_DIR, c->file);
        field_t sys, user;
        ck_assert_msg(read_prompt_fields(path, &sys, &user), "%s", path);
        field_t *f = strcmp(c->field, "system") == 0 ? &sys : &user;
        ck_assert_msg(f->text != NULL, "%s has no %s", c->file, c->field);
        yg_error_t err = {0};
        yg_tmpl_t *t = yg_tmpl_compile(f->text, f->len, path, f->line, f->column, &err);
        ck_assert_msg(t != NULL, "%s: %s", c->file, err.message);
        char *json = expand_vars(c->vars);
        yg_value_t *vars = yg_json_decode(json, strlen(json), NULL, &err);
        ck_assert_msg(vars != NULL, "case %zu: bad JSON: %s", i, err.message);
        char *out = yg_tmpl_render(t, vars, NULL, &err);
        ck_assert_msg(out != NULL, "%s: render failed: %s", c->file, err.message);
        for (int k = 0; k < 4 && c->expect[k]; k++)
            ck_assert_msg(strstr(out, c->expect[k]) != NULL,
                          "%s: output lacks [%s]\n--- output ---\n%s", c->file, c->expect[k], out);
        if (c->absent)
            ck_assert_msg(strstr(out, c->absent) == NULL, "%s: output has [%s]", c->file,
                          c->absent);
        free(out);
        free(json);
        yg_value_destroy(&vars);
        yg_tmpl_destroy(&t);
        field_free(&sys);
        field_free(&user);
    }
}
END_TEST

/* The 12000-character slice keeps exactly 12000 characters. */
START_TEST(test_slice_counts_characters)
{
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s/examples/book_translator/prompts/identify_chapters.yaml",
             YG_CORPUS_DIR);
    field_t sys, user;
    ck_assert(read_prompt_fields(path, &sys, &user));
    yg_error_t err = {0};
    yg_tmpl_t *t = yg_tmpl_compile(user.text, user.len, path, user.line, user.column, &err);
    ck_assert_ptr_nonnull(t);
    char *json = expand_vars("{\"source_language\": \"x\", \"source_text\": \"@LONG@\"}");
    yg_value_t *vars = yg_json_decode(json, strlen(json), NULL, NULL);
    char *out = yg_tmpl_render(t, vars, NULL, &err);
    ck_assert_ptr_nonnull(out);
    const char *start = strstr(out, "characters):\n");
    ck_assert_ptr_nonnull(start);
    start += strlen("characters):\n");
    const char *end = strchr(start, '\n');
    ck_assert_ptr_nonnull(end);
    ck_assert_int_eq((int)(end - start), 12000 * 2); /* two bytes per character */
    free(out);
    free(json);
    yg_value_destroy(&vars);
    yg_tmpl_destroy(&t);
    field_free(&sys);
    field_free(&user);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("corpus_prompts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_all_corpus_prompts_compile);
    tcase_add_test(tc, test_representative_renders);
    tcase_add_test(tc, test_slice_counts_characters);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 60);
}
