// Package nmframe lets a Go program be a browser native-messaging host, on libnmframe
// (framing with the browsers' exact limits, and JSON validation through simd-json).
//
// Install libnmframe first (from a clone of the repository, ffi/install.sh PREFIX), then
// build with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig: the package's
// "#cgo pkg-config: nmframe-static" line links the static library, so the host needs no
// shared library at run time. To give the flags yourself, build with
// -tags nmframe_nopkgconfig and, for example,
//
//	CGO_CFLAGS="-I$NMFRAME/ffi/include" \
//	CGO_LDFLAGS="$NMFRAME/target/release/libnmframe.a -lpthread -ldl -lm"
//
// The module (nmframe.dev/go) is not on a module proxy: a program outside the
// repository requires it and points at a clone with a replace directive:
//
//	require nmframe.dev/go v0.0.0
//	replace nmframe.dev/go => /path/to/nmframe/go
//
// C never keeps a Go pointer: messages passed to Send are read during the call only,
// and Recv copies each message into Go memory (from a batch of those that arrived
// together, taken in one cgo call). RecvView is the exception that saves the copy: its
// slice views C memory, valid until the next receive.
package nmframe

/*
#include <stdint.h>
#include <stdlib.h>
#include "nmframe.h"

// The calls made for every message take the host and the batch, which live in C
// memory, as integers: given a pointer, cgo checks on every call whether it points into
// Go memory, which cost 13% of a 64-byte echo's CPU (runtime.cgoCheckArg, and an
// allocation to box the argument).
static inline enum nmf_status nmf_go_recv_batch(uintptr_t host, uintptr_t out, size_t max, size_t *count) {
    return nmf_host_recv_batch((struct nmf_host *)host, (struct nmf_message *)out, max, count);
}
static inline enum nmf_status nmf_go_send(uintptr_t host, const uint8_t *json, size_t len) {
    return nmf_host_send((struct nmf_host *)host, json, len);
}
static inline enum nmf_status nmf_go_queue(uintptr_t host, const uint8_t *json, size_t len) {
    return nmf_host_queue((struct nmf_host *)host, json, len);
}
static inline enum nmf_status nmf_go_queue_view(uintptr_t host, const uint8_t *json, size_t len) {
    return nmf_host_queue_view((struct nmf_host *)host, json, len);
}
static inline enum nmf_status nmf_go_flush(uintptr_t host) {
    return nmf_host_flush((struct nmf_host *)host);
}
static inline bool nmf_go_has_message(uintptr_t host) {
    return nmf_host_has_message((struct nmf_host *)host);
}
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

// Every nmf_status, under the names of the C header. Their numbers are part of
// libnmframe's ABI. StatusOK, StatusNeedMore and StatusEOF are outcomes that this
// package turns into a nil error, a wait or io.EOF; they are named so that a Status
// read from an *Error can be compared with any of them.
const (
	StatusOK               Status = C.NMF_OK
	StatusNeedMore         Status = C.NMF_NEED_MORE
	StatusEOF              Status = C.NMF_EOF
	StatusInvalidArgument  Status = C.NMF_INVALID_ARGUMENT
	StatusNotFound         Status = C.NMF_NOT_FOUND
	StatusFrameTooLarge    Status = C.NMF_FRAME_TOO_LARGE
	StatusEmptyFrame       Status = C.NMF_EMPTY_FRAME
	StatusTruncatedHeader  Status = C.NMF_TRUNCATED_HEADER
	StatusTruncatedPayload Status = C.NMF_TRUNCATED_PAYLOAD
	StatusInvalidUTF8      Status = C.NMF_INVALID_UTF8
	StatusInvalidJSON      Status = C.NMF_INVALID_JSON
	StatusNestingTooDeep   Status = C.NMF_NESTING_TOO_DEEP
	StatusWriterBroken     Status = C.NMF_WRITER_BROKEN
	StatusTransferFailed   Status = C.NMF_TRANSFER_FAILED
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
	ParentWindow uint64 // Chromium on Windows: the calling window's handle; 0 when absent
}

// Option configures NewHost.
type Option func(*options)

type options struct {
	flags      C.uint32_t
	maxInbound C.uint32_t
	chunking   *ChunkLimits
}

// ChunkLimits are the limits of a Chunked host; 0 keeps each default (1 GiB per
// message, 16 messages in flight, 30 s of silence within a message, a window of 8
// parts, 1 GiB for all incoming messages together, 30 s for an acknowledgement).
type ChunkLimits struct {
	MaxBytes    uint64
	MaxInFlight uint32
	TimeoutMs   uint32
	Window      uint32
	// MaxBuffered bounds the memory all incoming messages hold together: those being
	// reassembled and those kept while a send waits for an acknowledgement.
	MaxBuffered uint64
	// AckTimeoutMs is how long a send waits for an acknowledgement before it gives the
	// message up (the extension is told; Send returns StatusTransferFailed).
	AckTimeoutMs uint32
}

// Chunked makes the host send and receive messages of any size through nmframe's
// chunked envelope (docs/CHUNKING.md; the extension uses the JavaScript package
// nmframe-port). Recv returns whole messages, reassembled when the extension sent them
// in parts, or an *Error with StatusTransferFailed for one that failed (report it and
// go on); Send and SendRaw take messages of any size, sending those over 1 MiB in
// parts and keeping the messages that arrive meanwhile for Recv. With no argument the
// limits are the defaults.
func Chunked(limits ...ChunkLimits) Option {
	return func(o *options) {
		o.flags |= C.NMF_HOST_CHUNKED
		if len(limits) > 0 {
			l := limits[0]
			o.chunking = &l
		}
	}
}

// GuardStdout turns the stdout guard on or off. It is on by default, as in every
// binding: the real stdout moves to a private descriptor and descriptor 1 points at
// stderr, so anything printed to os.Stdout (fmt.Println, a library's banner) lands in
// the browser's log instead of corrupting the stream. On Windows the library redirects
// the standard output handle and the C runtime's descriptor 1, but os.Stdout keeps the
// handle Go took at start-up: print to os.Stderr there.
func GuardStdout(on bool) Option {
	return func(o *options) {
		o.flags &^= C.NMF_HOST_GUARD_STDOUT | C.NMF_HOST_NO_GUARD_STDOUT
		if on {
			o.flags |= C.NMF_HOST_GUARD_STDOUT
		} else {
			o.flags |= C.NMF_HOST_NO_GUARD_STDOUT
		}
	}
}

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
	// The messages of the last nmf_host_recv_batch (views into the library's buffer,
	// valid until the next receive), in C memory, and the next one to hand out: one call
	// across cgo per burst of messages rather than per message.
	batch *[batchMax]C.nmf_message
	count int
	next  int
}

// batchMax is the most messages one receive takes from the library.
const batchMax = 64

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
	if l := o.chunking; l != nil {
		st := C.nmf_host_set_chunking(h, C.uint64_t(l.MaxBytes), C.uint32_t(l.MaxInFlight), C.uint32_t(l.TimeoutMs), C.uint32_t(l.Window))
		if st == C.NMF_OK {
			st = C.nmf_host_set_chunk_budget(h, C.uint64_t(l.MaxBuffered), C.uint32_t(l.AckTimeoutMs))
		}
		if st != C.NMF_OK {
			C.nmf_host_free(h)
			return nil, &Error{Status(st), C.GoString(C.nmf_status_str(C.int(st)))}
		}
	}
	batch := (*[batchMax]C.nmf_message)(C.calloc(batchMax, C.size_t(unsafe.Sizeof(C.nmf_message{}))))
	if batch == nil {
		C.nmf_host_free(h)
		return nil, &Error{StatusIO, "cannot allocate the receive batch"}
	}
	return &Host{h: h, batch: batch}, nil
}

// handle is h.h as an integer, for the calls made per message (see the wrappers in
// the cgo preamble): it points into C memory, which the garbage collector never moves.
func (h *Host) handle() C.uintptr_t {
	return C.uintptr_t(uintptr(unsafe.Pointer(h.h)))
}

func (h *Host) fail(st C.enum_nmf_status) error {
	return &Error{Status(st), C.GoString(C.nmf_host_last_error(h.h))}
}

// Recv returns the next message, copied into Go memory of its own, or io.EOF when the
// browser closed the pipe (the host should then exit). Messages that arrived together
// are taken from the library in one call and handed out one by one.
func (h *Host) Recv() ([]byte, error) {
	return h.AppendRecv(nil)
}

// AppendRecv appends the next message to dst and returns the extended slice, or
// io.EOF when the browser closed the pipe. A host that is done with each message before
// it takes the next passes the same buffer each time,
// buf, err = host.AppendRecv(buf[:0]), and allocates nothing once it is large enough:
// for large messages that saves Go's allocation, zeroing and garbage collection of
// each one.
func (h *Host) AppendRecv(dst []byte) ([]byte, error) {
	m, err := h.nextMessage()
	if err != nil {
		return dst, err
	}
	// Not C.GoBytes: its length is a C int, and a browser may send up to 4 GiB - 1.
	if uint64(m.len) > uint64(maxInt-len(dst)) {
		return dst, tooLargeForGo(m)
	}
	n := int(m.len)
	if cap(dst)-len(dst) < n {
		// Exactly what is needed: append's growth would round a large message up.
		grown := make([]byte, len(dst), len(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	if n == 0 {
		return dst, nil
	}
	return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(m.data)), n)...), nil
}

// RecvView returns the next message without copying it: a view of the library's
// buffer (C memory), valid only until the next Recv, AppendRecv, RecvView, RecvJSON or
// Close, after which its bytes may be reused or freed. Copy what you keep; passing the
// view to QueueView, Queue or SendRaw before the next receive is safe. For a host that
// forwards or answers from each message as it comes: an echo through RecvView and
// QueueView copies nothing (Recv copies each message twice).
func (h *Host) RecvView() ([]byte, error) {
	m, err := h.nextMessage()
	if err != nil {
		return nil, err
	}
	if uint64(m.len) > uint64(maxInt) {
		return nil, tooLargeForGo(m)
	}
	if m.len == 0 {
		return []byte{}, nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(m.data)), int(m.len)), nil
}

// nextMessage hands out the next message of the batch, taking a new batch from the
// library (waiting for it) once the last one is used up.
func (h *Host) nextMessage() (C.nmf_message, error) {
	if h.next == h.count {
		var count C.size_t
		h.next, h.count = 0, 0
		batch := C.uintptr_t(uintptr(unsafe.Pointer(h.batch)))
		switch st := C.nmf_go_recv_batch(h.handle(), batch, batchMax, &count); st {
		case C.NMF_OK:
			h.count = int(count)
		case C.NMF_EOF:
			return C.nmf_message{}, io.EOF
		default:
			return C.nmf_message{}, h.fail(st)
		}
	}
	m := h.batch[h.next]
	h.next++
	return m, nil
}

func tooLargeForGo(m C.nmf_message) error {
	return &Error{StatusFrameTooLarge, fmt.Sprintf("a %d-byte message does not fit in a Go slice on this platform", uint64(m.len))}
}

// RecvJSON reads the next message into v with encoding/json, or returns io.EOF when
// the browser closed the pipe. A message that is not JSON, or not of v's shape, is an
// *Error with StatusInvalidJSON that names the message's size: it was consumed, and the
// host can go on with the next one. (Use Recv and json.Unmarshal to keep the bytes.)
func (h *Host) RecvJSON(v any) error {
	msg, err := h.Recv()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(msg, v); err != nil {
		return &Error{StatusInvalidJSON, fmt.Sprintf("a %d-byte message: %v", len(msg), err)}
	}
	return nil
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
	if st := C.nmf_go_send(h.handle(), p, n); st != C.NMF_OK {
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
	if st := C.nmf_go_queue(h.handle(), p, n); st != C.NMF_OK {
		return h.fail(st)
	}
	return nil
}

// QueueView is Queue for a message received by RecvView (the view, or a part of it):
// a large one (16 KiB or more) is queued without a copy, the library keeping its
// buffer until it is written, and what was queued before it is handed to the writer at
// once. Once QueueView returns nil, do not change the view's bytes (they may still be
// being written); it stays readable until the next receive. Other bytes are copied, as
// Queue does.
func (h *Host) QueueView(view []byte) error {
	p, n := bytesArg(view)
	if st := C.nmf_go_queue_view(h.handle(), p, n); st != C.NMF_OK {
		return h.fail(st)
	}
	return nil
}

// Flush writes every queued message.
func (h *Host) Flush() error {
	if st := C.nmf_go_flush(h.handle()); st != C.NMF_OK {
		return h.fail(st)
	}
	return nil
}

// HasMessage reports whether Recv would return without blocking.
func (h *Host) HasMessage() bool {
	return h.next < h.count || bool(C.nmf_go_has_message(h.handle()))
}

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
	return Caller{Browser(c.browser), str(c.origin), str(c.manifest_path), str(c.extension_id), uint64(c.parent_window)}
}

// Close releases the host.
func (h *Host) Close() {
	C.nmf_host_free(h.h)
	C.free(unsafe.Pointer(h.batch))
	// A receive after Close finds no batch to hand out from, and the library refuses
	// the NULL host.
	h.h, h.batch, h.count, h.next = nil, nil, 0, 0
}

// Valid reports whether msg is one valid UTF-8 JSON text, as a browser's JSON.parse
// would accept it (nmframe's validator: no copy, no depth limit).
func Valid(msg []byte) bool {
	p, n := bytesArg(msg)
	return C.nmf_json_validate(p, n) == C.NMF_OK
}

// JSONType is the kind of a JSON value in a Doc.
type JSONType int

// The JSON value kinds, as nmf_json_type numbers them.
const (
	JSONNull   JSONType = C.NMF_JSON_NULL
	JSONBool   JSONType = C.NMF_JSON_BOOL
	JSONInt    JSONType = C.NMF_JSON_INT   // fits int64: Int (and Float)
	JSONUint   JSONType = C.NMF_JSON_UINT  // above MaxInt64, fits uint64: Uint (and Float)
	JSONFloat  JSONType = C.NMF_JSON_FLOAT // any other number: Float
	JSONString JSONType = C.NMF_JSON_STRING
	JSONArray  JSONType = C.NMF_JSON_ARRAY  // Len elements
	JSONObject JSONType = C.NMF_JSON_OBJECT // Len members
)

// Value is one JSON value read from a Doc. Str is a copy in Go memory.
type Value struct {
	Type  JSONType
	Bool  bool
	Int   int64
	Uint  uint64
	Float float64
	Str   string
	Len   int // string length in bytes, or element/member count
}

// Doc is a reusable JSON document read by JSON Pointer (RFC 6901), without decoding
// the message into Go values: parse a message, then Get the fields a host needs. Use
// it from one goroutine at a time, and Close it when done.
type Doc struct {
	d *C.nmf_doc
}

// NewDoc makes an empty document.
func NewDoc() (*Doc, error) {
	var d *C.nmf_doc
	if st := C.nmf_doc_new(&d); st != C.NMF_OK {
		return nil, &Error{Status(st), C.GoString(C.nmf_status_str(C.int(st)))}
	}
	return &Doc{d}, nil
}

// Parse reads msg (copied: msg is neither changed nor kept) into the document,
// replacing what it held. An invalid message is an *Error with the offset and reason,
// and leaves the document empty.
func (d *Doc) Parse(msg []byte) error {
	p, n := bytesArg(msg)
	if st := C.nmf_doc_parse(d.d, p, n); st != C.NMF_OK {
		return &Error{Status(st), C.GoString(C.nmf_doc_last_error(d.d))}
	}
	return nil
}

// Get returns the value at a JSON Pointer ("" is the root, "/a/0" element 0 of member
// a), and false when nothing is there.
func (d *Doc) Get(pointer string) (Value, bool, error) {
	p, n := bytesArg([]byte(pointer))
	var v C.nmf_value
	switch st := C.nmf_doc_get(d.d, (*C.char)(unsafe.Pointer(p)), n, &v); st {
	case C.NMF_OK:
	case C.NMF_NOT_FOUND:
		return Value{}, false, nil
	default:
		return Value{}, false, &Error{Status(st), C.GoString(C.nmf_doc_last_error(d.d))}
	}
	out := Value{
		Type:  JSONType(v._type),
		Bool:  bool(v.boolean),
		Int:   int64(v.integer),
		Uint:  uint64(v.uinteger),
		Float: float64(v.number),
		Len:   int(v.length),
	}
	if out.Type == JSONString && v.length > 0 {
		// Not C.GoStringN: its length is a C int.
		out.Str = string(unsafe.Slice((*byte)(unsafe.Pointer(v.string)), int(v.length)))
	}
	return out, true, nil
}

// Close releases the document.
func (d *Doc) Close() {
	C.nmf_doc_free(d.d)
	d.d = nil
}
