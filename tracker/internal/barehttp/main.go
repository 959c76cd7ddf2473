// Command barehttp is the baseline of scripts/bench-tracker.sh: a bare
// net/http server answering every request with one fixed bencoded announce
// answer, to show what the HTTP stack alone costs on the same machine.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:16971", "listen address")
	flag.Parse()
	answer := []byte("d8:completei5e10:incompletei3e8:intervali1800e12:min intervali900e5:peers30:" +
		"\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x1a\xe1\x7f\x00\x00\x03\x1a\xe1\x7f\x00\x00\x04\x1a\xe1\x7f\x00\x00\x05\x1a\xe1e")
	ct := []string{"text/plain"}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = ct
		_, _ = w.Write(answer)
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
