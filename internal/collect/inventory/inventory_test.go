package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

func TestTypesTable(t *testing.T) {
	for _, typ := range Types() {
		ti, ok := types[typ]
		if !ok {
			t.Errorf("type %s has no entry in the types table", typ)
			continue
		}
		if ti.layer == "" || ti.console == "" || ti.consoleKind == "" {
			t.Errorf("type %s: incomplete entry %+v", typ, ti)
		}
	}
}

func TestComponent(t *testing.T) {
	aws, _ := partition.ByID("aws")
	cn, _ := partition.ByID("aws-cn")
	tests := []struct {
		name string
		t    Target
		r    resource
		want model.Component
	}{
		{
			name: "instance with special tags",
			t:    Target{Account: "123456789012", Partition: aws, Region: "eu-west-1"},
			r: resource{typ: typeInstance, id: "i-1", short: "i-1", idents: []string{"urn:host:/i-1"},
				tags: map[string]string{"Name": "web", "stackstate-environment": "prod", "stackstate-identifier": "urn:app:/web", "empty": ""}},
			want: model.Component{
				ID: "i-1", Type: typeInstance, Name: "web",
				Identifiers: []string{"urn:host:/i-1", "arn:aws:ec2:eu-west-1:123456789012:instance/i-1", "urn:app:/web"},
				Labels: []string{"aws-account:123456789012", "aws-region:eu-west-1", "stackpack:aws-v2",
					"Name:web", "empty", "stackstate-environment:prod", "stackstate-identifier:urn:app:/web"},
				Account: "123456789012", Region: "eu-west-1", Layer: model.LayerMachines, Environment: "prod",
				ConsoleURL: "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#InstanceDetails:instanceId=i-1",
				Data: map[string]any{"Tags": map[string]string{"Name": "web", "stackstate-environment": "prod",
					"stackstate-identifier": "urn:app:/web", "empty": ""}},
			},
		},
		{
			name: "subnet in China, no name tag",
			t:    Target{Account: "123456789012", Partition: cn, Region: "cn-north-1"},
			r:    resource{typ: typeSubnet, id: "subnet-1", short: "subnet-1"},
			want: model.Component{
				ID: "subnet-1", Type: typeSubnet, Name: "subnet-1",
				Identifiers: []string{"arn:aws-cn:ec2:cn-north-1:123456789012:subnet/subnet-1"},
				Labels:      []string{"aws-account:123456789012", "aws-region:cn-north-1", "stackpack:aws-v2"},
				Account:     "123456789012", Region: "cn-north-1", Layer: model.LayerNetworking,
				ConsoleURL: "https://console.amazonaws.cn/vpcconsole/home?region=cn-north-1#SubnetDetails:subnetId=subnet-1",
				Data:       map[string]any{},
			},
		},
		{
			name: "bucket in its own region",
			t:    Target{Account: "123456789012", Partition: aws, Region: partition.Global},
			r:    resource{typ: typeBucket, id: "arn:aws:s3:::b", short: "b", name: "b", region: "us-west-2"},
			want: model.Component{
				ID: "arn:aws:s3:::b", Type: typeBucket, Name: "b",
				Labels:  []string{"aws-account:123456789012", "aws-region:us-west-2", "stackpack:aws-v2"},
				Account: "123456789012", Region: "us-west-2", Layer: model.LayerStorage,
				ConsoleURL: "https://us-west-2.console.aws.amazon.com/s3/buckets/b?region=us-west-2",
				Data:       map[string]any{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, tt.t.component(tt.r)); d != "" {
				t.Errorf("component (-want +got):\n%s", d)
			}
		})
	}
}

func TestToDataPrunesUnset(t *testing.T) {
	type inner struct{ A *string }
	v := struct {
		Set   string
		Empty string
		Nil   *int
		Zero  int
		In    inner
		List  []inner
	}{Set: "x", List: []inner{{}}}
	want := map[string]any{"Set": "x", "Zero": 0.0, "List": []any{map[string]any{}}}
	if d := cmp.Diff(want, toData(v)); d != "" {
		t.Errorf("toData (-want +got):\n%s", d)
	}
}

func TestSplitAccountWide(t *testing.T) {
	tk := task{
		l: listing{typ: typeBucket, where: accountWide},
		t: Target{Account: "1", Regions: []string{"eu-west-1", "us-east-1"}},
	}
	res := Result{
		Components: []model.Component{{ID: "arn:b1", Region: "eu-west-1"}, {ID: "arn:b2", Region: "us-east-1"}},
		Relations:  []model.Relation{{Source: "arn:b2", Target: "arn:q", Type: model.UsesService}},
	}
	got := split(tk, res, false)
	want := []model.Snapshot{
		{Scope: model.Scope{Account: "1", Region: "eu-west-1", Type: typeBucket}, Components: []model.Component{{ID: "arn:b1", Region: "eu-west-1"}}},
		{Scope: model.Scope{Account: "1", Region: "us-east-1", Type: typeBucket}, Components: []model.Component{{ID: "arn:b2", Region: "us-east-1"}},
			Relations: []model.Relation{{Source: "arn:b2", Target: "arn:q", Type: model.UsesService}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("split (-want +got):\n%s", d)
	}
}
