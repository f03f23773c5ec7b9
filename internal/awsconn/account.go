package awsconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// assumeRoleAPI is the API under which assume-role outcomes are recorded,
// in region partition.Global of the assumed account.
const assumeRoleAPI = "sts:AssumeRole"

// probeDuration is the shortest session AWS grants, used by the safety probe.
const probeDuration = 900

// Account is the access to one AWS account: one credentials cache shared by
// one cached aws.Config per region. It is safe for concurrent use.
type Account struct {
	// ID is the 12-digit account id.
	ID string
	// Partition is the ARN partition of the account: aws, aws-cn, aws-us-gov, ...
	Partition string
	// RoleARN is the role assumed into the account; "" for the base credentials.
	RoleARN string

	p     *Provider
	part  partition.Partition
	creds aws.CredentialsProvider

	mu      sync.Mutex
	configs map[string]aws.Config
	// enabled caches the account's enabled regions for regionsTTL: event
	// feeds and refreshes ask for them far more often than they change.
	enabled   []string
	enabledAt time.Time
}

// regionsTTL is how long the enabled regions of an account are remembered.
const regionsTTL = time.Hour

// Account returns the access to one account, opening it on first use.
// roleARN "" means the base credentials themselves (the account id comes from
// sts:GetCallerIdentity). Opening a role checks that it cannot be assumed
// without the external id (unless Options.AllowRoleWithoutExternalID) and
// assumes it once; concurrent first calls share that work (under the context
// of the first). A failure is not cached: the next call tries again.
func (p *Provider) Account(ctx context.Context, roleARN string) (*Account, error) {
	if a := p.cached(roleARN); a != nil {
		return a, nil
	}
	v, err, _ := p.opening.Do(roleARN, func() (any, error) {
		if a := p.cached(roleARN); a != nil {
			return a, nil
		}
		a, err := p.open(ctx, roleARN)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.accounts[roleARN] = a
		p.mu.Unlock()
		p.log.Info("account access ready", "account", a.ID, "partition", a.Partition, "role", roleARN)
		return a, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Account), nil
}

// KnownAccount returns the account id of roleARN ("" for the base
// credentials) once Account has opened it, without calling AWS.
func (p *Provider) KnownAccount(roleARN string) (string, bool) {
	if a := p.cached(roleARN); a != nil {
		return a.ID, true
	}
	return "", false
}

func (p *Provider) cached(roleARN string) *Account {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accounts[roleARN]
}

func (p *Provider) open(ctx context.Context, roleARN string) (*Account, error) {
	if roleARN == "" {
		return p.openBase(ctx)
	}
	return p.openRole(ctx, roleARN)
}

// openBase identifies the account of the base credentials. Without a
// configured region it asks STS in the commercial partition's global region.
func (p *Provider) openBase(ctx context.Context) (*Account, error) {
	part := partition.Partitions[0]
	region := p.base.Region
	if region == "" {
		region = part.GlobalRegion
	}
	client := sts.NewFromConfig(p.base, func(o *sts.Options) { o.Region = region })
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("get caller identity: %w", p.kind(err))
	}
	if arn, ok := partition.ParseARN(aws.ToString(out.Arn)); ok {
		if known, ok := partition.ByID(arn.Partition); ok {
			part = known
		}
	}
	return p.newAccount(aws.ToString(out.Account), part, "", p.base.Credentials), nil
}

func (p *Provider) openRole(ctx context.Context, roleARN string) (*Account, error) {
	arn, ok := partition.ParseARN(roleARN)
	if !ok || arn.Service != "iam" || len(arn.Account) != 12 || !strings.HasPrefix(arn.Resource, "role/") {
		return nil, fmt.Errorf("%w %q: want arn:<partition>:iam::<account>:role/<name>", ErrInvalidRoleARN, roleARN)
	}
	part, ok := partition.ByID(arn.Partition)
	if !ok {
		return nil, fmt.Errorf("%w %q: unknown partition %q", ErrInvalidRoleARN, roleARN, arn.Partition)
	}
	if p.opts.ExternalID == "" && !p.opts.AllowRoleWithoutExternalID {
		return nil, fmt.Errorf("assume role %s: %w: configure one and require it in the role's trust policy (condition on sts:ExternalId)",
			roleARN, ErrNoExternalID)
	}
	client := sts.NewFromConfig(p.base, func(o *sts.Options) { o.Region = part.GlobalRegion })
	session := "skymap-" + arn.Account
	if p.opts.AllowRoleWithoutExternalID {
		p.log.Warn("external id probe skipped by configuration", "role", roleARN)
	} else if err := p.probe(ctx, client, roleARN, arn.Account, session); err != nil {
		return nil, err
	}
	assume := stscreds.NewAssumeRoleProvider(client, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = session
		if p.opts.ExternalID != "" {
			o.ExternalID = aws.String(p.opts.ExternalID)
		}
	})
	creds := aws.NewCredentialsCache(recordedCredentials{assume, p.rec, arn.Account},
		func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = credentialExpiryWindow })
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("assume role %s: %w", roleARN, p.kind(err))
	}
	return p.newAccount(arn.Account, part, roleARN, creds), nil
}

// probe assumes the role without the external id, as the StackState agent
// does. Success means anyone who learns the role ARN can assume it: refuse.
// AccessDenied is what a trust policy requiring sts:ExternalId answers: accept.
func (p *Provider) probe(ctx context.Context, client *sts.Client, roleARN, account, session string) error {
	_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleARN),
		RoleSessionName: aws.String(session),
		DurationSeconds: aws.Int32(probeDuration),
	})
	if err == nil {
		err = fmt.Errorf("assume role %s: %w: require sts:ExternalId in the role's trust policy, or set aws.allow_role_without_external_id: true in the config (unsafe)",
			roleARN, ErrRoleWithoutExternalID)
		p.rec.Record(account, partition.Global, assumeRoleAPI, err)
		return err
	}
	if outcome, _ := Classify(err); outcome == model.OutcomeDenied {
		return nil
	}
	p.rec.Record(account, partition.Global, assumeRoleAPI, err)
	return fmt.Errorf("assume role %s: %w", roleARN, p.kind(err))
}

// kind redacts err and marks it with ErrAccessDenied or ErrUnreachable when it is one.
func (p *Provider) kind(err error) error {
	err = p.rec.redactErr(err)
	var send *smithyhttp.RequestSendError
	var netErr net.Error
	switch outcome, _ := Classify(err); {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case outcome == model.OutcomeDenied:
		return fmt.Errorf("%w: %w", ErrAccessDenied, err)
	case errors.As(err, &send), errors.As(err, &netErr):
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return err
}

// recordedCredentials records every assume-role (first and refreshes).
type recordedCredentials struct {
	aws.CredentialsProvider
	rec     *Recorder
	account string
}

func (r recordedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := r.CredentialsProvider.Retrieve(ctx)
	r.rec.Record(r.account, partition.Global, assumeRoleAPI, err)
	return c, err
}

func (p *Provider) newAccount(id string, part partition.Partition, roleARN string, creds aws.CredentialsProvider) *Account {
	return &Account{ID: id, Partition: part.ID, RoleARN: roleARN, p: p, part: part, creds: creds, configs: map[string]aws.Config{}}
}

// Config returns the cached aws.Config for a region of this account. Clients
// made from it share the account's credentials, wait for the token bucket of
// their (account, region, service) before every attempt, fail on an answer
// that is not whole (CheckAnswers) and record every call's outcome. For
// partition.Global the config is set to the partition's global region, while
// outcomes and buckets are kept under "global".
func (a *Account) Config(region string) aws.Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cfg, ok := a.configs[region]; ok {
		return cfg
	}
	cfg := a.p.base.Copy()
	cfg.Region = region
	if region == partition.Global {
		cfg.Region = a.part.GlobalRegion
	}
	cfg.Credentials = a.creds
	// Clipped, so that a caller appending to a copy never writes into another's.
	cfg.APIOptions = slices.Clip(append(slices.Clip(cfg.APIOptions), a.p.middlewares(a.ID, region)...))
	a.configs[region] = cfg
	return cfg
}

// Regions expands configured regions: partition.All becomes the regions
// enabled in the account (ec2:DescribeRegions, sorted), partition.Global and
// other names are kept. The order is stable and duplicates are removed.
func (a *Account) Regions(ctx context.Context, configured []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(names ...string) {
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	expanded := false
	for _, r := range configured {
		if r != partition.All {
			add(r)
			continue
		}
		if expanded {
			continue
		}
		expanded = true
		enabled, err := a.enabledRegions(ctx)
		if err != nil {
			return nil, err
		}
		add(enabled...)
	}
	return out, nil
}

func (a *Account) enabledRegions(ctx context.Context) ([]string, error) {
	a.mu.Lock()
	if a.enabled != nil && time.Since(a.enabledAt) < regionsTTL {
		out := slices.Clone(a.enabled)
		a.mu.Unlock()
		return out, nil
	}
	a.mu.Unlock()
	client := ec2.NewFromConfig(a.Config(a.part.GlobalRegion))
	out, err := client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("list enabled regions of account %s: %w", a.ID, a.p.kind(err))
	}
	var names []string
	for _, r := range out.Regions {
		if r.RegionName != nil && aws.ToString(r.OptInStatus) != "not-opted-in" {
			names = append(names, *r.RegionName)
		}
	}
	slices.Sort(names)
	a.mu.Lock()
	a.enabled, a.enabledAt = slices.Clone(names), time.Now()
	a.mu.Unlock()
	return names, nil
}
