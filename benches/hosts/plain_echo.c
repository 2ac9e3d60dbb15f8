/* The plain C host many people write: one read(2) loop per header and per body, one
 * writev(2) per reply, no JSON. The end-to-end benchmark's framing-only baseline. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int read_full(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(void) {
    size_t cap = 0;
    char *body = NULL;
    uint32_t len;
    while (read_full(0, &len, 4) == 0) {
        if (len > cap) {
            free(body);
            cap = len;
            body = malloc(cap);
            if (!body) return 1;
        }
        if (read_full(0, body, len) != 0) return 1;
        struct iovec iov[2] = {{&len, 4}, {body, len}};
        size_t left = 4 + (size_t)len;
        struct iovec *v = iov;
        int count = 2;
        while (left > 0) {
            ssize_t n = writev(1, v, count);
            if (n <= 0) return 0;
            left -= (size_t)n;
            while (count > 0 && (size_t)n >= v->iov_len) {
                n -= (ssize_t)v->iov_len;
                v++;
                count--;
            }
            if (count > 0) {
                v->iov_base = (char *)v->iov_base + n;
                v->iov_len -= (size_t)n;
            }
        }
    }
    free(body);
    return 0;
}
