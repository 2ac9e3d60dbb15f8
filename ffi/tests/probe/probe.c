/* The binding probe, C edition: the same program in every binding (probe.cpp,
 * go/internal/probe, test-support's binding-probe), run by ffi/tests/hosts/bindings.rs
 * to keep the README's table of what each binding offers, and its defaults, true.
 *
 * It starts a host with the binding's defaults, prints a stray line to stdout the way
 * a C program does, and answers each message {"text": T} with what the binding says:
 * the caller's identity, whether T is valid JSON, and the error a 1 MiB + 1 reply
 * gets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmframe.h"

/* Appends s (n bytes, or NULL for null) as a JSON string. */
static size_t put_string(char *out, size_t at, const char *s, size_t n) {
    if (!s) return at + (size_t)sprintf(out + at, "null");
    out[at++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[at++] = '\\';
            out[at++] = (char)c;
        } else if (c < 0x20) {
            at += (size_t)sprintf(out + at, "\\u%04x", c);
        } else {
            out[at++] = (char)c;
        }
    }
    out[at++] = '"';
    return at;
}

static size_t put_cstr(char *out, size_t at, const char *s) { return put_string(out, at, s, s ? strlen(s) : 0); }

static const char *browser_name(nmf_browser b) {
    switch (b) {
    case NMF_BROWSER_CHROMIUM: return "chromium";
    case NMF_BROWSER_FIREFOX: return "firefox";
    default: return "unknown";
    }
}

int main(int argc, char **argv) {
    nmf_host *host = NULL;
    nmf_doc *doc = NULL;
    if (nmf_host_new(argc, (const char *const *)argv, 0, 0, &host) != NMF_OK || nmf_doc_new(&doc) != NMF_OK) {
        fprintf(stderr, "probe: cannot start\n");
        return 1;
    }
    printf("stray line from c\n");
    fflush(stdout);

    size_t big_len = NMF_MAX_HOST_TO_BROWSER + 1;
    uint8_t *big = malloc(big_len);
    char *reply = malloc(8192);
    if (!big || !reply) return 1;
    memset(big, 'a', big_len);
    big[0] = big[big_len - 1] = '"';

    uint8_t *msg;
    size_t len;
    nmf_status st;
    while ((st = nmf_host_recv(host, &msg, &len)) == NMF_OK) {
        nmf_value text;
        if (nmf_doc_parse(doc, msg, len) != NMF_OK || nmf_doc_get(doc, "/text", 5, &text) != NMF_OK ||
            text.type != NMF_JSON_STRING) {
            fprintf(stderr, "probe: no /text: %s\n", nmf_doc_last_error(doc));
            return 1;
        }
        bool valid = nmf_json_validate((const uint8_t *)text.string, text.length) == NMF_OK;
        char too_large[512] = "";
        if (nmf_host_send(host, big, big_len) != NMF_OK) snprintf(too_large, sizeof too_large, "%s", nmf_host_last_error(host));

        nmf_caller c;
        nmf_host_caller(host, &c);
        size_t at = (size_t)sprintf(reply, "{\"binding\":\"c\",\"browser\":\"%s\",\"origin\":", browser_name(c.browser));
        at = put_cstr(reply, at, c.origin);
        at += (size_t)sprintf(reply + at, ",\"manifest_path\":");
        at = put_cstr(reply, at, c.manifest_path);
        at += (size_t)sprintf(reply + at, ",\"extension_id\":");
        at = put_cstr(reply, at, c.extension_id);
        at += (size_t)sprintf(reply + at, ",\"parent_window\":%llu,\"valid\":%s,\"too_large\":",
                              (unsigned long long)c.parent_window, valid ? "true" : "false");
        at = put_cstr(reply, at, too_large);
        reply[at++] = '}';
        if ((st = nmf_host_send(host, (const uint8_t *)reply, at)) != NMF_OK) break;
    }
    free(big);
    free(reply);
    nmf_doc_free(doc);
    nmf_host_free(host);
    return st == NMF_EOF ? 0 : 1;
}
