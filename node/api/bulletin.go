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
