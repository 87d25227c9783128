/*
 * yg_schema.h - structured-output schemas (spec 7.6): conversion of the two
 * prompt-file forms to one JSON Schema, validation of a model reply with
 * defaults filled in, and placeholder objects for the mock provider.
 *
 * Supported JSON Schema subset: type (a name or a list of names), properties,
 * required, additionalProperties (bool or schema), items, default, enum,
 * anyOf / oneOf (first alternative that validates wins), minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum, minLength, maxLength (characters),
 * minItems, maxItems, pattern (POSIX extended regex, search semantics),
 * title / description (ignored).  Unknown keywords are ignored.
 *
 * Coercions mirror the original's lax model validation: an integral float
 * is accepted as an integer, an integer as a number (stored as float).
 */
#ifndef YG_SCHEMA_H
#define YG_SCHEMA_H

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"

/* Deepest schema / value nesting walked (hostile schemas cannot recurse forever). */
#define YG_SCHEMA_MAX_DEPTH 64

/* Validate value against schema.  On success returns YG_OK and *out = a new
 * value: value with defaults filled in (objects are copied).  On failure
 * returns YG_ESCHEMA with a message naming the path, e.g.
 * "structured output invalid at 'score': expected number, got string". */
int yg_schema_validate(const yg_value_t *schema, const yg_value_t *value, yg_value_t **out,
                       yg_error_t *err);

/* Native `schema:` section {name, fields: {f: {type, description, default,
 * optional, constraints}}} -> JSON Schema.  Unknown type string -> NULL with
 * YG_EVALIDATE naming the field.  The model name becomes `title`. */
yg_value_t *yg_schema_from_native(const yg_value_t *section, yg_error_t *err);

/* `output_schema:` section (JSON-Schema style, type object) -> the
 * normalised JSON Schema of spec 7.6 (enum not enforced, non-required
 * properties nullable with default null).  NULL + YG_EVALIDATE on error. */
yg_value_t *yg_schema_from_output_schema(const yg_value_t *section, yg_error_t *err);

/* The built-in GenericReport model ([C] spec 4.1 output_model). */
yg_value_t *yg_schema_generic_report(void);

/* A value that validates against schema: defaults where given, else the
 * first enum value, else a placeholder of the right type ("mock", 0 / the
 * minimum, 0.0, false, [], objects with every property).  Used by the mock. */
yg_value_t *yg_schema_placeholder(const yg_value_t *schema);

#endif
