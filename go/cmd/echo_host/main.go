// Command echo_host is a native-messaging host in Go that echoes every message back,
// on libnmframe. A message too large to echo (over 1 MiB) is answered with an error
// object carrying its size and FNV-1a checksum, so the sender can check what arrived.
package main

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"

	"nmframe.dev/go/nmframe"
)

func main() {
	// Exit only once the host is closed: Close waits until the replies already handed
	// to the writer thread are written, and os.Exit would skip a deferred Close.
	os.Exit(run())
}

func run() int {
	host, err := nmframe.NewHost(nmframe.WriterThread())
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo_host_go:", err)
		return 1
	}
	defer host.Close()
	for {
		// A view of the library's buffer, valid until the next receive, answered with
		// QueueView: no copy of a large message, and no Go allocation.
		msg, err := host.RecvView()
		if err != nil {
			if err == io.EOF || errors.Is(err, nmframe.ErrDisconnected) {
				return 0 // the browser closed the pipe, or stopped reading the replies
			}
			fmt.Fprintln(os.Stderr, "echo_host_go:", err)
			return 1
		}
		if err := host.QueueView(msg); err != nil {
			// Refused before anything was written: say why, answer with an error.
			fmt.Fprintf(os.Stderr, "echo_host_go: not echoing a %d-byte message: %v\n", len(msg), err)
			status := nmframe.StatusIO
			var e *nmframe.Error
			if errors.As(err, &e) {
				status = e.Status
			}
			digest := fnv.New32a()
			digest.Write(msg)
			reply := fmt.Sprintf(`{"error":%q,"size":%d,"fnv1a32":%d}`, status, len(msg), digest.Sum32())
			err = host.Queue([]byte(reply))
			if err != nil {
				fmt.Fprintln(os.Stderr, "echo_host_go:", err)
			}
		}
		if !host.HasMessage() {
			if err := host.Flush(); errors.Is(err, nmframe.ErrDisconnected) {
				return 0 // the browser went away mid-reply
			} else if err != nil {
				fmt.Fprintln(os.Stderr, "echo_host_go:", err)
				return 1
			}
		}
	}
}
