/*
 * A native-messaging host in C that echoes every message back, on libnmframe.
 *
 * Replies to a burst of messages go out in one write; a lone message is answered at
 * once. A message whose echo the browser would refuse (over 1 MiB) is not sent: the
 * host says why on stderr and answers with an error object instead.
 *
 *   cc -std=c11 -I ffi/include echo_host.c target/release/libnmframe.a -lpthread -ldl -lm
 */
#include <inttypes.h>
#include <stdio.h>

#include "nmframe.h"

/* FNV-1a, 32 bits: simple enough that any sender can compute it to compare. */
static uint32_t fnv1a32(const uint8_t *bytes, size_t len) {
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        hash = (hash ^ bytes[i]) * 16777619u;
    }
    return hash;
}

int main(int argc, char **argv) {
    nmf_host *host = NULL;
    /* The writer thread overlaps writing the replies with reading the next messages. */
    nmf_status status =
        nmf_host_new(argc, (const char *const *)argv, NMF_HOST_WRITER_THREAD, 0, &host);
    if (status != NMF_OK) {
        fprintf(stderr, "echo_host: cannot start: %s\n", nmf_status_str(status));
        return 1;
    }
    int exit_code = 0;
    for (;;) {
        uint8_t *msg;
        size_t len;
        status = nmf_host_recv(host, &msg, &len);
        if (status == NMF_EOF || status == NMF_DISCONNECTED) {
            break; /* the browser closed the pipe, or stopped reading our replies: exit now */
        }
        if (status != NMF_OK) {
            fprintf(stderr, "echo_host: %s\n", nmf_host_last_error(host));
            exit_code = 1;
            break;
        }
        /* The received view itself: a large message goes out without a copy. */
        status = nmf_host_queue_view(host, msg, len);
        if (status != NMF_OK) {
            fprintf(stderr, "echo_host: not echoing a %zu-byte message: %s\n", len, nmf_host_last_error(host));
            char reply[160];
            int n = snprintf(reply, sizeof reply, "{\"error\":\"%s\",\"size\":%zu,\"fnv1a32\":%" PRIu32 "}",
                             nmf_status_str(status), len, fnv1a32(msg, len));
            status = nmf_host_queue(host, (const uint8_t *)reply, (size_t)n);
        }
        if (status == NMF_OK && !nmf_host_has_message(host)) {
            status = nmf_host_flush(host);
        }
        if (status == NMF_DISCONNECTED) {
            break; /* the browser went away mid-reply: not a crash */
        }
        if (status != NMF_OK) {
            fprintf(stderr, "echo_host: %s\n", nmf_host_last_error(host));
            exit_code = 1;
            break;
        }
    }
    nmf_host_free(host);
    return exit_code;
}
