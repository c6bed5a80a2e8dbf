package api

import (
	"net/http"
	"strconv"

	"github.com/fengqiao/fengqiao/core/model"
)

// bulletin answers a monthly 通报 of the jurisdiction (default the
// token's scope).
func (s *Server) bulletin(w http.ResponseWriter, r *http.Request) error {
	b, err := s.readBulletin(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) readBulletin(r *http.Request) (*model.Bulletin, error) {
	under, err := s.underParam(r)
	if err != nil {
		return nil, err
	}
	if err := s.consistent(r); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	by := q.Get("by")
	if by == "" {
		by = model.ByTownship
	}
	return s.b.Store().Events.Bulletin(under, q.Get("period"), by, q.Get("rank_by"))
}

// bulletinHeader is the 通报 sheet's header.
var bulletinHeader = []string{"排名", "单位编码", "单位", "事件数", "应办结数", "结案数", "按期办结数", "返工数", "延期数", "评价数", "满意数",
	"按期办结率", "结案率", "返工率", "延期率", "满意率"}

// exportBulletin writes the 通报 as XLSX or CSV, with a total row.
func (s *Server) exportBulletin(w http.ResponseWriter, r *http.Request) error {
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	b, err := s.readBulletin(r)
	if err != nil {
		return err
	}
	tw, err := startExport(w, format, "通报_"+b.Period, "通报", bulletinHeader)
	if err != nil {
		return err
	}
	row := func(rank any, x model.BulletinRow) error {
		return tw.Row(rank, x.Unit, x.Name, x.Reported, x.Counted, x.Closed, x.ClosedInTime, x.Reworked, x.Extended, x.Rated, x.Satisfied,
			percent(x.OnTimeRate), percent(x.ClosureRate), percent(x.ReworkRate), percent(x.ExtensionRate), percent(x.SatisfactionRate))
	}
	for _, x := range b.Rows {
		if err := row(x.Rank, x); err != nil {
			return err
		}
	}
	if err := row("合计", b.Total); err != nil {
		return err
	}
	return tw.Close()
}

// percent shows a rate as a percentage with one decimal.
func percent(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }

// figuresHeader is the figures sheet's header.
var figuresHeader = []string{"辖区编码", "辖区", "上报数", "受理数", "按时受理数", "不予受理数", "结案数", "合并数", "评价数", "满意数",
	"超期数", "督办数", "小事一格解决数", "响应率", "解决率", "满意率"}

// exportFigures writes the figures (三率) of a jurisdiction and of each of
// its children, from this node's counters, for a month or all time.
func (s *Server) exportFigures(w http.ResponseWriter, r *http.Request) error {
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	under, err := s.underParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := s.knownCategory(q.Get("category")); err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	st := s.b.Store()
	units := []model.Jurisdiction{}
	if j, err := st.Jurisdictions.Get(under); err == nil {
		units = append(units, j)
	}
	kids, err := st.Jurisdictions.Children(under)
	if err != nil {
		return err
	}
	units = append(units, kids...)
	figs := make([]model.Figures, len(units))
	for i, u := range units { // every row before the first byte, so a refusal is a problem
		if figs[i], err = st.Events.Figures(u.Code, q.Get("period"), q.Get("category")); err != nil {
			return err
		}
	}
	name := "三率"
	if p := q.Get("period"); p != "" {
		name += "_" + p
	}
	tw, err := startExport(w, format, name, "三率", figuresHeader)
	if err != nil {
		return err
	}
	for i, u := range units {
		f := figs[i]
		if err := tw.Row(u.Code, u.Name, f.Reported, f.Accepted, f.AcceptedInTime, f.Rejected, f.ByStatus[model.StatusClosed], f.Merged,
			f.Rated, f.Satisfied, f.Overdue, f.Supervised, f.SelfResolved, percent(f.ResponseRate), percent(f.ResolutionRate), percent(f.SatisfactionRate)); err != nil {
			return err
		}
	}
	return tw.Close()
}
