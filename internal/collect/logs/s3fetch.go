package logs

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/model"
)

// Reading a time range of a component's delivered logs on demand: the
// objects whose keys say they may hold lines of the range are listed (a
// load balancer's day folders, a distribution's hours) and read in key
// order, which is time order, until the answer is complete or the bytes
// read reach MaxFetchBytes.

// elbSpread is how long before the end time in its key a load balancer's
// object may hold lines: AWS writes one every five minutes; twice that
// leaves room for late writes.
const elbSpread = 10 * time.Minute

// Locations returns where the delivered logs of c may be, as groups of
// Source "s3": for a load balancer, each bucket of logs.s3 of its kind in
// its region; for a distribution, each bucket of kind cloudfront. None
// for another component.
func (s *S3Logs) Locations(c *model.Component) []Group {
	kind, ok := componentKinds[c.Type]
	if !ok {
		return nil
	}
	var out []Group
	for _, b := range s.Buckets {
		if b.Kind != kind {
			continue
		}
		loc := S3Location{Bucket: b}
		if kind == KindCloudFront {
			id := distributionID(c)
			if id == "" {
				continue
			}
			loc.Stem = b.Prefix + id + "."
		} else {
			name, ok := elbStemName(kind, c.ID)
			if !ok || b.Region != c.Region {
				continue
			}
			loc.Stem, loc.Owner = name, c.Account
		}
		out = append(out, Group{Account: c.Account, Region: b.Region, Name: b.URL(), Source: SourceS3, S3: &loc})
	}
	return out
}

// fetch reads the lines of [from, to) of a location that contain filter
// (plain text; "" matches all): at most limit, oldest first, and whether
// the range holds, or may hold, more.
func (s *S3Logs) fetch(ctx context.Context, g Group, filter string, from, to time.Time, limit int) ([]Event, bool, GroupResult) {
	var gr GroupResult
	loc := g.S3
	api, err := s.Client(ctx, loc.Bucket)
	if err != nil {
		gr.Error = fmt.Sprintf("read %s: %v", loc.URL(), err)
		return nil, false, gr
	}
	objs, complete, err := listRange(ctx, api, *loc, from, to)
	if err != nil {
		gr.Error = err.Error()
		return nil, false, gr
	}
	more := !complete
	k := keeper{n: limit, oldest: true}
	rd := s.reader()
	defer s.readers.Put(rd)
	p := &lineParser{}
	budget := cmp.Or(s.MaxFetchBytes, DefaultMaxFetchBytes)
	var text int64
	var errs []string
objects:
	for i, o := range objs {
		if k.full && earliestLine(o.Object).After(k.bound) {
			more = true // what follows is newer than all kept
			break
		}
		if text >= budget || ctx.Err() != nil {
			gr.Unread, more = len(objs)-i, true
			break
		}
		st, err := readObject(ctx, api, loc.Bucket, o, rd, p, budget-text, func(at time.Time, line string) {
			if at.Before(from) || !at.Before(to) || !strings.Contains(line, filter) {
				return
			}
			if !k.wants(at) {
				k.dropped = true
				return
			}
			k.add(lineEntry{at: at, line: strings.Clone(line), obj: o})
		})
		text += st.text
		switch {
		case err != nil:
			errs = append(errs, s3Problem("s3:GetObject", "s3://"+loc.Bucket.Bucket+"/"+o.Key, err))
			if awsconn.IsDenied(err) { // the others would be refused alike
				gr.Unread, more = len(objs)-i-1, true
				break objects
			}
			continue
		case st.corrupt != nil:
			errs = append(errs, st.corrupt.Error())
		}
		gr.Objects++
		if st.cut {
			gr.Unread, more = len(objs)-i, true
			break
		}
	}
	entries := k.result()
	more = more || k.dropped
	events := make([]Event, 0, len(entries))
	for _, e := range entries {
		events = append(events, p.event(e, loc.Bucket))
	}
	if len(errs) > maxSamples {
		errs = append(errs[:maxSamples], fmt.Sprintf("and %d more", len(errs)-maxSamples))
	}
	gr.Events, gr.Error = len(events), strings.Join(errs, "; ")
	return events, more, gr
}

// earliestLine is the earliest time a line of an object may have, by its
// key.
func earliestLine(k ObjectKey) time.Time {
	if k.Kind == KindCloudFront {
		return k.Time
	}
	return k.Time.Add(-elbSpread)
}

// listRange lists, in key order, the objects of a location that may hold
// lines of [from, to); complete is false when a listing stopped at
// maxListPages.
func listRange(ctx context.Context, api S3API, loc S3Location, from, to time.Time) ([]*s3Object, bool, error) {
	var out []*s3Object
	complete := true
	list := func(prefix string) (bool, error) {
		past := false
		whole, err := listObjects(ctx, api, loc.Bucket, prefix, prefix+stemTime(loc.Kind, from), func(o *s3Object) bool {
			if !earliestLine(o.Object).Before(to) {
				past = true
				return false
			}
			if o.Object.Kind == loc.Kind {
				out = append(out, o)
			}
			return true
		})
		complete = complete && whole
		return past, err
	}
	if loc.Kind == KindCloudFront {
		_, err := list(loc.Stem)
		return out, complete, err
	}
	for day := utcDay(from); !day.After(to.Add(elbSpread)); day = day.AddDate(0, 0, 1) {
		past, err := list(elbDay(loc.Prefix, loc.Owner, loc.Region, day) + loc.Stem)
		if err != nil || past {
			return out, complete, err
		}
	}
	return out, complete, nil
}
