/*
 * The C ABI exercised from C, for the sanitizers and valgrind: the decoder fed in
 * chunks of every size, hostile headers, the document API, NULL and zero lengths.
 * Prints one line per failed check and a final "N passed, N failed" line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmframe.h"

static int passed, failed;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (cond) {                                                   \
            passed++;                                                 \
        } else {                                                      \
            failed++;                                                 \
            fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                             \
    } while (0)

/* Appends a frame holding `payload` to `out` at `at`; returns the new end. */
static size_t put_frame(uint8_t *out, size_t at, const char *payload, size_t len) {
    uint32_t n = (uint32_t)len;
    memcpy(out + at, &n, 4); /* native byte order, as the browsers do */
    memcpy(out + at + 4, payload, len);
    return at + 4 + len;
}

/* Feeds `wire` to a new decoder in chunks of `chunk` bytes through buffer/commit and
 * counts the frames; returns the status that ended decoding. */
static nmf_status feed(const uint8_t *wire, size_t len, size_t chunk, uint32_t role, uint32_t max, int *frames,
                       size_t *bytes) {
    nmf_decoder *dec = NULL;
    if (nmf_decoder_new(role, max, &dec) != NMF_OK) return NMF_PANIC;
    *frames = 0;
    *bytes = 0;
    nmf_status st = NMF_NEED_MORE;
    size_t at = 0;
    for (;;) {
        uint8_t *payload;
        size_t plen;
        while ((st = nmf_decoder_next(dec, &payload, &plen)) == NMF_OK) {
            (*frames)++;
            *bytes += plen;
            if (plen > 0) payload[0] ^= 0; /* views are writable */
        }
        if (st != NMF_NEED_MORE) break;
        if (at == len) {
            st = nmf_decoder_finish(dec);
            break;
        }
        uint8_t *space;
        size_t room;
        if (nmf_decoder_buffer(dec, chunk, &space, &room) != NMF_OK || room < chunk) {
            st = NMF_PANIC;
            break;
        }
        size_t n = len - at < chunk ? len - at : chunk;
        memcpy(space, wire + at, n);
        nmf_decoder_commit(dec, n);
        at += n;
    }
    nmf_decoder_free(dec);
    return st;
}

static void test_decoder(void) {
    static uint8_t wire[1 << 16];
    size_t len = 0;
    char msg[64];
    for (int i = 0; i < 300; i++) {
        int n = snprintf(msg, sizeof msg, "{\"i\":%d}", i);
        len = put_frame(wire, len, msg, (size_t)n);
    }
    len = put_frame(wire, len, "", 0);
    size_t chunks[] = {1, 2, 3, 4, 5, 7, 64, 4096, sizeof wire};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        int frames;
        size_t bytes;
        CHECK(feed(wire, len, chunks[c], NMF_ROLE_HOST, 0, &frames, &bytes) == NMF_EOF);
        CHECK(frames == 301);
    }
    /* Cut at every byte of frame 299 ({"i":299}, 4 + 9 bytes): every earlier frame is
     * delivered, and the end says how the stream was cut. */
    size_t start = len - 4 - 13;
    for (size_t cut = 1; cut <= 13; cut++) {
        int frames;
        size_t bytes;
        nmf_status st = feed(wire, start + cut, 3, NMF_ROLE_HOST, 0, &frames, &bytes);
        nmf_status want = cut < 4 ? NMF_TRUNCATED_HEADER : cut < 13 ? NMF_TRUNCATED_PAYLOAD : NMF_EOF;
        CHECK(st == want);
        CHECK(frames == (cut == 13 ? 300 : 299));
    }
}

static void test_hostile_headers(void) {
    uint8_t wire[64];
    int frames;
    size_t bytes;
    /* 4 GiB claimed, 10 bytes sent: a truncation, and no 4 GiB allocation. */
    uint32_t huge = UINT32_MAX;
    memcpy(wire, &huge, 4);
    memset(wire + 4, '{', 10);
    CHECK(feed(wire, 14, 1, NMF_ROLE_HOST, 0, &frames, &bytes) == NMF_TRUNCATED_PAYLOAD);
    CHECK(feed(wire, 4, 4, NMF_ROLE_HOST, 0, &frames, &bytes) == NMF_TRUNCATED_PAYLOAD);
    /* The same header as a browser reads it: over 1 MiB, refused on the header. */
    CHECK(feed(wire, 14, 2, NMF_ROLE_BROWSER, 0, &frames, &bytes) == NMF_FRAME_TOO_LARGE);
    /* Text printed to stdout: "/home/u" read as a header. */
    memcpy(wire, "/home/user\n", 11);
    nmf_decoder *dec = NULL;
    nmf_decoder_new(NMF_ROLE_BROWSER, 0, &dec);
    nmf_decoder_push(dec, wire, 11);
    uint8_t *p;
    size_t n;
    CHECK(nmf_decoder_next(dec, &p, &n) == NMF_FRAME_TOO_LARGE);
    CHECK(strstr(nmf_decoder_last_error(dec), "\"/hom\"") != NULL);
    nmf_decoder_free(dec);
    /* Exactly the cap passes, one more byte fails. */
    static uint8_t big[(1 << 20) + 8];
    memset(big, ' ', sizeof big);
    uint32_t cap = 1 << 20;
    memcpy(big, &cap, 4);
    big[4] = '1';
    CHECK(feed(big, 4 + cap, 65536, NMF_ROLE_BROWSER, 0, &frames, &bytes) == NMF_EOF && bytes == cap);
    cap += 1;
    memcpy(big, &cap, 4);
    CHECK(feed(big, 4 + cap, 65536, NMF_ROLE_BROWSER, 0, &frames, &bytes) == NMF_FRAME_TOO_LARGE);
    /* One byte per read for a whole 1 MiB frame. */
    cap = 1 << 20;
    memcpy(big, &cap, 4);
    CHECK(feed(big, 4 + cap, 1, NMF_ROLE_HOST, 0, &frames, &bytes) == NMF_EOF && frames == 1 && bytes == cap);
}

static void test_stateless(void) {
    uint8_t wire[16];
    size_t end = put_frame(wire, 0, "[1]", 3);
    nmf_frame f;
    CHECK(nmf_frame_parse(wire, end, NMF_ROLE_HOST, 0, &f) == NMF_OK && f.payload_len == 3 && f.consumed == 7);
    CHECK(nmf_frame_parse(wire, 5, NMF_ROLE_HOST, 0, &f) == NMF_NEED_MORE && f.needed == 2);
    CHECK(nmf_frame_parse(NULL, 0, NMF_ROLE_HOST, 0, &f) == NMF_NEED_MORE && f.needed == 4);
    CHECK(nmf_frame_parse(NULL, 1, NMF_ROLE_HOST, 0, &f) == NMF_INVALID_ARGUMENT);
    uint8_t header[4];
    CHECK(nmf_header_write(NMF_MAX_HOST_TO_BROWSER, NMF_ROLE_HOST, 0, header) == NMF_OK);
    CHECK(nmf_header_write(NMF_MAX_HOST_TO_BROWSER + 1, NMF_ROLE_HOST, 0, header) == NMF_FRAME_TOO_LARGE);
    CHECK(nmf_header_write(0, NMF_ROLE_HOST, 0, header) == NMF_EMPTY_FRAME);
    CHECK(nmf_json_validate((const uint8_t *)"{\"a\":[1,2]}", 11) == NMF_OK);
    CHECK(nmf_json_validate((const uint8_t *)"{\"a\":[1,2}", 10) == NMF_INVALID_JSON);
    CHECK(nmf_json_validate((const uint8_t *)"\"\xff\"", 3) == NMF_INVALID_UTF8);
    CHECK(nmf_json_validate(NULL, 0) == NMF_INVALID_JSON);
    CHECK(strcmp(nmf_status_str(NMF_OK), "ok") == 0);
    CHECK(strcmp(nmf_status_str(12345), "unknown status") == 0);
    CHECK(strncmp(nmf_version(), "0.", 2) == 0);
}

static void test_document(void) {
    nmf_doc *doc = NULL;
    CHECK(nmf_doc_new(&doc) == NMF_OK);
    nmf_value v;
    const char *json = "{\"user\":{\"name\":\"J\\u00f6rg\",\"tags\":[\"a\",\"b\"]},\"n\":-3,\"x\":1e3}";
    CHECK(nmf_doc_parse(doc, (const uint8_t *)json, strlen(json)) == NMF_OK);
    CHECK(nmf_doc_get(doc, "/user/name", 10, &v) == NMF_OK && v.type == NMF_JSON_STRING && v.length == 5 &&
          memcmp(v.string, "J\xc3\xb6rg", 5) == 0);
    CHECK(nmf_doc_get(doc, "/user/tags", 10, &v) == NMF_OK && v.type == NMF_JSON_ARRAY && v.length == 2);
    CHECK(nmf_doc_get(doc, "/user/tags/1", 12, &v) == NMF_OK && v.length == 1 && v.string[0] == 'b');
    CHECK(nmf_doc_get(doc, "/n", 2, &v) == NMF_OK && v.type == NMF_JSON_INT && v.integer == -3);
    CHECK(nmf_doc_get(doc, "/x", 2, &v) == NMF_OK && v.type == NMF_JSON_FLOAT && v.number == 1000.0);
    CHECK(nmf_doc_get(doc, "/nope", 5, &v) == NMF_NOT_FOUND);
    CHECK(nmf_doc_get(doc, NULL, 0, &v) == NMF_OK && v.type == NMF_JSON_OBJECT);
    CHECK(nmf_doc_get(doc, NULL, 3, &v) == NMF_INVALID_ARGUMENT);
    /* Hostile documents: deep nesting, long escapes, long numbers, NUL, BOM. */
    size_t deep = 10000;
    char *nested = malloc(2 * deep);
    memset(nested, '[', deep);
    memset(nested + deep, ']', deep);
    /* Valid JSON (browsers send it), deeper than a document allows: its own status. */
    CHECK(nmf_doc_parse(doc, (const uint8_t *)nested, 2 * deep) == NMF_NESTING_TOO_DEEP);
    CHECK(strstr(nmf_doc_last_error(doc), "limit of 1024 levels") != NULL);
    CHECK(nmf_json_validate((const uint8_t *)nested, 2 * deep) == NMF_OK);
    CHECK(nmf_json_validate((const uint8_t *)nested, 2 * deep - 1) == NMF_INVALID_JSON);
    free(nested);
    size_t esc = 1 << 20;
    char *escapes = malloc(esc + 2);
    escapes[0] = '"';
    for (size_t i = 1; i <= esc; i += 2) {
        escapes[i] = '\\';
        escapes[i + 1] = '\\';
    }
    escapes[esc + 1] = '"';
    CHECK(nmf_doc_parse(doc, (const uint8_t *)escapes, esc + 2) == NMF_OK);
    CHECK(nmf_doc_get(doc, "", 0, &v) == NMF_OK && v.length == esc / 2);
    free(escapes);
    char digits[10002];
    memset(digits, '7', sizeof digits);
    CHECK(nmf_doc_parse(doc, (const uint8_t *)digits, sizeof digits) == NMF_OK ||
          nmf_doc_parse(doc, (const uint8_t *)digits, sizeof digits) == NMF_INVALID_JSON);
    CHECK(nmf_doc_parse(doc, (const uint8_t *)"\"a\0b\"", 5) == NMF_INVALID_JSON);
    CHECK(nmf_doc_parse(doc, (const uint8_t *)"\"a\\u0000b\"", 10) == NMF_OK);
    CHECK(nmf_doc_get(doc, "", 0, &v) == NMF_OK && v.length == 3 && v.string[1] == '\0');
    CHECK(nmf_doc_parse(doc, (const uint8_t *)"\xef\xbb\xbf{}", 5) == NMF_INVALID_JSON);
    CHECK(nmf_doc_parse(doc, (const uint8_t *)"", 0) == NMF_INVALID_JSON);
    nmf_doc_free(doc);
    nmf_doc_free(NULL);
    nmf_decoder_free(NULL);
    nmf_host_free(NULL);
}

int main(void) {
    test_stateless();
    test_decoder();
    test_hostile_headers();
    test_document();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
