package otlp

import (
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

// item is one point or log record waiting to be sent, with its resource.
type item struct {
	res *resource
	// name and desc are a point's metric; point is nil for a record.
	name, desc string
	point      *metricspb.NumberDataPoint
	record     *logspb.LogRecord
	// size estimates the bytes it holds (its resource is shared, so not
	// counted), for the queue's bound and the request's.
	size int
}

// queue is a FIFO of items bounded in number and estimated bytes: a push
// past either bound drops the oldest items. Not safe for concurrent use
// (the pipe guards it).
type queue struct {
	maxItems, maxBytes int
	items              []item
	start              int // items[start:] are queued
	bytes              int
}

// push appends items, then drops the oldest until both bounds hold, and
// returns how many it dropped. An item alone larger than maxBytes is kept
// when it is the only one.
func (q *queue) push(items []item) (dropped int) {
	for _, it := range items {
		q.items = append(q.items, it)
		q.bytes += it.size
		for q.len() > q.maxItems || q.bytes > q.maxBytes && q.len() > 1 {
			q.bytes -= q.items[q.start].size
			q.items[q.start] = item{}
			q.start++
			dropped++
		}
	}
	q.compact()
	return dropped
}

// take removes and returns the oldest items: at most n, and no more than
// maxBytes but at least one when any wait.
func (q *queue) take(n, maxBytes int) []item {
	var out []item
	size := 0
	for q.len() > 0 && len(out) < n {
		it := q.items[q.start]
		if len(out) > 0 && size+it.size > maxBytes {
			break
		}
		out = append(out, it)
		size += it.size
		q.bytes -= it.size
		q.items[q.start] = item{}
		q.start++
	}
	q.compact()
	return out
}

// clear empties the queue and returns how many items it held.
func (q *queue) clear() int {
	n := q.len()
	clear(q.items)
	q.items, q.start, q.bytes = q.items[:0], 0, 0
	return n
}

func (q *queue) len() int { return len(q.items) - q.start }

// compact moves the queued items to the front of the slice once half of it
// is spent, so that the slice stays within twice the bound.
func (q *queue) compact() {
	if q.start == 0 || q.start < len(q.items)/2 {
		return
	}
	n := copy(q.items, q.items[q.start:])
	clear(q.items[n:])
	q.items = q.items[:n]
	q.start = 0
}
