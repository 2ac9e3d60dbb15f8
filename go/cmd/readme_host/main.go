// Command readme_host is the README's Go host, kept identical to it by a test that
// builds it from a module outside the repository and sends it bad messages.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"nmframe.dev/go/nmframe"
)

type request struct {
	ID   uint64 `json:"id"`
	Text string `json:"text"`
}

type reply struct {
	ID  uint64 `json:"id"`
	Len int    `json:"len"`
}

func main() { os.Exit(run()) } // after run's deferred Close: replies are written

func run() int {
	host, err := nmframe.NewHost() // stdout guard on: fmt.Println goes to the browser's log
	if err != nil {
		fmt.Fprintln(os.Stderr, "host:", err)
		return 1
	}
	defer host.Close()
	for {
		var req request
		err := host.RecvJSON(&req)
		var e *nmframe.Error
		switch {
		case err == io.EOF:
			return 0 // the browser closed the pipe: exit
		case errors.As(err, &e) && e.Status == nmframe.StatusInvalidJSON:
			fmt.Fprintln(os.Stderr, "host: skipped:", err) // not JSON, or not a request
			continue
		case err != nil:
			fmt.Fprintln(os.Stderr, "host:", err) // the stream is broken
			return 1
		}
		err = host.Send(reply{ID: req.ID, Len: len(req.Text)})
		switch {
		case errors.Is(err, nmframe.ErrDisconnected):
			return 0 // the browser went away
		case errors.As(err, &e) && (e.Status == nmframe.StatusIO || e.Status == nmframe.StatusWriterBroken):
			fmt.Fprintln(os.Stderr, "host:", err) // the stream is lost
			return 1
		case err != nil:
			fmt.Fprintln(os.Stderr, "host: reply refused:", err) // over 1 MiB: nothing written
		}
	}
}
