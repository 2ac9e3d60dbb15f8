// nmframe.hpp: a header-only C++17 wrapper over nmframe.h.
//
// RAII handles (move-only; the destructor frees), std::string_view in and out, and
// exceptions for failures: nmframe::Error carries the nmf_status and the handle's
// detailed message. A browser that went away is nmframe::Disconnected, so that a host
// can tell it from a real failure. Nothing here allocates on the message path except
// the exception objects themselves.
#ifndef NMFRAME_HPP
#define NMFRAME_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "nmframe.h"

namespace nmframe {

/// A failed call: its status and the handle's description of what went wrong.
class Error : public std::runtime_error {
public:
    Error(nmf_status status, const std::string &message)
        : std::runtime_error(message.empty() ? std::string(nmf_status_str(status)) : message), status_(status) {}

    nmf_status status() const noexcept { return status_; }

private:
    nmf_status status_;
};

/// The peer closed the pipe: the browser disconnected. Not a crash: exit quietly.
class Disconnected : public Error {
public:
    explicit Disconnected(const std::string &message) : Error(NMF_DISCONNECTED, message) {}
};

/// A message in parts failed (a host made with NMF_HOST_CHUNKED): one the extension sent
/// arrived corrupted, too large or aborted, or the extension refused a reply part-way.
/// The stream goes on: report it and keep serving.
class TransferFailed : public Error {
public:
    explicit TransferFailed(const std::string &message) : Error(NMF_TRANSFER_FAILED, message) {}
};

namespace detail {
[[noreturn]] inline void fail(nmf_status status, const char *message) {
    std::string text = message ? message : "";
    if (status == NMF_DISCONNECTED) throw Disconnected(text);
    if (status == NMF_TRANSFER_FAILED) throw TransferFailed(text);
    throw Error(status, text);
}

inline const uint8_t *bytes(std::string_view s) noexcept { return reinterpret_cast<const uint8_t *>(s.data()); }
}  // namespace detail

/// Who started the host.
struct Caller {
    nmf_browser browser;
    std::string_view origin;         // Chromium: chrome-extension://<id>/
    std::string_view manifest_path;  // Firefox
    std::string_view extension_id;
    uint64_t parent_window;  // Chromium on Windows: the calling window's handle; 0 when absent
};

/// A host on the process's stdin and stdout.
class Host {
public:
    /// Takes over stdin/stdout. `flags` as for nmf_host_new: 0 for the defaults (the
    /// stdout guard on where available), NMF_HOST_WRITER_THREAD, NMF_HOST_NO_GUARD_STDOUT,
    /// NMF_HOST_CHUNKED (messages of any size; recv() throws TransferFailed for one that
    /// failed, and the host goes on).
    Host(int argc, char **argv, uint32_t flags = 0, uint32_t max_inbound = 0) {
        nmf_status status = nmf_host_new(argc, const_cast<const char *const *>(argv), flags, max_inbound, &host_);
        if (status != NMF_OK) detail::fail(status, nullptr);
    }
    ~Host() { nmf_host_free(host_); }
    Host(const Host &) = delete;
    Host &operator=(const Host &) = delete;
    Host(Host &&other) noexcept : host_(std::exchange(other.host_, nullptr)) {}
    Host &operator=(Host &&other) noexcept {
        if (this != &other) {
            nmf_host_free(host_);
            host_ = std::exchange(other.host_, nullptr);
        }
        return *this;
    }

    /// The next message, valid until the next call on this host; std::nullopt when the
    /// browser closed the pipe (the host should exit).
    std::optional<std::string_view> recv() {
        uint8_t *payload = nullptr;
        size_t len = 0;
        nmf_status status = nmf_host_recv(host_, &payload, &len);
        if (status == NMF_EOF) return std::nullopt;
        if (status != NMF_OK) detail::fail(status, nmf_host_last_error(host_));
        return std::string_view(reinterpret_cast<const char *>(payload), len);
    }

    /// Sends one JSON message now. Throws Error (nothing written) for an empty,
    /// oversized or invalid message; Disconnected when the browser is gone.
    void send(std::string_view json) { check(nmf_host_send(host_, detail::bytes(json), json.size())); }

    /// Queues a message (copied) for the next flush() or send().
    void queue(std::string_view json) { check(nmf_host_queue(host_, detail::bytes(json), json.size())); }

    /// Queues a message received on this host (recv()'s view, or a part of it) for the
    /// next flush() or send(), without copying it when it is large (16 KiB or more): an
    /// echo or a forwarder copies nothing. Other bytes are copied, as queue() does.
    void queue_view(std::string_view json) {
        check(nmf_host_queue_view(host_, detail::bytes(json), json.size()));
    }

    /// Writes every queued message.
    void flush() { check(nmf_host_flush(host_)); }

    /// The limits of an NMF_HOST_CHUNKED host (0 for each default): see
    /// nmf_host_set_chunking.
    void set_chunking(uint64_t max_bytes, uint32_t max_in_flight = 0, uint32_t timeout_ms = 0, uint32_t window = 0) {
        check(nmf_host_set_chunking(host_, max_bytes, max_in_flight, timeout_ms, window));
    }

    /// The bounds of an NMF_HOST_CHUNKED host against an extension that sends much or
    /// answers little (0 for each default): see nmf_host_set_chunk_budget.
    void set_chunk_budget(uint64_t max_buffered, uint32_t ack_timeout_ms = 0) {
        check(nmf_host_set_chunk_budget(host_, max_buffered, ack_timeout_ms));
    }

    /// Whether recv() would return without blocking.
    bool has_message() const noexcept { return nmf_host_has_message(host_); }

    Caller caller() const {
        nmf_caller c;
        nmf_host_caller(host_, &c);
        auto view = [](const char *s) { return s ? std::string_view(s) : std::string_view(); };
        return Caller{c.browser, view(c.origin), view(c.manifest_path), view(c.extension_id), c.parent_window};
    }

private:
    void check(nmf_status status) {
        if (status != NMF_OK) detail::fail(status, nmf_host_last_error(host_));
    }

    nmf_host *host_ = nullptr;
};

/// Whether `json` is one valid UTF-8 JSON text, as a browser's JSON.parse would accept
/// it (no depth limit, no copy). For the offset and reason of a failure, parse it with
/// a Document.
inline bool valid(std::string_view json) noexcept {
    return nmf_json_validate(detail::bytes(json), json.size()) == NMF_OK;
}

/// A view of one JSON value in a Document, valid until its next parse.
struct Value {
    nmf_value raw;

    nmf_json_type type() const noexcept { return raw.type; }
    bool is_number() const noexcept { return raw.type >= NMF_JSON_INT && raw.type <= NMF_JSON_FLOAT; }
    double number() const noexcept { return raw.number; }
    int64_t integer() const noexcept { return raw.integer; }
    bool boolean() const noexcept { return raw.boolean; }
    std::string_view string() const noexcept {
        return raw.type == NMF_JSON_STRING ? std::string_view(raw.string, raw.length) : std::string_view();
    }
    size_t length() const noexcept { return raw.length; }
};

/// A reusable JSON document: parse a message, then read values by JSON Pointer.
class Document {
public:
    Document() {
        nmf_status status = nmf_doc_new(&doc_);
        if (status != NMF_OK) detail::fail(status, nullptr);
    }
    ~Document() { nmf_doc_free(doc_); }
    Document(const Document &) = delete;
    Document &operator=(const Document &) = delete;
    Document(Document &&other) noexcept : doc_(std::exchange(other.doc_, nullptr)) {}
    Document &operator=(Document &&other) noexcept {
        if (this != &other) {
            nmf_doc_free(doc_);
            doc_ = std::exchange(other.doc_, nullptr);
        }
        return *this;
    }

    /// Parses a copy of `json`. Throws Error with the offset and reason when invalid.
    void parse(std::string_view json) {
        nmf_status status = nmf_doc_parse(doc_, detail::bytes(json), json.size());
        if (status != NMF_OK) detail::fail(status, nmf_doc_last_error(doc_));
    }

    /// The value at a JSON Pointer (RFC 6901), or std::nullopt.
    std::optional<Value> get(std::string_view pointer) const {
        nmf_value v;
        nmf_status status = nmf_doc_get(doc_, pointer.data(), pointer.size(), &v);
        if (status == NMF_NOT_FOUND) return std::nullopt;
        if (status != NMF_OK) detail::fail(status, nmf_doc_last_error(doc_));
        return Value{v};
    }

private:
    nmf_doc *doc_ = nullptr;
};

}  // namespace nmframe

#endif  // NMFRAME_HPP
