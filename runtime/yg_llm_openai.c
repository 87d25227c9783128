/*
 * yg_llm_openai.c - the OpenAI chat-completions wire dialect (OpenAI,
 * Mistral, DeepSeek, xAI, LM Studio, Ollama, vLLM): request JSON, reply
 * parsing, and streamed chunks (`data: {...}` ... `data: [DONE]`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_llm_http.h"

/* OpenAI tool_calls from ours: [{id, name, args}] ->
 * [{id, type: function, function: {name, arguments: "<json>"}}]. */
static yg_value_t *openai_tool_calls(const yg_value_t *calls)
{
    yg_value_t *out = yg_list_new();
    for (size_t i = 0; out && i < yg_list_size(calls); i++) {
        const yg_value_t *c = yg_list_get(calls, i);
        char *args = yg_json_encode(yg_map_get(c, "args") ? yg_map_get(c, "args") : NULL, false, NULL);
        yg_value_t *fn = yg_map_new();
        const char *name = yg_value_str(yg_map_get(c, "name"));
        yg_map_set(fn, "name", yg_str_new(name ? name : ""));
        /* a missing args map encodes as "null"; send an empty object */
        yg_map_set(fn, "arguments",
                   yg_str_new(args && strcmp(args, "null") != 0 ? args : "{}"));
        free(args);
        yg_value_t *tc = yg_map_new();
        const char *id = yg_value_str(yg_map_get(c, "id"));
        yg_map_set(tc, "id", id ? yg_str_new(id) : yg_str_newf("call_%zu", i));
        yg_map_set(tc, "type", yg_str_new("function"));
        yg_map_set(tc, "function", fn);
        yg_list_append(out, tc);
    }
    return out;
}

static yg_value_t *openai_messages(const yg_value_t *messages, yg_error_t *err)
{
    yg_value_t *out = yg_list_new();
    for (size_t i = 0; out && i < yg_list_size(messages); i++) {
        const yg_value_t *m = yg_list_get(messages, i);
        const char *role = yg_value_str(yg_map_get(m, "role"));
        if (!role) {
            yg_error_set(err, YG_EINVAL, "message %zu has no role", i);
            yg_value_destroy(&out);
            return NULL;
        }
        yg_value_t *o = yg_map_new();
        yg_map_set(o, "role", yg_str_new(role));
        const yg_value_t *calls = yg_map_get(m, "tool_calls");
        if (yg_list_size(calls) > 0) {
            const char *text = yg_llm_msg_text(m);
            yg_map_set(o, "content", text[0] ? yg_str_new(text) : yg_null_new());
            yg_map_set(o, "tool_calls", openai_tool_calls(calls));
        } else {
            yg_map_set(o, "content", yg_str_new(yg_llm_msg_text(m)));
        }
        const char *tcid = yg_value_str(yg_map_get(m, "tool_call_id"));
        if (tcid)
            yg_map_set(o, "tool_call_id", yg_str_new(tcid));
        yg_list_append(out, o);
    }
    return out;
}

static char *openai_build_body(const yg_llm_request_t *req, const char *model, size_t *len,
                               yg_error_t *err)
{
    yg_value_t *msgs = openai_messages(req->messages, err);
    if (!msgs)
        return NULL;
    yg_value_t *root = yg_map_new();
    yg_map_set(root, "model", yg_str_new(model));
    yg_map_set(root, "messages", msgs);
    yg_map_set(root, "temperature", yg_float_new(req->temperature));
    if (req->stream)
        yg_map_set(root, "stream", yg_bool_new(true));
    if (req->schema) {
        char name[80];
        yg_llm_schema_name(req->schema_name, name, sizeof name);
        yg_value_t *js = yg_map_new();
        yg_map_set(js, "name", yg_str_new(name));
        yg_map_set(js, "schema", yg_value_copy(req->schema));
        /* strict mode needs every property required; our schemas have
         * optional fields, so validation happens on our side */
        yg_map_set(js, "strict", yg_bool_new(false));
        yg_value_t *rf = yg_map_new();
        yg_map_set(rf, "type", yg_str_new("json_schema"));
        yg_map_set(rf, "json_schema", js);
        yg_map_set(root, "response_format", rf);
    }
    if (yg_list_size(req->tools) > 0) {
        yg_value_t *tools = yg_list_new();
        for (size_t i = 0; i < yg_list_size(req->tools); i++) {
            const yg_value_t *t = yg_list_get(req->tools, i);
            yg_value_t *fn = yg_map_new();
            const char *name = yg_value_str(yg_map_get(t, "name"));
            const char *desc = yg_value_str(yg_map_get(t, "description"));
            yg_map_set(fn, "name", yg_str_new(name ? name : ""));
            yg_map_set(fn, "description", yg_str_new(desc ? desc : ""));
            const yg_value_t *params = yg_map_get(t, "parameters");
            if (params) {
                yg_map_set(fn, "parameters", yg_value_copy(params));
            } else {
                yg_value_t *empty = yg_map_new();
                yg_map_set(empty, "type", yg_str_new("object"));
                yg_map_set(empty, "properties", yg_map_new());
                yg_map_set(fn, "parameters", empty);
            }
            yg_value_t *tool = yg_map_new();
            yg_map_set(tool, "type", yg_str_new("function"));
            yg_map_set(tool, "function", fn);
            yg_list_append(tools, tool);
        }
        yg_map_set(root, "tools", tools);
    }
    char *body = yg_json_encode(root, false, len);
    yg_value_destroy(&root);
    if (!body)
        yg_error_set(err, YG_ENOMEM, "out of memory");
    return body;
}

/* Tool calls of a complete message. */
static void openai_take_tool_calls(yg_llm_acc_t *acc, const yg_value_t *calls)
{
    for (size_t i = 0; i < yg_list_size(calls) && !acc->fail_code; i++) {
        const yg_value_t *c = yg_list_get(calls, i);
        const yg_value_t *fn = yg_map_get(c, "function");
        yg_llm_tool_part_t *t = yg_llm_acc_tool(acc, (int)i);
        if (!t)
            return;
        const char *id = yg_value_str(yg_map_get(c, "id"));
        const char *name = yg_value_str(yg_map_get(fn, "name"));
        const yg_value_t *args = yg_map_get(fn, "arguments");
        t->id = strdup(id ? id : "");
        t->name = strdup(name ? name : "");
        /* Some servers (Ollama) send arguments as an object, not a string. */
        t->args = yg_value_str(args) ? strdup(yg_value_str(args)) : yg_json_encode(args, false, NULL);
        t->args_len = t->args ? strlen(t->args) : 0;
        if (t->args && strcmp(t->args, "null") == 0)
            t->args_len = 0;
    }
}

static void openai_parse_reply(yg_llm_acc_t *acc, const char *body, size_t len)
{
    yg_error_t err = {0};
    yg_value_t *root = yg_json_decode(body, len, NULL, &err);
    if (!root) {
        yg_llm_acc_fail(acc, YG_EPARSE, "APIResponseValidationError", false,
                        "the response is not valid JSON: %s", err.message);
        return;
    }
    if (yg_map_get(root, "error")) {
        char msg[400];
        yg_llm_error_message(body, len, msg, sizeof msg);
        yg_llm_acc_fail(acc, YG_ELLM, "APIError", false, "error in the response: %s", msg);
        yg_value_destroy(&root);
        return;
    }
    const yg_value_t *choice = yg_list_get(yg_map_get(root, "choices"), 0);
    const yg_value_t *msg = yg_map_get(choice, "message");
    if (yg_value_type(msg) != YG_MAP) {
        yg_llm_acc_fail(acc, YG_EPARSE, "APIResponseValidationError", false,
                        "the response has no choices[0].message");
        yg_value_destroy(&root);
        return;
    }
    const yg_value_t *content = yg_map_get(msg, "content");
    if (yg_value_str(content))
        yg_llm_acc_text(acc, yg_value_str(content), yg_value_strlen(content), false);
    openai_take_tool_calls(acc, yg_map_get(msg, "tool_calls"));
    const char *finish = yg_value_str(yg_map_get(choice, "finish_reason"));
    if (finish)
        snprintf(acc->finish_reason, sizeof acc->finish_reason, "%s", finish);
    acc->done = true;
    yg_value_destroy(&root);
}

static void openai_stream_tools(yg_llm_acc_t *acc, const yg_value_t *calls)
{
    for (size_t i = 0; i < yg_list_size(calls) && !acc->fail_code; i++) {
        const yg_value_t *c = yg_list_get(calls, i);
        const yg_value_t *idx = yg_map_get(c, "index");
        yg_llm_tool_part_t *t = yg_llm_acc_tool(acc, idx ? (int)yg_value_int(idx) : (int)i);
        if (!t)
            return;
        const char *id = yg_value_str(yg_map_get(c, "id"));
        const yg_value_t *fn = yg_map_get(c, "function");
        const char *name = yg_value_str(yg_map_get(fn, "name"));
        const char *piece = yg_value_str(yg_map_get(fn, "arguments"));
        if (id && !t->id)
            t->id = strdup(id);
        if (name && !t->name)
            t->name = strdup(name);
        if (piece && piece[0]) {
            size_t n = strlen(piece);
            char *p = realloc(t->args, t->args_len + n + 1);
            if (!p) {
                yg_llm_acc_fail(acc, YG_ENOMEM, "MemoryError", false, "out of memory");
                return;
            }
            memcpy(p + t->args_len, piece, n + 1);
            t->args = p;
            t->args_len += n;
        }
    }
}

static int openai_stream_event(yg_llm_acc_t *acc, const yg_sse_event_t *ev)
{
    if (acc->done)
        return 0;  /* anything after [DONE] is ignored */
    if (strcmp(ev->data, "[DONE]") == 0) {
        acc->done = true;
        return 0;
    }
    yg_error_t err = {0};
    yg_value_t *chunk = yg_json_decode(ev->data, ev->data_len, NULL, &err);
    if (!chunk) {
        return yg_llm_acc_fail(acc, YG_EPARSE, "APIResponseValidationError", false,
                               "malformed stream event (not JSON): %s", err.message);
    }
    if (yg_map_get(chunk, "error")) {
        char msg[400];
        yg_llm_error_message(ev->data, ev->data_len, msg, sizeof msg);
        yg_value_destroy(&chunk);
        return yg_llm_acc_fail(acc, YG_ELLM, "APIError", !acc->emitted,
                               "error event in the stream: %s", msg);
    }
    const yg_value_t *choice = yg_list_get(yg_map_get(chunk, "choices"), 0);
    const yg_value_t *delta = yg_map_get(choice, "delta");
    const yg_value_t *content = yg_map_get(delta, "content");
    if (yg_value_str(content))
        yg_llm_acc_text(acc, yg_value_str(content), yg_value_strlen(content), true);
    openai_stream_tools(acc, yg_map_get(delta, "tool_calls"));
    const char *finish = yg_value_str(yg_map_get(choice, "finish_reason"));
    if (finish)
        snprintf(acc->finish_reason, sizeof acc->finish_reason, "%s", finish);
    yg_value_destroy(&chunk);
    return acc->fail_code;
}

const yg_llm_dialect_t yg_llm_openai_dialect = {
    openai_build_body,
    openai_parse_reply,
    openai_stream_event,
};
