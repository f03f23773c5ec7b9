package awstest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Seeder creates resources of one service, or of a few related services,
// in moto for one account and region, and adds every value moto generated
// for them to the Seed's placeholders, so that golden files stay stable.
type Seeder func(ctx context.Context, s *Seed) error

// Seed is what a Seeder works with.
type Seed struct {
	// Config is an SDK configuration for Account and Region.
	Config          aws.Config
	Account, Region string
	*Built
}

// Add maps a value moto generated to the placeholder "<kind:label>".
func (s *Seed) Add(id, kind, label string) error { return s.add(id, kind, label) }

// Need returns the generated value of a placeholder the estate created
// before (a VPC, subnet, group or instance by its Name: "<subnet:prod-public>"),
// or an error naming the placeholder.
func (s *Seed) Need(placeholder string) (string, error) {
	id, ok := s.ids[placeholder]
	if !ok {
		return "", fmt.Errorf("awstest: %s is not in the estate (yet)", placeholder)
	}
	return id, nil
}
