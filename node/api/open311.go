package api

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): services are
// event categories, service requests are events. Requests are form-encoded
// as the spec says; the token may come as api_key instead of a bearer header.

type o311Service struct {
	ServiceCode string `json:"service_code" xml:"service_code"`
	ServiceName string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"`
	Keywords    string `json:"keywords" xml:"keywords"`
	Group       string `json:"group" xml:"group"`
}

type o311Request struct {
	ServiceRequestID  string  `json:"service_request_id" xml:"service_request_id"`
	Status            string  `json:"status" xml:"status"` // open or closed
	StatusNotes       string  `json:"status_notes,omitempty" xml:"status_notes,omitempty"`
	ServiceName       string  `json:"service_name" xml:"service_name"`
	ServiceCode       string  `json:"service_code" xml:"service_code"`
	Description       string  `json:"description" xml:"description"`
	AgencyResponsible string  `json:"agency_responsible,omitempty" xml:"agency_responsible,omitempty"`
	RequestedDatetime string  `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string  `json:"updated_datetime,omitempty" xml:"updated_datetime,omitempty"`
	ExpectedDatetime  string  `json:"expected_datetime" xml:"expected_datetime"`
	AddressID         string  `json:"address_id,omitempty" xml:"address_id,omitempty"`
	MediaURL          string  `json:"media_url,omitempty" xml:"media_url,omitempty"`
	Lat               float64 `json:"lat,omitempty" xml:"lat,omitempty"`
	Long              float64 `json:"long,omitempty" xml:"long,omitempty"`
}

func (s *Server) o311Services(w http.ResponseWriter, r *http.Request) error {
	cats, err := s.b.Store().Events.Categories()
	if err != nil {
		return err
	}
	shown, err := s.o311Shown(r)
	if err != nil {
		return err
	}
	out := make([]o311Service, 0, len(cats))
	for _, c := range cats {
		if !shown(c.Code) {
			continue
		}
		out = append(out, o311Service{ServiceCode: c.Code, ServiceName: c.Name, Description: c.Name + " (" + c.Number + ")",
			Metadata: true, Type: "realtime", Keywords: c.Code, Group: c.Source})
	}
	if o311XML(r) {
		writeO311(w, r, http.StatusOK, o311ServicesXML{Services: out})
		return nil
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// o311Attribute is one attribute of a service definition.
type o311Attribute struct {
	Variable            bool        `json:"variable" xml:"variable"`
	Code                string      `json:"code" xml:"code"`
	Datatype            string      `json:"datatype" xml:"datatype"`
	Required            bool        `json:"required" xml:"required"`
	DatatypeDescription *string     `json:"datatype_description" xml:"datatype_description"`
	Order               int         `json:"order" xml:"order"`
	Description         string      `json:"description" xml:"description"`
	Values              []o311Value `json:"values,omitempty" xml:"values>value,omitempty"`
}

// o311Value is one choice of a list attribute.
type o311Value struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

// o311Definition is a service definition (services/{code}.json).
type o311Definition struct {
	XMLName     xml.Name        `json:"-" xml:"service_definition"`
	ServiceCode string          `json:"service_code" xml:"service_code"`
	Attributes  []o311Attribute `json:"attributes" xml:"attributes>attribute"`
}

// o311Service answers a service definition. A category's own fields are
// the report's; the attributes a region's plugins declare join them as the
// console's forms do (issue 25).
func (s *Server) o311Service(w http.ResponseWriter, r *http.Request) error {
	code := strings.TrimSuffix(strings.TrimSuffix(r.PathValue("file"), ".json"), ".xml")
	shown, err := s.o311Shown(r)
	if err != nil {
		return err
	}
	names, err := s.categoryNames()
	if err != nil {
		return err
	}
	if _, ok := names[code]; !ok || !shown(code) {
		return errs.NotFound("service_code", "service %s not found", code)
	}
	writeO311(w, r, http.StatusOK, o311Definition{ServiceCode: code, Attributes: o311Attributes(s.reportFields())})
	return nil
}

// o311Discovery is the spec's service discovery: where the endpoint is,
// what it speaks. It names no data, so it needs no key.
type o311Discovery struct {
	XMLName    xml.Name       `json:"-" xml:"discovery"`
	Changeset  string         `json:"changeset" xml:"changeset"`
	Contact    string         `json:"contact" xml:"contact"`
	KeyService string         `json:"key_service" xml:"key_service"`
	Endpoints  []o311Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

type o311Endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

// o311Changeset is when this endpoint's interface last changed.
const o311Changeset = "2026-12-07T00:00:00+08:00"

func (s *Server) o311Discovery(w http.ResponseWriter, r *http.Request) error {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host + "/open311/v2"
	writeO311(w, r, http.StatusOK, o311Discovery{Changeset: o311Changeset,
		Contact:    "the 综治中心 that runs this node (jurisdiction " + s.b.Jurisdiction() + ")",
		KeyService: "API keys are tokens issued by the centre's security administrator (POST /api/v1/tokens)",
		Endpoints: []o311Endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2", URL: base, Changeset: o311Changeset,
			Type: "production", Formats: []string{"application/json", "text/xml"}}}})
	return nil
}

// o311View is an event as a service request: the reason it stands as it
// does in status_notes, and when it last changed.
func o311View(ev *model.Event, tl []model.TimelineEntry, names map[string]string) o311Request {
	status := "open"
	switch ev.Status {
	case model.StatusClosed, model.StatusRejected, model.StatusMerged:
		status = "closed"
	}
	v := o311Request{ServiceRequestID: ev.ID, Status: status, StatusNotes: statusNotes(ev, tl), ServiceName: names[ev.Category],
		ServiceCode: ev.Category, Description: ev.Description, AgencyResponsible: strings.TrimPrefix(ev.Handler, "dept:"),
		RequestedDatetime: cst(ev.ReportedAt), ExpectedDatetime: cst(ev.Deadline), AddressID: model.PlaceOf(ev.Jurisdiction, ev.Grid)}
	if len(tl) > 0 {
		v.UpdatedDatetime = cst(tl[len(tl)-1].At)
	}
	if raw, ok := ev.Ext[o311MediaExt]; ok {
		json.Unmarshal(raw, &v.MediaURL)
	}
	if ev.Location != nil {
		v.Lat, v.Long = ev.Location.Lat, ev.Location.Lng
	}
	return v
}

func cst(t time.Time) string { return t.In(workcal.CST).Format(time.RFC3339) }

// statusNotes says why a request stands as it does: 不予受理 and its
// reason, merged into another, or the state and its latest note.
func statusNotes(ev *model.Event, tl []model.TimelineEntry) string {
	label := model.Label(model.StatusLabels, ev.Status)
	switch ev.Status {
	case model.StatusMerged:
		return label + "：并入 " + ev.MergedInto
	case model.StatusRejected:
		for i := len(tl) - 1; i >= 0; i-- {
			if tl[i].Action == "reject" {
				return label + "：" + tl[i].Data["reason"]
			}
		}
	}
	for i := len(tl) - 1; i >= 0; i-- {
		if tl[i].Note != "" {
			return label + "：" + tl[i].Note
		}
	}
	return label
}

func (s *Server) categoryNames() (map[string]string, error) {
	cats, err := s.b.Store().Events.Categories()
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(cats))
	for _, c := range cats {
		m[c.Code] = c.Name
	}
	return m, nil
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
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return errTooLarge
		}
		return errs.Invalid("body", "form", "send application/x-www-form-urlencoded (Open311 GeoReport v2)")
	}
	if r.PostForm.Get("service_code") == "" {
		return errs.Invalid("service_code", "required", "service_code is required")
	}
	names, err := s.categoryNames()
	if err != nil {
		return err
	}
	if _, ok := names[r.PostForm.Get("service_code")]; !ok {
		return errs.NotFound("service_code", "service %q not found", r.PostForm.Get("service_code"))
	}
	rep := model.Report{Category: r.PostForm.Get("service_code"), Description: r.PostForm.Get("description"), Source: "resident",
		Reporter: strings.TrimSpace(r.PostForm.Get("first_name") + " " + r.PostForm.Get("last_name")), Phone: r.PostForm.Get("phone"), Email: r.PostForm.Get("email")}
	if m := r.PostForm.Get("media_url"); m != "" {
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(m) > 2000 {
			return errs.Invalid("media_url", "format", "media_url must be an http or https URL")
		}
		raw, _ := json.Marshal(m)
		rep.Ext = map[string]json.RawMessage{o311MediaExt: raw} // kept as a link, never fetched
	}
	lat, hasLat, err := formFloat(r, "lat")
	if err != nil {
		return err
	}
	lng, hasLng, err := formFloat(r, "long")
	if err != nil {
		return err
	}
	switch {
	case hasLat && hasLng:
		rep.Location = &model.Point{Lng: lng, Lat: lat}
	case r.PostForm.Get("address_id") != "":
		// A grid or a village/community code.
		if id := r.PostForm.Get("address_id"); len(id) > 12 {
			rep.Grid = id
		} else {
			rep.Jurisdiction = id
		}
	case r.PostForm.Get("address_string") != "":
		if rep.Grid, rep.Jurisdiction, err = s.placeNamed(tk, r.PostForm.Get("address_string")); err != nil {
			return err
		}
	}
	fields := s.reportFields()
	attrs, err := o311AttributeValues(r.PostForm, fields)
	if err != nil {
		return err
	}
	if len(attrs) > 0 {
		if rep.Ext == nil {
			rep.Ext = map[string]json.RawMessage{}
		}
		maps.Copy(rep.Ext, attrs)
	}
	ctx, err := withReportFields(r.Context(), rep.Ext, fields, func(k string) string { return "attribute[" + k + "]" })
	if err != nil {
		return err
	}
	place, err := s.placeOf(&rep)
	if err != nil {
		return err
	}
	if err := inScope(tk, place, "lat", "area", place); err != nil {
		return err
	}
	ev, err := s.b.Store().Events.Report(ctx, rep)
	if err != nil {
		return err
	}
	created := []open311Created{{ServiceRequestID: ev.ID, ServiceNotice: "已上报，受理时限 " + cst(ev.AcceptBy)}}
	if o311XML(r) {
		writeO311(w, r, http.StatusCreated, o311CreatedXML{Requests: created})
		return nil
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

// o311List answers the spec's query: service_request_id (a list), or
// service_code and status (lists), start_date and end_date (the last 90
// days when neither is given), the first 1,000 newest first.
func (s *Server) o311List(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := s.consistent(r); err != nil {
		return err
	}
	shown, err := s.o311Shown(r)
	if err != nil {
		return err
	}
	scope := s.b.Jurisdiction()
	if tk := tokenOf(r.Context()); tk != nil {
		scope = tk.Scope
	}
	covers := func(ev *model.Event) bool { return model.Under(ev.Place(), scope) && shown(ev.Category) }
	names, err := s.categoryNames()
	if err != nil {
		return err
	}
	out := []o311Request{}
	add := func(ev *model.Event) error {
		_, tl, err := s.b.Store().Events.Detail(ev.ID)
		if err != nil {
			return err
		}
		out = append(out, o311View(ev, tl, names))
		return nil
	}
	if ids := q.Get("service_request_id"); ids != "" {
		for _, id := range strings.Split(ids, ",") {
			if ev, err := s.b.Store().Events.Get(strings.TrimSpace(id)); err == nil && covers(ev) {
				if err := add(ev); err != nil {
					return err
				}
			}
		}
		return s.writeO311Requests(w, r, out)
	}
	codes := list(q.Get("service_code"))
	for _, c := range codes {
		if _, ok := names[c]; !ok {
			return errs.NotFound("service_code", "service %s not found", c)
		}
	}
	statuses := list(q.Get("status"))
	for _, st := range statuses {
		if st != "open" && st != "closed" {
			return errs.Invalid("status", "enum", "status is open, closed or both (open,closed)")
		}
	}
	from, err := parseInstant(q.Get("start_date"), "start_date", false) // W3C datetimes, or dates
	if err != nil {
		return err
	}
	to, err := parseInstant(q.Get("end_date"), "end_date", false)
	if err != nil {
		return err
	}
	if from.IsZero() && to.IsZero() {
		from = time.Now().AddDate(0, 0, -90) // the spec's default
	}
	sq := core.SearchQuery{Under: scope, From: from, To: to, Limit: 500}
	for len(out) < o311MaxResults {
		page, err := s.b.Store().Events.Search(sq)
		if err != nil {
			return err
		}
		for _, ev := range page.Events {
			if len(out) == o311MaxResults {
				break
			}
			if (len(codes) > 0 && !slices.Contains(codes, ev.Category)) || !shown(ev.Category) {
				continue
			}
			if len(statuses) > 0 && !slices.Contains(statuses, o311Status(ev)) {
				continue
			}
			if err := add(ev); err != nil {
				return err
			}
		}
		if page.Next == "" {
			break
		}
		sq.After = page.Next
	}
	return s.writeO311Requests(w, r, out)
}

// o311MaxResults is the most requests one query answers (the spec's 1,000).
const o311MaxResults = 1000

func o311Status(ev *model.Event) string {
	switch ev.Status {
	case model.StatusClosed, model.StatusRejected, model.StatusMerged:
		return "closed"
	}
	return "open"
}

// list splits a comma-separated parameter, dropping empty items.
func list(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) writeO311Requests(w http.ResponseWriter, r *http.Request, out []o311Request) error {
	if o311XML(r) {
		writeO311(w, r, http.StatusOK, o311RequestsXML{Requests: out})
		return nil
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) o311Get(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	id := strings.TrimSuffix(strings.TrimSuffix(r.PathValue("file"), ".json"), ".xml")
	shown, serr := s.o311Shown(r)
	if serr != nil {
		return serr
	}
	ev, tl, err := s.b.Store().Events.Detail(id)
	if errors.Is(err, errs.ErrNotFound) || err == nil && (!shown(ev.Category) || (tokenOf(r.Context()) != nil && !tokenOf(r.Context()).Covers(ev.Place()))) {
		// Missing and out of scope read alike.
		return errs.NotFound("service_request_id", "request %s not found", id)
	}
	if err != nil {
		return err
	}
	names, err := s.categoryNames()
	if err != nil {
		return err
	}
	return s.writeO311Requests(w, r, []o311Request{o311View(ev, tl, names)})
}

// o311MediaExt is the extension field a request's media_url is kept in.
const o311MediaExt = "open311.media_url"

// placeNamed resolves an Open311 address_string against the names of the
// grids and divisions in the token's scope: the most specific one named
// (a grid before a village before a township), or a code.
func (s *Server) placeNamed(tk *model.Token, addr string) (grid, jur string, err error) {
	addr = strings.TrimSpace(addr)
	if model.ValidCode(addr) {
		return "", addr, nil
	}
	st := s.b.Store()
	best, bestLen := "", 0
	for after := ""; ; {
		gs, next, err := st.Grids.List(tk.Scope, after, 1000)
		if err != nil {
			return "", "", err
		}
		for _, g := range gs {
			if g.Status == model.GridActive && g.Name != "" && strings.Contains(addr, g.Name) && len(g.Name) > bestLen {
				best, bestLen = g.Code, len(g.Name)
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	if best != "" {
		return best, "", nil
	}
	var walk func(code string) error
	walk = func(code string) error {
		kids, err := st.Jurisdictions.Children(code)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if strings.Contains(addr, k.Name) && (best == "" || len(k.Code) > len(best)) {
				best = k.Code
			}
			if len(k.Code) < 12 {
				if err := walk(k.Code); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(tk.Scope); err != nil {
		return "", "", err
	}
	if best == "" {
		return "", "", errs.NotFound("address_string", "no grid, village or township in %q", addr)
	}
	return "", best, nil
}

// o311Shown says which services a request may see: every one with a key,
// and without one only those config/open311 makes public.
func (s *Server) o311Shown(r *http.Request) (func(code string) bool, error) {
	if tokenOf(r.Context()) != nil {
		return func(string) bool { return true }, nil
	}
	cfg, err := s.b.Store().Events.Open311Config()
	if err != nil {
		return nil, err
	}
	return cfg.Public, nil
}
