package api

import (
	"net/http"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// The group's working rules over the API (center_admin; every change is a
// command, so it is in the audit chain): the deadline table, the
// working-day calendar with its 调休 working days, and local categories.

func (s *Server) getSLA(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	c, err := s.b.Store().Events.SLA()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) setSLA(w http.ResponseWriter, r *http.Request) error {
	var c model.SLAConfig
	if err := decode(r, &c); err != nil {
		return err
	}
	if err := s.b.Store().Events.SetSLA(r.Context(), c); err != nil {
		return err
	}
	return s.getSLA(w, r)
}

func (s *Server) getCalendar(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	c, err := s.b.Store().Events.Calendar()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) setCalendar(w http.ResponseWriter, r *http.Request) error {
	var c workcal.Calendar
	if err := decode(r, &c); err != nil {
		return err
	}
	if err := s.b.Store().Events.SetCalendar(r.Context(), c); err != nil {
		return err
	}
	return s.getCalendar(w, r)
}

// categoryInput is a local category: its source is "local".
type categoryInput struct {
	Code   string `json:"code"`
	Number string `json:"number"`
	Name   string `json:"name"`
	Minor  bool   `json:"minor,omitempty"`
}

func (s *Server) addCategory(w http.ResponseWriter, r *http.Request) error {
	var in categoryInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.b.Store().Events.AddCategory(r.Context(), model.Category{Code: in.Code, Number: in.Number, Name: in.Name, Minor: in.Minor, Source: "local"})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) getOpen311Config(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	c, err := s.b.Store().Events.Open311Config()
	if err != nil {
		return err
	}
	if c.PublicServices == nil {
		c.PublicServices = []string{}
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) setOpen311Config(w http.ResponseWriter, r *http.Request) error {
	var c model.Open311Config
	if err := decode(r, &c); err != nil {
		return err
	}
	if _, err := s.b.Store().Events.SetOpen311Config(r.Context(), c); err != nil {
		return err
	}
	return s.getOpen311Config(w, r)
}
