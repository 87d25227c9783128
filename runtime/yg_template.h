/*
 * yg_template.h - prompt templates (spec 7): simple `{name}` mode and a
 * Jinja2 subset.
 *
 * A compiled template is immutable: any number of threads may render the
 * same template concurrently without locks.  Values passed to render are
 * only read.
 */
#ifndef YG_TEMPLATE_H
#define YG_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"

typedef struct yg_tmpl yg_tmpl_t;

typedef enum { YG_TMPL_SIMPLE = 0, YG_TMPL_JINJA } yg_tmpl_mode_t;

/* Compile a template.  Mode: Jinja when text contains "{{" or "{%", else
 * simple.  `file`, `line`, `column` give the position of the text's first
 * character in its YAML file; syntax errors and unsupported constructs
 * (unknown tag, filter, test, macros...) are compile errors reported at the
 * offending character (YG_ETEMPLATE).  Returns NULL on error. */
yg_tmpl_t *yg_tmpl_compile(const char *text, size_t len, const char *file, int line,
                           int column, yg_error_t *err);

/* Free a template and set *self_p to NULL.  NULL-safe. */
void yg_tmpl_destroy(yg_tmpl_t **self_p);

/* The template's mode. */
yg_tmpl_mode_t yg_tmpl_mode(const yg_tmpl_t *self);

/* Render with variables `vars` (a map; NULL = empty).  `state` is the value
 * bound to the name `state` in Jinja mode (NULL = empty map).  Returns
 * malloc'd UTF-8 text, or NULL with err (YG_ETEMPLATE), e.g. a missing
 * variable in simple mode. */
char *yg_tmpl_render(const yg_tmpl_t *self, const yg_value_t *vars, const yg_value_t *state,
                     yg_error_t *err);

/* Spec 7.3: append the template's required-variable names (sorted, unique)
 * as strings to `out` (a list value). */
void yg_tmpl_required_vars(const yg_tmpl_t *self, yg_value_t *out);

/* Spec 7.3 check for a prompt: scans system and user together (either may
 * be NULL); returns YG_OK, or YG_ETEMPLATE with the message
 * "Missing required variable(s) for prompt '<name>': a, b". */
int yg_tmpl_check_required(const yg_tmpl_t *system, const yg_tmpl_t *user,
                           const yg_value_t *vars, const char *prompt_name, yg_error_t *err);

/* Spec 4.11 agent user text: replace each {word} by the text form of
 * state[word]; unknown names stay as written.  Returns malloc'd text, or
 * NULL on ENOMEM. */
char *yg_tmpl_substitute_words(const char *text, const yg_value_t *state);

/* Spec 4.6 step 1(c): does an interrupt message need rendering (contains
 * "{{", "{%", or both '{' and '}')? */
bool yg_tmpl_is_template_text(const char *text);

#endif
