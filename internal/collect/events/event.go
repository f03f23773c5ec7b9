// Package events turns AWS change events into targeted topology updates:
// EventBridge events (delivered by Firehose as gzip objects of concatenated
// JSON in the log bucket, or through SQS) and CloudTrail records (the
// LookupEvents fallback). This file is the event model; decode.go reads
// event streams; mapping.go says what each event changes.
package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event is one change event, whichever way it came: an EventBridge event
// (its envelope fields set) or a bare CloudTrail record (wrapped as the
// "AWS API Call via CloudTrail" event EventBridge would have made of it).
type Event struct {
	// ID is the EventBridge event id, else the CloudTrail eventID.
	ID string
	// DetailType is EventBridge's detail-type, e.g. "AWS API Call via
	// CloudTrail" or "EC2 Instance State-change Notification".
	DetailType string
	// Source is EventBridge's source, e.g. "aws.ec2".
	Source          string
	Account, Region string
	Time            time.Time
	// Resources are the ARNs EventBridge lists for the event.
	Resources []string

	// CloudTrail fields, set for API calls.
	EventSource string // e.g. "ec2.amazonaws.com"
	EventName   string // e.g. "RunInstances"
	// Actor is who made the call: userIdentity.arn (or the invoking
	// service), SourceIP the caller's address or service name.
	Actor, SourceIP string
	// ErrorCode is set when the call failed: it changed nothing.
	ErrorCode string
	// RequestParameters and ResponseElements are the call's own, as JSON.
	RequestParameters, ResponseElements json.RawMessage

	// Detail is the whole detail object, for events other than API calls
	// (a state-change notification's instance-id and state).
	Detail json.RawMessage
}

// APICall is the detail-type of CloudTrail records delivered by EventBridge.
const APICall = "AWS API Call via CloudTrail"

// ErrNotAnEvent reports JSON that is neither an EventBridge event nor a
// CloudTrail record.
var ErrNotAnEvent = errors.New("not an EventBridge event or CloudTrail record")

type envelope struct {
	Version    string `json:"version"`
	ID         string `json:"id"`
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
	Account    string `json:"account"`
	Time       string `json:"time"`
	Region     string `json:"region"`
	// Resources is EventBridge's list of ARNs; a bare CloudTrail record
	// has its own "resources" (objects), read only as an envelope's.
	Resources json.RawMessage `json:"resources"`
	Detail    json.RawMessage `json:"detail"`
}

type trailRecord struct {
	EventID      string `json:"eventID"`
	EventTime    string `json:"eventTime"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	AWSRegion    string `json:"awsRegion"`
	SourceIP     string `json:"sourceIPAddress"`
	ErrorCode    string `json:"errorCode"`
	Recipient    string `json:"recipientAccountId"`
	UserIdentity struct {
		Type      string `json:"type"`
		ARN       string `json:"arn"`
		AccountID string `json:"accountId"`
		InvokedBy string `json:"invokedBy"`
	} `json:"userIdentity"`
	RequestParameters json.RawMessage `json:"requestParameters"`
	ResponseElements  json.RawMessage `json:"responseElements"`
}

// Parse reads one event: an EventBridge event, or a bare CloudTrail record
// (as LookupEvents returns in CloudTrailEvent).
func Parse(raw []byte) (Event, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Event{}, fmt.Errorf("parse event: %w", err)
	}
	if env.DetailType != "" || env.Source != "" || looksLikeRecord(env.Detail) {
		e := Event{ID: env.ID, DetailType: env.DetailType, Source: env.Source, Account: env.Account,
			Region: env.Region, Detail: env.Detail}
		if len(env.Resources) > 0 {
			if err := json.Unmarshal(env.Resources, &e.Resources); err != nil {
				return Event{}, fmt.Errorf("parse event %s: resources: %w", env.ID, err)
			}
		}
		e.Time, _ = time.Parse(time.RFC3339, env.Time)
		if env.DetailType == APICall || looksLikeRecord(env.Detail) {
			var r trailRecord
			if err := json.Unmarshal(env.Detail, &r); err != nil {
				return Event{}, fmt.Errorf("parse event %s: detail: %w", env.ID, err)
			}
			e.fromRecord(r)
		}
		return e, nil
	}
	var r trailRecord
	if err := json.Unmarshal(raw, &r); err != nil || r.EventName == "" || r.EventSource == "" {
		return Event{}, ErrNotAnEvent
	}
	e := Event{ID: r.EventID, DetailType: APICall, Source: sourceOf(r.EventSource),
		Account: r.Recipient, Region: r.AWSRegion}
	e.Time, _ = time.Parse(time.RFC3339, r.EventTime)
	e.fromRecord(r)
	if e.Account == "" {
		e.Account = r.UserIdentity.AccountID
	}
	return e, nil
}

// fromRecord copies a CloudTrail record's fields.
func (e *Event) fromRecord(r trailRecord) {
	e.EventSource, e.EventName, e.SourceIP, e.ErrorCode = r.EventSource, r.EventName, r.SourceIP, r.ErrorCode
	e.Actor = r.UserIdentity.ARN
	if e.Actor == "" {
		e.Actor = r.UserIdentity.InvokedBy
	}
	e.RequestParameters, e.ResponseElements = r.RequestParameters, r.ResponseElements
	if e.ID == "" {
		e.ID = r.EventID
	}
	if e.Region == "" {
		e.Region = r.AWSRegion
	}
	if e.Time.IsZero() {
		e.Time, _ = time.Parse(time.RFC3339, r.EventTime)
	}
}

// looksLikeRecord tells whether an event's detail is a CloudTrail record
// (some pipelines relabel the detail-type).
func looksLikeRecord(detail json.RawMessage) bool {
	var probe struct {
		EventSource string `json:"eventSource"`
		EventName   string `json:"eventName"`
	}
	return json.Unmarshal(detail, &probe) == nil && probe.EventSource != "" && probe.EventName != ""
}

// sourceOf is EventBridge's source for a CloudTrail event source:
// "ec2.amazonaws.com" -> "aws.ec2".
func sourceOf(eventSource string) string {
	for i := 0; i < len(eventSource); i++ {
		if eventSource[i] == '.' {
			return "aws." + eventSource[:i]
		}
	}
	return "aws." + eventSource
}
