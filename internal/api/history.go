package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// historySuffix ends the path of a component's history:
// GET /api/components/{id}/history.
const historySuffix = "/history"

// HistoryList is the answer of GET /api/components/{id}/history and of
// GET /api/changes: versions oldest first.
type HistoryList struct {
	Versions []model.Version `json:"versions"`
	// HistoryStart is where the kept history begins: older versions were
	// pruned (storage.history_retention). Zero, and left out, when the
	// history was never pruned.
	HistoryStart time.Time `json:"history_start,omitzero"`
}

// history answers GET /api/components/{id}/history?from=&to=&limit=: every
// version of the component, also one deleted since (by its id), newest
// limit (default 100) of them.
func (s *Server) history(r *http.Request, ref string) (any, error) {
	if s.History == nil {
		return nil, notFound("no history is kept")
	}
	id := ref
	if c, ok := s.Graph.Lookup(ref); ok {
		id = c.ID
	}
	q, err := versionQuery(r, 100)
	if err != nil {
		return nil, err
	}
	q.ID, q.Latest = id, true
	vs, err := s.History.Versions(r.Context(), q)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, notFound("no component or history with id or identifier " + strconv.Quote(ref))
	}
	start, err := s.History.HistoryStart(r.Context())
	if err != nil {
		return nil, err
	}
	return HistoryList{Versions: vs, HistoryStart: start}, nil
}

// componentAt answers GET /api/components/{id}?at=<RFC 3339>: the
// component as it was then, from the state of its last version up to at,
// with the versions up to at. Its relations are left empty, and its alarms
// and insights out: they are of now, and the map of that time
// (GET /api/topology?at=) holds its relations then.
func (s *Server) componentAt(r *http.Request, ref string) (any, error) {
	v := r.URL.Query().Get("at")
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, badRequest("at: want an RFC 3339 time such as 2026-11-22T10:00:00Z, got " + strconv.Quote(v))
	}
	if s.History == nil {
		return nil, notFound("no history is kept")
	}
	start, err := s.History.HistoryStart(r.Context())
	if err != nil {
		return nil, err
	}
	if !start.IsZero() && at.Before(start) {
		return nil, historyPruned(fmt.Sprintf("at: %s is before the kept history, which starts at %s (storage.history_retention)",
			at.UTC().Format(time.RFC3339), start.Format(time.RFC3339Nano)))
	}
	// A component deleted since is known by its id alone, as in its history.
	id := ref
	if c, ok := s.Graph.Lookup(ref); ok {
		id = c.ID
	}
	vs, err := s.History.Versions(r.Context(), store.VersionQuery{ID: id, Until: at.Add(time.Nanosecond), Latest: true, Limit: 100})
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 || vs[len(vs)-1].Change == model.Deleted || vs[len(vs)-1].State == nil {
		return nil, notFound(fmt.Sprintf("no component with id or identifier %s at %s", strconv.Quote(ref), at.UTC().Format(time.RFC3339)))
	}
	d := ComponentDetail{Outgoing: []model.Relation{}, Incoming: []model.Relation{}, History: vs, At: at.UTC()}
	if err := json.Unmarshal(vs[len(vs)-1].State, &d.Component); err != nil {
		return nil, fmt.Errorf("component %s at %s: read its state: %w", id, at.UTC().Format(time.RFC3339), err)
	}
	return d, nil
}

// changes answers GET /api/changes?from=&to=&limit=&account=&type=&actor=:
// the newest limit (default 1000) changes of components in the window,
// oldest first, filtered by the component's account and type (of its state
// after the change, or before it for a deletion) and by actor. A window
// that starts before the kept history gets what is kept.
func (s *Server) changes(r *http.Request) (any, error) {
	if s.History == nil {
		return nil, notFound("no history is kept")
	}
	q, err := versionQuery(r, 1000)
	if err != nil {
		return nil, err
	}
	q.Latest = true
	p := r.URL.Query()
	account, typ, actor := p.Get("account"), p.Get("type"), p.Get("actor")
	vs, err := s.History.Versions(r.Context(), q)
	if err != nil {
		return nil, err
	}
	start, err := s.History.HistoryStart(r.Context())
	if err != nil {
		return nil, err
	}
	out := HistoryList{Versions: []model.Version{}, HistoryStart: start}
	for _, v := range vs {
		if actor != "" && v.Actor != actor {
			continue
		}
		if account != "" || typ != "" {
			if v.Entity != "component" {
				continue
			}
			state := v.State
			if v.Change == model.Deleted {
				// The state before the deletion: the version before it.
				prev, err := s.History.Versions(r.Context(), store.VersionQuery{ID: v.ID, Until: v.Time.Add(time.Nanosecond), Latest: true, Limit: 2})
				if err != nil {
					return nil, err
				}
				for _, pv := range prev {
					if pv.Seq < v.Seq && pv.State != nil {
						state = pv.State
					}
				}
			}
			var c struct {
				Account string `json:"account"`
				Type    string `json:"type"`
			}
			if json.Unmarshal(state, &c) != nil || (account != "" && c.Account != account) || (typ != "" && c.Type != typ) {
				continue
			}
		}
		out.Versions = append(out.Versions, v)
	}
	return out, nil
}

// versionQuery reads from, to (RFC 3339) and limit.
func versionQuery(r *http.Request, defLimit int) (store.VersionQuery, error) {
	var q store.VersionQuery
	limit, err := intParam(r, "limit", defLimit, 10000)
	if err != nil {
		return q, err
	}
	q.Limit = limit
	for name, dst := range map[string]*time.Time{"from": &q.Since, "to": &q.Until} {
		v := r.URL.Query().Get(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return q, badRequest(name + ": want an RFC 3339 time such as 2026-11-22T10:00:00Z, got " + strconv.Quote(v))
		}
		*dst = t
	}
	return q, nil
}

// historyRef tells whether a component path asks for history, and of what.
func historyRef(ref string) (string, bool) {
	base, ok := strings.CutSuffix(ref, historySuffix)
	return base, ok && base != ""
}

// Topology is the answer of GET /api/topology: the map at a time.
type Topology struct {
	At         time.Time         `json:"at"`
	Components []model.Component `json:"components"`
	Relations  []model.Relation  `json:"relations"`
}

// topologyAt answers GET /api/topology?at=<RFC 3339>&view=<id>: the map as
// it was then, from the history; without at, the map now. A time before
// the kept history is refused: the map would miss what was pruned. With
// view, only the view's components and the relations between them.
func (s *Server) topologyAt(r *http.Request) (any, error) {
	inView, err := s.viewParam(r)
	if err != nil {
		return nil, err
	}
	v := r.URL.Query().Get("at")
	if v == "" {
		comps, _ := s.Graph.Select(inView, 0, -1)
		return inViewOnly(Topology{At: time.Now().UTC(), Components: comps, Relations: s.Graph.Relations()}, inView), nil
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, badRequest("at: want an RFC 3339 time such as 2026-11-22T10:00:00Z, got " + strconv.Quote(v))
	}
	if s.History == nil {
		return nil, notFound("no history is kept")
	}
	comps, rels, err := s.History.TopologyAt(r.Context(), at)
	if errors.Is(err, store.ErrPruned) {
		start, err := s.History.HistoryStart(r.Context())
		if err != nil {
			return nil, err
		}
		return nil, historyPruned(fmt.Sprintf("at: %s is before the kept history, which starts at %s (storage.history_retention)",
			at.UTC().Format(time.RFC3339), start.Format(time.RFC3339Nano)))
	}
	if err != nil {
		return nil, err
	}
	if inView != nil {
		comps = slices.DeleteFunc(comps, func(c model.Component) bool { return !inView(c) })
	}
	return inViewOnly(Topology{At: at.UTC(), Components: comps, Relations: rels}, inView), nil
}

// inViewOnly keeps the relations of t between its components when a view
// filtered them.
func inViewOnly(t Topology, inView func(model.Component) bool) Topology {
	if inView == nil {
		return t
	}
	ids := make(map[string]struct{}, len(t.Components))
	for _, c := range t.Components {
		ids[c.ID] = struct{}{}
	}
	kept := make([]model.Relation, 0, len(t.Relations)/2)
	for _, rel := range t.Relations {
		_, src := ids[rel.Source]
		_, dst := ids[rel.Target]
		if src && dst {
			kept = append(kept, rel)
		}
	}
	t.Relations = kept
	return t
}
