/*
 * A native-messaging host in C that echoes messages of any size, on libnmframe's
 * NMF_HOST_CHUNKED mode: a message the extension sent in parts arrives whole, and an
 * echo over 1 MiB leaves in parts (docs/CHUNKING.md; the extension uses the JavaScript
 * package js/nmframe-port). A transfer that failed is reported on stderr and the host
 * goes on.
 *
 *   cc -std=c11 -I ffi/include chunked_host.c target/release/libnmframe.a -lpthread -ldl -lm
 */
#include <stdio.h>

#include "nmframe.h"

int main(int argc, char **argv) {
    nmf_host *host = NULL;
    nmf_status status = nmf_host_new(argc, (const char *const *)argv, NMF_HOST_CHUNKED, 0, &host);
    if (status != NMF_OK) {
        fprintf(stderr, "chunked_host: cannot start: %s\n", nmf_status_str(status));
        return 1;
    }
    /* Messages up to 512 MiB; the other limits as they are. */
    nmf_host_set_chunking(host, 512u << 20, 0, 0, 0);
    int exit_code = 0;
    for (;;) {
        uint8_t *msg;
        size_t len;
        status = nmf_host_recv(host, &msg, &len);
        if (status == NMF_EOF || status == NMF_DISCONNECTED) {
            break;
        }
        if (status == NMF_TRANSFER_FAILED) {
            /* One message lost (the extension was told); the others go on. */
            fprintf(stderr, "chunked_host: %s\n", nmf_host_last_error(host));
            continue;
        }
        if (status != NMF_OK) {
            fprintf(stderr, "chunked_host: %s\n", nmf_host_last_error(host));
            exit_code = 1;
            break;
        }
        /* Any size: over 1 MiB it goes in parts, at most a window of them unacknowledged. */
        status = nmf_host_send(host, msg, len);
        if (status == NMF_DISCONNECTED) {
            break;
        }
        if (status != NMF_OK) {
            fprintf(stderr, "chunked_host: not echoed (%zu bytes): %s\n", len, nmf_host_last_error(host));
        }
    }
    nmf_host_free(host);
    return exit_code;
}
