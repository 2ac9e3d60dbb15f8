// The binding probe, C++ edition: see probe.c for what it does and why.
#include <cstdio>
#include <iostream>
#include <string>

#include "nmframe.hpp"

namespace {

std::string quoted(std::string_view s, bool present) {
    if (!present) return "null";
    std::string out = "\"";
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

const char *browser_name(nmf_browser b) {
    switch (b) {
    case NMF_BROWSER_CHROMIUM: return "chromium";
    case NMF_BROWSER_FIREFOX: return "firefox";
    default: return "unknown";
    }
}

}  // namespace

int main(int argc, char **argv) {
    nmframe::Host host(argc, argv);
    nmframe::Document doc;
    std::cout << "stray line from cpp" << std::endl;

    std::string big(NMF_MAX_HOST_TO_BROWSER + 1, 'a');
    big.front() = big.back() = '"';
    try {
        while (auto msg = host.recv()) {
            doc.parse(*msg);
            std::string text(doc.get("/text").value().string());
            std::string too_large;
            try {
                host.send(big);
            } catch (const nmframe::Error &e) {
                too_large = e.what();
            }
            nmframe::Caller c = host.caller();
            std::string reply = std::string("{\"binding\":\"cpp\",\"browser\":\"") + browser_name(c.browser) + "\"";
            reply += ",\"origin\":" + quoted(c.origin, c.origin.data() != nullptr);
            reply += ",\"manifest_path\":" + quoted(c.manifest_path, c.manifest_path.data() != nullptr);
            reply += ",\"extension_id\":" + quoted(c.extension_id, c.extension_id.data() != nullptr);
            reply += ",\"parent_window\":" + std::to_string(c.parent_window);
            reply += std::string(",\"valid\":") + (nmframe::valid(text) ? "true" : "false");
            reply += ",\"too_large\":" + quoted(too_large, true) + "}";
            host.send(reply);
        }
    } catch (const nmframe::Error &e) {
        std::cerr << "probe: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
