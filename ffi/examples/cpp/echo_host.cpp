// A native-messaging host in C++17 that echoes every message back, on nmframe.hpp.
//
//   c++ -std=c++17 -I ffi/include echo_host.cpp target/release/libnmframe.a -lpthread -ldl -lm
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

#include "nmframe.hpp"

// FNV-1a, 32 bits: sent with a refusal so the sender can check what arrived.
static std::uint32_t fnv1a32(std::string_view bytes) {
    std::uint32_t hash = 2166136261u;
    for (char b : bytes) hash = (hash ^ static_cast<std::uint8_t>(b)) * 16777619u;
    return hash;
}

int main(int argc, char **argv) {
    try {
        // The defaults (the stdout guard among them), and replies written on a thread
        // of their own.
        nmframe::Host host(argc, argv, NMF_HOST_WRITER_THREAD);
        while (auto msg = host.recv()) {
            try {
                // The received view itself: a large message goes out without a copy.
                host.queue_view(*msg);
            } catch (const nmframe::Disconnected &) {
                throw;
            } catch (const nmframe::Error &e) {
                // Refused before anything was written: say why, answer with an error.
                std::cerr << "echo_host_cpp: not echoing a " << msg->size() << "-byte message: " << e.what() << '\n';
                host.queue("{\"error\":\"" + std::string(nmf_status_str(e.status())) +
                           "\",\"size\":" + std::to_string(msg->size()) +
                           ",\"fnv1a32\":" + std::to_string(fnv1a32(*msg)) + "}");
            }
            if (!host.has_message()) host.flush();
        }
        return 0;  // the browser closed the pipe
    } catch (const nmframe::Disconnected &) {
        return 0;  // the browser went away mid-reply
    } catch (const std::exception &e) {
        std::cerr << "echo_host_cpp: " << e.what() << '\n';
        return 1;
    }
}
