// Command chunked_host is a native-messaging host in Go that echoes messages of any
// size, on libnmframe's chunked mode: a message the extension sent in parts arrives
// whole, and an echo over 1 MiB leaves in parts (docs/CHUNKING.md). A transfer that
// failed is reported on stderr and the host goes on.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"nmframe.dev/go/nmframe"
)

func main() { os.Exit(run()) }

func run() int {
	host, err := nmframe.NewHost(nmframe.Chunked(nmframe.ChunkLimits{MaxBytes: 512 << 20}))
	if err != nil {
		fmt.Fprintln(os.Stderr, "chunked_host_go:", err)
		return 1
	}
	defer host.Close()
	for {
		msg, err := host.Recv()
		if err == io.EOF || errors.Is(err, nmframe.ErrDisconnected) {
			return 0
		}
		var e *nmframe.Error
		if errors.As(err, &e) && e.Status == nmframe.StatusTransferFailed {
			fmt.Fprintln(os.Stderr, "chunked_host_go:", err) // one message lost; go on
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "chunked_host_go:", err)
			return 1
		}
		if err := host.SendRaw(msg); errors.Is(err, nmframe.ErrDisconnected) {
			return 0
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "chunked_host_go: not echoed:", err)
		}
	}
}
