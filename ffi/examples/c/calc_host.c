/*
 * A native-messaging host in C that reads fields by JSON Pointer and computes replies,
 * without a JSON library: libnmframe's document API does the parsing.
 *
 *   {"op":"add","a":1.5,"b":2}        -> {"result":3.5}
 *   {"op":"length","text":"héllo"}    -> {"bytes":6}
 *   {"op":"caller"}                   -> {"browser":1,"extension_id":"..."}
 *   {"op":"printf"}                   -> prints to stdout (the guard sends it to stderr),
 *                                        then {"printed":true}
 */
#include <stdio.h>
#include <string.h>

#include "nmframe.h"

/* Appends `s` (`len` bytes) to `out` as a JSON string; returns the new length, or 0
 * when it does not fit. */
static size_t put_json_string(char *out, size_t at, size_t cap, const char *s, size_t len) {
    if (at >= cap) return 0;
    out[at++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (at + 7 >= cap) return 0;
        if (c == '"' || c == '\\') {
            out[at++] = '\\';
            out[at++] = (char)c;
        } else if (c < 0x20) {
            at += (size_t)snprintf(out + at, cap - at, "\\u%04x", c);
        } else {
            out[at++] = (char)c;
        }
    }
    if (at + 1 >= cap) return 0;
    out[at++] = '"';
    return at;
}

static int get(nmf_doc *doc, const char *pointer, nmf_value *out) {
    return nmf_doc_get(doc, pointer, strlen(pointer), out) == NMF_OK;
}

/* Computes the reply to the message in `doc` into `reply`; returns its length. */
static size_t answer(nmf_host *host, nmf_doc *doc, char *reply, size_t cap) {
    nmf_value op, a, b, text;
    if (!get(doc, "/op", &op) || op.type != NMF_JSON_STRING) {
        return (size_t)snprintf(reply, cap, "{\"error\":\"missing /op\"}");
    }
    if (op.length == 3 && memcmp(op.string, "add", 3) == 0) {
        if (!get(doc, "/a", &a) || !get(doc, "/b", &b) || a.type < NMF_JSON_INT || a.type > NMF_JSON_FLOAT ||
            b.type < NMF_JSON_INT || b.type > NMF_JSON_FLOAT) {
            return (size_t)snprintf(reply, cap, "{\"error\":\"/a and /b must be numbers\"}");
        }
        return (size_t)snprintf(reply, cap, "{\"result\":%.17g}", a.number + b.number);
    }
    if (op.length == 6 && memcmp(op.string, "length", 6) == 0) {
        if (!get(doc, "/text", &text) || text.type != NMF_JSON_STRING) {
            return (size_t)snprintf(reply, cap, "{\"error\":\"/text must be a string\"}");
        }
        return (size_t)snprintf(reply, cap, "{\"bytes\":%zu}", text.length);
    }
    if (op.length == 6 && memcmp(op.string, "caller", 6) == 0) {
        nmf_caller caller;
        nmf_host_caller(host, &caller);
        size_t n = (size_t)snprintf(reply, cap, "{\"browser\":%d,\"extension_id\":", (int)caller.browser);
        const char *id = caller.extension_id ? caller.extension_id : "";
        n = put_json_string(reply, n, cap, id, strlen(id));
        if (n == 0 || n + 2 > cap) return (size_t)snprintf(reply, cap, "{\"error\":\"caller too long\"}");
        reply[n++] = '}';
        return n;
    }
    if (op.length == 6 && memcmp(op.string, "printf", 6) == 0) {
        /* What a careless library might do. With NMF_HOST_GUARD_STDOUT it lands on stderr. */
        printf("stray printf from calc_host: this would corrupt the stream\n");
        fflush(stdout);
        return (size_t)snprintf(reply, cap, "{\"printed\":true}");
    }
    return (size_t)snprintf(reply, cap, "{\"error\":\"unknown op\"}");
}

int main(int argc, char **argv) {
    nmf_host *host = NULL;
    nmf_doc *doc = NULL;
    /* Flags 0: the defaults, the stdout guard among them (the stray printf above). */
    if (nmf_host_new(argc, (const char *const *)argv, 0, 0, &host) != NMF_OK ||
        nmf_doc_new(&doc) != NMF_OK) {
        fprintf(stderr, "calc_host: cannot start\n");
        nmf_host_free(host);
        return 1;
    }
    int exit_code = 0;
    static char reply[4096];
    for (;;) {
        uint8_t *msg;
        size_t len;
        nmf_status status = nmf_host_recv(host, &msg, &len);
        if (status == NMF_EOF || status == NMF_DISCONNECTED) break;
        if (status != NMF_OK) {
            fprintf(stderr, "calc_host: %s\n", nmf_host_last_error(host));
            exit_code = 1;
            break;
        }
        size_t n;
        if (nmf_doc_parse(doc, msg, len) != NMF_OK) {
            fprintf(stderr, "calc_host: %s\n", nmf_doc_last_error(doc));
            n = (size_t)snprintf(reply, sizeof reply, "{\"error\":\"invalid JSON\"}");
        } else {
            n = answer(host, doc, reply, sizeof reply);
        }
        status = nmf_host_send(host, (const uint8_t *)reply, n);
        if (status == NMF_DISCONNECTED) break;
        if (status != NMF_OK) {
            fprintf(stderr, "calc_host: %s\n", nmf_host_last_error(host));
        }
        if (status == NMF_IO || status == NMF_WRITER_BROKEN) {
            exit_code = 1; /* the stream is lost (a write failed): nothing more can reach the browser */
            break;
        }
    }
    nmf_doc_free(doc);
    nmf_host_free(host);
    return exit_code;
}
