package reports

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 document of every /api route (openapi.json);
// a test holds it and the router to the same routes and roles.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) openAPIDoc(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
