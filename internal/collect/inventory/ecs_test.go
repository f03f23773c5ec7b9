package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

// withENIs gives t the region's network interfaces without calling EC2.
func withENIs(t Target, enis ...ec2types.NetworkInterface) Target {
	t.shared = &shared{}
	t.shared.enisOnce.Do(func() { t.shared.enis = enis })
	return t
}

// relationSet renders relations as sorted "source -type-> target" lines.
func relationSet(rels []model.Relation) []string {
	out := make([]string, 0, len(rels))
	for _, r := range rels {
		out = append(out, r.Source+" -"+r.Type+"-> "+r.Target)
	}
	slices.Sort(out)
	return out
}

// TestECSRecordedResponses lists ECS on responses recorded from a real
// account (two clusters, a Fargate service behind a target group with one
// awsvpc task, a container instance), served by a fake ECS endpoint.
func TestECSRecordedResponses(t *testing.T) {
	byOp := map[string][]map[string]any{}
	params := map[string]map[string]any{}
	dir := filepath.Join(recordedDir, "ecs")
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if f.IsDir() {
			continue
		}
		raw := recordedMap(t, filepath.Join("ecs", f.Name()))
		b, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		meta := struct {
			ResponseMetadata struct {
				OperationName string
				Parameters    map[string]any
			}
		}{}
		if err := json.Unmarshal(b, &meta); err != nil {
			t.Fatal(err)
		}
		op := meta.ResponseMetadata.OperationName
		byOp[op] = append(byOp[op], raw)
		params[fmt.Sprintf("%p", raw)] = meta.ResponseMetadata.Parameters
	}
	if len(byOp) == 0 {
		t.Fatal("no recorded ECS responses in " + dir)
	}
	srv := jsonAPI(t, func(op string, in map[string]any) (any, int) {
		for _, r := range byOp[op] {
			p := params[fmt.Sprintf("%p", r)]
			if c, ok := p["cluster"]; ok && c != in["cluster"] {
				continue
			}
			return r, http.StatusOK
		}
		// An operation on a cluster nothing was recorded for: empty.
		return map[string]any{}, http.StatusOK
	})
	tg := withENIs(urlTarget(srv.URL, "eu-west-1"), ec2types.NetworkInterface{
		NetworkInterfaceId: aws.String("eni-98c93e9e"), VpcId: aws.String("vpc-1"), PrivateIpAddress: aws.String("10.0.0.53"),
	})
	res, err := collectECS(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	const (
		def  = "arn:aws:ecs:eu-west-1:731070500579:cluster/default"
		ss   = "arn:aws:ecs:eu-west-1:731070500579:cluster/StackState-ECS-Cluster"
		svc  = "arn:aws:ecs:eu-west-1:731070500579:service/sample-app-service"
		task = "arn:aws:ecs:eu-west-1:731070500579:task/f89e69d0-0829-48b8-a503-c7b02a62fe9f"
	)
	wantRels := []string{
		def + " -has-cluster-node-> " + svc,
		svc + " -has-cluster-node-> " + task,
		svc + " -uses-service-> arn:aws:elasticloadbalancing:eu-west-1:731070500579:targetgroup/EC2Co-Defau-7HYSTVRX07KO/a7e4eb718fda7510",
		ss + " -uses-ec2-host-> string",
	}
	slices.Sort(wantRels)
	if d := cmp.Diff(wantRels, relationSet(res.Relations)); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
	got := map[string][]string{}
	for _, c := range res.Components {
		got[c.Type+" "+c.ID+" "+c.Name] = c.Identifiers
	}
	want := map[string][]string{
		typeECSCluster + " " + def + " default":                            {"sts-ecs-test"}, // its stackstate-identifier tag
		typeECSCluster + " " + ss + " StackState-ECS-Cluster":              {},
		typeECSService + " " + svc + " sample-app-service":                 {},
		typeECSTask + " " + task + " f89e69d0-0829-48b8-a503-c7b02a62fe9f": {"urn:vpcip:vpc-1/10.0.0.53"},
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) || len(a)+len(b) == 0 })); d != "" {
		t.Errorf("components (-want +got):\n%s", d)
	}
}

// TestECSPagesAndBatches lists a cluster of 250 services and 260 tasks on a
// fake ECS that pages its lists and refuses Describe batches above the API's
// maxima: nothing may be lost at page or batch boundaries.
func TestECSPagesAndBatches(t *testing.T) {
	const (
		cluster   = "arn:aws:ecs:eu-west-1:123456789012:cluster/big"
		nServices = 250
		nTasks    = 260
	)
	svcARN := func(i int) string { return "arn:aws:ecs:eu-west-1:123456789012:service/big/svc-" + strconv.Itoa(i) }
	taskARN := func(i int) string { return "arn:aws:ecs:eu-west-1:123456789012:task/big/t" + strconv.Itoa(i) }
	page := func(all []string, in map[string]any, key string) map[string]any {
		start, _ := strconv.Atoi(fmt.Sprint(in["nextToken"]))
		size := 100
		if m, ok := in["maxResults"].(float64); ok {
			size = int(m)
		}
		end := min(start+size, len(all))
		out := map[string]any{key: all[start:end]}
		if end < len(all) {
			out["nextToken"] = strconv.Itoa(end)
		}
		return out
	}
	var services, tasks []string
	for i := range nServices {
		services = append(services, svcARN(i))
	}
	for i := range nTasks {
		tasks = append(tasks, taskARN(i))
	}
	var (
		mu       sync.Mutex
		tooLarge []string
	)
	batch := func(op string, n, max int) {
		if n > max {
			mu.Lock()
			tooLarge = append(tooLarge, fmt.Sprintf("%s of %d", op, n))
			mu.Unlock()
		}
	}
	srv := jsonAPI(t, func(op string, in map[string]any) (any, int) {
		switch op {
		case "ListClusters":
			return map[string]any{"clusterArns": []string{cluster}}, http.StatusOK
		case "DescribeClusters":
			return map[string]any{"clusters": []any{map[string]any{"clusterArn": cluster, "clusterName": "big", "status": "ACTIVE"}}}, http.StatusOK
		case "ListServices":
			return page(services, in, "serviceArns"), http.StatusOK
		case "DescribeServices":
			names := strs(in["services"])
			batch(op, len(names), 10)
			var out []any
			for _, a := range names {
				out = append(out, map[string]any{"serviceArn": a, "serviceName": a[strings.LastIndexByte(a, '/')+1:], "status": "ACTIVE"})
			}
			return map[string]any{"services": out}, http.StatusOK
		case "ListTasks":
			return page(tasks, in, "taskArns"), http.StatusOK
		case "DescribeTasks":
			arns := strs(in["tasks"])
			batch(op, len(arns), 100)
			var out []any
			for _, a := range arns {
				i, _ := strconv.Atoi(a[strings.LastIndexByte(a, 't')+1:])
				group := "family:batch"
				if i%2 == 0 {
					group = "service:svc-" + strconv.Itoa(i%nServices)
				}
				out = append(out, map[string]any{"taskArn": a, "clusterArn": cluster, "group": group})
			}
			return map[string]any{"tasks": out}, http.StatusOK
		case "ListContainerInstances":
			return map[string]any{"containerInstanceArns": []string{}}, http.StatusOK
		}
		return map[string]any{"__type": "UnknownOperationException"}, http.StatusBadRequest
	})
	res, err := collectECS(context.Background(), urlTarget(srv.URL, "eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tooLarge) > 0 {
		t.Errorf("batches above the API's maximum: %v", tooLarge)
	}
	count := map[string]int{}
	seen := map[string]bool{}
	for _, c := range res.Components {
		count[c.Type]++
		seen[c.ID] = true
	}
	if d := cmp.Diff(map[string]int{typeECSCluster: 1, typeECSService: nServices, typeECSTask: nTasks}, count); d != "" {
		t.Errorf("components per type (-want +got):\n%s", d)
	}
	for i := range nTasks {
		if !seen[taskARN(i)] {
			t.Errorf("task %d missing", i)
		}
	}
	nodes := map[string]int{}
	for _, r := range res.Relations {
		if r.Type == model.HasClusterNode {
			nodes[strings.Split(r.Source, ":")[5][:7]]++
		}
	}
	// The cluster holds every service and the odd (standalone) tasks; the
	// services hold the even ones.
	want := map[string]int{"cluster": nServices + nTasks/2, "service": nTasks / 2}
	if d := cmp.Diff(want, nodes); d != "" {
		t.Errorf("has-cluster-node relations by source (-want +got):\n%s", d)
	}
}

func TestRedactTask(t *testing.T) {
	task := ecstypes.Task{Overrides: &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{
		Name:        aws.String("app"),
		Environment: []ecstypes.KeyValuePair{{Name: aws.String("DB_PASSWORD"), Value: aws.String("hunter2")}},
	}}}}
	got := toData(redactTask(task))
	want := map[string]any{"EnableExecuteCommand": false, "Version": 0.0, "Overrides": map[string]any{"ContainerOverrides": []any{map[string]any{
		"Name": "app", "Environment": []any{map[string]any{"Name": "DB_PASSWORD"}},
	}}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("redacted task (-want +got):\n%s", d)
	}
	if v := aws.ToString(task.Overrides.ContainerOverrides[0].Environment[0].Value); v != "hunter2" {
		t.Errorf("redactTask changed its argument: %q", v)
	}
}
