package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): services are
// event categories, service requests are events. Requests are form-encoded
// as the spec says; the token may come as api_key instead of a bearer header.

type o311Service struct {
	ServiceCode string `json:"service_code"`
	ServiceName string `json:"service_name"`
	Description string `json:"description"`
	Metadata    bool   `json:"metadata"`
	Type        string `json:"type"`
	Keywords    string `json:"keywords"`
	Group       string `json:"group"`
}

type o311Request struct {
	ServiceRequestID  string  `json:"service_request_id"`
	Status            string  `json:"status"` // open or closed
	StatusNotes       string  `json:"status_notes,omitempty"`
	ServiceName       string  `json:"service_name"`
	ServiceCode       string  `json:"service_code"`
	Description       string  `json:"description"`
	AgencyResponsible string  `json:"agency_responsible,omitempty"`
	RequestedDatetime string  `json:"requested_datetime"`
	UpdatedDatetime   string  `json:"updated_datetime,omitempty"`
	ExpectedDatetime  string  `json:"expected_datetime"`
	Lat               float64 `json:"lat,omitempty"`
	Long              float64 `json:"long,omitempty"`
}

func (s *Server) o311Services(w http.ResponseWriter, r *http.Request) error {
	cats, err := s.b.Store().Events.Categories()
	if err != nil {
		return err
	}
	out := make([]o311Service, 0, len(cats))
	for _, c := range cats {
		out = append(out, o311Service{ServiceCode: c.Code, ServiceName: c.Name, Description: c.Name + " (" + c.Number + ")",
			Type: "realtime", Keywords: c.Code, Group: c.Source})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func o311View(ev *model.Event, names map[string]string) o311Request {
	status := "open"
	switch ev.Status {
	case model.StatusClosed, model.StatusRejected, model.StatusMerged:
		status = "closed"
	}
	v := o311Request{ServiceRequestID: ev.ID, Status: status, StatusNotes: string(ev.Status), ServiceName: names[ev.Category],
		ServiceCode: ev.Category, Description: ev.Description, AgencyResponsible: ev.Handler,
		RequestedDatetime: ev.ReportedAt.Format(time.RFC3339), ExpectedDatetime: ev.Deadline.Format(time.RFC3339)}
	if ev.Location != nil {
		v.Lat, v.Long = ev.Location.Lat, ev.Location.Lng
	}
	return v
}

func (s *Server) categoryNames() map[string]string {
	cats, _ := s.b.Store().Events.Categories()
	m := make(map[string]string, len(cats))
	for _, c := range cats {
		m[c.Code] = c.Name
	}
	return m
}

func formFloat(r *http.Request, name string) (float64, bool, error) {
	v := r.PostForm.Get(name)
	if v == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false, errs.Invalid(name, "number", "%s must be a number", name)
	}
	return f, true, nil
}

// o311Create takes service_code, lat and long (or address_string naming a
// jurisdiction code), description, and the optional contact fields.
func (s *Server) o311Create(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		return errs.Invalid("body", "form", "send application/x-www-form-urlencoded (Open311 GeoReport v2)")
	}
	rep := model.Report{Category: r.PostForm.Get("service_code"), Description: r.PostForm.Get("description"), Source: "resident",
		Reporter: strings.TrimSpace(r.PostForm.Get("first_name") + " " + r.PostForm.Get("last_name"))}
	lat, hasLat, err := formFloat(r, "lat")
	if err != nil {
		return err
	}
	lng, hasLng, err := formFloat(r, "long")
	if err != nil {
		return err
	}
	if hasLat && hasLng {
		rep.Location = &model.Point{Lng: lng, Lat: lat}
	} else if a := r.PostForm.Get("address_string"); a != "" {
		rep.Jurisdiction = a
	}
	place, err := s.placeOf(&rep)
	if err != nil {
		return err
	}
	if err := inScope(tk, place, "lat", "area", place); err != nil {
		return err
	}
	ev, err := s.b.Store().Events.Report(r.Context(), rep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, []open311Created{{ServiceRequestID: ev.ID, ServiceNotice: "已上报，受理时限 " + ev.AcceptBy.Format(time.RFC3339)}})
	return nil
}

func (s *Server) o311List(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	q := r.URL.Query()
	query := model.Query{Jurisdiction: tk.Scope, Category: q.Get("service_code"), Limit: 500}
	if err := s.consistent(r); err != nil {
		return err
	}
	names := s.categoryNames()
	out := []o311Request{}
	if ids := q.Get("service_request_id"); ids != "" {
		for _, id := range strings.Split(ids, ",") {
			if ev, err := s.b.Store().Events.Get(strings.TrimSpace(id)); err == nil && tk.Covers(ev.Place()) {
				out = append(out, o311View(ev, names))
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	status := q.Get("status")
	if status != "" && status != "open" && status != "closed" {
		return errs.Invalid("status", "enum", "status must be open or closed")
	}
	page, err := s.b.Store().Events.List(query)
	if err != nil {
		return err
	}
	for _, ev := range page.Events {
		v := o311View(ev, names)
		if status == "" || v.Status == status {
			out = append(out, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) o311Get(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	id := strings.TrimSuffix(r.PathValue("file"), ".json")
	ev, err := s.b.Store().Events.Get(id)
	if errors.Is(err, errs.ErrNotFound) || err == nil && !tokenOf(r.Context()).Covers(ev.Place()) {
		// Missing and out of scope read alike.
		return errs.NotFound("service_request_id", "request %s not found", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []o311Request{o311View(ev, s.categoryNames())})
	return nil
}
