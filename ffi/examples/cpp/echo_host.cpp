// A native-messaging host in C++17 that echoes every message back, on nmframe.hpp.
//
//   c++ -std=c++17 -I ffi/include echo_host.cpp target/release/libnmframe.a -lpthread -ldl -lm
#include <iostream>
#include <string>

#include "nmframe.hpp"

int main(int argc, char **argv) {
    try {
        nmframe::Host host(argc, argv);
        while (auto msg = host.recv()) {
            try {
                host.queue(*msg);
            } catch (const nmframe::Disconnected &) {
                throw;
            } catch (const nmframe::Error &e) {
                // Refused before anything was written: say why, answer with an error.
                std::cerr << "echo_host_cpp: not echoing a " << msg->size() << "-byte message: " << e.what() << '\n';
                host.queue("{\"error\":\"" + std::string(nmf_status_str(e.status())) +
                           "\",\"size\":" + std::to_string(msg->size()) + "}");
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
