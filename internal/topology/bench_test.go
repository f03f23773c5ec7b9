package topology

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/skymap/skymap/internal/model"
)

// estateSnapshots makes n instances in one scope, each with two relations
// (one to a subnet of another scope, one to a volume never seen).
func estateSnapshots(n int) []model.Snapshot {
	inst := model.Snapshot{Scope: scInst, Complete: true}
	sub := model.Snapshot{Scope: scSubnet, Complete: true}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("i-%08d", i)
		inst.Components = append(inst.Components, model.Component{
			ID: id, Type: "aws.ec2.instance", Name: id,
			Identifiers: []string{"urn:host:/" + id, fmt.Sprintf("urn:vpcip:vpc-1/10.%d.%d.%d", i>>16&255, i>>8&255, i&255)},
			Labels:      []string{"aws-account:1", "aws-region:eu-west-1", "stackpack:aws-v2"},
			Data:        map[string]any{"InstanceId": id, "State": map[string]any{"Name": "running"}, "InstanceType": "t3.micro"},
		})
		subnet := fmt.Sprintf("subnet-%04d", i%100)
		inst.Relations = append(inst.Relations,
			model.Relation{Source: "urn:host:/" + id, Target: subnet, Type: model.UsesService},
			model.Relation{Source: id, Target: "vol-" + id, Type: model.UsesService})
	}
	for i := 0; i < 100; i++ {
		sub.Components = append(sub.Components, model.Component{ID: fmt.Sprintf("subnet-%04d", i), Type: "aws.ec2.subnet", Data: map[string]any{}})
	}
	return []model.Snapshot{inst, sub}
}

// BenchmarkRescanUnchanged applies a full scan of 10,000 instances to a graph
// that already holds them: the hourly steady state.
func BenchmarkRescanUnchanged(b *testing.B) {
	ctx := context.Background()
	snaps := estateSnapshots(10000)
	g := New(nil)
	if _, err := g.Apply(ctx, "scan", snaps); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vs, err := g.Apply(ctx, "scan", snaps)
		if err != nil || len(vs) != 0 {
			b.Fatalf("versions %d, err %v", len(vs), err)
		}
	}
}

// BenchmarkJSONBaseline encodes the same 10,000 instances once: the floor
// any change detection over JSON-shaped data pays.
func BenchmarkJSONBaseline(b *testing.B) {
	snaps := estateSnapshots(10000)
	for i := 0; i < b.N; i++ {
		for _, c := range snaps[0].Components {
			if _, err := json.Marshal(c); err != nil {
				b.Fatal(err)
			}
		}
	}
}
