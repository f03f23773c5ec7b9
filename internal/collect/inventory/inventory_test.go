package inventory

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/config"
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
		l: listing{types: []string{typeBucket}, where: accountWide},
		t: Target{Account: "1", Regions: []string{"eu-west-1", "us-east-1"}},
	}
	res := Result{
		Components: []model.Component{{ID: "arn:b1", Type: typeBucket, Region: "eu-west-1"}, {ID: "arn:b2", Type: typeBucket, Region: "us-east-1"}},
		Relations:  []model.Relation{{Source: "arn:b2", Target: "arn:q", Type: model.UsesService}},
	}
	got := split(tk, res, false)
	want := []model.Snapshot{
		{Scope: model.Scope{Account: "1", Region: "eu-west-1", Type: typeBucket}, Components: []model.Component{{ID: "arn:b1", Type: typeBucket, Region: "eu-west-1"}}},
		{Scope: model.Scope{Account: "1", Region: "us-east-1", Type: typeBucket}, Components: []model.Component{{ID: "arn:b2", Type: typeBucket, Region: "us-east-1"}},
			Relations: []model.Relation{{Source: "arn:b2", Target: "arn:q", Type: model.UsesService}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("split (-want +got):\n%s", d)
	}
}

func TestSplitMultiType(t *testing.T) {
	tk := task{l: listing{types: []string{"a", "b", "c"}}, t: Target{Account: "1", Region: "r"}}
	res := Result{
		Components: []model.Component{{ID: "b1", Type: "b", Region: "r", Identifiers: []string{"urn:b1"}}},
		Relations: []model.Relation{{Source: "urn:b1", Target: "x", Type: model.UsesService},
			{Source: "elsewhere", Target: "b1", Type: model.UsesService}},
	}
	got := split(tk, res, true)
	want := []model.Snapshot{
		{Scope: model.Scope{Account: "1", Region: "r", Type: "a"}, Complete: true,
			Relations: []model.Relation{{Source: "elsewhere", Target: "b1", Type: model.UsesService}}},
		{Scope: model.Scope{Account: "1", Region: "r", Type: "b"}, Complete: true,
			Components: res.Components, Relations: []model.Relation{{Source: "urn:b1", Target: "x", Type: model.UsesService}}},
		{Scope: model.Scope{Account: "1", Region: "r", Type: "c"}, Complete: true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("split (-want +got):\n%s", d)
	}
}

func TestListingsAreConsistent(t *testing.T) {
	seenType := map[string]bool{}
	seenFilter := map[string]bool{}
	for _, l := range listings {
		if len(l.types) == 0 || l.api == "" || l.filter == "" || len(l.actions) == 0 || l.run == nil {
			t.Errorf("listing %s|%s %v is incomplete", l.api, l.filter, l.types)
		}
		if !slices.Contains(config.KnownAPIs, l.api) {
			t.Errorf("listing %s|%s: api is not in config.KnownAPIs", l.api, l.filter)
		}
		if seenFilter[l.api+"|"+l.filter] {
			t.Errorf("filter %s|%s names two listings", l.api, l.filter)
		}
		seenFilter[l.api+"|"+l.filter] = true
		for _, typ := range l.types {
			if seenType[typ] {
				t.Errorf("type %s is produced by two listings: their snapshots would delete each other's components", typ)
			}
			seenType[typ] = true
		}
	}
}

func TestRuns(t *testing.T) {
	inst := func(apis ...config.API) config.Instance { return config.Instance{APIs: apis} }
	instances := listing{api: "ec2", filter: "instances", types: []string{typeInstance}}
	vpcs := listing{api: "ec2", filter: "vpcs", types: []string{typeVPC}}
	buckets := listing{api: "s3", filter: "buckets", types: []string{typeBucket}}
	tests := []struct {
		name string
		inst config.Instance
		l    listing
		want bool
	}{
		{"no apis_to_run", inst(), instances, true},
		{"api listed", inst(config.API{Name: "ec2"}), vpcs, true},
		{"api not listed", inst(config.API{Name: "ec2"}), buckets, false},
		{"filter word", inst(config.API{Name: "ec2", Filter: "instances vpcs"}), vpcs, true},
		{"filter excludes", inst(config.API{Name: "ec2", Filter: "instances"}), vpcs, false},
		{"type prefix", inst(config.API{Name: "ec2", Filter: "aws.ec2"}), vpcs, true},
		{"type exact", inst(config.API{Name: "ec2", Filter: "aws.ec2.vpc"}), vpcs, true},
		{"partial prefix", inst(config.API{Name: "ec2", Filter: "aws.ec"}), vpcs, false},
	}
	for _, tt := range tests {
		if got := runs(tt.inst, tt.l); got != tt.want {
			t.Errorf("%s: runs = %v, want %v", tt.name, got, tt.want)
		}
	}
	if err := CheckAPIs([]config.API{{Name: "ec2", Filter: "instances aws.ec2.vpc"}}); len(err) != 0 {
		t.Errorf("CheckAPIs of valid filters: %v", err)
	}
	if err := CheckAPIs([]config.API{{Name: "ec2", Filter: "instancez"}}); len(err) != 1 {
		t.Error("CheckAPIs accepted a filter that selects nothing")
	}
}

func TestReference(t *testing.T) {
	aws, _ := partition.ByID("aws")
	cn, _ := partition.ByID("aws-cn")
	tg := Target{Account: "123456789012", Partition: aws, Region: "eu-west-1"}
	tests := []struct {
		t    Target
		in   string
		want string
	}{
		{tg, "arn:aws:sns:eu-west-1:123456789012:orders", "arn:aws:sns:eu-west-1:123456789012:orders"},
		{tg, "https://sqs.us-east-1.amazonaws.com/123456789012/jobs", "arn:aws:sqs:us-east-1:123456789012:jobs"},
		{tg, "https://eu-central-1.queue.amazonaws.com/123456789012/legacy", "arn:aws:sqs:eu-central-1:123456789012:legacy"},
		{tg, "http://localhost:5000/123456789012/local", "arn:aws:sqs:eu-west-1:123456789012:local"},
		{Target{Account: "1", Partition: cn, Region: "cn-north-1"}, "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q",
			"arn:aws-cn:sqs:cn-north-1:123456789012:q"},
		{tg, "db.abc.eu-west-1.rds.amazonaws.com:5432", "urn:endpoint:/db.abc.eu-west-1.rds.amazonaws.com"},
		{tg, "DB.ABC.eu-west-1.rds.amazonaws.com", "urn:endpoint:/db.abc.eu-west-1.rds.amazonaws.com"},
		{tg, "postgres://user:secret@db.example.com:5432/app", "urn:endpoint:/db.example.com"},
		{tg, "jdbc:postgresql://db.example.com:5432/app", "urn:endpoint:/db.example.com"},
		{tg, "redis://cache.example.com", "urn:endpoint:/cache.example.com"},
		{tg, "10.0.1.5", ""},
		{tg, "10.0.1.5:80", ""},
		{tg, "true", ""},
		{tg, "production", ""},
		{tg, "", ""},
		{tg, "hello world.example", ""},
		{tg, "1.5", ""},
		{tg, "1.0.0-SNAPSHOT", ""},
		{tg, "v2.3.4-rc1", ""},
		{tg, "api.internal", "urn:endpoint:/api.internal"},
	}
	for _, tt := range tests {
		if got := tt.t.reference(tt.in); got != tt.want {
			t.Errorf("reference(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
