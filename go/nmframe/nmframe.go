// Package nmframe lets a Go program be a browser native-messaging host, on libnmframe
// (framing with the browsers' exact limits, and JSON validation through simd-json).
//
// Build against the static library and header, for example:
//
//	CGO_CFLAGS="-I$NMFRAME/ffi/include" \
//	CGO_LDFLAGS="$NMFRAME/target/release/libnmframe.a -lpthread -ldl -lm" go build
//
// or, after installing libnmframe, with CGO_CFLAGS/CGO_LDFLAGS from
// `pkg-config --cflags --libs --static nmframe`.
//
// C never keeps a Go pointer: messages passed to Send are read during the call only,
// and Recv copies each message into Go memory.
package nmframe

/*
#include <stdlib.h>
#include "nmframe.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"unsafe"
)

// Status is an nmf_status: the outcome of a call into libnmframe.
type Status int

// The statuses a Host returns. Their numbers are part of libnmframe's ABI.
const (
	StatusFrameTooLarge    Status = C.NMF_FRAME_TOO_LARGE
	StatusEmptyFrame       Status = C.NMF_EMPTY_FRAME
	StatusTruncatedHeader  Status = C.NMF_TRUNCATED_HEADER
	StatusTruncatedPayload Status = C.NMF_TRUNCATED_PAYLOAD
	StatusInvalidUTF8      Status = C.NMF_INVALID_UTF8
	StatusInvalidJSON      Status = C.NMF_INVALID_JSON
	StatusNestingTooDeep   Status = C.NMF_NESTING_TOO_DEEP
	StatusWriterBroken     Status = C.NMF_WRITER_BROKEN
	StatusIO               Status = C.NMF_IO
	StatusDisconnected     Status = C.NMF_DISCONNECTED
	StatusPanic            Status = C.NMF_PANIC
)

// String is libnmframe's description of the status, such as "frame too large".
func (s Status) String() string { return C.GoString(C.nmf_status_str(C.int(s))) }

// MaxReply is the largest message a host may send: 1,048,576 bytes.
const MaxReply = C.NMF_MAX_HOST_TO_BROWSER

// ErrDisconnected is returned (wrapped in an *Error) when the browser has gone away:
// errors.Is(err, ErrDisconnected) tells a normal end from a failure.
var ErrDisconnected = errors.New("nmframe: the browser disconnected")

// Error is a failed call: its status and libnmframe's description, with the numbers
// (sizes, limits, offsets).
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string { return "nmframe: " + e.Message }

// Is makes errors.Is(err, ErrDisconnected) true for a disconnection.
func (e *Error) Is(target error) bool {
	return target == ErrDisconnected && e.Status == StatusDisconnected
}

// Browser is the browser family that started the host.
type Browser int

// The browser families, as told by the host's command line.
const (
	BrowserUnknown  Browser = C.NMF_BROWSER_UNKNOWN
	BrowserChromium Browser = C.NMF_BROWSER_CHROMIUM
	BrowserFirefox  Browser = C.NMF_BROWSER_FIREFOX
)

// Caller is who started the host.
type Caller struct {
	Browser      Browser
	Origin       string // Chromium: chrome-extension://<id>/
	ManifestPath string // Firefox: the host manifest's path
	ExtensionID  string
}

// Option configures NewHost.
type Option func(*options)

type options struct {
	flags      C.uint32_t
	maxInbound C.uint32_t
}

// GuardStdout moves the real stdout to a private descriptor and points descriptor 1 at
// stderr: anything printed to os.Stdout then lands in the browser's log instead of
// corrupting the stream.
func GuardStdout() Option { return func(o *options) { o.flags |= C.NMF_HOST_GUARD_STDOUT } }

// WriterThread writes replies on a thread of the library's own, so that reading the
// next messages overlaps writing the last replies (worth it with a second core). Send
// and Queue still copy the message before they return; a write error surfaces on a
// later call; Close waits until every reply handed over is written.
func WriterThread() Option { return func(o *options) { o.flags |= C.NMF_HOST_WRITER_THREAD } }

// MaxInbound caps the size of messages read (the default is the protocol's 4 GiB - 1).
func MaxInbound(n uint32) Option { return func(o *options) { o.maxInbound = C.uint32_t(n) } }

// Host is a native-messaging host on the process's stdin and stdout. Use it from one
// goroutine at a time.
type Host struct {
	h *C.nmf_host
}

// maxInt is the largest int on this platform.
const maxInt = int(^uint(0) >> 1)

// NewHost takes over stdin and stdout, reading the caller's identity from os.Args.
//
// It ignores SIGPIPE for the whole program (signal.Ignore): without that, Go's runtime
// kills a program that writes to stdout or stderr after the browser closed those pipes
// (Firefox gives a host a stderr pipe, and a host logs as it exits). Writes then fail
// with EPIPE, and a send is StatusDisconnected.
func NewHost(opts ...Option) (*Host, error) {
	signal.Ignore(syscall.SIGPIPE)
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// argv in C memory, freed once nmf_host_new has copied what it needs.
	argv := make([]*C.char, len(os.Args))
	for i, a := range os.Args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, a := range argv {
			C.free(unsafe.Pointer(a))
		}
	}()
	cargv := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof(argv[0]))))
	defer C.free(unsafe.Pointer(cargv))
	copy(unsafe.Slice(cargv, len(argv)), argv)
	var h *C.nmf_host
	if st := C.nmf_host_new(C.int(len(argv)), cargv, o.flags, o.maxInbound, &h); st != C.NMF_OK {
		return nil, &Error{Status(st), C.GoString(C.nmf_status_str(C.int(st)))}
	}
	return &Host{h}, nil
}

func (h *Host) fail(st C.enum_nmf_status) error {
	return &Error{Status(st), C.GoString(C.nmf_host_last_error(h.h))}
}

// Recv returns the next message, copied into Go memory, or io.EOF when the browser
// closed the pipe (the host should then exit).
func (h *Host) Recv() ([]byte, error) {
	var p *C.uint8_t
	var n C.size_t
	switch st := C.nmf_host_recv(h.h, &p, &n); st {
	case C.NMF_OK:
		// Not C.GoBytes: its length is a C int, and a browser may send up to 4 GiB - 1.
		if uint64(n) > uint64(maxInt) {
			return nil, &Error{StatusFrameTooLarge, fmt.Sprintf("a %d-byte message does not fit in a Go slice on this platform", uint64(n))}
		}
		msg := make([]byte, int(n))
		copy(msg, unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
		return msg, nil
	case C.NMF_EOF:
		return nil, io.EOF
	default:
		return nil, h.fail(st)
	}
}

// bytesArg passes a Go slice to C for the duration of one call.
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// SendRaw sends one JSON message now. An empty, oversized (over 1 MiB) or invalid
// message is refused with nothing written; the host can go on.
func (h *Host) SendRaw(msg []byte) error {
	p, n := bytesArg(msg)
	if st := C.nmf_host_send(h.h, p, n); st != C.NMF_OK {
		return h.fail(st)
	}
	return nil
}

// Send marshals v with encoding/json and sends it.
func (h *Host) Send(v any) error {
	msg, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("nmframe: %w", err)
	}
	return h.SendRaw(msg)
}

// Queue keeps a copy of msg for the next Flush or Send: answer a burst with one write.
func (h *Host) Queue(msg []byte) error {
	p, n := bytesArg(msg)
	if st := C.nmf_host_queue(h.h, p, n); st != C.NMF_OK {
		return h.fail(st)
	}
	return nil
}

// Flush writes every queued message.
func (h *Host) Flush() error {
	if st := C.nmf_host_flush(h.h); st != C.NMF_OK {
		return h.fail(st)
	}
	return nil
}

// HasMessage reports whether Recv would return without blocking.
func (h *Host) HasMessage() bool { return bool(C.nmf_host_has_message(h.h)) }

// Caller returns who started the host.
func (h *Host) Caller() Caller {
	var c C.nmf_caller
	C.nmf_host_caller(h.h, &c)
	str := func(p *C.char) string {
		if p == nil {
			return ""
		}
		return C.GoString(p)
	}
	return Caller{Browser(c.browser), str(c.origin), str(c.manifest_path), str(c.extension_id)}
}

// Close releases the host.
func (h *Host) Close() {
	C.nmf_host_free(h.h)
	h.h = nil
}

// Valid reports whether msg is one valid UTF-8 JSON text, as a browser's JSON.parse
// would accept it (nmframe's validator: no copy, no depth limit).
func Valid(msg []byte) bool {
	p, n := bytesArg(msg)
	return C.nmf_json_validate(p, n) == C.NMF_OK
}
