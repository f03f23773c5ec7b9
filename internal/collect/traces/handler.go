package traces

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/skymap/skymap/internal/model"
)

// MaxBody bounds a request body, compressed and uncompressed.
const MaxBody = 16 << 20

// Content types of OTLP/HTTP.
const (
	contentProtobuf = "application/x-protobuf"
	contentJSON     = "application/json"
)

// Errors of a request, which status writes as HTTP statuses.
var (
	errMalformed   = errors.New("malformed")
	errTooLarge    = errors.New("too large")
	errUnsupported = errors.New("unsupported")
)

// NewHandler returns the handler of POST /v1/traces, the OTLP/HTTP trace
// export, and of GET /api/traces/relations, the relations with their
// figures (ends resolved by resolve, nil for as the spans name them);
// ?component=<id or identifier> keeps those with the component at an end.
func NewHandler(r *Receiver, resolve func(string) string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.export)
	mux.HandleFunc("GET /api/traces/relations", func(w http.ResponseWriter, req *http.Request) {
		rels := r.Relations(resolve)
		if ref := req.URL.Query().Get("component"); ref != "" {
			id := ref
			if resolve != nil {
				id = resolve(ref)
			}
			rels = slices.DeleteFunc(rels, func(rel Relation) bool { return rel.Source != id && rel.Target != id })
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"window": model.WindowString(r.window), "relations": rels, "stats": r.Stats()})
	})
	return mux
}

// export answers an OTLP/HTTP trace export: 200 with an
// ExportTraceServiceResponse in the request's encoding (partial_success
// counting rejected spans), 400 with the reason for a malformed payload
// (nothing of it is kept), 413 past MaxBody, 415 for other content types
// and encodings.
func (r *Receiver) export(w http.ResponseWriter, req *http.Request) {
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if ct != contentProtobuf && ct != contentJSON {
		fail(w, contentJSON, fmt.Errorf("%w: content type %q: want %s or %s", errUnsupported, ct, contentProtobuf, contentJSON))
		return
	}
	body, err := readBody(w, req)
	if err != nil {
		fail(w, ct, err)
		return
	}
	msg, err := decode(ct, body)
	if err != nil {
		fail(w, ct, err)
		return
	}
	res := r.ingest(msg)
	resp := &coltracepb.ExportTraceServiceResponse{}
	if res.rejected > 0 {
		resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{RejectedSpans: res.rejected, ErrorMessage: res.message}
	}
	write(w, ct, http.StatusOK, resp)
}

// readBody reads the body, gunzipping it when Content-Encoding says gzip.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, fmt.Errorf("%w: body over %d bytes", errTooLarge, MaxBody)
	case err != nil:
		return nil, fmt.Errorf("%w: read body: %v", errMalformed, err)
	}
	switch enc := strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", errMalformed, err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, MaxBody+1))
		switch {
		case err != nil:
			return nil, fmt.Errorf("%w: gzip: %v", errMalformed, err)
		case len(out) > MaxBody:
			return nil, fmt.Errorf("%w: body over %d bytes uncompressed", errTooLarge, MaxBody)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: content encoding %q: want gzip or none", errUnsupported, enc)
	}
}

// decode reads an ExportTraceServiceRequest in either encoding and checks
// its ids.
func decode(ct string, body []byte) (*coltracepb.ExportTraceServiceRequest, error) {
	msg := &coltracepb.ExportTraceServiceRequest{}
	if ct == contentProtobuf {
		if err := proto.Unmarshal(body, msg); err != nil {
			return nil, fmt.Errorf("%w: protobuf: %v", errMalformed, err)
		}
		if err := checkIDs(msg, nil); err != nil {
			return nil, err
		}
		return msg, nil
	}
	// OTLP JSON: field names in lowerCamelCase (protojson takes both
	// forms), enums as numbers (taken too), unknown fields ignored, and
	// ids in hex where protojson expects base64: fixed by checkIDs.
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, msg); err != nil {
		return nil, fmt.Errorf("%w: json: %v", errMalformed, err)
	}
	if err := checkIDs(msg, hexID); err != nil {
		return nil, err
	}
	return msg, nil
}

// hexID recovers the id OTLP JSON wrote in hex from what protojson read
// as base64: hex digits are base64 characters and ids are 16 or 32 of
// them, so encoding the bytes again gives back the text exactly.
func hexID(b []byte) ([]byte, error) {
	text := base64.StdEncoding.EncodeToString(b)
	id, err := hex.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%q is not hex", text)
	}
	return id, nil
}

// checkIDs checks that every span has a 16-byte trace id and an 8-byte span
// id (and parent span id, if any), after fix turned them from their JSON
// form when it is not nil.
func checkIDs(msg *coltracepb.ExportTraceServiceRequest, fix func([]byte) ([]byte, error)) error {
	check := func(id *[]byte, size int, optional bool) error {
		if fix != nil && len(*id) > 0 {
			b, err := fix(*id)
			if err != nil {
				return err
			}
			*id = b
		}
		if len(*id) != size && !(optional && len(*id) == 0) {
			return fmt.Errorf("want %d bytes (%d hex digits), got %d", size, 2*size, len(*id))
		}
		return nil
	}
	for i, rs := range msg.GetResourceSpans() {
		for j, ss := range rs.GetScopeSpans() {
			for k, s := range ss.GetSpans() {
				at := func(field string) string {
					return fmt.Sprintf("resourceSpans[%d].scopeSpans[%d].spans[%d].%s", i, j, k, field)
				}
				for _, f := range []struct {
					name     string
					id       *[]byte
					size     int
					optional bool
				}{{"traceId", &s.TraceId, 16, false}, {"spanId", &s.SpanId, 8, false}, {"parentSpanId", &s.ParentSpanId, 8, true}} {
					if err := check(f.id, f.size, f.optional); err != nil {
						return fmt.Errorf("%w: %s: %v", errMalformed, at(f.name), err)
					}
				}
				for l, ln := range s.GetLinks() {
					if err := check(&ln.TraceId, 16, false); err != nil {
						return fmt.Errorf("%w: %s: %v", errMalformed, at(fmt.Sprintf("links[%d].traceId", l)), err)
					}
					if err := check(&ln.SpanId, 8, false); err != nil {
						return fmt.Errorf("%w: %s: %v", errMalformed, at(fmt.Sprintf("links[%d].spanId", l)), err)
					}
				}
			}
		}
	}
	return nil
}

// fail writes err with its status: a google.rpc.Status in the request's
// encoding, as OTLP/HTTP asks.
func fail(w http.ResponseWriter, ct string, err error) {
	status, code := http.StatusInternalServerError, int32(13) // INTERNAL
	switch {
	case errors.Is(err, errMalformed):
		status, code = http.StatusBadRequest, 3 // INVALID_ARGUMENT
	case errors.Is(err, errTooLarge):
		status, code = http.StatusRequestEntityTooLarge, 8 // RESOURCE_EXHAUSTED
	case errors.Is(err, errUnsupported):
		status, code = http.StatusUnsupportedMediaType, 3
	}
	write(w, ct, status, &statuspb.Status{Code: code, Message: err.Error()})
}

// write answers with m in the encoding ct names.
func write(w http.ResponseWriter, ct string, status int, m proto.Message) {
	var b []byte
	var err error
	if ct == contentProtobuf {
		b, err = proto.Marshal(m)
	} else {
		b, err = protojson.Marshal(m)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
