package awsconn

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// serviceEndpoints supplies Options.Endpoints to the SDK. Appended to
// aws.Config.ConfigSources, it is consulted by every service client's
// resolveBaseEndpoint exactly as the SDK's own environment and shared config
// sources are (AWS_ENDPOINT_URL_<SERVICE>, the services section), after them.
type serviceEndpoints map[string]string

// serviceBaseEndpointProvider is the SDK's internal
// configsources.ServiceBaseEndpointProvider, which cannot be imported.
type serviceBaseEndpointProvider interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

var _ serviceBaseEndpointProvider = serviceEndpoints(nil)

func newServiceEndpoints(byService map[string]string) serviceEndpoints {
	e := make(serviceEndpoints, len(byService))
	for svc, u := range byService {
		e[serviceKey(svc)] = u
	}
	return e
}

// GetServiceBaseEndpoint returns the endpoint configured for an SDK service id.
func (e serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	u, ok := e[serviceKey(sdkID)]
	return u, ok, nil
}

// NewS3 returns an S3 client for cfg. Whenever an endpoint override applies
// to S3 (Options.EndpointURL or Endpoints["s3"], AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_S3, the shared config file) it uses path-style
// addressing: virtual-hosted style would look up <bucket>.127.0.0.1. optFns
// run afterwards and may change that.
func NewS3(cfg aws.Config, optFns ...func(*s3.Options)) *s3.Client {
	pathStyle := func(o *s3.Options) {
		// The SDK has resolved every override into BaseEndpoint before options run.
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		// Objects without a checksum (moto's; and AWS's uploaded without
		// one) are normal: the SDK must not write a line to stderr for
		// each, past skymap's own logger.
		o.DisableLogOutputChecksumValidationSkipped = true
	}
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){pathStyle}, optFns...)...)
}

func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want http(s)://host[:port]", s)
	}
	return nil
}

// newRetryer is the SDK's adaptive mode: it backs off and slows its sending
// rate on throttling. The retry-token bucket is disabled so that a throttled
// scan waits and retries instead of failing early for lack of retry tokens.
func newRetryer(maxAttempts int) aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			so.RateLimiter = ratelimit.None
		})
	})
}

// httpClient returns the client to configure, or nil for the SDK's default.
func httpClient(o Options) aws.HTTPClient {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	d := o.RequestTimeout
	if d == 0 {
		return nil
	}
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(dl *net.Dialer) { dl.Timeout = d }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = d
			tr.ResponseHeaderTimeout = d
		}).
		WithReadTimeout(d)
}
