// Package awsconn is skymap's access to AWS: base credentials, assumed roles
// guarded by an ExternalId safety probe, one cached aws.Config per account and
// region, endpoint overrides, adaptive retry, a client-side token bucket per
// (account, region, service), a check that every answer is whole and a
// record of every call's outcome.
package awsconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"golang.org/x/sync/singleflight"
)

// Errors callers branch on. ErrNoExternalID, ErrRoleWithoutExternalID and
// ErrInvalidRoleARN are configuration errors: retrying will not fix them.
var (
	// ErrNoExternalID: a role is configured but no external id, and roles
	// without one are not allowed.
	ErrNoExternalID = errors.New("no external id configured")
	// ErrRoleWithoutExternalID: the safety probe assumed the role without the
	// external id, so anyone who knows the role ARN could (confused deputy).
	ErrRoleWithoutExternalID = errors.New("role can be assumed without an external id")
	// ErrInvalidRoleARN: the role ARN does not parse or names an unknown partition.
	ErrInvalidRoleARN = errors.New("invalid role arn")
	// ErrAccessDenied: AWS refused the call: a permission or a trust policy is missing.
	ErrAccessDenied = errors.New("access denied")
	// ErrUnreachable: no response came back from the endpoint.
	ErrUnreachable = errors.New("endpoint unreachable")
	// ErrIncompleteAnswer: AWS answered a call with success, but the answer
	// was empty, cut short, or not the document asked for (an HTML page).
	// The SDK retries the call; this is the error of its last attempt.
	ErrIncompleteAnswer = errors.New("incomplete answer")
	// ErrRepeatedPageToken: an answer named the page asked for as the next
	// page, so a paginator would read it forever. Retrying will not fix it.
	ErrRepeatedPageToken = errors.New("next page token repeats the page asked for")
)

// DefaultMaxAttempts is the number of attempts per call when Options.MaxAttempts is 0.
const DefaultMaxAttempts = 10

// credentialExpiryWindow is how long before expiry assumed-role credentials are refreshed.
const credentialExpiryWindow = 5 * time.Minute

// Options configure a Provider. The zero value means: the SDK's default
// credential chain, no endpoint override, DefaultMaxAttempts, no request
// timeout, DefaultLimits, a discarding logger and a new Recorder.
type Options struct {
	// AccessKeyID and SecretAccessKey are static keys; both empty selects the
	// SDK's default credential chain.
	AccessKeyID, SecretAccessKey string
	// ExternalID is sent with every AssumeRole.
	ExternalID string
	// AllowRoleWithoutExternalID skips the safety probe (unsafe opt-out).
	AllowRoleWithoutExternalID bool
	// EndpointURL overrides the endpoint of every service. The SDK's own
	// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> keep working; this key
	// wins over AWS_ENDPOINT_URL, loses to AWS_ENDPOINT_URL_<SERVICE>.
	EndpointURL string
	// Endpoints overrides one service's endpoint, keyed by the SDK service id
	// in lower case with spaces as underscores ("ec2", "s3", "cloudwatch_logs").
	// It wins over EndpointURL and loses to AWS_ENDPOINT_URL_<SERVICE> and the
	// shared config file's services section. The SDK ignores it while
	// AWS_ENDPOINT_URL is set without AWS_ENDPOINT_URL_<SERVICE>.
	Endpoints map[string]string
	// MaxAttempts is the number of attempts per call, retries included.
	MaxAttempts int
	// RequestTimeout bounds each attempt's connect, TLS handshake, wait for
	// the response headers, and each pause while reading the body; a slow but
	// progressing body is not cut off. 0 means none. Unused with HTTPClient.
	RequestTimeout time.Duration
	// HTTPClient, when set, sends every request.
	HTTPClient aws.HTTPClient
	// Logger receives state changes (account access ready, probe skipped).
	Logger *slog.Logger
	// Recorder receives the outcome of every call.
	Recorder *Recorder
	// OnCall, when set, is told of every call once its last attempt ends
	// (self-metrics count them); a call its caller cancelled is not told.
	// It may be called from several goroutines at once.
	OnCall func(Call)
	// Limits are the token buckets per service, keyed like Endpoints, with
	// AnyService for the others; nil means DefaultLimits.
	Limits map[string]Limit
	// Now is the clock of a new Recorder; nil means time.Now.
	Now func() time.Time
}

// Provider hands out access to accounts, built on one base configuration.
// It is safe for concurrent use.
type Provider struct {
	base     aws.Config
	opts     Options
	log      *slog.Logger
	rec      *Recorder
	limiters *limiters

	mu       sync.Mutex
	accounts map[string]*Account // by role ARN, "" for the base credentials
	opening  singleflight.Group
}

// New loads the base configuration. It calls no AWS API.
func New(ctx context.Context, o Options) (*Provider, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Recorder == nil {
		o.Recorder = NewRecorder(o.Now)
	}
	if o.Limits == nil {
		o.Limits = DefaultLimits
	}
	o.Recorder.addSecrets(o.AccessKeyID, o.SecretAccessKey, o.ExternalID)

	maxAttempts := o.MaxAttempts
	load := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return newRetryer(maxAttempts) }),
	}
	if o.AccessKeyID != "" {
		load = append(load, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")))
	}
	if c := httpClient(o); c != nil {
		load = append(load, config.WithHTTPClient(c))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", o.Recorder.redactErr(err))
	}
	if cfg.Credentials != nil {
		cfg.Credentials = baseCredentials{cfg.Credentials}
	}
	// In the base, so that STS's answers are checked too.
	cfg.APIOptions = append(cfg.APIOptions, CheckAnswers)
	if o.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(o.EndpointURL)
	}
	if len(o.Endpoints) > 0 {
		cfg.ConfigSources = append(slices.Clip(cfg.ConfigSources), newServiceEndpoints(o.Endpoints))
	}
	return &Provider{
		base:     cfg,
		opts:     o,
		log:      o.Logger,
		rec:      o.Recorder,
		limiters: newLimiters(o.Limits),
		accounts: map[string]*Account{},
	}, nil
}

// Recorder returns where the outcomes of this provider's calls go.
func (p *Provider) Recorder() *Recorder { return p.rec }

func (o Options) validate() error {
	var errs []error
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		errs = append(errs, errors.New("static credentials need both an access key id and a secret access key"))
	}
	if n := len(o.ExternalID); n != 0 && (n < 2 || n > 1224) {
		errs = append(errs, fmt.Errorf("external id: length %d, want 2 to 1224 characters", n))
	}
	if o.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("max attempts %d: must not be negative", o.MaxAttempts))
	}
	if o.RequestTimeout < 0 {
		errs = append(errs, fmt.Errorf("request timeout %s: must not be negative", o.RequestTimeout))
	}
	if o.EndpointURL != "" {
		if err := checkEndpoint(o.EndpointURL); err != nil {
			errs = append(errs, fmt.Errorf("endpoint url: %w", err))
		}
	}
	for _, svc := range slices.Sorted(maps.Keys(o.Endpoints)) {
		if err := checkEndpoint(o.Endpoints[svc]); err != nil {
			errs = append(errs, fmt.Errorf("endpoints[%s]: %w", svc, err))
		}
	}
	return errors.Join(errs...)
}
