package awsconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// CheckAnswers adds to a client's stack the checks every client of a
// Provider carries: a successful answer must be whole (see answerBody), and
// must not name the page just asked for as the next one (see
// checkPageToken). A refused answer fails the call with an error that is
// ErrIncompleteAnswer (retried like a server error) or ErrRepeatedPageToken.
// Adding the checks to a stack that has them already does nothing.
//
// The SDK takes an empty 200 answer, or an XML answer cut before its first
// element, for an empty result, and stops reading a Query answer once it
// has decoded the result: without these checks a listing could take a cut
// answer for an estate where everything was deleted.
func CheckAnswers(s *middleware.Stack) error {
	if _, ok := s.Deserialize.Get(answerEndID); ok {
		return nil
	}
	// answerStart wraps the body before any deserializer reads it;
	// answerEnd checks it once the operation's deserializer is done.
	if err := s.Deserialize.Add(answerStart{}, middleware.After); err != nil {
		return err
	}
	// Clients of older code generation close the body in a middleware
	// around the deserializer, which answerEnd runs inside of: it reads the
	// rest of the body itself.
	_, drain := s.Deserialize.Get(closeResponseBodyID)
	end := answerEnd{drain: drain}
	var err error
	if _, ok := s.Deserialize.Get(operationDeserializerID); ok {
		err = s.Deserialize.Insert(end, operationDeserializerID, middleware.Before)
	} else {
		err = s.Deserialize.Add(end, middleware.Before)
	}
	if err != nil {
		return err
	}
	return s.Initialize.Add(checkPageToken{}, middleware.After)
}

// Ids of SDK middlewares.
const (
	operationDeserializerID = "OperationDeserializer"
	// closeResponseBodyID is smithyhttp.AddCloseResponseBodyMiddleware's,
	// which clients of older code generation add to non-streaming operations.
	closeResponseBodyID = "CloseResponseBody"
	answerEndID         = "SkymapAnswerEnd"
)

// answerError is an answer the check refused: it is ErrIncompleteAnswer,
// and the SDK's retryer retries it.
type answerError struct {
	reason string
	err    error // the error that cut the answer short, if any
}

func (e *answerError) Error() string        { return ErrIncompleteAnswer.Error() + ": " + e.reason }
func (e *answerError) Is(target error) bool { return target == ErrIncompleteAnswer }
func (e *answerError) Unwrap() error        { return e.err }
func (e *answerError) RetryableError() bool { return true }

// refuse returns the answerError of a reason.
func refuse(format string, a ...any) *answerError {
	return &answerError{reason: fmt.Sprintf(format, a...)}
}

// answerKey is the key of the call's answerBody in the middleware metadata.
type answerKey struct{}

type answerStart struct{}

func (answerStart) ID() string { return "SkymapAnswerStart" }

func (answerStart) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	req, _ := in.Request.(*smithyhttp.Request)
	if err != nil || !ok || req == nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return out, md, err
	}
	_, op := callNames(ctx)
	want, check := expectAnswer(req, resp, op)
	if !check {
		return out, md, nil
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	b := &answerBody{ReadCloser: resp.Body, want: want}
	resp.Body = b
	md.Set(answerKey{}, b)
	return out, md, nil
}

type answerEnd struct{ drain bool }

func (answerEnd) ID() string { return answerEndID }

func (m answerEnd) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	b, ok := md.Get(answerKey{}).(*answerBody)
	if !ok {
		return out, md, err
	}
	if m.drain {
		io.Copy(io.Discard, b) // a failure is recorded in b
	}
	// A deserializer closes every body it has read (S3's of
	// GetBucketLocation only reads it to its end); a body neither read nor
	// closed is the caller's to read (S3 GetObject) or an event stream's.
	e := b.check()
	switch {
	case e == nil, err != nil && e.err != nil:
		// Whole, or the SDK saw the read fail too.
		return out, md, err
	case err != nil:
		// The SDK choked on the answer too: the call still fails as
		// ErrIncompleteAnswer, and is retried.
		var sdkErr *smithy.DeserializationError
		if errors.As(err, &sdkErr) && sdkErr.Err != nil {
			err = sdkErr.Err
		}
		e = refuse("%s (%v)", e.reason, err)
	}
	return out, md, &smithy.DeserializationError{Err: e, Snapshot: b.snapshot()}
}

// answerKind is the format of an answer.
type answerKind int

const (
	kindUnknown answerKind = iota // decided by the first byte
	kindXML
	kindJSON
	kindOther // not checked
)

// expectation is what a successful answer must be.
type expectation struct {
	kind answerKind
	// body: an empty answer is refused.
	body bool
	// root is the name the root element must have ("" for any).
	root string
}

// expectAnswer tells what the answer to req must be, and whether to check it
// at all. The Query protocols (EC2, IAM, STS, ELB, ...) always answer
// <Operation>Response, the JSON protocols an object. REST answers are told
// by their Content-Type, else by their first byte; a REST GET always has a
// body, while a write may answer with headers alone. HEAD answers have no
// body, nor do 204 (No Content) answers, whose Content-Length is 0.
func expectAnswer(req *smithyhttp.Request, resp *smithyhttp.Response, operation string) (expectation, bool) {
	reqType := mediaType(req.Header.Get("Content-Type"))
	switch {
	case reqType == "application/x-www-form-urlencoded":
		e := expectation{kind: kindXML, body: true}
		if operation != "" {
			e.root = operation + "Response"
		}
		return e, true
	case strings.HasPrefix(reqType, "application/x-amz-json-"):
		return expectation{kind: kindJSON, body: true}, true
	case req.Method == http.MethodHead, resp.StatusCode == http.StatusNoContent && resp.ContentLength == 0:
		return expectation{}, false
	}
	e := expectation{body: req.Method == http.MethodGet}
	switch t := mediaType(resp.Header.Get("Content-Type")); {
	case strings.HasSuffix(t, "/xml"), strings.HasSuffix(t, "+xml"):
		e.kind, e.body = kindXML, true
	case strings.HasSuffix(t, "/json"), strings.HasSuffix(t, "+json"), strings.HasPrefix(t, "application/x-amz-json-"):
		e.kind, e.body = kindJSON, true
	}
	return e, true
}

// mediaType is a Content-Type without parameters, in lower case.
func mediaType(contentType string) string {
	t, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// answerBody checks an answer as it is read: it keeps a few hundred bytes,
// whatever the answer's size. An event stream reads it in a goroutine of its
// own, hence the mutex.
type answerBody struct {
	io.ReadCloser
	want expectation

	mu      sync.Mutex
	bom     int // bytes of a UTF-8 byte order mark read; -1 after the first other byte
	kind    answerKind
	bad     *answerError // set once the answer cannot be whole
	eof     bool
	readErr error
	closed  bool
	xml     xmlScan
	json    jsonScan
	// tail holds the last bytes read, runs of trailing white space in a
	// read cut to one space.
	tail    []byte
	spaceAt bool // the last read ended in white space
}

func (b *answerBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.scan(p[:n])
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil && b.readErr == nil:
		b.readErr = err
	}
	return n, err
}

func (b *answerBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return b.ReadCloser.Close()
}

// maxTail is the most of an answer's end an answerBody keeps; it is
// compacted to half when it grows past it.
const maxTail = 1024

func (b *answerBody) scan(p []byte) {
	if len(p) == 0 {
		return
	}
	for b.bom >= 0 && b.bom < len(utf8BOM) && len(p) > 0 && p[0] == utf8BOM[b.bom] {
		p, b.bom = p[1:], b.bom+1
	}
	if len(p) == 0 {
		return
	}
	b.bom = -1
	if t := bytes.TrimRight(p, space); len(t) > 0 {
		if b.spaceAt {
			b.tail = append(b.tail, ' ')
		}
		b.spaceAt = len(t) < len(p)
		if len(t) > maxTail/2 {
			b.tail, t = b.tail[:0], t[len(t)-maxTail/2:]
		}
		b.tail = append(b.tail, t...)
		if len(b.tail) > maxTail {
			b.tail = append(b.tail[:0], b.tail[len(b.tail)-maxTail/2:]...)
		}
	} else if len(b.tail) > 0 {
		b.spaceAt = true
	}
	if b.bad != nil {
		return
	}
	if b.kind == kindUnknown {
		i := bytes.IndexFunc(p, func(r rune) bool { return !strings.ContainsRune(space, r) })
		if i < 0 {
			return
		}
		if b.kind, b.bad = firstByte(b.want.kind, p[i]); b.bad != nil {
			return
		}
	}
	switch b.kind {
	case kindXML:
		b.bad = b.xml.scan(p, b.want.root)
	case kindJSON:
		b.bad = b.json.scan(p)
	}
}

// space is the white space of XML and JSON.
const space = " \t\r\n"

// utf8BOM is the byte order mark that may start an XML document.
const utf8BOM = "\xef\xbb\xbf"

// firstByte tells an answer's kind from its first byte other than space,
// or why the answer cannot be of the kind wanted.
func firstByte(want answerKind, c byte) (answerKind, *answerError) {
	got := kindOther
	switch {
	case c == '<':
		got = kindXML
	case strings.IndexByte(`{["-0123456789tfn`, c) >= 0:
		got = kindJSON
	}
	switch {
	case want == kindUnknown, want == got:
		return got, nil
	case want == kindXML:
		return want, refuse("not XML: starts with %q", c)
	default:
		return want, refuse("not JSON: starts with %q", c)
	}
}

// check tells why the answer is not whole, once it is read to its end or
// closed; while it is neither, it is the caller's to read, and unchecked.
func (b *answerBody) check() *answerError {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.readErr != nil:
		return &answerError{reason: "read: " + b.readErr.Error(), err: b.readErr}
	case !b.eof && !b.closed:
		return nil
	case !b.eof:
		return refuse("closed before its end")
	case b.bad != nil:
		return b.bad
	case b.kind == kindUnknown && b.want.body:
		return refuse("empty body")
	case b.kind == kindXML:
		return b.xml.whole(b.tail)
	case b.kind == kindJSON:
		return b.json.whole()
	}
	return nil
}

// snapshot returns the last bytes of the answer.
func (b *answerBody) snapshot() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.tail)
}
