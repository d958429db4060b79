/* chat.c: chat prompt rendering. ChatML exactly as Qwen2.5-Instruct's Jinja template
 * renders system/user/assistant/tool turns when no tool definitions are passed. It is not a
 * Jinja interpreter: other templates are not supported. */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

static srlm_status put(srlm_bytebuf *b, const char *s) { return srlm_bytebuf_append(b, s, strlen(s)); }

srlm_status srlm_chat_render(const srlm_tokenizer *t, const srlm_chat_message *msgs, size_t n,
                             int add_generation_prompt, char **out) {
    *out = NULL;
    if (!t->chatml)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "this tokenizer has no chat format (no <|im_start|>/<|im_end|> tokens)");
    if (n == 0) return srlm_errorf(SRLM_ERR_INVALID, "chat: no messages");
    for (size_t i = 0; i < n; i++) {
        const char *r = msgs[i].role;
        if (!r || !msgs[i].content) return srlm_errorf(SRLM_ERR_INVALID, "chat: message %zu has no role or content", i);
        if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant") && strcmp(r, "tool"))
            return srlm_errorf(SRLM_ERR_INVALID, "chat: message %zu has unknown role '%s'", i, r);
    }
    srlm_bytebuf b = {0};
    srlm_status st = NULL;
    /* The template opens with the first message when it is a system message, else with
     * the default system prompt (if this tokenizer has one). */
    size_t first = 0;
    if (!strcmp(msgs[0].role, "system")) {
        st = put(&b, "<|im_start|>system\n");
        if (!st) st = put(&b, msgs[0].content);
        if (!st) st = put(&b, "<|im_end|>\n");
        first = 1;
    } else if (t->default_system) {
        st = put(&b, "<|im_start|>system\n");
        if (!st) st = put(&b, t->default_system);
        if (!st) st = put(&b, "<|im_end|>\n");
    }
    for (size_t i = first; i < n && !st; i++) {
        const char *r = msgs[i].role;
        if (strcmp(r, "tool")) {
            /* user, assistant without tool calls, and later system turns */
            st = put(&b, "<|im_start|>");
            if (!st) st = put(&b, r);
            if (!st) st = put(&b, "\n");
            if (!st) st = put(&b, msgs[i].content);
            if (!st) st = put(&b, "<|im_end|>\n");
        } else {
            /* consecutive tool results share one user turn */
            if (i == 0 || strcmp(msgs[i - 1].role, "tool")) st = put(&b, "<|im_start|>user");
            if (!st) st = put(&b, "\n<tool_response>\n");
            if (!st) st = put(&b, msgs[i].content);
            if (!st) st = put(&b, "\n</tool_response>");
            if (!st && (i + 1 == n || strcmp(msgs[i + 1].role, "tool"))) st = put(&b, "<|im_end|>\n");
        }
    }
    if (!st && add_generation_prompt) st = put(&b, "<|im_start|>assistant\n");
    if (!st && !b.data) st = put(&b, "");
    if (st) { srlm_bytebuf_free(&b); return st; }
    *out = b.data;
    return NULL;
}
