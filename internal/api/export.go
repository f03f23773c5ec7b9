package api

import (
	"encoding/json"
	"net/http"

	"github.com/skymap/skymap/internal/model"
)

// export answers GET /api/export?at=: the map (now, or at a past time as
// /api/topology gives it) as NDJSON, one component or relation a line,
// {"kind":"component",...} then {"kind":"relation",...}, for tools and
// archives that read a line at a time. Errors are those of /api/topology,
// as JSON, before the first line.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	v, err := s.topologyAt(r)
	if err != nil {
		status, body := s.errorBody(r, err)
		writeJSON(w, status, body)
		return
	}
	t := v.(Topology)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for i := range t.Components {
		if enc.Encode(componentLine{Kind: "component", Component: t.Components[i]}) != nil {
			return // the client went away
		}
	}
	for i := range t.Relations {
		if enc.Encode(relationLine{Kind: "relation", Relation: t.Relations[i]}) != nil {
			return
		}
	}
}

// componentLine and relationLine are the lines of an export: the item's
// fields with "kind" first.
type componentLine struct {
	Kind string `json:"kind"`
	model.Component
}

type relationLine struct {
	Kind string `json:"kind"`
	model.Relation
}
