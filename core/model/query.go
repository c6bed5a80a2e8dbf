package model

import "time"

// Query filters an event listing. Jurisdiction (any tier) and Grid narrow
// the place; Status, Category and Overdue narrow further. After is the cursor
// from the previous page.
type Query struct {
	Jurisdiction string
	Grid         string
	Status       Status
	Category     string
	Overdue      bool
	Urgency      string    // one urgency; "" for all
	Supervised   bool      // only events supervised (督办) at least once
	From, To     time.Time // reported in [From, To); zero for open
	After        string
	Limit        int // default 50, at most 500
}

// Page is one page of events and the cursor for the next ("" when done).
type Page struct {
	Events []*Event `json:"events"`
	Next   string   `json:"next,omitempty"`
}
