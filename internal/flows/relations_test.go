package flows

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

func TestRelations(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	conv := func(client, server string, proto uint8, port uint16, bytes uint64, account, region string) store.FlowConversation {
		return store.FlowConversation{
			Client: client, Server: server, Protocol: proto, ServerPort: port, BytesToServer: bytes, Accepted: 1,
			FirstSeen: at.Add(-50 * time.Minute), LastSeen: at.Add(-time.Minute), Account: account, Region: region,
		}
	}
	convs := []store.FlowConversation{
		conv("i-app", "i-web", 6, 8443, 900, acct, region),
		conv("i-app", "i-web", 6, 443, 10, acct, region),
		conv("i-app", "i-web", 17, 53, 10, acct, region),
		conv("i-app", "i-web", 6, 443, 10, acct, region), // the same, reported twice
		conv("i-app", rdsARN, 6, 5432, 5000, acct, region),
		conv("urn:host:/198.51.100.7", "i-app", 6, 22, 40, acct, region),
		conv("i-app", model.PublicAggregate, 1, 0, 40, acct, region),
		conv("i-app", "i-app", 6, 8080, 40, acct, region),          // to itself
		conv("", "i-app", 6, 80, 40, acct, region),                 // unattributed
		conv("i-x", "i-y", 6, 80, 40, "210987654321", "us-east-1"), // another account
		{Client: "i-old", Server: "i-y", Protocol: 6, ServerPort: 80, LastSeen: at.Add(-2 * time.Hour), Account: acct, Region: region},
	}
	host := func(id, name string) model.Component {
		return model.Component{
			ID: id, Type: ExternalHostType, Name: name, Identifiers: []string{id},
			Labels:  []string{"aws-account:" + acct, "aws-region:" + region, "stackpack:aws-v2"},
			Account: acct, Region: region, Layer: model.LayerNetworking, Data: map[string]any{},
		}
	}
	flowRel := func(src, dst string, proto any, port int, ports ...string) model.Relation {
		return model.Relation{Source: src, Target: dst, Type: model.FlowLog,
			Data: map[string]any{"protocol": proto, "server_port": port, "ports": ports, "window": "1h"}}
	}
	want := []model.Snapshot{
		{
			Scope:    model.Scope{Account: acct, Region: region, Type: ExternalHostScope},
			Complete: true,
			Components: []model.Component{
				host("urn:host:/198.51.100.7", "198.51.100.7"),
				host(model.PublicAggregate, "internet"),
			},
		},
		{
			Scope:    model.Scope{Account: acct, Region: region, Type: model.FlowLog},
			Complete: true,
			Relations: []model.Relation{
				flowRel("i-app", rdsARN, "tcp", 5432, "tcp/5432"),
				flowRel("i-app", "i-web", "tcp", 443, "tcp/443", "tcp/8443", "udp/53"),
				flowRel("i-app", model.PublicAggregate, "icmp", 0, "icmp"),
				flowRel("urn:host:/198.51.100.7", "i-app", "tcp", 22, "tcp/22"),
			},
		},
		{
			Scope:     model.Scope{Account: "210987654321", Region: "us-east-1", Type: model.FlowLog},
			Complete:  true,
			Relations: []model.Relation{flowRel("i-x", "i-y", "tcp", 80, "tcp/80")},
		},
	}
	got := Relations(convs, time.Hour, at)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Relations (-want +got):\n%s", d)
	}

	// Stable across flushes: other figures, another order, the same data.
	for i := range convs {
		convs[i].BytesToServer *= 7
		convs[i].LastSeen = convs[i].LastSeen.Add(30 * time.Second)
	}
	convs[0], convs[4] = convs[4], convs[0]
	again := Relations(convs, time.Hour, at.Add(30*time.Second))
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Errorf("relations changed with the figures:\n%s\n%s", a, b)
	}
}

func TestWindowString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 24 * time.Hour: "24h", 30 * time.Minute: "30m", 90 * time.Second: "1m30s",
	} {
		if got := model.WindowString(d); got != want {
			t.Errorf("model.WindowString(%v) = %q, want %q", d, got, want)
		}
	}
}
