package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// Views runs the conformance tests of store.Views. reopen returns the
// same backend's data as a new process would see it.
func Views(t *testing.T, open func(t *testing.T) (s store.Views, reopen func() store.Views)) {
	ctx := context.Background()
	s, reopen := open(t)
	if got, err := s.ListViews(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListViews of a new store = %v, %v; want none", got, err)
	}
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	prod := model.View{ID: "v-1", Name: "Production <web>", Created: at, Updated: at,
		Filter: model.ViewFilter{Labels: []string{"env:prod", "team:*"}, Layers: []string{model.LayerMachines}, Name: "web"}}
	queues := model.View{ID: "v-2", Name: "all queues", Created: at, Updated: at,
		Filter: model.ViewFilter{Types: []string{"aws.sqs.queue"}, Accounts: []string{"123456789012"}, Regions: []string{"eu-west-1"}}}
	for _, v := range []model.View{prod, queues} {
		if err := s.PutView(ctx, v); err != nil {
			t.Fatalf("PutView(%s): %v", v.ID, err)
		}
	}
	if err := s.PutView(ctx, model.View{ID: "v-3", Name: "ALL QUEUES"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("PutView of a taken name (other case) = %v, want ErrExists", err)
	}
	// Renaming a view to its own name in another case is no conflict.
	queues.Name, queues.Updated = "All queues", at.Add(time.Hour)
	if err := s.PutView(ctx, queues); err != nil {
		t.Errorf("PutView renaming v-2 = %v", err)
	}
	if err := s.DeleteView(ctx, "v-9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteView of an unknown id = %v, want ErrNotFound", err)
	}
	s = reopen()
	got, err := s.ListViews(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]model.View{queues, prod}, got); diff != "" {
		t.Errorf("ListViews after a restart, by name (-want +got):\n%s", diff)
	}
	if err := s.DeleteView(ctx, "v-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ListViews(ctx); err != nil || len(got) != 1 || got[0].ID != "v-2" {
		t.Errorf("ListViews after deleting v-1 = %v, %v; want v-2 only", got, err)
	}
}
