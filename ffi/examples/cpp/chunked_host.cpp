// A native-messaging host in C++ that echoes messages of any size (NMF_HOST_CHUNKED):
// the C++ counterpart of ffi/examples/c/chunked_host.c.
//
//   c++ -std=c++17 -I ffi/include chunked_host.cpp target/release/libnmframe.a -lpthread -ldl -lm
#include <cstdio>

#include "nmframe.hpp"

int main(int argc, char **argv) {
    try {
        nmframe::Host host(argc, argv, NMF_HOST_CHUNKED);
        host.set_chunking(512u << 20);
        for (;;) {
            try {
                auto msg = host.recv();
                if (!msg) return 0;
                host.send(*msg);  // any size
            } catch (const nmframe::TransferFailed &e) {
                // One message lost, in either direction; the stream goes on.
                std::fprintf(stderr, "chunked_host_cpp: %s\n", e.what());
            }
        }
    } catch (const nmframe::Disconnected &) {
        return 0;
    } catch (const nmframe::Error &e) {
        std::fprintf(stderr, "chunked_host_cpp: %s\n", e.what());
        return 1;
    }
}
