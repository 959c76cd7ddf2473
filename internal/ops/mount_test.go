package ops

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
)

// Routes mounted while requests are routed (the tracker mounts its control
// surface after the listener started): no race, and the new routes answer.
func TestMountWhileServing(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	h := s.Handler()
	stop, serving := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			if n == 1 {
				close(serving)
			}
			select {
			case <-stop:
				return
			default:
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if w.Code != 200 {
				t.Errorf("healthz: %d", w.Code)
				return
			}
		}
	}()
	<-serving
	for i := 0; i < 500; i++ {
		path := fmt.Sprintf("/added/%d", i)
		s.Mount(func(r chi.Router) {
			r.Get(path, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("added")) })
		})
	}
	close(stop)
	wg.Wait()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/added/499", nil))
	if w.Code != 200 || w.Body.String() != "added" {
		t.Fatalf("mounted route: %d %q", w.Code, w.Body.String())
	}
}
