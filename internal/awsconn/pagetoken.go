package awsconn

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/aws/smithy-go/middleware"
)

// pageTokenFields pairs the input field that names the page asked for with
// the output field that names the next page, as the SDK's paginators do. The
// first pair whose two fields an operation has applies: an S3 ListObjectsV2
// output echoes the ContinuationToken asked for, and names the next page in
// NextContinuationToken.
var pageTokenFields = []struct{ in, out string }{
	{"NextToken", "NextToken"},
	{"ContinuationToken", "NextContinuationToken"},
	{"ContinuationToken", "ContinuationToken"},
	{"Marker", "NextMarker"},
	{"Marker", "NextPageMarker"},
	{"Marker", "Marker"},
	{"Position", "Position"},
	{"ExclusiveStartTableName", "LastEvaluatedTableName"},
}

// checkPageToken fails a call whose answer names the page asked for as the
// next one. A paginator would ask for that page forever: the SDK's
// paginators stop on such a token only with StopOnDuplicateToken, and then
// silently, as if the listing were complete. A longer cycle (A, B, A) is
// not seen: no middleware knows which calls belong to one paginator run.
type checkPageToken struct{}

func (checkPageToken) ID() string { return "SkymapPageTokenCheck" }

func (checkPageToken) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleInitialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	if field, asked, next := pageTokens(in.Parameters, out.Result); asked != "" && asked == next {
		return out, md, fmt.Errorf("%w: %s", ErrRepeatedPageToken, field)
	}
	return out, md, nil
}

// tokenPath is where an operation's page tokens are: field indexes of its
// input and output structs; nil for operations without them.
type tokenPath struct {
	in, out []int
	field   string
}

// tokenPaths caches the tokenPath of each (input, output) type pair.
var tokenPaths sync.Map

// pageTokens returns the page token asked for and the next page's token of
// a call, "" where there is none.
func pageTokens(params, result any) (field, asked, next string) {
	in, out := reflect.ValueOf(params), reflect.ValueOf(result)
	if in.Kind() != reflect.Pointer || out.Kind() != reflect.Pointer || in.IsNil() || out.IsNil() {
		return "", "", ""
	}
	in, out = in.Elem(), out.Elem()
	if in.Kind() != reflect.Struct || out.Kind() != reflect.Struct {
		return "", "", ""
	}
	key := [2]reflect.Type{in.Type(), out.Type()}
	p, ok := tokenPaths.Load(key)
	if !ok {
		p, _ = tokenPaths.LoadOrStore(key, findTokenPath(in.Type(), out.Type()))
	}
	tp := p.(tokenPath)
	if tp.in == nil {
		return "", "", ""
	}
	return tp.field, tokenString(in.FieldByIndex(tp.in)), tokenString(out.FieldByIndex(tp.out))
}

func findTokenPath(in, out reflect.Type) tokenPath {
	for _, f := range pageTokenFields {
		fi, ok1 := in.FieldByName(f.in)
		fo, ok2 := out.FieldByName(f.out)
		if ok1 && ok2 && isToken(fi.Type) && isToken(fo.Type) {
			return tokenPath{in: fi.Index, out: fo.Index, field: f.out}
		}
	}
	return tokenPath{}
}

func isToken(t reflect.Type) bool {
	return t.Kind() == reflect.String || t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String
}

func tokenString(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	return v.String()
}
