// Command probe is the binding probe, Go edition: the same program in every binding
// (ffi/tests/probe/probe.c and probe.cpp, test-support's binding-probe), run by
// ffi/tests/hosts/bindings.rs to keep the README's table of what each binding offers,
// and its defaults, true.
//
// It starts a host with the package's defaults, prints a stray line to stdout the way a
// Go program does, and answers each message {"text": T} with what the binding says: the
// caller's identity, whether T is valid JSON, and the error a 1 MiB + 1 reply gets.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"nmframe.dev/go/nmframe"
)

func main() { os.Exit(run()) }

func run() int {
	host, err := nmframe.NewHost()
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 1
	}
	defer host.Close()
	doc, err := nmframe.NewDoc()
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 1
	}
	defer doc.Close()
	fmt.Println("stray line from go")

	big := bytes.Repeat([]byte{'a'}, nmframe.MaxReply+1)
	big[0], big[len(big)-1] = '"', '"'
	browsers := map[nmframe.Browser]string{
		nmframe.BrowserChromium: "chromium",
		nmframe.BrowserFirefox:  "firefox",
		nmframe.BrowserUnknown:  "unknown",
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	// One buffer reused for every request (Doc.Parse reads it during the call only).
	var msg []byte
	for {
		var err error
		msg, err = host.AppendRecv(msg[:0])
		if errors.Is(err, io.EOF) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return 1
		}
		if err := doc.Parse(msg); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return 1
		}
		text, ok, err := doc.Get("/text")
		if !ok || err != nil || text.Type != nmframe.JSONString {
			fmt.Fprintln(os.Stderr, "probe: no /text", err)
			return 1
		}
		tooLarge := ""
		if err := host.SendRaw(big); err != nil {
			var e *nmframe.Error
			if errors.As(err, &e) {
				tooLarge = e.Message
			}
		}
		c := host.Caller()
		reply := map[string]any{
			"binding":       "go",
			"browser":       browsers[c.Browser],
			"origin":        orNil(c.Origin),
			"manifest_path": orNil(c.ManifestPath),
			"extension_id":  orNil(c.ExtensionID),
			"parent_window": c.ParentWindow,
			"valid":         nmframe.Valid([]byte(text.Str)),
			"too_large":     tooLarge,
		}
		if err := host.Send(reply); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return 1
		}
	}
}
