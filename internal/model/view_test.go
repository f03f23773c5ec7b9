package model

import (
	"slices"
	"testing"
)

func TestViewFilter(t *testing.T) {
	comps := []Component{
		{ID: "i-1", Type: "aws.ec2.instance", Name: "Web-1", Account: "111111111111", Region: "eu-west-1", Layer: LayerMachines,
			Labels: []string{"env:prod", "team:web"}},
		{ID: "i-2", Type: "aws.ec2.instance", Name: "db-1", Account: "111111111111", Region: "us-east-1", Layer: LayerMachines,
			Labels: []string{"env:prod"}},
		{ID: "q-1", Type: "aws.sqs.queue", Name: "web-jobs", Account: "222222222222", Region: "eu-west-1", Layer: LayerMessaging,
			Labels: []string{"team:web"}},
	}
	for _, tt := range []struct {
		name string
		f    ViewFilter
		want []string
	}{
		{"empty keeps all", ViewFilter{}, []string{"i-1", "i-2", "q-1"}},
		{"any of the types", ViewFilter{Types: []string{"aws.sqs.queue", "aws.s3.bucket"}}, []string{"q-1"}},
		{"any of the layers", ViewFilter{Layers: []string{LayerMessaging, LayerMachines}}, []string{"i-1", "i-2", "q-1"}},
		{"every label", ViewFilter{Labels: []string{"env:prod", "team:web"}}, []string{"i-1"}},
		{"a label's key with any value", ViewFilter{Labels: []string{"team:*"}}, []string{"i-1", "q-1"}},
		{"account", ViewFilter{Accounts: []string{"222222222222"}}, []string{"q-1"}},
		{"region", ViewFilter{Regions: []string{"us-east-1", "global"}}, []string{"i-2"}},
		{"name part ignoring case", ViewFilter{Name: "WEB"}, []string{"i-1", "q-1"}},
		{"fields together", ViewFilter{Name: "web", Layers: []string{LayerMachines}, Regions: []string{"eu-west-1"}}, []string{"i-1"}},
		{"an account nobody has", ViewFilter{Accounts: []string{""}}, nil},
	} {
		keep := tt.f.Matcher()
		var got []string
		for _, c := range comps {
			if keep(c) {
				got = append(got, c.ID)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v keeps %q, want %q", tt.name, tt.f, got, tt.want)
		}
	}
}
