package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
	"github.com/fengqiao/fengqiao/node/export"
)

// exportFormat reads ?format= (xlsx by default).
func exportFormat(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", export.XLSX:
		return export.XLSX, nil
	case export.CSV:
		return export.CSV, nil
	default:
		return "", errs.Invalid("format", "enum", "format must be xlsx or csv")
	}
}

// startExport sets the answer's headers for a file named name (today's
// date and the format's extension are added) and starts the table.
func startExport(w http.ResponseWriter, format, name, sheet string, header []string) (export.Writer, error) {
	file := name + "_" + time.Now().In(workcal.CST).Format("20060102") + "." + format
	w.Header().Set("Content-Type", export.ContentType(format))
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(file))
	return export.New(format, w, sheet, header)
}

// eventHeader is the events sheet's header (台账).
var eventHeader = []string{"事件编号", "状态", "类别", "紧急程度", "来源", "所属辖区", "网格", "事件描述", "上报人电话",
	"上报时间", "受理时限", "受理时间", "办结时限", "处置单位", "督办次数", "是否超期", "结案时间", "满意度"}

// exportEvents writes every event a listing with the same filters would
// page through, a page at a time, so the export's memory does not grow
// with it.
func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request) error {
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	eq, err := s.eventQuery(r)
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	catName, err := s.categoryNames()
	if err != nil {
		return err
	}
	// The first page before anything is written, so a refusal is a problem.
	page, err := s.eventPage(r, eq, "", 500)
	if err != nil {
		return err
	}
	tw, err := startExport(w, format, "事件台账", "事件", eventHeader)
	if err != nil {
		return err
	}
	for {
		for _, e := range page.Events {
			cat := e.Category
			if n, ok := catName[cat]; ok {
				cat = n
			}
			if err := tw.Row(e.ID, model.Label(model.StatusLabels, e.Status), cat, model.Label(model.UrgencyLabels, e.Urgency),
				model.Label(model.SourceLabels, e.Source), e.Jurisdiction, e.Grid, e.Description, e.PhoneMasked,
				e.ReportedAt, e.AcceptBy, e.AcceptedAt, e.Deadline, e.Handler, e.Supervised, e.Overdue, e.ClosedAt,
				model.Label(model.SatisfactionLabels, e.Satisfaction)); err != nil {
				return err
			}
		}
		if page.Next == "" {
			break
		}
		if page, err = s.eventPage(r, eq, page.Next, 500); err != nil {
			return err
		}
	}
	return tw.Close()
}

// personHeader is the people sheet's header (GB/T 31000 实有人口).
var personHeader = []string{"人员编号", "姓名", "公民身份号码", "人口类别", "所属辖区", "网格", "房屋编号", "重点人员"}

// exportPeople writes the people under a place, masked; ?reveal=true with
// a legal basis and purpose opens names and ID numbers for roles that may
// reveal, after one audit record for the whole export.
func (s *Server) exportPeople(w http.ResponseWriter, r *http.Request) error {
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	under, err := s.underParam(r)
	if err != nil {
		return err
	}
	tk := tokenOf(r.Context())
	q := r.URL.Query()
	reveal := false
	switch q.Get("reveal") {
	case "", "false":
	case "true":
		if err := mayReveal(tk); err != nil {
			return err
		}
		reveal = true
	default:
		return errs.Invalid("reveal", "bool", "reveal must be true or false")
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	st := s.b.Store()
	var opener func(p *model.Person) (name, idn string, err error)
	if reveal {
		if opener, err = st.People.RevealExport(r.Context(), under, model.Purpose{Basis: q.Get("basis"), Text: q.Get("purpose")}); err != nil {
			return err
		}
	}
	ps, next, err := st.People.List(under, "", 500)
	if err != nil {
		return err
	}
	tw, err := startExport(w, format, "实有人口", "人口", personHeader)
	if err != nil {
		return err
	}
	for {
		for _, p := range ps {
			name, idn := p.NameMasked, p.IDMasked
			if opener != nil {
				if name, idn, err = opener(p); err != nil {
					return err
				}
			}
			// Special-population details stay out of every export; only
			// whether the person needs attention, as every reader sees it.
			if err := tw.Row(p.ID, name, idn, model.Label(model.ResidentKindLabels, p.Kind), p.Jurisdiction, p.Grid, p.House, p.Special != nil); err != nil {
				return err
			}
		}
		if next == "" {
			break
		}
		if ps, next, err = st.People.List(under, next, 500); err != nil {
			return err
		}
	}
	return tw.Close()
}
