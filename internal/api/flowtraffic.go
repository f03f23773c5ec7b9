package api

import (
	"context"
	"maps"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// maxFlowWindow bounds the window a relation's data may ask for.
const maxFlowWindow = 30 * 24 * time.Hour

// withTraffic adds to the flowlog relations among rels their live figures
// from the flows store, under data "traffic": bytes and packets each way,
// accepted and rejected records, first and last seen, over the relation's
// window before now. The graph keeps only what stays true while traffic
// goes on (protocol, ports, window), so that the history is not a version
// per relation per minute. Relations are copied, never changed in place.
func (s *Server) withTraffic(ctx context.Context, id string, rels ...[]model.Relation) error {
	if s.Flows == nil {
		return nil
	}
	window := time.Duration(0)
	for _, list := range rels {
		for _, r := range list {
			if r.Type == model.FlowLog {
				window = max(window, relationWindow(r))
			}
		}
	}
	if window == 0 {
		return nil
	}
	now := time.Now()
	convs, err := s.Flows.FlowConversations(ctx, store.FlowQuery{Component: id, From: now.Add(-window), To: now.Add(time.Minute), Limit: 10_000})
	if err != nil {
		return err
	}
	type pair struct{ client, server string }
	sums := map[pair]*flowTraffic{}
	for _, c := range convs {
		t := sums[pair{c.Client, c.Server}]
		if t == nil {
			t = &flowTraffic{FirstSeen: c.FirstSeen, LastSeen: c.LastSeen}
			sums[pair{c.Client, c.Server}] = t
		}
		t.BytesToServer += c.BytesToServer
		t.BytesToClient += c.BytesToClient
		t.PacketsToServer += c.PacketsToServer
		t.PacketsToClient += c.PacketsToClient
		t.Accepted += c.Accepted
		t.Rejected += c.Rejected
		if c.FirstSeen.Before(t.FirstSeen) {
			t.FirstSeen = c.FirstSeen
		}
		if c.LastSeen.After(t.LastSeen) {
			t.LastSeen = c.LastSeen
		}
	}
	for _, list := range rels {
		for i, r := range list {
			if r.Type != model.FlowLog {
				continue
			}
			t := sums[pair{r.Source, r.Target}]
			if t == nil {
				t = &flowTraffic{}
			}
			data := maps.Clone(r.Data)
			if data == nil {
				data = map[string]any{}
			}
			data["traffic"] = t
			list[i].Data = data
		}
	}
	return nil
}

// flowTraffic is a flowlog relation's traffic in its window.
type flowTraffic struct {
	BytesToServer   uint64    `json:"bytes_to_server"`
	BytesToClient   uint64    `json:"bytes_to_client"`
	PacketsToServer uint64    `json:"packets_to_server"`
	PacketsToClient uint64    `json:"packets_to_client"`
	Accepted        uint64    `json:"accepted_records"`
	Rejected        uint64    `json:"rejected_records"`
	FirstSeen       time.Time `json:"first_seen,omitzero"`
	LastSeen        time.Time `json:"last_seen,omitzero"`
}

// relationWindow is the window a flowlog relation's data names, within
// bounds, else defaultFlowWindow (the
// endpoints' default too).
func relationWindow(r model.Relation) time.Duration {
	if s, ok := r.Data["window"].(string); ok {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return min(d, maxFlowWindow)
		}
	}
	return defaultFlowWindow
}
