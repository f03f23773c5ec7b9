package logs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/skymap/skymap/internal/lines"
)

// Reading one delivered log object: streamed through a lines.Reader (its
// buffers bound the memory, whatever the object's size), each line parsed
// where it lies in the buffer, and only the lines an answer keeps copied.

// S3API is what S3Logs calls of S3.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// s3Object is a delivered log object a listing found.
type s3Object struct {
	Key          string
	Object       ObjectKey
	LastModified time.Time
}

// lineEntry is a line an answer may keep.
type lineEntry struct {
	at   time.Time
	line string // a copy: its own memory
	obj  *s3Object
}

// objectStats counts what reading one object gave.
type objectStats struct {
	lines, records, malformed, text int64
	// samples describe the first malformed lines: "s3://<bucket>/<key>
	// line <n>: <why>".
	samples []string
	// corrupt is the object's *lines.CorruptError when it ends in damaged
	// or truncated gzip data: the lines before were read.
	corrupt error
	// cut says reading stopped at the most text asked for.
	cut bool
}

// maxSamples bounds the malformed lines described per object and kept per
// bucket.
const maxSamples = 10

// lineParser parses the lines of one kind, reusing its field list.
type lineParser struct {
	kind    Kind
	scratch []string
	alb     ALBRecord
	elb     ELBRecord
	cf      CloudFrontRecord
}

// parse parses line and returns its time; ErrHeader for a header line.
// The record's strings point into line.
func (p *lineParser) parse(line string) (time.Time, error) {
	switch p.kind {
	case KindALB:
		err := parseALB(line, &p.alb, &p.scratch)
		return p.alb.Time, err
	case KindELB:
		err := parseELB(line, &p.elb, &p.scratch)
		return p.elb.Time, err
	case KindCloudFront:
		err := parseCloudFront(line, &p.cf, &p.scratch)
		return p.cf.Time, err
	}
	return time.Time{}, fmt.Errorf("%w: no parser for logs of kind %q", ErrMalformed, p.kind)
}

// event makes the Event of a kept line, with its record's fields.
func (p *lineParser) event(e lineEntry, bucket Bucket) Event {
	ev := Event{Timestamp: e.at, IngestionTime: e.obj.LastModified.UTC(), Source: SourceS3, Group: bucket.URL(), Stream: e.obj.Key}
	ev.Message, ev.InvalidUTF8, ev.Truncated = Clean(e.line)
	if ev.Truncated {
		ev.Size = len(e.line)
	}
	if _, err := p.parse(e.line); err != nil {
		return ev
	}
	switch p.kind {
	case KindALB:
		r := &p.alb
		ev.Fields = map[string]any{"type": r.Type, "client": r.Client, "target": r.Target, "elb_status_code": r.ELBStatus,
			"target_status_code": r.TargetStatus, "received_bytes": r.ReceivedBytes, "sent_bytes": r.SentBytes, "request": r.Request,
			"user_agent": r.UserAgent, "target_group_arn": r.TargetGroupARN, "target_processing_time": r.TargetSeconds}
		if r.ErrorReason != "" {
			ev.Fields["error_reason"] = r.ErrorReason
		}
	case KindELB:
		r := &p.elb
		ev.Fields = map[string]any{"client": r.Client, "backend": r.Backend, "elb_status_code": r.ELBStatus,
			"backend_status_code": r.BackendStatus, "received_bytes": r.ReceivedBytes, "sent_bytes": r.SentBytes,
			"request": r.Request, "user_agent": r.UserAgent, "backend_processing_time": r.BackendSeconds}
	case KindCloudFront:
		r := &p.cf
		ev.Fields = map[string]any{"x_edge_location": r.EdgeLoc, "sc_bytes": r.Bytes, "c_ip": r.ClientIP, "cs_method": r.Method,
			"cs_host": r.Host, "cs_uri_stem": r.URI, "sc_status": r.Status, "x_edge_result_type": r.ResultType, "time_taken": r.TimeTaken}
	}
	return ev
}

// readObject streams one object through rd and calls each with the time
// and text of every record: the text points into rd's buffer, valid only
// during the call (copy what is kept). A line that is not a record is
// counted and described; a gzip stream that breaks off ends the object
// with stats.corrupt set. With maxText > 0 reading stops past that much
// text (stats.cut). The error is GetObject's, or a read error of the
// body: the object was not read whole and may be read again.
func readObject(ctx context.Context, api S3API, bucket Bucket, obj *s3Object, rd *lines.Reader, p *lineParser, maxText int64,
	each func(at time.Time, line string)) (objectStats, error) {
	var st objectStats
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket.Bucket), Key: aws.String(obj.Key)})
	if err != nil {
		return st, err
	}
	defer out.Body.Close()
	name := "s3://" + bucket.Bucket + "/" + obj.Key
	rd.Reset(out.Body, name)
	p.kind = obj.Object.Kind
	for {
		if maxText > 0 && rd.TextBytes() > maxText {
			st.cut = true
			break
		}
		l, ok := rd.Next()
		if !ok {
			break
		}
		st.lines++
		if l == nil {
			st.malformedLine(name, rd.LineNo(), fmt.Sprintf("longer than %d bytes", rd.MaxLine()))
			continue
		}
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		if len(l) == 0 {
			continue
		}
		// The line is parsed where it lies: what the parsers return
		// (times, errors) holds none of its bytes, and each copies what
		// it keeps.
		line := unsafe.String(unsafe.SliceData(l), len(l))
		at, err := p.parse(line)
		switch {
		case errors.Is(err, ErrHeader):
			continue
		case err != nil:
			st.malformedLine(name, rd.LineNo(), err.Error())
			continue
		}
		st.records++
		each(at.UTC(), line)
	}
	st.text = rd.TextBytes()
	if st.cut {
		return st, nil
	}
	var ce *lines.CorruptError
	switch err := rd.Err(); {
	case errors.As(err, &ce):
		st.corrupt = err
	case err != nil:
		return st, err
	}
	return st, nil
}

// malformedLine counts a line that is no record, describing the first.
func (st *objectStats) malformedLine(name string, no int64, why string) {
	st.malformed++
	if len(st.samples) < maxSamples {
		st.samples = append(st.samples, fmt.Sprintf("%s line %d: %s", name, no, why))
	}
}

// keeper keeps the n newest, or the n oldest, of the lines it is given,
// holding at most 2n at a time.
type keeper struct {
	n      int
	oldest bool
	all    []lineEntry
	// bound is the time past which a line is not kept (before it for
	// the newest, after it for the oldest), once n were kept.
	bound time.Time
	full  bool
	// dropped says lines were left out.
	dropped bool
}

// wants tells whether a line at t may be kept: one that may not is left
// out without a copy.
func (k *keeper) wants(t time.Time) bool {
	if !k.full {
		return true
	}
	if k.oldest {
		return !t.After(k.bound)
	}
	return !t.Before(k.bound)
}

// add keeps a line when it is among the n wanted.
func (k *keeper) add(e lineEntry) {
	if !k.wants(e.at) {
		k.dropped = true
		return
	}
	k.all = append(k.all, e)
	if len(k.all) >= 2*k.n {
		k.trim()
	}
}

// trim sorts the lines and drops those past the n wanted.
func (k *keeper) trim() {
	slices.SortStableFunc(k.all, func(a, b lineEntry) int { return a.at.Compare(b.at) })
	if len(k.all) <= k.n {
		return
	}
	k.dropped = true
	if k.oldest {
		clear(k.all[k.n:])
		k.all = k.all[:k.n]
		k.bound = k.all[k.n-1].at
	} else {
		k.all = append(k.all[:0], k.all[len(k.all)-k.n:]...)
		clear(k.all[k.n:cap(k.all)])
		k.bound = k.all[0].at
	}
	k.full = true
}

// result returns the lines kept, oldest first.
func (k *keeper) result() []lineEntry {
	k.trim()
	return k.all
}
