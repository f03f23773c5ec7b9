package events

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func gz(t *testing.T, parts ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range parts { // one gzip member each
		w := gzip.NewWriter(&b)
		w.Write([]byte(p))
		w.Close()
	}
	return b.Bytes()
}

const (
	evA = `{"version":"0","id":"a","detail-type":"AWS API Call via CloudTrail","source":"aws.sqs","account":"123456789012",` +
		`"time":"2026-11-22T10:00:00Z","region":"eu-west-1","resources":[],"detail":{"eventSource":"sqs.amazonaws.com",` +
		`"eventName":"DeleteQueue","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",` +
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/zoë"},` +
		`"requestParameters":{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/Zürich-東京"}}}`
	evB = `{"version":"0","id":"b","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2",` +
		`"account":"123456789012","time":"2026-11-22T10:00:01Z","region":"eu-west-1",` +
		`"resources":["arn:aws:ec2:eu-west-1:123456789012:instance/i-1"],"detail":{"instance-id":"i-1","state":"terminated"}}`
)

func collect(t *testing.T, data []byte) ([]Event, int, error) {
	t.Helper()
	var got []Event
	n, err := Decode(bytes.NewReader(data), func(e Event) error { got = append(got, e); return nil })
	if n != len(got) {
		t.Errorf("Decode returned %d, delivered %d", n, len(got))
	}
	return got, n, err
}

func TestDecode(t *testing.T) {
	real, err := os.ReadFile("testdata/firehose-eventbridge.gz")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		wantIDs []string
		wantErr error // nil, ErrTruncated, ErrNotAnEvent, or any DecodeError (errAny)
		errAt   int
	}{
		{name: "recorded Firehose object", data: real, wantIDs: []string{"160491e9-ad07-ae81-e972-ef284cc5c75d", "d0694a7a-9fbb-ca01-5ca7-cf60cb329d69"}},
		{name: "concatenated, no separator", data: []byte(evA + evB), wantIDs: []string{"a", "b"}},
		{name: "newline separated", data: []byte(evA + "\n" + evB + "\n"), wantIDs: []string{"a", "b"}},
		{name: "gzip", data: gz(t, evA+evB), wantIDs: []string{"a", "b"}},
		{name: "gzip of two members", data: gz(t, evA, evB), wantIDs: []string{"a", "b"}},
		{name: "empty", data: nil},
		{name: "one brace", data: []byte("{"), wantErr: ErrTruncated, errAt: 0},
		{name: "empty object", data: []byte("{}"), wantErr: ErrNotAnEvent, errAt: 0},
		{name: "cut in the second event", data: []byte(evA + evB[:40]), wantIDs: []string{"a"}, wantErr: ErrTruncated, errAt: 1},
		{name: "invalid JSON in the middle", data: []byte(evA + `{"id":x}` + evB), wantIDs: []string{"a"}, wantErr: errAny, errAt: 1},
		{name: "a list is no event", data: []byte(evA + `[1]`), wantIDs: []string{"a"}, wantErr: ErrNotAnEvent, errAt: 1},
		{name: "truncated gzip", data: gz(t, evA+evB)[:60], wantErr: ErrTruncated, errAt: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := collect(t, tt.data)
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if d := cmp.Diff(tt.wantIDs, ids); d != "" {
				t.Errorf("events delivered (-want +got):\n%s", d)
			}
			var de *DecodeError
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("err = %v", err)
			case tt.wantErr == nil:
			case !errors.As(err, &de):
				t.Errorf("err = %v, want a *DecodeError", err)
			case de.Index != tt.errAt:
				t.Errorf("error at event %d, want %d: %v", de.Index, tt.errAt, err)
			case tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any decode error")

func TestDecodeFieldsAndUntrustedText(t *testing.T) {
	got, _, err := collect(t, []byte(evA+evB))
	if err != nil {
		t.Fatal(err)
	}
	a, b := got[0], got[1]
	if a.EventSource != "sqs.amazonaws.com" || a.EventName != "DeleteQueue" || a.Actor != "arn:aws:iam::123456789012:user/zoë" ||
		a.SourceIP != "203.0.113.7" || a.Account != "123456789012" || a.Region != "eu-west-1" || a.Time.IsZero() {
		t.Errorf("API call event = %+v", a)
	}
	if !strings.Contains(string(a.RequestParameters), "Zürich-東京") {
		t.Errorf("request parameters lost their text: %s", a.RequestParameters)
	}
	if b.DetailType != "EC2 Instance State-change Notification" || b.EventName != "" || !strings.Contains(string(b.Detail), `"terminated"`) {
		t.Errorf("state-change event = %+v", b)
	}
}

func TestDecodeStopsOnCallbackError(t *testing.T) {
	stop := errors.New("store down")
	calls := 0
	n, err := Decode(strings.NewReader(evA+evB), func(Event) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 || n != 0 {
		t.Errorf("Decode = %d, %v after %d calls; want 0, the callback's error, 1 call", n, err, calls)
	}
}

func TestParseCloudTrailRecord(t *testing.T) {
	// A bare record, as LookupEvents returns in CloudTrailEvent.
	e, err := Parse([]byte(`{"eventVersion":"1.08","eventID":"r1","eventTime":"2026-11-22T10:00:00Z",` +
		`"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1",` +
		`"recipientAccountId":"111111111111","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/ops/ann"},` +
		`"responseElements":{"instancesSet":{"items":[{"instanceId":"i-9"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Event{ID: "r1", DetailType: APICall, Source: "aws.ec2", Account: "111111111111", Region: "us-east-1",
		EventSource: "ec2.amazonaws.com", EventName: "RunInstances", Actor: "arn:aws:sts::111111111111:assumed-role/ops/ann",
		SourceIP: "198.51.100.1"}
	e.Time, e.RequestParameters, e.ResponseElements = want.Time, nil, nil
	if d := cmp.Diff(want, e); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
	if _, err := Parse([]byte(`{"hello":"world"}`)); !errors.Is(err, ErrNotAnEvent) {
		t.Errorf("Parse of a non-event = %v, want ErrNotAnEvent", err)
	}
}
