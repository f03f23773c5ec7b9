package flowlogs

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/collect/flowlogs/flowlogstest"
)

// flowObject is a gzip text flow-log object of one record naming id.
func flowObject(t testing.TB, id string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	fmt.Fprintf(w, "%s\n2 123456789012 eni-%s 10.0.0.1 10.0.0.2 40000 443 6 10 840 1795255200 1795255260 ACCEPT OK\n",
		flowlogstest.Header, id)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fakeHandler commits objects in memory, by bucket, key and ETag, and
// fails those in fail.
type fakeHandler struct {
	mu        sync.Mutex
	committed map[string]bool
	handled   []string // keys, in the order HandleFlowObject got them
	objects   []Object
	doneCalls int
	fail      map[string]error // by key
	inFlight  int
	maxFlight int
	delay     time.Duration
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{committed: map[string]bool{}, fail: map[string]error{}}
}

func (h *fakeHandler) id(o Object) string { return o.Bucket + "/" + o.Key + "/" + o.ETag }

func (h *fakeHandler) HandleFlowObject(ctx context.Context, obj Object, body []byte) error {
	h.mu.Lock()
	h.inFlight++
	h.maxFlight = max(h.maxFlight, h.inFlight)
	delay := h.delay
	h.mu.Unlock()
	time.Sleep(delay)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inFlight--
	if err := h.fail[obj.Key]; err != nil {
		return err
	}
	r, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", obj.Key, ErrCorrupt)
	}
	r.Close()
	h.committed[h.id(obj)] = true
	h.handled = append(h.handled, obj.Key)
	h.objects = append(h.objects, obj)
	return nil
}

func (h *fakeHandler) Done(_ context.Context, obj Object) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.doneCalls++
	return h.committed[h.id(obj)], nil
}

// take returns the keys handled and the Done calls since the last call.
func (h *fakeHandler) take() (handled []string, doneCalls int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	handled, doneCalls = h.handled, h.doneCalls
	h.handled, h.doneCalls = nil, 0
	return handled, doneCalls
}

var _ Handler = (*fakeHandler)(nil)

// problem returns the status's problem of category and key.
func problem(st Status, c Category, key string) (Problem, bool) {
	for _, p := range st.Problems {
		if p.Category == c && p.Key == key {
			return p, true
		}
	}
	return Problem{}, false
}

var errCommit = errors.New("commit failed")
