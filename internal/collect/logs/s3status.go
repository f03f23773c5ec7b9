package logs

import (
	"slices"
	"time"
)

// S3Status counts what S3Logs did with one bucket and prefix.
type S3Status struct {
	Bucket
	// Objects were read, Bytes their text (decompressed); Lines were
	// read of them, Records were entries, Malformed were not (see
	// LastMalformed); Corrupt objects broke off (truncated or damaged
	// gzip) and were read up to the damage.
	Objects   int64 `json:"objects_read"`
	Bytes     int64 `json:"bytes"`
	Lines     int64 `json:"lines"`
	Records   int64 `json:"records"`
	Malformed int64 `json:"malformed_lines"`
	Corrupt   int64 `json:"corrupt_objects"`
	// Unmatched objects are of load balancers or distributions that are
	// not in the map: listed, counted, not read. No error.
	Unmatched int64 `json:"unmatched_objects"`
	// Errors count the polls and objects that failed; LastError is the
	// last, naming the IAM action and the bucket (s3:ListBucket on
	// s3://...: not authorized ...).
	Errors    int64  `json:"errors"`
	LastError string `json:"last_error,omitempty"`
	// LastMalformed describes the last malformed lines: object key, line
	// number and why.
	LastMalformed []string  `json:"last_malformed,omitempty"`
	LastPoll      time.Time `json:"last_poll,omitzero"`
	LastSuccess   time.Time `json:"last_success,omitzero"`
}

// fail records a failure in a poll's counts.
func (st *S3Status) fail(msg string) {
	st.Errors++
	st.LastError = msg
}

// count adds what reading one object gave to a poll's counts.
func (st *S3Status) count(o objectStats) {
	st.Lines += o.lines
	st.Records += o.records
	st.Malformed += o.malformed
	st.Bytes += o.text
	if o.corrupt != nil {
		st.Corrupt++
		st.fail(o.corrupt.Error())
	}
	st.LastMalformed = append(st.LastMalformed, o.samples...)
	if n := len(st.LastMalformed); n > maxSamples {
		st.LastMalformed = st.LastMalformed[n-maxSamples:]
	}
}

// merge adds a poll's counts to the bucket's status.
func (s *S3Logs) merge(key string, b Bucket, d S3Status, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == nil {
		s.status = map[string]*S3Status{}
	}
	st := s.status[key]
	if st == nil {
		st = &S3Status{Bucket: b}
		s.status[key] = st
	}
	st.Objects += d.Objects
	st.Bytes += d.Bytes
	st.Lines += d.Lines
	st.Records += d.Records
	st.Malformed += d.Malformed
	st.Corrupt += d.Corrupt
	st.Unmatched += d.Unmatched
	st.Errors += d.Errors
	if d.LastError != "" {
		st.LastError = d.LastError
		s.logger().Debug("delivered logs", "bucket", b.URL(), "err", d.LastError)
	}
	st.LastMalformed = append(st.LastMalformed, d.LastMalformed...)
	if n := len(st.LastMalformed); n > maxSamples {
		st.LastMalformed = slices.Clone(st.LastMalformed[n-maxSamples:])
	}
	st.LastPoll = now
	if d.Errors == 0 {
		st.LastSuccess = now
	}
}

// S3Statuses returns what was read per bucket and prefix, in the order
// of Buckets (those not polled yet are left out).
func (s *S3Logs) S3Statuses() []S3Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]S3Status, 0, len(s.status))
	for _, b := range s.Buckets {
		if st := s.status[cursorKey(b)]; st != nil {
			c := *st
			c.LastMalformed = slices.Clone(st.LastMalformed)
			out = append(out, c)
		}
	}
	return out
}
