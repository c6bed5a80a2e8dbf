package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/paulmach/orb"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, statusView{Status: "ok"})
	return nil
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) error {
	if err := s.b.Ready(); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusView{Status: "ready"})
	return nil
}

func (s *Server) getJurisdiction(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	st := s.b.Store()
	j, err := st.Jurisdictions.Get(code)
	if err != nil {
		return err
	}
	if err := inScope(tokenOf(r.Context()), j.Code, "code", "jurisdiction", code); err != nil {
		return err
	}
	kids, err := st.Jurisdictions.Children(j.Code)
	if err != nil {
		return err
	}
	if kids == nil {
		kids = []model.Jurisdiction{}
	}
	v := jurisdictionView{Jurisdiction: j, Children: kids}
	if r.URL.Query().Get("bounds") == "true" {
		// The outlines the console's map draws: this jurisdiction's and each
		// child's, where known (no tile server behind them).
		v.Bounds = map[string]orb.MultiPolygon{}
		for _, c := range append([]model.Jurisdiction{j}, kids...) {
			if !c.HasBounds {
				continue
			}
			if g, ok, err := st.Jurisdictions.Bounds(c.Code); err == nil && ok {
				v.Bounds[c.Code] = g
			}
		}
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// feature renders a grid as an RFC 7946 Feature.
type feature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Geometry   geometry       `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type geometry struct {
	Type        string      `json:"type"`
	Coordinates orb.Polygon `json:"coordinates"`
}

func gridFeature(g *model.Grid) feature {
	return feature{Type: "Feature", ID: g.Code, Geometry: geometry{Type: "Polygon", Coordinates: g.Geometry},
		Properties: map[string]any{"code": g.Code, "name": g.Name, "jurisdiction": g.Jurisdiction, "type": g.Type,
			"dedicated": g.Dedicated, "duties": g.Duties, "status": g.Status, "derived": g.Derived, "workers": g.Workers}}
}

func (s *Server) listGrids(w http.ResponseWriter, r *http.Request) error {
	under, err := s.underParam(r)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(r, "listGrids")
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	gs, next, err := s.b.Store().Grids.List(under, cursor, limit)
	if err != nil {
		return err
	}
	fc := featureCollection{Type: "FeatureCollection", Features: []feature{}, Next: next}
	for _, g := range gs {
		fc.Features = append(fc.Features, gridFeature(g))
	}
	w.Header().Set("Content-Type", "application/geo+json")
	writeJSON(w, http.StatusOK, fc)
	return nil
}

// gridInput is a GeoJSON Feature whose properties describe the grid.
type gridInput struct {
	Type       string          `json:"type"`
	ID         string          `json:"id,omitempty"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties struct {
		Code         string         `json:"code"`
		Name         string         `json:"name"`
		Jurisdiction string         `json:"jurisdiction"`
		Type         model.GridType `json:"type,omitempty"`
		Dedicated    string         `json:"dedicated,omitempty"`
		Duties       []string       `json:"duties,omitempty"`
	} `json:"properties"`
}

func (s *Server) createGrid(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var in gridInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Type != "Feature" {
		return errs.Invalid("type", "geojson", "a grid is a GeoJSON Feature")
	}
	p := in.Properties
	if p.Jurisdiction == "" {
		return errs.Invalid("properties.jurisdiction", "required", "name the village/community the grid lies in")
	}
	if _, err := s.resolveIn(tk, p.Jurisdiction, "properties.jurisdiction"); err != nil {
		return err
	}
	g, err := s.b.Store().Grids.Create(r.Context(), model.GridSpec{Code: p.Code, Name: p.Name, Jurisdiction: p.Jurisdiction,
		Type: p.Type, Dedicated: p.Dedicated, Duties: p.Duties, Geometry: in.Geometry})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/grids/"+g.Code)
	writeJSON(w, http.StatusCreated, gridFeature(g))
	return nil
}

func (s *Server) getGrid(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	g, err := s.scopedGrid(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gridFeature(g))
	return nil
}

func floatParam(r *http.Request, name string) (float64, error) {
	v, err := strconv.ParseFloat(r.URL.Query().Get(name), 64)
	if err != nil {
		return 0, errs.Invalid(name, "number", "%s must be a number", name)
	}
	return v, nil
}

func (s *Server) locateGrid(w http.ResponseWriter, r *http.Request) error {
	lng, err := floatParam(r, "lng")
	if err != nil {
		return err
	}
	lat, err := floatParam(r, "lat")
	if err != nil {
		return err
	}
	g, err := s.b.Store().Grids.Locate(lng, lat)
	if err != nil {
		return err
	}
	if err := inScope(tokenOf(r.Context()), g.Place(), "location", "grid at", "that point"); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gridFeature(g))
	return nil
}

func (s *Server) listCategories(w http.ResponseWriter, r *http.Request) error {
	cats, err := s.b.Store().Events.Categories()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, categoriesView{Categories: cats})
	return nil
}

// loadDivisions upserts divisions (parents before children) and aliases.

// loadDivisionsRequest is the body of loadDivisions.
type loadDivisionsRequest struct {
	Divisions []divisions.Division `json:"divisions"`
	Aliases   map[string]string    `json:"aliases,omitempty"`
}

func (s *Server) loadDivisions(w http.ResponseWriter, r *http.Request) error {
	var in loadDivisionsRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	tk := tokenOf(r.Context())
	for i, d := range in.Divisions {
		if !tk.Covers(d.Code) && d.Tier != divisions.Province && d.Tier != divisions.City {
			return errs.NotFound(fmt.Sprintf("divisions[%d].code", i), "division %s is outside your scope", d.Code)
		}
	}
	// Aliases are checked as divisions are: both codes inside the scope
	// (apply checks again, against the state it changes).
	for old, cur := range in.Aliases {
		if !tk.Covers(old) || !tk.Covers(cur) {
			return errs.NotFound("aliases."+old, "division %s is outside your scope", old)
		}
	}
	if err := s.b.Store().Jurisdictions.Load(r.Context(), in.Divisions, in.Aliases); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loadedView{Loaded: len(in.Divisions)})
	return nil
}

func (s *Server) updateGrid(w http.ResponseWriter, r *http.Request) error {
	var in gridInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Type != "Feature" {
		return errs.Invalid("type", "geojson", "a grid is a GeoJSON Feature")
	}
	g, err := s.scopedGrid(r)
	if err != nil {
		return err
	}
	p := in.Properties
	if p.Code != "" && p.Code != g.Code {
		return errs.Invalid("properties.code", "immutable", "the code in the body is not the one in the path")
	}
	if p.Jurisdiction != "" && p.Jurisdiction != g.Jurisdiction {
		return errs.Invalid("properties.jurisdiction", "immutable", "a grid cannot move to another village")
	}
	if g, err = s.b.Store().Grids.Update(r.Context(), model.GridSpec{Code: g.Code, Name: p.Name, Jurisdiction: g.Jurisdiction,
		Type: p.Type, Dedicated: p.Dedicated, Duties: p.Duties, Geometry: in.Geometry}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gridFeature(g))
	return nil
}

func (s *Server) retireGrid(w http.ResponseWriter, r *http.Request) error {
	var in retireRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := s.scopedGrid(r)
	if err != nil {
		return err
	}
	if err := s.b.Store().Grids.Retire(r.Context(), g.Code, in.Reason); err != nil {
		return err
	}
	return s.writeGrid(w, g.Code)
}

// assignRequest puts a worker on a grid in a role.
type assignRequest struct {
	Role string `json:"role"`
}

func (s *Server) assignWorker(w http.ResponseWriter, r *http.Request) error {
	var in assignRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = "none"
	}
	return s.assign(w, r, in.Role)
}

func (s *Server) removeWorker(w http.ResponseWriter, r *http.Request) error {
	return s.assign(w, r, "")
}

// assign sets (or, with role "", removes) the path's worker on the path's grid.
func (s *Server) assign(w http.ResponseWriter, r *http.Request, role string) error {
	g, err := s.scopedGrid(r)
	if err != nil {
		return err
	}
	if role != "" && !slices.Contains(model.WorkerRoles, role) {
		return errs.Invalid("role", "enum", "role must be one of %v (DELETE takes a worker off)", model.WorkerRoles)
	}
	if g, err = s.b.Store().Grids.Assign(r.Context(), g.Code, r.PathValue("worker"), role); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gridFeature(g))
	return nil
}

func (s *Server) putWorker(w http.ResponseWriter, r *http.Request) error {
	var in model.Worker
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Jurisdiction == "" {
		return errs.Invalid("jurisdiction", "required", "name the jurisdiction the worker belongs to")
	}
	cur, err := s.resolveIn(tokenOf(r.Context()), in.Jurisdiction, "jurisdiction")
	if err != nil {
		return err
	}
	in.Jurisdiction = cur
	if err := s.b.Store().Grids.PutWorker(r.Context(), in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// scopedGrid loads the grid the path names; one outside the caller's scope
// answers as no grid.
func (s *Server) scopedGrid(r *http.Request) (*model.Grid, error) {
	code := r.PathValue("code")
	g, err := s.b.Store().Grids.Get(code)
	if err != nil {
		return nil, err
	}
	return g, inScope(tokenOf(r.Context()), g.Place(), "code", "grid", code)
}

func (s *Server) writeGrid(w http.ResponseWriter, code string) error {
	g, err := s.b.Store().Grids.Get(code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gridFeature(g))
	return nil
}
