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
