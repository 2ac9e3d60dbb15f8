/*
 * The echo host of ffi/examples/c/echo_host.c, receiving through nmf_host_recv_batch
 * three messages at most per call, into an array on the heap of exactly that size (so
 * that valgrind sees any write past it), and answering each with its view, which the
 * writer thread may still be writing from after the next call. The tests run it as they run the other echo
 * hosts: traffic, the hostile table, ten thousand frames in one write, valgrind.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "nmframe.h"

#define BATCH 3

static uint32_t fnv1a32(const uint8_t *bytes, size_t len) {
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        hash = (hash ^ bytes[i]) * 16777619u;
    }
    return hash;
}

/* Queues the echo of one message, or an error object when it cannot be echoed. */
static nmf_status echo(nmf_host *host, const nmf_message *m) {
    nmf_status status = nmf_host_queue_view(host, m->data, m->len);
    if (status == NMF_OK || status == NMF_DISCONNECTED || status == NMF_IO || status == NMF_WRITER_BROKEN) {
        return status;
    }
    fprintf(stderr, "batch_echo: not echoing a %zu-byte message: %s\n", m->len, nmf_host_last_error(host));
    char reply[160];
    int n = snprintf(reply, sizeof reply, "{\"error\":\"%s\",\"size\":%zu,\"fnv1a32\":%" PRIu32 "}",
                     nmf_status_str(status), m->len, fnv1a32(m->data, m->len));
    return nmf_host_queue(host, (const uint8_t *)reply, (size_t)n);
}

int main(int argc, char **argv) {
    nmf_host *host = NULL;
    nmf_message *batch = malloc(BATCH * sizeof *batch);
    if (batch == NULL || nmf_host_new(argc, (const char *const *)argv, NMF_HOST_WRITER_THREAD, 0, &host) != NMF_OK) {
        fprintf(stderr, "batch_echo: cannot start\n");
        return 1;
    }
    int exit_code = 0;
    for (;;) {
        size_t count = 0;
        nmf_status status = nmf_host_recv_batch(host, batch, BATCH, &count);
        if (status == NMF_EOF || status == NMF_DISCONNECTED) {
            break;
        }
        if (status != NMF_OK || count == 0 || count > BATCH) {
            fprintf(stderr, "batch_echo: %s (%zu messages)\n", nmf_host_last_error(host), count);
            exit_code = 1;
            break;
        }
        for (size_t i = 0; i < count && status == NMF_OK; i++) {
            status = echo(host, &batch[i]);
        }
        if (status == NMF_OK && !nmf_host_has_message(host)) {
            status = nmf_host_flush(host);
        }
        if (status == NMF_DISCONNECTED) {
            break;
        }
        if (status != NMF_OK) {
            fprintf(stderr, "batch_echo: %s\n", nmf_host_last_error(host));
            exit_code = 1;
            break;
        }
    }
    nmf_host_free(host);
    free(batch);
    return exit_code;
}
