package inventory

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-cmp/cmp"
)

func TestLambdaENIOf(t *testing.T) {
	eni := func(typ ec2types.NetworkInterfaceType, desc string) ec2types.NetworkInterface {
		return ec2types.NetworkInterface{InterfaceType: typ, Description: aws.String(desc)}
	}
	tests := []struct {
		eni  ec2types.NetworkInterface
		want bool
	}{
		{eni(ec2types.NetworkInterfaceTypeLambda, "AWS Lambda VPC ENI-orders"), true},
		{eni("interface", "AWS Lambda VPC ENI-orders"), true},
		{eni("interface", "AWS Lambda VPC ENI-orders-0b7e4b6c-1a2b-4c3d-8e9f-0123456789ab"), true},
		{eni(ec2types.NetworkInterfaceTypeLambda, "AWS Lambda VPC ENI-orders-worker"), false},
		{eni("interface", "AWS Lambda VPC ENI-other"), false},
		{eni("interface", "orders"), false},
		{eni(ec2types.NetworkInterfaceTypeLambda, ""), false},
	}
	for _, tt := range tests {
		if got := lambdaENIOf(tt.eni, "orders"); got != tt.want {
			t.Errorf("lambdaENIOf(%q, orders) = %v, want %v", aws.ToString(tt.eni.Description), got, tt.want)
		}
	}
}

func TestUnqualifiedVersion(t *testing.T) {
	fn := "arn:aws:lambda:eu-west-1:123456789012:function:f"
	for in, want := range map[string]string{
		fn: fn, fn + ":7": fn, fn + ":$LATEST": fn, fn + ":live": fn + ":live", "not-an-arn": "not-an-arn",
	} {
		if got := unqualifiedVersion(in); got != want {
			t.Errorf("unqualifiedVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFunctionKeepsNoEnvironmentValues(t *testing.T) {
	fn := lambdatypes.FunctionConfiguration{
		FunctionArn: aws.String("arn:aws:lambda:eu-west-1:123456789012:function:f"), FunctionName: aws.String("f"),
		Environment: &lambdatypes.EnvironmentResponse{Variables: map[string]string{"DB_PASSWORD": "s3cr3t", "QUEUE": "https://sqs.eu-west-1.amazonaws.com/123456789012/q"}},
	}
	data := functionData(fn)
	want := map[string]any{"VariableNames": []string{"DB_PASSWORD", "QUEUE"}}
	if d := cmp.Diff(want, data["Environment"]); d != "" {
		t.Errorf("Environment (-want +got):\n%s", d)
	}
	if s := fmt.Sprint(data); strings.Contains(s, "s3cr3t") || strings.Contains(s, "sqs.eu-west-1") {
		t.Errorf("function data holds a variable's value: %s", s)
	}
	if fn.Environment == nil {
		t.Error("functionData changed its argument")
	}
}

// lambdaRecorded serves recorded Lambda responses: three functions (one
// naming an RDS endpoint in its environment, one with a VPC id but no
// subnets), their tags and aliases, and the region's event source mappings.
func lambdaRecorded(t *testing.T) http.HandlerFunc {
	byARN := map[string]string{}
	for _, f := range []string{"list_tags_44cdba9", "list_tags_4c667a8", "list_tags_7b5e541", "list_aliases_1c43970", "list_aliases_277d5ca", "list_aliases_ac014d3"} {
		byARN[f[:strings.LastIndexByte(f, '_')]+"/"+recordedParam(t, "lambda/"+f+".json")] = "lambda/" + f + ".json"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		path, _ := url.PathUnescape(r.URL.EscapedPath())
		switch {
		case strings.HasPrefix(path, "/2015-03-31/functions/") && strings.HasSuffix(path, "/aliases"):
			arn := strings.TrimSuffix(strings.TrimPrefix(path, "/2015-03-31/functions/"), "/aliases")
			writeJSON(w, 200, recorded(t, byARN["list_aliases/"+arn]))
		case path == "/2015-03-31/functions/" || path == "/2015-03-31/functions":
			writeJSON(w, 200, recorded(t, "lambda/list_functions_9863bd9.json"))
		case strings.HasPrefix(path, "/2017-03-31/tags/"):
			writeJSON(w, 200, recorded(t, byARN["list_tags/"+strings.TrimPrefix(path, "/2017-03-31/tags/")]))
		case strings.HasPrefix(path, "/2015-03-31/event-source-mappings"):
			writeJSON(w, 200, recorded(t, "lambda/list_event_source_mappings_a0eaff0.json"))
		default:
			writeJSON(w, 404, map[string]string{"Type": "User", "message": "no route " + path})
		}
	}
}

// recordedParam is the one request parameter the recorder noted.
func recordedParam(t *testing.T, name string) string {
	t.Helper()
	b := string(recordedRaw(t, name))
	i := strings.Index(b, `"Parameters": {`)
	if i < 0 {
		t.Fatalf("%s: no Parameters", name)
	}
	rest := b[i+len(`"Parameters": {`):]
	rest = rest[strings.Index(rest, ":")+1:]
	v, _ := strconv.Unquote(strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]))
	return v
}

func TestCollectFunctionsRecordedResponses(t *testing.T) {
	tg := fakeTarget(t, lambdaRecorded(t))
	res, err := collectFunctions(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range res.Components {
		ids = append(ids, c.Type+" "+c.ID)
	}
	slices.Sort(ids)
	fn := "arn:aws:lambda:eu-west-1:731070500579:function:"
	wantIDs := []string{
		"aws.lambda.alias " + fn + "sts-xray-test-01:old",
		"aws.lambda.alias " + fn + "sts-xray-test-02:altnm",
		"aws.lambda.function " + fn + "com-stackstate-prod-sam-seed-PutHello-1LUD3ESBOR6EY",
		"aws.lambda.function " + fn + "sts-xray-test-01",
		"aws.lambda.function " + fn + "sts-xray-test-02",
	}
	if d := cmp.Diff(wantIDs, ids); d != "" {
		t.Errorf("components (-want +got):\n%s", d)
	}
	var rels []string
	for _, r := range res.Relations {
		rels = append(rels, fmt.Sprintf("%s -> %s %v", r.Source, r.Target, r.Data))
	}
	slices.Sort(rels)
	wantRels := []string{
		"arn:aws:dynamodb:eu-west-1:731070500579:table/table_1/stream/2018-05-17T08:09:27.110 -> " + fn + "com-stackstate-prod-PersonIdDynamoDBHandler-6KMIBXKKKCEZ map[event-source-mapping:e38b3a04-ca98-4af2-a7af-143808066744]",
		"arn:aws:kinesis:eu-west-1:731070500579:stream/stream_1 -> " + fn + "com-stackstate-prod-PersonCreatedKinesisHand-19T8EJADX2DE map[event-source-mapping:3223fdf6-1377-4fb9-8109-75934cb62fd4]",
		fn + "com-stackstate-prod-sam-seed-PutHello-1LUD3ESBOR6EY -> arn:aws:iam::731070500579:role/com-stackstate-prod-sam-seed-PutHelloRole-1J2B6L49ZATLL map[]",
		fn + "sts-xray-test-01 -> arn:aws:iam::731070500579:role/service-role/sts-xray-test-01-role-nvthvg1n map[]",
		fn + "sts-xray-test-01 -> vpc-c6d073bf map[]",
		fn + "sts-xray-test-01:old -> " + fn + "sts-xray-test-01 map[]",
		fn + "sts-xray-test-02 -> arn:aws:iam::731070500579:role/service-role/sts-xray-test-02-role-p2yiqfaa map[]",
		fn + "sts-xray-test-02 -> urn:endpoint:/sn1e7g5j33vyr4o.c0y21wcfwjjc.eu-west-1.rds.amazonaws.com map[variable:RDS_HOST]",
		fn + "sts-xray-test-02:altnm -> " + fn + "sts-xray-test-02 map[]",
		"arn:aws:sqs:eu-west-1:731070500579:STS_stackpack_test -> arn:aws:lambda:eu-west-1:714565590525:function:StackState-Publisher map[event-source-mapping:eb134b30-11c4-4c7b-be90-2c1f3f123456]",
	}
	if d := cmp.Diff(wantRels, rels); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
}

// TestListFunctionsPaginates serves 120 functions 50 a page, as Lambda
// does (moto returns every function in one page, so cannot test this).
func TestListFunctionsPaginates(t *testing.T) {
	const n = 120
	var pages int
	tg := fakeTarget(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/2015-03-31/functions":
			pages++
			start, _ := strconv.Atoi(r.URL.Query().Get("Marker"))
			size, _ := strconv.Atoi(r.URL.Query().Get("MaxItems"))
			size = min(max(size, 1), 50)
			out := map[string]any{}
			var fns []map[string]any
			for i := start; i < min(start+size, n); i++ {
				name := fmt.Sprintf("fn-%03d", i)
				fns = append(fns, map[string]any{"FunctionName": name,
					"FunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:" + name})
			}
			out["Functions"] = fns
			if start+size < n {
				out["NextMarker"] = strconv.Itoa(start + size)
			}
			writeJSON(w, 200, out)
		case strings.HasSuffix(r.URL.Path, "/aliases"):
			writeJSON(w, 200, map[string]any{"Aliases": []any{}})
		case strings.HasPrefix(r.URL.Path, "/2017-03-31/tags/"):
			writeJSON(w, 200, map[string]any{"Tags": map[string]string{}})
		default:
			writeJSON(w, 200, map[string]any{"EventSourceMappings": []any{}})
		}
	})
	res, err := collectFunctions(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range res.Components {
		seen[c.ID] = true
	}
	if len(seen) != n || pages != 3 {
		t.Errorf("got %d distinct functions in %d pages, want %d in 3", len(seen), pages, n)
	}
}

func TestFunctionDetailFailures(t *testing.T) {
	// Tags denied for f-denied, gone for f-gone, throttled for f-busy.
	tg := fakeTarget(t, func(w http.ResponseWriter, r *http.Request) {
		path, _ := url.PathUnescape(r.URL.EscapedPath())
		switch {
		case r.URL.Path == "/2015-03-31/functions":
			var fns []map[string]any
			for _, name := range []string{"f-ok", "f-denied", "f-gone", "f-busy"} {
				fns = append(fns, map[string]any{"FunctionName": name, "FunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:" + name})
			}
			fns = append(fns, map[string]any{"FunctionName": "no-arn"})
			writeJSON(w, 200, map[string]any{"Functions": fns})
		case strings.HasSuffix(path, ":f-denied"):
			w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
			writeJSON(w, 403, map[string]string{"Type": "User", "Message": "denied"})
		case strings.HasSuffix(path, ":f-gone"):
			w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
			writeJSON(w, 404, map[string]string{"Type": "User", "Message": "gone"})
		case strings.HasSuffix(path, ":f-busy"):
			w.Header().Set("X-Amzn-Errortype", "ServiceException")
			writeJSON(w, 500, map[string]string{"Type": "Service", "Message": "busy"})
		case strings.HasSuffix(path, "/aliases"):
			writeJSON(w, 200, map[string]any{"Aliases": []any{}})
		case strings.HasPrefix(path, "/2017-03-31/tags/"):
			writeJSON(w, 200, map[string]any{"Tags": map[string]string{"k": "v"}})
		default:
			writeJSON(w, 200, map[string]any{"EventSourceMappings": []any{}})
		}
	})
	res, err := collectFunctions(context.Background(), tg)
	if err == nil || !strings.Contains(err.Error(), "f-busy") {
		t.Errorf("err = %v, want the throttled function's failure", err)
	}
	var names []string
	for _, c := range res.Components {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	// The throttled function is left out, so that its stored description stays.
	if d := cmp.Diff([]string{"f-denied", "f-ok"}, names); d != "" {
		t.Errorf("functions kept (-want +got):\n%s", d)
	}
	if len(res.Malformed) != 1 {
		t.Errorf("malformed = %v, want the function without an ARN", res.Malformed)
	}
}
