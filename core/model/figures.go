package model

import "time"

// Figures are the counts and rates (三率) of one scope.
type Figures struct {
	Scope    string           `json:"scope"`              // jurisdiction or grid code
	Period   string           `json:"period,omitempty"`   // YYYYMM, empty for all time
	Category string           `json:"category,omitempty"` // empty for all categories
	Reported int64            `json:"reported"`
	ByStatus map[Status]int64 `json:"by_status"`

	Accepted       int64 `json:"accepted"`
	AcceptedInTime int64 `json:"accepted_in_time"`
	Rejected       int64 `json:"rejected"`
	Rated          int64 `json:"rated"`
	Satisfied      int64 `json:"satisfied"`
	Overdue        int64 `json:"overdue"`
	Supervised     int64 `json:"supervised"`
	Merged         int64 `json:"merged"`
	SelfResolved   int64 `json:"self_resolved"`

	ResponseRate     float64 `json:"response_rate"`     // 响应率: accepted in time / reported
	ResolutionRate   float64 `json:"resolution_rate"`   // 解决率: closed / (reported − rejected − merged)
	SatisfactionRate float64 `json:"satisfaction_rate"` // 满意率: satisfied / rated
}

// Rollup is one jurisdiction's figures as its tier above last heard them.
type Rollup struct {
	Code    string    `json:"code"`
	AsOf    time.Time `json:"as_of"`
	Via     string    `json:"via,omitempty"` // the child that forwarded it, when not the jurisdiction itself
	Figures Figures   `json:"figures"`
}

// SumFigures adds up the figures of separate groups (a city's counties and
// townships, each counting its own events) under scope, the rates worked
// out again from the summed counts.
func SumFigures(scope string, parts []Figures) Figures {
	f := Figures{Scope: scope, ByStatus: map[Status]int64{}}
	for _, p := range parts {
		f.Reported += p.Reported
		f.Accepted += p.Accepted
		f.AcceptedInTime += p.AcceptedInTime
		f.Rejected += p.Rejected
		f.Rated += p.Rated
		f.Satisfied += p.Satisfied
		f.Overdue += p.Overdue
		f.Supervised += p.Supervised
		f.Merged += p.Merged
		f.SelfResolved += p.SelfResolved
		for s, n := range p.ByStatus {
			f.ByStatus[s] += n
		}
	}
	f.ResponseRate = Ratio(f.AcceptedInTime, f.Reported)
	f.ResolutionRate = Ratio(f.ByStatus[StatusClosed], f.Reported-f.Rejected-f.Merged)
	f.SatisfactionRate = Ratio(f.Satisfied, f.Rated)
	return f
}

// Ratio is a/b, or 0 when b is not positive: a rate over no events.
func Ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
