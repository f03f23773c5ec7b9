package flowlogs

import (
	"cmp"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Category groups a source's problems as ThousandEyes' AWS integration
// does.
type Category string

// The categories.
const (
	// Subscribe: the queue cannot be read (receive denied, queue missing)
	// or its messages cannot be deleted or understood.
	Subscribe Category = "subscribe"
	// LogDownload: a bucket cannot be listed, an object read or deleted,
	// or an object is too big.
	LogDownload Category = "logDownload"
	// LogParse: an object's records cannot be read (missing fields,
	// corrupt compression, a bad header).
	LogParse Category = "logParse"
	// LogFilter: records were dropped on purpose, e.g. from accounts not
	// monitored; the handler reports them with Report.
	LogFilter Category = "logFilter"
)

// Severity says whether a problem loses data (error) or not (warning).
type Severity string

// The severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one thing that went wrong, as the latest of its kind: a
// source keeps one per (Category, Bucket, Key), counting repeats.
type Problem struct {
	Category Category `json:"category"`
	Severity Severity `json:"severity"`
	Bucket   string   `json:"bucket,omitempty"`
	// Key is the object's, "message <id>" for an SQS message that names
	// no object, "" for a problem of the bucket or queue itself.
	Key    string `json:"key,omitempty"`
	Detail string `json:"detail"`
	// Fields are the missing fields of a logParse problem.
	Fields []string `json:"fields,omitempty"`
	// Time is when it last happened (set by Report when zero).
	Time time.Time `json:"time"`
	// Count is how often it happened (Report adds 1 when 0: a handler
	// reporting filtered records gives their number).
	Count int64 `json:"count"`
}

// Status is a snapshot of a source's state.
type Status struct {
	// Source is "s3://<bucket>" or the queue URL.
	Source string `json:"source"`
	// Objects were handled (committed), Bytes their sizes; Records is
	// what the handler counted (AddRecords), 0 when it does not.
	Objects int64 `json:"objects"`
	Bytes   int64 `json:"bytes"`
	Records int64 `json:"records"`
	// Skipped objects were committed already (Handler.Done); Deleted were
	// removed from S3 after commit; Ignored are keys that are no flow
	// logs (or of another bucket); Failed objects were given up on and
	// are kept in S3 (see Problems).
	Skipped int64 `json:"skipped"`
	Deleted int64 `json:"deleted"`
	Ignored int64 `json:"ignored"`
	Failed  int64 `json:"failed"`
	// Messages were received from the queue, MessagesDeleted deleted
	// (QueueSource).
	Messages        int64 `json:"messages,omitempty"`
	MessagesDeleted int64 `json:"messages_deleted,omitempty"`
	// LastPoll is when the last poll ended, LastSuccess when one last
	// ended without a problem of the source itself (listing, receiving).
	LastPoll    time.Time `json:"last_poll,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Problems are the latest problems, newest first, at most maxProblems.
	Problems []Problem `json:"problems"`
}

// maxProblems bounds the problems a source keeps.
const maxProblems = 100

// book keeps a source's status; it is safe for concurrent use. Its
// exported methods are the sources' own.
type book struct {
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	st       Status
	problems map[problemKey]*Problem
}

type problemKey struct {
	category    Category
	bucket, key string
}

func newBook(source string, o Options) book {
	return book{log: o.Logger, now: o.Now, st: Status{Source: source}, problems: map[problemKey]*Problem{}}
}

// Report records a problem: a handler reports filtered records (LogFilter,
// Count = how many) with it, and sources their own problems. The latest
// problem of each category, bucket and key is kept, with the
// count of all; past maxProblems the oldest go. A new problem is logged
// once.
func (b *book) Report(p Problem) {
	if p.Time.IsZero() {
		p.Time = b.now().UTC()
	}
	if p.Count <= 0 {
		p.Count = 1
	}
	if p.Severity == "" {
		p.Severity = SeverityWarning
	}
	k := problemKey{p.Category, p.Bucket, p.Key}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.problems[k]; ok {
		p.Count += old.Count
		*old = p
		return
	}
	b.problems[k] = &p
	b.log.Warn("flow logs", "category", p.Category, "severity", p.Severity, "bucket", p.Bucket, "key", p.Key,
		"detail", p.Detail)
	if len(b.problems) > maxProblems {
		var oldest problemKey
		first := true
		for k, q := range b.problems {
			if first || q.Time.Before(b.problems[oldest].Time) {
				oldest, first = k, false
			}
		}
		delete(b.problems, oldest)
	}
}

// AddRecords counts records the handler read, for the status.
func (b *book) AddRecords(n int64) {
	b.mu.Lock()
	b.st.Records += n
	b.mu.Unlock()
}

// Status returns a snapshot of the source's status.
func (b *book) Status() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.st
	st.Problems = make([]Problem, 0, len(b.problems))
	for _, p := range b.problems {
		q := *p
		q.Fields = slices.Clone(p.Fields)
		st.Problems = append(st.Problems, q)
	}
	slices.SortFunc(st.Problems, func(a, b Problem) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.Key, b.Key))
	})
	return st
}

// resolve drops the problem of a bucket or queue (Key "") once what failed
// works again.
func (b *book) resolve(c Category, bucket string) {
	b.mu.Lock()
	delete(b.problems, problemKey{c, bucket, ""})
	b.mu.Unlock()
}

// update changes the counters under the lock.
func (b *book) update(f func(st *Status)) {
	b.mu.Lock()
	f(&b.st)
	b.mu.Unlock()
}

// polled records the end of a poll; ok when the source itself answered.
func (b *book) polled(ok bool) {
	now := b.now().UTC()
	b.update(func(st *Status) {
		st.LastPoll = now
		if ok {
			st.LastSuccess = now
		}
	})
}
