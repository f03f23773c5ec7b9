package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
	"github.com/skymap/skymap/internal/store"
)

// Instance is a configured AWS instance as the built-in views need it.
type Instance struct {
	Name string
	// Account is the instance's account id, "" until it is known (the
	// account of base credentials is learnt when it is first reached).
	Account string
}

// ViewList is the answer of GET /api/views.
type ViewList struct {
	Views []model.View `json:"views"`
}

// ViewDetail is the answer of GET /api/views/{id}: the view and how many
// components of the map it holds now.
type ViewDetail struct {
	model.View
	Components int `json:"components"`
}

// ViewRequest is the body of POST /api/views and PUT /api/views/{id}.
type ViewRequest struct {
	Name   string           `json:"name"`
	Filter model.ViewFilter `json:"filter"`
}

// Limits of a user-defined view.
const (
	maxViewBody   = 64 << 10
	maxViewName   = 200
	maxViewValues = 100
	maxViewValue  = 512
)

func (s *Server) viewsRoutes(mux router) {
	mux.Handle("GET /api/views", s.handle(s.listViews))
	mux.Handle("POST /api/views", s.handleStatus(http.StatusCreated, s.createView))
	mux.Handle("GET /api/views/{id}", s.handle(s.getView))
	mux.Handle("PUT /api/views/{id}", s.handle(s.updateView))
	mux.Handle("DELETE /api/views/{id}", s.handle(s.deleteView))
}

// builtinViews returns the built-in views of every configured instance,
// in the configuration's order; with more than one instance, first those
// of every instance together ("AWS - every instance - All" and so on).
func (s *Server) builtinViews() []model.View {
	if s.Instances == nil {
		return nil
	}
	instances := s.Instances()
	var out []model.View
	used := map[string]bool{}
	if len(instances) > 1 {
		out = model.BuiltinViews(everyInstance, viewSlug(everyInstance), "", nil)
		used[viewSlug(everyInstance)] = true
	}
	for i, in := range instances {
		slug := viewSlug(in.Name)
		if used[slug] {
			slug += "-" + strconv.Itoa(i+1)
		}
		used[slug] = true
		out = append(out, model.BuiltinViews(in.Name, slug, in.Name, []string{in.Account})...)
	}
	return out
}

// everyInstance names the built-in views of all instances together.
const everyInstance = "every instance"

// viewSlug makes an id part of an instance name: lower case letters,
// digits and dashes.
func viewSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	if s := strings.TrimSuffix(b.String(), "-"); s != "" {
		return s
	}
	return "instance"
}

func (s *Server) allViews(r *http.Request) ([]model.View, error) {
	views := s.builtinViews()
	if s.Views != nil {
		user, err := s.Views.ListViews(r.Context())
		if err != nil {
			return nil, err
		}
		views = append(views, user...)
	}
	if views == nil {
		views = []model.View{}
	}
	return views, nil
}

// view returns the view id, or a 404 naming it.
func (s *Server) view(r *http.Request, id string) (model.View, error) {
	views, err := s.allViews(r)
	if err != nil {
		return model.View{}, err
	}
	if i := slices.IndexFunc(views, func(v model.View) bool { return v.ID == id }); i >= 0 {
		return views[i], nil
	}
	return model.View{}, notFound("no view " + strconv.Quote(id))
}

// viewParam returns the filter of the view named by the view parameter,
// nil when there is none.
func (s *Server) viewParam(r *http.Request) (func(model.Component) bool, error) {
	id := r.URL.Query().Get("view")
	if id == "" {
		return nil, nil
	}
	v, err := s.view(r, id)
	if err != nil {
		return nil, notFound("view: no view " + strconv.Quote(id))
	}
	return v.Filter.Matcher(), nil
}

func (s *Server) listViews(r *http.Request) (any, error) {
	views, err := s.allViews(r)
	if err != nil {
		return nil, err
	}
	return ViewList{Views: views}, nil
}

func (s *Server) getView(r *http.Request) (any, error) {
	v, err := s.view(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	_, n := s.Graph.Select(v.Filter.Matcher(), 0, 0)
	return ViewDetail{View: v, Components: n}, nil
}

func (s *Server) createView(r *http.Request) (any, error) {
	if s.Views == nil {
		return nil, viewsUnavailable()
	}
	req, err := s.viewRequest(r)
	if err != nil {
		return nil, err
	}
	if err := s.nameFree(r, req.Name, ""); err != nil {
		return nil, err
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("view id: %w", err)
	}
	now := time.Now().UTC()
	v := model.View{ID: "v-" + hex.EncodeToString(id[:]), Name: req.Name, Filter: req.Filter, Created: now, Updated: now}
	if err := s.Views.PutView(r.Context(), v); err != nil {
		return nil, viewStoreError(err, v.Name)
	}
	return v, nil
}

func (s *Server) updateView(r *http.Request) (any, error) {
	v, err := s.userView(r)
	if err != nil {
		return nil, err
	}
	req, err := s.viewRequest(r)
	if err != nil {
		return nil, err
	}
	if err := s.nameFree(r, req.Name, v.ID); err != nil {
		return nil, err
	}
	v.Name, v.Filter, v.Updated = req.Name, req.Filter, time.Now().UTC()
	if err := s.Views.PutView(r.Context(), v); err != nil {
		return nil, viewStoreError(err, v.Name)
	}
	return v, nil
}

func (s *Server) deleteView(r *http.Request) (any, error) {
	v, err := s.userView(r)
	if err != nil {
		return nil, err
	}
	if err := s.Views.DeleteView(r.Context(), v.ID); errors.Is(err, store.ErrNotFound) {
		return nil, notFound("no view " + strconv.Quote(v.ID))
	} else if err != nil {
		return nil, err
	}
	return map[string]string{"deleted": v.ID}, nil
}

// userView returns the user-defined view of the id path value: a built-in
// view cannot be changed.
func (s *Server) userView(r *http.Request) (model.View, error) {
	if s.Views == nil {
		return model.View{}, viewsUnavailable()
	}
	v, err := s.view(r, r.PathValue("id"))
	if err != nil {
		return v, err
	}
	if v.Builtin {
		return v, &apiError{errForbidden, "builtin_view", "view " + strconv.Quote(v.ID) +
			" is built in (it follows the configured instances): define a view of your own instead"}
	}
	return v, nil
}

// nameFree fails with 409 when a view other than id is named name,
// ignoring case; built-in views count too.
func (s *Server) nameFree(r *http.Request, name, id string) error {
	views, err := s.allViews(r)
	if err != nil {
		return err
	}
	for _, v := range views {
		if v.ID != id && strings.EqualFold(v.Name, name) {
			return viewNameTaken(name, v.ID)
		}
	}
	return nil
}

func viewNameTaken(name, by string) error {
	msg := "name: " + strconv.Quote(name) + " is taken"
	if by != "" {
		msg += " by view " + strconv.Quote(by)
	}
	return &apiError{errConflict, "view_exists", msg}
}

func viewStoreError(err error, name string) error {
	if errors.Is(err, store.ErrExists) {
		return viewNameTaken(name, "")
	}
	return err
}

func viewsUnavailable() error {
	return &apiError{errUnavailable, "views_off", "user-defined views need a store, and this server has none"}
}

// viewRequest reads and checks the JSON body of a view: errors name the
// field, e.g. "filter.layers[1]".
func (s *Server) viewRequest(r *http.Request) (ViewRequest, error) {
	var req ViewRequest
	// JSON only: a cross-site HTML form cannot send it without the
	// browser asking first, so a signed-in browser cannot be made to.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return req, &apiError{errMediaType, "unsupported_media_type",
			"Content-Type: want application/json, got " + strconv.Quote(r.Header.Get("Content-Type"))}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxViewBody+1))
	if err != nil {
		return req, badRequest("body: " + err.Error())
	}
	if len(body) > maxViewBody {
		return req, badRequest(fmt.Sprintf("body: longer than %d bytes", maxViewBody))
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, badRequest(`body: want {"name": "...", "filter": {"types": [...], "layers": [...], "labels": [...], ` +
			`"accounts": [...], "regions": [...], "name": "..."}}: ` + err.Error())
	}
	req.Name = strings.TrimSpace(req.Name)
	if err := checkText("name", req.Name, maxViewName, true); err != nil {
		return req, err
	}
	f := &req.Filter
	if err := checkText("filter.name", f.Name, maxViewValue, false); err != nil {
		return req, err
	}
	lists := []struct {
		field  string
		values *[]string
		check  func(string) (string, error)
	}{
		{"types", &f.Types, s.checkType},
		{"layers", &f.Layers, checkLayer},
		{"labels", &f.Labels, func(l string) (string, error) { return l, nil }},
		{"accounts", &f.Accounts, func(a string) (string, error) {
			if !partition.IsAccountID(a) {
				return "", errors.New("want a 12-digit account id")
			}
			return a, nil
		}},
		{"regions", &f.Regions, func(rg string) (string, error) {
			if _, ok := partition.OfRegion(rg); !ok && rg != partition.Global {
				return "", errors.New("unknown region")
			}
			return rg, nil
		}},
	}
	for _, l := range lists {
		if len(*l.values) > maxViewValues {
			return req, badRequest(fmt.Sprintf("filter.%s: %d values, at most %d", l.field, len(*l.values), maxViewValues))
		}
		for i, v := range *l.values {
			field := fmt.Sprintf("filter.%s[%d]", l.field, i)
			if err := checkText(field, v, maxViewValue, true); err != nil {
				return req, err
			}
			c, err := l.check(v)
			if err != nil {
				return req, badRequest(field + ": " + strconv.Quote(v) + ": " + err.Error())
			}
			(*l.values)[i] = c
		}
		if len(*l.values) == 0 {
			*l.values = nil
		}
	}
	return req, nil
}

// checkText refuses text a view cannot hold: too long, not UTF-8, with
// control characters, or empty when required.
func checkText(field, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return badRequest(field + ": must not be empty")
	case len(v) > max:
		return badRequest(fmt.Sprintf("%s: %d bytes, at most %d", field, len(v), max))
	case !utf8.ValidString(v):
		return badRequest(field + ": not valid UTF-8")
	case strings.ContainsFunc(v, unicode.IsControl):
		return badRequest(field + ": holds control characters")
	}
	return nil
}

func (s *Server) checkType(t string) (string, error) {
	if len(s.KnownTypes) > 0 && !slices.Contains(s.KnownTypes, t) {
		return "", errors.New("unknown component type (docs/topology.md lists them)")
	}
	return t, nil
}

// checkLayer returns the layer as TOPOLOGY.md spells it.
func checkLayer(l string) (string, error) {
	for _, known := range model.Layers {
		if strings.EqualFold(l, known) {
			return known, nil
		}
	}
	return "", errors.New("unknown layer; known are " + strings.Join(model.Layers, ", "))
}
